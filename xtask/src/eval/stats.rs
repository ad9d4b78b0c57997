//! Mean and 95% confidence interval of a sample.

use serde::Serialize;

/// Mean of a sample with the half-width of its normal 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stat {
    /// Sample mean.
    pub mean: f64,
    /// 1.96 x sample standard deviation / sqrt(n); None for fewer than two values.
    pub ci95: Option<f64>,
    /// Number of values.
    pub n: usize,
}

impl Stat {
    /// Summarises `values`; None when empty.
    pub fn of(values: &[f64]) -> Option<Self> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let ci95 = (n > 1).then(|| {
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            1.96 * var.sqrt() / (n as f64).sqrt()
        });
        Some(Self { mean, ci95, n })
    }
}
