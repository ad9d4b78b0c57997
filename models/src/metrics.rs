//! Scale-invariant signal-to-distortion metrics and the training losses built on them.
//!
//! All functions take waveforms with time on the last axis and reduce over it;
//! they are candle ops, so the losses differentiate.

use candle_core::{Tensor, D};

use crate::error::{Error, Result};

/// Guards the logarithms and the projection against silent signals.
const EPS: f64 = 1e-8;

fn dot(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    Ok((a * b)?.sum_keepdim(D::Minus1)?)
}

/// SI-SDR in dB of `estimate` against `target` (no mean removal), reduced over the last axis.
pub fn si_sdr(estimate: &Tensor, target: &Tensor) -> Result<Tensor> {
    if estimate.dims() != target.dims() {
        return Err(Error::Input(format!(
            "estimate {:?} and target {:?} differ in shape",
            estimate.dims(),
            target.dims()
        )));
    }
    let alpha = (dot(estimate, target)? / (dot(target, target)? + EPS)?)?;
    let projection = target.broadcast_mul(&alpha)?;
    let noise = (estimate - &projection)?;
    let ratio =
        ((projection.sqr()?.sum(D::Minus1)? + EPS)? / (noise.sqr()?.sum(D::Minus1)? + EPS)?)?;
    Ok((ratio.log()? * (10.0 / std::f64::consts::LN_10))?)
}

/// SI-SDR in dB of `estimate` against `target` on plain samples, in f64 (no mean removal).
pub fn si_sdr_db(estimate: &[f32], target: &[f32]) -> f64 {
    let dot: f64 = estimate
        .iter()
        .zip(target)
        .map(|(e, t)| f64::from(*e) * f64::from(*t))
        .sum();
    let energy: f64 = target.iter().map(|t| f64::from(*t).powi(2)).sum();
    let alpha = dot / (energy + 1e-12);
    let (mut signal, mut noise) = (0.0, 0.0);
    for (e, t) in estimate.iter().zip(target) {
        let s = alpha * f64::from(*t);
        signal += s * s;
        noise += (f64::from(*e) - s).powi(2);
    }
    10.0 * ((signal + 1e-12) / (noise + 1e-12)).log10()
}

/// SI-SNR in dB: SI-SDR after removing each signal's mean.
pub fn si_snr(estimate: &Tensor, target: &Tensor) -> Result<Tensor> {
    let centre =
        |x: &Tensor| -> Result<Tensor> { Ok(x.broadcast_sub(&x.mean_keepdim(D::Minus1)?)?) };
    si_sdr(&centre(estimate)?, &centre(target)?)
}

/// SI-SDR improvement in dB: SI-SDR of `estimate` minus SI-SDR of `mixture`, both against `target`.
pub fn si_sdr_improvement(estimate: &Tensor, target: &Tensor, mixture: &Tensor) -> Result<Tensor> {
    Ok((si_sdr(estimate, target)? - si_sdr(mixture, target)?)?)
}

/// Negative SI-SDR averaged over every axis but time: the single-source training loss.
pub fn neg_si_sdr_loss(estimate: &Tensor, target: &Tensor) -> Result<Tensor> {
    Objective::SiSdr.neg_loss(estimate, target)
}

/// SNR in dB of `estimate` against `target` (not scale-invariant: the level
/// and so the interaural level difference count), reduced over the last axis.
pub fn snr(estimate: &Tensor, target: &Tensor) -> Result<Tensor> {
    if estimate.dims() != target.dims() {
        return Err(Error::Input(format!(
            "estimate {:?} and target {:?} differ in shape",
            estimate.dims(),
            target.dims()
        )));
    }
    let noise = (estimate - target)?;
    let ratio = ((target.sqr()?.sum(D::Minus1)? + EPS)? / (noise.sqr()?.sum(D::Minus1)? + EPS)?)?;
    Ok((ratio.log()? * (10.0 / std::f64::consts::LN_10))?)
}

/// What a training loss maximises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// Scale-invariant SDR (the paper's).
    #[default]
    SiSdr,
    /// SNR: keeps the output level, and with it the interaural level difference.
    Snr,
}

impl std::str::FromStr for Objective {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "si-sdr" | "si_sdr" => Ok(Self::SiSdr),
            "snr" => Ok(Self::Snr),
            other => Err(format!("loss `{other}`: choose `si-sdr` or `snr`")),
        }
    }
}

impl Objective {
    /// The measure in dB, reduced over the last axis.
    pub fn measure(self, estimate: &Tensor, target: &Tensor) -> Result<Tensor> {
        match self {
            Self::SiSdr => si_sdr(estimate, target),
            Self::Snr => snr(estimate, target),
        }
    }

    /// The negative measure averaged over every axis but time: the single-source loss.
    pub fn neg_loss(self, estimate: &Tensor, target: &Tensor) -> Result<Tensor> {
        Ok(self.measure(estimate, target)?.mean_all()?.neg()?)
    }
}

/// Permutation-invariant loss for two sources: `estimate` and `target` are
/// [B, 2, ...]; each example takes the better of the two assignments (SI-SDR
/// averaged over sources and channels). Returns the loss and, per example,
/// whether the swapped assignment was chosen.
pub fn pit_si_sdr_loss(estimate: &Tensor, target: &Tensor) -> Result<(Tensor, Vec<bool>)> {
    pit_loss(Objective::SiSdr, estimate, target, &[])
}

/// [`pit_si_sdr_loss`] for any objective; the examples marked in `fixed`
/// (empty: none) keep the targets' order instead of the better assignment.
pub fn pit_loss(
    objective: Objective,
    estimate: &Tensor,
    target: &Tensor,
    fixed: &[bool],
) -> Result<(Tensor, Vec<bool>)> {
    let b = estimate.dim(0)?;
    if !fixed.is_empty() && fixed.len() != b {
        return Err(Error::Input(format!(
            "{} fixed-order flags for a batch of {b}",
            fixed.len()
        )));
    }
    let is_fixed = |i: usize| fixed.get(i).copied().unwrap_or(false);
    if estimate.dim(1)? != 2 || target.dim(1)? != 2 {
        return Err(Error::Input(
            "the permutation-invariant loss needs two sources on axis 1".into(),
        ));
    }
    let per_example = |e: &Tensor, t: &Tensor| -> Result<Tensor> {
        Ok(objective.measure(e, t)?.reshape((b, ()))?.mean(1)?)
    };
    let swapped_target = Tensor::cat(&[target.narrow(1, 1, 1)?, target.narrow(1, 0, 1)?], 1)?;
    let straight = per_example(estimate, target)?;
    let swapped = per_example(estimate, &swapped_target)?;
    let choose_swap: Vec<bool> = straight
        .to_vec1::<f32>()?
        .iter()
        .zip(swapped.to_vec1::<f32>()?)
        .enumerate()
        .map(|(i, (s, w))| !is_fixed(i) && w > *s)
        .collect();
    let choice: Vec<f32> = choose_swap
        .iter()
        .map(|&w| f32::from(u8::from(w)))
        .collect();
    let choice = Tensor::from_vec(choice, b, estimate.device())?;
    // straight + choice * (swapped - straight): the chosen assignment's score.
    let best = (&straight + (&swapped - &straight)?.mul(&choice)?)?;
    Ok((best.mean_all()?.neg()?, choose_swap))
}
