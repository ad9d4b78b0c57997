//! knowledge-boost models: a causal TF-GridNet and the knowledge-boosting joint
//! model (Srinivas et al., Interspeech 2024) in candle, runnable over whole
//! utterances for training and frame by frame with explicit streaming state.

pub mod activation;
pub mod compression;
pub mod config;
pub mod conv;
pub mod cross_attention;
pub mod delay;
pub mod engine;
pub mod error;
pub mod film;
pub mod gridnet_block;
pub mod head_layout;
pub mod head_maps;
pub mod joint;
pub mod kernels;
pub mod level;
pub mod linear;
pub mod lstm;
pub mod lstm_op;
pub mod merge;
pub mod metrics;
pub mod norm;
pub mod params;
pub mod reference;
pub mod schema;
pub mod self_attention;
pub mod stft;
pub mod stream_state;
pub mod tfgridnet;
pub mod trace;
pub mod train;
pub mod weights;
pub mod window;
pub mod window_attention;

pub use config::{
    AttentionConfig, JointConfig, ModelConfig, WeightsConfig, CHUNK, LOOKAHEAD, SAMPLE_RATE,
};
pub use error::{Error, Result};
pub use joint::{JointModel, JointOutput};
pub use params::SeededParams;
pub use tfgridnet::{ModelOutput, TfGridNet};
