//! The LSTM recurrence as one candle op with its own backward pass.
//!
//! Step by step, candle needs some fifteen tensor ops per time step, each
//! allocating and each recorded for backpropagation; training spends most of
//! its time there. This op runs the whole sequence in plain loops on the
//! engine's kernels and recomputes the gates in its backward pass
//! (backpropagation through time), so the graph holds one node per LSTM.

use candle_core::{CpuStorage, CustomOp3, Layout, Shape, Tensor};

use crate::{
    engine::tensors::transpose,
    kernels::{
        fastmath::{sigmoid, tanh},
        Kernels,
    },
};

/// Inputs: projected inputs [N, L, 4H] (biases included), recurrent weight
/// [4H, H] and initial state [N, 2H] = [h0 | c0]. Output: [N, L, 2H], the
/// hidden and cell state after every step, in input order.
#[derive(Debug, Clone, Copy)]
pub struct LstmRecurrence {
    /// Run from the last step to the first.
    pub reverse: bool,
}

fn slice<'a>(s: &'a CpuStorage, l: &Layout, what: &str) -> candle_core::Result<&'a [f32]> {
    match (s, l.contiguous_offsets()) {
        (CpuStorage::F32(v), Some((a, b))) => Ok(&v[a..b]),
        _ => candle_core::bail!("lstm-recurrence: {what} must be a contiguous f32 tensor"),
    }
}

impl LstmRecurrence {
    fn order(&self, step: usize, len: usize) -> usize {
        if self.reverse {
            len - 1 - step
        } else {
            step
        }
    }
}

impl CustomOp3 for LstmRecurrence {
    fn name(&self) -> &'static str {
        "lstm-recurrence"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (n, len, g) = l1.shape().dims3()?;
        let h = g / 4;
        let (xp, w, state) = (
            slice(s1, l1, "input")?,
            slice(s2, l2, "weight")?,
            slice(s3, l3, "state")?,
        );
        if l2.shape().dims() != [g, h] || l3.shape().dims() != [n, 2 * h] {
            candle_core::bail!("lstm-recurrence: weight must be [4H, H] and state [N, 2H]");
        }
        let k = Kernels::best();
        let wt = transpose(w, g, h);
        let mut hs: Vec<f32> = state
            .chunks_exact(2 * h)
            .flat_map(|r| r[..h].to_vec())
            .collect();
        let mut cs: Vec<f32> = state
            .chunks_exact(2 * h)
            .flat_map(|r| r[h..].to_vec())
            .collect();
        let mut gates = vec![0f32; n * g];
        let mut out = vec![0f32; n * len * 2 * h];
        for step in 0..len {
            let t = self.order(step, len);
            for r in 0..n {
                gates[r * g..(r + 1) * g]
                    .copy_from_slice(&xp[(r * len + t) * g..(r * len + t + 1) * g]);
            }
            k.gemm(&mut gates, &hs, &wt, n, h, g);
            for r in 0..n {
                k.cell(
                    &gates[r * g..(r + 1) * g],
                    &mut cs[r * h..(r + 1) * h],
                    &mut hs[r * h..(r + 1) * h],
                );
                let o = &mut out[(r * len + t) * 2 * h..(r * len + t + 1) * 2 * h];
                o[..h].copy_from_slice(&hs[r * h..(r + 1) * h]);
                o[h..].copy_from_slice(&cs[r * h..(r + 1) * h]);
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((n, len, 2 * h))))
    }

    fn bwd(
        &self,
        xp: &Tensor,
        w: &Tensor,
        state: &Tensor,
        res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (n, len, g) = xp.dims3()?;
        let h = g / 4;
        let v = |t: &Tensor| t.flatten_all()?.to_vec1::<f32>();
        let (xpv, wv, sv, out, grad) = (v(xp)?, v(w)?, v(state)?, v(res)?, v(grad_res)?);
        let k = Kernels::best();
        let wt = transpose(&wv, g, h);
        let mut dxp = vec![0f32; n * len * g];
        let mut dw = vec![0f32; g * h];
        let (mut dh, mut dc) = (vec![0f32; n * h], vec![0f32; n * h]);
        let (mut h_prev, mut c_prev) = (vec![0f32; n * h], vec![0f32; n * h]);
        let (mut gates, mut dgates) = (vec![0f32; n * g], vec![0f32; n * g]);
        let mut dh_next = vec![0f32; n * h];
        for step in (0..len).rev() {
            let t = self.order(step, len);
            for r in 0..n {
                let (hp, cp) = if step == 0 {
                    (
                        &sv[r * 2 * h..r * 2 * h + h],
                        &sv[r * 2 * h + h..(r + 1) * 2 * h],
                    )
                } else {
                    let p = (r * len + self.order(step - 1, len)) * 2 * h;
                    (&out[p..p + h], &out[p + h..p + 2 * h])
                };
                h_prev[r * h..(r + 1) * h].copy_from_slice(hp);
                c_prev[r * h..(r + 1) * h].copy_from_slice(cp);
                gates[r * g..(r + 1) * g]
                    .copy_from_slice(&xpv[(r * len + t) * g..(r * len + t + 1) * g]);
            }
            k.gemm(&mut gates, &h_prev, &wt, n, h, g);
            for r in 0..n {
                let at = (r * len + t) * 2 * h;
                for j in 0..h {
                    let gr = &gates[r * g..(r + 1) * g];
                    let (i, f, gg, o) = (
                        sigmoid(gr[j]),
                        sigmoid(gr[h + j]),
                        tanh(gr[2 * h + j]),
                        sigmoid(gr[3 * h + j]),
                    );
                    let tc = tanh(out[at + h + j]);
                    let dhj = grad[at + j] + dh[r * h + j];
                    let dct = grad[at + h + j] + dc[r * h + j] + dhj * o * (1.0 - tc * tc);
                    let d = &mut dgates[r * g..(r + 1) * g];
                    d[j] = dct * gg * i * (1.0 - i);
                    d[h + j] = dct * c_prev[r * h + j] * f * (1.0 - f);
                    d[2 * h + j] = dct * i * (1.0 - gg * gg);
                    d[3 * h + j] = dhj * tc * o * (1.0 - o);
                    dc[r * h + j] = dct * f;
                }
                dxp[(r * len + t) * g..(r * len + t + 1) * g]
                    .copy_from_slice(&dgates[r * g..(r + 1) * g]);
            }
            dh_next.fill(0.0);
            k.gemm(&mut dh_next, &dgates, &wv, n, g, h);
            std::mem::swap(&mut dh, &mut dh_next);
            k.gemm(&mut dw, &transpose(&dgates, n, g), &h_prev, g, n, h);
        }
        let dstate: Vec<f32> = (0..n)
            .flat_map(|r| {
                dh[r * h..(r + 1) * h]
                    .iter()
                    .chain(&dc[r * h..(r + 1) * h])
                    .copied()
            })
            .collect();
        let dev = xp.device();
        Ok((
            Some(Tensor::from_vec(dxp, (n, len, g), dev)?),
            Some(Tensor::from_vec(dw, (g, h), dev)?),
            Some(Tensor::from_vec(dstate, (n, 2 * h), dev)?),
        ))
    }
}

/// Runs the recurrence: `projected` [N, L, 4H], `weight_hh` [4H, H], `h0`, `c0` [N, H].
/// Returns (hidden states [N, L, H], final h, final c).
pub fn lstm_recurrence(
    projected: &Tensor,
    weight_hh: &Tensor,
    h0: &Tensor,
    c0: &Tensor,
    reverse: bool,
) -> candle_core::Result<(Tensor, Tensor, Tensor)> {
    let (_, len, g) = projected.dims3()?;
    let h = g / 4;
    let state = Tensor::cat(&[h0, c0], 1)?.contiguous()?;
    let out = projected.contiguous()?.apply_op3(
        &weight_hh.contiguous()?,
        &state,
        LstmRecurrence { reverse },
    )?;
    let last = if reverse { 0 } else { len - 1 };
    let final_state = out.narrow(1, last, 1)?.squeeze(1)?;
    Ok((
        out.narrow(2, 0, h)?,
        final_state.narrow(1, 0, h)?,
        final_state.narrow(1, h, h)?,
    ))
}
