//! The wide world: each new draw (head, voice speed, room and level ranges,
//! diotic mixtures, background, silences, dense overlap) stays in its range
//! and reaches the render; the same seed draws the same mixture; the ood
//! split holds nothing that training or validation holds.

mod common;

use std::collections::hash_map::DefaultHasher;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use kb_data::heads::HeadBank;
use kb_data::{Clip, Head, Mixture, MixtureSampler, Pools, SamplerConfig, Split, Task, World};

fn wide(seconds: f64) -> SamplerConfig {
    SamplerConfig {
        seconds,
        ..World::Wide.config()
    }
}

fn draw(pools: &Arc<Pools>, split: Split, cfg: SamplerConfig, count: u64) -> Vec<Mixture> {
    let s = MixtureSampler::with_config(pools.clone(), Task::Ss, split, 5, cfg).unwrap();
    (0..count).map(|i| s.get(i)).collect()
}

fn energy(x: &[f32]) -> f64 {
    x.iter().map(|&v| (v as f64) * (v as f64)).sum()
}

#[test]
fn the_same_seed_draws_the_same_wide_mixture() {
    let pools = common::pools(Split::Train);
    let a = draw(&pools, Split::Train, wide(2.0), 3);
    let b = draw(&pools, Split::Train, wide(2.0), 3);
    assert_eq!(a, b);
}

#[test]
fn wide_draws_stay_in_their_ranges_and_reach_the_render() {
    let pools = common::pools(Split::Train);
    let cfg = wide(3.0);
    let mixtures = draw(&pools, Split::Train, cfg, 48);
    let bank: HashSet<String> = pools.bank.train.iter().map(|h| h.name()).collect();
    let (mut heads, mut diotic, mut silences, mut speeds) = (HashSet::new(), 0, 0, HashSet::new());
    // Talkers placed as drawn (a position outside the room falls back towards its centre).
    let mut placed = 0;
    for m in &mixtures {
        let meta = &m.meta;
        assert!(
            (0.09..=1.1).contains(&meta.room.rt60),
            "RT60 {}",
            meta.room.rt60
        );
        let background = meta
            .background
            .as_ref()
            .expect("the wide world has a background");
        assert!((-40.0..=-10.0).contains(&background.level_db));
        for (k, s) in meta.sources.iter().enumerate() {
            let d = &s.direction;
            if (0.3 - 1e-6..=3.0 + 1e-6).contains(&d.distance_m)
                && d.elevation_deg.abs() <= 30.0 + 1e-6
            {
                placed += 1;
            }
            let speed = s.speed.expect("every talker of the wide world has a speed");
            assert!((0.88..=1.12).contains(&speed));
            speeds.insert((speed * 1e6) as i64);
            if k > 0 {
                assert!(s.relative_level_db.abs() <= 10.0);
            }
            if let Some((start, len)) = s.silence {
                silences += 1;
                // The early target is silent where its dry talker was (past 60 ms of early reflections).
                let inner = start + 1_600..start + len - 100;
                let quiet: f64 = m.sources[k].iter().map(|e| energy(&e[inner.clone()])).sum();
                let all: f64 = m.sources[k].iter().map(|e| energy(e)).sum();
                assert!(
                    quiet < 1e-4 * all,
                    "talker {k} not silent: {quiet} of {all}"
                );
            }
        }
        if meta.diotic {
            diotic += 1;
            assert_eq!(meta.head, "omni-mic");
            assert_eq!(
                m.mixture[0], m.mixture[1],
                "a diotic mixture has two equal ears"
            );
            assert!(m.sources.iter().all(|s| s[0] == s[1]));
        } else {
            assert!(
                bank.contains(&meta.head),
                "{} is not a training head",
                meta.head
            );
            assert_ne!(m.mixture[0], m.mixture[1]);
            heads.insert(meta.head.clone());
        }
    }
    // About 20 % diotic, 20 % with a silence; many heads and speeds.
    assert!((3..=18).contains(&diotic), "{diotic} diotic of 48");
    assert!((3..=18).contains(&silences), "{silences} silences of 48");
    assert!(heads.len() >= 6, "{} heads: {heads:?}", heads.len());
    assert!(speeds.len() >= 48);
    assert!(placed >= 86, "{placed} of 96 talkers placed in range");
}

#[test]
fn wide_mixtures_overlap_more_than_narrow_ones() {
    let pools = common::pools(Split::Train);
    let narrow = SamplerConfig {
        seconds: 4.0,
        ..SamplerConfig::default()
    };
    let share =
        |ms: &[Mixture]| ms.iter().map(|m| m.meta.double_talk).sum::<f64>() / ms.len() as f64;
    let (n, w) = (
        share(&draw(&pools, Split::Train, narrow, 24)),
        share(&draw(&pools, Split::Train, wide(4.0), 24)),
    );
    // The synthetic clips last 1.5 to 2.5 s: placed once in 4 s they overlap little.
    assert!(w > n + 0.2, "double-talk: narrow {n:.2}, wide {w:.2}");
}

fn content_hash(samples: &[f32]) -> u64 {
    let mut h = DefaultHasher::new();
    samples.iter().for_each(|v| v.to_bits().hash(&mut h));
    h.finish()
}

/// A head's fingerprint: its responses in a fixed set of directions.
fn head_hash(head: &Head) -> u64 {
    let mut h = DefaultHasher::new();
    for d in [[1.0, 0.0, 0.0], [0.3, 0.9, 0.2], [-0.5, -0.5, 0.7]] {
        for ear in head.hrir(d) {
            ear.iter().for_each(|v| v.to_bits().hash(&mut h));
        }
    }
    h.finish()
}

#[test]
fn the_head_bank_has_many_distinct_heads_and_keeps_some_out() {
    let bank = HeadBank::around(&[Arc::new(Head::spherical())], &[], &[]);
    assert!(bank.train.len() >= 8 && bank.held_out.len() >= 2);
    let train: HashSet<u64> = bank.train.iter().map(|h| head_hash(h)).collect();
    let held: HashSet<u64> = bank.held_out.iter().map(|h| head_hash(h)).collect();
    assert_eq!(
        train.len(),
        bank.train.len(),
        "two training heads are the same"
    );
    assert_eq!(held.len(), bank.held_out.len());
    assert!(train.is_disjoint(&held));
}

#[test]
fn the_ood_split_shares_no_clip_talker_or_head_with_training_or_validation() {
    let mut speech = Vec::new();
    for (split, f0s) in [
        (Split::Train, [100.0f32, 150.0]),
        (Split::Validation, [120.0, 170.0]),
        (Split::Test, [200.0, 260.0]),
    ] {
        for (t, f0) in f0s.iter().enumerate() {
            for u in 0..2 {
                speech.push(Clip {
                    id: format!("{split}-{t}/{u}.wav"),
                    speaker: format!("{split}-{t}"),
                    split,
                    samples: common::voice(*f0, 1.0 + 0.5 * u as f32, u as f32).into(),
                });
            }
        }
    }
    let pools = Arc::new(Pools::new(
        speech,
        Vec::new(),
        vec![Arc::new(Head::spherical())],
    ));
    let seen: HashSet<u64> = pools
        .speech
        .iter()
        .filter(|c| matches!(c.split, Split::Train | Split::Validation))
        .map(|c| content_hash(&c.samples.to_vec(0, c.samples.len())))
        .collect();
    let seen_heads: HashSet<u64> = pools.bank.train.iter().map(|h| head_hash(h)).collect();
    let held_heads: std::collections::HashMap<String, u64> = pools
        .bank
        .held_out
        .iter()
        .map(|h| (h.name(), head_hash(h)))
        .collect();
    let by_id = |id: &str| pools.speech.iter().find(|c| c.id == id).unwrap();
    for m in draw(&pools, Split::Ood, World::Wide.config(), 16) {
        // A diotic mixture is a microphone, not a head: it is the same in every split.
        if !m.meta.diotic {
            let hash = held_heads
                .get(&m.meta.head)
                .unwrap_or_else(|| panic!("{} is not a held-out head", m.meta.head));
            assert!(
                !seen_heads.contains(hash),
                "head {} is a training head",
                m.meta.head
            );
        }
        for s in &m.meta.sources {
            let files =
                std::iter::once(s.file.as_str()).chain(s.more.iter().map(|p| p.file.as_str()));
            for f in files {
                let c = by_id(f);
                assert!(
                    !seen.contains(&content_hash(&c.samples.to_vec(0, c.samples.len()))),
                    "{f}"
                );
            }
        }
    }
}

/// Target extraction keeps the target's own voice (its enrollment is the
/// unperturbed talker), while the interferer's speed is still drawn.
#[test]
fn an_extraction_target_keeps_its_own_voice() {
    let pools = common::pools(Split::Train);
    let s = MixtureSampler::with_config(pools, Task::Tse, Split::Train, 5, wide(2.0)).unwrap();
    for i in 0..8 {
        let m = s.get(i);
        let sources = &m.meta.sources;
        assert_eq!(
            sources[0].speed, None,
            "mixture {i}: the target was perturbed"
        );
        let speed = sources[1].speed.expect("the interferer's speed is drawn");
        assert!((0.88..=1.12).contains(&speed));
        assert!(m.enrollment.is_some());
    }
}
