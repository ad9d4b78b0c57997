//! Mixtures, the folder layout and determinism, on synthetic pools.

mod common;

use std::path::Path;

use kb_data::layout::{read_sample, write_sample, LayoutSet};
use kb_data::{MixtureSampler, SamplerConfig, Split, Target, Task};

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        let name = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
        if p.is_dir() {
            for (n, b) in files(&p) {
                out.push((format!("{name}/{n}"), b));
            }
        } else {
            out.push((name, std::fs::read(&p).unwrap()));
        }
    }
    out
}

fn render(task: Task, seed: u64, count: u64, out: &Path) {
    let sampler = MixtureSampler::new(common::pools(Split::Test), task, Split::Test, seed).unwrap();
    for i in 0..count {
        write_sample(&out.join(format!("{i:05}")), &sampler.get(i)).unwrap();
    }
}

/// The same seed gives byte-identical files; another seed gives different ones.
#[test]
fn same_seed_same_bytes() {
    let tmp = tempdir("determinism");
    for task in [Task::Ss, Task::Se, Task::Tse] {
        let (a, b, c) = (
            tmp.join(format!("{task}-a")),
            tmp.join(format!("{task}-b")),
            tmp.join(format!("{task}-c")),
        );
        render(task, 42, 2, &a);
        render(task, 42, 2, &b);
        render(task, 43, 2, &c);
        let (fa, fb, fc) = (files(&a), files(&b), files(&c));
        assert!(fa.len() >= 6, "{task}: {} files", fa.len());
        assert_eq!(fa, fb, "{task}: same seed, different bytes");
        assert_ne!(fa, fc, "{task}: different seeds, same bytes");
    }
}

/// What is written reads back unchanged, with the files the layout promises.
#[test]
fn layout_round_trip() {
    let tmp = tempdir("layout");
    let sampler =
        MixtureSampler::new(common::pools(Split::Test), Task::Tse, Split::Test, 5).unwrap();
    let m = sampler.get(3);
    write_sample(&tmp.join("00003"), &m).unwrap();
    let names: Vec<String> = files(&tmp.join("00003")).into_iter().map(|f| f.0).collect();
    assert_eq!(
        names,
        [
            "enrollment.wav",
            "meta.json",
            "mixture.wav",
            "source00.wav",
            "source01.wav"
        ]
    );
    let back = read_sample(&tmp.join("00003")).unwrap();
    assert_eq!(back.mixture, m.mixture);
    assert_eq!(back.sources, m.sources);
    assert_eq!(back.enrollment, m.enrollment);
    let meta = back.meta.unwrap();
    assert_eq!(meta["sources"][1]["file"], m.meta.sources[1].file.as_str());
    let set = LayoutSet::open(&tmp).unwrap();
    assert_eq!(set.len(), 1);
    assert!(LayoutSet::open(&tmp.join("00003")).is_err());
}

/// Mixture `i` does not depend on what was drawn before it.
#[test]
fn random_access_matches_iteration() {
    let pools = common::pools(Split::Train);
    let mut sampler = MixtureSampler::new(pools, Task::Ss, Split::Train, 9).unwrap();
    let first: Vec<_> = sampler.by_ref().take(3).collect();
    assert_eq!(sampler.position(), 3);
    assert_eq!(first[2], sampler.get(2));
    assert_ne!(first[0].mixture, first[1].mixture);
}

/// The drawn mixtures honour the task's rules, checked against the audio.
#[test]
fn task_rules() {
    let pools = common::pools(Split::Validation);
    let ss = MixtureSampler::new(pools.clone(), Task::Ss, Split::Validation, 1).unwrap();
    let se = MixtureSampler::new(pools.clone(), Task::Se, Split::Validation, 1).unwrap();
    let tse = MixtureSampler::new(pools.clone(), Task::Tse, Split::Validation, 1).unwrap();
    let energy = |x: &[f32]| x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>();
    for i in 0..4 {
        let m = ss.get(i);
        assert_eq!(m.sources.len(), 2);
        assert_ne!(m.meta.sources[0].speaker, m.meta.sources[1].speaker);
        assert!(m.meta.sources[1].relative_level_db.abs() <= 5.0);
        assert!(m.enrollment.is_none() && m.meta.noise.is_none());
        assert!((0.1..=0.8).contains(&m.meta.room.rt60));
        assert_eq!(m.mixture.len(), 2);
        assert_eq!(m.mixture[0].len(), 64000);
        // The ear facing a clearly lateral talker gets more of its target image.
        for (s, meta) in m.sources.iter().zip(&m.meta.sources) {
            let az = meta.direction.azimuth_deg;
            if (45.0..135.0).contains(&az) {
                assert!(energy(&s[0]) > energy(&s[1]), "azimuth {az}");
            } else if (-135.0..-45.0).contains(&az) {
                assert!(energy(&s[1]) > energy(&s[0]), "azimuth {az}");
            }
        }

        let m = se.get(i);
        assert_eq!(m.sources.len(), 1);
        let noise = m.meta.noise.as_ref().unwrap();
        assert!((-5.0..=15.0).contains(&noise.snr_db));
        // The mixture holds more than the target: the late reverberation and the noise.
        let residual: f64 = (0..2)
            .map(|e| {
                energy(
                    &m.mixture[e]
                        .iter()
                        .zip(&m.sources[0][e])
                        .map(|(a, b)| a - b)
                        .collect::<Vec<_>>(),
                )
            })
            .sum();
        assert!(residual > 0.0);

        let m = tse.get(i);
        let enrollment = m.enrollment.as_ref().unwrap();
        let e = m.meta.enrollment.as_ref().unwrap();
        assert_eq!(e.speaker, m.meta.sources[0].speaker);
        assert_ne!(e.file, m.meta.sources[0].file);
        // The enrollment is the named stretches of the named clips at their
        // places, silence between them, one gain for all.
        let clip = |id: &str| pools.speech.iter().find(|c| c.id == id).unwrap();
        let mut original = vec![0.0f32; e.total.unwrap_or(e.length)];
        original[..e.length]
            .copy_from_slice(&clip(&e.file).samples.to_vec(e.clip_offset, e.length));
        for p in &e.more {
            assert_eq!(p.gain_db, e.gain_db);
            assert!(p.start >= e.length, "pieces follow the first clip");
            original[p.start..p.start + p.length]
                .copy_from_slice(&clip(&p.file).samples.to_vec(p.clip_offset, p.length));
        }
        assert_eq!(original.len(), enrollment.len());
        let g = 10f64.powf(e.gain_db / 20.0);
        let err: f64 = original
            .iter()
            .zip(enrollment)
            .map(|(&a, &b)| (a as f64 * g - b as f64).powi(2))
            .sum();
        assert!(err < 1e-8 * energy(enrollment), "enrollment mismatch {err}");
        // At most the longest enrollment; at least the shortest when the
        // talker's other clips hold that much.
        let cfg = m.meta.config;
        let seconds = enrollment.len() as f64 / 16_000.0;
        assert!(seconds <= cfg.enrollment_seconds + 1e-9, "{seconds} s");
        let available: usize = pools
            .speech
            .iter()
            .filter(|c| c.speaker == e.speaker && c.id != m.meta.sources[0].file)
            .map(|c| c.samples.len())
            .sum();
        if available as f64 / 16_000.0 >= cfg.enrollment_seconds + 3.0 {
            assert!(seconds >= cfg.enrollment_min_seconds - 0.31, "{seconds} s");
        }
    }
}

/// Too few talkers or no noise is an error that says so.
#[test]
fn unusable_pools_are_errors() {
    let mut pools = (*common::pools(Split::Test)).clone();
    pools.noise.clear();
    let err = MixtureSampler::new(pools.clone().into(), Task::Se, Split::Test, 0)
        .err()
        .unwrap();
    assert!(err.to_string().contains("no noise"), "{err}");
    let err = MixtureSampler::new(pools.into(), Task::Ss, Split::Train, 0)
        .err()
        .unwrap();
    assert!(err.to_string().contains("0 usable talker"), "{err}");
}

/// Largest |mixture - sum of sources| and the mixture's peak, over a written sample's files.
fn sum_error(dir: &Path) -> (f32, f32) {
    let sample = read_sample(dir).unwrap();
    let (mut worst, mut peak) = (0f32, 0f32);
    for (ear, channel) in sample.mixture.iter().enumerate() {
        for (i, m) in channel.iter().enumerate() {
            let sum: f32 = sample.sources.iter().map(|s| s[ear][i]).sum();
            worst = worst.max((m - sum).abs());
            peak = peak.max(m.abs());
        }
    }
    (worst, peak)
}

/// With reverberant targets (the paper's task) a separation mixture is the
/// sum of its written sources; with early targets it is not (reverberation is left out).
#[test]
fn reverberant_targets_sum_to_the_mixture() {
    let tmp = tempdir("reverberant");
    for (target, name) in [(Target::Reverberant, "rev"), (Target::Early, "early")] {
        let config = SamplerConfig {
            seconds: 1.0,
            target,
            ..SamplerConfig::default()
        };
        let pools = common::pools(Split::Test);
        let sampler = MixtureSampler::with_config(pools, Task::Ss, Split::Test, 3, config).unwrap();
        for i in 0..3 {
            let dir = tmp.join(format!("{name}{i}"));
            write_sample(&dir, &sampler.get(i)).unwrap();
            let (worst, peak) = sum_error(&dir);
            match target {
                Target::Reverberant => {
                    assert!(worst <= 1e-6 * peak.max(1e-3), "mixture {i}: {worst} off")
                }
                Target::Early => assert!(
                    worst > 1e-3 * peak,
                    "early targets of mixture {i} sum to the mixture"
                ),
            }
        }
    }
    std::fs::remove_dir_all(&tmp).unwrap();
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("kb-data-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
