//! `cargo xtask bench --train`: training speed of both backends on the same
//! batch from the real data pipeline (audio-seconds trained per wall-second,
//! forward + backward + Adam), and how fast mixtures render.

use std::time::Instant;

use candle_core::{Device, Tensor};
use kb_data::{
    fetch::default_cache, index::INDEX_FILE, MixtureSampler, Pools, SamplerConfig, Split, Task,
};
use kb_models::{
    train::{TrainSettings, Trainer},
    JointConfig, ModelConfig, WeightsConfig,
};

/// One model's figures: audio-seconds per second on each backend.
struct Row {
    key: &'static str,
    fast: Option<f64>,
    candle: f64,
}

/// Steps of `step` per wall-second after one warm-up step, timed over at least `steps` steps.
fn steps_per_second(steps: usize, mut step: impl FnMut()) -> f64 {
    step();
    let start = Instant::now();
    for _ in 0..steps {
        step();
    }
    steps as f64 / start.elapsed().as_secs_f64()
}

fn peak_rss_mb() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    usage.ru_maxrss as f64 / 1024.0
}

/// Runs the training benchmark: `batch` mixtures of `seconds` seconds, `steps`
/// fast steps per model, for the models named in `only` (all when empty),
/// the fast path's buffers within about `limit` bytes.
pub fn run(
    (batch, seconds, steps): (usize, f64, usize),
    (only, fast_only, limit): (&[String], bool, usize),
    json: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let cache = default_cache();
    let index = cache.join(INDEX_FILE);
    if !index.exists() {
        return Err(format!(
            "no data cache at {}: run `cargo xtask data fetch` first",
            cache.display()
        )
        .into());
    }
    let pools = std::sync::Arc::new(Pools::load(&index, Task::Ss, &[Split::Train], &[])?);
    let cfg = SamplerConfig {
        seconds,
        ..SamplerConfig::default()
    };
    let sampler = MixtureSampler::with_config(pools, Task::Ss, Split::Train, 7, cfg)?;
    let start = Instant::now();
    let mixtures: Vec<_> = (0..batch as u64).map(|i| sampler.get(i)).collect();
    let render_s = start.elapsed().as_secs_f64() / batch as f64;
    let n = mixtures[0].mixture[0].len();
    let mix: Vec<f32> = mixtures.iter().flat_map(|x| x.mixture.concat()).collect();
    let tgt: Vec<f32> = mixtures
        .iter()
        .flat_map(|x| x.sources.iter().flat_map(|e| e.concat()))
        .collect();
    let mix_t = Tensor::from_vec(mix.clone(), (batch, 2, n), &Device::Cpu)?;
    let tgt_t = Tensor::from_vec(tgt.clone(), (batch, 2, 2, n), &Device::Cpu)?;
    let audio = batch as f64 * seconds;
    println!(
        "batch {batch} x {seconds} s mixtures; one mixture renders in {:.1} ms on one thread",
        render_s * 1e3
    );

    let mut rows = Vec::new();
    let all: [(&str, WeightsConfig); 5] = [
        ("small", WeightsConfig::Single(ModelConfig::small(2))),
        ("medium", WeightsConfig::Single(ModelConfig::medium(2))),
        (
            "large_cpu",
            WeightsConfig::Single(ModelConfig::large_cpu(2)),
        ),
        ("large", WeightsConfig::Single(ModelConfig::large(2))),
        (
            "joint",
            WeightsConfig::Joint(JointConfig {
                large: ModelConfig::large_cpu(2),
                ..JointConfig::paper(2, 1, 2)
            }),
        ),
    ];
    if let Some(bad) = only
        .iter()
        .find(|name| !all.iter().any(|(key, _)| key == name))
    {
        return Err(format!("no model `{bad}` to benchmark").into());
    }
    let models: Vec<_> = all
        .into_iter()
        .filter(|(key, _)| only.is_empty() || only.iter().any(|o| o == key))
        .collect();
    // The fast path first, so its peak memory is measured before candle's.
    for (key, config) in &models {
        let settings = TrainSettings {
            batch,
            ..TrainSettings::default()
        };
        let mut fast = Trainer::new(config.clone(), settings)?;
        let fast_aps = match fast.use_fast((batch, n), 2, Some(limit)) {
            Ok(()) => Some({
                if let Some(f) = fast.fast_memory() {
                    println!(
                        "{key}: buffers {} MiB, {} example(s) per pass, {} block(s) recomputed per step",
                        f.bytes >> 20,
                        f.per_pass,
                        f.recomputed
                    );
                }
                audio
                    * steps_per_second(steps, || {
                        fast.train_step_flat(&mix, &tgt, batch).expect("fast step");
                    })
            }),
            Err(e) => {
                println!("{key}: no fast path ({e})");
                None
            }
        };
        if fast_aps.is_some() {
            println!("{key}: peak resident memory so far {:.0} MB", peak_rss_mb());
        }
        rows.push(Row {
            key,
            fast: fast_aps,
            candle: 0.0,
        });
    }
    let fast_peak = peak_rss_mb();
    for ((key, config), row) in models.iter().zip(rows.iter_mut()) {
        if fast_only {
            let shown = row.fast.map_or("n/a".to_string(), |v| format!("{v:.2}"));
            println!("{key:>10}: fast {shown:>7} audio-s/s");
            continue;
        }
        let settings = TrainSettings {
            batch,
            ..TrainSettings::default()
        };
        let mut candle = Trainer::new(config.clone(), settings)?;
        let candle_steps = if *key == "small" || *key == "medium" {
            2
        } else {
            1
        };
        row.candle = audio
            * steps_per_second(candle_steps, || {
                candle.train_step(&mix_t, &tgt_t).expect("candle step");
            });
        let shown = row.fast.map_or("n/a".to_string(), |v| format!("{v:.2}"));
        println!(
            "{key:>10}: fast {shown:>7} audio-s/s   candle {:>6.2} audio-s/s",
            row.candle
        );
    }
    let peak = peak_rss_mb();
    println!(
        "peak resident memory: {fast_peak:.0} MB after the fast path, {peak:.0} MB after candle"
    );
    if json {
        let mut obj = serde_json::Map::new();
        for r in &rows {
            obj.insert(format!("train_aps_{}", r.key), r.fast.into());
            if !fast_only {
                obj.insert(format!("train_aps_{}_candle", r.key), r.candle.into());
            }
        }
        for r in rows.iter().filter(|r| r.candle > 0.0) {
            obj.insert(
                format!("train_speedup_{}", r.key),
                r.fast.map(|f| f / r.candle).into(),
            );
        }
        obj.insert(
            "train_render_ms_per_mixture".into(),
            (render_s * 1e3).into(),
        );
        obj.insert("train_peak_rss_mb".into(), fast_peak.into());
        if !fast_only {
            obj.insert("train_peak_rss_mb_candle".into(), peak.into());
        }
        println!("{}", serde_json::Value::Object(obj));
    }
    Ok(())
}
