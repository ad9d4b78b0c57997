//! The shared signal path (`knowledge_boost::path::AudioPath`) without a host, at
//! every supported rate: parity with the offline engines, latency, pass-through.

use std::sync::Arc;

use kb_e2e::{
    binaural_mixture, max_diff_shifted, path_config, reference, separate_request, signal_delay,
    single_weight_file, weight_file,
};
use kb_models::{weight_file::WeightFile, JointConfig, ModelConfig};
use knowledge_boost::{
    models::Mode,
    path::{AudioPath, Controls},
    rate::SUPPORTED_RATES,
    telemetry::Telemetry,
};
use rand::{rngs::StdRng, Rng, SeedableRng};

fn stream(path: &mut AudioPath, x: &[Vec<f32>; 2], c: &Controls, seed: u64) -> [Vec<f32>; 4] {
    let mut rng = StdRng::seed_from_u64(seed);
    play(path, x, |pos, n| {
        (rng.random_range(1..=2048).min(n - pos), *c)
    })
}

/// Plays `x` through `path` in blocks: `next(pos, n)` gives the length and
/// the controls of the block that starts at `pos` of `n` samples.
fn play(
    path: &mut AudioPath,
    x: &[Vec<f32>; 2],
    mut next: impl FnMut(usize, usize) -> (usize, Controls),
) -> [Vec<f32>; 4] {
    let n = x[0].len();
    let mut out: [Vec<f32>; 4] = std::array::from_fn(|_| vec![0.0; n]);
    let mut pos = 0;
    while pos < n {
        let (len, c) = next(pos, n);
        let r = pos..pos + len;
        let [a, b, cc, d] = &mut out;
        path.process(
            [&x[0][r.clone()], &x[1][r.clone()]],
            [
                &mut a[r.clone()],
                &mut b[r.clone()],
                &mut cc[r.clone()],
                &mut d[r],
            ],
            &c,
        );
        pos += len;
    }
    out
}

#[test]
fn path_matches_the_offline_engines_at_every_rate() {
    let file = weight_file("path", JointConfig::tiny(2, 2, 2), 21);
    let w = WeightFile::load(&file).expect("weights");
    for (i, rate) in SUPPORTED_RATES.into_iter().enumerate() {
        let rate = f64::from(rate);
        let cfg = path_config(rate, true);
        let telemetry = Arc::new(Telemetry::default());
        let mut path =
            AudioPath::new(&cfg, separate_request(Some(&file)), telemetry.clone()).expect("path");
        assert!(path.has_model(), "{}", telemetry.message());
        let x = binaural_mixture(rate, 2.0, i as u64);
        let out = stream(&mut path, &x, &Controls::default(), i as u64);
        let r = reference(&w, rate, [&x[0], &x[1]], true);
        let shift = path.latency() - signal_delay(rate);
        let energy: f64 = r[0].iter().map(|v| f64::from(*v).powi(2)).sum();
        assert!(energy > 1e-3, "the reference is silent");
        let worst = (0..4)
            .map(|ch| max_diff_shifted(&out[ch], &r[ch], shift))
            .fold(0.0, f32::max);
        println!(
            "{rate} Hz: latency {} samples ({:.2} ms), hints on time {:.1} %, max diff {worst:.2e}",
            path.latency(),
            path.latency() as f64 / rate * 1e3,
            telemetry.hints_on_time_percent()
        );
        assert!(worst < 1e-3, "{rate} Hz: {worst}");
        assert_eq!(telemetry.hints_on_time_percent(), 100.0);
    }
}

/// A single model (no pair) runs alone on the audio thread: its output is its
/// engine's, with no hint asked for or missed.
#[test]
fn a_single_model_runs_alone_and_matches_its_engine() {
    let file = single_weight_file("single", ModelConfig::tiny_attention(2), 8);
    let w = WeightFile::load(&file).expect("weights");
    let rate = 44_100.0;
    let telemetry = Arc::new(Telemetry::default());
    let mut path = AudioPath::new(
        &path_config(rate, true),
        separate_request(Some(&file)),
        telemetry.clone(),
    )
    .expect("path");
    assert!(path.has_model(), "{}", telemetry.message());
    assert!(telemetry.message().is_empty(), "{}", telemetry.message());
    let x = binaural_mixture(rate, 1.0, 4);
    let out = stream(&mut path, &x, &Controls::default(), 4);
    let r = reference(&w, rate, [&x[0], &x[1]], true);
    let energy: f64 = r[0].iter().map(|v| f64::from(*v).powi(2)).sum();
    assert!(energy > 1e-3, "the reference is silent");
    let shift = path.latency() - signal_delay(rate);
    let worst = (0..4)
        .map(|ch| max_diff_shifted(&out[ch], &r[ch], shift))
        .fold(0.0, f32::max);
    assert!(worst < 1e-3, "max diff {worst}");
    let used = telemetry
        .hints_used
        .load(std::sync::atomic::Ordering::Relaxed);
    let missed = telemetry
        .hints_missed
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!((used, missed), (0, 0), "a single model takes no hints");
}

/// The rates clap-validator and Steinberg's validator try, and the range's
/// ends: the path activates, and its output still equals the offline engines
/// at the measured delay.
#[test]
fn odd_and_extreme_host_rates_match_the_offline_engines() {
    let file = weight_file("path-odd", JointConfig::tiny(2, 1, 2), 22);
    let w = WeightFile::load(&file).expect("weights");
    for (i, rate) in [
        1_000.0,
        1_234.567_8,
        12_345.678,
        45_678.901,
        123_456.78,
        768_000.0,
        1_234_567.8,
        2_000_000.0,
    ]
    .into_iter()
    .enumerate()
    {
        let cfg = path_config(rate, true);
        let telemetry = Arc::new(Telemetry::default());
        let mut path =
            AudioPath::new(&cfg, separate_request(Some(&file)), telemetry).expect("path");
        let x = binaural_mixture(rate, 1.0, 40 + i as u64);
        let out = stream(&mut path, &x, &Controls::default(), i as u64);
        assert!(out.iter().flatten().all(|v| v.is_finite()), "{rate} Hz");
        let r = reference(&w, rate, [&x[0], &x[1]], true);
        let shift = path.latency() - signal_delay(rate);
        let energy: f64 = r[0].iter().map(|v| f64::from(*v).powi(2)).sum();
        let worst = (0..4)
            .map(|ch| max_diff_shifted(&out[ch], &r[ch], shift))
            .fold(0.0, f32::max);
        println!(
            "{rate} Hz: latency {} samples ({:.2} ms), max diff {worst:.2e}",
            path.latency(),
            path.latency() as f64 / rate * 1e3
        );
        assert!(energy > 1e-6, "{rate} Hz: the reference is silent");
        assert!(worst < 1e-3, "{rate} Hz: {worst}");
    }
    for rate in [999.0, 2_000_001.0, 0.0, f64::NAN] {
        let cfg = path_config(rate, false);
        let telemetry = Arc::new(Telemetry::default());
        let err = AudioPath::new(&cfg, separate_request(Some(&file)), telemetry).err();
        assert!(err.is_some_and(|e| e.contains("sample rate")), "{rate} Hz");
    }
}

/// Digital silence in gives digital silence out once the latency and the
/// gate's hold have passed, where the engines alone leave a noise floor;
/// and the first sound after it comes through unchanged.
#[test]
fn digital_silence_in_gives_digital_silence_out() {
    let file = weight_file("path-silence", JointConfig::tiny(2, 1, 2), 23);
    let w = WeightFile::load(&file).expect("weights");
    let rate = 48_000.0;
    let cfg = path_config(rate, true);
    let telemetry = Arc::new(Telemetry::default());
    let mut path = AudioPath::new(&cfg, separate_request(Some(&file)), telemetry).expect("path");
    let (first, then) = (
        binaural_mixture(rate, 0.5, 3),
        binaural_mixture(rate, 0.5, 4),
    );
    let (loud, quiet) = (first[0].len(), (rate * 1.5) as usize);
    let x = [0, 1].map(|ear| {
        let mut s = first[ear].clone();
        s.resize(loud + quiet, 0.0);
        s.extend_from_slice(&then[ear]);
        s
    });
    let out = stream(&mut path, &x, &Controls::default(), 5);
    let lat = path.latency();
    // The gate closes within the latency, a 50 ms hold and a 2 ms ramp after the sound ends.
    let closed = loud + lat + (0.06 * rate) as usize..loud + quiet;
    let peak =
        |ch: &[f32], r: std::ops::Range<usize>| ch[r].iter().fold(0f32, |m, v| m.max(v.abs()));
    let engines = reference(&w, rate, [&x[0], &x[1]], true);
    let shift = lat - signal_delay(rate);
    let floor = (0..4)
        .map(|ch| peak(&engines[ch], closed.start - shift..closed.end - shift))
        .fold(0f32, f32::max);
    let gated = (0..4)
        .map(|ch| peak(&out[ch], closed.clone()))
        .fold(0f32, f32::max);
    println!(
        "silence: engines alone peak {:.1} dBFS, the path {gated:e}",
        20.0 * floor.log10()
    );
    assert!(
        floor > 0.0,
        "the engines alone are silent: the check proves nothing"
    );
    assert_eq!(gated, 0.0, "digital silence in, not silence out");
    // The sound after the silence reaches the output as the engines give it.
    let back = loud + quiet + lat..(engines[0].len() + shift).min(x[0].len());
    let after = (0..4)
        .map(|ch| {
            back.clone()
                .map(|i| (out[ch][i] - engines[ch][i - shift]).abs())
                .fold(0f32, f32::max)
        })
        .fold(0f32, f32::max);
    println!("after the silence: max |path - engines| {after:.2e}");
    assert!(after < 1e-3, "{after}");
}

#[test]
fn without_a_model_the_wet_path_is_the_input_delayed_by_the_latency() {
    if Mode::Separate.default_weights().is_some() {
        // A build with a default model runs it; parity is checked by the test above.
        return;
    }
    for rate in SUPPORTED_RATES.map(f64::from) {
        let cfg = path_config(rate, false);
        let telemetry = Arc::new(Telemetry::default());
        let mut path =
            AudioPath::new(&cfg, separate_request(None), telemetry.clone()).expect("path");
        assert!(!path.has_model());
        assert!(telemetry
            .no_model
            .load(std::sync::atomic::Ordering::Relaxed));
        let n = (rate * 0.5) as usize;
        // A band-limited click train (below 6 kHz) that the resamplers pass unchanged.
        let x: Vec<f32> = (0..n)
            .map(|i| {
                let t = i as f64 / rate;
                (1..=20)
                    .map(|h| (2.0 * std::f64::consts::PI * 290.0 * h as f64 * t).cos() as f32)
                    .sum::<f32>()
                    / 20.0
            })
            .collect();
        let out = stream(&mut path, &[x.clone(), x.clone()], &Controls::default(), 1);
        let lat = path.latency();
        // Squared error of out[i + shift] against x[i], past the resamplers' start-up.
        let mse = |shift: usize| -> f64 {
            (n / 5..n - lat - 16)
                .map(|i| f64::from(out[0][i + shift] - x[i]).powi(2))
                .sum::<f64>()
                / (n as f64)
        };
        let best = (lat - 8..=lat + 8)
            .min_by(|a, b| mse(*a).total_cmp(&mse(*b)))
            .expect("range");
        println!(
            "{rate} Hz: latency {lat}, best alignment {best}, mse there {:.2e}",
            mse(best)
        );
        // Within 11 µs: exact at 44.1 to 96 kHz, two samples at 192 kHz.
        let off = (best as f64 - lat as f64).abs() / rate;
        assert!(
            off <= 1.1e-5,
            "{rate} Hz: best alignment {best}, latency {lat}"
        );
        assert!(
            out[2].iter().all(|v| *v == 0.0),
            "no second talker without a model"
        );
    }
}

#[test]
fn a_bad_weight_file_is_refused_with_a_message() {
    let dir = kb_e2e::workspace_root().join("target/kb-e2e");
    std::fs::create_dir_all(&dir).expect("dir");
    let bad = dir.join("bad.safetensors");
    std::fs::write(&bad, b"not a weight file").expect("write");
    let wrong = weight_file("enhance-for-separate", JointConfig::tiny(1, 1, 2), 1);
    for file in [bad, wrong] {
        let cfg = path_config(48_000.0, false);
        let telemetry = Arc::new(Telemetry::default());
        let mut path =
            AudioPath::new(&cfg, separate_request(Some(&file)), telemetry.clone()).expect("path");
        let msg = telemetry.message();
        println!("{msg}");
        assert!(msg.contains("refused"), "{msg}");
        assert_eq!(path.has_model(), Mode::Separate.default_weights().is_some());
        let x = binaural_mixture(48_000.0, 0.2, 1);
        let out = stream(&mut path, &x, &Controls::default(), 2);
        assert!(out.iter().flatten().all(|v| v.is_finite()));
    }
}

#[test]
fn a_mode_switch_swaps_the_model_in_off_the_audio_thread() {
    let sep = weight_file("switch-sep", JointConfig::tiny(2, 1, 2), 2);
    let enh = weight_file("switch-enh", JointConfig::tiny(1, 1, 2), 3);
    let req = separate_request(Some(&sep));
    req.overrides
        .write()
        .set(Mode::Enhance, Some(enh.display().to_string()));
    let cfg = path_config(48_000.0, false);
    let telemetry = Arc::new(Telemetry::default());
    let mut path = AudioPath::new(&cfg, req, telemetry).expect("path");
    assert_eq!(path.active_mode(), Mode::Separate);
    let x = binaural_mixture(48_000.0, 0.05, 1);
    let c = Controls {
        mode: Mode::Enhance,
        ..Controls::default()
    };
    let started = std::time::Instant::now();
    while path.active_mode() != Mode::Enhance {
        assert!(
            started.elapsed().as_secs() < 20,
            "the switch never happened"
        );
        stream(&mut path, &x, &c, 3);
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // Audio already in the pipeline when the swap landed (the latency, plus the
    // resampler's filter tail as long again) is the separation model's.
    let x = binaural_mixture(48_000.0, 0.1, 1);
    let settled = 2 * path.latency();
    assert!(settled < x[0].len() / 2, "latency {}", path.latency());
    let out = stream(&mut path, &x, &c, 4);
    assert!(
        out[2][settled..].iter().all(|v| *v == 0.0),
        "enhance has one output"
    );
    assert!(out[0].iter().any(|v| *v != 0.0));
}

#[test]
fn in_real_time_hints_arrive_and_every_chunk_is_counted() {
    let file = weight_file("realtime", JointConfig::paper(2, 2, 2), 4);
    let rate = 48_000.0;
    let cfg = path_config(rate, false);
    let telemetry = Arc::new(Telemetry::default());
    let mut path =
        AudioPath::new(&cfg, separate_request(Some(&file)), telemetry.clone()).expect("path");
    let x = binaural_mixture(rate, 3.0, 5);
    let block = 480;
    let mut out: [Vec<f32>; 4] = std::array::from_fn(|_| vec![0.0; block]);
    let started = std::time::Instant::now();
    for (k, pos) in (0..x[0].len() - block).step_by(block).enumerate() {
        // Paced like a sound card: block k is due at k * 10 ms.
        let due = std::time::Duration::from_secs_f64(k as f64 * block as f64 / rate);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
        let [a, b, c, d] = &mut out;
        path.process(
            [&x[0][pos..pos + block], &x[1][pos..pos + block]],
            [a, b, c, d],
            &Controls::default(),
        );
    }
    use std::sync::atomic::Ordering::Relaxed;
    let chunks = telemetry.chunks.load(Relaxed);
    let used = telemetry.hints_used.load(Relaxed);
    let missed = telemetry.hints_missed.load(Relaxed);
    println!(
        "real time, C = 2: {chunks} chunks, hints on time {:.1} % ({used} used, {missed} missed), \
         latest hint age {:.1} ms, small engine {:.0} us per chunk (worst {:.0} us, budget 8000), large RTF {:.3}",
        telemetry.hints_on_time_percent(),
        telemetry.hint_age_ms(),
        f64::from(telemetry.small_ns.load(Relaxed)) / 1e3,
        f64::from(telemetry.small_ns_max.load(Relaxed)) / 1e3,
        telemetry.large_rtf()
    );
    assert_eq!(
        used + missed,
        chunks - 2,
        "every chunk after the first C wants a hint"
    );
    assert!(used > 0, "no hint arrived in time");
}

/// Largest sample-to-sample step of `x` from `from` on.
fn largest_step(x: &[f32], from: usize) -> f32 {
    x[from..]
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max)
}

#[test]
fn reduction_zero_returns_the_latency_aligned_input_and_a_change_ramps_without_a_click() {
    let file = weight_file("reduction", JointConfig::tiny(2, 1, 2), 23);
    let rate = 48_000.0;
    let x = binaural_mixture(rate, 1.0, 5);
    let run = |c: &[Controls]| {
        let mut path = AudioPath::new(
            &path_config(rate, true),
            separate_request(Some(&file)),
            Arc::new(Telemetry::default()),
        )
        .expect("path");
        assert!(path.has_model());
        // Each control set plays one equal part of the input, in blocks of 480.
        play(&mut path, &x, |pos, n| {
            let part = (pos * c.len() / n).min(c.len() - 1);
            (480.min(n - pos), c[part])
        })
    };
    let at = |reduction_db| Controls {
        reduction_db,
        ..Controls::default()
    };
    let bypass = run(&[Controls {
        bypass: true,
        ..Controls::default()
    }]);
    let open = run(&[at(0.0)]);
    let energy: f32 = bypass[0].iter().map(|v| v * v).sum();
    assert!(energy > 1.0, "the aligned input is silent");
    for bus in 0..2 {
        for ear in 0..2 {
            let diff = open[2 * bus + ear]
                .iter()
                .zip(&bypass[ear])
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(diff < 1e-5, "bus {bus}, ear {ear}: {diff}");
        }
    }
    // Full model, gentle clean-up and the switch from one to the other half-way.
    let full = run(&[at(60.0)]);
    let gentle = run(&[at(12.0)]);
    let switched = run(&[at(60.0), at(12.0)]);
    let settle = 4_800;
    for ch in 0..4 {
        let bound = largest_step(&full[ch], settle)
            .max(largest_step(&gentle[ch], settle))
            .max(largest_step(&bypass[ch % 2], settle));
        let step = largest_step(&switched[ch], settle);
        assert!(
            step <= 1.05 * bound,
            "channel {ch}: a step of {step} against {bound}"
        );
        assert_ne!(full[ch], gentle[ch], "reduction reaches channel {ch}");
    }
}
