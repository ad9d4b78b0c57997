//! `cargo xtask speaker`: how well the speaker encoder tells the corpus's
//! talkers apart: enrollments chained from each talker's clips, every pair
//! scored by cosine similarity, the equal error rate of same/different pairs.

use std::{path::PathBuf, time::Instant};

use kb_data::{fetch::default_cache, index::INDEX_FILE, Mixture, Pools, Split, Task};
use kb_speaker::{similarity, Embedding, EncoderWeights, SpeakerEncoder, EMBEDDING, SAMPLE_RATE};

const _: () = assert!(kb_models::SPEAKER_DIM == EMBEDDING);

/// The speaker encoder's weights, as `cargo xtask import --resemblyzer` writes them.
pub const ENCODER: &str = "assets/speaker_encoder.safetensors";

/// Loads the encoder from [`ENCODER`] in the checkout, sized for enrollments up to `seconds`.
pub fn encoder(seconds: f64) -> Result<SpeakerEncoder, String> {
    let weights = EncoderWeights::load(&kb_e2e::workspace_root().join(ENCODER)).map_err(|e| {
        format!("target extraction needs the speaker encoder {ENCODER} ({e}); see docs/extract.md")
    })?;
    Ok(SpeakerEncoder::new(weights, seconds))
}

/// The exact embedding of each mixture's enrollment, flat [B, E], by an
/// encoder sized for the longest.
pub fn enrollment_embeddings(mixtures: &[Mixture]) -> Result<Vec<f32>, String> {
    let longest = mixtures
        .iter()
        .filter_map(|m| m.enrollment.as_ref().map(Vec::len))
        .max()
        .unwrap_or(0);
    let mut encoder = encoder((longest as f64 / SAMPLE_RATE as f64).max(1.0))?;
    let mut out = Vec::with_capacity(mixtures.len() * EMBEDDING);
    for (i, m) in mixtures.iter().enumerate() {
        let wav = m
            .enrollment
            .as_ref()
            .ok_or_else(|| format!("mixture {i} has no enrollment"))?;
        let e = encoder
            .embed(wav)
            .map_err(|e| format!("mixture {i}: cannot embed its enrollment: {e}"))?;
        out.extend_from_slice(&e);
    }
    Ok(out)
}
use rand::{rngs::StdRng, seq::SliceRandom, SeedableRng};

/// Arguments of `speaker`.
#[derive(clap::Args)]
pub struct Args {
    /// The encoder (from `cargo xtask import --resemblyzer`).
    #[arg(long, default_value = ENCODER)]
    weights: PathBuf,
    /// Data cache (default: $KB_DATA_CACHE, else the platform cache folder).
    #[arg(long)]
    cache: Option<PathBuf>,
    /// Split whose talkers to compare.
    #[arg(long, default_value = "test")]
    split: Split,
    /// Enrollments per talker, from disjoint clips where the talker has enough.
    #[arg(long, default_value_t = 6)]
    per_talker: usize,
    /// Length of an enrollment in seconds (clips chained 0.1 s apart; at most 10).
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Seed of the clip order.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// One talker's enrollments, chained from its shuffled clips.
fn enrollments(pools: &Pools, talker: &str, args: &Args, rng: &mut StdRng) -> Vec<Vec<f32>> {
    let mut clips: Vec<&kb_data::Clip> = pools
        .speech
        .iter()
        .filter(|c| c.speaker == talker && !c.samples.is_empty())
        .collect();
    clips.shuffle(rng);
    let target = (args.seconds.min(10.0) * SAMPLE_RATE as f64) as usize;
    let gap = SAMPLE_RATE / 10;
    let mut out = Vec::new();
    let mut next = clips.iter().cycle().take(clips.len() * 4);
    for _ in 0..args.per_talker {
        let mut wav = Vec::with_capacity(target);
        while wav.len() < target {
            let Some(clip) = next.next() else { break };
            let n = clip.samples.len().min(target - wav.len());
            wav.extend(clip.samples.to_vec(0, n));
            wav.extend(std::iter::repeat_n(0.0, gap.min(target - wav.len())));
        }
        if wav.len() >= target / 2 {
            out.push(wav);
        }
    }
    out
}

/// Equal error rate of `same` and `different` scores: where the share of
/// same-talker pairs below a threshold meets the share of different-talker
/// pairs at or above it.
pub fn equal_error_rate(same: &[f32], different: &[f32]) -> f64 {
    let mut thresholds: Vec<f32> = same.iter().chain(different).copied().collect();
    thresholds.sort_by(f32::total_cmp);
    let mut best = (f64::INFINITY, 0.0);
    for t in thresholds {
        let miss = same.iter().filter(|s| **s < t).count() as f64 / same.len() as f64;
        let false_accept =
            different.iter().filter(|s| **s >= t).count() as f64 / different.len() as f64;
        let gap = (miss - false_accept).abs();
        if gap < best.0 {
            best = (gap, 0.5 * (miss + false_accept));
        }
    }
    best.1
}

/// Embeds every enrollment and prints the equal error rate.
pub fn run(args: &Args) -> Result<(), String> {
    let cache = args.cache.clone().unwrap_or_else(default_cache);
    let pools = Pools::load(&cache.join(INDEX_FILE), Task::Tse, &[args.split], &[])
        .map_err(|e| format!("cannot load the data cache {}: {e}", cache.display()))?;
    let weights = EncoderWeights::load(&args.weights).map_err(|e| e.to_string())?;
    let mut encoder = SpeakerEncoder::new(weights, 10.0);
    let mut talkers: Vec<String> = pools.speech.iter().map(|c| c.speaker.clone()).collect();
    talkers.sort();
    talkers.dedup();
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut embedded: Vec<(usize, Embedding)> = Vec::new();
    let (start, mut audio) = (Instant::now(), 0usize);
    for (t, talker) in talkers.iter().enumerate() {
        for wav in enrollments(&pools, talker, args, &mut rng) {
            audio += wav.len();
            match encoder.embed(&wav) {
                Ok(e) => embedded.push((t, e)),
                Err(e) => eprintln!("{talker}: skipped an enrollment: {e}"),
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let (mut same, mut different) = (Vec::new(), Vec::new());
    for (i, (ta, a)) in embedded.iter().enumerate() {
        for (tb, b) in &embedded[i + 1..] {
            let s = similarity(a, b);
            if ta == tb {
                same.push(s)
            } else {
                different.push(s)
            }
        }
    }
    if same.is_empty() || different.is_empty() {
        return Err("too few enrollments to form same and different pairs".into());
    }
    let mean = |v: &[f32]| v.iter().map(|x| *x as f64).sum::<f64>() / v.len() as f64;
    println!(
        "{} talkers of the {:?} split, {} enrollments of {:.1} s, {} same-talker and {} different-talker pairs",
        talkers.len(),
        args.split,
        embedded.len(),
        args.seconds,
        same.len(),
        different.len()
    );
    println!(
        "mean cosine similarity: same {:.3}, different {:.3}",
        mean(&same),
        mean(&different)
    );
    println!(
        "equal error rate: {:.1} %",
        100.0 * equal_error_rate(&same, &different)
    );
    println!(
        "encoder speed: {:.1} s of audio per second on one thread",
        audio as f64 / SAMPLE_RATE as f64 / elapsed
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separated_scores_have_no_error_and_identical_ones_half() {
        assert_eq!(equal_error_rate(&[0.9, 0.8], &[0.1, 0.2, 0.3]), 0.0);
        assert_eq!(equal_error_rate(&[0.5, 0.5], &[0.5, 0.5]), 0.5);
        // One same-talker pair below every different-talker pair: 1 miss in 4
        // against 1 false accept in 4 at the threshold between them.
        let e = equal_error_rate(&[0.9, 0.8, 0.7, 0.1], &[0.2, 0.3, 0.4, 0.75]);
        assert!((e - 0.25).abs() < 1e-12, "{e}");
    }
}
