//! `cargo xtask info`: the model presets with their sizes.

use kb_models::{schema::tensor_shapes, ModelConfig, WeightsConfig, SAMPLE_RATE};

/// Arguments of `info`.
#[derive(clap::Args)]
pub struct Args {
    /// Number of sources the models separate (2 for separation, 1 for enhancement).
    #[arg(long, default_value_t = 2)]
    sources: usize,
    /// Print each preset's configuration as JSON too.
    #[arg(long)]
    json: bool,
}

/// Prints every preset's parameter count and latency.
pub fn run(args: &Args) -> kb_models::Result<()> {
    for name in ["small", "medium", "large"] {
        let cfg = ModelConfig::by_name(name, args.sources)?;
        let wcfg = WeightsConfig::Single(cfg.clone());
        let params: usize = tensor_shapes(&wcfg)?
            .values()
            .map(|s| s.iter().product::<usize>())
            .sum();
        let latency_ms = 1000.0 * cfg.latency_samples() as f64 / SAMPLE_RATE as f64;
        println!(
            "{name:<7} D{:<3} H{:<3} B{} {:>8} parameters, {latency_ms} ms latency",
            cfg.d, cfg.hidden, cfg.blocks, params
        );
        if args.json {
            println!("{}", wcfg.to_json());
        }
    }
    Ok(())
}
