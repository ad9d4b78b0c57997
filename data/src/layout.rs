//! The paper's folder layout: one folder per sample holding `mixture.wav`,
//! `source00.wav`, `source01.wav`, ..., for target extraction an
//! `enrollment.wav`, and a `meta.json` manifest.

use std::path::{Path, PathBuf};

use crate::decode::read_audio;
use crate::mixture::Mixture;
use crate::wav::{self, Encoding};
use crate::{Error, Result, SAMPLE_RATE};

/// Name of the mixture file.
pub const MIXTURE_FILE: &str = "mixture.wav";
/// Name of the manifest.
pub const META_FILE: &str = "meta.json";
/// Names accepted for the enrollment clip, the first being the one written.
pub const ENROLLMENT_FILES: [&str; 3] = ["enrollment.wav", "enroll.wav", "reference.wav"];

/// Name of target file `k`.
pub fn source_file(k: usize) -> String {
    format!("source{k:02}.wav")
}

fn refs(c: &[Vec<f32>]) -> Vec<&[f32]> {
    c.iter().map(Vec::as_slice).collect()
}

/// Writes one sample into folder `dir` (created; a previous folder of that name is replaced).
/// Files are first written to `dir.part` and the folder renamed at the end,
/// so an interrupted run never leaves a half-written sample under its final name.
pub fn write_sample(dir: &Path, m: &Mixture) -> Result<()> {
    let mut tmp_name = dir.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".part");
    let tmp = dir.with_file_name(tmp_name);
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    wav::write(
        &tmp.join(MIXTURE_FILE),
        &refs(&m.mixture),
        Encoding::Float32,
    )?;
    for (k, s) in m.sources.iter().enumerate() {
        wav::write(&tmp.join(source_file(k)), &refs(s), Encoding::Float32)?;
    }
    if let Some(e) = &m.enrollment {
        wav::write(&tmp.join(ENROLLMENT_FILES[0]), &[e], Encoding::Float32)?;
    }
    let meta_path = tmp.join(META_FILE);
    let text = serde_json::to_string_pretty(&m.meta).map_err(|e| Error::Json {
        path: meta_path.clone(),
        reason: e.to_string(),
    })? + "\n";
    wav::write_bytes(&meta_path, text.as_bytes())?;
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    std::fs::rename(&tmp, dir).map_err(|e| Error::io(dir, e))
}

/// One sample read back from the layout (any channel count; resampled to 16 kHz).
#[derive(Debug, Clone, PartialEq)]
pub struct LayoutSample {
    /// Folder the sample was read from.
    pub dir: PathBuf,
    /// The mixture, `[channel][sample]`.
    pub mixture: Vec<Vec<f32>>,
    /// Targets, `[source][channel][sample]`, in file-name order.
    pub sources: Vec<Vec<Vec<f32>>>,
    /// Enrollment clip, mixed to mono, when present.
    pub enrollment: Option<Vec<f32>>,
    /// The manifest as JSON, when present (the paper's sets use their own fields).
    pub meta: Option<serde_json::Value>,
}

fn read_16k(path: &Path) -> Result<Vec<Vec<f32>>> {
    Ok(read_audio(path)?.resampled(SAMPLE_RATE)?.channels)
}

/// Reads one sample folder.
pub fn read_sample(dir: &Path) -> Result<LayoutSample> {
    let mixture = read_16k(&dir.join(MIXTURE_FILE))?;
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n.strip_prefix("source")
                .and_then(|r| r.strip_suffix(".wav"))
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        })
        .collect();
    names.sort_by_key(|n| n[6..n.len() - 4].parse::<u64>().unwrap_or(u64::MAX));
    let sources = names
        .iter()
        .map(|n| read_16k(&dir.join(n)))
        .collect::<Result<Vec<_>>>()?;
    let enrollment = match ENROLLMENT_FILES
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.exists())
    {
        Some(p) => {
            let audio = read_audio(&p)?.resampled(SAMPLE_RATE)?;
            Some(audio.to_mono())
        }
        None => None,
    };
    let meta_path = dir.join(META_FILE);
    let meta = if meta_path.exists() {
        let text = std::fs::read_to_string(&meta_path).map_err(|e| Error::io(&meta_path, e))?;
        Some(serde_json::from_str(&text).map_err(|e| Error::Json {
            path: meta_path.clone(),
            reason: e.to_string(),
        })?)
    } else {
        None
    };
    Ok(LayoutSample {
        dir: dir.to_path_buf(),
        mixture,
        sources,
        enrollment,
        meta,
    })
}

/// A folder of samples in the layout (ours or the paper's published sets).
#[derive(Debug, Clone)]
pub struct LayoutSet {
    /// Sample folders, sorted by name.
    pub samples: Vec<PathBuf>,
}

impl LayoutSet {
    /// Lists the sample folders (those holding a `mixture.wav`) under `root`.
    pub fn open(root: &Path) -> Result<LayoutSet> {
        let mut samples: Vec<PathBuf> = std::fs::read_dir(root)
            .map_err(|e| Error::io(root, e))?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.join(MIXTURE_FILE).is_file())
            .collect();
        if samples.is_empty() {
            return Err(Error::NoAudio {
                path: root.into(),
                reason: format!("no sub-folder holds a {MIXTURE_FILE}"),
            });
        }
        samples.sort();
        Ok(LayoutSet { samples })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Reads sample `i`.
    pub fn get(&self, i: usize) -> Result<LayoutSample> {
        let dir = self.samples.get(i).ok_or_else(|| {
            Error::Invalid(format!("sample {i} out of range (set has {})", self.len()))
        })?;
        read_sample(dir)
    }
}
