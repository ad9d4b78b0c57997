//! Causality (12 ms algorithmic latency) and the hint delay of the joint model.

mod common;

use candle_core::{Device, Tensor};
use kb_models::{JointConfig, JointModel, SeededParams};

fn chunk(t: &Tensor, k: usize) -> Tensor {
    t.narrow(3, 128 * k, 128).unwrap()
}

fn differs(a: &Tensor, b: &Tensor) -> bool {
    let a = a.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let b = b.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    a.iter().zip(&b).any(|(x, y)| x.to_bits() != y.to_bits())
}

#[test]
fn future_input_beyond_the_lookahead_changes_no_final_output() {
    let cfg = JointConfig::tiny(2, 1, 2);
    let model = JointModel::new(SeededParams::new(21).var_builder(&Device::Cpu), &cfg).unwrap();
    let n = 128 * 40;
    let x = common::test_signal(n, 1);
    let clean = model.forward(&x).unwrap();
    for k in [0usize, 7, 25] {
        // Output chunk k needs input up to sample 128k + 191: change everything from 128(k + 1) + 64 on.
        let first_changed = 128 * (k + 1) + 64;
        let y = common::overwrite(&x, first_changed, n, |i| {
            ((i * 7919) % 97) as f32 / 97.0 - 0.5
        });
        let out = model.forward(&y).unwrap();
        for (name, a, b) in [
            ("small", &out.small.audio, &clean.small.audio),
            ("large", &out.large.audio, &clean.large.audio),
        ] {
            for j in 0..=k {
                assert!(
                    !differs(&chunk(a, j), &chunk(b, j)),
                    "{name}: chunk {j} changed by input at sample {first_changed}"
                );
            }
            assert!(
                differs(&chunk(a, k + 1), &chunk(b, k + 1)),
                "{name}: chunk {} must see the change",
                k + 1
            );
        }
    }
}

#[test]
fn poisoned_large_input_reaches_the_small_model_exactly_c_chunks_later() {
    for delay in [0usize, 1, 3] {
        let cfg = JointConfig::tiny(2, delay, 2);
        let model = JointModel::new(SeededParams::new(30).var_builder(&Device::Cpu), &cfg).unwrap();
        let chunks = 24;
        let k = 10;
        let x = common::test_signal(128 * chunks, 2)
            .pad_with_zeros(2, 0, 64)
            .unwrap();
        // The samples that first enter the stream at call k.
        let poisoned = common::overwrite(&x, 128 * k + 64, 128 * k + 192, |_| f32::NAN);
        let run = |large_input: &Tensor| -> Vec<Tensor> {
            let mut state = model.initial_state(1, &Device::Cpu).unwrap();
            (0..chunks)
                .map(|j| {
                    let w = |t: &Tensor| t.narrow(2, 128 * j, 192).unwrap();
                    model
                        .forward_frames_split(&w(&x), &w(large_input), &mut state)
                        .unwrap()
                        .small
                        .audio
                })
                .collect()
        };
        let clean = run(&x);
        let hinted = run(&poisoned);
        for j in 0..k + delay {
            assert!(
                !differs(&hinted[j], &clean[j]),
                "C={delay}: small chunk {j} changed before the hint could arrive"
            );
        }
        for (j, chunk) in hinted.iter().enumerate().skip(k + delay) {
            assert!(
                differs(chunk, &clean[j]),
                "C={delay}: small chunk {j} must carry the poisoned hint"
            );
        }
    }
}
