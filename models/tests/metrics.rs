//! SI-SDR family against independently computed values.

use candle_core::{Device, Tensor, Var};
use kb_models::metrics::{
    neg_si_sdr_loss, pit_si_sdr_loss, si_sdr, si_sdr_db, si_sdr_improvement, si_snr, snr,
};

fn t(v: &[f32]) -> Tensor {
    Tensor::new(v, &Device::Cpu).unwrap()
}

fn scalar(x: &Tensor) -> f32 {
    x.to_scalar::<f32>().unwrap()
}

#[test]
fn snr_matches_a_hand_value_and_counts_the_level() {
    // target energy 9 + 0.25 + 4 + 49 = 62.25; error energy 0.25 + 0.25 + 0 + 1 = 1.5.
    let target = t(&[3.0, -0.5, 2.0, 7.0]);
    let estimate = t(&[2.5, 0.0, 2.0, 8.0]);
    let hand = 10.0 * (62.25f32 / 1.5).log10();
    assert!((scalar(&snr(&estimate, &target).unwrap()) - hand).abs() < 1e-3);
    // Half the level: SI-SDR is unchanged, SNR drops to 10 log10(62.25 / (62.25 / 4)) = 6.02 dB.
    let half = (&target * 0.5).unwrap();
    assert!((scalar(&snr(&half, &target).unwrap()) - 6.0206).abs() < 1e-3);
    assert!(scalar(&si_sdr(&half, &target).unwrap()) > 60.0);
}

#[test]
fn si_sdr_and_si_snr_match_hand_values() {
    let target = t(&[3.0, -0.5, 2.0, 7.0]);
    let estimate = t(&[2.5, 0.0, 2.0, 8.0]);
    assert!((scalar(&si_sdr(&estimate, &target).unwrap()) - 18.4030).abs() < 1e-3);
    assert!((scalar(&si_snr(&estimate, &target).unwrap()) - 15.0918).abs() < 1e-3);
    // Scale invariance: rescaling the estimate changes nothing.
    assert!(
        (scalar(&si_sdr(&(&estimate * 3.0).unwrap(), &target).unwrap()) - 18.4030).abs() < 1e-3
    );
    // Improvement over a mixture, and the loss is the negated mean.
    let mixture = t(&[4.0, 1.0, 1.0, 5.0]);
    let improvement = scalar(&si_sdr_improvement(&estimate, &target, &mixture).unwrap());
    let by_hand = 18.4030 - scalar(&si_sdr(&mixture, &target).unwrap());
    assert!((improvement - by_hand).abs() < 1e-4);
    assert!((scalar(&neg_si_sdr_loss(&estimate, &target).unwrap()) + 18.4030).abs() < 1e-3);
}

#[test]
fn si_sdr_on_samples_matches_the_hand_value() {
    let (target, estimate) = ([3.0, -0.5, 2.0, 7.0], [2.5f32, 0.0, 2.0, 8.0]);
    assert!((si_sdr_db(&estimate, &target) - 18.4030).abs() < 1e-3);
    let louder = estimate.map(|v| v * -4.0);
    assert!((si_sdr_db(&louder, &target) - 18.4030).abs() < 1e-3);
    assert!(si_sdr_db(&target, &target) > 100.0);
}

#[test]
fn pit_picks_the_right_permutation() {
    let n = 256;
    let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.1).sin()).collect();
    let b: Vec<f32> = (0..n).map(|i| ((i * i) as f32 * 0.01).cos()).collect();
    let noisy = |x: &[f32], k: f32| -> Vec<f32> {
        x.iter()
            .enumerate()
            .map(|(i, v)| v + k * ((i * 31 % 17) as f32 - 8.0) / 8.0)
            .collect()
    };
    let stack = |rows: [&[f32]; 4]| {
        Tensor::new(rows.concat(), &Device::Cpu)
            .unwrap()
            .reshape((2, 2, n))
            .unwrap()
    };
    let target = stack([&a, &b, &a, &b]);
    // Example 0 estimates in order, example 1 swapped.
    let (na, nb) = (noisy(&a, 0.05), noisy(&b, 0.05));
    let estimate = stack([&na, &nb, &nb, &na]);
    let (loss, swapped) = pit_si_sdr_loss(&estimate, &target).unwrap();
    assert_eq!(swapped, vec![false, true]);
    let expected = -(scalar(&si_sdr(&t(&noisy(&a, 0.05)), &t(&a)).unwrap())
        + scalar(&si_sdr(&t(&noisy(&b, 0.05)), &t(&b)).unwrap()))
        / 2.0;
    assert!(
        (scalar(&loss) - expected).abs() < 1e-3,
        "loss {} expected {expected}",
        scalar(&loss)
    );
}

#[test]
fn loss_has_a_gradient_towards_the_target() {
    let target = t(&[3.0, -0.5, 2.0, 7.0]);
    let estimate = Var::new(&[2.5f32, 0.0, 2.0, 8.0], &Device::Cpu).unwrap();
    let loss = neg_si_sdr_loss(estimate.as_tensor(), &target).unwrap();
    let grads = loss.backward().unwrap();
    let g = grads.get(estimate.as_tensor()).unwrap();
    let stepped = (estimate.as_tensor() - (g * 0.01).unwrap()).unwrap();
    assert!(scalar(&neg_si_sdr_loss(&stepped, &target).unwrap()) < scalar(&loss));
}
