//! ITU-T G.722 sub-band ADPCM decoder (64 kbit/s mode), for the raw `.g722`
//! prompts of the asterisk sound packages. No maintained Rust crate decodes
//! G.722, so the recommendation's fixed-point arithmetic is written out here.
//! A small encoder, used by the tests, shares the same adaptation.

const INV_LOG2: [i32; 32] = [
    2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
    2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
];
const HIGH_LOG_STEP: [i32; 2] = [798, -214];
const HIGH_INV_QUANT: [i32; 4] = [-926, -202, 926, 202];
const LOW_LOG_STEP: [i32; 16] = [
    -60, 3042, 1198, 538, 334, 172, 58, -30, 3042, 1198, 538, 334, 172, 58, -30, -60,
];
const LOW_INV_QUANT4: [i32; 16] = [
    0, -2557, -1612, -1121, -786, -530, -323, -150, 2557, 1612, 1121, 786, 530, 323, 150, 0,
];
const LOW_INV_QUANT6: [i32; 64] = [
    -17, -17, -17, -17, -3101, -2738, -2376, -2088, -1873, -1689, -1535, -1399, -1279, -1170,
    -1072, -982, -899, -822, -750, -682, -618, -558, -501, -447, -396, -347, -300, -254, -211,
    -170, -130, -91, 3101, 2738, 2376, 2088, 1873, 1689, 1535, 1399, 1279, 1170, 1072, 982, 899,
    822, 750, 682, 618, 558, 501, 447, 396, 347, 300, 254, 211, 170, 130, 91, 54, 17, -54, -17,
];
/// Quadrature mirror filter taps (G.722 table 11).
const QMF: [i32; 12] = [3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11];

fn clip(x: i32, lo: i32, hi: i32) -> i32 {
    x.clamp(lo, hi)
}

fn clip16(x: i32) -> i32 {
    x.clamp(-32768, 32767)
}

/// Adaptive predictor and quantiser state of one sub-band.
#[derive(Clone, Default)]
struct Band {
    prediction: i32,
    zero_prediction: i32,
    partial_sign: [bool; 2],
    prev_reconstructed: i32,
    poles: [i32; 2],
    diffs: [i32; 6],
    zeros: [i32; 6],
    log_scale: i32,
    scale: i32,
}

impl Band {
    fn new(scale: i32) -> Self {
        Band {
            scale,
            ..Default::default()
        }
    }

    /// Updates pole and zero predictors with the dequantised difference.
    fn adapt(&mut self, diff: i32) {
        let negative = self.zero_prediction + diff < 0;
        let sg0 = if negative != self.partial_sign[0] {
            1
        } else {
            -1
        };
        let sg1 = if negative == self.partial_sign[1] {
            1
        } else {
            -1
        };
        self.partial_sign = [negative, self.partial_sign[0]];

        self.poles[1] = clip(
            ((sg0 * clip(self.poles[0], -8191, 8191)) >> 5)
                + (sg1 << 7)
                + ((self.poles[1] * 127) >> 7),
            -12288,
            12288,
        );
        let limit = 15360 - self.poles[1];
        self.poles[0] = clip(-192 * sg0 + ((self.poles[0] * 255) >> 8), -limit, limit);

        for (zero, &past) in self.zeros.iter_mut().zip(&self.diffs) {
            let leak = (*zero * 255) >> 8;
            *zero = if diff == 0 {
                leak
            } else if (past ^ diff) < 0 {
                leak - 128
            } else {
                leak + 128
            };
        }
        self.diffs.rotate_right(1);
        self.diffs[0] = clip16(diff << 1);
        self.zero_prediction = self
            .zeros
            .iter()
            .zip(&self.diffs)
            .map(|(b, d)| (b * d) >> 15)
            .sum();

        let reconstructed = clip16((self.prediction + diff) << 1);
        self.prediction = clip16(
            self.zero_prediction
                + ((self.poles[0] * reconstructed) >> 15)
                + ((self.poles[1] * self.prev_reconstructed) >> 15),
        );
        self.prev_reconstructed = reconstructed;
    }

    fn linear_scale(log_scale: i32) -> i32 {
        let mantissa = INV_LOG2[((log_scale >> 6) & 31) as usize];
        let shift = log_scale >> 11;
        if shift < 0 {
            mantissa >> -shift
        } else {
            mantissa << shift
        }
    }

    fn update_low(&mut self, code4: usize) {
        self.adapt((self.scale * LOW_INV_QUANT4[code4]) >> 10);
        self.log_scale = clip(
            ((self.log_scale * 127) >> 7) + LOW_LOG_STEP[code4],
            0,
            18432,
        );
        self.scale = Self::linear_scale(self.log_scale - (8 << 11));
    }

    fn update_high(&mut self, diff: i32, code: usize) {
        self.adapt(diff);
        self.log_scale = clip(
            ((self.log_scale * 127) >> 7) + HIGH_LOG_STEP[code & 1],
            0,
            22528,
        );
        self.scale = Self::linear_scale(self.log_scale - (10 << 11));
    }

    fn low_value(&self, code6: usize) -> i32 {
        clip(
            ((self.scale * LOW_INV_QUANT6[code6]) >> 10) + self.prediction,
            -16384,
            16383,
        )
    }

    fn high_diff(&self, code: usize) -> i32 {
        (self.scale * HIGH_INV_QUANT[code]) >> 10
    }
}

/// History of the quadrature mirror filter.
struct Qmf {
    history: Vec<i32>,
}

impl Qmf {
    fn new() -> Self {
        Qmf {
            history: vec![0; 22],
        }
    }

    /// Pushes two samples and returns the two filter outputs.
    fn push(&mut self, a: i32, b: i32) -> (i32, i32) {
        self.history.push(a);
        self.history.push(b);
        let window = &self.history[self.history.len() - 24..];
        let mut out1 = 0;
        let mut out2 = 0;
        for i in 0..12 {
            out2 += window[2 * i] * QMF[i];
            out1 += window[2 * i + 1] * QMF[11 - i];
        }
        if self.history.len() > 4096 {
            self.history.drain(..self.history.len() - 22);
        }
        (out1, out2)
    }
}

/// Decodes raw 64 kbit/s G.722 (one byte per two 16 kHz samples) to samples in [-1, 1).
pub fn decode(bytes: &[u8]) -> Vec<f32> {
    let mut low = Band::new(8);
    let mut high = Band::new(2);
    let mut qmf = Qmf::new();
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        let code_high = (byte >> 6) as usize;
        let code_low = (byte & 63) as usize;
        let r_low = low.low_value(code_low);
        low.update_low(code_low >> 2);
        let d_high = high.high_diff(code_high);
        let r_high = clip(d_high + high.prediction, -16384, 16383);
        high.update_high(d_high, code_high);
        let (x1, x2) = qmf.push(r_low + r_high, r_low - r_high);
        out.push(clip16(x1 >> 11) as f32 / 32768.0);
        out.push(clip16(x2 >> 11) as f32 / 32768.0);
    }
    out
}

/// Encodes 16 kHz samples in [-1, 1) to 64 kbit/s G.722, choosing each code
/// word as the one whose reconstruction is nearest (used to test `decode`).
pub fn encode(samples: &[f32]) -> Vec<u8> {
    let mut low = Band::new(8);
    let mut high = Band::new(2);
    let mut qmf = Qmf::new();
    let to_i = |x: f32| (x * 32768.0).round().clamp(-32768.0, 32767.0) as i32;
    samples
        .chunks_exact(2)
        .map(|pair| {
            let (x1, x2) = qmf.push(to_i(pair[0]), to_i(pair[1]));
            let x_low = (x1 + x2) >> 14;
            let x_high = (x1 - x2) >> 14;
            let code_low = (0..64)
                .min_by_key(|&c| (low.low_value(c) - x_low).abs())
                .unwrap_or(0);
            let code_high = (0..4)
                .min_by_key(|&c| (high.high_diff(c) + high.prediction - x_high).abs())
                .unwrap_or(0);
            low.update_low(code_low >> 2);
            let d_high = high.high_diff(code_high);
            high.update_high(d_high, code_high);
            ((code_high << 6) | code_low) as u8
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encoding and decoding a two-band test signal keeps it within 15 dB SNR
    /// (after the codec's fixed QMF delay), and the high band survives.
    #[test]
    fn round_trip_preserves_both_bands() {
        let n = 16000;
        let signal: Vec<f32> = (0..n)
            .map(|i| {
                let t = i as f32 / 16000.0;
                0.3 * (2.0 * std::f32::consts::PI * 440.0 * t).sin()
                    + 0.1 * (2.0 * std::f32::consts::PI * 5500.0 * t).sin()
            })
            .collect();
        let decoded = decode(&encode(&signal));
        assert_eq!(decoded.len(), n);
        let skip = 2000;
        let (best_lag, best_snr) = (0..48)
            .map(|lag| {
                let (mut s, mut e) = (0.0f64, 0.0f64);
                for i in skip..n - 64 {
                    let x = signal[i] as f64;
                    s += x * x;
                    e += (decoded[i + lag] as f64 - x).powi(2);
                }
                (lag, 10.0 * (s / e).log10())
            })
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        assert!(best_snr > 15.0, "SNR {best_snr:.1} dB at lag {best_lag}");
        let high: f64 = (skip..n - 64)
            .map(|i| {
                let t = (i - best_lag) as f64 / 16000.0;
                decoded[i] as f64 * (2.0 * std::f64::consts::PI * 5500.0 * t).sin()
            })
            .sum::<f64>()
            .abs()
            / (n - 64 - skip) as f64;
        assert!(high > 0.03, "5.5 kHz component amplitude/2 = {high}");
    }
}
