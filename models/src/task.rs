//! What a model does, named once: the corpus, the trainer, the evaluation and
//! the plugin's modes all use this vocabulary.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// What a model is trained to do to a binaural input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Speech separation: two talkers, both are targets (the plugin's Separate mode).
    Ss,
    /// Speech enhancement: one talker plus noise (the plugin's Enhance mode).
    Se,
    /// Target speech extraction: two talkers and an enrollment clip of the target
    /// (the plugin's Extract mode).
    Tse,
}

impl Task {
    /// Every task, in the plugin's mode order.
    pub const ALL: [Task; 3] = [Task::Ss, Task::Se, Task::Tse];

    /// Short name (`ss`, `se`, `tse`), as on the training and data command lines.
    pub fn name(self) -> &'static str {
        match self {
            Task::Ss => "ss",
            Task::Se => "se",
            Task::Tse => "tse",
        }
    }

    /// The plugin's name for it (`separate`, `enhance`, `extract`), as in
    /// `assets/<mode>.safetensors` and `xtask process --mode`.
    pub fn mode_name(self) -> &'static str {
        match self {
            Task::Ss => "separate",
            Task::Se => "enhance",
            Task::Tse => "extract",
        }
    }

    /// Number of talkers in a mixture.
    pub fn talkers(self) -> usize {
        match self {
            Task::Se => 1,
            Task::Ss | Task::Tse => 2,
        }
    }

    /// Number of sources the model outputs (each binaural).
    pub fn sources(self) -> usize {
        match self {
            Task::Ss => 2,
            Task::Se | Task::Tse => 1,
        }
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Task {
    type Err = String;

    /// Either vocabulary: `ss`, `separation` or `separate` (and the same for the others).
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "ss" | "separation" | "separate" => Ok(Task::Ss),
            "se" | "enhancement" | "enhance" => Ok(Task::Se),
            "tse" | "extraction" | "target-extraction" | "extract" => Ok(Task::Tse),
            _ => Err(format!(
                "unknown task `{s}` (expected ss, se or tse; or separate, enhance or extract)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Task;

    /// Both names of each task parse back to it, and the two vocabularies stay distinct.
    #[test]
    fn names_round_trip() {
        for t in Task::ALL {
            assert_eq!(t.name().parse::<Task>(), Ok(t));
            assert_eq!(t.mode_name().parse::<Task>(), Ok(t));
            assert_eq!(t.to_string(), t.name());
        }
        assert_eq!("Separation".parse::<Task>(), Ok(Task::Ss));
        assert!("denoise".parse::<Task>().is_err());
        assert_eq!(
            serde_json::to_string(&Task::Tse).unwrap(),
            "\"tse\"",
            "serialised as in run files"
        );
    }
}
