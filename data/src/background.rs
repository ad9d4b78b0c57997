//! A low diffuse background under the talkers (air conditioning, traffic
//! far away): Gaussian noise of a drawn spectral tilt, coloured by the head's
//! diffuse-field response, the ears at the coherence of a diffuse field.

use rand::rngs::StdRng;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::hrtf::Head;
use crate::tail::diffuse_noise;

/// The background of a mixture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackgroundMeta {
    /// Background power relative to the talkers' (both ears), dB.
    pub level_db: f64,
    /// Pole of the one-pole low-pass that tilts its spectrum (0: white).
    pub tilt: f64,
}

/// `n` samples per ear of diffuse background through `head`, tilted by a
/// low-pass with the pole drawn in `[0, 0.95)`; unscaled.
pub fn diffuse_background(head: &Head, n: usize, rng: &mut StdRng) -> ([Vec<f32>; 2], f64) {
    let tilt = rng.random_range(0.0..0.95);
    let mut ears = diffuse_noise(head, n, rng);
    for ear in &mut ears {
        let mut y = 0.0f64;
        for v in ear.iter_mut() {
            y = (1.0 - tilt) * *v as f64 + tilt * y;
            *v = y as f32;
        }
    }
    (ears, tilt)
}
