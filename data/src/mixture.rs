//! Mixtures for the three tasks and the manifest that rebuilds them.
//!
//! Targets are the early binaural images of each talker: the direct path
//! plus the reflections arriving within 50 ms of it, through the same head.
//! The late reverberation (and, for enhancement, the noise) is what the
//! models remove; see `data/README.md` for why.

use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::activity::double_talk_share;
use crate::background::{diffuse_background, BackgroundMeta};
use crate::conv::convolve_truncated;
use crate::hrtf::Head;
use crate::pcm::Pcm16;
use crate::pools::{Clip, Pools};
use crate::render::{render_brir, Placement, RenderConfig};
use crate::room::Room;
use crate::speed::{change_speed, speed_input_len};
use crate::split::Split;
use crate::{Error, Result, SAMPLE_RATE};

pub use kb_models::Task;

/// What each talker's target keeps of its binaural room image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Direct path and the reflections within the render's early window (adds dereverberation to the task).
    #[default]
    Early,
    /// The whole reverberant image (the paper's task: a separation mixture is exactly the sum of its targets).
    Reverberant,
}

impl std::str::FromStr for Target {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "early" => Ok(Self::Early),
            "reverberant" => Ok(Self::Reverberant),
            _ => Err(Error::Invalid(format!(
                "unknown target `{s}` (expected early or reverberant)"
            ))),
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Early => "early",
            Self::Reverberant => "reverberant",
        })
    }
}

/// Ranges the mixtures are drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MixConfig {
    /// Mixture length in seconds.
    pub seconds: f64,
    /// Longest enrollment in seconds (target extraction).
    pub enrollment_seconds: f64,
    /// Shortest enrollment in seconds: the target talker's other clips are
    /// chained (`fill_gap` apart) until a length drawn from this to
    /// `enrollment_seconds` is reached, or the talker's clips run out.
    #[serde(default = "short_enrollment")]
    pub enrollment_min_seconds: f64,
    /// Reverberation time range in seconds.
    pub rt60: (f64, f64),
    /// Source distance range in metres.
    pub distance: (f64, f64),
    /// Level of the second talker relative to the first, dB range.
    pub relative_level_db: (f64, f64),
    /// Signal-to-noise ratio range for enhancement, dB.
    pub snr_db: (f64, f64),
    /// RMS level of the mixture, dBFS range.
    pub level_dbfs: (f64, f64),
    /// Response timing.
    pub render: RenderConfig,
    /// What the targets keep of each talker's room image.
    #[serde(default)]
    pub target: Target,
    /// Fill the mixture with each talker's speech: a clip shorter than the
    /// mixture is followed by more clips of the same talker, `fill_gap` apart.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fill: bool,
    /// Shortest and longest pause between the clips of a filled stretch, seconds.
    #[serde(default = "narrow_fill_gap")]
    pub fill_gap: (f64, f64),
    /// With `fill`: the share of mixtures drawn sparse instead (one clip per talker, placed somewhere).
    #[serde(default)]
    pub sparse_share: f64,
    /// Elevation range of talkers and noise emitters, degrees.
    #[serde(default = "narrow_elevation")]
    pub elevation_deg: (f64, f64),
    /// Speed perturbation of each talker, factor range ((1, 1): none).
    #[serde(default = "no_speed")]
    pub speed: (f64, f64),
    /// Share of diotic mixtures: one omnidirectional microphone fed to both ears.
    #[serde(default)]
    pub diotic_share: f64,
    /// Level of a diffuse background relative to the talkers, dB range (none when absent).
    #[serde(default)]
    pub background_db: Option<(f64, f64)>,
    /// Share of mixtures in which one talker falls silent for 25 to 60 % of the window.
    #[serde(default)]
    pub silence_share: f64,
    /// Draw each mixture's head from the head bank (measured, perturbed and
    /// parametric heads) instead of the measured heads alone.
    #[serde(default)]
    pub head_bank: bool,
}

fn short_enrollment() -> f64 {
    3.0
}

fn narrow_fill_gap() -> (f64, f64) {
    (0.05, 0.3)
}

fn narrow_elevation() -> (f64, f64) {
    (-20.0, 40.0)
}

fn no_speed() -> (f64, f64) {
    (1.0, 1.0)
}

impl Default for MixConfig {
    fn default() -> Self {
        MixConfig {
            seconds: 4.0,
            enrollment_seconds: 10.0,
            enrollment_min_seconds: short_enrollment(),
            rt60: (0.1, 0.8),
            distance: (0.5, 3.0),
            relative_level_db: (-5.0, 5.0),
            snr_db: (-5.0, 15.0),
            level_dbfs: (-35.0, -20.0),
            render: RenderConfig::default(),
            target: Target::Early,
            fill: false,
            fill_gap: narrow_fill_gap(),
            sparse_share: 0.0,
            elevation_deg: narrow_elevation(),
            speed: no_speed(),
            diotic_share: 0.0,
            background_db: None,
            silence_share: 0.0,
            head_bank: false,
        }
    }
}

impl MixConfig {
    /// Checks that every range can be drawn from and rendered.
    pub fn check(&self) -> Result<()> {
        let ordered = |(lo, hi): (f64, f64)| lo.is_finite() && hi.is_finite() && lo <= hi;
        let bad = |what: &str, range: (f64, f64)| {
            Err(Error::Invalid(format!(
                "{what} range {range:?} is not allowed"
            )))
        };
        if !(self.seconds.is_finite()
            && self.seconds * (SAMPLE_RATE as f64) >= 1.0
            && self.seconds <= 600.0)
        {
            return Err(Error::Invalid(format!(
                "mixture length {} s is not allowed (0 to 600 s)",
                self.seconds
            )));
        }
        if !(self.enrollment_seconds.is_finite()
            && self.enrollment_min_seconds > 0.0
            && self.enrollment_min_seconds <= self.enrollment_seconds)
        {
            return Err(Error::Invalid(format!(
                "enrollment length {} to {} s must be positive and ordered",
                self.enrollment_min_seconds, self.enrollment_seconds
            )));
        }
        if !ordered(self.rt60) || self.rt60.0 < 0.05 || self.rt60.1 > 3.0 {
            return bad("RT60 (0.05 to 3 s)", self.rt60);
        }
        if !ordered(self.distance) || self.distance.0 < 0.2 || self.distance.1 > 10.0 {
            return bad("distance (0.2 to 10 m)", self.distance);
        }
        for (what, r) in [
            ("relative level", self.relative_level_db),
            ("SNR", self.snr_db),
            ("level", self.level_dbfs),
            ("background level", self.background_db.unwrap_or((0.0, 0.0))),
        ] {
            if !ordered(r) {
                return bad(what, r);
            }
        }
        if !ordered(self.elevation_deg)
            || self.elevation_deg.0 < -90.0
            || self.elevation_deg.1 > 90.0
        {
            return bad("elevation (-90 to 90 degrees)", self.elevation_deg);
        }
        if !ordered(self.fill_gap) || self.fill_gap.0 < 0.0 || self.fill_gap.1 > 5.0 {
            return bad("fill gap (0 to 5 s)", self.fill_gap);
        }
        if !ordered(self.speed) || self.speed.0 < 0.5 || self.speed.1 > 2.0 {
            return bad("speed (0.5 to 2)", self.speed);
        }
        for (what, share) in [
            ("sparse", self.sparse_share),
            ("diotic", self.diotic_share),
            ("silence", self.silence_share),
        ] {
            if !(0.0..=1.0).contains(&share) {
                return Err(Error::Invalid(format!(
                    "{what} share {share} is not in 0 to 1"
                )));
            }
        }
        let render = &self.render;
        if !(render.fade > 0.0
            && render.early >= 0.0
            && render.mixing >= render.early + render.fade)
        {
            return Err(Error::Invalid(format!(
                "render timing {render:?}: needs fade > 0 and mixing >= early + fade"
            )));
        }
        Ok(())
    }
}

/// The room and listener of a mixture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomMeta {
    /// Room geometry and absorption.
    pub room: Room,
    /// Eyring reverberation time in seconds.
    pub rt60: f64,
    /// Head-centre position (metres).
    pub listener: [f64; 3],
    /// Facing direction, degrees counter-clockwise from the room's x axis.
    pub yaw_deg: f64,
}

/// Where an emitter is, seen from the head.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Direction {
    /// Position in room coordinates (metres).
    pub position: [f64; 3],
    /// Azimuth in degrees, positive to the left of the listener's nose.
    pub azimuth_deg: f64,
    /// Elevation in degrees.
    pub elevation_deg: f64,
    /// Distance in metres.
    pub distance_m: f64,
}

/// One talker of a mixture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceMeta {
    /// Clip identifier (path in the index).
    pub file: String,
    /// Talker.
    pub speaker: String,
    /// First sample taken from the clip.
    pub clip_offset: usize,
    /// Sample of the mixture where the clip starts.
    pub start: usize,
    /// Number of samples used.
    pub length: usize,
    /// Gain applied to the dry clip before rendering, dB (the overall gain included).
    pub gain_db: f64,
    /// Level of the reverberant image relative to the first talker's, dB.
    pub relative_level_db: f64,
    /// Where the talker stands.
    pub direction: Direction,
    /// The clips that follow the first one when the mixture is filled (`MixConfig::fill`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more: Vec<Piece>,
    /// Speed factor the talker's stretch is played at (positions above are
    /// on the unperturbed stretch's timeline); absent: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<f64>,
    /// First sample and length of a stretch where the talker falls silent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silence: Option<(usize, usize)>,
}

/// One more clip of a talker in a filled mixture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Piece {
    /// Clip identifier (path in the index).
    pub file: String,
    /// First sample taken from the clip.
    pub clip_offset: usize,
    /// Sample of the mixture where it starts.
    pub start: usize,
    /// Number of samples used.
    pub length: usize,
    /// Gain that brings the clip to the RMS level of the talker's first clip, dB.
    pub gain_db: f64,
}

/// The noise of an enhancement mixture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoiseMeta {
    /// Clip identifier.
    pub file: String,
    /// First sample taken from the (looped) clip for each emitter.
    pub clip_offsets: Vec<usize>,
    /// Emitters (different stretches of the clip) placed in the room.
    pub directions: Vec<Direction>,
    /// Reverberant speech power over noise power, dB (both ears together).
    pub snr_db: f64,
    /// Gain applied to the dry noise, dB (the overall gain included).
    pub gain_db: f64,
}

/// The enrollment of a target-extraction mixture: clips of the target
/// talker chained, one gain for all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollmentMeta {
    /// First clip's identifier (a different utterance of the target talker).
    pub file: String,
    /// Talker (the target's).
    pub speaker: String,
    /// First sample taken from the first clip.
    pub clip_offset: usize,
    /// Number of samples taken from the first clip.
    pub length: usize,
    /// Gain applied to every clip, dB.
    pub gain_db: f64,
    /// The clips chained after the first (`start` is the sample of the enrollment where each begins).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more: Vec<Piece>,
    /// Length of the whole enrollment in samples (the first clip's when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<usize>,
}

/// Everything needed to rebuild a mixture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MixtureMeta {
    /// Task.
    pub task: Task,
    /// Split the clips come from.
    pub split: Split,
    /// Seed of the set.
    pub seed: u64,
    /// Index of the mixture within the set.
    pub index: u64,
    /// Sample rate (16000).
    pub sample_rate: u32,
    /// Samples per channel.
    pub samples: usize,
    /// Which part of each talker's reverberation the targets keep.
    pub target: String,
    /// Head (HRTF) name.
    pub head: String,
    /// Room and listener.
    pub room: RoomMeta,
    /// Talkers, in the order of the `sourceNN.wav` files.
    pub sources: Vec<SourceMeta>,
    /// Noise (enhancement only).
    pub noise: Option<NoiseMeta>,
    /// Enrollment clip (target extraction only).
    pub enrollment: Option<EnrollmentMeta>,
    /// Whether both ears carry one omnidirectional microphone's signal.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub diotic: bool,
    /// Diffuse background under the talkers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background: Option<BackgroundMeta>,
    /// Share of 32 ms frames in which two or more talkers' targets are active.
    #[serde(default)]
    pub double_talk: f64,
    /// The drawing ranges.
    pub config: MixConfig,
}

/// A binaural 16 kHz mixture with its targets.
#[derive(Debug, Clone, PartialEq)]
pub struct Mixture {
    /// The mixture, `[ear][sample]` (0 left, 1 right).
    pub mixture: Vec<Vec<f32>>,
    /// Target images, `[source][ear][sample]`.
    pub sources: Vec<Vec<Vec<f32>>>,
    /// Dry enrollment clip of the target talker (target extraction only).
    pub enrollment: Option<Vec<f32>>,
    /// The manifest.
    pub meta: MixtureMeta,
}

/// Seed of mixture `index` in the set seeded `seed` (SplitMix64 of both).
pub fn mixture_seed(seed: u64, index: u64) -> u64 {
    let mut z = seed ^ index.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn uniform(rng: &mut StdRng, (lo, hi): (f64, f64)) -> f64 {
    if hi > lo {
        rng.random_range(lo..hi)
    } else {
        lo
    }
}

fn power(channels: &[Vec<f32>]) -> f64 {
    let n: usize = channels.iter().map(Vec::len).sum();
    channels
        .iter()
        .flatten()
        .map(|&v| (v as f64) * (v as f64))
        .sum::<f64>()
        / n.max(1) as f64
}

fn scale(channels: &mut [Vec<f32>], g: f64) {
    channels
        .iter_mut()
        .flatten()
        .for_each(|v| *v = (*v as f64 * g) as f32);
}

/// A stretch of `clip` of at most `n` samples, placed in an `n`-sample buffer.
fn place_clip(clip: &Clip, n: usize, rng: &mut StdRng) -> (Vec<f32>, usize, usize, usize) {
    let len = clip.samples.len();
    let mut out = vec![0.0f32; n];
    if len >= n {
        let offset = rng.random_range(0..=len - n);
        clip.samples.copy_to(offset, &mut out);
        (out, offset, 0, n)
    } else {
        let start = rng.random_range(0..=n - len);
        clip.samples.copy_to(0, &mut out[start..start + len]);
        (out, 0, start, len)
    }
}

fn rms(x: &Pcm16) -> f64 {
    (x.iter().map(|v| (v as f64) * (v as f64)).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

/// `n` samples of one talker: the clip `first` followed by random clips of
/// `clips` (never the same one twice in a row when there is a choice), each
/// brought to the RMS level of the first and `gap` samples (a range) after the one
/// before, until `n` samples are covered; a random `n`-sample stretch of that
/// chain starting inside the first clip. Returns it with the pieces that fall
/// inside it, in order, the first clip first.
fn fill_clips(
    pools: &Pools,
    clips: &[usize],
    first: usize,
    n: usize,
    gap: (usize, usize),
    rng: &mut StdRng,
) -> (Vec<f32>, Vec<(usize, Piece)>) {
    let reference = rms(&pools.speech[first].samples).max(1e-9);
    let mut chain: Vec<f32> = Vec::with_capacity(2 * n);
    let mut placed: Vec<(usize, usize, f64)> = Vec::new();
    let mut current = first;
    loop {
        let samples = &pools.speech[current].samples;
        let gain = if placed.is_empty() {
            1.0
        } else {
            (reference / rms(samples).max(1e-9)).clamp(0.1, 10.0)
        };
        placed.push((current, chain.len(), gain));
        chain.extend(samples.iter().map(|v| (v as f64 * gain) as f32));
        if chain.len() >= n {
            break;
        }
        let gap = rng.random_range(gap.0..=gap.1);
        chain.resize(chain.len() + gap, 0.0);
        let mut next = clips[rng.random_range(0..clips.len())];
        while next == current && clips.iter().any(|&c| c != current) {
            next = clips[rng.random_range(0..clips.len())];
        }
        current = next;
    }
    // The stretch starts inside the first clip, so that clip is always heard.
    let first_len = pools.speech[first].samples.len();
    let offset = rng.random_range(0..=(chain.len() - n).min(first_len.saturating_sub(1)));
    let end = offset + n;
    let pieces = placed
        .into_iter()
        .filter_map(|(c, at, gain)| {
            let len = pools.speech[c].samples.len();
            let (from, to) = (at.max(offset), (at + len).min(end));
            (from < to).then(|| {
                let piece = Piece {
                    file: pools.speech[c].id.clone(),
                    clip_offset: from - at,
                    start: from - offset,
                    length: to - from,
                    gain_db: 20.0 * gain.log10(),
                };
                (c, piece)
            })
        })
        .collect();
    (chain[offset..end].to_vec(), pieces)
}

/// Silences a stretch of 25 to 60 % of `dry` at a random place (10 ms
/// raised-cosine fades on both sides); returns its first sample and length.
fn silence(dry: &mut [f32], rng: &mut StdRng) -> (usize, usize) {
    let n = dry.len();
    let len = rng.random_range(n / 4..=n * 3 / 5);
    let start = rng.random_range(0..=n - len);
    let fade = (SAMPLE_RATE as usize / 100).min(len / 2).max(1);
    for (i, v) in dry[start..start + len].iter_mut().enumerate() {
        let edge = i.min(len - 1 - i);
        *v *= if edge < fade {
            0.5 + 0.5 * (std::f32::consts::PI * edge as f32 / fade as f32).cos()
        } else {
            0.0
        };
    }
    (start, len)
}

/// `n` samples of `clip` looped from a random offset.
fn loop_clip(clip: &Clip, n: usize, rng: &mut StdRng) -> (Vec<f32>, usize) {
    let len = clip.samples.len();
    let offset = rng.random_range(0..len);
    (
        (0..n)
            .map(|i| clip.samples.get((offset + i) % len))
            .collect(),
        offset,
    )
}

/// Draws the room and listener.
fn draw_room(rng: &mut StdRng, cfg: &MixConfig) -> Result<(Room, [f64; 3], f64)> {
    let size = [
        rng.random_range(3.0..10.0),
        rng.random_range(3.0..8.0),
        rng.random_range(2.5..4.0),
    ];
    let rt60 = uniform(rng, cfg.rt60);
    let weights: [f64; 6] = std::array::from_fn(|_| rng.random_range(0.6..1.4));
    let room = Room::with_rt60(size, rt60, weights)?;
    let listener = [
        rng.random_range(0.5..size[0] - 0.5),
        rng.random_range(0.5..size[1] - 0.5),
        rng.random_range(1.1..1.8f64.min(size[2] - 0.5)),
    ];
    let yaw = rng.random_range(0.0..std::f64::consts::TAU);
    Ok((room, listener, yaw))
}

/// Draws an emitter position around the listener, at least `min_angle` radians from `others`.
fn draw_position(
    rng: &mut StdRng,
    room: &Room,
    listener: [f64; 3],
    yaw: f64,
    cfg: &MixConfig,
    others: &[[f64; 3]],
) -> [f64; 3] {
    let min_angle = 10f64.to_radians();
    for _ in 0..200 {
        let azimuth = rng.random_range(-std::f64::consts::PI..std::f64::consts::PI) + yaw;
        let elevation = uniform(rng, cfg.elevation_deg).to_radians();
        let d = uniform(rng, cfg.distance);
        let dir = [
            elevation.cos() * azimuth.cos(),
            elevation.cos() * azimuth.sin(),
            elevation.sin(),
        ];
        let p = [
            listener[0] + d * dir[0],
            listener[1] + d * dir[1],
            listener[2] + d * dir[2],
        ];
        let separated = others.iter().all(|o| {
            let v = [o[0] - listener[0], o[1] - listener[1], o[2] - listener[2]];
            let n = v.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
            let cos = (v[0] * dir[0] + v[1] * dir[1] + v[2] * dir[2]) / n;
            cos.clamp(-1.0, 1.0).acos() >= min_angle
        });
        if room.contains(p, 0.3) && separated {
            return p;
        }
    }
    // Fallback: half-way to the room's centre.
    std::array::from_fn(|i| 0.5 * (listener[i] + 0.5 * room.size[i]))
}

fn direction(placement: &Placement) -> Direction {
    let (azimuth_deg, elevation_deg) = placement.azimuth_elevation();
    Direction {
        position: placement.source,
        azimuth_deg,
        elevation_deg,
        distance_m: placement.distance(),
    }
}

/// Renders `dry` through the room: (whole reverberant image, early target image).
fn spatialise(
    dry: &[f32],
    placement: &Placement,
    room: &Room,
    head: &Head,
    cfg: &MixConfig,
    rng: &mut StdRng,
) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let brir = render_brir(room, placement, head, &cfg.render, rng);
    let n = dry.len();
    let full = brir
        .full
        .iter()
        .map(|h| convolve_truncated(dry, h, n))
        .collect();
    let early = brir
        .early
        .iter()
        .map(|h| convolve_truncated(dry, h, n))
        .collect();
    (full, early)
}

/// The clips of one split that a task can use.
#[derive(Debug, Clone)]
pub struct Selection {
    /// Per talker, the indices of its clips in `Pools::speech` (for target
    /// extraction only talkers with two clips or more).
    pub speakers: Vec<Vec<usize>>,
    /// Indices of the split's noise clips in `Pools::noise`.
    pub noise: Vec<usize>,
}

impl Selection {
    /// Groups the split's clips by talker.
    pub fn new(pools: &Pools, task: Task, split: Split) -> Selection {
        let mut by_speaker: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
        for (i, c) in pools.speech.iter().enumerate() {
            if c.split == split.clips() && !c.samples.is_empty() {
                by_speaker.entry(c.speaker.as_str()).or_default().push(i);
            }
        }
        let min_clips = if task == Task::Tse { 2 } else { 1 };
        Selection {
            speakers: by_speaker
                .into_values()
                .filter(|v| v.len() >= min_clips)
                .collect(),
            noise: (0..pools.noise.len())
                .filter(|&i| {
                    pools.noise[i].split == split.clips() && !pools.noise[i].samples.is_empty()
                })
                .collect(),
        }
    }

    /// Checks that the selection can serve `task`.
    pub fn check(&self, task: Task, split: Split) -> Result<()> {
        if self.speakers.len() < task.talkers() {
            return Err(Error::Pool(format!(
                "the {split} split has {} usable talker(s); {task} needs {}{}",
                self.speakers.len(),
                task.talkers(),
                if task == Task::Tse {
                    " with two clips or more each"
                } else {
                    ""
                }
            )));
        }
        if task == Task::Se && self.noise.is_empty() {
            return Err(Error::Pool(format!(
                "the {split} split has no noise; enhancement needs some"
            )));
        }
        Ok(())
    }
}

/// Draws mixture `index` of the set `(task, split, seed)` from the pools.
pub fn draw(
    pools: &Pools,
    selection: &Selection,
    task: Task,
    split: Split,
    seed: u64,
    index: u64,
    cfg: &MixConfig,
) -> Result<Mixture> {
    let mut rng = StdRng::seed_from_u64(mixture_seed(seed, index));
    let n = (cfg.seconds * SAMPLE_RATE as f64).round() as usize;
    if n == 0 {
        return Err(Error::Invalid("mixture length must be positive".into()));
    }
    selection.check(task, split)?;
    pools.check()?;
    let (speakers, noise) = (&selection.speakers, &selection.noise);
    let heads = if split == Split::Ood {
        &pools.bank.held_out
    } else if cfg.head_bank {
        &pools.bank.train
    } else {
        &pools.heads
    };
    let mut head = &heads[rng.random_range(0..heads.len())];
    let (room, listener, yaw) = draw_room(&mut rng, cfg)?;
    let diotic = cfg.diotic_share > 0.0 && rng.random_bool(cfg.diotic_share);
    if diotic {
        head = &pools.bank.omni;
    }
    let dense = cfg.fill && !(cfg.sparse_share > 0.0 && rng.random_bool(cfg.sparse_share));
    let silent_talker = (cfg.silence_share > 0.0 && rng.random_bool(cfg.silence_share))
        .then(|| rng.random_range(0..task.talkers()));

    // Talkers: distinct speakers, drawn with weights growing as the square
    // root of their recorded time (so the few long real recordings are not
    // swamped by many short synthetic voices), then one of their clips.
    let weights: Vec<f64> = speakers
        .iter()
        .map(|clips| {
            let samples: usize = clips.iter().map(|&c| pools.speech[c].samples.len()).sum();
            (samples as f64).sqrt().max(1.0)
        })
        .collect();
    let talker = WeightedIndex::new(&weights)
        .map_err(|e| Error::Pool(format!("cannot weight the talkers: {e}")))?;
    let mut chosen_speakers: Vec<usize> = Vec::new();
    while chosen_speakers.len() < task.talkers() {
        let s = talker.sample(&mut rng);
        if !chosen_speakers.contains(&s) {
            chosen_speakers.push(s);
        }
    }
    let mut positions: Vec<[f64; 3]> = Vec::new();
    let mut images = Vec::new();
    let mut targets = Vec::new();
    let mut metas = Vec::new();
    let mut target_clips = Vec::new();
    for (k, &s) in chosen_speakers.iter().enumerate() {
        let clip_index = speakers[s][rng.random_range(0..speakers[s].len())];
        let clip = &pools.speech[clip_index];
        let speed = (cfg.speed.1 > cfg.speed.0).then(|| uniform(&mut rng, cfg.speed));
        // The target of an extraction keeps its own voice: its enrollment is unperturbed.
        let speed = speed.filter(|_| !(task == Task::Tse && k == 0));
        let m = speed.map_or(n, |f| speed_input_len(n, f));
        let mut used = vec![clip_index];
        let mut more = Vec::new();
        let (dry, clip_offset, start, length) = if dense && clip.samples.len() < m {
            let samples = |t: f64| (t * SAMPLE_RATE as f64).round() as usize;
            let gap = (samples(cfg.fill_gap.0), samples(cfg.fill_gap.1));
            let (dry, pieces) = fill_clips(pools, &speakers[s], clip_index, m, gap, &mut rng);
            used = pieces.iter().map(|p| p.0).collect();
            let mut pieces = pieces.into_iter().map(|p| p.1);
            let head = pieces
                .next()
                .expect("a filled stretch starts in its first clip");
            more.extend(pieces);
            (dry, head.clip_offset, head.start, head.length)
        } else {
            place_clip(clip, m, &mut rng)
        };
        let mut dry = match speed {
            Some(f) => change_speed(&dry, f, n),
            None => dry,
        };
        let silence = (silent_talker == Some(k)).then(|| silence(&mut dry, &mut rng));
        if k == 0 {
            target_clips = used;
        }
        let position = draw_position(&mut rng, &room, listener, yaw, cfg, &positions);
        positions.push(position);
        let placement = Placement {
            source: position,
            listener,
            yaw,
        };
        let (mut full, mut early) = spatialise(&dry, &placement, &room, head, cfg, &mut rng);
        if diotic {
            full[1] = full[0].clone();
            early[1] = early[0].clone();
        }
        targets.push(match cfg.target {
            Target::Early => early,
            Target::Reverberant => full.clone(),
        });
        images.push(full);
        metas.push(SourceMeta {
            file: clip.id.clone(),
            speaker: clip.speaker.clone(),
            clip_offset,
            start,
            length,
            gain_db: 0.0,
            relative_level_db: 0.0,
            direction: direction(&placement),
            more,
            speed,
            silence,
        });
    }

    // Relative levels of the talkers' reverberant images.
    let reference = power(&images[0]);
    let mut gains = vec![1.0f64; images.len()];
    for k in 1..images.len() {
        let level = uniform(&mut rng, cfg.relative_level_db);
        gains[k] =
            (reference.max(1e-20) / power(&images[k]).max(1e-20) * 10f64.powf(level / 10.0)).sqrt();
        metas[k].relative_level_db = level;
    }
    for k in 0..images.len() {
        scale(&mut images[k], gains[k]);
        scale(&mut targets[k], gains[k]);
    }
    let mut mixture = vec![vec![0.0f32; n]; 2];
    for image in &images {
        for ear in 0..2 {
            mixture[ear]
                .iter_mut()
                .zip(&image[ear])
                .for_each(|(m, v)| *m += v);
        }
    }

    // A low diffuse background under the talkers.
    let background = cfg.background_db.map(|range| {
        let (mut ears, tilt) = diffuse_background(head, n, &mut rng);
        if diotic {
            ears[1] = ears[0].clone();
        }
        let level_db = uniform(&mut rng, range);
        let g = (power(&mixture).max(1e-20) / power(&ears).max(1e-20)
            * 10f64.powf(level_db / 10.0))
        .sqrt();
        for (m, b) in mixture.iter_mut().zip(&ears) {
            m.iter_mut()
                .zip(b)
                .for_each(|(m, v)| *m += (*v as f64 * g) as f32);
        }
        BackgroundMeta { level_db, tilt }
    });

    // Noise for enhancement: one to three stretches of a file from different places.
    let mut noise_meta = None;
    let mut noise_image = None;
    if task == Task::Se {
        let clip = &pools.noise[noise[rng.random_range(0..noise.len())]];
        let emitters = rng.random_range(1..=3);
        let mut sum = vec![vec![0.0f32; n]; 2];
        let mut offsets = Vec::new();
        let mut directions = Vec::new();
        for _ in 0..emitters {
            let (dry, offset) = loop_clip(clip, n, &mut rng);
            let position = draw_position(&mut rng, &room, listener, yaw, cfg, &[]);
            let placement = Placement {
                source: position,
                listener,
                yaw,
            };
            let (mut full, _) = spatialise(&dry, &placement, &room, head, cfg, &mut rng);
            if diotic {
                full[1] = full[0].clone();
            }
            for ear in 0..2 {
                sum[ear]
                    .iter_mut()
                    .zip(&full[ear])
                    .for_each(|(m, v)| *m += v);
            }
            offsets.push(offset);
            directions.push(direction(&placement));
        }
        let snr = uniform(&mut rng, cfg.snr_db);
        let g =
            (power(&mixture).max(1e-20) / power(&sum).max(1e-20) / 10f64.powf(snr / 10.0)).sqrt();
        scale(&mut sum, g);
        for ear in 0..2 {
            mixture[ear]
                .iter_mut()
                .zip(&sum[ear])
                .for_each(|(m, v)| *m += v);
        }
        noise_meta = Some(NoiseMeta {
            file: clip.id.clone(),
            clip_offsets: offsets,
            directions,
            snr_db: snr,
            gain_db: 20.0 * g.max(1e-20).log10(),
        });
        noise_image = Some(g);
    }

    // Overall level, keeping the peak below 0.95.
    let level = uniform(&mut rng, cfg.level_dbfs);
    let mut overall = (10f64.powf(level / 10.0) / power(&mixture).max(1e-20)).sqrt();
    let peak = mixture
        .iter()
        .flatten()
        .chain(targets.iter().flatten().flatten())
        .fold(0.0f32, |m, v| m.max(v.abs())) as f64;
    if peak * overall > 0.95 {
        overall = 0.95 / peak;
    }
    scale(&mut mixture, overall);
    for (k, t) in targets.iter_mut().enumerate() {
        scale(t, overall);
        metas[k].gain_db = 20.0 * (gains[k] * overall).max(1e-20).log10();
    }
    if let (Some(meta), Some(g)) = (noise_meta.as_mut(), noise_image) {
        meta.gain_db = 20.0 * (g * overall).max(1e-20).log10();
    }

    // Enrollment: a different utterance of the target talker, dry (one not
    // in a filled target when the talker has one left).
    let mut enrollment = None;
    let mut enrollment_meta = None;
    if task == Task::Tse {
        let talker = &speakers[chosen_speakers[0]];
        let mut others: Vec<usize> = talker
            .iter()
            .copied()
            .filter(|c| !target_clips.contains(c))
            .collect();
        if others.is_empty() {
            others = talker
                .iter()
                .copied()
                .filter(|&c| c != target_clips[0])
                .collect();
        }
        others.shuffle(&mut rng);
        let samples = |s: f64| (s * SAMPLE_RATE as f64).round() as usize;
        let want = samples(uniform(
            &mut rng,
            (cfg.enrollment_min_seconds, cfg.enrollment_seconds),
        ))
        .max(1);
        // The first clip from a random offset when it alone is long enough,
        // then the others from their starts, `fill_gap` apart, in turn.
        let first = &pools.speech[others[0]];
        let len = first.samples.len().min(want);
        let offset = rng.random_range(0..=first.samples.len() - len);
        let mut e = first.samples.to_vec(offset, len);
        let mut more = Vec::new();
        for &c in others.iter().skip(1) {
            let gap = samples(uniform(&mut rng, cfg.fill_gap));
            if e.len() + gap >= want {
                break;
            }
            let clip = &pools.speech[c];
            let take = clip.samples.len().min(want - e.len() - gap);
            e.resize(e.len() + gap, 0.0);
            more.push(Piece {
                file: clip.id.clone(),
                clip_offset: 0,
                start: e.len(),
                length: take,
                gain_db: 0.0,
            });
            e.extend(clip.samples.to_vec(0, take));
        }
        let mut e = vec![e];
        let level = uniform(&mut rng, cfg.level_dbfs);
        let mut g = (10f64.powf(level / 10.0) / power(&e).max(1e-20)).sqrt();
        let peak = e[0].iter().fold(0.0f32, |m, v| m.max(v.abs())) as f64;
        if peak * g > 0.95 {
            g = 0.95 / peak;
        }
        scale(&mut e, g);
        let gain_db = 20.0 * g.max(1e-20).log10();
        more.iter_mut().for_each(|p| p.gain_db = gain_db);
        let total = e[0].len();
        enrollment = e.pop();
        enrollment_meta = Some(EnrollmentMeta {
            file: first.id.clone(),
            speaker: first.speaker.clone(),
            clip_offset: offset,
            length: len,
            gain_db,
            total: (!more.is_empty()).then_some(total),
            more,
        });
    }

    let meta = MixtureMeta {
        task,
        split,
        seed,
        index,
        sample_rate: SAMPLE_RATE,
        samples: n,
        target: match cfg.target {
            Target::Early => format!(
                "direct path + reflections within {} ms of it, through the head",
                (cfg.render.early * 1000.0).round()
            ),
            Target::Reverberant => "the whole reverberant image, through the head".into(),
        },
        head: head.name(),
        room: RoomMeta {
            rt60: room.rt60(),
            room,
            listener,
            yaw_deg: yaw.to_degrees(),
        },
        sources: metas,
        noise: noise_meta,
        enrollment: enrollment_meta,
        diotic,
        background,
        double_talk: double_talk_share(&targets),
        config: *cfg,
    };
    Ok(Mixture {
        mixture,
        sources: targets,
        enrollment,
        meta,
    })
}
