//! The candle model and the real-time engine against the authors' golden
//! vectors (copied from `shared/reference` into `tests/reference`): every output within the suggested tolerances
//! (2e-5 on waveforms, 2e-4 on embeddings), and on a mismatch the first
//! intermediate (`dbg.*`) that diverges is named.

mod common;

use std::{collections::HashMap, path::PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use kb_models::{
    engine::{HintFrame, Kernels, LargeEngine, SmallEngine},
    reference::import_joint,
    trace::Trace,
    weights::Weights,
    JointConfig, JointModel, WeightsConfig,
};

const WAVE_TOL: f32 = 2e-5;
const EMBED_TOL: f32 = 2e-4;

fn reference_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference")
}

fn config() -> JointConfig {
    JointConfig::tiny(2, 1, 2)
}

/// The golden tensors and our tensors mapped from the authors' parameters.
fn load() -> (HashMap<String, Tensor>, HashMap<String, Tensor>) {
    let path = reference_dir().join("kb_ss_tiny.safetensors");
    let golden = candle_core::safetensors::load(&path, &Device::Cpu)
        .unwrap_or_else(|e| panic!("golden vectors not readable at {}: {e}", path.display()));
    let ours = import_joint(&golden, &config()).expect("reference names map");
    (golden, ours)
}

fn model(ours: &HashMap<String, Tensor>) -> JointModel {
    let vb = VarBuilder::from_tensors(ours.clone(), DType::F32, &Device::Cpu);
    JointModel::new(vb, &config()).expect("model builds from reference tensors")
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims(), "shapes differ");
    common::max_abs(&(a - b).unwrap())
}

/// Our intermediate `name` over the first 16 frames, in the reference's layout.
fn as_reference(name: &str, t: &Tensor) -> Tensor {
    let first16 = |t: &Tensor, dim: usize| t.narrow(dim, 0, 16).unwrap();
    let last = name.rsplit('.').next().unwrap_or(name);
    if last == "stft" || last == "deconv" {
        // [B, C, T, F] both.
        first16(t, 2)
    } else if last.starts_with("film") || last.starts_with("ca") {
        // Ours [B, T, F, D] -> [b, d, F, T].
        first16(t, 1).permute((0, 3, 2, 1)).unwrap()
    } else if last == "intra_linear" {
        // Ours [B*T, F, D] -> [t, d, f].
        first16(t, 0).permute((0, 2, 1)).unwrap()
    } else if last == "inter_linear" {
        // Ours [B*F, T, D] -> [f, d, t].
        first16(t, 1).permute((0, 2, 1)).unwrap()
    } else {
        // Ours [B, T, F, D] -> [b, d, t, f].
        first16(t, 1).permute((0, 3, 1, 2)).unwrap()
    }
}

/// Every golden intermediate in computation order with the candle model's max abs difference.
fn intermediate_diffs(
    golden: &HashMap<String, Tensor>,
    ours: &HashMap<String, Tensor>,
) -> Vec<(String, f32)> {
    let (mut small, mut large) = (Trace::new("dbg.small"), Trace::new("dbg.big"));
    model(ours)
        .forward_traced(&golden["io.mixture"], Some(&mut small), Some(&mut large))
        .unwrap();
    large
        .tensors
        .iter()
        .chain(&small.tensors)
        .filter_map(|(name, t)| {
            let name = name
                .replace("dbg.big.stft", "dbg.stft")
                .replace("dbg.small.stft", "dbg.stft");
            let want = golden.get(&name)?;
            let d = max_abs_diff(&as_reference(&name, t), want);
            Some((name, d))
        })
        .collect()
}

/// The first golden intermediate, in computation order, that the candle model misses.
fn first_divergence(
    golden: &HashMap<String, Tensor>,
    ours: &HashMap<String, Tensor>,
) -> Option<String> {
    intermediate_diffs(golden, ours)
        .into_iter()
        .find(|(_, d)| *d > EMBED_TOL)
        .map(|(name, d)| format!("{name} (max abs diff {d:e})"))
}

fn check(name: &str, ours: &Tensor, theirs: &Tensor, tol: f32, why: &dyn Fn() -> Option<String>) {
    let d = max_abs_diff(ours, theirs);
    println!("{name}: max abs diff {d:.3e}");
    if d > tol {
        let at = why()
            .unwrap_or_else(|| "no dbg.* intermediate: the difference arises after them".into());
        panic!("{name} differs from the reference by {d:e} (tolerance {tol:e}); first diverging intermediate: {at}");
    }
}

#[test]
fn every_intermediate_matches_reference() {
    let (golden, ours) = load();
    let diffs = intermediate_diffs(&golden, &ours);
    for (name, d) in &diffs {
        println!("{name}: max abs diff {d:.3e}");
        assert!(
            *d <= EMBED_TOL,
            "first diverging intermediate: {name} ({d:e})"
        );
    }
    let compared = diffs.len();
    let dbg_count = golden.keys().filter(|k| k.starts_with("dbg.")).count();
    assert_eq!(
        compared,
        dbg_count + 1,
        "every dbg.* tensor is compared (dbg.stft once per model)"
    );
}

#[test]
fn whole_utterance_matches_reference() {
    let (golden, ours) = load();
    let why = || first_divergence(&golden, &ours);
    let out = model(&ours).forward(&golden["io.mixture"]).unwrap();
    check(
        "big_embed",
        &out.large.spectrum.transpose(2, 3).unwrap(),
        &golden["io.big_embed"],
        EMBED_TOL,
        &why,
    );
    check(
        "compressed_embed",
        &out.hints.permute((0, 3, 2, 1)).unwrap(),
        &golden["io.compressed_embed"],
        EMBED_TOL,
        &why,
    );
    check(
        "big_out",
        &out.large.audio,
        &golden["io.big_out"],
        WAVE_TOL,
        &why,
    );
    check(
        "small_out",
        &out.small.audio,
        &golden["io.small_out"],
        WAVE_TOL,
        &why,
    );
}

#[test]
fn streaming_matches_reference() {
    let (golden, ours) = load();
    let why = || first_divergence(&golden, &ours);
    let model = model(&ours);
    let x = golden["io.mixture"].pad_with_zeros(2, 0, 64).unwrap();
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
        &golden["io.stream_big_out"],
        WAVE_TOL,
        &why,
    );
    check(
        "stream small_out",
        &Tensor::cat(&small, 3).unwrap(),
        &golden["io.stream_small_out"],
        WAVE_TOL,
        &why,
    );
}

#[test]
fn engine_matches_reference() {
    let (golden, ours) = load();
    let weights = Weights {
        config: WeightsConfig::Joint(config()),
        tensors: ours.clone(),
        evaluation: None,
    }
    .to_file()
    .unwrap();
    let kernels = Kernels::best();
    let mut small = SmallEngine::from_weights(&weights, kernels).unwrap();
    let mut large = LargeEngine::from_weights(&weights, kernels).unwrap();
    // The reference's frame k covers samples [128k, 128k + 192): prime the
    // lookahead with the first 64 samples and feed the rest chunk by chunk.
    let x = golden["io.mixture"]
        .squeeze(0)
        .unwrap()
        .pad_with_zeros(1, 0, 64)
        .unwrap()
        .to_vec2::<f32>()
        .unwrap();
    let lookahead: Vec<f32> = x.iter().flat_map(|ch| ch[..64].iter().copied()).collect();
    small.prime(&lookahead).unwrap();
    large.prime(&lookahead).unwrap();
    let mut previous = None::<HintFrame>;
    let (mut hints, mut outs) = (Vec::new(), Vec::new());
    for k in 0..125 {
        let input: Vec<f32> = x
            .iter()
            .flat_map(|ch| ch[64 + 128 * k..192 + 128 * k].iter().copied())
            .collect();
        let mut hint = HintFrame::new(&config());
        large.process(&input, &mut hint).unwrap();
        let mut out = vec![0f32; 512];
        small.process(&input, previous.as_ref(), &mut out).unwrap();
        hints.extend_from_slice(&hint.data);
        outs.push(Tensor::from_vec(out, (1, 2, 2, 128), &Device::Cpu).unwrap());
        previous = Some(hint);
    }
    let why = || {
        first_divergence(&golden, &ours).or_else(|| {
            Some("none in the candle model, which matches: the engine itself diverges".into())
        })
    };
    let hints = Tensor::from_vec(hints, (1, 125, 97, 4), &Device::Cpu)
        .unwrap()
        .permute((0, 3, 2, 1))
        .unwrap();
    check(
        "engine compressed_embed",
        &hints,
        &golden["io.compressed_embed"],
        EMBED_TOL,
        &why,
    );
    check(
        "engine small_out",
        &Tensor::cat(&outs, 3).unwrap(),
        &golden["io.stream_small_out"],
        WAVE_TOL,
        &why,
    );
}

#[test]
fn a_wrong_weight_is_traced_to_its_layer() {
    let (golden, mut ours) = load();
    assert_eq!(first_divergence(&golden, &ours), None);
    let w = &ours["small.merges.0.film.scale.weight"];
    ours.insert(
        "small.merges.0.film.scale.weight".into(),
        (w * 1.5).unwrap(),
    );
    let found = first_divergence(&golden, &ours).expect("a changed weight must show");
    assert!(found.starts_with("dbg.small.film0 "), "{found}");
}

#[test]
fn import_infers_the_config_and_writes_a_loadable_weight_file() {
    use kb_models::reference::{import, read_checkpoint, ImportOptions};
    let path = reference_dir().join("kb_ss_tiny.safetensors");
    let src = read_checkpoint(&path).unwrap();
    let (cfg, tensors) = import(&src, &ImportOptions::default()).unwrap();
    assert_eq!(cfg, WeightsConfig::Joint(config()));
    let out = std::env::temp_dir().join(format!("kb-import-{}.safetensors", std::process::id()));
    kb_models::weights::save(&out, &cfg, &tensors).unwrap();
    let loaded = Weights::load(&out).unwrap();
    let kb_models::weights::Model::Joint(model) = loaded.model(&Device::Cpu).unwrap() else {
        panic!("joint expected")
    };
    let got = model.forward(&src["io.mixture"]).unwrap().small.audio;
    assert!(max_abs_diff(&got, &src["io.small_out"]) <= WAVE_TOL);

    // The large model alone, under another prefix, imports as a single TF-GridNet.
    let single: HashMap<String, Tensor> = src
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("joint.big.")
                .map(|rest| (format!("model.{rest}"), v.clone()))
        })
        .collect();
    let (cfg, _) = import(&single, &ImportOptions::default()).unwrap();
    assert_eq!(cfg, WeightsConfig::Single(config().large));

    let junk = HashMap::from([(
        "encoder.weight".to_string(),
        Tensor::zeros(3, DType::F32, &Device::Cpu).unwrap(),
    )]);
    let e = import(&junk, &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("tfgridnet.conv.0.weight"), "{e}");
    let text = std::env::temp_dir().join(format!("kb-import-{}.txt", std::process::id()));
    std::fs::write(&text, "not a checkpoint").unwrap();
    let e = read_checkpoint(&text).unwrap_err().to_string();
    assert!(
        e.contains("neither safetensors nor a PyTorch checkpoint"),
        "{e}"
    );
}
