//! The engines allocate and free nothing per chunk (counting global allocator).

use std::sync::atomic::Ordering;

use kb_models::{
    engine::{BoostedPair, GridNetEngine, HintFrame, Kernels, LargeEngine, SmallEngine},
    weights::Weights,
    JointConfig, ModelConfig, WeightsConfig,
};

mod counting;

use counting::{ALLOCS, FREES, WATCHING};

#[global_allocator]
static GLOBAL: counting::Counting = counting::Counting;

/// Runs `f` 1,000 times with counting on; returns (allocations, frees).
fn count(mut f: impl FnMut(usize)) -> (usize, usize) {
    for i in 0..10 {
        f(i);
    }
    ALLOCS.store(0, Ordering::SeqCst);
    FREES.store(0, Ordering::SeqCst);
    WATCHING.with(|w| w.set(true));
    for i in 0..1000 {
        f(i);
    }
    WATCHING.with(|w| w.set(false));
    (ALLOCS.load(Ordering::SeqCst), FREES.load(Ordering::SeqCst))
}

fn input(i: usize) -> Vec<f32> {
    (0..256)
        .map(|n| (((n + 128 * i) * 7919 % 1000) as f32 / 1000.0 - 0.5) * 0.6)
        .collect()
}

#[test]
fn engines_neither_allocate_nor_free_per_chunk() {
    let inputs: Vec<Vec<f32>> = (0..1010).map(input).collect();
    let cfg = JointConfig::paper(2, 1, 2);
    let weights = Weights::random(WeightsConfig::Joint(cfg.clone()), 1)
        .unwrap()
        .to_file()
        .unwrap();
    let kernels = Kernels::best();
    let mut small = SmallEngine::from_weights(&weights, kernels).unwrap();
    let mut large = LargeEngine::from_weights(&weights, kernels).unwrap();
    let mut hint = HintFrame::new(&cfg);
    let mut out = vec![0f32; 512];

    let (a, f) = count(|i| large.process(&inputs[i], &mut hint).unwrap());
    assert_eq!(
        (a, f),
        (0, 0),
        "large engine: {a} allocations, {f} frees in 1000 chunks"
    );

    let (a, f) = count(|i| small.process(&inputs[i], Some(&hint), &mut out).unwrap());
    assert_eq!(
        (a, f),
        (0, 0),
        "small engine with hints: {a} allocations, {f} frees"
    );

    let (a, f) = count(|i| small.process(&inputs[i], None, &mut out).unwrap());
    assert_eq!(
        (a, f),
        (0, 0),
        "small engine without hints: {a} allocations, {f} frees"
    );

    let mut pair = BoostedPair::from_weights(&weights, kernels).unwrap();
    let (a, f) = count(|i| pair.process(&inputs[i], true, &mut out).unwrap());
    assert_eq!(
        (a, f),
        (0, 0),
        "pair with its hint ring: {a} allocations, {f} frees"
    );

    let single = ModelConfig::medium(1);
    let w = Weights::random(WeightsConfig::Single(single.clone()), 2)
        .unwrap()
        .to_file()
        .unwrap();
    let src = kb_models::engine::tensors::TensorSource::new(&w.tensors, "");
    let mut medium = GridNetEngine::load(&src, &single, None, kernels).unwrap();
    let mut out1 = vec![0f32; 256];
    let (a, f) = count(|i| medium.process(&inputs[i], None, &mut out1).unwrap());
    assert_eq!((a, f), (0, 0), "medium engine: {a} allocations, {f} frees");
    assert!(out.iter().chain(&out1).all(|v| v.is_finite()));

    // The counter itself works: an allocation under watch is seen.
    let (a, _) = count(|i| drop(std::hint::black_box(vec![i; 4])));
    assert_eq!(a, 1000);
}
