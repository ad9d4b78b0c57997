//! The real-time engine: the same models as the candle code, one 128-sample
//! chunk at a time, with zero heap allocation and no locks per chunk. Every
//! buffer is sized at construction from the configuration; weights come from
//! the same weight files, rearranged so inner loops run over contiguous memory.

pub mod attention;
pub mod block;
pub mod boost;
pub mod conv;
pub mod dense;
pub mod front;
pub mod gridnet;
pub mod hint_ring;
pub mod lstm;
pub mod merge;
pub mod pair;
pub mod speaker_film;
pub mod spectral;
pub mod tensors;

pub use crate::kernels::{KernelPath, Kernels};
pub use boost::{HintFrame, LargeEngine, SmallEngine};
pub use front::{Engines, FrontEngine};
pub use gridnet::GridNetEngine;
pub use hint_ring::{hint_source, HintRing};
pub use pair::BoostedPair;
