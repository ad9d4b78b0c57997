//! Causal level normalisation: the tracker settles at the level a plain RMS
//! computation gives, and a model that normalises its input level answers a
//! louder input with an equally louder output.

mod common;

use candle_core::{Device, Tensor};
use kb_models::{
    level::{mean_square, LevelConfig, LevelTracker},
    ModelConfig, SeededParams, TfGridNet, SAMPLE_RATE,
};

fn sine(amplitude: f32, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| amplitude * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 16_000.0).sin())
        .collect()
}

fn db(x: f64) -> f64 {
    20.0 * x.log10()
}

#[test]
fn a_steady_input_is_brought_to_the_reference_level() {
    let cfg = LevelConfig::speech();
    for dbfs in [-45.0f64, -30.0, -10.0] {
        // A sine of RMS `dbfs`: amplitude sqrt(2) * 10^(dbfs / 20).
        let amplitude = (2f64.sqrt() * 10f64.powf(dbfs / 20.0)) as f32;
        let x = sine(amplitude, 192);
        let mut tracker = LevelTracker::new(&cfg, 128, SAMPLE_RATE);
        let mut gain = 0.0;
        for _ in 0..1000 {
            gain = tracker.update(mean_square([x.as_slice(), x.as_slice()]));
        }
        let normalised = dbfs - db(gain as f64);
        assert!(
            (normalised - cfg.reference_dbfs as f64).abs() < 0.2,
            "a sine at {dbfs} dBFS comes out at {normalised:.2} dBFS"
        );
    }
}

#[test]
fn silence_is_raised_by_at_most_the_floor_and_a_bad_frame_is_skipped() {
    let cfg = LevelConfig::speech();
    let mut tracker = LevelTracker::new(&cfg, 128, SAMPLE_RATE);
    let most = 10f64.powf((cfg.reference_dbfs - cfg.floor_dbfs) as f64 / 20.0);
    for _ in 0..100 {
        let g = tracker.update(0.0) as f64;
        assert!((1.0 / g - most).abs() < 1e-3 * most, "gain {g}");
    }
    let loud = sine(0.3, 192);
    let before = tracker.update(mean_square([loud.as_slice()]));
    let after_nan = tracker.update(f64::NAN);
    assert_eq!(before, after_nan, "a NaN frame must leave the level alone");
    assert!(tracker.update(mean_square([loud.as_slice()])).is_finite());
}

#[test]
fn the_attack_follows_an_onset_within_its_time_constant() {
    let cfg = LevelConfig::speech();
    let mut tracker = LevelTracker::new(&cfg, 128, SAMPLE_RATE);
    let x = sine(0.1, 192);
    let ms = mean_square([x.as_slice()]);
    // Five time constants of 50 ms: within 1 - e^-5 of the level.
    let frames = (5.0 * 0.05 * SAMPLE_RATE as f64 / 128.0).ceil() as usize;
    let mut gain = 0.0;
    for _ in 0..frames {
        gain = tracker.update(ms);
    }
    let settled = (ms / 10f64.powf(cfg.reference_dbfs as f64 / 10.0)).sqrt();
    let short = db(settled / gain as f64);
    assert!(
        short.abs() < 0.1,
        "{short:.3} dB short after {frames} frames"
    );
}

fn output(model: &TfGridNet, x: &Tensor) -> Tensor {
    model.forward(x, None).unwrap().audio
}

/// Largest relative difference of y(a x) / a and y(x) after the first `skip` samples.
fn scale_error(model: &TfGridNet, x: &Tensor, a: f64, skip: usize) -> f32 {
    let n = x.dim(2).unwrap();
    let y = output(model, x).narrow(3, skip, n - skip).unwrap();
    let ya = (output(model, &(x * a).unwrap()) / a)
        .unwrap()
        .narrow(3, skip, n - skip)
        .unwrap();
    common::rel_err(&ya, &y)
}

#[test]
fn a_level_normalised_model_scales_its_output_with_its_input() {
    let n = 128 * 400;
    let x = common::test_signal(n, 4);
    let x = (x * 0.3).unwrap();
    let skip = 128 * 200;
    let with = ModelConfig::tiny(2).with_level(Some(LevelConfig::speech()));
    let without = ModelConfig::tiny(2);
    let params = SeededParams::new(5);
    let normalised = TfGridNet::new(params.var_builder(&Device::Cpu), &with).unwrap();
    let params = SeededParams::new(5);
    let plain = TfGridNet::new(params.var_builder(&Device::Cpu), &without).unwrap();
    for a in [4.0, 0.125] {
        let err = scale_error(&normalised, &x, a, skip);
        let plain_err = scale_error(&plain, &x, a, skip);
        println!("scale {a}: normalised {err:.2e}, without {plain_err:.2e}");
        assert!(err < 1e-3, "scaled by {a}: off by {err:.2e}");
        assert!(
            plain_err > 0.1,
            "without normalisation the model should not be level-independent ({plain_err:.2e})"
        );
    }
}
