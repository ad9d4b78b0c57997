//! One unidirectional LSTM layer run over a partial utterance (PyTorch's
//! `nn.LSTM` cell: gates in the order input, forget, cell, output).

use crate::{weights::LstmWeights, HIDDEN};

/// Dot product with eight independent accumulators (vectorised by the compiler).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    acc.iter().sum::<f32>() + tail
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Runs `layer` over `frames` inputs of width `layer.input` (row-major in
/// `input`) from a zero state, writing each frame's hidden state to `output`
/// (`frames` × `HIDDEN`); `gates` is scratch of `4 HIDDEN`, `cell` of `HIDDEN`.
pub fn run(
    layer: &LstmWeights,
    input: &[f32],
    frames: usize,
    output: &mut [f32],
    gates: &mut [f32],
    cell: &mut [f32],
) {
    cell.fill(0.0);
    for t in 0..frames {
        let x = &input[t * layer.input..(t + 1) * layer.input];
        for (g, gate) in gates.iter_mut().enumerate() {
            let mut v = layer.bias[g] + dot(&layer.w_ih[g * layer.input..(g + 1) * layer.input], x);
            if t > 0 {
                let h = &output[(t - 1) * HIDDEN..t * HIDDEN];
                v += dot(&layer.w_hh[g * HIDDEN..(g + 1) * HIDDEN], h);
            }
            *gate = v;
        }
        let h = &mut output[t * HIDDEN..(t + 1) * HIDDEN];
        for j in 0..HIDDEN {
            let i = sigmoid(gates[j]);
            let f = sigmoid(gates[HIDDEN + j]);
            let g = gates[2 * HIDDEN + j].tanh();
            let o = sigmoid(gates[3 * HIDDEN + j]);
            cell[j] = f * cell[j] + i * g;
            h[j] = o * cell[j].tanh();
        }
    }
}
