//! The painted bars of the live view: level meters, gauges and the miss strip.

use egui::{Color32, CornerRadius, Rect, Sense, Stroke, Ui, Vec2};

use crate::editor::{style, view::Level};

/// Lowest level a meter shows, in dBFS.
pub const FLOOR_DB: f32 = -60.0;
/// Height of a bar in points.
pub const BAR_HEIGHT: f32 = 12.0;

fn db_fraction(db: f32) -> f32 {
    ((db - FLOOR_DB) / -FLOOR_DB).clamp(0.0, 1.0)
}

fn level_colour(db: f32) -> Color32 {
    if db < -12.0 {
        style::GOOD
    } else if db < -3.0 {
        style::WARN
    } else {
        style::BAD
    }
}

fn track(ui: &mut Ui, width: f32) -> Rect {
    let (rect, _) = ui.allocate_exact_size(Vec2::new(width, BAR_HEIGHT), Sense::hover());
    ui.painter()
        .rect_filled(rect, CornerRadius::same(2), ui.visuals().extreme_bg_color);
    rect
}

/// A level meter of `width` points: RMS as a filled bar, the decaying peak as a tick.
pub fn level(ui: &mut Ui, level: Level, width: f32) {
    let rect = track(ui, width);
    let rms = db_fraction(level.rms_db);
    let mut fill = rect;
    fill.set_width(rect.width() * rms);
    ui.painter()
        .rect_filled(fill, CornerRadius::same(2), level_colour(level.rms_db));
    let x = rect.left() + rect.width() * db_fraction(level.peak_db);
    if level.peak_db > FLOOR_DB {
        ui.painter().line_segment(
            [egui::pos2(x, rect.top()), egui::pos2(x, rect.bottom())],
            Stroke::new(2.0, level_colour(level.peak_db)),
        );
    }
}

/// A gauge of `width` points filled to `fraction` (clamped to 0..1) in `colour`.
pub fn gauge(ui: &mut Ui, fraction: f64, colour: Color32, width: f32) {
    let rect = track(ui, width);
    let mut fill = rect;
    fill.set_width(rect.width() * fraction.clamp(0.0, 1.0) as f32);
    ui.painter()
        .rect_filled(fill, CornerRadius::same(2), colour);
}

/// Misses per second as a strip of bars, oldest first, scaled to the largest.
pub fn misses(ui: &mut Ui, per_second: &[u64], width: f32) {
    let rect = track(ui, width);
    let n = per_second.len().max(1) as f32;
    let top = per_second.iter().copied().max().unwrap_or(0).max(1) as f32;
    let w = rect.width() / n;
    for (i, &m) in per_second.iter().enumerate() {
        let h = if m == 0 {
            2.0
        } else {
            (rect.height() * m as f32 / top).max(3.0)
        };
        let x = rect.left() + w * i as f32;
        let bar = Rect::from_min_max(
            egui::pos2(x + 1.0, rect.bottom() - h),
            egui::pos2(x + w - 1.0, rect.bottom()),
        );
        let colour = if m == 0 { style::DIM } else { style::BAD };
        ui.painter().rect_filled(bar, CornerRadius::ZERO, colour);
    }
}
