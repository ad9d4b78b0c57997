//! Hint compression: a causal conv from the large model's 2SM spectrum channels to 2SM / P.

use candle_core::{Device, Tensor};
use candle_nn::VarBuilder;

use crate::{config::JointConfig, conv::CausalConv2d, error::Result};

/// Causal 3x3 (time, frequency) conv that shrinks the hint P times.
#[derive(Debug, Clone)]
pub struct Compression {
    conv: CausalConv2d,
    freqs: usize,
}

impl Compression {
    /// Loads `weight` [2SM / P, 2SM, 3, 3] and `bias`.
    pub fn new(vb: VarBuilder, cfg: &JointConfig) -> Result<Self> {
        Ok(Self {
            conv: CausalConv2d::new(vb, cfg.large.out_channels(), cfg.hint_channels())?,
            freqs: cfg.large.freqs(),
        })
    }

    /// The conv's time state before the first frame.
    pub fn initial_state(&self, batch: usize, device: &Device) -> Result<Tensor> {
        self.conv.initial_state(batch, self.freqs, device)
    }

    /// Compresses `spectrum` [B, 2SM, T, F] into hint frames [B, T, F, 2SM / P].
    pub fn forward(&self, spectrum: &Tensor, state: &mut Tensor) -> Result<Tensor> {
        Ok(self
            .conv
            .forward(spectrum, state)?
            .permute((0, 2, 3, 1))?
            .contiguous()?)
    }
}
