//! What the shipped plugin links: the real-time engine and the weight-file
//! format, not candle, its trainer or the reference importer.

use std::process::Command;

use kb_e2e::workspace_root;

/// The crate names in `cargo tree` of the plugin's normal (shipped) dependencies.
fn plugin_dependencies() -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(workspace_root())
        .args([
            "tree",
            "-p",
            knowledge_boost::BUNDLE_NAME,
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

#[test]
fn the_plugin_links_the_engine_but_not_candle() {
    let deps = plugin_dependencies();
    println!("{} dependency lines", deps.len());
    assert!(
        deps.iter().any(|d| d == "kb-models"),
        "the engine is missing: {deps:?}"
    );
    assert!(
        deps.iter().any(|d| d == "nice-plug"),
        "nice-plug is missing: {deps:?}"
    );
    let candle: Vec<&String> = deps.iter().filter(|d| d.starts_with("candle")).collect();
    assert!(candle.is_empty(), "the plugin links {candle:?}");
}
