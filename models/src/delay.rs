//! A delay line of whole frames along the time axis, carried across calls.

use candle_core::Tensor;

use crate::error::Result;

/// Delays a [B, T, ...] sequence by `delay` frames; starts filled with zeros.
#[derive(Debug, Clone)]
pub struct DelayLine {
    held: Option<Tensor>,
}

impl DelayLine {
    /// A line holding `delay` zero frames shaped like one frame of `like` [B, 1, ...].
    pub fn new(delay: usize, like: &Tensor) -> Result<Self> {
        let held = if delay == 0 {
            None
        } else {
            let mut dims = like.dims().to_vec();
            dims[1] = delay;
            Some(Tensor::zeros(dims, like.dtype(), like.device())?)
        };
        Ok(Self { held })
    }

    /// Pushes `x` [B, T, ...] in and returns the T frames that come out.
    pub fn push(&mut self, x: &Tensor) -> Result<Tensor> {
        let Some(held) = &self.held else {
            return Ok(x.clone());
        };
        let t = x.dim(1)?;
        let delay = held.dim(1)?;
        let joined = Tensor::cat(&[held, x], 1)?;
        self.held = Some(joined.narrow(1, t, delay)?.contiguous()?);
        Ok(joined.narrow(1, 0, t)?.contiguous()?)
    }
}
