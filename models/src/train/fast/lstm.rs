//! One LSTM direction over step-major sequences: forward keeping every
//! step's gates and cell state, backward through time accumulating the
//! weight gradients in whole-sequence products.

use std::ops::Range;

use super::{
    layout::{two_mut, ParamLayout},
    linear::{add_column_sums, transpose_into, Derived},
};
use crate::{
    error::Result,
    kernels::{Kernels, Strides},
};

/// Rows of the recurrence processed together (their state stays in cache over all steps).
const ROW_BLOCK: usize = 64;

/// Where a sequence's hidden states live: row (step, n) at `(step * rows + n) * ld + offset`.
#[derive(Debug, Clone, Copy)]
pub struct HiddenAt {
    /// Distance between rows.
    pub ld: usize,
    /// Offset of the first value in a row.
    pub offset: usize,
}

/// Shape of a step-major batch of sequences: `steps` of `rows` each, inputs [steps * rows, in].
#[derive(Debug, Clone, Copy)]
pub struct Sequences {
    /// Steps of every sequence.
    pub steps: usize,
    /// Independent sequences.
    pub rows: usize,
    /// Whether the recurrence runs from the last step to the first.
    pub reverse: bool,
}

/// What the forward pass keeps: activated gates [steps * rows, 4H] and cell states [steps * rows, H].
pub struct Saved<'a> {
    /// Activated gates i, f, g, o.
    pub gates: &'a mut [f32],
    /// Cell states.
    pub c: &'a mut [f32],
}

/// Per-thread scratch of the backward recurrence: one row block's state
/// gradients and gate gradients, and the transposed weight gradients
/// accumulated block by block.
#[derive(Debug, Clone)]
pub struct LstmScratch {
    dh: Vec<f32>,
    dc: Vec<f32>,
    dgates: Vec<f32>,
    dwih_t: Vec<f32>,
    dwhh_t: Vec<f32>,
    dbias: Vec<f32>,
}

impl LstmScratch {
    /// Scratch for input width up to `inputs` and hidden size `hidden`.
    pub fn new(inputs: usize, hidden: usize) -> Self {
        let g = 4 * hidden;
        Self {
            dh: vec![0.0; ROW_BLOCK * hidden],
            dc: vec![0.0; ROW_BLOCK * hidden],
            dgates: vec![0.0; ROW_BLOCK * g],
            dwih_t: vec![0.0; inputs * g],
            dwhh_t: vec![0.0; hidden * g],
            dbias: vec![0.0; g],
        }
    }
}

impl LstmScratch {
    /// Floats held.
    pub fn floats(&self) -> usize {
        super::floats(&[
            &self.dh,
            &self.dc,
            &self.dgates,
            &self.dwih_t,
            &self.dwhh_t,
            &self.dbias,
        ])
    }
}

/// `dst[j, c] += src[c, j]`: adds `src` [cols, rows] transposed into `dst` [rows, cols].
fn add_transposed(dst: &mut [f32], src: &[f32], (rows, cols): (usize, usize)) {
    for (j, row) in dst.chunks_exact_mut(cols).take(rows).enumerate() {
        for (c, v) in row.iter_mut().enumerate() {
            *v += src[c * rows + j];
        }
    }
}

/// One direction: `weight_ih{suffix}` [4H, in], `weight_hh{suffix}` [4H, H], both biases [4H].
#[derive(Debug, Clone)]
pub struct LstmDir {
    wih: Range<usize>,
    whh: Range<usize>,
    bih: Range<usize>,
    bhh: Range<usize>,
    wih_t: Range<usize>,
    whh_t: Range<usize>,
    bias: Range<usize>,
    /// Input width.
    pub inputs: usize,
    /// Hidden size H.
    pub hidden: usize,
}

impl LstmDir {
    /// The direction stored under `prefix` with name `suffix` (`""` or `"_reverse"`).
    pub fn new(
        layout: &ParamLayout,
        (prefix, suffix): (&str, &str),
        (inputs, hidden): (usize, usize),
        derived: &mut Derived,
    ) -> Result<Self> {
        let g = 4 * hidden;
        if hidden * ROW_BLOCK > ZEROS.len() {
            return Err(crate::error::Error::Config(format!(
                "the fast path supports hidden sizes up to {}, got {hidden}",
                ZEROS.len() / ROW_BLOCK
            )));
        }
        let name = |n: &str| format!("{prefix}.{n}{suffix}");
        Ok(Self {
            wih: layout.range(&name("weight_ih"), g * inputs)?,
            whh: layout.range(&name("weight_hh"), g * hidden)?,
            bih: layout.range(&name("bias_ih"), g)?,
            bhh: layout.range(&name("bias_hh"), g)?,
            wih_t: derived.alloc(inputs * g),
            whh_t: derived.alloc(hidden * g),
            bias: derived.alloc(g),
            inputs,
            hidden,
        })
    }

    /// Transposed weights and the summed bias for the forward pass.
    pub fn prepare(&self, p: &[f32], d: &mut [f32]) {
        let g = 4 * self.hidden;
        transpose_into(
            &p[self.wih.clone()],
            g,
            self.inputs,
            &mut d[self.wih_t.clone()],
        );
        transpose_into(
            &p[self.whh.clone()],
            g,
            self.hidden,
            &mut d[self.whh_t.clone()],
        );
        for (j, b) in d[self.bias.clone()].iter_mut().enumerate() {
            *b = p[self.bih.start + j] + p[self.bhh.start + j];
        }
    }

    fn step_order(seq: Sequences) -> impl Iterator<Item = usize> {
        let s = seq.steps;
        (0..s).map(move |i| if seq.reverse { s - 1 - i } else { i })
    }

    /// Runs the recurrence from a zero state over `x` [steps * rows, in]:
    /// keeps gates and cell states in `saved`, writes hidden states at `h_at` in `h`.
    #[allow(clippy::too_many_arguments)]
    pub fn forward(
        &self,
        k: &Kernels,
        d: &[f32],
        x: &[f32],
        seq: Sequences,
        saved: Saved,
        h: &mut [f32],
        h_at: HiddenAt,
    ) {
        let (hh, g) = (self.hidden, 4 * self.hidden);
        let total = seq.steps * seq.rows;
        let gates = &mut saved.gates[..total * g];
        let ld_in = Strides {
            out: g,
            x: self.inputs,
            w: g,
        };
        k.gemm_bias_strided(
            gates,
            x,
            &d[self.wih_t.clone()],
            &d[self.bias.clone()],
            (total, self.inputs, g),
            ld_in,
        );
        let whh_t = &d[self.whh_t.clone()];
        let mut r0 = 0;
        while r0 < seq.rows {
            let n = ROW_BLOCK.min(seq.rows - r0);
            let mut prev: Option<usize> = None;
            for s in Self::step_order(seq) {
                let row = s * seq.rows + r0;
                if let Some(p) = prev {
                    let prow = p * seq.rows + r0;
                    let ld = Strides {
                        out: g,
                        x: h_at.ld,
                        w: g,
                    };
                    let (hsrc, gdst) = (&h[prow * h_at.ld + h_at.offset..], &mut gates[row * g..]);
                    k.gemm_strided(gdst, hsrc, whh_t, (n, hh, g), ld);
                }
                let cur = row * hh..(row + n) * hh;
                let gr = &mut gates[row * g..(row + n) * g];
                let hr = &mut h[row * h_at.ld + h_at.offset..];
                match prev {
                    Some(p) => {
                        let prow = p * seq.rows + r0;
                        let (cp, cr) = two_mut(saved.c, prow * hh..(prow + n) * hh, cur);
                        k.cell_train(gr, (cp, cr), (hr, h_at.ld), (n, hh));
                    }
                    None => {
                        let cr = &mut saved.c[cur];
                        k.cell_train(gr, (&ZEROS[..n * hh], cr), (hr, h_at.ld), (n, hh));
                    }
                }
                prev = Some(s);
            }
            r0 += n;
        }
    }

    /// Backward through time. `dh` holds the gradient of every hidden state
    /// (laid out like `h`); adds the input gradient into `dx`
    /// [steps * rows, in] and the weight gradients into `g`. Each row
    /// block's gate gradients at each step are used while they are in
    /// cache (recurrence, input gradient, weight gradients) and never stored.
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        k: &Kernels,
        p: &[f32],
        (x, seq): (&[f32], Sequences),
        (gates, c): (&[f32], &[f32]),
        (h, dh, h_at): (&[f32], &[f32], HiddenAt),
        dx: &mut [f32],
        (grads, scratch): (&mut [f32], &mut LstmScratch),
    ) {
        let (hh, g4, inputs) = (self.hidden, 4 * self.hidden, self.inputs);
        let (whh, wih) = (&p[self.whh.clone()], &p[self.wih.clone()]);
        let LstmScratch {
            dh: rec,
            dc,
            dgates,
            dwih_t,
            dwhh_t,
            dbias,
        } = scratch;
        let (dwih_t, dwhh_t) = (&mut dwih_t[..inputs * g4], &mut dwhh_t[..hh * g4]);
        dwih_t.fill(0.0);
        dwhh_t.fill(0.0);
        let dbias = &mut dbias[..g4];
        dbias.fill(0.0);
        // Copies the gradient of the hidden states of step `s` (rows r0..r0 + n) into `rec`.
        let gather = |rec: &mut [f32], s: usize, r0: usize, n: usize| {
            let row = s * seq.rows + r0;
            for j in 0..n {
                let hoff = (row + j) * h_at.ld + h_at.offset;
                rec[j * hh..(j + 1) * hh].copy_from_slice(&dh[hoff..hoff + hh]);
            }
        };
        let mut r0 = 0;
        while r0 < seq.rows {
            let n = ROW_BLOCK.min(seq.rows - r0);
            // `rec` holds the gradient of h at the step being processed: its
            // own output gradient plus what the step after it sent back.
            let rec = &mut rec[..n * hh];
            let dc = &mut dc[..n * hh];
            let dg = &mut dgates[..n * g4];
            dc.fill(0.0);
            let last = if seq.reverse { 0 } else { seq.steps - 1 };
            gather(rec, last, r0, n);
            for i in (0..seq.steps).rev() {
                let s = if seq.reverse { seq.steps - 1 - i } else { i };
                // The step before s in the recurrence (None for the first).
                let before = if seq.reverse {
                    (s + 1 < seq.steps).then_some(s + 1)
                } else {
                    s.checked_sub(1)
                };
                let row = s * seq.rows + r0;
                let cp: &[f32] = match before {
                    Some(b) => {
                        let prow = b * seq.rows + r0;
                        &c[prow * hh..(prow + n) * hh]
                    }
                    None => &ZEROS[..n * hh],
                };
                k.cell_back(
                    &gates[row * g4..(row + n) * g4],
                    (cp, &c[row * hh..(row + n) * hh]),
                    rec,
                    (dg, dc),
                    (n, hh),
                );
                // dx += dgates W_ih; dW_ih^T += x^T dgates; the bias sums.
                let ld = Strides {
                    out: inputs,
                    x: g4,
                    w: inputs,
                };
                k.gemm_strided(&mut dx[row * inputs..], dg, wih, (n, g4, inputs), ld);
                let ld = Strides {
                    out: g4,
                    x: inputs,
                    w: g4,
                };
                k.gemm_tn(dwih_t, &x[row * inputs..], dg, (n, inputs, g4), ld);
                add_column_sums(dbias, dg, n, g4);
                if let Some(b) = before {
                    // dW_hh^T += h(before)^T dgates; the gradient sent to the step before.
                    let prow = b * seq.rows + r0;
                    let ld = Strides {
                        out: g4,
                        x: h_at.ld,
                        w: g4,
                    };
                    let hb = &h[prow * h_at.ld + h_at.offset..];
                    k.gemm_tn(dwhh_t, hb, dg, (n, hh, g4), ld);
                    gather(rec, b, r0, n);
                    let ld = Strides {
                        out: hh,
                        x: g4,
                        w: hh,
                    };
                    k.gemm_strided(rec, dg, whh, (n, g4, hh), ld);
                }
            }
            r0 += n;
        }
        add_transposed(&mut grads[self.wih.clone()], dwih_t, (g4, inputs));
        add_transposed(&mut grads[self.whh.clone()], dwhh_t, (g4, hh));
        // Both biases get the same gradient.
        for (b, v) in grads[self.bih.clone()].iter_mut().zip(dbias.iter()) {
            *b += v;
        }
        for (b, v) in grads[self.bhh.clone()].iter_mut().zip(dbias.iter()) {
            *b += v;
        }
    }
}

/// Zero cell states for a row block's first step (hidden sizes up to 256).
static ZEROS: [f32; ROW_BLOCK * 256] = [0.0; ROW_BLOCK * 256];
