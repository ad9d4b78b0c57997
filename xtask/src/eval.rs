//! `cargo xtask eval`: every model in streaming mode over the fixed test set,
//! as the paper's table (SI-SDRi, PESQ, STOI, parameters, MACs) in Markdown,
//! CSV, JSON and a plot of SI-SDRi against hint delay.

mod macs;
pub mod metrics;
pub mod plot;
pub mod resample;
mod rows;
mod stats;
mod stoi;
mod stream;
mod table;
#[cfg(test)]
mod tests;

use std::{
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
};

use indicatif::{ProgressBar, ProgressStyle};
use kb_data::{
    fetch::default_cache, index::INDEX_FILE, MixtureSampler, Pools, SamplerConfig, Split, Task,
    World,
};
use kb_models::WeightsConfig;

use metrics::MixtureScore;
use rows::{Row, Sources};
use stats::Stat;
use table::{InputResult, RowResult, Table};

/// Arguments of `cargo xtask eval`.
#[derive(clap::Args)]
pub struct Args {
    /// Task: ss (separation), se (enhancement) or tse (target extraction:
    /// each mixture's target conditioned on its enrollment's embedding).
    #[arg(long, default_value = "ss")]
    pub task: String,
    /// Data split the mixtures are drawn from: test (the default), validation,
    /// or ood (the test talkers through heads training never used, wide world).
    #[arg(long, default_value = "test")]
    pub split: String,
    /// Small single-model weight file (row `sm`).
    #[arg(long)]
    pub sm: Option<PathBuf>,
    /// Medium single-model weight file (row `mm`).
    #[arg(long)]
    pub mm: Option<PathBuf>,
    /// Large single-model weight file (row `lm`).
    #[arg(long)]
    pub lm: Option<PathBuf>,
    /// Joint weight file (rows `boost_c{delay}` and `boost_c{delay}_nohint`); repeatable.
    #[arg(long)]
    pub boost: Vec<PathBuf>,
    /// Folder of the default weight files (`separate_small.safetensors`, `separate_medium.safetensors`, `separate_large.safetensors`, the shipped `separate.safetensors` and `separate_c1.safetensors` ... `separate_c3.safetensors`), used when no model flag is given.
    #[arg(long, default_value = "assets")]
    pub weights_dir: PathBuf,
    /// Number of test mixtures.
    #[arg(long, default_value_t = 100)]
    pub count: usize,
    /// Mixture length in seconds.
    #[arg(long, default_value_t = 4.0)]
    pub seconds: f64,
    /// Seed of the test mixtures (default 7; 31 for the ood split).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Ranges the mixtures are drawn from: narrow or wide (default: wide for ood, narrow otherwise).
    #[arg(long)]
    pub world: Option<World>,
    /// Chain each talker's clips to fill the mixture (dense double-talk in the narrow world).
    #[arg(long)]
    pub fill: bool,
    /// `binaural` (the split's heads) or `mono`: every mixture through one
    /// omnidirectional microphone fed to both ears, as the plugin's mono layout
    /// feeds a mono track (the same talkers, rooms and places otherwise).
    #[arg(long, value_enum, default_value_t = Input::Binaural)]
    pub input: Input,
    /// Data cache (default: $KB_DATA_CACHE, else ~/.cache/knowledge-boost or the platform's cache folder).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// Output folder (default target/eval/<task>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// End with the table as one JSON object on the last line.
    #[arg(long)]
    pub json: bool,
    /// Store each model's SI-SDRi (with hints) in its weight file's metadata: the figure the editor shows.
    #[arg(long)]
    pub stamp: bool,
}

/// What the mixtures are recorded with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Input {
    /// Two ears of a head (the split's heads).
    Binaural,
    /// One omnidirectional microphone, the same signal in both ears.
    Mono,
}

/// One test mixture: the input [ear][t] and the clean targets [source][ear][t].
pub struct Case {
    /// The mixture.
    pub mixture: Vec<Vec<f32>>,
    /// The targets.
    pub sources: Vec<Vec<Vec<f32>>>,
    /// Share of frames in which two or more talkers are active.
    pub double_talk: f64,
    /// The target talker's embedding, from the mixture's enrollment (target extraction).
    pub speaker: Option<Vec<f32>>,
}

/// The seed of the mixtures: the one given, else 7 (31 for the ood split).
fn seed(args: &Args, split: Split) -> u64 {
    args.seed
        .unwrap_or(if split == Split::Ood { 31 } else { 7 })
}

/// Parses the task.
fn parse_task(s: &str) -> Result<Task, String> {
    s.parse::<Task>().map_err(|e| e.to_string())
}

/// Draws the fixed mixtures of `split` from the data cache.
fn load_cases(args: &Args, task: Task, split: Split) -> Result<Vec<Case>, String> {
    let cache = args.cache.clone().unwrap_or_else(default_cache);
    let index = cache.join(INDEX_FILE);
    if !index.exists() {
        return Err(format!(
            "no data cache at {}: run `cargo xtask data fetch` first (or pass --cache DIR)",
            cache.display()
        ));
    }
    let pools = Pools::load(&index, task, &[split], &[])
        .map_err(|e| format!("cannot load the data cache {}: {e}", cache.display()))?;
    let base = args.world.unwrap_or(World::default_for(split)).config();
    let config = SamplerConfig {
        seconds: args.seconds,
        fill: args.fill || base.fill,
        diotic_share: match args.input {
            Input::Binaural => base.diotic_share,
            Input::Mono => 1.0,
        },
        ..base
    };
    let sampler =
        MixtureSampler::with_config(Arc::new(pools), task, split, seed(args, split), config)
            .map_err(|e| format!("cannot draw {split:?} mixtures: {e}"))?;
    let mixtures: Vec<kb_data::Mixture> = (0..args.count as u64).map(|i| sampler.get(i)).collect();
    let mut speakers = match task {
        Task::Tse => crate::speaker::enrollment_embeddings(&mixtures)?
            .chunks_exact(kb_models::SPEAKER_DIM)
            .map(|e| Some(e.to_vec()))
            .collect(),
        _ => vec![None; mixtures.len()],
    }
    .into_iter();
    Ok(mixtures
        .into_iter()
        .map(|mut m| {
            // Target extraction scores the target alone (the first talker).
            m.sources.truncate(task.sources());
            Case {
                double_talk: m.meta.double_talk,
                mixture: m.mixture,
                sources: m.sources,
                speaker: speakers.next().flatten(),
            }
        })
        .collect())
}

/// Parameter counts (small, large + compression) of a row's weights.
fn params(row: &Row) -> (usize, Option<usize>) {
    let count = |keep: &dyn Fn(&str) -> bool| -> usize {
        row.weights
            .tensors
            .iter()
            .filter(|(k, _)| keep(k))
            .map(|(_, t)| t.elem_count())
            .sum()
    };
    match &row.weights.config {
        WeightsConfig::Single(_) => (count(&|_| true), None),
        WeightsConfig::Joint(_) => (
            count(&|k| k.starts_with("small.")),
            Some(count(&|k| !k.starts_with("small."))),
        ),
    }
}

/// MACs per second of a row: (small with merges, large with compression).
fn macs_per_second(row: &Row) -> (f64, Option<f64>) {
    match &row.weights.config {
        WeightsConfig::Single(c) => (
            macs::model_macs_per_chunk(c) as f64 * macs::chunks_per_second(c),
            None,
        ),
        WeightsConfig::Joint(j) => {
            let rate = macs::chunks_per_second(&j.small);
            let small = macs::model_macs_per_chunk(&j.small) + macs::merge_macs_per_chunk(j);
            let large = macs::model_macs_per_chunk(&j.large) + macs::compression_macs_per_chunk(j);
            (small as f64 * rate, Some(large as f64 * rate))
        }
    }
}

/// Summarises one row's per-mixture scores (target extraction: with the
/// share of mixtures whose SI-SDRi is negative, where the wrong talker came out).
fn summarise(row: &Row, scores: &[MixtureScore], task: Task) -> RowResult {
    let pick = |f: &dyn Fn(&MixtureScore) -> Option<f64>| -> Vec<f64> {
        scores.iter().filter_map(f).collect()
    };
    let (params, params_large) = params(row);
    let (macs, macs_large) = macs_per_second(row);
    RowResult {
        name: row.name.clone(),
        delay: row.delay(),
        hints: row.hints,
        params,
        params_large,
        macs_per_second: macs,
        macs_per_second_large: macs_large,
        si_sdri: Stat::of(&pick(&|s| Some(s.si_sdri))).expect("at least one mixture"),
        pesq: Stat::of(&pick(&|s| s.pesq)),
        pesq_unscored: scores.iter().map(|s| s.pesq_unscored).sum(),
        stoi: Stat::of(&pick(&|s| Some(s.stoi))).expect("at least one mixture"),
        wrong_talker_share: (task == Task::Tse).then(|| {
            scores.iter().filter(|s| s.si_sdri < 0.0).count() as f64 / scores.len().max(1) as f64
        }),
    }
}

/// Runs every row over every case (cases spread over `threads` threads, each
/// model single-threaded) and builds the table.
pub fn evaluate(
    rows: &[Row],
    cases: &[Case],
    task: Task,
    threads: usize,
    bar: &ProgressBar,
) -> Result<Table, String> {
    if cases.is_empty() {
        return Err("no mixture to evaluate (--count 0)".into());
    }
    let scores: Mutex<Vec<Vec<Option<MixtureScore>>>> =
        Mutex::new(vec![vec![None; cases.len()]; rows.len()]);
    let inputs: Mutex<Vec<Option<MixtureScore>>> = Mutex::new(vec![None; cases.len()]);
    let next = AtomicUsize::new(0);
    let failure: Mutex<Option<String>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= cases.len() || failure.lock().unwrap().is_some() {
                    break;
                }
                let case = &cases[i];
                let unprocessed = vec![case.mixture.clone(); case.sources.len()];
                let input = metrics::score(&unprocessed, &case.sources, &case.mixture);
                inputs.lock().unwrap()[i] = Some(input);
                for (r, row) in rows.iter().enumerate() {
                    match stream::separate(row, &case.mixture, case.speaker.as_deref()) {
                        Ok(est) => {
                            let score = metrics::score(&est, &case.sources, &case.mixture);
                            scores.lock().unwrap()[r][i] = Some(score);
                        }
                        Err(e) => {
                            failure.lock().unwrap().get_or_insert(e);
                            return;
                        }
                    }
                    bar.inc(1);
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().unwrap() {
        return Err(e);
    }
    let scores = scores.into_inner().unwrap();
    let inputs: Vec<MixtureScore> = inputs.into_inner().unwrap().into_iter().flatten().collect();
    let input = InputResult {
        pesq: Stat::of(&inputs.iter().filter_map(|s| s.pesq).collect::<Vec<_>>()),
        stoi: Stat::of(&inputs.iter().map(|s| s.stoi).collect::<Vec<_>>())
            .expect("at least one mixture"),
    };
    Ok(Table {
        task: task.name().to_string(),
        count: cases.len(),
        double_talk: cases.iter().map(|c| c.double_talk).sum::<f64>() / cases.len().max(1) as f64,
        input,
        rows: rows
            .iter()
            .zip(scores)
            .map(|(row, s)| summarise(row, &s.into_iter().flatten().collect::<Vec<_>>(), task))
            .collect(),
    })
}

/// Writes `eval.md`, `eval.csv` and `si_sdri_vs_delay.png` into `dir`.
pub fn write_outputs(table: &Table, dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let write = |name: &str, text: String| -> Result<(), String> {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write("eval.md", table.markdown())?;
    write("eval.csv", table.csv())?;
    plot::draw(table, &dir.join("si_sdri_vs_delay.png"))
}

/// Runs the command.
pub fn run(args: &Args) -> Result<(), String> {
    let task = parse_task(&args.task)?;
    let split: Split = args
        .split
        .parse()
        .map_err(|e: kb_data::Error| e.to_string())?;
    let sources = Sources {
        singles: [
            ("sm", args.sm.clone()),
            ("mm", args.mm.clone()),
            ("lm", args.lm.clone()),
        ],
        boosts: args.boost.clone(),
        weights_dir: args.weights_dir.clone(),
    };
    let rows = rows::load_rows(&sources, task)?;
    metrics::quiet_pesq_panics();
    let cases = load_cases(args, task, split)?;
    let bar = ProgressBar::new((cases.len() * rows.len()) as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} model runs ({eta} left)")
            .expect("valid template"),
    );
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let table = evaluate(&rows, &cases, task, threads, &bar)?;
    bar.finish_and_clear();
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("target/eval").join(task.name()));
    write_outputs(&table, &out)?;
    println!("{}", table.markdown());
    for r in table.rows.iter().filter(|r| r.pesq_unscored > 0) {
        println!(
            "note: {}: PESQ could not score {} source-ear pair(s) (left out of its mean)",
            r.name, r.pesq_unscored
        );
    }
    println!(
        "wrote eval.md, eval.csv and si_sdri_vs_delay.png to {}",
        out.display()
    );
    if args.stamp {
        let how = format!(
            "{} {} mixtures of {} s, {} split, seed {}; cargo xtask eval",
            table.count,
            table.task,
            args.seconds,
            args.split,
            seed(args, split)
        );
        stamp(&rows, &table, &how)?;
    }
    if args.json {
        println!("{}", table.json());
    }
    Ok(())
}

/// Writes each hinted row's SI-SDRi, and `how` it was measured, into its weight file.
pub fn stamp(rows: &[Row], table: &Table, how: &str) -> Result<(), String> {
    for row in rows.iter().filter(|r| r.hints) {
        let Some(result) = table.rows.iter().find(|r| r.name == row.name) else {
            continue;
        };
        let s = &result.si_sdri;
        let ci = s.ci95.map_or(String::new(), |c| format!(" ± {c:.2}"));
        let mut weights = kb_models::weights::Weights::from_file(row.weights.clone())
            .map_err(|e| format!("cannot stamp {}: {e}", row.file.display()))?;
        weights.evaluation = Some(format!("SI-SDRi {:.2}{ci} dB ({how})", s.mean));
        kb_models::weights::save_weights(&row.file, &weights)
            .map_err(|e| format!("cannot stamp {}: {e}", row.file.display()))?;
        println!("stamped {}", row.file.display());
    }
    Ok(())
}
