//! Writing WAV files atomically (a temporary name, then a rename), so an
//! interrupted run never leaves a truncated file under the final name.

use std::path::{Path, PathBuf};

use crate::{Error, Result, SAMPLE_RATE};

/// Sample encoding of a written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// 16-bit integer PCM (the cache's clips).
    Pcm16,
    /// 32-bit float (rendered mixtures and targets, which may exceed 16-bit precision).
    Float32,
}

/// The temporary name used while `path` is being written.
pub fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    path.with_file_name(name)
}

/// Writes 16 kHz audio (`channels[c][i]`) to `path` atomically.
pub fn write(path: &Path, channels: &[&[f32]], encoding: Encoding) -> Result<()> {
    let n = channels.first().map_or(0, |c| c.len());
    if channels.iter().any(|c| c.len() != n) {
        return Err(Error::Invalid(format!(
            "{}: channels differ in length",
            path.display()
        )));
    }
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: SAMPLE_RATE,
        bits_per_sample: if encoding == Encoding::Pcm16 { 16 } else { 32 },
        sample_format: if encoding == Encoding::Pcm16 {
            hound::SampleFormat::Int
        } else {
            hound::SampleFormat::Float
        },
    };
    let tmp = temp_path(path);
    let wav_err = |e: hound::Error| Error::io(&tmp, std::io::Error::other(e.to_string()));
    let mut writer = hound::WavWriter::create(&tmp, spec).map_err(wav_err)?;
    for i in 0..n {
        for c in channels {
            match encoding {
                Encoding::Pcm16 => writer
                    .write_sample((c[i].clamp(-1.0, 1.0) * 32767.0).round() as i16)
                    .map_err(wav_err)?,
                Encoding::Float32 => writer.write_sample(c[i]).map_err(wav_err)?,
            }
        }
    }
    writer.finalize().map_err(wav_err)?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// Number of samples per channel in a WAV file, read from its header.
pub fn wav_len(path: &Path) -> Result<usize> {
    let reader = hound::WavReader::open(path)
        .map_err(|e| Error::io(path, std::io::Error::other(e.to_string())))?;
    Ok(reader.duration() as usize)
}

/// Writes `bytes` to `path` atomically.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_path(path);
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}
