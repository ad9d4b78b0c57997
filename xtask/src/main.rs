//! Project tasks: `cargo xtask <command>`.

mod alloc_counter;
mod bench;
mod data;
mod demo;
mod eval;
mod heap;
mod import;
mod info;
mod install;
mod plot;
mod process;
mod serve;
mod speaker;
mod train;

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
    /// Train a model or a joint pair on mixtures drawn on the fly.
    Train(Box<train::Args>),
    /// Run the plugin's audio path over a binaural WAV, one WAV per output bus.
    Process(process::Args),
    /// Bundle the plugin, render a demo clip through it (separate, enhance or extract) with boost on and off, print SI-SDRi, draw spectrograms.
    Demo(demo::Args),
    /// Serve a pair's hints to plugin instances on other machines (QUIC).
    Serve(serve::Args),
    /// Evaluate every model in streaming mode on the test set: the paper's table and a plot.
    Eval(Box<eval::Args>),
    /// Copy the release bundles to the user's CLAP and VST3 folders (`--uninstall` removes them).
    Install(install::Args),
    /// Tell the corpus's talkers apart with the speaker encoder: equal error rate of enrollment pairs.
    Speaker(speaker::Args),
    /// Draw training curves (validation SI-SDRi, loss, gradient norm) of one or more runs to PNG.
    Plot(plot::Args),
}

#[global_allocator]
static ALLOCATOR: alloc_counter::Counting = alloc_counter::Counting;

fn main() {
    // `bundle` (and `bundle-universal`) belong to nice-plug's bundler, before clap sees the arguments.
    if std::env::args()
        .nth(1)
        .is_some_and(|c| c.starts_with("bundle"))
    {
        if let Err(e) = nice_plug_xtask::main() {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
        return;
    }
    if std::env::var_os("KB_DEFAULT_HEAP").is_none() {
        heap::keep_freed_memory();
    }
    let cli = Cli::parse();
    // candle's thread count, set once before any tensor op: training uses
    // every core unless told otherwise, everything else one thread.
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        let threads = match &cli.command {
            Command::Train(a) => a
                .threads
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
            Command::Bench(a) if a.train => {
                std::thread::available_parallelism().map_or(1, |n| n.get())
            }
            _ => 1,
        };
        std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
    }
    let result: Result<(), Box<dyn std::error::Error>> = match cli.command {
        Command::Info(args) => info::run(&args).map_err(Into::into),
        Command::Data(args) => {
            data::run(&args);
            Ok(())
        }
        Command::Bench(args) => bench::run(&args),
        Command::Import(args) => import::run(&args).map_err(Into::into),
        Command::Process(args) => process::run(&args).map_err(Into::into),
        Command::Demo(args) => demo::run(&args).map_err(Into::into),
        Command::Serve(args) => serve::run(&args).map_err(Into::into),
        Command::Eval(args) => eval::run(&args).map_err(Into::into),
        Command::Train(args) => train::run(&args),
        Command::Plot(args) => plot::run(&args),
        Command::Install(args) => install::run(&args).map_err(Into::into),
        Command::Speaker(args) => speaker::run(&args).map_err(Into::into),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
