//! Renders the editor offscreen (egui alone, a CPU rasterizer, no display or GPU) with
//! simulated telemetry, and writes a PNG:
//! `cargo run -p knowledge_boost --example editor_screenshot -- docs/editor.png`.

mod raster;

use std::{error::Error, path::PathBuf, sync::atomic::Ordering::Relaxed};

use egui::{Pos2, RawInput, Rect, ViewportId, ViewportInfo};
use kb_models::{weights::Weights, JointConfig, WeightsConfig};
use knowledge_boost::{
    editor::{self, state::UiState, style, view::View},
    model_info::ModelInfo,
    params::KbParams,
    telemetry::Telemetry,
};
use nice_plug::prelude::{GuiContextInner, ParamPtr, ParamSetter, PluginApi, PluginState};
use raster::{Canvas, Textures};

/// Pixels per point of the image.
const PIXELS_PER_POINT: f32 = 2.0;
/// Simulated hint misses in each of the last 11 seconds.
const MISSES_PER_SECOND: [u64; 11] = [0, 3, 0, 0, 1, 0, 0, 6, 0, 2, 0];

/// A host that ignores the editor's gestures (nothing is clicked).
struct NoHost;

impl GuiContextInner for NoHost {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }
    unsafe fn raw_begin_set_parameter(&self, _param: ParamPtr) {}
    unsafe fn raw_set_parameter_normalized(&self, _param: ParamPtr, _normalized: f32) {}
    unsafe fn raw_end_set_parameter(&self, _param: ParamPtr) {}
    fn get_state(&self) -> PluginState {
        PluginState {
            version: String::new(),
            params: Default::default(),
            fields: Default::default(),
        }
    }
    fn set_state(&self, _state: PluginState) {}
    fn request_restart(&self) {}
}

/// The paper's separation pair (small D16, large D64, C = 1, P = 2) with random weights,
/// described as the plugin describes a loaded file.
fn paper_model() -> Result<ModelInfo, Box<dyn Error>> {
    let cfg = WeightsConfig::Joint(JointConfig::paper(2, 1, 2));
    let w = Weights::random(cfg, 0)?;
    let file =
        std::env::temp_dir().join(format!("kb-screenshot-{}.safetensors", std::process::id()));
    kb_models::weights::save(&file, &w.config, &w.tensors)?;
    let bytes = std::fs::metadata(&file)?.len();
    std::fs::remove_file(&file)?;
    Ok(ModelInfo::describe(
        &w.to_file()?,
        "separate.safetensors".into(),
        bytes,
        None,
    ))
}

/// Plausible figures of a boosted separation at 48 kHz: 97 % of hints on time.
fn simulated(model: ModelInfo) -> Telemetry {
    let t = Telemetry::default();
    t.input_level.set(0.42, 0.11);
    t.main_level.set(0.35, 0.075);
    t.aux_level.set(0.28, 0.06);
    t.hints_used.store(12_610, Relaxed);
    t.hints_missed.store(390, Relaxed);
    t.hint_age_us
        .store(model.delay.unwrap_or(0) as u32 * 8_000, Relaxed);
    t.small_ns.store(1_720_000, Relaxed);
    t.small_ns_max.store(3_050_000, Relaxed);
    t.large_rtf_ppm.store(640_000, Relaxed);
    t.latency_samples.store(624, Relaxed);
    t.host_rate_hz.store(48_000, Relaxed);
    t.set_loaded(String::new(), Some(model));
    t
}

fn main() -> Result<(), Box<dyn Error>> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "docs/editor.png".into()),
    );
    let telemetry = simulated(paper_model()?);
    let params = KbParams::default();
    let ctx = egui::Context::default();
    style::apply(&ctx);
    let setter = ParamSetter::new(&NoHost);
    let mut state = UiState::default();
    let mut textures = Textures::default();
    let size = egui::vec2(editor::SIZE.0, editor::SIZE.1);
    let mut last = None;
    for (second, misses) in MISSES_PER_SECOND.iter().enumerate() {
        telemetry.hints_missed.fetch_add(*misses, Relaxed);
        for _ in 0..2 {
            let mut input = RawInput {
                screen_rect: Some(Rect::from_min_size(Pos2::ZERO, size)),
                time: Some(second as f64 + 0.5),
                ..Default::default()
            };
            input.viewports.insert(
                ViewportId::ROOT,
                ViewportInfo {
                    native_pixels_per_point: Some(PIXELS_PER_POINT),
                    ..Default::default()
                },
            );
            let view = View::sample(&telemetry);
            let mut output = ctx.run_ui(input, |ui| {
                editor::window(ui, &params, &setter, &view, &mut state)
            });
            textures.apply(&output.textures_delta);
            output.textures_delta.clear();
            last = Some(output);
        }
    }
    let output = last.ok_or("no frame rendered")?;
    let ppp = output.pixels_per_point;
    let primitives = ctx.tessellate(output.shapes, ppp);
    let (w, h) = ((size.x * ppp) as usize, (size.y * ppp) as usize);
    let mut canvas = Canvas::new(w, h, ctx.global_style().visuals.panel_fill);
    canvas.draw(&primitives, &textures, ppp);
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    canvas.write_png(&out)?;
    println!("wrote {} ({w} x {h} pixels)", out.display());
    Ok(())
}
