//! Shoebox rooms and their image sources (Allen & Berkley's image method).

use serde::{Deserialize, Serialize};

use crate::{Error, Result, SPEED_OF_SOUND};

/// A rectangular room with one absorption coefficient per wall.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Room {
    /// Length, width and height in metres (x, y, z).
    pub size: [f64; 3],
    /// Energy absorption of the walls at x = 0, x = Lx, y = 0, y = Ly, z = 0 (floor), z = Lz (ceiling).
    pub absorption: [f64; 6],
}

/// One image source: where it is and how much of the sound reaches the listener.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Image {
    /// Position of the image in room coordinates (metres).
    pub position: [f64; 3],
    /// Distance from the image to the listener (metres).
    pub distance: f64,
    /// Amplitude: product of the wall reflection coefficients over the distance (1 at 1 m free field).
    pub gain: f64,
    /// Number of wall reflections.
    pub order: u32,
}

impl Image {
    /// Propagation delay in seconds.
    pub fn delay(&self) -> f64 {
        self.distance / SPEED_OF_SOUND
    }
}

/// Number of directions over which the expected energy decay is averaged.
const DIRECTIONS: usize = 400;

/// Evenly spread unit vectors (Fibonacci sphere), absolute values only; computed once.
fn directions() -> &'static [[f64; 3]] {
    static DIRECTIONS_TABLE: std::sync::OnceLock<Vec<[f64; 3]>> = std::sync::OnceLock::new();
    DIRECTIONS_TABLE.get_or_init(|| {
        (0..DIRECTIONS)
            .map(|i| {
                let z = 1.0 - (2.0 * i as f64 + 1.0) / DIRECTIONS as f64;
                let r = (1.0 - z * z).sqrt();
                let phi = i as f64 * std::f64::consts::PI * (3.0 - 5f64.sqrt());
                [(r * phi.cos()).abs(), (r * phi.sin()).abs(), z.abs()]
            })
            .collect()
    })
}

impl Room {
    /// A room of the given size whose reverberation time ([`Room::rt60`]) is
    /// `rt60` seconds, with wall absorptions proportional to `weights`
    /// (each clamped to [0.001, 0.99]).
    pub fn with_rt60(size: [f64; 3], rt60: f64, weights: [f64; 6]) -> Result<Room> {
        let positive = |x: f64| x.is_finite() && x > 0.0;
        if !size.iter().chain(&weights).all(|&x| positive(x)) || !positive(rt60) {
            return Err(Error::Invalid(format!(
                "room size {size:?}, RT60 {rt60} and absorption weights {weights:?} must be positive"
            )));
        }
        let room_for = |k: f64| Room {
            size,
            absorption: weights.map(|w| (k * w).clamp(0.001, 0.99)),
        };
        let (mut lo, mut hi) = (
            0.0f64,
            1.0 / weights.iter().copied().fold(f64::MAX, f64::min),
        );
        if room_for(hi).rt60() > rt60 || room_for(1e-9).rt60() < rt60 {
            return Err(Error::Invalid(format!(
                "RT60 {rt60} s is out of reach for a {:.1} x {:.1} x {:.1} m room",
                size[0], size[1], size[2]
            )));
        }
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if room_for(mid).rt60() > rt60 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Ok(room_for(0.5 * (lo + hi)))
    }

    /// Volume in cubic metres.
    pub fn volume(&self) -> f64 {
        self.size.iter().product()
    }

    /// Energy decay rate (1/s) of sound travelling along each of the averaging directions:
    /// it meets the walls of axis i `|u_i| c / L_i` times a second, alternating between the two.
    fn decay_rates(&self) -> Vec<f64> {
        let per_axis: Vec<f64> = (0..3)
            .map(|i| {
                let loss = -0.5
                    * ((1.0 - self.absorption[2 * i]).ln()
                        + (1.0 - self.absorption[2 * i + 1]).ln());
                loss * SPEED_OF_SOUND / self.size[i]
            })
            .collect();
        directions()
            .iter()
            .map(|u| (0..3).map(|i| u[i] * per_axis[i]).sum::<f64>().max(1e-9))
            .collect()
    }

    /// Expected fraction of the reverberant energy left at time `t`, averaged over directions.
    pub fn decay(&self, t: f64) -> f64 {
        let rates = self.decay_rates();
        rates.iter().map(|r| (-r * t).exp()).sum::<f64>() / rates.len() as f64
    }

    /// Reverberation time in seconds: three times the time the expected
    /// energy decay curve (Schroeder integral of [`Room::decay`]) takes to fall from -5 to -25 dB.
    pub fn rt60(&self) -> f64 {
        let rates = self.decay_rates();
        // The Schroeder integral sum(exp(-r t) / r) and its slope -sum(exp(-r t)).
        let edc = |t: f64| {
            rates.iter().fold((0.0, 0.0), |(e, de), r| {
                let x = (-r * t).exp();
                (e + x / r, de - x)
            })
        };
        let total = edc(0.0).0;
        // Newton's method on ln edc(t) = ln target: ln edc is convex and
        // falling, so from t = 0 every step stays left of the root and the
        // iteration climbs to it monotonically.
        let time_at = |db: f64| {
            let log_target = (total * 10f64.powf(db / 10.0)).ln();
            let mut t = 0.0f64;
            for _ in 0..200 {
                let (e, de) = edc(t);
                let step = (e.ln() - log_target) * e / -de;
                t += step;
                if step.is_nan() || step <= 1e-13 * t {
                    break;
                }
            }
            t
        };
        3.0 * (time_at(-25.0) - time_at(-5.0))
    }

    /// Expected reverberant energy arriving per second at time `t` after
    /// emission, for images of gain `1 / distance`: `4 pi c / V` times [`Room::decay`].
    pub fn energy_rate(&self, t: f64) -> f64 {
        4.0 * std::f64::consts::PI * SPEED_OF_SOUND / self.volume() * self.decay(t)
    }

    /// The same as [`Room::energy_rate`] at `count` times `0, dt, 2 dt, ...` (computed once per direction).
    pub fn energy_rates(&self, dt: f64, count: usize) -> Vec<f64> {
        let rates = self.decay_rates();
        let scale =
            4.0 * std::f64::consts::PI * SPEED_OF_SOUND / self.volume() / rates.len() as f64;
        let steps: Vec<f64> = rates.iter().map(|r| (-r * dt).exp()).collect();
        let mut current = vec![1.0f64; rates.len()];
        (0..count)
            .map(|_| {
                let v = current.iter().sum::<f64>() * scale;
                current.iter_mut().zip(&steps).for_each(|(c, s)| *c *= s);
                v
            })
            .collect()
    }

    /// True when `p` lies inside the room at least `margin` metres from every wall.
    pub fn contains(&self, p: [f64; 3], margin: f64) -> bool {
        (0..3).all(|i| p[i] >= margin && p[i] <= self.size[i] - margin)
    }

    /// All images of `source` heard at `listener` within `max_delay` seconds, sorted by delay.
    pub fn images(&self, source: [f64; 3], listener: [f64; 3], max_delay: f64) -> Vec<Image> {
        let max_dist = max_delay * SPEED_OF_SOUND;
        let beta: Vec<f64> = self.absorption.iter().map(|a| (1.0 - a).sqrt()).collect();
        // Per axis: (offset from listener, reflection factor, order) for every image coordinate.
        let axis = |i: usize| -> Vec<(f64, f64, u32)> {
            let l = self.size[i];
            let reach = (max_dist / (2.0 * l)).ceil() as i64 + 1;
            let mut out = Vec::new();
            for n in -reach..=reach {
                for p in 0..2i64 {
                    let coord = (1 - 2 * p) as f64 * source[i] + 2.0 * n as f64 * l;
                    let offset = coord - listener[i];
                    if offset.abs() > max_dist {
                        continue;
                    }
                    let low = (n - p).unsigned_abs() as i32;
                    let high = n.unsigned_abs() as i32;
                    let factor = beta[2 * i].powi(low) * beta[2 * i + 1].powi(high);
                    out.push((offset, factor, (low + high) as u32));
                }
            }
            out
        };
        let (ax, ay, az) = (axis(0), axis(1), axis(2));
        let mut images = Vec::new();
        for &(dx, fx, ox) in &ax {
            for &(dy, fy, oy) in &ay {
                let dxy = dx * dx + dy * dy;
                if dxy > max_dist * max_dist {
                    continue;
                }
                for &(dz, fz, oz) in &az {
                    let distance = (dxy + dz * dz).sqrt();
                    if distance > max_dist {
                        continue;
                    }
                    let distance = distance.max(0.1);
                    images.push(Image {
                        position: [listener[0] + dx, listener[1] + dy, listener[2] + dz],
                        distance,
                        gain: fx * fy * fz / distance,
                        order: ox + oy + oz,
                    });
                }
            }
        }
        images.sort_by(|a, b| a.distance.total_cmp(&b.distance));
        images
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The absorption chosen for a target RT60 reproduces it, and with low
    /// uniform absorption the decay agrees with Eyring's formula.
    #[test]
    fn absorption_matches_target_rt60() {
        for rt60 in [0.1, 0.3, 0.8] {
            let room =
                Room::with_rt60([6.0, 4.0, 3.0], rt60, [1.0, 0.8, 1.2, 1.0, 0.7, 1.3]).unwrap();
            assert!(
                (room.rt60() - rt60).abs() < 1e-6,
                "{} vs {rt60}",
                room.rt60()
            );
        }
        let room = Room::with_rt60([5.0, 5.0, 5.0], 0.8, [1.0; 6]).unwrap();
        let alpha = room.absorption[0];
        let eyring = 0.1611 * 125.0 / (-150.0 * (1.0 - alpha).ln());
        assert!(
            (eyring - 0.8).abs() < 0.05,
            "Eyring {eyring} for alpha {alpha}"
        );
    }

    /// The reverberation time found by Newton's method equals a plain
    /// bisection on the Schroeder integral, for rooms from dead to live.
    #[test]
    fn rt60_matches_bisection() {
        for (size, alpha) in [
            ([3.0, 3.0, 2.5], [0.9, 0.8, 0.7, 0.9, 0.6, 0.95]),
            ([6.0, 4.0, 3.0], [0.2, 0.1, 0.3, 0.2, 0.05, 0.4]),
            ([10.0, 8.0, 4.0], [0.01, 0.02, 0.01, 0.03, 0.01, 0.02]),
        ] {
            let room = Room {
                size,
                absorption: alpha,
            };
            let rates = room.decay_rates();
            let edc = |t: f64| rates.iter().map(|r| (-r * t).exp() / r).sum::<f64>();
            let total = edc(0.0);
            let time_at = |db: f64| {
                let target = total * 10f64.powf(db / 10.0);
                let (mut lo, mut hi) = (0.0f64, 100.0);
                for _ in 0..100 {
                    let mid = 0.5 * (lo + hi);
                    if edc(mid) > target {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                0.5 * (lo + hi)
            };
            let expected = 3.0 * (time_at(-25.0) - time_at(-5.0));
            let got = room.rt60();
            assert!(
                (got - expected).abs() < 1e-9 * expected,
                "{got} vs {expected}"
            );
        }
    }

    /// The first-order images are the six mirror images at the expected distances.
    #[test]
    fn first_order_images() {
        let room = Room::with_rt60([5.0, 4.0, 3.0], 0.4, [1.0; 6]).unwrap();
        let (s, r) = ([1.0, 1.0, 1.0], [3.0, 2.0, 1.5]);
        let images = room.images(s, r, 0.05);
        let first: Vec<&Image> = images.iter().filter(|i| i.order == 1).collect();
        assert_eq!(first.len(), 6);
        for mirror in [
            [-1.0, 1.0, 1.0],
            [9.0, 1.0, 1.0],
            [1.0, -1.0, 1.0],
            [1.0, 7.0, 1.0],
            [1.0, 1.0, -1.0],
            [1.0, 1.0, 5.0],
        ] {
            assert!(
                first
                    .iter()
                    .any(|i| (0..3).all(|k| (i.position[k] - mirror[k]).abs() < 1e-9)),
                "{mirror:?}"
            );
        }
        let direct = &images[0];
        assert_eq!(direct.order, 0);
        assert!((direct.distance - 5.25f64.sqrt()).abs() < 1e-12);
    }
}
