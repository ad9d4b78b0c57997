//! Endless, seeded, on-the-fly mixtures for training.

use std::sync::Arc;

use crate::mixture::{draw, MixConfig, Mixture, Selection, Task};
use crate::pools::Pools;
use crate::split::Split;
use crate::Result;

/// Settings of a sampler (the drawing ranges).
pub type SamplerConfig = MixConfig;

/// Draws mixture after mixture from the pools: mixture `i` depends only on
/// `(seed, i)`, so a sampler can be restarted at any index or shared across workers.
pub struct MixtureSampler {
    pools: Arc<Pools>,
    selection: Selection,
    task: Task,
    split: Split,
    seed: u64,
    config: SamplerConfig,
    next_index: u64,
}

impl MixtureSampler {
    /// A sampler with the default ranges (4 s mixtures, RT60 0.1 to 0.8 s, ...).
    pub fn new(pools: Arc<Pools>, task: Task, split: Split, seed: u64) -> Result<Self> {
        Self::with_config(pools, task, split, seed, SamplerConfig::default())
    }

    /// A sampler with explicit ranges.
    pub fn with_config(
        pools: Arc<Pools>,
        task: Task,
        split: Split,
        seed: u64,
        config: SamplerConfig,
    ) -> Result<Self> {
        pools.check()?;
        let selection = Selection::new(&pools, task, split);
        selection.check(task, split)?;
        config.check()?;
        Ok(MixtureSampler {
            pools,
            selection,
            task,
            split,
            seed,
            config,
            next_index: 0,
        })
    }

    /// Mixture number `index` of this sampler's sequence.
    pub fn get(&self, index: u64) -> Mixture {
        draw(
            &self.pools,
            &self.selection,
            self.task,
            self.split,
            self.seed,
            index,
            &self.config,
        )
        .expect("the selection was checked when the sampler was built")
    }

    /// Index of the mixture the next call to `next` returns.
    pub fn position(&self) -> u64 {
        self.next_index
    }

    /// Task of the mixtures.
    pub fn task(&self) -> Task {
        self.task
    }

    /// Split the clips come from.
    pub fn split(&self) -> Split {
        self.split
    }
}

impl Iterator for MixtureSampler {
    type Item = Mixture;

    fn next(&mut self) -> Option<Mixture> {
        let m = self.get(self.next_index);
        self.next_index += 1;
        Some(m)
    }
}
