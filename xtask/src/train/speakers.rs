//! Speaker embeddings for target-extraction training. Validation mixtures
//! get the exact d-vector of their own enrollment
//! ([`crate::speaker::enrollment_embeddings`]). Training draws from a
//! bank: per training talker, d-vectors of enrollments chained from its
//! clips as the renderer chains them, built once per data cache (embedding
//! every training mixture's enrollment would cost several times the small
//! model's step).

use std::{collections::BTreeMap, path::Path, time::Instant};

use indicatif::{ProgressBar, ProgressStyle};
use kb_data::{Clip, Mixture, Pools, SamplerConfig, Split};
use kb_speaker::{EMBEDDING, SAMPLE_RATE};
use rand::{rngs::StdRng, seq::SliceRandom, Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// The bank's file in the data cache.
pub const BANK_FILE: &str = "speaker_bank.json";

/// Enrollments embedded per training talker.
pub const PER_TALKER: usize = 16;

/// The training talkers' d-vectors.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct SpeakerBank {
    /// Enrollment lengths drawn from, seconds.
    seconds: (f64, f64),
    /// Gaps between chained clips, seconds.
    gap: (f64, f64),
    /// Embeddings per talker.
    per_talker: usize,
    /// Talker name to its embeddings.
    talkers: BTreeMap<String, Vec<Vec<f32>>>,
}

impl SpeakerBank {
    /// The bank of `pools`' training talkers for enrollments drawn as `cfg`
    /// says: read from `cache` when it was built for the same talkers and
    /// draws, else built (minutes) and written there.
    pub fn load_or_build(cache: &Path, pools: &Pools, cfg: &SamplerConfig) -> Result<Self, String> {
        let path = cache.join(BANK_FILE);
        let talkers = training_talkers(pools);
        let seconds = (cfg.enrollment_min_seconds, cfg.enrollment_seconds);
        if let Ok(text) = std::fs::read_to_string(&path) {
            if let Ok(bank) = serde_json::from_str::<Self>(&text) {
                let same_talkers = bank.talkers.keys().eq(talkers.keys());
                if same_talkers
                    && bank.seconds == seconds
                    && bank.gap == cfg.fill_gap
                    && bank.per_talker == PER_TALKER
                {
                    return Ok(bank);
                }
            }
        }
        let bank = Self::build(talkers, seconds, cfg.fill_gap)?;
        let text = serde_json::to_string(&bank).map_err(|e| e.to_string())?;
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(bank)
    }

    fn build(
        talkers: BTreeMap<String, Vec<&Clip>>,
        seconds: (f64, f64),
        gap: (f64, f64),
    ) -> Result<Self, String> {
        let mut encoder = crate::speaker::encoder(seconds.1 + 1.0)?;
        let bar = ProgressBar::new((talkers.len() * PER_TALKER) as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} enrollments embedded  eta {eta}")
                .map_err(|e| e.to_string())?,
        );
        let start = Instant::now();
        let mut out = BTreeMap::new();
        for (t, (name, clips)) in talkers.into_iter().enumerate() {
            let mut rng = StdRng::seed_from_u64(0x5eed_0000 + t as u64);
            let mut embeddings = Vec::with_capacity(PER_TALKER);
            for _ in 0..PER_TALKER {
                let wav = chained(&clips, seconds, gap, &mut rng);
                match encoder.embed(&wav) {
                    Ok(e) => embeddings.push(e.to_vec()),
                    Err(e) => bar.println(format!("{name}: skipped an enrollment: {e}")),
                }
                bar.inc(1);
            }
            if embeddings.is_empty() {
                return Err(format!("no enrollment of talker {name} could be embedded"));
            }
            out.insert(name, embeddings);
        }
        bar.finish_and_clear();
        println!(
            "speaker bank: {} talkers x {PER_TALKER} enrollments embedded in {:.0} s",
            out.len(),
            start.elapsed().as_secs_f64()
        );
        Ok(Self {
            seconds,
            gap,
            per_talker: PER_TALKER,
            talkers: out,
        })
    }

    /// Embedding `pick` (any number: taken modulo the talker's count) of `talker`.
    pub fn embedding(&self, talker: &str, pick: u64) -> Result<&[f32], String> {
        let all = self
            .talkers
            .get(talker)
            .ok_or_else(|| format!("talker {talker} is not in the speaker bank"))?;
        Ok(&all[(pick % all.len() as u64) as usize])
    }

    /// The embeddings of `mixtures` (numbered from `first`), each its
    /// target's (the first talker's), drawn by `seed` and number: flat [B, E].
    pub fn batch(
        &self,
        mixtures: &[Mixture],
        (seed, first): (u64, u64),
    ) -> Result<Vec<f32>, String> {
        let mut out = Vec::with_capacity(mixtures.len() * EMBEDDING);
        for (i, m) in mixtures.iter().enumerate() {
            let talker = &m.meta.sources[0].speaker;
            let pick = splitmix(seed ^ splitmix(first + i as u64));
            out.extend_from_slice(self.embedding(talker, pick)?);
        }
        Ok(out)
    }
}

/// The training split's talkers and their clips, by name.
fn training_talkers(pools: &Pools) -> BTreeMap<String, Vec<&Clip>> {
    let mut talkers: BTreeMap<String, Vec<&Clip>> = BTreeMap::new();
    for clip in &pools.speech {
        if clip.split == Split::Train && !clip.samples.is_empty() {
            talkers.entry(clip.speaker.clone()).or_default().push(clip);
        }
    }
    talkers
}

/// An enrollment as the renderer chains one: a length drawn from `seconds`,
/// the talker's shuffled clips in turn, `gap` seconds apart, the first from
/// a random offset when it alone is long enough.
fn chained(clips: &[&Clip], seconds: (f64, f64), gap: (f64, f64), rng: &mut StdRng) -> Vec<f32> {
    let samples = |s: f64| (s * SAMPLE_RATE as f64).round() as usize;
    let want = samples(rng.random_range(seconds.0..=seconds.1)).max(1);
    let mut order: Vec<&Clip> = clips.to_vec();
    order.shuffle(rng);
    let first = &order[0].samples;
    let len = first.len().min(want);
    let offset = rng.random_range(0..=first.len() - len);
    let mut wav = first.to_vec(offset, len);
    for clip in &order[1..] {
        let pause = samples(rng.random_range(gap.0..=gap.1));
        if wav.len() + pause >= want {
            break;
        }
        let take = clip.samples.len().min(want - wav.len() - pause);
        wav.resize(wav.len() + pause, 0.0);
        wav.extend(clip.samples.to_vec(0, take));
    }
    wav
}

/// SplitMix64: a well-mixed number from any seed.
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
