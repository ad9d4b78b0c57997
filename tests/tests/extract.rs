//! Extract mode through the shared signal path: pass-through without a voice,
//! parity with the speaker-conditioned engines, enrolling from a WAV and from
//! the input, and the model swapped in and out as the voice changes.

use std::{
    path::{Path, PathBuf},
    sync::{atomic::Ordering::Relaxed, Arc},
    time::{Duration, Instant},
};

use kb_e2e::{
    extract_weight_file, max_diff_shifted, path_config, reference_conditioned, request,
    signal_delay, workspace_root,
};
use kb_models::weight_file::WeightFile;
use knowledge_boost::{
    models::{Mode, NO_VOICE},
    path::{AudioPath, Controls},
    telemetry::Telemetry,
    voice::{Activity, Command, Enrollment, EMBEDDING},
};
use rand::{rngs::StdRng, Rng, SeedableRng};

/// A real voice, 4 s at 16 kHz mono (a Fish Fillets talker, the speaker encoder's golden input).
fn voice_clip() -> PathBuf {
    workspace_root().join("models/speaker/tests/golden/fillets.wav")
}

fn read_16k_mono(path: &Path) -> Vec<f32> {
    let r = hound::WavReader::open(path).expect("wav");
    assert_eq!((r.spec().sample_rate, r.spec().channels), (16_000, 1));
    r.into_samples::<i16>()
        .map(|s| f32::from(s.expect("sample")) / 32768.0)
        .collect()
}

/// A d-vector-like embedding: non-negative, unit length.
fn embedding(seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    let v: Vec<f32> = (0..EMBEDDING).map(|_| rng.random::<f32>()).collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.into_iter().map(|x| x / norm).collect()
}

fn enrolled(e: &[f32]) -> Enrollment {
    Enrollment {
        embedding: Some(e.to_vec()),
        source: "test".into(),
    }
}

fn extract() -> Controls {
    Controls {
        mode: Mode::Extract,
        ..Controls::default()
    }
}

/// Plays `x` through `path` in blocks of `block`.
fn play(path: &mut AudioPath, x: &[Vec<f32>; 2], block: usize) -> [Vec<f32>; 4] {
    let n = x[0].len();
    let mut out: [Vec<f32>; 4] = std::array::from_fn(|_| vec![0.0; n]);
    play_into(path, x, 0..n, block, &extract(), &mut out);
    out
}

/// Plays `range` of `x` through `path` in blocks of `block` into the same range of `out`.
fn play_into(
    path: &mut AudioPath,
    x: &[Vec<f32>; 2],
    range: std::ops::Range<usize>,
    block: usize,
    c: &Controls,
    out: &mut [Vec<f32>; 4],
) {
    for start in range.clone().step_by(block) {
        let r = start..(start + block).min(range.end);
        let [a, b, cc, d] = out;
        path.process(
            [&x[0][r.clone()], &x[1][r.clone()]],
            [
                &mut a[r.clone()],
                &mut b[r.clone()],
                &mut cc[r.clone()],
                &mut d[r],
            ],
            c,
        );
    }
}

fn noise(rate: f64, seconds: f64, seed: u64) -> [Vec<f32>; 2] {
    let mut rng = StdRng::seed_from_u64(seed);
    let n = (rate * seconds) as usize;
    std::array::from_fn(|_| (0..n).map(|_| rng.random_range(-0.3..0.3)).collect())
}

/// Waits up to `limit` for `done`, playing silence through `path` meanwhile
/// (a live host keeps calling `process`).
fn wait_for(path: &mut AudioPath, limit: Duration, mut done: impl FnMut(&AudioPath) -> bool) {
    let started = Instant::now();
    let silence = [vec![0.0; 480], vec![0.0; 480]];
    while !done(path) {
        assert!(started.elapsed() < limit, "timed out");
        play(path, &silence, 480);
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Without an enrolled voice, Extract runs no model: the main bus is the input
/// delayed by the reported latency, the auxiliary bus is silent, and the path says why.
#[test]
fn without_a_voice_extract_passes_the_input_through_and_says_why() {
    let file = extract_weight_file("extract-novoice", 31);
    let rate = 48_000.0;
    let telemetry = Arc::new(Telemetry::default());
    let req = request(Mode::Extract, Some(&file), Enrollment::default());
    let mut path = AudioPath::new(&path_config(rate, true), req, telemetry.clone()).expect("path");
    assert!(!path.has_model());
    assert!(telemetry.no_model.load(Relaxed));
    assert_eq!(telemetry.message(), NO_VOICE);
    let n = (rate * 0.5) as usize;
    // Harmonics of 290 Hz below 6 kHz: the resamplers pass them unchanged.
    let x: Vec<f32> = (0..n)
        .map(|i| {
            let t = i as f64 / rate;
            (1..=20)
                .map(|h| (2.0 * std::f64::consts::PI * 290.0 * h as f64 * t).cos() as f32)
                .sum::<f32>()
                / 20.0
        })
        .collect();
    let out = play(&mut path, &[x.clone(), x.clone()], 512);
    let lat = path.latency();
    let err = |shift: usize| -> f64 {
        (n / 5..n - lat - 8)
            .map(|i| f64::from(out[0][i + shift] - x[i]).powi(2))
            .sum()
    };
    let power: f64 = (n / 5..n - lat - 8).map(|i| f64::from(x[i]).powi(2)).sum();
    let best = (lat - 8..=lat + 8)
        .min_by(|a, b| err(*a).total_cmp(&err(*b)))
        .expect("range");
    println!(
        "pass-through error at the latency {:.1} dB, best alignment {best} (latency {lat})",
        10.0 * (err(lat) / power).log10()
    );
    assert_eq!(best, lat);
    // The resamplers' fractional delay leaves about -31 dB.
    assert!(err(lat) < 1e-2 * power, "error {}, power {power}", err(lat));
    assert!(out[2].iter().chain(&out[3]).all(|v| *v == 0.0));
}

/// With a voice enrolled, the path's output is the pair conditioned on that
/// voice, as the offline engines compute it, and not the pair conditioned on another.
#[test]
fn an_enrolled_voice_conditions_the_pair_as_the_engines_do() {
    let file = extract_weight_file("extract-parity", 32);
    let w = WeightFile::load(&file).expect("weights");
    let rate = 48_000.0;
    let voice = embedding(1);
    let telemetry = Arc::new(Telemetry::default());
    let req = request(Mode::Extract, Some(&file), enrolled(&voice));
    let mut path = AudioPath::new(&path_config(rate, true), req, telemetry.clone()).expect("path");
    assert!(path.has_model(), "{}", telemetry.message());
    let x = noise(rate, 1.0, 5);
    let out = play(&mut path, &x, 700);
    let shift = path.latency() - signal_delay(rate);
    let diff = |speaker: &[f32]| {
        let r = reference_conditioned(&w, rate, [&x[0], &x[1]], true, &[(0, speaker)]);
        (0..2)
            .map(|ch| max_diff_shifted(&out[ch], &r[ch], shift))
            .fold(0.0, f32::max)
    };
    let (same, other) = (diff(&voice), diff(&embedding(2)));
    println!("max diff: this voice {same:.2e}, another voice {other:.2e}");
    assert!(same < 1e-3, "{same}");
    assert!(other > 100.0 * same.max(1e-5), "{other}");
    assert_eq!(telemetry.hints_on_time_percent(), 100.0);
}

/// A voice enrolled while the path runs swaps the conditioned model in off the
/// audio thread; forgetting it passes the audio through again.
#[test]
fn enrolling_and_forgetting_a_voice_swaps_the_model_in_and_out() {
    let file = extract_weight_file("extract-swap", 33);
    let telemetry = Arc::new(Telemetry::default());
    let req = request(Mode::Extract, Some(&file), Enrollment::default());
    let mut path = AudioPath::new(
        &path_config(48_000.0, false),
        req.clone(),
        telemetry.clone(),
    )
    .expect("path");
    assert!(!path.has_model());
    *req.enrollment.write() = enrolled(&embedding(3));
    wait_for(&mut path, Duration::from_secs(20), AudioPath::has_model);
    assert!(!telemetry.no_model.load(Relaxed));
    *req.enrollment.write() = Enrollment::default();
    wait_for(&mut path, Duration::from_secs(20), |p| !p.has_model());
    assert_eq!(telemetry.message(), NO_VOICE);
}

/// "Load WAV" enrolls exactly the speaker encoder's embedding of the file.
#[test]
fn loading_a_wav_enrolls_the_encoders_embedding_of_it() {
    let clip = voice_clip();
    let weights = kb_speaker::EncoderWeights::load(
        &workspace_root().join("assets/speaker_encoder.safetensors"),
    )
    .expect("encoder weights");
    let want = kb_speaker::SpeakerEncoder::new(weights, 10.0)
        .embed(&read_16k_mono(&clip))
        .expect("embedding");
    let telemetry = Arc::new(Telemetry::default());
    let req = request(Mode::Extract, None, Enrollment::default());
    let mut path =
        AudioPath::new(&path_config(48_000.0, false), req.clone(), telemetry).expect("path");
    req.desk.ask_wav(clip.display().to_string());
    wait_for(&mut path, Duration::from_secs(60), |_| {
        req.enrollment.read().embedding().is_some()
    });
    let got = req.enrollment.read().clone();
    let worst = got
        .embedding()
        .expect("enrolled")
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(worst < 1e-6, "{worst}");
    assert_eq!(got.source, clip.display().to_string());
    assert!(req.desk.message().starts_with("enrolled"));
    req.desk.ask_wav("/nonexistent/voice.wav".into());
    wait_for(&mut path, Duration::from_secs(10), |_| {
        req.desk.message().starts_with("cannot")
    });
    assert_eq!(
        req.enrollment.read().embedding(),
        got.embedding(),
        "a refused file keeps the voice"
    );
}

/// "Learn voice" records the talker at the input and enrolls a voice that
/// the encoder finds the same as the recording's own embedding.
#[test]
fn learning_a_voice_enrolls_the_talker_at_the_input() {
    let clip = read_16k_mono(&voice_clip());
    let weights = kb_speaker::EncoderWeights::load(
        &workspace_root().join("assets/speaker_encoder.safetensors"),
    )
    .expect("encoder weights");
    let want = kb_speaker::SpeakerEncoder::new(weights, 10.0)
        .embed(&clip)
        .expect("embedding");
    let telemetry = Arc::new(Telemetry::default());
    let req = request(Mode::Extract, None, Enrollment::default());
    let mut path =
        AudioPath::new(&path_config(16_000.0, true), req.clone(), telemetry).expect("path");
    req.desk.ask(Command::Learn);
    wait_for(&mut path, Duration::from_secs(10), |_| {
        req.desk.activity() == Activity::Learning
    });
    let x = [clip.clone(), clip.clone()];
    for start in (0..clip.len()).step_by(1600) {
        let r = start..(start + 1600).min(clip.len());
        play(
            &mut path,
            &[x[0][r.clone()].to_vec(), x[1][r].to_vec()],
            1600,
        );
        // About real time x 10: the voice thread keeps up.
        std::thread::sleep(Duration::from_millis(10));
    }
    let recorded = req.desk.recorded_seconds();
    req.desk.ask(Command::Finish);
    wait_for(&mut path, Duration::from_secs(60), |_| {
        req.enrollment.read().embedding().is_some()
    });
    let got: [f32; EMBEDDING] = req
        .enrollment
        .read()
        .embedding()
        .expect("enrolled")
        .try_into()
        .expect("width");
    let s = kb_speaker::similarity(&got, &want);
    println!("recorded {recorded:.2} s, similarity to the clip's own embedding {s:.4}");
    assert!(recorded > 3.5, "{recorded}");
    assert!(s > 0.97, "{s}");
}

/// Another voice enrolled while the pair runs conditions the running engines in
/// place: no model swap, and from the chunk where it lands the output is the
/// small engine's, its state carried over, conditioned on the new voice.
#[test]
fn a_new_voice_reconditions_the_running_pair_without_a_swap() {
    let file = extract_weight_file("extract-revoice", 34);
    let w = WeightFile::load(&file).expect("weights");
    let rate = 48_000.0;
    let (first, second) = (embedding(4), embedding(5));
    let telemetry = Arc::new(Telemetry::default());
    let req = request(Mode::Extract, Some(&file), enrolled(&first));
    let mut path =
        AudioPath::new(&path_config(rate, false), req.clone(), telemetry.clone()).expect("path");
    assert!(path.has_model(), "{}", telemetry.message());
    let generation = path.model_generation();
    // Without hints the output depends on the small engine alone, not on the
    // large thread's timing.
    let c = Controls {
        boost: false,
        ..extract()
    };
    let x = noise(rate, 2.0, 6);
    let n = x[0].len();
    let mut out: [Vec<f32>; 4] = std::array::from_fn(|_| vec![0.0; n]);
    let half = n / 2;
    play_into(&mut path, &x, 0..half, 480, &c, &mut out);
    *req.enrollment.write() = enrolled(&second);
    let started = Instant::now();
    let mut pos = half;
    while telemetry.voice_updates.load(Relaxed) == 0 {
        assert!(started.elapsed() < Duration::from_secs(20), "never applied");
        assert!(pos + 480 < n, "the input ran out before the voice landed");
        play_into(&mut path, &x, pos..pos + 480, 480, &c, &mut out);
        pos += 480;
        std::thread::sleep(Duration::from_millis(2));
    }
    play_into(&mut path, &x, pos..n, 480, &c, &mut out);
    assert_eq!(path.model_generation(), generation, "the model was swapped");
    assert_eq!(telemetry.voice_updates.load(Relaxed), 1);
    let at = telemetry.voice_update_chunk.load(Relaxed) as usize;
    let shift = path.latency() - signal_delay(rate);
    let diff = |speakers: &[(usize, &[f32])]| {
        let r = reference_conditioned(&w, rate, [&x[0], &x[1]], false, speakers);
        (0..2)
            .map(|ch| max_diff_shifted(&out[ch], &r[ch], shift))
            .fold(0.0, f32::max)
    };
    let switched = diff(&[(0, &first), (at, &second)]);
    let unchanged = diff(&[(0, &first)]);
    println!("voice applied at chunk {at}: max diff {switched:.2e}, from the first voice kept {unchanged:.2e}");
    assert!(switched < 1e-3, "{switched}");
    assert!(unchanged > 100.0 * switched.max(1e-5), "{unchanged}");
}
