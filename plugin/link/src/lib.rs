//! The network hint link of knowledge boosting: the large model of a pair on
//! another machine. A hint server ([`server::HintServer`], `cargo xtask serve`)
//! runs the pair's large model for any number of plugin instances; each
//! instance's large-model thread runs a [`client::HintClient`] in place of its
//! local large engine. QUIC (quinn, rustls): audio and hints as unreliable
//! datagrams ([`wire`]), a hello on a control stream ([`control`]), the
//! server's certificate pinned by the client ([`tls`]), the pair checked by
//! its identity ([`identity`]).

pub mod assembly;
pub mod client;
pub mod control;
pub mod identity;
pub mod server;
pub mod tls;
pub mod wire;

pub use client::{ClientSettings, HintClient, LinkStatus, RemoteHint};
pub use server::{HintServer, ServerSettings, ServerStats};
pub use tls::ServerIdentity;
pub use wire::{Encoding, StreamTag};
