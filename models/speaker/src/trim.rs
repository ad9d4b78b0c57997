//! Resemblyzer's preprocessing: the volume raised to −30 dBFS (never
//! lowered), then silences longer than the voice detector's smoothing trimmed
//! (libfvad in its most aggressive mode on 30 ms windows, an 8-window moving
//! average rounded half to even, dilated by 3 windows each side).

use webrtc_vad::{SampleRate, Vad, VadMode};

use crate::{Error, Result, SAMPLE_RATE};

/// Target level of the volume normalisation in dBFS.
pub const TARGET_DBFS: f64 = -30.0;
/// Voice-detection window in samples (30 ms).
pub const VAD_WINDOW: usize = 30 * SAMPLE_RATE / 1000;
/// Windows in the moving average of the voice flags.
pub const AVERAGE_WIDTH: usize = 8;
/// Windows of silence kept on each side of a voiced window.
pub const DILATION: usize = 3;

const INT16_MAX: f64 = 32767.0;

/// Raises `wav` to [`TARGET_DBFS`] when it is quieter; fails on silence or non-finite samples.
pub fn normalize_volume(wav: &mut [f32]) -> Result<()> {
    if wav.is_empty() {
        return Err(Error::Input("the recording is empty".into()));
    }
    if wav.iter().any(|v| !v.is_finite()) {
        return Err(Error::Input(
            "the recording holds NaN or infinite samples".into(),
        ));
    }
    let mean_square = wav
        .iter()
        .map(|v| (*v as f64 * INT16_MAX).powi(2))
        .sum::<f64>()
        / wav.len() as f64;
    if mean_square == 0.0 {
        return Err(Error::Input("the recording is silent".into()));
    }
    let dbfs = 20.0 * (mean_square.sqrt() / INT16_MAX).log10();
    let change = TARGET_DBFS - dbfs;
    if change > 0.0 {
        let gain = 10f64.powf(change / 20.0) as f32;
        wav.iter_mut().for_each(|v| *v *= gain);
    }
    Ok(())
}

/// Finds and removes long silences; holds its detector and flag buffers.
pub struct SilenceTrimmer {
    vad: Detector,
    pcm: Vec<i16>,
    flags: Vec<bool>,
    smoothed: Vec<bool>,
}

/// libfvad's detector. Its instance is plain heap memory owned by this value
/// and touched only through `&mut self`, so moving it to another thread is sound.
struct Detector(Vad);

// SAFETY: see `Detector`: no thread-local or shared state in a libfvad instance.
unsafe impl Send for Detector {}

impl SilenceTrimmer {
    /// A trimmer for recordings of up to `max_samples`.
    pub fn new(max_samples: usize) -> Self {
        let windows = max_samples / VAD_WINDOW;
        Self {
            vad: Detector(Vad::new_with_rate_and_mode(
                SampleRate::Rate16kHz,
                VadMode::VeryAggressive,
            )),
            pcm: vec![0; VAD_WINDOW],
            flags: Vec::with_capacity(windows),
            smoothed: Vec::with_capacity(windows),
        }
    }

    /// The detector's raw flag for each whole 30 ms window of `wav`.
    pub fn voice_flags(&mut self, wav: &[f32]) -> &[bool] {
        let vad = &mut self.vad.0;
        vad.reset();
        vad.set_sample_rate(SampleRate::Rate16kHz);
        vad.set_mode(VadMode::VeryAggressive);
        self.flags.clear();
        for window in wav.chunks_exact(VAD_WINDOW) {
            for (p, v) in self.pcm.iter_mut().zip(window) {
                // In f32, as numpy multiplies a float32 array.
                *p = (*v * INT16_MAX as f32)
                    .round_ties_even()
                    .clamp(i16::MIN as f32, i16::MAX as f32) as i16;
            }
            self.flags.push(
                vad.is_voice_segment(&self.pcm)
                    .expect("a 30 ms window at 16 kHz"),
            );
        }
        &self.flags
    }

    /// Keeps the voiced windows of `wav` (with their smoothing and dilation) in
    /// place, in order, and returns how many samples remain at its start.
    pub fn trim(&mut self, wav: &mut [f32]) -> usize {
        self.voice_flags(wav);
        let n = self.flags.len();
        // A window is voiced when more than half of the 8 around it are
        // (numpy rounds 0.5 down to even).
        self.smoothed.clear();
        for i in 0..n {
            let lo = i.saturating_sub((AVERAGE_WIDTH - 1) / 2);
            let hi = (i + AVERAGE_WIDTH / 2).min(n - 1);
            let voiced = self.flags[lo..=hi].iter().filter(|f| **f).count();
            self.smoothed.push(2 * voiced > AVERAGE_WIDTH);
        }
        let mut kept = 0;
        for i in 0..n {
            let lo = i.saturating_sub(DILATION);
            let hi = (i + DILATION).min(n - 1);
            if self.smoothed[lo..=hi].iter().any(|f| *f) {
                wav.copy_within(i * VAD_WINDOW..(i + 1) * VAD_WINDOW, kept);
                kept += VAD_WINDOW;
            }
        }
        kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_audio_is_raised_to_minus_thirty_dbfs_and_loud_audio_is_left() {
        let mut quiet: Vec<f32> = (0..1600).map(|n| 0.001 * (n as f32 * 0.1).sin()).collect();
        normalize_volume(&mut quiet).unwrap();
        let rms = (quiet.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / 1600.0).sqrt();
        assert!((20.0 * (rms * 32768.0 / 32767.0).log10() - TARGET_DBFS).abs() < 1e-3);
        let loud: Vec<f32> = (0..1600).map(|n| 0.5 * (n as f32 * 0.1).sin()).collect();
        let mut copy = loud.clone();
        normalize_volume(&mut copy).unwrap();
        assert_eq!(copy, loud);
    }

    #[test]
    fn empty_silent_and_nan_recordings_are_refused() {
        assert!(normalize_volume(&mut []).is_err());
        assert!(normalize_volume(&mut [0.0; 100]).is_err());
        assert!(normalize_volume(&mut [0.1, f32::NAN]).is_err());
    }

    #[test]
    fn silence_is_trimmed_to_the_dilation_around_voiced_windows() {
        // One second of silence, then a second of a voiced-like buzz, then silence.
        let mut wav = vec![0.0f32; 3 * SAMPLE_RATE];
        for (n, v) in wav[SAMPLE_RATE..2 * SAMPLE_RATE].iter_mut().enumerate() {
            let t = n as f32 / SAMPLE_RATE as f32;
            *v = (1..20)
                .map(|k| (2.0 * std::f32::consts::PI * 140.0 * k as f32 * t).sin() / k as f32)
                .sum::<f32>()
                * 0.2;
        }
        let mut trimmer = SilenceTrimmer::new(wav.len());
        let kept = trimmer.trim(&mut wav);
        // At most the voiced second plus the smoothing and dilation on each side.
        assert!(kept < SAMPLE_RATE + 2 * 7 * VAD_WINDOW, "kept {kept}");
        assert!(kept > SAMPLE_RATE / 2, "kept {kept}");
    }
}
