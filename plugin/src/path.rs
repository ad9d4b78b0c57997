//! The signal path shared by the plugin's `process` and `cargo xtask process`:
//! host rate -> 16 kHz, 128-sample chunks, small engine with late hints from the
//! background thread, 16 kHz -> host rate, latency-aligned dry/wet mix and gain.

use std::{
    sync::{atomic::Ordering::Relaxed, Arc},
    time::Instant,
};

use kb_models::engine::hint_source;

use crate::{
    background::{Background, Installed, Start},
    chunker::Fifo,
    dry_wet::DryWet,
    hint_link::{link, AudioLink, Slot, Tag, CHUNK_SAMPLES, OFFLINE_HINT_TIMEOUT},
    latency::{output_prefill, signal_delay},
    lookahead::LookaheadShift,
    models::{self, Mode, ModelRequest},
    rate::{Downsampler, Upsampler, MODEL_RATE},
    silence_gate::SilenceGate,
    telemetry::{Telemetry, CHUNK_BUDGET_US},
    voice_thread::VoiceThread,
};

pub use kb_models::{CHUNK, LOOKAHEAD};

/// Output channels of the path: [talker or voice][left, right], main bus first.
pub const OUT_CHANNELS: usize = 4;
/// Host sample rates the path accepts, in Hz (any rate in between, fractional too).
pub const HOST_RATES: std::ops::RangeInclusive<f64> = 1_000.0..=2_000_000.0;

/// How the path runs.
#[derive(Debug, Clone, Copy)]
pub struct PathConfig {
    /// Host sample rate in Hz.
    pub host_rate: f64,
    /// Offline render: wait for every hint instead of running without late ones.
    pub wait_for_hints: bool,
    /// Test-only: the background thread never computes a hint.
    pub stall_background: bool,
    /// Evaluation: merge the hint of chunk k - N at chunk k instead of k - C.
    /// The link is slower (or faster) than trained; the merges still align
    /// their block outputs to the trained C, as a late hint would find them.
    pub link_delay: Option<u64>,
}

/// Per-call settings (from the plugin's parameters).
#[derive(Debug, Clone, Copy)]
pub struct Controls {
    /// Wanted mode (a switch loads off the audio thread and takes effect when ready).
    pub mode: Mode,
    /// Use the large model's hints.
    pub boost: bool,
    /// Wet share, 0..1.
    pub mix: f32,
    /// Output gain (linear).
    pub gain: f32,
    /// How far each bus's residual (input minus its estimate) is turned down,
    /// dB; at `dry_wet::FULL_REDUCTION_DB` it is left out.
    pub reduction_db: f32,
    /// Output the latency-aligned dry signal only.
    pub bypass: bool,
}

impl Default for Controls {
    fn default() -> Self {
        Self {
            mode: Mode::Separate,
            boost: true,
            mix: 1.0,
            gain: 1.0,
            reduction_db: crate::dry_wet::FULL_REDUCTION_DB,
            bypass: false,
        }
    }
}

/// The whole real-time path. Built (and dropped) off the audio thread; `process` never allocates, locks or blocks (unless `wait_for_hints`).
pub struct AudioPath {
    down: Downsampler,
    up: Upsampler,
    in_fifo: Fifo,
    /// This call's input with non-finite samples replaced by zeros [2][frames_max].
    clean: Vec<f32>,
    down_in: Vec<f32>,
    chunk: [f32; CHUNK_SAMPLES],
    out16: Vec<f32>,
    up_out: Vec<f32>,
    up_stride: usize,
    out_fifo: Fifo,
    dry: Fifo,
    dry_buf: Vec<f32>,
    pass: LookaheadShift,
    prefill: usize,
    latency: usize,
    slot: Box<Slot>,
    link: AudioLink,
    background: Background,
    voice: VoiceThread,
    request: Arc<ModelRequest>,
    telemetry: Arc<Telemetry>,
    index: u64,
    stream: u32,
    slot_start: u64,
    last_hint: u64,
    wait: bool,
    link_delay: Option<u64>,
    dry_wet: DryWet,
    gate: SilenceGate,
}

impl AudioPath {
    /// Builds the path, loads the requested mode's model and starts the background and voice threads.
    pub fn new(
        cfg: &PathConfig,
        request: Arc<ModelRequest>,
        telemetry: Arc<Telemetry>,
    ) -> Result<Self, String> {
        let rate = cfg.host_rate;
        if !HOST_RATES.contains(&rate) {
            return Err(format!(
                "unsupported sample rate {rate} Hz (the plugin runs at {} to {} Hz)",
                HOST_RATES.start(),
                HOST_RATES.end()
            ));
        }
        let mut down = Downsampler::new(rate, 2, CHUNK).map_err(|e| e.to_string())?;
        let mut up = Upsampler::new(rate, OUT_CHANNELS, CHUNK).map_err(|e| e.to_string())?;
        let steps = (2.0 * f64::from(MODEL_RATE) / CHUNK as f64) as usize;
        let prefill = output_prefill(&mut down, &mut up, steps);
        let latency = prefill + signal_delay(rate)?.round() as usize;
        let frames_max = down.frames_max();
        let up_stride = up.frames_max();

        let mode = Mode::from_u8(request.mode.load(Relaxed));
        let user_file = request.overrides.read().get(mode).map(str::to_owned);
        let speaker = request.speaker(mode);
        let loaded = models::load(mode, user_file.as_deref(), speaker.as_deref());
        telemetry.reset();
        let hint_len = loaded.hint_len();
        let identity = loaded.pair_identity();
        telemetry.set_loaded(loaded.message, loaded.info);
        telemetry.no_model.store(loaded.engines.is_none(), Relaxed);
        let (slot, large) = Slot::install(1, mode as u8, loaded.engines);
        let (audio_link, back_link) = link(hint_len);
        let (voice, voice_tx) =
            VoiceThread::start(request.enrollment.clone(), request.desk.clone())
                .map_err(|e| format!("cannot start the voice thread: {e}"))?;
        let background = Background::start(Start {
            link: back_link,
            large,
            installed: Installed {
                gen: 1,
                mode,
                user_file,
                speaker,
                identity,
            },
            request: request.clone(),
            telemetry: telemetry.clone(),
            stall: cfg.stall_background,
            voice: voice_tx,
        })
        .map_err(|e| format!("cannot start the background thread: {e}"))?;

        let mut dry = Fifo::new(2, latency + frames_max);
        dry.clear_with_zeros(latency);
        let mut out_fifo = Fifo::new(OUT_CHANNELS, prefill + 2 * up_stride + frames_max);
        out_fifo.clear_with_zeros(prefill);
        Ok(Self {
            down,
            up,
            in_fifo: Fifo::new(2, frames_max),
            clean: vec![0.0; 2 * frames_max],
            down_in: vec![0.0; 2 * frames_max],
            chunk: [0.0; CHUNK_SAMPLES],
            out16: vec![0.0; OUT_CHANNELS * CHUNK],
            up_out: vec![0.0; OUT_CHANNELS * up_stride],
            up_stride,
            out_fifo,
            dry,
            dry_buf: vec![0.0; 2 * frames_max],
            pass: LookaheadShift::default(),
            prefill,
            latency,
            slot,
            link: audio_link,
            background,
            voice,
            request,
            telemetry,
            index: 0,
            stream: 0,
            slot_start: 0,
            last_hint: 0,
            wait: cfg.wait_for_hints,
            link_delay: cfg.link_delay,
            dry_wet: DryWet::new(rate),
            gate: SilenceGate::new(rate, latency),
        })
    }

    /// Total latency in host samples: 12 ms of the model plus the resamplers' delays and buffering.
    pub fn latency(&self) -> usize {
        self.latency
    }

    /// The mode whose model currently runs.
    pub fn active_mode(&self) -> Mode {
        Mode::from_u8(self.slot.mode)
    }

    /// Generation of the running model (bumped by every swap).
    pub fn model_generation(&self) -> u32 {
        self.slot.gen
    }

    /// True when a small engine runs (false: pass-through, no model).
    pub fn has_model(&self) -> bool {
        self.slot.small.is_some()
    }

    /// The telemetry this path publishes.
    pub fn telemetry(&self) -> &Arc<Telemetry> {
        &self.telemetry
    }

    /// Starts a new stream: clears every buffer and state (audio-thread safe).
    pub fn reset(&mut self) {
        self.down.reset();
        self.up.reset();
        self.in_fifo.clear_with_zeros(0);
        self.out_fifo.clear_with_zeros(self.prefill);
        self.dry.clear_with_zeros(self.latency);
        self.pass.reset();
        self.gate.reset();
        self.dry_wet.reset();
        if let Some(s) = self.slot.small.as_mut() {
            s.reset();
        }
        self.stream = self.stream.wrapping_add(1);
        self.index = 0;
        self.slot_start = 0;
        self.last_hint = 0;
    }

    /// Stops and joins the background and voice threads (also done on drop).
    pub fn stop(&mut self) {
        self.background.stop();
        self.voice.stop();
    }

    /// Processes one host block: `input` [left, right] -> `out` [main L, main R, aux L, aux R],
    /// all of one length (any, from 0 up). A change of mix, gain or reduction ramps over `dry_wet::RAMP_MS`.
    pub fn process(
        &mut self,
        input: [&[f32]; 2],
        mut out: [&mut [f32]; OUT_CHANNELS],
        c: &Controls,
    ) {
        let n = input[0].len();
        debug_assert!(input[1].len() == n && out.iter().all(|o| o.len() == n));
        self.request.mode.store(c.mode as u8, Relaxed);
        let frames_max = self.in_fifo.capacity();
        self.dry_wet.set_targets(c);
        let mut pos = 0;
        while pos < n {
            let need = self.down.frames_needed();
            let take = (need - self.in_fifo.len()).min(n - pos);
            let mut bad = 0;
            for (ch, src) in input.iter().enumerate() {
                let dst = &mut self.clean[ch * frames_max..ch * frames_max + take];
                for (d, x) in dst.iter_mut().zip(&src[pos..pos + take]) {
                    *d = if x.is_finite() {
                        *x
                    } else {
                        bad += 1;
                        0.0
                    };
                }
            }
            if bad > 0 {
                self.telemetry.bad_input.fetch_add(bad, Relaxed);
            }
            let clean = &self.clean;
            self.in_fifo
                .push(take, |ch| &clean[ch * frames_max..(ch + 1) * frames_max]);
            self.dry
                .push(take, |ch| &clean[ch * frames_max..(ch + 1) * frames_max]);
            if self.in_fifo.len() == need {
                self.step(c.boost);
            }
            let have = self.out_fifo.len().min(take);
            for (ch, o) in out.iter_mut().enumerate() {
                let dst = &mut o[pos..pos + take];
                self.out_fifo.peek(ch, &mut dst[..have]);
                dst[have..].fill(0.0);
            }
            self.out_fifo.consume(have);
            for ch in 0..2 {
                self.dry.peek(
                    ch,
                    &mut self.dry_buf[ch * frames_max..ch * frames_max + take],
                );
            }
            self.dry.consume(take);
            let buses = c.mode.sources();
            for i in 0..take {
                let open = self.gate.next(self.clean[i], self.clean[frames_max + i]);
                let mut f = self.dry_wet.next();
                f.mix *= open;
                for ch in 0..2 {
                    let dry = self.dry_buf[ch * frames_max + i];
                    let wet = [ch, ch + 2].map(|k| out[k][pos + i]);
                    let [main, aux] = DryWet::frame(c.bypass, f, dry, wet, buses);
                    out[ch][pos + i] = main;
                    out[ch + 2][pos + i] = aux;
                }
            }
            pos += take;
        }
    }

    /// One 128-sample chunk: resample down, run the model, resample up into the output FIFO.
    fn step(&mut self, boost: bool) {
        let need = self.down.frames_needed();
        for ch in 0..2 {
            self.in_fifo
                .peek(ch, &mut self.down_in[ch * need..(ch + 1) * need]);
        }
        self.in_fifo.consume(need);
        self.down
            .process(&self.down_in[..2 * need], &mut self.chunk);
        self.run_model(boost);
        let produced = self
            .up
            .process(&self.out16, &mut self.up_out, self.up_stride);
        let stride = self.up_stride;
        let up_out = &self.up_out;
        self.out_fifo
            .push(produced, |ch| &up_out[ch * stride..(ch + 1) * stride]);
    }

    fn run_model(&mut self, boost: bool) {
        let mut swapped = self.link.swap_slot(&mut self.slot);
        // An offline render waits for a requested mode's model, so the switch
        // lands on the same chunk every time the render runs.
        let wanted = self.request.mode.load(Relaxed);
        let started = Instant::now();
        while self.wait && self.slot.mode != wanted && started.elapsed() < OFFLINE_HINT_TIMEOUT {
            std::thread::sleep(std::time::Duration::from_micros(50));
            swapped |= self.link.swap_slot(&mut self.slot);
        }
        if swapped {
            self.slot_start = self.index;
            self.last_hint = self.index;
        }
        // A new voice for the running pair conditions it in place: no swap, no restart.
        if let Some(voice) = self.link.take_voice(&self.slot) {
            if let Some(engine) = self.slot.small.as_mut() {
                if engine.set_speaker(&voice).is_ok() {
                    let t = &self.telemetry;
                    t.voice_updates.fetch_add(1, Relaxed);
                    t.voice_update_chunk.store(self.index, Relaxed);
                }
            }
        }
        let tag = Tag {
            gen: self.slot.gen,
            stream: self.stream,
        };
        // A single model takes no hints: it runs as a pair with boost off.
        let delay = self.slot.delay.map(|c| self.link_delay.unwrap_or(c));
        match self.slot.small.as_mut() {
            Some(engine) => {
                let t = &*self.telemetry;
                self.link
                    .send_chunk(tag, self.index, &self.chunk, self.wait, t);
                let hint = if let (true, Some(delay)) = (boost, delay) {
                    hint_source(self.index, self.slot_start, delay)
                } else {
                    self.link.drain_hints();
                    None
                };
                let hint = if let Some(source) = hint {
                    let h = self.link.hint_for(tag, source, self.wait);
                    if h.is_some() {
                        t.hints_used.fetch_add(1, Relaxed);
                        self.last_hint = source;
                    } else {
                        t.hints_missed.fetch_add(1, Relaxed);
                    }
                    h
                } else {
                    None
                };
                let age = (self.index - self.last_hint) as f64 * CHUNK_BUDGET_US;
                t.hint_age_us.store(age as u32, Relaxed);
                let s = engine.config().sources;
                let t0 = Instant::now();
                let out = &mut self.out16[..s * 2 * CHUNK];
                let ok = engine.process(&self.chunk, hint, out).is_ok();
                t.record_small(t0.elapsed().as_nanos().min(u128::from(u32::MAX)) as u32);
                if !ok || !out.iter().all(|v| v.is_finite()) {
                    // A state driven out of range (extreme input) starts afresh.
                    out.fill(0.0);
                    engine.reset();
                    t.engine_resets.fetch_add(1, Relaxed);
                }
                self.out16[s * 2 * CHUNK..].fill(0.0);
            }
            None => {
                // The background thread passes the input on to the voice thread ("Learn voice").
                self.link
                    .send_chunk(tag, self.index, &self.chunk, self.wait, &self.telemetry);
                self.pass.process(&self.chunk, &mut self.out16[..2 * CHUNK]);
                self.out16[2 * CHUNK..].fill(0.0);
            }
        }
        self.index += 1;
    }
}
