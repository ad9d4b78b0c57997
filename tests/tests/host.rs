//! The bundled plugin through a real CLAP host (clack-host): finite output,
//! reported latency = measured impulse delay, and parity with the offline engines.

use std::{path::PathBuf, sync::OnceLock};

use kb_e2e::{
    binaural_mixture, bundle, max_diff_shifted, process, reference, signal_delay, weight_file,
    AuxBus, Run,
};
use kb_models::{weight_file::WeightFile, JointConfig};

fn weights() -> &'static (PathBuf, WeightFile) {
    static W: OnceLock<(PathBuf, WeightFile)> = OnceLock::new();
    W.get_or_init(|| {
        let path = weight_file("separate", JointConfig::paper(2, 1, 2), 5);
        // Read by the plugin on the main thread when an instance is created.
        std::env::set_var("KNOWLEDGE_BOOST_WEIGHTS_SEPARATE", &path);
        let w = WeightFile::load(&path).expect("weights load");
        (path, w)
    })
}

fn run(rate: f64, offline: bool, params: Vec<(&'static str, f64)>, seed: u64) -> Run {
    weights();
    Run {
        plugin: bundle(),
        rate,
        offline,
        params,
        max_block: 8192,
        seed,
        aux: AuxBus::Connected,
        mono: false,
        state: None,
    }
}

#[test]
fn impulse_delay_with_mix_at_zero_equals_reported_latency() {
    for rate in [44_100.0, 48_000.0] {
        let n = (rate * 1.0) as usize;
        let mut x = vec![0.0f32; n];
        let at = 12_345;
        x[at] = 1.0;
        let out = process(&run(rate, false, vec![("mix", 0.0)], 3), [&x, &x]).expect("host run");
        let peak = out.channels[0]
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .map(|(i, _)| i)
            .expect("output");
        println!(
            "{rate} Hz: reported latency {} samples, impulse at +{}",
            out.latency,
            peak - at
        );
        assert_eq!(peak - at, out.latency as usize, "at {rate} Hz");
        assert!((out.channels[0][peak] - 1.0).abs() < 1e-6);
        let rest: f32 = out.channels[0].iter().map(|v| v.abs()).sum::<f32>() - 1.0;
        assert!(rest.abs() < 1e-4, "dry path is a pure delay");
    }
}

#[test]
fn output_is_finite_and_matches_the_offline_engines() {
    let (_, w) = weights();
    for (rate, seed) in [(44_100.0, 1), (48_000.0, 2)] {
        let x = binaural_mixture(rate, 20.0, seed);
        let out = process(&run(rate, true, Vec::new(), seed), [&x[0], &x[1]]).expect("host run");
        assert!(out.channels.iter().flatten().all(|v| v.is_finite()));
        let energy: f64 = out.channels[0].iter().map(|v| f64::from(*v).powi(2)).sum();
        assert!(energy > 0.0, "the model produced silence");
        let reference = reference(w, rate, [&x[0], &x[1]], true);
        let shift = out.latency as usize - signal_delay(rate);
        let mut worst = 0.0f32;
        for (ch, r) in reference.iter().enumerate() {
            let d = max_diff_shifted(&out.channels[ch], r, shift);
            worst = worst.max(d);
        }
        println!(
            "{rate} Hz: latency {} samples, {} blocks, max |plugin - offline| = {worst:.2e}",
            out.latency, out.blocks
        );
        assert!(worst < 1e-3, "{rate} Hz: max difference {worst}");
    }
}

/// A host that leaves the auxiliary output out (pedalboard disables it; some
/// DAWs leave it unconnected) still gets talker 1 on the main bus: the same
/// samples as with the bus connected, not the input passed through.
#[test]
fn a_host_without_the_auxiliary_bus_still_gets_processed_audio() {
    let rate = 48_000.0;
    let x = binaural_mixture(rate, 4.0, 7);
    let full = process(&run(rate, true, Vec::new(), 4), [&x[0], &x[1]]).expect("host run");
    for aux in [AuxBus::NoChannels, AuxBus::Absent] {
        let out = process(
            &Run {
                aux,
                ..run(rate, true, Vec::new(), 4)
            },
            [&x[0], &x[1]],
        )
        .expect("host run");
        let shift = out.latency as usize;
        let from_input = (0..2)
            .map(|ch| max_diff_shifted(&out.channels[ch], &x[ch], shift))
            .fold(0f32, f32::max);
        let from_full = (0..2)
            .map(|ch| max_diff_shifted(&out.channels[ch], &full.channels[ch], 0))
            .fold(0f32, f32::max);
        println!(
            "{aux:?}: max |main - input| {from_input:.3e}, max |main - main with the bus| {from_full:.3e}"
        );
        assert!(
            from_input > 1e-2,
            "{aux:?}: the input came back unprocessed"
        );
        assert_eq!(
            from_full, 0.0,
            "{aux:?}: talker 1 differs from the run with the bus"
        );
    }
}

/// A mono track through the mono port configuration: the one input channel
/// feeds both ears, so each bus gives the mean of the two ears the binaural
/// configuration gives for the same channel on both inputs, and the latency is
/// the same.
#[test]
fn a_mono_track_gives_the_mean_of_both_ears_of_a_diotic_binaural_run() {
    let rate = 48_000.0;
    let x = binaural_mixture(rate, 4.0, 9);
    let stereo = process(&run(rate, true, Vec::new(), 5), [&x[0], &x[0]]).expect("binaural run");
    let mono = process(
        &Run {
            mono: true,
            ..run(rate, true, Vec::new(), 5)
        },
        [&x[0], &x[0]],
    )
    .expect("mono run");
    assert_eq!(mono.latency, stereo.latency);
    for bus in 0..2 {
        let mean: Vec<f32> = stereo.channels[2 * bus]
            .iter()
            .zip(&stereo.channels[2 * bus + 1])
            .map(|(l, r)| 0.5 * (l + r))
            .collect();
        let energy: f32 = mean.iter().map(|v| v * v).sum();
        assert!(energy > 1e-3, "bus {bus} is silent");
        let d = max_diff_shifted(&mono.channels[2 * bus], &mean, 0);
        println!("bus {bus}: max |mono - mean of the ears| = {d:.2e}");
        assert!(d < 1e-6, "bus {bus}: {d}");
    }
}

#[test]
fn state_saves_and_restores_through_the_host() {
    let (path, _) = weights();
    // Stepped parameters (mode, boost) take their index, continuous ones a 0..1 value.
    let params = [("mode", 1.0), ("boost", 0.0), ("mix", 0.25), ("gain", 0.75)];
    let rt = kb_e2e::state_roundtrip(&bundle(), &params).expect("state round trip");
    let (saved, values, again) = (rt.saved, rt.values, rt.resaved);
    for ((id, want), got) in params.iter().zip(&values) {
        assert!(
            (want - got).abs() < 1e-6,
            "{id}: saved {want}, restored {got}"
        );
    }
    let text = String::from_utf8_lossy(&again);
    let file = path.display().to_string();
    assert!(
        text.contains(&file),
        "the user weight file is not in the restored state"
    );
    assert_eq!(saved, again, "a restored instance saves the same state");
}
