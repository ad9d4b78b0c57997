//! PReLU with one slope per equal run of channels, forward and backward.

use std::ops::Range;

use super::layout::ParamLayout;
use crate::error::Result;

/// `max(0, x) + a * min(0, x)`, slope `a` shared by each of `groups` runs of the row.
#[derive(Debug, Clone)]
pub struct Prelu {
    a: Range<usize>,
    groups: usize,
}

impl Prelu {
    /// The activation whose slopes are `name` (`groups` of them).
    pub fn new(layout: &ParamLayout, name: &str, groups: usize) -> Result<Self> {
        Ok(Self {
            a: layout.range(name, groups)?,
            groups,
        })
    }

    /// `y = prelu(x)` over rows of `width` channels.
    pub fn forward(&self, p: &[f32], x: &[f32], width: usize, y: &mut [f32]) {
        let (a, run) = (&p[self.a.clone()], width / self.groups);
        for (xr, yr) in x.chunks_exact(width).zip(y.chunks_exact_mut(width)) {
            for (g, &slope) in a.iter().enumerate() {
                for j in g * run..(g + 1) * run {
                    let v = xr[j];
                    yr[j] = if v > 0.0 { v } else { slope * v };
                }
            }
        }
    }

    /// Turns `dy` into the input gradient in place, adding the slopes' gradients to `g`.
    pub fn backward(&self, p: &[f32], x: &[f32], width: usize, dy: &mut [f32], g: &mut [f32]) {
        let (a, run) = (&p[self.a.clone()], width / self.groups);
        let ga = &mut g[self.a.clone()];
        for (xr, dr) in x.chunks_exact(width).zip(dy.chunks_exact_mut(width)) {
            for (gi, &slope) in a.iter().enumerate() {
                let mut acc = 0f32;
                for j in gi * run..(gi + 1) * run {
                    if xr[j] <= 0.0 {
                        acc += dr[j] * xr[j];
                        dr[j] *= slope;
                    }
                }
                ga[gi] += acc;
            }
        }
    }
}
