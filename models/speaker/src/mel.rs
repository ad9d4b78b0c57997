//! The encoder's front end: librosa's power mel spectrogram as Resemblyzer
//! calls it (`n_fft` 400, hop 160, periodic Hann window, centred frames with
//! zero padding, 40 Slaney-normalised bands on the Slaney mel scale from 0 to
//! 8 kHz, power not log).

use std::sync::Arc;

use realfft::{num_complex::Complex, RealFftPlanner, RealToComplex};

use crate::{HOP, MELS, N_FFT, SAMPLE_RATE};

/// Frequency bins of one analysis frame.
pub const BINS: usize = N_FFT / 2 + 1;

/// Mel frames librosa gives for `samples` samples (centred frames).
pub fn frames(samples: usize) -> usize {
    1 + samples / HOP
}

/// Slaney's mel scale (linear below 1 kHz, logarithmic above), as librosa's `hz_to_mel`.
pub fn hz_to_mel(hz: f64) -> f64 {
    let (f_sp, min_log_hz) = (200.0 / 3.0, 1000.0);
    let logstep = 6.4f64.ln() / 27.0;
    if hz >= min_log_hz {
        min_log_hz / f_sp + (hz / min_log_hz).ln() / logstep
    } else {
        hz / f_sp
    }
}

/// The inverse of [`hz_to_mel`], as librosa's `mel_to_hz`.
pub fn mel_to_hz(mel: f64) -> f64 {
    let (f_sp, min_log_hz) = (200.0 / 3.0, 1000.0);
    let logstep = 6.4f64.ln() / 27.0;
    let min_log_mel = min_log_hz / f_sp;
    if mel >= min_log_mel {
        min_log_hz * (logstep * (mel - min_log_mel)).exp()
    } else {
        f_sp * mel
    }
}

/// librosa's `filters.mel(sr=16000, n_fft=400, n_mels=40)`: `[MELS][BINS]`
/// triangles on the Slaney scale, each scaled to unit area (`norm="slaney"`).
pub fn filterbank() -> Vec<[f32; BINS]> {
    let nyquist = SAMPLE_RATE as f64 / 2.0;
    let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(nyquist));
    let edges: Vec<f64> = (0..MELS + 2)
        .map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (MELS + 1) as f64))
        .collect();
    (0..MELS)
        .map(|m| {
            let norm = 2.0 / (edges[m + 2] - edges[m]);
            std::array::from_fn(|k| {
                let f = k as f64 * nyquist / (BINS - 1) as f64;
                let lower = (f - edges[m]) / (edges[m + 1] - edges[m]);
                let upper = (edges[m + 2] - f) / (edges[m + 2] - edges[m + 1]);
                (lower.min(upper).max(0.0) * norm) as f32
            })
        })
        .collect()
}

/// Computes mel frames into caller-owned storage; allocates only in [`MelFrontEnd::new`].
pub struct MelFrontEnd {
    window: Vec<f32>,
    filters: Vec<[f32; BINS]>,
    fft: Arc<dyn RealToComplex<f32>>,
    frame: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    power: Vec<f32>,
}

impl Default for MelFrontEnd {
    fn default() -> Self {
        Self::new()
    }
}

impl MelFrontEnd {
    /// Plans the transform and builds the window and the filterbank.
    pub fn new() -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(N_FFT);
        let window = (0..N_FFT)
            .map(|n| {
                (0.5 - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / N_FFT as f64).cos()) as f32
            })
            .collect();
        Self {
            window,
            filters: filterbank(),
            frame: fft.make_input_vec(),
            spectrum: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            power: vec![0.0; BINS],
            fft,
        }
    }

    /// Frame `t` of `wav` (zero outside it) into `out` (`MELS` values).
    pub fn frame(&mut self, wav: &[f32], t: usize, out: &mut [f32]) {
        let start = (t * HOP) as isize - (N_FFT / 2) as isize;
        for (n, v) in self.frame.iter_mut().enumerate() {
            let i = start + n as isize;
            let x = if i >= 0 && (i as usize) < wav.len() {
                wav[i as usize]
            } else {
                0.0
            };
            *v = x * self.window[n];
        }
        self.fft
            .process_with_scratch(&mut self.frame, &mut self.spectrum, &mut self.scratch)
            .expect("buffers sized by the plan");
        for (p, c) in self.power.iter_mut().zip(&self.spectrum) {
            *p = c.norm_sqr();
        }
        for (o, filter) in out.iter_mut().zip(&self.filters) {
            *o = filter.iter().zip(&self.power).map(|(w, p)| w * p).sum();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mel_scale_round_trips_and_is_linear_below_one_kilohertz() {
        for hz in [0.0, 300.0, 999.0, 1000.0, 2500.0, 8000.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-9 * hz.max(1.0));
        }
        assert!((hz_to_mel(500.0) - 7.5).abs() < 1e-12);
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
    }

    #[test]
    fn a_tone_lands_in_the_band_around_its_frequency() {
        let mut front = MelFrontEnd::new();
        let hz = 1000.0;
        let wav: Vec<f32> = (0..4000)
            .map(|n| (2.0 * std::f64::consts::PI * hz * n as f64 / SAMPLE_RATE as f64).sin() as f32)
            .collect();
        let mut out = [0.0f32; MELS];
        front.frame(&wav, 10, &mut out);
        let best = (0..MELS)
            .max_by(|&a, &b| out[a].total_cmp(&out[b]))
            .unwrap();
        let centre = |m: usize| {
            let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(8000.0));
            mel_to_hz(lo + (hi - lo) * (m + 1) as f64 / (MELS + 1) as f64)
        };
        let nearest = (0..MELS)
            .min_by(|&a, &b| (centre(a) - hz).abs().total_cmp(&(centre(b) - hz).abs()))
            .unwrap();
        assert_eq!(best, nearest);
    }
}
