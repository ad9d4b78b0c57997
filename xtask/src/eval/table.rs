//! The evaluation table and its Markdown, CSV and JSON forms.

use serde::Serialize;
use serde_json::{json, Value};

use super::stats::Stat;

/// One model's line of the table.
#[derive(Debug, Clone, Serialize)]
pub struct RowResult {
    /// Row name (`sm`, `boost_c1`, ...).
    pub name: String,
    /// Hint delay C of a joint row.
    pub delay: Option<usize>,
    /// Whether hints reached the small model.
    pub hints: bool,
    /// Parameters of the (small) model.
    pub params: usize,
    /// Parameters of the large model and hint compression of a joint row.
    pub params_large: Option<usize>,
    /// Multiply-accumulates per second of the (small) model.
    pub macs_per_second: f64,
    /// Multiply-accumulates per second of the large model and compression (joint rows).
    pub macs_per_second_large: Option<f64>,
    /// SI-SDR improvement in dB.
    pub si_sdri: Stat,
    /// Wideband PESQ (None when no mixture could be scored).
    pub pesq: Option<Stat>,
    /// Source-ear pairs PESQ could not score (left out of its mean).
    pub pesq_unscored: usize,
    /// STOI.
    pub stoi: Stat,
    /// Target extraction: share of mixtures with a negative SI-SDRi (the wrong talker came out).
    pub wrong_talker_share: Option<f64>,
}

/// The unprocessed input scored as if it were each talker's estimate: the
/// baseline of PESQ and STOI (its SI-SDRi is zero by definition).
#[derive(Debug, Clone, Serialize)]
pub struct InputResult {
    /// Wideband PESQ of the mixture against each talker (None when none could be scored).
    pub pesq: Option<Stat>,
    /// STOI of the mixture against each talker.
    pub stoi: Stat,
}

/// The whole evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    /// Task name (`ss`, `se`).
    pub task: String,
    /// Mixtures evaluated.
    pub count: usize,
    /// Mean share of frames in which two or more talkers are active.
    pub double_talk: f64,
    /// The unprocessed input's PESQ and STOI.
    pub input: InputResult,
    /// One entry per model.
    pub rows: Vec<RowResult>,
}

fn thousands(n: usize) -> String {
    if n >= 10_000 {
        format!("{:.0}k", n as f64 / 1e3)
    } else {
        n.to_string()
    }
}

fn with_large<T: Copy>(small: T, large: Option<T>, f: impl Fn(T) -> String) -> String {
    match large {
        Some(l) => format!("{} + {}", f(small), f(l)),
        None => f(small),
    }
}

fn ci(s: &Stat) -> String {
    s.ci95.map_or("n/a".into(), |c| format!("{c:.2}"))
}

impl RowResult {
    fn params_text(&self) -> String {
        with_large(self.params, self.params_large, thousands)
    }

    fn gmacs_text(&self) -> String {
        with_large(self.macs_per_second, self.macs_per_second_large, |m| {
            format!("{:.3}", m / 1e9)
        })
    }
}

impl Table {
    /// The table in Markdown.
    pub fn markdown(&self) -> String {
        let mut s = format!(
            "Task {}, {} test mixtures ({:.0} % of frames double-talk), streaming engines (mean ± 95% interval)\n\n| model | params | GMAC/s | SI-SDRi (dB) | PESQ (WB) | STOI |\n| --- | --- | --- | --- | --- | --- |\n",
            self.task,
            self.count,
            100.0 * self.double_talk
        );
        s += &format!(
            "| input (unprocessed) | | | 0 | {} | {:.3} |\n",
            self.input
                .pesq
                .map_or("n/a".into(), |p| format!("{:.2}", p.mean)),
            self.input.stoi.mean
        );
        for r in &self.rows {
            s += &format!(
                "| {} | {} | {} | {:.2} ± {} | {} | {:.3} |\n",
                r.name,
                r.params_text(),
                r.gmacs_text(),
                r.si_sdri.mean,
                ci(&r.si_sdri),
                r.pesq.map_or("n/a".into(), |p| format!("{:.2}", p.mean)),
                r.stoi.mean
            );
        }
        let wrong: Vec<String> = self
            .rows
            .iter()
            .filter_map(|r| {
                let w = r.wrong_talker_share?;
                Some(format!("{} {:.0} %", r.name, 100.0 * w))
            })
            .collect();
        if !wrong.is_empty() {
            s += &format!("\nWrong talker out (SI-SDRi < 0): {}\n", wrong.join(", "));
        }
        s
    }

    /// The table as CSV, one line per row, numbers unrounded.
    pub fn csv(&self) -> String {
        let opt = |v: Option<f64>| v.map_or(String::new(), |x| x.to_string());
        let mut s = "model,delay,hints,params,params_large,macs_per_second,macs_per_second_large,si_sdri_mean,si_sdri_ci95,pesq_mean,pesq_ci95,stoi_mean,stoi_ci95,count\n".to_string();
        for r in &self.rows {
            s += &format!(
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                r.name,
                r.delay.map_or(String::new(), |d| d.to_string()),
                r.hints,
                r.params,
                r.params_large.map_or(String::new(), |p| p.to_string()),
                r.macs_per_second,
                opt(r.macs_per_second_large),
                r.si_sdri.mean,
                opt(r.si_sdri.ci95),
                opt(r.pesq.map(|p| p.mean)),
                opt(r.pesq.and_then(|p| p.ci95)),
                r.stoi.mean,
                opt(r.stoi.ci95),
                r.si_sdri.n
            );
        }
        s
    }

    /// The table as one JSON object; `si_sdri`, `pesq` and `stoi` map each row
    /// name to its mean (`pesq` and `stoi` also `input`, the unprocessed
    /// mixture), and for target extraction `wrong_talker_share` each row's share.
    pub fn json(&self) -> Value {
        let mut v = serde_json::to_value(self).expect("the table serialises");
        let means = |f: &dyn Fn(&RowResult) -> Option<f64>, input: Option<Option<f64>>| {
            let mut m: serde_json::Map<String, Value> = self
                .rows
                .iter()
                .map(|r| (r.name.clone(), json!(f(r))))
                .collect();
            if let Some(x) = input {
                m.insert("input".into(), json!(x));
            }
            Value::Object(m)
        };
        v["si_sdri"] = means(&|r| Some(r.si_sdri.mean), None);
        v["pesq"] = means(
            &|r| r.pesq.map(|p| p.mean),
            Some(self.input.pesq.map(|p| p.mean)),
        );
        v["stoi"] = means(&|r| Some(r.stoi.mean), Some(Some(self.input.stoi.mean)));
        if self.rows.iter().any(|r| r.wrong_talker_share.is_some()) {
            v["wrong_talker_share"] = means(&|r| r.wrong_talker_share, None);
        }
        v
    }
}
