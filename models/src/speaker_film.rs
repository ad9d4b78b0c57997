//! Speaker FiLM: the target-extraction models' features scaled and shifted
//! per channel and bin by the enrolled speaker's embedding (the authors'
//! `TSELayer`), after every block but the last.

use candle_core::Tensor;
use candle_nn::VarBuilder;

use crate::{error::Result, linear::Linear};

/// `x * W(s) + U(s)`, W and U linear maps from the embedding to D x F
/// values (output `c * F + f` is channel c, bin f), constant over time.
#[derive(Debug, Clone)]
pub struct SpeakerFilm {
    scale: Linear,
    shift: Linear,
    d: usize,
    freqs: usize,
}

/// One layer's scale and shift for a batch of speakers, each [B, 1, F, D].
#[derive(Debug, Clone)]
pub struct SpeakerCondition {
    /// Per-channel, per-bin factors.
    pub scale: Tensor,
    /// Per-channel, per-bin offsets.
    pub shift: Tensor,
}

impl SpeakerFilm {
    /// Loads `scale` and `shift` maps from `speaker` embedding values to `d` x `freqs`.
    pub fn new(vb: VarBuilder, speaker: usize, d: usize, freqs: usize) -> Result<Self> {
        Ok(Self {
            scale: Linear::new(vb.pp("scale"), speaker, d * freqs)?,
            shift: Linear::new(vb.pp("shift"), speaker, d * freqs)?,
            d,
            freqs,
        })
    }

    /// The scale and shift of the speakers `embedding` [B, E].
    pub fn condition(&self, embedding: &Tensor) -> Result<SpeakerCondition> {
        let b = embedding.dim(0)?;
        let per_bin = |map: &Linear| -> Result<Tensor> {
            Ok(map
                .forward(embedding)?
                .reshape((b, self.d, self.freqs))?
                .transpose(1, 2)?
                .contiguous()?
                .unsqueeze(1)?)
        };
        Ok(SpeakerCondition {
            scale: per_bin(&self.scale)?,
            shift: per_bin(&self.shift)?,
        })
    }
}

impl SpeakerCondition {
    /// Modulates `x` [B, T, F, D].
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.broadcast_mul(&self.scale)?.broadcast_add(&self.shift)?)
    }
}
