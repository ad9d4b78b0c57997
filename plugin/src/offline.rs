//! The plugin's audio path over a whole recording (for `cargo xtask process`):
//! the same [`AudioPath`], waiting for every hint, with the latency trimmed.

use std::sync::Arc;

use crate::{
    model_info::ModelInfo,
    models::{Mode, ModelRequest, OverridePaths},
    path::{AudioPath, Controls, PathConfig},
    telemetry::Telemetry,
    voice::Enrollment,
};
use parking_lot::RwLock;

/// What an offline render produced.
#[derive(Debug)]
pub struct Rendered {
    /// [main L, main R, aux L, aux R], latency-aligned with the input and as long.
    pub channels: [Vec<f32>; 4],
    /// The path's latency in samples (trimmed off).
    pub latency: usize,
    /// The model that ran (None: no weights for the mode, audio passed through).
    pub model: Option<ModelInfo>,
    /// The loader's message (a refused file, or no model), empty when all went well.
    pub message: String,
    /// Hints used on time, in percent.
    pub hints_on_time: f64,
}

/// How an offline render runs.
#[derive(Debug, Clone, Default)]
pub struct RenderSettings {
    /// Weight file instead of the built-in model.
    pub weights: Option<String>,
    /// Run without the large model's hints.
    pub no_boost: bool,
    /// Merge the hint of chunk k - N at chunk k instead of the trained C.
    pub link_delay: Option<u64>,
    /// Extract mode's enrolled voice.
    pub voice: Enrollment,
    /// A hint server to get the pair's hints from instead of the local large model.
    pub hint_server: Option<kb_link::ClientSettings>,
}

/// Renders `input` [left, right] at `rate` through `mode` as `settings` say.
pub fn render(
    input: [&[f32]; 2],
    rate: f64,
    mode: Mode,
    settings: &RenderSettings,
) -> Result<Rendered, String> {
    render_with_progress(input, rate, mode, settings, &mut |_| {})
}

/// [`render`], calling `progress` with the share of the input done after each block.
pub fn render_with_progress(
    input: [&[f32]; 2],
    rate: f64,
    mode: Mode,
    settings: &RenderSettings,
    progress: &mut dyn FnMut(f64),
) -> Result<Rendered, String> {
    let mut paths = OverridePaths::default();
    paths.set(mode, settings.weights.clone());
    let request = Arc::new(ModelRequest {
        mode: (mode as u8).into(),
        overrides: Arc::new(RwLock::new(paths)),
        enrollment: Arc::new(RwLock::new(settings.voice.clone())),
        desk: Default::default(),
        hint_server: Arc::new(RwLock::new(settings.hint_server.clone())),
    });
    let telemetry = Arc::new(Telemetry::default());
    let cfg = PathConfig {
        host_rate: rate,
        wait_for_hints: true,
        stall_background: false,
        link_delay: settings.link_delay,
    };
    let mut path = AudioPath::new(&cfg, request, telemetry.clone())?;
    let latency = path.latency();
    let n = input[0].len();
    let mut out: [Vec<f32>; 4] = std::array::from_fn(|_| vec![0.0; n + latency]);
    let controls = Controls {
        mode,
        boost: !settings.no_boost,
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
        progress(pos as f64 / (n + latency) as f64);
    }
    let model = telemetry.model().filter(|_| path.has_model());
    path.stop();
    for ch in &mut out {
        ch.drain(..latency);
    }
    Ok(Rendered {
        channels: out,
        latency,
        model,
        message: telemetry.message(),
        hints_on_time: telemetry.hints_on_time_percent(),
    })
}
