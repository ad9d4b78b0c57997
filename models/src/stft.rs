//! STFT and iSTFT: periodic Hamming window, hop = chunk, window = chunk + pad,
//! no centering, weighted overlap-add with state carried across calls.
//!
//! Both transforms are matrix products with precomputed DFT bases, so they
//! run (and differentiate) in candle like any other layer.

use std::f64::consts::PI;

use candle_core::{Device, Tensor};

use crate::{
    error::{Error, Result},
    window::{hamming, overlap_add_gains},
};

/// Analysis and synthesis transforms for one hop / window size.
#[derive(Debug, Clone)]
pub struct Stft {
    chunk: usize,
    pad: usize,
    freqs: usize,
    /// Windowed forward bases [n_fft, F]: real part and imaginary part.
    fwd_re: Tensor,
    fwd_im: Tensor,
    /// Inverse real-DFT bases [F, n_fft] (imaginary parts of DC and Nyquist ignored).
    inv_re: Tensor,
    inv_im: Tensor,
    /// Overlap-add gains for the current frame [chunk] and the previous frame's tail [pad].
    head_gain: Tensor,
    tail_gain: Tensor,
}

impl Stft {
    /// Builds the transforms for hop `chunk` and lookahead `pad` (window `chunk + pad`).
    pub fn new(chunk: usize, pad: usize, device: &Device) -> Result<Self> {
        let n = chunk + pad;
        if pad > chunk || !n.is_multiple_of(2) {
            return Err(Error::Config(format!(
                "STFT needs an even window and pad <= chunk, got chunk {chunk} pad {pad}"
            )));
        }
        let freqs = n / 2 + 1;
        let w = hamming(n);
        let mut fwd_re = vec![0f32; n * freqs];
        let mut fwd_im = vec![0f32; n * freqs];
        let mut inv_re = vec![0f32; freqs * n];
        let mut inv_im = vec![0f32; freqs * n];
        for i in 0..n {
            for k in 0..freqs {
                let phase = 2.0 * PI * ((k * i) % n) as f64 / n as f64;
                fwd_re[i * freqs + k] = (w[i] * phase.cos()) as f32;
                fwd_im[i * freqs + k] = (-w[i] * phase.sin()) as f32;
                let scale = if k == 0 || 2 * k == n { 1.0 } else { 2.0 } / n as f64;
                inv_re[k * n + i] = (scale * phase.cos()) as f32;
                inv_im[k * n + i] = (-scale * phase.sin()) as f32;
            }
        }
        let (head, tail) = overlap_add_gains(chunk, pad);
        let head_gain: Vec<f32> = head.iter().map(|&g| g as f32).collect();
        let tail_gain: Vec<f32> = tail.iter().map(|&g| g as f32).collect();
        Ok(Self {
            chunk,
            pad,
            freqs,
            fwd_re: Tensor::from_vec(fwd_re, (n, freqs), device)?,
            fwd_im: Tensor::from_vec(fwd_im, (n, freqs), device)?,
            inv_re: Tensor::from_vec(inv_re, (freqs, n), device)?,
            inv_im: Tensor::from_vec(inv_im, (freqs, n), device)?,
            head_gain: Tensor::from_vec(head_gain, chunk, device)?,
            tail_gain: Tensor::from_vec(tail_gain, pad, device)?,
        })
    }

    /// Number of frequency bins F.
    pub fn freqs(&self) -> usize {
        self.freqs
    }

    /// Number of whole frames in a window of `len` samples, if it is `chunk * T + pad` long.
    pub fn frames_in(&self, len: usize) -> Result<usize> {
        if len < self.chunk + self.pad || !(len - self.pad).is_multiple_of(self.chunk) {
            return Err(Error::Input(format!(
                "a streaming window must hold chunk * T + pad = {} * T + {} samples, got {len}",
                self.chunk, self.pad
            )));
        }
        Ok((len - self.pad) / self.chunk)
    }

    /// Spectra of `x` [B, M, chunk * T + pad] as features [B, 2M, T, F]:
    /// real parts of every channel, then imaginary parts.
    pub fn analyse(&self, x: &Tensor) -> Result<Tensor> {
        let (b, m, len) = x.dims3()?;
        let t = self.frames_in(len)?;
        let chunks = x
            .contiguous()?
            .pad_with_zeros(2, 0, self.chunk - self.pad)?
            .reshape((b, m, t + 1, self.chunk))?;
        let frames = Tensor::cat(
            &[
                chunks.narrow(2, 0, t)?,
                chunks.narrow(2, 1, t)?.narrow(3, 0, self.pad)?,
            ],
            3,
        )?
        .contiguous()?;
        let re = frames.broadcast_matmul(&self.fwd_re)?;
        let im = frames.broadcast_matmul(&self.fwd_im)?;
        Ok(Tensor::cat(&[re, im], 1)?)
    }

    /// Waveforms [B, K, chunk * T] from spectra [B, 2K, T, F] (channel 2k real,
    /// 2k + 1 imaginary), overlap-added with `tail` [B, K, pad], the previous
    /// call's weighted frame tail, which is replaced by this call's.
    pub fn synthesise(&self, spec: &Tensor, tail: &mut Tensor) -> Result<Tensor> {
        let (b, c, t, f) = spec.dims4()?;
        let k = c / 2;
        let spec = spec.reshape((b, k, 2, t, f))?;
        let re = spec.narrow(2, 0, 1)?.squeeze(2)?;
        let im = spec.narrow(2, 1, 1)?.squeeze(2)?;
        let y = (re.broadcast_matmul(&self.inv_re)? + im.broadcast_matmul(&self.inv_im)?)?;
        let head = y.narrow(3, 0, self.chunk)?.broadcast_mul(&self.head_gain)?;
        let tails = y
            .narrow(3, self.chunk, self.pad)?
            .broadcast_mul(&self.tail_gain)?;
        let previous = Tensor::cat(&[tail.unsqueeze(2)?, tails.narrow(2, 0, t - 1)?], 2)?;
        let out = (head + previous.pad_with_zeros(3, 0, self.chunk - self.pad)?)?;
        *tail = tails.narrow(2, t - 1, 1)?.squeeze(2)?;
        Ok(out.reshape((b, k, t * self.chunk))?)
    }
}
