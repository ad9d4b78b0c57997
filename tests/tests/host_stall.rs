//! With the large model's thread stalled (the switch only `test_hooks` builds
//! read, so the allocation-checked library), audio keeps flowing in real-time
//! mode and equals the small model run without hints.

use kb_e2e::{
    alloc_checked_library, binaural_mixture, max_diff_shifted, process, reference, signal_delay,
    weight_file, Run,
};
use kb_models::{weight_file::WeightFile, JointConfig};

#[test]
fn stalled_background_gives_the_small_only_output() {
    let path = weight_file("stall", JointConfig::paper(2, 1, 2), 9);
    std::env::set_var("KNOWLEDGE_BOOST_WEIGHTS_SEPARATE", &path);
    std::env::set_var(knowledge_boost::STALL_ENV, "1");
    let w = WeightFile::load(&path).expect("weights");
    let rate = 48_000.0;
    let x = binaural_mixture(rate, 20.0, 4);
    let run = Run {
        plugin: alloc_checked_library(),
        rate,
        offline: false,
        params: Vec::new(),
        max_block: 8192,
        seed: 8,
        aux: Default::default(),
        mono: false,
        state: None,
    };
    let out = process(&run, [&x[0], &x[1]]).expect("host run");
    assert!(out.channels.iter().flatten().all(|v| v.is_finite()));
    let small_only = reference(&w, rate, [&x[0], &x[1]], false);
    let shift = out.latency as usize - signal_delay(rate);
    let worst = small_only
        .iter()
        .enumerate()
        .map(|(ch, r)| max_diff_shifted(&out.channels[ch], r, shift))
        .fold(0.0, f32::max);
    println!(
        "stalled: max |plugin - small only| = {worst:.2e} over {} blocks",
        out.blocks
    );
    assert!(worst < 1e-3, "max difference {worst}");
    let boosted = reference(&w, rate, [&x[0], &x[1]], true);
    let apart = max_diff_shifted(&out.channels[0], &boosted[0], shift);
    assert!(
        apart > 1e-3,
        "hints must matter for this check to mean anything"
    );
}
