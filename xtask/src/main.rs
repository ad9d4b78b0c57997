//! Project tasks: `cargo xtask <command>`.

mod alloc_counter;
mod bench;
mod data;
mod import;
mod info;

use clap::{Parser, Subcommand};

/// knowledge-boost's task runner.
#[derive(Parser)]
#[command(name = "xtask", about = "knowledge-boost tasks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the model presets: configuration, parameters and latency.
    Info(info::Args),
    /// Build binaural speech corpora: fetch sources, render fixed sets.
    Data(data::Args),
    /// Convert an authors' checkpoint into a project weight file.
    Import(import::Args),
    /// Time the real-time engines against their 8 ms budget and against candle.
    Bench(bench::Args),
}

#[global_allocator]
static ALLOCATOR: alloc_counter::Counting = alloc_counter::Counting;

fn main() {
    let cli = Cli::parse();
    // One thread for candle's kernels unless the user says otherwise: set once, before any tensor op.
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        std::env::set_var("RAYON_NUM_THREADS", "1");
    }
    let result: Result<(), Box<dyn std::error::Error>> = match cli.command {
        Command::Info(args) => info::run(&args).map_err(Into::into),
        Command::Data(args) => {
            data::run(&args);
            Ok(())
        }
        Command::Bench(args) => bench::run(&args).map_err(Into::into),
        Command::Import(args) => import::run(&args).map_err(Into::into),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
