//! Attention for one frame: per-head maps, a ring of past keys and values,
//! and the output projection. Serves the large model's self-attention and
//! the merge modules' cross-attention.

use super::{
    dense::{layer_norm, prelu, Dense},
    tensors::TensorSource,
};
use crate::kernels::Kernels;
use crate::{error::Result, head_layout::HeadLayout};

/// Query, key or value maps of all heads for one frame: Dense, PReLU, per-head norm.
#[derive(Debug, Clone)]
pub struct HeadMaps {
    dense: Dense,
    slopes: Vec<f32>,
    gamma: Vec<f32>,
    beta: Vec<f32>,
    projected: Vec<f32>,
    heads: usize,
    width: usize,
    freqs: usize,
    layout: HeadLayout,
}

impl HeadMaps {
    /// Loads maps from `d` channels to `heads` x `width` over `freqs` bins.
    pub fn load(
        src: &TensorSource,
        d: usize,
        heads: usize,
        width: usize,
        freqs: usize,
        layout: HeadLayout,
    ) -> Result<Self> {
        let (slopes, norm_dims) = match layout {
            HeadLayout::ChannelMajor => (src.get("prelu", &[heads])?, vec![heads, width, freqs]),
            HeadLayout::FrequencyMajor => (src.get("prelu", &[1])?, vec![freqs * width]),
        };
        let norm = src.pp("norm");
        Ok(Self {
            dense: Dense::load(src, d, heads * width)?,
            slopes,
            gamma: norm.get("weight", &norm_dims)?,
            beta: norm.get("bias", &norm_dims)?,
            projected: vec![0.0; freqs * heads * width],
            heads,
            width,
            freqs,
            layout,
        })
    }

    /// Length of one head's flattened frame.
    pub fn head_len(&self) -> usize {
        self.width * self.freqs
    }

    /// Maps `x` [F, D] to `out` [heads, width * F] in the layout's flattening, normalised per head.
    pub fn forward(&mut self, k: &Kernels, x: &[f32], out: &mut [f32]) {
        let (h, w, f) = (self.heads, self.width, self.freqs);
        self.dense.forward(k, x, &mut self.projected, f);
        let len = w * f;
        for bin in 0..f {
            for head in 0..h {
                for c in 0..w {
                    let slope = match self.layout {
                        HeadLayout::ChannelMajor => self.slopes[head],
                        HeadLayout::FrequencyMajor => self.slopes[0],
                    };
                    let v = prelu(self.projected[bin * h * w + head * w + c], slope);
                    let idx = match self.layout {
                        HeadLayout::ChannelMajor => c * f + bin,
                        HeadLayout::FrequencyMajor => bin * w + c,
                    };
                    out[head * len + idx] = v;
                }
            }
        }
        for head in 0..h {
            let (g, b) = match self.layout {
                HeadLayout::ChannelMajor => (
                    &self.gamma[head * len..(head + 1) * len],
                    &self.beta[head * len..(head + 1) * len],
                ),
                HeadLayout::FrequencyMajor => (&self.gamma[..], &self.beta[..]),
            };
            layer_norm(&mut out[head * len..(head + 1) * len], g, b);
        }
    }

    /// Scatters per-head values [heads, width * F] back to a frame [F, heads * width].
    pub fn gather_heads(&self, values: &[f32], frame: &mut [f32]) {
        let (h, w, f) = (self.heads, self.width, self.freqs);
        for head in 0..h {
            for c in 0..w {
                for bin in 0..f {
                    let idx = match self.layout {
                        HeadLayout::ChannelMajor => c * f + bin,
                        HeadLayout::FrequencyMajor => bin * w + c,
                    };
                    frame[bin * h * w + head * w + c] = values[head * w * f + idx];
                }
            }
        }
    }
}

/// Keys and values of the last `window - 1` frames, per head, in a ring.
#[derive(Debug, Clone)]
pub struct KvRing {
    keys: Vec<f32>,
    values: Vec<f32>,
    slots: usize,
    filled: usize,
    next: usize,
    starts_full: bool,
    key_len: usize,
    value_len: usize,
    heads: usize,
}

impl KvRing {
    /// A ring of `window - 1` slots; `starts_full` makes the initial slots zeros that count.
    pub fn new(
        heads: usize,
        window: usize,
        key_len: usize,
        value_len: usize,
        starts_full: bool,
    ) -> Self {
        let slots = window - 1;
        Self {
            keys: vec![0.0; heads * slots * key_len],
            values: vec![0.0; heads * slots * value_len],
            slots,
            filled: if starts_full { slots } else { 0 },
            next: 0,
            starts_full,
            key_len,
            value_len,
            heads,
        }
    }

    /// Back to the initial context (a new stream).
    pub fn reset(&mut self) {
        self.keys.fill(0.0);
        self.values.fill(0.0);
        self.filled = if self.starts_full { self.slots } else { 0 };
        self.next = 0;
    }

    /// Attends `q` [heads, key_len] over the ring plus the current `k`, `v`;
    /// writes `out` [heads, value_len], then stores `k`, `v` in the ring.
    pub fn attend(
        &mut self,
        kern: &Kernels,
        q: &[f32],
        k: &[f32],
        v: &[f32],
        out: &mut [f32],
        scores: &mut [f32],
    ) {
        let (kl, vl, s) = (self.key_len, self.value_len, self.slots);
        let scale = 1.0 / (kl as f32).sqrt();
        for head in 0..self.heads {
            let qh = &q[head * kl..(head + 1) * kl];
            let ring_k = &self.keys[head * s * kl..];
            for (j, score) in scores[..self.filled].iter_mut().enumerate() {
                *score = kern.dot(qh, &ring_k[j * kl..(j + 1) * kl]) * scale;
            }
            scores[self.filled] = kern.dot(qh, &k[head * kl..(head + 1) * kl]) * scale;
            let n = self.filled + 1;
            let max = scores[..n].iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
            let mut sum = 0.0;
            for sc in &mut scores[..n] {
                *sc = crate::kernels::fastmath::exp(*sc - max);
                sum += *sc;
            }
            let oh = &mut out[head * vl..(head + 1) * vl];
            oh.fill(0.0);
            let ring_v = &self.values[head * s * vl..];
            for j in 0..self.filled {
                kern.axpy(oh, scores[j] / sum, &ring_v[j * vl..(j + 1) * vl]);
            }
            kern.axpy(
                oh,
                scores[self.filled] / sum,
                &v[head * vl..(head + 1) * vl],
            );
        }
        if s > 0 {
            for head in 0..self.heads {
                let slot = head * s + self.next;
                self.keys[slot * kl..(slot + 1) * kl]
                    .copy_from_slice(&k[head * kl..(head + 1) * kl]);
                self.values[slot * vl..(slot + 1) * vl]
                    .copy_from_slice(&v[head * vl..(head + 1) * vl]);
            }
            self.next = (self.next + 1) % s;
            self.filled = (self.filled + 1).min(s);
        }
    }
}

/// Output projection: Dense D -> D, PReLU, LayerNorm over the whole (f, d) frame.
#[derive(Debug, Clone)]
pub struct OutputProjection {
    dense: Dense,
    slope: f32,
    gamma: Vec<f32>,
    beta: Vec<f32>,
    freqs: usize,
}

impl OutputProjection {
    /// Loads the projection (norm affine [F, D]).
    pub fn load(src: &TensorSource, d: usize, freqs: usize) -> Result<Self> {
        let norm = src.pp("norm");
        Ok(Self {
            dense: Dense::load(src, d, d)?,
            slope: src.get("prelu", &[1])?[0],
            gamma: norm.get("weight", &[freqs, d])?,
            beta: norm.get("bias", &[freqs, d])?,
            freqs,
        })
    }

    /// Projects `x` [F, D] into `out` [F, D].
    pub fn forward(&self, k: &Kernels, x: &[f32], out: &mut [f32]) {
        self.dense.forward(k, x, out, self.freqs);
        for v in out.iter_mut() {
            *v = prelu(*v, self.slope);
        }
        layer_norm(out, &self.gamma, &self.beta);
    }
}

/// Multi-head attention of one frame over a window of frames, with its cache and scratch.
#[derive(Debug, Clone)]
pub struct FrameAttention {
    q: HeadMaps,
    k: HeadMaps,
    v: HeadMaps,
    ring: KvRing,
    proj: OutputProjection,
    qbuf: Vec<f32>,
    kbuf: Vec<f32>,
    vbuf: Vec<f32>,
    heads_out: Vec<f32>,
    frame: Vec<f32>,
    scores: Vec<f32>,
}

/// Shape of one attention layer.
#[derive(Debug, Clone, Copy)]
pub struct AttentionShape {
    /// Channels D.
    pub d: usize,
    /// Bins F.
    pub freqs: usize,
    /// Heads.
    pub heads: usize,
    /// Query/key channels per head.
    pub key_width: usize,
    /// Window in frames, current one included.
    pub window: usize,
    /// Flattening of a head's frame.
    pub layout: HeadLayout,
    /// Whether the window starts as zero frames that count (cross-attention) or empty.
    pub starts_full: bool,
}

impl FrameAttention {
    /// Loads `q`, `k`, `v` and `proj` under `src`.
    pub fn load(src: &TensorSource, s: AttentionShape) -> Result<Self> {
        let dv = s.d / s.heads;
        let q = HeadMaps::load(&src.pp("q"), s.d, s.heads, s.key_width, s.freqs, s.layout)?;
        let k = HeadMaps::load(&src.pp("k"), s.d, s.heads, s.key_width, s.freqs, s.layout)?;
        let v = HeadMaps::load(&src.pp("v"), s.d, s.heads, dv, s.freqs, s.layout)?;
        let (kl, vl) = (q.head_len(), v.head_len());
        Ok(Self {
            ring: KvRing::new(s.heads, s.window, kl, vl, s.starts_full),
            proj: OutputProjection::load(&src.pp("proj"), s.d, s.freqs)?,
            qbuf: vec![0.0; s.heads * kl],
            kbuf: vec![0.0; s.heads * kl],
            vbuf: vec![0.0; s.heads * vl],
            heads_out: vec![0.0; s.heads * vl],
            frame: vec![0.0; s.freqs * s.d],
            scores: vec![0.0; s.window],
            q,
            k,
            v,
        })
    }

    /// Back to the initial context.
    pub fn reset(&mut self) {
        self.ring.reset();
    }

    /// Attention branch for query frame `x` and key/value frame `kv` (both [F, D]) into `out` [F, D].
    pub fn forward(&mut self, kern: &Kernels, x: &[f32], kv: &[f32], out: &mut [f32]) {
        self.q.forward(kern, x, &mut self.qbuf);
        self.k.forward(kern, kv, &mut self.kbuf);
        self.v.forward(kern, kv, &mut self.vbuf);
        self.ring.attend(
            kern,
            &self.qbuf,
            &self.kbuf,
            &self.vbuf,
            &mut self.heads_out,
            &mut self.scores,
        );
        self.v.gather_heads(&self.heads_out, &mut self.frame);
        self.proj.forward(kern, &self.frame, out);
    }
}
