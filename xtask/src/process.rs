//! `cargo xtask process`: the plugin's audio path over a WAV file, one WAV per output bus.

use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};

use knowledge_boost::{
    models::{self, Mode},
    offline::{self, RenderSettings},
    voice::{Enrollment, WAV_SECONDS},
    voice_wav,
};

/// Inputs longer than this many seconds show a progress bar.
pub const PROGRESS_SECONDS: f64 = 30.0;

/// Arguments of `cargo xtask process`.
#[derive(clap::Args)]
pub struct Args {
    /// separate, enhance or extract.
    #[arg(long, default_value = "separate")]
    pub mode: String,
    /// Binaural (2-channel) input WAV, any sample rate.
    #[arg(long = "in")]
    pub input: PathBuf,
    /// Folder for the output WAVs (created if missing).
    #[arg(long)]
    pub out_dir: PathBuf,
    /// Run the small model alone (no hints).
    #[arg(long)]
    pub no_boost: bool,
    /// Merge the hint of chunk k - N at chunk k instead of the trained C (a
    /// slower or faster link; the merges still align to the trained C).
    #[arg(long)]
    pub link_delay: Option<u64>,
    /// Weight file instead of the built-in model.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Extract mode: a WAV of the target talking alone (any rate and channel
    /// count, 3 to 30 s), the voice the model extracts.
    #[arg(long)]
    pub enroll: Option<PathBuf>,
    /// Get the hints from a hint server (`cargo xtask serve`) at HOST:PORT
    /// instead of the local large model.
    #[arg(long, requires_all = ["fingerprint", "token"])]
    pub hint_server: Option<String>,
    /// The hint server's certificate fingerprint (as it prints it).
    #[arg(long)]
    pub fingerprint: Option<String>,
    /// The hint server's client token.
    #[arg(long)]
    pub token: Option<String>,
    /// Hints travel as 16-bit floats (half the bandwidth).
    #[arg(long)]
    pub f16: bool,
}

impl Args {
    /// The hint server settings the flags give, if any.
    pub fn hint_server(&self) -> Option<kb_link::ClientSettings> {
        Some(kb_link::ClientSettings {
            server: self.hint_server.clone()?,
            fingerprint: self.fingerprint.clone().unwrap_or_default(),
            token: self.token.clone().unwrap_or_default(),
            encoding: if self.f16 {
                kb_link::Encoding::F16
            } else {
                kb_link::Encoding::F32
            },
        })
    }
}

/// The enrolled voice of a WAV file, as the plugin's "Load WAV" makes it.
pub fn enroll(path: &Path) -> Result<Enrollment, String> {
    let wav = voice_wav::read(path, WAV_SECONDS)?;
    let embedding = crate::speaker::encoder(WAV_SECONDS)?
        .embed(&wav)
        .map_err(|e| format!("cannot enroll {}: {e}", path.display()))?;
    Ok(Enrollment {
        embedding: Some(embedding.to_vec()),
        source: path.display().to_string(),
    })
}

/// Reads a 2-channel WAV as [left, right] and its rate; clear errors for anything else.
pub fn read_binaural(path: &Path) -> Result<([Vec<f32>; 2], u32), String> {
    let reader = hound::WavReader::open(path)
        .map_err(|e| format!("cannot read {} as WAV: {e}", path.display()))?;
    let spec = reader.spec();
    if spec.channels != 2 {
        return Err(format!(
            "{} has {} channel(s); the models need a binaural (2-channel) recording",
            path.display(),
            spec.channels
        ));
    }
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.into_samples::<f32>().collect::<Result<_, _>>(),
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
        }
    }
    .map_err(|e| format!("{} is corrupt: {e}", path.display()))?;
    if samples.is_empty() {
        return Err(format!("{} holds no audio", path.display()));
    }
    let (l, r) = samples.chunks_exact(2).map(|f| (f[0], f[1])).unzip();
    Ok(([l, r], spec.sample_rate))
}

/// Writes a stereo float WAV.
pub fn write_stereo(path: &Path, left: &[f32], right: &[f32], rate: u32) -> Result<(), String> {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let err = |e: hound::Error| format!("cannot write {}: {e}", path.display());
    let mut w = hound::WavWriter::create(path, spec).map_err(err)?;
    for (l, r) in left.iter().zip(right) {
        w.write_sample(*l).map_err(err)?;
        w.write_sample(*r).map_err(err)?;
    }
    w.finalize().map_err(err)
}

/// Output file names per bus for `mode`.
pub fn bus_names(mode: Mode) -> &'static [&'static str] {
    match mode {
        Mode::Separate => &["talker1", "talker2"],
        Mode::Enhance => &["enhanced"],
        Mode::Extract => &["target"],
    }
}

/// Runs the command.
pub fn run(args: &Args) -> Result<(), String> {
    let mode = Mode::from_name(&args.mode).ok_or_else(|| {
        format!(
            "unknown mode `{}` (separate, enhance or extract)",
            args.mode
        )
    })?;
    let voice =
        match (&args.enroll, mode) {
            (Some(path), Mode::Extract) => enroll(path)?,
            (None, Mode::Extract) => return Err(
                "extract mode needs --enroll VOICE.wav: a recording of the target talking alone"
                    .into(),
            ),
            (Some(_), _) => return Err("--enroll is for --mode extract".into()),
            (None, _) => Enrollment::default(),
        };
    // A file named on the command line is used or refused, never replaced by
    // the built-in model (the plugin falls back instead: a saved session must open).
    if let Some(path) = &args.weights {
        models::load_file(path, mode, voice.embedding())
            .map_err(|e| format!("cannot use weight file {}: {e}", path.display()))?;
    }
    let (input, rate) = read_binaural(&args.input)?;
    let settings = RenderSettings {
        weights: args.weights.as_ref().map(|p| p.display().to_string()),
        no_boost: args.no_boost,
        link_delay: args.link_delay,
        voice,
        hint_server: args.hint_server(),
    };
    // Long files show how far the render is.
    let bar = if input[0].len() as f64 > PROGRESS_SECONDS * f64::from(rate) {
        ProgressBar::new(1000)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {percent:>3} % of the input, {eta} left")
            .expect("template")
            .progress_chars("=> "),
    );
    let out = offline::render_with_progress(
        [&input[0], &input[1]],
        f64::from(rate),
        mode,
        &settings,
        &mut |done| bar.set_position((done * 1000.0) as u64),
    )?;
    bar.finish_and_clear();
    if !out.message.is_empty() {
        eprintln!("warning: {}", out.message);
    }
    std::fs::create_dir_all(&args.out_dir)
        .map_err(|e| format!("cannot create {}: {e}", args.out_dir.display()))?;
    for (bus, name) in bus_names(mode).iter().enumerate() {
        let path = args.out_dir.join(format!("{name}.wav"));
        write_stereo(
            &path,
            &out.channels[2 * bus],
            &out.channels[2 * bus + 1],
            rate,
        )?;
        println!("wrote {}", path.display());
    }
    let model = match &out.model {
        Some(m) if m.delay.is_some() => format!(
            "{} (a pair), hints on time {:.1} %",
            m.name, out.hints_on_time
        ),
        Some(m) => format!("{} (a single model, no hints)", m.name),
        None => "none (pass-through)".into(),
    };
    println!(
        "{} Hz, latency {} samples (aligned), model: {model}",
        rate, out.latency
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("kb-xtask-process-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("temp dir");
        d
    }

    fn write(path: &Path, channels: u16, frames: usize) {
        let spec = hound::WavSpec {
            channels,
            sample_rate: 48_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).expect("create");
        for i in 0..frames * usize::from(channels) {
            w.write_sample(((i % 100) as i16 - 50) * 300)
                .expect("sample");
        }
        w.finalize().expect("finalize");
    }

    #[test]
    fn bad_inputs_get_clear_errors() {
        let d = dir();
        let mono = d.join("mono.wav");
        write(&mono, 1, 100);
        let e = read_binaural(&mono).unwrap_err();
        assert!(e.contains("1 channel(s)") && e.contains("binaural"), "{e}");
        let empty = d.join("empty.wav");
        write(&empty, 2, 0);
        assert!(read_binaural(&empty).unwrap_err().contains("no audio"));
        let junk = d.join("junk.wav");
        std::fs::write(&junk, b"RIFF nonsense").expect("write");
        assert!(read_binaural(&junk).unwrap_err().contains("cannot read"));
        let missing = d.join("missing.wav");
        assert!(read_binaural(&missing).unwrap_err().contains("cannot read"));
    }

    #[test]
    fn process_writes_one_aligned_wav_per_bus() {
        let d = dir();
        let input = d.join("mix.wav");
        write(&input, 2, 9_000);
        let args = Args {
            mode: "separate".into(),
            input: input.clone(),
            out_dir: d.join("out"),
            no_boost: false,
            link_delay: None,
            weights: None,
            enroll: None,
            hint_server: None,
            fingerprint: None,
            token: None,
            f16: false,
        };
        run(&args).expect("process");
        for name in ["talker1", "talker2"] {
            let (out, rate) =
                read_binaural(&d.join("out").join(format!("{name}.wav"))).expect("output");
            assert_eq!(rate, 48_000);
            assert_eq!(out[0].len(), 9_000, "as long as the input");
        }
        let wrong = Args {
            mode: "karaoke".into(),
            ..args
        };
        assert!(run(&wrong).unwrap_err().contains("unknown mode"));
    }

    #[test]
    fn a_weight_file_that_cannot_be_used_is_an_error_naming_it() {
        let d = dir();
        let input = d.join("mix-weights.wav");
        write(&input, 2, 2_000);
        let missing = d.join("missing.safetensors");
        let junk = d.join("junk.safetensors");
        std::fs::write(&junk, b"not a weight file").expect("write");
        for file in [missing, junk] {
            let args = Args {
                mode: "separate".into(),
                input: input.clone(),
                out_dir: d.join("out-weights"),
                no_boost: false,
                link_delay: None,
                weights: Some(file.clone()),
                enroll: None,
                hint_server: None,
                fingerprint: None,
                token: None,
                f16: false,
            };
            let e = run(&args).unwrap_err();
            assert!(e.contains(&file.display().to_string()), "{e}");
            assert!(
                !d.join("out-weights").exists(),
                "nothing written after a refusal"
            );
        }
    }

    /// Extract needs --enroll; with it, the target bus is the path run on the
    /// speaker encoder's embedding of that WAV, computed here independently.
    #[test]
    fn extract_keeps_the_enrolled_voice_and_needs_one() {
        let d = dir();
        let input = d.join("mix-extract.wav");
        write(&input, 2, 9_000);
        let weights = kb_e2e::extract_weight_file("process-extract", 7);
        let root = kb_e2e::workspace_root();
        let voice = root.join("models/speaker/tests/golden/fillets.wav");
        let args = Args {
            mode: "extract".into(),
            input: input.clone(),
            out_dir: d.join("out-extract"),
            no_boost: false,
            link_delay: None,
            weights: Some(weights.clone()),
            enroll: None,
            hint_server: None,
            fingerprint: None,
            token: None,
            f16: false,
        };
        assert!(run(&args).unwrap_err().contains("--enroll"));
        let args = Args {
            enroll: Some(voice.clone()),
            ..args
        };
        run(&args).expect("extract");
        let (got, _) = read_binaural(&d.join("out-extract/target.wav")).expect("target.wav");

        let clip: Vec<f32> = hound::WavReader::open(&voice)
            .expect("voice")
            .into_samples::<i16>()
            .map(|s| f32::from(s.expect("sample")) / 32768.0)
            .collect();
        let enc =
            kb_speaker::EncoderWeights::load(&root.join(crate::speaker::ENCODER)).expect("encoder");
        let embedding = kb_speaker::SpeakerEncoder::new(enc, 10.0)
            .embed(&clip)
            .expect("embedding");
        let (x, rate) = read_binaural(&input).expect("input");
        let settings = RenderSettings {
            weights: Some(weights.display().to_string()),
            voice: Enrollment {
                embedding: Some(embedding.to_vec()),
                source: String::new(),
            },
            ..RenderSettings::default()
        };
        let want = offline::render([&x[0], &x[1]], f64::from(rate), Mode::Extract, &settings)
            .expect("render");
        assert!(want.model.is_some(), "{}", want.message);
        for (ch, (got, want)) in got.iter().zip(&want.channels).enumerate() {
            assert_eq!(got, want, "ear {ch}");
        }

        let wrong = Args {
            mode: "separate".into(),
            weights: None,
            ..args
        };
        assert!(run(&wrong).unwrap_err().contains("--enroll is for"));
    }
}
