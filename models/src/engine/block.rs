//! One GridNet block for one frame.

use super::{
    attention::{AttentionShape, FrameAttention},
    dense::{layer_norm_rows, Dense},
    lstm::{FrequencyLstm, TimeLstm},
    tensors::TensorSource,
};
use crate::kernels::Kernels;
use crate::{
    config::ModelConfig,
    error::Result,
    head_layout::{self_attention_key_width, HeadLayout},
};

/// The engine's [`crate::gridnet_block::GridNetBlock`].
#[derive(Debug, Clone)]
pub struct Block {
    intra_norm: (Vec<f32>, Vec<f32>),
    intra_rnn: FrequencyLstm,
    intra_linear: Dense,
    inter_norm: (Vec<f32>, Vec<f32>),
    inter_rnn: TimeLstm,
    inter_linear: Dense,
    attention: Option<FrameAttention>,
    normed: Vec<f32>,
    rnn_out: Vec<f32>,
    branch: Vec<f32>,
    d: usize,
    freqs: usize,
}

fn norm(src: &TensorSource, d: usize) -> Result<(Vec<f32>, Vec<f32>)> {
    Ok((src.get("weight", &[d])?, src.get("bias", &[d])?))
}

impl Block {
    /// Loads block tensors under `src` for model `cfg`.
    pub fn load(src: &TensorSource, cfg: &ModelConfig) -> Result<Self> {
        let (d, h, f) = (cfg.d, cfg.hidden, cfg.freqs());
        let attention = match cfg.attention {
            Some(a) => Some(FrameAttention::load(
                &src.pp("attn"),
                AttentionShape {
                    d,
                    freqs: f,
                    heads: a.heads,
                    key_width: self_attention_key_width(f),
                    window: a.window,
                    layout: HeadLayout::ChannelMajor,
                    starts_full: false,
                },
            )?),
            None => None,
        };
        Ok(Self {
            intra_norm: norm(&src.pp("intra_norm"), d)?,
            intra_rnn: FrequencyLstm::load(&src.pp("intra_rnn"), d, h, f)?,
            intra_linear: Dense::load(&src.pp("intra_linear"), 2 * h, d)?,
            inter_norm: norm(&src.pp("inter_norm"), d)?,
            inter_rnn: TimeLstm::load(&src.pp("inter_rnn"), d, h, f)?,
            inter_linear: Dense::load(&src.pp("inter_linear"), h, d)?,
            attention,
            normed: vec![0.0; f * d],
            rnn_out: vec![0.0; f * 2 * h],
            branch: vec![0.0; f * d],
            d,
            freqs: f,
        })
    }

    /// Clears the carried state (a new stream).
    pub fn reset(&mut self) {
        self.inter_rnn.reset();
        if let Some(a) = &mut self.attention {
            a.reset();
        }
    }

    /// Runs the block on frame `x` [F, D] in place.
    pub fn forward(&mut self, k: &Kernels, x: &mut [f32]) {
        let (d, f) = (self.d, self.freqs);
        self.normed.copy_from_slice(x);
        layer_norm_rows(&mut self.normed, d, &self.intra_norm.0, &self.intra_norm.1);
        self.intra_rnn.forward(k, &self.normed, &mut self.rnn_out);
        self.intra_linear
            .forward(k, &self.rnn_out, &mut self.branch, f);
        add(x, &self.branch);

        self.normed.copy_from_slice(x);
        layer_norm_rows(&mut self.normed, d, &self.inter_norm.0, &self.inter_norm.1);
        let h = self.inter_rnn.forward(k, &self.normed);
        self.inter_linear.forward(k, h, &mut self.branch, f);
        add(x, &self.branch);

        if let Some(attention) = &mut self.attention {
            attention.forward(k, x, x, &mut self.branch);
            add(x, &self.branch);
        }
    }
}

/// `x += y`.
pub fn add(x: &mut [f32], y: &[f32]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
}
