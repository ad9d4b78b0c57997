//! Octave's `resample` as pystoi uses it: a Kaiser-windowed sinc polyphase filter.

/// Bessel function I0 by its power series.
fn bessel_i0(x: f64) -> f64 {
    let (mut sum, mut term, mut k) = (1.0, 1.0, 1.0);
    while term > 1e-17 * sum {
        term *= (x / (2.0 * k)).powi(2);
        sum += term;
        k += 1.0;
    }
    sum
}

/// The anti-aliasing filter of Octave's `resample` (60 dB rejection), normalised to unit DC gain.
fn octave_filter(up: usize, down: usize) -> Vec<f64> {
    let stop = 1.0 / (2.0 * up.max(down) as f64);
    let roll_off = stop / 10.0;
    let rejection_db = 60.0;
    let half = ((rejection_db - 8.0) / (28.714 * roll_off)).ceil() as i64;
    let beta = 0.1102 * (rejection_db - 8.7);
    let alpha = half as f64;
    let h: Vec<f64> = (-half..=half)
        .map(|t| {
            let x = 2.0 * stop * t as f64;
            let sinc = if t == 0 {
                1.0
            } else {
                (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
            };
            let r = t as f64 / alpha;
            let window = bessel_i0(beta * (1.0 - r * r).max(0.0).sqrt()) / bessel_i0(beta);
            window * 2.0 * up as f64 * stop * sinc
        })
        .collect();
    let sum: f64 = h.iter().sum();
    h.iter().map(|v| v / sum).collect()
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Resamples `x` from rate `from` to rate `to` as pystoi's `resample_oct`
/// (scipy's `resample_poly` with Octave's filter): output length ceil(n * to / from).
pub fn resample_oct(x: &[f64], to: usize, from: usize) -> Vec<f64> {
    let g = gcd(to, from);
    let (up, down) = (to / g, from / g);
    if up == 1 && down == 1 {
        return x.to_vec();
    }
    let h: Vec<f64> = octave_filter(up, down)
        .into_iter()
        .map(|v| v * up as f64)
        .collect();
    let half = (h.len() - 1) / 2;
    let n_out = (x.len() * up).div_ceil(down);
    (0..n_out)
        .map(|m| {
            // Output m is the filtered upsampled signal at m * down, delayed by the filter's centre.
            let j = m * down + half;
            let first = (j + 1).saturating_sub(h.len()).div_ceil(up);
            let last = (j / up).min(x.len().saturating_sub(1));
            (first..=last).map(|i| h[j - up * i] * x[i]).sum()
        })
        .collect()
}
