//! Short-time objective intelligibility (STOI, Taal et al. 2011), as pystoi computes it.

use rustfft::{num_complex::Complex, FftPlanner};

use super::resample::resample_oct;

/// STOI's internal sample rate.
const FS: usize = 10_000;
/// Frame length (Hann window) in samples.
const FRAME: usize = 256;
/// Hop between frames.
const HOP: usize = FRAME / 2;
/// FFT length.
const NFFT: usize = 512;
/// One-third octave bands.
const BANDS: usize = 15;
/// Centre frequency of the lowest band in Hz.
const MIN_FREQ: f64 = 150.0;
/// Frames per short-time segment.
const SEGMENT: usize = 30;
/// Lower signal-to-distortion bound of the clipping, dB.
const BETA_DB: f64 = -15.0;
/// Frames quieter than the loudest by more than this (dB) are removed.
const DYN_RANGE_DB: f64 = 40.0;
/// numpy's float64 epsilon, which pystoi adds to norms.
const EPS: f64 = f64::EPSILON;

/// STOI of `processed` against `clean` (same length) sampled at `fs` Hz, in [-1, 1]
/// (1e-5 when fewer than 30 frames are left after silent-frame removal, as pystoi).
pub fn stoi(clean: &[f64], processed: &[f64], fs: usize) -> f64 {
    assert_eq!(clean.len(), processed.len(), "STOI needs equal lengths");
    let (x, y) = if fs == FS {
        (clean.to_vec(), processed.to_vec())
    } else {
        (resample_oct(clean, FS, fs), resample_oct(processed, FS, fs))
    };
    let (x, y) = remove_silent_frames(&x, &y);
    let (xb, yb) = (band_envelopes(&x), band_envelopes(&y));
    if xb.len() < SEGMENT {
        return 1e-5;
    }
    let clip = 1.0 + 10f64.powf(-BETA_DB / 20.0);
    let mut total = 0.0;
    let segments = xb.len() - SEGMENT + 1;
    for start in 0..segments {
        for band in 0..BANDS {
            let xs: Vec<f64> = (start..start + SEGMENT).map(|m| xb[m][band]).collect();
            let ys: Vec<f64> = (start..start + SEGMENT).map(|m| yb[m][band]).collect();
            let scale = norm(&xs) / (norm(&ys) + EPS);
            let yp: Vec<f64> = ys
                .iter()
                .zip(&xs)
                .map(|(y, x)| (y * scale).min(x * clip))
                .collect();
            total += correlation(&xs, &yp);
        }
    }
    total / (segments * BANDS) as f64
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum::<f64>().sqrt()
}

/// Sample correlation as pystoi computes it (means removed, norms guarded by EPS).
fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let centre = |v: &[f64]| -> Vec<f64> {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let c: Vec<f64> = v.iter().map(|x| x - mean).collect();
        let n = norm(&c) + EPS;
        c.iter().map(|x| x / n).collect()
    };
    centre(a).iter().zip(centre(b)).map(|(x, y)| x * y).sum()
}

/// MATLAB's `hanning(FRAME)`: the Hann window without its zero end points.
fn hann() -> Vec<f64> {
    (0..FRAME)
        .map(|n| {
            0.5 - 0.5 * (2.0 * std::f64::consts::PI * (n + 1) as f64 / (FRAME + 1) as f64).cos()
        })
        .collect()
}

/// Start of every frame pystoi takes (the last full frame is left out, as there).
fn frame_starts(len: usize) -> impl Iterator<Item = usize> {
    (0..len.saturating_sub(FRAME)).step_by(HOP)
}

/// Drops the frames of both signals where `x` is more than 40 dB below its loudest frame, then overlap-adds.
fn remove_silent_frames(x: &[f64], y: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let w = hann();
    let windowed = |s: &[f64], i: usize| -> Vec<f64> {
        w.iter().zip(&s[i..i + FRAME]).map(|(a, b)| a * b).collect()
    };
    let starts: Vec<usize> = frame_starts(x.len()).collect();
    let energy: Vec<f64> = starts
        .iter()
        .map(|&i| 20.0 * (norm(&windowed(x, i)) + EPS).log10())
        .collect();
    let loudest = energy.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let kept: Vec<usize> = starts
        .iter()
        .zip(&energy)
        .filter(|(_, &e)| loudest - DYN_RANGE_DB - e < 0.0)
        .map(|(&i, _)| i)
        .collect();
    let len = if kept.is_empty() {
        0
    } else {
        (kept.len() - 1) * HOP + FRAME
    };
    let (mut xs, mut ys) = (vec![0.0; len], vec![0.0; len]);
    for (k, &i) in kept.iter().enumerate() {
        for (n, (a, b)) in windowed(x, i).iter().zip(windowed(y, i)).enumerate() {
            xs[k * HOP + n] += a;
            ys[k * HOP + n] += b;
        }
    }
    (xs, ys)
}

/// Bins [low, high) of each one-third octave band, matched to the nearest FFT bins.
fn band_bins() -> [(usize, usize); BANDS] {
    let nearest = |freq: f64| -> usize {
        (0..=NFFT / 2)
            .map(|k| (k, (k as f64 * FS as f64 / NFFT as f64 - freq).powi(2)))
            .fold(
                (0, f64::INFINITY),
                |best, (k, d)| if d < best.1 { (k, d) } else { best },
            )
            .0
    };
    std::array::from_fn(|i| {
        let i = i as f64;
        (
            nearest(MIN_FREQ * 2f64.powf((2.0 * i - 1.0) / 6.0)),
            nearest(MIN_FREQ * 2f64.powf((2.0 * i + 1.0) / 6.0)),
        )
    })
}

/// One-third octave band magnitudes of every STFT frame of `s`: [frame][band].
fn band_envelopes(s: &[f64]) -> Vec<[f64; BANDS]> {
    let w = hann();
    let bands = band_bins();
    let fft = FftPlanner::new().plan_fft_forward(NFFT);
    frame_starts(s.len())
        .map(|i| {
            let mut buf = vec![Complex::new(0.0, 0.0); NFFT];
            for (n, b) in buf.iter_mut().take(FRAME).enumerate() {
                b.re = w[n] * s[i + n];
            }
            fft.process(&mut buf);
            bands.map(|(lo, hi)| buf[lo..hi].iter().map(|c| c.norm_sqr()).sum::<f64>().sqrt())
        })
        .collect()
}
