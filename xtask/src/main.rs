//! Project tasks: `cargo xtask <command>`.

mod data;
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
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Info(args) => info::run(&args),
        Command::Data(args) => {
            data::run(&args);
            Ok(())
        }
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
