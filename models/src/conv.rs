//! Causal-in-time 3x3 convolution over (time, frequency), with its time state.
//!
//! Used for the input conv, the output "deconv" (a transposed convolution
//! written as the equivalent convolution) and the hint compression.

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

use crate::{config::CONV_KERNEL, error::Result, params::fan_in_uniform};

/// `y[o, t, f] = b[o] + sum W[o, i, kt, kf] x[i, t - 2 + kt, f - 1 + kf]`:
/// weight [out, in, 3 (time), 3 (freq)], `kt = 2` is the current frame,
/// zeros outside the frequency range.
#[derive(Debug, Clone)]
pub struct CausalConv2d {
    weight: Tensor,
    bias: Tensor,
    inputs: usize,
}

impl CausalConv2d {
    /// Loads `weight` [out, in, 3, 3] and `bias` [out].
    pub fn new(vb: VarBuilder, inputs: usize, outputs: usize) -> Result<Self> {
        let init = fan_in_uniform(inputs * CONV_KERNEL * CONV_KERNEL);
        let weight =
            vb.get_with_hints((outputs, inputs, CONV_KERNEL, CONV_KERNEL), "weight", init)?;
        let bias = vb.get_with_hints(outputs, "bias", init)?;
        Ok(Self {
            weight,
            bias: bias.reshape((1, outputs, 1, 1))?,
            inputs,
        })
    }

    /// The time state before the first frame: two frames of zeros [B, in, 2, F].
    pub fn initial_state(&self, batch: usize, freqs: usize, device: &Device) -> Result<Tensor> {
        Ok(Tensor::zeros(
            (batch, self.inputs, CONV_KERNEL - 1, freqs),
            DType::F32,
            device,
        )?)
    }

    /// Convolves `x` [B, in, T, F] after the frames held in `state`, which then
    /// holds the last two input frames.
    pub fn forward(&self, x: &Tensor, state: &mut Tensor) -> Result<Tensor> {
        let t = x.dim(2)?;
        let joined = Tensor::cat(&[&*state, x], 2)?;
        *state = joined.narrow(2, t, CONV_KERNEL - 1)?;
        let y = joined
            .pad_with_zeros(3, 1, 1)?
            .conv2d(&self.weight, 0, 1, 1, 1)?;
        Ok(y.broadcast_add(&self.bias)?)
    }
}
