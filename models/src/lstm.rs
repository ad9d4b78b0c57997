//! LSTM layers in PyTorch's convention (gates i, f, g, o; both biases added).

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

use crate::{error::Result, lstm_op::lstm_recurrence, params::fan_in_uniform};

/// Hidden and cell state [N, H] of N independent sequences.
#[derive(Debug, Clone)]
pub struct LstmState {
    /// Hidden state h.
    pub h: Tensor,
    /// Cell state c.
    pub c: Tensor,
}

impl LstmState {
    /// All-zero state for `n` sequences of hidden size `hidden`.
    pub fn zeros(n: usize, hidden: usize, device: &Device) -> Result<Self> {
        let z = Tensor::zeros((n, hidden), DType::F32, device)?;
        Ok(Self { h: z.clone(), c: z })
    }
}

/// One LSTM direction: `weight_ih` [4H, in], `weight_hh` [4H, H], `bias_ih`, `bias_hh` [4H].
#[derive(Debug, Clone)]
pub struct Lstm {
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor,
    bias_hh: Tensor,
    hidden: usize,
}

impl Lstm {
    /// Loads one direction; `suffix` is appended to every tensor name (`""` or `"_reverse"`).
    pub fn new(vb: VarBuilder, inputs: usize, hidden: usize, suffix: &str) -> Result<Self> {
        let init = fan_in_uniform(hidden);
        let g = 4 * hidden;
        let weight_ih = vb.get_with_hints((g, inputs), &format!("weight_ih{suffix}"), init)?;
        let weight_hh = vb.get_with_hints((g, hidden), &format!("weight_hh{suffix}"), init)?;
        let bias_ih = vb.get_with_hints(g, &format!("bias_ih{suffix}"), init)?;
        let bias_hh = vb.get_with_hints(g, &format!("bias_hh{suffix}"), init)?;
        Ok(Self {
            weight_ih,
            weight_hh,
            bias_ih,
            bias_hh,
            hidden,
        })
    }

    /// Hidden size H.
    pub fn hidden(&self) -> usize {
        self.hidden
    }

    /// Runs over `x` [N, L, in] along axis 1 (backwards if `reverse`) from
    /// `state`, which is left at the last step; returns [N, L, H] in input order.
    pub fn forward(&self, x: &Tensor, state: &mut LstmState, reverse: bool) -> Result<Tensor> {
        let (n, l, inputs) = x.dims3()?;
        let h4 = 4 * self.hidden;
        let projected = x
            .reshape((n * l, inputs))?
            .matmul(&self.weight_ih.t()?)?
            .broadcast_add(&(&self.bias_ih + &self.bias_hh)?)?
            .reshape((n, l, h4))?;
        let (out, h, c) =
            lstm_recurrence(&projected, &self.weight_hh, &state.h, &state.c, reverse)?;
        state.h = h;
        state.c = c;
        Ok(out)
    }
}

/// Bidirectional LSTM with a fresh zero state per sequence; output [N, L, 2H] = [forward | backward].
#[derive(Debug, Clone)]
pub struct BiLstm {
    forward: Lstm,
    backward: Lstm,
}

impl BiLstm {
    /// Loads both directions (the backward one with suffix `_reverse`).
    pub fn new(vb: VarBuilder, inputs: usize, hidden: usize) -> Result<Self> {
        Ok(Self {
            forward: Lstm::new(vb.clone(), inputs, hidden, "")?,
            backward: Lstm::new(vb, inputs, hidden, "_reverse")?,
        })
    }

    /// Runs both directions over `x` [N, L, in].
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let n = x.dim(0)?;
        let hidden = self.forward.hidden();
        let mut fs = LstmState::zeros(n, hidden, x.device())?;
        let mut bs = LstmState::zeros(n, hidden, x.device())?;
        let f = self.forward.forward(x, &mut fs, false)?;
        let b = self.backward.forward(x, &mut bs, true)?;
        Ok(Tensor::cat(&[f, b], 2)?)
    }
}
