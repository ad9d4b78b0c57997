//! Linear convolution by FFT.

use std::cell::RefCell;

use realfft::num_complex::Complex32;
use realfft::RealFftPlanner;

thread_local! {
    static PLANNER: RefCell<RealFftPlanner<f32>> = RefCell::new(RealFftPlanner::new());
}

/// Spectrum of `x` zero-padded to `n` points (`n / 2 + 1` bins).
pub fn spectrum(x: &[f32], n: usize) -> Vec<Complex32> {
    let mut buf = vec![0.0f32; n];
    let m = x.len().min(n);
    buf[..m].copy_from_slice(&x[..m]);
    let fft = PLANNER.with(|p| p.borrow_mut().plan_fft_forward(n));
    let mut out = fft.make_output_vec();
    fft.process(&mut buf, &mut out)
        .expect("buffer sizes come from the plan");
    out
}

/// Inverse of [`spectrum`]: `n` real samples, scaled so that the round trip is the identity.
pub fn inverse(mut spec: Vec<Complex32>, n: usize) -> Vec<f32> {
    let ifft = PLANNER.with(|p| p.borrow_mut().plan_fft_inverse(n));
    let mut out = ifft.make_output_vec();
    spec[0].im = 0.0;
    if n.is_multiple_of(2) {
        spec[n / 2].im = 0.0;
    }
    ifft.process(&mut spec, &mut out)
        .expect("buffer sizes come from the plan");
    let scale = 1.0 / n as f32;
    out.iter_mut().for_each(|v| *v *= scale);
    out
}

/// Full linear convolution of `x` and `h` (length `x.len() + h.len() - 1`).
pub fn convolve(x: &[f32], h: &[f32]) -> Vec<f32> {
    if x.is_empty() || h.is_empty() {
        return Vec::new();
    }
    let len = x.len() + h.len() - 1;
    let n = len.next_power_of_two();
    let mut a = spectrum(x, n);
    let b = spectrum(h, n);
    a.iter_mut().zip(&b).for_each(|(u, v)| *u *= v);
    let mut y = inverse(a, n);
    y.truncate(len);
    y
}

/// The first `len` samples of `x` convolved with `h`.
pub fn convolve_truncated(x: &[f32], h: &[f32], len: usize) -> Vec<f32> {
    let mut y = convolve(x, h);
    y.resize(len, 0.0);
    y
}

/// Half-width in samples of the windowed-sinc fractional-delay kernel.
pub const SINC_HALF_WIDTH: f64 = 8.0;

/// Tap of a Hann-windowed sinc interpolator at offset `t` samples from its centre.
pub fn fractional_tap(t: f64) -> f64 {
    if t.abs() >= SINC_HALF_WIDTH {
        return 0.0;
    }
    let window = 0.5 + 0.5 * (std::f64::consts::PI * t / SINC_HALF_WIDTH).cos();
    let sinc = if t.abs() < 1e-9 {
        1.0
    } else {
        (std::f64::consts::PI * t).sin() / (std::f64::consts::PI * t)
    };
    window * sinc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// FFT convolution equals the direct sum.
    #[test]
    fn matches_direct_convolution() {
        let x: Vec<f32> = (0..37).map(|i| ((i * 7 % 11) as f32 - 5.0) / 5.0).collect();
        let h: Vec<f32> = (0..13).map(|i| ((i * 3 % 5) as f32 - 2.0) / 3.0).collect();
        let y = convolve(&x, &h);
        for (k, &v) in y.iter().enumerate() {
            let direct: f32 = (0..h.len())
                .filter(|&j| k >= j && k - j < x.len())
                .map(|j| h[j] * x[k - j])
                .sum();
            assert!((v - direct).abs() < 1e-4, "{k}: {v} vs {direct}");
        }
    }
}
