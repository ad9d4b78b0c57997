//! The voice thread: learns Extract mode's voice from the input or from a WAV
//! file, and measures how like that voice the input sounds, off the audio and
//! hint threads (an embedding takes a second or more of CPU).

use std::{
    sync::{
        atomic::{AtomicBool, Ordering::Relaxed},
        Arc,
    },
    thread::JoinHandle,
    time::Duration,
};

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender};
use kb_speaker::{similarity, EncoderWeights, SpeakerEncoder, SAMPLE_RATE};
use parking_lot::RwLock;

use crate::{
    path::CHUNK,
    voice::{Activity, Command, Enrollment, VoiceDesk, LEARN_SECONDS, WAV_SECONDS},
    voice_wav,
};

/// One 16 kHz chunk of the input, both ears averaged.
pub type MonoChunk = [f32; CHUNK];
/// Chunks the queue to the voice thread holds (1 s of input).
const QUEUE_CHUNKS: usize = 125;
/// Input the live similarity looks at, in seconds.
pub const SIMILARITY_SECONDS: f64 = 2.0;
/// Input between two live similarity measurements, in seconds.
pub const SIMILARITY_EVERY_SECONDS: f64 = 1.0;

/// Resemblyzer's weights, converted by `cargo xtask import --resemblyzer` (`docs/extract.md`).
static ENCODER_WEIGHTS: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../assets/speaker_encoder.safetensors"
));

/// Handle to the running thread; stops and joins it on drop.
#[derive(Debug)]
pub struct VoiceThread {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl VoiceThread {
    /// Spawns the thread; the sender takes the input's chunks (never blocks: a full queue drops).
    pub fn start(
        enrollment: Arc<RwLock<Enrollment>>,
        desk: Arc<VoiceDesk>,
    ) -> std::io::Result<(Self, Sender<MonoChunk>)> {
        let (tx, rx) = bounded(QUEUE_CHUNKS);
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("knowledge-boost voice".into())
            .spawn(move || Worker::new(enrollment, desk).run(&rx, &flag))?;
        Ok((
            Self {
                stop,
                handle: Some(handle),
            },
            tx,
        ))
    }

    /// Asks the thread to stop and joins it.
    pub fn stop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(h) = self.handle.take() {
            // A panic there has been reported already; nothing is left to clean up.
            let _ = h.join();
        }
    }
}

impl Drop for VoiceThread {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Both ears of a channel-major [2][CHUNK] chunk, averaged.
pub fn mono(samples: &[f32]) -> MonoChunk {
    let (l, r) = samples.split_at(CHUNK);
    std::array::from_fn(|i| 0.5 * (l[i] + r[i]))
}

/// `s` seconds in 16 kHz samples.
fn samples(s: f64) -> usize {
    (s * SAMPLE_RATE as f64) as usize
}

struct Worker {
    enrollment: Arc<RwLock<Enrollment>>,
    desk: Arc<VoiceDesk>,
    encoder: Option<SpeakerEncoder>,
    /// The latest input, a ring of `SIMILARITY_SECONDS`.
    recent: Vec<f32>,
    recent_at: usize,
    recent_len: usize,
    /// `recent` in time order.
    ordered: Vec<f32>,
    since_similarity: usize,
    recording: Option<Vec<f32>>,
}

impl Worker {
    fn new(enrollment: Arc<RwLock<Enrollment>>, desk: Arc<VoiceDesk>) -> Self {
        let recent = samples(SIMILARITY_SECONDS);
        Self {
            enrollment,
            desk,
            encoder: None,
            recent: vec![0.0; recent],
            recent_at: 0,
            recent_len: 0,
            ordered: vec![0.0; recent],
            since_similarity: 0,
            recording: None,
        }
    }

    fn run(mut self, rx: &Receiver<MonoChunk>, stop: &AtomicBool) {
        self.desk.set_activity(Activity::Idle);
        while !stop.load(Relaxed) {
            match rx.recv_timeout(Duration::from_millis(10)) {
                Ok(chunk) => {
                    self.push(&chunk);
                    // Every chunk already queued comes before a request made after it.
                    while let Ok(c) = rx.try_recv() {
                        self.push(&c);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            self.serve();
        }
        self.desk.set_activity(Activity::Idle);
        self.desk.set_similarity(None);
    }

    fn push(&mut self, chunk: &MonoChunk) {
        for &x in chunk {
            self.recent[self.recent_at] = x;
            self.recent_at = (self.recent_at + 1) % self.recent.len();
        }
        self.recent_len = (self.recent_len + CHUNK).min(self.recent.len());
        self.since_similarity += CHUNK;
        let learn_max = samples(LEARN_SECONDS);
        if let Some(rec) = self.recording.as_mut() {
            rec.extend_from_slice(&chunk[..CHUNK.min(learn_max - rec.len())]);
            self.desk
                .set_recorded_seconds(rec.len() as f64 / SAMPLE_RATE as f64);
            if rec.len() >= learn_max {
                self.desk.ask(Command::Finish);
            }
        }
    }

    fn serve(&mut self) {
        match self.desk.take_command() {
            Command::None => {}
            Command::Learn => {
                self.recording = Some(Vec::with_capacity(samples(LEARN_SECONDS)));
                self.desk.set_recorded_seconds(0.0);
                self.desk.set_activity(Activity::Learning);
                self.desk
                    .set_message("recording: let the target talk alone, then press Done");
            }
            Command::Cancel => {
                self.recording = None;
                self.desk.set_activity(Activity::Idle);
                self.desk.set_message("recording cancelled");
            }
            Command::Finish => {
                if let Some(rec) = self.recording.take() {
                    let source = format!(
                        "learned from {:.1} s of input",
                        rec.len() as f64 / SAMPLE_RATE as f64
                    );
                    self.enroll(&rec, source);
                }
            }
        }
        if let Some(path) = self.desk.take_wav() {
            match voice_wav::read(std::path::Path::new(&path), WAV_SECONDS) {
                Ok(wav) => self.enroll(&wav, path),
                Err(e) => self.desk.set_message(format!("cannot enroll: {e}")),
            }
        }
        let every = samples(SIMILARITY_EVERY_SECONDS);
        if self.since_similarity >= every && self.recent_len == self.recent.len() {
            self.since_similarity = 0;
            self.measure();
        }
    }

    fn encoder(&mut self) -> Result<&mut SpeakerEncoder, String> {
        if self.encoder.is_none() {
            let weights = EncoderWeights::from_bytes(ENCODER_WEIGHTS, "built-in speaker encoder")
                .map_err(|e| e.to_string())?;
            self.encoder = Some(SpeakerEncoder::new(weights, WAV_SECONDS.max(LEARN_SECONDS)));
        }
        Ok(self.encoder.as_mut().expect("built above"))
    }

    fn enroll(&mut self, wav: &[f32], source: String) {
        self.desk.set_activity(Activity::Embedding);
        let embedded = self
            .encoder()
            .and_then(|enc| enc.embed(wav).map_err(|e| e.to_string()));
        match embedded {
            Ok(e) => {
                *self.enrollment.write() = Enrollment {
                    embedding: Some(e.to_vec()),
                    source: source.clone(),
                };
                self.desk.set_message(format!("enrolled: {source}"));
            }
            Err(e) => self
                .desk
                .set_message(format!("cannot enroll {source}: {e}")),
        }
        self.desk.set_activity(Activity::Idle);
    }

    /// The similarity of the latest input to the enrolled voice, while an editor shows it.
    fn measure(&mut self) {
        let enrolled: Option<[f32; kb_speaker::EMBEDDING]> = self
            .enrollment
            .read()
            .embedding()
            .and_then(|e| e.try_into().ok());
        let (Some(voice), true) = (enrolled, self.desk.editor_open.load(Relaxed)) else {
            self.desk.set_similarity(None);
            return;
        };
        let (tail, head) = self.recent.split_at(self.recent_at);
        self.ordered[..head.len()].copy_from_slice(head);
        self.ordered[head.len()..].copy_from_slice(tail);
        let ordered = std::mem::take(&mut self.ordered);
        let s = self
            .encoder()
            .ok()
            .and_then(|enc| enc.embed(&ordered).ok())
            .map(|e| similarity(&e, &voice));
        self.ordered = ordered;
        self.desk.set_similarity(s);
    }
}
