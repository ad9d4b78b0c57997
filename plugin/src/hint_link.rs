//! The link between the audio thread and the large engine's thread: bounded
//! lock-free queues of pre-allocated messages recycled through return queues,
//! chunk-index matching of hints, stale-hint disposal and miss counting.

use std::{
    sync::atomic::Ordering::Relaxed,
    time::{Duration, Instant},
};

use crossbeam_channel::{bounded, Receiver, Sender, TryRecvError};
use kb_models::engine::{Engines, FrontEngine, HintFrame, LargeEngine};

use crate::telemetry::Telemetry;

/// Samples in one 16 kHz input chunk of both ears.
pub const CHUNK_SAMPLES: usize = 2 * crate::path::CHUNK;

/// Input chunks in flight (0.5 s): a slower large engine loses chunks beyond this.
pub const CHUNK_POOL: usize = 64;

/// Voice updates in flight.
pub const VOICE_QUEUE: usize = 2;

/// Hint frames in flight.
pub const HINT_POOL: usize = 16;

/// How long an offline render waits for a hint before running without it.
pub const OFFLINE_HINT_TIMEOUT: Duration = Duration::from_secs(5);

/// Which model generation (bumped at every swap) and which stream (bumped at
/// every reset) a message belongs to: the same tag travels to a hint server.
pub use kb_link::StreamTag as Tag;

/// One 16 kHz input chunk for the large engine.
#[derive(Debug)]
pub struct ChunkMsg {
    /// Generation and stream.
    pub tag: Tag,
    /// Chunk index in the stream.
    pub index: u64,
    /// [2 ears][128] channel-major.
    pub samples: [f32; CHUNK_SAMPLES],
}

/// A new enrolled voice for the running small engine of generation `gen`.
#[derive(Debug)]
pub struct VoiceMsg {
    /// Model generation it is meant for.
    pub gen: u32,
    /// The speaker embedding.
    pub embedding: [f32; kb_speaker::EMBEDDING],
}

/// One hint frame from the large engine.
#[derive(Debug)]
pub struct HintMsg {
    /// Generation and stream of the chunk it was computed from.
    pub tag: Tag,
    /// The frame; `frame.index` is that chunk's index.
    pub frame: HintFrame,
}

/// The audio thread's model (or none: pass-through) with everything it needs to run it.
#[derive(Debug)]
pub struct Slot {
    /// Generation of the model this engine belongs to.
    pub gen: u32,
    /// A pair's small engine or a single model; None when the mode has no model.
    pub small: Option<FrontEngine>,
    /// The trained hint delay C in chunks (the merges align to it); None: a single model, no hints.
    pub delay: Option<u64>,
    /// Which mode this slot serves.
    pub mode: u8,
}

impl Slot {
    /// Splits loaded engines (None: pass-through) into the audio thread's slot
    /// of generation `gen` and the large engine (a pair's) the background thread keeps.
    pub fn install(
        gen: u32,
        mode: u8,
        engines: Option<Engines>,
    ) -> (Box<Self>, Option<LargeEngine>) {
        let (small, large) = engines.map(Engines::into_parts).unzip();
        let large = large.flatten();
        let delay = small
            .as_ref()
            .and_then(FrontEngine::delay)
            .map(|c| c as u64);
        let slot = Self {
            gen,
            small,
            delay,
            mode,
        };
        (Box::new(slot), large)
    }
}

/// The audio thread's end.
#[derive(Debug)]
pub struct AudioLink {
    chunk_tx: Sender<Box<ChunkMsg>>,
    chunk_free_tx: Sender<Box<ChunkMsg>>,
    chunk_free_rx: Receiver<Box<ChunkMsg>>,
    hint_rx: Receiver<Box<HintMsg>>,
    hint_free_tx: Sender<Box<HintMsg>>,
    held: Option<Box<HintMsg>>,
    slot_rx: Receiver<Box<Slot>>,
    retired_tx: Sender<Box<Slot>>,
    voice_rx: Receiver<Box<VoiceMsg>>,
    voice_back_tx: Sender<Box<VoiceMsg>>,
    voice_held: Option<Box<VoiceMsg>>,
}

/// The background thread's end.
#[derive(Debug)]
pub struct BackLink {
    /// Input chunks from the audio thread.
    pub chunk_rx: Receiver<Box<ChunkMsg>>,
    /// Returns input chunk buffers.
    pub chunk_free_tx: Sender<Box<ChunkMsg>>,
    /// Hints to the audio thread.
    pub hint_tx: Sender<Box<HintMsg>>,
    /// Recycled hint buffers.
    pub hint_free_rx: Receiver<Box<HintMsg>>,
    /// New small engines for the audio thread.
    pub slot_tx: Sender<Box<Slot>>,
    /// Old small engines coming back to be dropped off the audio thread.
    pub retired_rx: Receiver<Box<Slot>>,
    /// New voices for the running small engine.
    pub voice_tx: Sender<Box<VoiceMsg>>,
    /// Applied voice messages coming back to be dropped off the audio thread.
    pub voice_back_rx: Receiver<Box<VoiceMsg>>,
}

/// Builds both ends with every message pre-allocated; `hint_len` sizes the hint frames.
pub fn link(hint_len: usize) -> (AudioLink, BackLink) {
    let (chunk_tx, chunk_rx) = bounded(CHUNK_POOL);
    let (chunk_free_tx, chunk_free_rx) = bounded(CHUNK_POOL);
    for _ in 0..CHUNK_POOL {
        chunk_free_tx
            .send(Box::new(ChunkMsg {
                tag: Tag::default(),
                index: 0,
                samples: [0.0; CHUNK_SAMPLES],
            }))
            .expect("pool fits its queue");
    }
    let (hint_tx, hint_rx) = bounded(HINT_POOL);
    let (hint_free_tx, hint_free_rx) = bounded(HINT_POOL);
    for _ in 0..HINT_POOL {
        hint_free_tx
            .send(Box::new(HintMsg {
                tag: Tag::default(),
                frame: HintFrame {
                    index: 0,
                    data: vec![0.0; hint_len],
                },
            }))
            .expect("pool fits its queue");
    }
    let (slot_tx, slot_rx) = bounded(1);
    let (retired_tx, retired_rx) = bounded(4);
    let (voice_tx, voice_rx) = bounded(VOICE_QUEUE);
    let (voice_back_tx, voice_back_rx) = bounded(VOICE_QUEUE + 1);
    (
        AudioLink {
            chunk_tx,
            chunk_free_tx: chunk_free_tx.clone(),
            chunk_free_rx,
            hint_rx,
            hint_free_tx,
            held: None,
            slot_rx,
            retired_tx,
            voice_rx,
            voice_back_tx,
            voice_held: None,
        },
        BackLink {
            chunk_rx,
            chunk_free_tx,
            hint_tx,
            hint_free_rx,
            slot_tx,
            retired_rx,
            voice_tx,
            voice_back_rx,
        },
    )
}

impl AudioLink {
    /// Sends one input chunk; when no buffer is free it counts a drop (or, with
    /// `wait`, an offline render, waits for one). Never allocates.
    pub fn send_chunk(
        &mut self,
        tag: Tag,
        index: u64,
        samples: &[f32],
        wait: bool,
        telemetry: &Telemetry,
    ) {
        let started = Instant::now();
        let mut msg = loop {
            match self.chunk_free_rx.try_recv() {
                Ok(m) => break m,
                Err(_) if wait && started.elapsed() < OFFLINE_HINT_TIMEOUT => {
                    std::thread::sleep(Duration::from_micros(50));
                }
                Err(_) => {
                    telemetry.chunks_dropped.fetch_add(1, Relaxed);
                    return;
                }
            }
        };
        msg.tag = tag;
        msg.index = index;
        msg.samples.copy_from_slice(samples);
        // The queue holds the whole pool, so there is always room.
        if let Err(e) = self.chunk_tx.try_send(msg) {
            self.recycle_chunk(e.into_inner());
        }
    }

    fn recycle_chunk(&mut self, msg: Box<ChunkMsg>) {
        if let Err(e) = self.chunk_free_tx.try_send(msg) {
            // Cannot happen: the free queue holds the whole pool. Leak rather than free here.
            std::mem::forget(e.into_inner());
        }
    }

    fn recycle_hint(&mut self) {
        if let Some(h) = self.held.take() {
            if let Err(e) = self.hint_free_tx.try_send(h) {
                self.held = Some(e.into_inner());
            }
        }
    }

    /// The hint computed from chunk `want` of stream `tag`, if it has arrived;
    /// older hints are discarded, newer ones kept for later. With `wait` (offline
    /// render) it waits for the hint up to [`OFFLINE_HINT_TIMEOUT`].
    pub fn hint_for(&mut self, tag: Tag, want: u64, wait: bool) -> Option<&HintFrame> {
        let started = Instant::now();
        loop {
            if let Some(h) = &self.held {
                if h.tag != tag || h.frame.index < want {
                    self.recycle_hint();
                    if self.held.is_some() {
                        return None;
                    }
                } else if h.frame.index == want {
                    return self.held.as_deref().map(|m| &m.frame);
                } else {
                    return None;
                }
            }
            match self.hint_rx.try_recv() {
                Ok(h) => self.held = Some(h),
                Err(TryRecvError::Empty) if wait && started.elapsed() < OFFLINE_HINT_TIMEOUT => {
                    std::thread::sleep(Duration::from_micros(20));
                }
                Err(_) => return None,
            }
        }
    }

    /// Discards every hint that has arrived (boost off).
    pub fn drain_hints(&mut self) {
        self.recycle_hint();
        while self.held.is_none() {
            match self.hint_rx.try_recv() {
                Ok(h) => {
                    self.held = Some(h);
                    self.recycle_hint();
                }
                Err(_) => break,
            }
        }
    }

    /// The newest voice meant for `slot`'s engine, if one arrived: applied by the
    /// caller; a voice for a generation not yet swapped in waits, one for an
    /// older generation goes back. Allocates and frees nothing.
    pub fn take_voice(&mut self, slot: &Slot) -> Option<[f32; kb_speaker::EMBEDDING]> {
        let mut found = None;
        loop {
            let msg = match self.voice_held.take() {
                Some(m) => m,
                None => match self.voice_rx.try_recv() {
                    Ok(m) => m,
                    Err(_) => return found,
                },
            };
            if msg.gen.wrapping_sub(slot.gen) as i32 > 0 {
                self.voice_held = Some(msg);
                return found;
            }
            if msg.gen == slot.gen {
                found = Some(msg.embedding);
            }
            if let Err(e) = self.voice_back_tx.try_send(msg) {
                // Cannot happen: the return queue holds every message. Leak rather than free here.
                std::mem::forget(e.into_inner());
            }
        }
    }

    /// Swaps in a new small engine if one is waiting; the old one goes back to
    /// the background thread to be dropped there. Returns true on a swap.
    pub fn swap_slot(&mut self, slot: &mut Box<Slot>) -> bool {
        if self.retired_tx.is_full() {
            return false;
        }
        match self.slot_rx.try_recv() {
            Ok(mut new) => {
                std::mem::swap(slot, &mut new);
                if let Err(e) = self.retired_tx.try_send(new) {
                    // Cannot happen: this thread is the only sender and checked for room.
                    std::mem::forget(e.into_inner());
                }
                true
            }
            Err(_) => false,
        }
    }
}
