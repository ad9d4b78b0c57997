//! The order of a separation model's outputs: permutation-invariant (PIT,
//! the paper's), or location-based (Taherian, Tan and Wang, arXiv
//! 2110.04289): output 1 is the talker further to the left of the head, one
//! order for both ears, with PIT kept for talkers closer than a set angle.

use kb_data::{mixture::Direction, Mixture};
use serde::{Deserialize, Serialize};

/// How the targets of a two-talker mixture are ordered.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceOrder {
    /// Each example takes the better of the two assignments.
    #[default]
    Pit,
    /// The talker further to the left first; PIT below the run's minimum angle.
    Location,
}

/// Lateral angle in degrees of a direction: positive to the left, 90 at the
/// left ear, the same for a source in front and its mirror image behind
/// (the angle the interaural cues tell).
pub fn lateral_deg(d: &Direction) -> f64 {
    let (az, el) = (d.azimuth_deg.to_radians(), d.elevation_deg.to_radians());
    (el.cos() * az.sin()).clamp(-1.0, 1.0).asin().to_degrees()
}

/// For a two-talker mixture under location-based order: whether its targets
/// must swap so that the talker further left comes first, and whether the
/// order is fixed (the talkers' lateral angles at least `min_degrees` apart;
/// closer pairs keep PIT).
pub fn location_order(mixture: &Mixture, min_degrees: f64) -> (bool, bool) {
    match mixture.meta.sources.as_slice() {
        [a, b] => order_of(&a.direction, &b.direction, min_degrees),
        _ => (false, false),
    }
}

/// [`location_order`] of two talkers at `a` and `b`.
fn order_of(a: &Direction, b: &Direction, min_degrees: f64) -> (bool, bool) {
    let (la, lb) = (lateral_deg(a), lateral_deg(b));
    (lb > la, (la - lb).abs() >= min_degrees)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(azimuth_deg: f64, elevation_deg: f64) -> Direction {
        Direction {
            position: [0.0; 3],
            azimuth_deg,
            elevation_deg,
            distance_m: 1.0,
        }
    }

    /// Lateral angles: ears at +-90, front and back mirror images equal, elevation shrinks it.
    #[test]
    fn lateral_angles() {
        assert!((lateral_deg(&at(90.0, 0.0)) - 90.0).abs() < 1e-9);
        assert!((lateral_deg(&at(-90.0, 0.0)) + 90.0).abs() < 1e-9);
        assert!((lateral_deg(&at(30.0, 0.0)) - lateral_deg(&at(150.0, 0.0))).abs() < 1e-9);
        assert!(lateral_deg(&at(0.0, 30.0)).abs() < 1e-9);
        // A source at the side but 60 degrees up is asin(cos 60) = 30 degrees lateral.
        assert!((lateral_deg(&at(90.0, 60.0)) - 30.0).abs() < 1e-9);
    }

    /// The talker further left goes first; close pairs keep PIT; a source
    /// behind on the left is further left than one in front near the middle.
    #[test]
    fn left_talker_first() {
        assert_eq!(
            order_of(&at(60.0, 0.0), &at(-30.0, 0.0), 15.0),
            (false, true)
        );
        assert_eq!(
            order_of(&at(-30.0, 0.0), &at(60.0, 0.0), 15.0),
            (true, true)
        );
        assert_eq!(
            order_of(&at(10.0, 0.0), &at(20.0, 0.0), 15.0),
            (true, false)
        );
        assert_eq!(
            order_of(&at(10.0, 0.0), &at(140.0, 0.0), 15.0),
            (true, true)
        );
    }
}
