//! LSTMs of a GridNet block: the bidirectional one across frequency and the
//! unidirectional one across time with (h, c) carried per bin.

use super::{dense::Dense, tensors::TensorSource};
use crate::error::Result;
use crate::kernels::Kernels;

/// One LSTM direction: input projection (bias = b_ih + b_hh) and recurrent weight [H, 4H].
#[derive(Debug, Clone)]
pub struct LstmWeights {
    input: Dense,
    recurrent: Vec<f32>,
    hidden: usize,
}

impl LstmWeights {
    /// Loads `weight_ih{suffix}`, `weight_hh{suffix}`, `bias_ih{suffix}`, `bias_hh{suffix}`.
    pub fn load(src: &TensorSource, inputs: usize, hidden: usize, suffix: &str) -> Result<Self> {
        let g = 4 * hidden;
        let b_ih = src.get(&format!("bias_ih{suffix}"), &[g])?;
        let b_hh = src.get(&format!("bias_hh{suffix}"), &[g])?;
        let bias = b_ih.iter().zip(&b_hh).map(|(a, b)| a + b).collect();
        Ok(Self {
            input: Dense::from_parts(
                src.transposed(&format!("weight_ih{suffix}"), g, inputs)?,
                bias,
                inputs,
                g,
            ),
            recurrent: src.transposed(&format!("weight_hh{suffix}"), g, hidden)?,
            hidden,
        })
    }
}

/// Bidirectional LSTM over the bins of one frame, fresh zero state per frame.
#[derive(Debug, Clone)]
pub struct FrequencyLstm {
    forward: LstmWeights,
    backward: LstmWeights,
    projected: Vec<f32>,
    gates: Vec<f32>,
    h: Vec<f32>,
    c: Vec<f32>,
    freqs: usize,
}

impl FrequencyLstm {
    /// Loads both directions for frames of `freqs` bins.
    pub fn load(src: &TensorSource, inputs: usize, hidden: usize, freqs: usize) -> Result<Self> {
        Ok(Self {
            forward: LstmWeights::load(src, inputs, hidden, "")?,
            backward: LstmWeights::load(src, inputs, hidden, "_reverse")?,
            projected: vec![0.0; freqs * 4 * hidden],
            gates: vec![0.0; 4 * hidden],
            h: vec![0.0; hidden],
            c: vec![0.0; hidden],
            freqs,
        })
    }

    /// `x` [F, in] -> `out` [F, 2H] = [forward h | backward h] per bin.
    pub fn forward(&mut self, k: &Kernels, x: &[f32], out: &mut [f32]) {
        let h = self.forward.hidden;
        for (dir, weights) in [&self.forward, &self.backward].into_iter().enumerate() {
            weights.input.forward(k, x, &mut self.projected, self.freqs);
            self.h.fill(0.0);
            self.c.fill(0.0);
            for step in 0..self.freqs {
                let f = if dir == 0 {
                    step
                } else {
                    self.freqs - 1 - step
                };
                self.gates
                    .copy_from_slice(&self.projected[f * 4 * h..(f + 1) * 4 * h]);
                k.gemm(&mut self.gates, &self.h, &weights.recurrent, 1, h, 4 * h);
                k.cell(&self.gates, &mut self.c, &mut self.h);
                out[f * 2 * h + dir * h..f * 2 * h + (dir + 1) * h].copy_from_slice(&self.h);
            }
        }
    }
}

/// Unidirectional LSTM across time, one independent (h, c) per bin.
#[derive(Debug, Clone)]
pub struct TimeLstm {
    weights: LstmWeights,
    gates: Vec<f32>,
    /// Hidden state [F, H]: also the layer's output.
    h: Vec<f32>,
    c: Vec<f32>,
    freqs: usize,
}

impl TimeLstm {
    /// Loads the layer for frames of `freqs` bins.
    pub fn load(src: &TensorSource, inputs: usize, hidden: usize, freqs: usize) -> Result<Self> {
        Ok(Self {
            weights: LstmWeights::load(src, inputs, hidden, "")?,
            gates: vec![0.0; freqs * 4 * hidden],
            h: vec![0.0; freqs * hidden],
            c: vec![0.0; freqs * hidden],
            freqs,
        })
    }

    /// Clears (h, c) (a new stream).
    pub fn reset(&mut self) {
        self.h.fill(0.0);
        self.c.fill(0.0);
    }

    /// Advances every bin one step with `x` [F, in]; returns h [F, H].
    pub fn forward(&mut self, k: &Kernels, x: &[f32]) -> &[f32] {
        let h = self.weights.hidden;
        self.weights
            .input
            .forward(k, x, &mut self.gates, self.freqs);
        k.gemm(
            &mut self.gates,
            &self.h,
            &self.weights.recurrent,
            self.freqs,
            h,
            4 * h,
        );
        for f in 0..self.freqs {
            k.cell(
                &self.gates[f * 4 * h..(f + 1) * 4 * h],
                &mut self.c[f * h..(f + 1) * h],
                &mut self.h[f * h..(f + 1) * h],
            );
        }
        &self.h
    }
}
