//! The source index: every decoded clip with its talker, language, duration,
//! licence and split, plus the heads (SOFA files) available.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::split::Split;
use crate::{wav, Error, Result};

/// File name of the index inside the cache folder.
pub const INDEX_FILE: &str = "index.json";

/// One decoded speech clip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeechEntry {
    /// Decoded 16 kHz clip, relative to the index's folder.
    pub clip: String,
    /// The original file it was decoded from.
    pub source: String,
    /// Corpus (Debian package or user folder) it came from.
    pub corpus: String,
    /// Talker identifier, unique across corpora.
    pub speaker: String,
    /// Language code (`en`, `ru`, ... or `und`).
    pub language: String,
    /// Duration after trimming, in seconds.
    pub duration: f64,
    /// Licence of the recording.
    pub licence: String,
    /// Split the talker belongs to.
    pub split: Split,
}

/// One decoded noise clip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoiseEntry {
    /// Decoded 16 kHz clip, relative to the index's folder.
    pub clip: String,
    /// The original file it was decoded from.
    pub source: String,
    /// Corpus it came from.
    pub corpus: String,
    /// Duration after trimming, in seconds.
    pub duration: f64,
    /// Licence of the recording.
    pub licence: String,
    /// Split the file belongs to.
    pub split: Split,
}

/// A SOFA file of head-related impulse responses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadEntry {
    /// Path of the SOFA file, relative to the index's folder or absolute.
    pub file: String,
    /// Corpus it came from.
    pub corpus: String,
    /// Licence of the measurements.
    pub licence: String,
    /// Where the head is used (absent in older indexes: every split of both worlds).
    #[serde(default)]
    pub role: crate::measured_heads::HeadRole,
}

/// The whole index.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Index {
    /// Speech clips.
    pub speech: Vec<SpeechEntry>,
    /// Noise clips.
    pub noise: Vec<NoiseEntry>,
    /// Heads.
    pub heads: Vec<HeadEntry>,
}

impl Index {
    /// Reads an index file.
    pub fn read(path: &Path) -> Result<Index> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        serde_json::from_str(&text).map_err(|e| Error::Json {
            path: path.into(),
            reason: e.to_string(),
        })
    }

    /// Writes the index atomically; returns false (and writes nothing) when the file already holds it.
    pub fn write(&self, path: &Path) -> Result<bool> {
        let text = serde_json::to_string_pretty(self).map_err(|e| Error::Json {
            path: path.into(),
            reason: e.to_string(),
        })? + "\n";
        if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
            return Ok(false);
        }
        wav::write_bytes(path, text.as_bytes())?;
        Ok(true)
    }

    /// Resolves a path stored in the index against the index's folder.
    pub fn resolve(index_path: &Path, stored: &str) -> PathBuf {
        let p = Path::new(stored);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            index_path.parent().unwrap_or(Path::new(".")).join(p)
        }
    }

    /// Distinct talkers of a split, sorted.
    pub fn speakers(&self, split: Split) -> Vec<String> {
        let mut s: Vec<String> = self
            .speech
            .iter()
            .filter(|e| e.split == split)
            .map(|e| e.speaker.clone())
            .collect();
        s.sort();
        s.dedup();
        s
    }
}

impl SpeechEntry {
    /// True for the MBROLA voices (synthesised from diphones), false for recorded speech.
    pub fn is_synthetic(&self) -> bool {
        self.corpus == "mbrola"
    }
}

impl Index {
    /// Human-readable counts per split: clips, talkers (recorded and MBROLA)
    /// and hours of speech, files and minutes of noise, and the talkers' names.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        for split in crate::Split::ALL {
            let clips: Vec<&SpeechEntry> =
                self.speech.iter().filter(|e| e.split == split).collect();
            let hours = |synthetic: bool| {
                clips
                    .iter()
                    .filter(|e| e.is_synthetic() == synthetic)
                    .map(|e| e.duration)
                    .sum::<f64>()
                    / 3600.0
            };
            let speakers = self.speakers(split);
            let synthetic = speakers
                .iter()
                .filter(|s| clips.iter().any(|e| &e.speaker == *s && e.is_synthetic()))
                .count();
            let noise: Vec<&NoiseEntry> = self.noise.iter().filter(|e| e.split == split).collect();
            let noise_min = noise.iter().map(|e| e.duration).sum::<f64>() / 60.0;
            out += &format!(
                "{split:<10} speech: {:>5} clips, {:>6.2} h, {} talkers: {} real ({:.2} h), {} MBROLA synthetic ({:.2} h); noise: {} files, {:.1} min\n{:<10} talkers: {}\n",
                clips.len(),
                hours(false) + hours(true),
                speakers.len(),
                speakers.len() - synthetic,
                hours(false),
                synthetic,
                hours(true),
                noise.len(),
                noise_min,
                "",
                speakers.join(", "),
            );
        }
        use crate::heads::{
            HELD_OUT_PARAMETRIC, HELD_OUT_PERTURBED, TRAIN_PARAMETRIC, TRAIN_PERTURBED,
        };
        use crate::measured_heads::HeadRole;
        let named = |r: HeadRole| -> Vec<&str> {
            self.heads
                .iter()
                .filter(|h| h.role == r)
                .map(|h| h.file.as_str())
                .collect()
        };
        let (narrow, wide, held) = (
            named(HeadRole::Narrow),
            named(HeadRole::Wide),
            named(HeadRole::HeldOut),
        );
        let generated = (TRAIN_PERTURBED + TRAIN_PARAMETRIC) as usize;
        out += &format!(
            "heads of the narrow world (every split): {}\n\
             heads of the wide world: train, validation, test {}: {} measured ({}), {TRAIN_PERTURBED} perturbed copies, {TRAIN_PARAMETRIC} parametric\n\
             heads of the ood split: {} held out: {} measured ({}), perturbed {HELD_OUT_PERTURBED:?}, parametric {HELD_OUT_PARAMETRIC:?}; diotic mixtures use one omnidirectional microphone in every split\n",
            if narrow.is_empty() { "the spherical head".to_string() } else { narrow.join(", ") },
            narrow.len().max(1) + wide.len() + generated,
            narrow.len().max(1) + wide.len(),
            narrow.iter().chain(&wide).copied().collect::<Vec<_>>().join(", "),
            held.len() + HELD_OUT_PERTURBED.len() + HELD_OUT_PARAMETRIC.len(),
            held.len(),
            held.join(", "),
        );
        out
    }
}
