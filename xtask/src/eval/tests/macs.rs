//! The analytic MAC counts against a count read off the weight tensors' shapes.

use kb_models::{weights::Weights, JointConfig, ModelConfig, WeightsConfig};

use super::super::macs::{compression_macs_per_chunk, merge_macs_per_chunk, model_macs_per_chunk};

/// MACs of one frame from the tensors under `prefix`: every matrix weight
/// (LSTM, linear, attention maps, FiLM) is applied once per bin; a 3x3 conv
/// weight [o, i, 3, 3] costs o x i per (time tap, bin pair), with 3 time taps
/// and 3F - 2 bin pairs; each attention adds `window` x F x (q rows + d) for
/// its dot products and value sums; FiLM adds its F x D scaling product.
fn count_from_shapes(
    w: &Weights,
    prefix: &str,
    freqs: usize,
    window: impl Fn(&str) -> usize,
) -> u64 {
    let mut total = 0;
    for (name, t) in &w.tensors {
        if !name.starts_with(prefix) || name.contains("norm") {
            continue;
        }
        let dims = t.dims();
        let is_weight = name.ends_with(".weight") || name.contains(".weight_");
        match dims.len() {
            2 if is_weight => {
                total += freqs * t.elem_count();
                if name.ends_with(".q.weight") {
                    total += window(name) * freqs * (dims[0] + dims[1]);
                }
                if name.ends_with("film.scale.weight") {
                    total += freqs * dims[0];
                }
            }
            4 => total += dims[0] * dims[1] * 3 * (3 * freqs - 2),
            _ => {}
        }
    }
    total as u64
}

#[test]
fn single_model_macs_match_the_weight_shapes() {
    for cfg in [ModelConfig::tiny(2), ModelConfig::tiny_attention(1)] {
        let w = Weights::random(WeightsConfig::Single(cfg.clone()), 3).unwrap();
        let window = cfg.attention.map_or(0, |a| a.window);
        let want = count_from_shapes(&w, "", cfg.freqs(), |_| window);
        assert_eq!(model_macs_per_chunk(&cfg), want, "{cfg:?}");
    }
}

#[test]
fn joint_model_macs_match_the_weight_shapes() {
    let cfg = JointConfig::tiny(2, 1, 2);
    let w = Weights::random(WeightsConfig::Joint(cfg.clone()), 5).unwrap();
    let f = cfg.small.freqs();
    let context = cfg.context;
    let small = count_from_shapes(&w, "small.", f, |_| context);
    assert_eq!(
        model_macs_per_chunk(&cfg.small) + merge_macs_per_chunk(&cfg),
        small
    );
    let window = cfg.large.attention.unwrap().window;
    let large = count_from_shapes(&w, "large.", f, |_| window)
        + count_from_shapes(&w, "compress.", f, |_| 0);
    assert_eq!(
        model_macs_per_chunk(&cfg.large) + compression_macs_per_chunk(&cfg),
        large
    );
}
