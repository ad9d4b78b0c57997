//! Model and joint-model configurations, with the paper's presets.

use serde::{Deserialize, Serialize};

use crate::{
    error::{Error, Result},
    level::LevelConfig,
};

/// Side of the 2-D input and output convolutions' kernels (3 x 3: time x frequency).
pub const CONV_KERNEL: usize = 3;

/// Sample rate every model runs at.
pub const SAMPLE_RATE: usize = 16_000;

/// Samples per ear in one chunk (the STFT hop) of every preset: 8 ms at 16 kHz.
pub const CHUNK: usize = 128;

/// Lookahead of every preset in samples (window = chunk + lookahead): 4 ms at 16 kHz.
pub const LOOKAHEAD: usize = 64;

/// Width of the speaker embedding that conditions the target-extraction
/// models (a Resemblyzer d-vector, `kb-speaker`).
pub const SPEAKER_DIM: usize = 256;

/// Causal local self-attention settings of one TF-GridNet (the large model's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttentionConfig {
    /// Number of heads L.
    pub heads: usize,
    /// Window in frames, including the current one.
    pub window: usize,
}

/// Shape of one causal TF-GridNet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Hop and chunk length in samples.
    pub chunk: usize,
    /// Lookahead in samples (window length is chunk + pad).
    pub pad: usize,
    /// Number of ears (input and output channels) M.
    pub ears: usize,
    /// Number of separated sources S.
    pub sources: usize,
    /// Embedding width D.
    pub d: usize,
    /// Number of GridNet blocks B.
    pub blocks: usize,
    /// LSTM hidden size H.
    pub hidden: usize,
    /// Local self-attention, or none.
    pub attention: Option<AttentionConfig>,
    /// Causal input-level normalisation, or none (weights from before it have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<LevelConfig>,
    /// Width of the speaker embedding that scales and shifts the features
    /// after every block but the last (target extraction), or none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<usize>,
}

impl ModelConfig {
    fn preset(d: usize, hidden: usize, attention: Option<AttentionConfig>, sources: usize) -> Self {
        Self {
            chunk: CHUNK,
            pad: LOOKAHEAD,
            ears: 2,
            sources,
            d,
            blocks: 3,
            hidden,
            attention,
            level: None,
            speaker: None,
        }
    }

    /// The same model with causal input-level normalisation `level`.
    pub fn with_level(mut self, level: Option<LevelConfig>) -> Self {
        self.level = level;
        self
    }

    /// The same model conditioned on a speaker embedding of `speaker` values (target extraction).
    pub fn with_speaker(mut self, speaker: Option<usize>) -> Self {
        self.speaker = speaker;
        self
    }

    /// The paper's small on-device model (SM): D16 H16, no attention.
    pub fn small(sources: usize) -> Self {
        Self::preset(16, 16, None, sources)
    }

    /// The paper's medium baseline (MM): D26 H18, no attention.
    pub fn medium(sources: usize) -> Self {
        Self::preset(26, 18, None, sources)
    }

    /// The paper's large hint model (BM): D64 H64, 8 heads, window 50.
    pub fn large(sources: usize) -> Self {
        let attention = AttentionConfig {
            heads: 8,
            window: 50,
        };
        Self::preset(64, 64, Some(attention), sources)
    }

    /// The large hint model at the size two CPU cores train in the shipped budget: D32 H32, 4 heads, window 50.
    pub fn large_cpu(sources: usize) -> Self {
        let attention = AttentionConfig {
            heads: 4,
            window: 50,
        };
        Self::preset(32, 32, Some(attention), sources)
    }

    /// A tiny model for fast tests: D8 H8, no attention.
    pub fn tiny(sources: usize) -> Self {
        Self::preset(8, 8, None, sources)
    }

    /// A tiny model with attention for fast tests: D16 H16, 4 heads, window 50.
    pub fn tiny_attention(sources: usize) -> Self {
        let attention = AttentionConfig {
            heads: 4,
            window: 50,
        };
        Self::preset(16, 16, Some(attention), sources)
    }

    /// Looks a preset up by name (`small`, `medium`, `large`, `large_cpu`, `tiny`, `tiny_attention`).
    pub fn by_name(name: &str, sources: usize) -> Result<Self> {
        Ok(match name {
            "small" => Self::small(sources),
            "medium" => Self::medium(sources),
            "large" => Self::large(sources),
            "large_cpu" => Self::large_cpu(sources),
            "tiny" => Self::tiny(sources),
            "tiny_attention" => Self::tiny_attention(sources),
            _ => return Err(Error::Config(format!("unknown model preset `{name}`"))),
        })
    }

    /// FFT and window length in samples.
    pub fn n_fft(&self) -> usize {
        self.chunk + self.pad
    }

    /// Number of frequency bins F.
    pub fn freqs(&self) -> usize {
        self.n_fft() / 2 + 1
    }

    /// Input feature channels: real and imaginary part of every ear.
    pub fn in_channels(&self) -> usize {
        2 * self.ears
    }

    /// Output spectrum channels: real and imaginary part of every source and ear.
    pub fn out_channels(&self) -> usize {
        2 * self.sources * self.ears
    }

    /// Algorithmic latency in samples (chunk + lookahead).
    pub fn latency_samples(&self) -> usize {
        self.chunk + self.pad
    }

    /// Checks the shape is one the model can be built with.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::Config(m.to_string()));
        if self.chunk == 0 || self.pad > self.chunk {
            return bad("chunk must be positive and pad at most one chunk");
        }
        if self.ears == 0
            || self.sources == 0
            || self.d == 0
            || self.blocks == 0
            || self.hidden == 0
        {
            return bad("ears, sources, d, blocks and hidden must be positive");
        }
        if self.speaker == Some(0) {
            return bad("a speaker embedding needs at least one value");
        }
        if let Some(a) = self.attention {
            if a.heads == 0 || a.window == 0 || !self.d.is_multiple_of(a.heads) {
                return bad("attention needs heads dividing d and a positive window");
            }
        }
        Ok(())
    }
}

/// The knowledge-boosting pair: small model, large model and the hint link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JointConfig {
    /// The on-device model that receives hints.
    pub small: ModelConfig,
    /// The model that sends hints.
    pub large: ModelConfig,
    /// Hint delay C in chunks.
    pub delay: usize,
    /// Compression ratio P of the hint channels.
    pub compression: usize,
    /// Cross-attention context V in frames, including the current one.
    pub context: usize,
    /// Heads of the merge modules' cross-attention.
    pub merge_heads: usize,
}

impl JointConfig {
    /// The paper's pairing of the small and large presets for `sources` sources.
    pub fn paper(sources: usize, delay: usize, compression: usize) -> Self {
        Self {
            small: ModelConfig::small(sources),
            large: ModelConfig::large(sources),
            delay,
            compression,
            context: 50,
            merge_heads: 4,
        }
    }

    /// The tiny pairing of the authors' golden vectors (small D8, large D16 with attention).
    pub fn tiny(sources: usize, delay: usize, compression: usize) -> Self {
        Self {
            small: ModelConfig::tiny(sources),
            large: ModelConfig::tiny_attention(sources),
            delay,
            compression,
            context: 50,
            merge_heads: 4,
        }
    }

    /// Channels of one compressed hint frame.
    pub fn hint_channels(&self) -> usize {
        self.large.out_channels() / self.compression
    }

    /// Checks both models and the link agree.
    pub fn validate(&self) -> Result<()> {
        self.small.validate()?;
        self.large.validate()?;
        let bad = |m: String| Err(Error::Config(m));
        if self.small.chunk != self.large.chunk
            || self.small.pad != self.large.pad
            || self.small.ears != self.large.ears
        {
            return bad("small and large models must share chunk, pad and ears".into());
        }
        if self.small.level != self.large.level {
            return bad("small and large models must normalise the input level alike".into());
        }
        if self.small.speaker != self.large.speaker {
            return bad("small and large models must take the same speaker embedding".into());
        }
        if self.compression == 0 || !self.large.out_channels().is_multiple_of(self.compression) {
            return bad(format!(
                "compression {} must divide the {} hint channels",
                self.compression,
                self.large.out_channels()
            ));
        }
        if self.context == 0
            || self.merge_heads == 0
            || !self.small.d.is_multiple_of(self.merge_heads)
        {
            return bad(
                "merge context must be positive and merge heads must divide the small d".into(),
            );
        }
        Ok(())
    }
}

/// What a weight file holds: one TF-GridNet or a joint pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WeightsConfig {
    /// A single TF-GridNet (SM, MM or LM baseline).
    Single(ModelConfig),
    /// A knowledge-boosting pair.
    Joint(JointConfig),
}

impl WeightsConfig {
    /// Serialises to JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("configs always serialise")
    }

    /// Parses from JSON.
    pub fn from_json(s: &str) -> Result<Self> {
        serde_json::from_str(s).map_err(|e| Error::Config(format!("bad model config JSON: {e}")))
    }
}
