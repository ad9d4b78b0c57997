//! Weight files: safetensors whose metadata carries the model configuration,
//! checked tensor by tensor against the model that configuration builds.

use std::{collections::HashMap, path::Path};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use safetensors::tensor::TensorView;

use crate::{
    config::WeightsConfig,
    error::{Error, Result},
    joint::JointModel,
    params::SeededParams,
    tfgridnet::TfGridNet,
    weight_file::{RawTensor, WeightFile, CONFIG_KEY, EVALUATION_KEY},
};

/// A model built from a weight file.
#[derive(Debug, Clone)]
pub enum Model {
    /// A single TF-GridNet.
    Single(Box<TfGridNet>),
    /// A knowledge-boosting pair.
    Joint(Box<JointModel>),
}

/// Builds the model of `cfg` from `vb`.
pub fn build(cfg: &WeightsConfig, vb: VarBuilder) -> Result<Model> {
    Ok(match cfg {
        WeightsConfig::Single(c) => Model::Single(Box::new(TfGridNet::new(vb, c)?)),
        WeightsConfig::Joint(c) => Model::Joint(Box::new(JointModel::new(vb, c)?)),
    })
}

/// Writes `tensors` and `cfg` to `path`.
pub fn save(path: &Path, cfg: &WeightsConfig, tensors: &HashMap<String, Tensor>) -> Result<()> {
    save_with_metadata(
        path,
        HashMap::from([(CONFIG_KEY.to_string(), cfg.to_json())]),
        tensors,
    )
}

/// Writes `tensors` as F32 safetensors with string `metadata`.
pub fn save_with_metadata(
    path: &Path,
    metadata: HashMap<String, String>,
    tensors: &HashMap<String, Tensor>,
) -> Result<()> {
    let err = |msg: String| Error::Weights {
        path: path.display().to_string(),
        msg,
    };
    let mut flat: Vec<(String, Vec<u8>, Vec<usize>)> = Vec::with_capacity(tensors.len());
    for (name, t) in tensors {
        let values = t.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        flat.push((name.clone(), bytes, t.dims().to_vec()));
    }
    let views = flat
        .iter()
        .map(|(n, b, s)| {
            Ok((
                n.as_str(),
                TensorView::new(safetensors::Dtype::F32, s.clone(), b)?,
            ))
        })
        .collect::<std::result::Result<Vec<_>, safetensors::SafeTensorError>>()
        .map_err(|e| err(e.to_string()))?;
    safetensors::serialize_to_file(views, Some(metadata), path).map_err(|e| err(e.to_string()))
}

/// Writes `w` to `path` with its configuration and evaluation figure.
pub fn save_weights(path: &Path, w: &Weights) -> Result<()> {
    let mut metadata = HashMap::from([(CONFIG_KEY.to_string(), w.config.to_json())]);
    if let Some(e) = &w.evaluation {
        metadata.insert(EVALUATION_KEY.to_string(), e.clone());
    }
    save_with_metadata(path, metadata, &w.tensors)
}

/// Writes every variable of `params` with `cfg`.
pub fn save_params(path: &Path, cfg: &WeightsConfig, params: &SeededParams) -> Result<()> {
    save(path, cfg, &params.tensors())
}

/// A weight file's configuration and tensors, checked against each other.
#[derive(Debug, Clone)]
pub struct Weights {
    /// The configuration stored in the file.
    pub config: WeightsConfig,
    /// Every tensor, by name.
    pub tensors: HashMap<String, Tensor>,
    /// The evaluation figure stored with the weights, if any.
    pub evaluation: Option<String>,
}

impl Weights {
    /// Reads `path`; fails with a message naming the file and what is wrong.
    pub fn load(path: &Path) -> Result<Self> {
        Self::from_file(WeightFile::load(path)?)
    }

    /// Parses a weight file already in memory; `origin` names it in errors.
    pub fn from_bytes(bytes: &[u8], origin: &str) -> Result<Self> {
        Self::from_file(WeightFile::from_bytes(bytes, origin)?)
    }

    /// The candle tensors of a checked weight file.
    pub fn from_file(file: WeightFile) -> Result<Self> {
        let tensors = file
            .tensors
            .into_iter()
            .map(|(k, t)| Ok((k, Tensor::from_vec(t.data, t.shape, &Device::Cpu)?)))
            .collect::<Result<HashMap<_, _>>>()?;
        Ok(Self {
            config: file.config,
            tensors,
            evaluation: file.evaluation,
        })
    }

    /// The same weights as the candle-free file the real-time engine loads.
    pub fn to_file(&self) -> Result<WeightFile> {
        let tensors = self
            .tensors
            .iter()
            .map(|(k, t)| {
                let data = t.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
                let shape = t.dims().to_vec();
                Ok((k.clone(), RawTensor { shape, data }))
            })
            .collect::<Result<_>>()?;
        Ok(WeightFile {
            config: self.config.clone(),
            tensors,
            evaluation: self.evaluation.clone(),
        })
    }

    /// The current values of every variable of `params`, a model of `config`.
    pub fn from_params(config: WeightsConfig, params: &SeededParams) -> Result<Self> {
        let tensors = params
            .tensors()
            .into_iter()
            .map(|(k, v)| Ok((k, v.copy()?)))
            .collect::<Result<HashMap<_, _>>>()?;
        Ok(Self {
            config,
            tensors,
            evaluation: None,
        })
    }

    /// A model of `config` with weights drawn from `seed` (for tests and benchmarks).
    pub fn random(config: WeightsConfig, seed: u64) -> Result<Self> {
        let params = SeededParams::new(seed);
        build(&config, params.var_builder(&Device::Cpu))?;
        Self::from_params(config, &params)
    }

    /// Reads `path` and insists it holds a model of configuration `want`.
    pub fn load_expecting(path: &Path, want: &WeightsConfig) -> Result<Self> {
        let w = Self::load(path)?;
        if &w.config != want {
            return Err(Error::Weights {
                path: path.display().to_string(),
                msg: format!(
                    "holds a model of config {}, expected {}",
                    w.config.to_json(),
                    want.to_json()
                ),
            });
        }
        Ok(w)
    }

    /// Builds the model these weights describe.
    pub fn model(&self, device: &Device) -> Result<Model> {
        let tensors = self
            .tensors
            .iter()
            .map(|(k, v)| Ok((k.clone(), v.to_device(device)?)))
            .collect::<Result<HashMap<_, _>>>()?;
        build(
            &self.config,
            VarBuilder::from_tensors(tensors, DType::F32, device),
        )
    }
}
