//! What the editor shows about the loaded model: its name, size, hint delay and
//! evaluation figure (stored in the weight file, else from the training run's
//! `metrics.csv` when one sits next to it).

use std::path::Path;

use kb_models::{weight_file::WeightFile, WeightsConfig};

/// Training log that `cargo xtask train` writes next to `best.safetensors`.
pub const METRICS_FILE: &str = "metrics.csv";
/// Its column of validation SI-SDRi in dB.
pub const METRICS_COLUMN: &str = "val_si_sdri_db";

/// Description of the model (a pair, or a single model) that runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    /// The file name, or "built-in <mode> model".
    pub name: String,
    /// Size of the weight file in bytes.
    pub file_bytes: u64,
    /// Parameters of the audio thread's model (a pair's small model, merge modules included).
    pub small_params: usize,
    /// Parameters of a pair's large model and hint compression (0 for a single model).
    pub large_params: usize,
    /// Embedding widths D of the small and large models (large 0 for a single model).
    pub widths: (usize, usize),
    /// Hint delay C in chunks the pair was trained with; None for a single model (no hints).
    pub delay: Option<usize>,
    /// The evaluation figure, e.g. "validation SI-SDRi 9.1 dB", if one is known.
    pub eval: Option<String>,
    /// The model's identity (SHA-256 of its configuration and tensors), as a hint server checks it.
    pub identity: String,
}

impl ModelInfo {
    /// Describes `w`, read from `file_bytes` bytes named `name`; `path` is the user's file, if any.
    /// The evaluation figure is the file's own, else the best of a `metrics.csv` beside `path`.
    pub fn describe(w: &WeightFile, name: String, file_bytes: u64, path: Option<&Path>) -> Self {
        let (widths, delay, small_prefix) = match &w.config {
            WeightsConfig::Joint(c) => ((c.small.d, c.large.d), Some(c.delay), "small."),
            WeightsConfig::Single(c) => ((c.d, 0), None, ""),
        };
        let (mut small_params, mut large_params) = (0, 0);
        for (key, t) in &w.tensors {
            if key.starts_with(small_prefix) {
                small_params += t.elem_count();
            } else {
                large_params += t.elem_count();
            }
        }
        Self {
            name,
            file_bytes,
            small_params,
            large_params,
            widths,
            delay,
            eval: w.evaluation.clone().or_else(|| path.and_then(eval_next_to)),
            identity: kb_link::identity::model_id(w),
        }
    }
}

/// The best validation SI-SDRi of the training run whose `metrics.csv` sits next to `weights`.
pub fn eval_next_to(weights: &Path) -> Option<String> {
    let csv = std::fs::read_to_string(weights.parent()?.join(METRICS_FILE)).ok()?;
    best_of_metrics(&csv).map(|(db, n)| {
        format!("validation SI-SDRi {db:.2} dB (best of {n} evaluations, {METRICS_FILE})")
    })
}

/// The largest value of the SI-SDRi column and how many rows had one.
pub fn best_of_metrics(csv: &str) -> Option<(f64, usize)> {
    let mut lines = csv.lines();
    let col = lines.next()?.split(',').position(|h| h == METRICS_COLUMN)?;
    let values: Vec<f64> = lines
        .filter_map(|l| l.split(',').nth(col)?.trim().parse().ok())
        .filter(|v: &f64| v.is_finite())
        .collect();
    let best = values
        .iter()
        .copied()
        .fold(None, |b: Option<f64>, v| Some(b.map_or(v, |b| b.max(v))))?;
    Some((best, values.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_validation_figure_is_read_from_the_training_log() {
        let csv = "step,lr,train_loss,val_si_sdri_db,audio_s_per_s\n\
                   500,1e-3,-3.0,4.25,1.1\n1000,1e-3,-5.0,6.50,1.2\n1500,5e-4,-5.5,6.10,1.2\n";
        assert_eq!(best_of_metrics(csv), Some((6.5, 3)));
        assert_eq!(best_of_metrics("step,lr\n1,2\n"), None);
        assert_eq!(best_of_metrics("step,val_si_sdri_db\n"), None);
    }
}
