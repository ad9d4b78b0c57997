//! Adam with gradient-norm clipping and a state that checkpoints.

use std::collections::{BTreeMap, HashMap};

use candle_core::{backprop::GradStore, Tensor, Var};

use crate::error::Result;

/// Adam's first and second moments per variable, and its step count.
#[derive(Debug, Clone)]
pub struct Adam {
    /// Learning rate.
    pub lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    /// Updates made so far (for bias correction).
    pub t: u64,
    /// (m, v) by variable name.
    pub moments: BTreeMap<String, (Tensor, Tensor)>,
}

impl Adam {
    /// Adam with PyTorch's defaults (betas 0.9, 0.999, eps 1e-8) and learning rate `lr`.
    pub fn new(lr: f64) -> Self {
        Self {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            t: 0,
            moments: BTreeMap::new(),
        }
    }

    /// Global L2 norm of the gradients of `vars`.
    pub fn grad_norm(vars: &HashMap<String, Var>, grads: &GradStore) -> Result<f64> {
        let mut sq = 0f64;
        for var in vars.values() {
            if let Some(g) = grads.get(var.as_tensor()) {
                sq += g.sqr()?.sum_all()?.to_scalar::<f32>()? as f64;
            }
        }
        Ok(sq.sqrt())
    }

    /// One update of every variable with a gradient at learning rate `lr`
    /// times `warm` (the warm-up factor), after scaling the gradients so their
    /// global norm is at most `clip`. Returns the norm before clipping.
    pub fn step(
        &mut self,
        vars: &HashMap<String, Var>,
        grads: &GradStore,
        (warm, clip): (f64, f64),
    ) -> Result<f64> {
        let norm = Self::grad_norm(vars, grads)?;
        let scale = if norm > clip {
            clip / (norm + 1e-6)
        } else {
            1.0
        };
        self.t += 1;
        let (b1, b2) = (self.beta1, self.beta2);
        let c1 = 1.0 - b1.powi(self.t as i32);
        let c2 = 1.0 - b2.powi(self.t as i32);
        let mut names: Vec<&String> = vars.keys().collect();
        names.sort();
        for name in names {
            let var = &vars[name];
            let Some(g) = grads.get(var.as_tensor()) else {
                continue;
            };
            // Gradients can carry the graph of the step that made them; the
            // moments outlive the step, so they must hold plain values.
            let g = (g.detach() * scale)?;
            let (m, v) = match self.moments.get(name) {
                Some((m, v)) => (m.clone(), v.clone()),
                None => (g.zeros_like()?, g.zeros_like()?),
            };
            let m = ((m * b1)? + (&g * (1.0 - b1))?)?;
            let v = ((v * b2)? + (g.sqr()? * (1.0 - b2))?)?;
            let update = ((&m / c1)? / ((&v / c2)?.sqrt()? + self.eps)?)?;
            var.set(&(var.as_tensor() - (update * (self.lr * warm))?)?)?;
            self.moments.insert(name.clone(), (m.detach(), v.detach()));
        }
        Ok(norm)
    }
}
