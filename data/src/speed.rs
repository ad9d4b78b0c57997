//! Speed perturbation: a talker played faster or slower, pitch and formants
//! moving together (Ko et al., Interspeech 2015), so one recorded voice
//! stands for several talkers.

use crate::conv::fractional_tap;

/// Input samples `speed_input_len` needs beyond `out_len * factor`: the interpolator's reach.
const REACH: usize = 9;

/// Input samples needed for `out_len` output samples at `factor`.
pub fn speed_input_len(out_len: usize, factor: f64) -> usize {
    (out_len as f64 * factor).ceil() as usize + REACH
}

/// `out_len` samples of `x` played `factor` times as fast (windowed-sinc
/// interpolation, low-passed under the new Nyquist frequency when faster);
/// past the end of `x` the signal is silent.
pub fn change_speed(x: &[f32], factor: f64, out_len: usize) -> Vec<f32> {
    let cutoff = (1.0 / factor).min(1.0);
    // The kernel widens as it narrows in frequency; the taps sum to about one.
    let reach = (REACH as f64 - 1.0) / cutoff;
    (0..out_len)
        .map(|i| {
            let t = i as f64 * factor;
            let lo = (t - reach).ceil().max(0.0) as usize;
            let hi = ((t + reach).floor() as usize).min(x.len().saturating_sub(1));
            if x.is_empty() || lo > hi {
                return 0.0;
            }
            (lo..=hi)
                .map(|j| x[j] as f64 * cutoff * fractional_tap((t - j as f64) * cutoff))
                .sum::<f64>() as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq: f64, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (2.0 * std::f64::consts::PI * freq * i as f64 / 16_000.0).sin() as f32)
            .collect()
    }

    /// Frequency of a clean tone from its zero crossings.
    fn frequency(x: &[f32]) -> f64 {
        let crossings = x.windows(2).filter(|w| w[0] <= 0.0 && w[1] > 0.0).count();
        crossings as f64 * 16_000.0 / x.len() as f64
    }

    #[test]
    fn a_faster_talker_is_higher_by_the_factor_and_keeps_its_level() {
        let x = tone(500.0, speed_input_len(16_000, 1.1));
        let y = change_speed(&x, 1.1, 16_000);
        assert!(
            (frequency(&y[100..15_900]) - 550.0).abs() < 3.0,
            "{}",
            frequency(&y)
        );
        let rms = |v: &[f32]| {
            (v.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
        };
        assert!((rms(&y[100..15_900]) / rms(&x) - 1.0).abs() < 0.02);
        let z = change_speed(&x, 0.9, 16_000);
        assert!((frequency(&z[100..15_900]) - 450.0).abs() < 3.0);
    }

    #[test]
    fn speed_one_is_the_signal_itself() {
        let x = tone(731.0, 2_000);
        let y = change_speed(&x, 1.0, 2_000);
        assert!(x.iter().zip(&y).all(|(a, b)| (a - b).abs() < 1e-5));
    }
}
