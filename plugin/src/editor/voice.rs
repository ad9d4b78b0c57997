//! The editor's Voice section (Extract mode): the enrolled voice, "Learn voice"
//! from the input, "Load WAV", and the live similarity of the input to the voice.

use egui::{RichText, TextEdit, Ui};

use crate::{
    editor::{draw::section, state::UiState, style},
    params::KbParams,
    voice::{Activity, Command, Enrollment, LEARN_SECONDS},
};

/// Similarity at or above which the input sounds like the enrolled voice
/// (same-talker enrollments of the training talkers average 0.90, different ones 0.58).
pub const SAME_VOICE: f64 = 0.75;
/// Similarity under which the input sounds like someone else.
pub const OTHER_VOICE: f64 = 0.6;

/// Words for a similarity.
pub fn verdict(s: f32) -> &'static str {
    match f64::from(s) {
        s if s >= SAME_VOICE => "sounds like the voice",
        s if s >= OTHER_VOICE => "unsure",
        _ => "sounds like someone else",
    }
}

/// Draws the section.
pub fn draw(ui: &mut Ui, params: &KbParams, state: &mut UiState) {
    let desk = &params.desk;
    let enrolled = params.voice.read().clone();
    section(ui, "Voice", |ui| {
        ui.label("Enrolled");
        match enrolled.embedding() {
            Some(_) => ui.label(RichText::new(&enrolled.source).color(style::GOOD)),
            None => ui.label(
                RichText::new("none: Extract passes audio through until a voice is enrolled")
                    .color(style::BAD),
            ),
        };
        ui.end_row();
        if enrolled.embedding().is_some() {
            ui.label("Input");
            match desk.similarity() {
                Some(s) => ui.label(
                    RichText::new(format!("similarity {s:.2}: {}", verdict(s))).color(
                        style::grade(1.0 - f64::from(s), 1.0 - SAME_VOICE, 1.0 - OTHER_VOICE),
                    ),
                ),
                None => ui.label(RichText::new("no speech").color(style::DIM)),
            };
            ui.end_row();
        }
        ui.label("Learn");
        ui.horizontal(|ui| match desk.activity() {
            Activity::Idle => {
                if ui.button("Learn voice").clicked() {
                    desk.ask(Command::Learn);
                }
                ui.label(format!("up to {LEARN_SECONDS:.0} s, the target alone"));
            }
            Activity::Learning => {
                ui.label(
                    RichText::new(format!(
                        "recording {:.1} s of {LEARN_SECONDS:.0}",
                        desk.recorded_seconds()
                    ))
                    .color(style::WARN),
                );
                if ui.button("Done").clicked() {
                    desk.ask(Command::Finish);
                }
                if ui.button("Cancel").clicked() {
                    desk.ask(Command::Cancel);
                }
            }
            Activity::Embedding => {
                ui.label(RichText::new("computing the voice...").color(style::WARN));
            }
        });
        ui.end_row();
        ui.label("From a WAV");
        ui.vertical(|ui| {
            ui.add(
                TextEdit::singleline(&mut state.enroll_path)
                    .hint_text("recording of the target alone, 3 to 30 s")
                    .desired_width(230.0),
            );
            ui.horizontal(|ui| {
                if ui.button("Load WAV").clicked() && !state.enroll_path.trim().is_empty() {
                    desk.ask_wav(state.enroll_path.trim().to_owned());
                }
                if ui.button("Forget voice").clicked() {
                    *params.voice.write() = Enrollment::default();
                }
            });
            let message = desk.message();
            if !message.is_empty() {
                let colour = if message.starts_with("cannot") {
                    style::BAD
                } else {
                    style::DIM
                };
                ui.label(RichText::new(message).color(colour));
            }
        });
        ui.end_row();
    });
}
