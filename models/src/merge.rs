//! The merge module after each small-model block but the last: alignment, FiLM, cross-attention.

use candle_core::Tensor;
use candle_nn::VarBuilder;

use crate::{
    config::JointConfig,
    cross_attention::CrossAttention,
    delay::DelayLine,
    error::Result,
    film::Film,
    stream_state::MergeState,
    trace::{tap, Trace},
};

/// Merges a hint computed C frames ago into the small model's current frame.
#[derive(Debug, Clone)]
pub struct Merge {
    film: Film,
    cross: CrossAttention,
    delay: usize,
    d: usize,
    freqs: usize,
}

impl Merge {
    /// Loads one merge module of a joint pair.
    pub fn new(vb: VarBuilder, cfg: &JointConfig) -> Result<Self> {
        let (d, freqs) = (cfg.small.d, cfg.small.freqs());
        Ok(Self {
            film: Film::new(vb.pp("film"), cfg.hint_channels(), d)?,
            cross: CrossAttention::new(
                vb.pp("cross_attn"),
                d,
                freqs,
                cfg.merge_heads,
                cfg.context,
            )?,
            delay: cfg.delay,
            d,
            freqs,
        })
    }

    /// State before the first frame: zero alignment frames, zero attention context.
    pub fn initial_state(&self, batch: usize, device: &candle_core::Device) -> Result<MergeState> {
        let frame = Tensor::zeros(
            (batch, 1, self.freqs, self.d),
            candle_core::DType::F32,
            device,
        )?;
        Ok(MergeState {
            align: DelayLine::new(self.delay, &frame)?,
            context: self.cross.initial_cache(batch, self.freqs, device)?,
        })
    }

    /// `z` [B, T, F, D] block output, `hint` [B, T, F, C'] the hint arriving at
    /// each frame (computed C frames earlier): returns z + cross-attention,
    /// recording the FiLM output as `film{index}` and the result as `ca{index}`.
    pub fn forward(
        &self,
        z: &Tensor,
        hint: &Tensor,
        state: &mut MergeState,
        index: usize,
        mut trace: Option<&mut Trace>,
    ) -> Result<Tensor> {
        let aligned = state.align.push(z)?;
        let merged = self.film.forward(&aligned, hint)?;
        tap(&mut trace, format_args!("film{index}"), &merged);
        let out = (z + self.cross.forward(z, &merged, &mut state.context)?)?;
        tap(&mut trace, format_args!("ca{index}"), &out);
        Ok(out)
    }
}
