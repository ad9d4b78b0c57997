//! The shipped defaults in `assets/`: each weight file loads, holds the model
//! its name promises (the paper's small model on the audio thread, the stated
//! hint delay) and carries the evaluation figure the editor shows; the demo
//! clip is a 16 kHz binaural mixture with its two talkers.

use std::path::PathBuf;

use kb_e2e::workspace_root;
use kb_models::{weight_file::WeightFile, ModelConfig, WeightsConfig};

fn asset(name: &str) -> PathBuf {
    workspace_root().join("assets").join(name)
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
    for (name, delay) in [("separate.safetensors", 3), ("separate_c1.safetensors", 1)] {
        let WeightsConfig::Joint(j) = load(name).config else {
            panic!("{name} is not a joint model");
        };
        assert_eq!(j.small, ModelConfig::small(2), "{name}: small model");
        assert_eq!(j.delay, delay, "{name}: hint delay");
        assert!(
            j.large.d > j.small.d && j.large.hidden > j.small.hidden,
            "{name}: the hint model is no larger than the small one"
        );
    }
}

#[test]
fn the_baselines_are_the_named_single_models() {
    for (name, want) in [
        ("separate_small.safetensors", ModelConfig::small(2)),
        ("separate_medium.safetensors", ModelConfig::medium(2)),
        ("separate_large.safetensors", ModelConfig::large_cpu(2)),
    ] {
        assert_eq!(load(name).config, WeightsConfig::Single(want), "{name}");
    }
}

#[test]
fn the_demo_clip_is_a_binaural_mixture_of_two_talkers_at_16_khz() {
    let read = |name: &str| {
        let path = asset("demo").join(name);
        let r = hound::WavReader::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
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
