//! The d-vector engine: preprocessing, mel frames, the three LSTM layers,
//! the projection and the average of the partial utterances' embeddings,
//! in storage sized when it is built.

use crate::{
    lstm::{self, dot},
    mel::MelFrontEnd,
    partials,
    trim::{normalize_volume, SilenceTrimmer},
    Embedding, EncoderWeights, Error, Result, EMBEDDING, HIDDEN, HOP, MELS, PARTIAL_FRAMES,
    SAMPLE_RATE,
};

/// Embeds utterances of up to a fixed length without allocating.
pub struct SpeakerEncoder {
    weights: EncoderWeights,
    front: MelFrontEnd,
    trimmer: SilenceTrimmer,
    max_samples: usize,
    wav: Vec<f32>,
    mels: Vec<f32>,
    layer_in: Vec<f32>,
    layer_out: Vec<f32>,
    gates: Vec<f32>,
    cell: Vec<f32>,
}

impl SpeakerEncoder {
    /// An encoder for utterances of up to `max_seconds` at 16 kHz.
    pub fn new(weights: EncoderWeights, max_seconds: f64) -> Self {
        let max_samples = (max_seconds.max(0.0) * SAMPLE_RATE as f64).ceil() as usize;
        Self {
            weights,
            front: MelFrontEnd::new(),
            trimmer: SilenceTrimmer::new(max_samples),
            max_samples,
            wav: Vec::with_capacity(max_samples),
            mels: vec![0.0; PARTIAL_FRAMES * MELS],
            layer_in: vec![0.0; PARTIAL_FRAMES * HIDDEN],
            layer_out: vec![0.0; PARTIAL_FRAMES * HIDDEN],
            gates: vec![0.0; 4 * HIDDEN],
            cell: vec![0.0; HIDDEN],
        }
    }

    /// The longest utterance in samples this encoder takes.
    pub fn max_samples(&self) -> usize {
        self.max_samples
    }

    /// Resemblyzer's `embed_utterance(preprocess_wav(wav))` for 16 kHz `wav`:
    /// volume raised to −30 dBFS, long silences trimmed, then partials averaged.
    pub fn embed(&mut self, wav: &[f32]) -> Result<Embedding> {
        let kept = self.preprocess(wav)?;
        let mut wav = std::mem::take(&mut self.wav);
        let out = self.embed_preprocessed(&wav[..kept]);
        wav.clear();
        self.wav = wav;
        out
    }

    /// Preprocesses `wav` into the encoder's own buffer; returns the samples kept.
    fn preprocess(&mut self, wav: &[f32]) -> Result<usize> {
        self.check_length(wav.len())?;
        self.wav.clear();
        self.wav.extend_from_slice(wav);
        normalize_volume(&mut self.wav)?;
        let kept = self.trimmer.trim(&mut self.wav);
        if kept == 0 {
            return Err(Error::Input(
                "the voice detector found no speech in the recording".into(),
            ));
        }
        Ok(kept)
    }

    /// The embedding of an already preprocessed utterance: the normalised
    /// mean of its partials' embeddings.
    pub fn embed_preprocessed(&mut self, wav: &[f32]) -> Result<Embedding> {
        self.check_length(wav.len())?;
        let mut sum = [0.0f32; EMBEDDING];
        for start in partials::starts(wav.len()) {
            let partial = self.partial(wav, start)?;
            sum.iter_mut().zip(&partial).for_each(|(s, p)| *s += p);
        }
        normalised(sum)
    }

    /// The embedding of the partial utterance whose mel frames start at
    /// `start` (`wav` is zero beyond its end, as Resemblyzer pads it).
    pub fn partial(&mut self, wav: &[f32], start: usize) -> Result<Embedding> {
        for f in 0..PARTIAL_FRAMES {
            let out = &mut self.mels[f * MELS..(f + 1) * MELS];
            self.front.frame(wav, start + f, out);
        }
        for (k, layer) in self.weights.lstm.iter().enumerate() {
            let input = if k == 0 { &self.mels } else { &self.layer_in };
            lstm::run(
                layer,
                input,
                PARTIAL_FRAMES,
                &mut self.layer_out,
                &mut self.gates,
                &mut self.cell,
            );
            std::mem::swap(&mut self.layer_in, &mut self.layer_out);
        }
        let last = &self.layer_in[(PARTIAL_FRAMES - 1) * HIDDEN..];
        let raw: Embedding = std::array::from_fn(|j| {
            let w = &self.weights.linear_weight[j * HIDDEN..(j + 1) * HIDDEN];
            (self.weights.linear_bias[j] + dot(w, last)).max(0.0)
        });
        normalised(raw)
    }

    fn check_length(&self, samples: usize) -> Result<()> {
        if samples > self.max_samples {
            return Err(Error::Input(format!(
                "{:.1} s is longer than the {:.1} s this encoder holds",
                samples as f64 / SAMPLE_RATE as f64,
                self.max_samples as f64 / SAMPLE_RATE as f64
            )));
        }
        if samples < HOP {
            return Err(Error::Input("the recording is shorter than 10 ms".into()));
        }
        Ok(())
    }
}

/// `v` scaled to unit length; an all-zero vector is an error (no voice to embed).
fn normalised(mut v: Embedding) -> Result<Embedding> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if !(norm > 0.0 && norm.is_finite()) {
        return Err(Error::Input(
            "the encoder's output is zero: no voice to embed".into(),
        ));
    }
    v.iter_mut().for_each(|x| *x /= norm);
    Ok(v)
}
