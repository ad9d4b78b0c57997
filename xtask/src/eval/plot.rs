//! The PNG plot of SI-SDRi against hint delay.

use std::{path::Path, sync::OnceLock};

use plotters::{
    prelude::*,
    style::{register_font, FontStyle},
};

use super::table::{RowResult, Table};

/// Where the plot's font is read from (Debian's fonts-dejavu-core).
const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// Registers the font once for plotters' ab_glyph text.
pub fn font() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            let bytes = std::fs::read(FONT).map_err(|e| {
                format!("the plot needs the font {FONT} (Debian package fonts-dejavu-core): {e}")
            })?;
            register_font(
                "sans-serif",
                FontStyle::Normal,
                Box::leak(bytes.into_boxed_slice()),
            )
            .map_err(|_| format!("{FONT} is not a font plotters can read"))
        })
        .clone()
}

/// (delay, mean, ci) of the joint rows with or without hints, by delay.
fn series(table: &Table, hints: bool) -> Vec<(f64, f64, f64)> {
    let mut v: Vec<(f64, f64, f64)> = table
        .rows
        .iter()
        .filter_map(|r| {
            let c = r.delay? as f64;
            (r.hints == hints).then(|| (c, r.si_sdri.mean, r.si_sdri.ci95.unwrap_or(0.0)))
        })
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v
}

/// Draws SI-SDRi of the boost rows against C (with 95% bars; lighter without
/// hints) and the single models as horizontal lines, into `path`.
pub fn draw(table: &Table, path: &Path) -> Result<(), String> {
    font()?;
    let err = |e: DrawingAreaErrorKind<_>| format!("cannot draw {}: {e}", path.display());
    let boost = series(table, true);
    let nohint = series(table, false);
    let singles: Vec<&RowResult> = table.rows.iter().filter(|r| r.delay.is_none()).collect();
    let delays: Vec<f64> = boost.iter().map(|p| p.0).collect();
    let x0 = delays.iter().copied().fold(0f64, f64::min) - 0.5;
    let x1 = delays.iter().copied().fold(1f64, f64::max) + 0.5;
    let ys: Vec<f64> = boost
        .iter()
        .chain(&nohint)
        .flat_map(|p| [p.1 - p.2, p.1 + p.2])
        .chain(singles.iter().map(|r| r.si_sdri.mean))
        .collect();
    let lo = ys.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let margin = ((hi - lo) * 0.1).max(0.5);
    let root = BitMapBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "SI-SDRi vs hint delay ({}, {} mixtures)",
                table.task, table.count
            ),
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(x0..x1, lo - margin..hi + margin)
        .map_err(err)?;
    let whole = |x: &f64| {
        if (x - x.round()).abs() < 1e-6 {
            format!("{}", x.round())
        } else {
            String::new()
        }
    };
    // Adding 0.0 turns a rounded -0.0 into 0.0.
    let decibels = |y: &f64| format!("{:.1}", (y * 10.0).round() / 10.0 + 0.0);
    chart
        .configure_mesh()
        .x_labels(((x1 - x0) * 2.0) as usize + 1)
        .x_label_formatter(&whole)
        .y_label_formatter(&decibels)
        .x_desc("hint delay C (8 ms chunks)")
        .y_desc("SI-SDRi (dB)")
        .draw()
        .map_err(err)?;
    let palette = [RED, GREEN, MAGENTA, CYAN, BLACK];
    for (r, color) in singles.iter().zip(palette.iter().cycle()) {
        let color = *color;
        let y = r.si_sdri.mean;
        chart
            .draw_series(LineSeries::new([(x0, y), (x1, y)], color.stroke_width(1)))
            .map_err(err)?
            .label(r.name.clone())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color));
    }
    for (points, color, name) in [
        (&boost, BLUE, "SM + boost"),
        (&nohint, RGBColor(120, 120, 200), "SM + boost, no hints"),
    ] {
        if points.is_empty() {
            continue;
        }
        let style = color.stroke_width(2);
        chart
            .draw_series(LineSeries::new(points.iter().map(|p| (p.0, p.1)), style))
            .map_err(err)?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
        chart
            .draw_series(
                points.iter().map(|&(c, m, ci)| {
                    ErrorBar::new_vertical(c, m - ci, m, m + ci, color.filled(), 8)
                }),
            )
            .map_err(err)?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}
