//! Pools of audio in memory that mixtures are drawn from.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::decode::read_mono_16k;
use crate::heads::HeadBank;
use crate::hrtf::Head;
use crate::index::Index;
use crate::measured_heads::HeadRole;
use crate::pcm::Pcm16;
use crate::split::Split;
use crate::Task;
use crate::{Error, Result};

/// One clip in memory (16 kHz mono).
#[derive(Debug, Clone)]
pub struct Clip {
    /// Identifier recorded in manifests (the clip's path in the index, or a test name).
    pub id: String,
    /// Talker (speech) or corpus (noise).
    pub speaker: String,
    /// Split the clip belongs to.
    pub split: Split,
    /// Samples, 16-bit as the cache stores them.
    pub samples: Pcm16,
}

/// Speech, noise and heads to draw mixtures from.
#[derive(Clone)]
pub struct Pools {
    /// Speech clips.
    pub speech: Vec<Clip>,
    /// Noise clips.
    pub noise: Vec<Clip>,
    /// Measured heads (the index's or the user's); every split of the narrow world uses all of them.
    pub heads: Vec<Arc<Head>>,
    /// The wide world's heads, built around `heads`.
    pub bank: HeadBank,
}

impl Pools {
    /// Loads what `task`'s mixtures draw from: the speech of `splits` listed
    /// in the index at `index_path`, their noise for enhancement only (the
    /// other tasks never draw it), and the index's heads unless `sofa` names
    /// SOFA files to use instead (none anywhere: the spherical head).
    pub fn load(
        index_path: &Path,
        task: Task,
        splits: &[Split],
        sofa: &[PathBuf],
    ) -> Result<Pools> {
        let index = Index::read(index_path)?;
        let mut speech = Vec::new();
        let splits: Vec<Split> = splits.iter().map(|s| s.clips()).collect();
        for e in index.speech.iter().filter(|e| splits.contains(&e.split)) {
            let path = Index::resolve(index_path, &e.clip);
            speech.push(Clip {
                id: e.clip.clone(),
                speaker: e.speaker.clone(),
                split: e.split,
                samples: read_mono_16k(&path)?.into(),
            });
        }
        let mut noise = Vec::new();
        let noisy = task == Task::Se;
        for e in index
            .noise
            .iter()
            .filter(|e| noisy && splits.contains(&e.split))
        {
            let path = Index::resolve(index_path, &e.clip);
            noise.push(Clip {
                id: e.clip.clone(),
                speaker: e.corpus.clone(),
                split: e.split,
                samples: read_mono_16k(&path)?.into(),
            });
        }
        if !sofa.is_empty() {
            return Ok(Pools::new(speech, noise, Self::heads(sofa)?));
        }
        let role = |r: HeadRole| -> Vec<PathBuf> {
            index
                .heads
                .iter()
                .filter(|h| h.role == r)
                .map(|h| Index::resolve(index_path, &h.file))
                .collect()
        };
        let heads = Self::heads(&role(HeadRole::Narrow))?;
        let bank = HeadBank::around(
            &heads,
            &Self::sofa_heads(&role(HeadRole::Wide))?,
            &Self::sofa_heads(&role(HeadRole::HeldOut))?,
        );
        Ok(Pools {
            speech,
            noise,
            heads,
            bank,
        })
    }

    /// Pools of these clips and measured heads, with the head bank built around them.
    pub fn new(speech: Vec<Clip>, noise: Vec<Clip>, heads: Vec<Arc<Head>>) -> Pools {
        Pools {
            bank: HeadBank::around(&heads, &[], &[]),
            speech,
            noise,
            heads,
        }
    }

    /// Opens SOFA files as heads; with none, the spherical head.
    pub fn heads(files: &[PathBuf]) -> Result<Vec<Arc<Head>>> {
        if files.is_empty() {
            return Ok(vec![Arc::new(Head::spherical())]);
        }
        Self::sofa_heads(files)
    }

    /// Opens SOFA files as heads.
    fn sofa_heads(files: &[PathBuf]) -> Result<Vec<Arc<Head>>> {
        files
            .iter()
            .map(|f| Head::from_sofa(f).map(Arc::new))
            .collect()
    }

    /// Checks that the pools hold something usable.
    pub fn check(&self) -> Result<()> {
        if self.heads.is_empty() {
            return Err(Error::Pool("no heads (HRTFs) in the pools".into()));
        }
        Ok(())
    }
}
