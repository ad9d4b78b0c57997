//! Linear layer over the last axis (1x1 conv), forward and backward on flat buffers.

use std::ops::Range;

use super::layout::ParamLayout;
use crate::{
    error::Result,
    kernels::{Kernels, Strides},
};

/// Hands out ranges of the derived buffer (weights rearranged for the forward pass).
#[derive(Debug, Default)]
pub struct Derived {
    len: usize,
}

impl Derived {
    /// Reserves `n` values.
    pub fn alloc(&mut self, n: usize) -> Range<usize> {
        self.len += n;
        self.len - n..self.len
    }

    /// Values reserved so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is reserved.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Writes the transpose of `src` [rows, cols] into `dst` [cols, rows].
pub fn transpose_into(src: &[f32], rows: usize, cols: usize, dst: &mut [f32]) {
    for r in 0..rows {
        for c in 0..cols {
            dst[c * rows + r] = src[r * cols + c];
        }
    }
}

/// Writes `bias` [n] into every row of `out` [rows, n] (rows `ld` apart).
pub fn fill_rows(out: &mut [f32], bias: &[f32], rows: usize, ld: usize) {
    let n = bias.len();
    for r in 0..rows {
        out[r * ld..r * ld + n].copy_from_slice(bias);
    }
}

/// Adds every row of `dy` [rows, n] (rows `ld` apart) into `db` [n].
pub fn add_column_sums(db: &mut [f32], dy: &[f32], rows: usize, ld: usize) {
    let n = db.len();
    for r in 0..rows {
        for (b, v) in db.iter_mut().zip(&dy[r * ld..r * ld + n]) {
            *b += v;
        }
    }
}

/// `y = x W^T + b`: weight [out, in], its transpose kept in the derived buffer.
#[derive(Debug, Clone)]
pub struct Linear {
    w: Range<usize>,
    b: Range<usize>,
    wt: Range<usize>,
    /// Input width.
    pub inputs: usize,
    /// Output width.
    pub outputs: usize,
}

impl Linear {
    /// The layer whose tensors are `{prefix}.weight` and `{prefix}.bias`.
    pub fn new(
        layout: &ParamLayout,
        prefix: &str,
        (inputs, outputs): (usize, usize),
        derived: &mut Derived,
    ) -> Result<Self> {
        Ok(Self {
            w: layout.range(&format!("{prefix}.weight"), outputs * inputs)?,
            b: layout.range(&format!("{prefix}.bias"), outputs)?,
            wt: derived.alloc(inputs * outputs),
            inputs,
            outputs,
        })
    }

    /// Rearranges the weight for [`Self::forward`].
    pub fn prepare(&self, p: &[f32], d: &mut [f32]) {
        transpose_into(
            &p[self.w.clone()],
            self.outputs,
            self.inputs,
            &mut d[self.wt.clone()],
        );
    }

    /// `out[rows, out] = x[rows, in] W^T + b`, rows `ldx` and `ldo` apart.
    #[allow(clippy::too_many_arguments)]
    pub fn forward(
        &self,
        k: &Kernels,
        (p, d): (&[f32], &[f32]),
        x: &[f32],
        ldx: usize,
        rows: usize,
        out: &mut [f32],
        ldo: usize,
    ) {
        let ld = Strides {
            out: ldo,
            x: ldx,
            w: self.outputs,
        };
        k.gemm_bias_strided(
            out,
            x,
            &d[self.wt.clone()],
            &p[self.b.clone()],
            (rows, self.inputs, self.outputs),
            ld,
        );
    }

    /// `out[rows, out] += x[rows, in] W^T` (no bias).
    #[allow(clippy::too_many_arguments)]
    pub fn accumulate(
        &self,
        k: &Kernels,
        d: &[f32],
        x: &[f32],
        ldx: usize,
        rows: usize,
        out: &mut [f32],
        ldo: usize,
    ) {
        let ld = Strides {
            out: ldo,
            x: ldx,
            w: self.outputs,
        };
        k.gemm_strided(
            out,
            x,
            &d[self.wt.clone()],
            (rows, self.inputs, self.outputs),
            ld,
        );
    }

    /// Backward of [`Self::forward`] for input `x` and output gradient `dy`:
    /// accumulates the weight and bias gradients into `g` and, when given, `dy W` into `dx`.
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        k: &Kernels,
        p: &[f32],
        (x, ldx): (&[f32], usize),
        (dy, ldy): (&[f32], usize),
        rows: usize,
        dx: Option<(&mut [f32], usize)>,
        g: &mut [f32],
    ) {
        let ld = Strides {
            out: self.inputs,
            x: ldy,
            w: ldx,
        };
        k.gemm_tn(
            &mut g[self.w.clone()],
            dy,
            x,
            (rows, self.outputs, self.inputs),
            ld,
        );
        add_column_sums(&mut g[self.b.clone()], dy, rows, ldy);
        if let Some((dx, lddx)) = dx {
            let ld = Strides {
                out: lddx,
                x: ldy,
                w: self.inputs,
            };
            k.gemm_strided(
                dx,
                dy,
                &p[self.w.clone()],
                (rows, self.outputs, self.inputs),
                ld,
            );
        }
    }
}
