//! The encoder against Resemblyzer 0.1.4 itself: voice flags, trimming, mel
//! frames, partial and utterance embeddings of six recordings, computed by the
//! Python package in a test-only venv (`tests/golden/make_golden.py`).

use std::path::{Path, PathBuf};

use kb_speaker::{
    mel::MelFrontEnd,
    partials,
    trim::{normalize_volume, SilenceTrimmer},
    EncoderWeights, SpeakerEncoder, MELS,
};
use serde_json::Value;

const TOLERANCE: f32 = 1e-4;

fn here() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn encoder() -> SpeakerEncoder {
    let path = here().join("../../assets/speaker_encoder.safetensors");
    SpeakerEncoder::new(EncoderWeights::load(&path).expect("shipped encoder"), 10.0)
}

fn wav(name: &str) -> Vec<f32> {
    let mut reader = hound::WavReader::open(here().join(format!("tests/golden/{name}.wav")))
        .expect("golden wav");
    assert_eq!(reader.spec().sample_rate, 16_000);
    reader
        .samples::<i16>()
        .map(|s| s.expect("sample") as f32 / 32768.0)
        .collect()
}

fn golden() -> serde_json::Map<String, Value> {
    let text = std::fs::read_to_string(here().join("tests/golden/golden.json")).expect("golden");
    serde_json::from_str(&text).expect("json")
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number") as f32)
        .collect()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn voice_flags_and_trimming_match_webrtcvad() {
    for (name, g) in golden() {
        let mut x = wav(&name);
        assert_eq!(x.len() as u64, g["samples"].as_u64().unwrap());
        normalize_volume(&mut x).unwrap();
        let mut trimmer = SilenceTrimmer::new(x.len());
        let expected: Vec<bool> = g["vad_flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_bool().unwrap())
            .collect();
        assert_eq!(trimmer.voice_flags(&x), &expected[..], "{name}");
        let kept = trimmer.trim(&mut x);
        assert_eq!(
            kept as u64,
            g["trimmed_samples"].as_u64().unwrap(),
            "{name}"
        );
    }
}

#[test]
fn mel_frames_match_librosa() {
    let mut front = MelFrontEnd::new();
    for (name, g) in golden() {
        let mut x = wav(&name);
        normalize_volume(&mut x).unwrap();
        assert_eq!(
            kb_speaker::mel::frames(x.len()) as u64,
            g["mel_frames"].as_u64().unwrap()
        );
        for (t, frame) in g["mel_first_frames"].as_array().unwrap().iter().enumerate() {
            let expected = floats(frame);
            let mut ours = [0.0f32; MELS];
            front.frame(&x, t, &mut ours);
            for (m, (a, b)) in ours.iter().zip(&expected).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-4 * b.abs().max(1e-3),
                    "{name} frame {t} band {m}: {a} vs {b}"
                );
            }
        }
    }
}

#[test]
fn partial_and_utterance_embeddings_match_resemblyzer_within_1e_4() {
    let mut enc = encoder();
    for (name, g) in golden() {
        let raw = wav(&name);
        // The whole pipeline from the recording.
        let embedding = enc.embed(&raw).expect("embedding");
        let d = max_diff(&embedding, &floats(&g["embedding"]));
        eprintln!("{name}: largest embedding difference {d:.2e}");
        assert!(d < TOLERANCE, "{name}: embedding off by {d}");
        // Each partial of the trimmed utterance.
        let mut x = raw.clone();
        normalize_volume(&mut x).unwrap();
        let kept = SilenceTrimmer::new(x.len()).trim(&mut x);
        x.truncate(kept);
        let starts: Vec<u64> = partials::starts(x.len()).map(|s| s as u64).collect();
        let expected: Vec<u64> = g["partial_starts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() / 160)
            .collect();
        assert_eq!(starts, expected, "{name}");
        for (k, p) in g["partials"].as_array().unwrap().iter().enumerate() {
            let ours = enc.partial(&x, starts[k] as usize).expect("partial");
            let d = max_diff(&ours, &floats(p));
            assert!(d < TOLERANCE, "{name} partial {k}: off by {d}");
        }
        // Without trimming (the model and the partials alone).
        let mut normalised = raw.clone();
        normalize_volume(&mut normalised).unwrap();
        let untrimmed = enc.embed_preprocessed(&normalised).expect("embedding");
        let d = max_diff(&untrimmed, &floats(&g["embedding_untrimmed"]));
        assert!(d < TOLERANCE, "{name}: untrimmed embedding off by {d}");
    }
}

#[test]
fn bad_recordings_get_clear_errors() {
    let mut enc = encoder();
    assert!(enc.embed(&[]).is_err());
    assert!(enc.embed(&vec![0.0; 16_000]).is_err());
    assert!(enc.embed(&[0.1, f32::NAN, 0.2]).is_err());
    let long = wav("june").repeat(3);
    let e = enc.embed(&long).unwrap_err().to_string();
    assert!(e.contains("longer than"), "{e}");
}
