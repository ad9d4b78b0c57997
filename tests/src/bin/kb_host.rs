//! Streams a synthetic mixture through a CLAP plugin: `kb_host PLUGIN RATE SECONDS`.
//! Exits non-zero when the plugin fails or its output is not finite.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: kb_host PLUGIN RATE SECONDS");
        std::process::exit(2);
    }
    let rate: f64 = args[2].parse().expect("RATE is a number");
    let seconds: f64 = args[3].parse().expect("SECONDS is a number");
    let input = kb_e2e::binaural_mixture(rate, seconds, 7);
    let run = kb_e2e::Run {
        plugin: args[1].clone().into(),
        rate,
        offline: false,
        params: Vec::new(),
        max_block: 8192,
        seed: 11,
    };
    match kb_e2e::process(&run, [&input[0], &input[1]]) {
        Ok(out) if out.channels.iter().flatten().all(|v| v.is_finite()) => {
            println!("latency {} samples, {} blocks", out.latency, out.blocks);
        }
        Ok(_) => {
            eprintln!("output is not finite");
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
