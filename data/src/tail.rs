//! The diffuse late reverberation tail: Gaussian noise coloured by the head's
//! diffuse-field spectra, with the two ears mixed to the interaural coherence
//! of a diffuse field, under the room's decay envelope.

use rand::Rng;
use rand_distr::StandardNormal;

use crate::conv::{inverse, spectrum};
use crate::hrtf::Head;
use crate::{SAMPLE_RATE, SPEED_OF_SOUND};

/// Distance between the ears in metres used by the coherence model.
pub const EAR_DISTANCE: f64 = 0.175;

/// Interaural coherence of a diffuse sound field at `freq` Hz: a sinc over an
/// effective ear distance 2.2 times the real one, rolled off at high
/// frequencies (the shape measured on heads and dummy heads).
pub fn diffuse_coherence(freq: f64) -> f64 {
    let x = 2.0 * std::f64::consts::PI * freq * EAR_DISTANCE / SPEED_OF_SOUND;
    let y = 2.2 * x;
    let sinc = if y.abs() < 1e-9 { 1.0 } else { y.sin() / y };
    sinc / (1.0 + (0.5 * x).powi(4)).sqrt()
}

/// `[left, right]` tail of `envelope.len()` samples; `envelope[i]` is the
/// standard deviation, per unit of the head's mean HRIR energy, at sample `i`.
pub fn diffuse_tail(head: &Head, envelope: &[f32], rng: &mut impl Rng) -> [Vec<f32>; 2] {
    diffuse_noise(head, envelope.len(), rng).map(|mut t| {
        t.iter_mut().zip(envelope).for_each(|(v, e)| *v *= e);
        t
    })
}

/// `[left, right]` diffuse noise of `len` samples at unit standard deviation
/// per unit of the head's mean HRIR energy (the tail under a flat envelope).
pub fn diffuse_noise(head: &Head, len: usize, rng: &mut impl Rng) -> [Vec<f32>; 2] {
    if len == 0 {
        return [Vec::new(), Vec::new()];
    }
    let n = len.next_power_of_two().max(2);
    let mut noise = || -> Vec<f32> { (0..n).map(|_| rng.sample(StandardNormal)).collect() };
    let (a, b) = (spectrum(&noise(), n), spectrum(&noise(), n));
    let mut left = Vec::with_capacity(a.len());
    let mut right = Vec::with_capacity(a.len());
    for (k, (x, y)) in a.iter().zip(&b).enumerate() {
        let freq = k as f64 * SAMPLE_RATE as f64 / n as f64;
        let g = diffuse_coherence(freq) as f32;
        let h = (1.0 - g * g).max(0.0).sqrt();
        left.push(x * head.diffuse_power(0, freq).sqrt());
        right.push((x * g + y * h) * head.diffuse_power(1, freq).sqrt());
    }
    [left, right].map(|spec| {
        let mut t = inverse(spec, n);
        t.truncate(len);
        t
    })
}
