//! The fast training path: hand-written forward and backward passes of the
//! whole TF-GridNet on flat parameter buffers, with every activation and
//! gradient in buffers sized once per batch shape and the batch split over
//! two threads. candle autograd (the rest of [`crate::train`]) is the
//! readable reference that the gradient tests check this path against.

pub mod activation;
pub mod adam;
pub mod attention;
pub mod block;
pub mod conv;
pub mod gridnet;
pub mod joint;
pub mod layout;
pub mod linear;
pub mod loss;
pub mod lstm;
pub mod merge;
pub mod norm;
pub mod pair;
pub mod speaker_film;
pub mod spectral;

pub use adam::FlatAdam;

/// Floats held by `buffers` together.
pub(crate) fn floats(buffers: &[&Vec<f32>]) -> usize {
    buffers.iter().map(|v| v.len()).sum()
}
pub use gridnet::{FastGridNet, Workspace};
pub use joint::{FastModel, MemoryPlan, ModelWorkspace};
pub use layout::ParamLayout;
pub use pair::{FastStep, Footprint};
