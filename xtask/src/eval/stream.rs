//! A row's model over one mixture in streaming mode: the real-time engines, one chunk per call.

use kb_models::engine::{Engines, Kernels};

use super::rows::Row;

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
    let err = |e: kb_models::Error| format!("{}: {e}", row.file.display());
    let mut engines = Engines::from_weights(&row.weights, Kernels::best()).map_err(err)?;
    if let Some(embedding) = speaker {
        engines.set_speaker(embedding).map_err(err)?;
    }
    let cfg = engines.config().clone();
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
        engines
            .process(&input, row.hints, &mut frame)
            .map_err(err)?;
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
