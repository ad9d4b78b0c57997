//! One TF-GridNet block: intra-frame BLSTM over frequency, inter-frame LSTM
//! over time, optional causal local self-attention.

use candle_core::{Device, Tensor};
use candle_nn::VarBuilder;

use crate::{
    config::ModelConfig,
    error::Result,
    linear::Linear,
    lstm::{BiLstm, Lstm, LstmState},
    norm::LayerNorm,
    self_attention::SelfAttention,
    stream_state::BlockState,
    trace::{tap, Trace},
    window_attention::KvCache,
};

/// A GridNet block on frames [B, T, F, D].
#[derive(Debug, Clone)]
pub struct GridNetBlock {
    intra_norm: LayerNorm,
    intra_rnn: BiLstm,
    intra_linear: Linear,
    inter_norm: LayerNorm,
    inter_rnn: Lstm,
    inter_linear: Linear,
    attention: Option<SelfAttention>,
    hidden: usize,
    freqs: usize,
}

impl GridNetBlock {
    /// Loads a block of the model `cfg`.
    pub fn new(vb: VarBuilder, cfg: &ModelConfig) -> Result<Self> {
        let (d, h, f) = (cfg.d, cfg.hidden, cfg.freqs());
        let attention = match cfg.attention {
            Some(a) => Some(SelfAttention::new(vb.pp("attn"), d, f, a)?),
            None => None,
        };
        Ok(Self {
            intra_norm: LayerNorm::over(vb.pp("intra_norm"), d)?,
            intra_rnn: BiLstm::new(vb.pp("intra_rnn"), d, h)?,
            intra_linear: Linear::new(vb.pp("intra_linear"), 2 * h, d)?,
            inter_norm: LayerNorm::over(vb.pp("inter_norm"), d)?,
            inter_rnn: Lstm::new(vb.pp("inter_rnn"), d, h, "")?,
            inter_linear: Linear::new(vb.pp("inter_linear"), h, d)?,
            attention,
            hidden: h,
            freqs: f,
        })
    }

    /// State before the first frame.
    pub fn initial_state(&self, batch: usize, device: &Device) -> Result<BlockState> {
        Ok(BlockState {
            inter: LstmState::zeros(batch * self.freqs, self.hidden, device)?,
            attention: self.attention.as_ref().map(|_| KvCache::empty()),
        })
    }

    /// Runs the block on `x` [B, T, F, D], recording each branch as `{name}.intra_linear`,
    /// `{name}.inter_linear` and `{name}.attn_concat_proj` in `trace`.
    pub fn forward(
        &self,
        x: &Tensor,
        state: &mut BlockState,
        name: &str,
        mut trace: Option<&mut Trace>,
    ) -> Result<Tensor> {
        let (b, t, f, d) = x.dims4()?;
        let intra = self.intra_norm.forward(x)?.reshape((b * t, f, d))?;
        let intra = self
            .intra_linear
            .forward(&self.intra_rnn.forward(&intra)?)?;
        tap(&mut trace, format_args!("{name}.intra_linear"), &intra);
        let x = (x + intra.reshape((b, t, f, d))?)?;

        let inter = self
            .inter_norm
            .forward(&x)?
            .permute((0, 2, 1, 3))?
            .contiguous()?
            .reshape((b * f, t, d))?;
        let inter = self.inter_linear.forward(&self.inter_rnn.forward(
            &inter,
            &mut state.inter,
            false,
        )?)?;
        tap(&mut trace, format_args!("{name}.inter_linear"), &inter);
        let x = (x + inter.reshape((b, f, t, d))?.permute((0, 2, 1, 3))?)?;

        match (&self.attention, &mut state.attention) {
            (Some(attention), Some(cache)) => {
                let branch = attention.forward(&x, cache)?;
                tap(&mut trace, format_args!("{name}.attn_concat_proj"), &branch);
                Ok((&x + branch)?)
            }
            _ => Ok(x),
        }
    }
}
