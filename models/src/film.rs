//! FiLM: the small model's aligned features scaled and shifted per bin by the hint.

use candle_core::Tensor;
use candle_nn::VarBuilder;

use crate::{error::Result, linear::Linear};

/// `m = z * W(e) + U(e)`, W and U 1x1 convs from the hint channels to D.
#[derive(Debug, Clone)]
pub struct Film {
    scale: Linear,
    shift: Linear,
}

impl Film {
    /// Loads `scale` and `shift` maps from `hint_channels` to `d`.
    pub fn new(vb: VarBuilder, hint_channels: usize, d: usize) -> Result<Self> {
        Ok(Self {
            scale: Linear::new(vb.pp("scale"), hint_channels, d)?,
            shift: Linear::new(vb.pp("shift"), hint_channels, d)?,
        })
    }

    /// Modulates `z` [B, T, F, D] by `hint` [B, T, F, hint_channels].
    pub fn forward(&self, z: &Tensor, hint: &Tensor) -> Result<Tensor> {
        Ok((z * self.scale.forward(hint)?)?.add(&self.shift.forward(hint)?)?)
    }
}
