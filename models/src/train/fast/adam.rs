//! Adam with gradient-norm clipping on flat buffers (the update of [`crate::train::adam::Adam`]).

/// Adam's moments over a flat parameter buffer.
#[derive(Debug, Clone)]
pub struct FlatAdam {
    beta1: f32,
    beta2: f32,
    eps: f32,
    /// First moments.
    pub m: Vec<f32>,
    /// Second moments.
    pub v: Vec<f32>,
}

impl FlatAdam {
    /// Zero moments for `n` parameters, PyTorch's betas (0.9, 0.999) and eps 1e-8.
    pub fn new(n: usize) -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            m: vec![0.0; n],
            v: vec![0.0; n],
        }
    }

    /// Global L2 norm of `grads`.
    pub fn grad_norm(grads: &[f32]) -> f64 {
        grads
            .iter()
            .map(|g| f64::from(*g).powi(2))
            .sum::<f64>()
            .sqrt()
    }

    /// Update number `t` (from 1) of `params` with learning rate `lr`, after
    /// scaling `grads` so their norm is at most `clip`. Returns the norm before clipping.
    pub fn step(
        &mut self,
        params: &mut [f32],
        grads: &[f32],
        (lr, t, clip): (f64, u64, f64),
    ) -> f64 {
        let norm = Self::grad_norm(grads);
        let scale = if norm > clip {
            clip / (norm + 1e-6)
        } else {
            1.0
        } as f32;
        let (b1, b2) = (self.beta1, self.beta2);
        let c1 = (1.0 - f64::from(b1).powi(t as i32)) as f32;
        let c2 = (1.0 - f64::from(b2).powi(t as i32)) as f32;
        let lr = lr as f32;
        for (((p, g), m), v) in params
            .iter_mut()
            .zip(grads)
            .zip(self.m.iter_mut())
            .zip(self.v.iter_mut())
        {
            let g = g * scale;
            *m = *m * b1 + g * (1.0 - b1);
            *v = *v * b2 + g * g * (1.0 - b2);
            *p -= (*m / c1) / ((*v / c2).sqrt() + self.eps) * lr;
        }
        norm
    }
}
