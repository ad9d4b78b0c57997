//! STFT and iSTFT of one chunk, allocation-free (realfft with preallocated scratch).

use std::sync::Arc;

use realfft::{num_complex::Complex32, ComplexToReal, RealFftPlanner, RealToComplex};

use crate::window::{hamming, overlap_add_gains};

/// Streaming analysis of M input channels and synthesis of K output channels.
pub struct Spectral {
    chunk: usize,
    pad: usize,
    forward: Arc<dyn RealToComplex<f32>>,
    inverse: Arc<dyn ComplexToReal<f32>>,
    window: Vec<f32>,
    head_gain: Vec<f32>,
    tail_gain: Vec<f32>,
    /// Last `pad` input samples of each input channel.
    input_tail: Vec<f32>,
    /// Weighted tail of the last synthesised frame of each output channel.
    output_tail: Vec<f32>,
    frame: Vec<f32>,
    bins: Vec<Complex32>,
    scratch_fwd: Vec<Complex32>,
    scratch_inv: Vec<Complex32>,
    inputs: usize,
}

impl std::fmt::Debug for Spectral {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Spectral({} + {})", self.chunk, self.pad)
    }
}

impl Spectral {
    /// Transforms for hop `chunk`, lookahead `pad`, `inputs` channels in and `outputs` out.
    pub fn new(chunk: usize, pad: usize, inputs: usize, outputs: usize) -> Self {
        let n = chunk + pad;
        let mut planner = RealFftPlanner::<f32>::new();
        let forward = planner.plan_fft_forward(n);
        let inverse = planner.plan_fft_inverse(n);
        let w = hamming(n);
        let (head, tail) = overlap_add_gains(chunk, pad);
        Self {
            chunk,
            pad,
            scratch_fwd: forward.make_scratch_vec(),
            scratch_inv: inverse.make_scratch_vec(),
            forward,
            inverse,
            window: w.iter().map(|&v| v as f32).collect(),
            head_gain: head.iter().map(|g| (g / n as f64) as f32).collect(),
            tail_gain: tail.iter().map(|g| (g / n as f64) as f32).collect(),
            input_tail: vec![0.0; inputs * pad],
            output_tail: vec![0.0; outputs * pad],
            frame: vec![0.0; n],
            bins: vec![Complex32::new(0.0, 0.0); n / 2 + 1],
            inputs,
        }
    }

    /// Clears the overlap state (a new stream).
    pub fn reset(&mut self) {
        self.input_tail.fill(0.0);
        self.output_tail.fill(0.0);
    }

    /// Fills the lookahead with `samples` [M, pad] (channel-major), so the
    /// stream's first frame starts with them instead of with zeros.
    pub fn prime(&mut self, samples: &[f32]) {
        self.input_tail.copy_from_slice(samples);
    }

    /// Features [F, 2M] (Re of each channel, then Im) of the frame ending with
    /// the new chunk `input` [M, chunk] (channel-major); returns the frame's
    /// mean square before the window (as [`crate::level::mean_square`] sums it).
    pub fn analyse(&mut self, input: &[f32], features: &mut [f32]) -> f64 {
        let (c, p, m) = (self.chunk, self.pad, self.inputs);
        let freqs = self.bins.len();
        let mut sum = 0f64;
        for ch in 0..m {
            let new = &input[ch * c..(ch + 1) * c];
            let tail = &mut self.input_tail[ch * p..(ch + 1) * p];
            self.frame[..p].copy_from_slice(tail);
            self.frame[p..].copy_from_slice(new);
            tail.copy_from_slice(&new[c - p..]);
            sum += self.frame.iter().map(|&v| v as f64 * v as f64).sum::<f64>();
            for (v, w) in self.frame.iter_mut().zip(&self.window) {
                *v *= w;
            }
            self.forward
                .process_with_scratch(&mut self.frame, &mut self.bins, &mut self.scratch_fwd)
                .expect("buffer sizes are fixed at construction");
            for (f, b) in self.bins.iter().enumerate() {
                features[f * 2 * m + ch] = b.re;
                features[f * 2 * m + m + ch] = b.im;
            }
        }
        debug_assert_eq!(features.len(), freqs * 2 * m);
        sum / (m * self.frame.len()) as f64
    }

    /// Output chunk `out` [K, chunk] from a spectrum [F, 2K] (channel 2k real, 2k + 1 imaginary).
    pub fn synthesise(&mut self, spectrum: &[f32], out: &mut [f32]) {
        let (c, p) = (self.chunk, self.pad);
        let outputs = self.output_tail.len() / p.max(1);
        let width = 2 * outputs;
        let last = self.bins.len() - 1;
        for k in 0..outputs {
            for (f, b) in self.bins.iter_mut().enumerate() {
                let im = if f == 0 || f == last {
                    0.0
                } else {
                    spectrum[f * width + 2 * k + 1]
                };
                *b = Complex32::new(spectrum[f * width + 2 * k], im);
            }
            self.inverse
                .process_with_scratch(&mut self.bins, &mut self.frame, &mut self.scratch_inv)
                .expect("buffer sizes are fixed at construction");
            let o = &mut out[k * c..(k + 1) * c];
            let tail = &mut self.output_tail[k * p..(k + 1) * p];
            for n in 0..c {
                o[n] = self.frame[n] * self.head_gain[n] + if n < p { tail[n] } else { 0.0 };
            }
            for ((t, y), g) in tail.iter_mut().zip(&self.frame[c..]).zip(&self.tail_gain) {
                *t = y * g;
            }
        }
    }
}
