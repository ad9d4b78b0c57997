//! SI-SDR, SNR and the training losses with their gradients, on plain
//! samples (reductions in f64; the same formulas and epsilon as
//! [`crate::metrics::si_sdr`] and [`crate::metrics::snr`]).

use crate::metrics::Objective;

/// Guards the logarithms and the projection, as in the candle metric.
const EPS: f64 = 1e-8;
/// dB per natural-log unit of a power ratio.
const DB: f64 = 10.0 / std::f64::consts::LN_10;

/// SI-SDR in dB of `e` against `t`; when `grad` is given, adds `scale` times its gradient in `e`.
pub fn si_sdr(e: &[f32], t: &[f32], grad: Option<&mut [f32]>, scale: f64) -> f64 {
    let (mut et, mut tt) = (0f64, 0f64);
    for (a, b) in e.iter().zip(t) {
        et += f64::from(*a) * f64::from(*b);
        tt += f64::from(*b) * f64::from(*b);
    }
    let ttp = tt + EPS;
    let alpha = et / ttp;
    let signal = alpha * alpha * tt;
    let (mut noise, mut rt) = (0f64, 0f64);
    for (a, b) in e.iter().zip(t) {
        let r = f64::from(*a) - alpha * f64::from(*b);
        noise += r * r;
        rt += r * f64::from(*b);
    }
    let sdr = DB * ((signal + EPS).ln() - (noise + EPS).ln());
    if let Some(grad) = grad {
        // d signal / de = 2 alpha tt t / ttp; d noise / de = 2 r - 2 (r.t) t / ttp.
        let cs = scale * DB / (signal + EPS);
        let cn = scale * DB / (noise + EPS);
        let kt = cs * 2.0 * alpha * tt / ttp + cn * 2.0 * rt / ttp;
        for ((g, a), b) in grad.iter_mut().zip(e).zip(t) {
            let r = f64::from(*a) - alpha * f64::from(*b);
            *g += (kt * f64::from(*b) - cn * 2.0 * r) as f32;
        }
    }
    sdr
}

/// SNR in dB of `e` against `t`; when `grad` is given, adds `scale` times its gradient in `e`.
pub fn snr(e: &[f32], t: &[f32], grad: Option<&mut [f32]>, scale: f64) -> f64 {
    let (mut tt, mut noise) = (0f64, 0f64);
    for (a, b) in e.iter().zip(t) {
        let r = f64::from(*a) - f64::from(*b);
        tt += f64::from(*b) * f64::from(*b);
        noise += r * r;
    }
    if let Some(grad) = grad {
        // d/de of -DB ln(noise): only the noise term depends on e.
        let c = -scale * DB * 2.0 / (noise + EPS);
        for ((g, a), b) in grad.iter_mut().zip(e).zip(t) {
            *g += (c * (f64::from(*a) - f64::from(*b))) as f32;
        }
    }
    DB * ((tt + EPS).ln() - (noise + EPS).ln())
}

/// The measure `objective` names, with its gradient as [`si_sdr`] and [`snr`] give it.
fn measure(
    objective: Objective,
    e: &[f32],
    t: &[f32],
    grad: Option<&mut [f32]>,
    scale: f64,
) -> f64 {
    match objective {
        Objective::SiSdr => si_sdr(e, t, grad, scale),
        Objective::Snr => snr(e, t, grad, scale),
    }
}

/// Loss of one example: `est` and `tgt` hold `sources` blocks of `per` samples
/// (each block an ear of a source, `ears` per source). Two sources take the
/// better assignment (permutation-invariant) unless `fixed` holds them in
/// the targets' order. Returns the negative mean of `objective` for that
/// assignment and whether it swapped the sources; adds `scale` times the
/// loss gradient to `grad`.
#[allow(clippy::too_many_arguments)]
pub fn example_loss(
    objective: Objective,
    est: &[f32],
    tgt: &[f32],
    (sources, ears, per): (usize, usize, usize),
    fixed: bool,
    grad: &mut [f32],
    scale: f64,
) -> (f64, bool) {
    let block = |s: usize, m: usize| -> std::ops::Range<usize> {
        let o = (s * ears + m) * per;
        o..o + per
    };
    let n = (sources * ears) as f64;
    let score = |perm: &dyn Fn(usize) -> usize| -> f64 {
        let mut sum = 0.0;
        for s in 0..sources {
            for m in 0..ears {
                let (re, rt) = (block(s, m), block(perm(s), m));
                sum += measure(objective, &est[re], &tgt[rt], None, 0.0);
            }
        }
        sum / n
    };
    let straight = score(&|s| s);
    let swap = sources == 2 && !fixed && score(&|s| 1 - s) > straight;
    let perm = |s: usize| if swap { 1 - s } else { s };
    let mut sum = 0.0;
    for s in 0..sources {
        for m in 0..ears {
            let (re, rt) = (block(s, m), block(perm(s), m));
            sum += measure(
                objective,
                &est[re.clone()],
                &tgt[rt],
                Some(&mut grad[re]),
                -scale / n,
            );
        }
    }
    (-sum / n, swap)
}
