//! STFT analysis and iSTFT synthesis (weighted overlap-add from a fresh
//! state) as strided products with the DFT bases, and the synthesis backward.

use crate::{
    kernels::{Kernels, Strides},
    window::{hamming, overlap_add_gains},
};

/// DFT bases and overlap-add gains of one hop / lookahead.
#[derive(Debug, Clone)]
pub struct Spectral {
    /// Hop in samples.
    pub chunk: usize,
    /// Lookahead in samples.
    pub pad: usize,
    /// Frequency bins.
    pub freqs: usize,
    /// Windowed forward bases [n_fft, 2F]: real parts, then imaginary parts.
    fwd: Vec<f32>,
    /// Inverse bases [2F, n_fft] and their transpose [n_fft, 2F].
    inv: Vec<f32>,
    inv_t: Vec<f32>,
    head: Vec<f32>,
    tail: Vec<f32>,
}

impl Spectral {
    /// The transforms of the candle [`crate::stft::Stft`], same window and gains.
    pub fn new(chunk: usize, pad: usize) -> Self {
        let n = chunk + pad;
        let freqs = n / 2 + 1;
        let w = hamming(n);
        let (f2, pi) = (2 * freqs, std::f64::consts::PI);
        let (mut fwd, mut inv, mut inv_t) =
            (vec![0f32; n * f2], vec![0f32; f2 * n], vec![0f32; n * f2]);
        for i in 0..n {
            for k in 0..freqs {
                let phase = 2.0 * pi * ((k * i) % n) as f64 / n as f64;
                fwd[i * f2 + k] = (w[i] * phase.cos()) as f32;
                fwd[i * f2 + freqs + k] = (-w[i] * phase.sin()) as f32;
                let scale = if k == 0 || 2 * k == n { 1.0 } else { 2.0 } / n as f64;
                let (re, im) = ((scale * phase.cos()) as f32, (-scale * phase.sin()) as f32);
                inv[k * n + i] = re;
                inv[(freqs + k) * n + i] = im;
                inv_t[i * f2 + k] = re;
                inv_t[i * f2 + freqs + k] = im;
            }
        }
        let (head, tail) = overlap_add_gains(chunk, pad);
        Self {
            chunk,
            pad,
            freqs,
            fwd,
            inv,
            inv_t,
            head: head.iter().map(|&g| g as f32).collect(),
            tail: tail.iter().map(|&g| g as f32).collect(),
        }
    }

    fn n_fft(&self) -> usize {
        self.chunk + self.pad
    }

    /// Spectra of one example's `ears` waveforms (each `chunk * t + pad` samples,
    /// `stride` apart in `wave`) into `feats` [T, F, 2M] (real parts of every
    /// ear, then imaginary parts); `cols` is scratch of [T, 2F].
    pub fn analyse(
        &self,
        k: &Kernels,
        (wave, stride, ears): (&[f32], usize, usize),
        t: usize,
        feats: &mut [f32],
        cols: &mut [f32],
    ) {
        let (f, f2, n) = (self.freqs, 2 * self.freqs, self.n_fft());
        for m in 0..ears {
            let cols = &mut cols[..t * f2];
            cols.fill(0.0);
            let ld = Strides {
                out: f2,
                x: self.chunk,
                w: f2,
            };
            k.gemm_strided(cols, &wave[m * stride..], &self.fwd, (t, n, f2), ld);
            for ti in 0..t {
                for fi in 0..f {
                    let o = (ti * f + fi) * 2 * ears;
                    feats[o + m] = cols[ti * f2 + fi];
                    feats[o + ears + m] = cols[ti * f2 + f + fi];
                }
            }
        }
    }

    /// Waveforms [K, chunk * T] of one example from `spec` [T, F, 2K] (channel
    /// 2k real, 2k + 1 imaginary), frame t scaled by `gains[t]`; `cols` [T, 2F]
    /// and `frames` [T, n_fft] are scratch.
    pub fn synthesise(
        &self,
        k: &Kernels,
        (spec, gains): (&[f32], &[f32]),
        (t, kk): (usize, usize),
        out: &mut [f32],
        (cols, frames): (&mut [f32], &mut [f32]),
    ) {
        let (f, f2, n, c) = (self.freqs, 2 * self.freqs, self.n_fft(), self.chunk);
        for ch in 0..kk {
            for (ti, &g) in gains[..t].iter().enumerate() {
                for fi in 0..f {
                    let s = (ti * f + fi) * 2 * kk + 2 * ch;
                    cols[ti * f2 + fi] = spec[s] * g;
                    cols[ti * f2 + f + fi] = spec[s + 1] * g;
                }
            }
            let frames = &mut frames[..t * n];
            frames.fill(0.0);
            k.gemm(frames, cols, &self.inv, t, f2, n);
            let out = &mut out[ch * t * c..(ch + 1) * t * c];
            for ti in 0..t {
                for i in 0..c {
                    let mut v = frames[ti * n + i] * self.head[i];
                    if i < self.pad && ti > 0 {
                        v += frames[(ti - 1) * n + c + i] * self.tail[i];
                    }
                    out[ti * c + i] = v;
                }
            }
        }
    }

    /// Gradient of [`Self::synthesise`]: `dspec` [T, F, 2K] from `dout` [K, chunk * T].
    pub fn synthesise_backward(
        &self,
        k: &Kernels,
        (dout, gains): (&[f32], &[f32]),
        (t, kk): (usize, usize),
        dspec: &mut [f32],
        (cols, frames): (&mut [f32], &mut [f32]),
    ) {
        let (f, f2, n, c) = (self.freqs, 2 * self.freqs, self.n_fft(), self.chunk);
        for ch in 0..kk {
            let dout = &dout[ch * t * c..(ch + 1) * t * c];
            for ti in 0..t {
                for i in 0..c {
                    frames[ti * n + i] = dout[ti * c + i] * self.head[i];
                }
                for i in 0..self.pad {
                    frames[ti * n + c + i] = if ti + 1 < t {
                        dout[(ti + 1) * c + i] * self.tail[i]
                    } else {
                        0.0
                    };
                }
            }
            let cols = &mut cols[..t * f2];
            cols.fill(0.0);
            k.gemm(cols, frames, &self.inv_t, t, n, f2);
            for (ti, &g) in gains[..t].iter().enumerate() {
                for fi in 0..f {
                    let s = (ti * f + fi) * 2 * kk + 2 * ch;
                    dspec[s] = cols[ti * f2 + fi] * g;
                    dspec[s + 1] = cols[ti * f2 + f + fi] * g;
                }
            }
        }
    }
}
