//! What the editor keeps between frames (never shared with the audio thread).

use crate::{editor::history::MissHistory, models::Mode};

/// Editor-only state.
#[derive(Debug, Clone, Default)]
pub struct UiState {
    /// Hint misses per second over the last 10 s.
    pub misses: MissHistory,
    /// The weight-file field being edited.
    pub weight_path: String,
    /// The mode whose weight file the field shows (refreshed when the mode changes).
    pub path_mode: Option<Mode>,
    /// The enrollment-WAV field being edited.
    pub enroll_path: String,
    /// The hint-server fields being edited (filled from the setting when first shown).
    pub server: Option<kb_link::ClientSettings>,
}
