//! Many heads from few: drawn parametric heads, perturbed copies of the
//! measured ones and an omnidirectional microphone, grouped into the heads
//! that training may use and the heads kept for the out-of-domain test.

pub mod ear_filter;
pub mod omni;
pub mod parametric;
pub mod perturbed;

use std::sync::Arc;

pub use omni::OmniMic;
pub use parametric::ParametricHead;
pub use perturbed::PerturbedHead;

use crate::hrtf::Head;

/// Perturbed copies of the first measured head that training uses.
pub const TRAIN_PERTURBED: u64 = 5;
/// Drawn parametric heads that training uses.
pub const TRAIN_PARAMETRIC: u64 = 6;
/// Seeds of the perturbed copies kept out of training.
pub const HELD_OUT_PERTURBED: [u64; 1] = [901];
/// Seeds of the parametric heads kept out of training.
pub const HELD_OUT_PARAMETRIC: [u64; 2] = [902, 903];

/// The heads of the wide training world and the held-out ones.
#[derive(Clone)]
pub struct HeadBank {
    /// Heads for training, validation and the in-domain test: the measured heads,
    /// their perturbed copies and drawn parametric heads.
    pub train: Vec<Arc<Head>>,
    /// Heads only the out-of-domain split uses.
    pub held_out: Vec<Arc<Head>>,
    /// The omnidirectional microphone of diotic mixtures.
    pub omni: Arc<Head>,
}

impl HeadBank {
    /// The bank built around `measured` (the narrow world's heads; the first
    /// one is the base of the perturbed copies), with more measured heads for
    /// the wide world (`wide`) and for the held-out group (`held_out`).
    pub fn around(measured: &[Arc<Head>], wide: &[Arc<Head>], held_out: &[Arc<Head>]) -> HeadBank {
        let base = measured
            .first()
            .cloned()
            .unwrap_or_else(|| Arc::new(Head::spherical()));
        let perturbed = |seed: u64| Arc::new(Head::new(PerturbedHead::draw(base.clone(), seed)));
        let parametric = |seed: u64| Arc::new(Head::new(ParametricHead::draw(seed)));
        let mut train = measured.to_vec();
        train.extend(wide.iter().cloned());
        train.extend((1..=TRAIN_PERTURBED).map(perturbed));
        train.extend((101..101 + TRAIN_PARAMETRIC).map(parametric));
        let mut kept = held_out.to_vec();
        kept.extend(HELD_OUT_PERTURBED.into_iter().map(perturbed));
        kept.extend(HELD_OUT_PARAMETRIC.into_iter().map(parametric));
        HeadBank {
            train,
            held_out: kept,
            omni: Arc::new(Head::new(OmniMic)),
        }
    }
}
