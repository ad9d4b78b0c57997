//! Speaker FiLM on the fast path, forward and backward: each example's
//! features scaled and shifted per channel and bin by maps of its speaker
//! embedding (the embedding itself is an input: no gradient reaches it).

use super::{
    block::Geometry,
    layout::ParamLayout,
    linear::{Derived, Linear},
};
use crate::{error::Result, kernels::Kernels};

/// One speaker FiLM, as [`crate::speaker_film::SpeakerFilm`].
#[derive(Debug, Clone)]
pub struct SpeakerFilm {
    maps: [Linear; 2],
    d: usize,
    f: usize,
}

/// What one speaker FiLM keeps for its backward pass, and its scratch.
#[derive(Debug, Clone)]
pub struct SpeakerActs {
    /// Its input [rows, D].
    input: Vec<f32>,
    /// Scale and shift of every example in frame layout [b, F, D].
    condition: [Vec<f32>; 2],
    /// A map's output or its gradient in the maps' layout [b, D * F].
    raw: Vec<f32>,
    /// Gradients of scale and shift in frame layout [b, F, D].
    dcondition: [Vec<f32>; 2],
}

impl SpeakerActs {
    /// Floats held.
    pub fn floats(&self) -> usize {
        let [s, h] = &self.condition;
        let [ds, dh] = &self.dcondition;
        super::floats(&[&self.input, s, h, &self.raw, ds, dh])
    }
}

impl SpeakerFilm {
    /// The FiLM stored under `prefix` (e.g. `speaker_films.0`) from
    /// `width` embedding values to `d` channels of `f` bins.
    pub fn new(
        layout: &ParamLayout,
        prefix: &str,
        (width, d, f): (usize, usize, usize),
        derived: &mut Derived,
    ) -> Result<Self> {
        let map = |n: &str, derived: &mut Derived| {
            Linear::new(layout, &format!("{prefix}.{n}"), (width, d * f), derived)
        };
        Ok(Self {
            maps: [map("scale", derived)?, map("shift", derived)?],
            d,
            f,
        })
    }

    /// Rearranges the maps' weights.
    pub fn prepare(&self, p: &[f32], d: &mut [f32]) {
        self.maps.iter().for_each(|m| m.prepare(p, d));
    }

    /// Activation buffers for up to `geo`'s rows.
    pub fn acts(&self, geo: Geometry) -> SpeakerActs {
        let per = geo.b * self.f * self.d;
        let z = |n: usize| vec![0f32; n];
        SpeakerActs {
            input: z(geo.rows() * self.d),
            condition: [z(per), z(per)],
            raw: z(per),
            dcondition: [z(per), z(per)],
        }
    }

    /// `x` [rows, D] becomes x * scale + shift, each example's from its
    /// embedding in `speakers` [b, E], keeping `acts`.
    pub fn forward(
        &self,
        k: &Kernels,
        pd: (&[f32], &[f32]),
        geo: Geometry,
        speakers: &[f32],
        x: &mut [f32],
        acts: &mut SpeakerActs,
    ) {
        let (d, f, per) = (self.d, self.f, self.f * self.d);
        let width = self.maps[0].inputs;
        let rows = geo.rows();
        acts.input[..rows * d].copy_from_slice(&x[..rows * d]);
        for (map, cond) in self.maps.iter().zip(&mut acts.condition) {
            let raw = &mut acts.raw[..geo.b * per];
            map.forward(k, pd, &speakers[..geo.b * width], width, geo.b, raw, per);
            for (out, src) in cond.chunks_exact_mut(per).zip(raw.chunks_exact(per)) {
                for (c, bins) in src.chunks_exact(f).enumerate() {
                    for (bin, &v) in bins.iter().enumerate() {
                        out[bin * d + c] = v;
                    }
                }
            }
        }
        let [scale, shift] = &acts.condition;
        for (b, example) in x[..rows * d].chunks_exact_mut(geo.t * per).enumerate() {
            let (s, h) = (&scale[b * per..][..per], &shift[b * per..][..per]);
            for frame in example.chunks_exact_mut(per) {
                for ((v, s), h) in frame.iter_mut().zip(s).zip(h) {
                    *v = *v * s + h;
                }
            }
        }
    }

    /// Backward of [`Self::forward`]: `dx` [rows, D], the output's gradient,
    /// becomes the input's; the maps' gradients are added to `g`.
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        k: &Kernels,
        p: &[f32],
        geo: Geometry,
        speakers: &[f32],
        dx: &mut [f32],
        (acts, g): (&mut SpeakerActs, &mut [f32]),
    ) {
        let (d, f, per) = (self.d, self.f, self.f * self.d);
        let width = self.maps[0].inputs;
        let rows = geo.rows();
        let [dscale, dshift] = &mut acts.dcondition;
        dscale[..geo.b * per].fill(0.0);
        dshift[..geo.b * per].fill(0.0);
        let scale = &acts.condition[0];
        let examples = dx[..rows * d]
            .chunks_exact_mut(geo.t * per)
            .zip(acts.input.chunks_exact(geo.t * per));
        for (b, (dex, xex)) in examples.enumerate() {
            let s = &scale[b * per..][..per];
            let (ds, dh) = (&mut dscale[b * per..][..per], &mut dshift[b * per..][..per]);
            for (dframe, xframe) in dex.chunks_exact_mut(per).zip(xex.chunks_exact(per)) {
                for i in 0..per {
                    let dy = dframe[i];
                    ds[i] += dy * xframe[i];
                    dh[i] += dy;
                    dframe[i] = dy * s[i];
                }
            }
        }
        for (map, dcond) in self.maps.iter().zip(&acts.dcondition) {
            let raw = &mut acts.raw[..geo.b * per];
            for (out, src) in raw.chunks_exact_mut(per).zip(dcond.chunks_exact(per)) {
                for (c, bins) in out.chunks_exact_mut(f).enumerate() {
                    for (bin, v) in bins.iter_mut().enumerate() {
                        *v = src[bin * d + c];
                    }
                }
            }
            map.backward(
                k,
                p,
                (&speakers[..geo.b * width], width),
                (raw, per),
                geo.b,
                None,
                g,
            );
        }
    }
}
