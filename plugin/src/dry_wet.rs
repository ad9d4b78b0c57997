//! The latency-aligned dry/wet mix and output gain, ramped across each host block.

use crate::path::Controls;

/// Mix and gain as the previous host block left them; each block ramps
/// linearly from there to the block's [`Controls`].
#[derive(Debug, Clone, Copy)]
pub struct DryWet {
    mix: f32,
    gain: f32,
}

impl Default for DryWet {
    fn default() -> Self {
        Self {
            mix: 1.0,
            gain: 1.0,
        }
    }
}

impl DryWet {
    /// Wet share and gain at position `t` (0 exclusive .. 1 at the block's last frame).
    pub fn ramp(&self, c: &Controls, t: f32) -> (f32, f32) {
        (
            self.mix + (c.mix - self.mix) * t,
            self.gain + (c.gain - self.gain) * t,
        )
    }

    /// One ear's [main, aux] outputs from its latency-aligned `dry` sample and
    /// the model's `wet` [main, aux]; bypass passes the dry signal on the main bus.
    pub fn frame(bypass: bool, (mix, gain): (f32, f32), dry: f32, wet: [f32; 2]) -> [f32; 2] {
        if bypass {
            [dry, 0.0]
        } else {
            wet.map(|w| gain * (mix * w + (1.0 - mix) * dry))
        }
    }

    /// The block is done: the next ramps start from its controls.
    pub fn end_block(&mut self, c: &Controls) {
        self.mix = c.mix;
        self.gain = c.gain;
    }
}

#[cfg(test)]
mod tests {
    use super::DryWet;
    use crate::path::Controls;

    #[test]
    fn a_block_ramps_from_the_last_controls_to_the_new_ones() {
        let mut dw = DryWet::default();
        let half = Controls {
            mix: 0.5,
            gain: 2.0,
            ..Controls::default()
        };
        assert_eq!(dw.ramp(&half, 0.5), (0.75, 1.5));
        assert_eq!(dw.ramp(&half, 1.0), (0.5, 2.0));
        dw.end_block(&half);
        assert_eq!(dw.ramp(&Controls::default(), 0.25), (0.625, 1.75));
        assert_eq!(
            DryWet::frame(false, (0.5, 2.0), 1.0, [3.0, -1.0]),
            [4.0, 0.0]
        );
        assert_eq!(
            DryWet::frame(true, (0.5, 2.0), 1.0, [3.0, -1.0]),
            [1.0, 0.0]
        );
    }
}
