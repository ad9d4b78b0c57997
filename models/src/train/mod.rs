//! Training: Adam with clipping, the plateau schedule, and checkpointed runs.

pub mod adam;
pub mod fast;
pub mod plateau;
pub mod trainer;
pub mod validation;

pub use trainer::{Backend, Half, StepReport, TrainSettings, Trainer};

/// Default limit of the fast path's buffers (both threads), in MiB.
pub const FAST_MEMORY_MB: usize = 3000;
pub use validation::Validation;
