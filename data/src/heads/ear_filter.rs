//! Second-order filters that shape one ear's response: the concha
//! resonance, the elevation-dependent pinna notch, the shadow of the pinna
//! for sources behind the head and an overall spectral tilt.

use serde::{Deserialize, Serialize};

use crate::SAMPLE_RATE;

/// A biquad section (RBJ cookbook), run on f64 samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
}

impl Biquad {
    /// Peaking equaliser at `freq` Hz with `gain_db` and quality `q`.
    pub fn peaking(freq: f64, gain_db: f64, q: f64) -> Biquad {
        let a = 10f64.powf(gain_db / 40.0);
        let w = 2.0 * std::f64::consts::PI * freq / SAMPLE_RATE as f64;
        let alpha = w.sin() / (2.0 * q);
        let a0 = 1.0 + alpha / a;
        Biquad {
            b: [
                (1.0 + alpha * a) / a0,
                -2.0 * w.cos() / a0,
                (1.0 - alpha * a) / a0,
            ],
            a: [-2.0 * w.cos() / a0, (1.0 - alpha / a) / a0],
        }
    }

    /// High shelf at `freq` Hz with `gain_db` (slope 1).
    pub fn high_shelf(freq: f64, gain_db: f64) -> Biquad {
        let a = 10f64.powf(gain_db / 40.0);
        let w = 2.0 * std::f64::consts::PI * freq / SAMPLE_RATE as f64;
        let (sin, cos) = w.sin_cos();
        let alpha = sin / 2.0 * 2f64.sqrt();
        let root = 2.0 * a.sqrt() * alpha;
        let a0 = (a + 1.0) - (a - 1.0) * cos + root;
        Biquad {
            b: [
                a * ((a + 1.0) + (a - 1.0) * cos + root) / a0,
                -2.0 * a * ((a - 1.0) + (a + 1.0) * cos) / a0,
                a * ((a + 1.0) + (a - 1.0) * cos - root) / a0,
            ],
            a: [
                2.0 * ((a - 1.0) - (a + 1.0) * cos) / a0,
                ((a + 1.0) - (a - 1.0) * cos - root) / a0,
            ],
        }
    }

    /// Filters `x` in place (zero initial state).
    pub fn run(&self, x: &mut [f64]) {
        let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
        for v in x.iter_mut() {
            let y =
                self.b[0] * *v + self.b[1] * x1 + self.b[2] * x2 - self.a[0] * y1 - self.a[1] * y2;
            (x2, x1, y2, y1) = (x1, *v, y1, y);
            *v = y;
        }
    }
}

/// Highest centre frequency of a pinna notch (below the 8 kHz Nyquist frequency).
const NOTCH_MAX_HZ: f64 = 7_600.0;

/// The outer ear's direction-dependent colouring of one ear.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pinna {
    /// Concha resonance: centre frequency in Hz.
    pub resonance_hz: f64,
    /// Concha resonance: gain in dB.
    pub resonance_db: f64,
    /// Pinna notch centre at 0° elevation, Hz.
    pub notch_hz: f64,
    /// How far the notch moves up per degree of elevation, Hz.
    pub notch_hz_per_degree: f64,
    /// Notch depth in dB (positive).
    pub notch_depth_db: f64,
    /// Notch quality factor.
    pub notch_q: f64,
    /// High-frequency loss above 3 kHz for a source straight behind, dB (positive).
    pub rear_shadow_db: f64,
    /// Overall tilt above 2 kHz, dB (either sign).
    pub tilt_db: f64,
}

impl Pinna {
    /// Colours `response` (an HRIR of this ear) for a source in the unit
    /// head-frame `direction` (x ahead, y left, z up).
    pub fn apply(&self, direction: [f64; 3], response: &mut [f64]) {
        let elevation = direction[2].clamp(-1.0, 1.0).asin().to_degrees();
        let notch =
            (self.notch_hz + self.notch_hz_per_degree * elevation).clamp(3_000.0, NOTCH_MAX_HZ);
        Biquad::peaking(self.resonance_hz, self.resonance_db, 1.2).run(response);
        Biquad::peaking(notch, -self.notch_depth_db, self.notch_q).run(response);
        let behind = (-direction[0]).max(0.0);
        let shelf = self.tilt_db - self.rear_shadow_db * behind;
        if shelf.abs() > 1e-9 {
            Biquad::high_shelf(if behind > 0.0 { 3_000.0 } else { 2_000.0 }, shelf).run(response);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Magnitude in dB of the impulse response `h` at `freq` Hz (direct DFT).
    fn gain_db(h: &[f64], freq: f64) -> f64 {
        let w = 2.0 * std::f64::consts::PI * freq / SAMPLE_RATE as f64;
        let (re, im) = h.iter().enumerate().fold((0.0, 0.0), |(re, im), (n, v)| {
            (re + v * (w * n as f64).cos(), im - v * (w * n as f64).sin())
        });
        10.0 * (re * re + im * im).log10()
    }

    fn impulse() -> Vec<f64> {
        let mut x = vec![0.0; 2048];
        x[0] = 1.0;
        x
    }

    #[test]
    fn a_peaking_filter_has_its_gain_at_its_centre_and_none_far_away() {
        let mut h = impulse();
        Biquad::peaking(4_000.0, -12.0, 4.0).run(&mut h);
        assert!(
            (gain_db(&h, 4_000.0) + 12.0).abs() < 0.05,
            "{}",
            gain_db(&h, 4_000.0)
        );
        assert!(gain_db(&h, 300.0).abs() < 0.1);
    }

    #[test]
    fn a_high_shelf_reaches_its_gain_at_the_top_and_leaves_the_bottom() {
        let mut h = impulse();
        Biquad::high_shelf(2_000.0, -6.0).run(&mut h);
        assert!(
            (gain_db(&h, 7_900.0) + 6.0).abs() < 0.3,
            "{}",
            gain_db(&h, 7_900.0)
        );
        assert!(gain_db(&h, 100.0).abs() < 0.1);
    }

    #[test]
    fn the_pinna_notch_rises_with_elevation() {
        let pinna = Pinna {
            resonance_hz: 3_500.0,
            resonance_db: 0.0,
            notch_hz: 6_000.0,
            notch_hz_per_degree: 30.0,
            notch_depth_db: 15.0,
            notch_q: 4.0,
            rear_shadow_db: 0.0,
            tilt_db: 0.0,
        };
        let up = 20f64.to_radians();
        let (mut level, mut raised) = (impulse(), impulse());
        pinna.apply([1.0, 0.0, 0.0], &mut level);
        pinna.apply([up.cos(), 0.0, up.sin()], &mut raised);
        // At 0° the notch sits at 6 kHz, at 20° at 6.6 kHz.
        assert!(gain_db(&level, 6_000.0) < -14.0);
        assert!(gain_db(&raised, 6_600.0) < -14.0);
        assert!(gain_db(&raised, 6_000.0) > gain_db(&level, 6_000.0) + 5.0);
    }
}
