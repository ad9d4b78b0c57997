//! The datagrams of the hint link: 16 kHz audio chunks up, hint frames down (in
//! fragments of at most [`FRAGMENT_BYTES`] bytes of values, so every datagram
//! fits the 1,200-byte QUIC minimum path MTU). Little-endian; every field is
//! checked on decode, and a datagram that fails a check is dropped and counted.

use half::f16;
use kb_models::CHUNK;
use thiserror::Error;

/// First two bytes of every datagram ("KB").
pub const MAGIC: [u8; 2] = *b"KB";
/// Version of this layout; a datagram of another version is refused.
pub const VERSION: u8 = 1;
/// Samples in one audio chunk: two ears of [`CHUNK`] samples, channel-major.
pub const CHUNK_VALUES: usize = 2 * CHUNK;
/// Bytes of hint values in one fragment.
pub const FRAGMENT_BYTES: usize = 1024;
/// Most fragments one hint may take.
pub const MAX_PARTS: usize = 32;
/// Largest datagram this layout makes.
pub const MAX_DATAGRAM: usize = HINT_HEADER + FRAGMENT_BYTES;

const KIND_AUDIO: u8 = 1;
const KIND_HINT: u8 = 2;
/// Magic, version, kind, then the tag and index.
const HEAD: usize = 4 + 4 + 4 + 8;
const AUDIO_LEN: usize = HEAD + 4 * CHUNK_VALUES;
/// Encoding, part, parts, reserved, total values, first value's offset.
const HINT_HEADER: usize = HEAD + 4 + 2 + 2;

/// Which model generation and which stream of it a chunk or hint belongs to
/// (the plugin's `Tag`): a change tells the server to start the large model afresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamTag {
    /// Model generation on the client.
    pub gen: u32,
    /// Stream (bumped by every reset) within the generation.
    pub stream: u32,
}

/// How hint values travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// 32-bit floats, exact.
    F32,
    /// 16-bit floats: half the bandwidth, about 3 significant digits.
    F16,
}

impl Encoding {
    /// Bytes per value.
    pub fn width(self) -> usize {
        match self {
            Self::F32 => 4,
            Self::F16 => 2,
        }
    }

    /// Values per fragment.
    pub fn per_fragment(self) -> usize {
        FRAGMENT_BYTES / self.width()
    }

    /// Fragments a hint of `values` takes.
    pub fn parts(self, values: usize) -> usize {
        values.div_ceil(self.per_fragment()).max(1)
    }

    fn code(self) -> u8 {
        match self {
            Self::F32 => 0,
            Self::F16 => 1,
        }
    }

    fn from_code(c: u8) -> Option<Self> {
        match c {
            0 => Some(Self::F32),
            1 => Some(Self::F16),
            _ => None,
        }
    }
}

/// Why a datagram was dropped.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum WireError {
    /// Shorter than its header, or not the length its header implies.
    #[error("a datagram of {0} bytes has the wrong length")]
    Length(usize),
    /// Not this protocol, or another version of it.
    #[error("not a knowledge-boost datagram of version {VERSION}")]
    Foreign,
    /// A kind or encoding this version does not know.
    #[error("unknown datagram kind or encoding")]
    Unknown,
    /// Fragment numbering or value offsets out of range.
    #[error("fragment fields out of range")]
    Fragment,
    /// A NaN or infinite value.
    #[error("a non-finite value")]
    NonFinite,
}

/// A decoded datagram; values are copied into the caller's buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Datagram {
    /// An audio chunk (its samples are in the decode buffer).
    Audio {
        /// Whose chunk.
        tag: StreamTag,
        /// Index of the chunk in its stream.
        index: u64,
    },
    /// One fragment of a hint frame (its values are in the decode buffer).
    Hint(Fragment),
}

/// Where one fragment's values sit in its hint frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragment {
    /// Whose hint.
    pub tag: StreamTag,
    /// Index of the chunk the hint was computed from.
    pub index: u64,
    /// This fragment's number, 0-based.
    pub part: usize,
    /// Fragments of the whole hint.
    pub parts: usize,
    /// Values in the whole hint.
    pub total: usize,
    /// Offset of this fragment's first value in the hint.
    pub offset: usize,
    /// Values in this fragment.
    pub count: usize,
}

fn head(out: &mut Vec<u8>, kind: u8, tag: StreamTag, index: u64) {
    out.clear();
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&[VERSION, kind]);
    out.extend_from_slice(&tag.gen.to_le_bytes());
    out.extend_from_slice(&tag.stream.to_le_bytes());
    out.extend_from_slice(&index.to_le_bytes());
}

/// Writes the audio datagram of chunk `index` ([2][CHUNK] samples) into `out`.
pub fn encode_audio(out: &mut Vec<u8>, tag: StreamTag, index: u64, samples: &[f32]) {
    debug_assert_eq!(samples.len(), CHUNK_VALUES);
    head(out, KIND_AUDIO, tag, index);
    for v in samples {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

/// Writes fragment `part` of the hint `values` of chunk `index` into `out`.
pub fn encode_hint(
    out: &mut Vec<u8>,
    tag: StreamTag,
    index: u64,
    values: &[f32],
    encoding: Encoding,
    part: usize,
) {
    let per = encoding.per_fragment();
    let parts = encoding.parts(values.len());
    debug_assert!(part < parts && parts <= MAX_PARTS && values.len() <= usize::from(u16::MAX));
    let offset = part * per;
    let slice = &values[offset.min(values.len())..(offset + per).min(values.len())];
    head(out, KIND_HINT, tag, index);
    out.extend_from_slice(&[encoding.code(), part as u8, parts as u8, 0]);
    out.extend_from_slice(&(values.len() as u16).to_le_bytes());
    out.extend_from_slice(&(offset as u16).to_le_bytes());
    for v in slice {
        match encoding {
            Encoding::F32 => out.extend_from_slice(&v.to_le_bytes()),
            Encoding::F16 => out.extend_from_slice(&f16::from_f32(*v).to_le_bytes()),
        }
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

/// Decodes `bytes`, its values into `values` (an audio chunk's
/// [`CHUNK_VALUES`] samples, or a fragment's `count` values from index 0).
/// `values` must hold at least [`FRAGMENT_BYTES`] / 2 and [`CHUNK_VALUES`] values.
pub fn decode(bytes: &[u8], values: &mut [f32]) -> Result<Datagram, WireError> {
    if bytes.len() < HEAD {
        return Err(WireError::Length(bytes.len()));
    }
    if bytes[..2] != MAGIC || bytes[2] != VERSION {
        return Err(WireError::Foreign);
    }
    let tag = StreamTag {
        gen: u32_at(bytes, 4),
        stream: u32_at(bytes, 8),
    };
    let index = u64::from(u32_at(bytes, 12)) | (u64::from(u32_at(bytes, 16)) << 32);
    match bytes[3] {
        KIND_AUDIO => {
            if bytes.len() != AUDIO_LEN {
                return Err(WireError::Length(bytes.len()));
            }
            for (v, b) in values.iter_mut().zip(bytes[HEAD..].chunks_exact(4)) {
                *v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            }
            if !values[..CHUNK_VALUES].iter().all(|v| v.is_finite()) {
                return Err(WireError::NonFinite);
            }
            Ok(Datagram::Audio { tag, index })
        }
        KIND_HINT => {
            if bytes.len() < HINT_HEADER {
                return Err(WireError::Length(bytes.len()));
            }
            let encoding = Encoding::from_code(bytes[HEAD]).ok_or(WireError::Unknown)?;
            let (part, parts) = (usize::from(bytes[HEAD + 1]), usize::from(bytes[HEAD + 2]));
            let total = usize::from(u16_at(bytes, HEAD + 4));
            let offset = usize::from(u16_at(bytes, HEAD + 6));
            let body = &bytes[HINT_HEADER..];
            let w = encoding.width();
            if !body.len().is_multiple_of(w) || body.len() > FRAGMENT_BYTES {
                return Err(WireError::Length(bytes.len()));
            }
            let count = body.len() / w;
            let per = encoding.per_fragment();
            let whole = parts == encoding.parts(total);
            let last = part + 1 == parts;
            let want = if last { total - offset.min(total) } else { per };
            if parts == 0
                || parts > MAX_PARTS
                || part >= parts
                || !whole
                || offset != part * per
                || count != want
                || count > values.len()
            {
                return Err(WireError::Fragment);
            }
            for (v, b) in values.iter_mut().zip(body.chunks_exact(w)) {
                *v = match encoding {
                    Encoding::F32 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
                    Encoding::F16 => f16::from_le_bytes([b[0], b[1]]).to_f32(),
                };
            }
            if !values[..count].iter().all(|v| v.is_finite()) {
                return Err(WireError::NonFinite);
            }
            Ok(Datagram::Hint(Fragment {
                tag,
                index,
                part,
                parts,
                total,
                offset,
                count,
            }))
        }
        _ => Err(WireError::Unknown),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_round_trips_exactly() {
        let samples: Vec<f32> = (0..CHUNK_VALUES).map(|i| (i as f32 * 0.37).sin()).collect();
        let tag = StreamTag { gen: 7, stream: 3 };
        let mut out = Vec::new();
        encode_audio(&mut out, tag, 1 << 40, &samples);
        assert_eq!(out.len(), AUDIO_LEN);
        let mut back = vec![0.0; CHUNK_VALUES];
        let d = decode(&out, &mut back).expect("decodes");
        assert_eq!(
            d,
            Datagram::Audio {
                tag,
                index: 1 << 40
            }
        );
        assert_eq!(back, samples);
    }

    /// Every fragment decodes to its share of the hint, f32 exactly, f16 to half precision.
    #[test]
    fn hint_fragments_cover_the_frame() {
        let hint: Vec<f32> = (0..776).map(|i| (i as f32 * 0.11).cos() * 3.0).collect();
        for enc in [Encoding::F32, Encoding::F16] {
            let parts = enc.parts(hint.len());
            assert_eq!(parts, hint.len().div_ceil(FRAGMENT_BYTES / enc.width()));
            let mut got = vec![f32::NAN; hint.len()];
            let mut buf = vec![0.0; FRAGMENT_BYTES / 2];
            for part in 0..parts {
                let mut out = Vec::new();
                encode_hint(&mut out, StreamTag::default(), 9, &hint, enc, part);
                assert!(out.len() <= MAX_DATAGRAM);
                let Datagram::Hint(f) = decode(&out, &mut buf).expect("decodes") else {
                    panic!("not a hint");
                };
                assert_eq!(
                    (f.part, f.parts, f.total, f.index),
                    (part, parts, hint.len(), 9)
                );
                got[f.offset..f.offset + f.count].copy_from_slice(&buf[..f.count]);
            }
            for (g, h) in got.iter().zip(&hint) {
                let tol = if enc == Encoding::F32 {
                    0.0
                } else {
                    h.abs() * 1e-3 + 1e-4
                };
                assert!((g - h).abs() <= tol, "{enc:?}: {g} vs {h}");
            }
        }
    }

    #[test]
    fn damaged_datagrams_are_refused() {
        let mut out = Vec::new();
        encode_audio(&mut out, StreamTag::default(), 1, &[0.5; CHUNK_VALUES]);
        let mut buf = vec![0.0; CHUNK_VALUES];
        assert_eq!(
            decode(&out[..out.len() - 1], &mut buf),
            Err(WireError::Length(out.len() - 1))
        );
        let mut foreign = out.clone();
        foreign[2] = VERSION + 1;
        assert_eq!(decode(&foreign, &mut buf), Err(WireError::Foreign));
        let mut nan = out.clone();
        nan[HEAD..HEAD + 4].copy_from_slice(&f32::NAN.to_le_bytes());
        assert_eq!(decode(&nan, &mut buf), Err(WireError::NonFinite));
        let hint = vec![1.0; 300];
        encode_hint(&mut out, StreamTag::default(), 1, &hint, Encoding::F32, 1);
        let mut shifted = out.clone();
        shifted[HEAD + 6] ^= 1;
        assert_eq!(decode(&shifted, &mut buf), Err(WireError::Fragment));
        let mut bad_parts = out.clone();
        bad_parts[HEAD + 2] = 5;
        assert_eq!(decode(&bad_parts, &mut buf), Err(WireError::Fragment));
    }

    /// The decoder on random bytes and on valid datagrams with random bytes
    /// changed, cut or added: it answers every one (no panic), and what it
    /// accepts stays inside the buffer with finite values.
    #[test]
    fn the_decoder_survives_fuzzing() {
        use rand::{rngs::StdRng, Rng, SeedableRng};
        let mut rng = StdRng::seed_from_u64(2026);
        let mut valid = Vec::new();
        let mut out = Vec::new();
        encode_audio(
            &mut out,
            StreamTag { gen: 1, stream: 2 },
            3,
            &[0.25; CHUNK_VALUES],
        );
        valid.push(out.clone());
        let hint: Vec<f32> = (0..700).map(|i| i as f32 / 700.0).collect();
        for enc in [Encoding::F32, Encoding::F16] {
            for part in 0..enc.parts(hint.len()) {
                encode_hint(&mut out, StreamTag::default(), 5, &hint, enc, part);
                valid.push(out.clone());
            }
        }
        let mut buf = vec![0.0; CHUNK_VALUES.max(FRAGMENT_BYTES / 2)];
        let (mut accepted, mut refused) = (0, 0);
        for round in 0..20_000 {
            let mut d = if round % 4 == 0 {
                (0..rng.random_range(0..1400))
                    .map(|_| rng.random())
                    .collect()
            } else {
                valid[rng.random_range(0..valid.len())].clone()
            };
            match rng.random_range(0..4) {
                0 => {
                    let n = d.len();
                    for _ in 0..rng.random_range(1..4) {
                        if n > 0 {
                            d[rng.random_range(0..n)] = rng.random();
                        }
                    }
                }
                1 => d.truncate(rng.random_range(0..=d.len())),
                2 => d.extend((0..rng.random_range(1..64)).map(|_| rng.random::<u8>())),
                _ => {}
            }
            match decode(&d, &mut buf) {
                Ok(Datagram::Hint(f)) => {
                    assert!(f.offset + f.count <= f.total && f.part < f.parts);
                    assert!(buf[..f.count].iter().all(|v| v.is_finite()));
                    accepted += 1;
                }
                Ok(Datagram::Audio { .. }) => {
                    assert!(buf[..CHUNK_VALUES].iter().all(|v| v.is_finite()));
                    accepted += 1;
                }
                Err(_) => refused += 1,
            }
        }
        assert!(
            accepted > 1_000 && refused > 10_000,
            "{accepted} accepted, {refused} refused"
        );
    }
}
