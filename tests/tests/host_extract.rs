//! Extract mode in the bundled plugin through a real CLAP host (clack-host):
//! a session saved with a recorded voice enrolled reopens and extracts with
//! that voice, as the offline engines conditioned on it do; the same session
//! without a voice passes the audio through.

use std::{path::PathBuf, sync::OnceLock};

use kb_e2e::{
    binaural_mixture, bundle, extract_weight_file, max_diff_shifted, process,
    reference_conditioned, signal_delay, state_roundtrip, with_field, workspace_root, AuxBus, Run,
};
use kb_models::weight_file::WeightFile;
use knowledge_boost::voice::Enrollment;

fn weights() -> &'static (PathBuf, WeightFile) {
    static W: OnceLock<(PathBuf, WeightFile)> = OnceLock::new();
    W.get_or_init(|| {
        let path = extract_weight_file("host-extract", 41);
        // Read by the plugin on the main thread when an instance is created.
        std::env::set_var("KNOWLEDGE_BOOST_WEIGHTS_EXTRACT", &path);
        let w = WeightFile::load(&path).expect("weights load");
        (path, w)
    })
}

/// The embedding of a recorded voice (4 s of a Fish Fillets talker), by the speaker encoder.
fn recorded_voice() -> Vec<f32> {
    let root = workspace_root();
    let r =
        hound::WavReader::open(root.join("models/speaker/tests/golden/fillets.wav")).expect("wav");
    let wav: Vec<f32> = r
        .into_samples::<i16>()
        .map(|s| f32::from(s.expect("sample")) / 32768.0)
        .collect();
    let weights =
        kb_speaker::EncoderWeights::load(&root.join("assets/speaker_encoder.safetensors"))
            .expect("encoder");
    kb_speaker::SpeakerEncoder::new(weights, 10.0)
        .embed(&wav)
        .expect("embedding")
        .to_vec()
}

fn run(rate: f64, state: Vec<u8>) -> Run {
    Run {
        plugin: bundle(),
        rate,
        offline: true,
        params: Vec::new(),
        max_block: 4096,
        seed: 3,
        aux: AuxBus::Connected,
        mono: false,
        state: Some(state),
    }
}

#[test]
fn a_session_with_a_recorded_voice_extracts_it_and_one_without_passes_through() {
    let (_, w) = weights();
    let rate = 48_000.0;
    // Stepped parameters take their index: mode 2 is Extract.
    let session = state_roundtrip(&bundle(), &[("mode", 2.0)])
        .expect("state round trip")
        .saved;
    let voice = recorded_voice();
    let enrolled = Enrollment {
        embedding: Some(voice.clone()),
        source: "fillets.wav".into(),
    };
    let with_voice = with_field(
        &session,
        "voice",
        serde_json::to_string(&enrolled).expect("json"),
    )
    .expect("state with a voice");
    let x = binaural_mixture(rate, 2.0, 11);

    let out = process(&run(rate, with_voice), [&x[0], &x[1]]).expect("host run");
    let r = reference_conditioned(w, rate, [&x[0], &x[1]], true, &[(0, &voice)]);
    let shift = out.latency as usize - signal_delay(rate);
    let energy: f64 = r[0].iter().map(|v| f64::from(*v).powi(2)).sum();
    let worst = (0..2)
        .map(|ch| max_diff_shifted(&out.channels[ch], &r[ch], shift))
        .fold(0.0, f32::max);
    println!("with the voice: max |host - engines| {worst:.2e}, reference energy {energy:.3}");
    assert!(energy > 1e-3, "the reference is silent");
    assert!(worst < 1e-3, "{worst}");

    let out = process(&run(rate, session), [&x[0], &x[1]]).expect("host run");
    let lat = out.latency as usize;
    let n = x[0].len();
    let (mut err, mut power) = (0.0, 0.0);
    for (heard, input) in out.channels[..2].iter().zip(&x) {
        for (y, v) in heard[n / 5 + lat..].iter().zip(&input[n / 5..n - lat]) {
            err += f64::from(y - v).powi(2);
            power += f64::from(*v).powi(2);
        }
    }
    println!(
        "without a voice: |main - input delayed by the latency| at {:.1} dB",
        10.0 * (err / power).log10()
    );
    assert!(err < 1e-2 * power, "not the input: {err} of {power}");
    assert!(out.channels[2]
        .iter()
        .chain(&out.channels[3])
        .all(|v| *v == 0.0));
}
