//! `cargo xtask train`: trains a single model (SM, MM, LM baselines) or a
//! joint pair on mixtures drawn on the fly, with validation, checkpoints and
//! exact resume.

mod log;
mod order;
mod speakers;

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Instant,
};

use candle_core::{Device, Tensor};
use indicatif::{ProgressBar, ProgressStyle};
use kb_data::{
    fetch::default_cache, index::INDEX_FILE, Mixture, MixtureSampler, Pools, SamplerConfig, Split,
    Target, Task, World,
};
use kb_models::{
    level::LevelConfig,
    metrics::Objective,
    train::{Backend, Half, TrainSettings, Trainer, Validation},
    weights::Weights,
    JointConfig, ModelConfig, WeightsConfig, SPEAKER_DIM,
};
use serde::{Deserialize, Serialize};

use log::{Evaluation, RunLog};
use order::{location_order, SourceOrder};
use speakers::SpeakerBank;

/// An on/off switch of the command line.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Switch {
    /// Enabled.
    On,
    /// Disabled.
    Off,
}

/// Arguments of `train`; every field can also come from a run file (`--config`), flags win.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Run file (JSON, or TOML when named `*.toml`) holding any of the fields below.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Output folder: checkpoint, weights, metrics.
    #[arg(long)]
    out: PathBuf,
    /// Continue the run in `--out` from its checkpoint.
    #[arg(long)]
    resume: bool,
    /// Task: `ss` (separation), `se` (enhancement) or `tse` (target extraction).
    #[arg(long)]
    task: Option<String>,
    /// Model: `small`, `medium`, `large`, `large_cpu` (baselines) or `joint`.
    #[arg(long)]
    model: Option<String>,
    /// Joint: preset of the large hint model (`large` or `large_cpu`).
    #[arg(long)]
    large: Option<String>,
    /// Joint: hint delay C in chunks.
    #[arg(long)]
    delay: Option<usize>,
    /// Joint: compression P.
    #[arg(long)]
    compression: Option<usize>,
    /// Joint: pre-trained large model to start from (weights file of `--model large`).
    #[arg(long)]
    large_from: Option<PathBuf>,
    /// Joint: pre-trained small model to start the small half from (weights
    /// file of `--model small`, same configuration; the merges start fresh).
    #[arg(long)]
    small_from: Option<PathBuf>,
    /// Single model: start from a model trained for another task (for example
    /// `--task se` from a separation run's `best.safetensors`); tensors whose
    /// names and shapes match are copied, the output layer starts fresh.
    #[arg(long)]
    init_from: Option<PathBuf>,
    /// Joint: hold the large model fixed (`on`: forward only, gradients stop
    /// at its output; the hint compression, merges and small model train).
    #[arg(long)]
    freeze_large: Option<Switch>,
    /// Steps to train in total.
    #[arg(long)]
    steps: Option<u64>,
    /// Batch size.
    #[arg(long)]
    batch: Option<usize>,
    /// Learning rate.
    #[arg(long)]
    lr: Option<f64>,
    /// Steps over which the learning rate rises linearly from zero (0: none).
    #[arg(long)]
    warmup: Option<u64>,
    /// Loss: `si-sdr` (the paper's, the default) or `snr` (keeps the output level).
    #[arg(long)]
    loss: Option<Objective>,
    /// Seconds of audio per example.
    #[arg(long)]
    seconds: Option<f64>,
    /// Targets: `early` (direct path and first 50 ms, the default) or `reverberant` (the paper's task).
    #[arg(long)]
    target: Option<Target>,
    /// Causal input-level normalisation: `on` (the default for new runs) or `off`.
    #[arg(long)]
    level: Option<Switch>,
    /// Separation: output order `pit` (permutation-invariant, the default) or
    /// `location` (the talker further to the left first).
    #[arg(long)]
    order: Option<SourceOrder>,
    /// Location-based order: talkers closer than this lateral angle (degrees) keep PIT.
    #[arg(long)]
    order_min_degrees: Option<f64>,
    /// Fill each talker's stretch with more of its clips when one is shorter
    /// than the mixture: `on` or `off` (the default).
    #[arg(long)]
    fill: Option<Switch>,
    /// Ranges mixtures are drawn from: `narrow` (one measured head, the first
    /// runs' rooms; the default) or `wide` (many heads, dense double-talk,
    /// wider rooms and levels, perturbed voices, mono; data/README.md).
    #[arg(long)]
    world: Option<World>,
    /// Steps between validations.
    #[arg(long)]
    eval_every: Option<u64>,
    /// Steps between checkpoints.
    #[arg(long)]
    checkpoint_every: Option<u64>,
    /// Validation mixtures.
    #[arg(long)]
    val_count: Option<usize>,
    /// Joint: fraction of frames whose hint is dropped.
    #[arg(long)]
    hint_drop_chunks: Option<f64>,
    /// Joint: fraction of examples without any hint.
    #[arg(long)]
    hint_drop_utterances: Option<f64>,
    /// Seed of weights, data order and hint dropout.
    #[arg(long)]
    seed: Option<u64>,
    /// Data cache made by `cargo xtask data fetch` (default: $KB_DATA_CACHE, else ~/.cache/knowledge-boost or the platform's cache folder).
    #[arg(long)]
    cache: Option<PathBuf>,
    /// Threads for candle (set once at start-up; default: all cores); the fast path uses up to 2.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Fast path: most MiB its buffers take (both threads); over it, each
    /// thread runs its examples in several passes (the same gradients), and
    /// where one example does not fit, the backward pass runs blocks forward
    /// again instead of keeping their activations (more time). Not stored in the run.
    #[arg(long, default_value_t = kb_models::train::FAST_MEMORY_MB)]
    fast_memory_mb: usize,
    /// `fast` (fused kernels, the default where supported) or `candle` (autograd, the reference).
    #[arg(long)]
    backend: Option<Backend>,
    /// Mixtures rendered ahead of the trainer, on their own thread.
    #[arg(long, default_value_t = 4)]
    prefetch: usize,
    /// Overfitting check: train on the first N training mixtures only (the
    /// batch), validating on the same N; a model that cannot fit them has a bug.
    #[arg(long)]
    overfit: Option<usize>,
}

/// A run's full description, as stored in `run.json` in the output folder.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct RunFile {
    /// `ss`, `se` or `tse`.
    pub task: String,
    /// `small`, `medium`, `large`, `large_cpu` or `joint`.
    pub model: String,
    /// Joint: preset of the large hint model.
    pub large: String,
    /// Joint hint delay.
    pub delay: usize,
    /// Joint compression.
    pub compression: usize,
    /// Pre-trained large model for a joint run.
    pub large_from: Option<PathBuf>,
    /// Pre-trained small model for a joint run's small half.
    pub small_from: Option<PathBuf>,
    /// A single model's start: weights trained for another task (absent in older run files).
    pub init_from: Option<PathBuf>,
    /// Total steps.
    pub steps: u64,
    /// Seconds per example.
    pub seconds: f64,
    /// What the targets keep of each talker's room image.
    pub target: Target,
    /// Causal input-level normalisation of every model (absent in run files from before it: off).
    #[serde(default)]
    pub level: Option<LevelConfig>,
    /// Order of a separation model's outputs (absent in older run files: PIT).
    pub order: SourceOrder,
    /// Location-based order: lateral angle in degrees under which a pair keeps PIT.
    pub order_min_degrees: f64,
    /// Whether a talker's short clips are chained to fill the mixture (absent in older run files: no).
    pub fill: bool,
    /// Ranges the training and validation mixtures are drawn from (absent in older run files: narrow).
    pub world: World,
    /// Steps between validations.
    pub eval_every: u64,
    /// Steps between checkpoints.
    pub checkpoint_every: u64,
    /// Validation mixtures.
    pub val_count: usize,
    /// Gradient backend (`fast` or `candle`); unset: fast where the model allows it.
    pub backend: Option<Backend>,
    /// Overfitting check: the number of fixed training mixtures every step sees.
    #[serde(default)]
    pub overfit: Option<usize>,
    /// Optimisation settings.
    pub settings: TrainSettings,
}

impl Default for RunFile {
    fn default() -> Self {
        Self {
            task: "ss".into(),
            model: "small".into(),
            large: "large".into(),
            delay: 1,
            compression: 2,
            large_from: None,
            small_from: None,
            init_from: None,
            steps: 20_000,
            seconds: 2.0,
            target: Target::Early,
            level: Some(LevelConfig::speech()),
            order: SourceOrder::Pit,
            order_min_degrees: 15.0,
            fill: false,
            world: World::Narrow,
            eval_every: 500,
            checkpoint_every: 100,
            val_count: 64,
            backend: None,
            overfit: None,
            settings: TrainSettings::default(),
        }
    }
}

impl RunFile {
    /// Reads a run file: TOML when the name ends in `.toml`, JSON otherwise.
    fn parse(path: &Path, text: &str) -> Result<Self, String> {
        let bad = |e: &dyn std::fmt::Display| format!("bad run file {}: {e}", path.display());
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
        {
            toml::from_str(text).map_err(|e| bad(&e))
        } else {
            serde_json::from_str(text).map_err(|e| bad(&e))
        }
    }

    fn from_args(args: &Args) -> Result<Self, String> {
        let mut run: RunFile = match &args.config {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| format!("cannot read run file {}: {e}", p.display()))?;
                RunFile::parse(p, &text)?
            }
            None => RunFile::default(),
        };
        macro_rules! take {
            ($($field:ident),*) => { $(if let Some(v) = &args.$field { run.$field = v.clone(); })* };
        }
        take!(
            task,
            model,
            large,
            delay,
            compression,
            steps,
            seconds,
            target,
            order,
            order_min_degrees,
            world,
            eval_every,
            checkpoint_every,
            val_count
        );
        if args.large_from.is_some() {
            run.large_from = args.large_from.clone();
        }
        if args.small_from.is_some() {
            run.small_from = args.small_from.clone();
        }
        if args.init_from.is_some() {
            run.init_from = args.init_from.clone();
        }
        if args.backend.is_some() {
            run.backend = args.backend;
        }
        if let Some(fill) = args.fill {
            run.fill = fill == Switch::On;
        }
        if let Some(level) = args.level {
            run.level = (level == Switch::On).then(LevelConfig::speech);
        }
        let s = &mut run.settings;
        if let Some(v) = args.batch {
            s.batch = v;
        }
        if let Some(v) = args.lr {
            s.lr = v;
        }
        if let Some(v) = args.warmup {
            s.warmup = v;
        }
        if let Some(v) = args.loss {
            s.objective = v;
        }
        if let Some(v) = args.hint_drop_chunks {
            s.hint_drop_chunks = v;
        }
        if let Some(v) = args.hint_drop_utterances {
            s.hint_drop_utterances = v;
        }
        if let Some(v) = args.seed {
            s.seed = v;
        }
        if let Some(v) = args.freeze_large {
            s.freeze_large = v == Switch::On;
        }
        if let Some(n) = args.overfit {
            run.overfit = Some(n);
            s.batch = n;
        }
        Ok(run)
    }

    fn task(&self) -> Result<Task, String> {
        self.task.parse::<Task>()
    }

    /// The model configuration this run trains (target extraction: both
    /// models conditioned on the enrolled speaker's embedding).
    pub fn weights_config(&self) -> Result<WeightsConfig, String> {
        let task = self.task()?;
        let sources = task.sources();
        let speaker = (task == Task::Tse).then_some(SPEAKER_DIM);
        let preset = |name: &str| {
            ModelConfig::by_name(name, sources)
                .map(|c| c.with_level(self.level).with_speaker(speaker))
                .map_err(|e| e.to_string())
        };
        Ok(match self.model.as_str() {
            "joint" => {
                let paper = JointConfig::paper(sources, self.delay, self.compression);
                WeightsConfig::Joint(JointConfig {
                    small: preset("small")?,
                    large: preset(&self.large)?,
                    ..paper
                })
            }
            name => WeightsConfig::Single(preset(name)?),
        })
    }
}

/// One training batch as flat samples: mixture [B, M, N], targets [B, S, M, N],
/// per example whether the targets' order is fixed (location-based order),
/// and the target talkers' embeddings [B, E] (target extraction; else empty).
#[derive(Clone)]
struct FlatBatch {
    mix: Vec<f32>,
    targets: Vec<f32>,
    fixed: Vec<bool>,
    speakers: Vec<f32>,
    shape: (usize, usize, usize, usize),
}

impl FlatBatch {
    /// The batch of `mixtures`, its targets ordered as `order` says, the
    /// first `sources` of each (target extraction: the target alone).
    fn new(mixtures: &[Mixture], (order, min_degrees): (SourceOrder, f64), sources: usize) -> Self {
        let b = mixtures.len();
        let (m, n) = (mixtures[0].mixture.len(), mixtures[0].mixture[0].len());
        let s = sources.min(mixtures[0].sources.len());
        let (mut targets, mut fixed) = (Vec::with_capacity(b * s * m * n), Vec::with_capacity(b));
        for x in mixtures {
            let (swap, keep) = match order {
                SourceOrder::Location if s == 2 => location_order(x, min_degrees),
                _ => (false, false),
            };
            for k in 0..s {
                let source = if swap { s - 1 - k } else { k };
                targets.extend(x.sources[source].concat());
            }
            fixed.push(keep);
        }
        Self {
            mix: mixtures.iter().flat_map(|x| x.mixture.concat()).collect(),
            targets,
            fixed,
            speakers: Vec::new(),
            shape: (b, s, m, n),
        }
    }

    /// The same batch conditioned on `speakers` [B, E].
    fn with_speakers(self, speakers: Vec<f32>) -> Self {
        Self { speakers, ..self }
    }

    /// Mixture, targets and (target extraction) speakers as tensors.
    fn tensors(self) -> candle_core::Result<(Tensor, Tensor, Option<Tensor>)> {
        let (b, s, m, n) = self.shape;
        let speakers = match self.speakers.len() {
            0 => None,
            len => Some(Tensor::from_vec(self.speakers, (b, len / b), &Device::Cpu)?),
        };
        Ok((
            Tensor::from_vec(self.mix, (b, m, n), &Device::Cpu)?,
            Tensor::from_vec(self.targets, (b, s, m, n), &Device::Cpu)?,
            speakers,
        ))
    }
}

/// Where a run's batches come from.
enum Batches {
    /// Fresh mixtures from the rendering thread.
    Rendered(std::sync::mpsc::Receiver<Result<FlatBatch, String>>),
    /// One fixed batch, every step (the overfitting check).
    Fixed(FlatBatch),
}

impl Batches {
    fn next(&self) -> Result<FlatBatch, String> {
        match self {
            Self::Rendered(rx) => rx
                .recv()
                .map_err(|_| "the rendering thread stopped".to_string())?,
            Self::Fixed(batch) => Ok(batch.clone()),
        }
    }
}

/// Renders batch after batch from step `from` on, `ahead` batches ahead of
/// the trainer, their targets ordered as `order` says, each example
/// conditioned on an embedding of its target talker from `bank` (target
/// extraction), drawn by `seed`.
fn prefetch(
    sampler: MixtureSampler,
    (from, batch, ahead): (u64, u64, usize),
    order: (SourceOrder, f64),
    (bank, seed): (Option<Arc<SpeakerBank>>, u64),
    sources: usize,
) -> std::sync::mpsc::Receiver<Result<FlatBatch, String>> {
    let (tx, rx) = std::sync::mpsc::sync_channel(ahead.max(1));
    std::thread::Builder::new()
        .name("kb-render".into())
        .spawn(move || {
            for step in from.. {
                let first = step * batch;
                let mixtures: Vec<Mixture> =
                    (first..first + batch).map(|i| sampler.get(i)).collect();
                let flat = FlatBatch::new(&mixtures, order, sources);
                let flat = match &bank {
                    Some(bank) => bank
                        .batch(&mixtures, (seed, first))
                        .map(|s| flat.with_speakers(s)),
                    None => Ok(flat),
                };
                if tx.send(flat).is_err() {
                    break;
                }
            }
        })
        .expect("cannot start the rendering thread");
    rx
}

/// A batch of `mixtures` conditioned, for target extraction, on the exact
/// embeddings of their own enrollments.
fn exact_batch(
    mixtures: &[Mixture],
    order: (SourceOrder, f64),
    task: Task,
) -> Result<FlatBatch, String> {
    let flat = FlatBatch::new(mixtures, order, task.sources());
    if task != Task::Tse {
        return Ok(flat);
    }
    Ok(flat.with_speakers(crate::speaker::enrollment_embeddings(mixtures)?))
}

fn load_pools(cache: &Path, task: Task) -> Result<Arc<Pools>, String> {
    let index = cache.join(INDEX_FILE);
    if !index.exists() {
        return Err(format!(
            "no data cache at {}: run `cargo xtask data fetch` first (or pass --cache DIR)",
            cache.display()
        ));
    }
    Pools::load(&index, task, &[Split::Train, Split::Validation], &[])
        .map(Arc::new)
        .map_err(|e| format!("cannot load the data cache {}: {e}", cache.display()))
}

/// Trains as the arguments say.
pub fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(&args.out)?;
    let checkpoint = args.out.join("checkpoint.safetensors");
    let run_path = args.out.join("run.json");
    let run = if args.resume {
        let text = std::fs::read_to_string(&run_path)
            .map_err(|e| format!("--resume: no run in {}: {e}", args.out.display()))?;
        let mut run = serde_json::from_str::<RunFile>(&text)?;
        if let Some(steps) = args.steps {
            run.steps = steps;
        }
        run
    } else {
        RunFile::from_args(args)?
    };
    let task = run.task()?;
    if run.settings.freeze_large && (run.model != "joint" || run.large_from.is_none()) {
        return Err("--freeze-large on needs --model joint and a trained --large-from".into());
    }
    let cache = args.cache.clone().unwrap_or_else(default_cache);
    let pools = load_pools(&cache, task)?;
    let base = run.world.config();
    let mix_cfg = SamplerConfig {
        seconds: run.seconds,
        target: run.target,
        fill: run.fill || base.fill,
        ..base
    };
    let train = MixtureSampler::with_config(
        pools.clone(),
        task,
        Split::Train,
        run.settings.seed,
        mix_cfg,
    )?;
    let bank = match task {
        Task::Tse => Some(Arc::new(SpeakerBank::load_or_build(
            &cache, &pools, &mix_cfg,
        )?)),
        _ => None,
    };
    let validation = MixtureSampler::with_config(pools, task, Split::Validation, 1_000, mix_cfg)?;

    let mut trainer = if args.resume {
        Trainer::resume(&checkpoint)?
    } else {
        let t = Trainer::new(run.weights_config()?, run.settings.clone())?;
        if let Some(path) = &run.large_from {
            t.load_half(Half::Large, &Weights::load(path)?)?;
        }
        if let Some(path) = &run.small_from {
            t.load_half(Half::Small, &Weights::load(path)?)?;
        }
        if let Some(path) = &run.init_from {
            let fresh = t.init_from(&Weights::load(path)?)?;
            println!(
                "started from {} ({} tensor(s) fresh: {})",
                path.display(),
                fresh.len(),
                fresh.join(", ")
            );
        }
        std::fs::write(&run_path, serde_json::to_string_pretty(&run)?)?;
        t
    };
    let order = (run.order, run.order_min_degrees);
    let fixed = match run.overfit {
        Some(n) => {
            let mixtures: Vec<Mixture> = (0..n as u64).map(|i| train.get(i)).collect();
            Some(exact_batch(&mixtures, order, task)?)
        }
        None => None,
    };
    // Validation scores the better assignment whatever the training order.
    let (val_mix, val_targets, val_speakers) = match &fixed {
        Some(batch) => batch.clone(),
        None => {
            let mixtures: Vec<Mixture> = (0..run.val_count as u64)
                .map(|i| validation.get(i))
                .collect();
            exact_batch(&mixtures, order, task)?
        }
    }
    .tensors()?;
    let mut log = RunLog::open(&args.out, trainer.step)?;

    let backend = run.backend.unwrap_or_default();
    if backend == Backend::Fast {
        let samples = (run.seconds * kb_models::SAMPLE_RATE as f64).round() as usize;
        let threads = args.threads.unwrap_or(2).clamp(1, 2);
        let limit = Some(args.fast_memory_mb << 20);
        trainer.use_fast((run.settings.batch, samples), threads, limit)?;
        if let Some(f) = trainer.fast_memory() {
            println!(
                "fast path: buffers {} MiB, {} example(s) per pass, {} block(s) recomputed per step",
                f.bytes >> 20,
                f.per_pass,
                f.recomputed
            );
        }
    }
    println!(
        "training {} on the {} backend",
        args.out.display(),
        if backend == Backend::Fast {
            "fast"
        } else {
            "candle"
        }
    );
    let batches = match &fixed {
        Some(batch) => Batches::Fixed(batch.clone()),
        None => Batches::Rendered(prefetch(
            train,
            (trainer.step, run.settings.batch as u64, args.prefetch),
            order,
            (bank, run.settings.seed),
            task.sources(),
        )),
    };

    let bar = ProgressBar::new(run.steps);
    bar.set_style(ProgressStyle::with_template(
        "{bar:30} {pos}/{len} steps  {msg}  eta {eta}",
    )?);
    bar.set_position(trainer.step);
    let b = run.settings.batch as u64;
    let per_step = run.seconds * b as f64;
    let (mut loss_sum, mut grad_sum, mut since, mut audio_s, start) =
        (0f64, 0f64, 0u64, 0f64, Instant::now());
    let mut previous: Option<Validation> = None;
    while trainer.step < run.steps {
        let batch = batches.next()?;
        let report = match backend {
            Backend::Fast => trainer.train_step_flat_ordered(
                &batch.mix,
                &batch.targets,
                batch.shape.0,
                (&batch.fixed, &batch.speakers),
            )?,
            Backend::Candle => {
                let fixed = batch.fixed.clone();
                let (mix, targets, speakers) = batch.tensors()?;
                trainer.train_step_ordered(&mix, &targets, (&fixed, speakers.as_ref()))?
            }
        };
        let lr = trainer.adam.lr;
        log.step(
            trainer.step,
            lr,
            (report.loss, report.grad_norm),
            trainer.step as f64 * per_step,
        )?;
        loss_sum += report.loss as f64;
        grad_sum += report.grad_norm;
        since += 1;
        audio_s += per_step;
        let speed = audio_s / start.elapsed().as_secs_f64();
        let progress = format!("loss {:.2}  lr {lr:.1e}  {speed:.2} audio-s/s", report.loss);
        bar.set_position(trainer.step);
        if bar.is_hidden() && trainer.step % 10 == 0 {
            println!("step {}/{}: {progress}", trainer.step, run.steps);
        }
        bar.set_message(progress);
        if trainer.step % run.eval_every == 0 || trainer.step == run.steps {
            let v = trainer.validate_conditioned(&val_mix, &val_targets, val_speakers.as_ref())?;
            let mean = v.mean();
            if trainer.end_evaluation(mean) {
                trainer.save_weights(&args.out.join("best.safetensors"))?;
            }
            let flips = previous.as_ref().map(|p| v.flips_since(p));
            log.evaluation(&Evaluation {
                step: trainer.step,
                lr,
                train_loss: loss_sum / since.max(1) as f64,
                si_sdri: mean,
                speed,
                audio_seconds: trainer.step as f64 * per_step,
                grad_norm: grad_sum / since.max(1) as f64,
                levels: (v.output_db, v.target_db),
                pit_flips: flips,
            })?;
            let line = format!(
                "step {}: {} SI-SDRi {mean:.2} dB (SI-SDR {:.2} dB), output {:.1} dBFS vs target {:.1}{}",
                trainer.step,
                if fixed.is_some() { "training-batch" } else { "validation" },
                v.mean_si_sdr(),
                v.output_db,
                v.target_db,
                flips.map_or(String::new(), |f| format!(", {:.0} % of orders flipped", 100.0 * f))
            );
            if bar.is_hidden() {
                println!("{line}");
            } else {
                bar.println(line);
            }
            (loss_sum, grad_sum, since) = (0.0, 0.0, 0);
            previous = Some(v);
        }
        if trainer.step % run.checkpoint_every == 0 || trainer.step == run.steps {
            log.flush()?;
            trainer.save_checkpoint(&checkpoint)?;
        }
    }
    trainer.save_weights(&args.out.join("last.safetensors"))?;
    bar.finish();
    println!(
        "trained {} steps; weights in {}",
        trainer.step,
        args.out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_and_json_run_files_read_the_same() {
        let json = r#"{"task": "se", "model": "joint", "large": "large_cpu", "delay": 3,
            "steps": 1234, "seconds": 1.5,
            "settings": {"lr": 0.0005, "batch": 4, "hint_drop_chunks": 0.1}}"#;
        let toml = "task = \"se\"\nmodel = \"joint\"\nlarge = \"large_cpu\"\ndelay = 3\n\
            steps = 1234\nseconds = 1.5\n[settings]\nlr = 0.0005\nbatch = 4\nhint_drop_chunks = 0.1\n";
        let a = RunFile::parse(Path::new("run.json"), json).unwrap();
        let b = RunFile::parse(Path::new("run.TOML"), toml).unwrap();
        assert_eq!(a, b);
        assert_eq!((b.delay, b.steps, b.settings.batch), (3, 1234, 4));
        assert_eq!(b.settings.lr, 0.0005);
        // Fields left out keep their defaults.
        assert_eq!(b.compression, RunFile::default().compression);
        assert_eq!(b.settings.clip, TrainSettings::default().clip);
    }

    #[test]
    fn a_bad_run_file_names_itself() {
        let e = RunFile::parse(Path::new("runs/a.toml"), "steps = \"many\"").unwrap_err();
        assert!(e.contains("runs/a.toml"), "{e}");
        let e = RunFile::parse(Path::new("runs/b.json"), "{").unwrap_err();
        assert!(e.contains("runs/b.json"), "{e}");
    }
}
