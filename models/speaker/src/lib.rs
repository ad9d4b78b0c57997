//! Speaker embeddings for target-talker extraction: Resemblyzer's d-vector
//! encoder (a three-layer LSTM over a 40-band power mel spectrogram, 256-d
//! L2-normalised output) ported to Rust and checked against the package's own
//! output (`tests/golden/`).
//!
//! [`SpeakerEncoder`] allocates only when it is built: it embeds any
//! utterance up to the length it was built for, off the audio thread.

pub mod encoder;
pub mod error;
#[cfg(feature = "import")]
pub mod import;
pub mod lstm;
pub mod mel;
pub mod partials;
pub mod trim;
pub mod weights;

pub use encoder::SpeakerEncoder;
pub use error::{Error, Result};
pub use weights::EncoderWeights;

/// Sample rate of the encoder's input in Hz.
pub const SAMPLE_RATE: usize = 16_000;
/// Mel analysis window in samples (25 ms).
pub const N_FFT: usize = 400;
/// Mel analysis hop in samples (10 ms).
pub const HOP: usize = 160;
/// Mel bands.
pub const MELS: usize = 40;
/// Mel frames in one partial utterance (1.6 s).
pub const PARTIAL_FRAMES: usize = 160;
/// Width of the LSTM's hidden state.
pub const HIDDEN: usize = 256;
/// Stacked LSTM layers.
pub const LAYERS: usize = 3;
/// Length of an embedding.
pub const EMBEDDING: usize = 256;
/// A speaker embedding: non-negative, unit length.
pub type Embedding = [f32; EMBEDDING];

/// Cosine similarity of two embeddings (their dot product: both have unit length).
pub fn similarity(a: &Embedding, b: &Embedding) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
