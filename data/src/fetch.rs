//! `fetch`: download the Debian packages (or take the user's folders),
//! decode every clip to 16 kHz mono, trim silence and write the index.
//!
//! Every step leaves its result under its final name only when complete
//! (temporary names, then renames), so an interrupted run is resumed by
//! running again, and a run on a complete cache touches nothing.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::corpus::{DebianCorpus, Kind, UserFolder, DEBIAN, MIN_DEBIAN_RATE};
use crate::decode::{is_audio_file, read_audio, to_mono_16k};
use crate::hrtf::Head;
use crate::index::{HeadEntry, Index, NoiseEntry, SpeechEntry, INDEX_FILE};
use crate::measured_heads::{unpack_measured_heads, HeadRole, MEASURED_HEADS};
use crate::split::{split_noise_files, stable_hash, NoiseSplit};
use crate::trim::{trim, TrimConfig};
use crate::wav::{self, Encoding};
use crate::{Error, Result, SAMPLE_RATE};

/// Clips shorter than this after trimming are dropped, in seconds.
pub const MIN_SECONDS: f64 = 0.3;

/// Debian noise files shorter than this after trimming are dropped, in seconds.
pub const MIN_NOISE_SECONDS: f64 = 1.0;

/// What a decoded file must meet to be kept.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Lowest sample rate in Hz (0: any).
    pub min_rate: u32,
    /// Shortest duration after trimming, in seconds.
    pub min_seconds: f64,
}

impl Limits {
    /// Any rate, at least `MIN_SECONDS`.
    pub const ANY: Limits = Limits {
        min_rate: 0,
        min_seconds: MIN_SECONDS,
    };
}

/// What `fetch` should do.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Cache folder (downloads, decoded clips, index).
    pub cache: PathBuf,
    /// Use the Debian packages.
    pub debian: bool,
    /// Debian packages to leave out.
    pub skip_packages: Vec<String>,
    /// The user's speech folders.
    pub speech: Vec<UserFolder>,
    /// The user's noise folders.
    pub noise: Vec<UserFolder>,
    /// The user's SOFA files.
    pub sofa: Vec<PathBuf>,
    /// Add the MBROLA voices (needs `espeak-ng` installed; skipped with a warning without it).
    pub mbrola: bool,
    /// Keep the unpacked packages after decoding (they are removed by default to save disk).
    pub keep_packages: bool,
    /// Show progress bars.
    pub progress: bool,
}

/// A file that was left out, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    /// The file.
    pub file: String,
    /// Why.
    pub reason: String,
}

/// What a `fetch` run did.
#[derive(Debug, Clone, Default)]
pub struct FetchReport {
    /// Packages downloaded in this run.
    pub downloaded: Vec<String>,
    /// Packages unpacked in this run.
    pub extracted: Vec<String>,
    /// Clips decoded in this run.
    pub decoded: usize,
    /// Files skipped in this run (corrupt, empty, silent).
    pub skipped: Vec<Skipped>,
    /// Whether the index file changed.
    pub index_written: bool,
}

impl FetchReport {
    /// True when the run changed nothing.
    pub fn nothing_done(&self) -> bool {
        self.downloaded.is_empty()
            && self.extracted.is_empty()
            && self.decoded == 0
            && self.skipped.is_empty()
            && !self.index_written
    }
}

/// One decoded clip of a corpus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestClip {
    /// Decoded clip relative to the cache folder.
    pub clip: String,
    /// Original file relative to the corpus folder.
    pub source: String,
    /// Duration in seconds.
    pub duration: f64,
}

/// The decoded clips of one corpus; written when the corpus is complete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Corpus name.
    pub corpus: String,
    /// Decoded clips, sorted by source.
    pub clips: Vec<ManifestClip>,
    /// Files left out.
    pub skipped: Vec<Skipped>,
}

/// The default cache folder: `$KB_DATA_CACHE`, else the platform's per-user
/// cache folder (`$XDG_CACHE_HOME` or `~/.cache` on Linux, `~/Library/Caches`
/// on macOS, `%LOCALAPPDATA%` on Windows) with `knowledge-boost` under it,
/// else `knowledge-boost-cache` in the current folder.
pub fn default_cache() -> PathBuf {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = var("KB_DATA_CACHE") {
        return dir;
    }
    let base = if cfg!(target_os = "windows") {
        var("LOCALAPPDATA")
    } else if cfg!(target_os = "macos") {
        var("HOME").map(|h| h.join("Library").join("Caches"))
    } else {
        var("XDG_CACHE_HOME").or_else(|| var("HOME").map(|h| h.join(".cache")))
    };
    base.map_or_else(
        || PathBuf::from("knowledge-boost-cache"),
        |b| b.join("knowledge-boost"),
    )
}

fn bar(progress: bool, len: u64, message: String) -> ProgressBar {
    if !progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:32} [{bar:30}] {pos}/{len} {elapsed_precise} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(message);
    bar
}

fn warn(bar: &ProgressBar, file: &str, reason: &str) {
    bar.suspend(|| eprintln!("warning: skipping {file}: {reason}"));
}

/// Runs a command; a failure is an error with its last lines of standard error.
pub(crate) fn run_command(cmd: &mut Command) -> Result<()> {
    let line = format!("{cmd:?}");
    let out = cmd.output().map_err(|e| Error::Command {
        command: line.clone(),
        reason: e.to_string(),
    })?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(4).collect();
    Err(Error::Command {
        command: line,
        reason: format!(
            "{}: {}",
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        ),
    })
}

fn find_deb(debs: &Path, package: &str) -> Option<PathBuf> {
    let prefix = format!("{package}_");
    let mut found: Vec<PathBuf> = std::fs::read_dir(debs)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".deb"))
        })
        .collect();
    found.sort();
    found.pop()
}

fn download(
    debs: &Path,
    package: &str,
    apt: &[String],
    report: &mut FetchReport,
    progress: bool,
) -> Result<PathBuf> {
    if let Some(deb) = find_deb(debs, package) {
        return Ok(deb);
    }
    let spinner = bar(progress, 1, format!("download {package}"));
    let tmp = debs.join(format!(".download-{package}"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    run_command(
        Command::new("apt-get")
            .args(apt)
            .arg("download")
            .arg(package)
            .current_dir(&tmp),
    )
    .map_err(|e| Error::Command {
        command: format!("apt-get download {package}"),
        reason: format!("{e} (run `apt-get update` once first)"),
    })?;
    let deb = find_deb(&tmp, package).ok_or_else(|| Error::Command {
        command: format!("apt-get download {package}"),
        reason: "no .deb file appeared".into(),
    })?;
    let target = debs.join(deb.file_name().unwrap_or_default());
    std::fs::rename(&deb, &target).map_err(|e| Error::io(&target, e))?;
    let _ = std::fs::remove_dir_all(&tmp);
    spinner.finish_and_clear();
    report.downloaded.push(package.into());
    Ok(target)
}

/// Downloads (if needed) and unpacks (if needed) a package; returns the unpacked tree.
fn unpack(
    cache: &Path,
    package: &str,
    apt: &[String],
    report: &mut FetchReport,
    progress: bool,
) -> Result<PathBuf> {
    let debs = cache.join("debs");
    std::fs::create_dir_all(&debs).map_err(|e| Error::io(&debs, e))?;
    let target = cache.join("pkg").join(package);
    if target.is_dir() {
        return Ok(target);
    }
    let tmp = cache.join("pkg").join(format!("{package}.part"));
    for attempt in 0..2 {
        let deb = download(&debs, package, apt, report, progress)?;
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let spinner = bar(progress, 1, format!("unpack {package}"));
        let result = run_command(Command::new("dpkg").arg("-x").arg(&deb).arg(&tmp));
        spinner.finish_and_clear();
        match result {
            Ok(()) => {
                std::fs::rename(&tmp, &target).map_err(|e| Error::io(&target, e))?;
                report.extracted.push(package.into());
                return Ok(target);
            }
            Err(e) if attempt == 0 => {
                eprintln!(
                    "warning: {} is damaged ({e}); downloading it again",
                    deb.display()
                );
                std::fs::remove_file(&deb).map_err(|e| Error::io(&deb, e))?;
            }
            Err(e) => return Err(e),
        }
    }
    unreachable!("the loop returns on its second attempt")
}

/// Audio files under `root` (sorted, relative), hard links and identical copies counted once.
fn list_audio(root: &Path, wants: &dyn Fn(&Path) -> bool) -> Result<Vec<PathBuf>> {
    let mut stack = vec![root.to_path_buf()];
    let mut files = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
            let path = entry.map_err(|e| Error::io(&dir, e))?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.is_file() && is_audio_file(&path) {
                let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
                if wants(&rel) {
                    files.push(rel);
                }
            }
        }
    }
    files.sort();
    let mut seen = HashSet::new();
    let mut unique = Vec::new();
    for rel in files {
        let bytes = std::fs::read(root.join(&rel)).map_err(|e| Error::io(root.join(&rel), e))?;
        let key = (bytes.len(), stable_hash_bytes(&bytes));
        if bytes.is_empty() || seen.insert(key) {
            unique.push(rel);
        }
    }
    Ok(unique)
}

fn stable_hash_bytes(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Per file: its position, the clip or why it was skipped, and whether it was decoded now.
type Outcome = (usize, std::result::Result<ManifestClip, Skipped>, bool);

/// Decodes a file to 16 kHz mono, refusing one sampled below `min_rate` Hz.
fn read_at_least(path: &Path, min_rate: u32) -> Result<Vec<f32>> {
    let audio = read_audio(path)?;
    if audio.rate < min_rate {
        return Err(Error::Decode {
            path: path.into(),
            reason: format!(
                "telephone band: sampled at {} Hz (under {min_rate} Hz)",
                audio.rate
            ),
        });
    }
    to_mono_16k(path, audio)
}

/// Decodes the audio of one corpus into `cache/clips/<corpus>/`, reusing
/// what an earlier run decoded; returns its manifest. Files that miss `limits` are skipped.
pub fn decode_corpus(
    cache: &Path,
    corpus: &str,
    root: &Path,
    wants: &dyn Fn(&Path) -> bool,
    limits: Limits,
    report: &mut FetchReport,
    progress: bool,
) -> Result<Manifest> {
    let out_dir = cache.join("clips").join(corpus);
    let manifest_path = out_dir.join("manifest.json");
    if let Some(m) = read_manifest(cache, &manifest_path) {
        return Ok(m);
    }
    if !root.is_dir() {
        return Err(Error::NoAudio {
            path: root.into(),
            reason: "not a folder".into(),
        });
    }
    let files = list_audio(root, wants)?;
    if files.is_empty() {
        return Err(Error::NoAudio {
            path: root.into(),
            reason: "no WAV, FLAC, Ogg or G.722 files".into(),
        });
    }
    std::fs::create_dir_all(&out_dir).map_err(|e| Error::io(&out_dir, e))?;
    let progress_bar = bar(progress, files.len() as u64, format!("decode {corpus}"));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Outcome>> = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    let trim_cfg = TrimConfig::default();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(rel) = files.get(i) else { break };
                let source = root.join(rel);
                let clip_rel = Path::new("clips")
                    .join(corpus)
                    .join(rel)
                    .with_extension("wav");
                let clip_path = cache.join(&clip_rel);
                let mut decoded = false;
                let outcome = if let Ok(n) = wav::wav_len(&clip_path) {
                    Ok(n)
                } else {
                    decoded = true;
                    read_at_least(&source, limits.min_rate).and_then(|x| {
                        let kept = trim(&x, &trim_cfg);
                        if (kept.len() as f64) < limits.min_seconds * SAMPLE_RATE as f64 {
                            return Err(Error::Decode {
                                path: source.clone(),
                                reason: format!("silent or shorter than {} s", limits.min_seconds),
                            });
                        }
                        if let Some(parent) = clip_path.parent() {
                            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
                        }
                        wav::write(&clip_path, &[kept], Encoding::Pcm16)?;
                        Ok(kept.len())
                    })
                };
                let entry = match outcome {
                    Ok(n) => Ok(ManifestClip {
                        clip: clip_rel.to_string_lossy().into_owned(),
                        source: rel.to_string_lossy().into_owned(),
                        duration: n as f64 / SAMPLE_RATE as f64,
                    }),
                    Err(e) => {
                        let reason = match e {
                            Error::Decode { reason, .. } => reason,
                            other => other.to_string(),
                        };
                        warn(&progress_bar, &source.display().to_string(), &reason);
                        Err(Skipped {
                            file: source.display().to_string(),
                            reason,
                        })
                    }
                };
                results
                    .lock()
                    .expect("no worker panics while holding the lock")
                    .push((i, entry, decoded));
                progress_bar.inc(1);
            });
        }
    });
    progress_bar.finish_and_clear();
    let mut results = results.into_inner().expect("workers have finished");
    results.sort_by_key(|r| r.0);
    let mut manifest = Manifest {
        corpus: corpus.into(),
        clips: Vec::new(),
        skipped: Vec::new(),
    };
    for (_, entry, decoded) in results {
        match entry {
            Ok(clip) => {
                report.decoded += decoded as usize;
                manifest.clips.push(clip);
            }
            Err(s) => {
                report.skipped.push(s.clone());
                manifest.skipped.push(s);
            }
        }
    }
    if manifest.clips.is_empty() {
        return Err(Error::NoAudio {
            path: root.into(),
            reason: format!(
                "all {} audio files were skipped (corrupt, empty or silent)",
                manifest.skipped.len()
            ),
        });
    }
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| Error::Json {
        path: manifest_path.clone(),
        reason: e.to_string(),
    })?;
    wav::write_bytes(&manifest_path, text.as_bytes())?;
    Ok(manifest)
}

/// A complete corpus manifest: it exists, parses, and every clip it lists is there.
fn read_manifest(cache: &Path, path: &Path) -> Option<Manifest> {
    let text = std::fs::read_to_string(path).ok()?;
    let m: Manifest = serde_json::from_str(&text).ok()?;
    m.clips
        .iter()
        .all(|c| cache.join(&c.clip).is_file())
        .then_some(m)
}

fn speech_entries(
    m: &Manifest,
    language: &dyn Fn(&Path) -> String,
    licence: &str,
    who: &dyn Fn(&Path) -> (String, crate::Split),
) -> Vec<SpeechEntry> {
    m.clips
        .iter()
        .map(|c| {
            let (speaker, split) = who(Path::new(&c.source));
            SpeechEntry {
                clip: c.clip.clone(),
                source: c.source.clone(),
                corpus: m.corpus.clone(),
                speaker,
                language: language(Path::new(&c.source)),
                duration: c.duration,
                licence: licence.into(),
                split,
            }
        })
        .collect()
}

fn noise_entries(m: &Manifest, licence: &str, rule: NoiseSplit) -> Vec<NoiseEntry> {
    let names: Vec<String> = m.clips.iter().map(|c| c.source.clone()).collect();
    let splits = split_noise_files(&names, rule);
    m.clips
        .iter()
        .zip(splits)
        .map(|(c, s)| NoiseEntry {
            clip: c.clip.clone(),
            source: c.source.clone(),
            corpus: m.corpus.clone(),
            duration: c.duration,
            licence: licence.into(),
            split: s,
        })
        .collect()
}

/// Copies a SOFA file into `cache/heads/` after checking that it opens.
fn install_head(cache: &Path, file: &Path) -> Result<String> {
    let name = file
        .file_name()
        .ok_or_else(|| Error::Invalid(format!("{}: not a file", file.display())))?;
    let rel = Path::new("heads").join(name);
    let target = cache.join(&rel);
    if !target.is_file() {
        Head::from_sofa(file)?;
        std::fs::create_dir_all(cache.join("heads"))
            .map_err(|e| Error::io(cache.join("heads"), e))?;
        let bytes = std::fs::read(file).map_err(|e| Error::io(file, e))?;
        wav::write_bytes(&target, &bytes)?;
    }
    Ok(rel.to_string_lossy().into_owned())
}

/// Unpacks the audio files under `root` of the zip archive `archive` (stored
/// entries; the decompressors are left out) into the folder `<archive>.d`
/// beside it, reusing a complete earlier unpacking; returns that folder.
fn unzip_audio(archive: &Path, root: &str) -> Result<PathBuf> {
    let mut name = archive.as_os_str().to_os_string();
    name.push(".d");
    let target = PathBuf::from(name);
    if target.is_dir() {
        return Ok(target);
    }
    let bad = |e: zip::result::ZipError| Error::NoAudio {
        path: archive.into(),
        reason: format!("cannot read the zip archive: {e}"),
    };
    let file = std::fs::File::open(archive).map_err(|e| Error::io(archive, e))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(bad)?;
    let mut tmp = target.clone().into_os_string();
    tmp.push(".part");
    let tmp = PathBuf::from(tmp);
    let _ = std::fs::remove_dir_all(&tmp);
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(bad)?;
        let Some(rel) = entry.enclosed_name() else {
            continue;
        };
        if !entry.is_file() || !rel.starts_with(root) || !is_audio_file(&rel) {
            continue;
        }
        let out = tmp.join(&rel);
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let mut w = std::fs::File::create(&out).map_err(|e| Error::io(&out, e))?;
        std::io::copy(&mut entry, &mut w).map_err(|e| Error::io(&out, e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, &target).map_err(|e| Error::io(&target, e))?;
    Ok(target)
}

fn debian_corpus(
    opts: &FetchOptions,
    corpus: &DebianCorpus,
    index: &mut Index,
    report: &mut FetchReport,
) -> Result<()> {
    let cache = &opts.cache;
    let unpacked = cache.join("pkg").join(corpus.package);
    let root_of = |tree: &Path| tree.join(corpus.root);
    if corpus.kind == Kind::Head {
        let rel = Path::new("heads").join(corpus.files[0]);
        if !cache.join(&rel).is_file() {
            let tree = unpack(cache, corpus.package, &[], report, opts.progress)?;
            install_head(cache, &root_of(&tree).join(corpus.files[0]))?;
        }
        index.heads.push(HeadEntry {
            file: rel.to_string_lossy().into_owned(),
            corpus: corpus.corpus().into(),
            licence: corpus.licence.into(),
            role: HeadRole::Narrow,
        });
    } else {
        let manifest_path = cache
            .join("clips")
            .join(corpus.corpus())
            .join("manifest.json");
        let mut manifest = match read_manifest(cache, &manifest_path) {
            Some(m) => m,
            None => {
                let tree = unpack(cache, corpus.package, &[], report, opts.progress)?;
                let tree = if corpus.archive.is_empty() {
                    tree
                } else {
                    unzip_audio(&tree.join(corpus.archive), corpus.root)?
                };
                let min_seconds = match corpus.kind {
                    Kind::Noise => MIN_NOISE_SECONDS,
                    _ => MIN_SECONDS,
                };
                decode_corpus(
                    cache,
                    corpus.corpus(),
                    &root_of(&tree),
                    &|p| corpus.wants(p),
                    Limits {
                        min_rate: MIN_DEBIAN_RATE,
                        min_seconds,
                    },
                    report,
                    opts.progress,
                )?
            }
        };
        manifest
            .clips
            .retain(|c| corpus.wants(Path::new(&c.source)));
        match corpus.kind {
            Kind::Speech => index.speech.extend(speech_entries(
                &manifest,
                &|p| corpus.language(p),
                corpus.licence,
                &|p| corpus.speaker(p),
            )),
            _ => index.noise.extend(noise_entries(
                &manifest,
                corpus.licence,
                corpus.noise_split(),
            )),
        }
    }
    if !opts.keep_packages && unpacked.is_dir() {
        std::fs::remove_dir_all(&unpacked).map_err(|e| Error::io(&unpacked, e))?;
    }
    Ok(())
}

/// apt-get options for a private sources list with Debian's contrib and
/// non-free components (for `mbrola` and its voices), updated once.
fn private_apt(cache: &Path) -> Result<Vec<String>> {
    let dir = cache.join("apt");
    let lists = dir.join("lists");
    std::fs::create_dir_all(lists.join("partial")).map_err(|e| Error::io(&lists, e))?;
    let release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let codename = release
        .lines()
        .find_map(|l| l.strip_prefix("VERSION_CODENAME="))
        .map(|c| c.trim_matches('"').to_string())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            Error::Invalid("no VERSION_CODENAME in /etc/os-release: not Debian?".into())
        })?;
    let list = dir.join("sources.list");
    wav::write_bytes(
        &list,
        format!(
            "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian {codename} main contrib non-free\n"
        )
        .as_bytes(),
    )?;
    let opts = vec![
        "-o".to_string(),
        format!("Dir::Etc::SourceList={}", list.display()),
        "-o".into(),
        "Dir::Etc::SourceParts=/dev/null".into(),
        "-o".into(),
        format!("Dir::State::Lists={}", lists.display()),
    ];
    let updated = std::fs::read_dir(&lists)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .any(|e| e.file_name().to_string_lossy().ends_with("Packages"))
        })
        .unwrap_or(false);
    if !updated {
        run_command(Command::new("apt-get").args(&opts).arg("update"))?;
    }
    Ok(opts)
}

/// The MBROLA talkers: decoded clips, synthesising them first when needed.
fn mbrola_corpus(opts: &FetchOptions, report: &mut FetchReport) -> Result<Option<Manifest>> {
    use crate::mbrola::{espeak_data, synthesise, VOICES};
    let cache = &opts.cache;
    let manifest_path = cache.join("clips").join("mbrola").join("manifest.json");
    if let Some(m) = read_manifest(cache, &manifest_path) {
        return Ok(Some(m));
    }
    let Some(data) = espeak_data() else {
        eprintln!(
            "warning: espeak-ng not found: skipping the {} MBROLA talkers (apt-get install espeak-ng to add them)",
            VOICES.len()
        );
        return Ok(None);
    };
    let apt = private_apt(cache)?;
    let tools = unpack(cache, "mbrola", &apt, report, opts.progress)?;
    let mut voices = Vec::new();
    for v in VOICES {
        let package = format!("mbrola-{}", v.name);
        voices.push((v, unpack(cache, &package, &apt, report, opts.progress)?));
    }
    let raw = cache.join("mbrola").join("raw");
    let spinner = bar(opts.progress, 1, "synthesise MBROLA voices".into());
    synthesise(
        &data,
        &voices,
        &tools.join("usr/bin"),
        &cache.join("mbrola").join("home"),
        &raw,
    )?;
    spinner.finish_and_clear();
    let m = decode_corpus(
        cache,
        "mbrola",
        &raw,
        &|_| true,
        Limits::ANY,
        report,
        opts.progress,
    )?;
    if !opts.keep_packages {
        for tree in std::iter::once(&tools).chain(voices.iter().map(|v| &v.1)) {
            std::fs::remove_dir_all(tree).map_err(|e| Error::io(tree, e))?;
        }
    }
    Ok(Some(m))
}

/// A user's folder of speech or noise, decoded into the cache under a name
/// made of its corpus and a hash of its path.
fn user_corpus(
    opts: &FetchOptions,
    folder: &UserFolder,
    report: &mut FetchReport,
) -> Result<Manifest> {
    let name = format!(
        "{}-{:08x}",
        folder.corpus(),
        stable_hash(&folder.path.to_string_lossy()) as u32
    );
    decode_corpus(
        &opts.cache,
        &name,
        &folder.path,
        &|_| true,
        Limits::ANY,
        report,
        opts.progress,
    )
}

/// Runs the whole pipeline and writes `cache/index.json`.
pub fn fetch(opts: &FetchOptions) -> Result<(Index, FetchReport)> {
    let cache = &opts.cache;
    std::fs::create_dir_all(cache).map_err(|e| Error::io(cache, e))?;
    let mut index = Index::default();
    let mut report = FetchReport::default();
    if opts.debian {
        for corpus in DEBIAN
            .iter()
            .filter(|c| !opts.skip_packages.iter().any(|s| s == c.package))
        {
            debian_corpus(opts, corpus, &mut index, &mut report)?;
        }
    }
    if opts.debian && !opts.skip_packages.iter().any(|s| s == "libmysofa-source") {
        let dir = unpack_measured_heads(&cache.join("pkg").join("libmysofa-source"))?;
        for head in MEASURED_HEADS {
            index.heads.push(HeadEntry {
                file: install_head(cache, &dir.join(head.file))?,
                corpus: format!("libmysofa-source: {}", head.what),
                licence: head.licence.into(),
                role: head.role,
            });
        }
    }
    if opts.debian && opts.mbrola && !opts.skip_packages.iter().any(|s| s == "mbrola") {
        if let Some(m) = mbrola_corpus(opts, &mut report)? {
            index.speech.extend(speech_entries(
                &m,
                &|_| "en".into(),
                "MBROLA voice licence (non-commercial, non-military use)",
                &crate::mbrola::speaker,
            ));
        }
    }
    for folder in &opts.speech {
        let m = user_corpus(opts, folder, &mut report)?;
        index.speech.extend(speech_entries(
            &m,
            &|_| "und".into(),
            "user-supplied",
            &|p| folder.speaker(p),
        ));
    }
    for folder in &opts.noise {
        let m = user_corpus(opts, folder, &mut report)?;
        index.noise.extend(noise_entries(
            &m,
            "user-supplied",
            folder.split.map_or(NoiseSplit::ByFile, NoiseSplit::All),
        ));
    }
    for file in &opts.sofa {
        let rel = install_head(cache, file)?;
        index.heads.push(HeadEntry {
            file: rel,
            corpus: "user".into(),
            licence: "user-supplied".into(),
            role: HeadRole::Narrow,
        });
    }
    if index.speech.is_empty() {
        return Err(Error::NoAudio {
            path: cache.clone(),
            reason: "no speech corpus was given".into(),
        });
    }
    report.index_written = index.write(&cache.join(INDEX_FILE))?;
    Ok((index, report))
}
