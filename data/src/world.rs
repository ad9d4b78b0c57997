//! The two worlds mixtures are drawn from: the narrow one every model
//! before the wide world trained on, and the wide one (many heads, dense
//! double-talk, wider rooms and levels, perturbed voices, mono recordings).

use serde::{Deserialize, Serialize};

use crate::mixture::MixConfig;
use crate::{Error, Result};

/// Which ranges mixtures are drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum World {
    /// One measured head, one clip per talker unless filled, RT60 0.1 to 0.8 s (the first runs' world).
    #[default]
    Narrow,
    /// The wide world: see [`World::config`] and `data/README.md`.
    Wide,
}

impl World {
    /// The world a split is drawn from unless told otherwise: wide for `ood`, narrow for the rest.
    pub fn default_for(split: crate::Split) -> World {
        if split == crate::Split::Ood {
            World::Wide
        } else {
            World::Narrow
        }
    }

    /// The drawing ranges of this world (4 s mixtures, early targets).
    pub fn config(self) -> MixConfig {
        let narrow = MixConfig::default();
        match self {
            World::Narrow => narrow,
            World::Wide => MixConfig {
                rt60: (0.1, 1.0),
                distance: (0.3, 3.0),
                relative_level_db: (-10.0, 10.0),
                level_dbfs: (-50.0, -10.0),
                fill: true,
                fill_gap: (0.02, 0.12),
                sparse_share: 0.2,
                elevation_deg: (-30.0, 30.0),
                speed: (0.88, 1.12),
                diotic_share: 0.2,
                background_db: Some((-40.0, -10.0)),
                silence_share: 0.2,
                head_bank: true,
                ..narrow
            },
        }
    }
}

impl std::str::FromStr for World {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "narrow" => Ok(World::Narrow),
            "wide" => Ok(World::Wide),
            _ => Err(Error::Invalid(format!(
                "unknown world `{s}` (expected narrow or wide)"
            ))),
        }
    }
}

impl std::fmt::Display for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            World::Narrow => "narrow",
            World::Wide => "wide",
        })
    }
}
