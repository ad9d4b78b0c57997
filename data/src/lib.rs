//! Binaural speech corpora for knowledge-boost.
//!
//! Speech, noise and heads come from Debian packages (see `fetch`) or from
//! the user's own folders; rooms are rendered with an image-source model
//! filtered by head-related impulse responses plus a diffuse late tail, and
//! mixtures for separation, enhancement and target extraction are drawn on
//! the fly from a seeded generator or written as fixed sets in the paper's
//! folder layout.

pub mod activity;
pub mod background;
pub mod conv;
pub mod corpus;
pub mod decode;
pub mod error;
pub mod fetch;

pub mod g722;
pub mod heads;
pub mod hrtf;
pub mod index;
pub mod layout;
pub mod mbrola;
pub mod measured_heads;
pub mod mixture;
pub mod pcm;
pub mod pools;
pub mod render;
pub mod room;
pub mod sampler;
pub mod speed;
pub mod split;
pub mod tail;
pub mod trim;
pub mod wav;
pub mod world;

pub use error::{Error, Result};
pub use hrtf::{Head, HrirSource, SphericalHead};
pub use layout::{LayoutSample, LayoutSet};
pub use mixture::{Mixture, MixtureMeta, Target, Task};
pub use pcm::Pcm16;
pub use pools::{Clip, Pools};
pub use sampler::{MixtureSampler, SamplerConfig};
pub use split::Split;
pub use world::World;

/// Sample rate of every clip, response and mixture, in Hz.
pub const SAMPLE_RATE: u32 = 16_000;

/// Speed of sound used by the room model, in metres per second.
pub const SPEED_OF_SOUND: f64 = 343.0;
