//! A pair's identity: a SHA-256 of its configuration and every tensor, so the
//! client and the server know they run halves of the same trained pair.

use kb_models::weight_file::WeightFile;
use sha2::{Digest, Sha256};

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The identity of the model in `w`: SHA-256 over its configuration (JSON)
/// and each tensor's name, shape and little-endian values, in name order.
/// The evaluation note is left out: stamping a file does not change its model.
pub fn model_id(w: &WeightFile) -> String {
    let mut h = Sha256::new();
    h.update(w.config.to_json().as_bytes());
    for (name, t) in &w.tensors {
        h.update((name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
        h.update((t.shape.len() as u64).to_le_bytes());
        for d in &t.shape {
            h.update((*d as u64).to_le_bytes());
        }
        for v in &t.data {
            h.update(v.to_le_bytes());
        }
    }
    hex(&h.finalize())
}
