//! One training run: model, parameters, optimiser, schedule and step counter,
//! checkpointed together so a run resumes exactly where it stopped.

use std::{collections::HashMap, path::Path};

use candle_core::{DType, Device, Tensor, Var};
use rand::{rngs::StdRng, Rng, SeedableRng};
use safetensors::SafeTensors;
use serde::{Deserialize, Serialize};

use super::{
    adam::Adam,
    fast::{FastModel, FastStep, FlatAdam, Footprint, ParamLayout},
    plateau::Plateau,
    validation::Validation,
};
use crate::{
    config::WeightsConfig,
    error::{Error, Result},
    joint::JointModel,
    metrics::{pit_loss, Objective},
    params::SeededParams,
    tfgridnet::TfGridNet,
    weights::{build, save_params, save_with_metadata, Model, Weights},
};

/// Metadata key of a checkpoint's run state.
pub const CHECKPOINT_KEY: &str = "knowledge_boost_checkpoint";

/// Name prefix of a joint model's large-model parameters (not its hint compression).
const LARGE_PREFIX: &str = "large.";

/// One half of a joint pair, as a pre-trained single model can start it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Half {
    /// The small model (`small.*`, without its merges).
    Small,
    /// The large hint model (`large.*`).
    Large,
}

/// Validation examples run through the model at once (bounds its memory).
pub const VALIDATION_SLICE: usize = 2;

/// Optimisation settings (the paper's defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainSettings {
    /// Initial learning rate.
    pub lr: f64,
    /// Examples per step.
    pub batch: usize,
    /// Gradient-norm clip.
    pub clip: f64,
    /// Evaluations without improvement before the learning rate halves.
    pub patience: usize,
    /// Lowest learning rate.
    pub lr_floor: f64,
    /// Fraction of frames whose hint is dropped (joint models).
    pub hint_drop_chunks: f64,
    /// Fraction of examples that get no hint at all (joint models).
    pub hint_drop_utterances: f64,
    /// Seed of the initial weights and of the hint dropout.
    pub seed: u64,
    /// What the loss maximises (SI-SDR, the paper's, or SNR).
    pub objective: Objective,
    /// Steps over which the learning rate rises linearly from zero (0: none).
    pub warmup: u64,
    /// Joint runs: the large model is not trained (forward only; gradients
    /// stop at its output, the hint compression still trains).
    pub freeze_large: bool,
}

impl Default for TrainSettings {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            batch: 8,
            clip: 1.0,
            patience: 4,
            lr_floor: 1e-6,
            hint_drop_chunks: 0.0,
            hint_drop_utterances: 0.0,
            seed: 0,
            objective: Objective::SiSdr,
            warmup: 0,
            freeze_large: false,
        }
    }
}

impl TrainSettings {
    /// Whether the parameter `name` is held fixed (the large model of a frozen joint run).
    pub fn frozen(&self, name: &str) -> bool {
        self.freeze_large && name.starts_with(LARGE_PREFIX)
    }

    /// The warm-up factor of the learning rate at step `step` (counted from 1).
    pub fn warm(&self, step: u64) -> f64 {
        if self.warmup == 0 {
            1.0
        } else {
            (step as f64 / self.warmup as f64).min(1.0)
        }
    }
}

/// Which implementation computes the forward and backward passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// Hand-written fused kernels on flat buffers, two threads ([`super::fast`]).
    #[default]
    Fast,
    /// candle autograd: the readable reference.
    Candle,
}

impl std::str::FromStr for Backend {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "fast" => Ok(Self::Fast),
            "candle" => Ok(Self::Candle),
            other => Err(format!("backend `{other}`: choose `fast` or `candle`")),
        }
    }
}

/// The fast path's state: the step, the parameter layout and Adam's flat moments.
struct FastRun {
    step: FastStep,
    layout: ParamLayout,
    adam: FlatAdam,
    /// Hint dropout of the current step [batch, frames].
    keep: Vec<f32>,
}

/// What one step reports.
#[derive(Debug, Clone, Copy)]
pub struct StepReport {
    /// Training loss (negative SI-SDR, permutation-invariant for two sources).
    pub loss: f32,
    /// Gradient norm before clipping.
    pub grad_norm: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RunState {
    config: WeightsConfig,
    settings: TrainSettings,
    step: u64,
    adam_t: u64,
    lr: f64,
    plateau: Plateau,
}

/// A model being trained.
pub struct Trainer {
    /// Shape of the model.
    pub config: WeightsConfig,
    /// Optimisation settings.
    pub settings: TrainSettings,
    /// Steps taken.
    pub step: u64,
    /// The optimiser.
    pub adam: Adam,
    /// The learning-rate schedule.
    pub plateau: Plateau,
    params: SeededParams,
    model: Model,
    fast: Option<FastRun>,
}

impl Trainer {
    /// A fresh run: weights drawn from `settings.seed`.
    pub fn new(config: WeightsConfig, settings: TrainSettings) -> Result<Self> {
        let params = SeededParams::new(settings.seed);
        let model = build(&config, params.var_builder(&Device::Cpu))?;
        Ok(Self {
            adam: Adam::new(settings.lr),
            plateau: Plateau::new(settings.patience, settings.lr_floor),
            step: 0,
            config,
            settings,
            params,
            model,
            fast: None,
        })
    }

    /// Moves training onto the fast path for batches of up to `batch`
    /// examples of `samples` samples, on `threads` threads (1 or 2), keeping
    /// its buffers within about `limit` bytes where running a thread's
    /// examples in several passes, or else running blocks forward again in
    /// the backward pass, makes them fit (the same gradients). The current
    /// weights and Adam moments carry over.
    pub fn use_fast(
        &mut self,
        (batch, samples): (usize, usize),
        threads: usize,
        limit: Option<usize>,
    ) -> Result<()> {
        if batch == 0 || samples == 0 {
            return Err(Error::Config(
                "the fast path needs a batch and samples".into(),
            ));
        }
        let tensors = self.params.tensors();
        let shapes = tensors
            .iter()
            .map(|(k, v)| (k.clone(), v.dims().to_vec()))
            .collect();
        let layout = ParamLayout::new(&shapes);
        let flat = layout.flatten(&tensors)?;
        let mut model = FastModel::new(&layout, &self.config)?;
        model.set_freeze_large(self.settings.freeze_large);
        let frames = samples.div_ceil(model.config().chunk);
        let mut adam = FlatAdam::new(layout.len());
        for (name, _, range) in layout.entries() {
            if self.settings.frozen(name) {
                continue;
            }
            if let Some((m, v)) = self.adam.moments.get(name) {
                adam.m[range.clone()].copy_from_slice(&m.flatten_all()?.to_vec1::<f32>()?);
                adam.v[range.clone()].copy_from_slice(&v.flatten_all()?.to_vec1::<f32>()?);
            }
        }
        let mut step = FastStep::new(model, flat, (batch, samples), threads.clamp(1, 2), limit);
        step.set_objective(self.settings.objective);
        self.fast = Some(FastRun {
            step,
            layout,
            adam,
            keep: vec![1.0; batch * frames],
        });
        Ok(())
    }

    /// On the fast path: the bytes of its buffers (both threads), the blocks
    /// its backward pass recomputes and the examples a thread runs per pass.
    pub fn fast_memory(&self) -> Option<Footprint> {
        self.fast.as_ref().map(|f| f.step.footprint())
    }

    /// Which backend the next step runs on.
    pub fn backend(&self) -> Backend {
        if self.fast.is_some() {
            Backend::Fast
        } else {
            Backend::Candle
        }
    }

    /// One optimisation step on the fast path: `mixture` [B, M, N] and
    /// `targets` [B, S, M, N] as flat samples. Allocates nothing.
    pub fn train_step_flat(
        &mut self,
        mixture: &[f32],
        targets: &[f32],
        examples: usize,
    ) -> Result<StepReport> {
        self.train_step_flat_ordered(mixture, targets, examples, (&[], &[]))
    }

    /// [`Self::train_step_flat`] where the examples marked in `fixed` (empty:
    /// none) are scored in the targets' order, without the permutation
    /// search, each conditioned on its speaker embedding in `speakers` [B, E]
    /// (target extraction; empty for the other tasks).
    pub fn train_step_flat_ordered(
        &mut self,
        mixture: &[f32],
        targets: &[f32],
        examples: usize,
        (fixed, speakers): (&[bool], &[f32]),
    ) -> Result<StepReport> {
        if !fixed.is_empty() && fixed.len() != examples {
            return Err(Error::Input(format!(
                "{} fixed-order flags for a batch of {examples}",
                fixed.len()
            )));
        }
        self.check_speakers(examples, speakers.len())?;
        let fast = self
            .fast
            .as_mut()
            .ok_or_else(|| Error::Config("the fast path is not set up (use_fast)".into()))?;
        fast.step.set_speakers(speakers);
        let frames = fast.keep.len() / fast.step.capacity();
        let keep = &mut fast.keep[..examples * frames];
        let dropping = draw_hint_keep(
            (&self.settings, self.step),
            matches!(self.model, Model::Joint(_)),
            frames,
            keep,
        );
        let outcome = fast.step.train(
            mixture,
            targets,
            (examples, dropping.then_some(&*keep), fixed),
        );
        self.adam.t += 1;
        let lr = self.adam.lr * self.settings.warm(self.step + 1);
        let hyper = (lr, self.adam.t, self.settings.clip);
        let mut grad_norm = 0.0;
        let adam = &mut fast.adam;
        fast.step.update(|p, g| grad_norm = adam.step(p, g, hyper));
        self.step += 1;
        Ok(StepReport {
            loss: outcome.loss as f32,
            grad_norm,
        })
    }

    /// Copies the fast path's weights into the candle variables.
    fn sync_from_fast(&self) -> Result<()> {
        if let Some(fast) = &self.fast {
            let tensors = fast.layout.unflatten(&fast.step.params())?;
            let data = self.params.vars();
            for (name, t) in tensors {
                if let Some(var) = data.get(&name) {
                    var.set(&t)?;
                }
            }
        }
        Ok(())
    }

    /// Starts one half of a joint run (`small.*` or `large.*`) from a
    /// pre-trained single model of the same configuration. Loading the small
    /// half zeroes each merge's output norm, so every merge starts as the
    /// identity and the pair starts exactly where the single model is.
    pub fn load_half(&self, half: Half, pretrained: &Weights) -> Result<()> {
        let WeightsConfig::Joint(joint) = &self.config else {
            return Err(Error::Config(
                "only a joint model has halves to load".into(),
            ));
        };
        let (prefix, wanted) = match half {
            Half::Small => ("small", &joint.small),
            Half::Large => ("large", &joint.large),
        };
        if pretrained.config != WeightsConfig::Single(wanted.clone()) {
            return Err(Error::Config(format!(
                "the pre-trained model {} is not the joint model's {prefix} model {}",
                pretrained.config.to_json(),
                serde_json::to_string(wanted).unwrap_or_default()
            )));
        }
        let data = self.params.vars();
        for (name, t) in &pretrained.tensors {
            let var = data
                .get(&format!("{prefix}.{name}"))
                .ok_or_else(|| Error::Config(format!("no {prefix}.{name}")))?;
            var.set(t)?;
        }
        if half == Half::Small {
            for (name, var) in data.iter() {
                if name.starts_with("small.merges.") && name.contains(".cross_attn.proj.norm.") {
                    var.set(&var.zeros_like()?)?;
                }
            }
        }
        Ok(())
    }

    /// Starts a single model from one trained for another task (separation's
    /// weights for enhancement, say): the configurations must agree but for the
    /// number of sources and the speaker input; every tensor whose name and
    /// shape match is copied and the rest keep their fresh initialisation,
    /// except a speaker FiLM the pre-trained model lacks, which starts as the
    /// identity (scale 1, shift 0 for every embedding): a target-extraction
    /// model then starts exactly where the pre-trained one is. Returns the
    /// names not copied.
    pub fn init_from(&self, pretrained: &Weights) -> Result<Vec<String>> {
        let (WeightsConfig::Single(mine), WeightsConfig::Single(theirs)) =
            (&self.config, &pretrained.config)
        else {
            return Err(Error::Config(
                "starting from another task's weights needs a single model on both sides".into(),
            ));
        };
        let mut same = theirs.clone();
        same.sources = mine.sources;
        if theirs.speaker.is_none() {
            same.speaker = mine.speaker;
        }
        if &same != mine {
            return Err(Error::Config(format!(
                "the pre-trained model {} differs from this run's {} in more than its sources",
                pretrained.config.to_json(),
                self.config.to_json()
            )));
        }
        let mut fresh = Vec::new();
        for (name, var) in self.params.vars().iter() {
            match pretrained.tensors.get(name) {
                Some(t) if t.dims() == var.dims() => var.set(t)?,
                _ => {
                    if name.starts_with("speaker_films.") {
                        let one = name.ends_with("scale.bias");
                        let value: f32 = if one { 1.0 } else { 0.0 };
                        var.set(&Tensor::full(value, var.dims(), var.device())?)?;
                    }
                    fresh.push(name.clone());
                }
            }
        }
        fresh.sort();
        Ok(fresh)
    }

    /// The trained output [B, S, M, N] for `mixture` [B, M, N] (the small model's for a joint run).
    pub fn output(&self, mixture: &Tensor, hint_keep: Option<&Tensor>) -> Result<Tensor> {
        self.output_conditioned(mixture, hint_keep, None)
    }

    /// [`Self::output`] conditioned on the speakers `speaker` [B, E] (target extraction).
    pub fn output_conditioned(
        &self,
        mixture: &Tensor,
        hint_keep: Option<&Tensor>,
        speaker: Option<&Tensor>,
    ) -> Result<Tensor> {
        Ok(match &self.model {
            Model::Single(m) => m.forward_conditioned(mixture, None, speaker)?.audio,
            Model::Joint(m) => {
                m.forward_conditioned(mixture, hint_keep, speaker)?
                    .small
                    .audio
            }
        })
    }

    /// Which hints each example keeps at this step [B, T] (1 kept, 0 dropped),
    /// drawn from the seed and the step so a resumed run draws the same.
    pub fn hint_keep(&self, batch: usize, frames: usize) -> Result<Option<Tensor>> {
        let mut keep = vec![1f32; batch * frames];
        let joint = matches!(self.model, Model::Joint(_));
        if !draw_hint_keep((&self.settings, self.step), joint, frames, &mut keep) {
            return Ok(None);
        }
        Ok(Some(Tensor::from_vec(keep, (batch, frames), &Device::Cpu)?))
    }

    /// Negative SI-SDR (or SNR, as the settings say) of `estimate` against
    /// `targets` [B, S, M, N]; permutation-invariant for two sources.
    pub fn loss(&self, estimate: &Tensor, targets: &Tensor) -> Result<Tensor> {
        self.loss_ordered(estimate, targets, &[])
    }

    /// [`Self::loss`] where the examples marked in `fixed` (empty: none) keep the targets' order.
    pub fn loss_ordered(
        &self,
        estimate: &Tensor,
        targets: &Tensor,
        fixed: &[bool],
    ) -> Result<Tensor> {
        let objective = self.settings.objective;
        if targets.dim(1)? == 2 {
            Ok(pit_loss(objective, estimate, targets, fixed)?.0)
        } else {
            objective.neg_loss(estimate, targets)
        }
    }

    /// One optimisation step on a batch: `mixture` [B, M, N], `targets` [B, S, M, N].
    pub fn train_step(&mut self, mixture: &Tensor, targets: &Tensor) -> Result<StepReport> {
        self.train_step_ordered(mixture, targets, (&[], None))
    }

    /// [`Self::train_step`] where the examples marked in `fixed` (empty:
    /// none) keep the targets' order, conditioned on `speakers` [B, E]
    /// (target extraction).
    pub fn train_step_ordered(
        &mut self,
        mixture: &Tensor,
        targets: &Tensor,
        (fixed, speakers): (&[bool], Option<&Tensor>),
    ) -> Result<StepReport> {
        let (b, _, n) = mixture.dims3()?;
        if self.fast.is_some() {
            let mix = mixture.flatten_all()?.to_vec1::<f32>()?;
            let tgt = targets.flatten_all()?.to_vec1::<f32>()?;
            let spk = match speakers {
                Some(s) => s.flatten_all()?.to_vec1::<f32>()?,
                None => Vec::new(),
            };
            return self.train_step_flat_ordered(&mix, &tgt, b, (fixed, &spk));
        }
        self.check_speakers(b, speakers.map_or(0, |s| s.elem_count()))?;
        let keep = self.hint_keep(b, n.div_ceil(self.chunk()))?;
        let estimate = self.output_conditioned(mixture, keep.as_ref(), speakers)?;
        let loss = self.loss_ordered(&estimate, targets, fixed)?;
        let grads = loss.backward()?;
        let vars: HashMap<String, Var> = self
            .params
            .vars()
            .iter()
            .filter(|(name, _)| !self.settings.frozen(name))
            .map(|(name, var)| (name.clone(), var.clone()))
            .collect();
        let warm = self.settings.warm(self.step + 1);
        let grad_norm = self.adam.step(&vars, &grads, (warm, self.settings.clip))?;
        self.step += 1;
        Ok(StepReport {
            loss: loss.to_scalar::<f32>()?,
            grad_norm,
        })
    }

    /// Checks that `values` speaker values condition a batch of `examples` as the model needs.
    fn check_speakers(&self, examples: usize, values: usize) -> Result<()> {
        let width = match &self.config {
            WeightsConfig::Single(c) => c.speaker,
            WeightsConfig::Joint(j) => j.small.speaker,
        }
        .unwrap_or(0);
        if values != examples * width {
            return Err(Error::Input(format!(
                "{values} speaker values for {examples} examples of a model taking {width} each"
            )));
        }
        Ok(())
    }

    fn chunk(&self) -> usize {
        match &self.config {
            WeightsConfig::Single(c) => c.chunk,
            WeightsConfig::Joint(c) => c.small.chunk,
        }
    }

    /// Validation figures of the model's outputs for `mixture` [B, M, N]
    /// against `targets` [B, S, M, N] (see [`Validation`]).
    pub fn validate(&self, mixture: &Tensor, targets: &Tensor) -> Result<Validation> {
        self.validate_conditioned(mixture, targets, None)
    }

    /// [`Self::validate`] with each example conditioned on its speaker in
    /// `speakers` [B, E] (target extraction).
    pub fn validate_conditioned(
        &self,
        mixture: &Tensor,
        targets: &Tensor,
        speakers: Option<&Tensor>,
    ) -> Result<Validation> {
        let (b, m, n) = mixture.dims3()?;
        self.check_speakers(b, speakers.map_or(0, |s| s.elem_count()))?;
        let s = targets.dim(1)?;
        let mix = mixture.flatten_all()?.to_vec1::<f32>()?;
        let tgt = targets.flatten_all()?.to_vec1::<f32>()?;
        let estimates = self.estimates(mixture, &mix, speakers)?;
        Ok(Validation::score(&mix, &tgt, &estimates, (b, s, m, n)))
    }

    /// SI-SDR improvement in dB of each example (best source assignment, averaged over sources and ears).
    pub fn si_sdri(&self, mixture: &Tensor, targets: &Tensor) -> Result<Vec<f32>> {
        Ok(self.validate(mixture, targets)?.si_sdri)
    }

    /// The model's outputs [B, S, M, N] for `mixture` (`flat` is the same
    /// samples): on the fast path when it holds this length, else with candle
    /// [`VALIDATION_SLICE`] examples at a time (the forward pass keeps its
    /// whole graph alive, so one pass over a full set would hold gigabytes).
    fn estimates(
        &self,
        mixture: &Tensor,
        flat: &[f32],
        speakers: Option<&Tensor>,
    ) -> Result<Vec<f32>> {
        let (b, m, n) = mixture.dims3()?;
        if let Some(fast) = self.fast.as_ref().filter(|f| f.step.samples() == n) {
            let cap = fast.step.capacity();
            let per = fast.step.outputs() * n;
            let mut out = vec![0f32; cap * per];
            let mut all = Vec::with_capacity(b * per);
            let spk = match speakers {
                Some(s) => s.flatten_all()?.to_vec1::<f32>()?,
                None => Vec::new(),
            };
            let e = spk.len() / b;
            for start in (0..b).step_by(cap) {
                let count = cap.min(b - start);
                let conditioning = &spk[start * e..(start + count) * e];
                let input = (&flat[start * m * n..], conditioning);
                fast.step.forward_conditioned(input, count, &mut out);
                all.extend_from_slice(&out[..count * per]);
            }
            return Ok(all);
        }
        self.sync_from_fast()?;
        let mut all = Vec::new();
        for start in (0..b).step_by(VALIDATION_SLICE) {
            let count = VALIDATION_SLICE.min(b - start);
            let speaker = match speakers {
                Some(s) => Some(s.narrow(0, start, count)?),
                None => None,
            };
            let out =
                self.output_conditioned(&mixture.narrow(0, start, count)?, None, speaker.as_ref())?;
            all.extend(out.flatten_all()?.to_vec1::<f32>()?);
        }
        Ok(all)
    }

    /// Records a validation score (higher is better): updates the learning
    /// rate by the schedule and returns whether it is a new best.
    pub fn end_evaluation(&mut self, score: f64) -> bool {
        let (lr, best) = self.plateau.observe(score, self.adam.lr);
        self.adam.lr = lr;
        best
    }

    /// Writes the model alone as a weight file (for eval, the engine and the plugin).
    pub fn save_weights(&self, path: &Path) -> Result<()> {
        self.sync_from_fast()?;
        save_params(path, &self.config, &self.params)
    }

    /// Writes weights, optimiser moments, step and schedule to `path`.
    pub fn save_checkpoint(&self, path: &Path) -> Result<()> {
        self.sync_from_fast()?;
        let mut tensors: HashMap<String, Tensor> = self
            .params
            .tensors()
            .into_iter()
            .map(|(k, v)| (format!("param.{k}"), v))
            .collect();
        let moments = match &self.fast {
            Some(fast) => {
                let m = fast.layout.unflatten(&fast.adam.m)?;
                let mut v = fast.layout.unflatten(&fast.adam.v)?;
                m.into_iter()
                    .map(|(name, m)| {
                        let v = v.remove(&name).expect("one layout for both moments");
                        (name, (m, v))
                    })
                    .collect()
            }
            None => self.adam.moments.clone(),
        };
        for (name, (m, v)) in &moments {
            tensors.insert(format!("adam.m.{name}"), m.clone());
            tensors.insert(format!("adam.v.{name}"), v.clone());
        }
        let state = RunState {
            config: self.config.clone(),
            settings: self.settings.clone(),
            step: self.step,
            adam_t: self.adam.t,
            lr: self.adam.lr,
            plateau: self.plateau,
        };
        let json = serde_json::to_string(&state).map_err(|e| Error::Config(e.to_string()))?;
        let tmp = path.with_extension("partial");
        save_with_metadata(
            &tmp,
            HashMap::from([(CHECKPOINT_KEY.to_string(), json)]),
            &tensors,
        )?;
        std::fs::rename(&tmp, path).map_err(|e| Error::Weights {
            path: path.display().to_string(),
            msg: format!("cannot move the checkpoint into place: {e}"),
        })
    }

    /// Continues a run from a checkpoint written by [`Self::save_checkpoint`].
    pub fn resume(path: &Path) -> Result<Self> {
        let err = |msg: String| Error::Weights {
            path: path.display().to_string(),
            msg,
        };
        let bytes = std::fs::read(path).map_err(|e| err(format!("cannot read: {e}")))?;
        let (_, header) = SafeTensors::read_metadata(&bytes)
            .map_err(|e| err(format!("not a checkpoint: {e}")))?;
        let json = header
            .metadata()
            .as_ref()
            .and_then(|m| m.get(CHECKPOINT_KEY))
            .ok_or_else(|| err("no run state in the metadata: not a training checkpoint".into()))?;
        let state: RunState =
            serde_json::from_str(json).map_err(|e| err(format!("bad run state: {e}")))?;
        let tensors = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu)?;
        let mut trainer = Self::new(state.config, state.settings)?;
        {
            let data = trainer.params.vars();
            for (name, var) in data.iter() {
                let t = tensors
                    .get(&format!("param.{name}"))
                    .ok_or_else(|| err(format!("missing `param.{name}`")))?;
                var.set(&t.to_dtype(DType::F32)?)?;
            }
            for name in data.keys() {
                if let (Some(m), Some(v)) = (
                    tensors.get(&format!("adam.m.{name}")),
                    tensors.get(&format!("adam.v.{name}")),
                ) {
                    trainer
                        .adam
                        .moments
                        .insert(name.clone(), (m.clone(), v.clone()));
                }
            }
        }
        trainer.step = state.step;
        trainer.adam.t = state.adam_t;
        trainer.adam.lr = state.lr;
        trainer.plateau = state.plateau;
        Ok(trainer)
    }

    /// Current values of every parameter, by name.
    pub fn parameters(&self) -> HashMap<String, Tensor> {
        if let Some(fast) = &self.fast {
            if let Ok(t) = fast.layout.unflatten(&fast.step.params()) {
                return t;
            }
        }
        self.params.tensors()
    }

    /// The single model being trained, if it is one.
    pub fn single(&self) -> Option<&TfGridNet> {
        match &self.model {
            Model::Single(m) => Some(m),
            Model::Joint(_) => None,
        }
    }

    /// The joint model being trained, if it is one.
    pub fn joint(&self) -> Option<&JointModel> {
        match &self.model {
            Model::Joint(m) => Some(m),
            Model::Single(_) => None,
        }
    }
}

/// Draws which hints a joint run keeps at `step` into `keep` [B, frames] (1
/// kept, 0 dropped) from the seed and the step, so a resumed run draws the
/// same; returns false (and leaves `keep` alone) when nothing is dropped.
fn draw_hint_keep(
    (s, step): (&TrainSettings, u64),
    joint: bool,
    frames: usize,
    keep: &mut [f32],
) -> bool {
    if !joint || (s.hint_drop_chunks <= 0.0 && s.hint_drop_utterances <= 0.0) {
        return false;
    }
    let mut rng = StdRng::seed_from_u64(s.seed ^ step.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    for example in keep.chunks_exact_mut(frames) {
        let whole = rng.random_bool(s.hint_drop_utterances.clamp(0.0, 1.0));
        for k in example {
            let dropped = whole || rng.random_bool(s.hint_drop_chunks.clamp(0.0, 1.0));
            *k = if dropped { 0.0 } else { 1.0 };
        }
    }
    true
}
