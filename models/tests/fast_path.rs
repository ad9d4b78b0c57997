//! The fast training path against candle autograd: the same loss and, for
//! every parameter of the model, the same gradient on random inputs; and the
//! same 50-step run from the same seed on either backend.

mod common;

use std::collections::HashMap;

use candle_core::{Device, Tensor};
use kb_models::{
    level::LevelConfig,
    metrics::Objective,
    train::{
        fast::{FastModel, FastStep, ParamLayout},
        TrainSettings, Trainer,
    },
    JointConfig, ModelConfig, WeightsConfig, SPEAKER_DIM,
};
use rand::{rngs::StdRng, Rng, SeedableRng};

/// Random mixture [b, 2, n] and targets [b, s, 2, n] with sources summing to the mixture.
fn batch(b: usize, s: usize, n: usize, seed: u64) -> (Tensor, Tensor) {
    let sources: Vec<Tensor> = (0..b)
        .map(|i| {
            let parts: Vec<Tensor> = (0..s)
                .map(|j| {
                    let x = common::test_signal(n, seed + (i * s + j) as u64 * 17);
                    (x * (0.3 + 0.5 * j as f64)).unwrap()
                })
                .collect();
            Tensor::cat(&parts, 0).unwrap()
        })
        .collect();
    let targets = Tensor::stack(&sources, 0).unwrap();
    (targets.sum(1).unwrap(), targets)
}

/// `b` d-vector-like speaker embeddings of `e` values [b, e]: non-negative, unit length.
fn speakers(b: usize, e: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut v: Vec<f32> = (0..b * e).map(|_| rng.random_range(0.0..1.0f32)).collect();
    for row in v.chunks_exact_mut(e) {
        let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt();
        row.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

/// A tiny joint pair (C = 1, two sources) that drops hints by chunk and by utterance.
fn dropout_pair(seed: u64) -> Trainer {
    let settings = TrainSettings {
        seed,
        hint_drop_chunks: 0.3,
        hint_drop_utterances: 0.3,
        ..TrainSettings::default()
    };
    Trainer::new(WeightsConfig::Joint(JointConfig::tiny(2, 1, 2)), settings).unwrap()
}

/// The pair's hint keep mask for `b` examples of `frames` frames, as a tensor and flat.
fn hint_keep(trainer: &Trainer, b: usize, frames: usize) -> (Tensor, Vec<f32>) {
    let keep = trainer
        .hint_keep(b, frames)
        .unwrap()
        .expect("dropout is on");
    let flat = keep.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    (keep, flat)
}

/// (loss, gradient by name) from candle autograd.
fn candle_gradients(
    trainer: &Trainer,
    mix: &Tensor,
    tgt: &Tensor,
) -> (f64, HashMap<String, Tensor>) {
    candle_gradients_ordered(trainer, (mix, tgt), &[], None)
}

/// [`candle_gradients`] with the examples marked in `fixed` scored in the
/// targets' order, conditioned on `speaker` [b, E] when given.
fn candle_gradients_ordered(
    trainer: &Trainer,
    (mix, tgt): (&Tensor, &Tensor),
    fixed: &[bool],
    speaker: Option<&Tensor>,
) -> (f64, HashMap<String, Tensor>) {
    let estimate = trainer.output_conditioned(mix, None, speaker).unwrap();
    let loss = trainer.loss_ordered(&estimate, tgt, fixed).unwrap();
    let grads = loss.backward().unwrap();
    let params = trainer.parameters();
    let by_name = params
        .iter()
        .map(|(name, t)| {
            (
                name.clone(),
                grads
                    .get(t)
                    .expect("every parameter has a gradient")
                    .clone(),
            )
        })
        .collect();
    (loss.to_scalar::<f32>().unwrap() as f64, by_name)
}

/// A fast step holding `trainer`'s weights for `b` examples of `n` samples, and its layout.
fn fast_step(
    trainer: &Trainer,
    (b, n): (usize, usize),
    threads: usize,
    limit: Option<usize>,
) -> (FastStep, ParamLayout) {
    let tensors = trainer.parameters();
    let shapes = tensors
        .iter()
        .map(|(k, v)| (k.clone(), v.dims().to_vec()))
        .collect();
    let layout = ParamLayout::new(&shapes);
    let model = FastModel::new(&layout, &trainer.config).unwrap();
    let params = layout.flatten(&tensors).unwrap();
    (FastStep::new(model, params, (b, n), threads, limit), layout)
}

/// (loss, gradient by name) from the fast path on `threads` threads, a
/// pair's hints kept as `keep` [b, frames] says (all when None), the
/// examples marked in `fixed` scored in the targets' order, conditioned on
/// `speakers` [b, E] (empty: none).
fn fast_gradients(
    trainer: &Trainer,
    (mix, tgt): (&Tensor, &Tensor),
    threads: usize,
    (keep, fixed): (Option<&[f32]>, &[bool]),
    speakers: &[f32],
) -> (f64, HashMap<String, Tensor>) {
    let (b, _, n) = mix.dims3().unwrap();
    let (mut step, layout) = fast_step(trainer, (b, n), threads, None);
    step.set_objective(trainer.settings.objective);
    step.set_speakers(speakers);
    let m = mix.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let t = tgt.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let out = step.train(&m, &t, (b, keep, fixed));
    (out.loss, layout.unflatten(&step.grads).unwrap())
}

/// Largest over parameters of max |fast - candle| / max |candle|, with the
/// worst name. A gradient under 1e-3 of the largest parameter gradient is
/// measured against that floor instead, since f32 rounding of long sums
/// dominates there: the self-attention key norms' biases have a gradient of
/// exactly zero (the softmax ignores a shift common to all keys).
fn worst_relative(
    fast: &HashMap<String, Tensor>,
    reference: &HashMap<String, Tensor>,
) -> (f32, String) {
    assert_eq!(fast.len(), reference.len());
    let largest = reference.values().map(common::max_abs).fold(0f32, f32::max);
    let mut worst = (0f32, String::new());
    for (name, r) in reference {
        // A PReLU slope's gradient sums every element of its layer (10^5
        // terms that nearly cancel): it is held to a tenth of the precision.
        let slack = if name.ends_with("prelu") { 10.0 } else { 1.0 };
        let scale = slack * common::max_abs(r).max(1e-3 * largest).max(1e-12);
        let err = common::max_abs(&(&fast[name] - r).unwrap()) / scale;
        if err > worst.0 {
            worst = (err, name.clone());
        }
    }
    worst
}

fn check(cfg: ModelConfig, examples: usize, samples: usize, threads: usize) {
    check_objective(cfg, Objective::SiSdr, examples, samples, threads);
}

fn check_objective(
    cfg: ModelConfig,
    objective: Objective,
    examples: usize,
    samples: usize,
    threads: usize,
) {
    let label = format!("D{} H{} S{}", cfg.d, cfg.hidden, cfg.sources);
    let config = WeightsConfig::Single(cfg);
    check_config(config, objective, (examples, samples, threads), &label);
}

fn check_config(
    config: WeightsConfig,
    objective: Objective,
    (examples, samples, threads): (usize, usize, usize),
    label: &str,
) {
    let settings = TrainSettings {
        seed: 3,
        objective,
        ..TrainSettings::default()
    };
    let (sources, config_speaker) = match &config {
        WeightsConfig::Single(c) => (c.sources, c.speaker),
        WeightsConfig::Joint(j) => (j.small.sources, j.small.speaker),
    };
    let trainer = Trainer::new(config, settings).unwrap();
    let (mix, tgt) = batch(examples, sources, samples, 11);
    let speaker = match &config_speaker {
        Some(e) => {
            let v = speakers(examples, *e, 21);
            Some((
                Tensor::from_vec(v.clone(), (examples, *e), &Device::Cpu).unwrap(),
                v,
            ))
        }
        None => None,
    };
    let (loss_c, grads_c) =
        candle_gradients_ordered(&trainer, (&mix, &tgt), &[], speaker.as_ref().map(|s| &s.0));
    let flat: &[f32] = speaker.as_ref().map_or(&[], |s| &s.1);
    let (loss_f, grads_f) = fast_gradients(&trainer, (&mix, &tgt), threads, (None, &[]), flat);
    let (worst, name) = worst_relative(&grads_f, &grads_c);
    println!(
        "{label} b{examples} n{samples} threads {threads}: loss {loss_f:.6} vs {loss_c:.6}, worst gradient {worst:.2e} ({name})"
    );
    assert!(
        (loss_f - loss_c).abs() < 1e-5 * loss_c.abs().max(1.0),
        "loss {loss_f} vs {loss_c}"
    );
    assert!(
        worst < 1e-4,
        "gradient of {name} off by {worst:.2e} relative"
    );
}

/// Location-based order: examples marked fixed are scored in the targets'
/// order on both backends (gradients equal), and with every example fixed
/// the loss is the plain objective without any permutation search.
#[test]
fn fixed_order_gradients_match_candle() {
    let trainer = Trainer::new(
        WeightsConfig::Single(ModelConfig::tiny(2)),
        TrainSettings {
            seed: 5,
            ..TrainSettings::default()
        },
    )
    .unwrap();
    let (mix, tgt) = batch(3, 2, 128 * 16 + 5, 13);
    let fixed = [true, false, true];
    let (loss_c, grads_c) = candle_gradients_ordered(&trainer, (&mix, &tgt), &fixed, None);
    let (loss_f, grads_f) = fast_gradients(&trainer, (&mix, &tgt), 2, (None, &fixed), &[]);
    let (worst, name) = worst_relative(&grads_f, &grads_c);
    println!("fixed order: loss {loss_f:.6} vs {loss_c:.6}, worst gradient {worst:.2e} ({name})");
    assert!((loss_f - loss_c).abs() < 1e-5 * loss_c.abs().max(1.0));
    assert!(
        worst < 1e-4,
        "gradient of {name} off by {worst:.2e} relative"
    );

    let estimate = trainer.output(&mix, None).unwrap();
    let all_fixed = trainer
        .loss_ordered(&estimate, &tgt, &[true; 3])
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    let plain = Objective::SiSdr
        .neg_loss(&estimate, &tgt)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    let pit = trainer
        .loss(&estimate, &tgt)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    println!("all fixed {all_fixed:.6}, plain {plain:.6}, permutation-invariant {pit:.6}");
    assert!((all_fixed - plain).abs() < 1e-5 * plain.abs().max(1.0));
    assert!(pit <= all_fixed + 1e-6);
}

#[test]
fn separation_gradients_match_candle() {
    check(ModelConfig::tiny(2), 3, 128 * 20 + 37, 2);
    check(ModelConfig::small(2), 2, 128 * 24, 1);
}

/// Target extraction: each example conditioned on its own speaker, a
/// single model and a pair whose halves both take the speaker.
#[test]
fn speaker_conditioned_gradients_match_candle() {
    check(
        ModelConfig::tiny(1).with_speaker(Some(SPEAKER_DIM)),
        3,
        128 * 20 + 37,
        2,
    );
    let mut pair = JointConfig::tiny(1, 2, 2);
    pair.small = pair.small.with_speaker(Some(SPEAKER_DIM));
    pair.large = pair.large.with_speaker(Some(SPEAKER_DIM));
    let config = WeightsConfig::Joint(pair);
    check_config(
        config,
        Objective::SiSdr,
        (3, 128 * 16 + 9, 2),
        "extraction pair",
    );
}

#[test]
fn attention_gradients_match_candle() {
    check(ModelConfig::tiny_attention(2), 2, 128 * 20 + 37, 2);
    check(ModelConfig::large_cpu(2), 1, 128 * 12, 1);
}

#[test]
fn joint_gradients_match_candle() {
    for (delay, threads) in [(0, 1), (1, 2), (3, 1)] {
        let config = WeightsConfig::Joint(JointConfig::tiny(2, delay, 2));
        let label = format!("joint tiny C={delay}");
        check_config(
            config,
            Objective::SiSdr,
            (2, 128 * 20 + 37, threads),
            &label,
        );
    }
    let enhance = WeightsConfig::Joint(JointConfig::tiny(1, 1, 2));
    check_config(
        enhance,
        Objective::SiSdr,
        (2, 128 * 16, 1),
        "joint tiny enhancement",
    );
}

#[test]
fn joint_gradients_with_hint_dropout_match_candle() {
    let trainer = dropout_pair(4);
    let (b, n) = (3, 128 * 20);
    let (mix, tgt) = batch(b, 2, n, 13);
    let (keep, kept) = hint_keep(&trainer, b, 20);
    assert!(kept.contains(&0.0) && kept.contains(&1.0), "{kept:?}");
    let loss = trainer
        .loss(&trainer.output(&mix, Some(&keep)).unwrap(), &tgt)
        .unwrap();
    let grads = loss.backward().unwrap();
    let reference: HashMap<String, Tensor> = trainer
        .parameters()
        .iter()
        .map(|(name, t)| (name.clone(), grads.get(t).expect("a gradient").clone()))
        .collect();
    let (loss_f, fast) = fast_gradients(&trainer, (&mix, &tgt), 2, (Some(&kept), &[]), &[]);
    let (worst, name) = worst_relative(&fast, &reference);
    let loss_c = loss.to_scalar::<f32>().unwrap() as f64;
    println!(
        "joint tiny C=1, hints dropped: loss {loss_f:.6} vs {loss_c:.6}, worst gradient {worst:.2e} ({name})"
    );
    assert!((loss_f - loss_c).abs() < 1e-5 * loss_c.abs().max(1.0));
    assert!(
        worst < 1e-4,
        "gradient of {name} off by {worst:.2e} relative"
    );
}

/// `freeze_large`: the fast path's gradients of a frozen pair are candle's
/// for every parameter outside the large model and exactly zero inside it;
/// and on either backend ten steps leave the large model's weights exactly
/// where they were while every other tensor moves.
#[test]
fn a_frozen_large_model_stays_put_on_either_backend() {
    let config = WeightsConfig::Joint(JointConfig::tiny(2, 1, 2));
    let settings = TrainSettings {
        batch: 2,
        seed: 5,
        freeze_large: true,
        ..TrainSettings::default()
    };
    let n = 128 * 12;
    let mut candle = Trainer::new(config.clone(), settings.clone()).unwrap();
    let (mix, tgt) = batch(2, 2, n, 300);
    let (_, reference) = candle_gradients(&candle, &mix, &tgt);
    let tensors = candle.parameters();
    let shapes = tensors
        .iter()
        .map(|(k, v)| (k.clone(), v.dims().to_vec()))
        .collect();
    let layout = ParamLayout::new(&shapes);
    let mut model = FastModel::new(&layout, &config).unwrap();
    model.set_freeze_large(true);
    let mut step = FastStep::new(model, layout.flatten(&tensors).unwrap(), (2, n), 2, None);
    // The frozen model keeps only its last block's activations and has no
    // backward pass, so no block is recomputed.
    assert_eq!(
        step.footprint().recomputed,
        0,
        "a frozen model reports recomputed blocks"
    );
    let m = mix.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let t = tgt.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    step.train(&m, &t, (2, None, &[]));
    let grads = layout.unflatten(&step.grads).unwrap();
    let (large, rest): (HashMap<_, _>, HashMap<_, _>) = grads
        .into_iter()
        .partition(|(k, _)| k.starts_with("large."));
    let reference_rest = reference
        .into_iter()
        .filter(|(k, _)| !k.starts_with("large."))
        .collect();
    let (worst, name) = worst_relative(&rest, &reference_rest);
    let largest_frozen = large.values().map(common::max_abs).fold(0f32, f32::max);
    println!(
        "frozen pair: {} trainable gradients within {worst:.2e} of candle ({name}); {} frozen, largest {largest_frozen}",
        rest.len(),
        large.len()
    );
    assert!(
        worst < 1e-4,
        "gradient of {name} off by {worst:.2e} relative"
    );
    assert!(!large.is_empty() && largest_frozen == 0.0);

    let mut fast = Trainer::new(config, settings).unwrap();
    fast.use_fast((2, n), 2, None).unwrap();
    // Copies: candle's tensors share storage with the variables it updates in place.
    let start: HashMap<String, Tensor> = candle
        .parameters()
        .into_iter()
        .map(|(k, v)| (k, v.copy().unwrap()))
        .collect();
    for step in 0..10u64 {
        let (mix, tgt) = batch(2, 2, n, 300 + step * 5);
        candle.train_step(&mix, &tgt).unwrap();
        fast.train_step(&mix, &tgt).unwrap();
    }
    for (label, trainer) in [("candle", &candle), ("fast", &fast)] {
        let now = trainer.parameters();
        let (mut frozen, mut moved) = (0, 0);
        for (name, before) in &start {
            let change = common::max_abs(&(&now[name] - before).unwrap());
            if name.starts_with("large.") {
                frozen += 1;
                assert_eq!(change, 0.0, "{label}: frozen {name} moved by {change:e}");
            } else if change > 0.0 {
                moved += 1;
            }
        }
        let trainable = start.len() - frozen;
        println!("{label}: {frozen} large tensors unchanged, {moved} of {trainable} others moved");
        assert!(
            frozen > 0 && moved == trainable,
            "{label}: {moved} of {trainable} moved"
        );
    }
}

#[test]
fn snr_loss_gradients_match_candle() {
    check_objective(ModelConfig::tiny(2), Objective::Snr, 3, 128 * 20 + 37, 2);
    check_objective(ModelConfig::tiny(1), Objective::Snr, 2, 128 * 20, 1);
}

#[test]
fn warm_up_scales_the_first_update() {
    // Adam's first update is lr * g / |g| per element (up to eps): a tenth of
    // the rate moves every weight a tenth as far.
    let cfg = ModelConfig::tiny(2);
    let (mix, tgt) = batch(2, 2, 128 * 10, 9);
    let m = mix.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let t = tgt.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let moved = |warmup: u64| {
        let settings = TrainSettings {
            warmup,
            ..TrainSettings::default()
        };
        let mut trainer = Trainer::new(WeightsConfig::Single(cfg.clone()), settings).unwrap();
        trainer.use_fast((2, 128 * 10), 1, None).unwrap();
        let before = trainer.parameters();
        trainer.train_step_flat(&m, &t, 2).unwrap();
        let after = trainer.parameters();
        before
            .iter()
            .map(|(k, v)| common::max_abs(&(&after[k] - v).unwrap()))
            .fold(0f32, f32::max)
    };
    let (full, warm) = (moved(0), moved(10));
    println!("largest first-step change: {full:.3e} without warm-up, {warm:.3e} with 10 steps");
    assert!(((warm / full) - 0.1).abs() < 1e-3, "{warm} vs {full}");
}

#[test]
fn level_normalised_gradients_match_candle() {
    let level = Some(LevelConfig::speech());
    check(ModelConfig::tiny(2).with_level(level), 3, 128 * 20 + 37, 2);
    check(ModelConfig::tiny(1).with_level(level), 2, 128 * 20, 1);
}

#[test]
fn enhancement_gradients_match_candle() {
    check(ModelConfig::tiny(1), 2, 128 * 20, 2);
    check(ModelConfig::medium(1), 1, 128 * 16, 1);
}

/// A memory limit the buffers cannot meet makes every net recompute all
/// but its last block in the backward pass: fewer bytes, and exactly the
/// gradients and loss of keeping every block's activations.
#[test]
fn recomputed_blocks_give_exactly_the_kept_gradients() {
    let config = WeightsConfig::Joint(JointConfig::tiny(2, 1, 2));
    let trainer = Trainer::new(config, TrainSettings::default()).unwrap();
    let (mix, tgt) = batch(2, 2, 128 * 12 + 5, 41);
    let (b, _, n) = mix.dims3().unwrap();
    let m = mix.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let t = tgt.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let run = |limit: Option<usize>| {
        let (mut step, _) = fast_step(&trainer, (b, n), 2, limit);
        let out = step.train(&m, &t, (b, None, &[]));
        (out.loss, step.grads.clone(), step.footprint())
    };
    let (kept_loss, kept, all) = run(None);
    let (loss, grads, redo) = run(Some(0));
    println!(
        "kept: {} bytes; recomputing {} blocks: {} bytes",
        all.bytes, redo.recomputed, redo.bytes
    );
    assert_eq!(all.recomputed, 0);
    // Both nets of the pair have three blocks: two of each are recomputed.
    assert_eq!(redo.recomputed, 4);
    assert!(redo.bytes < all.bytes);
    assert_eq!(loss, kept_loss);
    assert_eq!(grads, kept);
}

/// A memory limit that holds some of a thread's examples but not all makes
/// it run them in passes (and recompute nothing): fewer bytes, and the loss,
/// gradients and outputs of one pass over the batch, with hints dropped and
/// some examples scored in a fixed order.
#[test]
fn passes_over_parts_of_a_batch_give_the_gradients_of_one() {
    let trainer = dropout_pair(9);
    let (b, frames) = (6, 12);
    let (mix, tgt) = batch(b, 2, 128 * frames, 17);
    let n = mix.dims3().unwrap().2;
    let (_, keep) = hint_keep(&trainer, b, frames);
    let fixed = [true, false, false, true, false, true];
    let m = mix.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let t = tgt.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let run = |limit: Option<usize>| {
        let (mut step, layout) = fast_step(&trainer, (b, n), 2, limit);
        let mut out = vec![0f32; b * 4 * n];
        step.forward(&m, b, &mut out);
        let res = step.train(&m, &t, (b, Some(&keep), &fixed));
        let grads = layout.unflatten(&step.grads).unwrap();
        (res.loss, res.swaps, grads, out, step.footprint())
    };
    let (loss, swaps, grads, out, all) = run(None);
    assert_eq!((all.per_pass, all.recomputed), (3, 0));
    // Each thread holds 3 examples: room for 2.5 of them gives passes of 2
    // and 1, room for 1.5 passes of 1.
    for (room, per_pass) in [(2.5, 2), (1.5, 1)] {
        let limit = (2.0 * room * all.bytes as f64 / b as f64) as usize;
        let (l, sw, g, o, split) = run(Some(limit));
        let (worst, name) = worst_relative(&g, &grads);
        let moved = common::max_abs_diff(&o, &out);
        println!(
            "{per_pass} per pass: {} bytes (all at once {}), loss {l:.9} vs {loss:.9}, \
             worst gradient {worst:.2e} ({name}), outputs within {moved:.2e}",
            split.bytes, all.bytes
        );
        assert_eq!((split.per_pass, split.recomputed), (per_pass, 0));
        assert!(split.bytes < all.bytes);
        assert!((l - loss).abs() < 1e-6 * loss.abs().max(1.0));
        assert_eq!(sw, swaps);
        assert!(worst < 1e-5, "passes change {name} by {worst:.2e}");
        assert!(moved < 1e-5, "passes change the outputs by {moved:.2e}");
    }
}

#[test]
fn two_threads_give_the_gradients_of_one() {
    let cfg = ModelConfig::tiny(2);
    let trainer =
        Trainer::new(WeightsConfig::Single(cfg.clone()), TrainSettings::default()).unwrap();
    let (mix, tgt) = batch(3, 2, 128 * 10, 5);
    let one = fast_gradients(&trainer, (&mix, &tgt), 1, (None, &[]), &[]);
    let two = fast_gradients(&trainer, (&mix, &tgt), 2, (None, &[]), &[]);
    assert!((one.0 - two.0).abs() < 1e-9);
    let (worst, name) = worst_relative(&two.1, &one.1);
    assert!(worst < 1e-5, "threads change {name} by {worst:.2e}");
}

#[test]
fn fifty_steps_end_in_the_same_place_on_either_backend() {
    let cfg = ModelConfig::tiny(2);
    // With a warm-up over the first 20 steps, so both backends' schedules are compared too.
    let settings = TrainSettings {
        batch: 2,
        seed: 21,
        warmup: 20,
        ..TrainSettings::default()
    };
    let config = WeightsConfig::Single(cfg);
    let mut candle = Trainer::new(config.clone(), settings.clone()).unwrap();
    let mut fast = Trainer::new(config, settings).unwrap();
    let n = 128 * 12;
    fast.use_fast((2, n), 2, None).unwrap();
    let (mut last_c, mut last_f) = (0f32, 0f32);
    for step in 0..50u64 {
        let (mix, tgt) = batch(2, 2, n, 1000 + step * 7);
        last_c = candle.train_step(&mix, &tgt).unwrap().loss;
        last_f = fast.train_step(&mix, &tgt).unwrap().loss;
    }
    let (pc, pf) = (candle.parameters(), fast.parameters());
    let (worst, name) = worst_relative(&pf, &pc);
    println!("after 50 steps: loss {last_f:.5} vs {last_c:.5}, worst weight {worst:.2e} ({name})");
    assert!((last_f - last_c).abs() < 1e-3, "loss {last_f} vs {last_c}");
    assert!(worst < 1e-3, "weight {name} off by {worst:.2e} relative");
}

#[test]
fn a_fast_run_resumed_from_its_checkpoint_equals_an_uninterrupted_one() {
    let cfg = ModelConfig::tiny(2);
    let settings = TrainSettings {
        batch: 2,
        seed: 4,
        ..TrainSettings::default()
    };
    let config = WeightsConfig::Single(cfg);
    let n = 128 * 8;
    let steps = |t: &mut Trainer, from: u64, to: u64| {
        for step in from..to {
            let (mix, tgt) = batch(2, 2, n, 500 + step * 3);
            t.train_step(&mix, &tgt).unwrap();
        }
    };
    let mut straight = Trainer::new(config.clone(), settings.clone()).unwrap();
    straight.use_fast((2, n), 2, None).unwrap();
    steps(&mut straight, 0, 20);

    let mut first = Trainer::new(config, settings).unwrap();
    first.use_fast((2, n), 2, None).unwrap();
    steps(&mut first, 0, 10);
    let path =
        std::env::temp_dir().join(format!("kb-fast-ckpt-{}.safetensors", std::process::id()));
    first.save_checkpoint(&path).unwrap();
    drop(first);
    let mut resumed = Trainer::resume(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    resumed.use_fast((2, n), 2, None).unwrap();
    assert_eq!(resumed.step, 10);
    steps(&mut resumed, 10, 20);
    let (worst, name) = worst_relative(&resumed.parameters(), &straight.parameters());
    assert!(worst < 1e-6, "resumed run differs in {name} by {worst:.2e}");
}
