//! The hint server: a pair's large model (and hint compression) behind a QUIC
//! endpoint. Each connection is one stream of one plugin instance: it says
//! hello on a control stream (token, pair identity, encoding), then sends 16 kHz
//! audio chunks as datagrams and gets each chunk's hint back as datagrams,
//! tagged with the chunk's index. Each stream runs its large engine on its own
//! thread, so a slow stream never holds up another.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{
        atomic::{AtomicU64, Ordering::Relaxed},
        Arc,
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use bytes::Bytes;
use crossbeam_channel::{bounded, Receiver, TrySendError};
use kb_models::{
    engine::{HintFrame, Kernels, LargeEngine},
    weight_file::WeightFile,
    WeightsConfig, CHUNK, SAMPLE_RATE,
};
use parking_lot::Mutex;

use crate::{
    control::{line, parse, Hello, Reply, MAX_LINE, PROTOCOL},
    identity::model_id,
    tls::{server_config, ServerIdentity},
    wire::{decode, encode_hint, Datagram, Encoding, StreamTag, CHUNK_VALUES, FRAGMENT_BYTES},
};

/// Time a client has to say hello.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(5);
/// Chunks queued for a stream's engine; more are dropped (the engine is behind).
const QUEUE: usize = 64;
/// A gap of at most this many lost chunks is filled with silence; a longer one restarts the stream's model.
const MAX_GAP: u64 = 25;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// The pair whose large model serves hints.
    pub weights: WeightFile,
    /// Its file name, as clients are told.
    pub model_name: String,
    /// Address to listen on.
    pub bind: SocketAddr,
    /// Certificate and key.
    pub identity: ServerIdentity,
    /// The token every client must send.
    pub token: String,
    /// Most streams served at once; more are refused.
    pub max_streams: usize,
}

/// One stream's figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamFigures {
    /// Chunks run through the large model.
    pub chunks: u64,
    /// Compute time of those chunks, seconds.
    pub compute_s: f64,
    /// Hint frames sent.
    pub hints: u64,
    /// Chunks that came after a later one (dropped: their hint would be late).
    pub late: u64,
    /// Chunks that never came (filled with silence).
    pub gaps: u64,
}

impl StreamFigures {
    /// Compute time over the audio time of the chunks run.
    pub fn rtf(&self) -> f64 {
        let audio = self.chunks as f64 * CHUNK as f64 / SAMPLE_RATE as f64;
        if audio > 0.0 {
            self.compute_s / audio
        } else {
            0.0
        }
    }
}

/// The server's counters, shared with whoever prints them.
#[derive(Debug, Default)]
pub struct ServerStats {
    /// Streams open now.
    pub open: AtomicU64,
    /// Streams welcomed since the start.
    pub served: AtomicU64,
    /// Connections refused (bad token, other model, protocol, stream limit, no hello).
    pub refused: AtomicU64,
    /// Hint frames sent (all streams).
    pub hints: AtomicU64,
    /// Chunks dropped as late (all streams).
    pub late: AtomicU64,
    /// Datagrams dropped: malformed, not audio, or the stream's queue full.
    pub dropped: AtomicU64,
    /// Figures of each open stream, by connection number.
    pub streams: Mutex<BTreeMap<u64, StreamFigures>>,
    /// Why the last connection was refused.
    pub last_refusal: Mutex<String>,
}

struct Shared {
    settings: ServerSettings,
    model: String,
    delay: usize,
    compression: usize,
    hint_values: usize,
    stats: Arc<ServerStats>,
    next_id: AtomicU64,
}

/// A running server; dropping it stops it.
pub struct HintServer {
    addr: SocketAddr,
    fingerprint: String,
    stats: Arc<ServerStats>,
    endpoint: quinn::Endpoint,
    thread: Option<JoinHandle<()>>,
}

impl HintServer {
    /// Binds and starts serving on a thread of its own.
    pub fn start(settings: ServerSettings) -> Result<Self, String> {
        let WeightsConfig::Joint(cfg) = &settings.weights.config else {
            return Err(
                "the hint server needs a knowledge-boosting pair, not a single model".into(),
            );
        };
        LargeEngine::from_weights(&settings.weights, Kernels::best()).map_err(|e| e.to_string())?;
        let shared = Arc::new(Shared {
            model: model_id(&settings.weights),
            delay: cfg.delay,
            compression: cfg.compression,
            hint_values: HintFrame::new(cfg).data.len(),
            stats: Arc::new(ServerStats::default()),
            next_id: AtomicU64::new(0),
            settings,
        });
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the network runtime: {e}"))?;
        let config = server_config(&shared.settings.identity)?;
        let endpoint = {
            let _in_runtime = rt.enter();
            quinn::Endpoint::server(config, shared.settings.bind)
                .map_err(|e| format!("cannot listen on {}: {e}", shared.settings.bind))?
        };
        let addr = endpoint.local_addr().map_err(|e| e.to_string())?;
        let (ep, sh) = (endpoint.clone(), shared.clone());
        let thread = std::thread::Builder::new()
            .name("kb hint server".into())
            .spawn(move || {
                rt.block_on(async move {
                    while let Some(incoming) = ep.accept().await {
                        tokio::spawn(serve_connection(incoming, sh.clone()));
                    }
                });
            })
            .map_err(|e| e.to_string())?;
        Ok(Self {
            addr,
            fingerprint: shared.settings.identity.fingerprint(),
            stats: shared.stats.clone(),
            endpoint,
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its certificate's fingerprint, for clients to pin.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Its counters.
    pub fn stats(&self) -> &Arc<ServerStats> {
        &self.stats
    }

    /// Closes every connection and stops.
    pub fn stop(&mut self) {
        self.endpoint.close(0u32.into(), b"server stopping");
        if let Some(t) = self.thread.take() {
            // A panic there has been reported already; nothing is left to clean up.
            let _ = t.join();
        }
    }
}

impl Drop for HintServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Reads one control line (at most [`MAX_LINE`] bytes).
pub(crate) async fn read_line(recv: &mut quinn::RecvStream) -> Result<Vec<u8>, String> {
    let mut line = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        match recv.read(&mut buf).await {
            Ok(Some(n)) => line.extend_from_slice(&buf[..n]),
            Ok(None) => return Err("the control stream ended".into()),
            Err(e) => return Err(format!("control stream: {e}")),
        }
        if let Some(end) = line.iter().position(|b| *b == b'\n') {
            line.truncate(end);
            return Ok(line);
        }
        if line.len() > MAX_LINE {
            return Err("control line too long".into());
        }
    }
}

fn check(hello: &Hello, s: &Shared) -> Result<Reply, String> {
    if hello.protocol != PROTOCOL {
        return Err(format!(
            "protocol {} is not this server's {PROTOCOL}: update the plugin or the server",
            hello.protocol
        ));
    }
    if hello.token != s.settings.token {
        return Err("wrong client token".into());
    }
    if hello.model != s.model {
        return Err(format!(
            "this server runs another pair ({}, identity {}…); load the same weight file on both sides",
            s.settings.model_name,
            &s.model[..12]
        ));
    }
    if s.stats.open.load(Relaxed) >= s.settings.max_streams as u64 {
        return Err(format!(
            "the server is full ({} streams)",
            s.settings.max_streams
        ));
    }
    Ok(Reply::Welcome {
        model_name: s.settings.model_name.clone(),
        delay: s.delay,
        compression: s.compression,
        hint_values: s.hint_values,
    })
}

async fn serve_connection(incoming: quinn::Incoming, s: Arc<Shared>) {
    let refuse = |why: String| {
        s.stats.refused.fetch_add(1, Relaxed);
        *s.stats.last_refusal.lock() = why;
    };
    let Ok(conn) = incoming.await else {
        return refuse("the handshake failed".into());
    };
    let opened = tokio::time::timeout(HELLO_TIMEOUT, async {
        let (send, mut recv) = conn.accept_bi().await.map_err(|e| e.to_string())?;
        let hello: Hello = parse(&read_line(&mut recv).await?)?;
        Ok::<_, String>((send, recv, hello))
    })
    .await;
    let (mut send, _recv, hello) = match opened {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => {
            conn.close(1u32.into(), e.as_bytes());
            return refuse(e);
        }
        Err(_) => {
            conn.close(1u32.into(), b"no hello");
            return refuse("no hello in time".into());
        }
    };
    let reply = check(&hello, &s).unwrap_or_else(|reason| Reply::Refused { reason });
    // The client reads the reply, refused or not; a lost reply shows as a closed connection.
    let _ = send.write_all(&line(&reply)).await;
    if let Reply::Refused { reason } = reply {
        let _ = send.finish();
        refuse(reason.clone());
        // Let the reply reach the client before the connection closes.
        tokio::time::sleep(Duration::from_millis(100)).await;
        conn.close(2u32.into(), reason.as_bytes());
        return;
    }
    s.stats.open.fetch_add(1, Relaxed);
    s.stats.served.fetch_add(1, Relaxed);
    let id = s.next_id.fetch_add(1, Relaxed);
    let (tx, rx) = bounded::<(StreamTag, u64, Vec<f32>)>(QUEUE);
    let (weights, stats, c2) = (s.settings.weights.clone(), s.stats.clone(), conn.clone());
    let worker = std::thread::Builder::new()
        .name(format!("kb hint stream {id}"))
        .spawn(move || run_stream(id, &weights, hello.encoding, &rx, &c2, &stats));
    if worker.is_ok() {
        let mut buf = vec![0f32; CHUNK_VALUES.max(FRAGMENT_BYTES / 2)];
        while let Ok(bytes) = conn.read_datagram().await {
            match decode(&bytes, &mut buf) {
                Ok(Datagram::Audio { tag, index }) => {
                    match tx.try_send((tag, index, buf[..CHUNK_VALUES].to_vec())) {
                        Ok(()) => {}
                        Err(TrySendError::Full(_)) => {
                            s.stats.dropped.fetch_add(1, Relaxed);
                        }
                        Err(TrySendError::Disconnected(_)) => break,
                    }
                }
                _ => {
                    s.stats.dropped.fetch_add(1, Relaxed);
                }
            }
        }
    }
    drop(tx);
    if let Ok(w) = worker {
        // The worker ends with its queue; it holds nothing to clean up.
        let _ = tokio::task::spawn_blocking(move || w.join()).await;
    }
    s.stats.streams.lock().remove(&id);
    s.stats.open.fetch_sub(1, Relaxed);
}

/// One stream's engine: runs its chunks in order and sends each hint back.
fn run_stream(
    id: u64,
    weights: &WeightFile,
    encoding: Encoding,
    rx: &Receiver<(StreamTag, u64, Vec<f32>)>,
    conn: &quinn::Connection,
    stats: &ServerStats,
) {
    let Ok(mut engine) = LargeEngine::from_weights(weights, Kernels::best()) else {
        return;
    };
    let mut frame = HintFrame::new(engine.config());
    let silence = vec![0f32; CHUNK_VALUES];
    let mut out = Vec::with_capacity(crate::wire::MAX_DATAGRAM);
    let mut current: Option<StreamTag> = None;
    let mut next = 0u64;
    let mut fig = StreamFigures::default();
    let mut published = Instant::now();
    while let Ok((tag, index, samples)) = rx.recv() {
        if current != Some(tag) {
            engine.reset();
            (current, next) = (Some(tag), index);
        }
        if index < next {
            fig.late += 1;
            stats.late.fetch_add(1, Relaxed);
            continue;
        }
        let t0 = Instant::now();
        let gap = index - next;
        if gap > MAX_GAP {
            engine.reset();
        } else {
            for _ in 0..gap {
                if engine.process(&silence, &mut frame).is_err() {
                    return;
                }
            }
        }
        fig.gaps += gap;
        if engine.process(&samples, &mut frame).is_err() {
            return;
        }
        fig.compute_s += t0.elapsed().as_secs_f64();
        fig.chunks += 1;
        next = index + 1;
        for part in 0..encoding.parts(frame.data.len()) {
            encode_hint(&mut out, tag, index, &frame.data, encoding, part);
            if conn.send_datagram(Bytes::copy_from_slice(&out)).is_err() {
                return;
            }
        }
        fig.hints += 1;
        stats.hints.fetch_add(1, Relaxed);
        if published.elapsed() > Duration::from_millis(500) {
            stats.streams.lock().insert(id, fig.clone());
            published = Instant::now();
        }
    }
}
