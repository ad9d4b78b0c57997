//! One GridNet block (intra-frame BLSTM over frequency, inter-frame LSTM
//! over time) forward and backward, with the activations it keeps.

use super::floats;
use super::{
    attention::{AttnActs, AttnScratch, FastAttention},
    layout::ParamLayout,
    linear::{Derived, Linear},
    lstm::{HiddenAt, LstmDir, LstmScratch, Saved, Sequences},
    norm::Norm,
};
use crate::{config::ModelConfig, error::Result, kernels::Kernels};

/// Batch geometry of one thread's half: examples and frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Examples.
    pub b: usize,
    /// Frames per example.
    pub t: usize,
    /// Frequency bins.
    pub f: usize,
}

impl Geometry {
    /// Rows (b, t, f) of a frame buffer.
    pub fn rows(&self) -> usize {
        self.b * self.t * self.f
    }

    /// Intra-frame sequences (b, t).
    fn frames(&self) -> usize {
        self.b * self.t
    }
}

/// Activations one block keeps for its backward pass.
#[derive(Debug, Clone)]
pub struct BlockActs {
    ln1_hat: Vec<f32>,
    ln1_rstd: Vec<f32>,
    ln1_y: Vec<f32>,
    intra_gates: [Vec<f32>; 2],
    intra_c: [Vec<f32>; 2],
    intra_h: Vec<f32>,
    ln2_hat: Vec<f32>,
    ln2_rstd: Vec<f32>,
    ln2_y: Vec<f32>,
    inter_gates: Vec<f32>,
    inter_c: Vec<f32>,
    inter_h: Vec<f32>,
    attn: Option<AttnActs>,
}

impl BlockActs {
    /// Buffers for `rows` frame rows of a block of width `d` and hidden size `h` without attention.
    fn new(rows: usize, d: usize, h: usize) -> Self {
        let z = |n: usize| vec![0f32; n];
        Self {
            ln1_hat: z(rows * d),
            ln1_rstd: z(rows),
            ln1_y: z(rows * d),
            intra_gates: [z(rows * 4 * h), z(rows * 4 * h)],
            intra_c: [z(rows * h), z(rows * h)],
            intra_h: z(rows * 2 * h),
            ln2_hat: z(rows * d),
            ln2_rstd: z(rows),
            ln2_y: z(rows * d),
            inter_gates: z(rows * 4 * h),
            inter_c: z(rows * h),
            inter_h: z(rows * h),
            attn: None,
        }
    }
}

impl BlockActs {
    /// Floats held.
    pub fn floats(&self) -> usize {
        let attn = self.attn.as_ref().map_or(0, AttnActs::floats);
        let [g0, g1] = &self.intra_gates;
        let [c0, c1] = &self.intra_c;
        attn + floats(&[
            &self.ln1_hat,
            &self.ln1_rstd,
            &self.ln1_y,
            g0,
            g1,
            c0,
            c1,
            &self.intra_h,
            &self.ln2_hat,
            &self.ln2_rstd,
            &self.ln2_y,
            &self.inter_gates,
            &self.inter_c,
            &self.inter_h,
        ])
    }
}

impl BlockScratch {
    /// Floats held.
    pub fn floats(&self) -> usize {
        let attn = self.attn.as_ref().map_or(0, AttnScratch::floats);
        attn + self.lstm.floats() + floats(&[&self.tmp, &self.dy, &self.dtmp, &self.dh])
    }
}

/// Scratch the blocks share (one set per thread).
#[derive(Debug, Clone)]
pub struct BlockScratch {
    tmp: Vec<f32>,
    dy: Vec<f32>,
    dtmp: Vec<f32>,
    dh: Vec<f32>,
    lstm: LstmScratch,
    attn: Option<AttnScratch>,
}

impl BlockScratch {
    /// Scratch for `rows` frame rows.
    fn new(rows: usize, d: usize, h: usize) -> Self {
        let z = |n: usize| vec![0f32; n];
        Self {
            tmp: z(rows * d),
            dy: z(rows * d),
            dtmp: z(rows * d),
            dh: z(rows * 2 * h),
            lstm: LstmScratch::new(d, h),
            attn: None,
        }
    }
}

/// `dst[(f * N + n) * d + c] = src[(n * F + f) * d + c]`: frames [N, F, d] to bins [F, N, d].
fn to_bins(src: &[f32], dst: &mut [f32], (n, f, d): (usize, usize, usize)) {
    for ni in 0..n {
        for fi in 0..f {
            let (s, o) = ((ni * f + fi) * d, (fi * n + ni) * d);
            dst[o..o + d].copy_from_slice(&src[s..s + d]);
        }
    }
}

/// `dst[(n * F + f) * d + c] += src[(f * N + n) * d + c]`: bins [F, N, d] added to frames [N, F, d].
fn add_from_bins(src: &[f32], dst: &mut [f32], (n, f, d): (usize, usize, usize)) {
    for ni in 0..n {
        for fi in 0..f {
            let (o, s) = ((ni * f + fi) * d, (fi * n + ni) * d);
            for (a, b) in dst[o..o + d].iter_mut().zip(&src[s..s + d]) {
                *a += b;
            }
        }
    }
}

/// A GridNet block, with the large model's self-attention when its config has it.
#[derive(Debug, Clone)]
pub struct FastBlock {
    attention: Option<FastAttention>,
    intra_norm: Norm,
    intra: [LstmDir; 2],
    intra_linear: Linear,
    inter_norm: Norm,
    inter: LstmDir,
    inter_linear: Linear,
    d: usize,
    h: usize,
}

impl FastBlock {
    /// The block stored under `prefix` (e.g. `blocks.0`).
    pub fn new(
        layout: &ParamLayout,
        prefix: &str,
        cfg: &ModelConfig,
        derived: &mut Derived,
    ) -> Result<Self> {
        let (d, h) = (cfg.d, cfg.hidden);
        let p = |n: &str| format!("{prefix}.{n}");
        let intra_rnn = p("intra_rnn");
        let attention = match cfg.attention {
            Some(a) => Some(FastAttention::new(
                layout,
                &p("attn"),
                (d, cfg.freqs(), a),
                derived,
            )?),
            None => None,
        };
        Ok(Self {
            attention,
            intra_norm: Norm::new(layout, &p("intra_norm"), d)?,
            intra: [
                LstmDir::new(layout, (&intra_rnn, ""), (d, h), derived)?,
                LstmDir::new(layout, (&intra_rnn, "_reverse"), (d, h), derived)?,
            ],
            intra_linear: Linear::new(layout, &p("intra_linear"), (2 * h, d), derived)?,
            inter_norm: Norm::new(layout, &p("inter_norm"), d)?,
            inter: LstmDir::new(layout, (&p("inter_rnn"), ""), (d, h), derived)?,
            inter_linear: Linear::new(layout, &p("inter_linear"), (h, d), derived)?,
            d,
            h,
        })
    }

    /// Rearranges this block's weights.
    pub fn prepare(&self, p: &[f32], d: &mut [f32]) {
        for dir in &self.intra {
            dir.prepare(p, d);
        }
        self.inter.prepare(p, d);
        self.intra_linear.prepare(p, d);
        self.inter_linear.prepare(p, d);
        if let Some(a) = &self.attention {
            a.prepare(p, d);
        }
    }

    /// Activation buffers for up to `geo`'s rows.
    pub fn acts(&self, geo: Geometry) -> BlockActs {
        BlockActs {
            attn: self.attention.as_ref().map(|a| a.acts(geo)),
            ..BlockActs::new(geo.rows(), self.d, self.h)
        }
    }

    /// Scratch for up to `geo`'s rows (shared by blocks of one shape).
    pub fn scratch(&self, geo: Geometry) -> BlockScratch {
        BlockScratch {
            attn: self.attention.as_ref().map(|a| a.scratch(geo)),
            ..BlockScratch::new(geo.rows(), self.d, self.h)
        }
    }

    /// `y` [rows, D] = block(`x` [rows, D]), keeping `acts`.
    #[allow(clippy::too_many_arguments)]
    pub fn forward(
        &self,
        k: &Kernels,
        (p, d): (&[f32], &[f32]),
        geo: Geometry,
        x: &[f32],
        y: &mut [f32],
        acts: &mut BlockActs,
        s: &mut BlockScratch,
    ) {
        let (dd, h, rows) = (self.d, self.h, geo.rows());
        let n = geo.frames();
        let tmp = &mut s.tmp[..rows * dd];
        to_bins(x, tmp, (n, geo.f, dd));
        self.intra_norm.forward(
            p,
            tmp,
            &mut acts.ln1_hat,
            &mut acts.ln1_rstd,
            &mut acts.ln1_y,
        );
        for (dir, lstm) in self.intra.iter().enumerate() {
            let seq = Sequences {
                steps: geo.f,
                rows: n,
                reverse: dir == 1,
            };
            let saved = Saved {
                gates: &mut acts.intra_gates[dir],
                c: &mut acts.intra_c[dir],
            };
            let at = HiddenAt {
                ld: 2 * h,
                offset: dir * h,
            };
            lstm.forward(k, d, &acts.ln1_y, seq, saved, &mut acts.intra_h, at);
        }
        self.intra_linear
            .forward(k, (p, d), &acts.intra_h, 2 * h, rows, tmp, dd);
        y[..rows * dd].copy_from_slice(&x[..rows * dd]);
        add_from_bins(tmp, y, (n, geo.f, dd));

        self.inter_norm.forward(
            p,
            &y[..rows * dd],
            &mut acts.ln2_hat,
            &mut acts.ln2_rstd,
            &mut acts.ln2_y,
        );
        let per = geo.t * geo.f;
        let seq = Sequences {
            steps: geo.t,
            rows: geo.f,
            reverse: false,
        };
        for b in 0..geo.b {
            let saved = Saved {
                gates: &mut acts.inter_gates[b * per * 4 * h..(b + 1) * per * 4 * h],
                c: &mut acts.inter_c[b * per * h..(b + 1) * per * h],
            };
            let at = HiddenAt { ld: h, offset: 0 };
            let x_b = &acts.ln2_y[b * per * dd..(b + 1) * per * dd];
            let h_b = &mut acts.inter_h[b * per * h..(b + 1) * per * h];
            self.inter.forward(k, d, x_b, seq, saved, h_b, at);
        }
        self.inter_linear
            .forward(k, (p, d), &acts.inter_h, h, rows, tmp, dd);
        for (a, b) in y[..rows * dd].iter_mut().zip(tmp.iter()) {
            *a += b;
        }
        if let (Some(a), Some(aa), Some(sa)) = (&self.attention, &mut acts.attn, &mut s.attn) {
            a.forward(k, (p, d), geo, (y, None), aa, sa);
        }
    }

    /// Turns `dx` [rows, D], the gradient of the block's output, into the
    /// gradient of its input, accumulating parameter gradients into `g`.
    pub fn backward(
        &self,
        k: &Kernels,
        p: &[f32],
        geo: Geometry,
        acts: &BlockActs,
        dx: &mut [f32],
        (g, s): (&mut [f32], &mut BlockScratch),
    ) {
        let (dd, h, rows) = (self.d, self.h, geo.rows());
        let n = geo.frames();
        let dx = &mut dx[..rows * dd];
        if let (Some(a), Some(aa), Some(sa)) = (&self.attention, &acts.attn, &mut s.attn) {
            a.backward(k, p, geo, aa, (dx, None), (&mut *g, sa));
        }

        // Inter-frame branch: x1 + inter_linear(LSTM(norm(x1))).
        let dh = &mut s.dh[..rows * h];
        dh.fill(0.0);
        self.inter_linear
            .backward(k, p, (&acts.inter_h, h), (dx, dd), rows, Some((dh, h)), g);
        let dy = &mut s.dy[..rows * dd];
        dy.fill(0.0);
        let per = geo.t * geo.f;
        let seq = Sequences {
            steps: geo.t,
            rows: geo.f,
            reverse: false,
        };
        let at = HiddenAt { ld: h, offset: 0 };
        for b in 0..geo.b {
            let (gs, cs, xs) = (b * per * 4 * h, b * per * h, b * per * dd);
            self.inter.backward(
                k,
                p,
                (&acts.ln2_y[xs..xs + per * dd], seq),
                (
                    &acts.inter_gates[gs..gs + per * 4 * h],
                    &acts.inter_c[cs..cs + per * h],
                ),
                (&acts.inter_h[cs..cs + per * h], &dh[cs..cs + per * h], at),
                &mut dy[xs..xs + per * dd],
                (&mut *g, &mut s.lstm),
            );
        }
        self.inter_norm
            .backward(p, (&acts.ln2_hat, &acts.ln2_rstd), dy, dx, g);

        // Intra-frame branch, in bins-major layout: x + intra_linear(BLSTM(norm(x))).
        let dtmp = &mut s.dtmp[..rows * dd];
        to_bins(dx, dtmp, (n, geo.f, dd));
        let dh = &mut s.dh[..rows * 2 * h];
        dh.fill(0.0);
        self.intra_linear.backward(
            k,
            p,
            (&acts.intra_h, 2 * h),
            (dtmp, dd),
            rows,
            Some((dh, 2 * h)),
            g,
        );
        dy.fill(0.0);
        for (dir, lstm) in self.intra.iter().enumerate() {
            let seq = Sequences {
                steps: geo.f,
                rows: n,
                reverse: dir == 1,
            };
            let at = HiddenAt {
                ld: 2 * h,
                offset: dir * h,
            };
            lstm.backward(
                k,
                p,
                (&acts.ln1_y, seq),
                (&acts.intra_gates[dir], &acts.intra_c[dir]),
                (&acts.intra_h, dh, at),
                dy,
                (&mut *g, &mut s.lstm),
            );
        }
        dtmp.fill(0.0);
        self.intra_norm
            .backward(p, (&acts.ln1_hat, &acts.ln1_rstd), dy, dtmp, g);
        add_from_bins(dtmp, dx, (n, geo.f, dd));
    }
}
