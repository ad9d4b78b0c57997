//! The models a table compares: one row per weight file (and per joint model, a no-hint row).

use std::path::{Path, PathBuf};

use kb_data::Task;
use kb_models::{weight_file::WeightFile, WeightsConfig};

/// One row of the table: a model run in streaming mode.
pub struct Row {
    /// Row name (`sm`, `mm`, `lm`, `boost_c1`, `boost_c1_nohint`, ...).
    pub name: String,
    /// The weight file.
    pub file: PathBuf,
    /// The loaded weights, as the engines read them.
    pub weights: WeightFile,
    /// Whether a joint model's small engine gets its hints (false: every hint is missing).
    pub hints: bool,
}

impl Row {
    /// Hint delay C of a joint row, None for a single model.
    pub fn delay(&self) -> Option<usize> {
        match &self.weights.config {
            WeightsConfig::Joint(j) => Some(j.delay),
            WeightsConfig::Single(_) => None,
        }
    }
}

/// Where each row's weight file comes from: explicit files, or the defaults in a folder.
pub struct Sources {
    /// Single-model files by row name (`sm`, `mm`, `lm`), None for the default.
    pub singles: [(&'static str, Option<PathBuf>); 3],
    /// Joint-model files (empty for the defaults).
    pub boosts: Vec<PathBuf>,
    /// Folder of the default files.
    pub weights_dir: PathBuf,
}

/// Default file stem of each single row.
const SINGLE_STEMS: [(&str, &str); 3] = [("sm", "small"), ("mm", "medium"), ("lm", "large")];

/// Default joint files: the plugin's shipped model (`separate.safetensors`) and
/// the other delays (`separate_c1.safetensors`, ...); rows are named by each file's delay.
const BOOST_STEMS: [&str; 4] = ["", "c1", "c2", "c3"];

/// Loads `file` and checks it outputs `task`'s number of sources and takes
/// a speaker embedding exactly when the task is target extraction.
fn load(file: &Path, task: Task, joint: bool) -> Result<WeightFile, String> {
    let w = WeightFile::load(file).map_err(|e| format!("cannot load {}: {e}", file.display()))?;
    let (sources, is_joint, speaker) = match &w.config {
        WeightsConfig::Single(c) => (c.sources, false, c.speaker),
        WeightsConfig::Joint(j) => (j.small.sources, true, j.small.speaker),
    };
    if speaker.is_some() != (task == Task::Tse) {
        let (takes, task_has) = match speaker {
            Some(_) => ("takes a", "has none"),
            None => ("takes no", "needs one"),
        };
        return Err(format!(
            "{} {takes} speaker embedding; task {task} {task_has}",
            file.display()
        ));
    }
    if is_joint != joint {
        let want = if joint { "a joint" } else { "a single-model" };
        return Err(format!("{} is not {want} weight file", file.display()));
    }
    if sources != task.sources() {
        return Err(format!(
            "{} outputs {sources} source(s); task {task} needs {}",
            file.display(),
            task.sources()
        ));
    }
    Ok(w)
}

/// Loads every row: explicit files must load; default files that are missing are
/// skipped with a note on stderr. Errors when no row is left.
pub fn load_rows(src: &Sources, task: Task) -> Result<Vec<Row>, String> {
    let prefix = task.mode_name();
    let default = |stem: &str| match stem {
        "" => src.weights_dir.join(format!("{prefix}.safetensors")),
        _ => src.weights_dir.join(format!("{prefix}_{stem}.safetensors")),
    };
    let any_explicit = src.singles.iter().any(|(_, f)| f.is_some()) || !src.boosts.is_empty();
    let mut singles: Vec<(&str, PathBuf, bool)> = Vec::new();
    for ((name, file), (_, stem)) in src.singles.iter().zip(SINGLE_STEMS) {
        match file {
            Some(f) => singles.push((*name, f.clone(), true)),
            None if !any_explicit => singles.push((*name, default(stem), false)),
            None => {}
        }
    }
    let boosts: Vec<(PathBuf, bool)> = if any_explicit {
        src.boosts.iter().map(|f| (f.clone(), true)).collect()
    } else {
        BOOST_STEMS.iter().map(|s| (default(s), false)).collect()
    };
    let mut rows = Vec::new();
    let present = |file: &PathBuf, explicit: bool| -> bool {
        if !explicit && !file.exists() {
            eprintln!("note: no {}: row skipped", file.display());
            return false;
        }
        true
    };
    for (name, file, explicit) in singles {
        if present(&file, explicit) {
            rows.push(Row {
                name: name.to_string(),
                weights: load(&file, task, false)?,
                file,
                hints: true,
            });
        }
    }
    for (file, explicit) in boosts {
        if present(&file, explicit) {
            let weights = load(&file, task, true)?;
            let name = match &weights.config {
                WeightsConfig::Joint(j) => format!("boost_c{}", j.delay),
                WeightsConfig::Single(_) => unreachable!("load checked the kind"),
            };
            for hints in [true, false] {
                rows.push(Row {
                    name: if hints {
                        name.clone()
                    } else {
                        format!("{name}_nohint")
                    },
                    file: file.clone(),
                    weights: weights.clone(),
                    hints,
                });
            }
        }
    }
    if rows.is_empty() {
        return Err(format!(
            "no model to evaluate: none of the default weight files is in {} (pass --sm/--mm/--lm/--boost FILE or --weights-dir DIR)",
            src.weights_dir.display()
        ));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = rows.iter().find(|r| !seen.insert(r.name.clone())) {
        return Err(format!(
            "two rows are named {} (two joint files with the same delay?)",
            dup.name
        ));
    }
    Ok(rows)
}
