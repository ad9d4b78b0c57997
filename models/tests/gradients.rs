//! The small model's loss trains both models: gradients reach the large model through the hint.

mod common;

use candle_core::Device;
use kb_models::{metrics::pit_si_sdr_loss, JointConfig, JointModel, SeededParams};

#[test]
fn small_loss_reaches_every_parameter_of_both_models() {
    let cfg = JointConfig::tiny(2, 1, 2);
    let params = SeededParams::new(8);
    let model = JointModel::new(params.var_builder(&Device::Cpu), &cfg).unwrap();
    let x = common::test_signal(128 * 12, 6);
    let out = model.forward(&x).unwrap();
    let target = candle_core::Tensor::stack(
        &[
            &x.squeeze(0).unwrap(),
            &(&x.squeeze(0).unwrap() * 0.5).unwrap(),
        ],
        0,
    )
    .unwrap()
    .unsqueeze(0)
    .unwrap();
    let (loss, _) = pit_si_sdr_loss(&out.small.audio, &target).unwrap();
    let grads = loss.backward().unwrap();
    let data = params.vars();
    let mut without = Vec::new();
    for (name, var) in data.iter() {
        let g = grads
            .get(var.as_tensor())
            .map(common::max_abs)
            .unwrap_or(0.0);
        if g <= 0.0 {
            without.push(name.clone());
        }
    }
    without.sort();
    assert!(without.is_empty(), "no gradient reaches {without:?}");
    assert!(
        data.keys().any(|k| k.starts_with("large."))
            && data.keys().any(|k| k.starts_with("compress."))
    );
}
