//! Extract mode's enrolled voice: the embedding persisted with the plugin's
//! state, and the desk through which the editor asks the voice thread to learn
//! one and reads back its progress and the live similarity of the input.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering::Relaxed};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

pub use kb_speaker::EMBEDDING;

/// The most input "Learn voice" records, in seconds (the 10 s).
pub const LEARN_SECONDS: f64 = 10.0;
/// The longest enrollment WAV read, in seconds (longer files use their start).
pub const WAV_SECONDS: f64 = 30.0;

/// An enrolled voice, persisted with the plugin's state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Enrollment {
    /// The speaker embedding (256 values of unit length), or None.
    pub embedding: Option<Vec<f32>>,
    /// Where it came from, as the editor shows it.
    pub source: String,
}

impl Enrollment {
    /// The embedding when it is usable: the encoder's width, finite, not all zero.
    pub fn embedding(&self) -> Option<&[f32]> {
        self.embedding.as_deref().filter(|e| {
            e.len() == EMBEDDING && e.iter().all(|v| v.is_finite()) && e.iter().any(|&v| v != 0.0)
        })
    }
}

/// What the voice thread is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// Waiting.
    Idle,
    /// Recording the input for "Learn voice".
    Learning,
    /// Computing an embedding.
    Embedding,
}

/// A request from the editor to the voice thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Nothing asked.
    None,
    /// Start recording the input.
    Learn,
    /// Stop recording and enroll what was recorded.
    Finish,
    /// Stop recording and keep the voice enrolled before.
    Cancel,
}

impl Command {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::Learn,
            2 => Self::Finish,
            3 => Self::Cancel,
            _ => Self::None,
        }
    }
}

/// Shared by the editor and the voice thread (never touched by the audio thread).
#[derive(Debug, Default)]
pub struct VoiceDesk {
    command: AtomicU8,
    wav: Mutex<Option<String>>,
    activity: AtomicU8,
    recorded_ms: AtomicU32,
    similarity: AtomicU32,
    has_similarity: AtomicBool,
    /// True while an editor is open (the live similarity is measured only then).
    pub editor_open: AtomicBool,
    message: Mutex<String>,
}

impl VoiceDesk {
    /// Asks the voice thread for `c` (replaces an unread request).
    pub fn ask(&self, c: Command) {
        self.command.store(c as u8, Relaxed);
    }

    /// Takes the pending request.
    pub fn take_command(&self) -> Command {
        Command::from_u8(self.command.swap(Command::None as u8, Relaxed))
    }

    /// Asks the voice thread to enroll the voice in the WAV file at `path`.
    pub fn ask_wav(&self, path: String) {
        *self.wav.lock() = Some(path);
    }

    /// Takes the pending WAV request.
    pub fn take_wav(&self) -> Option<String> {
        self.wav.lock().take()
    }

    /// What the voice thread is doing.
    pub fn activity(&self) -> Activity {
        match self.activity.load(Relaxed) {
            1 => Activity::Learning,
            2 => Activity::Embedding,
            _ => Activity::Idle,
        }
    }

    /// Publishes what the voice thread is doing.
    pub fn set_activity(&self, a: Activity) {
        self.activity.store(a as u8, Relaxed);
    }

    /// Seconds of input recorded by "Learn voice" so far.
    pub fn recorded_seconds(&self) -> f64 {
        f64::from(self.recorded_ms.load(Relaxed)) / 1000.0
    }

    /// Publishes the seconds recorded so far.
    pub fn set_recorded_seconds(&self, s: f64) {
        self.recorded_ms.store((s * 1000.0) as u32, Relaxed);
    }

    /// Cosine similarity of the latest input to the enrolled voice (None: no
    /// voice, no speech, or no editor open).
    pub fn similarity(&self) -> Option<f32> {
        self.has_similarity
            .load(Relaxed)
            .then(|| f32::from_bits(self.similarity.load(Relaxed)))
    }

    /// Publishes the live similarity.
    pub fn set_similarity(&self, s: Option<f32>) {
        if let Some(v) = s {
            self.similarity.store(v.to_bits(), Relaxed);
        }
        self.has_similarity.store(s.is_some(), Relaxed);
    }

    /// The voice thread's latest outcome (an enrollment made or refused), or empty.
    pub fn message(&self) -> String {
        self.message.lock().clone()
    }

    /// Publishes an outcome.
    pub fn set_message(&self, m: impl Into<String>) {
        *self.message.lock() = m.into();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only a finite, non-zero embedding of the encoder's width conditions a model.
    #[test]
    fn only_a_well_formed_embedding_is_usable() {
        let mut e = Enrollment::default();
        assert!(e.embedding().is_none());
        let unit = {
            let mut v = vec![0.0; EMBEDDING];
            v[3] = 1.0;
            v
        };
        e.embedding = Some(unit.clone());
        assert_eq!(e.embedding(), Some(&unit[..]));
        e.embedding = Some(vec![1.0; EMBEDDING - 1]);
        assert!(e.embedding().is_none(), "wrong width");
        let mut nan = unit.clone();
        nan[0] = f32::NAN;
        e.embedding = Some(nan);
        assert!(e.embedding().is_none(), "not finite");
        e.embedding = Some(vec![0.0; EMBEDDING]);
        assert!(e.embedding().is_none(), "all zero");
    }

    /// A request is read once; the similarity reads back what was published.
    #[test]
    fn the_desk_hands_each_request_over_once() {
        let d = VoiceDesk::default();
        assert_eq!(d.take_command(), Command::None);
        d.ask(Command::Learn);
        assert_eq!(d.take_command(), Command::Learn);
        assert_eq!(d.take_command(), Command::None);
        d.ask_wav("a.wav".into());
        assert_eq!(d.take_wav().as_deref(), Some("a.wav"));
        assert_eq!(d.take_wav(), None);
        assert_eq!(d.similarity(), None);
        d.set_similarity(Some(0.75));
        assert_eq!(d.similarity(), Some(0.75));
        d.set_similarity(None);
        assert_eq!(d.similarity(), None);
    }
}
