//! Causal input-level normalisation: a running level of the input frames sets
//! a gain; each frame's input is divided by it before the model and the
//! frame's output multiplied by it after, so the model works at one level
//! whatever the input's. Every implementation (candle, engine, fast trainer)
//! runs this one tracker frame by frame, so stream and offline agree.

use serde::{Deserialize, Serialize};

/// Settings of the running level (integers, so model configs stay comparable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelConfig {
    /// RMS level the input is brought to, dBFS.
    pub reference_dbfs: i32,
    /// Time constant of a rising level, ms.
    pub attack_ms: u32,
    /// Time constant of a falling level, ms.
    pub release_ms: u32,
    /// Quietest level tracked, dBFS (and the level a fresh stream starts from):
    /// quieter input is raised by at most `reference_dbfs - floor_dbfs` dB.
    pub floor_dbfs: i32,
}

impl LevelConfig {
    /// The default for speech: to -20 dBFS, 50 ms attack, 1 s release, floor -60 dBFS.
    pub fn speech() -> Self {
        Self {
            reference_dbfs: -20,
            attack_ms: 50,
            release_ms: 1000,
            floor_dbfs: -60,
        }
    }
}

fn power(dbfs: i32) -> f64 {
    10f64.powf(dbfs as f64 / 10.0)
}

fn decay(ms: u32, hop_s: f64) -> f64 {
    if ms == 0 {
        0.0
    } else {
        (-hop_s / (ms as f64 / 1000.0)).exp()
    }
}

/// The running mean square of one stream, updated once per frame.
#[derive(Debug, Clone, PartialEq)]
pub struct LevelTracker {
    attack: f64,
    release: f64,
    floor: f64,
    reference: f64,
    mean_square: f64,
}

impl LevelTracker {
    /// A fresh tracker for frames `chunk` samples apart at `sample_rate`.
    pub fn new(cfg: &LevelConfig, chunk: usize, sample_rate: usize) -> Self {
        let hop_s = chunk as f64 / sample_rate as f64;
        let floor = power(cfg.floor_dbfs);
        Self {
            attack: decay(cfg.attack_ms, hop_s),
            release: decay(cfg.release_ms, hop_s),
            floor,
            reference: power(cfg.reference_dbfs),
            mean_square: floor,
        }
    }

    /// Back to the start of a stream.
    pub fn reset(&mut self) {
        self.mean_square = self.floor;
    }

    /// Feeds one frame's mean square; returns the frame's gain (input / gain
    /// goes into the model, output * gain comes out). A non-finite frame
    /// leaves the level where it was.
    pub fn update(&mut self, frame_mean_square: f64) -> f32 {
        if frame_mean_square.is_finite() {
            let a = if frame_mean_square > self.mean_square {
                self.attack
            } else {
                self.release
            };
            let ms = a * self.mean_square + (1.0 - a) * frame_mean_square;
            self.mean_square = ms.max(self.floor);
        }
        (self.mean_square / self.reference).sqrt() as f32
    }
}

/// Mean square of a frame given as channel slices, summed in f64.
pub fn mean_square<'a>(channels: impl IntoIterator<Item = &'a [f32]>) -> f64 {
    let (mut sum, mut n) = (0f64, 0usize);
    for ch in channels {
        sum += ch.iter().map(|&v| v as f64 * v as f64).sum::<f64>();
        n += ch.len();
    }
    if n == 0 {
        0.0
    } else {
        sum / n as f64
    }
}

/// Gains of `gains.len()` frames of one example, continuing `tracker`: the
/// example's `ears` channels lie `stride` apart in `window`, frame t covers
/// samples `[chunk * t, chunk * t + n_fft)` of each.
pub fn window_gains(
    tracker: &mut LevelTracker,
    (window, stride, ears): (&[f32], usize, usize),
    (chunk, n_fft): (usize, usize),
    gains: &mut [f32],
) {
    for (t, g) in gains.iter_mut().enumerate() {
        let start = chunk * t;
        let frame = (0..ears).map(|m| &window[m * stride + start..m * stride + start + n_fft]);
        *g = tracker.update(mean_square(frame));
    }
}
