//! Causal 3x3 (time, frequency) convolution on bin-major frames, with its two-frame history.

use super::tensors::TensorSource;
use crate::error::Result;
use crate::kernels::Kernels;

/// The engine's [`crate::conv::CausalConv2d`]: weights regrouped as nine [in, out] taps.
#[derive(Debug, Clone)]
pub struct Conv3x3 {
    taps: Vec<f32>,
    bias: Vec<f32>,
    history: [Vec<f32>; 2],
    inputs: usize,
    outputs: usize,
    freqs: usize,
}

impl Conv3x3 {
    /// Loads `weight` [out, in, 3, 3] and `bias` [out] for frames of `freqs` bins.
    pub fn load(src: &TensorSource, inputs: usize, outputs: usize, freqs: usize) -> Result<Self> {
        let w = src.get("weight", &[outputs, inputs, 3, 3])?;
        let mut taps = vec![0f32; 9 * inputs * outputs];
        for o in 0..outputs {
            for i in 0..inputs {
                for tap in 0..9 {
                    taps[tap * inputs * outputs + i * outputs + o] = w[(o * inputs + i) * 9 + tap];
                }
            }
        }
        Ok(Self {
            taps,
            bias: src.get("bias", &[outputs])?,
            history: [vec![0f32; freqs * inputs], vec![0f32; freqs * inputs]],
            inputs,
            outputs,
            freqs,
        })
    }

    /// Clears the history (a new stream).
    pub fn reset(&mut self) {
        self.history.iter_mut().for_each(|h| h.fill(0.0));
    }

    /// Convolves frame `x` [F, in] after the two held frames into `out` [F, out]; `x` becomes history.
    pub fn forward(&mut self, k: &Kernels, x: &[f32], out: &mut [f32]) {
        let (fi, o, f) = (self.inputs, self.outputs, self.freqs);
        for r in out[..f * o].chunks_exact_mut(o) {
            r.copy_from_slice(&self.bias);
        }
        for kt in 0..3 {
            let frame: &[f32] = if kt == 2 { x } else { &self.history[kt] };
            for kf in 0..3 {
                // Output bin f reads input bin f + kf - 1.
                let lo = usize::from(kf == 0);
                let hi = if kf == 2 { f - 1 } else { f };
                let tap = &self.taps[(kt * 3 + kf) * fi * o..(kt * 3 + kf + 1) * fi * o];
                let src = &frame[(lo + kf - 1) * fi..];
                k.gemm(&mut out[lo * o..], src, tap, hi - lo, fi, o);
            }
        }
        self.history.swap(0, 1);
        self.history[1].copy_from_slice(&x[..f * fi]);
    }
}
