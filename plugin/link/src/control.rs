//! The control stream: the client's hello (protocol, token, model identity,
//! hint encoding) and the server's answer, one JSON line each on the
//! connection's first bidirectional stream.

use serde::{Deserialize, Serialize};

use crate::wire::Encoding;

/// Version of the control messages and datagram layout together.
pub const PROTOCOL: u32 = 1;
/// Longest control line either side reads, in bytes.
pub const MAX_LINE: usize = 4096;
/// ALPN name of the protocol, checked by TLS on both sides.
pub const ALPN: &[u8] = b"knowledge-boost-hints/1";

/// What a client says first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// [`PROTOCOL`] of the client.
    pub protocol: u32,
    /// The client token the server was started with.
    pub token: String,
    /// Identity of the pair the client runs ([`crate::identity::model_id`]).
    pub model: String,
    /// How the client wants hint values sent.
    pub encoding: Encoding,
}

/// The server's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reply {
    /// The stream is open: send audio datagrams.
    Welcome {
        /// The weight file the server runs.
        model_name: String,
        /// The pair's trained hint delay C in chunks.
        delay: usize,
        /// The pair's hint compression P.
        compression: usize,
        /// Values in one hint frame.
        hint_values: usize,
    },
    /// The stream is refused, and why.
    Refused {
        /// What the user is told.
        reason: String,
    },
}

/// One message as the line that carries it.
pub fn line<T: Serialize>(msg: &T) -> Vec<u8> {
    let mut v = serde_json::to_vec(msg).expect("control messages serialise");
    v.push(b'\n');
    v
}

/// Parses one line (without its newline) as a message, with a readable error.
pub fn parse<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("malformed control message: {e}"))
}
