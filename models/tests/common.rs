//! Helpers shared by the model tests.
#![allow(dead_code)]

use candle_core::{Device, Tensor};
use rand::{rngs::StdRng, Rng, SeedableRng};

/// Seeded binaural test signal [1, 2, n]: two chirps, harmonics and noise, peak about 0.3.
pub fn test_signal(n: usize, seed: u64) -> Tensor {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut data = Vec::with_capacity(2 * n);
    for ear in 0..2 {
        for i in 0..n {
            let t = i as f32 / 16_000.0;
            let chirp =
                (2.0 * std::f32::consts::PI * (200.0 + 800.0 * t) * t * (1.0 + ear as f32 * 0.1))
                    .sin();
            let tone =
                (2.0 * std::f32::consts::PI * 220.0 * t).sin() * (1.0 + (6.0 * t).sin()) * 0.5;
            let noise: f32 = rng.random_range(-1.0..1.0);
            data.push(0.12 * chirp + 0.1 * tone + 0.05 * noise);
        }
    }
    Tensor::from_vec(data, (1, 2, n), &Device::Cpu).unwrap()
}

/// Largest absolute element of a tensor.
pub fn max_abs(t: &Tensor) -> f32 {
    t.abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

/// Largest absolute difference of two equally long slices.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max)
}

/// max |a - b| / max |b|.
pub fn rel_err(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims());
    max_abs(&(a - b).unwrap()) / max_abs(b)
}

/// Puts `values` into `x` [1, M, N] at samples `[from, to)` of every channel.
pub fn overwrite(x: &Tensor, from: usize, to: usize, value: impl Fn(usize) -> f32) -> Tensor {
    let (_, m, n) = x.dims3().unwrap();
    let mut v = x.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    for c in 0..m {
        for i in from..to.min(n) {
            v[c * n + i] = value(i);
        }
    }
    Tensor::from_vec(v, (1, m, n), &Device::Cpu).unwrap()
}
