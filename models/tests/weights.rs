//! Weight files: round trip, and clear errors for every way a file can be wrong.

mod common;

use candle_core::{Device, Tensor};
use kb_models::{
    weights::{save, save_params, save_weights, Model, Weights},
    JointConfig, ModelConfig, SeededParams, TfGridNet, WeightsConfig,
};

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("kb-weights-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn error_of(r: kb_models::Result<Weights>) -> String {
    r.expect_err("loading must fail").to_string()
}

#[test]
fn saved_joint_model_loads_and_computes_the_same() {
    let cfg = JointConfig::tiny(2, 1, 2);
    let params = SeededParams::new(3);
    let model = kb_models::JointModel::new(params.var_builder(&Device::Cpu), &cfg).unwrap();
    let path = tmp("joint.safetensors");
    save_params(&path, &WeightsConfig::Joint(cfg.clone()), &params).unwrap();
    let loaded = Weights::load_expecting(&path, &WeightsConfig::Joint(cfg)).unwrap();
    assert!(loaded
        .tensors
        .contains_key("small.blocks.0.intra_rnn.weight_ih"));
    assert!(loaded
        .tensors
        .contains_key("small.merges.1.cross_attn.q.weight"));
    let Model::Joint(reloaded) = loaded.model(&Device::Cpu).unwrap() else {
        panic!("a joint file builds a joint model")
    };
    let x = common::test_signal(128 * 10, 4);
    let a = model.forward(&x).unwrap().small.audio;
    let b = reloaded.forward(&x).unwrap().small.audio;
    assert_eq!(common::max_abs(&(a - b).unwrap()), 0.0);
}

#[test]
fn bad_files_are_refused_with_the_reason() {
    let cfg = ModelConfig::tiny(2);
    let wcfg = WeightsConfig::Single(cfg.clone());
    let params = SeededParams::new(5);
    TfGridNet::new(params.var_builder(&Device::Cpu), &cfg).unwrap();
    let good = params.tensors();

    let mut missing = good.clone();
    missing.remove("blocks.1.inter_rnn.weight_hh");
    let p = tmp("missing.safetensors");
    save(&p, &wcfg, &missing).unwrap();
    let e = error_of(Weights::load(&p));
    assert!(
        e.contains("missing tensor `blocks.1.inter_rnn.weight_hh`") && e.contains("[32, 8]"),
        "{e}"
    );

    let mut wrong = good.clone();
    wrong.insert(
        "deconv.weight".into(),
        Tensor::zeros((8, 8, 3, 2), candle_core::DType::F32, &Device::Cpu).unwrap(),
    );
    let p = tmp("wrong.safetensors");
    save(&p, &wcfg, &wrong).unwrap();
    let e = error_of(Weights::load(&p));
    assert!(
        e.contains("`deconv.weight`") && e.contains("[8, 8, 3, 2]") && e.contains("[8, 8, 3, 3]"),
        "{e}"
    );

    let p = tmp("good.safetensors");
    save(&p, &wcfg, &good).unwrap();
    let other = WeightsConfig::Single(ModelConfig::small(2));
    let e = error_of(Weights::load_expecting(&p, &other));
    assert!(
        e.contains("expected") && e.contains("\"d\":16") && e.contains("\"d\":8"),
        "{e}"
    );

    // A file claiming another model's shape than its tensors have.
    let p = tmp("lying.safetensors");
    save(&p, &WeightsConfig::Single(ModelConfig::medium(2)), &good).unwrap();
    let e = error_of(Weights::load(&p));
    assert!(
        e.contains("has shape") && e.contains("the model expects"),
        "{e}"
    );

    let bytes = std::fs::read(tmp("good.safetensors")).unwrap();
    let p = tmp("truncated.safetensors");
    std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    let e = error_of(Weights::load(&p));
    assert!(e.contains("truncated.safetensors"), "{e}");

    let e = error_of(Weights::load(&tmp("does-not-exist.safetensors")));
    assert!(e.contains("cannot read"), "{e}");

    let p = tmp("plain.safetensors");
    candle_core::safetensors::save(&good, &p).unwrap();
    let e = error_of(Weights::load(&p));
    assert!(e.contains("not a knowledge-boost weight file"), "{e}");
}

#[test]
fn the_evaluation_figure_travels_with_the_weights() {
    let cfg = WeightsConfig::Single(ModelConfig::tiny(2));
    let mut w = Weights::random(cfg, 5).unwrap();
    let plain = tmp("plain.safetensors");
    save_weights(&plain, &w).unwrap();
    assert_eq!(Weights::load(&plain).unwrap().evaluation, None);
    let figure = "test SI-SDRi 7.25 dB (100 mixtures)";
    w.evaluation = Some(figure.to_string());
    let stamped = tmp("stamped.safetensors");
    save_weights(&stamped, &w).unwrap();
    let back = Weights::load(&stamped).unwrap();
    assert_eq!(back.evaluation.as_deref(), Some(figure));
    for (name, t) in &w.tensors {
        assert_eq!(common::max_abs(&(t - &back.tensors[name]).unwrap()), 0.0);
    }
}
