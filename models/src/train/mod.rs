//! Training: Adam with clipping, the plateau schedule, and checkpointed runs.

pub mod adam;
pub mod fast;
pub mod plateau;
pub mod trainer;
pub mod validation;

pub use trainer::{Backend, Half, StepReport, TrainSettings, Trainer};

/// Default limit of the fast path's buffers (both threads), in MiB: every
/// preset trains without recomputing blocks (in passes where needed).
pub const FAST_MEMORY_MB: usize = 1500;
pub use validation::Validation;
