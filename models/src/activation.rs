//! PReLU with one slope, or one slope per group of channels.

use candle_core::Tensor;
use candle_nn::{Init, VarBuilder};

use crate::error::Result;

/// PReLU over the last axis: `max(0, x) + a * min(0, x)`.
#[derive(Debug, Clone)]
pub struct Prelu {
    slope: Tensor,
    groups: usize,
}

impl Prelu {
    /// `groups` slopes, each shared by an equal run of consecutive channels of the last axis.
    pub fn new(vb: VarBuilder, name: &str, groups: usize) -> Result<Self> {
        let slope = vb.get_with_hints(groups, name, Init::Const(0.25))?;
        Ok(Self { slope, groups })
    }

    /// Applies the activation.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let dims = x.dims();
        let mut grouped = dims[..dims.len() - 1].to_vec();
        grouped.extend([self.groups, dims[dims.len() - 1] / self.groups]);
        let slope = self.slope.reshape((self.groups, 1))?;
        let negative = x
            .neg()?
            .relu()?
            .reshape(grouped)?
            .broadcast_mul(&slope)?
            .reshape(dims)?;
        Ok((x.relu()? - negative)?)
    }
}
