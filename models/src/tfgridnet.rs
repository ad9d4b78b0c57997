//! The causal TF-GridNet: STFT, input conv, GridNet blocks (with merge modules
//! when it receives hints), output deconv, iSTFT.

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

use crate::{
    config::{JointConfig, ModelConfig},
    conv::CausalConv2d,
    error::{Error, Result},
    gridnet_block::GridNetBlock,
    level::{window_gains, LevelTracker},
    merge::Merge,
    norm::LayerNorm,
    speaker_film::SpeakerFilm,
    stft::Stft,
    stream_state::GridNetState,
    trace::{tap, Trace},
    SAMPLE_RATE,
};

/// What one call of a TF-GridNet produces.
#[derive(Debug, Clone)]
pub struct ModelOutput {
    /// Separated waveforms [B, S, M, samples].
    pub audio: Tensor,
    /// Output spectrum before the iSTFT [B, 2SM, T, F] (the large model's hint).
    pub spectrum: Tensor,
}

/// A causal TF-GridNet, optionally with merge modules that take hints.
#[derive(Debug, Clone)]
pub struct TfGridNet {
    cfg: ModelConfig,
    stft: Stft,
    conv: CausalConv2d,
    conv_norm: LayerNorm,
    blocks: Vec<GridNetBlock>,
    merges: Vec<Merge>,
    speakers: Vec<SpeakerFilm>,
    deconv: CausalConv2d,
    hint_channels: usize,
}

impl TfGridNet {
    /// Builds a stand-alone model (no hint input).
    pub fn new(vb: VarBuilder, cfg: &ModelConfig) -> Result<Self> {
        Self::build(vb, cfg, None)
    }

    /// Builds the small model of a joint pair, with a merge module after every block but the last.
    pub fn with_merges(vb: VarBuilder, joint: &JointConfig) -> Result<Self> {
        Self::build(vb, &joint.small, Some(joint))
    }

    fn build(vb: VarBuilder, cfg: &ModelConfig, joint: Option<&JointConfig>) -> Result<Self> {
        cfg.validate()?;
        let device = vb.device().clone();
        let blocks = (0..cfg.blocks)
            .map(|i| GridNetBlock::new(vb.pp("blocks").pp(i), cfg))
            .collect::<Result<Vec<_>>>()?;
        let merges = match joint {
            Some(j) => (0..cfg.blocks - 1)
                .map(|i| Merge::new(vb.pp("merges").pp(i), j))
                .collect::<Result<Vec<_>>>()?,
            None => Vec::new(),
        };
        let speakers = match cfg.speaker {
            Some(e) => (0..cfg.blocks - 1)
                .map(|i| SpeakerFilm::new(vb.pp("speaker_films").pp(i), e, cfg.d, cfg.freqs()))
                .collect::<Result<Vec<_>>>()?,
            None => Vec::new(),
        };
        Ok(Self {
            cfg: cfg.clone(),
            stft: Stft::new(cfg.chunk, cfg.pad, &device)?,
            conv: CausalConv2d::new(vb.pp("conv"), cfg.in_channels(), cfg.d)?,
            conv_norm: LayerNorm::over(vb.pp("conv_norm"), cfg.d)?,
            blocks,
            merges,
            speakers,
            deconv: CausalConv2d::new(vb.pp("deconv"), cfg.d, cfg.out_channels())?,
            hint_channels: joint.map_or(0, |j| j.hint_channels()),
        })
    }

    /// The model's configuration.
    pub fn config(&self) -> &ModelConfig {
        &self.cfg
    }

    /// Whether the model takes hints.
    pub fn takes_hints(&self) -> bool {
        !self.merges.is_empty()
    }

    /// Whether the model needs a speaker embedding (target extraction).
    pub fn takes_speaker(&self) -> bool {
        !self.speakers.is_empty()
    }

    /// Conditions the streams of `state` on the speakers `embedding` [B, E]
    /// (one per stream), for every frame that follows.
    pub fn condition(&self, state: &mut GridNetState, embedding: &Tensor) -> Result<()> {
        let Some(e) = self.cfg.speaker else {
            return Err(Error::Input("this model takes no speaker embedding".into()));
        };
        let (b, got) = embedding.dims2()?;
        let streams = state.conv.dim(0)?;
        if got != e || b != streams {
            return Err(Error::Input(format!(
                "expected {streams} speaker embeddings of {e} values, got [{b}, {got}]"
            )));
        }
        state.speaker = self
            .speakers
            .iter()
            .map(|s| s.condition(embedding))
            .collect::<Result<_>>()?;
        Ok(())
    }

    /// Fresh streaming state for `batch` streams.
    pub fn initial_state(&self, batch: usize, device: &Device) -> Result<GridNetState> {
        let f = self.cfg.freqs();
        let level = self.cfg.level.map_or_else(Vec::new, |l| {
            vec![LevelTracker::new(&l, self.cfg.chunk, SAMPLE_RATE); batch]
        });
        Ok(GridNetState {
            level,
            conv: self.conv.initial_state(batch, f, device)?,
            blocks: self
                .blocks
                .iter()
                .map(|b| b.initial_state(batch, device))
                .collect::<Result<_>>()?,
            merges: self
                .merges
                .iter()
                .map(|m| m.initial_state(batch, device))
                .collect::<Result<_>>()?,
            speaker: Vec::new(),
            deconv: self.deconv.initial_state(batch, f, device)?,
            istft: Tensor::zeros(
                (batch, self.cfg.sources * self.cfg.ears, self.cfg.pad),
                DType::F32,
                device,
            )?,
        })
    }

    /// Streams T frames: `window` [B, M, chunk * T + pad] holds the samples
    /// `[chunk * k, chunk * (k + T) + pad)` of the stream, `hints` [B, T, F, C']
    /// the hint arriving at each frame (zeros = no hint). Returns the T chunks
    /// of output aligned with the first chunk * T samples of the window.
    pub fn forward_frames(
        &self,
        window: &Tensor,
        hints: Option<&Tensor>,
        state: &mut GridNetState,
    ) -> Result<ModelOutput> {
        self.forward_frames_traced(window, hints, state, None)
    }

    /// [`Self::forward_frames`], recording `stft`, `conv`, `block{i}` (before
    /// its speaker FiLM and merge), `speaker{j}`, `film{j}`, `ca{j}` and
    /// `deconv` in `trace`.
    pub fn forward_frames_traced(
        &self,
        window: &Tensor,
        hints: Option<&Tensor>,
        state: &mut GridNetState,
        mut trace: Option<&mut Trace>,
    ) -> Result<ModelOutput> {
        let (b, m, _) = window.dims3()?;
        if m != self.cfg.ears {
            return Err(Error::Input(format!(
                "model expects {} channels, got {m}",
                self.cfg.ears
            )));
        }
        if self.takes_speaker() && state.speaker.is_empty() {
            return Err(Error::Input(
                "this model extracts a target talker: condition it on a speaker embedding first"
                    .into(),
            ));
        }
        let features = self.stft.analyse(window)?;
        let t = features.dim(2)?;
        let gains = self.level_gains(window, t, &mut state.level)?;
        let features = match &gains {
            Some(g) => features.broadcast_div(g)?,
            None => features,
        };
        tap(&mut trace, "stft", &features);
        let f = self.cfg.freqs();
        let hints = match (hints, self.takes_hints()) {
            (Some(h), true) => Some(h.clone()),
            (None, true) => Some(Tensor::zeros(
                (b, t, f, self.hint_channels),
                DType::F32,
                window.device(),
            )?),
            _ => None,
        };
        let x = self
            .conv
            .forward(&features, &mut state.conv)?
            .permute((0, 2, 3, 1))?
            .contiguous()?;
        let mut x = self.conv_norm.forward(&x)?;
        tap(&mut trace, "conv", &x);
        for (i, block) in self.blocks.iter().enumerate() {
            let name = format!("block{i}");
            x = block.forward(&x, &mut state.blocks[i], &name, trace.as_deref_mut())?;
            tap(&mut trace, &name, &x);
            if let Some(speaker) = state.speaker.get(i) {
                x = speaker.forward(&x)?;
                tap(&mut trace, format_args!("speaker{i}"), &x);
            }
            if let (Some(merge), Some(hints)) = (self.merges.get(i), &hints) {
                x = merge.forward(&x, hints, &mut state.merges[i], i, trace.as_deref_mut())?;
            }
        }
        let x = x.permute((0, 3, 1, 2))?.contiguous()?;
        let spectrum = self.deconv.forward(&x, &mut state.deconv)?;
        tap(&mut trace, "deconv", &spectrum);
        let audio = match &gains {
            Some(g) => self
                .stft
                .synthesise(&spectrum.broadcast_mul(g)?, &mut state.istft)?,
            None => self.stft.synthesise(&spectrum, &mut state.istft)?,
        };
        let audio = audio.reshape((b, self.cfg.sources, self.cfg.ears, t * self.cfg.chunk))?;
        Ok(ModelOutput { audio, spectrum })
    }

    /// Level gains [B, 1, T, 1] of the T frames of `window`, continuing `trackers` (None without level normalisation).
    fn level_gains(
        &self,
        window: &Tensor,
        t: usize,
        trackers: &mut [LevelTracker],
    ) -> Result<Option<Tensor>> {
        if self.cfg.level.is_none() {
            return Ok(None);
        }
        let (b, m, len) = window.dims3()?;
        if trackers.len() != b {
            return Err(Error::Input(format!(
                "state holds {} level trackers for a batch of {b}",
                trackers.len()
            )));
        }
        let samples = window.flatten_all()?.to_vec1::<f32>()?;
        let mut gains = vec![0f32; b * t];
        for (i, tracker) in trackers.iter_mut().enumerate() {
            window_gains(
                tracker,
                (&samples[i * m * len..(i + 1) * m * len], len, m),
                (self.cfg.chunk, self.cfg.n_fft()),
                &mut gains[i * t..(i + 1) * t],
            );
        }
        Ok(Some(Tensor::from_vec(
            gains,
            (b, 1, t, 1),
            window.device(),
        )?))
    }

    /// Whole utterance `mixture` [B, M, N] from a fresh state: output sample n
    /// is aligned with input sample n. `hints` [B, T, F, C'] for T = ceil(N / chunk).
    pub fn forward(&self, mixture: &Tensor, hints: Option<&Tensor>) -> Result<ModelOutput> {
        self.forward_conditioned(mixture, hints, None)
    }

    /// [`Self::forward`] conditioned on the speakers `speaker` [B, E] (target extraction).
    pub fn forward_conditioned(
        &self,
        mixture: &Tensor,
        hints: Option<&Tensor>,
        speaker: Option<&Tensor>,
    ) -> Result<ModelOutput> {
        let (b, _, n) = mixture.dims3()?;
        let window = pad_utterance(mixture, &self.cfg)?;
        let mut state = self.initial_state(b, mixture.device())?;
        if let Some(s) = speaker {
            self.condition(&mut state, s)?;
        }
        let out = self.forward_frames(&window, hints, &mut state)?;
        Ok(ModelOutput {
            audio: out.audio.narrow(3, 0, n)?,
            spectrum: out.spectrum,
        })
    }
}

/// Pads an utterance [B, M, N] with zeros to a whole number of chunks plus the lookahead.
pub fn pad_utterance(mixture: &Tensor, cfg: &ModelConfig) -> Result<Tensor> {
    let n = mixture.dim(2)?;
    if n == 0 {
        return Err(Error::Input("empty input".into()));
    }
    let frames = n.div_ceil(cfg.chunk);
    Ok(mixture.pad_with_zeros(2, 0, frames * cfg.chunk - n + cfg.pad)?)
}
