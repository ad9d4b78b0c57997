//! The causal 3x3 (time, frequency) convolution on channel-last frames
//! [B, T, F, C], forward and backward, as nine shifted products per frame.

use std::ops::Range;

use super::{
    layout::ParamLayout,
    linear::{add_column_sums, fill_rows, Derived},
};
use crate::{
    config::CONV_KERNEL,
    error::Result,
    kernels::{Kernels, Strides},
};

const TAPS: usize = CONV_KERNEL * CONV_KERNEL;

/// Frames of a batch: examples, frames per example, bins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frames {
    /// Examples.
    pub b: usize,
    /// Frames per example.
    pub t: usize,
    /// Frequency bins.
    pub f: usize,
}

impl Frames {
    /// Rows of a [B, T, F, C] buffer.
    pub fn rows(&self) -> usize {
        self.b * self.t * self.f
    }
}

/// `y[o, t, f] = b[o] + sum W[o, i, kt, kf] x[i, t - 2 + kt, f - 1 + kf]` (zeros outside).
#[derive(Debug, Clone)]
pub struct CausalConv {
    w: Range<usize>,
    b: Range<usize>,
    taps: Range<usize>,
    taps_t: Range<usize>,
    /// Input channels.
    pub inputs: usize,
    /// Output channels.
    pub outputs: usize,
}

/// The bins `f` a frequency tap `kf` reaches from inside the range: (first f, end f, source offset).
fn bins(kf: usize, f: usize) -> (usize, usize) {
    (1usize.saturating_sub(kf), (f + 1 - kf).min(f))
}

impl CausalConv {
    /// The conv whose tensors are `{prefix}.weight` [out, in, 3, 3] and `{prefix}.bias`.
    pub fn new(
        layout: &ParamLayout,
        prefix: &str,
        (inputs, outputs): (usize, usize),
        derived: &mut Derived,
    ) -> Result<Self> {
        Ok(Self {
            w: layout.range(&format!("{prefix}.weight"), outputs * inputs * TAPS)?,
            b: layout.range(&format!("{prefix}.bias"), outputs)?,
            taps: derived.alloc(TAPS * inputs * outputs),
            taps_t: derived.alloc(TAPS * inputs * outputs),
            inputs,
            outputs,
        })
    }

    /// Splits the weight into per-tap [in, out] and [out, in] matrices.
    pub fn prepare(&self, p: &[f32], d: &mut [f32]) {
        let (ci, co) = (self.inputs, self.outputs);
        let w = &p[self.w.clone()];
        for tap in 0..TAPS {
            for o in 0..co {
                for i in 0..ci {
                    let v = w[(o * ci + i) * TAPS + tap];
                    d[self.taps.start + (tap * ci + i) * co + o] = v;
                    d[self.taps_t.start + (tap * co + o) * ci + i] = v;
                }
            }
        }
    }

    /// Calls `each(tap, out_row, in_row, rows)` for every product of the conv over `dims`.
    fn for_each_product(dims: Frames, mut each: impl FnMut(usize, usize, usize, usize)) {
        for b in 0..dims.b {
            for t in 0..dims.t {
                for kt in 0..CONV_KERNEL {
                    let Some(ts) = (t + kt).checked_sub(CONV_KERNEL - 1) else {
                        continue;
                    };
                    for kf in 0..CONV_KERNEL {
                        let (f0, f1) = bins(kf, dims.f);
                        let out_row = (b * dims.t + t) * dims.f + f0;
                        let in_row = (b * dims.t + ts) * dims.f + f0 + kf - 1;
                        each(kt * CONV_KERNEL + kf, out_row, in_row, f1 - f0);
                    }
                }
            }
        }
    }

    /// `y` [B, T, F, out] from `x` [B, T, F, in], starting from zero time state.
    pub fn forward(
        &self,
        k: &Kernels,
        (p, d): (&[f32], &[f32]),
        x: &[f32],
        dims: Frames,
        y: &mut [f32],
    ) {
        let (ci, co) = (self.inputs, self.outputs);
        fill_rows(y, &p[self.b.clone()], dims.rows(), co);
        let taps = &d[self.taps.clone()];
        let ld = Strides {
            out: co,
            x: ci,
            w: co,
        };
        Self::for_each_product(dims, |tap, o, i, n| {
            let w = &taps[tap * ci * co..(tap + 1) * ci * co];
            k.gemm_strided(&mut y[o * co..], &x[i * ci..], w, (n, ci, co), ld);
        });
    }

    /// Backward: accumulates weight and bias gradients into `g` (through
    /// `tap_grads`, scratch of [`Self::tap_grad_len`] values) and, when
    /// given, the input gradient into `dx`.
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        k: &Kernels,
        d: &[f32],
        x: &[f32],
        dy: &[f32],
        dims: Frames,
        mut dx: Option<&mut [f32]>,
        (g, tap_grads): (&mut [f32], &mut [f32]),
    ) {
        let (ci, co) = (self.inputs, self.outputs);
        let tap_grads = &mut tap_grads[..TAPS * ci * co];
        tap_grads.fill(0.0);
        let taps_t = &d[self.taps_t.clone()];
        let ld_w = Strides {
            out: co,
            x: ci,
            w: co,
        };
        let ld_x = Strides {
            out: ci,
            x: co,
            w: ci,
        };
        Self::for_each_product(dims, |tap, o, i, n| {
            let gt = &mut tap_grads[tap * ci * co..(tap + 1) * ci * co];
            k.gemm_tn(gt, &x[i * ci..], &dy[o * co..], (n, ci, co), ld_w);
            if let Some(dx) = dx.as_deref_mut() {
                let wt = &taps_t[tap * ci * co..(tap + 1) * ci * co];
                k.gemm_strided(&mut dx[i * ci..], &dy[o * co..], wt, (n, co, ci), ld_x);
            }
        });
        let gw = &mut g[self.w.clone()];
        for tap in 0..TAPS {
            for i in 0..ci {
                for o in 0..co {
                    gw[(o * ci + i) * TAPS + tap] += tap_grads[(tap * ci + i) * co + o];
                }
            }
        }
        add_column_sums(&mut g[self.b.clone()], dy, dims.rows(), co);
    }

    /// Scratch values [`Self::backward`] needs.
    pub fn tap_grad_len(&self) -> usize {
        TAPS * self.inputs * self.outputs
    }
}
