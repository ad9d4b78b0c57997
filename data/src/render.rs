//! Binaural room impulse responses: image sources filtered by the HRIR of
//! their direction of arrival, crossfaded into a diffuse tail.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::conv::{fractional_tap, SINC_HALF_WIDTH};
use crate::hrtf::{Head, LEAD};
use crate::room::Room;
use crate::tail::diffuse_tail;
use crate::{SAMPLE_RATE, SPEED_OF_SOUND};

/// Timing of the parts of a response.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RenderConfig {
    /// Reflections arriving up to this many seconds after the direct path belong to the target.
    pub early: f64,
    /// Image sources are rendered up to this many seconds after the direct path; the diffuse tail takes over there.
    pub mixing: f64,
    /// Half-length in seconds of the power-complementary crossfade from images to tail.
    pub fade: f64,
}

impl Default for RenderConfig {
    fn default() -> Self {
        RenderConfig {
            early: 0.05,
            mixing: 0.055,
            fade: 0.005,
        }
    }
}

/// Where a source and the listener are.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    /// Source position in room coordinates (metres).
    pub source: [f64; 3],
    /// Head-centre position in room coordinates (metres).
    pub listener: [f64; 3],
    /// Direction the listener faces, radians counter-clockwise from the room's x axis.
    pub yaw: f64,
}

impl Placement {
    /// Unit vector from the head to `point` in the head frame (x ahead, y left, z up).
    pub fn head_direction(&self, point: [f64; 3]) -> [f64; 3] {
        let v = [
            point[0] - self.listener[0],
            point[1] - self.listener[1],
            point[2] - self.listener[2],
        ];
        let (s, c) = self.yaw.sin_cos();
        let h = [c * v[0] + s * v[1], -s * v[0] + c * v[1], v[2]];
        let n = h.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
        h.map(|x| x / n)
    }

    /// Distance from the head centre to the source (metres).
    pub fn distance(&self) -> f64 {
        (0..3)
            .map(|i| (self.source[i] - self.listener[i]).powi(2))
            .sum::<f64>()
            .sqrt()
    }

    /// Azimuth (degrees, positive to the left) and elevation (degrees) of the source.
    pub fn azimuth_elevation(&self) -> (f64, f64) {
        let d = self.head_direction(self.source);
        (
            d[1].atan2(d[0]).to_degrees(),
            d[2].clamp(-1.0, 1.0).asin().to_degrees(),
        )
    }
}

/// A binaural room impulse response and its early part.
#[derive(Debug, Clone, PartialEq)]
pub struct Brir {
    /// The whole response, `[left, right]`.
    pub full: [Vec<f32>; 2],
    /// Direct path plus reflections within `RenderConfig::early` of it, `[left, right]`.
    pub early: [Vec<f32>; 2],
    /// Arrival time of the direct path at the head centre, in samples.
    pub direct: f64,
}

/// Power-complementary weight of the image part at time `t` (seconds).
fn image_weight(t: f64, mix: f64, fade: f64) -> f64 {
    if t <= mix - fade {
        1.0
    } else if t >= mix + fade {
        0.0
    } else {
        let x = (t - (mix - fade)) / (2.0 * fade);
        0.5 + 0.5 * (std::f64::consts::PI * x).cos()
    }
}

/// Adds `gain * hrir` delayed by `delay` samples (fractional) into `out`.
fn add_delayed(out: &mut [f32], hrir: &[f32], delay: f64, gain: f64) {
    let base = delay.floor() as isize;
    let w = SINC_HALF_WIDTH as isize;
    for m in base - w + 1..=base + w {
        let c = (gain * fractional_tap(m as f64 - delay)) as f32;
        if c == 0.0 {
            continue;
        }
        for (k, &h) in hrir.iter().enumerate() {
            let j = m + k as isize;
            if j >= 0 && (j as usize) < out.len() {
                out[j as usize] += c * h;
            }
        }
    }
}

/// Renders the response from `placement.source` to the two ears of `head` in `room`.
pub fn render_brir(
    room: &Room,
    placement: &Placement,
    head: &Head,
    cfg: &RenderConfig,
    rng: &mut impl Rng,
) -> Brir {
    let fs = SAMPLE_RATE as f64;
    let direct_time = placement.distance() / SPEED_OF_SOUND;
    let mix = direct_time + cfg.mixing;
    let rt60 = room.rt60();
    let len = ((direct_time + rt60.max(cfg.mixing + 2.0 * cfg.fade)) * fs).ceil() as usize
        + head.len()
        + 2 * SINC_HALF_WIDTH as usize;
    let mut full = [vec![0.0f32; len], vec![0.0f32; len]];
    let mut early = [vec![0.0f32; len], vec![0.0f32; len]];
    for image in room.images(placement.source, placement.listener, mix + cfg.fade) {
        let t = image.delay();
        let weight = image_weight(t, mix, cfg.fade).sqrt();
        if weight == 0.0 {
            continue;
        }
        let pair = head.hrir(placement.head_direction(image.position));
        let delay = t * fs - LEAD as f64;
        let is_early = t <= direct_time + cfg.early + 1e-12;
        for ear in 0..2 {
            add_delayed(&mut full[ear], &pair[ear], delay, image.gain * weight);
            if is_early {
                add_delayed(&mut early[ear], &pair[ear], delay, image.gain);
            }
        }
    }
    let rates = room.energy_rates(1.0 / fs, len);
    let envelope: Vec<f32> = rates
        .iter()
        .enumerate()
        .map(|(i, rate)| {
            let tail = 1.0 - image_weight(i as f64 / fs, mix, cfg.fade);
            (tail * rate / fs).sqrt() as f32
        })
        .collect();
    let tail = diffuse_tail(head, &envelope, rng);
    for ear in 0..2 {
        full[ear]
            .iter_mut()
            .zip(&tail[ear])
            .for_each(|(a, b)| *a += b);
    }
    Brir {
        full,
        early,
        direct: direct_time * fs,
    }
}
