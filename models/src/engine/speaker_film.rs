//! Speaker FiLM for one frame: the enrolled speaker's per-channel, per-bin
//! scale and shift, computed once per enrollment and applied to every frame.

use super::tensors::TensorSource;
use crate::error::{Error, Result};

/// The engine's [`crate::speaker_film::SpeakerFilm`].
#[derive(Debug, Clone)]
pub struct SpeakerFilm {
    /// Scale and shift maps, each ([D * F, E] weight, [D * F] bias).
    maps: [(Vec<f32>, Vec<f32>); 2],
    /// The current speaker's scale and shift in frame layout [F, D].
    condition: [Vec<f32>; 2],
    d: usize,
    freqs: usize,
    width: usize,
}

impl SpeakerFilm {
    /// Loads the maps under `src` from `width` embedding values to `d` x `freqs`.
    pub fn load(src: &TensorSource, width: usize, d: usize, freqs: usize) -> Result<Self> {
        let n = d * freqs;
        let map = |name: &str| -> Result<(Vec<f32>, Vec<f32>)> {
            let m = src.pp(name);
            Ok((m.get("weight", &[n, width])?, m.get("bias", &[n])?))
        };
        Ok(Self {
            maps: [map("scale")?, map("shift")?],
            condition: [vec![0.0; n], vec![0.0; n]],
            d,
            freqs,
            width,
        })
    }

    /// Computes the scale and shift of the speaker `embedding` (E values). Allocates nothing.
    pub fn set(&mut self, embedding: &[f32]) -> Result<()> {
        if embedding.len() != self.width {
            return Err(Error::Input(format!(
                "expected a speaker embedding of {} values, got {}",
                self.width,
                embedding.len()
            )));
        }
        for ((w, b), out) in self.maps.iter().zip(&mut self.condition) {
            for (o, (row, bias)) in w.chunks_exact(self.width).zip(b).enumerate() {
                let v: f32 = row.iter().zip(embedding).map(|(a, e)| a * e).sum();
                let (c, f) = (o / self.freqs, o % self.freqs);
                out[f * self.d + c] = bias + v;
            }
        }
        Ok(())
    }

    /// Scales and shifts frame `z` [F, D] in place.
    pub fn forward(&self, z: &mut [f32]) {
        let [scale, shift] = &self.condition;
        for ((v, s), h) in z.iter_mut().zip(scale).zip(shift) {
            *v = *v * s + h;
        }
    }
}
