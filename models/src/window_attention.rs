//! Causal attention over a sliding window of frames, with its key/value cache.

use candle_core::{DType, Device, Tensor, D};
use candle_nn::ops::softmax;

use crate::error::Result;

/// Keys and values [B, heads, frames, dim] of the frames before the current call.
#[derive(Debug, Clone)]
pub struct KvCache {
    k: Option<Tensor>,
    v: Option<Tensor>,
}

impl KvCache {
    /// No past frames: the first frames attend only to what exists.
    pub fn empty() -> Self {
        Self { k: None, v: None }
    }

    /// `frames` past frames of zero keys and values that take part in the softmax.
    pub fn zeros(
        shape_k: (usize, usize, usize, usize),
        dim_v: usize,
        device: &Device,
    ) -> Result<Self> {
        let (b, h, t, _) = shape_k;
        Ok(Self {
            k: Some(Tensor::zeros(shape_k, DType::F32, device)?),
            v: Some(Tensor::zeros((b, h, t, dim_v), DType::F32, device)?),
        })
    }

    fn extend(held: &Option<Tensor>, new: &Tensor) -> Result<Tensor> {
        Ok(match held {
            Some(old) => Tensor::cat(&[old, new], 2)?,
            None => new.clone(),
        })
    }
}

/// Attention of queries `q` [B, H, T, dk] over keys `k` [B, H, T, dk] and
/// values `v` [B, H, T, dv] of the same T frames plus the cached ones: frame
/// t sees the `window` frames ending at t, scores scaled by 1/sqrt(dk). The
/// cache keeps the last `window - 1` frames afterwards.
pub fn windowed_attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    cache: &mut KvCache,
    window: usize,
) -> Result<Tensor> {
    let t = q.dim(2)?;
    let dk = q.dim(3)?;
    let keys = KvCache::extend(&cache.k, k)?;
    let values = KvCache::extend(&cache.v, v)?;
    let total = keys.dim(2)?;
    let past = total - t;
    let scores = (q.matmul(&keys.t()?)? / (dk as f64).sqrt())?;
    let scores = if total > window || t > 1 {
        let allowed: Vec<u8> = (0..t)
            .flat_map(|i| (0..total).map(move |j| u8::from(j <= past + i && j + window > past + i)))
            .collect();
        let mask =
            Tensor::from_vec(allowed, (t, total), q.device())?.broadcast_as(scores.shape())?;
        let blocked = Tensor::new(f32::NEG_INFINITY, q.device())?.broadcast_as(scores.shape())?;
        mask.where_cond(&scores, &blocked)?
    } else {
        scores
    };
    let out = softmax(&scores, D::Minus1)?.matmul(&values)?;
    let keep = (window - 1).min(total);
    if keep == 0 {
        *cache = KvCache::empty();
    } else {
        cache.k = Some(keys.narrow(2, total - keep, keep)?);
        cache.v = Some(values.narrow(2, total - keep, keep)?);
    }
    Ok(out)
}
