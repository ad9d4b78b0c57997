//! The analysis window and its overlap-add gains, shared by the STFT of the
//! candle model, the real-time engine and the fast training path.

use std::f64::consts::PI;

/// Periodic Hamming window of length `n`: 0.54 - 0.46 cos(2 pi i / n).
pub fn hamming(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 0.54 - 0.46 * (2.0 * PI * i as f64 / n as f64).cos())
        .collect()
}

/// Weighted overlap-add gains of the Hamming window for hop `chunk` and
/// lookahead `pad`: (gain of the current frame's first `chunk` samples, gain
/// of the previous frame's last `pad` samples), normalised by the summed
/// squared window.
pub fn overlap_add_gains(chunk: usize, pad: usize) -> (Vec<f64>, Vec<f64>) {
    let w = hamming(chunk + pad);
    let den = |i: usize| {
        w[i] * w[i]
            + if i < pad {
                w[chunk + i] * w[chunk + i]
            } else {
                0.0
            }
    };
    let head = (0..chunk).map(|i| w[i] / den(i)).collect();
    let tail = (0..pad).map(|i| w[chunk + i] / den(i)).collect();
    (head, tail)
}
