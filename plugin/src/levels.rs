//! Per-bus level meters: a decaying peak and a smoothed RMS, written by the audio
//! thread with relaxed atomics (f32 bits) and read by the editor.

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// Time constant of the peak's fall, in seconds.
pub const PEAK_FALL_S: f32 = 0.5;
/// Time constant of the RMS average, in seconds.
pub const RMS_WINDOW_S: f32 = 0.3;

/// One bus's level: the audio thread is the only writer.
#[derive(Debug, Default)]
pub struct BusLevel {
    peak: AtomicU32,
    mean_square: AtomicU32,
}

impl BusLevel {
    /// Folds one block of `channels` (all of one length) at `rate` Hz into the meter
    /// (audio thread: no allocation, no lock).
    pub fn update(&self, channels: &[&[f32]], rate: f32) {
        let n = channels.first().map_or(0, |c| c.len());
        if n == 0 || rate <= 0.0 {
            return;
        }
        let (mut peak, mut sum) = (0f32, 0f32);
        for ch in channels {
            for &x in *ch {
                peak = peak.max(x.abs());
                sum += x * x;
            }
        }
        let block_ms = sum / (n * channels.len()) as f32;
        let secs = n as f32 / rate;
        let fall = (-secs / PEAK_FALL_S).exp();
        let keep = (-secs / RMS_WINDOW_S).exp();
        let old_peak = f32::from_bits(self.peak.load(Relaxed));
        let old_ms = f32::from_bits(self.mean_square.load(Relaxed));
        self.peak
            .store(peak.max(old_peak * fall).to_bits(), Relaxed);
        let ms = keep * old_ms + (1.0 - keep) * block_ms;
        self.mean_square.store(ms.to_bits(), Relaxed);
    }

    /// Sets both figures directly (previews and tests).
    pub fn set(&self, peak: f32, rms: f32) {
        self.peak.store(peak.to_bits(), Relaxed);
        self.mean_square.store((rms * rms).to_bits(), Relaxed);
    }

    /// Clears the meter.
    pub fn reset(&self) {
        self.set(0.0, 0.0);
    }

    /// The decaying peak, linear.
    pub fn peak(&self) -> f32 {
        f32::from_bits(self.peak.load(Relaxed))
    }

    /// The smoothed RMS, linear.
    pub fn rms(&self) -> f32 {
        f32::from_bits(self.mean_square.load(Relaxed)).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_holds_then_falls_and_rms_converges() {
        let m = BusLevel::default();
        let rate = 48_000.0;
        let loud = vec![0.5f32; 480];
        m.update(&[&loud, &loud], rate);
        assert_eq!(m.peak(), 0.5);
        let quiet = vec![0.0f32; 24_000];
        m.update(&[&quiet, &quiet], rate);
        let expect = 0.5 * (-0.5f32 / PEAK_FALL_S).exp();
        assert!((m.peak() - expect).abs() < 1e-4, "{}", m.peak());
        let sine: Vec<f32> = (0..48_000).map(|i| (i as f32 * 0.1).sin() * 0.8).collect();
        for block in sine.chunks(256) {
            m.update(&[block], rate);
        }
        let want = 0.8 / 2f32.sqrt();
        assert!((m.rms() - want).abs() < 0.02, "{}", m.rms());
    }
}
