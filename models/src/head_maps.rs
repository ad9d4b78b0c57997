//! Per-frame query, key and value maps of multi-head attention over (frequency, channel) frames.

use candle_core::Tensor;
use candle_nn::VarBuilder;

use crate::{
    activation::Prelu, error::Result, head_layout::HeadLayout, linear::Linear, norm::LayerNorm,
};

/// 1x1 conv D -> heads * width, PReLU, then a norm over each head's flattened frame.
#[derive(Debug, Clone)]
pub struct HeadMaps {
    linear: Linear,
    prelu: Prelu,
    norm: LayerNorm,
    heads: usize,
    width: usize,
    layout: HeadLayout,
}

impl HeadMaps {
    /// Loads the maps of `heads` heads of `width` channels from `d` channels over `freqs` bins.
    pub fn new(
        vb: VarBuilder,
        d: usize,
        heads: usize,
        width: usize,
        freqs: usize,
        layout: HeadLayout,
    ) -> Result<Self> {
        let (prelu, norm) = match layout {
            HeadLayout::ChannelMajor => (
                Prelu::new(vb.clone(), "prelu", heads)?,
                LayerNorm::new(
                    vb.pp("norm"),
                    (heads, width, freqs),
                    (heads, 1, width * freqs),
                )?,
            ),
            HeadLayout::FrequencyMajor => (
                Prelu::new(vb.clone(), "prelu", 1)?,
                LayerNorm::over(vb.pp("norm"), freqs * width)?,
            ),
        };
        Ok(Self {
            linear: Linear::new(vb, d, heads * width)?,
            prelu,
            norm,
            heads,
            width,
            layout,
        })
    }

    /// Number of heads.
    pub fn heads(&self) -> usize {
        self.heads
    }

    /// Channels per head.
    pub fn width(&self) -> usize {
        self.width
    }

    /// [B, T, F, D] -> [B, heads, T, width * F], normalised per head and frame.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (b, t, f, _) = x.dims4()?;
        let y = self
            .prelu
            .forward(&self.linear.forward(x)?)?
            .reshape((b, t, f, self.heads, self.width))?;
        let order = match self.layout {
            HeadLayout::ChannelMajor => (0, 3, 1, 4, 2),
            HeadLayout::FrequencyMajor => (0, 3, 1, 2, 4),
        };
        let y = y
            .permute(order)?
            .reshape((b, self.heads, t, self.width * f))?;
        self.norm.forward(&y)
    }
}

/// Output projection of the concatenated heads: 1x1 conv D -> D, PReLU, norm over the (f, d) frame.
#[derive(Debug, Clone)]
pub struct OutputProjection {
    linear: Linear,
    prelu: Prelu,
    norm: LayerNorm,
}

impl OutputProjection {
    /// Loads the projection; the norm's affine is stored as [F, D].
    pub fn new(vb: VarBuilder, d: usize, freqs: usize) -> Result<Self> {
        Ok(Self {
            linear: Linear::new(vb.clone(), d, d)?,
            prelu: Prelu::new(vb.clone(), "prelu", 1)?,
            norm: LayerNorm::new(vb.pp("norm"), (freqs, d), freqs * d)?,
        })
    }

    /// Projects [B, T, F, D].
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (b, t, f, d) = x.dims4()?;
        let y = self.prelu.forward(&self.linear.forward(x)?)?;
        Ok(self
            .norm
            .forward(&y.reshape((b, t, f * d))?)?
            .reshape((b, t, f, d))?)
    }
}
