//! Each mode's weights (compiled-in defaults from `assets/`, or a user's file),
//! building and warming their engines (a pair, or a single model) off the audio thread.

use std::{path::Path, sync::atomic::AtomicU8};

use kb_models::{
    engine::{Engines, HintFrame, Kernels},
    weight_file::WeightFile,
    Task, WeightsConfig, CHUNK, LOOKAHEAD,
};
use nice_plug::prelude::Enum;
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

use crate::{
    model_info::ModelInfo,
    voice::{Enrollment, VoiceDesk},
};

/// What Extract mode says while no voice is enrolled.
pub const NO_VOICE: &str = "Extract needs an enrolled voice: press Learn voice while the target talks alone, or load a WAV of them (audio passes through)";

/// What the plugin does to the input: the host-automatable face of [`Task`]
/// (nice-plug's `Enum` parameter needs a type of the plugin's own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum Mode {
    /// Two talkers: talker 1 on the main output, talker 2 on the auxiliary output.
    Separate,
    /// One voice, denoised and dereverberated.
    Enhance,
    /// A target talker.
    Extract,
}

impl Mode {
    /// Every mode, in parameter order.
    pub const ALL: [Mode; 3] = [Mode::Separate, Mode::Enhance, Mode::Extract];

    /// The mode of index `i` (as stored in an atomic).
    pub fn from_u8(i: u8) -> Self {
        Self::ALL[usize::from(i).min(2)]
    }

    /// The task this mode runs: the one vocabulary of corpus, trainer and plugin.
    pub fn task(self) -> Task {
        match self {
            Mode::Separate => Task::Ss,
            Mode::Enhance => Task::Se,
            Mode::Extract => Task::Tse,
        }
    }

    /// Lower-case name, as in `assets/<name>.safetensors` and on the command line.
    pub fn name(self) -> &'static str {
        self.task().mode_name()
    }

    /// Parses a lower-case name.
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == s)
    }

    /// Sources the mode's model must output.
    pub fn sources(self) -> usize {
        self.task().sources()
    }

    /// Why a build has no default model for this mode, as the editor shows it.
    pub fn missing_model_reason(self) -> &'static str {
        match self {
            Mode::Separate => "no separation model in this build",
            Mode::Enhance => {
                "no enhancement model is trained yet (load a weight file from `cargo xtask train --task se`)"
            }
            Mode::Extract => {
                "no extraction model in this build (load a weight file from `cargo xtask train --task tse`)"
            }
        }
    }

    /// Environment variable that overrides this mode's weights when the plugin is created.
    pub fn env_var(self) -> &'static str {
        match self {
            Mode::Separate => "KNOWLEDGE_BOOST_WEIGHTS_SEPARATE",
            Mode::Enhance => "KNOWLEDGE_BOOST_WEIGHTS_ENHANCE",
            Mode::Extract => "KNOWLEDGE_BOOST_WEIGHTS_EXTRACT",
        }
    }

    /// The weights compiled into the binary from `assets/`, if that file existed at build time.
    pub fn default_weights(self) -> Option<&'static [u8]> {
        match self {
            Mode::Separate => DEFAULT_SEPARATE,
            Mode::Enhance => DEFAULT_ENHANCE,
            Mode::Extract => DEFAULT_EXTRACT,
        }
    }
}

#[cfg(kb_default_separate)]
const DEFAULT_SEPARATE: Option<&[u8]> = Some(include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../assets/separate.safetensors"
)));
#[cfg(not(kb_default_separate))]
const DEFAULT_SEPARATE: Option<&[u8]> = None;
#[cfg(kb_default_enhance)]
const DEFAULT_ENHANCE: Option<&[u8]> = Some(include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../assets/enhance.safetensors"
)));
#[cfg(not(kb_default_enhance))]
const DEFAULT_ENHANCE: Option<&[u8]> = None;
#[cfg(kb_default_extract)]
const DEFAULT_EXTRACT: Option<&[u8]> = Some(include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../assets/extract.safetensors"
)));
#[cfg(not(kb_default_extract))]
const DEFAULT_EXTRACT: Option<&[u8]> = None;

/// The user's weight files, one per mode (persisted with the plugin's state).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverridePaths {
    /// Separate mode's file.
    pub separate: Option<String>,
    /// Enhance mode's file.
    pub enhance: Option<String>,
    /// Extract mode's file.
    pub extract: Option<String>,
}

impl OverridePaths {
    /// The file for `mode`, if any.
    pub fn get(&self, mode: Mode) -> Option<&str> {
        match mode {
            Mode::Separate => self.separate.as_deref(),
            Mode::Enhance => self.enhance.as_deref(),
            Mode::Extract => self.extract.as_deref(),
        }
    }

    /// Sets the file for `mode`.
    pub fn set(&mut self, mode: Mode, path: Option<String>) {
        match mode {
            Mode::Separate => self.separate = path,
            Mode::Enhance => self.enhance = path,
            Mode::Extract => self.extract = path,
        }
    }

    /// Paths from the `KNOWLEDGE_BOOST_WEIGHTS_<MODE>` environment variables.
    pub fn from_env() -> Self {
        let mut p = Self::default();
        for mode in Mode::ALL {
            if let Some(v) = std::env::var_os(mode.env_var()) {
                p.set(mode, Some(v.to_string_lossy().into_owned()));
            }
        }
        p
    }
}

/// What the audio and main threads ask of the background thread's model loader.
#[derive(Debug, Default)]
pub struct ModelRequest {
    /// Wanted mode (index into [`Mode::ALL`]), written by the audio thread from the parameter.
    pub mode: AtomicU8,
    /// User weight files, written by the main thread or a state restore.
    pub overrides: std::sync::Arc<RwLock<OverridePaths>>,
    /// Extract mode's voice, written by the voice thread, the editor or a state restore.
    pub enrollment: std::sync::Arc<RwLock<Enrollment>>,
    /// The editor's line to the voice thread.
    pub desk: std::sync::Arc<VoiceDesk>,
    /// A hint server to use instead of the local large model (None: local).
    pub hint_server: std::sync::Arc<RwLock<Option<kb_link::ClientSettings>>>,
}

impl ModelRequest {
    /// The speaker embedding `mode` runs with (Extract's enrolled voice; None for the other modes).
    pub fn speaker(&self, mode: Mode) -> Option<Vec<f32>> {
        (mode == Mode::Extract)
            .then(|| self.enrollment.read().embedding().map(<[f32]>::to_vec))
            .flatten()
    }

    /// True when `installed` is no longer the embedding `mode` should run with.
    pub fn speaker_changed(&self, mode: Mode, installed: Option<&[f32]>) -> bool {
        let e = self.enrollment.read();
        let want = if mode == Mode::Extract {
            e.embedding()
        } else {
            None
        };
        want != installed
    }
}

/// The outcome of loading a mode: the engines (None: no model, pass-through) and a message for the user.
#[derive(Debug)]
pub struct Loaded {
    /// The engines (a pair, or a single model), if the mode has a usable model.
    pub engines: Option<Engines>,
    /// What the editor shows about the model, when there is one.
    pub info: Option<ModelInfo>,
    /// Why a user file was refused, or why there is no model.
    pub message: String,
}

impl Loaded {
    /// The identity of the loaded pair, as a hint server checks it (None: a single model, or none).
    pub fn pair_identity(&self) -> Option<String> {
        self.info
            .as_ref()
            .filter(|i| i.delay.is_some())
            .map(|i| i.identity.clone())
    }

    /// Values in one hint frame of the loaded pair (0 without one, or for a single model).
    pub fn hint_len(&self) -> usize {
        match &self.engines {
            Some(Engines::Pair(p)) => HintFrame::new(p.config()).data.len(),
            _ => 0,
        }
    }
}

fn build(w: &WeightFile, mode: Mode, speaker: Option<&[f32]>) -> Result<Engines, String> {
    let s = match &w.config {
        WeightsConfig::Joint(cfg) => &cfg.small,
        WeightsConfig::Single(cfg) => cfg,
    };
    if s.sources != mode.sources() || s.ears != 2 || s.chunk != CHUNK || s.pad != LOOKAHEAD {
        return Err(format!(
            "holds a model of {} sources, {} ears, chunk {} and lookahead {}; {} mode needs {} sources, 2 ears, chunk {CHUNK}, lookahead {LOOKAHEAD}",
            s.sources, s.ears, s.chunk, s.pad, mode.name(), mode.sources()
        ));
    }
    let extract = mode == Mode::Extract;
    if s.speaker.is_some() != extract {
        return Err(if extract {
            "holds a model that takes no speaker embedding; Extract mode needs a target-extraction model (`cargo xtask train --task tse`)".into()
        } else {
            format!(
                "holds a target-extraction model; {} mode needs one without a speaker embedding",
                mode.name()
            )
        });
    }
    let mut engines = Engines::from_weights(w, Kernels::best()).map_err(|e| e.to_string())?;
    if extract {
        let e = speaker.ok_or(NO_VOICE)?;
        engines.set_speaker(e).map_err(|e| e.to_string())?;
    }
    warm(&mut engines).map_err(|e| e.to_string())?;
    Ok(engines)
}

/// Runs a few silent chunks through every engine (touching every buffer), then resets them.
fn warm(engines: &mut Engines) -> kb_models::Result<()> {
    let s = engines.config();
    let input = vec![0.0; 2 * s.chunk];
    let mut out = vec![0.0; s.sources * 2 * s.chunk];
    for _ in 0..engines.delay().unwrap_or(0) + 4 {
        engines.process(&input, true, &mut out)?;
    }
    engines.reset();
    Ok(())
}

/// Parses and checks a weight file for `mode`, builds its engines (conditioned
/// on `speaker` in Extract mode) and describes them.
pub fn load_file(
    path: &Path,
    mode: Mode,
    speaker: Option<&[f32]>,
) -> Result<(Engines, ModelInfo), String> {
    let w = WeightFile::load(path).map_err(|e| e.to_string())?;
    let engines = build(&w, mode, speaker).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let bytes = std::fs::metadata(path).map_or(0, |m| m.len());
    Ok((engines, ModelInfo::describe(&w, name, bytes, Some(path))))
}

/// Loads `mode`: the user's file when given and good, else the compiled-in
/// default, else nothing; Extract mode runs only with an enrolled `speaker`.
pub fn load(mode: Mode, user_file: Option<&str>, speaker: Option<&[f32]>) -> Loaded {
    if mode == Mode::Extract && speaker.is_none() {
        return Loaded {
            engines: None,
            info: None,
            message: NO_VOICE.into(),
        };
    }
    let mut message = String::new();
    if let Some(path) = user_file {
        match load_file(Path::new(path), mode, speaker) {
            Ok((engines, info)) => {
                return Loaded {
                    engines: Some(engines),
                    info: Some(info),
                    message,
                }
            }
            Err(e) => message = format!("refused weight file {e}; using the built-in model"),
        }
    }
    let built_in = match mode.default_weights() {
        Some(bytes) => {
            let name = format!("built-in {} model", mode.name());
            WeightFile::from_bytes(bytes, &name)
                .map_err(|e| e.to_string())
                .and_then(|w| {
                    let info = ModelInfo::describe(&w, name, bytes.len() as u64, None);
                    Ok((build(&w, mode, speaker)?, info))
                })
        }
        None => Err(mode.missing_model_reason().to_owned()),
    };
    match built_in {
        Ok((engines, info)) => Loaded {
            engines: Some(engines),
            info: Some(info),
            message,
        },
        Err(e) => {
            if !message.is_empty() {
                message.push_str(": ");
            }
            message.push_str(&e);
            message.push_str(" (audio passes through)");
            Loaded {
                engines: None,
                info: None,
                message,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Mode;
    use kb_models::Task;

    /// The parameter's modes are the tasks, in the same order, under the tasks' mode names.
    #[test]
    fn modes_are_the_tasks() {
        for (m, t) in Mode::ALL.into_iter().zip(Task::ALL) {
            assert_eq!(m.task(), t);
            assert_eq!(Mode::from_name(t.mode_name()), Some(m));
            assert_eq!(m.sources(), t.sources());
        }
        assert_eq!(Mode::from_u8(Mode::Extract as u8), Mode::Extract);
    }
}
