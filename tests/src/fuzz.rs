//! A hostile host: random block sizes, every parameter automated at random
//! offsets, mode switches, resets, reactivation at random rates, and bursts of
//! NaN, infinities, denormals and huge samples in the input. Offline render
//! mode, so the same seed gives the same events and must give the same output.

use std::path::Path;

use clack_host::{events::event_types::ParamValueEvent, prelude::*};
use rand::{rngs::StdRng, Rng, SeedableRng};

use crate::{binaural_mixture, instantiate, param_id, render_offline, AuxBus, Blocks};

/// Host rates the fuzzer reactivates at (the validators' odd rate among them).
const RATES: [f64; 5] = [22_050.0, 44_100.0, 48_000.0, 96_000.0, 12_345.678];
/// Largest block.
const MAX_BLOCK: usize = 8192;
/// The plugin's parameters (`#[id]`s).
const PARAMS: [&str; 5] = ["mode", "boost", "mix", "gain", "bypass"];
/// Samples a burst writes into the input.
const HOSTILE: [f32; 7] = [
    f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    1e-40,
    -1e-42,
    1e6,
    -1e6,
];

/// What a fuzz run saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// FNV-1a hash of every output sample's bits, in order.
    pub hash: u64,
    /// Output samples that were not finite.
    pub non_finite: usize,
    /// Frames processed, over all activations.
    pub frames: usize,
    /// Process calls.
    pub blocks: usize,
    /// Parameter events sent.
    pub events: usize,
    /// Resets.
    pub resets: usize,
}

/// Runs `activations` activations of `seconds` each through the plugin at `plugin`, all drawn from `seed`.
pub fn run(plugin: &Path, seed: u64, activations: usize, seconds: f64) -> Result<Report, String> {
    let mut instance = instantiate(plugin)?;
    render_offline(&mut instance)?;
    let ids = PARAMS.map(|p| ClapId::new(param_id(p)));
    let mut rng = StdRng::seed_from_u64(seed);
    let mut report = Report {
        hash: 0xcbf2_9ce4_8422_2325,
        non_finite: 0,
        frames: 0,
        blocks: 0,
        events: 0,
        resets: 0,
    };
    let mut io = Blocks::new(MAX_BLOCK);
    for activation in 0..activations {
        let rate = RATES[rng.random_range(0..RATES.len())];
        let config = PluginAudioConfiguration {
            sample_rate: rate,
            min_frames_count: 1,
            max_frames_count: MAX_BLOCK as u32,
        };
        let stopped = instance
            .activate(|_, _| (), config)
            .map_err(|x| format!("activate at {rate} Hz: {x:?}"))?;
        let mut proc = stopped
            .start_processing()
            .map_err(|x| format!("start processing: {x:?}"))?;
        let input = binaural_mixture(rate, seconds, seed ^ activation as u64);
        let total = input[0].len();
        let mut pos = 0;
        while pos < total {
            let n = ((MAX_BLOCK as f64).powf(rng.random::<f64>()) as usize)
                .clamp(1, MAX_BLOCK)
                .min(total - pos);
            for (b, x) in io.inbuf.iter_mut().zip(&input) {
                b[..n].copy_from_slice(&x[pos..pos + n]);
            }
            if rng.random_bool(0.05) {
                let start = rng.random_range(0..n);
                let len = rng.random_range(1..=64).min(n - start);
                let value = HOSTILE[rng.random_range(0..HOSTILE.len())];
                let ch = rng.random_range(0..2);
                io.inbuf[ch][start..start + len].fill(value);
            }
            let mut events: Vec<ParamValueEvent> = Vec::new();
            for (k, id) in ids.iter().enumerate() {
                // Mode switches load models: rarer than the other automation.
                let p = if PARAMS[k] == "mode" { 0.01 } else { 0.3 };
                if rng.random_bool(p) {
                    let at = rng.random_range(0..n) as u32;
                    let value = rng.random::<f64>();
                    events.push(ParamValueEvent::new(at, *id, Pckn::match_all(), value));
                }
            }
            events.sort_by_key(|e| e.header().time());
            report.events += events.len();
            if rng.random_bool(0.01) {
                proc.reset();
                report.resets += 1;
            }
            io.process(
                &mut proc,
                (n, AuxBus::Connected, false),
                &InputEvents::from_buffer(&events),
            )?;
            for ch in &io.outbuf {
                for v in &ch[..n] {
                    report.non_finite += usize::from(!v.is_finite());
                    for byte in v.to_bits().to_le_bytes() {
                        report.hash = (report.hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3);
                    }
                }
            }
            pos += n;
            report.blocks += 1;
            report.frames += n;
        }
        let stopped = proc.stop_processing();
        instance.deactivate(stopped);
    }
    Ok(report)
}
