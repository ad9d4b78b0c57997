//! Speed of the kernels' matrix products on the training's shapes (the
//! small model's LSTMs and linear layers), in GMAC per second on one thread.
//!
//! `cargo run --release -p kb-models --example product_speed [ROWS]`
//! (default 97,000 rows: one thread's half of a batch of 8 x 2 s).

use std::time::Instant;

use kb_models::kernels::{Kernels, Strides};

/// Repeats `f` over about 2e9 multiply-adds of `macs` each and returns GMAC per second.
fn rate(macs: usize, mut f: impl FnMut()) -> f64 {
    let reps = (2_000_000_000 / macs).max(1);
    let start = Instant::now();
    for _ in 0..reps {
        f();
    }
    (macs * reps) as f64 / start.elapsed().as_secs_f64() / 1e9
}

fn main() {
    let rows: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("ROWS must be a whole number"))
        .unwrap_or(97_000);
    let k = Kernels::best();
    println!("{} kernels, {rows} rows", k.path.name());
    let x: Vec<f32> = (0..rows * 64).map(|i| (i % 7) as f32 * 0.1).collect();
    let w: Vec<f32> = (0..64 * 64).map(|i| (i % 5) as f32 * 0.01).collect();
    let mut out = vec![0f32; rows * 64];
    for (r, kk, m) in [
        (rows, 16, 64),
        (rows, 64, 16),
        (rows, 32, 16),
        (64, 16, 64),
        (64, 64, 16),
    ] {
        let g = rate(r * kk * m, || k.gemm(&mut out, &x, &w, r, kk, m));
        println!("out[{r} x {m}] += x[{r} x {kk}] w[{kk} x {m}]: {g:.1} GMAC/s");
    }
    for (kk, m) in [(64, 16), (16, 64), (32, 16)] {
        let mut grad = vec![0f32; kk * m];
        let ld = Strides {
            out: m,
            x: kk,
            w: m,
        };
        let g = rate(rows * kk * m, || {
            k.gemm_tn(&mut grad, &x, &out, (rows, kk, m), ld)
        });
        println!("grad[{kk} x {m}] += x[{rows} x {kk}]^T g[{rows} x {m}]: {g:.1} GMAC/s");
    }
}
