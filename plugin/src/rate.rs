//! Host rate <-> 16 kHz with rubato's sinc resamplers, every buffer allocated up front.

use rubato::{
    audioadapter_buffers::direct::SequentialSlice, Async, FixedAsync, Resampler,
    SincInterpolationParameters, SincInterpolationType, WindowFunction,
};

/// The models' sample rate.
pub const MODEL_RATE: u32 = kb_models::SAMPLE_RATE as u32;

/// Common host rates the plugin is tested at (any rate in `path::HOST_RATES` works).
pub const SUPPORTED_RATES: [u32; 5] = [44_100, 48_000, 88_200, 96_000, 192_000];

/// Errors building a resampler pair.
#[derive(Debug)]
pub struct RateError(pub String);

impl std::fmt::Display for RateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RateError {}

fn sinc(
    ratio: f64,
    chunk: usize,
    channels: usize,
    fixed: FixedAsync,
) -> Result<Async<f32>, RateError> {
    let params = SincInterpolationParameters::new(64, WindowFunction::BlackmanHarris2)
        .f_cutoff(0.92)
        .oversampling_factor(128)
        .interpolation(SincInterpolationType::Cubic);
    Async::<f32>::new_sinc(ratio, 1.1, &params, chunk, channels, fixed)
        .map_err(|e| RateError(format!("cannot build a resampler for ratio {ratio}: {e}")))
}

/// Host rate -> 16 kHz: every call turns a varying number of host frames into one 128-frame chunk.
pub struct Downsampler {
    inner: Async<f32>,
    channels: usize,
    chunk: usize,
}

impl Downsampler {
    /// `channels` channels from `host_rate` into chunks of `chunk` frames at 16 kHz.
    pub fn new(host_rate: f64, channels: usize, chunk: usize) -> Result<Self, RateError> {
        Ok(Self {
            inner: sinc(
                f64::from(MODEL_RATE) / host_rate,
                chunk,
                channels,
                FixedAsync::Output,
            )?,
            channels,
            chunk,
        })
    }

    /// Host frames the next call needs.
    pub fn frames_needed(&self) -> usize {
        self.inner.input_frames_next()
    }

    /// The most host frames a call can need.
    pub fn frames_max(&self) -> usize {
        self.inner.input_frames_max()
    }

    /// Delay in 16 kHz frames.
    pub fn delay(&self) -> usize {
        self.inner.output_delay()
    }

    /// `input` [channels][frames_needed()] channel-major -> `out` [channels][chunk].
    pub fn process(&mut self, input: &[f32], out: &mut [f32]) {
        let frames = self.frames_needed();
        debug_assert_eq!(input.len(), frames * self.channels);
        let inp = SequentialSlice::new(input, self.channels, frames).expect("sized input");
        let mut o = SequentialSlice::new_mut(out, self.channels, self.chunk).expect("sized output");
        self.inner
            .process_into_buffer(&inp, &mut o, None)
            .expect("buffers sized at construction");
    }

    /// Clears the filter state.
    pub fn reset(&mut self) {
        self.inner.reset();
    }
}

/// 16 kHz -> host rate: every call turns one 128-frame chunk into a varying number of host frames.
pub struct Upsampler {
    inner: Async<f32>,
    channels: usize,
    chunk: usize,
}

impl Upsampler {
    /// `channels` channels of `chunk`-frame chunks from 16 kHz to `host_rate`.
    pub fn new(host_rate: f64, channels: usize, chunk: usize) -> Result<Self, RateError> {
        Ok(Self {
            inner: sinc(
                host_rate / f64::from(MODEL_RATE),
                chunk,
                channels,
                FixedAsync::Input,
            )?,
            channels,
            chunk,
        })
    }

    /// Host frames the next call produces.
    pub fn frames_next(&self) -> usize {
        self.inner.output_frames_next()
    }

    /// The most host frames a call can produce.
    pub fn frames_max(&self) -> usize {
        self.inner.output_frames_max()
    }

    /// Delay in host frames.
    pub fn delay(&self) -> usize {
        self.inner.output_delay()
    }

    /// `input` [channels][chunk] -> `out` [channels][stride], of which the first
    /// frames_next() frames of each channel are written; returns that count.
    pub fn process(&mut self, input: &[f32], out: &mut [f32], stride: usize) -> usize {
        let inp = SequentialSlice::new(input, self.channels, self.chunk).expect("sized input");
        let mut o = SequentialSlice::new_mut(out, self.channels, stride).expect("sized output");
        let (_, produced) = self
            .inner
            .process_into_buffer(&inp, &mut o, None)
            .expect("buffers sized at construction");
        produced
    }

    /// Clears the filter state.
    pub fn reset(&mut self) {
        self.inner.reset();
    }
}
