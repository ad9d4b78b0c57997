//! Filled mixtures (`MixConfig::fill`): short clips of a talker are chained
//! until the mixture is full; without the option nothing changes.

mod common;

use kb_data::{MixtureSampler, SamplerConfig, Split, Task};

/// Energy of each 0.5 s frame of a target, both ears together.
fn frame_energies(target: &[Vec<f32>]) -> Vec<f64> {
    let frame = 8000;
    (0..target[0].len() / frame)
        .map(|f| {
            target
                .iter()
                .flat_map(|ear| &ear[f * frame..(f + 1) * frame])
                .map(|&v| (v as f64).powi(2))
                .sum()
        })
        .collect()
}

/// Every talker speaks through the whole 4 s mixture, its clips 50 to 300 ms
/// apart, all of them its own; the stream is seeded; the enrollment is none of
/// the target's clips when the talker has one left.
#[test]
fn filled_mixtures_chain_a_talkers_clips() {
    let pools = common::pools(Split::Train);
    let config = SamplerConfig {
        fill: true,
        ..SamplerConfig::default()
    };
    let ss = MixtureSampler::with_config(pools.clone(), Task::Ss, Split::Train, 4, config).unwrap();
    let tse =
        MixtureSampler::with_config(pools.clone(), Task::Tse, Split::Train, 4, config).unwrap();
    for i in 0..6 {
        let m = ss.get(i);
        assert_eq!(m, ss.get(i), "mixture {i} is not reproducible");
        for (target, meta) in m.sources.iter().zip(&m.meta.sources) {
            // The synthetic clips last 1.5 to 2.5 s: a 4 s mixture needs two or more.
            assert!(!meta.more.is_empty(), "mixture {i}: one clip only");
            let mut end = meta.start + meta.length;
            assert!(meta.start == 0, "mixture {i}: starts at {}", meta.start);
            for piece in &meta.more {
                let gap = piece.start - end;
                assert!((800..=4800).contains(&gap), "mixture {i}: gap {gap}");
                let clip = pools.speech.iter().find(|c| c.id == piece.file).unwrap();
                assert_eq!(clip.speaker, meta.speaker);
                assert!(piece.clip_offset + piece.length <= clip.samples.len());
                end = piece.start + piece.length;
            }
            assert!(64000 - end <= 4800, "mixture {i}: silent from {end}");
            let energy = frame_energies(target);
            let mean = energy.iter().sum::<f64>() / energy.len() as f64;
            assert!(
                energy.iter().all(|&e| e > 1e-3 * mean),
                "mixture {i}: a silent half second in {energy:?}"
            );
        }
        let m = tse.get(i);
        let target = &m.meta.sources[0];
        let mut used: Vec<&str> = std::iter::once(target.file.as_str())
            .chain(target.more.iter().map(|p| p.file.as_str()))
            .collect();
        used.sort();
        used.dedup();
        let e = m.meta.enrollment.as_ref().unwrap();
        let pieces: Vec<&str> = std::iter::once(e.file.as_str())
            .chain(e.more.iter().map(|p| p.file.as_str()))
            .collect();
        assert!(!pieces.contains(&target.file.as_str()), "{pieces:?}");
        // Each synthetic talker has three clips.
        if used.len() < 3 {
            for enrollment in &pieces {
                assert!(!used.contains(enrollment), "{enrollment} in {used:?}");
            }
        }
    }
}

/// Without the option a short clip sits in silence, the manifest names no
/// extra clips and the configuration it records has no `fill` key.
#[test]
fn unfilled_mixtures_keep_one_clip() {
    let pools = common::pools(Split::Train);
    let sampler = MixtureSampler::new(pools, Task::Ss, Split::Train, 4).unwrap();
    let mut silent = 0;
    for i in 0..6 {
        let m = sampler.get(i);
        for (target, meta) in m.sources.iter().zip(&m.meta.sources) {
            assert!(meta.more.is_empty());
            let energy = frame_energies(target);
            let mean = energy.iter().sum::<f64>() / energy.len() as f64;
            silent += energy.iter().filter(|&&e| e < 1e-6 * mean).count();
        }
        let json = serde_json::to_value(&m.meta).unwrap();
        assert!(json["config"].get("fill").is_none(), "{}", json["config"]);
        assert!(json["sources"][0].get("more").is_none());
    }
    assert!(silent > 0, "no silent half second without fill");
}
