//! The plugin's parameters and persisted fields.

use std::sync::Arc;

use nice_plug::prelude::*;
use parking_lot::RwLock;

use crate::{
    models::{Mode, OverridePaths},
    voice::{Enrollment, VoiceDesk},
};

/// Mode, boost, mix, output gain, reduction and bypass, plus the user's weight files and enrolled voice.
#[derive(Params)]
pub struct KbParams {
    /// What the plugin does.
    #[id = "mode"]
    pub mode: EnumParam<Mode>,
    /// Use the large model's hints.
    #[id = "boost"]
    pub boost: BoolParam,
    /// Wet share.
    #[id = "mix"]
    pub mix: FloatParam,
    /// Output gain.
    #[id = "gain"]
    pub gain: FloatParam,
    /// How far each output's residual (input minus the model's estimate) is turned down.
    #[id = "reduction"]
    pub reduction: FloatParam,
    /// Latency-aligned dry output.
    #[id = "bypass"]
    pub bypass: BoolParam,
    /// User weight files per mode (empty: the compiled-in defaults).
    #[persist = "weights"]
    pub weights: Arc<RwLock<OverridePaths>>,
    /// Extract mode's enrolled voice.
    #[persist = "voice"]
    pub voice: Arc<RwLock<Enrollment>>,
    /// Where hints come from: None for the local large model, else a hint server (not automatable).
    #[persist = "hint_server"]
    pub hint_server: Arc<RwLock<Option<kb_link::ClientSettings>>>,
    /// Not a parameter: the editor's line to the voice thread (learn, load, similarity).
    pub desk: Arc<VoiceDesk>,
}

impl Default for KbParams {
    fn default() -> Self {
        Self {
            mode: EnumParam::new("Mode", Mode::Separate),
            boost: BoolParam::new("Boost", true),
            mix: FloatParam::new("Mix", 1.0, FloatRange::Linear { min: 0.0, max: 1.0 })
                .with_unit(" %")
                .with_value_to_string(formatters::v2s_f32_percentage(0))
                .with_string_to_value(formatters::s2v_f32_percentage()),
            gain: FloatParam::new(
                "Output gain",
                0.0,
                FloatRange::Linear {
                    min: -24.0,
                    max: 24.0,
                },
            )
            .with_unit(" dB")
            .with_step_size(0.1),
            reduction: FloatParam::new(
                "Reduction",
                crate::dry_wet::FULL_REDUCTION_DB,
                FloatRange::Linear {
                    min: 0.0,
                    max: crate::dry_wet::FULL_REDUCTION_DB,
                },
            )
            .with_unit(" dB")
            .with_step_size(0.1),
            bypass: BoolParam::new("Bypass", false).make_bypass(),
            weights: Arc::new(RwLock::new(OverridePaths::from_env())),
            voice: Arc::new(RwLock::new(Enrollment::default())),
            hint_server: Arc::new(RwLock::new(None)),
            desk: Arc::new(VoiceDesk::default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The enrolled voice survives the host's save and restore of the plugin's state.
    #[test]
    fn the_enrolled_voice_is_saved_and_restored_with_the_state() {
        let saved = KbParams::default();
        let voice = Enrollment {
            embedding: Some(
                (0..crate::voice::EMBEDDING)
                    .map(|i| i as f32 / 1e3)
                    .collect(),
            ),
            source: "learned from 8.0 s of input".into(),
        };
        *saved.voice.write() = voice.clone();
        let fields = saved.serialize_fields();
        let restored = KbParams::default();
        assert!(restored.voice.read().embedding.is_none());
        restored.deserialize_fields(&fields);
        assert_eq!(*restored.voice.read(), voice);
    }
}
