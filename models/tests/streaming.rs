//! Streaming one frame per call equals the whole-utterance forward.

mod common;

use candle_core::{Device, Tensor};
use kb_models::{
    level::LevelConfig, JointConfig, JointModel, ModelConfig, SeededParams, TfGridNet,
};

const CHUNKS: usize = 200;

/// The stream's window for call k: samples [128k, 128k + 192) of the padded signal.
fn window(padded: &Tensor, k: usize) -> Tensor {
    padded.narrow(2, 128 * k, 192).unwrap()
}

fn check_single(cfg: ModelConfig, seed: u64) {
    check_single_on(cfg, common::test_signal(128 * CHUNKS, seed), seed);
}

fn check_single_on(cfg: ModelConfig, x: Tensor, seed: u64) {
    let params = SeededParams::new(seed);
    let model = TfGridNet::new(params.var_builder(&Device::Cpu), &cfg).unwrap();
    let whole = model.forward(&x, None).unwrap();
    let padded = x.pad_with_zeros(2, 0, 64).unwrap();
    let mut state = model.initial_state(1, &Device::Cpu).unwrap();
    let mut parts = Vec::new();
    for k in 0..CHUNKS {
        parts.push(
            model
                .forward_frames(&window(&padded, k), None, &mut state)
                .unwrap()
                .audio,
        );
    }
    let streamed = Tensor::cat(&parts, 3).unwrap();
    let err = common::rel_err(&streamed, &whole.audio);
    println!(
        "D{} H{} attention {:?}: streaming vs whole relative error {err:.2e}",
        cfg.d, cfg.hidden, cfg.attention
    );
    assert!(
        err < 1e-4,
        "streaming differs from the whole-utterance forward by {err}"
    );
    assert!(
        common::max_abs(&whole.audio) > 1e-3,
        "the model must produce signal for the comparison to mean anything"
    );
}

#[test]
fn small_streams_like_whole_utterance() {
    check_single(ModelConfig::small(2), 1);
}

#[test]
fn level_normalised_small_streams_like_whole_utterance() {
    // A loud first half and a 26 dB quieter second half: the level rises, then falls.
    let x = common::test_signal(128 * CHUNKS, 3);
    let x = common::overwrite(&x, 128 * CHUNKS / 2, 128 * CHUNKS, |_| 0.0)
        .add(&(common::overwrite(&x, 0, 128 * CHUNKS / 2, |_| 0.0) * 0.05).unwrap())
        .unwrap();
    let cfg = ModelConfig::small(2).with_level(Some(LevelConfig::speech()));
    check_single_on(cfg, x, 3);
}

#[test]
fn large_with_attention_streams_like_whole_utterance() {
    check_single(ModelConfig::large(2), 2);
}

fn check_joint(delay: usize) {
    let cfg = JointConfig::tiny(2, delay, 2);
    let params = SeededParams::new(10 + delay as u64);
    let model = JointModel::new(params.var_builder(&Device::Cpu), &cfg).unwrap();
    let x = common::test_signal(128 * CHUNKS, 5);
    let whole = model.forward(&x).unwrap();
    let padded = x.pad_with_zeros(2, 0, 64).unwrap();
    let mut state = model.initial_state(1, &Device::Cpu).unwrap();
    let (mut small, mut large) = (Vec::new(), Vec::new());
    for k in 0..CHUNKS {
        let out = model
            .forward_frames(&window(&padded, k), &mut state)
            .unwrap();
        small.push(out.small.audio);
        large.push(out.large.audio);
    }
    let err_small = common::rel_err(&Tensor::cat(&small, 3).unwrap(), &whole.small.audio);
    let err_large = common::rel_err(&Tensor::cat(&large, 3).unwrap(), &whole.large.audio);
    println!("joint C={delay}: small {err_small:.2e}, large {err_large:.2e}");
    assert!(
        err_small < 1e-4 && err_large < 1e-4,
        "joint C={delay}: small {err_small}, large {err_large}"
    );
}

#[test]
fn joint_streams_like_whole_utterance_c0() {
    check_joint(0);
}

#[test]
fn joint_streams_like_whole_utterance_c1() {
    check_joint(1);
}

#[test]
fn joint_streams_like_whole_utterance_c3() {
    check_joint(3);
}

#[test]
fn paper_sized_joint_streams_like_whole_utterance() {
    let cfg = JointConfig::paper(2, 1, 2);
    let model = JointModel::new(SeededParams::new(4).var_builder(&Device::Cpu), &cfg).unwrap();
    let x = common::test_signal(128 * 60, 9);
    let whole = model.forward(&x).unwrap();
    let padded = x.pad_with_zeros(2, 0, 64).unwrap();
    let mut state = model.initial_state(1, &Device::Cpu).unwrap();
    // Several frames per call must work as well as one.
    let mut parts = Vec::new();
    for k in (0..60).step_by(4) {
        let w = padded.narrow(2, 128 * k, 128 * 4 + 64).unwrap();
        parts.push(model.forward_frames(&w, &mut state).unwrap().small.audio);
    }
    let err = common::rel_err(&Tensor::cat(&parts, 3).unwrap(), &whole.small.audio);
    println!("paper joint, 4 frames per call: {err:.2e}");
    assert!(err < 1e-4);
}
