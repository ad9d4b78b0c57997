//! `cargo xtask data`: build the binaural speech corpora.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use kb_data::corpus::UserFolder;
use kb_data::fetch::{default_cache, fetch, FetchOptions};
use kb_data::index::{Index, INDEX_FILE};
use kb_data::layout::{write_sample, LayoutSet, MIXTURE_FILE};
use kb_data::{MixtureSampler, Pools, SamplerConfig, Split, Target, Task, World};

/// Arguments of `data`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: DataCommand,
}

#[derive(Subcommand)]
enum DataCommand {
    /// Download the Debian packages (or read your folders), decode to 16 kHz mono, trim silence, write the index.
    Fetch(FetchArgs),
    /// Write a fixed set of mixtures in the paper's layout (one folder per sample).
    Render(RenderArgs),
    /// Print the index's clips, talkers (recorded and MBROLA) and hours per split.
    Stats(CacheArgs),
    /// Read a folder of samples in the paper's layout and print what it holds.
    Check(CheckArgs),
}

#[derive(clap::Args)]
struct CacheArgs {
    /// Cache folder (default: $KB_DATA_CACHE, else ~/.cache/knowledge-boost or the platform's cache folder).
    #[arg(long)]
    cache: Option<PathBuf>,
}

impl CacheArgs {
    fn cache(&self) -> PathBuf {
        self.cache.clone().unwrap_or_else(default_cache)
    }
}

#[derive(clap::Args)]
struct FetchArgs {
    #[command(flatten)]
    cache: CacheArgs,
    /// Do not use the Debian packages (only your folders).
    #[arg(long)]
    no_debian: bool,
    /// Leave out this Debian package (repeatable).
    #[arg(long = "skip", value_name = "PACKAGE")]
    skip: Vec<String>,
    /// Your speech folder, `DIR` or `DIR:SPLIT` (talker = first sub-folder; repeatable).
    #[arg(long, value_name = "DIR[:SPLIT]")]
    speech: Vec<String>,
    /// Your noise folder, `DIR` or `DIR:SPLIT` (repeatable).
    #[arg(long, value_name = "DIR[:SPLIT]")]
    noise: Vec<String>,
    /// Your SOFA file of head-related impulse responses (repeatable).
    #[arg(long, value_name = "FILE")]
    sofa: Vec<PathBuf>,
    /// Leave out the MBROLA voices (they need espeak-ng; without it they are skipped with a warning).
    #[arg(long)]
    no_mbrola: bool,
    /// Keep the unpacked packages after decoding.
    #[arg(long)]
    keep_packages: bool,
}

#[derive(clap::Args)]
struct RenderArgs {
    #[command(flatten)]
    cache: CacheArgs,
    /// Index file (default: CACHE/index.json).
    #[arg(long)]
    index: Option<PathBuf>,
    /// Task: ss (separation), se (enhancement) or tse (target extraction).
    #[arg(long)]
    task: Task,
    /// Split to draw from: train, validation, test or ood (the test talkers through held-out heads).
    #[arg(long)]
    split: Split,
    /// Number of samples.
    #[arg(long)]
    count: u64,
    /// Seed: the same seed gives the same files.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
    /// SOFA files to use instead of the index's heads (repeatable).
    #[arg(long, value_name = "FILE")]
    sofa: Vec<PathBuf>,
    /// Mixture length in seconds.
    #[arg(long, default_value_t = 4.0)]
    seconds: f64,
    /// Targets: `early` (direct path and first 50 ms) or `reverberant` (the paper's: whole images).
    #[arg(long, default_value_t = Target::Early)]
    target: Target,
    /// Chain more clips of a talker (50 to 300 ms apart) when one is shorter than the mixture.
    #[arg(long)]
    fill: bool,
    /// Ranges to draw from: `narrow` (one measured head, the first runs' rooms)
    /// or `wide` (many heads, dense double-talk, wider rooms and levels; see
    /// data/README.md). Default: wide for the `ood` split, narrow otherwise.
    #[arg(long)]
    world: Option<World>,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// Folder of sample folders.
    dir: PathBuf,
}

/// Runs a `data` subcommand; prints the error and exits with status 1 on failure.
pub fn run(args: &Args) {
    let result = match &args.command {
        DataCommand::Fetch(a) => run_fetch(a),
        DataCommand::Render(a) => run_render(a),
        DataCommand::Stats(a) => {
            Index::read(&a.cache().join(INDEX_FILE)).map(|i| print!("{}", i.summary()))
        }
        DataCommand::Check(a) => run_check(a),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run_fetch(a: &FetchArgs) -> kb_data::Result<()> {
    let parse = |v: &[String]| {
        v.iter()
            .map(|s| UserFolder::parse(s))
            .collect::<kb_data::Result<Vec<_>>>()
    };
    let opts = FetchOptions {
        cache: a.cache.cache(),
        debian: !a.no_debian,
        skip_packages: a.skip.clone(),
        speech: parse(&a.speech)?,
        noise: parse(&a.noise)?,
        sofa: a.sofa.clone(),
        mbrola: !a.no_mbrola,
        keep_packages: a.keep_packages,
        progress: true,
    };
    let (index, report) = fetch(&opts)?;
    if report.nothing_done() {
        println!("cache {} is complete: nothing to do", opts.cache.display());
    } else {
        println!(
            "downloaded {} package(s), unpacked {}, decoded {} clip(s), skipped {} file(s){}",
            report.downloaded.len(),
            report.extracted.len(),
            report.decoded,
            report.skipped.len(),
            if report.index_written {
                ", index written"
            } else {
                ""
            }
        );
    }
    print!("{}", index.summary());
    Ok(())
}

fn run_render(a: &RenderArgs) -> kb_data::Result<()> {
    let index = a
        .index
        .clone()
        .unwrap_or_else(|| a.cache.cache().join(INDEX_FILE));
    let pools = Arc::new(Pools::load(&index, a.task, &[a.split], &a.sofa)?);
    let world = a.world.unwrap_or(World::default_for(a.split));
    let base = world.config();
    let config = SamplerConfig {
        seconds: a.seconds,
        target: a.target,
        fill: a.fill || base.fill,
        ..base
    };
    let sampler = MixtureSampler::with_config(pools, a.task, a.split, a.seed, config)?;
    std::fs::create_dir_all(&a.out).map_err(|e| kb_data::Error::io(&a.out, e))?;
    let bar = ProgressBar::new(a.count);
    bar.set_style(
        ProgressStyle::with_template("render [{bar:30}] {pos}/{len} {elapsed_precise} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let mut written = 0;
    for i in 0..a.count {
        let dir = a.out.join(format!("{i:05}"));
        // Samples already written by an interrupted run are kept.
        if !dir.join(MIXTURE_FILE).is_file() || !dir.join("meta.json").is_file() {
            write_sample(&dir, &sampler.get(i))?;
            written += 1;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!(
        "{} samples in {} ({} written now), task {}, split {}, seed {}",
        a.count,
        a.out.display(),
        written,
        a.task,
        a.split,
        a.seed
    );
    Ok(())
}

fn run_check(a: &CheckArgs) -> kb_data::Result<()> {
    let set = LayoutSet::open(&a.dir)?;
    let first = set.get(0)?;
    println!(
        "{} samples; the first has {} mixture channel(s) of {} samples, {} source(s), enrollment: {}, meta: {}",
        set.len(),
        first.mixture.len(),
        first.mixture.first().map_or(0, Vec::len),
        first.sources.len(),
        first.enrollment.as_ref().map_or("none".into(), |e| format!("{} samples", e.len())),
        if first.meta.is_some() { "yes" } else { "no" }
    );
    Ok(())
}
