//! Validation figures of a model's output on a fixed set: SI-SDR improvement
//! (best source order), which order won, and output against target level.

use crate::metrics::si_sdr_db;

/// What one pass over a validation set measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Validation {
    /// SI-SDR improvement of each example, dB (best order, mean over sources and ears).
    pub si_sdri: Vec<f32>,
    /// SI-SDR of each example, dB (same order and means).
    pub si_sdr: Vec<f32>,
    /// Whether each example's best order swapped the two sources (always false for one source).
    pub swapped: Vec<bool>,
    /// Mean power of the outputs, dBFS.
    pub output_db: f64,
    /// Mean power of the targets, dBFS.
    pub target_db: f64,
}

impl Validation {
    /// Scores `estimates` [b, S, M, n] against `targets` [b, S, M, n] for mixtures [b, M, n].
    pub fn score(
        mixtures: &[f32],
        targets: &[f32],
        estimates: &[f32],
        (b, s, m, n): (usize, usize, usize, usize),
    ) -> Self {
        let (mut si_sdri, mut si_sdr, mut swapped) = (
            Vec::with_capacity(b),
            Vec::with_capacity(b),
            Vec::with_capacity(b),
        );
        fn ch(
            x: &[f32],
            (e, src, ear): (usize, usize, usize),
            (s, m, n): (usize, usize, usize),
        ) -> &[f32] {
            let o = ((e * s + src) * m + ear) * n;
            &x[o..o + n]
        }
        for e in 0..b {
            // (SI-SDR, SI-SDR of the mixture) of an order, means over sources and ears.
            let score = |perm: &dyn Fn(usize) -> usize| -> (f64, f64) {
                let (mut out, mut base) = (0.0, 0.0);
                for src in 0..s {
                    for ear in 0..m {
                        let target = ch(targets, (e, perm(src), ear), (s, m, n));
                        let mix = &mixtures[(e * m + ear) * n..(e * m + ear + 1) * n];
                        out += si_sdr_db(ch(estimates, (e, src, ear), (s, m, n)), target);
                        base += si_sdr_db(mix, target);
                    }
                }
                let k = (s * m) as f64;
                (out / k, base / k)
            };
            let straight = score(&|x| x);
            let other = (s == 2).then(|| score(&|x| 1 - x));
            let swap = other.is_some_and(|o| o.0 - o.1 > straight.0 - straight.1);
            let best = if swap {
                other.unwrap_or(straight)
            } else {
                straight
            };
            si_sdri.push((best.0 - best.1) as f32);
            si_sdr.push(best.0 as f32);
            swapped.push(swap);
        }
        let power = |x: &[f32]| {
            let mean = x.iter().map(|&v| v as f64 * v as f64).sum::<f64>() / x.len().max(1) as f64;
            10.0 * (mean + 1e-20).log10()
        };
        let len = b * s * m * n;
        Self {
            si_sdri,
            si_sdr,
            swapped,
            output_db: power(&estimates[..len]),
            target_db: power(&targets[..len]),
        }
    }

    /// Mean SI-SDR improvement, dB.
    pub fn mean(&self) -> f64 {
        mean(&self.si_sdri)
    }

    /// Mean SI-SDR, dB.
    pub fn mean_si_sdr(&self) -> f64 {
        mean(&self.si_sdr)
    }

    /// Fraction of examples whose best order differs from `earlier`'s.
    pub fn flips_since(&self, earlier: &Validation) -> f64 {
        let n = self.swapped.len().min(earlier.swapped.len());
        let flips = (0..n)
            .filter(|&i| self.swapped[i] != earlier.swapped[i])
            .count();
        flips as f64 / n.max(1) as f64
    }
}

fn mean(v: &[f32]) -> f64 {
    v.iter().map(|&x| x as f64).sum::<f64>() / v.len().max(1) as f64
}
