//! `cargo xtask serve`: the hint server. Loads a pair's large model and serves
//! its hints to any number of plugin instances over QUIC; prints the address,
//! the certificate fingerprint and the token clients need, then the load.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::atomic::Ordering::Relaxed,
    time::{Duration, Instant},
};

use kb_link::{HintServer, ServerIdentity, ServerSettings};
use kb_models::weight_file::WeightFile;

/// File in the server's folder that keeps its client token.
pub const TOKEN_FILE: &str = "hint-server-token";

/// Arguments of `cargo xtask serve`.
#[derive(clap::Args)]
pub struct Args {
    /// The pair whose large model serves hints (the plugin must run the same file).
    #[arg(long, default_value = "assets/separate.safetensors")]
    pub weights: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0:4433")]
    pub bind: SocketAddr,
    /// Folder for the certificate, its key and the token (made on first start).
    #[arg(long, default_value = "target/hint-server")]
    pub dir: PathBuf,
    /// Client token (default: the one in the folder, made on first start).
    #[arg(long)]
    pub token: Option<String>,
    /// Most streams served at once.
    #[arg(long, default_value_t = 32)]
    pub max_streams: usize,
    /// Seconds between status lines.
    #[arg(long, default_value_t = 5.0)]
    pub every: f64,
    /// Stop after this many seconds (default: run until killed).
    #[arg(long)]
    pub seconds: Option<f64>,
}

/// The token kept in `dir`, made (16 random bytes, hex) on first use.
pub fn token_in(dir: &Path) -> Result<String, String> {
    let path = dir.join(TOKEN_FILE);
    if let Ok(t) = std::fs::read_to_string(&path) {
        return Ok(t.trim().to_owned());
    }
    let token = kb_link::identity::hex(&rand::random::<[u8; 16]>());
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    std::fs::write(&path, &token).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(token)
}

/// Runs the command.
pub fn run(args: &Args) -> Result<(), String> {
    let weights = WeightFile::load(&args.weights).map_err(|e| e.to_string())?;
    let identity = ServerIdentity::load_or_create(&args.dir)?;
    let token = match &args.token {
        Some(t) => t.clone(),
        None => token_in(&args.dir)?,
    };
    let model_name = args.weights.file_name().map_or_else(
        || args.weights.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let model = kb_link::identity::model_id(&weights);
    let server = HintServer::start(ServerSettings {
        weights,
        model_name: model_name.clone(),
        bind: args.bind,
        identity,
        token: token.clone(),
        max_streams: args.max_streams,
    })?;
    println!(
        "serving the hints of {model_name} (identity {model}) on {}",
        server.local_addr()
    );
    println!("certificate fingerprint: {}", server.fingerprint());
    println!("client token: {token}");
    let started = Instant::now();
    let every = Duration::from_secs_f64(args.every.max(0.1));
    loop {
        std::thread::sleep(every);
        let s = server.stats();
        let streams = s.streams.lock().clone();
        let per: Vec<String> = streams
            .iter()
            .map(|(id, f)| format!("#{id} RTF {:.2}", f.rtf()))
            .collect();
        let compute: f64 = streams.values().map(|f| f.compute_s).sum();
        let wall = started.elapsed().as_secs_f64();
        println!(
            "{:.0} s: {} streams open ({} served, {} refused), {} hints sent, {} chunks late, {} datagrams dropped, total RTF {:.2}{}{}",
            wall,
            s.open.load(Relaxed),
            s.served.load(Relaxed),
            s.refused.load(Relaxed),
            s.hints.load(Relaxed),
            s.late.load(Relaxed),
            s.dropped.load(Relaxed),
            compute / wall,
            if per.is_empty() { String::new() } else { format!("; {}", per.join(", ")) },
            match s.last_refusal.lock().as_str() {
                "" => String::new(),
                why => format!("; last refusal: {why}"),
            }
        );
        if args.seconds.is_some_and(|limit| wall >= limit) {
            return Ok(());
        }
    }
}
