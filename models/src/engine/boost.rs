//! The two engines of a knowledge-boosting pair and the hint frame between them.

use super::{conv::Conv3x3, gridnet::GridNetEngine, tensors::TensorSource};
use crate::kernels::Kernels;
use crate::{
    config::{JointConfig, WeightsConfig},
    error::{Error, Result},
    weight_file::WeightFile,
};

/// One compressed hint frame [F, C'] with the index of the chunk it was computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct HintFrame {
    /// Index of the input chunk this hint describes.
    pub index: u64,
    /// Values, bin-major [F, C'].
    pub data: Vec<f32>,
}

impl HintFrame {
    /// A zero hint sized for `cfg`.
    pub fn new(cfg: &JointConfig) -> Self {
        Self {
            index: 0,
            data: vec![0.0; cfg.small.freqs() * cfg.hint_channels()],
        }
    }
}

fn joint_config(w: &WeightFile) -> Result<&JointConfig> {
    match &w.config {
        WeightsConfig::Joint(c) => Ok(c),
        WeightsConfig::Single(_) => Err(Error::Config(
            "a boosting engine needs a joint weight file".into(),
        )),
    }
}

/// The small model of a pair: runs on the audio thread and merges late hints.
#[derive(Debug)]
pub struct SmallEngine {
    model: GridNetEngine,
    cfg: JointConfig,
}

impl SmallEngine {
    /// Builds from a joint weight file's tensors.
    pub fn from_weights(w: &WeightFile, kernels: Kernels) -> Result<Self> {
        let cfg = joint_config(w)?.clone();
        let src = TensorSource::new(&w.tensors, "small");
        Ok(Self {
            model: GridNetEngine::load(&src, &cfg.small, Some(&cfg), kernels)?,
            cfg,
        })
    }

    /// The pair's configuration.
    pub fn config(&self) -> &JointConfig {
        &self.cfg
    }

    /// Conditions the small model on the speaker `embedding` (target extraction). Allocates nothing.
    pub fn set_speaker(&mut self, embedding: &[f32]) -> Result<()> {
        self.model.set_speaker(embedding)
    }

    /// Clears every state (a new stream).
    pub fn reset(&mut self) {
        self.model.reset();
    }

    /// Starts the stream with `samples` [M, pad] in the lookahead (see [`GridNetEngine::prime`]).
    pub fn prime(&mut self, samples: &[f32]) -> Result<()> {
        self.model.prime(samples)
    }

    /// One chunk: `input` [M, 128] channel-major -> `out` [S, M, 128]; `hint` is
    /// the frame computed C chunks ago, or None when it did not arrive (zero hint).
    pub fn process(
        &mut self,
        input: &[f32],
        hint: Option<&HintFrame>,
        out: &mut [f32],
    ) -> Result<()> {
        self.model
            .process(input, hint.map(|h| h.data.as_slice()), out)
    }
}

/// The large model of a pair with its hint compression: runs on a background thread.
#[derive(Debug)]
pub struct LargeEngine {
    model: GridNetEngine,
    compress: Conv3x3,
    cfg: JointConfig,
    chunks: u64,
}

impl LargeEngine {
    /// Builds from a joint weight file's tensors.
    pub fn from_weights(w: &WeightFile, kernels: Kernels) -> Result<Self> {
        let cfg = joint_config(w)?.clone();
        let src = TensorSource::new(&w.tensors, "large");
        Ok(Self {
            model: GridNetEngine::load(&src, &cfg.large, None, kernels)?,
            compress: Conv3x3::load(
                &TensorSource::new(&w.tensors, "compress"),
                cfg.large.out_channels(),
                cfg.hint_channels(),
                cfg.large.freqs(),
            )?,
            cfg,
            chunks: 0,
        })
    }

    /// The pair's configuration.
    pub fn config(&self) -> &JointConfig {
        &self.cfg
    }

    /// Conditions the large model on the speaker `embedding` (target extraction). Allocates nothing.
    pub fn set_speaker(&mut self, embedding: &[f32]) -> Result<()> {
        self.model.set_speaker(embedding)
    }

    /// Clears every state (a new stream); chunk indices restart at 0.
    pub fn reset(&mut self) {
        self.model.reset();
        self.compress.reset();
        self.chunks = 0;
    }

    /// Starts the stream with `samples` [M, pad] in the lookahead (see [`GridNetEngine::prime`]).
    pub fn prime(&mut self, samples: &[f32]) -> Result<()> {
        self.model.prime(samples)
    }

    /// One chunk: `input` [M, 128] channel-major -> the compressed hint of this chunk.
    pub fn process(&mut self, input: &[f32], hint_out: &mut HintFrame) -> Result<()> {
        if hint_out.data.len() != self.cfg.small.freqs() * self.cfg.hint_channels() {
            return Err(Error::Input("hint frame of the wrong size".into()));
        }
        let kernels = *self.model.kernels();
        let spectrum = self.model.process_spectrum(input, None)?;
        self.compress
            .forward(&kernels, spectrum, &mut hint_out.data);
        hint_out.index = self.chunks;
        self.chunks += 1;
        Ok(())
    }
}
