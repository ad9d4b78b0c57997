//! The real-time engine equals the candle streaming forward, chunk for chunk.

mod common;

use candle_core::{Device, Tensor};
use kb_models::{
    engine::{BoostedPair, GridNetEngine, KernelPath, Kernels},
    level::LevelConfig,
    weights::{Model, Weights},
    JointConfig, ModelConfig, WeightsConfig,
};
use rand::{rngs::StdRng, Rng, SeedableRng};

const CHUNKS: usize = 1000;
/// Frames per candle call: equivalent to one per call (tests/streaming.rs), much faster.
const FRAMES_PER_CALL: usize = 50;

fn noise(n: usize, seed: u64) -> Tensor {
    let mut rng = StdRng::seed_from_u64(seed);
    let v: Vec<f32> = (0..2 * n).map(|_| rng.random_range(-0.5..0.5)).collect();
    Tensor::from_vec(v, (1, 2, n), &Device::Cpu).unwrap()
}

fn inputs() -> Vec<(&'static str, Tensor)> {
    vec![
        ("random", noise(128 * CHUNKS, 1)),
        ("speech-like", common::test_signal(128 * CHUNKS, 2)),
    ]
}

/// The candle stream sees `[64 zeros, x]`, as the engine does with its empty lookahead buffer.
fn candle_windows(x: &Tensor) -> Vec<Tensor> {
    let padded = x.pad_with_zeros(2, 64, 64).unwrap();
    (0..CHUNKS / FRAMES_PER_CALL)
        .map(|i| {
            padded
                .narrow(2, 128 * FRAMES_PER_CALL * i, 128 * FRAMES_PER_CALL + 64)
                .unwrap()
        })
        .collect()
}

/// Chunk k of `x` [1, M, N] channel-major.
fn chunk(samples: &[Vec<f32>], k: usize) -> Vec<f32> {
    samples
        .iter()
        .flat_map(|ch| ch[128 * k..128 * (k + 1)].iter().copied())
        .collect()
}

fn channels(x: &Tensor) -> Vec<Vec<f32>> {
    x.squeeze(0).unwrap().to_vec2::<f32>().unwrap()
}

/// Engine output chunks [S, M, 128] concatenated to [1, S, M, N].
fn assemble(chunks: &[Vec<f32>], s: usize, m: usize) -> Tensor {
    let n = chunks.len() * 128;
    let mut out = vec![0f32; s * m * n];
    for (k, c) in chunks.iter().enumerate() {
        for ch in 0..s * m {
            out[ch * n + 128 * k..ch * n + 128 * (k + 1)]
                .copy_from_slice(&c[ch * 128..(ch + 1) * 128]);
        }
    }
    Tensor::from_vec(out, (1, s, m, n), &Device::Cpu).unwrap()
}

fn check_single(cfg: ModelConfig, path: KernelPath) -> f32 {
    let weights = Weights::random(WeightsConfig::Single(cfg.clone()), 7).unwrap();
    let Model::Single(model) = weights.model(&Device::Cpu).unwrap() else {
        unreachable!()
    };
    let mut engine = GridNetEngine::load(
        &kb_models::engine::tensors::TensorSource::new(&weights.to_file().unwrap().tensors, ""),
        &cfg,
        None,
        Kernels::new(path).unwrap(),
    )
    .unwrap();
    let mut worst = 0f32;
    for (name, x) in inputs() {
        let mut state = model.initial_state(1, &Device::Cpu).unwrap();
        let parts: Vec<Tensor> = candle_windows(&x)
            .iter()
            .map(|w| model.forward_frames(w, None, &mut state).unwrap().audio)
            .collect();
        let reference = Tensor::cat(&parts, 3).unwrap();
        engine.reset();
        let samples = channels(&x);
        let mut outs = Vec::with_capacity(CHUNKS);
        for k in 0..CHUNKS {
            let mut out = vec![0f32; cfg.sources * cfg.ears * 128];
            engine.process(&chunk(&samples, k), None, &mut out).unwrap();
            outs.push(out);
        }
        let err = common::rel_err(&assemble(&outs, cfg.sources, cfg.ears), &reference);
        println!(
            "D{} H{} {name} ({}): engine vs candle relative error {err:.2e}",
            cfg.d,
            cfg.hidden,
            path.name()
        );
        worst = worst.max(err);
    }
    worst
}

#[test]
fn small_engine_matches_candle() {
    assert!(check_single(ModelConfig::small(2), KernelPath::detect()) < 1e-4);
}

#[test]
fn level_normalised_engine_matches_candle() {
    let cfg = ModelConfig::small(2).with_level(Some(LevelConfig::speech()));
    assert!(check_single(cfg, KernelPath::detect()) < 1e-4);
}

#[test]
fn medium_engine_matches_candle() {
    assert!(check_single(ModelConfig::medium(2), KernelPath::detect()) < 1e-4);
}

#[test]
fn large_engine_matches_candle() {
    assert!(check_single(ModelConfig::large(2), KernelPath::detect()) < 1e-4);
}

#[test]
fn portable_kernels_match_candle() {
    assert!(check_single(ModelConfig::tiny_attention(2), KernelPath::Portable) < 1e-4);
}

fn check_joint(delay: usize, level: Option<LevelConfig>) {
    let paper = JointConfig::paper(2, delay, 2);
    let cfg = JointConfig {
        small: paper.small.clone().with_level(level),
        large: paper.large.clone().with_level(level),
        ..paper
    };
    let weights = Weights::random(WeightsConfig::Joint(cfg.clone()), 11 + delay as u64).unwrap();
    let Model::Joint(model) = weights.model(&Device::Cpu).unwrap() else {
        unreachable!()
    };
    let mut pair = BoostedPair::from_weights(&weights.to_file().unwrap(), Kernels::best()).unwrap();
    for (name, x) in inputs() {
        let mut state = model.initial_state(1, &Device::Cpu).unwrap();
        let parts: Vec<Tensor> = candle_windows(&x)
            .iter()
            .map(|w| model.forward_frames(w, &mut state).unwrap().small.audio)
            .collect();
        let reference = Tensor::cat(&parts, 3).unwrap();
        pair.reset();
        let samples = channels(&x);
        let mut outs = Vec::with_capacity(CHUNKS);
        for k in 0..CHUNKS {
            let mut out = vec![0f32; 2 * 2 * 128];
            pair.process(&chunk(&samples, k), true, &mut out).unwrap();
            outs.push(out);
        }
        let err = common::rel_err(&assemble(&outs, 2, 2), &reference);
        println!("joint C={delay} {name}: engine vs candle relative error {err:.2e}");
        assert!(err < 1e-4, "joint C={delay} {name}: {err}");
    }
}

#[test]
fn joint_engines_match_candle_c1() {
    check_joint(1, None);
}

#[test]
fn level_normalised_joint_engines_match_candle() {
    check_joint(1, Some(LevelConfig::speech()));
}

#[test]
fn joint_engines_match_candle_c3() {
    check_joint(3, None);
}
