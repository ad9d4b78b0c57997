//! Import of the authors' PyTorch parameter names and layouts (knowledge-boosting
//! reference code) onto this crate's tensor names.
//!
//! | authors' name (under `joint.`) | ours | conversion |
//! | --- | --- | --- |
//! | `X.tfgridnet.conv.0.weight` / `.bias` | `X.conv.*` | none ([out, in, kT, kF]) |
//! | `X.tfgridnet.conv.1.weight` / `.bias` | `X.conv_norm.*` | none |
//! | `...blocks.i.{intra,inter}_norm.gamma` / `.beta` | `X.blocks.i.*_norm.weight` / `.bias` | [1, D, 1, 1] -> [D] |
//! | `...blocks.i.{intra,inter}_rnn.*_l0[_reverse]` | `X.blocks.i.*_rnn.*[_reverse]` | none |
//! | `...blocks.i.{intra,inter}_linear.weight` | `X.blocks.i.*_linear.weight` | ConvTranspose1d [in, out, 1] -> [out, in] |
//! | `...blocks.i.attn_conv_{Q,K,V}_h.0.weight` / `.bias` | `X.blocks.i.attn.{q,k,v}.weight` / `.bias` | heads stacked along outputs |
//! | `...blocks.i.attn_conv_{Q,K,V}_h.1.weight` | `X.blocks.i.attn.{q,k,v}.prelu` | one slope per head |
//! | `...blocks.i.attn_conv_{Q,K,V}_h.2.gamma` / `.beta` | `X.blocks.i.attn.{q,k,v}.norm.*` | [1, c, 1, F] per head -> [heads, c, F] |
//! | `...blocks.i.attn_concat_proj.{0,1,2}` | `X.blocks.i.attn.proj.{weight/bias, prelu, norm.*}` | norm [1, D, 1, F] -> [F, D] |
//! | `small.tfgridnet.film_blocks.j.weight.*` / `.bias.*` | `small.merges.j.film.scale.*` / `.shift.*` | [D, C', 1, 1] -> [D, C'] |
//! | `small.tfgridnet.cross_attention_blocks.j.attn_conv_{Q,K,V}.{0,1,3.norm}` | `small.merges.j.cross_attn.{q,k,v}.{weight/bias, prelu, norm.*}` | none |
//! | `small.tfgridnet.cross_attention_blocks.j.attn_concat_proj.{0,1,3.norm}` | `small.merges.j.cross_attn.proj.*` | norm [F * D] -> [F, D] |
//! | `X.tfgridnet.deconv.weight` | `X.deconv.weight` | ConvTranspose2d [in, out, kT, kF] -> conv [out, in, kT, kF] flipped in time and frequency |
//! | `gen_embedding.conv1d.weight` | `compress.weight` | [out, in, kF, kT] -> [out, in, kT, kF] |
//!
//! `X` is `big` (ours: `large`) or `small`.

use std::collections::HashMap;

use candle_core::Tensor;

use crate::{
    config::{AttentionConfig, JointConfig, ModelConfig, WeightsConfig},
    error::{Error, Result},
};

/// Authors' tensors by name, as read from their checkpoint.
pub type TensorMap = HashMap<String, Tensor>;

fn fetch(src: &TensorMap, name: &str) -> Result<Tensor> {
    src.get(name).cloned().ok_or_else(|| Error::Weights {
        path: "reference checkpoint".into(),
        msg: format!("missing tensor `{name}`"),
    })
}

struct Importer<'a> {
    src: &'a TensorMap,
    out: TensorMap,
}

impl Importer<'_> {
    fn get(&self, name: &str) -> Result<Tensor> {
        fetch(self.src, name)
    }

    fn put(&mut self, name: String, t: Tensor) {
        self.out.insert(name, t);
    }

    fn flat(&mut self, from: &str, to: String) -> Result<()> {
        let t = self.get(from)?.flatten_all()?;
        self.put(to, t);
        Ok(())
    }

    fn same(&mut self, from: &str, to: String) -> Result<()> {
        let t = self.get(from)?;
        self.put(to, t);
        Ok(())
    }

    /// A 1x1 conv or transposed conv stored with trailing unit axes -> [out, in].
    fn matrix(&mut self, from: &str, to: String, transposed: bool) -> Result<()> {
        let t = self.get(from)?;
        let (a, b) = (t.dim(0)?, t.dim(1)?);
        let m = t.reshape((a, b))?;
        let m = if transposed { m.t()?.contiguous()? } else { m };
        self.put(to, m);
        Ok(())
    }

    fn model(
        &mut self,
        theirs: &str,
        ours: &str,
        blocks: usize,
        heads: Option<usize>,
        merges: usize,
    ) -> Result<()> {
        let s = theirs;
        self.same(&format!("{s}.conv.0.weight"), format!("{ours}conv.weight"))?;
        self.same(&format!("{s}.conv.0.bias"), format!("{ours}conv.bias"))?;
        self.same(
            &format!("{s}.conv.1.weight"),
            format!("{ours}conv_norm.weight"),
        )?;
        self.same(&format!("{s}.conv.1.bias"), format!("{ours}conv_norm.bias"))?;
        for i in 0..blocks {
            let (sb, ob) = (format!("{s}.blocks.{i}"), format!("{ours}blocks.{i}"));
            for part in ["intra", "inter"] {
                self.flat(
                    &format!("{sb}.{part}_norm.gamma"),
                    format!("{ob}.{part}_norm.weight"),
                )?;
                self.flat(
                    &format!("{sb}.{part}_norm.beta"),
                    format!("{ob}.{part}_norm.bias"),
                )?;
                let directions: &[&str] = if part == "intra" {
                    &["", "_reverse"]
                } else {
                    &[""]
                };
                for dir in directions {
                    for w in ["weight_ih", "weight_hh", "bias_ih", "bias_hh"] {
                        self.same(
                            &format!("{sb}.{part}_rnn.{w}_l0{dir}"),
                            format!("{ob}.{part}_rnn.{w}{dir}"),
                        )?;
                    }
                }
                self.matrix(
                    &format!("{sb}.{part}_linear.weight"),
                    format!("{ob}.{part}_linear.weight"),
                    true,
                )?;
                self.same(
                    &format!("{sb}.{part}_linear.bias"),
                    format!("{ob}.{part}_linear.bias"),
                )?;
            }
            if let Some(heads) = heads {
                for (q, o) in [("Q", "q"), ("K", "k"), ("V", "v")] {
                    let src = self.src;
                    let per_head = |suffix: &str| -> Result<Vec<Tensor>> {
                        (0..heads)
                            .map(|h| fetch(src, &format!("{sb}.attn_conv_{q}_{h}.{suffix}")))
                            .collect()
                    };
                    let w: Vec<Tensor> = per_head("0.weight")?
                        .iter()
                        .map(|t| t.flatten_from(1))
                        .collect::<candle_core::Result<_>>()?;
                    let p = format!("{ob}.attn.{o}");
                    self.put(format!("{p}.weight"), Tensor::cat(&w, 0)?);
                    self.put(format!("{p}.bias"), Tensor::cat(&per_head("0.bias")?, 0)?);
                    self.put(
                        format!("{p}.prelu"),
                        Tensor::cat(&per_head("1.weight")?, 0)?,
                    );
                    for (theirs_n, ours_n) in [("gamma", "weight"), ("beta", "bias")] {
                        let g: Vec<Tensor> = per_head(&format!("2.{theirs_n}"))?
                            .iter()
                            .map(|t| t.squeeze(2)?.squeeze(0))
                            .collect::<candle_core::Result<_>>()?;
                        self.put(format!("{p}.norm.{ours_n}"), Tensor::stack(&g, 0)?);
                    }
                }
                let (sp, op) = (format!("{sb}.attn_concat_proj"), format!("{ob}.attn.proj"));
                self.matrix(&format!("{sp}.0.weight"), format!("{op}.weight"), false)?;
                self.same(&format!("{sp}.0.bias"), format!("{op}.bias"))?;
                self.same(&format!("{sp}.1.weight"), format!("{op}.prelu"))?;
                for (theirs_n, ours_n) in [("gamma", "weight"), ("beta", "bias")] {
                    let g = self.get(&format!("{sp}.2.{theirs_n}"))?;
                    let g = g.squeeze(2)?.squeeze(0)?.t()?.contiguous()?;
                    self.put(format!("{op}.norm.{ours_n}"), g);
                }
            }
        }
        for j in 0..merges {
            let (sf, of) = (
                format!("{s}.film_blocks.{j}"),
                format!("{ours}merges.{j}.film"),
            );
            for (theirs_n, ours_n) in [("weight", "scale"), ("bias", "shift")] {
                self.matrix(
                    &format!("{sf}.{theirs_n}.weight"),
                    format!("{of}.{ours_n}.weight"),
                    false,
                )?;
                self.same(
                    &format!("{sf}.{theirs_n}.bias"),
                    format!("{of}.{ours_n}.bias"),
                )?;
            }
            let (sc, oc) = (
                format!("{s}.cross_attention_blocks.{j}"),
                format!("{ours}merges.{j}.cross_attn"),
            );
            for (theirs_n, ours_n) in [
                ("attn_conv_Q", "q"),
                ("attn_conv_K", "k"),
                ("attn_conv_V", "v"),
                ("attn_concat_proj", "proj"),
            ] {
                self.same(
                    &format!("{sc}.{theirs_n}.0.weight"),
                    format!("{oc}.{ours_n}.weight"),
                )?;
                self.same(
                    &format!("{sc}.{theirs_n}.0.bias"),
                    format!("{oc}.{ours_n}.bias"),
                )?;
                self.same(
                    &format!("{sc}.{theirs_n}.1.weight"),
                    format!("{oc}.{ours_n}.prelu"),
                )?;
                for w in ["weight", "bias"] {
                    let t = self.get(&format!("{sc}.{theirs_n}.3.norm.{w}"))?;
                    let t = if ours_n == "proj" {
                        t.reshape((t.dim(0)? / self.d_of(s)?, self.d_of(s)?))?
                    } else {
                        t
                    };
                    self.put(format!("{oc}.{ours_n}.norm.{w}"), t);
                }
            }
        }
        let w = self.get(&format!("{s}.deconv.weight"))?;
        let flip = Tensor::new(&[2u32, 1, 0], w.device())?;
        let w = w
            .permute((1, 0, 2, 3))?
            .contiguous()?
            .index_select(&flip, 2)?
            .contiguous()?
            .index_select(&flip, 3)?;
        self.put(format!("{ours}deconv.weight"), w);
        self.same(&format!("{s}.deconv.bias"), format!("{ours}deconv.bias"))?;
        Ok(())
    }

    fn d_of(&self, theirs: &str) -> Result<usize> {
        Ok(self.get(&format!("{theirs}.conv.0.bias"))?.dim(0)?)
    }
}

/// Settings a checkpoint's tensors do not determine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportOptions {
    /// Hop in samples (the authors' models: 128).
    pub chunk: usize,
    /// Lookahead in samples (64).
    pub pad: usize,
    /// Self-attention window in frames (50).
    pub window: usize,
    /// Hint delay C in chunks of a joint model.
    pub delay: usize,
    /// Cross-attention context V in frames (50).
    pub context: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            chunk: crate::CHUNK,
            pad: crate::LOOKAHEAD,
            window: 50,
            delay: 1,
            context: 50,
        }
    }
}

fn not_a_checkpoint(msg: String) -> Error {
    Error::Weights {
        path: "checkpoint".into(),
        msg,
    }
}

/// The prefix before `suffix` of the first tensor name ending in it.
fn root_of(src: &TensorMap, suffix: &str) -> Option<String> {
    let mut roots: Vec<&String> = src.keys().filter(|k| k.ends_with(suffix)).collect();
    roots.sort();
    roots
        .first()
        .map(|k| k[..k.len() - suffix.len()].to_string())
}

/// Infers one TF-GridNet's configuration from its tensors under `s` (`...tfgridnet`).
fn infer_model(src: &TensorMap, s: &str, opts: &ImportOptions) -> Result<ModelConfig> {
    let conv = fetch(src, &format!("{s}.conv.0.weight"))?;
    let (d, in_channels) = (conv.dim(0)?, conv.dim(1)?);
    let hidden = fetch(src, &format!("{s}.blocks.0.intra_rnn.weight_hh_l0"))?.dim(1)?;
    let blocks = (0..)
        .take_while(|i| src.contains_key(&format!("{s}.blocks.{i}.intra_norm.gamma")))
        .count();
    let out_channels = fetch(src, &format!("{s}.deconv.weight"))?.dim(1)?;
    let heads = (0..)
        .take_while(|h| src.contains_key(&format!("{s}.blocks.0.attn_conv_Q_{h}.0.weight")))
        .count();
    let ears = in_channels / 2;
    let cfg = ModelConfig {
        chunk: opts.chunk,
        pad: opts.pad,
        ears,
        sources: out_channels / (2 * ears.max(1)),
        d,
        blocks,
        hidden,
        attention: (heads > 0).then_some(AttentionConfig {
            heads,
            window: opts.window,
        }),
        level: None,
        speaker: None,
    };
    cfg.validate()?;
    Ok(cfg)
}

/// Infers the configuration of an authors' checkpoint (a joint model or a
/// single TF-GridNet, under any name prefix) and maps its tensors onto this
/// crate's names. Fails naming what is missing when it is not such a checkpoint.
pub fn import(src: &TensorMap, opts: &ImportOptions) -> Result<(WeightsConfig, TensorMap)> {
    if let Some(root) = root_of(src, "small.tfgridnet.conv.0.weight") {
        let small = infer_model(src, &format!("{root}small.tfgridnet"), opts)?;
        let large = infer_model(src, &format!("{root}big.tfgridnet"), opts)?;
        let compress = fetch(src, &format!("{root}gen_embedding.conv1d.weight"))?;
        let q = fetch(
            src,
            &format!("{root}small.tfgridnet.cross_attention_blocks.0.attn_conv_Q.0.weight"),
        )?;
        let cfg = JointConfig {
            compression: compress.dim(1)? / compress.dim(0)?.max(1),
            merge_heads: q.dim(0)? / crate::head_layout::cross_attention_key_width(small.freqs()),
            small,
            large,
            delay: opts.delay,
            context: opts.context,
        };
        cfg.validate()?;
        let tensors = import_joint_at(src, &cfg, &root)?;
        return Ok((WeightsConfig::Joint(cfg), tensors));
    }
    if let Some(root) = root_of(src, "tfgridnet.conv.0.weight") {
        let s = format!("{root}tfgridnet");
        let cfg = infer_model(src, &s, opts)?;
        let mut imp = Importer {
            src,
            out: TensorMap::new(),
        };
        imp.model(&s, "", cfg.blocks, cfg.attention.map(|a| a.heads), 0)?;
        return Ok((WeightsConfig::Single(cfg), imp.out));
    }
    Err(not_a_checkpoint(
        "no TF-GridNet tensors: expected a name ending in `tfgridnet.conv.0.weight` (single model) or \
         `small.tfgridnet.conv.0.weight` with `big.tfgridnet.*` and `gen_embedding.*` (joint model)"
            .into(),
    ))
}

/// Maps the authors' joint-model tensors (`joint.*`) onto this crate's names for `cfg`.
pub fn import_joint(src: &TensorMap, cfg: &JointConfig) -> Result<TensorMap> {
    import_joint_at(src, cfg, "joint.")
}

fn import_joint_at(src: &TensorMap, cfg: &JointConfig, root: &str) -> Result<TensorMap> {
    let mut imp = Importer {
        src,
        out: TensorMap::new(),
    };
    let heads = |m: &ModelConfig| m.attention.map(|a| a.heads);
    let (small, large) = (
        format!("{root}small.tfgridnet"),
        format!("{root}big.tfgridnet"),
    );
    imp.model(
        &small,
        "small.",
        cfg.small.blocks,
        heads(&cfg.small),
        cfg.small.blocks - 1,
    )?;
    imp.model(&large, "large.", cfg.large.blocks, heads(&cfg.large), 0)?;
    let w = imp
        .get(&format!("{root}gen_embedding.conv1d.weight"))?
        .permute((0, 1, 3, 2))?
        .contiguous()?;
    imp.put("compress.weight".into(), w);
    imp.same(
        &format!("{root}gen_embedding.conv1d.bias"),
        "compress.bias".into(),
    )?;
    Ok(imp.out)
}

/// Reads a checkpoint: safetensors, or a PyTorch pickle (a Lightning `.ckpt`
/// whose `state_dict` holds the tensors, or a plain state dict), as F32 tensors.
pub fn read_checkpoint(path: &std::path::Path) -> Result<TensorMap> {
    let err = |msg: String| Error::Weights {
        path: path.display().to_string(),
        msg,
    };
    if !path.exists() {
        return Err(err("no such file".into()));
    }
    let tensors = match candle_core::safetensors::load(path, &candle_core::Device::Cpu) {
        Ok(t) => t.into_iter().collect::<Vec<_>>(),
        Err(_) => {
            let nested = candle_core::pickle::read_all_with_key(path, Some("state_dict"));
            match nested {
                Ok(t) if !t.is_empty() => t,
                _ => candle_core::pickle::read_all(path).map_err(|e| {
                    err(format!("neither safetensors nor a PyTorch checkpoint: {e}"))
                })?,
            }
        }
    };
    if tensors.is_empty() {
        return Err(err("holds no tensors".into()));
    }
    tensors
        .into_iter()
        .map(|(k, t)| Ok((k, t.to_dtype(candle_core::DType::F32)?)))
        .collect()
}
