//! A single omnidirectional microphone at the head's place: the same
//! response from every direction (the room still reaches it), for diotic
//! mixtures that stand for a mono recording fed to both ears.

use crate::hrtf::{HrirSource, LEAD};

/// An omnidirectional microphone, both "ears" one capsule.
#[derive(Debug, Clone, Copy, Default)]
pub struct OmniMic;

impl HrirSource for OmniMic {
    fn name(&self) -> String {
        "omni-mic".into()
    }

    fn len(&self) -> usize {
        2 * LEAD
    }

    fn hrir(&self, _direction: [f64; 3]) -> [Vec<f32>; 2] {
        let mut h = vec![0.0f32; self.len()];
        h[LEAD] = 1.0;
        [h.clone(), h]
    }
}
