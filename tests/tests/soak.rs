//! Soak: many minutes of audio through the plugin's signal path with the
//! shipped separation pair, offline (every hint waited for), in host blocks of
//! random size. Resident memory, the reported latency and the hint on-time
//! rate stay constant, and the output stays finite and audible.
//!
//! CI runs 3 minutes; `KB_SOAK_MINUTES=60 cargo test -p kb-e2e
//! --test soak -- --nocapture` runs the hour and prints the curve.

use std::sync::{atomic::Ordering::Relaxed, Arc};

use kb_e2e::{binaural_mixture, path_config, separate_request, workspace_root};
use knowledge_boost::{
    path::{AudioPath, Controls},
    telemetry::Telemetry,
};
use rand::{rngs::StdRng, Rng, SeedableRng};

/// Host rate of the soak.
const RATE: f64 = 48_000.0;
/// Seconds of audio between two looks at memory, latency and hints.
const LOOK_EVERY_S: usize = 30;
/// Growth of resident memory allowed after the first look (allocator noise).
const RSS_SLACK_BYTES: u64 = 4 << 20;

/// Resident memory of this process in bytes, from `/proc/self/statm`.
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("resident pages");
    pages * 4096
}

#[test]
fn minutes_of_audio_keep_memory_latency_and_hints_constant() {
    let minutes: usize = std::env::var("KB_SOAK_MINUTES")
        .ok()
        .map(|v| v.parse().expect("KB_SOAK_MINUTES is a whole number"))
        .unwrap_or(3);
    let weights = workspace_root().join("assets/separate.safetensors");
    let request = separate_request(Some(&weights));
    let telemetry = Arc::new(Telemetry::default());
    let mut path =
        AudioPath::new(&path_config(RATE, true), request, telemetry.clone()).expect("path");
    assert!(path.has_model(), "{}", telemetry.message());

    // A 30 s two-talker scene, looped: the path never sees the loop point as special.
    let x = binaural_mixture(RATE, LOOK_EVERY_S as f64, 3);
    let n = x[0].len();
    let mut out: [Vec<f32>; 4] = std::array::from_fn(|_| vec![0.0; 8192]);
    let mut rng = StdRng::seed_from_u64(11);
    let controls = Controls::default();
    let latency = path.latency();
    let mut first_rss = None;
    let mut worst_growth = 0u64;
    println!("minute  resident MB  latency  hints on time  main RMS");
    for look in 1..=minutes * 60 / LOOK_EVERY_S {
        let (used0, missed0) = (
            telemetry.hints_used.load(Relaxed),
            telemetry.hints_missed.load(Relaxed),
        );
        let mut energy = 0.0f64;
        let mut pos = 0;
        while pos < n {
            let len = rng.random_range(1..=8192).min(n - pos);
            let r = pos..pos + len;
            let [a, b, c, d] = &mut out;
            path.process(
                [&x[0][r.clone()], &x[1][r]],
                [&mut a[..len], &mut b[..len], &mut c[..len], &mut d[..len]],
                &controls,
            );
            for ch in &out {
                assert!(ch[..len].iter().all(|v| v.is_finite()), "non-finite output");
            }
            energy += out[0][..len]
                .iter()
                .map(|v| f64::from(*v).powi(2))
                .sum::<f64>();
            pos += len;
        }
        let used = telemetry.hints_used.load(Relaxed) - used0;
        let missed = telemetry.hints_missed.load(Relaxed) - missed0;
        let rss = resident_bytes();
        let rms_db = 10.0 * (energy / n as f64).log10();
        println!(
            "{:6.1}  {:11.1}  {:7}  {:8.1} % ({used} of {})  {rms_db:6.1} dBFS",
            (look * LOOK_EVERY_S) as f64 / 60.0,
            rss as f64 / 1e6,
            path.latency(),
            100.0 * used as f64 / (used + missed).max(1) as f64,
            used + missed
        );
        assert_eq!(path.latency(), latency, "latency changed at look {look}");
        assert_eq!(missed, 0, "hints missed offline at look {look}");
        assert!(used > 0, "no hint merged at look {look}");
        assert!(rms_db > -60.0, "the output went quiet at look {look}");
        match first_rss {
            None => first_rss = Some(rss),
            Some(first) => worst_growth = worst_growth.max(rss.saturating_sub(first)),
        }
    }
    println!(
        "{minutes} min: resident memory grew {:.2} MB after the first look",
        worst_growth as f64 / 1e6
    );
    assert!(
        worst_growth <= RSS_SLACK_BYTES,
        "resident memory grew {worst_growth} bytes"
    );
    assert_eq!(telemetry.bad_input.load(Relaxed), 0);
    assert_eq!(telemetry.engine_resets.load(Relaxed), 0);
}
