//! One frame's snapshot of the telemetry, in the units the editor shows.

use std::sync::atomic::Ordering::Relaxed;

use crate::{
    levels::BusLevel, model_info::ModelInfo, telemetry::Telemetry, telemetry::CHUNK_BUDGET_US,
};

/// A bus level in dBFS.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    /// Decaying peak.
    pub peak_db: f32,
    /// Smoothed RMS.
    pub rms_db: f32,
}

impl Level {
    /// The level of `bus`.
    pub fn of(bus: &BusLevel) -> Self {
        Self {
            peak_db: to_db(bus.peak()),
            rms_db: to_db(bus.rms()),
        }
    }
}

/// Linear amplitude to dBFS, floored at -120 dB.
pub fn to_db(x: f32) -> f32 {
    20.0 * x.max(1e-6).log10()
}

/// Everything the live view shows, read from the telemetry without taking a lock the audio thread takes.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    /// Input (mixture), main output and auxiliary output levels.
    pub levels: [Level; 3],
    /// Chunks that got their hint on time, in % of those that wanted one.
    pub hints_on_time_percent: f64,
    /// Age of the latest hint used, in ms.
    pub hint_age_ms: f64,
    /// Chunks that ran without their hint since activation (cumulative).
    pub hints_missed: u64,
    /// Small-engine time of the latest chunk, in % of its 8 ms budget.
    pub small_budget_percent: f64,
    /// Worst small-engine time since activation, in % of the budget.
    pub small_worst_percent: f64,
    /// Large-engine real-time factor of the latest chunk.
    pub large_rtf: f64,
    /// Latency reported to the host, in ms.
    pub latency_ms: f64,
    /// True while no model runs (audio passes through).
    pub no_model: bool,
    /// True while the host connects no auxiliary output (talker 2 has no bus).
    pub aux_missing: bool,
    /// The loaded model.
    pub model: Option<ModelInfo>,
    /// The latest load message (a refused weight file), or empty.
    pub message: String,
    /// The hint server link, while hints come from one.
    pub link: Option<LinkView>,
}

/// The hint server link as the editor shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkView {
    /// Connected and welcomed.
    pub connected: bool,
    /// Round-trip time in ms.
    pub rtt_ms: f64,
    /// The server pair's C.
    pub delay: u32,
    /// Hint frames that lost a fragment or came damaged.
    pub lost: u64,
    /// Whole hint frames received.
    pub hints: u64,
    /// The latest problem, or empty.
    pub message: String,
}

impl LinkView {
    /// Reads the link's counters.
    pub fn of(s: &kb_link::LinkStatus) -> Self {
        Self {
            connected: s.connected.load(Relaxed),
            rtt_ms: f64::from(s.rtt_us.load(Relaxed)) / 1e3,
            delay: s.delay.load(Relaxed),
            lost: s.incomplete.load(Relaxed) + s.bad_datagrams.load(Relaxed),
            hints: s.hints.load(Relaxed),
            message: s.message.lock().clone(),
        }
    }
}

impl View {
    /// Reads `t`: relaxed atomics, plus the message and model, which only non-audio threads write.
    pub fn sample(t: &Telemetry) -> Self {
        Self {
            levels: [&t.input_level, &t.main_level, &t.aux_level].map(Level::of),
            hints_on_time_percent: t.hints_on_time_percent(),
            hint_age_ms: t.hint_age_ms(),
            hints_missed: t.hints_missed.load(Relaxed),
            small_budget_percent: 100.0 * t.small_budget_fraction(),
            small_worst_percent: f64::from(t.small_ns_max.load(Relaxed)) / 10.0 / CHUNK_BUDGET_US,
            large_rtf: t.large_rtf(),
            latency_ms: t.latency_ms(),
            no_model: t.no_model.load(Relaxed),
            aux_missing: t.aux_missing.load(Relaxed),
            model: t.model(),
            message: t.message(),
            link: t.link().map(|s| LinkView::of(&s)),
        }
    }
}
