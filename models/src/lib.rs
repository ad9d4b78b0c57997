//! knowledge-boost models: a causal TF-GridNet and the knowledge-boosting joint
//! model (Srinivas et al., Interspeech 2024) in candle, runnable over whole
//! utterances for training and frame by frame with explicit streaming state.

#[cfg(feature = "candle")]
pub mod activation;
#[cfg(feature = "candle")]
pub mod compression;
pub mod config;
#[cfg(feature = "candle")]
pub mod conv;
#[cfg(feature = "candle")]
pub mod cross_attention;
#[cfg(feature = "candle")]
pub mod delay;
pub mod engine;
pub mod error;
#[cfg(feature = "candle")]
pub mod film;
#[cfg(feature = "candle")]
pub mod gridnet_block;
pub mod head_layout;
#[cfg(feature = "candle")]
pub mod head_maps;
#[cfg(feature = "candle")]
pub mod joint;
pub mod kernels;
pub mod level;
#[cfg(feature = "candle")]
pub mod linear;
#[cfg(feature = "candle")]
pub mod lstm;
#[cfg(feature = "candle")]
pub mod lstm_op;
#[cfg(feature = "candle")]
pub mod merge;
#[cfg(feature = "candle")]
pub mod metrics;
#[cfg(feature = "candle")]
pub mod norm;
#[cfg(feature = "candle")]
pub mod params;
#[cfg(feature = "candle")]
pub mod reference;
pub mod schema;
#[cfg(feature = "candle")]
pub mod self_attention;
#[cfg(feature = "candle")]
pub mod speaker_film;
#[cfg(feature = "candle")]
pub mod stft;
#[cfg(feature = "candle")]
pub mod stream_state;
pub mod task;
#[cfg(feature = "candle")]
pub mod tfgridnet;
#[cfg(feature = "candle")]
pub mod trace;
#[cfg(feature = "candle")]
pub mod train;
pub mod weight_file;
#[cfg(feature = "candle")]
pub mod weights;
pub mod window;
#[cfg(feature = "candle")]
pub mod window_attention;

pub use config::{
    AttentionConfig, JointConfig, ModelConfig, WeightsConfig, CHUNK, LOOKAHEAD, SAMPLE_RATE,
    SPEAKER_DIM,
};
pub use error::{Error, Result};
#[cfg(feature = "candle")]
pub use joint::{JointModel, JointOutput};
#[cfg(feature = "candle")]
pub use params::SeededParams;
pub use task::Task;
#[cfg(feature = "candle")]
pub use tfgridnet::{ModelOutput, TfGridNet};
