//! Streams audio through a CLAP plugin in a child process (so that an
//! allocation caught by `assert_process_allocs` aborts only the child):
//!
//! - `kb_host PLUGIN RATE SECONDS`: a synthetic mixture; exits non-zero when
//!   the plugin fails or its output is not finite.
//! - `kb_host fuzz PLUGIN SEED ACTIVATIONS SECONDS`: the hostile host of
//!   `kb_e2e::fuzz`; prints its report and exits non-zero on any non-finite output.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let code = match args.get(1).map(String::as_str) {
        Some("fuzz") if args.len() == 6 => fuzz(&args[2..]),
        Some(_) if args.len() == 4 => stream(&args[1..]),
        _ => {
            eprintln!(
                "usage: kb_host PLUGIN RATE SECONDS | kb_host fuzz PLUGIN SEED ACTIVATIONS SECONDS"
            );
            2
        }
    };
    std::process::exit(code);
}

fn stream(args: &[String]) -> i32 {
    let rate: f64 = args[1].parse().expect("RATE is a number");
    let seconds: f64 = args[2].parse().expect("SECONDS is a number");
    let input = kb_e2e::binaural_mixture(rate, seconds, 7);
    let run = kb_e2e::Run {
        plugin: args[0].clone().into(),
        rate,
        offline: false,
        params: Vec::new(),
        max_block: 8192,
        seed: 11,
        aux: Default::default(),
        mono: false,
        state: None,
    };
    match kb_e2e::process(&run, [&input[0], &input[1]]) {
        Ok(out) if out.channels.iter().flatten().all(|v| v.is_finite()) => {
            println!("latency {} samples, {} blocks", out.latency, out.blocks);
            0
        }
        Ok(_) => {
            eprintln!("output is not finite");
            1
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

fn fuzz(args: &[String]) -> i32 {
    let seed: u64 = args[1].parse().expect("SEED is a number");
    let activations: usize = args[2].parse().expect("ACTIVATIONS is a number");
    let seconds: f64 = args[3].parse().expect("SECONDS is a number");
    match kb_e2e::fuzz::run(args[0].as_ref(), seed, activations, seconds) {
        Ok(r) => {
            println!(
                "hash {:016x}, {} frames, {} blocks, {} events, {} resets, {} non-finite",
                r.hash, r.frames, r.blocks, r.events, r.resets, r.non_finite
            );
            i32::from(r.non_finite > 0)
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}
