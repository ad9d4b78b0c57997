//! What a fast training step runs: one TF-GridNet, or a knowledge-boosting
//! pair (large model, hint compression, hint link of C frames, small model
//! with merge modules) trained end to end through the hints.

use super::{
    conv::{CausalConv, Frames},
    gridnet::{FastGridNet, Workspace},
    layout::ParamLayout,
    linear::Derived,
};
use crate::{
    config::{ModelConfig, WeightsConfig},
    error::Result,
    kernels::Kernels,
    metrics::Objective,
};

/// The large half of a pair: the model, the compression conv and the link delay.
#[derive(Debug, Clone)]
struct Large {
    net: FastGridNet,
    compress: CausalConv,
    delay: usize,
}

/// A single model or a pair over one flat parameter buffer.
#[derive(Debug, Clone)]
pub struct FastModel {
    small: FastGridNet,
    large: Option<Large>,
    derived_len: usize,
    freeze_large: bool,
}

/// The large half's buffers.
#[derive(Debug, Clone)]
struct LargeBuffers {
    ws: Workspace,
    /// Frozen: no backward pass, so its planned recompute count (which only
    /// sizes the activations it need not keep) recomputes nothing.
    frozen: bool,
    raw: Vec<f32>,
    draw: Vec<f32>,
    tap_grads: Vec<f32>,
}

/// Every buffer one thread needs for a step of a [`FastModel`].
#[derive(Debug, Clone)]
pub struct ModelWorkspace {
    /// The (small) model's workspace: input, targets, output and the gradients of every parameter.
    pub small: Workspace,
    large: Option<LargeBuffers>,
    /// Which hints arrive [b, T] (1 kept, 0 dropped: hint dropout).
    pub keep: Vec<f32>,
}

impl FastModel {
    /// The model `config` describes, its tensors named as in candle.
    pub fn new(layout: &ParamLayout, config: &WeightsConfig) -> Result<Self> {
        let mut derived = Derived::default();
        let (small, large) = match config {
            WeightsConfig::Single(cfg) => (
                FastGridNet::build(layout, ("", cfg), None, &mut derived)?,
                None,
            ),
            WeightsConfig::Joint(j) => {
                j.validate()?;
                let large = Large {
                    net: FastGridNet::build(layout, ("large.", &j.large), None, &mut derived)?,
                    compress: CausalConv::new(
                        layout,
                        "compress",
                        (j.large.out_channels(), j.hint_channels()),
                        &mut derived,
                    )?,
                    delay: j.delay,
                };
                let small =
                    FastGridNet::build(layout, ("small.", &j.small), Some(j), &mut derived)?;
                (small, Some(large))
            }
        };
        Ok(Self {
            small,
            large,
            derived_len: derived.len(),
            freeze_large: false,
        })
    }

    /// Holds a pair's large model fixed: its backward pass is skipped and its
    /// gradients stay zero; the hint compression still trains.
    pub fn set_freeze_large(&mut self, on: bool) {
        self.freeze_large = on;
    }

    /// The (small) model's shape: the one whose output is trained.
    pub fn config(&self) -> &ModelConfig {
        self.small.config()
    }

    /// Length of the derived (rearranged weights) buffer.
    pub fn derived_len(&self) -> usize {
        self.derived_len
    }

    /// Rearranges the weights in `p` into `d`.
    pub fn prepare(&self, p: &[f32], d: &mut [f32]) {
        self.small.prepare(p, d);
        if let Some(l) = &self.large {
            l.net.prepare(p, d);
            l.compress.prepare(p, d);
        }
    }

    /// Buffers for `capacity` examples of `samples` samples (as probed in
    /// `plan`), `params` parameters, in at most about `limit` bytes where recomputing blocks
    /// in the backward pass can make them fit (a frozen large model keeps no
    /// activations: it has no backward pass).
    pub fn workspace(
        &self,
        plan: &MemoryPlan,
        (capacity, samples): (usize, usize),
        params: usize,
        limit: Option<usize>,
    ) -> ModelWorkspace {
        let mut nets: Vec<NetPlan> = plan.nets.iter().map(|p| p.times(capacity)).collect();
        if let Some(limit) = limit {
            plan_recompute(&mut nets, limit);
        }
        let small = Workspace::new(&self.small, (capacity, samples), params, nets[0].recompute);
        let rows = capacity * small.frames() * self.small.config().freqs();
        let large = self.large.as_ref().map(|l| LargeBuffers {
            ws: Workspace::new(&l.net, (capacity, samples), params, nets[1].recompute),
            frozen: self.freeze_large,
            raw: vec![0.0; rows * self.small.hint_channels()],
            draw: vec![0.0; rows * self.small.hint_channels()],
            tap_grads: vec![0.0; l.compress.tap_grad_len()],
        });
        ModelWorkspace {
            keep: vec![1.0; capacity * small.frames()],
            small,
            large,
        }
    }

    /// The most examples one pass may hold (at most `capacity`, 1 when even
    /// one example needs recomputed blocks) for every trained net of `plan`
    /// to keep all its blocks' activations within `limit` bytes; a batch of `capacity`
    /// runs in as few passes as that allows, their sizes as even as they go.
    pub fn examples_per_pass(
        &self,
        plan: &MemoryPlan,
        capacity: usize,
        limit: Option<usize>,
    ) -> usize {
        let Some(limit) = limit else {
            return capacity;
        };
        let fits = |s: usize| plan.nets.iter().map(|n| n.times(s).bytes()).sum::<usize>() <= limit;
        match (1..=capacity).rev().find(|&s| fits(s)) {
            Some(s) => capacity.div_ceil(capacity.div_ceil(s)),
            None => capacity.min(1),
        }
    }

    /// Each net's memory for one example of `samples` samples and `params`
    /// parameters, keeping every block a backward pass needs (a frozen large
    /// model keeps only its last), probed once for every workspace to come.
    pub fn memory_plan(&self, samples: usize, params: usize) -> MemoryPlan {
        let mut nets = vec![NetPlan::probe(&self.small, samples, params)];
        if let Some(l) = &self.large {
            let mut plan = NetPlan::probe(&l.net, samples, params);
            if self.freeze_large {
                plan.recompute = l.net.blocks().saturating_sub(1);
                plan.fixed = true;
            }
            nets.push(plan);
        }
        MemoryPlan { nets }
    }

    /// Runs `examples` mixtures forward (the input already in `ws`): the large
    /// model, the hints and the link, then the small model; output in `ws.small.audio`.
    pub fn forward(
        &self,
        k: &Kernels,
        pd: (&[f32], &[f32]),
        ws: &mut ModelWorkspace,
        examples: usize,
    ) {
        if let (Some(l), Some(lb)) = (&self.large, ws.large.as_mut()) {
            l.net.forward(k, pd, &mut lb.ws, examples);
            let (t, f) = (ws.small.frames(), self.small.config().freqs());
            let frames = Frames { b: examples, t, f };
            l.compress.forward(k, pd, &lb.ws.spec, frames, &mut lb.raw);
            link(
                (&lb.raw, &mut ws.small.hints),
                &ws.keep,
                (frames, self.small.hint_channels(), l.delay),
            );
        }
        self.small.forward(k, pd, &mut ws.small, examples);
    }

    /// The loss of the forward pass and the backward pass of every part;
    /// the gradients of all parameters are added to `ws.small.grads` (the
    /// large model's move there, leaving its own buffer zero), so passes
    /// over parts of a batch accumulate its gradient.
    pub fn backward(
        &self,
        k: &Kernels,
        pd: (&[f32], &[f32]),
        ws: &mut ModelWorkspace,
        shape: (usize, usize),
        loss: (Objective, f64),
    ) -> (f64, usize) {
        let out = self.small.backward(k, pd, &mut ws.small, shape, loss);
        if let (Some(l), Some(lb)) = (&self.large, ws.large.as_mut()) {
            let examples = shape.0;
            let (t, f) = (ws.small.frames(), self.small.config().freqs());
            let frames = Frames { b: examples, t, f };
            let hc = self.small.hint_channels();
            lb.draw[..frames.rows() * hc].fill(0.0);
            unlink(
                (&ws.small.dhints, &mut lb.draw),
                &ws.keep,
                (frames, hc, l.delay),
            );
            let dspec = if self.freeze_large {
                None
            } else {
                let oc = l.net.config().out_channels();
                lb.ws.dspec[..frames.rows() * oc].fill(0.0);
                Some(&mut lb.ws.dspec[..])
            };
            l.compress.backward(
                k,
                pd.1,
                &lb.ws.spec,
                &lb.draw,
                frames,
                dspec,
                (&mut lb.ws.grads, &mut lb.tap_grads),
            );
            if !self.freeze_large {
                l.net.backward_spectrum(k, pd, &mut lb.ws, examples);
            }
            for (a, b) in ws.small.grads.iter_mut().zip(&mut lb.ws.grads) {
                *a += *b;
                *b = 0.0;
            }
        }
        out
    }
}

impl ModelWorkspace {
    /// Bytes of every buffer, and the blocks the backward pass recomputes.
    pub fn bytes(&self) -> (usize, usize) {
        let (mut bytes, mut redo) = (self.small.bytes(), self.small.recompute());
        if let Some(lb) = &self.large {
            bytes += lb.ws.bytes();
            if !lb.frozen {
                redo += lb.ws.recompute();
            }
        }
        (bytes, redo)
    }

    /// Copies `examples` mixtures [b, M, samples] into every model's input.
    pub fn set_input(&mut self, mixture: &[f32], examples: usize, samples: usize) {
        self.small.set_input(mixture, examples, samples);
        if let Some(lb) = &mut self.large {
            lb.ws.set_input(mixture, examples, samples);
        }
    }

    /// Copies `examples` speaker embeddings [b, E] into every model's input (target extraction).
    pub fn set_speakers(&mut self, speakers: &[f32], examples: usize) {
        let n = self.small.speakers.len() / self.small.capacity.max(1) * examples;
        self.small.speakers[..n].copy_from_slice(&speakers[..n]);
        if let Some(lb) = &mut self.large {
            lb.ws.speakers[..n].copy_from_slice(&speakers[..n]);
        }
    }

    /// Clears every parameter gradient.
    pub fn clear_grads(&mut self) {
        self.small.grads.fill(0.0);
        if let Some(lb) = &mut self.large {
            lb.ws.grads.fill(0.0);
        }
    }
}

/// One example's memory in each net of a model, the small net first.
#[derive(Debug, Clone)]
pub struct MemoryPlan {
    nets: Vec<NetPlan>,
}

/// The memory of one net's workspace as a function of its recomputed blocks,
/// scaled from a one-example probe (a slight overestimate: the parameter
/// gradients do not grow with the batch).
#[derive(Debug, Clone, Copy)]
struct NetPlan {
    bytes: usize,
    block: usize,
    redo: usize,
    blocks: usize,
    recompute: usize,
    /// The recompute count is set (a frozen model's) and must not change.
    fixed: bool,
}

impl NetPlan {
    /// One example's plan, keeping every block.
    fn probe(net: &FastGridNet, samples: usize, params: usize) -> Self {
        let one = Workspace::new(net, (1, samples), params, 0);
        Self {
            bytes: one.bytes(),
            block: one.block_bytes(),
            redo: one.row_bytes(),
            blocks: net.blocks(),
            recompute: 0,
            fixed: false,
        }
    }

    /// The plan for `capacity` examples.
    fn times(&self, capacity: usize) -> Self {
        Self {
            bytes: capacity * self.bytes,
            block: capacity * self.block,
            redo: capacity * self.redo,
            ..*self
        }
    }

    /// Bytes at the planned recompute count (each recomputed block frees its
    /// activations, the first adds an output buffer).
    fn bytes(&self) -> usize {
        let redo = if self.recompute > 0 { self.redo } else { 0 };
        self.bytes - self.recompute * self.block + redo
    }

    fn can_grow(&self) -> bool {
        !self.fixed && self.recompute + 1 < self.blocks
    }
}

/// Recomputes one more block at a time, of the net whose blocks are the
/// largest, until the workspaces fit in `limit` bytes (or every net keeps
/// only its last block's activations).
fn plan_recompute(nets: &mut [NetPlan], limit: usize) {
    while nets.iter().map(NetPlan::bytes).sum::<usize>() > limit {
        let Some(best) = nets
            .iter_mut()
            .filter(|n| n.can_grow())
            .max_by_key(|n| n.block)
        else {
            return;
        };
        best.recompute += 1;
    }
}

/// The hint link: the hint computed at frame t arrives at frame t + `delay`
/// (zeros before), times `keep` of the frame it arrives at.
fn link((raw, hints): (&[f32], &mut [f32]), keep: &[f32], (fr, hc, delay): (Frames, usize, usize)) {
    let per = fr.f * hc;
    for b in 0..fr.b {
        for t in 0..fr.t {
            let dst = &mut hints[(b * fr.t + t) * per..(b * fr.t + t + 1) * per];
            match t.checked_sub(delay) {
                Some(src) => {
                    let kv = keep[b * fr.t + t];
                    let from = &raw[(b * fr.t + src) * per..(b * fr.t + src + 1) * per];
                    for (d, r) in dst.iter_mut().zip(from) {
                        *d = r * kv;
                    }
                }
                None => dst.fill(0.0),
            }
        }
    }
}

/// Gradient of [`link`]: adds the arriving hints' gradient to the raw hints'.
fn unlink(
    (dhints, draw): (&[f32], &mut [f32]),
    keep: &[f32],
    (fr, hc, delay): (Frames, usize, usize),
) {
    let per = fr.f * hc;
    for b in 0..fr.b {
        for t in delay..fr.t {
            let kv = keep[b * fr.t + t];
            let src = t - delay;
            let from = &dhints[(b * fr.t + t) * per..(b * fr.t + t + 1) * per];
            for (d, g) in draw[(b * fr.t + src) * per..(b * fr.t + src + 1) * per]
                .iter_mut()
                .zip(from)
            {
                *d += g * kv;
            }
        }
    }
}
