//! A row's model over one mixture in streaming mode: the real-time engines, one chunk per call.

use kb_models::{
    engine::{tensors::TensorSource, BoostedPair, GridNetEngine, Kernels},
    WeightsConfig,
};

use super::rows::Row;

/// The engines of one row.
enum Engines {
    Single(Box<GridNetEngine>),
    Joint { pair: Box<BoostedPair>, hints: bool },
}

/// Runs `row` over `mixture` [ear][t] as the plugin does: chunk by chunk, the
/// large model's hint of chunk k reaching the small model at chunk k + C (or
/// never, for a no-hint row), conditioned on `speaker` (target extraction).
/// The input is padded with zeros so every sample comes out; returns the
/// estimates [source][ear][t] aligned with the input (the engines' lookahead
/// delay removed).
pub fn separate(
    row: &Row,
    mixture: &[Vec<f32>],
    speaker: Option<&[f32]>,
) -> Result<Vec<Vec<Vec<f32>>>, String> {
    let kernels = Kernels::best();
    let err = |e: kb_models::Error| format!("{}: {e}", row.file.display());
    let weights = &row.weights;
    let (cfg, mut engines) = match &weights.config {
        WeightsConfig::Single(cfg) => {
            let src = TensorSource::new(&weights.tensors, "");
            let engine = GridNetEngine::load(&src, cfg, None, kernels).map_err(err)?;
            (cfg.clone(), Engines::Single(Box::new(engine)))
        }
        WeightsConfig::Joint(j) => (
            j.small.clone(),
            Engines::Joint {
                pair: Box::new(BoostedPair::from_weights(weights, kernels).map_err(err)?),
                hints: row.hints,
            },
        ),
    };
    if let Some(embedding) = speaker {
        match &mut engines {
            Engines::Single(e) => e.set_speaker(embedding).map_err(err)?,
            Engines::Joint { pair, .. } => pair.set_speaker(embedding).map_err(err)?,
        }
    }
    if mixture.len() != cfg.ears {
        return Err(format!(
            "{}: the model takes {} ears, the mixture has {}",
            row.file.display(),
            cfg.ears,
            mixture.len()
        ));
    }
    let (chunk, ears, sources) = (cfg.chunk, cfg.ears, cfg.sources);
    let n = mixture[0].len();
    let chunks = (n + cfg.pad).div_ceil(chunk);
    let mut out = vec![vec![vec![0f32; chunks * chunk]; ears]; sources];
    let mut input = vec![0f32; ears * chunk];
    let mut frame = vec![0f32; sources * ears * chunk];
    for k in 0..chunks {
        for (ear, dst) in input.chunks_exact_mut(chunk).enumerate() {
            for (i, v) in dst.iter_mut().enumerate() {
                *v = mixture[ear].get(k * chunk + i).copied().unwrap_or(0.0);
            }
        }
        match &mut engines {
            Engines::Single(e) => e.process(&input, None, &mut frame).map_err(err)?,
            Engines::Joint { pair, hints } => {
                pair.process(&input, *hints, &mut frame).map_err(err)?
            }
        }
        for (ch, src) in frame.chunks_exact(chunk).enumerate() {
            out[ch / ears][ch % ears][k * chunk..(k + 1) * chunk].copy_from_slice(src);
        }
    }
    for ear in out.iter_mut().flatten() {
        ear.drain(..cfg.pad);
        ear.truncate(n);
    }
    Ok(out)
}
