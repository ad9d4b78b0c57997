//! A measured head made into another: per-direction gain and delay jitter
//! (smooth over the sphere), a scaled interaural delay (another head size)
//! and each ear's pinna colouring moved, drawn from a seed.

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::ear_filter::Pinna;
use super::parametric::draw_pinna;
use crate::hrtf::{shift_by, sphere_ear, unit, Head, HrirSource};
use crate::SAMPLE_RATE;

/// Smooth functions on the sphere the jitter is made of (real spherical
/// harmonics up to order 2, unnormalised).
fn basis(d: [f64; 3]) -> [f64; 9] {
    let [x, y, z] = d;
    [
        1.0,
        x,
        y,
        z,
        x * y,
        x * z,
        y * z,
        x * x - y * y,
        3.0 * z * z - 1.0,
    ]
}

/// Per-direction gain standard deviation of the jitter, dB.
pub const GAIN_JITTER_DB: f64 = 1.5;
/// Per-direction delay standard deviation of the jitter, samples at 16 kHz.
pub const DELAY_JITTER: f64 = 0.25;
/// Range of the interaural-delay scale (a head 10 % smaller to 10 % larger).
pub const ITD_SCALE: (f64, f64) = (0.9, 1.1);

/// A perturbed copy of a head.
pub struct PerturbedHead {
    name: String,
    base: Arc<Head>,
    gain: [[f64; 9]; 2],
    delay: [[f64; 9]; 2],
    itd_scale: f64,
    pinnae: [Pinna; 2],
}

impl PerturbedHead {
    /// The perturbation of `base` drawn from `seed` (the same seed, the same head).
    pub fn draw(base: Arc<Head>, seed: u64) -> PerturbedHead {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x9e27_b0a5);
        let mut field = |sd: f64| -> [[f64; 9]; 2] {
            std::array::from_fn(|_| std::array::from_fn(|_| sd * rng.random_range(-1.0..1.0)))
        };
        let gain = field(GAIN_JITTER_DB / 2.0);
        let delay = field(DELAY_JITTER / 2.0);
        let itd_scale = rng.random_range(ITD_SCALE.0..ITD_SCALE.1);
        // The measured pinna keeps its own notches; the added ones are shallower.
        let mut pinnae = [draw_pinna(&mut rng), draw_pinna(&mut rng)];
        for p in &mut pinnae {
            p.notch_depth_db *= 0.5;
            p.resonance_db *= 0.5;
            p.rear_shadow_db *= 0.25;
        }
        PerturbedHead {
            name: format!("{}-perturbed-{seed}", base.name()),
            base,
            gain,
            delay,
            itd_scale,
            pinnae,
        }
    }
}

impl HrirSource for PerturbedHead {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn len(&self) -> usize {
        self.base.len()
    }

    fn hrir(&self, direction: [f64; 3]) -> [Vec<f32>; 2] {
        let unit = unit(direction);
        let b = basis(unit);
        let base = self.base.hrir(direction);
        let fs = SAMPLE_RATE as f64;
        std::array::from_fn(|e| {
            let dot = |c: &[f64; 9]| c.iter().zip(&b).map(|(c, b)| c * b).sum::<f64>();
            let gain = 10f64.powf(dot(&self.gain[e]) / 20.0);
            // The head-size change moves each ear's arrival by its share of the
            // spherical model's delay.
            let side = if e == 0 { 1.0 } else { -1.0 };
            let theta = (side * unit[1]).clamp(-1.0, 1.0).acos();
            let (_, ear_delay) = sphere_ear(0.0875, theta, 0);
            let shift = (self.itd_scale - 1.0) * ear_delay * fs + dot(&self.delay[e]);
            let response: Vec<f64> = base[e].iter().map(|v| *v as f64).collect();
            let mut out = shift_by(&response, shift, response.len());
            out.iter_mut().for_each(|v| *v *= gain);
            self.pinnae[e].apply(unit, &mut out);
            out.into_iter().map(|v| v as f32).collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_perturbed_head_differs_from_its_base_by_a_little() {
        let base = Arc::new(Head::spherical());
        let head = PerturbedHead::draw(base.clone(), 1);
        let other = PerturbedHead::draw(base.clone(), 2);
        let d = [0.6, 0.7, 0.3];
        let (a, b, c) = (base.hrir(d), head.hrir(d), other.hrir(d));
        let energy = |h: &[f32]| h.iter().map(|v| (*v as f64).powi(2)).sum::<f64>();
        let diff = |x: &[f32], y: &[f32]| {
            x.iter()
                .zip(y)
                .map(|(x, y)| ((x - y) as f64).powi(2))
                .sum::<f64>()
        };
        for e in 0..2 {
            let rel = diff(&a[e], &b[e]) / energy(&a[e]);
            // Changed, but still the same kind of response (within about -3 dB of error).
            assert!(rel > 1e-4 && rel < 0.5, "ear {e}: {rel}");
            assert!(diff(&b[e], &c[e]) > 1e-6 * energy(&a[e]));
        }
        assert_eq!(head.hrir(d), PerturbedHead::draw(base, 1).hrir(d));
    }
}
