//! knowledge-boost audio plugin (CLAP and VST3). The nice-plug plugin, its
//! threads and editor are built on the model crate's streaming engines.

/// The bundle name the plugin is built and installed under.
pub const BUNDLE_NAME: &str = "knowledge_boost";

/// Latency of the models in 16 kHz samples, before resampling.
pub fn model_latency_samples() -> usize {
    kb_models::ModelConfig::small(2).latency_samples()
}
