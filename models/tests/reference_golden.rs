//! The candle model against the authors' golden vectors (`shared/reference`).

use std::path::PathBuf;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use kb_models::{reference::import_joint, JointConfig, JointModel};

fn reference_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference")
}

fn load() -> (std::collections::HashMap<String, Tensor>, JointModel) {
    let path = reference_dir().join("kb_ss_tiny.safetensors");
    let tensors = candle_core::safetensors::load(&path, &Device::Cpu)
        .unwrap_or_else(|e| panic!("golden vectors not readable at {}: {e}", path.display()));
    let cfg = JointConfig::tiny(2, 1, 2);
    let ours = import_joint(&tensors, &cfg).expect("reference names map");
    let vb = VarBuilder::from_tensors(ours, DType::F32, &Device::Cpu);
    let model = JointModel::new(vb, &cfg).expect("model builds from reference tensors");
    (tensors, model)
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims(), "shapes differ");
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

fn check(name: &str, ours: &Tensor, theirs: &Tensor, tol: f32) {
    let d = max_abs_diff(ours, theirs);
    println!("{name}: max abs diff {d:.3e}");
    assert!(
        d <= tol,
        "{name} differs from the reference by {d:e} (tolerance {tol:e})"
    );
}

#[test]
fn whole_utterance_matches_reference() {
    let (r, model) = load();
    let out = model.forward(&r["io.mixture"]).unwrap();
    check(
        "big_embed",
        &out.large.spectrum.transpose(2, 3).unwrap(),
        &r["io.big_embed"],
        2e-4,
    );
    check(
        "compressed_embed",
        &out.hints.permute((0, 3, 2, 1)).unwrap(),
        &r["io.compressed_embed"],
        2e-4,
    );
    check("big_out", &out.large.audio, &r["io.big_out"], 2e-5);
    check("small_out", &out.small.audio, &r["io.small_out"], 2e-5);
}

#[test]
fn streaming_matches_reference() {
    let (r, model) = load();
    let x = r["io.mixture"].pad_with_zeros(2, 0, 64).unwrap();
    let mut state = model.initial_state(1, &Device::Cpu).unwrap();
    let (mut small, mut large) = (Vec::new(), Vec::new());
    for k in 0..125 {
        let out = model
            .forward_frames(&x.narrow(2, 128 * k, 192).unwrap(), &mut state)
            .unwrap();
        small.push(out.small.audio);
        large.push(out.large.audio);
    }
    check(
        "stream big_out",
        &Tensor::cat(&large, 3).unwrap(),
        &r["io.stream_big_out"],
        2e-5,
    );
    check(
        "stream small_out",
        &Tensor::cat(&small, 3).unwrap(),
        &r["io.stream_small_out"],
        2e-5,
    );
}
