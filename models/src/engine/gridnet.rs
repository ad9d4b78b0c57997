//! One TF-GridNet for one 128-sample chunk: every buffer sized at construction.

use super::{
    block::Block, conv::Conv3x3, dense::layer_norm_rows, merge::MergeModule,
    speaker_film::SpeakerFilm, spectral::Spectral, tensors::TensorSource,
};
use crate::kernels::Kernels;
use crate::{
    config::{JointConfig, ModelConfig},
    error::{Error, Result},
    level::LevelTracker,
    SAMPLE_RATE,
};

/// The engine's [`crate::TfGridNet`]: takes 128 new samples per ear, returns 128 per source and ear.
#[derive(Debug)]
pub struct GridNetEngine {
    cfg: ModelConfig,
    kernels: Kernels,
    spectral: Spectral,
    level: Option<LevelTracker>,
    gain: f32,
    conv: Conv3x3,
    conv_norm: (Vec<f32>, Vec<f32>),
    blocks: Vec<Block>,
    merges: Vec<MergeModule>,
    speakers: Vec<SpeakerFilm>,
    conditioned: bool,
    deconv: Conv3x3,
    features: Vec<f32>,
    frame: Vec<f32>,
    spectrum: Vec<f32>,
    zero_hint: Vec<f32>,
}

impl GridNetEngine {
    /// Loads the model `cfg` under `src`; `joint` adds the merge modules of a small model.
    pub fn load(
        src: &TensorSource,
        cfg: &ModelConfig,
        joint: Option<&JointConfig>,
        kernels: Kernels,
    ) -> Result<Self> {
        cfg.validate()?;
        let (d, f) = (cfg.d, cfg.freqs());
        let conv_norm = src.pp("conv_norm");
        let merges = match joint {
            Some(j) => (0..cfg.blocks - 1)
                .map(|i| MergeModule::load(&src.pp("merges").pp(i), j))
                .collect::<Result<Vec<_>>>()?,
            None => Vec::new(),
        };
        let speakers = match cfg.speaker {
            Some(e) => (0..cfg.blocks - 1)
                .map(|i| SpeakerFilm::load(&src.pp("speaker_films").pp(i), e, d, f))
                .collect::<Result<Vec<_>>>()?,
            None => Vec::new(),
        };
        Ok(Self {
            cfg: cfg.clone(),
            kernels,
            spectral: Spectral::new(cfg.chunk, cfg.pad, cfg.ears, cfg.sources * cfg.ears),
            level: cfg
                .level
                .map(|l| LevelTracker::new(&l, cfg.chunk, SAMPLE_RATE)),
            gain: 1.0,
            conv: Conv3x3::load(&src.pp("conv"), cfg.in_channels(), d, f)?,
            conv_norm: (conv_norm.get("weight", &[d])?, conv_norm.get("bias", &[d])?),
            blocks: (0..cfg.blocks)
                .map(|i| Block::load(&src.pp("blocks").pp(i), cfg))
                .collect::<Result<Vec<_>>>()?,
            merges,
            speakers,
            conditioned: false,
            deconv: Conv3x3::load(&src.pp("deconv"), d, cfg.out_channels(), f)?,
            features: vec![0.0; f * cfg.in_channels()],
            frame: vec![0.0; f * d],
            spectrum: vec![0.0; f * cfg.out_channels()],
            zero_hint: vec![0.0; f * joint.map_or(0, |j| j.hint_channels())],
        })
    }

    /// The model's configuration.
    pub fn config(&self) -> &ModelConfig {
        &self.cfg
    }

    /// The kernels in use.
    pub fn kernels(&self) -> &Kernels {
        &self.kernels
    }

    /// Samples per ear of one input chunk (and per output channel).
    pub fn chunk(&self) -> usize {
        self.cfg.chunk
    }

    /// Whether the model needs a speaker embedding (target extraction).
    pub fn takes_speaker(&self) -> bool {
        !self.speakers.is_empty()
    }

    /// Conditions every chunk that follows on the speaker `embedding`
    /// (target extraction; kept across [`Self::reset`]). Allocates nothing.
    pub fn set_speaker(&mut self, embedding: &[f32]) -> Result<()> {
        if !self.takes_speaker() {
            return Err(Error::Input("this model takes no speaker embedding".into()));
        }
        for s in &mut self.speakers {
            s.set(embedding)?;
        }
        self.conditioned = true;
        Ok(())
    }

    /// Clears every state (a new stream); the speaker stays.
    pub fn reset(&mut self) {
        self.spectral.reset();
        if let Some(level) = &mut self.level {
            level.reset();
        }
        self.conv.reset();
        self.deconv.reset();
        self.blocks.iter_mut().for_each(Block::reset);
        self.merges.iter_mut().for_each(MergeModule::reset);
    }

    /// Starts the stream with `samples` [M, pad] already in the lookahead (by
    /// default it holds zeros, which delays the output by pad samples).
    pub fn prime(&mut self, samples: &[f32]) -> Result<()> {
        let want = self.cfg.ears * self.cfg.pad;
        if samples.len() != want {
            return Err(Error::Input(format!(
                "expected {want} lookahead samples, got {}",
                samples.len()
            )));
        }
        self.spectral.prime(samples);
        Ok(())
    }

    /// Runs one chunk up to the output spectrum [F, 2SM] (at the model's
    /// working level: the large model's hint); `input` is [M, chunk]
    /// channel-major, `hint` [F, C'] (None = no hint: a zero frame).
    pub fn process_spectrum(&mut self, input: &[f32], hint: Option<&[f32]>) -> Result<&[f32]> {
        let (m, c) = (self.cfg.ears, self.cfg.chunk);
        if input.len() != m * c {
            return Err(Error::Input(format!(
                "expected {m} x {c} input samples, got {}",
                input.len()
            )));
        }
        let hint = hint.unwrap_or(&self.zero_hint);
        if hint.len() != self.zero_hint.len() {
            return Err(Error::Input(format!(
                "expected a hint of {} values, got {}",
                self.zero_hint.len(),
                hint.len()
            )));
        }
        if self.takes_speaker() && !self.conditioned {
            return Err(Error::Input(
                "this model extracts a target talker: set a speaker embedding first".into(),
            ));
        }
        let k = &self.kernels;
        let mean_square = self.spectral.analyse(input, &mut self.features);
        if let Some(level) = &mut self.level {
            self.gain = level.update(mean_square);
            let gain = self.gain;
            self.features.iter_mut().for_each(|v| *v /= gain);
        }
        self.conv.forward(k, &self.features, &mut self.frame);
        layer_norm_rows(
            &mut self.frame,
            self.cfg.d,
            &self.conv_norm.0,
            &self.conv_norm.1,
        );
        for (i, block) in self.blocks.iter_mut().enumerate() {
            block.forward(k, &mut self.frame);
            if let Some(speaker) = self.speakers.get(i) {
                speaker.forward(&mut self.frame);
            }
            if let Some(merge) = self.merges.get_mut(i) {
                merge.forward(k, &mut self.frame, hint);
            }
        }
        self.deconv.forward(k, &self.frame, &mut self.spectrum);
        Ok(&self.spectrum)
    }

    /// Runs one chunk: `input` [M, chunk] -> `out` [S, M, chunk], aligned with
    /// the input delayed by the 64-sample lookahead.
    pub fn process(&mut self, input: &[f32], hint: Option<&[f32]>, out: &mut [f32]) -> Result<()> {
        let want = self.cfg.sources * self.cfg.ears * self.cfg.chunk;
        if out.len() != want {
            return Err(Error::Input(format!(
                "expected an output buffer of {want} samples, got {}",
                out.len()
            )));
        }
        self.process_spectrum(input, hint)?;
        if self.level.is_some() {
            let gain = self.gain;
            self.spectrum.iter_mut().for_each(|v| *v *= gain);
        }
        self.spectral.synthesise(&self.spectrum, out);
        Ok(())
    }
}
