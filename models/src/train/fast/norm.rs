//! Layer normalisation over the last axis (biased variance, eps 1e-5), forward and backward.

use std::ops::Range;

use super::layout::{two_mut, ParamLayout};
use crate::{error::Result, norm::EPS};

/// LayerNorm of rows `width` wide with a per-element affine.
#[derive(Debug, Clone)]
pub struct Norm {
    w: Range<usize>,
    b: Range<usize>,
    /// Row width.
    pub width: usize,
}

impl Norm {
    /// The norm whose affine is `{prefix}.weight` and `{prefix}.bias`.
    pub fn new(layout: &ParamLayout, prefix: &str, width: usize) -> Result<Self> {
        Ok(Self {
            w: layout.range(&format!("{prefix}.weight"), width)?,
            b: layout.range(&format!("{prefix}.bias"), width)?,
            width,
        })
    }

    /// Normalises every row of `x`: keeps `xhat` (before the affine) and
    /// `rstd` for the backward pass, writes the output into `y`.
    pub fn forward(&self, p: &[f32], x: &[f32], xhat: &mut [f32], rstd: &mut [f32], y: &mut [f32]) {
        let n = self.width;
        let (gamma, beta) = (&p[self.w.clone()], &p[self.b.clone()]);
        for (r, row) in x.chunks_exact(n).enumerate() {
            let mean = row.iter().sum::<f32>() / n as f32;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n as f32;
            let inv = 1.0 / (var + EPS as f32).sqrt();
            rstd[r] = inv;
            let (h, o) = (&mut xhat[r * n..(r + 1) * n], &mut y[r * n..(r + 1) * n]);
            for j in 0..n {
                h[j] = (row[j] - mean) * inv;
                o[j] = h[j] * gamma[j] + beta[j];
            }
        }
    }

    /// Backward: adds the input gradient to `dx` and the affine's gradients to `g`.
    pub fn backward(
        &self,
        p: &[f32],
        (xhat, rstd): (&[f32], &[f32]),
        dy: &[f32],
        dx: &mut [f32],
        g: &mut [f32],
    ) {
        let n = self.width;
        let gamma = &p[self.w.clone()];
        let (gw, gb) = two_mut(g, self.w.clone(), self.b.clone());
        for (r, (dyr, h)) in dy.chunks_exact(n).zip(xhat.chunks_exact(n)).enumerate() {
            let (mut s1, mut s2) = (0f32, 0f32);
            for j in 0..n {
                let dh = dyr[j] * gamma[j];
                s1 += dh;
                s2 += dh * h[j];
                gw[j] += dyr[j] * h[j];
                gb[j] += dyr[j];
            }
            let (m1, m2) = (s1 / n as f32, s2 / n as f32);
            let inv = rstd[r];
            for (j, d) in dx[r * n..(r + 1) * n].iter_mut().enumerate() {
                *d += inv * (dyr[j] * gamma[j] - m1 - h[j] * m2);
            }
        }
    }
}
