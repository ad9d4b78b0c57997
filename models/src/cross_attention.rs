//! The merge module's cross-attention: the current frame queries the recent merged frames.

use candle_core::{Device, Tensor};
use candle_nn::VarBuilder;

use crate::{
    error::Result,
    head_layout::{cross_attention_key_width, HeadLayout},
    head_maps::{HeadMaps, OutputProjection},
    window_attention::{windowed_attention, KvCache},
};

/// Multi-head cross-attention from the small model's frames to the merged hint frames.
#[derive(Debug, Clone)]
pub struct CrossAttention {
    q: HeadMaps,
    k: HeadMaps,
    v: HeadMaps,
    proj: OutputProjection,
    context: usize,
}

impl CrossAttention {
    /// Loads a cross-attention of `heads` heads over `context` frames.
    pub fn new(
        vb: VarBuilder,
        d: usize,
        freqs: usize,
        heads: usize,
        context: usize,
    ) -> Result<Self> {
        let e = cross_attention_key_width(freqs);
        let layout = HeadLayout::FrequencyMajor;
        Ok(Self {
            q: HeadMaps::new(vb.pp("q"), d, heads, e, freqs, layout)?,
            k: HeadMaps::new(vb.pp("k"), d, heads, e, freqs, layout)?,
            v: HeadMaps::new(vb.pp("v"), d, heads, d / heads, freqs, layout)?,
            proj: OutputProjection::new(vb.pp("proj"), d, freqs)?,
            context,
        })
    }

    /// The context before the first frame: `context - 1` zero keys and values that count.
    pub fn initial_cache(&self, batch: usize, freqs: usize, device: &Device) -> Result<KvCache> {
        let frames = self.context - 1;
        if frames == 0 {
            return Ok(KvCache::empty());
        }
        let shape = (batch, self.q.heads(), frames, freqs * self.k.width());
        KvCache::zeros(shape, freqs * self.v.width(), device)
    }

    /// Attention branch: queries from `x`, keys and values from `merged`, both [B, T, F, D].
    pub fn forward(&self, x: &Tensor, merged: &Tensor, cache: &mut KvCache) -> Result<Tensor> {
        let (b, t, f, d) = x.dims4()?;
        let heads = self.v.heads();
        let (q, k, v) = (
            self.q.forward(x)?,
            self.k.forward(merged)?,
            self.v.forward(merged)?,
        );
        let out = windowed_attention(&q, &k, &v, cache, self.context)?;
        let out = out
            .reshape((b, heads, t, f, d / heads))?
            .permute((0, 2, 3, 1, 4))?
            .reshape((b, t, f, d))?;
        self.proj.forward(&out)
    }
}
