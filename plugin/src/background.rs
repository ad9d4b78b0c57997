//! The large engine's thread: started on activation, stopped and joined on
//! deactivation and drop. It also loads and warms models when the mode or a
//! user weight file or the enrolled voice changes, hands the new small engine to
//! the audio thread, and passes the input on to the voice thread.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering::Relaxed},
        Arc,
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use crossbeam_channel::{RecvTimeoutError, Sender};
use kb_models::engine::{HintFrame, LargeEngine};

use crate::{
    hint_link::{BackLink, HintMsg, Slot, VoiceMsg},
    models::{self, Mode, ModelRequest},
    remote_hints::{RemoteHints, RemotePair},
    telemetry::{Telemetry, CHUNK_BUDGET_US},
    voice_thread::{mono, MonoChunk},
};

/// Which model the thread has installed.
#[derive(Debug, Clone, PartialEq)]
pub struct Installed {
    /// Generation handed to the audio thread with the small engine.
    pub gen: u32,
    /// Mode of the model.
    pub mode: Mode,
    /// User weight file it came from, if any.
    pub user_file: Option<String>,
    /// The speaker embedding it runs with (Extract mode).
    pub speaker: Option<Vec<f32>>,
    /// Identity of the installed pair (None: a single model, or none).
    pub identity: Option<String>,
}

/// Everything the thread starts with.
#[derive(Debug)]
pub struct Start {
    /// The thread's end of the link.
    pub link: BackLink,
    /// The large engine of the installed pair (None: no model).
    pub large: Option<LargeEngine>,
    /// What is installed.
    pub installed: Installed,
    /// Requests from the audio and main threads.
    pub request: Arc<ModelRequest>,
    /// Where to publish figures.
    pub telemetry: Arc<Telemetry>,
    /// Test-only switch: never compute a hint (the thread stalls).
    pub stall: bool,
    /// The voice thread's input queue.
    pub voice: Sender<MonoChunk>,
}

/// Handle to the running thread.
#[derive(Debug)]
pub struct Background {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Background {
    /// Spawns the thread.
    pub fn start(start: Start) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("knowledge-boost large model".into())
            .spawn(move || run(start, &flag))?;
        Ok(Self {
            stop,
            handle: Some(handle),
        })
    }

    /// Asks the thread to stop and joins it.
    pub fn stop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(h) = self.handle.take() {
            // A panic on that thread has already been reported; nothing is left to clean up.
            let _ = h.join();
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(start: Start, stop: &AtomicBool) {
    let Start {
        link,
        mut large,
        mut installed,
        request,
        telemetry,
        stall,
        voice,
    } = start;
    let mut pending: Option<Box<Slot>> = None;
    let mut spare: Option<Box<HintMsg>> = None;
    let mut scratch = large.as_ref().map(|l| HintFrame::new(l.config()));
    let mut stream = None;
    let mut remote = RemoteHints::default();
    while !stop.load(Relaxed) {
        while link.retired_rx.try_recv().is_ok() {}
        while link.voice_back_rx.try_recv().is_ok() {}
        let mode = Mode::from_u8(request.mode.load(Relaxed));
        let user_file = request.overrides.read().get(mode).map(str::to_owned);
        let same_model = mode == installed.mode && user_file == installed.user_file;
        if same_model
            && pending.is_none()
            && installed.speaker.is_some()
            && request.speaker_changed(mode, installed.speaker.as_deref())
        {
            if let (Some(engine), Some(voice)) = (large.as_mut(), request.speaker(mode)) {
                // Another voice for the running pair: condition both engines in place.
                if let (Ok(()), Ok(embedding)) = (engine.set_speaker(&voice), voice[..].try_into())
                {
                    let msg = Box::new(VoiceMsg {
                        gen: installed.gen,
                        embedding,
                    });
                    if link.voice_tx.try_send(msg).is_ok() {
                        installed.speaker = Some(voice);
                    }
                }
            }
        }
        if mode != installed.mode
            || user_file != installed.user_file
            || request.speaker_changed(mode, installed.speaker.as_deref())
        {
            let speaker = request.speaker(mode);
            let loaded = models::load(mode, user_file.as_deref(), speaker.as_deref());
            let identity = loaded.pair_identity();
            telemetry.set_loaded(loaded.message, loaded.info);
            telemetry.no_model.store(loaded.engines.is_none(), Relaxed);
            installed = Installed {
                gen: installed.gen.wrapping_add(1),
                mode,
                user_file,
                speaker,
                identity,
            };
            let (slot, engine) = Slot::install(installed.gen, mode as u8, loaded.engines);
            scratch = engine.as_ref().map(|l| HintFrame::new(l.config()));
            large = engine;
            pending = Some(slot);
            stream = None;
        }
        if let Some(s) = pending.take() {
            if let Err(e) = link.slot_tx.try_send(s) {
                pending = Some(e.into_inner());
            }
        }
        // Extract's large model needs the voice: it stays local.
        let pair = match (&installed.identity, &scratch, &installed.speaker) {
            (Some(identity), Some(frame), None) => Some(RemotePair {
                gen: installed.gen,
                identity,
                hint_values: frame.data.len(),
            }),
            _ => None,
        };
        remote.follow(request.hint_server.read().as_ref(), pair, &telemetry);
        if let Some(client) = remote.client() {
            while let Some(h) = client.try_recv() {
                let Some(mut msg) = spare.take().or_else(|| link.hint_free_rx.try_recv().ok())
                else {
                    break;
                };
                if h.tag.gen != installed.gen
                    || h.data.len() != scratch.as_ref().map_or(0, |s| s.data.len())
                {
                    spare = Some(msg);
                    continue;
                }
                msg.frame.data.clear();
                msg.frame.data.extend_from_slice(&h.data);
                msg.frame.index = h.index;
                msg.tag = h.tag;
                if let Err(e) = link.hint_tx.try_send(msg) {
                    spare = Some(e.into_inner());
                }
            }
        }
        if stall {
            std::thread::sleep(Duration::from_millis(1));
            continue;
        }
        let msg = match link.chunk_rx.recv_timeout(Duration::from_millis(1)) {
            Ok(m) => m,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        // A full queue drops the chunk: the voice thread is busy embedding.
        let _ = voice.try_send(mono(&msg.samples));
        if let Some(client) = remote.client() {
            if msg.tag.gen == installed.gen {
                client.send(msg.tag, msg.index, &msg.samples);
            }
        } else if let (Some(engine), Some(scratch)) = (large.as_mut(), scratch.as_mut()) {
            if msg.tag.gen == installed.gen {
                if stream != Some(msg.tag.stream) {
                    engine.reset();
                    stream = Some(msg.tag.stream);
                }
                let mut out = spare.take().or_else(|| link.hint_free_rx.try_recv().ok());
                let frame = match out.as_mut() {
                    Some(h) => {
                        h.frame.data.resize(scratch.data.len(), 0.0);
                        &mut h.frame
                    }
                    None => scratch,
                };
                let t0 = Instant::now();
                if engine.process(&msg.samples, frame).is_ok() {
                    let us = t0.elapsed().as_secs_f64() * 1e6;
                    telemetry
                        .large_rtf_ppm
                        .store((us / CHUNK_BUDGET_US * 1e6) as u32, Relaxed);
                    if let Some(mut h) = out {
                        h.frame.index = msg.index;
                        h.tag = msg.tag;
                        if let Err(e) = link.hint_tx.try_send(h) {
                            spare = Some(e.into_inner());
                        }
                    }
                } else {
                    spare = out;
                }
            }
        }
        if link.chunk_free_tx.try_send(msg).is_err() {
            break;
        }
    }
}
