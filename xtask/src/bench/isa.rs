//! `cargo xtask bench --isa`: the peak multiply-accumulate rate of the
//! instructions a product could use on this CPU, f32 FMA against the bf16
//! dot product (AVX512-BF16), on one thread with independent accumulators,
//! so a bf16 training path is built only where it can pay.

use std::time::Instant;

/// Accumulators per loop: enough to hide either instruction's latency.
const LANES: usize = 24;

/// Multiply-accumulates per second of each instruction, in GMAC/s.
pub fn run(iterations: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        if !std::arch::is_x86_feature_detected!("avx512f") {
            println!("no AVX-512 on this CPU: nothing to compare");
            return;
        }
        // SAFETY: AVX-512F was detected above.
        let f32_rate = rate(iterations, 16, || unsafe { x86::fma(iterations) });
        println!("f32 FMA (vfmadd231ps zmm): {f32_rate:.1} GMAC/s");
        if std::arch::is_x86_feature_detected!("avx512bf16") {
            // SAFETY: AVX512-BF16 was detected above.
            let bf16_rate = rate(iterations, 32, || unsafe { x86::dot_bf16(iterations) });
            println!(
                "bf16 dot (vdpbf16ps zmm): {bf16_rate:.1} GMAC/s, {:.2}x the f32 rate",
                bf16_rate / f32_rate
            );
        } else {
            println!("no AVX512-BF16 on this CPU");
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = iterations;
        println!("the probe covers x86-64 only");
    }
}

/// The better of three timings of `f`, `per_instruction` MACs per lane instruction.
fn rate(iterations: usize, per_instruction: usize, f: impl Fn() -> f32) -> f64 {
    (0..3)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            let seconds = start.elapsed().as_secs_f64();
            (iterations * LANES * per_instruction) as f64 / seconds / 1e9
        })
        .fold(0.0, f64::max)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::LANES;

    /// `iterations` rounds of one FMA on each of the accumulators.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn fma(iterations: usize) -> f32 {
        let b = _mm512_set1_ps(std::hint::black_box(1.0));
        let mut acc = [_mm512_setzero_ps(); LANES];
        for _ in 0..iterations {
            for a in acc.iter_mut() {
                *a = _mm512_fmadd_ps(b, b, *a);
            }
        }
        let sum = acc
            .iter()
            .fold(_mm512_setzero_ps(), |s, a| _mm512_add_ps(s, *a));
        _mm512_reduce_add_ps(sum)
    }

    /// `iterations` rounds of one bf16 pair-dot on each of the accumulators.
    #[target_feature(enable = "avx512f,avx512bf16")]
    pub unsafe fn dot_bf16(iterations: usize) -> f32 {
        let one = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1.0), _mm512_set1_ps(1.0));
        let b = std::hint::black_box(one);
        let mut acc = [_mm512_setzero_ps(); LANES];
        for _ in 0..iterations {
            for a in acc.iter_mut() {
                *a = _mm512_dpbf16_ps(*a, b, b);
            }
        }
        let sum = acc
            .iter()
            .fold(_mm512_setzero_ps(), |s, a| _mm512_add_ps(s, *a));
        _mm512_reduce_add_ps(sum)
    }
}
