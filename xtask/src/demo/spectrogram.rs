//! Spectrogram panels (log magnitude, 0 to 8 kHz) of the demo's signals, one
//! above the other in one PNG.

use std::path::Path;

use plotters::prelude::*;
use rustfft::{num_complex::Complex, FftPlanner};

use crate::eval::plot::font;

/// Highest frequency shown: the models' Nyquist frequency.
const TOP_HZ: f64 = kb_models::SAMPLE_RATE as f64 / 2.0;
/// Range of the colour scale below the loudest cell, in dB.
const RANGE_DB: f64 = 80.0;

/// Magnitudes in dB, [frame][bin] up to [`TOP_HZ`], of a Hann-windowed STFT
/// with windows of about 21 ms and half-window hops.
fn stft_db(x: &[f32], rate: u32) -> (Vec<Vec<f64>>, f64, f64) {
    let n = ((rate as f64 * 0.021) as usize).next_power_of_two();
    let hop = n / 2;
    let window: Vec<f64> = (0..n)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos())
        .collect();
    let fft = FftPlanner::<f64>::new().plan_fft_forward(n);
    let bins = ((TOP_HZ / rate as f64 * n as f64) as usize).min(n / 2) + 1;
    let mut buf = vec![Complex::default(); n];
    let frames = x.len().saturating_sub(n) / hop + 1;
    let db = (0..frames)
        .map(|f| {
            for (i, b) in buf.iter_mut().enumerate() {
                let v = x.get(f * hop + i).copied().unwrap_or(0.0);
                *b = Complex::new(f64::from(v) * window[i], 0.0);
            }
            fft.process(&mut buf);
            buf[..bins]
                .iter()
                .map(|c| 10.0 * (c.norm_sqr() + 1e-20).log10())
                .collect()
        })
        .collect();
    (db, hop as f64 / rate as f64, rate as f64 / n as f64)
}

/// A dark-to-bright colour for `t` in 0..=1 (black, blue, red, yellow, white).
fn heat(t: f64) -> RGBColor {
    let stops = [
        (0.0, [0.0, 0.0, 0.0]),
        (0.3, [40.0, 20.0, 140.0]),
        (0.6, [200.0, 40.0, 60.0]),
        (0.85, [250.0, 200.0, 40.0]),
        (1.0, [255.0, 255.0, 255.0]),
    ];
    let t = t.clamp(0.0, 1.0);
    let k = stops
        .iter()
        .position(|s| s.0 >= t)
        .unwrap_or(stops.len() - 1)
        .max(1);
    let ((t0, c0), (t1, c1)) = (stops[k - 1], stops[k]);
    let a = (t - t0) / (t1 - t0);
    let mix = |i: usize| (c0[i] + a * (c1[i] - c0[i])).round() as u8;
    RGBColor(mix(0), mix(1), mix(2))
}

/// Draws one spectrogram panel per `(title, signal)` into `path`, every panel on
/// one colour scale whose top is the loudest cell of all.
pub fn draw(panels: &[(&str, &[f32])], rate: u32, path: &Path) -> Result<(), String> {
    font()?;
    let err = |e: DrawingAreaErrorKind<_>| format!("cannot draw {}: {e}", path.display());
    let spectra: Vec<_> = panels.iter().map(|(_, x)| stft_db(x, rate)).collect();
    let top = spectra
        .iter()
        .flat_map(|(db, _, _)| db.iter().flatten())
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let root = BitMapBackend::new(path, (1000, 280 * panels.len() as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    for (area, ((title, _), (db, dt, df))) in root
        .split_evenly((panels.len(), 1))
        .iter()
        .zip(panels.iter().zip(&spectra))
    {
        let seconds = db.len() as f64 * dt;
        let mut chart = ChartBuilder::on(area)
            .caption(*title, ("sans-serif", 18))
            .margin(8)
            .x_label_area_size(30)
            .y_label_area_size(45)
            .build_cartesian_2d(0.0..seconds, 0.0..TOP_HZ / 1e3)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("time (s)")
            .y_desc("kHz")
            .draw()
            .map_err(err)?;
        let cells = db.iter().enumerate().flat_map(|(f, row)| {
            row.iter().enumerate().map(move |(b, v)| {
                let (t0, k0) = (f as f64 * dt, b as f64 * df / 1e3);
                let colour = heat((v - top + RANGE_DB) / RANGE_DB);
                Rectangle::new(
                    [(t0, k0), (t0 + dt, (k0 + df / 1e3).min(TOP_HZ / 1e3))],
                    colour.filled(),
                )
            })
        });
        chart.draw_series(cells).map_err(err)?;
    }
    root.present().map_err(err)
}
