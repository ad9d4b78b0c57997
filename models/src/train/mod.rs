//! Training: Adam with clipping, the plateau schedule, and checkpointed runs.

pub mod adam;
pub mod fast;
pub mod plateau;
pub mod trainer;
pub mod validation;

pub use trainer::{Backend, StepReport, TrainSettings, Trainer};
pub use validation::Validation;
