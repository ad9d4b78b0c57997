//! The corpora: Debian packages with speech, noise or heads, and the user's
//! own folders, with the rules that name talkers and assign splits.

use std::path::{Path, PathBuf};

use crate::split::{split_for_speaker, Split};

/// What a corpus holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Speech clips.
    Speech,
    /// Noise recordings.
    Noise,
    /// SOFA files.
    Head,
}

/// A Debian package used as a corpus.
#[derive(Debug, Clone, Copy)]
pub struct DebianCorpus {
    /// Package name.
    pub package: &'static str,
    /// What it holds.
    pub kind: Kind,
    /// Folder inside the package searched for files.
    pub root: &'static str,
    /// Only these files (relative to `root`), when not empty.
    pub files: &'static [&'static str],
    /// Language code of the speech.
    pub language: &'static str,
    /// Licence of the recordings (from the package's copyright file).
    pub licence: &'static str,
}

/// The packages `fetch` uses.
pub const DEBIAN: [DebianCorpus; 8] = [
    DebianCorpus {
        package: "asterisk-core-sounds-en-g722",
        kind: Kind::Speech,
        root: "usr/share/asterisk/sounds/en_US_f_Allison",
        files: &[],
        language: "en",
        licence: "CC-BY-SA-3.0",
    },
    DebianCorpus {
        package: "asterisk-core-sounds-es-g722",
        kind: Kind::Speech,
        root: "usr/share/asterisk/sounds/es_MX_f_Allison",
        files: &[],
        language: "es",
        licence: "CC-BY-SA-3.0",
    },
    DebianCorpus {
        package: "asterisk-core-sounds-fr-g722",
        kind: Kind::Speech,
        root: "usr/share/asterisk/sounds/fr_CA_f_June",
        files: &[],
        language: "fr",
        licence: "CC-BY-SA-3.0",
    },
    DebianCorpus {
        package: "festvox-ru",
        kind: Kind::Speech,
        root: "usr/share/festival/voices/russian/msu_ru_nsh_clunits/wav",
        files: &[],
        language: "ru",
        licence: "GPL-3",
    },
    DebianCorpus {
        package: "fillets-ng-data-cs",
        kind: Kind::Speech,
        root: "usr/share/games/fillets-ng/sound",
        files: &[],
        language: "cs",
        licence: "GPL-2+",
    },
    DebianCorpus {
        package: "megaglest-data",
        kind: Kind::Noise,
        root: "usr/share/games/megaglest/tilesets",
        files: &[],
        language: "",
        licence: "CC-BY-SA-3.0",
    },
    DebianCorpus {
        package: "supertuxkart-data",
        kind: Kind::Noise,
        root: "usr/share/games/supertuxkart/data",
        files: &[
            "sfx/lenautile_restaurant.ogg",
            "sfx/sara_airport_pa.ogg",
            "sfx/rain.ogg",
            "sfx/river_loop.ogg",
            "sfx/waterfall_loop_2.ogg",
            "library/stklib_steamLocomotive_a/steamLocomotive.ogg",
        ],
        language: "",
        licence: "CC-BY-SA-3.0/CC-BY-3.0 (see the package's copyright file)",
    },
    DebianCorpus {
        package: "libmysofa1",
        kind: Kind::Head,
        root: "usr/share/libmysofa",
        files: &["MIT_KEMAR_normal_pinna.sofa"],
        language: "",
        licence: "mit-kemar (free with attribution: Gardner & Martin, MIT Media Lab)",
    },
];

impl DebianCorpus {
    /// True for files of this corpus worth decoding (`rel` is relative to `root`).
    pub fn wants(&self, rel: &Path) -> bool {
        if !self.files.is_empty() {
            return self.files.iter().any(|f| Path::new(f) == rel);
        }
        let s = rel.to_string_lossy();
        let stem = rel
            .file_stem()
            .map(|s| s.to_string_lossy())
            .unwrap_or_default();
        match self.package {
            // Prompts only: no beeps, tones or silence files.
            p if p.starts_with("asterisk-") => {
                !s.starts_with("silence/") && !stem.starts_with("beep") && !stem.contains("2tone")
            }
            // Only the Czech voices, not the sound effects shared by all languages.
            "fillets-ng-data-cs" => s.contains("/cs/"),
            // Ambience of the tilesets.
            "megaglest-data" => s.contains("/sounds/"),
            _ => true,
        }
    }

    /// Talker and split of a speech file (`rel` is relative to `root`).
    pub fn speaker(&self, rel: &Path) -> (String, Split) {
        match self.package {
            // The same talker (Allison Smith) records the English and Spanish prompts.
            "asterisk-core-sounds-en-g722" | "asterisk-core-sounds-es-g722" => {
                ("asterisk-allison".into(), Split::Train)
            }
            "asterisk-core-sounds-fr-g722" => ("asterisk-june".into(), Split::Test),
            "festvox-ru" => ("festvox-msu-ru-nsh".into(), Split::Train),
            "fillets-ng-data-cs" => fillets_speaker(rel),
            _ => (self.package.into(), Split::Train),
        }
    }
}

/// Fish Fillets voices: files are `<level>-<role>-<line>.ogg`. The two lead
/// fish `m` (train) and `v` (test) speak in every level; side roles, named
/// per level folder since a letter may be a different actor elsewhere, all go to validation.
pub fn fillets_speaker(rel: &Path) -> (String, Split) {
    let stem = rel
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let folder = rel
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    let role = stem
        .split('-')
        .nth(1)
        .filter(|r| !r.is_empty() && stem.matches('-').count() >= 2);
    match role {
        Some("m") => ("fillets-m".into(), Split::Train),
        Some("v") => ("fillets-v".into(), Split::Test),
        Some(r) => (format!("fillets-{folder}-{r}"), Split::Validation),
        None => (format!("fillets-{folder}"), Split::Validation),
    }
}

/// A folder of the user's own speech or noise (LibriSpeech, WHAM!, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFolder {
    /// The folder.
    pub path: PathBuf,
    /// Split of everything in it; `None`: by talker hash (speech) or by file (noise).
    pub split: Option<Split>,
}

impl UserFolder {
    /// Parses `DIR` or `DIR:SPLIT`.
    pub fn parse(s: &str) -> crate::Result<UserFolder> {
        if let Some((dir, split)) = s.rsplit_once(':') {
            if let Ok(split) = split.parse::<Split>() {
                return Ok(UserFolder {
                    path: dir.into(),
                    split: Some(split),
                });
            }
        }
        Ok(UserFolder {
            path: s.into(),
            split: None,
        })
    }

    /// Corpus name: `user-` and the folder's last two path components.
    pub fn corpus(&self) -> String {
        let parts: Vec<String> = self
            .path
            .components()
            .rev()
            .take(2)
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let name: Vec<String> = parts.into_iter().rev().collect();
        format!("user-{}", name.join("-")).replace(
            |c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_' && c != '.',
            "_",
        )
    }

    /// Talker of a speech file: the first sub-folder under the folder (the
    /// speaker folder in LibriSpeech, VCTK, ...), or the folder itself.
    pub fn speaker(&self, rel: &Path) -> (String, Split) {
        let first = if rel.components().count() > 1 {
            rel.components()
                .next()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
        } else {
            None
        };
        let speaker = match first {
            Some(f) => format!("{}/{f}", self.corpus()),
            None => self.corpus(),
        };
        let split = self.split.unwrap_or_else(|| split_for_speaker(&speaker));
        (speaker, split)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fillets roles follow the file names; en and es asterisk prompts are one talker.
    #[test]
    fn speaker_rules() {
        assert_eq!(
            fillets_speaker(Path::new("let/cs/let-m-divna.ogg")),
            ("fillets-m".into(), Split::Train)
        );
        assert_eq!(
            fillets_speaker(Path::new("let/cs/let-v-oko.ogg")),
            ("fillets-v".into(), Split::Test)
        );
        assert_eq!(
            fillets_speaker(Path::new("bathyscaph/cs/bat-p-0.ogg")),
            ("fillets-bathyscaph-p".into(), Split::Validation)
        );
        assert_eq!(
            fillets_speaker(Path::new("briefcase/cs/help1.ogg")).1,
            Split::Validation
        );
        assert!(!DEBIAN[0].wants(Path::new("beep.g722")));
        assert!(!DEBIAN[0].wants(Path::new("silence/1.g722")));
        assert!(DEBIAN[0].wants(Path::new("digits/1.g722")));
        let en = DEBIAN[0].speaker(Path::new("a.g722"));
        let es = DEBIAN[1].speaker(Path::new("b.g722"));
        assert_eq!(en, es);
    }

    /// `DIR:split` is parsed, a colon that names no split stays in the path.
    #[test]
    fn user_folder_parsing() {
        let f = UserFolder::parse("/data/LibriSpeech/dev-clean:validation").unwrap();
        assert_eq!(f.path, PathBuf::from("/data/LibriSpeech/dev-clean"));
        assert_eq!(f.split, Some(Split::Validation));
        assert_eq!(f.corpus(), "user-LibriSpeech-dev-clean");
        assert_eq!(
            f.speaker(Path::new("84/121123/84-121123-0000.flac")).0,
            "user-LibriSpeech-dev-clean/84"
        );
        let g = UserFolder::parse("/x/a:b").unwrap();
        assert_eq!((g.path, g.split), (PathBuf::from("/x/a:b"), None));
    }
}
