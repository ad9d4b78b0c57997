//! The path's latency: the output FIFO's priming and the wet signal's delay, measured.

use crate::{
    lookahead::LookaheadShift,
    path::{CHUNK, OUT_CHANNELS},
    rate::{Downsampler, Upsampler},
};

/// Host samples the output FIFO must be primed with so that it never runs dry,
/// found by running the resamplers' frame counts over `steps` chunks.
pub fn output_prefill(down: &mut Downsampler, up: &mut Upsampler, steps: usize) -> usize {
    let zin = vec![0.0; 2 * down.frames_max()];
    let mut chunk = vec![0.0; 2 * CHUNK];
    let z16 = vec![0.0; OUT_CHANNELS * CHUNK];
    let stride = up.frames_max();
    let mut zout = vec![0.0; OUT_CHANNELS * stride];
    let (mut consumed, mut produced, mut worst) = (0usize, 0usize, 0usize);
    for _ in 0..steps {
        let need = down.frames_needed();
        consumed += need;
        worst = worst.max((consumed - 1).saturating_sub(produced));
        down.process(&zin[..2 * need], &mut chunk);
        produced += up.process(&z16, &mut zout, stride);
    }
    down.reset();
    up.reset();
    worst
}

/// Delay of the wet path in host samples, fractional: the resamplers' filters and the
/// models' 64-sample lookahead (chunk buffering excluded), measured with an impulse.
pub fn signal_delay(host_rate: f64) -> Result<f64, String> {
    let mut down = Downsampler::new(host_rate, 2, CHUNK).map_err(|e| e.to_string())?;
    let mut up = Upsampler::new(host_rate, OUT_CHANNELS, CHUNK).map_err(|e| e.to_string())?;
    let at = (host_rate * 0.02) as usize;
    // 0.1 s, and at least 40 chunks: at low host rates the filters span many host samples.
    let total = ((host_rate * 0.1) as usize).max(at + 40 * down.frames_max());
    let mut packed = vec![0.0; 2 * down.frames_max()];
    let mut chunk = vec![0.0; 2 * CHUNK];
    let mut out16 = vec![0.0; OUT_CHANNELS * CHUNK];
    let stride = up.frames_max();
    let mut up_out = vec![0.0; OUT_CHANNELS * stride];
    let mut shift = LookaheadShift::default();
    let mut y: Vec<f32> = Vec::new();
    let mut pos = 0;
    while pos + down.frames_needed() <= total {
        let need = down.frames_needed();
        packed[..2 * need].fill(0.0);
        if (pos..pos + need).contains(&at) {
            packed[at - pos] = 1.0;
        }
        down.process(&packed[..2 * need], &mut chunk);
        shift.process(&chunk, &mut out16[..2 * CHUNK]);
        let produced = up.process(&out16, &mut up_out, stride);
        y.extend_from_slice(&up_out[..produced]);
        pos += need;
    }
    let (i, _) = y
        .iter()
        .enumerate()
        .skip(1)
        .take(y.len().saturating_sub(2))
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        .ok_or("no output to measure")?;
    let (a, b, c) = (f64::from(y[i - 1]), f64::from(y[i]), f64::from(y[i + 1]));
    let curve = a - 2.0 * b + c;
    let frac = if curve.abs() > 1e-12 {
        0.5 * (a - c) / curve
    } else {
        0.0
    };
    Ok(i as f64 + frac - at as f64)
}
