//! The plugin's egui editor: nice-plug glue around [`draw::draw`], repainted at
//! 60 fps from the lock-free telemetry.

pub mod draw;
pub mod hint_source;
pub mod history;
pub mod meter;
pub mod state;
pub mod style;
pub mod view;
pub mod voice;

use std::{
    sync::{atomic::Ordering::Relaxed, Arc},
    time::Duration,
};

use nice_plug::{context::gui::GuiContext, editor::dpi::LogicalSize, prelude::ResizeHint};
use nice_plug_egui::{
    create_egui_editor, resizable_window::ResizableWindow, EguiEditor, EguiEditorState,
    EguiNiceSettings, Frame, NiceEguiApp, RepaintNotifier,
};

use crate::{params::KbParams, telemetry::Telemetry};

/// The editor's initial size in logical points.
pub const SIZE: (f32, f32) = (900.0, 540.0);
/// The smallest size the window may be resized to.
pub const MIN_SIZE: (f32, f32) = (520.0, 360.0);
/// Interval between repaints of the live view (60 fps).
pub const FRAME_INTERVAL: Duration = Duration::from_micros(16_667);

/// The editor's size state at its initial size (nice-plug-egui keeps it in sync with the window).
pub fn default_state() -> Arc<EguiEditorState> {
    EguiEditorState::from_size(LogicalSize::new(SIZE.0, SIZE.1), 1.0)
}

/// The editor of the plugin whose `params` and `telemetry` are given.
pub fn create(
    params: Arc<KbParams>,
    telemetry: Arc<Telemetry>,
    egui_state: Arc<EguiEditorState>,
) -> Option<EguiEditor<EditorApp>> {
    let resize =
        ResizeHint::resizable().with_min_logical_size(LogicalSize::new(MIN_SIZE.0, MIN_SIZE.1));
    create_egui_editor(
        egui_state,
        RepaintNotifier::new(),
        EguiNiceSettings::new()
            .with_tile("Knowledge Boost")
            .with_resize_hint(resize),
        EditorApp {
            params,
            telemetry,
            gui: None,
            state: state::UiState::default(),
        },
    )
}

/// The nice-plug-egui app: samples the telemetry each frame and draws.
pub struct EditorApp {
    params: Arc<KbParams>,
    telemetry: Arc<Telemetry>,
    gui: Option<GuiContext>,
    state: state::UiState,
}

impl NiceEguiApp for EditorApp {
    fn build(
        &mut self,
        egui_ctx: egui::Context,
        nice_gui_ctx: GuiContext,
        _frame: &mut Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        style::apply(&egui_ctx);
        self.gui = Some(nice_gui_ctx);
        self.params.desk.editor_open.store(true, Relaxed);
        Ok(())
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut Frame) {
        let Some(gui) = self.gui.as_ref() else {
            return;
        };
        let setter = gui.param_setter();
        let view = view::View::sample(&self.telemetry);
        window(ui, &self.params, &setter, &view, &mut self.state);
        ui.ctx().request_repaint_after(FRAME_INTERVAL);
    }

    fn editor_closed(&mut self) {
        self.gui = None;
        self.params.desk.editor_open.store(false, Relaxed);
    }
}

/// The editor's window content: a resize corner around [`draw::draw`].
pub fn window(
    ui: &mut egui::Ui,
    params: &KbParams,
    setter: &nice_plug::prelude::ParamSetter,
    view: &view::View,
    state: &mut state::UiState,
) {
    ResizableWindow::new("knowledge-boost-editor")
        .min_size(egui::vec2(MIN_SIZE.0, MIN_SIZE.1))
        .show(ui, |ui| draw::draw(ui, params, setter, view, state));
}
