//! The real-time engine equals the candle streaming forward, chunk for chunk.

mod common;

use candle_core::{Device, Tensor};
use kb_models::{
    engine::{BoostedPair, GridNetEngine, KernelPath, Kernels},
    level::LevelConfig,
    weights::{Model, Weights},
    JointConfig, ModelConfig, WeightsConfig, SPEAKER_DIM,
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

/// A d-vector-like speaker embedding of `e` values: non-negative, unit length.
fn speaker_embedding(e: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    let v: Vec<f32> = (0..e).map(|_| rng.random_range(0.0..1.0f32)).collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / norm).collect()
}

/// The embedding as a candle batch of one [1, E].
fn speaker_tensor(v: &[f32]) -> Tensor {
    Tensor::from_slice(v, (1, v.len()), &Device::Cpu).unwrap()
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
    let speaker = cfg.speaker.map(|e| speaker_embedding(e, 5));
    if let Some(v) = &speaker {
        engine.set_speaker(v).unwrap();
    }
    let mut worst = 0f32;
    for (name, x) in inputs() {
        let mut state = model.initial_state(1, &Device::Cpu).unwrap();
        if let Some(v) = &speaker {
            model.condition(&mut state, &speaker_tensor(v)).unwrap();
        }
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
    check_joint_config(JointConfig::paper(2, delay, 2), level, None);
}

fn check_joint_config(paper: JointConfig, level: Option<LevelConfig>, speaker: Option<usize>) {
    let delay = paper.delay;
    let s = paper.small.sources;
    let cfg = JointConfig {
        small: paper.small.clone().with_level(level).with_speaker(speaker),
        large: paper.large.clone().with_level(level).with_speaker(speaker),
        ..paper
    };
    let weights = Weights::random(WeightsConfig::Joint(cfg.clone()), 11 + delay as u64).unwrap();
    let Model::Joint(model) = weights.model(&Device::Cpu).unwrap() else {
        unreachable!()
    };
    let mut pair = BoostedPair::from_weights(&weights.to_file().unwrap(), Kernels::best()).unwrap();
    let embedding = speaker.map(|e| speaker_embedding(e, 9));
    if let Some(v) = &embedding {
        pair.set_speaker(v).unwrap();
    }
    for (name, x) in inputs() {
        let mut state = model.initial_state(1, &Device::Cpu).unwrap();
        if let Some(v) = &embedding {
            model.condition(&mut state, &speaker_tensor(v)).unwrap();
        }
        let parts: Vec<Tensor> = candle_windows(&x)
            .iter()
            .map(|w| model.forward_frames(w, &mut state).unwrap().small.audio)
            .collect();
        let reference = Tensor::cat(&parts, 3).unwrap();
        pair.reset();
        let samples = channels(&x);
        let mut outs = Vec::with_capacity(CHUNKS);
        for k in 0..CHUNKS {
            let mut out = vec![0f32; s * 2 * 128];
            pair.process(&chunk(&samples, k), true, &mut out).unwrap();
            outs.push(out);
        }
        let err = common::rel_err(&assemble(&outs, s, 2), &reference);
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

#[test]
fn speaker_conditioned_engine_matches_candle() {
    let cfg = ModelConfig::small(1).with_speaker(Some(SPEAKER_DIM));
    assert!(check_single(cfg, KernelPath::detect()) < 1e-4);
}

#[test]
fn speaker_conditioned_joint_engines_match_candle() {
    check_joint_config(
        JointConfig::tiny(1, 3, 2),
        Some(LevelConfig::speech()),
        Some(SPEAKER_DIM),
    );
}

/// The speaker reaches the output: two enrolled voices give two different
/// outputs of the same input, and a model that needs a voice refuses to run
/// without one, in the engine and in candle alike.
#[test]
fn the_speaker_embedding_steers_the_output_and_is_required() {
    let cfg = ModelConfig::tiny(1).with_speaker(Some(SPEAKER_DIM));
    let weights = Weights::random(WeightsConfig::Single(cfg.clone()), 3).unwrap();
    let file = weights.to_file().unwrap();
    let source = kb_models::engine::tensors::TensorSource::new(&file.tensors, "");
    let mut engine = GridNetEngine::load(&source, &cfg, None, Kernels::best()).unwrap();
    let input: Vec<f32> = channels(&common::test_signal(128, 4)).concat();
    let mut out = vec![0f32; 2 * 128];
    let err = engine.process(&input, None, &mut out).unwrap_err();
    assert!(err.to_string().contains("speaker"), "{err}");
    let Model::Single(model) = weights.model(&Device::Cpu).unwrap() else {
        unreachable!()
    };
    let mut state = model.initial_state(1, &Device::Cpu).unwrap();
    let window = common::test_signal(128 + 64, 4);
    assert!(model.forward_frames(&window, None, &mut state).is_err());
    let mut outputs = Vec::new();
    for seed in [1, 2] {
        engine.reset();
        engine
            .set_speaker(&speaker_embedding(SPEAKER_DIM, seed))
            .unwrap();
        let mut last = vec![0f32; 2 * 128];
        for _ in 0..4 {
            engine.process(&input, None, &mut last).unwrap();
        }
        outputs.push(last);
    }
    let diff = common::max_abs_diff(&outputs[0], &outputs[1]);
    let size = outputs[0].iter().fold(0f32, |a, v| a.max(v.abs()));
    println!("two speakers: outputs differ by {diff:.3e} (largest sample {size:.3e})");
    assert!(diff > 1e-3 * size, "the speaker does not change the output");
    assert!(engine.set_speaker(&[0.5; 3]).is_err());
}
