//! The candle-free weight schema (`schema::tensor_shapes`) names exactly the
//! parameters, with exactly the shapes, that the candle model of each
//! configuration creates through its `VarBuilder`.

use std::collections::BTreeMap;

use candle_core::Device;
use kb_models::{
    level::LevelConfig, schema::tensor_shapes, weights::build, JointConfig, ModelConfig,
    SeededParams, WeightsConfig, SPEAKER_DIM,
};

fn candle_shapes(cfg: &WeightsConfig) -> BTreeMap<String, Vec<usize>> {
    let params = SeededParams::new(0);
    build(cfg, params.var_builder(&Device::Cpu)).expect("the config builds");
    let vars = params.vars();
    vars.iter()
        .map(|(k, v)| (k.clone(), v.dims().to_vec()))
        .collect()
}

#[test]
fn the_schema_is_the_candle_models_parameters() {
    let level = Some(LevelConfig::speech());
    let large_cpu_pair = |delay, compression| JointConfig {
        large: ModelConfig::large_cpu(2),
        ..JointConfig::paper(2, delay, compression)
    };
    let mut configs = vec![];
    for sources in [1, 2] {
        for m in [
            ModelConfig::tiny(sources),
            ModelConfig::tiny_attention(sources),
            ModelConfig::small(sources),
            ModelConfig::medium(sources),
            ModelConfig::large(sources),
            ModelConfig::large_cpu(sources).with_level(level),
            ModelConfig::small(sources).with_speaker(Some(SPEAKER_DIM)),
            ModelConfig::tiny_attention(sources).with_speaker(Some(7)),
        ] {
            configs.push(WeightsConfig::Single(m));
        }
    }
    for (delay, compression) in [(0, 1), (1, 2), (3, 4)] {
        configs.push(WeightsConfig::Joint(JointConfig::tiny(
            2,
            delay,
            compression,
        )));
        configs.push(WeightsConfig::Joint(JointConfig::paper(
            1,
            delay,
            compression,
        )));
        configs.push(WeightsConfig::Joint(large_cpu_pair(delay, compression)));
    }
    let mut extraction = JointConfig::tiny(1, 3, 2);
    extraction.small = extraction.small.with_speaker(Some(SPEAKER_DIM));
    extraction.large = extraction.large.with_speaker(Some(SPEAKER_DIM));
    configs.push(WeightsConfig::Joint(extraction));
    for cfg in &configs {
        let want = candle_shapes(cfg);
        let got = tensor_shapes(cfg).expect("a valid config");
        for (name, shape) in &want {
            assert_eq!(got.get(name), Some(shape), "{name} in {}", cfg.to_json());
        }
        for name in got.keys() {
            assert!(
                want.contains_key(name),
                "the model has no {name}: {}",
                cfg.to_json()
            );
        }
    }
    println!("{} configurations checked", configs.len());
}
