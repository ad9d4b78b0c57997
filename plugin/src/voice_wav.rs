//! An enrollment recording from a WAV file: any channel count and sample rate,
//! averaged to mono and resampled to the speaker encoder's 16 kHz.

use std::path::Path;

use crate::rate::{Downsampler, MODEL_RATE};

/// Frames per resampler call.
const BLOCK: usize = 1024;

/// Reads up to `max_seconds` of `path` as 16 kHz mono; a clear error for a
/// file that is missing, corrupt, empty, silent or not finite.
pub fn read(path: &Path, max_seconds: f64) -> Result<Vec<f32>, String> {
    let name = path.display();
    let reader =
        hound::WavReader::open(path).map_err(|e| format!("cannot read {name} as WAV: {e}"))?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels.max(1));
    let rate = f64::from(spec.sample_rate);
    let frames_max = (max_seconds * rate).ceil() as usize;
    let take = frames_max * channels;
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .into_samples::<f32>()
            .take(take)
            .collect::<Result<_, _>>(),
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .into_samples::<i32>()
                .take(take)
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
        }
    }
    .map_err(|e| format!("{name} is corrupt: {e}"))?;
    let mono: Vec<f32> = interleaved
        .chunks_exact(channels)
        .map(|f| f.iter().sum::<f32>() / channels as f32)
        .collect();
    if mono.is_empty() {
        return Err(format!("{name} holds no audio"));
    }
    if !mono.iter().all(|x| x.is_finite()) {
        return Err(format!("{name} holds samples that are not finite"));
    }
    if mono.iter().all(|&x| x == 0.0) {
        return Err(format!("{name} is silent"));
    }
    to_model_rate(&mono, rate)
}

/// `mono` at `rate` resampled to 16 kHz by the plugin's own downsampler, delay removed.
pub fn to_model_rate(mono: &[f32], rate: f64) -> Result<Vec<f32>, String> {
    if rate == f64::from(MODEL_RATE) {
        return Ok(mono.to_vec());
    }
    let mut down = Downsampler::new(rate, 1, BLOCK).map_err(|e| e.to_string())?;
    let wanted = (mono.len() as f64 * f64::from(MODEL_RATE) / rate).round() as usize;
    let delay = down.delay();
    let mut out = Vec::with_capacity(wanted + delay + BLOCK);
    let mut block = vec![0.0; BLOCK];
    let mut pos = 0;
    while out.len() < wanted + delay {
        let need = down.frames_needed();
        let input: Vec<f32> = (pos..pos + need)
            .map(|i| mono.get(i).copied().unwrap_or(0.0))
            .collect();
        down.process(&input, &mut block);
        out.extend_from_slice(&block);
        pos += need;
    }
    out.drain(..delay);
    out.truncate(wanted);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, rate: u32, channels: u16, samples: &[f32]) {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).expect("create");
        for &s in samples {
            w.write_sample((s * 32767.0) as i16).expect("sample");
        }
        w.finalize().expect("finalize");
    }

    fn dir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("kb-voice-wav-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("dir");
        d
    }

    /// A 440 Hz tone at 48 kHz stereo comes out at 16 kHz mono, as long: the
    /// least-squares 440 Hz sinusoid through the output has the tone's amplitude
    /// and lies within one sample of it, and nothing else is left.
    #[test]
    fn a_stereo_48k_tone_becomes_the_16k_mono_tone() {
        use std::f64::consts::PI;
        let d = dir();
        let path = d.join("tone.wav");
        let stereo: Vec<f32> = (0..48_000)
            .flat_map(|i| {
                let v = (0.5 * (2.0 * PI * 440.0 * i as f64 / 48_000.0).sin()) as f32;
                [v, v]
            })
            .collect();
        write(&path, 48_000, 2, &stereo);
        let out = read(&path, 30.0).expect("read");
        assert_eq!(out.len(), 16_000);
        let w = 2.0 * PI * 440.0 / 16_000.0;
        let range = 1_000..15_000;
        let n = range.len() as f64;
        let (mut s, mut c) = (0.0, 0.0);
        for i in range.clone() {
            s += f64::from(out[i]) * (w * i as f64).sin();
            c += f64::from(out[i]) * (w * i as f64).cos();
        }
        let (a, b) = (2.0 * s / n, 2.0 * c / n);
        let amplitude = a.hypot(b);
        let lag = -b.atan2(a) / w;
        let residual: f64 = range
            .clone()
            .map(|i| {
                let t = w * i as f64;
                (f64::from(out[i]) - a * t.sin() - b * t.cos()).powi(2)
            })
            .sum::<f64>()
            / n;
        println!("amplitude {amplitude:.4}, lag {lag:.3} samples, residual {residual:.2e}");
        assert!((amplitude - 0.5).abs() < 5e-3, "{amplitude}");
        assert!(lag.abs() < 1.0, "{lag}");
        assert!(residual < 1e-6, "{residual}");
    }

    /// Only the first `max_seconds` are read.
    #[test]
    fn a_long_file_is_cut_to_the_limit() {
        let d = dir();
        let path = d.join("long.wav");
        let samples: Vec<f32> = (0..16_000 * 3)
            .map(|i| ((i % 50) as f32 - 25.0) / 100.0)
            .collect();
        write(&path, 16_000, 1, &samples);
        assert_eq!(read(&path, 1.5).expect("read").len(), 24_000);
    }

    /// Missing, corrupt, empty and silent files are refused, naming the file.
    #[test]
    fn unusable_files_get_clear_errors() {
        let d = dir();
        let missing = d.join("missing.wav");
        let junk = d.join("junk.wav");
        std::fs::write(&junk, b"RIFF nonsense").expect("write");
        let empty = d.join("empty.wav");
        write(&empty, 16_000, 1, &[]);
        let silent = d.join("silent.wav");
        write(&silent, 16_000, 1, &[0.0; 800]);
        for (path, why) in [
            (&missing, "cannot read"),
            (&junk, "cannot read"),
            (&empty, "no audio"),
            (&silent, "silent"),
        ] {
            let e = read(path, 30.0).unwrap_err();
            assert!(
                e.contains(why) && e.contains(&path.display().to_string()),
                "{e}"
            );
        }
    }
}
