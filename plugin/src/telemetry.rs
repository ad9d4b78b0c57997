//! Lock-free figures the audio and background threads publish for the editor.

use std::sync::{
    atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed},
    Arc,
};

use kb_link::LinkStatus;

use parking_lot::Mutex;

use crate::{levels::BusLevel, model_info::ModelInfo};

/// Duration of one 128-sample chunk at 16 kHz, in microseconds (the small engine's budget).
pub const CHUNK_BUDGET_US: f64 = 8_000.0;

/// Counters and gauges, written with relaxed atomics, read by the editor at any time.
#[derive(Debug, Default)]
pub struct Telemetry {
    /// Chunks processed by the small engine since activation.
    pub chunks: AtomicU64,
    /// Chunks that got their hint for chunk i - C in time.
    pub hints_used: AtomicU64,
    /// Chunks that wanted a hint and ran without one.
    pub hints_missed: AtomicU64,
    /// Age of the latest hint used, in microseconds.
    pub hint_age_us: AtomicU32,
    /// Input chunks the background queue had no room for.
    pub chunks_dropped: AtomicU64,
    /// Small-engine time of the latest chunk, in nanoseconds.
    pub small_ns: AtomicU32,
    /// Worst small-engine time since activation, in nanoseconds.
    pub small_ns_max: AtomicU32,
    /// Large-engine real-time factor of the latest chunk, times 1e6.
    pub large_rtf_ppm: AtomicU32,
    /// Non-finite input samples replaced by zeros since activation.
    pub bad_input: AtomicU64,
    /// Chunks whose output was not finite (the small engine restarted) since activation.
    pub engine_resets: AtomicU64,
    /// Voices applied to the running small engine in place (no swap) since activation.
    pub voice_updates: AtomicU64,
    /// Chunk index (since the last reset) at which the latest voice was applied.
    pub voice_update_chunk: AtomicU64,
    /// True while the active mode has no model (audio passes through, latency-aligned).
    pub no_model: AtomicBool,
    /// True while the host gives the auxiliary output (talker 2) no channels:
    /// the plugin still processes, talker 2 is discarded.
    pub aux_missing: AtomicBool,
    /// Level of the main input bus (the mixture).
    pub input_level: BusLevel,
    /// Level of the main output bus (talker 1, or the voice).
    pub main_level: BusLevel,
    /// Level of the auxiliary output bus (talker 2).
    pub aux_level: BusLevel,
    /// Latency reported to the host, in host samples.
    pub latency_samples: AtomicU32,
    /// Host sample rate in Hz (of the latest activation).
    pub host_rate_hz: AtomicU32,
    /// Message for the editor: the latest refused weight file, or empty.
    message: Mutex<String>,
    /// The loaded model (written with the message, never on the audio thread).
    model: Mutex<Option<ModelInfo>>,
    /// The hint server link, while hints come from one.
    link: Mutex<Option<Arc<LinkStatus>>>,
}

impl Telemetry {
    /// Clears every counter (a new activation); the message stays.
    pub fn reset(&self) {
        for a in [
            &self.chunks,
            &self.hints_used,
            &self.hints_missed,
            &self.chunks_dropped,
            &self.bad_input,
            &self.engine_resets,
            &self.voice_updates,
            &self.voice_update_chunk,
        ] {
            a.store(0, Relaxed);
        }
        for a in [
            &self.hint_age_us,
            &self.small_ns,
            &self.small_ns_max,
            &self.large_rtf_ppm,
        ] {
            a.store(0, Relaxed);
        }
        for m in [&self.input_level, &self.main_level, &self.aux_level] {
            m.reset();
        }
    }

    /// Latency reported to the host in milliseconds (0 before the first activation).
    pub fn latency_ms(&self) -> f64 {
        let rate = f64::from(self.host_rate_hz.load(Relaxed));
        if rate > 0.0 {
            1000.0 * f64::from(self.latency_samples.load(Relaxed)) / rate
        } else {
            0.0
        }
    }

    /// Hints used on time, as a percentage of the chunks that wanted one (100 when none did).
    pub fn hints_on_time_percent(&self) -> f64 {
        let used = self.hints_used.load(Relaxed) as f64;
        let missed = self.hints_missed.load(Relaxed) as f64;
        if used + missed == 0.0 {
            100.0
        } else {
            100.0 * used / (used + missed)
        }
    }

    /// Age of the latest hint in milliseconds.
    pub fn hint_age_ms(&self) -> f64 {
        f64::from(self.hint_age_us.load(Relaxed)) / 1000.0
    }

    /// Small-engine time of the latest chunk as a fraction of its 8 ms budget.
    pub fn small_budget_fraction(&self) -> f64 {
        f64::from(self.small_ns.load(Relaxed)) / 1000.0 / CHUNK_BUDGET_US
    }

    /// Large-engine real-time factor of the latest chunk.
    pub fn large_rtf(&self) -> f64 {
        f64::from(self.large_rtf_ppm.load(Relaxed)) / 1e6
    }

    /// Records the small engine's time for one chunk (audio thread: atomics only).
    pub fn record_small(&self, ns: u32) {
        self.small_ns.store(ns, Relaxed);
        self.small_ns_max.fetch_max(ns, Relaxed);
        self.chunks.fetch_add(1, Relaxed);
    }

    /// Sets the editor's message (never called on the audio thread).
    pub fn set_message(&self, msg: impl Into<String>) {
        *self.message.lock() = msg.into();
    }

    /// The editor's message.
    pub fn message(&self) -> String {
        self.message.lock().clone()
    }

    /// Publishes the outcome of a model load: its message and model (never called on the audio thread).
    pub fn set_loaded(&self, msg: String, model: Option<ModelInfo>) {
        self.set_message(msg);
        *self.model.lock() = model;
    }

    /// The loaded model, if any (the editor's copy).
    pub fn model(&self) -> Option<ModelInfo> {
        self.model.lock().clone()
    }

    /// Publishes the hint server link's status (None: hints are computed locally).
    pub fn set_link(&self, link: Option<Arc<LinkStatus>>) {
        *self.link.lock() = link;
    }

    /// The hint server link's status, while hints come from one.
    pub fn link(&self) -> Option<Arc<LinkStatus>> {
        self.link.lock().clone()
    }
}
