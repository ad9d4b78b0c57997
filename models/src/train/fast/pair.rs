//! A training step over two threads: each takes half the batch with its own
//! workspace; one barrier starts the halves, one ends them, and the main
//! thread sums the gradients. Nothing is allocated after construction.

use std::{
    sync::{Arc, Barrier, Mutex, MutexGuard, RwLock},
    thread::JoinHandle,
};

use super::joint::{FastModel, ModelWorkspace};
use crate::{kernels::Kernels, metrics::Objective};

/// What the halves run.
#[derive(Debug, Clone, Copy)]
enum Job {
    /// Forward, loss and backward of `samples`-sample examples, losses scaled by `scale`.
    Train {
        samples: usize,
        scale: f64,
        objective: Objective,
    },
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

/// One half of a batch: its workspace, example count and results.
#[derive(Debug)]
struct Half {
    ws: ModelWorkspace,
    examples: usize,
    loss: f64,
    swaps: usize,
}

struct Shared {
    model: FastModel,
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

    fn run(&self, i: usize, job: Job) {
        let w = self.weights.read().expect("a training thread panicked");
        let mut half = self.half(i);
        let half = &mut *half;
        if half.examples == 0 {
            return;
        }
        let pd = (w.params.as_slice(), w.derived.as_slice());
        self.model
            .forward(&self.kernels, pd, &mut half.ws, half.examples);
        if let Job::Train {
            samples,
            scale,
            objective,
        } = job
        {
            let (loss, swaps) = self.model.backward(
                &self.kernels,
                pd,
                &mut half.ws,
                (half.examples, samples),
                (objective, scale),
            );
            (half.loss, half.swaps) = (loss, swaps);
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

/// Forward and backward passes of a [`FastModel`] over batches of up to
/// `capacity` examples of `samples` samples, on one or two threads.
pub struct FastStep {
    shared: Arc<Shared>,
    helper: Option<JoinHandle<()>>,
    capacity: usize,
    samples: usize,
    ears: usize,
    outputs: usize,
    objective: Objective,
    /// Summed gradients of the last step.
    pub grads: Vec<f32>,
}

impl FastStep {
    /// Workspaces for batches of `capacity` examples of `samples` samples;
    /// `threads` 1 or 2; both halves' buffers together take at most about
    /// `limit` bytes where recomputing blocks in the backward pass makes them fit.
    pub fn new(
        model: FastModel,
        params: Vec<f32>,
        (capacity, samples): (usize, usize),
        threads: usize,
        limit: Option<usize>,
    ) -> Self {
        let halves = [capacity.div_ceil(2), capacity / 2];
        let n = params.len();
        let make = |c: usize| Half {
            ws: model.workspace((c, samples), n, limit.map(|l| l * c / capacity.max(1))),
            examples: 0,
            loss: 0.0,
            swaps: 0,
        };
        let cfg = model.config().clone();
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
            samples,
            ears: cfg.ears,
            outputs: cfg.sources * cfg.ears,
            objective: Objective::SiSdr,
            grads: vec![0.0; n],
        }
    }

    /// Sets what the loss maximises (SI-SDR unless told).
    pub fn set_objective(&mut self, objective: Objective) {
        self.objective = objective;
    }

    /// Examples a batch may hold.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Samples per example.
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// Output channels per example (sources times ears).
    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// Bytes of both halves' buffers, and the blocks each recomputes.
    pub fn bytes(&self) -> (usize, usize) {
        let (b0, r) = self.shared.half(0).ws.bytes();
        let (b1, _) = self.shared.half(1).ws.bytes();
        (b0 + b1, r)
    }

    /// Whether a second thread takes half of every batch.
    pub fn threaded(&self) -> bool {
        self.helper.is_some()
    }

    fn split(&self, examples: usize) -> [usize; 2] {
        let first = examples
            .div_ceil(2)
            .min(self.shared.half(0).ws.small.capacity);
        [first, examples - first]
    }

    /// Splits `examples` mixtures over the two halves and loads each half's
    /// inputs; `more(first, count, workspace)` loads anything else a half needs.
    fn load_halves(
        &self,
        mixture: &[f32],
        examples: usize,
        mut more: impl FnMut(usize, usize, &mut ModelWorkspace),
    ) -> [usize; 2] {
        let (m, n) = (self.ears, self.samples);
        let split = self.split(examples);
        let mut first = 0;
        for (i, &count) in split.iter().enumerate() {
            let mut h = self.shared.half(i);
            h.examples = count;
            h.ws.set_input(&mixture[first * m * n..], count, n);
            h.ws.keep.fill(1.0);
            more(first, count, &mut h.ws);
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
        let (kk, n) = (self.outputs, self.samples);
        self.load_halves(mixture, examples, |first, count, ws| {
            ws.small.targets[..count * kk * n]
                .copy_from_slice(&targets[first * kk * n..(first + count) * kk * n]);
            ws.clear_grads();
            for (i, f) in ws.small.fixed_order[..count].iter_mut().enumerate() {
                *f = fixed.get(first + i).copied().unwrap_or(false);
            }
            if let Some(keep) = keep {
                let t = ws.small.frames();
                ws.keep[..count * t].copy_from_slice(&keep[first * t..(first + count) * t]);
            }
        });
        self.dispatch(Job::Train {
            samples: n,
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
        assert!(examples > 0 && examples <= self.capacity);
        let (kk, n) = (self.outputs, self.samples);
        let split = self.load_halves(mixture, examples, |_, _, _| {});
        self.dispatch(Job::Forward);
        let mut first = 0;
        for (i, &count) in split.iter().enumerate() {
            let h = self.shared.half(i);
            let per = h.ws.small.frames() * self.shared.model.config().chunk;
            for b in 0..count {
                for ch in 0..kk {
                    let src = &h.ws.small.audio[(b * kk + ch) * per..(b * kk + ch) * per + n];
                    let o = ((first + b) * kk + ch) * n;
                    out[o..o + n].copy_from_slice(src);
                }
            }
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
