//! One merge module for one frame: alignment, FiLM, cross-attention.

use super::{
    attention::{AttentionShape, FrameAttention},
    block::add,
    dense::Dense,
    tensors::TensorSource,
};
use crate::kernels::Kernels;
use crate::{
    config::JointConfig,
    error::Result,
    head_layout::{cross_attention_key_width, HeadLayout},
};

/// The engine's [`crate::merge::Merge`].
#[derive(Debug, Clone)]
pub struct MergeModule {
    scale: Dense,
    shift: Dense,
    cross: FrameAttention,
    /// The last C block outputs, oldest at `next`.
    align: Vec<f32>,
    next: usize,
    delay: usize,
    aligned: Vec<f32>,
    scale_out: Vec<f32>,
    merged: Vec<f32>,
    branch: Vec<f32>,
    freqs: usize,
}

impl MergeModule {
    /// Loads a merge module under `src`.
    pub fn load(src: &TensorSource, cfg: &JointConfig) -> Result<Self> {
        let (d, f, c) = (cfg.small.d, cfg.small.freqs(), cfg.hint_channels());
        let film = src.pp("film");
        let frame = f * d;
        Ok(Self {
            scale: Dense::load(&film.pp("scale"), c, d)?,
            shift: Dense::load(&film.pp("shift"), c, d)?,
            cross: FrameAttention::load(
                &src.pp("cross_attn"),
                AttentionShape {
                    d,
                    freqs: f,
                    heads: cfg.merge_heads,
                    key_width: cross_attention_key_width(f),
                    window: cfg.context,
                    layout: HeadLayout::FrequencyMajor,
                    starts_full: true,
                },
            )?,
            align: vec![0.0; cfg.delay * frame],
            next: 0,
            delay: cfg.delay,
            aligned: vec![0.0; frame],
            scale_out: vec![0.0; frame],
            merged: vec![0.0; frame],
            branch: vec![0.0; frame],
            freqs: f,
        })
    }

    /// Clears alignment and context (a new stream).
    pub fn reset(&mut self) {
        self.align.fill(0.0);
        self.next = 0;
        self.cross.reset();
    }

    /// Merges `hint` [F, C'] (computed C frames ago) into block output `z` [F, D] in place.
    pub fn forward(&mut self, k: &Kernels, z: &mut [f32], hint: &[f32]) {
        let n = z.len();
        if self.delay == 0 {
            self.aligned.copy_from_slice(z);
        } else {
            let slot = &mut self.align[self.next * n..(self.next + 1) * n];
            self.aligned.copy_from_slice(slot);
            slot.copy_from_slice(z);
            self.next = (self.next + 1) % self.delay;
        }
        self.scale.forward(k, hint, &mut self.scale_out, self.freqs);
        self.shift.forward(k, hint, &mut self.merged, self.freqs);
        for ((m, a), s) in self
            .merged
            .iter_mut()
            .zip(&self.aligned)
            .zip(&self.scale_out)
        {
            *m += a * s;
        }
        self.cross.forward(k, z, &self.merged, &mut self.branch);
        add(z, &self.branch);
    }
}
