//! The eval pipeline end to end on tiny random-weight models and synthetic
//! mixtures, checked against the engines run and scored here independently.

use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use indicatif::ProgressBar;
use kb_data::Task;
use kb_models::{
    engine::{tensors::TensorSource, GridNetEngine, HintFrame, Kernels, LargeEngine, SmallEngine},
    metrics::si_sdr,
    weights::{save, Weights},
    JointConfig, ModelConfig, WeightsConfig, SPEAKER_DIM,
};

use super::super::{
    evaluate,
    rows::{load_rows, Sources},
    stamp, write_outputs, Case,
};

/// A fresh folder under the system temp dir.
fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kb-eval-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_weights(dir: &Path, name: &str, cfg: WeightsConfig, seed: u64) -> PathBuf {
    let path = dir.join(name);
    let w = Weights::random(cfg.clone(), seed).unwrap();
    save(&path, &cfg, &w.tensors).unwrap();
    path
}

/// A voiced source with syllable-rate bursts, different per (talker, ear).
fn source(n: usize, f0: f64, rate: f64, phase: f64) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let t = i as f64 / 16_000.0;
            let env = (2.0 * std::f64::consts::PI * rate * t + phase)
                .sin()
                .max(0.0);
            let v: f64 = (1..6)
                .map(|h| (2.0 * std::f64::consts::PI * f0 * h as f64 * t).sin() / h as f64)
                .sum();
            (0.05 * env * v) as f32
        })
        .collect()
}

/// Two-talker binaural mixtures of `n` samples.
fn cases(n: usize) -> Vec<Case> {
    (0..2)
        .map(|c| {
            let sources: Vec<Vec<Vec<f32>>> = (0..2)
                .map(|s| {
                    (0..2)
                        .map(|ear| {
                            let f0 = 110.0 + 90.0 * s as f64 + 7.0 * c as f64;
                            source(n, f0, 3.0 + s as f64 * 1.7, ear as f64 * 0.3 + c as f64)
                        })
                        .collect()
                })
                .collect();
            let mixture = (0..2)
                .map(|ear| {
                    (0..n)
                        .map(|t| sources[0][ear][t] + sources[1][ear][t])
                        .collect()
                })
                .collect();
            Case {
                mixture,
                sources,
                double_talk: 0.0,
                speaker: None,
            }
        })
        .collect()
}

/// The engines over `mix`, written independently of `stream.rs`: every chunk's
/// output appended, hint k used at chunk k + C, output read from the lookahead
/// on, both engines conditioned on `speaker` when given.
fn run_engines(
    w: &Weights,
    mix: &[Vec<f32>],
    hints: bool,
    speaker: Option<&[f32]>,
) -> Vec<Vec<Vec<f32>>> {
    let w = &w.to_file().unwrap();
    let n = mix[0].len();
    let padded: Vec<Vec<f32>> = mix
        .iter()
        .map(|m| {
            let mut p = m.clone();
            p.resize((n + 64).div_ceil(128) * 128, 0.0);
            p
        })
        .collect();
    let chunks = padded[0].len() / 128;
    let kernels = Kernels::best();
    let mut outputs: Vec<Vec<f32>> = Vec::new();
    let mut hint_log: Vec<HintFrame> = Vec::new();
    let (mut single, mut pair, sources) = match &w.config {
        WeightsConfig::Single(c) => (
            Some(
                GridNetEngine::load(&TensorSource::new(&w.tensors, ""), c, None, kernels).unwrap(),
            ),
            None,
            c.sources,
        ),
        WeightsConfig::Joint(j) => (
            None,
            Some((
                SmallEngine::from_weights(w, kernels).unwrap(),
                LargeEngine::from_weights(w, kernels).unwrap(),
            )),
            j.small.sources,
        ),
    };
    if let Some(v) = speaker {
        if let Some(e) = &mut single {
            e.set_speaker(v).unwrap();
        }
        if let Some((small, large)) = &mut pair {
            small.set_speaker(v).unwrap();
            large.set_speaker(v).unwrap();
        }
    }
    for k in 0..chunks {
        let input: Vec<f32> = padded
            .iter()
            .flat_map(|p| p[128 * k..128 * (k + 1)].to_vec())
            .collect();
        let mut out = vec![0f32; sources * 2 * 128];
        if let Some(e) = &mut single {
            e.process(&input, None, &mut out).unwrap();
        }
        if let Some((small, large)) = &mut pair {
            let mut h = HintFrame::new(small.config());
            large.process(&input, &mut h).unwrap();
            hint_log.push(h);
            let c = small.config().delay;
            let hint = (hints && k >= c).then(|| &hint_log[k - c]);
            if let Some(h) = hint {
                assert_eq!(h.index as usize, k - c);
            }
            small.process(&input, hint, &mut out).unwrap();
        }
        outputs.push(out);
    }
    (0..sources)
        .map(|s| {
            (0..2)
                .map(|ear| {
                    let ch = s * 2 + ear;
                    let full: Vec<f32> = outputs
                        .iter()
                        .flat_map(|o| o[ch * 128..(ch + 1) * 128].to_vec())
                        .collect();
                    full[64..64 + n].to_vec()
                })
                .collect()
        })
        .collect()
}

/// SI-SDR with candle's metric (an implementation the eval does not use).
fn candle_si_sdr(est: &[f32], target: &[f32]) -> f64 {
    let t = |x: &[f32]| Tensor::from_slice(x, x.len(), &Device::Cpu).unwrap();
    f64::from(
        si_sdr(&t(est), &t(target))
            .unwrap()
            .to_scalar::<f32>()
            .unwrap(),
    )
}

/// Best-permutation SI-SDRi of two estimated sources, averaged over sources and ears.
fn pit_si_sdri(est: &[Vec<Vec<f32>>], case: &Case) -> f64 {
    let gain = |perm: [usize; 2]| -> f64 {
        let mut sum = 0.0;
        for (s, source) in case.sources.iter().enumerate() {
            for (ear, target) in source.iter().enumerate() {
                sum += candle_si_sdr(&est[perm[s]][ear], target)
                    - candle_si_sdr(&case.mixture[ear], target);
            }
        }
        sum / 4.0
    };
    gain([0, 1]).max(gain([1, 0]))
}

#[test]
fn eval_reports_what_the_engines_produce() {
    let dir = temp_dir("pipeline");
    let sm = write_weights(
        &dir,
        "sm.safetensors",
        WeightsConfig::Single(ModelConfig::tiny(2)),
        1,
    );
    let boost = write_weights(
        &dir,
        "c1.safetensors",
        WeightsConfig::Joint(JointConfig::tiny(2, 1, 2)),
        2,
    );
    let src = Sources {
        singles: [("sm", Some(sm.clone())), ("mm", None), ("lm", None)],
        boosts: vec![boost.clone()],
        weights_dir: dir.join("unused"),
    };
    let rows = load_rows(&src, Task::Ss).unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["sm", "boost_c1", "boost_c1_nohint"]);
    let cases = cases(16_000);
    let table = evaluate(&rows, &cases, Task::Ss, 2, &ProgressBar::hidden()).unwrap();

    let weights = [
        (Weights::load(&sm).unwrap(), true),
        (Weights::load(&boost).unwrap(), true),
        (Weights::load(&boost).unwrap(), false),
    ];
    let mut per_row = Vec::new();
    for (row, (w, hints)) in table.rows.iter().zip(&weights) {
        let scores: Vec<f64> = cases
            .iter()
            .map(|c| pit_si_sdri(&run_engines(w, &c.mixture, *hints, None), c))
            .collect();
        let want = scores.iter().sum::<f64>() / scores.len() as f64;
        println!(
            "{}: eval {:.4} dB, independent {want:.4} dB",
            row.name, row.si_sdri.mean
        );
        assert!(
            (row.si_sdri.mean - want).abs() < 1e-3,
            "{}: {} vs {want}",
            row.name,
            row.si_sdri.mean
        );
        assert_eq!(row.si_sdri.n, 2);
        let sd = ((scores[0] - scores[1]).powi(2) / 2.0).sqrt();
        let ci = row.si_sdri.ci95.unwrap();
        assert!(
            (ci - 1.96 * sd / 2f64.sqrt()).abs() < 1e-3,
            "{}: ci {ci}",
            row.name
        );
        assert!(
            row.stoi.mean.abs() <= 1.0,
            "{}: STOI {}",
            row.name,
            row.stoi.mean
        );
        per_row.push(want);
    }
    // The hints reach the small model: dropping them changes its output.
    assert!(
        (per_row[1] - per_row[2]).abs() > 1e-6,
        "hints made no difference"
    );
    // Parameters: the single file's tensors; the joint small part alone is smaller than the file.
    let total = |w: &Weights| w.tensors.values().map(|t| t.elem_count()).sum::<usize>();
    assert_eq!(table.rows[0].params, total(&weights[0].0));
    assert_eq!(
        table.rows[1].params + table.rows[1].params_large.unwrap(),
        total(&weights[1].0)
    );

    let json = table.json();
    let keys: Vec<&String> = json["si_sdri"].as_object().unwrap().keys().collect();
    let mut want_keys = vec!["boost_c1", "boost_c1_nohint", "sm"];
    want_keys.sort();
    assert_eq!(keys, want_keys);
    for row in &table.rows {
        assert_eq!(
            json["si_sdri"][&row.name].as_f64().unwrap(),
            row.si_sdri.mean
        );
    }
    assert_eq!(json["count"], 2);
    assert_eq!(json["task"], "ss");
    // The input baseline is the mixture scored against each talker and ear.
    let input_stoi: Vec<f64> = cases
        .iter()
        .flat_map(|c| {
            c.sources.iter().flat_map(|s| {
                s.iter()
                    .zip(&c.mixture)
                    .map(|(t, m)| super::super::metrics::stoi_16k(t, m))
            })
        })
        .collect();
    let want = input_stoi.iter().sum::<f64>() / input_stoi.len() as f64;
    assert!(
        (table.input.stoi.mean - want).abs() < 1e-9,
        "input STOI {}",
        table.input.stoi.mean
    );
    assert_eq!(
        json["stoi"]["input"].as_f64().unwrap(),
        table.input.stoi.mean
    );
    for row in &table.rows {
        assert_eq!(json["stoi"][&row.name].as_f64().unwrap(), row.stoi.mean);
        assert_eq!(json["pesq"][&row.name].as_f64(), row.pesq.map(|p| p.mean));
    }

    let out = dir.join("out");
    write_outputs(&table, &out).unwrap();
    let md = std::fs::read_to_string(out.join("eval.md")).unwrap();
    assert!(md.contains("| input (unprocessed) |"), "{md}");
    for row in &table.rows {
        assert!(md.contains(&format!("| {} |", row.name)), "{md}");
    }
    let csv = std::fs::read_to_string(out.join("eval.csv")).unwrap();
    let lines: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(lines.len(), 4);
    let col = lines[0].iter().position(|h| *h == "si_sdri_mean").unwrap();
    for (line, row) in lines[1..].iter().zip(&table.rows) {
        assert_eq!(line.len(), lines[0].len());
        assert_eq!(line[0], row.name);
        assert_eq!(line[col].parse::<f64>().unwrap(), row.si_sdri.mean);
    }
    let png = std::fs::read(out.join("si_sdri_vs_delay.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");

    // --stamp: each file carries the SI-SDRi of its hinted row, weights unchanged.
    stamp(&rows, &table, "a test").unwrap();
    for (file, want, before) in [
        (&sm, per_row[0], &weights[0].0),
        (&boost, per_row[1], &weights[1].0),
    ] {
        let back = Weights::load(file).unwrap();
        let figure = back.evaluation.clone().unwrap();
        assert!(
            figure.starts_with(&format!("SI-SDRi {want:.2} ")),
            "{figure}"
        );
        assert!(figure.ends_with("(a test)"), "{figure}");
        for (name, t) in &before.tensors {
            assert_eq!(
                (t - &back.tensors[name])
                    .unwrap()
                    .abs()
                    .unwrap()
                    .max_all()
                    .unwrap()
                    .to_scalar::<f32>()
                    .unwrap(),
                0.0
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Target extraction: each mixture's model run conditioned on its own
/// speaker embedding, the target alone scored, and the share of mixtures
/// where the wrong talker came out (SI-SDRi < 0) counted.
#[test]
fn extraction_rows_score_the_conditioned_target_and_count_wrong_talkers() {
    let dir = temp_dir("tse");
    let tse = |c: ModelConfig| c.with_speaker(Some(SPEAKER_DIM));
    let sm = write_weights(
        &dir,
        "sm.safetensors",
        WeightsConfig::Single(tse(ModelConfig::tiny(1))),
        5,
    );
    let mut pair = JointConfig::tiny(1, 1, 2);
    pair.small = tse(pair.small);
    pair.large = tse(pair.large);
    let boost = write_weights(&dir, "c1.safetensors", WeightsConfig::Joint(pair), 6);
    let src = Sources {
        singles: [("sm", Some(sm.clone())), ("mm", None), ("lm", None)],
        boosts: vec![boost.clone()],
        weights_dir: dir.join("unused"),
    };
    let rows = load_rows(&src, Task::Tse).unwrap();
    // Four mixtures, the target alone as the reference, each with its own voice.
    let cases: Vec<Case> = cases(16_000)
        .into_iter()
        .chain(cases(12_000))
        .enumerate()
        .map(|(i, mut c)| {
            c.sources.truncate(1);
            let v: Vec<f32> = (0..SPEAKER_DIM)
                .map(|k| ((k * 7 + i * 13) % 17) as f32)
                .collect();
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            c.speaker = Some(v.iter().map(|x| x / norm).collect());
            c
        })
        .collect();
    let table = evaluate(&rows, &cases, Task::Tse, 2, &ProgressBar::hidden()).unwrap();
    let weights = [
        (Weights::load(&sm).unwrap(), true),
        (Weights::load(&boost).unwrap(), true),
        (Weights::load(&boost).unwrap(), false),
    ];
    let json = table.json();
    for (row, (w, hints)) in table.rows.iter().zip(&weights) {
        let scores: Vec<f64> = cases
            .iter()
            .map(|c| {
                let est = run_engines(w, &c.mixture, *hints, c.speaker.as_deref());
                (0..2)
                    .map(|ear| {
                        candle_si_sdr(&est[0][ear], &c.sources[0][ear])
                            - candle_si_sdr(&c.mixture[ear], &c.sources[0][ear])
                    })
                    .sum::<f64>()
                    / 2.0
            })
            .collect();
        let want = scores.iter().sum::<f64>() / scores.len() as f64;
        let wrong = scores.iter().filter(|s| **s < 0.0).count() as f64 / scores.len() as f64;
        println!(
            "{}: eval {:.4} dB, independent {want:.4} dB; wrong talker {:?} vs {wrong}",
            row.name, row.si_sdri.mean, row.wrong_talker_share
        );
        // Random conditioned models come out near -55 dB, where candle's f32
        // SI-SDR rounds at the 1e-3 relative level: compare relatively.
        let tolerance = 1e-2 * want.abs().max(1.0);
        assert!((row.si_sdri.mean - want).abs() < tolerance, "{}", row.name);
        assert_eq!(row.wrong_talker_share, Some(wrong), "{}", row.name);
        assert_eq!(json["wrong_talker_share"][&row.name].as_f64(), Some(wrong));
    }
    // A separation file is no extraction model, and the reverse.
    let ss = write_weights(
        &dir,
        "ss.safetensors",
        WeightsConfig::Single(ModelConfig::tiny(1)),
        7,
    );
    let only = |file: PathBuf| Sources {
        singles: [("sm", Some(file)), ("mm", None), ("lm", None)],
        boosts: vec![],
        weights_dir: dir.join("unused"),
    };
    let e = load_rows(&only(ss), Task::Tse).err().expect("an error");
    assert!(e.contains("takes no speaker"), "{e}");
    let e = load_rows(&only(sm), Task::Se).err().expect("an error");
    assert!(e.contains("takes a speaker"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_weight_files_are_named_in_the_error() {
    let dir = temp_dir("bad");
    let corrupt = dir.join("corrupt.safetensors");
    std::fs::write(&corrupt, b"not a weight file").unwrap();
    let one_source = write_weights(
        &dir,
        "se.safetensors",
        WeightsConfig::Joint(JointConfig::tiny(1, 1, 2)),
        3,
    );
    let single = write_weights(
        &dir,
        "sm.safetensors",
        WeightsConfig::Single(ModelConfig::tiny(2)),
        4,
    );
    let with = |singles: [(&'static str, Option<PathBuf>); 3], boosts: Vec<PathBuf>| Sources {
        singles,
        boosts,
        weights_dir: dir.clone(),
    };
    let none = || [("sm", None), ("mm", None), ("lm", None)];
    let err = |s: Sources| load_rows(&s, Task::Ss).err().expect("an error");

    let e = err(with(
        [("sm", Some(corrupt.clone())), ("mm", None), ("lm", None)],
        vec![],
    ));
    assert!(e.contains("corrupt.safetensors"), "{e}");
    let e = err(with(none(), vec![one_source.clone()]));
    assert!(e.contains("se.safetensors") && e.contains("needs 2"), "{e}");
    let e = err(with(none(), vec![single.clone()]));
    assert!(
        e.contains("sm.safetensors") && e.contains("not a joint"),
        "{e}"
    );
    // No flag and no default file in the folder: nothing to evaluate.
    let e = err(with(none(), vec![]));
    assert!(e.contains("no model to evaluate"), "{e}");
    // The enhancement task takes the one-source file.
    assert_eq!(
        load_rows(&with(none(), vec![one_source]), Task::Se)
            .unwrap()
            .len(),
        2
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
