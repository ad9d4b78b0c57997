//! The tensors a weight file holds, by name and shape, derived from its
//! configuration alone: no model is built, so a file is checked (and the
//! real-time engine loaded) without candle. Names are the layer paths of the
//! candle model (`blocks.0.intra_rnn.weight_ih`), which `tests/schema.rs`
//! checks against the model that the configuration builds.

use std::collections::BTreeMap;

use crate::{
    config::{JointConfig, ModelConfig, WeightsConfig, CONV_KERNEL},
    error::Result,
    head_layout::{cross_attention_key_width, self_attention_key_width},
};

/// Tensor names and their shapes.
pub type Shapes = BTreeMap<String, Vec<usize>>;

/// Every tensor of `cfg`'s weight file (the configuration is validated first).
pub fn tensor_shapes(cfg: &WeightsConfig) -> Result<Shapes> {
    let mut s = Schema::default();
    match cfg {
        WeightsConfig::Single(c) => {
            c.validate()?;
            s.gridnet("", c, None);
        }
        WeightsConfig::Joint(j) => {
            j.validate()?;
            s.gridnet("small.", &j.small, Some(j));
            s.gridnet("large.", &j.large, None);
            s.conv("compress.", j.large.out_channels(), j.hint_channels());
        }
    }
    Ok(s.shapes)
}

/// How a head map's norm and slopes are laid out (see `head_maps::HeadLayout`).
#[derive(Clone, Copy)]
enum Heads {
    /// Self-attention: a slope per head, the norm over [heads, width, F].
    PerHead,
    /// Cross-attention: one slope, the norm over F x width.
    Shared,
}

#[derive(Default)]
struct Schema {
    shapes: Shapes,
}

impl Schema {
    fn put(&mut self, name: String, shape: &[usize]) {
        self.shapes.insert(name, shape.to_vec());
    }

    fn linear(&mut self, p: &str, inputs: usize, outputs: usize) {
        self.put(format!("{p}weight"), &[outputs, inputs]);
        self.put(format!("{p}bias"), &[outputs]);
    }

    fn norm(&mut self, p: &str, shape: &[usize]) {
        self.put(format!("{p}weight"), shape);
        self.put(format!("{p}bias"), shape);
    }

    fn conv(&mut self, p: &str, inputs: usize, outputs: usize) {
        self.put(
            format!("{p}weight"),
            &[outputs, inputs, CONV_KERNEL, CONV_KERNEL],
        );
        self.put(format!("{p}bias"), &[outputs]);
    }

    fn lstm(&mut self, p: &str, inputs: usize, hidden: usize, suffix: &str) {
        let g = 4 * hidden;
        self.put(format!("{p}weight_ih{suffix}"), &[g, inputs]);
        self.put(format!("{p}weight_hh{suffix}"), &[g, hidden]);
        self.put(format!("{p}bias_ih{suffix}"), &[g]);
        self.put(format!("{p}bias_hh{suffix}"), &[g]);
    }

    fn head_maps(
        &mut self,
        p: &str,
        (d, heads, width, freqs): (usize, usize, usize, usize),
        layout: Heads,
    ) {
        self.linear(p, d, heads * width);
        match layout {
            Heads::PerHead => {
                self.put(format!("{p}prelu"), &[heads]);
                self.norm(&format!("{p}norm."), &[heads, width, freqs]);
            }
            Heads::Shared => {
                self.put(format!("{p}prelu"), &[1]);
                self.norm(&format!("{p}norm."), &[freqs * width]);
            }
        }
    }

    /// Query, key and value maps of `heads` heads (key width `e`) and the output projection.
    fn attention(
        &mut self,
        p: &str,
        (d, freqs, heads, e): (usize, usize, usize, usize),
        layout: Heads,
    ) {
        self.head_maps(&format!("{p}q."), (d, heads, e, freqs), layout);
        self.head_maps(&format!("{p}k."), (d, heads, e, freqs), layout);
        self.head_maps(&format!("{p}v."), (d, heads, d / heads, freqs), layout);
        let proj = format!("{p}proj.");
        self.linear(&proj, d, d);
        self.put(format!("{proj}prelu"), &[1]);
        self.norm(&format!("{proj}norm."), &[freqs, d]);
    }

    fn gridnet(&mut self, p: &str, cfg: &ModelConfig, joint: Option<&JointConfig>) {
        let (d, h, f) = (cfg.d, cfg.hidden, cfg.freqs());
        self.conv(&format!("{p}conv."), cfg.in_channels(), d);
        self.norm(&format!("{p}conv_norm."), &[d]);
        self.conv(&format!("{p}deconv."), d, cfg.out_channels());
        for i in 0..cfg.blocks {
            let b = format!("{p}blocks.{i}.");
            if let Some(a) = cfg.attention {
                let e = self_attention_key_width(f);
                self.attention(&format!("{b}attn."), (d, f, a.heads, e), Heads::PerHead);
            }
            self.norm(&format!("{b}intra_norm."), &[d]);
            self.lstm(&format!("{b}intra_rnn."), d, h, "");
            self.lstm(&format!("{b}intra_rnn."), d, h, "_reverse");
            self.linear(&format!("{b}intra_linear."), 2 * h, d);
            self.norm(&format!("{b}inter_norm."), &[d]);
            self.lstm(&format!("{b}inter_rnn."), d, h, "");
            self.linear(&format!("{b}inter_linear."), h, d);
        }
        if let Some(e) = cfg.speaker {
            for i in 0..cfg.blocks - 1 {
                let s = format!("{p}speaker_films.{i}.");
                self.linear(&format!("{s}scale."), e, d * f);
                self.linear(&format!("{s}shift."), e, d * f);
            }
        }
        let Some(j) = joint else { return };
        for i in 0..cfg.blocks - 1 {
            let m = format!("{p}merges.{i}.");
            self.linear(&format!("{m}film.scale."), j.hint_channels(), d);
            self.linear(&format!("{m}film.shift."), j.hint_channels(), d);
            let e = cross_attention_key_width(f);
            self.attention(
                &format!("{m}cross_attn."),
                (d, f, j.merge_heads, e),
                Heads::Shared,
            );
        }
    }
}
