//! `cargo xtask import`: an authors' checkpoint to a project weight file.

use std::path::PathBuf;

use kb_models::{
    reference::{import, read_checkpoint, ImportOptions},
    weights::{save, Weights},
};

/// Arguments of `import`.
#[derive(clap::Args)]
pub struct Args {
    /// The authors' checkpoint: Lightning `.ckpt`, `.pt` state dict, or a safetensors export.
    #[arg(long)]
    from: PathBuf,
    /// Where to write the project weight file (safetensors with its config).
    #[arg(long)]
    out: PathBuf,
    /// Hint delay C in chunks (not stored in checkpoints).
    #[arg(long, default_value_t = 1)]
    delay: usize,
    /// Self-attention window in frames.
    #[arg(long, default_value_t = 50)]
    window: usize,
    /// Cross-attention context V in frames.
    #[arg(long, default_value_t = 50)]
    context: usize,
}

/// Imports, writes, and reads the result back as a check.
pub fn run(args: &Args) -> kb_models::Result<()> {
    let opts = ImportOptions {
        delay: args.delay,
        window: args.window,
        context: args.context,
        ..ImportOptions::default()
    };
    let src = read_checkpoint(&args.from)?;
    let (config, tensors) = import(&src, &opts)?;
    save(&args.out, &config, &tensors)?;
    let written = Weights::load(&args.out)?;
    let params: usize = written.tensors.values().map(|t| t.elem_count()).sum();
    println!(
        "{} -> {}: {params} parameters",
        args.from.display(),
        args.out.display()
    );
    println!("config: {}", config.to_json());
    Ok(())
}
