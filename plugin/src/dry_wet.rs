//! The latency-aligned residual (Reduction), dry/wet mix and output gain,
//! smoothed by nice-plug's smoothers: a change ramps over [`RAMP_MS`]
//! whatever the host's block size.

use nice_plug::prelude::{Smoother, SmoothingStyle};

use crate::path::Controls;

/// Length of the ramp after a change of mix, gain or reduction, in milliseconds.
pub const RAMP_MS: f32 = 10.0;

/// The largest reduction in dB: at it the residual is left out entirely.
pub const FULL_REDUCTION_DB: f32 = 60.0;

/// The share of the residual (input minus a bus's estimate) a bus keeps at
/// `reduction_db`: -reduction dB, none at [`FULL_REDUCTION_DB`] and beyond.
pub fn residual_share(reduction_db: f32) -> f32 {
    if reduction_db >= FULL_REDUCTION_DB {
        0.0
    } else {
        10f32.powf(-reduction_db.max(0.0) / 20.0)
    }
}

/// One frame's smoothed settings: wet share, output gain and residual share.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// Wet share (0 dry, 1 wet).
    pub mix: f32,
    /// Output gain (linear).
    pub gain: f32,
    /// Share of each bus's residual kept (0: the model alone, 1: the input).
    pub keep: f32,
}

/// Mix and gain smoothers at the host rate; a stream starts at its first
/// block's controls without a ramp.
pub struct DryWet {
    mix: Smoother<f32>,
    gain: Smoother<f32>,
    keep: Smoother<f32>,
    targets: Option<(f32, f32, f32)>,
    rate: f32,
}

impl DryWet {
    /// Smoothers for a host running at `rate` Hz.
    pub fn new(rate: f64) -> Self {
        Self {
            mix: Smoother::new(SmoothingStyle::Linear(RAMP_MS)),
            gain: Smoother::new(SmoothingStyle::Linear(RAMP_MS)),
            keep: Smoother::new(SmoothingStyle::Linear(RAMP_MS)),
            targets: None,
            rate: rate as f32,
        }
    }

    /// Takes a block's controls: a changed mix, gain or reduction starts a ramp to it.
    pub fn set_targets(&mut self, c: &Controls) {
        let keep = residual_share(c.reduction_db);
        match self.targets {
            None => {
                self.mix.reset(c.mix);
                self.gain.reset(c.gain);
                self.keep.reset(keep);
            }
            Some((mix, gain, kept)) => {
                if mix != c.mix {
                    self.mix.set_target(self.rate, c.mix);
                }
                if gain != c.gain {
                    self.gain.set_target(self.rate, c.gain);
                }
                if kept != keep {
                    self.keep.set_target(self.rate, keep);
                }
            }
        }
        self.targets = Some((c.mix, c.gain, keep));
    }

    /// The next frame's settings.
    pub fn next(&self) -> Frame {
        Frame {
            mix: self.mix.next(),
            gain: self.gain.next(),
            keep: self.keep.next(),
        }
    }

    /// A new stream: the next block's controls apply at once.
    pub fn reset(&mut self) {
        self.targets = None;
    }

    /// One ear's [main, aux] outputs from its latency-aligned `dry` sample and
    /// the model's `wet` [main, aux], of which the first `buses` carry an
    /// estimate (each keeps its residual `dry - wet` at the frame's share);
    /// bypass passes the dry signal on the main bus.
    pub fn frame(bypass: bool, f: Frame, dry: f32, wet: [f32; 2], buses: usize) -> [f32; 2] {
        if bypass {
            return [dry, 0.0];
        }
        let mut out = [0.0; 2];
        for (bus, (o, w)) in out.iter_mut().zip(wet).enumerate() {
            let w = if bus < buses {
                w + f.keep * (dry - w)
            } else {
                w
            };
            *o = f.gain * (f.mix * w + (1.0 - f.mix) * dry);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::{residual_share, DryWet, Frame, FULL_REDUCTION_DB, RAMP_MS};
    use crate::path::Controls;

    /// Frames of the ramp at 48 kHz.
    const STEPS: usize = (48.0 * RAMP_MS) as usize;

    fn run(dw: &mut DryWet, c: &Controls, frames: usize) -> Vec<(f32, f32)> {
        dw.set_targets(c);
        (0..frames)
            .map(|_| {
                let f = dw.next();
                (f.mix, f.gain)
            })
            .collect()
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
        let f = |mix, gain, keep| Frame { mix, gain, keep };
        assert_eq!(
            DryWet::frame(false, f(0.5, 2.0, 0.0), 1.0, [3.0, -1.0], 2),
            [4.0, 0.0]
        );
        assert_eq!(
            DryWet::frame(true, f(0.5, 2.0, 0.0), 1.0, [3.0, -1.0], 2),
            [1.0, 0.0]
        );
        // The residual kept at a quarter: 3 + 0.25 (1 - 3) = 2.5 on the main
        // bus; an aux bus without an estimate stays the model's (silent).
        assert_eq!(
            DryWet::frame(false, f(1.0, 1.0, 0.25), 1.0, [3.0, 0.0], 1),
            [2.5, 0.0]
        );
    }

    #[test]
    fn reduction_sets_the_residual_in_decibels_and_none_at_full() {
        assert_eq!(residual_share(0.0), 1.0);
        assert!((20.0 * residual_share(12.0).log10() + 12.0).abs() < 1e-4);
        assert!((residual_share(59.9) - 10f32.powf(-59.9 / 20.0)).abs() < 1e-9);
        assert_eq!(residual_share(FULL_REDUCTION_DB), 0.0);
        // A change of reduction ramps like mix and gain.
        let mut dw = DryWet::new(48_000.0);
        dw.set_targets(&Controls::default());
        assert_eq!(dw.next().keep, 0.0);
        dw.set_targets(&Controls {
            reduction_db: 0.0,
            ..Controls::default()
        });
        let keeps: Vec<f32> = (0..STEPS + 2).map(|_| dw.next().keep).collect();
        assert!(
            (keeps[STEPS / 2 - 1] - 0.5).abs() < 1e-3,
            "{}",
            keeps[STEPS / 2 - 1]
        );
        assert!(keeps.windows(2).all(|w| w[1] >= w[0]) && keeps[STEPS + 1] == 1.0);
    }
}
