//! Analytic multiply-accumulate counts of the streaming engines.

use kb_models::{
    head_layout::{cross_attention_key_width, self_attention_key_width},
    JointConfig, ModelConfig, SAMPLE_RATE,
};

/// Chunks per second at the models' rate (125 for 128-sample chunks at 16 kHz).
pub fn chunks_per_second(cfg: &ModelConfig) -> f64 {
    SAMPLE_RATE as f64 / cfg.chunk as f64
}

/// MACs of the engine's causal 3x3 conv over `freqs` bins: three time taps,
/// and per tap 3F - 2 bin pairs (the frequency edges read no padding).
fn conv_macs(freqs: usize, inputs: usize, outputs: usize) -> u64 {
    (3 * (3 * freqs - 2) * inputs * outputs) as u64
}

/// MACs of one attention over a full window of `window` frames: the q and k
/// maps (D -> heads x key width per bin), the v map and output projection
/// (D -> D per bin), then per head the query-key dots and the weighted value sum.
fn attention_macs(d: usize, freqs: usize, heads: usize, key_width: usize, window: usize) -> u64 {
    let maps = freqs * d * (2 * heads * key_width + 2 * d);
    let mixing = window * freqs * (heads * key_width + d);
    (maps + mixing) as u64
}

/// Multiply-accumulates of one chunk (one STFT frame) of a TF-GridNet `cfg`:
/// input conv, per block a bidirectional LSTM across the F bins and its linear
/// (2H -> D), a time LSTM step per bin and its linear (H -> D), the attention
/// at a full window when the model has one, and the output deconv. An LSTM
/// step costs 4H (in + H). Norms, activations, the softmax, the FFTs and the
/// overlap-add are not counted.
pub fn model_macs_per_chunk(cfg: &ModelConfig) -> u64 {
    let (d, h, f) = (cfg.d, cfg.hidden, cfg.freqs());
    let lstm_step = 4 * h * (d + h);
    let mut block = 2 * f * lstm_step + f * 2 * h * d + f * lstm_step + f * h * d;
    if let Some(a) = cfg.attention {
        block += attention_macs(d, f, a.heads, self_attention_key_width(f), a.window) as usize;
    }
    conv_macs(f, cfg.in_channels(), d)
        + (cfg.blocks * block) as u64
        + conv_macs(f, d, cfg.out_channels())
}

/// MACs of the small model's merge modules for one chunk (one after every
/// block but the last): FiLM scale and shift (C' -> D per bin), the scaling
/// product, and the cross-attention over the hint context.
pub fn merge_macs_per_chunk(cfg: &JointConfig) -> u64 {
    let (d, f, c) = (cfg.small.d, cfg.small.freqs(), cfg.hint_channels());
    let film = 2 * f * c * d + f * d;
    let cross = attention_macs(
        d,
        f,
        cfg.merge_heads,
        cross_attention_key_width(f),
        cfg.context,
    ) as usize;
    ((cfg.small.blocks - 1) * (film + cross)) as u64
}

/// MACs of the large model's hint compression conv for one chunk.
pub fn compression_macs_per_chunk(cfg: &JointConfig) -> u64 {
    conv_macs(
        cfg.large.freqs(),
        cfg.large.out_channels(),
        cfg.hint_channels(),
    )
}
