//! The editor renders offscreen (egui alone, no window or display): every control
//! and readout is there by its label, and moving a control calls the parameter setter.

use std::{
    collections::BTreeMap,
    sync::{atomic::Ordering::Relaxed, Arc},
};

use egui::{Event, FullOutput, PointerButton, Pos2, RawInput, Rect, Shape};
use knowledge_boost::{
    editor::{self, state::UiState, style, view::View},
    model_info::ModelInfo,
    models::Mode,
    params::KbParams,
    telemetry::Telemetry,
    voice::{Command, Enrollment, EMBEDDING},
};
use nice_plug::params::InternalParamMut;
use nice_plug::prelude::{GuiContextInner, ParamPtr, ParamSetter, PluginApi, PluginState};
use parking_lot::Mutex;

/// What the fake host saw: (call, parameter name, normalized value).
type Calls = Mutex<Vec<(&'static str, String, f32)>>;

/// A host that records the editor's parameter gestures.
#[derive(Default)]
struct Recorder {
    calls: Calls,
}

impl Recorder {
    fn push(&self, call: &'static str, param: ParamPtr, value: f32) {
        // SAFETY: the pointers come from the test's `KbParams`, alive for the whole test.
        let name = unsafe { param.name() }.to_owned();
        self.calls.lock().push((call, name, value));
    }

    fn take(&self) -> Vec<(&'static str, String, f32)> {
        std::mem::take(&mut *self.calls.lock())
    }
}

impl GuiContextInner for Recorder {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }
    unsafe fn raw_begin_set_parameter(&self, param: ParamPtr) {
        self.push("begin", param, f32::NAN);
    }
    unsafe fn raw_set_parameter_normalized(&self, param: ParamPtr, normalized: f32) {
        self.push("set", param, normalized);
    }
    unsafe fn raw_end_set_parameter(&self, param: ParamPtr) {
        self.push("end", param, f32::NAN);
    }
    fn get_state(&self) -> PluginState {
        PluginState {
            version: String::new(),
            params: BTreeMap::new(),
            fields: BTreeMap::new(),
        }
    }
    fn set_state(&self, _state: PluginState) {}
    fn request_restart(&self) {}
}

const MESSAGE: &str = "refused weight file bad.safetensors: not a safetensors file";

fn telemetry() -> Telemetry {
    let t = Telemetry::default();
    t.input_level.set(0.5, 0.2);
    t.main_level.set(0.4, 0.15);
    t.aux_level.set(0.3, 0.1);
    t.hints_used.store(970, Relaxed);
    t.hints_missed.store(30, Relaxed);
    t.hint_age_us.store(16_000, Relaxed);
    t.small_ns.store(1_840_000, Relaxed);
    t.small_ns_max.store(3_200_000, Relaxed);
    t.large_rtf_ppm.store(620_000, Relaxed);
    t.latency_samples.store(624, Relaxed);
    t.host_rate_hz.store(48_000, Relaxed);
    t.set_loaded(
        MESSAGE.into(),
        Some(ModelInfo {
            name: "built-in separate model".into(),
            file_bytes: 1_234_567,
            small_params: 27_100,
            large_params: 1_900_000,
            widths: (16, 64),
            delay: Some(2),
            eval: None,
            identity: String::new(),
        }),
    );
    t
}

/// Every text on screen with its rectangle.
fn texts(out: &FullOutput) -> Vec<(String, Rect)> {
    fn walk(shape: &Shape, found: &mut Vec<(String, Rect)>) {
        match shape {
            Shape::Text(t) => found.push((
                t.galley.text().to_owned(),
                t.galley.rect.translate(t.pos.to_vec2()),
            )),
            Shape::Vec(v) => v.iter().for_each(|s| walk(s, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    for s in &out.shapes {
        walk(&s.shape, &mut found);
    }
    found
}

struct Harness {
    ctx: egui::Context,
    params: KbParams,
    recorder: Arc<Recorder>,
    telemetry: Telemetry,
    state: UiState,
    time: f64,
    /// Window height: the editor's, or taller to show what scrolls below it.
    height: f32,
}

impl Harness {
    fn new() -> Self {
        let ctx = egui::Context::default();
        style::apply(&ctx);
        Self {
            ctx,
            params: KbParams::default(),
            recorder: Arc::new(Recorder::default()),
            telemetry: telemetry(),
            state: UiState::default(),
            time: 0.0,
            height: editor::SIZE.1,
        }
    }

    fn frame(&mut self, events: Vec<Event>) -> FullOutput {
        self.time += 1.0 / 60.0;
        let input = RawInput {
            screen_rect: Some(Rect::from_min_size(
                Pos2::ZERO,
                egui::vec2(editor::SIZE.0, self.height),
            )),
            time: Some(self.time),
            events,
            ..Default::default()
        };
        let view = View::sample(&self.telemetry);
        let setter = ParamSetter::new(&*self.recorder);
        let (params, state) = (&self.params, &mut self.state);
        let mut out = self.ctx.run_ui(input, |ui| {
            editor::window(ui, params, &setter, &view, state)
        });
        // No renderer: the font atlas uploads are not needed.
        out.textures_delta.clear();
        out
    }

    /// Renders until the layout settles and returns the texts.
    fn settle(&mut self) -> Vec<(String, Rect)> {
        self.frame(vec![]);
        texts(&self.frame(vec![]))
    }

    fn find(&mut self, text: &str) -> Rect {
        let found = self.settle();
        found
            .iter()
            .find(|(t, _)| t == text)
            .map(|(_, r)| *r)
            .unwrap_or_else(|| panic!("no `{text}` on screen: {found:?}"))
    }

    fn press(&mut self, at: Pos2, pressed: bool) {
        self.frame(vec![
            Event::PointerMoved(at),
            Event::PointerButton {
                pos: at,
                button: PointerButton::Primary,
                pressed,
                modifiers: Default::default(),
            },
        ]);
    }

    fn click(&mut self, at: Pos2) {
        self.frame(vec![Event::PointerMoved(at)]);
        self.press(at, true);
        self.press(at, false);
        self.frame(vec![]);
    }
}

#[test]
fn every_control_and_readout_is_on_screen_by_its_label() {
    let mut h = Harness::new();
    let found: Vec<String> = h.settle().into_iter().map(|(t, _)| t).collect();
    let want = [
        // controls
        "Mode",
        "Separate",
        "Enhance",
        "Extract",
        "Boost",
        "Bypass",
        "Mix",
        "100 %",
        "Output gain",
        "0.0 dB",
        "Weight file",
        "Load",
        "Built-in",
        MESSAGE,
        // levels
        "Input",
        "Talker 1",
        "Talker 2",
        "-14.0 dB rms   -6.0 pk",
        // hints
        "On time",
        "97.0 %",
        "Hint age",
        "16 ms (delay C = 2: 16 ms)",
        "Misses, last 10 s",
        // CPU and latency
        "Small engine",
        "23 % of 8 ms (worst 40 %)",
        "Large engine",
        "real-time factor 0.62",
        "Latency",
        "13.0 ms reported to the host",
        // model
        "built-in separate model",
        "Size",
        "1.23 MB",
        "Parameters",
        "small 27.1 k (D 16), large 1.90 M (D 64)",
        "Evaluation",
        "not evaluated",
    ];
    let missing: Vec<&str> = want
        .iter()
        .copied()
        .filter(|w| !found.iter().any(|f| f == w))
        .collect();
    assert!(missing.is_empty(), "missing {missing:?} in {found:?}");
}

#[test]
fn a_single_model_shows_its_size_and_no_hints() {
    let mut h = Harness::new();
    h.telemetry.set_loaded(
        String::new(),
        Some(ModelInfo {
            name: "separate_large.safetensors".into(),
            file_bytes: 2_100_000,
            small_params: 519_000,
            large_params: 0,
            widths: (64, 0),
            delay: None,
            eval: None,
            identity: String::new(),
        }),
    );
    let found: Vec<String> = h.settle().into_iter().map(|(t, _)| t).collect();
    for want in [
        "single model 519.0 k (D 64)",
        "none: a single model runs alone (no large model)",
    ] {
        assert!(found.iter().any(|f| f == want), "no `{want}` in {found:?}");
    }
    for gone in ["On time", "Hint age", "Misses, last 10 s"] {
        assert!(
            !found.iter().any(|f| f == gone),
            "`{gone}` shown: {found:?}"
        );
    }
}

/// The hint source: "Server" saves the fields as the setting, the link's
/// state shows, "Local" clears it.
#[test]
fn the_hint_source_switches_between_local_and_a_server() {
    let mut h = Harness::new();
    // The section sits at the end of the second column, below the editor's first screen.
    h.height = 2_000.0;
    let wanted = kb_link::ClientSettings {
        server: "hints.example:4433".into(),
        fingerprint: "ab".repeat(32),
        token: "secret".into(),
        encoding: kb_link::Encoding::F16,
    };
    h.state.server = Some(wanted.clone());
    let server = h.find("Server").center();
    h.click(server);
    assert_eq!(*h.params.hint_server.read(), Some(wanted));
    let link = std::sync::Arc::new(kb_link::LinkStatus::default());
    link.connected.store(true, Relaxed);
    link.rtt_us.store(12_300, Relaxed);
    link.delay.store(3, Relaxed);
    h.telemetry.set_link(Some(link));
    h.find("connected: round trip 12.3 ms, C = 3, 0 hints, 0 lost");
    let local = h.find("Local").center();
    h.click(local);
    assert_eq!(*h.params.hint_server.read(), None);
}

#[test]
fn controls_go_through_the_parameter_setter() {
    let mut h = Harness::new();
    h.recorder.take();

    let at = h.find("Enhance").center();
    h.click(at);
    let calls = h.recorder.take();
    assert_eq!(
        calls
            .iter()
            .map(|c| (c.0, c.1.as_str()))
            .collect::<Vec<_>>(),
        [("begin", "Mode"), ("set", "Mode"), ("end", "Mode")]
    );
    assert_eq!(calls[1].2, 0.5, "Enhance is the middle of three modes");

    let at = h.find("off").center();
    h.click(at);
    let calls = h.recorder.take();
    assert_eq!(
        calls
            .iter()
            .map(|c| (c.0, c.1.as_str(), c.2))
            .collect::<Vec<_>>()[1],
        ("set", "Bypass", 1.0)
    );
    assert_eq!((calls[0].0, calls[2].0), ("begin", "end"));

    // The mix slider sits left of its value text; drag it from near full to its middle.
    let value = h.find("100 %");
    let spacing = h.ctx.global_style().spacing.clone();
    let slider_right = value.left() - spacing.button_padding.x - spacing.item_spacing.x;
    let y = value.center().y;
    let from = egui::pos2(slider_right - 10.0, y);
    let to = egui::pos2(slider_right - 75.0, y);
    h.frame(vec![Event::PointerMoved(from)]);
    h.press(from, true);
    for i in 1..=5 {
        h.frame(vec![Event::PointerMoved(from.lerp(to, i as f32 / 5.0))]);
    }
    h.press(to, false);
    h.frame(vec![]);
    let calls = h.recorder.take();
    assert!(calls.iter().all(|c| c.1 == "Mix"), "{calls:?}");
    assert_eq!(calls.first().map(|c| c.0), Some("begin"), "{calls:?}");
    assert_eq!(calls.last().map(|c| c.0), Some("end"), "{calls:?}");
    let last_set = calls.iter().rev().find(|c| c.0 == "set").expect("a set");
    assert!((last_set.2 - 0.5).abs() < 0.05, "{calls:?}");
}

#[test]
fn load_sets_the_weight_file_of_the_current_mode() {
    let mut h = Harness::new();
    h.settle();
    h.state.weight_path = " /tmp/runs/best.safetensors ".into();
    let at = h.find("Load").center();
    h.click(at);
    let w = h.params.weights.read().clone();
    assert_eq!(w.get(Mode::Separate), Some("/tmp/runs/best.safetensors"));
    assert_eq!(w.get(Mode::Enhance), None);
    let at = h.find("Built-in").center();
    h.click(at);
    assert_eq!(h.params.weights.read().get(Mode::Separate), None);
    assert!(h.state.weight_path.is_empty());
}

#[test]
fn extract_mode_shows_the_voice_and_asks_the_voice_thread() {
    let mut h = Harness::new();
    // The recorder stands for a host that does not apply values: set the mode as one would.
    // SAFETY: the parameter is not read elsewhere while it is set (one thread).
    unsafe { h.params.mode._internal_set_normalized_value(1.0) };
    assert_eq!(h.params.mode.value(), Mode::Extract);
    let found: Vec<String> = h.settle().into_iter().map(|(t, _)| t).collect();
    for want in [
        "Voice",
        "Enrolled",
        "none: Extract passes audio through until a voice is enrolled",
        "Learn voice",
        "Load WAV",
        "Forget voice",
    ] {
        assert!(
            found.iter().any(|f| f == want),
            "missing {want} in {found:?}"
        );
    }
    let at = h.find("Learn voice").center();
    h.click(at);
    assert_eq!(h.params.desk.take_command(), Command::Learn);
    h.state.enroll_path = " /tmp/voice.wav ".into();
    let at = h.find("Load WAV").center();
    h.click(at);
    assert_eq!(h.params.desk.take_wav().as_deref(), Some("/tmp/voice.wav"));

    let mut unit = vec![0.0; EMBEDDING];
    unit[0] = 1.0;
    *h.params.voice.write() = Enrollment {
        embedding: Some(unit),
        source: "voice.wav".into(),
    };
    h.params.desk.set_similarity(Some(0.82));
    let found: Vec<String> = h.settle().into_iter().map(|(t, _)| t).collect();
    for want in ["voice.wav", "similarity 0.82: sounds like the voice"] {
        assert!(
            found.iter().any(|f| f == want),
            "missing {want} in {found:?}"
        );
    }
    let at = h.find("Forget voice").center();
    h.click(at);
    assert!(h.params.voice.read().embedding().is_none());
}
