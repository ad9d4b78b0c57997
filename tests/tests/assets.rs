//! The shipped defaults in `assets/`: each weight file loads, holds the model
//! its name promises (the paper's small model on the audio thread, the stated
//! hint delay) and carries the evaluation figure the editor shows; the demo
//! clips are 16 kHz binaural mixtures with their talkers (two to separate, one
//! in noise to enhance).

use std::path::PathBuf;

use kb_e2e::workspace_root;
use kb_models::{weight_file::WeightFile, ModelConfig, WeightsConfig};

fn asset(name: &str) -> PathBuf {
    workspace_root().join("assets").join(name)
}

/// A reader of one WAV of a demo clip (`demo`: separate; `demo_enhance`: enhance).
fn demo_wav(clip: &str, name: &str) -> hound::WavReader<std::io::BufReader<std::fs::File>> {
    let path = asset(clip).join(name);
    hound::WavReader::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn load(name: &str) -> WeightFile {
    let path = asset(name);
    let w = WeightFile::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let figure = w.evaluation.as_deref().unwrap_or_default();
    assert!(
        figure.starts_with("SI-SDRi ") && figure.contains("cargo xtask eval"),
        "{name} carries no evaluation figure: {figure:?}"
    );
    w
}

#[test]
fn the_joint_defaults_pair_the_paper_small_model_with_a_stronger_one() {
    for (name, delay, sources) in [
        ("separate.safetensors", 3, 2),
        ("separate_c1.safetensors", 1, 2),
        ("enhance.safetensors", 3, 1),
    ] {
        let WeightsConfig::Joint(j) = load(name).config else {
            panic!("{name} is not a joint model");
        };
        assert_eq!(
            ModelConfig {
                level: None,
                ..j.small
            },
            ModelConfig::small(sources),
            "{name}: small model"
        );
        assert!(
            j.small.level.is_some(),
            "{name}: no input level normalisation"
        );
        assert_eq!(j.delay, delay, "{name}: hint delay");
        assert!(
            j.large.d > j.small.d && j.large.hidden > j.small.hidden,
            "{name}: the hint model is no larger than the small one"
        );
    }
}

#[test]
fn the_baselines_are_the_named_single_models() {
    for (name, want, level) in [
        ("separate_small.safetensors", ModelConfig::small(2), true),
        ("separate_medium.safetensors", ModelConfig::medium(2), false),
        (
            "separate_large.safetensors",
            ModelConfig::large_cpu(2),
            true,
        ),
        ("enhance_small.safetensors", ModelConfig::small(1), true),
        ("enhance_large.safetensors", ModelConfig::large_cpu(1), true),
    ] {
        let WeightsConfig::Single(got) = load(name).config else {
            panic!("{name} is not a single model");
        };
        assert_eq!(ModelConfig { level: None, ..got }, want, "{name}");
        assert_eq!(
            got.level.is_some(),
            level,
            "{name}: input level normalisation"
        );
    }
}

#[test]
fn the_demo_clip_is_a_binaural_mixture_of_two_talkers_at_16_khz() {
    let read = |name: &str| {
        let r = demo_wav("demo", name);
        let spec = r.spec();
        (spec.sample_rate, spec.channels, r.duration())
    };
    let mix = read("mixture.wav");
    assert_eq!((mix.0, mix.1), (16_000, 2));
    assert!(mix.2 >= 16_000 * 4, "the clip is shorter than 4 s");
    for name in ["source00.wav", "source01.wav"] {
        assert_eq!(read(name), mix, "{name}");
    }
}

#[test]
fn the_enhance_demo_clip_is_one_talker_in_noise_at_16_khz() {
    let mix = clip("demo_enhance", "mixture.wav");
    let talker = clip("demo_enhance", "source00.wav");
    assert!(mix[0].len() >= 16_000 * 4, "the clip is shorter than 4 s");
    assert!(!asset("demo_enhance").join("source01.wav").exists());
    let energy = |x: &[f32]| x.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>();
    for ear in 0..2 {
        assert_eq!(mix[ear].len(), talker[ear].len());
        let rest: Vec<f32> = mix[ear]
            .iter()
            .zip(&talker[ear])
            .map(|(m, t)| m - t)
            .collect();
        let snr = 10.0 * (energy(&talker[ear]) / energy(&rest)).log10();
        assert!(
            (-20.0..20.0).contains(&snr),
            "ear {ear}: talker {snr:.1} dB above the rest"
        );
    }
}

/// A 16 kHz stereo WAV of a demo clip as [left, right].
fn clip(dir: &str, name: &str) -> [Vec<f32>; 2] {
    let mut r = demo_wav(dir, name);
    assert_eq!(
        (r.spec().sample_rate, r.spec().channels),
        (16_000, 2),
        "{name}"
    );
    let x: Vec<f32> = match r.spec().sample_format {
        hound::SampleFormat::Float => r.samples::<f32>().map(Result::unwrap).collect(),
        hound::SampleFormat::Int => r
            .samples::<i32>()
            .map(|v| v.unwrap() as f32 / 32768.0)
            .collect(),
    };
    [0, 1].map(|ear| x.iter().skip(ear).step_by(2).copied().collect())
}

/// Streams `mix` through the shipped pair `name` chunk by chunk with every
/// hint: [bus][ear] outputs aligned with the input.
fn stream(name: &str, mix: &[Vec<f32>; 2]) -> Vec<Vec<Vec<f32>>> {
    use kb_models::engine::{BoostedPair, Kernels};
    let w = load(name);
    let mut pair = BoostedPair::from_weights(&w, Kernels::best()).expect("engines");
    let (chunk, pad) = (pair.config().small.chunk, pair.config().small.pad);
    let buses = pair.config().small.sources;
    let n = mix[0].len();
    let mut est = vec![vec![Vec::new(); 2]; buses];
    let mut input = vec![0f32; 2 * chunk];
    let mut out = vec![0f32; buses * 2 * chunk];
    for k in 0..(n + pad).div_ceil(chunk) {
        for (ear, dst) in input.chunks_exact_mut(chunk).enumerate() {
            for (i, v) in dst.iter_mut().enumerate() {
                *v = mix[ear].get(k * chunk + i).copied().unwrap_or(0.0);
            }
        }
        pair.process(&input, true, &mut out).expect("chunk");
        for (ch, o) in out.chunks_exact(chunk).enumerate() {
            est[ch / 2][ch % 2].extend_from_slice(o);
        }
    }
    est.into_iter()
        .map(|bus| bus.into_iter().map(|e| e[pad..pad + n].to_vec()).collect())
        .collect()
}

/// The built-in Separate model, streamed chunk by chunk with every hint,
/// improves both talkers of the demo clip (talkers it never heard): the mean
/// SI-SDRi over talkers and ears, with the better of the two bus assignments.
#[test]
fn the_default_separate_model_separates_the_demo_clip() {
    use kb_models::metrics::si_sdr_db;
    let mix = clip("demo", "mixture.wav");
    let sources = [clip("demo", "source00.wav"), clip("demo", "source01.wav")];
    let est = stream("separate.safetensors", &mix);
    let score = |perm: [usize; 2]| -> f64 {
        let mut sum = 0.0;
        for (talker, bus) in perm.into_iter().enumerate() {
            for ear in 0..2 {
                let t = &sources[talker][ear];
                sum += si_sdr_db(&est[bus][ear], t) - si_sdr_db(&mix[ear], t);
            }
        }
        sum / 4.0
    };
    let best = score([0, 1]).max(score([1, 0]));
    println!("demo clip SI-SDRi with the built-in Separate model: {best:+.2} dB");
    assert!(
        best > 2.0,
        "the built-in Separate model does not separate: {best:+.2} dB"
    );
}

/// The built-in Enhance model, streamed with every hint, improves the talker
/// of the enhance demo clip (a talker and a noise type it never heard) in
/// both ears.
#[test]
fn the_default_enhance_model_enhances_the_demo_clip() {
    use kb_models::metrics::si_sdr_db;
    let mix = clip("demo_enhance", "mixture.wav");
    let talker = clip("demo_enhance", "source00.wav");
    let est = stream("enhance.safetensors", &mix);
    assert_eq!(est.len(), 1, "an enhancer has one output bus");
    for ear in 0..2 {
        let gain = si_sdr_db(&est[0][ear], &talker[ear]) - si_sdr_db(&mix[ear], &talker[ear]);
        println!("enhance demo clip, ear {ear}: SI-SDRi {gain:+.2} dB");
        assert!(
            gain > 2.0,
            "ear {ear}: the built-in Enhance model does not enhance: {gain:+.2} dB"
        );
    }
}
