//! The client end of the hint link, run by the plugin's large-model thread in
//! place of a local large engine: a network thread of its own connects to the
//! server (pinned certificate, token, the pair's identity), sends each 16 kHz
//! chunk as a datagram and hands back whole hint frames. It reconnects when
//! the server goes away; meanwhile chunks are dropped and every hint is missed
//! (the small model runs alone, as with a late hint).

use std::{
    net::{SocketAddr, ToSocketAddrs},
    sync::{
        atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed},
        Arc,
    },
    thread::JoinHandle,
    time::Duration,
};

use bytes::Bytes;
use crossbeam_channel::{bounded, Receiver, Sender};
use parking_lot::Mutex;
use tokio::sync::mpsc;

use crate::{
    assembly::Assembler,
    control::{line, parse, Hello, Reply, PROTOCOL},
    server::{read_line, HELLO_TIMEOUT},
    tls::client_config,
    wire::{decode, encode_audio, Datagram, Encoding, StreamTag, CHUNK_VALUES, FRAGMENT_BYTES},
};

/// Chunks queued for the network thread (they wait there while it connects).
const QUEUE: usize = 256;
/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Where and how to reach a hint server.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClientSettings {
    /// `host:port` of the server.
    pub server: String,
    /// SHA-256 fingerprint of the server's certificate (as `cargo xtask serve` prints it).
    pub fingerprint: String,
    /// The server's client token.
    pub token: String,
    /// How hint values travel.
    pub encoding: Encoding,
}

/// What the link is doing, for the editor and the command line.
#[derive(Debug, Default)]
pub struct LinkStatus {
    /// Connected and welcomed.
    pub connected: AtomicBool,
    /// Smoothed round-trip time, microseconds.
    pub rtt_us: AtomicU32,
    /// The server's trained delay C (0 until welcomed).
    pub delay: AtomicU32,
    /// Audio datagrams sent.
    pub chunks_sent: AtomicU64,
    /// Chunks dropped while disconnected or with the queue full.
    pub chunks_dropped: AtomicU64,
    /// Whole hint frames received.
    pub hints: AtomicU64,
    /// Datagrams refused by the decoder, or fragments ignored by the assembler.
    pub bad_datagrams: AtomicU64,
    /// Hint frames that lost a fragment.
    pub incomplete: AtomicU64,
    /// Connections made since the start.
    pub connections: AtomicU64,
    /// The latest problem, empty when all is well.
    pub message: Mutex<String>,
}

/// A whole hint frame from the server.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteHint {
    /// The stream it belongs to.
    pub tag: StreamTag,
    /// The chunk it was computed from.
    pub index: u64,
    /// Its values [F, C'].
    pub data: Vec<f32>,
}

/// A running client; dropping it closes the connection and joins its thread.
#[derive(Debug)]
pub struct HintClient {
    chunks: Option<mpsc::Sender<(StreamTag, u64, Vec<f32>)>>,
    hints: Receiver<RemoteHint>,
    status: Arc<LinkStatus>,
    thread: Option<JoinHandle<()>>,
}

impl HintClient {
    /// Starts connecting to `settings.server` for the pair of identity `model`
    /// whose hint frames hold `hint_values` values.
    pub fn start(
        settings: &ClientSettings,
        model: String,
        hint_values: usize,
    ) -> Result<Self, String> {
        let config = client_config(&settings.fingerprint)?;
        let (chunk_tx, chunk_rx) = mpsc::channel(QUEUE);
        let (hint_tx, hint_rx) = bounded(QUEUE);
        let status = Arc::new(LinkStatus::default());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the network runtime: {e}"))?;
        let hello = Hello {
            protocol: PROTOCOL,
            token: settings.token.clone(),
            model,
            encoding: settings.encoding,
        };
        let link = Link {
            server: settings.server.clone(),
            config,
            hello,
            hint_values,
            status: status.clone(),
            hints: hint_tx,
        };
        let thread = std::thread::Builder::new()
            .name("kb hint link".into())
            .spawn(move || rt.block_on(link.run(chunk_rx)))
            .map_err(|e| e.to_string())?;
        Ok(Self {
            chunks: Some(chunk_tx),
            hints: hint_rx,
            status,
            thread: Some(thread),
        })
    }

    /// Queues chunk `index` ([2][128] samples) of stream `tag`; false when it was dropped.
    pub fn send(&self, tag: StreamTag, index: u64, samples: &[f32]) -> bool {
        let sent = self
            .chunks
            .as_ref()
            .is_some_and(|c| c.try_send((tag, index, samples.to_vec())).is_ok());
        if !sent {
            self.status.chunks_dropped.fetch_add(1, Relaxed);
        }
        sent
    }

    /// The next hint frame that came, if any.
    pub fn try_recv(&self) -> Option<RemoteHint> {
        self.hints.try_recv().ok()
    }

    /// The link's status.
    pub fn status(&self) -> &Arc<LinkStatus> {
        &self.status
    }
}

impl Drop for HintClient {
    fn drop(&mut self) {
        // Closing the queue ends the network thread.
        self.chunks = None;
        if let Some(t) = self.thread.take() {
            // A panic there has been reported already; nothing is left to clean up.
            let _ = t.join();
        }
    }
}

struct Link {
    server: String,
    config: quinn::ClientConfig,
    hello: Hello,
    hint_values: usize,
    status: Arc<LinkStatus>,
    hints: Sender<RemoteHint>,
}

/// How a connection ended.
enum End {
    /// The plugin closed the queue: stop.
    Closed,
    /// The server went away or refused: try again later.
    Lost(String),
}

impl Link {
    fn say(&self, msg: impl Into<String>) {
        *self.status.message.lock() = msg.into();
    }

    async fn run(self, mut chunks: mpsc::Receiver<(StreamTag, u64, Vec<f32>)>) {
        let mut backoff = Duration::from_millis(100);
        loop {
            match self.session(&mut chunks).await {
                End::Closed => return,
                End::Lost(why) => self.say(why),
            }
            self.status.connected.store(false, Relaxed);
            // Chunks that come while waiting would be stale by the next connection.
            let wait = tokio::time::sleep(backoff);
            tokio::pin!(wait);
            loop {
                tokio::select! {
                    () = &mut wait => break,
                    c = chunks.recv() => match c {
                        Some(_) => { self.status.chunks_dropped.fetch_add(1, Relaxed); }
                        None => return,
                    },
                }
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    fn resolve(&self) -> Result<SocketAddr, String> {
        self.server
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {}: {e}", self.server))?
            .next()
            .ok_or_else(|| format!("{} has no address", self.server))
    }

    async fn connect(&self) -> Result<(quinn::Endpoint, quinn::Connection, Reply), String> {
        let addr = self.resolve()?;
        let local: SocketAddr = if addr.is_ipv6() {
            "[::]:0".parse().expect("an address")
        } else {
            "0.0.0.0:0".parse().expect("an address")
        };
        let mut endpoint = quinn::Endpoint::client(local).map_err(|e| e.to_string())?;
        endpoint.set_default_client_config(self.config.clone());
        let conn = tokio::time::timeout(HELLO_TIMEOUT, async {
            endpoint
                .connect(addr, "knowledge-boost-hint-server")
                .map_err(|e| e.to_string())?
                .await
                .map_err(|e| format!("cannot connect to {}: {e}", self.server))
        })
        .await
        .map_err(|_| format!("{} did not answer", self.server))??;
        let reply = tokio::time::timeout(HELLO_TIMEOUT, async {
            let (mut send, mut recv) = conn.open_bi().await.map_err(|e| e.to_string())?;
            send.write_all(&line(&self.hello))
                .await
                .map_err(|e| e.to_string())?;
            parse::<Reply>(&read_line(&mut recv).await?)
        })
        .await
        .map_err(|_| format!("{} did not reply to the hello", self.server))??;
        Ok((endpoint, conn, reply))
    }

    async fn session(&self, chunks: &mut mpsc::Receiver<(StreamTag, u64, Vec<f32>)>) -> End {
        let (endpoint, conn, reply) = match self.connect().await {
            Ok(x) => x,
            Err(e) => return End::Lost(e),
        };
        match reply {
            Reply::Refused { reason } => return End::Lost(format!("refused: {reason}")),
            Reply::Welcome {
                hint_values, delay, ..
            } => {
                if hint_values != self.hint_values {
                    return End::Lost(format!(
                        "the server's hints hold {hint_values} values, the pair's {}",
                        self.hint_values
                    ));
                }
                self.status.delay.store(delay as u32, Relaxed);
            }
        }
        self.status.connected.store(true, Relaxed);
        self.status.connections.fetch_add(1, Relaxed);
        self.say("");
        let mut assembler = Assembler::new(self.hint_values);
        let mut out = Vec::new();
        let mut buf = vec![0f32; CHUNK_VALUES.max(FRAGMENT_BYTES / 2)];
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        let end = loop {
            tokio::select! {
                c = chunks.recv() => match c {
                    Some((tag, index, samples)) => {
                        encode_audio(&mut out, tag, index, &samples);
                        match conn.send_datagram(Bytes::copy_from_slice(&out)) {
                            Ok(()) => { self.status.chunks_sent.fetch_add(1, Relaxed); }
                            Err(e) => break End::Lost(format!("lost the server: {e}")),
                        }
                    }
                    None => break End::Closed,
                },
                d = conn.read_datagram() => match d {
                    Ok(bytes) => self.take(&bytes, &mut buf, &mut assembler),
                    Err(e) => break End::Lost(format!("lost the server: {e}")),
                },
                _ = tick.tick() => {
                    let rtt = conn.rtt().as_micros().min(u128::from(u32::MAX)) as u32;
                    self.status.rtt_us.store(rtt, Relaxed);
                }
            }
        };
        conn.close(0u32.into(), b"bye");
        endpoint.close(0u32.into(), b"bye");
        end
    }

    fn take(&self, bytes: &[u8], buf: &mut [f32], assembler: &mut Assembler) {
        let s = &self.status;
        let Ok(Datagram::Hint(f)) = decode(bytes, buf) else {
            s.bad_datagrams.fetch_add(1, Relaxed);
            return;
        };
        let (ignored, incomplete) = (assembler.ignored, assembler.incomplete);
        if let Some((tag, index, data)) = assembler.add(&f, buf) {
            s.hints.fetch_add(1, Relaxed);
            let hint = RemoteHint {
                tag,
                index,
                data: data.to_vec(),
            };
            // A full queue means the plugin stopped reading: the hint would be late anyway.
            let _ = self.hints.try_send(hint);
        }
        s.bad_datagrams
            .fetch_add(assembler.ignored - ignored, Relaxed);
        s.incomplete
            .fetch_add(assembler.incomplete - incomplete, Relaxed);
    }
}
