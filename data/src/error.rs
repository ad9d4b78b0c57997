//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while building or reading a corpus.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An audio file could not be decoded.
    #[error("{path}: cannot decode audio: {reason}")]
    Decode {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A folder held no audio that could be used.
    #[error("{path}: no usable audio found ({reason})")]
    NoAudio {
        /// The folder.
        path: PathBuf,
        /// What was looked for and what was skipped.
        reason: String,
    },
    /// A SOFA file could not be read.
    #[error("{path}: cannot read SOFA file: {reason}")]
    Sofa {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A JSON file (index or meta) could not be read or written.
    #[error("{path}: bad JSON: {reason}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// An external command (apt-get, dpkg) failed.
    #[error("`{command}` failed: {reason}")]
    Command {
        /// The command line.
        command: String,
        /// What went wrong.
        reason: String,
    },
    /// The pools cannot serve the request (too few talkers, no noise, ...).
    #[error("{0}")]
    Pool(String),
    /// An argument was out of range or malformed.
    #[error("{0}")]
    Invalid(String),
}

/// Result with the crate's error type.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
