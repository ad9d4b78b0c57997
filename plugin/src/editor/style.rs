//! The editor's dark theme and text sizes.

use egui::{Color32, FontFamily, FontId, TextStyle};

/// Accent for good figures.
pub const GOOD: Color32 = Color32::from_rgb(0x5c, 0xd6, 0x8a);
/// Accent for figures near their limit.
pub const WARN: Color32 = Color32::from_rgb(0xf0, 0xc0, 0x4a);
/// Accent for figures over their limit and errors.
pub const BAD: Color32 = Color32::from_rgb(0xf2, 0x5f, 0x5c);
/// Dim text and empty meter tracks.
pub const DIM: Color32 = Color32::from_gray(0x55);

/// Applies the dark theme and readable text sizes to `ctx`.
pub fn apply(ctx: &egui::Context) {
    ctx.set_visuals(egui::Visuals::dark());
    ctx.all_styles_mut(|style| {
        style.text_styles = [
            (
                TextStyle::Heading,
                FontId::new(20.0, FontFamily::Proportional),
            ),
            (TextStyle::Body, FontId::new(14.0, FontFamily::Proportional)),
            (
                TextStyle::Button,
                FontId::new(14.0, FontFamily::Proportional),
            ),
            (
                TextStyle::Small,
                FontId::new(11.0, FontFamily::Proportional),
            ),
            (
                TextStyle::Monospace,
                FontId::new(13.0, FontFamily::Monospace),
            ),
        ]
        .into();
        style.spacing.item_spacing = egui::vec2(8.0, 6.0);
    });
}

/// The colour for a figure that is fine below `warn`, near its limit below `bad`, and over it above.
pub fn grade(value: f64, warn: f64, bad: f64) -> Color32 {
    if value < warn {
        GOOD
    } else if value < bad {
        WARN
    } else {
        BAD
    }
}
