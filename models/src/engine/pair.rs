//! A knowledge-boosting pair run in one place: both engines and the hints between them.

use super::{
    boost::{LargeEngine, SmallEngine},
    hint_ring::HintRing,
};
use crate::{config::JointConfig, error::Result, kernels::Kernels, weight_file::WeightFile};

/// The small and large engines of one weight file and the ring of pending
/// hints, for callers that run both on one thread (evaluation, tests, bench);
/// the plugin splits it with [`BoostedPair::into_engines`].
#[derive(Debug)]
pub struct BoostedPair {
    small: SmallEngine,
    large: LargeEngine,
    ring: HintRing,
}

impl BoostedPair {
    /// Builds both engines from a joint weight file's tensors.
    pub fn from_weights(w: &WeightFile, kernels: Kernels) -> Result<Self> {
        let small = SmallEngine::from_weights(w, kernels)?;
        let large = LargeEngine::from_weights(w, kernels)?;
        let ring = HintRing::new(small.config());
        Ok(Self { small, large, ring })
    }

    /// The pair's configuration.
    pub fn config(&self) -> &JointConfig {
        self.small.config()
    }

    /// Conditions both models on the speaker `embedding` (target extraction). Allocates nothing.
    pub fn set_speaker(&mut self, embedding: &[f32]) -> Result<()> {
        self.small.set_speaker(embedding)?;
        self.large.set_speaker(embedding)
    }

    /// Clears both engines and every pending hint (a new stream).
    pub fn reset(&mut self) {
        self.small.reset();
        self.large.reset();
        self.ring.reset();
    }

    /// Starts the stream with `samples` [M, pad] in both engines' lookahead.
    pub fn prime(&mut self, samples: &[f32]) -> Result<()> {
        self.small.prime(samples)?;
        self.large.prime(samples)
    }

    /// One chunk: `input` [M, 128] -> `out` [S, M, 128]. The large engine's
    /// hint of this chunk joins the ring, and the small engine merges the hint
    /// of chunk k - C (none in the first C chunks, or when `boost` is off).
    pub fn process(&mut self, input: &[f32], boost: bool, out: &mut [f32]) -> Result<()> {
        self.large.process(input, self.ring.slot())?;
        let due = self.ring.advance().filter(|_| boost);
        self.small.process(input, due, out)
    }

    /// The two engines, for a caller that runs the large one on another thread.
    pub fn into_engines(self) -> (SmallEngine, LargeEngine) {
        (self.small, self.large)
    }
}
