//! End-to-end harness: a minimal CLAP host on clack-host that loads the bundled
//! plugin, sets parameters, and streams audio through it in random block sizes.

use std::{
    ffi::CString,
    path::{Path, PathBuf},
    process::Command,
    sync::{Arc, OnceLock},
};

use clack_extensions::{
    audio_ports_config::{AudioPortsConfigBuffer, PluginAudioPortsConfig},
    latency::PluginLatency,
    params::PluginParams,
    render::{PluginRender, RenderMode},
};
use clack_host::{events::event_types::ParamValueEvent, prelude::*};
use knowledge_boost::{
    models::{Mode, ModelRequest, OverridePaths},
    path::PathConfig,
    BUNDLE_NAME,
};
use parking_lot::RwLock;
use rand::{rngs::StdRng, Rng, SeedableRng};

pub mod fuzz;

/// The plugin's CLAP id.
pub const CLAP_ID: &str = "org.knowledge-boost.knowledge-boost";

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(workspace_root());
    c
}

/// Builds the plugin's debug shared library with `features` and copies it to
/// `target/kb-e2e/NAME`, where later builds cannot overwrite it: the copy is
/// written under a per-process name and renamed into place, so another test
/// process never sees a half-written or changed file.
fn build_library_copy(features: &[&str], name: &str) -> PathBuf {
    let mut build = cargo();
    build.args(["build", "-p", BUNDLE_NAME]);
    if !features.is_empty() {
        build.args(["--features", &features.join(",")]);
    }
    let status = build.status().expect("cargo runs");
    assert!(status.success(), "plugin build failed ({features:?})");
    let built = workspace_root()
        .join("target/debug")
        .join(format!("lib{BUNDLE_NAME}.so"));
    let dir = workspace_root().join("target/kb-e2e");
    std::fs::create_dir_all(&dir).expect("target/kb-e2e");
    let path = dir.join(name);
    let partial = dir.join(format!("{name}.{}", std::process::id()));
    std::fs::copy(&built, &partial).expect("copy the library");
    std::fs::rename(&partial, &path).expect("rename the copy into place");
    path
}

/// Builds the plugin once per process and returns it as a CLAP bundle. On
/// Linux a `.clap` bundle is the plugin's shared library under that name
/// (what `cargo xtask bundle` writes), so the harness builds the library with
/// cargo itself (the workspace's optimised dev profile, which reuses the test
/// build's compiled dependencies) and needs no xtask.
pub fn bundle() -> PathBuf {
    static BUNDLE: OnceLock<PathBuf> = OnceLock::new();
    BUNDLE
        .get_or_init(|| build_library_copy(&[], &format!("{BUNDLE_NAME}.clap")))
        .clone()
}

/// Builds the debug plugin with nice-plug's `assert_process_allocs` and the
/// plugin's `test_hooks` (its own feature set, so the other debug artifacts
/// stay) and returns a copy of the shared library, one per test process.
pub fn alloc_checked_library() -> PathBuf {
    build_library_copy(
        &["assert_process_allocs", "test_hooks"],
        &format!("alloc-checked-{}.so", std::process::id()),
    )
}

/// nice-plug's CLAP id of a parameter: a 31-multiplier hash of its `#[id]`, top bit cleared.
pub fn param_id(id: &str) -> u32 {
    let mut hash: u32 = 0;
    for b in id.bytes() {
        hash = hash.wrapping_mul(31).wrapping_add(u32::from(b));
    }
    hash & !(1 << 31)
}

/// One run of the plugin over a stereo input.
#[derive(Debug, Clone)]
pub struct Run {
    /// The `.clap` (or raw `.so`) to load.
    pub plugin: PathBuf,
    /// Host sample rate.
    pub rate: f64,
    /// CLAP render mode offline (the plugin waits for every hint).
    pub offline: bool,
    /// (parameter `#[id]`, normalised value) set before activation.
    pub params: Vec<(&'static str, f64)>,
    /// Largest block; block sizes are drawn log-uniformly from 1 to this.
    pub max_block: u32,
    /// Seed of the block sizes.
    pub seed: u64,
    /// How the host offers the auxiliary output (talker 2).
    pub aux: AuxBus,
    /// Select the plugin's mono port configuration (one channel in, one per bus)
    /// and play `input[0]` alone; `Output` then holds each bus's channel twice.
    pub mono: bool,
    /// A saved state the host loads before setting `params` (a session reopened).
    pub state: Option<Vec<u8>>,
}

/// How a host offers the plugin's auxiliary output port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuxBus {
    /// Two channels, as the plugin declares.
    #[default]
    Connected,
    /// The port is there with no channels (a disabled bus).
    NoChannels,
    /// Only the main output port is passed.
    Absent,
}

/// What came out.
#[derive(Debug, Clone)]
pub struct Output {
    /// Latency the plugin reported after activation, in host samples.
    pub latency: u32,
    /// [main L, main R, aux L, aux R], as long as the input (aux zeros
    /// when the host gave the port no channels).
    pub channels: [Vec<f32>; 4],
    /// Block sizes used.
    pub blocks: usize,
}

struct Shared;

impl SharedHandler<'_> for Shared {
    fn request_restart(&self) {}
    fn request_process(&self) {}
    fn request_callback(&self) {}
}

struct TestHost;

impl HostHandlers for TestHost {
    type Shared<'a> = Shared;
    type MainThread<'a> = ();
    type AudioProcessor<'a> = ();
}

/// A host's block buffers and port lists, allocated once.
struct Blocks {
    input_ports: AudioPorts,
    output_ports: AudioPorts,
    /// Input block [left, right].
    inbuf: [Vec<f32>; 2],
    /// Output block [main L, main R, aux L, aux R].
    outbuf: [Vec<f32>; 4],
}

impl Blocks {
    fn new(max: usize) -> Self {
        Self {
            input_ports: AudioPorts::with_capacity(2, 1),
            output_ports: AudioPorts::with_capacity(4, 2),
            inbuf: std::array::from_fn(|_| vec![0.0; max]),
            outbuf: std::array::from_fn(|_| vec![0.0; max]),
        }
    }

    /// One process call on the first `n` frames of `inbuf` into `outbuf`,
    /// the auxiliary output offered as `aux` says.
    fn process(
        &mut self,
        proc: &mut StartedPluginAudioProcessor<TestHost>,
        (n, aux, mono): (usize, AuxBus, bool),
        events: &InputEvents,
    ) -> Result<(), String> {
        let width = if mono { 1 } else { 2 };
        let input_audio = self.input_ports.with_input_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_input_only(
                self.inbuf[..width]
                    .iter_mut()
                    .map(|b| InputChannel::variable(&mut b[..n])),
            ),
        }]);
        let (main, rest) = self.outbuf.split_at_mut(2);
        let aux_channels = if aux == AuxBus::Connected { width } else { 0 };
        let ports = if aux == AuxBus::Absent { 1 } else { 2 };
        let mut output_audio = self.output_ports.with_output_buffers(
            [&mut main[..width], &mut rest[..aux_channels]]
                .map(|bus| AudioPortBuffer {
                    latency: 0,
                    channels: AudioPortBufferType::f32_output_only(
                        bus.iter_mut().map(|b| &mut b[..n]),
                    ),
                })
                .into_iter()
                .take(ports),
        );
        proc.process(
            &input_audio,
            &mut output_audio,
            events,
            &mut OutputEvents::void(),
            None,
            None,
        )
        .map_err(|x| format!("process: {x:?}"))?;
        if mono {
            let [l, r, al, ar] = &mut self.outbuf;
            r[..n].copy_from_slice(&l[..n]);
            ar[..n].copy_from_slice(&al[..n]);
        }
        Ok(())
    }
}

/// Selects the plugin's mono port configuration (the second it declares).
fn select_mono(instance: &mut PluginInstance<TestHost>) -> Result<(), String> {
    let configs: PluginAudioPortsConfig = instance
        .plugin_shared_handle()
        .get_extension()
        .ok_or("no audio-ports-config extension")?;
    let handle = instance.plugin_handle();
    let mut buffer = AudioPortsConfigBuffer::new();
    let count = configs.count(&handle);
    let mono = (0..count)
        .filter_map(|i| {
            configs
                .get(&handle, i, &mut buffer)
                .map(|c| (c.id, c.name.to_vec()))
        })
        .find(|(_, name)| name == b"Mono")
        .map(|(id, _)| id)
        .ok_or("the plugin declares no port configuration named Mono")?;
    configs
        .select(&handle, mono)
        .map_err(|x| format!("select the mono configuration: {x:?}"))
}

/// Puts the plugin into CLAP's offline render mode (it waits for every hint).
fn render_offline(instance: &mut PluginInstance<TestHost>) -> Result<(), String> {
    let render: PluginRender = instance
        .plugin_shared_handle()
        .get_extension()
        .ok_or("no render extension")?;
    render
        .set(&instance.plugin_handle(), RenderMode::Offline)
        .map_err(|x| format!("render mode: {x:?}"))
}

/// Loads the plugin library and creates one instance of the plugin.
fn instantiate(plugin: &Path) -> Result<PluginInstance<TestHost>, String> {
    let host_info = HostInfo::new("kb-e2e", "knowledge-boost", "https://example.org", "0.1")
        .map_err(|x| format!("host info: {x:?}"))?;
    // SAFETY: the library is our own plugin, built by this workspace.
    let entry = unsafe { PluginEntry::load(plugin) }.map_err(|x| format!("load: {x:?}"))?;
    let id = CString::new(CLAP_ID).expect("no NUL");
    PluginInstance::<TestHost>::new(|_| Shared, |_| (), &entry, &id, &host_info)
        .map_err(|x| format!("instantiate: {x:?}"))
}

/// Loads the plugin, sets the parameters, activates it at `run.rate` and streams `input` through it.
pub fn process(run: &Run, input: [&[f32]; 2]) -> Result<Output, String> {
    let mut instance = instantiate(&run.plugin)?;
    if let Some(saved) = &run.state {
        use clack_extensions::state::PluginState;
        let state: PluginState = instance
            .plugin_shared_handle()
            .get_extension()
            .ok_or("no state extension")?;
        state
            .load(&instance.plugin_handle(), &mut saved.as_slice())
            .map_err(|x| format!("load state: {x:?}"))?;
    }

    let params: PluginParams = instance
        .plugin_shared_handle()
        .get_extension()
        .ok_or("no params extension")?;
    let events: Vec<ParamValueEvent> = run
        .params
        .iter()
        .map(|(pid, v)| ParamValueEvent::new(0, ClapId::new(param_id(pid)), Pckn::match_all(), *v))
        .collect();
    let mut handle = instance
        .inactive_plugin_handle()
        .ok_or("plugin already active")?;
    params.flush(
        &mut handle,
        &InputEvents::from_buffer(&events),
        &mut OutputEvents::void(),
    );
    if run.offline {
        render_offline(&mut instance)?;
    }
    if run.mono {
        select_mono(&mut instance)?;
    }

    let config = PluginAudioConfiguration {
        sample_rate: run.rate,
        min_frames_count: 1,
        max_frames_count: run.max_block,
    };
    let stopped = instance
        .activate(|_, _| (), config)
        .map_err(|x| format!("activate: {x:?}"))?;
    let latency_ext: PluginLatency = instance
        .plugin_shared_handle()
        .get_extension()
        .ok_or("no latency extension")?;
    let latency = latency_ext.get(&instance.plugin_handle());
    let mut proc = stopped
        .start_processing()
        .map_err(|x| format!("start processing: {x:?}"))?;

    let total = input[0].len();
    let max = run.max_block as usize;
    let mut blocks_io = Blocks::new(max);
    let mut channels: [Vec<f32>; 4] = Default::default();
    let mut rng = StdRng::seed_from_u64(run.seed);
    let (mut pos, mut blocks) = (0, 0);
    while pos < total {
        let n = ((max as f64).powf(rng.random::<f64>()) as usize).clamp(1, max);
        let n = n.min(total - pos);
        for (b, x) in blocks_io.inbuf.iter_mut().zip(input) {
            b[..n].copy_from_slice(&x[pos..pos + n]);
        }
        blocks_io.process(&mut proc, (n, run.aux, run.mono), &InputEvents::empty())?;
        for (c, b) in channels.iter_mut().zip(&blocks_io.outbuf) {
            c.extend_from_slice(&b[..n]);
        }
        pos += n;
        blocks += 1;
    }
    let stopped = proc.stop_processing();
    instance.deactivate(stopped);
    Ok(Output {
        latency,
        channels,
        blocks,
    })
}

/// A synthetic binaural two-talker mixture: two voiced, syllable-modulated
/// harmonic sources with different pitches, interaural delays and gains.
pub fn binaural_mixture(rate: f64, seconds: f64, seed: u64) -> [Vec<f32>; 2] {
    let [a, b] = binaural_sources(rate, seconds, seed);
    [0, 1].map(|ear| a[ear].iter().zip(&b[ear]).map(|(x, y)| x + y).collect())
}

/// The two talkers of [`binaural_mixture`], each as [left, right].
pub fn binaural_sources(rate: f64, seconds: f64, seed: u64) -> [[Vec<f32>; 2]; 2] {
    let n = (rate * seconds) as usize;
    let mut rng = StdRng::seed_from_u64(seed);
    let talkers = [(120.0, 0.3, [1.0, 0.6]), (210.0, -0.4, [0.5, 0.9])];
    talkers.map(|(f0, itd_ms, gains): (f64, f64, [f64; 2])| {
        let syll: f64 = rng.random_range(3.0..5.0);
        let phase: f64 = rng.random_range(0.0..std::f64::consts::TAU);
        let shift = (itd_ms * 1e-3 * rate) as isize;
        let src: Vec<f64> = (0..n)
            .map(|i| {
                let t = i as f64 / rate;
                let pitch = f0 * (1.0 + 0.05 * (std::f64::consts::TAU * 0.7 * t).sin());
                let env = (0.5 + 0.5 * (std::f64::consts::TAU * syll * t + phase).sin()).powi(2);
                let v: f64 = (1..12)
                    .map(|h| (std::f64::consts::TAU * pitch * h as f64 * t).sin() / h as f64)
                    .sum();
                0.2 * env * v + 0.01 * rng.random_range(-1.0..1.0)
            })
            .collect();
        [0, 1].map(|ear| {
            let s = if ear == 0 { 0 } else { shift };
            (0..n)
                .map(|i| {
                    let j = i as isize - s;
                    if (0..n as isize).contains(&j) {
                        (gains[ear] * src[j as usize]) as f32
                    } else {
                        0.0
                    }
                })
                .collect()
        })
    })
}

pub use kb_models::metrics::si_sdr_db as si_sdr;

/// The offline streaming engines on `input`: resampled to 16 kHz by the plugin's
/// resamplers, one chunk at a time through the large and small engines (every
/// hint used when `boost`, none otherwise) or a single model's, resampled back. Output sample n is
/// the plugin's sample n + (latency - signal delay), with no buffering delay.
pub fn reference(
    weights: &kb_models::weight_file::WeightFile,
    rate: f64,
    input: [&[f32]; 2],
    boost: bool,
) -> [Vec<f32>; 4] {
    reference_conditioned(weights, rate, input, boost, &[])
}

/// [`reference`] for a target-extraction model conditioned on each
/// `(chunk, embedding)` of `speakers` from that 16 kHz chunk on.
pub fn reference_conditioned(
    weights: &kb_models::weight_file::WeightFile,
    rate: f64,
    input: [&[f32]; 2],
    boost: bool,
    speakers: &[(usize, &[f32])],
) -> [Vec<f32>; 4] {
    use kb_models::engine::{Engines, Kernels};
    use knowledge_boost::rate::{Downsampler, Upsampler};
    let mut pair = Engines::from_weights(weights, Kernels::best()).expect("engines");
    let mut index = 0;
    let s = pair.config().sources;
    let mut down = Downsampler::new(rate, 2, 128).expect("down");
    let mut up = Upsampler::new(rate, 4, 128).expect("up");
    let stride = up.frames_max();
    let mut up_out = vec![0.0; 4 * stride];
    let mut chunk = vec![0.0; 256];
    let mut out16 = vec![0.0; 4 * 128];
    let mut out: [Vec<f32>; 4] = Default::default();
    let mut packed = Vec::new();
    let mut pos = 0;
    loop {
        let need = down.frames_needed();
        if pos + need > input[0].len() {
            break;
        }
        packed.clear();
        packed.extend_from_slice(&input[0][pos..pos + need]);
        packed.extend_from_slice(&input[1][pos..pos + need]);
        down.process(&packed, &mut chunk);
        for (_, e) in speakers.iter().filter(|(from, _)| *from == index) {
            pair.set_speaker(e).expect("speaker");
        }
        index += 1;
        pair.process(&chunk, boost, &mut out16[..s * 256])
            .expect("engines");
        out16[s * 256..].fill(0.0);
        let produced = up.process(&out16, &mut up_out, stride);
        for (ch, o) in out.iter_mut().enumerate() {
            o.extend_from_slice(&up_out[ch * stride..ch * stride + produced]);
        }
        pos += need;
    }
    out
}

/// Delay in host samples of the resamplers and the model's lookahead (no buffering), rounded.
pub fn signal_delay(rate: f64) -> usize {
    knowledge_boost::latency::signal_delay(rate)
        .expect("measurable")
        .round() as usize
}

/// Largest absolute difference between `a[i + shift]` and `b[i]` over `b`'s overlap.
pub fn max_diff_shifted(a: &[f32], b: &[f32], shift: usize) -> f32 {
    a.iter()
        .skip(shift)
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// A random joint weight file (`paper` sizes or `tiny`) for `sources` sources, written under target/.
pub fn weight_file(name: &str, cfg: kb_models::JointConfig, seed: u64) -> PathBuf {
    write_random_weights(name, kb_models::WeightsConfig::Joint(cfg), seed)
}

/// A random single model `cfg` (no pair, no hints), written under target/.
pub fn single_weight_file(name: &str, cfg: kb_models::ModelConfig, seed: u64) -> PathBuf {
    write_random_weights(name, kb_models::WeightsConfig::Single(cfg), seed)
}

/// Random weights of `wc` from `seed`, written to target/kb-e2e/`name`-<pid>.safetensors.
fn write_random_weights(name: &str, wc: kb_models::WeightsConfig, seed: u64) -> PathBuf {
    let dir = workspace_root().join("target/kb-e2e");
    std::fs::create_dir_all(&dir).expect("target/kb-e2e");
    let path = dir.join(format!("{name}-{}.safetensors", std::process::id()));
    let w = kb_models::weights::Weights::random(wc.clone(), seed).expect("random weights");
    kb_models::weights::save(&path, &wc, &w.tensors).expect("save weights");
    path
}

/// A random target-extraction pair (tiny sizes, one output, a speaker FiLM), written under target/.
pub fn extract_weight_file(name: &str, seed: u64) -> PathBuf {
    let mut cfg = kb_models::JointConfig::tiny(1, 1, 2);
    cfg.small = cfg.small.with_speaker(Some(kb_models::SPEAKER_DIM));
    cfg.large = cfg.large.with_speaker(Some(kb_models::SPEAKER_DIM));
    weight_file(name, cfg, seed)
}

/// A request for `mode` with `weights` as its file and `voice` enrolled.
pub fn request(
    mode: Mode,
    weights: Option<&Path>,
    voice: knowledge_boost::voice::Enrollment,
) -> Arc<ModelRequest> {
    let mut paths = OverridePaths::default();
    paths.set(mode, weights.map(|p| p.display().to_string()));
    Arc::new(ModelRequest {
        mode: (mode as u8).into(),
        overrides: Arc::new(RwLock::new(paths)),
        enrollment: Arc::new(RwLock::new(voice)),
        desk: Default::default(),
        hint_server: Default::default(),
    })
}

/// A saved CLAP `state` (nice-plug's: a little-endian u64 length, then that
/// many bytes of JSON) with its persisted field `name` set to `value` (that field's JSON).
pub fn with_field(state: &[u8], name: &str, value: String) -> Result<Vec<u8>, String> {
    let (len, json) = state
        .split_first_chunk::<8>()
        .ok_or("the state is shorter than its length")?;
    if u64::from_le_bytes(*len) != json.len() as u64 {
        return Err("the state's length does not match its JSON".into());
    }
    let mut v: serde_json::Value =
        serde_json::from_slice(json).map_err(|e| format!("the state is not JSON: {e}"))?;
    let fields = v
        .get_mut("fields")
        .and_then(serde_json::Value::as_object_mut)
        .ok_or("the state has no persisted fields")?;
    fields.insert(name.into(), serde_json::Value::String(value));
    let json = serde_json::to_vec(&v).map_err(|e| e.to_string())?;
    let mut out = (json.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&json);
    Ok(out)
}

/// What a state round trip gave.
#[derive(Debug, Clone)]
pub struct RoundTrip {
    /// The first instance's saved state.
    pub saved: Vec<u8>,
    /// The fresh instance's values of the parameters after loading it.
    pub values: Vec<f64>,
    /// The fresh instance's own saved state.
    pub resaved: Vec<u8>,
}

/// Saves the state of an instance whose parameters were set to `params` and
/// loads it into a fresh instance.
pub fn state_roundtrip(plugin: &Path, params: &[(&'static str, f64)]) -> Result<RoundTrip, String> {
    use clack_extensions::state::PluginState;
    let host_info = HostInfo::new("kb-e2e", "knowledge-boost", "https://example.org", "0.1")
        .map_err(|x| format!("host info: {x:?}"))?;
    // SAFETY: the library is our own plugin, built by this workspace.
    let entry = unsafe { PluginEntry::load(plugin) }.map_err(|x| format!("load: {x:?}"))?;
    let id = CString::new(CLAP_ID).expect("no NUL");
    let new = || {
        PluginInstance::<TestHost>::new(|_| Shared, |_| (), &entry, &id, &host_info)
            .map_err(|x| format!("instantiate: {x:?}"))
    };
    let mut a = new()?;
    let p: PluginParams = a
        .plugin_shared_handle()
        .get_extension()
        .ok_or("no params extension")?;
    let state: PluginState = a
        .plugin_shared_handle()
        .get_extension()
        .ok_or("no state extension")?;
    let events: Vec<ParamValueEvent> = params
        .iter()
        .map(|(pid, v)| ParamValueEvent::new(0, ClapId::new(param_id(pid)), Pckn::match_all(), *v))
        .collect();
    let mut handle = a.inactive_plugin_handle().ok_or("plugin already active")?;
    p.flush(
        &mut handle,
        &InputEvents::from_buffer(&events),
        &mut OutputEvents::void(),
    );
    let mut saved = Vec::new();
    state
        .save(&a.plugin_handle(), &mut saved)
        .map_err(|x| format!("save: {x:?}"))?;
    let mut b = new()?;
    let p: PluginParams = b
        .plugin_shared_handle()
        .get_extension()
        .ok_or("no params extension")?;
    let state: PluginState = b
        .plugin_shared_handle()
        .get_extension()
        .ok_or("no state extension")?;
    state
        .load(&b.plugin_handle(), &mut saved.as_slice())
        .map_err(|x| format!("load state: {x:?}"))?;
    let values = params
        .iter()
        .map(|(pid, _)| {
            p.get_value(&b.plugin_handle(), ClapId::new(param_id(pid)))
                .ok_or_else(|| format!("no value for {pid}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut again = Vec::new();
    state
        .save(&b.plugin_handle(), &mut again)
        .map_err(|x| format!("save again: {x:?}"))?;
    Ok(RoundTrip {
        saved,
        values,
        resaved: again,
    })
}

/// A request for Separate mode with `weights` as its file (None: no model, pass-through).
pub fn separate_request(weights: Option<&Path>) -> Arc<ModelRequest> {
    request(Mode::Separate, weights, Default::default())
}

/// The signal path's configuration at `rate`, waiting for every hint when `wait`.
pub fn path_config(rate: f64, wait: bool) -> PathConfig {
    PathConfig {
        host_rate: rate,
        wait_for_hints: wait,
        stall_background: false,
        link_delay: None,
    }
}
