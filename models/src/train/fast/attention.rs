//! Multi-head attention over time on the fast path, forward and backward:
//! the large model's causal local self-attention and the merge modules'
//! cross-attention. Query, key and value head maps, attention over a window
//! of frames from a fresh state, and the output projection.

use super::{
    activation::Prelu,
    block::Geometry,
    floats,
    layout::ParamLayout,
    linear::{transpose_into, Derived, Linear},
    norm::Norm,
};
use crate::{
    config::AttentionConfig,
    error::Result,
    head_layout::{cross_attention_key_width, self_attention_key_width},
    kernels::Kernels,
};

/// Which attention: the layout of a head's frame and where keys come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttnKind {
    /// Self-attention: a head's frame is indexed c * F + f, one PReLU slope
    /// and one norm affine per head; the first frames see only what exists.
    SelfAttention,
    /// Cross-attention: indexed f * width + c, one slope and one affine for
    /// all heads; keys and values come from a second input, and the context
    /// starts as `window - 1` zero frames that take part in the softmax.
    CrossAttention,
}

/// 1x1 conv D -> heads * width, PReLU, norm over each head's (channel, frequency) frame.
#[derive(Debug, Clone)]
struct HeadMap {
    linear: Linear,
    prelu: Prelu,
    norm: Norm,
    heads: usize,
    width: usize,
    per_head: bool,
}

impl HeadMap {
    fn new(
        layout: &ParamLayout,
        prefix: &str,
        (d, heads, width, freqs): (usize, usize, usize, usize),
        (kind, derived): (AttnKind, &mut Derived),
    ) -> Result<Self> {
        let per_head = kind == AttnKind::SelfAttention;
        let groups = if per_head { heads } else { 1 };
        Ok(Self {
            linear: Linear::new(layout, prefix, (d, heads * width), derived)?,
            prelu: Prelu::new(layout, &format!("{prefix}.prelu"), groups)?,
            norm: Norm::grouped(layout, &format!("{prefix}.norm"), width * freqs, groups)?,
            heads,
            width,
            per_head,
        })
    }

    fn channels(&self) -> usize {
        self.heads * self.width
    }

    /// The norm affine of head `h`.
    fn group(&self, h: usize) -> usize {
        if self.per_head {
            h
        } else {
            0
        }
    }
}

/// What one head map keeps for its backward pass.
#[derive(Debug, Clone)]
struct MapActs {
    /// Conv output before the PReLU [rows, heads * width].
    pre: Vec<f32>,
    /// Normalised frames before the affine [b, heads, T, width * F].
    hat: Vec<f32>,
    rstd: Vec<f32>,
    /// The map's output (queries, keys or values) [b, heads, T, width * F].
    out: Vec<f32>,
}

impl MapActs {
    fn floats(&self) -> usize {
        floats(&[&self.pre, &self.hat, &self.rstd, &self.out])
    }

    fn new(rows: usize, map: &HeadMap, frames: usize) -> Self {
        let n = rows * map.channels();
        Self {
            pre: vec![0.0; n],
            hat: vec![0.0; n],
            rstd: vec![0.0; frames * map.heads],
            out: vec![0.0; n],
        }
    }
}

/// Activations of one attention layer.
#[derive(Debug, Clone)]
pub struct AttnActs {
    input: Vec<f32>,
    /// Keys' and values' input (cross-attention only).
    kv_input: Vec<f32>,
    maps: [MapActs; 3],
    probs: Vec<f32>,
    concat: Vec<f32>,
    proj_pre: Vec<f32>,
    proj_hat: Vec<f32>,
    proj_rstd: Vec<f32>,
}

impl AttnActs {
    /// Floats held.
    pub fn floats(&self) -> usize {
        let maps: usize = self.maps.iter().map(MapActs::floats).sum();
        maps + floats(&[
            &self.input,
            &self.kv_input,
            &self.probs,
            &self.concat,
            &self.proj_pre,
            &self.proj_hat,
            &self.proj_rstd,
        ])
    }
}

impl AttnScratch {
    /// Floats held.
    pub fn floats(&self) -> usize {
        let [q, k, v] = &self.grads;
        floats(&[
            &self.act,
            &self.frames,
            &self.transposed,
            &self.square,
            q,
            k,
            v,
            &self.branch,
        ])
    }
}

/// Scratch of one attention layer.
#[derive(Debug, Clone)]
pub struct AttnScratch {
    act: Vec<f32>,
    frames: Vec<f32>,
    transposed: Vec<f32>,
    square: Vec<f32>,
    grads: [Vec<f32>; 3],
    branch: Vec<f32>,
}

/// Multi-head attention over time: [`SelfAttention`] or [`CrossAttention`].
#[derive(Debug, Clone)]
pub struct FastAttention {
    maps: [HeadMap; 3],
    proj_linear: Linear,
    proj_prelu: Prelu,
    proj_norm: Norm,
    kind: AttnKind,
    heads: usize,
    window: usize,
    d: usize,
    f: usize,
}

impl FastAttention {
    /// The self-attention stored under `prefix` (e.g. `blocks.0.attn`) for width `d` over `f` bins.
    pub fn new(
        layout: &ParamLayout,
        prefix: &str,
        (d, f, cfg): (usize, usize, AttentionConfig),
        derived: &mut Derived,
    ) -> Result<Self> {
        let e = self_attention_key_width(f);
        let dims = (d, f, cfg.heads, cfg.window, e);
        Self::build(layout, prefix, dims, (AttnKind::SelfAttention, derived))
    }

    /// The cross-attention stored under `prefix` (e.g. `merges.0.cross_attn`)
    /// of `heads` heads over `context` frames.
    pub fn cross(
        layout: &ParamLayout,
        prefix: &str,
        (d, f, heads, context): (usize, usize, usize, usize),
        derived: &mut Derived,
    ) -> Result<Self> {
        let e = cross_attention_key_width(f);
        let dims = (d, f, heads, context, e);
        Self::build(layout, prefix, dims, (AttnKind::CrossAttention, derived))
    }

    fn build(
        layout: &ParamLayout,
        prefix: &str,
        (d, f, h, window, e): (usize, usize, usize, usize, usize),
        (kind, derived): (AttnKind, &mut Derived),
    ) -> Result<Self> {
        let p = |n: &str| format!("{prefix}.{n}");
        Ok(Self {
            maps: [
                HeadMap::new(layout, &p("q"), (d, h, e, f), (kind, derived))?,
                HeadMap::new(layout, &p("k"), (d, h, e, f), (kind, derived))?,
                HeadMap::new(layout, &p("v"), (d, h, d / h, f), (kind, derived))?,
            ],
            proj_linear: Linear::new(layout, &p("proj"), (d, d), derived)?,
            proj_prelu: Prelu::new(layout, &p("proj.prelu"), 1)?,
            proj_norm: Norm::new(layout, &p("proj.norm"), f * d)?,
            kind,
            heads: h,
            window,
            d,
            f,
        })
    }

    /// Rearranges the layer's weights.
    pub fn prepare(&self, p: &[f32], d: &mut [f32]) {
        for map in &self.maps {
            map.linear.prepare(p, d);
        }
        self.proj_linear.prepare(p, d);
    }

    /// Activation buffers for up to `geo`'s rows.
    pub fn acts(&self, geo: Geometry) -> AttnActs {
        let (rows, frames) = (geo.rows(), geo.b * geo.t);
        let z = |n: usize| vec![0f32; n];
        AttnActs {
            input: z(rows * self.d),
            kv_input: z(if self.kind == AttnKind::CrossAttention {
                rows * self.d
            } else {
                0
            }),
            maps: [0, 1, 2].map(|i| MapActs::new(rows, &self.maps[i], frames)),
            probs: z(frames * self.heads * geo.t),
            concat: z(rows * self.d),
            proj_pre: z(rows * self.d),
            proj_hat: z(rows * self.d),
            proj_rstd: z(frames),
        }
    }

    /// Scratch for up to `geo`'s rows.
    pub fn scratch(&self, geo: Geometry) -> AttnScratch {
        let rows = geo.rows();
        let widest = self.maps.iter().map(HeadMap::channels).max().unwrap_or(0);
        let wide = widest.max(self.d);
        let z = |n: usize| vec![0f32; n];
        AttnScratch {
            act: z(rows * wide),
            frames: z(rows * wide),
            transposed: z(geo.t * widest * self.f),
            square: z(geo.t * geo.t),
            grads: [0, 1, 2].map(|i| z(rows * self.maps[i].channels())),
            branch: z(rows * self.d),
        }
    }

    /// Moves between a [rows, width] buffer and a head buffer [b, heads, T,
    /// width / heads * F] (a head's frame indexed as the kind says), either way.
    fn gather(
        &self,
        geo: Geometry,
        width: usize,
        rows_to_heads: bool,
        src: &[f32],
        dst: &mut [f32],
    ) {
        let (t, f, h) = (geo.t, geo.f, self.heads);
        let w = width / h;
        let (cs, fs) = match self.kind {
            AttnKind::SelfAttention => (f, 1),
            AttnKind::CrossAttention => (1, w),
        };
        for b in 0..geo.b {
            for ti in 0..t {
                for fi in 0..f {
                    let row = ((b * t + ti) * f + fi) * width;
                    for hi in 0..h {
                        let base = ((b * h + hi) * t + ti) * w * f + fi * fs;
                        for c in 0..w {
                            let (r, hd) = (row + hi * w + c, base + c * cs);
                            if rows_to_heads {
                                dst[hd] = src[r];
                            } else {
                                dst[r] = src[hd];
                            }
                        }
                    }
                }
            }
        }
    }

    /// Adds the attention branch to `y` [rows, D], whose entry value gives the
    /// queries (and the keys and values of a self-attention; a
    /// cross-attention's come from `kv` [rows, D]), keeping `acts`.
    pub fn forward(
        &self,
        k: &Kernels,
        (p, d): (&[f32], &[f32]),
        geo: Geometry,
        (y, kv): (&mut [f32], Option<&[f32]>),
        acts: &mut AttnActs,
        s: &mut AttnScratch,
    ) {
        let (rows, dd, t, h) = (geo.rows(), self.d, geo.t, self.heads);
        acts.input[..rows * dd].copy_from_slice(&y[..rows * dd]);
        if let Some(kv) = kv {
            acts.kv_input[..rows * dd].copy_from_slice(&kv[..rows * dd]);
        }
        let cross = self.kind == AttnKind::CrossAttention;
        for (i, (map, ma)) in self.maps.iter().zip(acts.maps.iter_mut()).enumerate() {
            let ch = map.channels();
            let input = if cross && i > 0 {
                &acts.kv_input
            } else {
                &acts.input
            };
            map.linear
                .forward(k, (p, d), input, dd, rows, &mut ma.pre, ch);
            map.prelu
                .forward(p, &ma.pre[..rows * ch], ch, &mut s.act[..rows * ch]);
            self.gather(geo, ch, true, &s.act, &mut s.frames);
            let per = t * map.width * self.f;
            for bh in 0..geo.b * h {
                let span = bh * per..(bh + 1) * per;
                map.norm.forward_in(
                    map.group(bh % h),
                    p,
                    &s.frames[span.clone()],
                    (
                        &mut ma.hat[span.clone()],
                        &mut ma.rstd[bh * t..(bh + 1) * t],
                    ),
                    &mut ma.out[span],
                );
            }
        }
        let (dk, dv) = (self.maps[0].width * self.f, self.maps[2].width * self.f);
        let scale = 1.0 / (dk as f32).sqrt();
        let heads_out = &mut s.grads[2][..rows * dd];
        for bh in 0..geo.b * h {
            let q = &acts.maps[0].out[bh * t * dk..(bh + 1) * t * dk];
            let kk = &acts.maps[1].out[bh * t * dk..(bh + 1) * t * dk];
            let v = &acts.maps[2].out[bh * t * dv..(bh + 1) * t * dv];
            let probs = &mut acts.probs[bh * t * t..(bh + 1) * t * t];
            transpose_into(kk, t, dk, &mut s.transposed[..dk * t]);
            probs.fill(0.0);
            k.gemm(probs, q, &s.transposed, t, dk, t);
            for i in 0..t {
                let lo = (i + 1).saturating_sub(self.window);
                // A cross-attention's context starts as zero frames: score 0, value 0.
                let zeros = if cross {
                    (self.window - 1).saturating_sub(i)
                } else {
                    0
                };
                let row = &mut probs[i * t..(i + 1) * t];
                let start = if zeros > 0 { 0.0 } else { f32::NEG_INFINITY };
                let max = row[lo..=i].iter().fold(start, |m, &v| m.max(v * scale));
                let mut sum = zeros as f32 * (-max).exp();
                for v in &mut row[lo..=i] {
                    *v = (*v * scale - max).exp();
                    sum += *v;
                }
                row[..lo].fill(0.0);
                row[i + 1..].fill(0.0);
                row[lo..=i].iter_mut().for_each(|v| *v /= sum);
            }
            let out = &mut heads_out[bh * t * dv..(bh + 1) * t * dv];
            out.fill(0.0);
            k.gemm(out, probs, v, t, t, dv);
        }
        self.gather(geo, dd, false, &s.grads[2], &mut acts.concat);
        self.proj_linear
            .forward(k, (p, d), &acts.concat, dd, rows, &mut acts.proj_pre, dd);
        self.proj_prelu
            .forward(p, &acts.proj_pre[..rows * dd], dd, &mut s.act[..rows * dd]);
        let branch = &mut s.branch[..rows * dd];
        self.proj_norm.forward(
            p,
            &s.act[..rows * dd],
            &mut acts.proj_hat,
            &mut acts.proj_rstd,
            branch,
        );
        for (a, b) in y[..rows * dd].iter_mut().zip(branch.iter()) {
            *a += b;
        }
    }

    /// `dx` [rows, D] holds the gradient of the layer's output; adds the
    /// gradient that flows through the branch to it (a cross-attention's key
    /// and value input gets its gradient added to `dkv`), and the parameter
    /// gradients to `g`.
    pub fn backward(
        &self,
        k: &Kernels,
        p: &[f32],
        geo: Geometry,
        acts: &AttnActs,
        (dx, mut dkv): (&mut [f32], Option<&mut [f32]>),
        (g, s): (&mut [f32], &mut AttnScratch),
    ) {
        let (rows, dd, t, h) = (geo.rows(), self.d, geo.t, self.heads);
        let dact = &mut s.act[..rows * dd];
        dact.fill(0.0);
        self.proj_norm.backward(
            p,
            (&acts.proj_hat, &acts.proj_rstd),
            &dx[..rows * dd],
            dact,
            g,
        );
        self.proj_prelu
            .backward(p, &acts.proj_pre[..rows * dd], dd, dact, g);
        let dconcat = &mut s.branch[..rows * dd];
        dconcat.fill(0.0);
        self.proj_linear.backward(
            k,
            p,
            (&acts.concat, dd),
            (dact, dd),
            rows,
            Some((dconcat, dd)),
            g,
        );
        // Per-head output gradients [b, heads, T, dv], in the act scratch.
        self.gather(geo, dd, true, &s.branch, &mut s.act);
        let (dk, dv) = (self.maps[0].width * self.f, self.maps[2].width * self.f);
        let scale = 1.0 / (dk as f32).sqrt();
        let [dq, dkey, dval] = &mut s.grads;
        for bh in 0..geo.b * h {
            let (qs, vs) = (
                bh * t * dk..(bh + 1) * t * dk,
                bh * t * dv..(bh + 1) * t * dv,
            );
            let q = &acts.maps[0].out[qs.clone()];
            let kk = &acts.maps[1].out[qs.clone()];
            let v = &acts.maps[2].out[vs.clone()];
            let probs = &acts.probs[bh * t * t..(bh + 1) * t * t];
            let dout = &s.act[vs.clone()];
            let dprobs = &mut s.square[..t * t];
            transpose_into(v, t, dv, &mut s.transposed[..dv * t]);
            dprobs.fill(0.0);
            k.gemm(dprobs, dout, &s.transposed, t, dv, t);
            let dv_b = &mut dval[vs];
            dv_b.fill(0.0);
            let ld = crate::kernels::Strides {
                out: dv,
                x: t,
                w: dv,
            };
            k.gemm_tn(dv_b, probs, dout, (t, t, dv), ld);
            for i in 0..t {
                let (pr, dr) = (&probs[i * t..(i + 1) * t], &mut dprobs[i * t..(i + 1) * t]);
                let dot: f32 = pr.iter().zip(dr.iter()).map(|(a, b)| a * b).sum();
                for (d, &pv) in dr.iter_mut().zip(pr) {
                    *d = pv * (*d - dot) * scale;
                }
            }
            let dq_b = &mut dq[qs.clone()];
            dq_b.fill(0.0);
            k.gemm(dq_b, dprobs, kk, t, t, dk);
            let dk_b = &mut dkey[qs];
            dk_b.fill(0.0);
            let ld = crate::kernels::Strides {
                out: dk,
                x: t,
                w: dk,
            };
            k.gemm_tn(dk_b, dprobs, q, (t, t, dk), ld);
        }
        for (i, (map, ma)) in self.maps.iter().zip(&acts.maps).enumerate() {
            let ch = map.channels();
            let per = t * map.width * self.f;
            let dframes = &mut s.frames[..rows * ch];
            dframes.fill(0.0);
            for bh in 0..geo.b * h {
                let span = bh * per..(bh + 1) * per;
                map.norm.backward_in(
                    map.group(bh % h),
                    p,
                    (&ma.hat[span.clone()], &ma.rstd[bh * t..(bh + 1) * t]),
                    (&s.grads[i][span.clone()], &mut dframes[span]),
                    g,
                );
            }
            self.gather(geo, ch, false, &s.frames, &mut s.act);
            let dpre = &mut s.act[..rows * ch];
            map.prelu.backward(p, &ma.pre[..rows * ch], ch, dpre, g);
            let (input, dinput) = match (i, dkv.as_deref_mut()) {
                (1 | 2, Some(dkv)) => (&acts.kv_input, dkv),
                _ => (&acts.input, &mut *dx),
            };
            map.linear.backward(
                k,
                p,
                (input, dd),
                (dpre, ch),
                rows,
                Some((&mut dinput[..rows * dd], dd)),
                g,
            );
        }
    }
}
