//! `cargo xtask import`: an authors' checkpoint to a project weight file, or
//! Resemblyzer's speaker encoder to the encoder's safetensors file.

use std::path::{Path, PathBuf};

use kb_models::{
    reference::{import, read_checkpoint, ImportOptions},
    weights::{save, Weights},
};

/// Arguments of `import`.
#[derive(clap::Args)]
pub struct Args {
    /// The authors' checkpoint: Lightning `.ckpt`, `.pt` state dict, or a safetensors export.
    #[arg(
        long,
        required_unless_present = "resemblyzer",
        conflicts_with = "resemblyzer"
    )]
    from: Option<PathBuf>,
    /// Resemblyzer's wheel (`Resemblyzer-0.1.4-py3-none-any.whl`) or the
    /// `pretrained.pt` inside it: writes the speaker encoder for Extract mode.
    #[arg(long, value_name = "WHEEL_OR_PT")]
    resemblyzer: Option<PathBuf>,
    /// Where to write the weight file (safetensors).
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
pub fn run(args: &Args) -> Result<(), String> {
    match (&args.from, &args.resemblyzer) {
        (_, Some(wheel)) => speaker_encoder(wheel, &args.out).map_err(|e| e.to_string()),
        (Some(from), None) => checkpoint(args, from).map_err(|e| e.to_string()),
        (None, None) => Err("give --from or --resemblyzer".into()),
    }
}

/// Resemblyzer's encoder to safetensors, read back through the encoder's loader.
fn speaker_encoder(wheel: &Path, out: &Path) -> kb_speaker::Result<()> {
    let tensors = kb_speaker::import::read(wheel)?;
    let name = wheel
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let source = format!(
        "Resemblyzer 0.1.4 ({name}), resemblyzer/pretrained.pt, Apache-2.0, \
         converted by `cargo xtask import --resemblyzer`"
    );
    kb_speaker::import::write(out, &tensors, &source)?;
    kb_speaker::EncoderWeights::load(out)?;
    let params: usize = tensors.iter().map(|t| t.data.len()).sum();
    println!(
        "{} -> {}: {params} parameters",
        wheel.display(),
        out.display()
    );
    Ok(())
}

/// An authors' checkpoint to a project weight file.
fn checkpoint(args: &Args, from: &Path) -> kb_models::Result<()> {
    let opts = ImportOptions {
        delay: args.delay,
        window: args.window,
        context: args.context,
        ..ImportOptions::default()
    };
    let src = read_checkpoint(from)?;
    let (config, tensors) = import(&src, &opts)?;
    save(&args.out, &config, &tensors)?;
    let written = Weights::load(&args.out)?;
    let params: usize = written.tensors.values().map(|t| t.elem_count()).sum();
    println!(
        "{} -> {}: {params} parameters",
        from.display(),
        args.out.display()
    );
    println!("config: {}", config.to_json());
    Ok(())
}
