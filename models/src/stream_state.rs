//! Streaming state: every buffer a model carries from one call to the next.

use candle_core::Tensor;

use crate::{
    delay::DelayLine, level::LevelTracker, lstm::LstmState, speaker_film::SpeakerCondition,
    window_attention::KvCache,
};

/// State of one GridNet block.
#[derive(Debug, Clone)]
pub struct BlockState {
    /// Inter-frame LSTM (h, c) of every bin, [B * F, H].
    pub inter: LstmState,
    /// Self-attention keys and values of the last window - 1 frames (large model).
    pub attention: Option<KvCache>,
}

/// State of one merge module.
#[derive(Debug, Clone)]
pub struct MergeState {
    /// Alignment: the small model's last C block outputs, [B, C, F, D].
    pub align: DelayLine,
    /// Cross-attention keys and values of the last V - 1 merged frames.
    pub context: KvCache,
}

/// State of one TF-GridNet.
#[derive(Debug, Clone)]
pub struct GridNetState {
    /// Running input level of every stream (empty without level normalisation).
    pub level: Vec<LevelTracker>,
    /// Input conv: last 2 feature frames [B, 2M, 2, F].
    pub conv: Tensor,
    /// Per block.
    pub blocks: Vec<BlockState>,
    /// Per merge module (small model of a joint pair only).
    pub merges: Vec<MergeState>,
    /// Per speaker FiLM: the enrolled speakers' scale and shift (empty until conditioned).
    pub speaker: Vec<SpeakerCondition>,
    /// Output deconv: last 2 block-output frames [B, D, 2, F].
    pub deconv: Tensor,
    /// iSTFT: weighted tail of the last frame [B, S * M, pad].
    pub istft: Tensor,
}

/// State of a knowledge-boosting pair.
#[derive(Debug, Clone)]
pub struct JointState {
    /// The small model's state.
    pub small: GridNetState,
    /// The large model's state.
    pub large: GridNetState,
    /// Compression conv: last 2 raw hint frames [B, 2SM, 2, F].
    pub compress: Tensor,
    /// Hint link: the last C compressed frames [B, C, F, 2SM / P].
    pub link: DelayLine,
}
