//! The crate's error type.

/// Errors from building, loading or running models.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A tensor operation failed.
    #[cfg(feature = "candle")]
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// A configuration is invalid or does not match.
    #[error("config: {0}")]
    Config(String),
    /// A weight file is missing, unreadable or does not fit the model.
    #[error("weights {path}: {msg}")]
    Weights {
        /// The file concerned.
        path: String,
        /// What is wrong with it.
        msg: String,
    },
    /// Input audio is unusable.
    #[error("input: {0}")]
    Input(String),
}

/// Result with the crate's error.
pub type Result<T> = std::result::Result<T, Error>;
