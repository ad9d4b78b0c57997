//! The editor's Hint source section: the local large model or a hint server
//! (`cargo xtask serve`), with the link's state. A setting, not a parameter:
//! it is saved with the session and never automated.

use egui::{RichText, TextEdit, Ui};
use kb_link::{ClientSettings, Encoding};

use crate::{
    editor::{draw::section, state::UiState, style, view::View},
    params::KbParams,
};

/// Draws the section.
pub fn draw(ui: &mut Ui, params: &KbParams, view: &View, state: &mut UiState) {
    let current = params.hint_server.read().clone();
    let fields = state.server.get_or_insert_with(|| {
        current.clone().unwrap_or(ClientSettings {
            server: String::new(),
            fingerprint: String::new(),
            token: String::new(),
            encoding: Encoding::F32,
        })
    });
    section(ui, "Hint source", |ui| {
        ui.label("Large model");
        ui.horizontal(|ui| {
            if ui.selectable_label(current.is_none(), "Local").clicked() {
                *params.hint_server.write() = None;
            }
            let ready = !fields.server.is_empty() && !fields.fingerprint.is_empty();
            if ui
                .add_enabled(ready, egui::Button::selectable(current.is_some(), "Server"))
                .clicked()
            {
                *params.hint_server.write() = Some(fields.clone());
            }
        });
        ui.end_row();
        for (label, value, hint) in [
            ("Address", &mut fields.server, "host:port"),
            (
                "Fingerprint",
                &mut fields.fingerprint,
                "as `cargo xtask serve` prints it",
            ),
            ("Token", &mut fields.token, "the server's client token"),
        ] {
            ui.label(label);
            ui.add(
                TextEdit::singleline(value)
                    .hint_text(hint)
                    .desired_width(220.0),
            );
            ui.end_row();
        }
        ui.label("Hints as");
        ui.horizontal(|ui| {
            ui.radio_value(&mut fields.encoding, Encoding::F32, "32-bit");
            ui.radio_value(
                &mut fields.encoding,
                Encoding::F16,
                "16-bit (half the bandwidth)",
            );
        });
        ui.end_row();
        if current.is_some() {
            ui.label("Link");
            match &view.link {
                Some(l) if l.connected => ui.label(
                    RichText::new(format!(
                        "connected: round trip {:.1} ms, C = {}, {} hints, {} lost",
                        l.rtt_ms, l.delay, l.hints, l.lost
                    ))
                    .color(style::GOOD),
                ),
                Some(l) if !l.message.is_empty() => {
                    ui.label(RichText::new(&l.message).color(style::BAD))
                }
                Some(_) => ui.label(RichText::new("connecting…").color(style::WARN)),
                None => ui.label(
                    RichText::new("local: this mode's model is not a pair, or it extracts (the voice stays here)")
                        .color(style::DIM),
                ),
            };
            ui.end_row();
        }
    });
}
