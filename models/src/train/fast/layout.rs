//! Flat parameter buffers: every named tensor of a model at a fixed offset,
//! so optimiser, gradient sums and threads work on one `Vec<f32>`.

use std::{collections::HashMap, ops::Range};

use candle_core::{Device, Tensor};

use crate::error::{Error, Result};

/// Names, shapes and offsets of a model's parameters, sorted by name.
#[derive(Debug, Clone)]
pub struct ParamLayout {
    entries: Vec<(String, Vec<usize>, Range<usize>)>,
    index: HashMap<String, usize>,
    len: usize,
}

impl ParamLayout {
    /// A layout of the tensors `shapes` (name to shape), in name order.
    pub fn new(shapes: &HashMap<String, Vec<usize>>) -> Self {
        let mut names: Vec<&String> = shapes.keys().collect();
        names.sort();
        let mut entries = Vec::with_capacity(names.len());
        let mut len = 0;
        for name in names {
            let shape = shapes[name].clone();
            let n: usize = shape.iter().product();
            entries.push((name.clone(), shape, len..len + n));
            len += n;
        }
        let index = entries
            .iter()
            .enumerate()
            .map(|(i, (n, _, _))| (n.clone(), i))
            .collect();
        Self {
            entries,
            index,
            len,
        }
    }

    /// Total number of parameters.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the layout holds no parameter.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every (name, shape, range), in name order.
    pub fn entries(&self) -> &[(String, Vec<usize>, Range<usize>)] {
        &self.entries
    }

    /// The range of tensor `name`, checked to hold `n` values.
    pub fn range(&self, name: &str, n: usize) -> Result<Range<usize>> {
        let i = self
            .index
            .get(name)
            .ok_or_else(|| Error::Config(format!("the fast path needs parameter `{name}`")))?;
        let r = self.entries[*i].2.clone();
        if r.len() != n {
            return Err(Error::Config(format!(
                "parameter `{name}` holds {} values, the fast path expects {n}",
                r.len()
            )));
        }
        Ok(r)
    }

    /// Copies tensors by name into a flat buffer.
    pub fn flatten(&self, tensors: &HashMap<String, Tensor>) -> Result<Vec<f32>> {
        let mut flat = vec![0f32; self.len];
        for (name, shape, range) in &self.entries {
            let t = tensors
                .get(name)
                .ok_or_else(|| Error::Config(format!("no tensor `{name}` to flatten")))?;
            if t.dims() != shape.as_slice() {
                return Err(Error::Config(format!(
                    "tensor `{name}` is {:?}, the layout says {shape:?}",
                    t.dims()
                )));
            }
            flat[range.clone()].copy_from_slice(&t.flatten_all()?.to_vec1::<f32>()?);
        }
        Ok(flat)
    }

    /// Tensors by name from a flat buffer.
    pub fn unflatten(&self, flat: &[f32]) -> Result<HashMap<String, Tensor>> {
        self.entries
            .iter()
            .map(|(name, shape, range)| {
                let t = Tensor::from_slice(&flat[range.clone()], shape.as_slice(), &Device::Cpu)?;
                Ok((name.clone(), t))
            })
            .collect()
    }
}

/// Two disjoint ranges of one buffer, both mutable.
pub fn two_mut(g: &mut [f32], a: Range<usize>, b: Range<usize>) -> (&mut [f32], &mut [f32]) {
    assert!(a.end <= b.start || b.end <= a.start, "ranges overlap");
    if a.start < b.start {
        let (lo, hi) = g.split_at_mut(b.start);
        (&mut lo[a], &mut hi[..b.end - b.start])
    } else {
        let (lo, hi) = g.split_at_mut(a.start);
        let (x, y) = (&mut hi[..a.end - a.start], &mut lo[b]);
        (x, y)
    }
}
