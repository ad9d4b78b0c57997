//! The merge module on the fast path, forward and backward: the block output
//! delayed by C frames (alignment), FiLM by the arriving hint, and the
//! cross-attention from the block output to the merged frames.

use super::{
    attention::{AttnActs, AttnScratch, FastAttention},
    block::Geometry,
    layout::ParamLayout,
    linear::{Derived, Linear},
};
use crate::{config::JointConfig, error::Result, kernels::Kernels};

/// One merge module, as [`crate::merge::Merge`].
#[derive(Debug, Clone)]
pub struct FastMerge {
    scale: Linear,
    shift: Linear,
    cross: FastAttention,
    delay: usize,
    d: usize,
    hint: usize,
}

/// What one merge module keeps for its backward pass.
#[derive(Debug, Clone)]
pub struct MergeActs {
    aligned: Vec<f32>,
    scale: Vec<f32>,
    merged: Vec<f32>,
    attn: AttnActs,
}

/// Scratch of the merge modules (one set per thread).
#[derive(Debug, Clone)]
pub struct MergeScratch {
    dmerged: Vec<f32>,
    dfilm: Vec<f32>,
    attn: AttnScratch,
}

impl MergeActs {
    /// Floats held.
    pub fn floats(&self) -> usize {
        self.attn.floats() + super::floats(&[&self.aligned, &self.scale, &self.merged])
    }
}

impl MergeScratch {
    /// Floats held.
    pub fn floats(&self) -> usize {
        self.attn.floats() + super::floats(&[&self.dmerged, &self.dfilm])
    }
}

impl FastMerge {
    /// The module stored under `prefix` (e.g. `merges.0`) of the joint pair `cfg`.
    pub fn new(
        layout: &ParamLayout,
        prefix: &str,
        cfg: &JointConfig,
        derived: &mut Derived,
    ) -> Result<Self> {
        let (d, f, hint) = (cfg.small.d, cfg.small.freqs(), cfg.hint_channels());
        let p = |n: &str| format!("{prefix}.{n}");
        Ok(Self {
            scale: Linear::new(layout, &p("film.scale"), (hint, d), derived)?,
            shift: Linear::new(layout, &p("film.shift"), (hint, d), derived)?,
            cross: FastAttention::cross(
                layout,
                &p("cross_attn"),
                (d, f, cfg.merge_heads, cfg.context),
                derived,
            )?,
            delay: cfg.delay,
            d,
            hint,
        })
    }

    /// Rearranges the module's weights.
    pub fn prepare(&self, p: &[f32], d: &mut [f32]) {
        self.scale.prepare(p, d);
        self.shift.prepare(p, d);
        self.cross.prepare(p, d);
    }

    /// Activation buffers for up to `geo`'s rows.
    pub fn acts(&self, geo: Geometry) -> MergeActs {
        let n = geo.rows() * self.d;
        MergeActs {
            aligned: vec![0.0; n],
            scale: vec![0.0; n],
            merged: vec![0.0; n],
            attn: self.cross.acts(geo),
        }
    }

    /// Scratch for up to `geo`'s rows.
    pub fn scratch(&self, geo: Geometry) -> MergeScratch {
        let n = geo.rows() * self.d;
        MergeScratch {
            dmerged: vec![0.0; n],
            dfilm: vec![0.0; n],
            attn: self.cross.scratch(geo),
        }
    }

    /// Rows `[b, t - delay)` of example b: (source row start, destination row start, rows), per example.
    fn shifted(&self, geo: Geometry, b: usize) -> Option<(usize, usize, usize)> {
        let per = geo.t * geo.f;
        let lag = self.delay * geo.f;
        (lag < per).then(|| (b * per, b * per + lag, per - lag))
    }

    /// `z` [rows, D], the block output, becomes z + cross-attention(z, FiLM(z
    /// delayed by C frames, `hints` [rows, C'])), keeping `acts`.
    #[allow(clippy::too_many_arguments)]
    pub fn forward(
        &self,
        k: &Kernels,
        (p, d): (&[f32], &[f32]),
        geo: Geometry,
        hints: &[f32],
        z: &mut [f32],
        acts: &mut MergeActs,
        s: &mut MergeScratch,
    ) {
        let (rows, dd) = (geo.rows(), self.d);
        let aligned = &mut acts.aligned[..rows * dd];
        aligned.fill(0.0);
        for b in 0..geo.b {
            if let Some((src, dst, n)) = self.shifted(geo, b) {
                aligned[dst * dd..(dst + n) * dd].copy_from_slice(&z[src * dd..(src + n) * dd]);
            }
        }
        self.scale
            .forward(k, (p, d), hints, self.hint, rows, &mut acts.scale, dd);
        self.shift
            .forward(k, (p, d), hints, self.hint, rows, &mut acts.merged, dd);
        for ((m, a), sc) in acts.merged[..rows * dd]
            .iter_mut()
            .zip(aligned.iter())
            .zip(&acts.scale)
        {
            *m += a * sc;
        }
        self.cross.forward(
            k,
            (p, d),
            geo,
            (z, Some(&acts.merged)),
            &mut acts.attn,
            &mut s.attn,
        );
    }

    /// `dz` [rows, D] holds the gradient of the module's output and becomes
    /// that of its input; the hints' gradient is added to `dhints`, the
    /// parameters' to `g`.
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        k: &Kernels,
        p: &[f32],
        geo: Geometry,
        (acts, hints): (&MergeActs, &[f32]),
        dz: &mut [f32],
        dhints: &mut [f32],
        (g, s): (&mut [f32], &mut MergeScratch),
    ) {
        let (rows, dd) = (geo.rows(), self.d);
        let dmerged = &mut s.dmerged[..rows * dd];
        dmerged.fill(0.0);
        self.cross.backward(
            k,
            p,
            geo,
            &acts.attn,
            (&mut dz[..rows * dd], Some(&mut *dmerged)),
            (&mut *g, &mut s.attn),
        );
        // merged = aligned * scale + shift.
        self.shift.backward(
            k,
            p,
            (hints, self.hint),
            (dmerged, dd),
            rows,
            Some((&mut *dhints, self.hint)),
            g,
        );
        let dfilm = &mut s.dfilm[..rows * dd];
        for ((df, dm), a) in dfilm.iter_mut().zip(dmerged.iter()).zip(&acts.aligned) {
            *df = dm * a;
        }
        self.scale.backward(
            k,
            p,
            (hints, self.hint),
            (dfilm, dd),
            rows,
            Some((&mut *dhints, self.hint)),
            g,
        );
        for (df, (dm, sc)) in dfilm.iter_mut().zip(dmerged.iter().zip(&acts.scale)) {
            *df = dm * sc;
        }
        for b in 0..geo.b {
            if let Some((src, dst, n)) = self.shifted(geo, b) {
                for (a, v) in dz[src * dd..(src + n) * dd]
                    .iter_mut()
                    .zip(&dfilm[dst * dd..(dst + n) * dd])
                {
                    *a += v;
                }
            }
        }
    }
}
