//! The silence gate: digital silence in gives digital silence out.

/// Exact digital silence this long past the latency closes the silence gate, in seconds.
const GATE_HOLD_S: f64 = 0.05;
/// The silence gate opens or closes over this long, in seconds.
const GATE_RAMP_S: f64 = 0.002;

/// Digital silence in gives digital silence out: once the input has been
/// exactly zero for the latency plus a hold time, the wet signal fades to
/// zero (the models answer silence with a faint noise floor of their own);
/// any non-zero input opens it again at once.
#[derive(Debug, Clone, Copy)]
pub struct SilenceGate {
    /// Consecutive host frames of exact zeros on both input channels.
    silent: usize,
    /// Frames of silence that close the gate.
    hold: usize,
    /// Current gain, 0..1.
    gain: f32,
    /// Gain change per frame while opening or closing.
    step: f32,
}

impl SilenceGate {
    /// A gate at host `rate` that closes `latency` plus the hold time after the input falls silent.
    pub fn new(rate: f64, latency: usize) -> Self {
        Self {
            silent: 0,
            hold: latency + (GATE_HOLD_S * rate).ceil() as usize,
            gain: 1.0,
            step: (1.0 / (GATE_RAMP_S * rate).max(1.0)) as f32,
        }
    }

    /// The wet gain for the frame whose input is `(l, r)`.
    pub fn next(&mut self, l: f32, r: f32) -> f32 {
        self.silent = if l == 0.0 && r == 0.0 {
            self.silent.saturating_add(1)
        } else {
            0
        };
        let target = if self.silent >= self.hold { 0.0 } else { 1.0 };
        if target > self.gain {
            self.gain = (self.gain + self.step).min(1.0);
        } else if target < self.gain {
            self.gain = (self.gain - self.step).max(0.0);
        }
        self.gain
    }

    /// Opens the gate and forgets the silence so far (a new stream).
    pub fn reset(&mut self) {
        self.silent = 0;
        self.gain = 1.0;
    }
}

#[cfg(test)]
mod tests {
    use super::SilenceGate;

    #[test]
    fn the_silence_gate_holds_open_closes_after_its_hold_and_reopens_at_once() {
        let mut gate = SilenceGate::new(48_000.0, 700);
        let hold = 700 + 2_400;
        let ramp = 96;
        assert!((0..10_000).all(|i| gate.next(0.1 * ((i % 7) as f32 - 3.0) + 0.05, 0.0) == 1.0));
        let closing: Vec<f32> = (0..hold + ramp + 10).map(|_| gate.next(0.0, 0.0)).collect();
        assert!(closing[..hold - 1].iter().all(|g| *g == 1.0));
        assert_eq!(closing[hold + ramp], 0.0);
        assert!(closing.windows(2).all(|w| w[1] <= w[0]));
        assert_eq!(gate.next(0.0, 1e-30), gate.step);
        let opened = (0..ramp).map(|_| gate.next(0.2, -0.2)).last();
        assert_eq!(opened, Some(1.0));
    }
}
