//! The fetch pipeline on the user's folders (no network): decoding,
//! trimming, the index, bad files, reruns and repairs.

mod common;

use std::path::{Path, PathBuf};

use kb_data::corpus::UserFolder;
use kb_data::fetch::{fetch, FetchOptions};
use kb_data::index::Index;
use kb_data::{Error, Split};

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kb-data-fetch-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `x` at `rate` Hz as a 16-bit WAV with half a second of silence on each side.
fn write_clip(path: &Path, x: &[f32], rate: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let pad = vec![0.0f32; rate as usize / 2];
    for &v in pad.iter().chain(x).chain(&pad) {
        w.write_sample((v * 32767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
}

fn options(cache: &Path, speech: &Path, noise: &Path) -> FetchOptions {
    FetchOptions {
        cache: cache.into(),
        debian: false,
        skip_packages: Vec::new(),
        speech: vec![UserFolder {
            path: speech.into(),
            split: None,
        }],
        noise: vec![UserFolder {
            path: noise.into(),
            split: Some(Split::Test),
        }],
        sofa: Vec::new(),
        mbrola: false,
        keep_packages: false,
        progress: false,
    }
}

/// Clips are decoded to 16 kHz, trimmed and indexed; bad files are skipped
/// by name; a rerun does nothing; a damaged cache is repaired.
#[test]
fn user_folders_bad_files_rerun_and_repair() {
    let root = tempdir("user");
    let (speech, noise, cache) = (root.join("speech"), root.join("noise"), root.join("cache"));
    // Two talkers (sub-folders), one clip at 22.05 kHz.
    write_clip(
        &speech.join("anna/a1.wav"),
        &common::voice(200.0, 1.0, 0.0),
        16000,
    );
    write_clip(
        &speech.join("anna/a2.wav"),
        &common::voice(210.0, 1.5, 1.0),
        22050,
    );
    write_clip(
        &speech.join("bert/b1.wav"),
        &common::voice(120.0, 2.0, 0.0),
        16000,
    );
    std::fs::write(
        speech.join("bert/broken.wav"),
        b"RIFF\x10\x00\x00\x00WAVEjunkjunk",
    )
    .unwrap();
    std::fs::write(speech.join("bert/empty.flac"), b"").unwrap();
    write_clip(&noise.join("hum.wav"), &common::noise(1.0, 3), 16000);

    let (index, report) = fetch(&options(&cache, &speech, &noise)).unwrap();
    assert_eq!(index.speech.len(), 3);
    assert_eq!(index.noise.len(), 1);
    assert_eq!(index.noise[0].split, Split::Test);
    assert_eq!(report.decoded, 4);
    let skipped: Vec<&str> = report.skipped.iter().map(|s| s.file.as_str()).collect();
    assert!(
        skipped.iter().any(|f| f.ends_with("broken.wav")),
        "{skipped:?}"
    );
    assert!(
        skipped.iter().any(|f| f.ends_with("empty.flac")),
        "{skipped:?}"
    );
    let mut speakers: Vec<&str> = index.speech.iter().map(|e| e.speaker.as_str()).collect();
    speakers.dedup();
    assert_eq!(speakers.len(), 2);
    // Trimmed: the half-second pads are gone (50 ms margins remain), and 22.05 kHz became 16 kHz
    // (the 24000 samples written at 22.05 kHz last 1.088 s).
    let a2 = index
        .speech
        .iter()
        .find(|e| e.source.ends_with("a2.wav"))
        .unwrap();
    let expected = 24000.0 / 22050.0 + 0.1;
    assert!(
        (a2.duration - expected).abs() < 0.03,
        "duration {}",
        a2.duration
    );
    let clip = Index::resolve(&cache.join("index.json"), &a2.clip);
    assert_eq!(
        hound::WavReader::open(&clip).unwrap().spec().sample_rate,
        16000
    );
    // Every talker sits in exactly one split.
    for s in &speakers {
        let splits: std::collections::HashSet<Split> = index
            .speech
            .iter()
            .filter(|e| e.speaker == *s)
            .map(|e| e.split)
            .collect();
        assert_eq!(splits.len(), 1);
    }

    // A rerun on the complete cache does nothing.
    let (again, report) = fetch(&options(&cache, &speech, &noise)).unwrap();
    assert!(report.nothing_done(), "{report:?}");
    assert_eq!(again, index);

    // Half-finished: a clip is gone. Only that clip is decoded again.
    std::fs::remove_file(&clip).unwrap();
    let (repaired, report) = fetch(&options(&cache, &speech, &noise)).unwrap();
    assert_eq!(report.decoded, 1);
    assert_eq!(repaired, index);
    assert!(clip.is_file());
}

/// A folder without usable audio is an error that says so.
#[test]
fn folder_without_audio_is_an_error() {
    let root = tempdir("empty");
    let (speech, noise, cache) = (root.join("speech"), root.join("noise"), root.join("cache"));
    std::fs::create_dir_all(speech.join("x")).unwrap();
    std::fs::write(speech.join("x/notes.txt"), b"no audio here").unwrap();
    write_clip(&noise.join("hum.wav"), &common::noise(1.0, 3), 16000);
    let err = fetch(&options(&cache, &speech, &noise)).unwrap_err();
    assert!(matches!(err, Error::NoAudio { .. }), "{err}");
    assert!(err.to_string().contains("no usable audio"), "{err}");

    std::fs::write(speech.join("x/bad.ogg"), b"OggSnot really").unwrap();
    let err = fetch(&options(&cache, &speech, &noise)).unwrap_err();
    assert!(
        err.to_string().contains("all 1 audio files were skipped"),
        "{err}"
    );
}
