//! What can go wrong when loading the encoder or embedding a voice.

/// The speaker encoder's errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A weight file that cannot be used, with the reason.
    #[error("speaker encoder weights {path}: {msg}")]
    Weights {
        /// The file.
        path: String,
        /// What is wrong.
        msg: String,
    },
    /// An utterance that cannot be embedded, with the reason.
    #[error("cannot embed this voice: {0}")]
    Input(String),
    /// A checkpoint that cannot be imported, with the reason.
    #[error("cannot import {path}: {msg}")]
    Import {
        /// The checkpoint.
        path: String,
        /// What is wrong.
        msg: String,
    },
}

/// Result with the speaker encoder's error.
pub type Result<T> = std::result::Result<T, Error>;
