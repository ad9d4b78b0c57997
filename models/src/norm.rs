//! Layer normalisation over the last axis, with a learned per-element affine.

use candle_core::{Shape, Tensor, D};
use candle_nn::{Init, VarBuilder};

use crate::{error::Result, head_layout::EPS};

/// Normalises the last axis (biased variance), then scales and shifts.
#[derive(Debug, Clone)]
pub struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
}

impl LayerNorm {
    /// Loads `weight` and `bias` of `shape`, viewed as `broadcast` against the input.
    pub fn new<S: Into<Shape>, B: Into<Shape>>(
        vb: VarBuilder,
        shape: S,
        broadcast: B,
    ) -> Result<Self> {
        let shape = shape.into();
        let broadcast = broadcast.into();
        let weight = vb.get_with_hints(shape.clone(), "weight", Init::Const(1.0))?;
        let bias = vb.get_with_hints(shape, "bias", Init::Const(0.0))?;
        Ok(Self {
            weight: weight.reshape(broadcast.clone())?,
            bias: bias.reshape(broadcast)?,
        })
    }

    /// A norm over a last axis of `n` elements.
    pub fn over(vb: VarBuilder, n: usize) -> Result<Self> {
        Self::new(vb, n, n)
    }

    /// Normalises `x` over its last axis.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mean = x.mean_keepdim(D::Minus1)?;
        let centred = x.broadcast_sub(&mean)?;
        let var = centred.sqr()?.mean_keepdim(D::Minus1)?;
        let normed = centred.broadcast_div(&(var + EPS)?.sqrt()?)?;
        Ok(normed
            .broadcast_mul(&self.weight)?
            .broadcast_add(&self.bias)?)
    }
}
