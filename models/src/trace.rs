//! Named intermediate tensors recorded during a forward pass, for comparing
//! against a reference implementation layer by layer.

use candle_core::Tensor;

/// Intermediates in the order they were computed, each in the crate's own layout.
#[derive(Debug, Default, Clone)]
pub struct Trace {
    /// (name, tensor) pairs, e.g. `small.block0`, `small.film0`, `large.deconv`.
    pub tensors: Vec<(String, Tensor)>,
    prefix: String,
}

impl Trace {
    /// An empty trace whose names start with `prefix.`.
    pub fn new(prefix: &str) -> Self {
        Self {
            tensors: Vec::new(),
            prefix: prefix.to_string(),
        }
    }

    /// The recorded tensor `name` (without prefix), if any.
    pub fn get(&self, name: &str) -> Option<&Tensor> {
        let full = format!("{}.{name}", self.prefix);
        self.tensors
            .iter()
            .find(|(n, _)| *n == full)
            .map(|(_, t)| t)
    }
}

/// Records `t` as `name` when a trace is being kept.
pub fn tap(trace: &mut Option<&mut Trace>, name: impl std::fmt::Display, t: &Tensor) {
    if let Some(tr) = trace {
        let full = format!("{}.{name}", tr.prefix);
        tr.tensors.push((full, t.clone()));
    }
}
