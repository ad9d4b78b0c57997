//! `cargo xtask demo`: builds the bundles, plays a demo clip through the CLAP
//! bundle (clack-host harness) with boost on and off, writes the WAVs and a
//! spectrogram PNG and prints each talker's SI-SDRi. To separate, two test
//! talkers the models never heard (`assets/demo/`); to enhance, one test
//! talker in test noise (`assets/demo_enhance/`); to extract, one of two test
//! talkers, enrolled from another recording of them (`assets/demo_extract/`),
//! the voice handed to the plugin in its saved state as a session would.

use std::path::{Path, PathBuf};

use kb_e2e::{binaural_sources, process, si_sdr, state_roundtrip, with_field, Run};
use kb_models::{weight_file::WeightFile, WeightsConfig};
use knowledge_boost::models::Mode;

use crate::eval::{metrics::permutations, resample::resample_oct};
use crate::process::{enroll, read_binaural, write_stereo};

mod spectrogram;

/// The models' sample rate, the rate of the demo clip.
const CLIP_RATE: u32 = kb_models::SAMPLE_RATE as u32;

/// Arguments of `cargo xtask demo`.
#[derive(clap::Args)]
pub struct Args {
    /// Folder for the WAVs and the spectrogram.
    #[arg(long, default_value = "target/demo")]
    pub out_dir: PathBuf,
    /// What the plugin does: `separate` (two talkers), `enhance` (one talker in
    /// noise) or `extract` (the enrolled one of two talkers).
    #[arg(long, default_value = "separate", value_parser = parse_mode)]
    pub mode: Mode,
    /// Weight file for the mode instead of the built-in model.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Host sample rate of the demo.
    #[arg(long, default_value_t = 48_000)]
    pub rate: u32,
    /// Demo clip folder: `mixture.wav` and its talkers `source00.wav` (and
    /// `source01.wav` to separate or extract; `enrollment.wav` to extract) at
    /// 16 kHz, as `cargo xtask data render` writes them (default:
    /// `assets/demo`, `assets/demo_enhance` or `assets/demo_extract`).
    #[arg(long)]
    pub clip: Option<PathBuf>,
    /// Separate: use two synthetic harmonic talkers instead of the clip.
    #[arg(long)]
    pub synthetic: bool,
    /// Length in seconds of the synthetic talkers.
    #[arg(long, default_value_t = 6.0)]
    pub seconds: f64,
}

/// Parses a mode name (`separate`, `enhance`, `extract`).
fn parse_mode(s: &str) -> Result<Mode, String> {
    Mode::from_name(s)
        .ok_or_else(|| format!("mode `{s}`: the demo plays `separate`, `enhance` or `extract`"))
}

/// The mode's default clip folder.
fn default_clip(mode: Mode) -> &'static str {
    match mode {
        Mode::Separate => "assets/demo",
        Mode::Enhance => "assets/demo_enhance",
        Mode::Extract => "assets/demo_extract",
    }
}

/// Talkers in the mode's clip: Extract's has the target and the talker it removes.
fn clip_talkers(mode: Mode) -> usize {
    match mode {
        Mode::Extract => 2,
        _ => mode.sources(),
    }
}

/// Whether the weights the plugin will run are a pair (false: a single model,
/// whose boost switch changes nothing, or no model at all).
fn runs_a_pair(mode: Mode, weights: Option<&Path>) -> Result<bool, String> {
    let file = match (weights, mode.default_weights()) {
        (Some(path), _) => WeightFile::load(path).map_err(|e| e.to_string())?,
        (None, Some(bytes)) => {
            WeightFile::from_bytes(bytes, "built-in model").map_err(|e| e.to_string())?
        }
        (None, None) => return Ok(false),
    };
    Ok(matches!(file.config, WeightsConfig::Joint(_)))
}

/// The plugin's saved state with Extract on and the voice of `enrollment`
/// (a 16 kHz WAV) enrolled, as a session saved after "Load WAV" holds it.
fn extract_session(plugin: &Path, enrollment: &Path) -> Result<Vec<u8>, String> {
    let voice = enroll(enrollment)?;
    // Stepped parameters take their index: Extract is 2.
    let saved = state_roundtrip(plugin, &[("mode", 2.0)])?.saved;
    let json = serde_json::to_string(&voice).map_err(|e| e.to_string())?;
    with_field(&saved, "voice", json)
}

/// A binaural mixture and its talkers (one to enhance, two to separate).
type Scene = ([Vec<f32>; 2], Vec<[Vec<f32>; 2]>);

/// The clip's mixture and its `talkers` as heard at the head (direct path and
/// early reflections, the training targets), resampled to `rate`.
fn clip_scene(dir: &Path, talkers: usize, rate: u32) -> Result<Scene, String> {
    let read = |name: &str| -> Result<[Vec<f32>; 2], String> {
        let path = dir.join(name);
        let (x, r) = read_binaural(&path)?;
        if r != CLIP_RATE {
            return Err(format!(
                "{} is at {r} Hz; the demo clip must be at {CLIP_RATE} Hz",
                path.display()
            ));
        }
        Ok(x.map(|ch| {
            let wide: Vec<f64> = ch.iter().map(|v| f64::from(*v)).collect();
            resample_oct(&wide, rate as usize, CLIP_RATE as usize)
                .into_iter()
                .map(|v| v as f32)
                .collect()
        }))
    };
    let mix = read("mixture.wav")?;
    let sources = (0..talkers)
        .map(|k| read(&format!("source{k:02}.wav")))
        .collect::<Result<Vec<_>, _>>()?;
    if sources.iter().any(|s| s[0].len() != mix[0].len()) {
        return Err(format!(
            "the mixture and talkers in {} differ in length",
            dir.display()
        ));
    }
    Ok((mix, sources))
}

/// Two synthetic harmonic talkers with different delays between the ears.
fn synthetic_scene(rate: u32, seconds: f64) -> Scene {
    let sources = binaural_sources(f64::from(rate), seconds, 2024);
    let mix = [0, 1].map(|ear| {
        sources[0][ear]
            .iter()
            .zip(&sources[1][ear])
            .map(|(a, b)| a + b)
            .collect()
    });
    (mix, sources.to_vec())
}

/// Builds the release bundles exactly as `cargo xtask bundle knowledge_boost
/// --release` does (the plugin alone, so the bundles link no candle), printing
/// what it does. The plugin's dependencies come from the xtask build where
/// their features agree; what differs (the engine crate without candle, the
/// plugin itself) compiles once.
pub fn release_bundle() -> nice_plug_xtask::Result<PathBuf> {
    let name = knowledge_boost::BUNDLE_NAME;
    println!("building the {name} bundles (release, the plugin alone)...");
    nice_plug_xtask::chdir_workspace_root()?;
    let release = ["--release".to_owned()];
    nice_plug_xtask::build(&[name.to_owned()], &release)?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| kb_e2e::workspace_root().join("target"), PathBuf::from);
    nice_plug_xtask::bundle(&target, name, &release, false)?;
    Ok(target.join("bundled").join(format!("{name}.clap")))
}

/// Each talker's SI-SDRi per ear, [talker 1 L, talker 1 R, talker 2 L, ...],
/// talkers matched to output buses by the best assignment.
fn score(est: &[[&[f32]; 2]], sources: &[[Vec<f32>; 2]], mix: &[Vec<f32>; 2]) -> Vec<f64> {
    let gains = |perm: &[usize]| -> Vec<f64> {
        (0..sources.len())
            .flat_map(|k| {
                let (e, s) = (&est[perm[k]], &sources[k]);
                [0, 1].map(|ear| si_sdr(e[ear], &s[ear]) - si_sdr(&mix[ear], &s[ear]))
            })
            .collect()
    };
    permutations(sources.len())
        .iter()
        .map(|p| gains(p))
        .max_by(|a, b| a.iter().sum::<f64>().total_cmp(&b.iter().sum::<f64>()))
        .unwrap_or_default()
}

/// Runs the command.
pub fn run(args: &Args) -> Result<(), String> {
    let mode = args.mode;
    if args.synthetic && mode != Mode::Separate {
        return Err("--synthetic plays two talkers: it needs --mode separate".into());
    }
    let plugin = release_bundle().map_err(|e| format!("bundling failed: {e:#}"))?;
    let built_in = mode.default_weights().is_some();
    let pair = runs_a_pair(mode, args.weights.as_deref())?;
    if let Some(w) = &args.weights {
        // Read by the plugin when the host creates it.
        std::env::set_var(mode.env_var(), w);
    } else if !built_in {
        println!(
            "note: no assets/{}.safetensors in this build: the plugin passes audio through, so nothing is scored (pass --weights FILE)",
            mode.name()
        );
    }
    let scored = built_in || args.weights.is_some();
    let rate = f64::from(args.rate);
    let clip = kb_e2e::workspace_root().join(
        args.clip
            .clone()
            .unwrap_or_else(|| PathBuf::from(default_clip(mode))),
    );
    let (mix, sources) = if args.synthetic {
        synthetic_scene(args.rate, args.seconds)
    } else {
        clip_scene(&clip, clip_talkers(mode), args.rate)?
    };
    let state = match mode {
        Mode::Extract => Some(extract_session(&plugin, &clip.join("enrollment.wav"))?),
        _ => None,
    };
    // The scored talkers: Extract's target alone.
    let targets = &sources[..mode.sources()];
    std::fs::create_dir_all(&args.out_dir)
        .map_err(|e| format!("cannot create {}: {e}", args.out_dir.display()))?;
    let dir = &args.out_dir;
    write_stereo(&dir.join("mixture.wav"), &mix[0], &mix[1], args.rate)?;
    for (k, s) in sources.iter().enumerate() {
        write_stereo(
            &dir.join(format!("talker{}_clean.wav", k + 1)),
            &s[0],
            &s[1],
            args.rate,
        )?;
    }
    // Mode is a three-step enum parameter: its normalised value is index / 2.
    let mode_value = Mode::ALL.iter().position(|m| *m == mode).unwrap_or(0) as f64 / 2.0;
    let mut boosted: Vec<Vec<f32>> = Vec::new();
    let switches: &[bool] = if pair { &[true, false] } else { &[true] };
    if scored && !pair {
        println!("a single model runs: no hints, so boost on and off are the same");
    }
    for &boost in switches {
        let run = Run {
            plugin: plugin.clone(),
            rate,
            offline: true,
            params: vec![
                ("mode", mode_value),
                ("boost", if boost { 1.0 } else { 0.0 }),
            ],
            max_block: 1024,
            seed: 1,
            aux: Default::default(),
            mono: false,
            state: state.clone(),
        };
        let padded: [Vec<f32>; 2] = mix.clone().map(|mut m| {
            m.resize(m.len() + (rate * 0.1) as usize, 0.0);
            m
        });
        let out = process(&run, [&padded[0], &padded[1]])?;
        let lat = out.latency as usize;
        let n = mix[0].len();
        let est: Vec<[&[f32]; 2]> = (0..targets.len())
            .map(|bus| [0, 1].map(|ear| &out.channels[2 * bus + ear][lat..lat + n]))
            .collect();
        let tag = match (pair, boost) {
            (false, _) => "output",
            (true, true) => "boost_on",
            (true, false) => "boost_off",
        };
        for (bus, e) in est.iter().enumerate() {
            let path = dir.join(format!("{tag}_bus{}.wav", bus + 1));
            write_stereo(&path, e[0], e[1], args.rate)?;
            if boost {
                boosted.push(e[0].to_vec());
            }
        }
        let timing = format!("latency {lat} samples = {:.2} ms", lat as f64 / rate * 1e3);
        if !scored {
            println!("{tag}: passed through ({timing})");
            continue;
        }
        let best = score(&est, targets, &mix);
        let talkers: Vec<String> = (0..targets.len())
            .map(|k| {
                format!(
                    "talker {} {:+.2} / {:+.2} dB (L / R)",
                    k + 1,
                    best[2 * k],
                    best[2 * k + 1]
                )
            })
            .collect();
        println!(
            "{tag}: SI-SDRi {:+.2} dB ({}; {timing})",
            best.iter().sum::<f64>() / best.len() as f64,
            talkers.join(", ")
        );
    }
    let mut panels: Vec<(String, &[f32])> = vec![("input (left ear)".into(), &mix[0])];
    for (bus, x) in boosted.iter().enumerate() {
        let with = if pair { ", boost on" } else { "" };
        panels.push((format!("output bus {}{with} (left ear)", bus + 1), x));
    }
    for (k, s) in sources.iter().enumerate() {
        let role = if k < targets.len() {
            "the target"
        } else {
            "removed"
        };
        panels.push((format!("talker {} alone, {role} (left ear)", k + 1), &s[0]));
    }
    let titled: Vec<(&str, &[f32])> = panels.iter().map(|(t, x)| (t.as_str(), *x)).collect();
    let png = dir.join("spectrogram.png");
    spectrogram::draw(&titled, args.rate, &png)?;
    println!("wrote the WAVs and {} to {}", png.display(), dir.display());
    Ok(())
}
