//! The plugin's audio path over a whole recording (for `cargo xtask process`):
//! the same [`AudioPath`], waiting for every hint, with the latency trimmed.

use std::sync::Arc;

use crate::{
    models::{Mode, ModelRequest, OverridePaths},
    path::{AudioPath, Controls, PathConfig},
    telemetry::Telemetry,
};
use parking_lot::RwLock;

/// What an offline render produced.
#[derive(Debug)]
pub struct Rendered {
    /// [main L, main R, aux L, aux R], latency-aligned with the input and as long.
    pub channels: [Vec<f32>; 4],
    /// The path's latency in samples (trimmed off).
    pub latency: usize,
    /// Whether a model ran (false: no weights for the mode, audio passed through).
    pub had_model: bool,
    /// The loader's message (a refused file, or no model), empty when all went well.
    pub message: String,
    /// Hints used on time, in percent.
    pub hints_on_time: f64,
}

/// Renders `input` [left, right] at `rate` through `mode` (weights from `weights`
/// or the built-in default), with or without boosting.
pub fn render(
    input: [&[f32]; 2],
    rate: f64,
    mode: Mode,
    weights: Option<&str>,
    boost: bool,
    link_delay: Option<u64>,
) -> Result<Rendered, String> {
    let mut paths = OverridePaths::default();
    paths.set(mode, weights.map(str::to_owned));
    let request = Arc::new(ModelRequest {
        mode: (mode as u8).into(),
        overrides: Arc::new(RwLock::new(paths)),
    });
    let telemetry = Arc::new(Telemetry::default());
    let cfg = PathConfig {
        host_rate: rate,
        wait_for_hints: true,
        stall_background: false,
        link_delay,
    };
    let mut path = AudioPath::new(&cfg, request, telemetry.clone())?;
    let latency = path.latency();
    let n = input[0].len();
    let mut out: [Vec<f32>; 4] = std::array::from_fn(|_| vec![0.0; n + latency]);
    let controls = Controls {
        mode,
        boost,
        ..Controls::default()
    };
    let block = 4096;
    let mut pos = 0;
    while pos < n + latency {
        let len = block.min(n + latency - pos);
        let r = pos..pos + len;
        let src = |x: &[f32]| -> Vec<f32> {
            r.clone()
                .map(|i| x.get(i).copied().unwrap_or(0.0))
                .collect()
        };
        let (l, rr) = (src(input[0]), src(input[1]));
        let [a, b, c, d] = &mut out;
        path.process(
            [&l, &rr],
            [
                &mut a[r.clone()],
                &mut b[r.clone()],
                &mut c[r.clone()],
                &mut d[r],
            ],
            &controls,
        );
        pos += len;
    }
    let had_model = path.has_model();
    path.stop();
    for ch in &mut out {
        ch.drain(..latency);
    }
    Ok(Rendered {
        channels: out,
        latency,
        had_model,
        message: telemetry.message(),
        hints_on_time: telemetry.hints_on_time_percent(),
    })
}
