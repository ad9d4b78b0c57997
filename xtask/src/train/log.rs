//! A run's logs: `steps.csv` (every step) and `metrics.csv` (every validation).

use std::{
    fs::{File, OpenOptions},
    io::{BufWriter, Write},
    path::{Path, PathBuf},
};

/// Columns of `metrics.csv`; runs logged before the later columns existed get them empty.
pub const METRICS_HEADER: &str = "step,lr,train_loss,val_si_sdri_db,audio_s_per_s,audio_seconds,grad_norm,output_db,target_db,pit_flips";

/// Columns of `steps.csv`.
pub const STEPS_HEADER: &str = "step,lr,loss,grad_norm,audio_seconds";

/// One validation's line of `metrics.csv`.
#[derive(Debug, Clone, Copy)]
pub struct Evaluation {
    /// Steps trained.
    pub step: u64,
    /// Learning rate at the validation.
    pub lr: f64,
    /// Mean training loss since the last validation.
    pub train_loss: f64,
    /// Mean validation SI-SDR improvement, dB.
    pub si_sdri: f64,
    /// Training speed since start-up, audio-seconds per second.
    pub speed: f64,
    /// Audio-seconds trained on in all.
    pub audio_seconds: f64,
    /// Mean gradient norm (before clipping) since the last validation.
    pub grad_norm: f64,
    /// Validation output and target power, dBFS.
    pub levels: (f64, f64),
    /// Fraction of validation examples whose best source order flipped since the last validation.
    pub pit_flips: Option<f64>,
}

/// Appends to a run's two logs.
pub struct RunLog {
    metrics: PathBuf,
    steps: BufWriter<File>,
}

impl RunLog {
    /// Opens (or starts) the logs in `dir`, bringing an older `metrics.csv`
    /// to today's columns; a run resumed from the checkpoint of step `from`
    /// drops the lines logged after it (they are trained and logged again).
    pub fn open(dir: &Path, from: u64) -> std::io::Result<Self> {
        let metrics = dir.join("metrics.csv");
        match std::fs::read_to_string(&metrics) {
            Ok(text) => upgrade(&metrics, &text, from)?,
            Err(_) => std::fs::write(&metrics, format!("{METRICS_HEADER}\n"))?,
        }
        let steps_path = dir.join("steps.csv");
        if let Ok(text) = std::fs::read_to_string(&steps_path) {
            std::fs::write(&steps_path, up_to(&text, from))?;
        }
        let fresh = !steps_path.exists();
        let mut steps = BufWriter::new(
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(&steps_path)?,
        );
        if fresh {
            writeln!(steps, "{STEPS_HEADER}")?;
        }
        Ok(Self { metrics, steps })
    }

    /// Logs one training step.
    pub fn step(
        &mut self,
        step: u64,
        lr: f64,
        (loss, grad_norm): (f32, f64),
        audio_seconds: f64,
    ) -> std::io::Result<()> {
        writeln!(
            self.steps,
            "{step},{lr:e},{loss:.4},{grad_norm:.4},{audio_seconds:.0}"
        )
    }

    /// Logs one validation (and flushes the step log with it).
    pub fn evaluation(&mut self, e: &Evaluation) -> std::io::Result<()> {
        self.steps.flush()?;
        let flips = e.pit_flips.map_or(String::new(), |f| format!("{f:.3}"));
        let mut csv = OpenOptions::new().append(true).open(&self.metrics)?;
        writeln!(
            csv,
            "{},{:e},{:.4},{:.4},{:.3},{:.0},{:.4},{:.2},{:.2},{flips}",
            e.step,
            e.lr,
            e.train_loss,
            e.si_sdri,
            e.speed,
            e.audio_seconds,
            e.grad_norm,
            e.levels.0,
            e.levels.1
        )
    }

    /// Writes out the step log (before a checkpoint, so the two agree on resume).
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.steps.flush()
    }
}

/// The header and the lines of a log whose step is at most `from`.
fn up_to(text: &str, from: u64) -> String {
    let mut lines = text.lines();
    let mut out = String::new();
    for line in lines.next().into_iter().chain(lines.filter(|l| {
        l.split(',')
            .next()
            .and_then(|s| s.parse::<u64>().ok())
            .is_some_and(|s| s <= from)
    })) {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Rewrites `metrics.csv` up to step `from`, with today's header (padding
/// rows logged with an older one).
fn upgrade(path: &Path, text: &str, from: u64) -> std::io::Result<()> {
    let text = up_to(text, from);
    let mut lines = text.lines();
    let current = lines.next() == Some(METRICS_HEADER);
    let columns = METRICS_HEADER.split(',').count();
    let mut out = format!("{METRICS_HEADER}\n");
    for line in lines.filter(|l| !l.is_empty()) {
        let have = line.split(',').count();
        out.push_str(line);
        if !current {
            out.push_str(&",".repeat(columns.saturating_sub(have)));
        }
        out.push('\n');
    }
    std::fs::write(path, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_old_metrics_file_gets_the_new_columns_and_keeps_its_rows() {
        let dir = std::env::temp_dir().join(format!("kb-runlog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let old = "step,lr,train_loss,val_si_sdri_db,audio_s_per_s\n250,3e-3,2.5196,0.1470,1.674\n";
        std::fs::write(dir.join("metrics.csv"), old).unwrap();
        let mut log = RunLog::open(&dir, 250).unwrap();
        log.step(251, 3e-3, (1.5, 0.7), 4016.0).unwrap();
        log.evaluation(&Evaluation {
            step: 500,
            lr: 3e-3,
            train_loss: 0.33,
            si_sdri: 1.39,
            speed: 6.7,
            audio_seconds: 8000.0,
            grad_norm: 0.9,
            levels: (-27.0, -26.5),
            pit_flips: Some(0.125),
        })
        .unwrap();
        let text = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
        let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
        let columns = METRICS_HEADER.split(',').count();
        assert_eq!(rows[0].join(","), METRICS_HEADER);
        assert!(rows.iter().all(|r| r.len() == columns), "{text}");
        assert_eq!(&rows[1][..5], &["250", "3e-3", "2.5196", "0.1470", "1.674"]);
        assert_eq!(rows[2][0], "500");
        assert_eq!(rows[2][9], "0.125");
        let steps = std::fs::read_to_string(dir.join("steps.csv")).unwrap();
        assert_eq!(steps.lines().next(), Some(STEPS_HEADER));
        assert!(steps.lines().nth(1).unwrap().starts_with("251,"));
        drop(log);
        // Resumed from the checkpoint of step 250: what came after it goes.
        RunLog::open(&dir, 250).unwrap();
        let text = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert_eq!(text.lines().nth(1).unwrap().split(',').count(), columns);
        let steps = std::fs::read_to_string(dir.join("steps.csv")).unwrap();
        assert_eq!(steps.lines().collect::<Vec<_>>(), [STEPS_HEADER]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
