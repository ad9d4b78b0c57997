//! Parameter storage: a `VarMap` whose variables are initialised from a seed.
//!
//! candle's CPU generator cannot be seeded, so every variable is drawn here
//! from a generator keyed by the seed and the variable's name: the same seed
//! gives the same model whatever order the layers are built in.

use std::collections::HashMap;

use candle_core::{DType, Device, Shape, Tensor, Var};
use candle_nn::{var_builder::SimpleBackend, Init, VarBuilder, VarMap};
use rand::{rngs::StdRng, Rng, SeedableRng};
use rand_distr::StandardNormal;

/// A `VarMap` filled from a seed; hand it to layers through [`SeededParams::var_builder`].
#[derive(Clone)]
pub struct SeededParams {
    map: VarMap,
    seed: u64,
}

impl SeededParams {
    /// New empty parameter store drawing from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            map: VarMap::new(),
            seed,
        }
    }

    /// The variables by name (the map stays locked while the guard lives).
    pub fn vars(&self) -> std::sync::MutexGuard<'_, HashMap<String, Var>> {
        self.map.data().lock().expect("parameter map poisoned")
    }

    /// Every variable's current tensor by name (sharing storage with the variables).
    pub fn tensors(&self) -> HashMap<String, Tensor> {
        self.vars()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_tensor().clone()))
            .collect()
    }

    /// A builder that creates missing variables from the seed.
    pub fn var_builder(&self, device: &Device) -> VarBuilder<'static> {
        VarBuilder::from_backend(Box::new(self.clone()), DType::F32, device.clone())
    }

    fn draw(&self, shape: &Shape, name: &str, init: Init) -> Vec<f32> {
        let n = shape.elem_count();
        let key = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
        });
        let mut rng = StdRng::seed_from_u64(self.seed ^ key);
        match init {
            Init::Const(v) => vec![v as f32; n],
            Init::Uniform { lo, up } => (0..n).map(|_| rng.random_range(lo..up) as f32).collect(),
            Init::Randn { mean, stdev } => (0..n)
                .map(|_| (mean + stdev * rng.sample::<f64, _>(StandardNormal)) as f32)
                .collect(),
            Init::Kaiming { .. } => {
                let dims = shape.dims();
                let fan_in: usize = dims.iter().skip(1).product::<usize>().max(1);
                let bound = 1.0 / (fan_in as f64).sqrt();
                (0..n)
                    .map(|_| rng.random_range(-bound..bound) as f32)
                    .collect()
            }
        }
    }
}

impl SimpleBackend for SeededParams {
    fn get(
        &self,
        s: Shape,
        name: &str,
        h: Init,
        dtype: DType,
        dev: &Device,
    ) -> candle_core::Result<Tensor> {
        let mut data = self.map.data().lock().expect("parameter map poisoned");
        if let Some(var) = data.get(name) {
            if var.shape() != &s {
                candle_core::bail!(
                    "parameter {name} built twice with shapes {:?} and {:?}",
                    var.shape(),
                    s
                );
            }
            return Ok(var.as_tensor().clone());
        }
        let values = self.draw(&s, name, h);
        let var = Var::from_tensor(&Tensor::from_vec(values, s, dev)?.to_dtype(dtype)?)?;
        let tensor = var.as_tensor().clone();
        data.insert(name.to_string(), var);
        Ok(tensor)
    }

    fn get_unchecked(
        &self,
        name: &str,
        _dtype: DType,
        _dev: &Device,
    ) -> candle_core::Result<Tensor> {
        candle_core::bail!("parameter {name} requested without a shape")
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.map
            .data()
            .lock()
            .expect("parameter map poisoned")
            .contains_key(name)
    }
}

/// Uniform init in ±1/sqrt(fan_in), PyTorch's default for linear, conv and LSTM weights.
pub fn fan_in_uniform(fan_in: usize) -> Init {
    let bound = 1.0 / (fan_in.max(1) as f64).sqrt();
    Init::Uniform {
        lo: -bound,
        up: bound,
    }
}
