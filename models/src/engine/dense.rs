//! Per-bin linear layer and the small per-vector helpers (LayerNorm, PReLU).

use super::tensors::TensorSource;
use crate::kernels::Kernels;
use crate::{error::Result, head_layout::EPS};

/// `y = x W^T + b` for each of `rows` rows; weight kept as [in, out].
#[derive(Debug, Clone)]
pub struct Dense {
    wt: Vec<f32>,
    bias: Vec<f32>,
    /// Input width.
    pub inputs: usize,
    /// Output width.
    pub outputs: usize,
}

impl Dense {
    /// Loads `weight` [out, in] and `bias` [out].
    pub fn load(src: &TensorSource, inputs: usize, outputs: usize) -> Result<Self> {
        Ok(Self {
            wt: src.transposed("weight", outputs, inputs)?,
            bias: src.get("bias", &[outputs])?,
            inputs,
            outputs,
        })
    }

    /// Builds from a weight already laid out [in, out].
    pub fn from_parts(wt: Vec<f32>, bias: Vec<f32>, inputs: usize, outputs: usize) -> Self {
        Self {
            wt,
            bias,
            inputs,
            outputs,
        }
    }

    /// `out[rows, out] = x[rows, in] W^T + b`.
    pub fn forward(&self, k: &Kernels, x: &[f32], out: &mut [f32], rows: usize) {
        for r in out[..rows * self.outputs].chunks_exact_mut(self.outputs) {
            r.copy_from_slice(&self.bias);
        }
        k.gemm(out, x, &self.wt, rows, self.inputs, self.outputs);
    }
}

/// LayerNorm (biased variance, eps 1e-5) of `x` in place, then `x * gamma + beta`.
pub fn layer_norm(x: &mut [f32], gamma: &[f32], beta: &[f32]) {
    let n = x.len() as f32;
    let mean = x.iter().sum::<f32>() / n;
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
    let inv = 1.0 / (var + EPS as f32).sqrt();
    for ((v, g), b) in x.iter_mut().zip(gamma).zip(beta) {
        *v = (*v - mean) * inv * g + b;
    }
}

/// LayerNorm of each `width`-wide row of `x` with the same affine.
pub fn layer_norm_rows(x: &mut [f32], width: usize, gamma: &[f32], beta: &[f32]) {
    for row in x.chunks_exact_mut(width) {
        layer_norm(row, gamma, beta);
    }
}

/// PReLU with slope `a`.
#[inline(always)]
pub fn prelu(x: f32, a: f32) -> f32 {
    if x >= 0.0 {
        x
    } else {
        a * x
    }
}
