//! A training step over two threads: each takes half the batch with its own
//! workspace; one barrier starts the halves, one ends them, and the main
//! thread sums the gradients. A half whose examples would not all fit in
//! its share of the memory limit runs them in several passes, accumulating
//! the gradient, rather than recompute blocks. Nothing is allocated after
//! construction.

use std::{
    sync::{Arc, Barrier, Mutex, MutexGuard, RwLock},
    thread::JoinHandle,
};

use super::joint::{FastModel, ModelWorkspace};
use crate::{kernels::Kernels, metrics::Objective};

/// What the halves run.
#[derive(Debug, Clone, Copy)]
enum Job {
    /// Forward, loss and backward, losses scaled by `scale`.
    Train { scale: f64, objective: Objective },
    /// Forward only.
    Forward,
    /// The helper thread ends.
    Stop,
}

/// The weights both halves read: parameters and their rearranged copies.
#[derive(Debug)]
struct Weights {
    params: Vec<f32>,
    derived: Vec<f32>,
}

/// One half of a batch: its workspace, its examples and results.
#[derive(Debug)]
struct Half {
    ws: ModelWorkspace,
    /// Examples the half may take.
    capacity: usize,
    /// Examples one pass holds (the workspace's capacity).
    per_pass: usize,
    examples: usize,
    /// The half's mixtures [capacity, M, samples].
    mixture: Vec<f32>,
    /// Their targets [capacity, S, M, samples].
    targets: Vec<f32>,
    /// Which hints arrive [capacity, frames].
    keep: Vec<f32>,
    /// The examples scored in the targets' order.
    fixed: Vec<bool>,
    /// Their speaker embeddings [capacity, E] (target extraction).
    speakers: Vec<f32>,
    /// Outputs of a forward job [capacity, S, M, samples].
    out: Vec<f32>,
    loss: f64,
    swaps: usize,
}

/// What every example holds: ears, output channels (sources times ears) and samples.
#[derive(Debug, Clone, Copy)]
struct Shape {
    ears: usize,
    outputs: usize,
    samples: usize,
    speaker: usize,
}

struct Shared {
    model: FastModel,
    shape: Shape,
    kernels: Kernels,
    weights: RwLock<Weights>,
    halves: [Mutex<Half>; 2],
    job: Mutex<Job>,
    go: Barrier,
    done: Barrier,
}

impl Shared {
    fn half(&self, i: usize) -> MutexGuard<'_, Half> {
        self.halves[i].lock().expect("a training thread panicked")
    }

    /// Runs `job` on half `i`'s examples, in passes of at most `per_pass`.
    fn run(&self, i: usize, job: Job) {
        let w = self.weights.read().expect("a training thread panicked");
        let mut half = self.half(i);
        let half = &mut *half;
        if half.examples == 0 {
            return;
        }
        let pd = (w.params.as_slice(), w.derived.as_slice());
        let Shape {
            ears: m,
            outputs: kk,
            samples: n,
            speaker: e,
        } = self.shape;
        let t = half.ws.small.frames();
        let train = match job {
            Job::Train { scale, objective } => Some((objective, scale)),
            _ => None,
        };
        if train.is_some() {
            half.ws.clear_grads();
        }
        (half.loss, half.swaps) = (0.0, 0);
        let mut first = 0;
        while first < half.examples {
            let count = half.per_pass.min(half.examples - first);
            let (ws, span) = (&mut half.ws, first..first + count);
            ws.set_input(&half.mixture[first * m * n..], count, n);
            ws.set_speakers(&half.speakers[first * e..], count);
            ws.keep[..count * t].copy_from_slice(&half.keep[first * t..span.end * t]);
            if train.is_some() {
                ws.small.targets[..count * kk * n]
                    .copy_from_slice(&half.targets[first * kk * n..span.end * kk * n]);
                ws.small.fixed_order[..count].copy_from_slice(&half.fixed[span]);
            }
            self.model.forward(&self.kernels, pd, ws, count);
            match train {
                Some(loss) => {
                    let (l, swaps) = self.model.backward(&self.kernels, pd, ws, (count, n), loss);
                    half.loss += l;
                    half.swaps += swaps;
                }
                None => {
                    let per = t * self.model.config().chunk;
                    for (b, ch) in (0..count).flat_map(|b| (0..kk).map(move |ch| (b, ch))) {
                        let src = &ws.small.audio[(b * kk + ch) * per..][..n];
                        half.out[((first + b) * kk + ch) * n..][..n].copy_from_slice(src);
                    }
                }
            }
            first += count;
        }
    }
}

/// Results of one training step.
#[derive(Debug, Clone, Copy)]
pub struct StepOutcome {
    /// Mean loss over the batch.
    pub loss: f64,
    /// Examples whose best assignment swapped the two sources.
    pub swaps: usize,
}

/// The memory a [`FastStep`] holds and how it meets its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Footprint {
    /// Bytes of both halves' buffers.
    pub bytes: usize,
    /// Blocks whose activations a backward pass recomputes.
    pub recomputed: usize,
    /// Examples a half runs in one pass (a half's share of a full batch
    /// when it fits at once).
    pub per_pass: usize,
}

/// Forward and backward passes of a [`FastModel`] over batches of up to
/// `capacity` examples of `samples` samples, on one or two threads.
pub struct FastStep {
    shared: Arc<Shared>,
    helper: Option<JoinHandle<()>>,
    capacity: usize,
    objective: Objective,
    /// Speaker embeddings of the next batch [capacity, E] (target extraction).
    speakers: Vec<f32>,
    /// Summed gradients of the last step.
    pub grads: Vec<f32>,
}

impl FastStep {
    /// Workspaces for batches of `capacity` examples of `samples` samples;
    /// `threads` 1 or 2; both halves' buffers together take at most about
    /// `limit` bytes where running a half's examples in several passes, or
    /// else recomputing blocks in the backward pass, makes them fit.
    pub fn new(
        model: FastModel,
        params: Vec<f32>,
        (capacity, samples): (usize, usize),
        threads: usize,
        limit: Option<usize>,
    ) -> Self {
        let halves = [capacity.div_ceil(2), capacity / 2];
        let n = params.len();
        let cfg = model.config().clone();
        let shape = Shape {
            ears: cfg.ears,
            outputs: cfg.sources * cfg.ears,
            samples,
            speaker: cfg.speaker.unwrap_or(0),
        };
        let frames = samples.div_ceil(cfg.chunk);
        let plan = model.memory_plan(samples, n);
        let make = |c: usize| {
            let share = limit.map(|l| l * c / capacity.max(1));
            let per_pass = model.examples_per_pass(&plan, c, share);
            Half {
                ws: model.workspace(&plan, (per_pass, samples), n, share),
                capacity: c,
                per_pass,
                examples: 0,
                mixture: vec![0.0; c * shape.ears * samples],
                targets: vec![0.0; c * shape.outputs * samples],
                keep: vec![1.0; c * frames],
                fixed: vec![false; c],
                speakers: vec![0.0; c * shape.speaker],
                out: vec![0.0; c * shape.outputs * samples],
                loss: 0.0,
                swaps: 0,
            }
        };
        let derived = vec![0f32; model.derived_len()];
        let mut weights = Weights { params, derived };
        model.prepare(&weights.params, &mut weights.derived);
        let shared = Arc::new(Shared {
            halves: [Mutex::new(make(halves[0])), Mutex::new(make(halves[1]))],
            kernels: Kernels::best(),
            weights: RwLock::new(weights),
            job: Mutex::new(Job::Forward),
            go: Barrier::new(2),
            done: Barrier::new(2),
            model,
            shape,
        });
        let helper = (threads >= 2 && halves[1] > 0).then(|| {
            let s = shared.clone();
            std::thread::Builder::new()
                .name("kb-train-half".into())
                .spawn(move || loop {
                    s.go.wait();
                    let job = *s.job.lock().expect("a training thread panicked");
                    if let Job::Stop = job {
                        break;
                    }
                    s.run(1, job);
                    s.done.wait();
                })
                .expect("cannot start the second training thread")
        });
        Self {
            shared,
            helper,
            capacity,
            objective: Objective::SiSdr,
            speakers: vec![0.0; capacity * shape.speaker],
            grads: vec![0.0; n],
        }
    }

    /// Sets what the loss maximises (SI-SDR unless told).
    pub fn set_objective(&mut self, objective: Objective) {
        self.objective = objective;
    }

    /// Sets the speaker embeddings [b, E] of the next batches' examples
    /// (target extraction; the model's width E, at most a full batch).
    pub fn set_speakers(&mut self, speakers: &[f32]) {
        assert!(
            speakers.len() <= self.speakers.len()
                && speakers
                    .len()
                    .is_multiple_of(self.shared.shape.speaker.max(1)),
            "{} speaker values for a step of {} examples of {}",
            speakers.len(),
            self.capacity,
            self.shared.shape.speaker
        );
        self.speakers[..speakers.len()].copy_from_slice(speakers);
    }

    /// Examples a batch may hold.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Samples per example.
    pub fn samples(&self) -> usize {
        self.shared.shape.samples
    }

    /// Output channels per example (sources times ears).
    pub fn outputs(&self) -> usize {
        self.shared.shape.outputs
    }

    /// The buffers' bytes, the blocks recomputed and the examples per pass.
    pub fn footprint(&self) -> Footprint {
        let (h0, h1) = (self.shared.half(0), self.shared.half(1));
        let (b0, recomputed) = h0.ws.bytes();
        let (b1, _) = h1.ws.bytes();
        Footprint {
            bytes: b0 + b1,
            recomputed,
            per_pass: h0.per_pass,
        }
    }

    /// Whether a second thread takes half of every batch.
    pub fn threaded(&self) -> bool {
        self.helper.is_some()
    }

    fn split(&self, examples: usize) -> [usize; 2] {
        let first = examples.div_ceil(2).min(self.shared.half(0).capacity);
        [first, examples - first]
    }

    /// Splits `examples` mixtures (and their speaker embeddings, if any)
    /// over the two halves and copies each half's inputs; `more(first,
    /// count, half)` copies anything else a half needs.
    fn load_halves(
        &self,
        (mixture, speakers): (&[f32], &[f32]),
        examples: usize,
        mut more: impl FnMut(usize, usize, &mut Half),
    ) -> [usize; 2] {
        let (m, n) = (self.shared.shape.ears, self.shared.shape.samples);
        let e = self.shared.shape.speaker;
        let split = self.split(examples);
        let mut first = 0;
        for (i, &count) in split.iter().enumerate() {
            let mut h = self.shared.half(i);
            h.examples = count;
            h.mixture[..count * m * n]
                .copy_from_slice(&mixture[first * m * n..(first + count) * m * n]);
            h.keep.fill(1.0);
            if !speakers.is_empty() {
                h.speakers[..count * e].copy_from_slice(&speakers[first * e..(first + count) * e]);
            }
            more(first, count, &mut h);
            first += count;
        }
        split
    }

    fn dispatch(&self, job: Job) {
        *self.shared.job.lock().expect("a training thread panicked") = job;
        if self.helper.is_some() {
            self.shared.go.wait();
            self.shared.run(0, job);
            self.shared.done.wait();
        } else {
            self.shared.run(0, job);
            self.shared.run(1, job);
        }
    }

    /// One forward and backward pass: `mixture` [b, M, samples], `targets`
    /// [b, S, M, samples], `keep` [b, frames] which hints a pair keeps (all
    /// when None), `fixed` [b] the examples scored in the targets' order
    /// (none when empty); the batch-mean gradient lands in [`Self::grads`].
    pub fn train(
        &mut self,
        mixture: &[f32],
        targets: &[f32],
        (examples, keep, fixed): (usize, Option<&[f32]>, &[bool]),
    ) -> StepOutcome {
        assert!(
            examples > 0 && examples <= self.capacity,
            "batch of {examples} in a step sized for {}",
            self.capacity
        );
        let (kk, n) = (self.outputs(), self.samples());
        self.load_halves((mixture, &self.speakers), examples, |first, count, h| {
            h.targets[..count * kk * n]
                .copy_from_slice(&targets[first * kk * n..(first + count) * kk * n]);
            for (i, f) in h.fixed[..count].iter_mut().enumerate() {
                *f = fixed.get(first + i).copied().unwrap_or(false);
            }
            if let Some(keep) = keep {
                let t = h.ws.small.frames();
                h.keep[..count * t].copy_from_slice(&keep[first * t..(first + count) * t]);
            }
        });
        self.dispatch(Job::Train {
            scale: 1.0 / examples as f64,
            objective: self.objective,
        });
        let (mut loss, mut swaps) = (0.0, 0);
        self.grads.fill(0.0);
        for i in 0..2 {
            let h = self.shared.half(i);
            if h.examples == 0 {
                continue;
            }
            loss += h.loss;
            swaps += h.swaps;
            for (a, b) in self.grads.iter_mut().zip(&h.ws.small.grads) {
                *a += b;
            }
        }
        StepOutcome {
            loss: loss / examples as f64,
            swaps,
        }
    }

    /// Output waveforms [b, S, M, samples] of `mixture` [b, M, samples] into `out`.
    pub fn forward(&self, mixture: &[f32], examples: usize, out: &mut [f32]) {
        self.forward_conditioned((mixture, &[]), examples, out);
    }

    /// [`Self::forward`] conditioned on `speakers` [b, E] (target extraction; empty: none).
    pub fn forward_conditioned(
        &self,
        (mixture, speakers): (&[f32], &[f32]),
        examples: usize,
        out: &mut [f32],
    ) {
        assert!(examples > 0 && examples <= self.capacity);
        let per = self.outputs() * self.samples();
        let split = self.load_halves((mixture, speakers), examples, |_, _, _| {});
        self.dispatch(Job::Forward);
        let mut first = 0;
        for (i, &count) in split.iter().enumerate() {
            let h = self.shared.half(i);
            out[first * per..(first + count) * per].copy_from_slice(&h.out[..count * per]);
            first += count;
        }
    }

    /// Applies `update` to the parameters (and refreshes their rearranged copies).
    pub fn update(&self, update: impl FnOnce(&mut [f32], &[f32])) {
        let mut w = self
            .shared
            .weights
            .write()
            .expect("a training thread panicked");
        let w = &mut *w;
        update(&mut w.params, &self.grads);
        self.shared.model.prepare(&w.params, &mut w.derived);
    }

    /// A copy of the current parameters.
    pub fn params(&self) -> Vec<f32> {
        self.shared
            .weights
            .read()
            .expect("a training thread panicked")
            .params
            .clone()
    }
}

impl Drop for FastStep {
    fn drop(&mut self) {
        // While unwinding from a panic in a half the helper may be parked on
        // the other barrier: leave it rather than wait for it.
        if std::thread::panicking() {
            return;
        }
        if let Some(helper) = self.helper.take() {
            if let Ok(mut job) = self.shared.job.lock() {
                *job = Job::Stop;
            }
            self.shared.go.wait();
            let _ = helper.join();
        }
    }
}
