//! Presets, JSON round trip and parameter counts against the paper's model sizes.

use kb_models::{schema::tensor_shapes, JointConfig, ModelConfig, WeightsConfig};

fn params(cfg: ModelConfig) -> usize {
    tensor_shapes(&WeightsConfig::Single(cfg))
        .unwrap()
        .values()
        .map(|s| s.iter().product::<usize>())
        .sum()
}

/// Parameter count of a TF-GridNet by the architecture's formula (biases included).
fn by_formula(cfg: &ModelConfig) -> usize {
    let (d, h, f) = (cfg.d, cfg.hidden, cfg.freqs());
    let lstm = |input: usize| 4 * h * (input + h) + 8 * h;
    let conv_in = cfg.in_channels() * d * 9 + d + 2 * d;
    let mut block = 2 * d + 2 * lstm(d) + (2 * h * d + d) + 2 * d + lstm(d) + (h * d + d);
    if let Some(a) = cfg.attention {
        let e = 512usize.div_ceil(f);
        let head = |c: usize| d * c + c + 1 + 2 * c * f;
        block += a.heads * (2 * head(e) + head(d / a.heads)) + (d * d + d + 1 + 2 * d * f);
    }
    let deconv = d * cfg.out_channels() * 9 + cfg.out_channels();
    conv_in + cfg.blocks * block + deconv
}

#[test]
fn parameter_counts_match_the_paper() {
    for (name, cfg, paper) in [
        ("small", ModelConfig::small(2), 25_000.0),
        ("medium", ModelConfig::medium(2), 37_000.0),
        ("large", ModelConfig::large(2), 500_000.0),
    ] {
        let n = params(cfg.clone());
        println!("{name}: {n} parameters (paper: about {paper})");
        assert_eq!(
            n,
            by_formula(&cfg),
            "{name}: count differs from the architecture's formula"
        );
        assert!(
            (n as f64 / paper - 1.0).abs() < 0.05,
            "{name}: {n} is not within 5% of {paper}"
        );
    }
}

#[test]
fn configs_round_trip_through_json() {
    for cfg in [
        WeightsConfig::Single(ModelConfig::large(1)),
        WeightsConfig::Joint(JointConfig::paper(2, 3, 4)),
    ] {
        let json = cfg.to_json();
        assert_eq!(WeightsConfig::from_json(&json).unwrap(), cfg);
    }
    assert!(WeightsConfig::from_json("{\"kind\":\"single\"}").is_err());
}

#[test]
fn presets_have_the_papers_shapes() {
    let s = ModelConfig::small(2);
    assert_eq!((s.d, s.hidden, s.blocks, s.attention), (16, 16, 3, None));
    let m = ModelConfig::medium(2);
    assert_eq!((m.d, m.hidden), (26, 18));
    let l = ModelConfig::large(2);
    assert_eq!(
        (l.d, l.hidden, l.attention.map(|a| (a.heads, a.window))),
        (64, 64, Some((8, 50)))
    );
    assert_eq!((s.n_fft(), s.freqs(), s.latency_samples()), (192, 97, 192));
    let j = JointConfig::paper(2, 1, 2);
    assert_eq!((j.hint_channels(), j.context), (4, 50));
    assert!(
        JointConfig::paper(2, 1, 3).validate().is_err(),
        "compression must divide the hint channels"
    );
}
