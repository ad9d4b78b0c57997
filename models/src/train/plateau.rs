//! Learning-rate schedule: halve after a number of evaluations without improvement.

use serde::{Deserialize, Serialize};

/// Tracks the best validation score and how long it has stood.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Plateau {
    /// Best score so far (higher is better).
    pub best: Option<f64>,
    /// Evaluations since the best.
    pub stale: usize,
    /// Evaluations without improvement before halving.
    pub patience: usize,
    /// Lowest learning rate.
    pub floor: f64,
}

impl Plateau {
    /// Halve after `patience` evaluations without improvement, never below `floor`.
    pub fn new(patience: usize, floor: f64) -> Self {
        Self {
            best: None,
            stale: 0,
            patience,
            floor,
        }
    }

    /// Records an evaluation; returns the learning rate to use next and whether the score is a new best.
    pub fn observe(&mut self, score: f64, lr: f64) -> (f64, bool) {
        if self.best.is_none_or(|b| score > b) {
            self.best = Some(score);
            self.stale = 0;
            return (lr, true);
        }
        self.stale += 1;
        if self.stale >= self.patience {
            self.stale = 0;
            return ((lr * 0.5).max(self.floor), false);
        }
        (lr, false)
    }
}
