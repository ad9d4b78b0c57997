//! A fast-path training step (both threads, forward, backward and Adam;
//! single models with and without attention and level normalisation, and a
//! joint pair with hint dropout) allocates and frees
//! nothing after the first step: its only test, so no
//! other test's allocations are counted while every thread is watched.

mod common;
mod counting;

use std::sync::atomic::Ordering;

use counting::{ALLOCS, FREES, WATCH_ALL};
use kb_models::{
    level::LevelConfig,
    train::{TrainSettings, Trainer},
    JointConfig, ModelConfig, WeightsConfig,
};

#[global_allocator]
static GLOBAL: counting::Counting = counting::Counting;

#[test]
fn fast_training_steps_allocate_nothing_after_the_first() {
    let level = Some(LevelConfig::speech());
    let attention = ModelConfig::tiny_attention(2).with_level(level);
    let joint = JointConfig::tiny(2, 1, 2);
    let dropout = TrainSettings {
        hint_drop_chunks: 0.2,
        hint_drop_utterances: 0.2,
        ..TrainSettings::default()
    };
    for (config, settings) in [
        (
            WeightsConfig::Single(ModelConfig::tiny(2)),
            TrainSettings::default(),
        ),
        (WeightsConfig::Single(attention), TrainSettings::default()),
        (WeightsConfig::Joint(joint), dropout),
    ] {
        // Keeping every block's activations; and at limit 0, one example per
        // pass (a thread's two in two passes), recomputing all but the last block.
        for limit in [None, Some(0)] {
            steps_allocate_nothing(config.clone(), settings.clone(), limit);
        }
    }
}

fn steps_allocate_nothing(config: WeightsConfig, settings: TrainSettings, limit: Option<usize>) {
    let (b, n) = (3, 128 * 10);
    let mut trainer = Trainer::new(config, settings).unwrap();
    trainer.use_fast((b, n), 2, limit).unwrap();
    let source = |seed: u64| {
        common::test_signal(n, seed)
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
    };
    let mut targets = Vec::new();
    for e in 0..b as u64 {
        targets.extend(source(2 * e));
        targets.extend(source(2 * e + 1));
    }
    let mut mix = vec![0f32; b * 2 * n];
    for e in 0..b {
        for i in 0..2 * n {
            mix[e * 2 * n + i] = targets[e * 4 * n + i] + targets[e * 4 * n + 2 * n + i];
        }
    }
    trainer.train_step_flat(&mix, &targets, b).unwrap();
    ALLOCS.store(0, Ordering::SeqCst);
    FREES.store(0, Ordering::SeqCst);
    WATCH_ALL.store(true, Ordering::SeqCst);
    let mut losses = [0f32; 5];
    for loss in &mut losses {
        *loss = trainer.train_step_flat(&mix, &targets, b).unwrap().loss;
    }
    let (a, f) = (ALLOCS.load(Ordering::SeqCst), FREES.load(Ordering::SeqCst));
    // The counter sees a deliberate allocation, so the zero above is a measurement.
    drop(std::hint::black_box(vec![0u8; 64]));
    WATCH_ALL.store(false, Ordering::SeqCst);
    assert!(
        ALLOCS.load(Ordering::SeqCst) > a,
        "the counting allocator counts"
    );
    assert_eq!((a, f), (0, 0), "{a} allocations and {f} frees in 5 steps");
    assert!(losses.iter().all(|l| l.is_finite()));
    assert!(
        losses[4] < losses[0],
        "training on one batch lowers its loss: {losses:?}"
    );
}
