//! Reading audio files of any supported format (WAV, FLAC, Ogg Vorbis, raw
//! G.722) and resampling them to 16 kHz.

use std::fs::File;
use std::path::Path;

use audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::audioadapter::Adapter;
use rubato::{Fft, FixedSync, Resampler};
use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::codecs::CodecParameters;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use crate::{g722, Error, Result, SAMPLE_RATE};

/// File extensions this module can decode.
pub const AUDIO_EXTENSIONS: [&str; 5] = ["wav", "flac", "ogg", "oga", "g722"];

/// Decoded audio: one vector of samples per channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    /// Sample rate in Hz.
    pub rate: u32,
    /// Samples per channel, in [-1, 1].
    pub channels: Vec<Vec<f32>>,
}

impl Audio {
    /// Number of samples per channel.
    pub fn len(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Average of the channels.
    pub fn to_mono(&self) -> Vec<f32> {
        let n = self.channels.len().max(1) as f32;
        (0..self.len())
            .map(|i| self.channels.iter().map(|c| c[i]).sum::<f32>() / n)
            .collect()
    }

    /// Resamples every channel to `rate`.
    pub fn resampled(self, rate: u32) -> Result<Audio> {
        if self.rate == rate {
            return Ok(self);
        }
        let channels = self
            .channels
            .iter()
            .map(|c| resample(c, self.rate, rate))
            .collect::<Result<_>>()?;
        Ok(Audio { rate, channels })
    }
}

/// True when the file name has an extension this module decodes.
pub fn is_audio_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Decodes a whole file, keeping its rate and channels.
pub fn read_audio(path: &Path) -> Result<Audio> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let audio = if ext == "g722" {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Audio {
            rate: SAMPLE_RATE,
            channels: vec![g722::decode(&bytes)],
        }
    } else {
        read_symphonia(path, &ext)?
    };
    if audio.is_empty() {
        return Err(Error::Decode {
            path: path.into(),
            reason: "no samples".into(),
        });
    }
    if audio.channels.iter().flatten().any(|x| !x.is_finite()) {
        return Err(Error::Decode {
            path: path.into(),
            reason: "non-finite samples".into(),
        });
    }
    Ok(audio)
}

/// Decodes a file, mixes it to mono and resamples it to 16 kHz.
pub fn read_mono_16k(path: &Path) -> Result<Vec<f32>> {
    to_mono_16k(path, read_audio(path)?)
}

/// Mixes audio decoded from `path` to mono and resamples it to 16 kHz.
pub fn to_mono_16k(path: &Path, audio: Audio) -> Result<Vec<f32>> {
    let mono = audio.to_mono();
    resample(&mono, audio.rate, SAMPLE_RATE).map_err(|e| Error::Decode {
        path: path.into(),
        reason: e.to_string(),
    })
}

fn read_symphonia(path: &Path, ext: &str) -> Result<Audio> {
    let bad = |reason: String| Error::Decode {
        path: path.into(),
        reason,
    };
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let stream = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    hint.with_extension(ext);
    let mut reader = symphonia::default::get_probe()
        .probe(
            &hint,
            stream,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| bad(e.to_string()))?;
    let track = reader
        .default_track(TrackType::Audio)
        .ok_or_else(|| bad("no audio track".into()))?;
    let track_id = track.id;
    let params = match &track.codec_params {
        Some(CodecParameters::Audio(p)) => p.clone(),
        _ => return Err(bad("no audio codec parameters".into())),
    };
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| bad(e.to_string()))?;
    let mut rate = params.sample_rate.unwrap_or(0);
    let mut channels: Vec<Vec<f32>> = Vec::new();
    let mut interleaved: Vec<f32> = Vec::new();
    loop {
        let packet = match reader.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(symphonia::core::errors::Error::IoError(e))
                if e.kind() == std::io::ErrorKind::UnexpectedEof =>
            {
                break
            }
            Err(e) => return Err(bad(e.to_string())),
        };
        if packet.track_id != track_id {
            continue;
        }
        let buffer = match decoder.decode(&packet) {
            Ok(b) => b,
            Err(symphonia::core::errors::Error::DecodeError(_)) => continue,
            Err(e) => return Err(bad(e.to_string())),
        };
        let spec = buffer.spec();
        rate = spec.rate();
        let count = spec.channels().count();
        if channels.is_empty() {
            channels = vec![Vec::new(); count];
        }
        if count != channels.len() {
            return Err(bad("channel count changes mid-stream".into()));
        }
        buffer.copy_to_vec_interleaved(&mut interleaved);
        for frame in interleaved.chunks_exact(count) {
            for (c, &x) in channels.iter_mut().zip(frame) {
                c.push(x);
            }
        }
    }
    if rate == 0 {
        return Err(bad("unknown sample rate".into()));
    }
    Ok(Audio { rate, channels })
}

/// Resamples one channel from `from` Hz to `to` Hz (band-limited FFT resampler).
pub fn resample(x: &[f32], from: u32, to: u32) -> Result<Vec<f32>> {
    if from == to || x.is_empty() {
        return Ok(x.to_vec());
    }
    let fail = |e: String| Error::Invalid(format!("resampling {from} Hz to {to} Hz: {e}"));
    let mut resampler = Fft::<f32>::new(from as usize, to as usize, 1024, 1, FixedSync::Input)
        .map_err(|e| fail(e.to_string()))?;
    let input = vec![x.to_vec()];
    let adapter =
        SequentialSliceOfVecs::new(&input, 1, x.len()).map_err(|e| fail(e.to_string()))?;
    let out = resampler
        .process_all(&adapter, x.len(), None)
        .map_err(|e| fail(e.to_string()))?;
    let expected = (x.len() as u64 * to as u64).div_ceil(from as u64) as usize;
    Ok((0..out.frames().min(expected))
        .map(|i| out.read_sample(0, i).unwrap_or(0.0))
        .collect())
}
