//! `cargo xtask demo`: builds the bundles, plays the demo clip (two test
//! talkers the models never heard, `assets/demo/`) through the CLAP bundle
//! (clack-host harness) with boost on and off, writes the WAVs and prints each
//! talker's SI-SDRi.

use std::path::{Path, PathBuf};

use kb_e2e::{binaural_sources, process, si_sdr, Run};

use crate::eval::resample::resample_oct;
use crate::process::{read_binaural, write_stereo};

/// The models' sample rate, the rate of the demo clip.
const CLIP_RATE: u32 = kb_models::SAMPLE_RATE as u32;

/// Arguments of `cargo xtask demo`.
#[derive(clap::Args)]
pub struct Args {
    /// Folder for the WAVs.
    #[arg(long, default_value = "target/demo")]
    pub out_dir: PathBuf,
    /// Separate-mode weight file instead of the built-in model.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Host sample rate of the demo.
    #[arg(long, default_value_t = 48_000)]
    pub rate: u32,
    /// Demo clip folder: `mixture.wav`, `source00.wav` and `source01.wav` at
    /// 16 kHz, as `cargo xtask data render` writes them.
    #[arg(long, default_value = "assets/demo")]
    pub clip: PathBuf,
    /// Use two synthetic harmonic talkers instead of the clip.
    #[arg(long)]
    pub synthetic: bool,
    /// Length in seconds of the synthetic talkers.
    #[arg(long, default_value_t = 6.0)]
    pub seconds: f64,
}

/// Two binaural talkers and their mixture.
type Scene = ([Vec<f32>; 2], [[Vec<f32>; 2]; 2]);

/// The clip's mixture and its two talkers as heard at the head (direct path and
/// early reflections, the training targets), resampled to `rate`.
fn clip_scene(dir: &Path, rate: u32) -> Result<Scene, String> {
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
    let sources = [read("source00.wav")?, read("source01.wav")?];
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
    (mix, sources)
}

/// Builds the release bundles exactly as `cargo xtask bundle knowledge_boost
/// --release` does (the plugin alone, so the bundles link no candle), printing
/// what it does. The plugin's dependencies come from the xtask build where
/// their features agree; what differs (the engine crate without candle, the
/// plugin itself) compiles once.
fn release_bundle() -> nice_plug_xtask::Result<PathBuf> {
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

/// Runs the command.
pub fn run(args: &Args) -> Result<(), String> {
    let plugin = release_bundle().map_err(|e| format!("bundling failed: {e:#}"))?;
    let built_in = knowledge_boost::models::Mode::Separate
        .default_weights()
        .is_some();
    if let Some(w) = &args.weights {
        // Read by the plugin when the host creates it.
        std::env::set_var(knowledge_boost::models::Mode::Separate.env_var(), w);
    } else if !built_in {
        println!("note: no assets/separate.safetensors in this build: the plugin passes audio through, so nothing is scored (pass --weights FILE)");
    }
    let scored = built_in || args.weights.is_some();
    let rate = f64::from(args.rate);
    let clip = kb_e2e::workspace_root().join(&args.clip);
    let (mix, sources) = if args.synthetic {
        synthetic_scene(args.rate, args.seconds)
    } else {
        clip_scene(&clip, args.rate)?
    };
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
    for boost in [true, false] {
        let run = Run {
            plugin: plugin.clone(),
            rate,
            offline: true,
            params: vec![("boost", if boost { 1.0 } else { 0.0 })],
            max_block: 1024,
            seed: 1,
            aux: Default::default(),
        };
        let padded: [Vec<f32>; 2] = mix.clone().map(|mut m| {
            m.resize(m.len() + (rate * 0.1) as usize, 0.0);
            m
        });
        let out = process(&run, [&padded[0], &padded[1]])?;
        let lat = out.latency as usize;
        let n = mix[0].len();
        let est: Vec<[&[f32]; 2]> = (0..2)
            .map(|bus| [0, 1].map(|ear| &out.channels[2 * bus + ear][lat..lat + n]))
            .collect();
        let tag = if boost { "boost_on" } else { "boost_off" };
        for (bus, e) in est.iter().enumerate() {
            let path = dir.join(format!("{tag}_bus{}.wav", bus + 1));
            write_stereo(&path, e[0], e[1], args.rate)?;
        }
        let timing = format!("latency {lat} samples = {:.2} ms", lat as f64 / rate * 1e3);
        if !scored {
            println!("{tag}: passed through ({timing})");
            continue;
        }
        // Talkers are matched to buses by the better of the two assignments.
        let score = |perm: [usize; 2]| -> Vec<f64> {
            (0..2)
                .flat_map(|k| {
                    let (e, s) = (&est[perm[k]], &sources[k]);
                    [0, 1].map(|ear| si_sdr(e[ear], &s[ear]) - si_sdr(&mix[ear], &s[ear]))
                })
                .collect()
        };
        let (a, b) = (score([0, 1]), score([1, 0]));
        let best = if a.iter().sum::<f64>() >= b.iter().sum::<f64>() {
            a
        } else {
            b
        };
        let talkers: Vec<String> = (0..2)
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
    println!("wrote the WAVs to {}", dir.display());
    Ok(())
}
