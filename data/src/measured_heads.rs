//! Measured heads beyond the packaged KEMAR: the SOFA files that the
//! libmysofa source in Debian keeps in its `tests/` folder (humans from the
//! ARI and IRCAM LISTEN databases, the KEMAR with large pinnae and a
//! Neumann KU100 dummy head), fetched as Debian's original source tarball
//! with its pinned SHA-256 (the mirror serves it; `apt-get source` fails
//! there on the missing `.dsc`).

use std::path::Path;
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// What a head is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadRole {
    /// Every split of both worlds (the narrow world's only heads).
    #[default]
    Narrow,
    /// The wide world's training, validation and test heads.
    Wide,
    /// The out-of-domain split's heads only.
    HeldOut,
}

/// One SOFA file of the tarball.
#[derive(Debug, Clone, Copy)]
pub struct MeasuredHead {
    /// File name inside `tests/`.
    pub file: &'static str,
    /// Who or what was measured.
    pub what: &'static str,
    /// Licence of the measurements.
    pub licence: &'static str,
    /// Where it is used.
    pub role: HeadRole,
}

/// Debian's original source tarball of libmysofa 1.3.3.
pub const TARBALL_URL: &str =
    "http://deb.debian.org/debian/pool/main/libm/libmysofa/libmysofa_1.3.3%2bdfsg.orig.tar.xz";
/// Its SHA-256.
pub const TARBALL_SHA256: &str = "6c922f696a690fc8f18ac453dccf6dba905886da08a2e510653a69649bb75f70";
/// The folder of the SOFA files inside the tarball.
const TESTS: &str = "libmysofa-1.3.3/tests";

/// The measured heads taken from the tarball.
pub const MEASURED_HEADS: [MeasuredHead; 4] = [
    MeasuredHead {
        file: "MIT_KEMAR_large_pinna.sofa",
        what: "KEMAR dummy head with the large pinnae (MIT Media Lab)",
        licence: "free with no restrictions on use, provided the authors are cited (Gardner & Martin, MIT Media Lab)",
        role: HeadRole::Wide,
    },
    MeasuredHead {
        file: "hrtf_c_nh898.sofa",
        what: "human listener NH898, blocked ear canals (ARI, Austrian Academy of Sciences)",
        licence: "CC-BY-SA-3.0 (ARI HRTF database)",
        role: HeadRole::Wide,
    },
    MeasuredHead {
        file: "LISTEN_1002_IRC_1002_C_HRIR.sofa",
        what: "human subject 1002 (IRCAM LISTEN)",
        licence: "public, available for any use; acknowledgement appreciated (IRCAM LISTEN database)",
        role: HeadRole::HeldOut,
    },
    MeasuredHead {
        file: "FHK_HRIR_L2354.sofa",
        what: "Neumann KU100 dummy head (TH Köln, Bernschütz)",
        licence: "CC-BY-SA-3.0",
        role: HeadRole::HeldOut,
    },
];

/// Downloads the tarball into `dir` (checked against its SHA-256) unless it
/// is there, and unpacks the heads' SOFA files into `dir/sofa`; returns that folder.
pub fn unpack_measured_heads(dir: &Path) -> Result<std::path::PathBuf> {
    let out = dir.join("sofa");
    if MEASURED_HEADS.iter().all(|h| out.join(h.file).is_file()) {
        return Ok(out);
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let tarball = dir.join("libmysofa_1.3.3+dfsg.orig.tar.xz");
    if !tarball.is_file() {
        let part = dir.join("libmysofa.orig.tar.xz.part");
        crate::fetch::run_command(
            Command::new("/usr/lib/apt/apt-helper")
                .arg("download-file")
                .arg(TARBALL_URL)
                .arg(&part)
                .arg(format!("SHA256:{TARBALL_SHA256}")),
        )?;
        std::fs::rename(&part, &tarball).map_err(|e| Error::io(&tarball, e))?;
    }
    let tmp = dir.join("sofa.part");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    let mut tar = Command::new("tar");
    tar.arg("-xJf")
        .arg(&tarball)
        .arg("-C")
        .arg(&tmp)
        .arg("--strip-components=2");
    for h in MEASURED_HEADS {
        tar.arg(format!("{TESTS}/{}", h.file));
    }
    crate::fetch::run_command(&mut tar)?;
    let _ = std::fs::remove_dir_all(&out);
    std::fs::rename(&tmp, &out).map_err(|e| Error::io(&out, e))?;
    Ok(out)
}
