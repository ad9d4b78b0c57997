//! 16-bit samples in memory: the cache stores every clip as 16-bit WAV, so
//! holding them as `i16` is lossless and halves the pools' memory.

use std::sync::Arc;

/// Scale of a 16-bit sample: the decoders read `s` as `s / 32768`.
const SCALE: f32 = 32_768.0;

/// The value of the 16-bit sample `s`.
fn value(s: i16) -> f32 {
    s as f32 / SCALE
}

/// A clip's samples as 16-bit integers, read as f32 in [-1, 1).
#[derive(Debug, Clone)]
pub struct Pcm16(Arc<[i16]>);

impl Pcm16 {
    /// Rounds `x` to the nearest 16-bit value (clamped to [-1, 1)); exact for
    /// samples that were decoded from 16-bit audio.
    pub fn from_f32(x: &[f32]) -> Self {
        Self(
            x.iter()
                .map(|&v| (v * SCALE).round().clamp(-SCALE, SCALE - 1.0) as i16)
                .collect(),
        )
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the clip has no samples.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Sample `i`.
    pub fn get(&self, i: usize) -> f32 {
        value(self.0[i])
    }

    /// Every sample, in order.
    pub fn iter(&self) -> impl Iterator<Item = f32> + '_ {
        self.0.iter().map(|&s| value(s))
    }

    /// Writes samples `from..from + out.len()` into `out`.
    pub fn copy_to(&self, from: usize, out: &mut [f32]) {
        let src = &self.0[from..from + out.len()];
        for (o, &s) in out.iter_mut().zip(src) {
            *o = value(s);
        }
    }

    /// Samples `from..from + n` as a new vector.
    pub fn to_vec(&self, from: usize, n: usize) -> Vec<f32> {
        let mut out = vec![0.0; n];
        self.copy_to(from, &mut out);
        out
    }
}

impl From<Vec<f32>> for Pcm16 {
    fn from(x: Vec<f32>) -> Self {
        Self::from_f32(&x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_16_bit_value_round_trips_exactly() {
        // What the decoders produce from a 16-bit file: s / 32768 for every s.
        let decoded: Vec<f32> = (i16::MIN..=i16::MAX).map(|s| s as f32 / 32_768.0).collect();
        let pcm = Pcm16::from_f32(&decoded);
        assert_eq!(pcm.len(), decoded.len());
        assert!(pcm.iter().zip(&decoded).all(|(a, &b)| a == b));
        let mut out = vec![0.0; 3];
        pcm.copy_to(40_000, &mut out);
        assert_eq!(out, decoded[40_000..40_003]);
        assert_eq!(pcm.get(0), -1.0);
    }

    #[test]
    fn out_of_range_samples_clamp() {
        let pcm = Pcm16::from_f32(&[2.0, -2.0, 0.25]);
        assert_eq!(pcm.get(0), 32_767.0 / 32_768.0);
        assert_eq!(pcm.get(1), -1.0);
        assert_eq!(pcm.get(2), 0.25);
    }
}
