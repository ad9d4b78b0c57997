//! The editor's UI as one plain function of the parameters, a telemetry snapshot and
//! editor state: no nice-plug window glue, so tests can run it offscreen.

use egui::{Grid, RichText, ScrollArea, TextEdit, Ui};
use nice_plug::prelude::{Param, ParamSetter};
use nice_plug_egui::widgets::ParamSlider;

use crate::{
    editor::{hint_source, history, meter, state::UiState, style, view::View, voice},
    models::Mode,
    params::KbParams,
    telemetry::CHUNK_BUDGET_US,
};

/// Width at which the sections sit side by side.
const TWO_COLUMNS_MIN_WIDTH: f32 = 680.0;
/// Width of a slider.
const SLIDER_WIDTH: f32 = 150.0;
/// Width of a meter or gauge.
const METER_WIDTH: f32 = 110.0;
/// Space around the editor's content.
const MARGIN: i8 = 12;

/// Draws the whole editor into `ui`; every control goes through `setter`.
pub fn draw(
    ui: &mut Ui,
    params: &KbParams,
    setter: &ParamSetter,
    view: &View,
    state: &mut UiState,
) {
    let now = ui.input(|i| i.time);
    state.misses.sample(now, view.hints_missed);
    egui::Frame::new()
        .inner_margin(MARGIN)
        .show(ui, |ui| content(ui, params, setter, view, state));
}

fn content(ui: &mut Ui, params: &KbParams, setter: &ParamSetter, view: &View, state: &mut UiState) {
    ui.horizontal(|ui| {
        ui.heading("Knowledge Boost");
        let (status, colour) = if params.bypass.value() {
            ("bypassed", style::WARN)
        } else if view.no_model
            && params.mode.value() == Mode::Extract
            && params.voice.read().embedding().is_none()
        {
            ("no voice enrolled: audio passes through", style::BAD)
        } else if view.no_model {
            ("no model: audio passes through", style::BAD)
        } else if params.boost.value() {
            ("boosted", style::GOOD)
        } else {
            ("small model alone", style::WARN)
        };
        ui.label(RichText::new(status).color(colour));
    });
    ui.separator();
    ScrollArea::vertical().show(ui, |ui| {
        if ui.available_width() >= TWO_COLUMNS_MIN_WIDTH {
            ui.columns(2, |cols| {
                controls(&mut cols[0], params, setter, view, state);
                if params.mode.value() == Mode::Extract {
                    voice::draw(&mut cols[0], params, state);
                }
                model(&mut cols[0], view);
                levels(&mut cols[1], view);
                hints(&mut cols[1], params, view, state);
                cpu(&mut cols[1], view);
                hint_source::draw(&mut cols[1], params, view, state);
            });
        } else {
            controls(ui, params, setter, view, state);
            if params.mode.value() == Mode::Extract {
                voice::draw(ui, params, state);
            }
            levels(ui, view);
            hints(ui, params, view, state);
            cpu(ui, view);
            model(ui, view);
            hint_source::draw(ui, params, view, state);
        }
    });
}

/// A titled group of label-value rows.
pub(crate) fn section(ui: &mut Ui, title: &str, body: impl FnOnce(&mut Ui)) {
    ui.add_space(4.0);
    ui.label(RichText::new(title).strong().size(15.0));
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        Grid::new(title)
            .num_columns(2)
            .spacing([12.0, 6.0])
            .show(ui, body);
    });
}

fn set<P: Param>(setter: &ParamSetter, param: &P, value: P::Plain) {
    setter.begin_set_parameter(param);
    setter.set_parameter(param, value);
    setter.end_set_parameter(param);
}

fn mode_label(mode: Mode) -> &'static str {
    match mode {
        Mode::Separate => "Separate",
        Mode::Enhance => "Enhance",
        Mode::Extract => "Extract",
    }
}

fn controls(
    ui: &mut Ui,
    params: &KbParams,
    setter: &ParamSetter,
    view: &View,
    state: &mut UiState,
) {
    let mode = params.mode.value();
    if state.path_mode != Some(mode) {
        state.weight_path = params.weights.read().get(mode).unwrap_or("").to_owned();
        state.path_mode = Some(mode);
    }
    section(ui, "Controls", |ui| {
        ui.label("Mode");
        ui.horizontal(|ui| {
            for m in Mode::ALL {
                if ui.selectable_label(m == mode, mode_label(m)).clicked() && m != mode {
                    set(setter, &params.mode, m);
                }
            }
        });
        ui.end_row();
        for (name, param) in [("Boost", &params.boost), ("Bypass", &params.bypass)] {
            ui.label(name);
            let mut on = param.value();
            let text = if on { "on" } else { "off" };
            if ui.checkbox(&mut on, text).changed() {
                set(setter, param, on);
            }
            ui.end_row();
        }
        ui.label("Mix");
        ui.add(ParamSlider::for_param(&params.mix, setter).with_width(SLIDER_WIDTH));
        ui.end_row();
        ui.label("Output gain");
        ui.add(ParamSlider::for_param(&params.gain, setter).with_width(SLIDER_WIDTH));
        ui.end_row();
        ui.label("Reduction");
        ui.add(ParamSlider::for_param(&params.reduction, setter).with_width(SLIDER_WIDTH));
        ui.end_row();
        ui.label("Weight file");
        ui.vertical(|ui| {
            ui.add(
                TextEdit::singleline(&mut state.weight_path)
                    .hint_text(format!("built-in {} model", mode.name()))
                    .desired_width(SLIDER_WIDTH + 80.0),
            );
            ui.horizontal(|ui| {
                if ui.button("Load").clicked() {
                    let path = state.weight_path.trim();
                    let path = (!path.is_empty()).then(|| path.to_owned());
                    params.weights.write().set(mode, path);
                }
                if ui.button("Built-in").clicked() {
                    state.weight_path.clear();
                    params.weights.write().set(mode, None);
                }
            });
            if !view.message.is_empty() {
                ui.label(RichText::new(&view.message).color(style::BAD));
            }
        });
        ui.end_row();
    });
}

fn levels(ui: &mut Ui, view: &View) {
    section(ui, "Levels", |ui| {
        for (name, level) in ["Input", "Talker 1", "Talker 2"]
            .into_iter()
            .zip(view.levels)
        {
            ui.label(name);
            if name == "Talker 2" && view.aux_missing {
                ui.label(
                    RichText::new("no bus: the host left the auxiliary output out")
                        .color(style::WARN),
                );
                ui.end_row();
                continue;
            }
            ui.horizontal(|ui| {
                meter::level(ui, level, METER_WIDTH);
                ui.label(
                    RichText::new(format!(
                        "{:>5.1} dB rms  {:>5.1} pk",
                        level.rms_db.max(meter::FLOOR_DB),
                        level.peak_db.max(meter::FLOOR_DB)
                    ))
                    .monospace(),
                );
            });
            ui.end_row();
        }
    });
}

fn hints(ui: &mut Ui, params: &KbParams, view: &View, state: &UiState) {
    section(ui, "Hints", |ui| {
        if view.model.as_ref().is_some_and(|m| m.delay.is_none()) {
            ui.label("Boost");
            ui.label(
                RichText::new("none: a single model runs alone (no large model)").color(style::DIM),
            );
            ui.end_row();
            return;
        }
        if !params.boost.value() {
            ui.label("Boost");
            ui.label(RichText::new("off: the small model runs alone").color(style::WARN));
            ui.end_row();
        }
        let on_time = view.hints_on_time_percent;
        ui.label("On time");
        ui.label(RichText::new(format!("{on_time:.1} %")).color(style::grade(
            100.0 - on_time,
            5.0,
            20.0,
        )));
        ui.end_row();
        let delay = view.model.as_ref().and_then(|m| m.delay).unwrap_or(0);
        let budget_ms = delay as f64 * CHUNK_BUDGET_US / 1000.0;
        ui.label("Hint age");
        ui.label(
            RichText::new(format!(
                "{:.0} ms (delay C = {delay}: {budget_ms:.0} ms)",
                view.hint_age_ms
            ))
            .color(style::grade(view.hint_age_ms - budget_ms, 0.5, 50.0)),
        );
        ui.end_row();
        ui.label("Misses, last 10 s");
        ui.horizontal(|ui| {
            meter::misses(ui, &state.misses.per_second(), METER_WIDTH);
            ui.label(format!(
                "{} in {} s",
                state.misses.total(),
                history::SECONDS
            ));
        });
        ui.end_row();
    });
}

fn cpu(ui: &mut Ui, view: &View) {
    section(ui, "CPU and latency", |ui| {
        let small = view.small_budget_percent;
        ui.label("Small engine");
        ui.horizontal(|ui| {
            meter::gauge(
                ui,
                small / 100.0,
                style::grade(small, 50.0, 90.0),
                METER_WIDTH,
            );
            ui.label(format!(
                "{small:.0} % of 8 ms (worst {:.0} %)",
                view.small_worst_percent
            ));
        });
        ui.end_row();
        ui.label("Large engine");
        ui.label(
            RichText::new(format!("real-time factor {:.2}", view.large_rtf)).color(style::grade(
                view.large_rtf,
                0.8,
                1.0,
            )),
        );
        ui.end_row();
        ui.label("Latency");
        ui.label(format!("{:.1} ms reported to the host", view.latency_ms));
        ui.end_row();
    });
}

fn count(n: usize) -> String {
    match n {
        0..1_000 => n.to_string(),
        1_000..1_000_000 => format!("{:.1} k", n as f64 / 1e3),
        _ => format!("{:.2} M", n as f64 / 1e6),
    }
}

fn model(ui: &mut Ui, view: &View) {
    section(ui, "Model", |ui| {
        let Some(m) = view.model.as_ref() else {
            ui.label("Model");
            ui.label(RichText::new("none: audio passes through").color(style::BAD));
            ui.end_row();
            return;
        };
        ui.label("Model");
        ui.label(&m.name);
        ui.end_row();
        ui.label("Size");
        ui.label(format!("{:.2} MB", m.file_bytes as f64 / 1e6));
        ui.end_row();
        ui.label("Parameters");
        ui.label(match m.delay {
            Some(_) => format!(
                "small {} (D {}), large {} (D {})",
                count(m.small_params),
                m.widths.0,
                count(m.large_params),
                m.widths.1
            ),
            None => format!("single model {} (D {})", count(m.small_params), m.widths.0),
        });
        ui.end_row();
        ui.label("Evaluation");
        match &m.eval {
            Some(e) => ui.label(e),
            None => ui.label(RichText::new("not evaluated").color(style::DIM)),
        };
        ui.end_row();
    });
}
