//! Training runs: an interrupted and resumed run equals an uninterrupted one,
//! steps reduce the loss, and the schedule halves the learning rate on a plateau.

mod common;

use candle_core::{Device, Tensor};
use kb_models::{
    train::{plateau::Plateau, Half, TrainSettings, Trainer},
    weights::Model,
    JointConfig, ModelConfig, WeightsConfig, SPEAKER_DIM,
};

/// Deterministic batch `step`: two talker-like sources per ear and their sum.
fn batch(step: u64, b: usize, n: usize) -> (Tensor, Tensor) {
    let sources: Vec<Tensor> = (0..b)
        .map(|i| {
            let seed = step * 100 + i as u64;
            let s0 = common::test_signal(n, seed);
            let s1 = (common::test_signal(n, seed + 50).flip(&[2]).unwrap() * 0.7).unwrap();
            Tensor::cat(&[s0, s1], 0).unwrap()
        })
        .collect();
    let targets = Tensor::stack(&sources, 0).unwrap();
    (targets.sum(1).unwrap(), targets)
}

fn run(trainer: &mut Trainer, steps: u64) {
    for _ in 0..steps {
        let (mix, targets) = batch(trainer.step, 2, 128 * 8);
        trainer.train_step(&mix, &targets).unwrap();
    }
}

#[test]
fn resumed_run_equals_uninterrupted_run() {
    let settings = TrainSettings {
        batch: 2,
        hint_drop_chunks: 0.2,
        hint_drop_utterances: 0.25,
        seed: 9,
        ..TrainSettings::default()
    };
    let config = WeightsConfig::Joint(JointConfig::tiny(2, 1, 2));
    let mut straight = Trainer::new(config.clone(), settings.clone()).unwrap();
    run(&mut straight, 20);

    let mut first = Trainer::new(config, settings).unwrap();
    run(&mut first, 10);
    let path = std::env::temp_dir().join(format!("kb-ckpt-{}.safetensors", std::process::id()));
    first.save_checkpoint(&path).unwrap();
    drop(first);
    let mut resumed = Trainer::resume(&path).unwrap();
    assert_eq!(resumed.step, 10);
    run(&mut resumed, 10);

    let (a, b) = (straight.parameters(), resumed.parameters());
    assert_eq!(a.len(), b.len());
    let mut worst = 0f32;
    for (name, t) in &a {
        worst = worst.max(common::max_abs(&(t - &b[name]).unwrap()));
    }
    println!("largest parameter difference after 20 steps: {worst:e}");
    assert!(worst <= 1e-6, "resumed run differs by {worst}");
    assert_eq!(straight.adam.t, resumed.adam.t);
}

#[test]
fn training_steps_reduce_the_loss() {
    // A single model, and a joint pair whose delayed hints reach the merge
    // without a dropout mask (a batch of two through the delay line).
    for config in [
        WeightsConfig::Single(ModelConfig::tiny(2)),
        WeightsConfig::Joint(JointConfig::tiny(2, 1, 2)),
    ] {
        loss_falls(config);
    }
}

fn loss_falls(config: WeightsConfig) {
    let settings = TrainSettings {
        batch: 2,
        lr: 3e-3,
        hint_drop_chunks: 0.0,
        hint_drop_utterances: 0.0,
        ..TrainSettings::default()
    };
    let mut trainer = Trainer::new(config, settings).unwrap();
    let (mix, targets) = batch(0, 2, 128 * 8);
    let first = trainer.train_step(&mix, &targets).unwrap();
    for _ in 0..40 {
        trainer.train_step(&mix, &targets).unwrap();
    }
    let last = trainer
        .loss(&trainer.output(&mix, None).unwrap(), &targets)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    println!("loss {} -> {last}", first.loss);
    assert!(
        last < first.loss - 1.0,
        "loss went from {} to {last}",
        first.loss
    );
    let improvement = trainer.si_sdri(&mix, &targets).unwrap();
    assert_eq!(improvement.len(), 2);
    assert!(improvement.iter().all(|v| v.is_finite()));
}

#[test]
fn learning_rate_halves_after_four_stale_evaluations() {
    let mut p = Plateau::new(4, 1e-6);
    let mut lr = 1e-3;
    assert_eq!(p.observe(5.0, lr), (lr, true));
    for i in 0..3 {
        let (next, best) = p.observe(4.0 - i as f64, lr);
        assert_eq!((next, best), (lr, false));
    }
    lr = p.observe(4.5, lr).0;
    assert_eq!(lr, 5e-4);
    assert_eq!(p.observe(6.0, lr), (lr, true));
    let mut tiny = Plateau::new(1, 1e-6);
    tiny.observe(1.0, 1e-6);
    assert_eq!(tiny.observe(0.0, 1.5e-6).0, 1e-6, "never below the floor");
}

#[test]
fn a_pretrained_small_model_starts_the_pair_exactly_where_it_is() {
    let joint = JointConfig::tiny(2, 1, 2);
    let pretrained =
        kb_models::weights::Weights::random(WeightsConfig::Single(joint.small.clone()), 78)
            .unwrap();
    let trainer = Trainer::new(
        WeightsConfig::Joint(joint.clone()),
        TrainSettings::default(),
    )
    .unwrap();
    let before = trainer.parameters();
    trainer.load_half(Half::Small, &pretrained).unwrap();
    let params = trainer.parameters();
    for (name, t) in &pretrained.tensors {
        assert_eq!(
            common::max_abs(&(t - &params[&format!("small.{name}")]).unwrap()),
            0.0,
            "{name}"
        );
    }
    let untouched = params
        .keys()
        .filter(|n| !n.starts_with("small.") || n.starts_with("small.merges."))
        .filter(|n| !n.contains(".cross_attn.proj.norm."));
    for name in untouched {
        assert_eq!(
            common::max_abs(&(&before[name] - &params[name]).unwrap()),
            0.0,
            "{name} changed"
        );
    }
    let mixture = Tensor::randn(0f32, 0.1, (2, 2, 1024), &Device::Cpu).unwrap();
    let Model::Single(single) = pretrained.model(&Device::Cpu).unwrap() else {
        unreachable!("a single configuration builds a single model")
    };
    let alone = single.forward(&mixture, None).unwrap().audio;
    let paired = trainer.output(&mixture, None).unwrap();
    let gap = common::max_abs(&(&alone - &paired).unwrap());
    assert!(
        gap < 1e-5,
        "the pair's output differs from the single model's by {gap}"
    );
    let wrong =
        kb_models::weights::Weights::random(WeightsConfig::Single(joint.large.clone()), 1).unwrap();
    assert!(trainer.load_half(Half::Small, &wrong).is_err());
}

#[test]
fn a_pretrained_large_model_is_loaded_into_the_joint_run() {
    let joint = JointConfig::tiny(2, 1, 2);
    let pretrained =
        kb_models::weights::Weights::random(WeightsConfig::Single(joint.large.clone()), 77)
            .unwrap();
    let trainer = Trainer::new(
        WeightsConfig::Joint(joint.clone()),
        TrainSettings::default(),
    )
    .unwrap();
    trainer.load_half(Half::Large, &pretrained).unwrap();
    let params = trainer.parameters();
    for (name, t) in &pretrained.tensors {
        assert_eq!(
            common::max_abs(&(t - &params[&format!("large.{name}")]).unwrap()),
            0.0
        );
    }
    let wrong =
        kb_models::weights::Weights::random(WeightsConfig::Single(joint.small.clone()), 1).unwrap();
    assert!(trainer.load_half(Half::Large, &wrong).is_err());
    let _ = Device::Cpu;
}

#[test]
fn optimizer_moments_keep_no_graph_between_steps() {
    // A moment that records the op that made it holds the whole forward and
    // backward graph of its step alive: memory then grows by a batch's
    // activations every step until the run is killed.
    let settings = TrainSettings {
        batch: 2,
        ..TrainSettings::default()
    };
    let mut trainer =
        Trainer::new(WeightsConfig::Joint(JointConfig::tiny(2, 1, 2)), settings).unwrap();
    run(&mut trainer, 2);
    assert!(!trainer.adam.moments.is_empty());
    for (name, (m, v)) in &trainer.adam.moments {
        assert!(!m.track_op() && !v.track_op(), "{name} moments record ops");
    }
}

#[test]
fn a_model_of_another_task_starts_all_but_the_output_layer() {
    let separation =
        kb_models::weights::Weights::random(WeightsConfig::Single(ModelConfig::tiny(2)), 31)
            .unwrap();
    let trainer = Trainer::new(
        WeightsConfig::Single(ModelConfig::tiny(1)),
        TrainSettings::default(),
    )
    .unwrap();
    let before = trainer.parameters();
    let fresh = trainer.init_from(&separation).unwrap();
    assert_eq!(fresh, ["deconv.bias", "deconv.weight"]);
    let params = trainer.parameters();
    for (name, t) in &params {
        let want = if fresh.contains(name) {
            &before[name]
        } else {
            &separation.tensors[name]
        };
        assert_eq!(common::max_abs(&(t - want).unwrap()), 0.0, "{name}");
    }
    let wider = kb_models::weights::Weights::random(
        WeightsConfig::Single(ModelConfig::tiny_attention(2)),
        1,
    )
    .unwrap();
    assert!(trainer.init_from(&wider).is_err());
}

/// A target-extraction model started from an enhancement model begins as
/// that model: its speaker FiLMs are the identity, whatever the voice.
#[test]
fn an_extraction_model_started_from_enhancement_begins_as_it() {
    let enhancement =
        kb_models::weights::Weights::random(WeightsConfig::Single(ModelConfig::tiny(1)), 41)
            .unwrap();
    let extraction = ModelConfig::tiny(1).with_speaker(Some(SPEAKER_DIM));
    let trainer =
        Trainer::new(WeightsConfig::Single(extraction), TrainSettings::default()).unwrap();
    let fresh = trainer.init_from(&enhancement).unwrap();
    assert_eq!(fresh.len(), 8, "{fresh:?}");
    assert!(fresh.iter().all(|n| n.starts_with("speaker_films.")));
    let Model::Single(reference) = enhancement.model(&Device::Cpu).unwrap() else {
        unreachable!()
    };
    let (mix, _) = batch(3, 2, 128 * 6);
    let want = reference.forward(&mix, None).unwrap().audio;
    for seed in [1u64, 2] {
        let voice: Vec<f32> = (0..2 * SPEAKER_DIM)
            .map(|i| ((i as u64 * 31 + seed * 7) % 13) as f32 / 13.0)
            .collect();
        let voice = Tensor::from_vec(voice, (2, SPEAKER_DIM), &Device::Cpu).unwrap();
        let got = trainer
            .output_conditioned(&mix, None, Some(&voice))
            .unwrap();
        let diff = common::max_abs(&(&got - &want).unwrap());
        assert!(diff < 1e-6, "voice {seed}: differs by {diff}");
    }
}
