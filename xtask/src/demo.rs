//! `cargo xtask demo`: builds the bundles, renders a demo mixture through the
//! CLAP bundle (clack-host harness) with boost on and off, writes the WAVs and
//! prints each talker's SI-SDRi.

use std::path::PathBuf;

use kb_e2e::{binaural_sources, process, si_sdr, Run};

use crate::process::write_stereo;

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
    /// Length in seconds.
    #[arg(long, default_value_t = 6.0)]
    pub seconds: f64,
}

/// Runs the command.
pub fn run(args: &Args) -> Result<(), String> {
    nice_plug_xtask::main_with_args(
        "cargo xtask",
        ["bundle", "knowledge_boost", "--release"].map(String::from),
    )
    .map_err(|e| format!("bundling failed: {e:#}"))?;
    let plugin = kb_e2e::workspace_root().join("target/bundled/knowledge_boost.clap");
    if let Some(w) = &args.weights {
        // Read by the plugin when the host creates it.
        std::env::set_var(knowledge_boost::models::Mode::Separate.env_var(), w);
    } else if knowledge_boost::models::Mode::Separate
        .default_weights()
        .is_none()
    {
        println!("note: no assets/separate.safetensors in this build: the plugin passes audio through (pass --weights FILE)");
    }
    let rate = f64::from(args.rate);
    let sources = binaural_sources(rate, args.seconds, 2024);
    let mix: [Vec<f32>; 2] = [0, 1].map(|ear| {
        sources[0][ear]
            .iter()
            .zip(&sources[1][ear])
            .map(|(a, b)| a + b)
            .collect()
    });
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
        let mut report = Vec::new();
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
        for bus in 0..2 {
            let path = dir.join(format!("{tag}_talker{}.wav", bus + 1));
            write_stereo(&path, est[bus][0], est[bus][1], args.rate)?;
            report.push(format!(
                "talker {}: {:+.2} dB (L) {:+.2} dB (R)",
                bus + 1,
                best[2 * bus],
                best[2 * bus + 1]
            ));
        }
        println!(
            "{tag}: SI-SDRi {} (latency {lat} samples = {:.2} ms)",
            report.join(", "),
            lat as f64 / rate * 1e3
        );
    }
    println!("wrote the WAVs to {}", dir.display());
    Ok(())
}
