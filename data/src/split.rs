//! Train / validation / test splits: talkers are disjoint across splits,
//! noises are split by file.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

/// One of the three disjoint parts of the corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Used to fit the models.
    Train,
    /// Used to choose checkpoints and settings.
    Validation,
    /// Held out for the reported figures.
    Test,
    /// The out-of-domain test: the test split's talkers (and noise) through
    /// heads that no other split uses, in the wide world, with its own seed.
    Ood,
}

impl Split {
    /// The splits the index assigns clips to, in order.
    pub const ALL: [Split; 3] = [Split::Train, Split::Validation, Split::Test];

    /// The index split whose clips this split draws (the test's for `Ood`).
    pub fn clips(self) -> Split {
        match self {
            Split::Ood => Split::Test,
            s => s,
        }
    }

    /// Lower-case name as used in the index and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Validation => "validation",
            Split::Test => "test",
            Split::Ood => "ood",
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Split {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s.to_ascii_lowercase().as_str() {
            "train" | "tr" => Ok(Split::Train),
            "validation" | "valid" | "val" | "dev" | "cv" => Ok(Split::Validation),
            "test" | "tt" | "eval" => Ok(Split::Test),
            "ood" => Ok(Split::Ood),
            _ => Err(Error::Invalid(format!(
                "unknown split `{s}` (expected train, validation, test or ood)"
            ))),
        }
    }
}

/// Stable 64-bit FNV-1a hash of a string (the same on every machine and run).
pub fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Split of a talker of a user corpus given without an explicit split:
/// 80 % train, 10 % validation, 10 % test by a stable hash of the talker's name.
pub fn split_for_speaker(speaker: &str) -> Split {
    match stable_hash(speaker) % 10 {
        0 => Split::Validation,
        1 => Split::Test,
        _ => Split::Train,
    }
}

/// How the files of one noise corpus are assigned to splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoiseSplit {
    /// About 10 % each to validation and test by file, the rest to train.
    ByFile,
    /// About 10 % to validation by file, the rest to train, none to test.
    TrainValidation,
    /// Every file to one split.
    All(Split),
}

/// Splits of `n` noise files of one corpus (in a fixed order) by `rule`: the
/// held-out files (about 10 %, at least one when there are three or more files)
/// are spread by a stable hash of the file names.
pub fn split_noise_files(names: &[String], rule: NoiseSplit) -> Vec<Split> {
    let n = names.len();
    if let NoiseSplit::All(split) = rule {
        return vec![split; n];
    }
    let held = if n >= 3 { (n / 10).max(1) } else { 0 };
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| (stable_hash(&names[i]), i));
    let mut splits = vec![Split::Train; n];
    for (rank, &i) in order.iter().enumerate() {
        if rank < held {
            splits[i] = Split::Validation;
        } else if rank < 2 * held && rule == NoiseSplit::ByFile {
            splits[i] = Split::Test;
        }
    }
    splits
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every split gets noise files once there are three, and the counts are about 10 %;
    /// without test files the same files validate, and a whole corpus can go to one split.
    #[test]
    fn noise_split_counts() {
        let names: Vec<String> = (0..28).map(|i| format!("noise{i}.ogg")).collect();
        let s = split_noise_files(&names, NoiseSplit::ByFile);
        let count = |x| s.iter().filter(|&&v| v == x).count();
        assert_eq!(
            (
                count(Split::Train),
                count(Split::Validation),
                count(Split::Test)
            ),
            (24, 2, 2)
        );
        let three: Vec<String> = names[..3].to_vec();
        let s3 = split_noise_files(&three, NoiseSplit::ByFile);
        assert!(Split::ALL.iter().all(|x| s3.contains(x)));
        let v = split_noise_files(&names, NoiseSplit::TrainValidation);
        for (a, b) in s.iter().zip(&v) {
            match a {
                Split::Validation => assert_eq!(b, &Split::Validation),
                _ => assert_eq!(b, &Split::Train),
            }
        }
        let t = split_noise_files(&names, NoiseSplit::All(Split::Test));
        assert!(t.iter().all(|&x| x == Split::Test));
    }
}
