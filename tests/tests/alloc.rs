//! A debug build with nice-plug's `assert_process_allocs` (any allocation in
//! `process` aborts) streams 10 s through the host in a child process.

use std::process::Command;

use kb_e2e::{alloc_checked_library, weight_file};
use kb_models::JointConfig;

#[test]
fn process_never_allocates() {
    let library = alloc_checked_library();
    let weights = weight_file("alloc", JointConfig::tiny(2, 1, 2), 3);
    let out = Command::new(env!("CARGO_BIN_EXE_kb_host"))
        .arg(&library)
        .args(["48000", "10"])
        .env("KNOWLEDGE_BOOST_WEIGHTS_SEPARATE", &weights)
        .output()
        .expect("child runs");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    println!("{text}");
    assert!(
        out.status.success(),
        "child failed: {:?}\n{text}",
        out.status
    );
}
