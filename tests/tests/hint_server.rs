//! The hint server (`kb_link`) over loopback: its hints are the local large
//! engine's, refusals say why, the plugin's path through it renders exactly
//! what it renders in process, and without a server the path plays on.

use std::{
    sync::{atomic::Ordering::Relaxed, Arc},
    time::{Duration, Instant},
};

use kb_e2e::{binaural_mixture, path_config, separate_request, weight_file};
use kb_link::{
    ClientSettings, Encoding, HintClient, HintServer, ServerIdentity, ServerSettings, StreamTag,
};
use kb_models::{
    engine::{HintFrame, Kernels, LargeEngine},
    weight_file::WeightFile,
    JointConfig,
};
use knowledge_boost::{
    models::Mode,
    offline::{render, RenderSettings},
    path::{AudioPath, Controls},
    telemetry::Telemetry,
};

const TOKEN: &str = "loopback-token";

fn server(w: &WeightFile, max_streams: usize) -> HintServer {
    HintServer::start(ServerSettings {
        weights: w.clone(),
        model_name: "test pair".into(),
        bind: "127.0.0.1:0".parse().expect("address"),
        identity: ServerIdentity::generate().expect("certificate"),
        token: TOKEN.into(),
        max_streams,
    })
    .expect("server starts")
}

fn settings(s: &HintServer, encoding: Encoding) -> ClientSettings {
    ClientSettings {
        server: s.local_addr().to_string(),
        fingerprint: s.fingerprint().to_owned(),
        token: TOKEN.into(),
        encoding,
    }
}

/// Waits up to 10 s for `done`.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn pair(name: &str, seed: u64) -> WeightFile {
    WeightFile::load(&weight_file(name, JointConfig::tiny(2, 2, 2), seed)).expect("weights")
}

/// Each chunk's hint, as the server sends it, is the local large engine's
/// hint of that chunk: exactly as f32, to half precision as f16.
#[test]
fn the_server_sends_each_chunk_s_hint_as_the_local_large_engine_makes_it() {
    let w = pair("served-hints", 3);
    let srv = server(&w, 4);
    let id = kb_link::identity::model_id(&w);
    let mut local = LargeEngine::from_weights(&w, Kernels::best()).expect("engine");
    let mut frame = HintFrame::new(local.config());
    let x = binaural_mixture(16_000.0, 0.2, 9);
    let chunks: Vec<Vec<f32>> = (0..x[0].len() / 128)
        .map(|k| {
            [&x[0], &x[1]]
                .iter()
                .flat_map(|ch| ch[k * 128..(k + 1) * 128].to_vec())
                .collect()
        })
        .collect();
    let want: Vec<Vec<f32>> = chunks
        .iter()
        .map(|c| {
            local.process(c, &mut frame).expect("local hint");
            frame.data.clone()
        })
        .collect();
    for encoding in [Encoding::F32, Encoding::F16] {
        let client = HintClient::start(&settings(&srv, encoding), id.clone(), frame.data.len())
            .expect("client");
        let status = client.status().clone();
        let tag = StreamTag {
            gen: 1,
            stream: encoding as u32,
        };
        // Sent before the connection is up: the chunks wait in the client's queue.
        for (k, c) in chunks.iter().enumerate() {
            assert!(client.send(tag, k as u64, c));
        }
        let mut got = vec![None; chunks.len()];
        wait_for("every hint", || {
            while let Some(h) = client.try_recv() {
                assert_eq!(h.tag, tag);
                got[h.index as usize] = Some(h.data);
            }
            got.iter().all(Option::is_some)
        });
        for (k, (g, w)) in got.iter().zip(&want).enumerate() {
            let g = g.as_ref().expect("hint");
            let worst = g
                .iter()
                .zip(w)
                .map(|(a, b)| (a - b).abs() / (b.abs() + 1e-3))
                .fold(0.0, f32::max);
            match encoding {
                Encoding::F32 => assert_eq!(g, w, "chunk {k}"),
                Encoding::F16 => assert!(worst < 2e-3, "chunk {k}: relative error {worst}"),
            }
        }
        assert!(status.connected.load(Relaxed));
        assert_eq!(
            status.delay.load(Relaxed),
            2,
            "the pair's C, from the welcome"
        );
    }
    assert_eq!(srv.stats().hints.load(Relaxed), 2 * chunks.len() as u64);
    assert_eq!(srv.stats().refused.load(Relaxed), 0);
}

/// A wrong token, another pair, a certificate that is not the pinned one and
/// a full server: each client is told why, the server counts the refusals,
/// and the stream already open keeps its hints.
#[test]
fn refusals_say_why_and_leave_other_streams_alone() {
    let w = pair("refusals", 4);
    let srv = server(&w, 1);
    let id = kb_link::identity::model_id(&w);
    let values = HintFrame::new(match &w.config {
        kb_models::WeightsConfig::Joint(c) => c,
        _ => unreachable!("a pair"),
    })
    .data
    .len();
    let good =
        HintClient::start(&settings(&srv, Encoding::F32), id.clone(), values).expect("client");
    wait_for("the first stream", || good.status().connected.load(Relaxed));
    let other = kb_link::identity::model_id(&pair("refusals-other", 5));
    let wrong_token = ClientSettings {
        token: "guess".into(),
        ..settings(&srv, Encoding::F32)
    };
    let mut wrong_fp = settings(&srv, Encoding::F32);
    wrong_fp.fingerprint = "ab".repeat(32);
    let cases = [
        (wrong_token, id.clone(), "wrong client token"),
        (settings(&srv, Encoding::F32), other, "another pair"),
        (wrong_fp, id.clone(), "not the pinned"),
        (settings(&srv, Encoding::F32), id.clone(), "full"),
    ];
    for (s, model, why) in cases {
        let c = HintClient::start(&s, model, values).expect("client");
        wait_for(why, || c.status().message.lock().contains(why));
        assert!(!c.status().connected.load(Relaxed), "{why}");
    }
    // The fingerprint's refusal is the client's: the server sees a failed handshake.
    wait_for("four refusals counted", || {
        srv.stats().refused.load(Relaxed) >= 4
    });
    let tag = StreamTag::default();
    let chunk = vec![0.1; 256];
    good.send(tag, 0, &chunk);
    wait_for("the open stream's hint", || good.try_recv().is_some());
    assert!(HintClient::start(
        &ClientSettings {
            fingerprint: "not hex".into(),
            ..settings(&srv, Encoding::F32)
        },
        id,
        values
    )
    .unwrap_err()
    .contains("64 hex digits"));
}

/// The offline render (which waits for every hint) through a loopback server
/// equals the in-process render bit for bit, and differs from the small model alone.
#[test]
fn through_a_server_the_render_equals_the_in_process_render_bit_for_bit() {
    let file = weight_file("served-render", JointConfig::tiny(2, 2, 2), 6);
    let w = WeightFile::load(&file).expect("weights");
    let srv = server(&w, 4);
    let x = binaural_mixture(48_000.0, 1.0, 12);
    let base = RenderSettings {
        weights: Some(file.display().to_string()),
        ..RenderSettings::default()
    };
    let run =
        |s: &RenderSettings| render([&x[0], &x[1]], 48_000.0, Mode::Separate, s).expect("render");
    let local = run(&base);
    let remote = run(&RenderSettings {
        hint_server: Some(settings(&srv, Encoding::F32)),
        ..base.clone()
    });
    let alone = run(&RenderSettings {
        no_boost: true,
        ..base.clone()
    });
    assert_eq!(remote.hints_on_time, 100.0, "{}", remote.message);
    assert!(srv.stats().hints.load(Relaxed) > 100);
    assert_eq!(remote.channels, local.channels);
    assert_ne!(
        alone.channels, local.channels,
        "the hints change the output"
    );
}

/// With the server unreachable, the real-time path plays the small model
/// alone: audio out, every hint missed, nothing non-finite.
#[test]
fn without_the_server_the_path_plays_on_without_hints() {
    let file = weight_file("unreachable", JointConfig::tiny(2, 2, 2), 7);
    // A port that was just free: nothing listens there.
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .expect("socket")
        .local_addr()
        .expect("addr");
    let request = separate_request(Some(&file));
    *request.hint_server.write() = Some(ClientSettings {
        server: port.to_string(),
        fingerprint: "cd".repeat(32),
        token: TOKEN.into(),
        encoding: Encoding::F32,
    });
    let telemetry = Arc::new(Telemetry::default());
    let mut path =
        AudioPath::new(&path_config(48_000.0, false), request, telemetry.clone()).expect("path");
    let x = binaural_mixture(48_000.0, 0.5, 2);
    let n = x[0].len();
    let mut out: [Vec<f32>; 4] = std::array::from_fn(|_| vec![0.0; n]);
    for start in (0..n).step_by(480) {
        let end = (start + 480).min(n);
        let [a, b, c, d] = &mut out;
        path.process(
            [&x[0][start..end], &x[1][start..end]],
            [
                &mut a[start..end],
                &mut b[start..end],
                &mut c[start..end],
                &mut d[start..end],
            ],
            &Controls::default(),
        );
    }
    assert!(path.has_model());
    assert!(out.iter().flatten().all(|v| v.is_finite()));
    assert!(out[0].iter().any(|v| *v != 0.0), "the small model plays");
    assert_eq!(telemetry.hints_used.load(Relaxed), 0);
    assert!(telemetry.hints_missed.load(Relaxed) > 10);
}
