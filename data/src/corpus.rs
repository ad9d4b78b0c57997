//! The corpora: Debian packages with speech, noise or heads, and the user's
//! own folders, with the rules that name talkers and assign splits.

use std::path::{Path, PathBuf};

use crate::split::{split_for_speaker, NoiseSplit, Split};

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
    /// Zip archive inside the package that holds `root` (`""`: none).
    pub archive: &'static str,
    /// Corpus name, for a second corpus of one package (`""`: the package's name).
    pub name: &'static str,
}

/// Debian speech and noise sampled below this rate is telephone band (8 kHz) and left out, in Hz.
pub const MIN_DEBIAN_RATE: u32 = 11_025;

/// Languages (primary subtags) of the volunteer-recorded packages whose talkers are all test talkers.
pub const TEST_LANGUAGES: [&str; 6] = ["el", "he", "hu", "pl", "ro", "uk"];

/// Languages (primary subtags) of the volunteer-recorded packages whose talkers are all validation talkers.
pub const VALIDATION_LANGUAGES: [&str; 3] = ["bg", "lt", "nds"];

/// KTuberling folders recorded at 8 kHz (telephone band), left out.
pub const KTUBERLING_TELEPHONE: [&str; 7] = ["es", "fi", "it", "nds", "nl", "pt", "sv"];

/// Warzone 2100 folders spoken by its mission voice (the radio, transport-pilot,
/// taunt and processed-villain folders are left out).
pub const WARZONE_MISSION: [&str; 3] = ["memressp", "tutorial", "extra"];

/// qABCs noises voiced by a person (cartoon characters, people, anthems,
/// talking toys and radios), left out: they may hold intelligible speech.
pub const QABCS_VOICES: [&str; 29] = [
    "adjutant",
    "austrian_flag",
    "cheburashka",
    "chef",
    "clown",
    "doll",
    "dunno",
    "earth",
    "emelya",
    "estonian_flag",
    "firebird",
    "gamekeeper",
    "ivasyk",
    "joker",
    "kinder_surprise_egg",
    "ole_lukoje",
    "pishik",
    "prince",
    "pupil",
    "quiz_game",
    "robot",
    "sailorboy",
    "schooler",
    "umka",
    "ursula",
    "walkie-talkie",
    "x-men",
    "yaga",
    "yeti",
];

/// Noise corpora held back for test: every file is a test file, so their
/// kinds of sound (city and industry soundscape, space-opera music and
/// effects) are never heard in training or validation.
pub const TEST_NOISE: [&str; 2] = ["lincity-ng-data", "naev-data"];

/// The packages `fetch` uses.
pub const DEBIAN: [DebianCorpus; 23] = [
    DebianCorpus {
        package: "asterisk-core-sounds-en-g722",
        kind: Kind::Speech,
        root: "usr/share/asterisk/sounds/en_US_f_Allison",
        files: &[],
        language: "en",
        licence: "CC-BY-SA-3.0",
        archive: "",
        name: "",
    },
    DebianCorpus {
        package: "asterisk-core-sounds-es-g722",
        kind: Kind::Speech,
        root: "usr/share/asterisk/sounds/es_MX_f_Allison",
        files: &[],
        language: "es",
        licence: "CC-BY-SA-3.0",
        archive: "",
        name: "",
    },
    DebianCorpus {
        package: "asterisk-core-sounds-fr-g722",
        kind: Kind::Speech,
        root: "usr/share/asterisk/sounds/fr_CA_f_June",
        files: &[],
        language: "fr",
        licence: "CC-BY-SA-3.0",
        archive: "",
        name: "",
    },
    DebianCorpus {
        package: "festvox-ru",
        kind: Kind::Speech,
        root: "usr/share/festival/voices/russian/msu_ru_nsh_clunits/wav",
        files: &[],
        language: "ru",
        licence: "GPL-3",
        archive: "",
        name: "",
    },
    DebianCorpus {
        package: "fillets-ng-data-cs",
        kind: Kind::Speech,
        root: "usr/share/games/fillets-ng/sound",
        files: &[],
        language: "cs",
        licence: "GPL-2+",
        archive: "",
        name: "",
    },
    DebianCorpus {
        package: "fillets-ng-data-nl",
        kind: Kind::Speech,
        root: "usr/share/games/fillets-ng/sound",
        files: &[],
        language: "nl",
        licence: "GPL-2",
        archive: "",
        name: "",
    },
    DebianCorpus {
        package: "tuxpaint-stamps-default",
        kind: Kind::Speech,
        root: "usr/share/tuxpaint/stamps",
        files: &[],
        language: "",
        licence: "GPL-2",
        archive: "",
        name: "",
    },
    DebianCorpus {
        package: "ktuberling-data",
        kind: Kind::Speech,
        root: "usr/share/ktuberling/sounds",
        files: &[],
        language: "",
        licence: "GPL-2+",
        archive: "",
        name: "",
    },
    DebianCorpus {
        package: "klettres-data",
        kind: Kind::Speech,
        root: "usr/share/klettres",
        files: &[],
        language: "",
        licence: "GPL-2+",
        archive: "",
        name: "",
    },
    DebianCorpus {
        package: "qabcs-data",
        kind: Kind::Speech,
        root: "usr/share/qabcs/abcs",
        files: &[],
        language: "",
        licence: "GPL-3+",
        archive: "",
        name: "",
    },
    DebianCorpus {
        package: "kajongg",
        kind: Kind::Speech,
        root: "usr/share/kajongg/voices",
        files: &[],
        language: "",
        licence: "GPL-2+",
        archive: "",
        name: "",
    },
    DebianCorpus {
        package: "warzone2100-data",
        kind: Kind::Speech,
        root: "audio",
        files: &[],
        language: "en",
        licence: "GPL-2+",
        archive: "usr/share/games/warzone2100/base.wz",
        name: "",
    },
    DebianCorpus {
        package: "megaglest-data",
        kind: Kind::Noise,
        root: "usr/share/games/megaglest/tilesets",
        files: &[],
        language: "",
        licence: "CC-BY-SA-3.0",
        archive: "",
        name: "",
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
        archive: "",
        name: "",
    },
    DebianCorpus {
        package: "wesnoth-1.16-music",
        kind: Kind::Noise,
        root: "usr/share/games/wesnoth/1.16/data/core/music",
        files: &[],
        language: "",
        licence: "GPL-2+",
        archive: "",
        name: "",
    },
    DebianCorpus {
        package: "supertux-data",
        kind: Kind::Noise,
        root: "usr/share/games/supertux2/music",
        files: &[],
        language: "",
        licence: "GPL-2+",
        archive: "",
        name: "",
    },
    DebianCorpus {
        package: "hedgewars-data",
        kind: Kind::Noise,
        root: "usr/share/games/hedgewars/Data/Music",
        files: &[],
        language: "",
        licence: "GPL-2",
        archive: "",
        name: "",
    },
    DebianCorpus {
        package: "widelands-data",
        kind: Kind::Noise,
        root: "usr/share/games/widelands/data",
        files: &[],
        language: "",
        licence: "GPL-2+ (music ingame_24 to 26: CC-BY-SA-3.0)",
        archive: "",
        name: "",
    },
    DebianCorpus {
        package: "freedroidrpg-data",
        kind: Kind::Noise,
        root: "usr/share/freedroidrpg/data/sound/music",
        files: &[],
        language: "",
        licence: "GPL-2+",
        archive: "",
        name: "",
    },
    DebianCorpus {
        package: "qabcs-data",
        kind: Kind::Noise,
        root: "usr/share/qabcs/abcs/all/noises",
        files: &[],
        language: "",
        licence: "GPL-3+",
        archive: "",
        name: "qabcs-noises",
    },
    DebianCorpus {
        package: "lincity-ng-data",
        kind: Kind::Noise,
        root: "usr/share/games/lincity-ng",
        files: &[],
        language: "",
        licence: "GPL-2+ (sound effects also CC-BY-SA-2.0)",
        archive: "",
        name: "",
    },
    DebianCorpus {
        package: "naev-data",
        kind: Kind::Noise,
        root: "usr/share/naev/dat/snd",
        files: &[],
        language: "",
        licence: "GPL-2+/GPL-3/CC-BY-3.0/CC-BY-SA-3.0/public domain (per file: see the package's copyright file)",
        archive: "",
        name: "",
    },
    DebianCorpus {
        package: "libmysofa1",
        kind: Kind::Head,
        root: "usr/share/libmysofa",
        files: &["MIT_KEMAR_normal_pinna.sofa"],
        language: "",
        licence: "mit-kemar (free with attribution: Gardner & Martin, MIT Media Lab)",
        archive: "",
        name: "",
    },
];

impl DebianCorpus {
    /// Corpus name: `name`, or the package's name.
    pub fn corpus(&self) -> &'static str {
        if self.name.is_empty() {
            self.package
        } else {
            self.name
        }
    }

    /// How the files of a noise corpus are split.
    pub fn noise_split(&self) -> NoiseSplit {
        match self.corpus() {
            // The first noise corpora keep their split: about 10 % each to validation and test.
            "megaglest-data" | "supertuxkart-data" => NoiseSplit::ByFile,
            c if TEST_NOISE.contains(&c) => NoiseSplit::All(Split::Test),
            _ => NoiseSplit::TrainValidation,
        }
    }

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
        let first = first_folder(rel);
        match self.corpus() {
            // Prompts only: no beeps, tones or silence files.
            p if p.starts_with("asterisk-") => {
                !s.starts_with("silence/") && !stem.starts_with("beep") && !stem.contains("2tone")
            }
            // Only the Czech voices, not the sound effects shared by all languages.
            "fillets-ng-data-cs" => s.contains("/cs/"),
            "fillets-ng-data-nl" => s.contains("/nl/"),
            // Spoken descriptions and names; the stamps' sound effects name no language.
            "tuxpaint-stamps-default" => tuxpaint_language(rel).is_some(),
            // The `sr@...` folders are copies of `sr`.
            "ktuberling-data" => {
                rel.components().count() == 2
                    && !KTUBERLING_TELEPHONE.contains(&first.as_str())
                    && !first.contains('@')
            }
            // Letters and syllables of each language folder.
            "klettres-data" => rel.components().count() == 3,
            // Each language's spoken letters and words, not the shared animal and instrument noises.
            "qabcs-data" => {
                first != "all"
                    && rel
                        .components()
                        .nth(1)
                        .is_some_and(|c| c.as_os_str() == "sounds")
            }
            "warzone2100-data" => WARZONE_MISSION.contains(&first.as_str()),
            // Ambience of the tilesets.
            "megaglest-data" => s.contains("/sounds/"),
            // Music, and the work, animal and farm sounds of `sound/<kind>/`
            // (not the interface's messages and clicks, nor the military signals).
            "widelands-data" => {
                first == "music"
                    || (first == "sound"
                        && rel.components().count() >= 3
                        && rel
                            .components()
                            .nth(1)
                            .is_some_and(|c| c.as_os_str() != "military"))
            }
            "qabcs-noises" => !QABCS_VOICES.contains(&stem.as_ref()),
            // The city's sounds and music, not the interface's clicks.
            "lincity-ng-data" => {
                (first == "sounds" || first == "music")
                    && !["Click", "WindowOpen", "WindowClose"].contains(&stem.as_ref())
            }
            _ => true,
        }
    }

    /// Language code of a speech file (`rel` is relative to `root`).
    pub fn language(&self, rel: &Path) -> String {
        match self.package {
            "tuxpaint-stamps-default" => tuxpaint_language(rel).unwrap_or_default(),
            "ktuberling-data" | "klettres-data" | "qabcs-data" => first_folder(rel),
            // `de/<voice>/...` is German, `<voice>/...` English.
            "kajongg" if rel.components().count() == 3 => first_folder(rel),
            "kajongg" => "en".into(),
            _ => self.language.into(),
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
            // The Dutch actors: lead `m` trains, lead `v` and the side roles validate.
            "fillets-ng-data-nl" => {
                fillets_roles(rel, "fillets-nl", Split::Train, Split::Validation)
            }
            // Volunteers, one talker per package and language, the split by language.
            "tuxpaint-stamps-default" | "ktuberling-data" | "klettres-data" | "qabcs-data" => {
                let language = self.language(rel);
                let name = match self.package {
                    "tuxpaint-stamps-default" => "tuxpaint",
                    p => p.trim_end_matches("-data"),
                };
                (format!("{name}-{language}"), language_split(&language))
            }
            // Four voices (`female1`, ...), the German set named like the English
            // one: counted as the same people, all in training.
            "kajongg" => {
                let voice = rel
                    .parent()
                    .and_then(Path::file_name)
                    .map(|v| v.to_string_lossy().into_owned())
                    .unwrap_or_default();
                (format!("kajongg-{voice}"), Split::Train)
            }
            // One mission voice (median pitch 190 to 220 Hz in every folder).
            "warzone2100-data" => ("warzone2100-mission".into(), Split::Train),
            _ => (self.package.into(), Split::Train),
        }
    }
}

/// First path component of `rel`, or `""`.
fn first_folder(rel: &Path) -> String {
    rel.components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Split of a language of the volunteer-recorded packages (Tux Paint,
/// KTuberling, KLettres, qABCs): one split per primary subtag, so that a
/// volunteer who recorded for several of them, or both `en` and `en_GB`,
/// stays in one split.
pub fn language_split(language: &str) -> Split {
    let primary = language
        .split(['_', '@', '-'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if TEST_LANGUAGES.contains(&primary.as_str()) {
        Split::Test
    } else if VALIDATION_LANGUAGES.contains(&primary.as_str()) {
        Split::Validation
    } else {
        Split::Train
    }
}

/// Language of a Tux Paint stamp sound: `<stamp>_desc_<lang>.ogg` (spoken
/// description), `<stamp>_desc.ogg` (English description), `<stamp>_<lang>.ogg`
/// (spoken name, `<lang>` as `xx` or `xx_YY`); `None` for the stamps' sound effects.
pub fn tuxpaint_language(rel: &Path) -> Option<String> {
    if rel.extension().is_none_or(|e| e != "ogg") {
        return None;
    }
    let stem = rel.file_stem()?.to_str()?;
    if stem.ends_with("_desc") {
        return Some("en".into());
    }
    let code = |c: &str, upper: bool| {
        c.len() == 2
            && c.chars()
                .all(|ch| ch.is_ascii_lowercase() || (upper && ch.is_ascii_uppercase()))
    };
    if let Some((_, language)) = stem.rsplit_once("_desc_") {
        let mut parts = language.split('_');
        let ok = parts.next().is_some_and(|p| code(p, false)) && parts.all(|p| code(p, true));
        return ok.then(|| language.into());
    }
    let parts: Vec<&str> = stem.split('_').collect();
    match parts.as_slice() {
        [_, .., lang, region] if code(lang, false) && code(region, true) && parts.len() >= 3 => {
            Some(format!("{lang}_{region}"))
        }
        [_, .., lang] if code(lang, false) => Some((*lang).into()),
        _ => None,
    }
}

/// Fish Fillets voices: files are `<level>-<role>-<line>.ogg`. The two lead
/// fish `m` (train) and `v` (test) speak in every level; side roles, named
/// per level folder since a letter may be a different actor elsewhere, all go to validation.
pub fn fillets_speaker(rel: &Path) -> (String, Split) {
    fillets_roles(rel, "fillets", Split::Train, Split::Test)
}

/// Fish Fillets roles of one dubbing: talkers named `<prefix>-m`, `<prefix>-v`
/// (the leads, in splits `m` and `v`) and `<prefix>-<level>-<role>` (side roles, validation).
pub fn fillets_roles(rel: &Path, prefix: &str, m: Split, v: Split) -> (String, Split) {
    let stem = rel
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let folder = first_folder(rel);
    let role = stem
        .split('-')
        .nth(1)
        .filter(|r| !r.is_empty() && stem.matches('-').count() >= 2);
    match role {
        Some("m") => (format!("{prefix}-m"), m),
        Some("v") => (format!("{prefix}-v"), v),
        Some(r) => (format!("{prefix}-{folder}-{r}"), Split::Validation),
        None => (format!("{prefix}-{folder}"), Split::Validation),
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

    /// The volunteer packages: one talker per package and language, one split
    /// per language across the packages; effects, copies, telephone-band and
    /// radio folders are left out; the Dutch Fish Fillets actors are new talkers.
    #[test]
    fn volunteer_rules() {
        let corpus = |p: &str| DEBIAN.iter().find(|c| c.package == p).unwrap();
        let (tux, ktub) = (corpus("tuxpaint-stamps-default"), corpus("ktuberling-data"));
        let (klettres, qabcs) = (corpus("klettres-data"), corpus("qabcs-data"));
        let p = Path::new;

        assert!(tux.wants(p("animals/birds/crow_desc_ro.ogg")));
        assert_eq!(
            tux.speaker(p("animals/birds/crow_desc_ro.ogg")),
            ("tuxpaint-ro".into(), Split::Test)
        );
        assert_eq!(tux.language(p("animals/birds/crow_desc.ogg")), "en");
        assert_eq!(tux.language(p("symbols/math/7_en_GB.ogg")), "en_GB");
        assert_eq!(tux.language(p("symbols/math/7_zh_tw.ogg")), "zh_tw");
        assert_eq!(tux.speaker(p("symbols/math/7_fr.ogg")).0, "tuxpaint-fr");
        for effect in [
            "animals/birds/crow.ogg",
            "symbols/math/2.ogg",
            "a/b_filled.ogg",
            "a/b_desc_ro.txt",
        ] {
            assert!(!tux.wants(p(effect)), "{effect}");
        }

        assert!(ktub.wants(p("sr/hat.ogg")) && ktub.wants(p("fr/chapeau.wav")));
        assert!(!ktub.wants(p("sr@latin/hat.ogg")), "a copy of sr");
        assert!(!ktub.wants(p("sv/hatt.wav")), "telephone band");
        assert_eq!(
            ktub.speaker(p("uk/hat.ogg")),
            ("ktuberling-uk".into(), Split::Test)
        );
        assert_eq!(
            klettres.speaker(p("lt/alpha/a.ogg")),
            ("klettres-lt".into(), Split::Validation)
        );
        assert!(!klettres.wants(p("de.txt")) && klettres.wants(p("de/syllab/ba.ogg")));
        assert_eq!(klettres.language(p("pt_BR/alpha/a.ogg")), "pt_BR");
        assert!(!qabcs.wants(p("all/noises/accordion.ogg")));
        assert!(qabcs.wants(p("uk/sounds/alpha/a.ogg")));
        assert_eq!(
            qabcs.speaker(p("en_gb/sounds/words/apple.ogg")),
            ("qabcs-en_gb".into(), Split::Train)
        );

        // A volunteer who recorded one language for several packages stays in one split.
        for lang in ["ro", "el", "uk", "bg", "lt", "ru", "fr", "de", "en_GB"] {
            let splits: std::collections::HashSet<Split> = [
                tux.speaker(p(&format!("a/x_desc_{lang}.ogg"))),
                ktub.speaker(p(&format!("{lang}/x.ogg"))),
                klettres.speaker(p(&format!("{lang}/alpha/x.ogg"))),
                qabcs.speaker(p(&format!("{}/sounds/x.ogg", lang.to_lowercase()))),
            ]
            .into_iter()
            .map(|s| s.1)
            .collect();
            assert_eq!(splits.len(), 1, "{lang}: {splits:?}");
        }
        assert_eq!(language_split("en_GB"), language_split("en"));
        assert_eq!(language_split("sr@latin"), language_split("sr"));
        assert!(TEST_LANGUAGES
            .iter()
            .all(|l| !VALIDATION_LANGUAGES.contains(l)));

        let kajongg = corpus("kajongg");
        assert_eq!(
            kajongg.speaker(p("de/female1/b1.ogg")),
            kajongg.speaker(p("female1/b1.ogg"))
        );
        assert_eq!(kajongg.language(p("de/male2/b1.ogg")), "de");
        assert_eq!(kajongg.language(p("male2/b1.ogg")), "en");
        let warzone = corpus("warzone2100-data");
        assert!(!warzone.archive.is_empty());
        assert!(warzone.wants(p("memressp/power/pcv350.ogg")));
        assert!(!warzone.wants(p("vtoltalk/vtol1.ogg")), "radio");

        let nl = corpus("fillets-ng-data-nl");
        assert!(nl.wants(p("let/nl/let-m-divna.ogg")) && !nl.wants(p("let/cs/let-m-divna.ogg")));
        assert_eq!(
            nl.speaker(p("let/nl/let-m-divna.ogg")),
            ("fillets-nl-m".into(), Split::Train)
        );
        assert_eq!(
            nl.speaker(p("let/nl/let-v-oko.ogg")),
            ("fillets-nl-v".into(), Split::Validation)
        );
        assert_eq!(
            nl.speaker(p("bathyscaph/nl/bat-p-0.ogg")),
            ("fillets-nl-bathyscaph-p".into(), Split::Validation)
        );
    }

    /// The noise corpora: voiced, interface and military clips are left out;
    /// the first corpora keep their split by file, the new ones split
    /// between train and validation, and the held-back ones are test only.
    #[test]
    fn noise_rules() {
        let corpus = |c: &str| DEBIAN.iter().find(|d| d.corpus() == c).unwrap();
        let p = Path::new;
        let qabcs = corpus("qabcs-noises");
        assert_eq!(qabcs.package, "qabcs-data");
        assert!(qabcs.wants(p("accordion.ogg")) && !qabcs.wants(p("cheburashka.ogg")));
        assert_eq!(corpus("qabcs-data").kind, Kind::Speech);
        let widelands = corpus("widelands-data");
        assert!(widelands.wants(p("music/ingame_00.ogg")));
        assert!(widelands.wants(p("sound/animals/wolf_00.ogg")));
        for ui in [
            "sound/click.ogg",
            "sound/military/under_attack.ogg",
            "images/a.ogg",
        ] {
            assert!(!widelands.wants(p(ui)), "{ui}");
        }
        let lincity = corpus("lincity-ng-data");
        assert!(
            lincity.wants(p("sounds/TraficHigh1.wav")) && !lincity.wants(p("sounds/Click.wav"))
        );
        assert_eq!(corpus("megaglest-data").noise_split(), NoiseSplit::ByFile);
        assert_eq!(
            corpus("supertuxkart-data").noise_split(),
            NoiseSplit::ByFile
        );
        for c in DEBIAN.iter().filter(|c| c.kind == Kind::Noise) {
            let held = TEST_NOISE.contains(&c.corpus());
            assert_eq!(
                c.noise_split() == NoiseSplit::All(Split::Test),
                held,
                "{}",
                c.corpus()
            );
        }
        let mut names: Vec<&str> = DEBIAN.iter().map(|c| c.corpus()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), DEBIAN.len(), "corpus names are unique");
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
