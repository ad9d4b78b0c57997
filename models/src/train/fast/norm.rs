//! Layer normalisation over the last axis (biased variance, eps 1e-5), forward and backward.

use std::ops::Range;

use super::layout::{two_mut, ParamLayout};
use crate::{error::Result, head_layout::EPS};

/// LayerNorm of rows `width` wide with a per-element affine; a grouped norm
/// holds one affine per group (e.g. per attention head) back to back.
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
        Self::grouped(layout, prefix, width, 1)
    }

    /// A norm with `groups` affines of `width` each under `{prefix}`.
    pub fn grouped(
        layout: &ParamLayout,
        prefix: &str,
        width: usize,
        groups: usize,
    ) -> Result<Self> {
        Ok(Self {
            w: layout.range(&format!("{prefix}.weight"), width * groups)?,
            b: layout.range(&format!("{prefix}.bias"), width * groups)?,
            width,
        })
    }

    fn group(&self, range: &Range<usize>, group: usize) -> Range<usize> {
        let start = range.start + group * self.width;
        start..start + self.width
    }

    /// Normalises every row of `x`: keeps `xhat` (before the affine) and
    /// `rstd` for the backward pass, writes the output into `y`.
    pub fn forward(&self, p: &[f32], x: &[f32], xhat: &mut [f32], rstd: &mut [f32], y: &mut [f32]) {
        self.forward_in(0, p, x, (xhat, rstd), y);
    }

    /// [`Self::forward`] with the affine of `group`.
    pub fn forward_in(
        &self,
        group: usize,
        p: &[f32],
        x: &[f32],
        (xhat, rstd): (&mut [f32], &mut [f32]),
        y: &mut [f32],
    ) {
        let n = self.width;
        let (gamma, beta) = (
            &p[self.group(&self.w, group)],
            &p[self.group(&self.b, group)],
        );
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
        saved: (&[f32], &[f32]),
        dy: &[f32],
        dx: &mut [f32],
        g: &mut [f32],
    ) {
        self.backward_in(0, p, saved, (dy, dx), g);
    }

    /// [`Self::backward`] with the affine of `group`.
    pub fn backward_in(
        &self,
        group: usize,
        p: &[f32],
        (xhat, rstd): (&[f32], &[f32]),
        (dy, dx): (&[f32], &mut [f32]),
        g: &mut [f32],
    ) {
        let n = self.width;
        let gamma = &p[self.group(&self.w, group)];
        let (gw, gb) = two_mut(g, self.group(&self.w, group), self.group(&self.b, group));
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
