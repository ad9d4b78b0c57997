//! The large model's causal local self-attention over time (one per GridNet block).

use candle_core::Tensor;
use candle_nn::VarBuilder;

use crate::{
    config::AttentionConfig,
    error::Result,
    head_layout::{self_attention_key_width, HeadLayout},
    head_maps::{HeadMaps, OutputProjection},
    window_attention::{windowed_attention, KvCache},
};

/// Causal local multi-head self-attention; each head sees a frame as one (channel, frequency) vector.
#[derive(Debug, Clone)]
pub struct SelfAttention {
    q: HeadMaps,
    k: HeadMaps,
    v: HeadMaps,
    proj: OutputProjection,
    window: usize,
}

impl SelfAttention {
    /// Loads an attention layer for width `d` over `freqs` bins.
    pub fn new(vb: VarBuilder, d: usize, freqs: usize, cfg: AttentionConfig) -> Result<Self> {
        let e = self_attention_key_width(freqs);
        let (h, layout) = (cfg.heads, HeadLayout::ChannelMajor);
        Ok(Self {
            q: HeadMaps::new(vb.pp("q"), d, h, e, freqs, layout)?,
            k: HeadMaps::new(vb.pp("k"), d, h, e, freqs, layout)?,
            v: HeadMaps::new(vb.pp("v"), d, h, d / h, freqs, layout)?,
            proj: OutputProjection::new(vb.pp("proj"), d, freqs)?,
            window: cfg.window,
        })
    }

    /// Attention branch for `x` [B, T, F, D] (not yet added to `x`).
    pub fn forward(&self, x: &Tensor, cache: &mut KvCache) -> Result<Tensor> {
        let (b, t, f, d) = x.dims4()?;
        let heads = self.v.heads();
        let out = windowed_attention(
            &self.q.forward(x)?,
            &self.k.forward(x)?,
            &self.v.forward(x)?,
            cache,
            self.window,
        )?;
        let out = out
            .reshape((b, heads, t, d / heads, f))?
            .permute((0, 2, 4, 1, 3))?
            .reshape((b, t, f, d))?;
        self.proj.forward(&out)
    }
}
