//! knowledge-boost audio plugin (CLAP and VST3): a small TF-GridNet on the audio
//! thread, boosted by late hints from a large one on a background thread.

pub mod background;
pub mod chunker;
pub mod dry_wet;
pub mod editor;
pub mod hint_link;
pub mod latency;
pub mod levels;
pub mod lookahead;
pub mod model_info;
pub mod models;
pub mod offline;
pub mod params;
pub mod path;
pub mod rate;
pub mod remote_hints;
pub mod silence_gate;
pub mod telemetry;
pub mod voice;
pub mod voice_thread;
pub mod voice_wav;

use std::{
    num::NonZeroU32,
    sync::{atomic::Ordering::Relaxed, Arc},
};

use nice_plug::prelude::*;
use nice_plug_egui::EguiEditorState;

use crate::{
    models::ModelRequest,
    params::KbParams,
    path::{AudioPath, Controls, PathConfig},
    telemetry::Telemetry,
};

/// The plugin's package name, and the bundle name it is built and installed under.
pub const BUNDLE_NAME: &str = "knowledge_boost";

/// Test-only environment variable, read only by `test_hooks` builds: when set at
/// activation, the large model's thread never sends a hint.
pub const STALL_ENV: &str = "KNOWLEDGE_BOOST_TEST_STALL";

/// The plugin.
pub struct KnowledgeBoost {
    params: Arc<KbParams>,
    request: Arc<ModelRequest>,
    telemetry: Arc<Telemetry>,
    editor_state: Arc<EguiEditorState>,
    path: Option<AudioPath>,
    scratch: Vec<f32>,
    host_rate: f32,
}

impl Default for KnowledgeBoost {
    fn default() -> Self {
        let params = Arc::new(KbParams::default());
        let request = Arc::new(ModelRequest {
            mode: Default::default(),
            overrides: params.weights.clone(),
            enrollment: params.voice.clone(),
            desk: params.desk.clone(),
            hint_server: params.hint_server.clone(),
        });
        Self {
            params,
            request,
            telemetry: Arc::new(Telemetry::default()),
            editor_state: editor::default_state(),
            path: None,
            scratch: Vec::new(),
            host_rate: 0.0,
        }
    }
}

impl KnowledgeBoost {
    /// The figures the editor shows.
    pub fn telemetry(&self) -> Arc<Telemetry> {
        self.telemetry.clone()
    }

    fn controls(&self) -> Controls {
        Controls {
            mode: self.params.mode.value(),
            boost: self.params.boost.value(),
            mix: self.params.mix.value(),
            gain: util::db_to_gain(self.params.gain.value()),
            reduction_db: self.params.reduction.value(),
            bypass: self.params.bypass.value(),
        }
    }
}

const STEREO: Option<NonZeroU32> = NonZeroU32::new(2);
const MONO: Option<NonZeroU32> = NonZeroU32::new(1);

/// The left and right channel of a bus (the one channel twice on a mono bus).
fn ears<'a>(bus: &'a [&mut [f32]]) -> [&'a [f32]; 2] {
    [&bus[0][..], &bus[bus.len() - 1][..]]
}

impl Plugin for KnowledgeBoost {
    const NAME: &'static str = "Knowledge Boost";
    const VENDOR: &'static str = "knowledge-boost";
    const URL: &'static str = "https://github.com/knowledge-boost/knowledge-boost";
    const EMAIL: &'static str = "knowledge-boost@example.org";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: STEREO,
            main_output_channels: STEREO,
            aux_input_ports: &[],
            aux_output_ports: &[new_nonzero_u32(2)],
            names: PortNames {
                layout: Some("Binaural"),
                main_input: Some("Mixture"),
                main_output: Some("Talker 1"),
                aux_inputs: &[],
                aux_outputs: &["Talker 2"],
            },
        },
        // A mono track: the input feeds both ears, each bus gives the mean of its two.
        AudioIOLayout {
            main_input_channels: MONO,
            main_output_channels: MONO,
            aux_input_ports: &[],
            aux_output_ports: &[new_nonzero_u32(1)],
            names: PortNames {
                layout: Some("Mono"),
                main_input: Some("Mixture"),
                main_output: Some("Talker 1"),
                aux_inputs: &[],
                aux_outputs: &["Talker 2"],
            },
        },
    ];

    type SysExMessage = ();
    type BackgroundTask = ();
    type Editor = nice_plug_egui::EguiEditor<editor::EditorApp>;

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        editor::create(
            self.params.clone(),
            self.telemetry.clone(),
            self.editor_state.clone(),
        )
    }

    fn activate(
        &mut self,
        _layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        self.path = None;
        self.request.mode.store(
            self.params.mode.value() as u8,
            std::sync::atomic::Ordering::Relaxed,
        );
        let cfg = PathConfig {
            host_rate: f64::from(buffer_config.sample_rate),
            wait_for_hints: buffer_config.process_mode == ProcessMode::Offline,
            stall_background: cfg!(feature = "test_hooks") && std::env::var_os(STALL_ENV).is_some(),
            link_delay: None,
        };
        match AudioPath::new(&cfg, self.request.clone(), self.telemetry.clone()) {
            Ok(path) => {
                context.set_latency_samples(path.latency() as u32);
                let t = &self.telemetry;
                t.latency_samples.store(path.latency() as u32, Relaxed);
                t.host_rate_hz
                    .store(buffer_config.sample_rate.round() as u32, Relaxed);
                self.host_rate = buffer_config.sample_rate;
                self.path = Some(path);
                // Input ears, then the right ears of both buses for the mono layout.
                self.scratch = vec![0.0; 4 * buffer_config.max_buffer_size.max(1) as usize];
                true
            }
            Err(e) => {
                self.telemetry.set_message(e);
                false
            }
        }
    }

    fn reset(&mut self) {
        if let Some(p) = self.path.as_mut() {
            p.reset();
        }
    }

    fn deactivate(&mut self) {
        self.path = None;
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        aux: &mut AuxiliaryBuffers,
        _context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let controls = self.controls();
        let Some(path) = self.path.as_mut() else {
            return ProcessStatus::Error("not activated");
        };
        let block = self.scratch.len() / 4;
        let (ins, spare) = self.scratch.split_at_mut(2 * block);
        let (in_l, in_r) = ins.split_at_mut(block);
        let (main_r, aux_r) = spare.split_at_mut(block);
        // A host that leaves the auxiliary output out (pedalboard, an unconnected
        // bus) gets talker 1 on the main bus; the patched wrapper points the
        // missing channels at scratch storage, so nothing else changes here.
        let aux_missing = nice_plug::wrapper::missing_aux_outputs() & 1 != 0;
        self.telemetry.aux_missing.store(aux_missing, Relaxed);
        let main = buffer.as_slice();
        let Some(aux_out) = aux.outputs.get_mut(0) else {
            return ProcessStatus::Error("the auxiliary output is missing");
        };
        let aux = aux_out.as_slice();
        let mono = main.len() == 1;
        if main.is_empty() || aux.len() != main.len() {
            return ProcessStatus::Error("the buses need one channel each or two each");
        }
        let n = main[0].len();
        if aux.iter().any(|c| c.len() < n) {
            return ProcessStatus::Error("the auxiliary output is shorter than the block");
        }
        let rate = self.host_rate;
        self.telemetry.input_level.update(&ears(main), rate);
        let mut pos = 0;
        while pos < n {
            let len = block.min(n - pos);
            let r = pos..pos + len;
            in_l[..len].copy_from_slice(&main[0][r.clone()]);
            in_r[..len].copy_from_slice(&main[main.len() - 1][r.clone()]);
            let (m0, m1) = main.split_at_mut(1);
            let (a0, a1) = aux.split_at_mut(1);
            let (right, aux_right) = if mono {
                (&mut main_r[..len], &mut aux_r[..len])
            } else {
                (&mut m1[0][r.clone()], &mut a1[0][r.clone()])
            };
            path.process(
                [&in_l[..len], &in_r[..len]],
                [
                    &mut m0[0][r.clone()],
                    right,
                    &mut a0[0][r.clone()],
                    aux_right,
                ],
                &controls,
            );
            if mono {
                for (bus, right) in [
                    (&mut m0[0][r.clone()], &main_r[..len]),
                    (&mut a0[0][r], &aux_r[..len]),
                ] {
                    bus.iter_mut()
                        .zip(right)
                        .for_each(|(l, r)| *l = 0.5 * (*l + r));
                }
            }
            pos += len;
        }
        let t = &self.telemetry;
        t.main_level.update(&ears(main), rate);
        t.aux_level.update(&ears(aux), rate);
        ProcessStatus::Normal
    }
}

impl ClapPlugin for KnowledgeBoost {
    const CLAP_ID: &'static str = "org.knowledge-boost.knowledge-boost";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Low-latency speech separation and enhancement with knowledge boosting");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Stereo,
        ClapFeature::Restoration,
    ];
}

impl Vst3Plugin for KnowledgeBoost {
    const VST3_CLASS_ID: [u8; 16] = *b"KnowledgeBoostKB";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Fx, Vst3SubCategory::Restoration];
}

nice_export_clap!(KnowledgeBoost);
nice_export_vst3!(KnowledgeBoost);
