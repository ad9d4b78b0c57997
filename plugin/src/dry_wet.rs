//! The latency-aligned dry/wet mix and output gain, smoothed by nice-plug's
//! smoothers: a change ramps over [`RAMP_MS`] whatever the host's block size.

use nice_plug::prelude::{Smoother, SmoothingStyle};

use crate::path::Controls;

/// Length of the ramp after a change of mix or gain, in milliseconds.
pub const RAMP_MS: f32 = 10.0;

/// Mix and gain smoothers at the host rate; a stream starts at its first
/// block's controls without a ramp.
pub struct DryWet {
    mix: Smoother<f32>,
    gain: Smoother<f32>,
    targets: Option<(f32, f32)>,
    rate: f32,
}

impl DryWet {
    /// Smoothers for a host running at `rate` Hz.
    pub fn new(rate: f64) -> Self {
        Self {
            mix: Smoother::new(SmoothingStyle::Linear(RAMP_MS)),
            gain: Smoother::new(SmoothingStyle::Linear(RAMP_MS)),
            targets: None,
            rate: rate as f32,
        }
    }

    /// Takes a block's controls: a changed mix or gain starts a ramp to it.
    pub fn set_targets(&mut self, c: &Controls) {
        match self.targets {
            None => {
                self.mix.reset(c.mix);
                self.gain.reset(c.gain);
            }
            Some((mix, gain)) => {
                if mix != c.mix {
                    self.mix.set_target(self.rate, c.mix);
                }
                if gain != c.gain {
                    self.gain.set_target(self.rate, c.gain);
                }
            }
        }
        self.targets = Some((c.mix, c.gain));
    }

    /// The next frame's wet share and gain.
    pub fn next(&self) -> (f32, f32) {
        (self.mix.next(), self.gain.next())
    }

    /// A new stream: the next block's controls apply at once.
    pub fn reset(&mut self) {
        self.targets = None;
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
}

#[cfg(test)]
mod tests {
    use super::{DryWet, RAMP_MS};
    use crate::path::Controls;

    /// Frames of the ramp at 48 kHz.
    const STEPS: usize = (48.0 * RAMP_MS) as usize;

    fn run(dw: &mut DryWet, c: &Controls, frames: usize) -> Vec<(f32, f32)> {
        dw.set_targets(c);
        (0..frames).map(|_| dw.next()).collect()
    }

    #[test]
    fn a_change_ramps_linearly_over_the_ramp_time_in_any_block_size() {
        let start = Controls::default();
        let half = Controls {
            mix: 0.5,
            gain: 2.0,
            ..Controls::default()
        };
        let mut whole = Vec::new();
        for block in [1, 7, 64, 1000] {
            let mut dw = DryWet::new(48_000.0);
            assert!(run(&mut dw, &start, 10).iter().all(|&v| v == (1.0, 1.0)));
            let mut got = Vec::new();
            while got.len() < STEPS + 100 {
                got.extend(run(&mut dw, &half, block));
            }
            got.truncate(STEPS + 100);
            for (i, &(m, g)) in got.iter().enumerate() {
                let t = ((i + 1) as f32 / STEPS as f32).min(1.0);
                assert!(
                    (m - (1.0 - 0.5 * t)).abs() < 1e-4,
                    "block {block}, frame {i}: mix {m}"
                );
                assert!(
                    (g - (1.0 + t)).abs() < 1e-4,
                    "block {block}, frame {i}: gain {g}"
                );
            }
            whole.push(got);
        }
        assert!(whole.windows(2).all(|w| w[0] == w[1]));
    }

    #[test]
    fn a_stream_starts_at_its_controls_and_bypass_passes_the_dry_signal() {
        let mut dw = DryWet::new(44_100.0);
        let quarter = Controls {
            mix: 0.25,
            gain: 0.5,
            ..Controls::default()
        };
        assert_eq!(run(&mut dw, &quarter, 3), vec![(0.25, 0.5); 3]);
        dw.reset();
        assert_eq!(run(&mut dw, &Controls::default(), 2), vec![(1.0, 1.0); 2]);
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
