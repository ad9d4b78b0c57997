//! MBROLA voices: human diphone recordings (Debian non-free `mbrola-*`)
//! spoken through `espeak-ng`, as extra talkers. Prosody is flat, so each
//! utterance gets its own pitch, rate and vocal-tract length.
//!
//! Needs `espeak-ng` on the PATH (`apt-get install espeak-ng`); the `mbrola`
//! program (contrib) and the voices (non-free) are fetched into the cache
//! with `apt-get download` from a private sources list.

use std::path::{Path, PathBuf};
use std::process::Command;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::decode::{read_mono_16k, resample};
use crate::split::{stable_hash, Split};
use crate::wav::{self, Encoding};
use crate::{Error, Result, SAMPLE_RATE};

/// One MBROLA voice: database name, espeak-ng voice, sex, split.
#[derive(Debug, Clone, Copy)]
pub struct Voice {
    /// Database name (package `mbrola-<name>`).
    pub name: &'static str,
    /// espeak-ng voice speaking English with it.
    pub espeak: &'static str,
    /// "f" or "m".
    pub sex: &'static str,
    /// Split of this talker.
    pub split: Split,
}

const fn voice(name: &'static str, espeak: &'static str, sex: &'static str, split: Split) -> Voice {
    Voice {
        name,
        espeak,
        sex,
        split,
    }
}

/// The voices used: each is a different recorded person.
pub const VOICES: [Voice; 19] = [
    voice("us2", "mb-us2", "m", Split::Train),
    voice("us3", "mb-us3", "m", Split::Train),
    voice("en1", "mb-en1", "m", Split::Train),
    voice("af1", "mb-af1-en", "m", Split::Train),
    voice("de1", "mb-de1-en", "f", Split::Train),
    voice("de2", "mb-de2-en", "m", Split::Train),
    voice("de3", "mb-de3-en", "f", Split::Train),
    voice("de4", "mb-de4-en", "m", Split::Train),
    voice("de5", "mb-de5-en", "f", Split::Train),
    voice("fr1", "mb-fr1-en", "m", Split::Train),
    voice("gr2", "mb-gr2-en", "m", Split::Train),
    voice("hu1", "mb-hu1-en", "f", Split::Train),
    voice("nl2", "mb-nl2-en", "m", Split::Train),
    voice("pl1", "mb-pl1-en", "f", Split::Train),
    voice("sw1", "mb-sw1-en", "m", Split::Validation),
    voice("sw2", "mb-sw2-en", "f", Split::Validation),
    voice("us1", "mb-us1", "f", Split::Test),
    voice("ro1", "mb-ro1-en", "m", Split::Test),
    voice("fr4", "mb-fr4-en", "f", Split::Test),
];

/// Utterances synthesised per voice.
pub const UTTERANCES: usize = 60;

/// Split of an MBROLA clip from its path `<voice>/<n>.wav`.
pub fn speaker(rel: &Path) -> (String, Split) {
    let name = rel
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    let split = VOICES
        .iter()
        .find(|v| v.name == name)
        .map_or(Split::Train, |v| v.split);
    (format!("mbrola-{name}"), split)
}

/// The espeak-ng program and its data folder, when installed.
pub fn espeak_data() -> Option<PathBuf> {
    let out = Command::new("espeak-ng").arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let data = text.split("Data at:").nth(1)?.trim();
    Some(PathBuf::from(data))
}

/// English sentences of 6 to 30 words from the licence texts every Debian system has.
pub fn sentences() -> Vec<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir("/usr/share/common-licenses")
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for s in flat.split(['.', '!', '?', ';', ':']) {
            let words: Vec<&str> = s.split_whitespace().collect();
            let clean = words.iter().all(|w| {
                w.chars()
                    .all(|c| c.is_ascii_alphabetic() || ",'()-\"".contains(c))
            });
            if (6..=30).contains(&words.len()) && clean {
                out.push(words.join(" "));
            }
        }
    }
    out.dedup();
    out
}

/// Makes the espeak-ng data folder with the voices and synthesises every
/// voice's utterances into `out/<voice>/<n>.wav`, keeping what exists.
/// `voices` maps each voice to its unpacked package, `mbrola_bin` is the folder holding `mbrola`.
pub fn synthesise(
    espeak_data: &Path,
    voices: &[(Voice, PathBuf)],
    mbrola_bin: &Path,
    home: &Path,
    out: &Path,
) -> Result<usize> {
    let data = home.join("espeak-ng-data");
    if !data.join("mbrola").is_dir() {
        copy_dir(espeak_data, &data)?;
        std::fs::create_dir_all(data.join("mbrola")).map_err(|e| Error::io(&data, e))?;
    }
    for (v, tree) in voices {
        let db = tree.join("usr/share/mbrola").join(v.name).join(v.name);
        let target = data.join("mbrola").join(v.name);
        if !target.is_file() {
            let bytes = std::fs::read(&db).map_err(|e| Error::io(&db, e))?;
            wav::write_bytes(&target, &bytes)?;
        }
    }
    let text = sentences();
    if text.len() < UTTERANCES {
        return Err(Error::NoAudio {
            path: "/usr/share/common-licenses".into(),
            reason: "too few English sentences to synthesise from".into(),
        });
    }
    let path_var = format!(
        "{}:{}",
        mbrola_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut made = 0;
    for (k, (v, _)) in voices.iter().enumerate() {
        let dir = out.join(v.name);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        for u in 0..UTTERANCES {
            let target = dir.join(format!("{u:03}.wav"));
            if target.is_file() {
                continue;
            }
            let mut rng = StdRng::seed_from_u64(stable_hash(&format!("{}-{u}", v.name)));
            let sentence = &text[(k * UTTERANCES + u * 7) % text.len()];
            let raw = dir.join(format!("{u:03}.raw.wav"));
            let status = Command::new("espeak-ng")
                .args(["-v", v.espeak])
                .args(["-p", &rng.random_range(25..75).to_string()])
                .args(["-s", &rng.random_range(140..190).to_string()])
                .arg("-w")
                .arg(&raw)
                .arg(sentence)
                .env("ESPEAK_DATA_PATH", home)
                .env("PATH", &path_var)
                .output()
                .map_err(|e| Error::Command {
                    command: format!("espeak-ng -v {}", v.espeak),
                    reason: e.to_string(),
                })?;
            if !status.status.success() {
                return Err(Error::Command {
                    command: format!("espeak-ng -v {}", v.espeak),
                    reason: String::from_utf8_lossy(&status.stderr).trim().to_string(),
                });
            }
            // Vocal-tract length: play the 16 kHz output as if recorded at 16 kHz x factor.
            let factor = [0.9, 0.94, 0.97, 1.0, 1.03, 1.06, 1.1][rng.random_range(0..7)];
            let x = read_mono_16k(&raw)?;
            let y = resample(
                &x,
                (SAMPLE_RATE as f64 * factor).round() as u32,
                SAMPLE_RATE,
            )?;
            wav::write(&target, &[&y], Encoding::Pcm16)?;
            std::fs::remove_file(&raw).map_err(|e| Error::io(&raw, e))?;
            made += 1;
        }
    }
    Ok(made)
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| Error::io(to, e))?;
    for entry in std::fs::read_dir(from).map_err(|e| Error::io(from, e))? {
        let entry = entry.map_err(|e| Error::io(from, e))?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).map_err(|e| Error::io(&src, e))?;
        }
    }
    Ok(())
}
