//! The per-mixture scores on signals whose answers are known.

use super::super::metrics::{pesq_wb, score, si_sdr};

/// A voiced 16 kHz source with syllable bursts.
fn voiced(n: usize, f0: f64, rate: f64) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let t = i as f64 / 16_000.0;
            let env = (2.0 * std::f64::consts::PI * rate * t).sin().max(0.0);
            let v: f64 = (1..8)
                .map(|h| (2.0 * std::f64::consts::PI * f0 * h as f64 * t).sin() / h as f64)
                .sum();
            (0.1 * env * v) as f32
        })
        .collect()
}

/// `noise` minus its projection on `target`: an error orthogonal to the target.
fn projected_out(target: &[f32], noise: &[f32]) -> Vec<f32> {
    let tt: f64 = target.iter().map(|t| f64::from(*t).powi(2)).sum();
    let tn: f64 = target
        .iter()
        .zip(noise)
        .map(|(t, n)| f64::from(*t) * f64::from(*n))
        .sum();
    noise
        .iter()
        .zip(target)
        .map(|(n, t)| (f64::from(*n) - tn / tt * f64::from(*t)) as f32)
        .collect()
}

#[test]
fn si_sdr_is_the_energy_ratio_to_an_orthogonal_error() {
    let target = voiced(16_000, 120.0, 3.0);
    let raw: Vec<f32> = (0..16_000)
        .map(|i| ((i * 7919 % 1000) as f32 / 1000.0 - 0.5) * 0.01)
        .collect();
    let noise = projected_out(&target, &raw);
    let energy = |x: &[f32]| x.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>();
    let est: Vec<f32> = target
        .iter()
        .zip(&noise)
        .map(|(t, n)| 0.5 * t + n)
        .collect();
    // Scale-invariant: the 0.5 gain does not count, only the orthogonal error.
    let want = 10.0 * (0.25 * energy(&target) / energy(&noise)).log10();
    assert!(
        (si_sdr(&est, &target) - want).abs() < 1e-3,
        "{} vs {want}",
        si_sdr(&est, &target)
    );
}

#[test]
fn pesq_ranks_clean_above_noisy_and_scores_are_permutation_invariant() {
    let n = 3 * 16_000;
    let a = voiced(n, 120.0, 3.0);
    let b = voiced(n, 210.0, 4.3);
    let clean = pesq_wb(&a, &a).expect("a scored pair");
    let mixed: Vec<f32> = a.iter().zip(&b).map(|(x, y)| x + 0.5 * y).collect();
    let noisy = pesq_wb(&a, &mixed).expect("a scored pair");
    println!("PESQ clean {clean:.3}, with the other talker {noisy:.3}");
    assert!(clean > 4.0, "{clean}");
    assert!(noisy < clean - 0.5, "{noisy} vs {clean}");

    let sources = vec![vec![a.clone(), a.clone()], vec![b.clone(), b.clone()]];
    let mixture: Vec<Vec<f32>> = (0..2)
        .map(|_| a.iter().zip(&b).map(|(x, y)| x + y).collect())
        .collect();
    let half: Vec<Vec<Vec<f32>>> = sources
        .iter()
        .map(|s| {
            s.iter()
                .map(|e| {
                    e.iter()
                        .zip(&mixture[0])
                        .map(|(x, m)| 0.5 * (x + m))
                        .collect()
                })
                .collect()
        })
        .collect();
    let ordered = score(&half, &sources, &mixture);
    let swapped = score(&[half[1].clone(), half[0].clone()], &sources, &mixture);
    assert_eq!(ordered.si_sdri, swapped.si_sdri);
    assert_eq!(ordered.stoi, swapped.stoi);
    assert_eq!(ordered.pesq, swapped.pesq);
    // Half-way to the source from the mixture is an improvement.
    assert!(ordered.si_sdri > 1.0, "{}", ordered.si_sdri);
}
