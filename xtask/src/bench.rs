//! `cargo xtask bench`: real-time factor of each engine against its 8 ms
//! budget, single-threaded, with the candle streaming forward of the same model.

use std::time::Instant;

use candle_core::{Device, Tensor};
use kb_models::{
    engine::{BoostedPair, GridNetEngine, HintFrame, KernelPath, Kernels},
    weights::{Model, Weights},
    JointConfig, ModelConfig, WeightsConfig, CHUNK, LOOKAHEAD, SAMPLE_RATE,
};

use crate::alloc_counter::allocations_during;

mod isa;
mod train;

/// Arguments of `bench`.
#[derive(clap::Args)]
pub struct Args {
    /// Chunks timed per engine.
    #[arg(long, default_value_t = 2000)]
    chunks: usize,
    /// Chunks timed per candle model (one chunk per call).
    #[arg(long, default_value_t = 100)]
    candle_chunks: usize,
    /// Hint delay C of the boosted pair.
    #[arg(long, default_value_t = 1)]
    delay: usize,
    /// Use the portable kernels instead of the fastest this CPU supports.
    #[arg(long)]
    portable: bool,
    /// End with one JSON object of every figure.
    #[arg(long)]
    json: bool,
    /// Benchmark training (both backends) instead of the real-time engines.
    #[arg(long)]
    pub train: bool,
    /// Training benchmark: mixtures per batch.
    #[arg(long, default_value_t = 8)]
    batch: usize,
    /// Training benchmark: seconds per mixture.
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// Training benchmark: fast-path steps timed per model.
    #[arg(long, default_value_t = 5)]
    steps: usize,
    /// Training benchmark: only these models (`small`, `medium`, `large_cpu`, `large`, `joint`; default all).
    #[arg(long, value_delimiter = ',')]
    models: Vec<String>,
    /// Training benchmark: the fast path only (no candle comparison).
    #[arg(long)]
    fast_only: bool,
    /// Compare the peak multiply-accumulate rate of f32 FMA and bf16 dot
    /// products on this CPU (one thread) instead of timing the engines.
    #[arg(long)]
    isa: bool,
    /// Training benchmark: most MiB the fast path's buffers take (as `train`'s flag).
    #[arg(long, default_value_t = kb_models::train::FAST_MEMORY_MB)]
    fast_memory_mb: usize,
}

/// Per-chunk times of one engine, in microseconds.
struct Timing {
    median: f64,
    p99: f64,
    worst: f64,
}

impl Timing {
    fn of(mut us: Vec<f64>) -> Self {
        us.sort_by(f64::total_cmp);
        let at = |q: f64| us[((us.len() - 1) as f64 * q).round() as usize];
        Self {
            median: at(0.5),
            p99: at(0.99),
            worst: *us.last().expect("at least one chunk"),
        }
    }
}

fn chunk_input(i: usize) -> Vec<f32> {
    (0..2 * CHUNK)
        .map(|n| {
            let t = (CHUNK * i + n % CHUNK) as f32 / SAMPLE_RATE as f32;
            0.3 * (2.0 * std::f32::consts::PI * (180.0 + 40.0 * (n / CHUNK) as f32) * t).sin()
                * (1.0 + (3.0 * t).sin())
                * 0.5
        })
        .collect()
}

/// Times `step(i)` over `chunks` chunks after a warm-up, counting the
/// allocations made meanwhile (the timing buffer is allocated before).
fn time_chunks(chunks: usize, mut step: impl FnMut(usize)) -> (Timing, usize) {
    let mut times = Vec::with_capacity(chunks);
    let allocs = allocations_during(|| {
        for i in 0..50 {
            step(i);
        }
        for i in 0..chunks {
            let start = Instant::now();
            step(i);
            times.push(start.elapsed().as_secs_f64() * 1e6);
        }
    });
    (Timing::of(times), allocs)
}

/// Median per-chunk time of a candle streaming call (one 192-sample window per chunk).
fn candle_median(chunks: usize, mut call: impl FnMut(&Tensor)) -> kb_models::Result<f64> {
    let window = |i: usize| {
        Tensor::from_vec(chunk_input(i), (1, 2, CHUNK), &Device::Cpu)?
            .pad_with_zeros(2, LOOKAHEAD, 0)
    };
    let windows = (0..chunks + 5)
        .map(window)
        .collect::<candle_core::Result<Vec<_>>>()?;
    for w in &windows[..5] {
        call(w);
    }
    let times = windows[5..]
        .iter()
        .map(|w| {
            let start = Instant::now();
            call(w);
            start.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    Ok(Timing::of(times).median)
}

struct Row {
    key: &'static str,
    label: String,
    timing: Timing,
    candle_us: f64,
}

/// Runs the benchmark and prints the table (and JSON).
pub fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    if args.isa {
        isa::run(50_000_000);
        return Ok(());
    }
    if args.train {
        return train::run(
            (args.batch, args.seconds, args.steps),
            (&args.models, args.fast_only, args.fast_memory_mb << 20),
            args.json,
        );
    }
    Ok(engines(args)?)
}

/// Times the real-time engines against their budget.
fn engines(args: &Args) -> kb_models::Result<()> {
    let kernels = if args.portable {
        Kernels::new(KernelPath::Portable).expect("portable kernels always run")
    } else {
        Kernels::best()
    };
    let budget_us = 1e6 * 128.0 / kb_models::SAMPLE_RATE as f64;
    let n = args.chunks;
    let inputs: Vec<Vec<f32>> = (0..n + 50).map(chunk_input).collect();
    let mut rows = Vec::new();
    let mut allocs = 0usize;

    for (key, cfg) in [
        ("small", ModelConfig::small(2)),
        ("medium", ModelConfig::medium(2)),
    ] {
        let weights = Weights::random(WeightsConfig::Single(cfg.clone()), 1)?;
        let file = weights.to_file()?;
        let src = kb_models::engine::tensors::TensorSource::new(&file.tensors, "");
        let mut engine = GridNetEngine::load(&src, &cfg, None, kernels)?;
        let mut out = vec![0f32; cfg.sources * cfg.ears * cfg.chunk];
        let (timing, a) = time_chunks(n, |i| {
            engine
                .process(&inputs[i], None, &mut out)
                .expect("sized buffers")
        });
        allocs += a;
        let Model::Single(model) = weights.model(&Device::Cpu)? else {
            unreachable!()
        };
        let mut state = model.initial_state(1, &Device::Cpu)?;
        let candle_us = candle_median(args.candle_chunks, |w| {
            model
                .forward_frames(w, None, &mut state)
                .expect("candle forward");
        })?;
        let label = format!("{key} (D{} H{})", cfg.d, cfg.hidden);
        rows.push(Row {
            key,
            label,
            timing,
            candle_us,
        });
    }

    let joint = JointConfig::paper(2, args.delay, 2);
    let weights = Weights::random(WeightsConfig::Joint(joint.clone()), 2)?;
    let Model::Joint(model) = weights.model(&Device::Cpu)? else {
        unreachable!()
    };
    let (mut small, mut large) =
        BoostedPair::from_weights(&weights.to_file()?, kernels)?.into_engines();
    let mut hints: Vec<HintFrame> = (0..n + 50).map(|_| HintFrame::new(&joint)).collect();
    let (timing, a) = time_chunks(n, |i| {
        large
            .process(&inputs[i], &mut hints[i])
            .expect("sized buffers")
    });
    allocs += a;
    let mut state = model.initial_state(1, &Device::Cpu)?;
    let large_candle = candle_median(args.candle_chunks, |w| {
        let mut s = state.large.clone();
        model
            .large()
            .forward_frames(w, None, &mut s)
            .expect("candle forward");
        state.large = s;
    })?;
    rows.push(Row {
        key: "large",
        label: "large + compression (D64 H64, 8-head attention)".into(),
        timing,
        candle_us: large_candle,
    });

    let mut out = vec![0f32; 2 * 2 * CHUNK];
    let (timing, a) = time_chunks(n, |i| {
        small
            .process(&inputs[i], Some(&hints[i]), &mut out)
            .expect("sized buffers")
    });
    allocs += a;
    let hint = Tensor::zeros(
        (1, 1, joint.small.freqs(), joint.hint_channels()),
        candle_core::DType::F32,
        &Device::Cpu,
    )?;
    let small_candle = candle_median(args.candle_chunks, |w| {
        model
            .small()
            .forward_frames(w, Some(&hint), &mut state.small)
            .expect("candle forward");
    })?;
    rows.push(Row {
        key: "small_boost",
        label: format!("small + merge (C = {}, P = 2)", args.delay),
        timing,
        candle_us: small_candle,
    });

    println!(
        "kernels: {} (single thread, {} chunks per engine)",
        kernels.path.name(),
        n
    );
    println!(
        "{:<50} {:>8} {:>10} {:>10} {:>10} {:>12} {:>9}",
        "engine", "RTF", "median us", "p99 us", "worst us", "candle us", "speed-up"
    );
    for r in &rows {
        println!(
            "{:<50} {:>8.4} {:>10.1} {:>10.1} {:>10.1} {:>12.1} {:>8.1}x",
            r.label,
            r.timing.median / budget_us,
            r.timing.median,
            r.timing.p99,
            r.timing.worst,
            r.candle_us,
            r.candle_us / r.timing.median
        );
    }
    let allocs_per_chunk = allocs as f64 / (4 * (n + 50)) as f64;
    println!("allocations per chunk: {allocs_per_chunk}");
    if args.json {
        let mut obj = serde_json::Map::new();
        obj.insert("kernel_path".into(), kernels.path.name().into());
        for r in &rows {
            obj.insert(
                format!("rtf_{}", r.key),
                (r.timing.median / budget_us).into(),
            );
            obj.insert(format!("median_chunk_us_{}", r.key), r.timing.median.into());
            obj.insert(format!("p99_chunk_us_{}", r.key), r.timing.p99.into());
            obj.insert(format!("worst_chunk_us_{}", r.key), r.timing.worst.into());
            obj.insert(
                format!("speedup_vs_candle_{}", r.key),
                (r.candle_us / r.timing.median).into(),
            );
        }
        obj.insert("allocs_per_chunk".into(), allocs_per_chunk.into());
        println!("{}", serde_json::Value::Object(obj));
    }
    Ok(())
}
