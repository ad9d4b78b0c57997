//! Per-mixture scores: permutation-invariant SI-SDRi, wideband PESQ and STOI.

pub use kb_models::metrics::si_sdr_db as si_sdr;

use super::stoi::stoi;

/// The models' sample rate in Hz.
const RATE: usize = kb_models::SAMPLE_RATE;

/// Wideband PESQ (P.862.2 MOS-LQO) of `degraded` against `reference` at 16 kHz;
/// None when P.862 finds no utterance or the `pesq` crate panics (it does on
/// some signals, see [`quiet_pesq_panics`]). Each signal is scaled to a 0.9
/// full-scale peak for the 16-bit input (P.862 aligns levels itself).
pub fn pesq_wb(reference: &[f32], degraded: &[f32]) -> Option<f64> {
    let pcm = |x: &[f32]| -> Vec<i16> {
        let peak = x.iter().fold(0f32, |m, v| m.max(v.abs()));
        let gain = if peak > 0.0 {
            0.9 * 32767.0 / peak
        } else {
            0.0
        };
        x.iter().map(|v| (v * gain).round() as i16).collect()
    };
    let (r, d) = (pcm(reference), pcm(degraded));
    std::panic::catch_unwind(|| pesq::pesq_wb(&r, &d))
        .ok()?
        .ok()
        .map(f64::from)
}

/// Keeps the default panic report for every panic but those inside the `pesq`
/// crate (an arithmetic overflow in its utterance splitting on some signals),
/// which [`pesq_wb`] turns into an unscored pair.
pub fn quiet_pesq_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let in_pesq = info.location().is_some_and(|l| l.file().contains("/pesq-"));
        if !in_pesq {
            default(info);
        }
    }));
}

/// STOI of `estimate` against `clean` at 16 kHz.
pub fn stoi_16k(clean: &[f32], estimate: &[f32]) -> f64 {
    let wide = |x: &[f32]| -> Vec<f64> { x.iter().map(|v| f64::from(*v)).collect() };
    stoi(&wide(clean), &wide(estimate), RATE)
}

/// Every ordering of `0..n`.
pub fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![Vec::new()];
    }
    let mut all = Vec::new();
    for p in permutations(n - 1) {
        for at in 0..=p.len() {
            let mut q = p.clone();
            q.insert(at, n - 1);
            all.push(q);
        }
    }
    all
}

/// Scores of one model on one mixture, averaged over sources and ears.
#[derive(Debug, Clone, Copy)]
pub struct MixtureScore {
    /// SI-SDR improvement over the mixture in dB.
    pub si_sdri: f64,
    /// Wideband PESQ, None when no pair could be scored.
    pub pesq: Option<f64>,
    /// Source-ear pairs PESQ could not score.
    pub pesq_unscored: usize,
    /// STOI.
    pub stoi: f64,
}

/// Scores `estimates` [source][ear][t] against `sources` [source][ear][t] of
/// `mixture` [ear][t]: estimates are matched to sources by the ordering with
/// the best mean SI-SDR; PESQ and STOI use that ordering.
pub fn score(
    estimates: &[Vec<Vec<f32>>],
    sources: &[Vec<Vec<f32>>],
    mixture: &[Vec<f32>],
) -> MixtureScore {
    let pairs = |perm: &[usize]| -> Vec<(&[f32], &[f32], &[f32])> {
        sources
            .iter()
            .enumerate()
            .flat_map(|(s, src)| {
                (0..src.len()).map(move |e| {
                    (
                        estimates[perm[s]][e].as_slice(),
                        src[e].as_slice(),
                        mixture[e].as_slice(),
                    )
                })
            })
            .collect()
    };
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let best = permutations(sources.len())
        .into_iter()
        .map(|p| {
            let gains: Vec<f64> = pairs(&p)
                .iter()
                .map(|(est, src, mix)| si_sdr(est, src) - si_sdr(mix, src))
                .collect();
            (mean(&gains), p)
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .expect("at least one ordering");
    let chosen = pairs(&best.1);
    let pesq: Vec<f64> = chosen
        .iter()
        .filter_map(|(est, src, _)| pesq_wb(src, est))
        .collect();
    let stoi: Vec<f64> = chosen
        .iter()
        .map(|(est, src, _)| stoi_16k(src, est))
        .collect();
    MixtureScore {
        si_sdri: best.0,
        pesq_unscored: chosen.len() - pesq.len(),
        pesq: (!pesq.is_empty()).then(|| mean(&pesq)),
        stoi: mean(&stoi),
    }
}
