//! The whole TF-GridNet on the fast path: STFT, input conv and norm, the
//! blocks, output deconv, iSTFT and the loss, forward and backward for one
//! thread's share of a batch.

use super::{
    block::{BlockActs, BlockScratch, FastBlock, Geometry},
    conv::{CausalConv, Frames},
    floats,
    layout::ParamLayout,
    linear::Derived,
    loss::example_loss,
    merge::{FastMerge, MergeActs, MergeScratch},
    norm::Norm,
    speaker_film::{SpeakerActs, SpeakerFilm},
    spectral::Spectral,
};
use crate::{
    config::{JointConfig, ModelConfig},
    error::Result,
    kernels::Kernels,
    level::{window_gains, LevelTracker},
    metrics::Objective,
    SAMPLE_RATE,
};

/// A TF-GridNet over a flat parameter buffer; the small model of a joint
/// pair also has its merge modules and takes hints.
#[derive(Debug, Clone)]
pub struct FastGridNet {
    cfg: ModelConfig,
    spectral: Spectral,
    conv: CausalConv,
    conv_norm: Norm,
    blocks: Vec<FastBlock>,
    merges: Vec<FastMerge>,
    speakers: Vec<SpeakerFilm>,
    hint_channels: usize,
    deconv: CausalConv,
    derived_len: usize,
}

impl FastGridNet {
    /// The model `cfg` whose tensors sit under `prefix` (`""` for a stand-alone model) in `layout`.
    pub fn new(layout: &ParamLayout, prefix: &str, cfg: &ModelConfig) -> Result<Self> {
        Self::build(layout, (prefix, cfg), None, &mut Derived::default())
    }

    /// One model of a model pair: `joint` gives the small model its merge
    /// modules; `derived` is shared by every part of the pair.
    pub fn build(
        layout: &ParamLayout,
        (prefix, cfg): (&str, &ModelConfig),
        joint: Option<&JointConfig>,
        derived: &mut Derived,
    ) -> Result<Self> {
        cfg.validate()?;
        let name = |n: &str| format!("{prefix}{n}");
        let blocks = (0..cfg.blocks)
            .map(|i| FastBlock::new(layout, &name(&format!("blocks.{i}")), cfg, derived))
            .collect::<Result<Vec<_>>>()?;
        let merges = match joint {
            Some(j) => (0..cfg.blocks - 1)
                .map(|i| FastMerge::new(layout, &name(&format!("merges.{i}")), j, derived))
                .collect::<Result<Vec<_>>>()?,
            None => Vec::new(),
        };
        let speakers = match cfg.speaker {
            Some(e) => (0..cfg.blocks - 1)
                .map(|i| {
                    let prefix = name(&format!("speaker_films.{i}"));
                    SpeakerFilm::new(layout, &prefix, (e, cfg.d, cfg.freqs()), derived)
                })
                .collect::<Result<Vec<_>>>()?,
            None => Vec::new(),
        };
        let conv = CausalConv::new(layout, &name("conv"), (cfg.in_channels(), cfg.d), derived)?;
        let deconv = CausalConv::new(
            layout,
            &name("deconv"),
            (cfg.d, cfg.out_channels()),
            derived,
        )?;
        Ok(Self {
            spectral: Spectral::new(cfg.chunk, cfg.pad),
            conv_norm: Norm::new(layout, &name("conv_norm"), cfg.d)?,
            conv,
            blocks,
            merges,
            speakers,
            hint_channels: joint.map_or(0, JointConfig::hint_channels),
            deconv,
            derived_len: derived.len(),
            cfg: cfg.clone(),
        })
    }

    /// The model's shape.
    pub fn config(&self) -> &ModelConfig {
        &self.cfg
    }

    /// Channels of a hint frame (0 without merge modules).
    pub fn hint_channels(&self) -> usize {
        self.hint_channels
    }

    /// Length of the derived (rearranged weights) buffer.
    pub fn derived_len(&self) -> usize {
        self.derived_len
    }

    /// Rearranges the weights in `p` into `d` for the next forward and backward passes.
    pub fn prepare(&self, p: &[f32], d: &mut [f32]) {
        self.conv.prepare(p, d);
        self.deconv.prepare(p, d);
        for b in &self.blocks {
            b.prepare(p, d);
        }
        for m in &self.merges {
            m.prepare(p, d);
        }
        for s in &self.speakers {
            s.prepare(p, d);
        }
    }

    /// GridNet blocks.
    pub fn blocks(&self) -> usize {
        self.blocks.len()
    }

    /// Frames of `samples` samples.
    pub fn frames(&self, samples: usize) -> usize {
        samples.div_ceil(self.cfg.chunk)
    }

    /// Runs `examples` mixtures [b, M, samples] (flat, in `ws`'s input) forward; output in `ws.audio`.
    pub fn forward(
        &self,
        k: &Kernels,
        (p, d): (&[f32], &[f32]),
        ws: &mut Workspace,
        examples: usize,
    ) {
        let c = &self.cfg;
        let (t, f) = (ws.t, c.freqs());
        let geo = Geometry { b: examples, t, f };
        let frames = Frames { b: examples, t, f };
        let (m, win) = (c.ears, ws.window_len());
        let fc = 2 * m;
        for b in 0..examples {
            let wave = &ws.window[b * m * win..(b + 1) * m * win];
            let feats = &mut ws.feats[b * t * f * fc..(b + 1) * t * f * fc];
            self.spectral
                .analyse(k, (wave, win, m), t, feats, &mut ws.cols);
            for (frame, &g) in feats.chunks_exact_mut(f * fc).zip(&ws.gains[b * t..]) {
                frame.iter_mut().for_each(|v| *v /= g);
            }
        }
        self.conv
            .forward(k, (p, d), &ws.feats, frames, &mut ws.conv_out);
        let rows = geo.rows();
        self.conv_norm.forward(
            p,
            &ws.conv_out[..rows * c.d],
            &mut ws.conv_hat,
            &mut ws.conv_rstd,
            &mut ws.xs[0],
        );
        for (i, block) in self.blocks.iter().enumerate() {
            let (before, after) = ws.xs.split_at_mut(i + 1);
            let slot = i.saturating_sub(ws.recompute);
            block.forward(
                k,
                (p, d),
                geo,
                &before[i],
                &mut after[0],
                &mut ws.acts[slot],
                &mut ws.scratch,
            );
            if let Some(film) = self.speakers.get(i) {
                let acts = &mut ws.speaker_acts[i];
                film.forward(k, (p, d), geo, &ws.speakers, &mut after[0], acts);
            }
            if let (Some(merge), Some(s)) = (self.merges.get(i), ws.merge_scratch.as_mut()) {
                merge.forward(
                    k,
                    (p, d),
                    geo,
                    &ws.hints,
                    &mut after[0],
                    &mut ws.merge_acts[i],
                    s,
                );
            }
        }
        let last = &ws.xs[self.blocks.len()];
        self.deconv.forward(k, (p, d), last, frames, &mut ws.spec);
        let (kk, oc) = (c.sources * c.ears, c.out_channels());
        let per = t * c.chunk;
        for b in 0..examples {
            let spec = &ws.spec[b * t * f * oc..(b + 1) * t * f * oc];
            let out = &mut ws.audio[b * kk * per..(b + 1) * kk * per];
            let gains = &ws.gains[b * t..(b + 1) * t];
            self.spectral.synthesise(
                k,
                (spec, gains),
                (t, kk),
                out,
                (&mut ws.cols, &mut ws.frames),
            );
        }
    }

    /// Loss of the forward pass against `targets` [b, S, M, samples] (in
    /// `ws`) by `objective`, each example's loss scaled by `scale`; then the backward pass,
    /// whose parameter gradients (times `scale`) are added to `ws.grads`.
    /// Returns the summed (unscaled) loss and counts the swapped assignments.
    pub fn backward(
        &self,
        k: &Kernels,
        (p, d): (&[f32], &[f32]),
        ws: &mut Workspace,
        (examples, samples): (usize, usize),
        (objective, scale): (Objective, f64),
    ) -> (f64, usize) {
        let c = &self.cfg;
        let (t, f) = (ws.t, c.freqs());
        let (kk, oc) = (c.sources * c.ears, c.out_channels());
        let per = t * c.chunk;
        let (mut total, mut swaps) = (0f64, 0usize);
        ws.daudio[..examples * kk * per].fill(0.0);
        for b in 0..examples {
            // The loss sees the first `samples` of every output block: compact them.
            let est = &mut ws.loss_est[..kk * samples];
            let tgt = &ws.targets[b * kk * samples..(b + 1) * kk * samples];
            for ch in 0..kk {
                let src = &ws.audio[(b * kk + ch) * per..(b * kk + ch) * per + samples];
                est[ch * samples..(ch + 1) * samples].copy_from_slice(src);
            }
            let grad = &mut ws.loss_grad[..kk * samples];
            grad.fill(0.0);
            let dims = (c.sources, c.ears, samples);
            let fixed = ws.fixed_order[b];
            let (loss, swap) = example_loss(objective, est, tgt, dims, fixed, grad, scale);
            total += loss;
            swaps += usize::from(swap);
            for ch in 0..kk {
                let dst = &mut ws.daudio[(b * kk + ch) * per..(b * kk + ch) * per + samples];
                dst.copy_from_slice(&grad[ch * samples..(ch + 1) * samples]);
            }
        }
        for b in 0..examples {
            let dout = &ws.daudio[b * kk * per..(b + 1) * kk * per];
            let dspec = &mut ws.dspec[b * t * f * oc..(b + 1) * t * f * oc];
            self.spectral.synthesise_backward(
                k,
                (dout, &ws.gains[b * t..(b + 1) * t]),
                (t, kk),
                dspec,
                (&mut ws.cols, &mut ws.frames),
            );
        }
        self.backward_spectrum(k, (p, d), ws, examples);
        (total, swaps)
    }

    /// The backward pass from the output spectrum's gradient (in `ws`, from
    /// the loss or, for the large model of a pair, from the hints): parameter
    /// gradients are added to `ws.grads`, the hints' gradient (small model of
    /// a pair) is written to `ws.dhints`.
    pub fn backward_spectrum(
        &self,
        k: &Kernels,
        (p, d): (&[f32], &[f32]),
        ws: &mut Workspace,
        examples: usize,
    ) {
        let c = &self.cfg;
        let (t, f) = (ws.t, c.freqs());
        let geo = Geometry { b: examples, t, f };
        let frames = Frames { b: examples, t, f };
        let rows = geo.rows();
        ws.dhints[..rows * self.hint_channels].fill(0.0);
        let dx = &mut ws.dx[..rows * c.d];
        dx.fill(0.0);
        let nb = self.blocks.len();
        self.deconv.backward(
            k,
            d,
            &ws.xs[nb],
            &ws.dspec,
            frames,
            Some(dx),
            (&mut ws.grads, &mut ws.tap_grads),
        );
        for (i, block) in self.blocks.iter().enumerate().rev() {
            if let (Some(merge), Some(s)) = (self.merges.get(i), ws.merge_scratch.as_mut()) {
                merge.backward(
                    k,
                    p,
                    geo,
                    (&ws.merge_acts[i], &ws.hints),
                    dx,
                    &mut ws.dhints,
                    (&mut ws.grads, s),
                );
            }
            if let Some(film) = self.speakers.get(i) {
                let acts = &mut ws.speaker_acts[i];
                film.backward(k, p, geo, &ws.speakers, dx, (acts, &mut ws.grads));
            }
            if i < ws.recompute {
                // Its activations were not kept: the forward again, into the shared slot.
                let redo = &mut ws.redo[..rows * c.d];
                block.forward(
                    k,
                    (p, d),
                    geo,
                    &ws.xs[i],
                    redo,
                    &mut ws.acts[0],
                    &mut ws.scratch,
                );
            }
            let slot = i.saturating_sub(ws.recompute);
            block.backward(
                k,
                p,
                geo,
                &ws.acts[slot],
                dx,
                (&mut ws.grads, &mut ws.scratch),
            );
        }
        let dconv = &mut ws.dconv[..rows * c.d];
        dconv.fill(0.0);
        self.conv_norm
            .backward(p, (&ws.conv_hat, &ws.conv_rstd), dx, dconv, &mut ws.grads);
        self.conv.backward(
            k,
            d,
            &ws.feats,
            dconv,
            frames,
            None,
            (&mut ws.grads, &mut ws.tap_grads),
        );
    }
}

/// Every buffer one thread needs for a forward and backward pass of up to
/// `capacity` examples of `samples` samples: sized once, reused every step.
#[derive(Debug, Clone)]
pub struct Workspace {
    t: usize,
    pad: usize,
    chunk: usize,
    ears: usize,
    /// Examples it holds room for.
    pub capacity: usize,
    /// Zero-padded input windows [b, M, chunk * T + pad].
    pub window: Vec<f32>,
    /// Level gain of every frame [b, T] (ones without level normalisation).
    gains: Vec<f32>,
    /// Hints arriving at every frame [b, T, F, C'] (small model of a pair).
    pub hints: Vec<f32>,
    /// Their gradient.
    pub dhints: Vec<f32>,
    /// Speaker embedding of every example [b, E] (target extraction).
    pub speakers: Vec<f32>,
    speaker_acts: Vec<SpeakerActs>,
    merge_acts: Vec<MergeActs>,
    merge_scratch: Option<MergeScratch>,
    level: Option<LevelTracker>,
    /// Targets [b, S, M, samples].
    pub targets: Vec<f32>,
    /// Per example: the targets' order is the answer (no permutation search).
    pub fixed_order: Vec<bool>,
    /// Output waveforms [b, S, M, chunk * T].
    pub audio: Vec<f32>,
    /// Parameter gradients (same layout as the parameters).
    pub grads: Vec<f32>,
    feats: Vec<f32>,
    conv_out: Vec<f32>,
    conv_hat: Vec<f32>,
    conv_rstd: Vec<f32>,
    xs: Vec<Vec<f32>>,
    /// Kept activations: blocks `0..=recompute` share slot 0, block `i` above uses slot `i - recompute`.
    acts: Vec<BlockActs>,
    /// Blocks whose activations the backward pass recomputes.
    recompute: usize,
    /// Where a recomputed block's output goes (its value is already in `xs`).
    redo: Vec<f32>,
    scratch: BlockScratch,
    /// Output spectrum [b, T, F, 2SM] at the model's working level (the large model's hint).
    pub(super) spec: Vec<f32>,
    /// Its gradient.
    pub(super) dspec: Vec<f32>,
    daudio: Vec<f32>,
    dx: Vec<f32>,
    dconv: Vec<f32>,
    tap_grads: Vec<f32>,
    cols: Vec<f32>,
    frames: Vec<f32>,
    loss_est: Vec<f32>,
    loss_grad: Vec<f32>,
}

impl Workspace {
    /// Buffers for `capacity` examples of `samples` samples of `model` with
    /// `params` parameters, keeping the activations of the last blocks only:
    /// the backward pass runs the first `recompute` blocks forward again (at
    /// most all but one). Gradients do not change; memory falls by
    /// `recompute` blocks' activations.
    pub fn new(
        model: &FastGridNet,
        (capacity, samples): (usize, usize),
        params: usize,
        recompute: usize,
    ) -> Self {
        let recompute = recompute.min(model.blocks.len().saturating_sub(1));
        let c = &model.cfg;
        let t = model.frames(samples);
        let f = c.freqs();
        let rows = capacity * t * f;
        let geo = Geometry { b: capacity, t, f };
        let (d, kk) = (c.d, c.sources * c.ears);
        let z = |n: usize| vec![0f32; n];
        let n_fft = c.n_fft();
        Self {
            t,
            pad: c.pad,
            chunk: c.chunk,
            ears: c.ears,
            capacity,
            window: z(capacity * c.ears * (t * c.chunk + c.pad)),
            gains: vec![1.0; capacity * t],
            level: c.level.map(|l| LevelTracker::new(&l, c.chunk, SAMPLE_RATE)),
            targets: z(capacity * kk * samples),
            fixed_order: vec![false; capacity],
            audio: z(capacity * kk * t * c.chunk),
            grads: z(params),
            feats: z(rows * c.in_channels()),
            conv_out: z(rows * d),
            conv_hat: z(rows * d),
            conv_rstd: z(rows),
            xs: (0..=c.blocks).map(|_| z(rows * d)).collect(),
            acts: model.blocks[recompute..]
                .iter()
                .map(|b| b.acts(geo))
                .collect(),
            recompute,
            redo: z(if recompute > 0 { rows * d } else { 0 }),
            hints: z(rows * model.hint_channels),
            dhints: z(rows * model.hint_channels),
            speakers: z(capacity * c.speaker.unwrap_or(0)),
            speaker_acts: model.speakers.iter().map(|s| s.acts(geo)).collect(),
            merge_acts: model.merges.iter().map(|m| m.acts(geo)).collect(),
            merge_scratch: model.merges.first().map(|m| m.scratch(geo)),
            scratch: model.blocks[0].scratch(geo),
            spec: z(rows * c.out_channels()),
            dspec: z(rows * c.out_channels()),
            daudio: z(capacity * kk * t * c.chunk),
            dx: z(rows * d),
            dconv: z(rows * d),
            tap_grads: z(model.conv.tap_grad_len().max(model.deconv.tap_grad_len())),
            cols: z(t * 2 * f),
            frames: z(t * n_fft),
            loss_est: z(kk * samples),
            loss_grad: z(kk * samples),
        }
    }

    /// Bytes of block activations kept for the backward pass.
    fn kept_bytes(&self) -> usize {
        4 * self.acts.iter().map(BlockActs::floats).sum::<usize>()
    }

    /// Bytes of every buffer.
    pub fn bytes(&self) -> usize {
        let merges: usize = self.merge_acts.iter().map(MergeActs::floats).sum::<usize>()
            + self
                .speaker_acts
                .iter()
                .map(SpeakerActs::floats)
                .sum::<usize>();
        let merge_scratch = self.merge_scratch.as_ref().map_or(0, MergeScratch::floats);
        let xs: usize = self.xs.iter().map(Vec::len).sum();
        let buffers = floats(&[
            &self.window,
            &self.gains,
            &self.hints,
            &self.dhints,
            &self.speakers,
            &self.targets,
            &self.audio,
            &self.grads,
            &self.feats,
            &self.conv_out,
            &self.conv_hat,
            &self.conv_rstd,
            &self.redo,
            &self.spec,
            &self.dspec,
            &self.daudio,
            &self.dx,
            &self.dconv,
            &self.tap_grads,
            &self.cols,
            &self.frames,
            &self.loss_est,
            &self.loss_grad,
        ]);
        self.kept_bytes() + 4 * (merges + merge_scratch + xs + self.scratch.floats() + buffers)
    }

    /// Bytes of one [rows, D] buffer (as a recomputed block's output).
    pub fn row_bytes(&self) -> usize {
        4 * self.xs[0].len()
    }

    /// Bytes of one block's activations.
    pub fn block_bytes(&self) -> usize {
        4 * self.acts.first().map_or(0, BlockActs::floats)
    }

    /// Blocks whose activations the backward pass recomputes.
    pub fn recompute(&self) -> usize {
        self.recompute
    }

    /// Samples per ear of one input window.
    pub fn window_len(&self) -> usize {
        self.t * self.chunk + self.pad
    }

    /// Frames per example.
    pub fn frames(&self) -> usize {
        self.t
    }

    /// Copies `examples` mixtures [b, M, samples] into the zero-padded input windows.
    pub fn set_input(&mut self, mixture: &[f32], examples: usize, samples: usize) {
        let win = self.window_len();
        for b in 0..examples {
            for m in 0..self.ears {
                let w = &mut self.window[(b * self.ears + m) * win..(b * self.ears + m + 1) * win];
                let src =
                    &mixture[(b * self.ears + m) * samples..(b * self.ears + m + 1) * samples];
                w[..samples].copy_from_slice(src);
                w[samples..].fill(0.0);
            }
            if let Some(level) = &mut self.level {
                level.reset();
                let ears = self.ears;
                window_gains(
                    level,
                    (
                        &self.window[b * ears * win..(b + 1) * ears * win],
                        win,
                        ears,
                    ),
                    (self.chunk, self.chunk + self.pad),
                    &mut self.gains[b * self.t..(b + 1) * self.t],
                );
            }
        }
    }
}
