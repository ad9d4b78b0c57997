//! Weight files read without candle: safetensors whose metadata carries the
//! model configuration, every tensor checked against the configuration's
//! schema (`schema.rs`). The real-time engine loads from this; the candle
//! side (`weights.rs`) converts it to tensors.

use std::{collections::BTreeMap, path::Path};

use safetensors::SafeTensors;

use crate::{
    config::WeightsConfig,
    error::{Error, Result},
    schema::tensor_shapes,
};

/// Metadata key that holds the configuration JSON.
pub const CONFIG_KEY: &str = "knowledge_boost_config";
/// Metadata key that holds the model's evaluation figure (one line of text).
pub const EVALUATION_KEY: &str = "knowledge_boost_evaluation";

/// One tensor's shape and its values, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct RawTensor {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub data: Vec<f32>,
}

impl RawTensor {
    /// Number of values.
    pub fn elem_count(&self) -> usize {
        self.data.len()
    }
}

/// A weight file's configuration and tensors, checked against each other.
#[derive(Debug, Clone)]
pub struct WeightFile {
    /// The configuration stored in the file.
    pub config: WeightsConfig,
    /// Every tensor, by name.
    pub tensors: BTreeMap<String, RawTensor>,
    /// The evaluation figure stored with the weights, if any.
    pub evaluation: Option<String>,
}

impl WeightFile {
    /// Reads `path`; fails with a message naming the file and what is wrong.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::Weights {
            path: path.display().to_string(),
            msg: format!("cannot read: {e}"),
        })?;
        Self::from_bytes(&bytes, &path.display().to_string())
    }

    /// Parses a weight file already in memory; `origin` names it in errors.
    pub fn from_bytes(bytes: &[u8], origin: &str) -> Result<Self> {
        let err = |msg: String| Error::Weights {
            path: origin.to_string(),
            msg,
        };
        let (_, header) = SafeTensors::read_metadata(bytes)
            .map_err(|e| err(format!("not a safetensors file: {e}")))?;
        let evaluation = header
            .metadata()
            .as_ref()
            .and_then(|m| m.get(EVALUATION_KEY))
            .cloned();
        let json = header
            .metadata()
            .as_ref()
            .and_then(|m| m.get(CONFIG_KEY))
            .ok_or_else(|| {
                err(format!(
                    "no `{CONFIG_KEY}` in the metadata: not a knowledge-boost weight file"
                ))
            })?;
        let config = WeightsConfig::from_json(json).map_err(|e| err(e.to_string()))?;
        let file = SafeTensors::deserialize(bytes)
            .map_err(|e| err(format!("corrupt safetensors data: {e}")))?;
        let expected =
            tensor_shapes(&config).map_err(|e| err(format!("its config is invalid: {e}")))?;
        let mut tensors = BTreeMap::new();
        for (name, view) in file.tensors() {
            let Some(want) = expected.get(&name) else {
                return Err(err(format!(
                    "unexpected tensor `{name}` with shape {:?}",
                    view.shape()
                )));
            };
            if view.shape() != want.as_slice() {
                return Err(err(format!(
                    "tensor `{name}` has shape {:?}, the model expects {:?}",
                    view.shape(),
                    want
                )));
            }
            if view.dtype() != safetensors::Dtype::F32 {
                return Err(err(format!(
                    "tensor `{name}` is {:?}, expected F32",
                    view.dtype()
                )));
            }
            let values: Vec<f32> = view
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            tensors.insert(
                name,
                RawTensor {
                    shape: view.shape().to_vec(),
                    data: values,
                },
            );
        }
        if let Some((name, shape)) = expected.iter().find(|(n, _)| !tensors.contains_key(*n)) {
            return Err(err(format!(
                "missing tensor `{name}` (the model expects shape {shape:?})"
            )));
        }
        Ok(Self {
            config,
            tensors,
            evaluation,
        })
    }
}
