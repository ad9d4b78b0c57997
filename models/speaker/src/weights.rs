//! The encoder's weights, read from safetensors under PyTorch's names
//! (`lstm.weight_ih_l{k}`, `lstm.weight_hh_l{k}`, `lstm.bias_ih_l{k}`,
//! `lstm.bias_hh_l{k}`, `linear.weight`, `linear.bias`), every shape checked.

use std::path::Path;

use safetensors::{Dtype, SafeTensors};

use crate::{Error, Result, EMBEDDING, HIDDEN, LAYERS, MELS};

/// Metadata key naming where the weights came from.
pub const SOURCE_KEY: &str = "knowledge_boost_speaker_source";

/// One LSTM layer's parameters, in PyTorch's gate order (input, forget, cell, output).
#[derive(Debug, Clone, PartialEq)]
pub struct LstmWeights {
    /// Width of the layer's input.
    pub input: usize,
    /// `[4 HIDDEN][input]`, row-major.
    pub w_ih: Vec<f32>,
    /// `[4 HIDDEN][HIDDEN]`, row-major.
    pub w_hh: Vec<f32>,
    /// `b_ih + b_hh`, `[4 HIDDEN]`.
    pub bias: Vec<f32>,
}

/// Every parameter of the encoder.
#[derive(Debug, Clone, PartialEq)]
pub struct EncoderWeights {
    /// The three LSTM layers, input first.
    pub lstm: Vec<LstmWeights>,
    /// `[EMBEDDING][HIDDEN]`, row-major.
    pub linear_weight: Vec<f32>,
    /// `[EMBEDDING]`.
    pub linear_bias: Vec<f32>,
}

/// Every tensor name and shape the encoder needs.
pub fn tensor_shapes() -> Vec<(String, Vec<usize>)> {
    let mut shapes = Vec::new();
    for k in 0..LAYERS {
        let input = if k == 0 { MELS } else { HIDDEN };
        shapes.push((format!("lstm.weight_ih_l{k}"), vec![4 * HIDDEN, input]));
        shapes.push((format!("lstm.weight_hh_l{k}"), vec![4 * HIDDEN, HIDDEN]));
        shapes.push((format!("lstm.bias_ih_l{k}"), vec![4 * HIDDEN]));
        shapes.push((format!("lstm.bias_hh_l{k}"), vec![4 * HIDDEN]));
    }
    shapes.push(("linear.weight".into(), vec![EMBEDDING, HIDDEN]));
    shapes.push(("linear.bias".into(), vec![EMBEDDING]));
    shapes
}

impl EncoderWeights {
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
        let file = SafeTensors::deserialize(bytes)
            .map_err(|e| err(format!("not a safetensors file: {e}")))?;
        let read = |name: &str, shape: &[usize]| -> Result<Vec<f32>> {
            let view = file
                .tensor(name)
                .map_err(|_| err(format!("no tensor `{name}`: not a speaker encoder")))?;
            if view.dtype() != Dtype::F32 || view.shape() != shape {
                return Err(err(format!(
                    "`{name}` is {:?} {:?}, expected F32 {shape:?}",
                    view.dtype(),
                    view.shape()
                )));
            }
            let data: Vec<f32> = view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            if data.iter().any(|v| !v.is_finite()) {
                return Err(err(format!("`{name}` holds NaN or infinite values")));
            }
            Ok(data)
        };
        let shapes = tensor_shapes();
        let get = |name: &str| -> Result<Vec<f32>> {
            let (_, shape) = shapes
                .iter()
                .find(|(n, _)| n == name)
                .expect("a known name");
            read(name, shape)
        };
        let mut lstm = Vec::with_capacity(LAYERS);
        for k in 0..LAYERS {
            let (b_ih, b_hh) = (
                get(&format!("lstm.bias_ih_l{k}"))?,
                get(&format!("lstm.bias_hh_l{k}"))?,
            );
            lstm.push(LstmWeights {
                input: if k == 0 { MELS } else { HIDDEN },
                w_ih: get(&format!("lstm.weight_ih_l{k}"))?,
                w_hh: get(&format!("lstm.weight_hh_l{k}"))?,
                bias: b_ih.iter().zip(&b_hh).map(|(a, b)| a + b).collect(),
            });
        }
        Ok(Self {
            lstm,
            linear_weight: get("linear.weight")?,
            linear_bias: get("linear.bias")?,
        })
    }
}
