//! The hostile host (`kb_e2e::fuzz`) drives the debug bundle built with
//! nice-plug's `assert_process_allocs` in child processes: no panic, no
//! allocation on the audio thread, finite output always, and the same output
//! bits for the same seed (offline render mode).

use std::process::Command;

use kb_e2e::{alloc_checked_library, weight_file};
use kb_models::JointConfig;

/// The child's report line for `seed`.
fn fuzz(library: &std::path::Path, weights: &std::path::Path, seed: u64) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_kb_host"))
        .arg("fuzz")
        .arg(library)
        .args([seed.to_string(), "4".into(), "2.5".into()])
        .env("KNOWLEDGE_BOOST_WEIGHTS_SEPARATE", weights)
        .output()
        .expect("child runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let text = stdout.clone() + &String::from_utf8_lossy(&out.stderr);
    println!("seed {seed}: {text}");
    assert!(
        out.status.success(),
        "seed {seed}: {:?}\n{text}",
        out.status
    );
    stdout.trim().to_owned()
}

#[test]
fn a_hostile_host_gets_finite_repeatable_output_without_allocation() {
    let library = alloc_checked_library();
    let weights = weight_file("fuzz", JointConfig::tiny(2, 1, 2), 9);
    let first = fuzz(&library, &weights, 1);
    let again = fuzz(&library, &weights, 1);
    assert_eq!(
        first, again,
        "the same events and input gave different output"
    );
    let other = fuzz(&library, &weights, 2);
    assert_ne!(
        first, other,
        "another seed gave the same output: the hash sees nothing"
    );
    assert!(first.contains(" 0 non-finite"), "{first}");
}
