//! Reading weight tensors into the engine's flat, inner-loop-friendly layouts.

use std::collections::BTreeMap;

use crate::{
    error::{Error, Result},
    weight_file::RawTensor,
};

/// Named tensors of a weight file under a name prefix.
pub struct TensorSource<'a> {
    tensors: &'a BTreeMap<String, RawTensor>,
    prefix: String,
}

impl<'a> TensorSource<'a> {
    /// Tensors whose names start with `prefix` (empty for none).
    pub fn new(tensors: &'a BTreeMap<String, RawTensor>, prefix: &str) -> Self {
        Self {
            tensors,
            prefix: prefix.to_string(),
        }
    }

    /// The source one level down: `prefix.name`.
    pub fn pp(&self, name: impl std::fmt::Display) -> Self {
        let prefix = if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.prefix)
        };
        Self {
            tensors: self.tensors,
            prefix,
        }
    }

    fn path(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.prefix)
        }
    }

    /// Tensor `name` flattened, checked to hold `dims`.
    pub fn get(&self, name: &str, dims: &[usize]) -> Result<Vec<f32>> {
        let path = self.path(name);
        let t = self.tensors.get(&path).ok_or_else(|| Error::Weights {
            path: "engine weights".into(),
            msg: format!("missing tensor `{path}`"),
        })?;
        if t.shape != dims {
            return Err(Error::Weights {
                path: "engine weights".into(),
                msg: format!(
                    "tensor `{path}` has shape {:?}, the engine expects {dims:?}",
                    t.shape
                ),
            });
        }
        Ok(t.data.clone())
    }

    /// Matrix `name` [rows, cols] returned transposed, [cols, rows] row-major.
    pub fn transposed(&self, name: &str, rows: usize, cols: usize) -> Result<Vec<f32>> {
        Ok(transpose(&self.get(name, &[rows, cols])?, rows, cols))
    }
}

/// Transposes a row-major [rows, cols] matrix.
pub fn transpose(m: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = vec![0f32; m.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = m[r * cols + c];
        }
    }
    t
}
