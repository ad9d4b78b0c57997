//! A drawn head: a rigid sphere of drawn radius with ears at drawn angles
//! (each ear its own), and a pinna that colours each ear by direction.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::ear_filter::Pinna;
use crate::hrtf::{place_at, sphere_ear, unit, HrirSource, LEAD};
use crate::SAMPLE_RATE;

/// Where one ear sits on the sphere.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ear {
    /// Azimuth of the ear's axis in degrees, positive to the left (about ±100).
    pub azimuth_deg: f64,
    /// Elevation of the ear's axis in degrees.
    pub elevation_deg: f64,
}

impl Ear {
    /// Unit vector of the ear's axis in the head frame (x ahead, y left, z up).
    fn axis(&self) -> [f64; 3] {
        let (az, el) = (
            self.azimuth_deg.to_radians(),
            self.elevation_deg.to_radians(),
        );
        [el.cos() * az.cos(), el.cos() * az.sin(), el.sin()]
    }
}

/// A spherical head with drawn geometry and pinnae.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParametricHead {
    /// Name recorded in manifests.
    pub name: String,
    /// Sphere radius in metres.
    pub radius: f64,
    /// Left and right ear.
    pub ears: [Ear; 2],
    /// Left and right pinna.
    pub pinnae: [Pinna; 2],
    /// HRIR length in samples.
    pub taps: usize,
}

/// Radius range of drawn heads in metres (adult head breadths of about 14 to 17 cm, plus margin).
pub const RADIUS: (f64, f64) = (0.075, 0.10);

/// Draws one pinna.
pub fn draw_pinna(rng: &mut StdRng) -> Pinna {
    Pinna {
        resonance_hz: rng.random_range(2_500.0..4_500.0),
        resonance_db: rng.random_range(2.0..8.0),
        notch_hz: rng.random_range(5_000.0..7_000.0),
        notch_hz_per_degree: rng.random_range(10.0..40.0),
        notch_depth_db: rng.random_range(6.0..20.0),
        notch_q: rng.random_range(2.0..6.0),
        rear_shadow_db: rng.random_range(2.0..8.0),
        tilt_db: rng.random_range(-3.0..3.0),
    }
}

impl ParametricHead {
    /// The head drawn from `seed` (the same seed, the same head).
    pub fn draw(seed: u64) -> ParametricHead {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed_4ead);
        let radius = rng.random_range(RADIUS.0..RADIUS.1);
        let back = rng.random_range(0.0..15.0);
        let down = rng.random_range(-10.0..5.0);
        let ears = [1.0, -1.0].map(|side: f64| Ear {
            azimuth_deg: side * (90.0 + back + rng.random_range(-3.0..3.0)),
            elevation_deg: down + rng.random_range(-2.0..2.0),
        });
        let pinnae = [draw_pinna(&mut rng), draw_pinna(&mut rng)];
        ParametricHead {
            name: format!("parametric-{seed}-r{:.1}cm", radius * 100.0),
            radius,
            ears,
            pinnae,
            taps: 96,
        }
    }
}

impl HrirSource for ParametricHead {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn len(&self) -> usize {
        self.taps
    }

    fn hrir(&self, direction: [f64; 3]) -> [Vec<f32>; 2] {
        let unit = unit(direction);
        std::array::from_fn(|e| {
            let axis = self.ears[e].axis();
            let cos = (0..3).map(|i| unit[i] * axis[i]).sum::<f64>();
            let (mut response, delay) =
                sphere_ear(self.radius, cos.clamp(-1.0, 1.0).acos(), self.taps);
            self.pinnae[e].apply(unit, &mut response);
            place_at(
                &response,
                LEAD as f64 + delay * SAMPLE_RATE as f64,
                self.taps,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn onset(h: &[f32]) -> usize {
        let peak = h.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        h.iter().position(|v| v.abs() >= 0.5 * peak).unwrap()
    }

    #[test]
    fn the_same_seed_draws_the_same_head_and_another_seed_another() {
        assert_eq!(ParametricHead::draw(3), ParametricHead::draw(3));
        assert_ne!(
            ParametricHead::draw(3).radius,
            ParametricHead::draw(4).radius
        );
    }

    #[test]
    fn a_source_on_the_left_reaches_the_left_ear_first_and_louder() {
        for seed in 0..8 {
            let head = ParametricHead::draw(seed);
            assert!((RADIUS.0..RADIUS.1).contains(&head.radius));
            let [l, r] = head.hrir([0.0, 1.0, 0.0]);
            let energy = |h: &[f32]| h.iter().map(|v| v * v).sum::<f32>();
            assert!(
                onset(&l) + 5 <= onset(&r),
                "seed {seed}: {} {}",
                onset(&l),
                onset(&r)
            );
            assert!(energy(&l) > 2.0 * energy(&r), "seed {seed}");
        }
    }
}
