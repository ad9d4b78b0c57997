//! Facts about attention and normalisation that the candle model, the
//! real-time engine and the fast training path share: how a head's frame is
//! laid out, the query/key widths, and the normalisation epsilon.

/// Epsilon of every normalisation in the model.
pub const EPS: f64 = 1e-5;

/// How a head's [F, width] frame is flattened and normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadLayout {
    /// Self-attention: index c * F + f, one PReLU slope and one (c, f) affine per head.
    ChannelMajor,
    /// Cross-attention: index f * width + c, one PReLU slope and one affine shared by all heads.
    FrequencyMajor,
}

/// Self-attention's query/key width E = ceil(512 / F) per head.
pub fn self_attention_key_width(freqs: usize) -> usize {
    512usize.div_ceil(freqs)
}

/// The merges' cross-attention query/key width E = ceil(256 / F) per head.
pub fn cross_attention_key_width(freqs: usize) -> usize {
    256usize.div_ceil(freqs)
}
