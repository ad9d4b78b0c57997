//! The engines of one weight file, whichever kind it holds: a knowledge-boosting
//! pair (small model merging late hints, large model computing them) or a
//! single model run alone (no hints).

use super::{
    boost::{HintFrame, LargeEngine, SmallEngine},
    gridnet::GridNetEngine,
    pair::BoostedPair,
    tensors::TensorSource,
};
use crate::{
    config::{ModelConfig, WeightsConfig},
    error::Result,
    kernels::Kernels,
    weight_file::WeightFile,
};

/// The model that runs on the audio thread.
#[derive(Debug)]
pub enum FrontEngine {
    /// A pair's small model, merging the large model's late hints.
    Small(Box<SmallEngine>),
    /// A single model alone.
    Single(Box<GridNetEngine>),
}

impl FrontEngine {
    /// The configuration of the model that runs.
    pub fn config(&self) -> &ModelConfig {
        match self {
            Self::Small(s) => &s.config().small,
            Self::Single(m) => m.config(),
        }
    }

    /// The trained hint delay C in chunks; None for a single model (it takes no hints).
    pub fn delay(&self) -> Option<usize> {
        match self {
            Self::Small(s) => Some(s.config().delay),
            Self::Single(_) => None,
        }
    }

    /// Conditions the model on the speaker `embedding` (target extraction). Allocates nothing.
    pub fn set_speaker(&mut self, embedding: &[f32]) -> Result<()> {
        match self {
            Self::Small(s) => s.set_speaker(embedding),
            Self::Single(m) => m.set_speaker(embedding),
        }
    }

    /// Clears every state (a new stream).
    pub fn reset(&mut self) {
        match self {
            Self::Small(s) => s.reset(),
            Self::Single(m) => m.reset(),
        }
    }

    /// Starts the stream with `samples` [M, pad] in the lookahead.
    pub fn prime(&mut self, samples: &[f32]) -> Result<()> {
        match self {
            Self::Small(s) => s.prime(samples),
            Self::Single(m) => m.prime(samples),
        }
    }

    /// One chunk: `input` [M, 128] -> `out` [S, M, 128]; `hint` (the frame of
    /// chunk k - C, None when it did not arrive) is ignored by a single model.
    pub fn process(
        &mut self,
        input: &[f32],
        hint: Option<&HintFrame>,
        out: &mut [f32],
    ) -> Result<()> {
        match self {
            Self::Small(s) => s.process(input, hint, out),
            Self::Single(m) => m.process(input, None, out),
        }
    }
}

/// All engines of one weight file, run on one thread (evaluation, warming); the
/// plugin splits them with [`Engines::into_parts`].
#[derive(Debug)]
pub enum Engines {
    /// A knowledge-boosting pair.
    Pair(Box<BoostedPair>),
    /// A single model.
    Single(Box<GridNetEngine>),
}

impl Engines {
    /// Builds the engines a weight file holds.
    pub fn from_weights(w: &WeightFile, kernels: Kernels) -> Result<Self> {
        Ok(match &w.config {
            WeightsConfig::Joint(_) => Self::Pair(Box::new(BoostedPair::from_weights(w, kernels)?)),
            WeightsConfig::Single(cfg) => {
                let src = TensorSource::new(&w.tensors, "");
                Self::Single(Box::new(GridNetEngine::load(&src, cfg, None, kernels)?))
            }
        })
    }

    /// The configuration of the model whose output is heard (a pair's small model).
    pub fn config(&self) -> &ModelConfig {
        match self {
            Self::Pair(p) => &p.config().small,
            Self::Single(m) => m.config(),
        }
    }

    /// The trained hint delay C in chunks; None for a single model.
    pub fn delay(&self) -> Option<usize> {
        match self {
            Self::Pair(p) => Some(p.config().delay),
            Self::Single(_) => None,
        }
    }

    /// Conditions every model on the speaker `embedding` (target extraction). Allocates nothing.
    pub fn set_speaker(&mut self, embedding: &[f32]) -> Result<()> {
        match self {
            Self::Pair(p) => p.set_speaker(embedding),
            Self::Single(m) => m.set_speaker(embedding),
        }
    }

    /// Clears every state and pending hint (a new stream).
    pub fn reset(&mut self) {
        match self {
            Self::Pair(p) => p.reset(),
            Self::Single(m) => m.reset(),
        }
    }

    /// One chunk: `input` [M, 128] -> `out` [S, M, 128]; a pair merges the hint
    /// of chunk k - C when `boost` is on.
    pub fn process(&mut self, input: &[f32], boost: bool, out: &mut [f32]) -> Result<()> {
        match self {
            Self::Pair(p) => p.process(input, boost, out),
            Self::Single(m) => m.process(input, None, out),
        }
    }

    /// The audio thread's model and, for a pair, the large engine another thread runs.
    pub fn into_parts(self) -> (FrontEngine, Option<LargeEngine>) {
        match self {
            Self::Pair(p) => {
                let (small, large) = p.into_engines();
                (FrontEngine::Small(Box::new(small)), Some(large))
            }
            Self::Single(m) => (FrontEngine::Single(m), None),
        }
    }
}
