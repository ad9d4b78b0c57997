//! The knowledge-boosting pair: the large model's compressed, delayed hints merged into the small model.

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

use crate::{
    compression::Compression,
    config::JointConfig,
    delay::DelayLine,
    error::{Error, Result},
    stream_state::JointState,
    tfgridnet::{pad_utterance, ModelOutput, TfGridNet},
    trace::Trace,
};

/// Outputs of one joint call.
#[derive(Debug, Clone)]
pub struct JointOutput {
    /// The small model's output (what the listener hears).
    pub small: ModelOutput,
    /// The large model's output.
    pub large: ModelOutput,
    /// Compressed hint of each frame, before the link's delay [B, T, F, C'].
    pub hints: Tensor,
}

/// Small model + large model + compression + hint link of C chunks.
#[derive(Debug, Clone)]
pub struct JointModel {
    cfg: JointConfig,
    small: TfGridNet,
    large: TfGridNet,
    compress: Compression,
}

impl JointModel {
    /// Builds the pair; tensors under `small.`, `large.` and `compress.`.
    pub fn new(vb: VarBuilder, cfg: &JointConfig) -> Result<Self> {
        cfg.validate()?;
        Ok(Self {
            cfg: cfg.clone(),
            small: TfGridNet::with_merges(vb.pp("small"), cfg)?,
            large: TfGridNet::new(vb.pp("large"), &cfg.large)?,
            compress: Compression::new(vb.pp("compress"), cfg)?,
        })
    }

    /// The pair's configuration.
    pub fn config(&self) -> &JointConfig {
        &self.cfg
    }

    /// The small model (with its merge modules).
    pub fn small(&self) -> &TfGridNet {
        &self.small
    }

    /// The large model.
    pub fn large(&self) -> &TfGridNet {
        &self.large
    }

    /// Fresh streaming state for `batch` streams.
    pub fn initial_state(&self, batch: usize, device: &Device) -> Result<JointState> {
        let frame = Tensor::zeros(
            (batch, 1, self.cfg.large.freqs(), self.cfg.hint_channels()),
            DType::F32,
            device,
        )?;
        Ok(JointState {
            small: self.small.initial_state(batch, device)?,
            large: self.large.initial_state(batch, device)?,
            compress: self.compress.initial_state(batch, device)?,
            link: DelayLine::new(self.cfg.delay, &frame)?,
        })
    }

    /// Conditions both models' streams on the speakers `embedding` [B, E] (target extraction).
    pub fn condition(&self, state: &mut JointState, embedding: &Tensor) -> Result<()> {
        self.small.condition(&mut state.small, embedding)?;
        self.large.condition(&mut state.large, embedding)
    }

    /// Streams T frames of the same window into both models (see [`TfGridNet::forward_frames`]).
    pub fn forward_frames(&self, window: &Tensor, state: &mut JointState) -> Result<JointOutput> {
        self.forward_frames_split(window, window, state)
    }

    /// Streams T frames with separate inputs for the small and the large model.
    pub fn forward_frames_split(
        &self,
        small_window: &Tensor,
        large_window: &Tensor,
        state: &mut JointState,
    ) -> Result<JointOutput> {
        self.run(small_window, large_window, state, None, [None, None])
    }

    fn run(
        &self,
        small_window: &Tensor,
        large_window: &Tensor,
        state: &mut JointState,
        hint_keep: Option<&Tensor>,
        [small_trace, large_trace]: [Option<&mut Trace>; 2],
    ) -> Result<JointOutput> {
        if small_window.dims() != large_window.dims() {
            return Err(Error::Input(
                "small and large windows differ in shape".into(),
            ));
        }
        let large =
            self.large
                .forward_frames_traced(large_window, None, &mut state.large, large_trace)?;
        let hints = self
            .compress
            .forward(&large.spectrum, &mut state.compress)?;
        let arriving = state.link.push(&hints)?;
        let arriving = match hint_keep {
            Some(keep) => {
                let (b, t) = keep.dims2()?;
                arriving.broadcast_mul(&keep.reshape((b, t, 1, 1))?)?
            }
            None => arriving,
        };
        let small = self.small.forward_frames_traced(
            small_window,
            Some(&arriving),
            &mut state.small,
            small_trace,
        )?;
        Ok(JointOutput {
            small,
            large,
            hints,
        })
    }

    /// Whole utterance `mixture` [B, M, N] from a fresh state; outputs trimmed to N samples.
    pub fn forward(&self, mixture: &Tensor) -> Result<JointOutput> {
        self.forward_traced(mixture, None, None)
    }

    /// [`Self::forward`] where the hint arriving at frame t of example b is
    /// multiplied by `keep` [B, T] (0 = dropped: the small model sees the zero
    /// hint a missing hint gets when streaming).
    pub fn forward_with_hint_keep(&self, mixture: &Tensor, keep: &Tensor) -> Result<JointOutput> {
        self.whole(mixture, (Some(keep), None), [None, None])
    }

    /// [`Self::forward`] with an optional hint keep mask (as
    /// [`Self::forward_with_hint_keep`]), conditioned on the speakers
    /// `speaker` [B, E] (target extraction).
    pub fn forward_conditioned(
        &self,
        mixture: &Tensor,
        keep: Option<&Tensor>,
        speaker: Option<&Tensor>,
    ) -> Result<JointOutput> {
        self.whole(mixture, (keep, speaker), [None, None])
    }

    /// [`Self::forward`], recording the small and the large model's intermediates.
    pub fn forward_traced(
        &self,
        mixture: &Tensor,
        small_trace: Option<&mut Trace>,
        large_trace: Option<&mut Trace>,
    ) -> Result<JointOutput> {
        self.whole(mixture, (None, None), [small_trace, large_trace])
    }

    fn whole(
        &self,
        mixture: &Tensor,
        (hint_keep, speaker): (Option<&Tensor>, Option<&Tensor>),
        traces: [Option<&mut Trace>; 2],
    ) -> Result<JointOutput> {
        let (b, _, n) = mixture.dims3()?;
        let window = pad_utterance(mixture, &self.cfg.small)?;
        let mut state = self.initial_state(b, mixture.device())?;
        if let Some(s) = speaker {
            self.condition(&mut state, s)?;
        }
        let mut out = self.run(&window, &window, &mut state, hint_keep, traces)?;
        out.small.audio = out.small.audio.narrow(3, 0, n)?;
        out.large.audio = out.large.audio.narrow(3, 0, n)?;
        Ok(out)
    }
}
