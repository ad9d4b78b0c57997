//! Linear layer over the last axis (a 1x1 convolution over channels).

use candle_core::Tensor;
use candle_nn::{Module, VarBuilder};

use crate::{error::Result, params::fan_in_uniform};

/// `y = x W^T + b` on the last axis; weight [out, in].
#[derive(Debug, Clone)]
pub struct Linear {
    inner: candle_nn::Linear,
}

impl Linear {
    /// Loads `weight` [out, in] and `bias` [out].
    pub fn new(vb: VarBuilder, inputs: usize, outputs: usize) -> Result<Self> {
        let init = fan_in_uniform(inputs);
        let weight = vb.get_with_hints((outputs, inputs), "weight", init)?;
        let bias = vb.get_with_hints(outputs, "bias", init)?;
        Ok(Self {
            inner: candle_nn::Linear::new(weight, Some(bias)),
        })
    }

    /// Applies the layer to `x` [..., in].
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.inner.forward(x)?)
    }
}
