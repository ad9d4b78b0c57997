//! Properties of the rendered binaural room responses.

use kb_data::render::{render_brir, Placement, RenderConfig};
use kb_data::room::Room;
use kb_data::{Head, SPEED_OF_SOUND};
use rand::rngs::StdRng;
use rand::SeedableRng;

fn energy(x: &[f32]) -> f64 {
    x.iter().map(|&v| (v as f64).powi(2)).sum()
}

/// Reverberation time from Schroeder's backward integral of both ears,
/// by a least-squares line through the -5 to -25 dB part (T20).
fn schroeder_rt60(h: &[Vec<f32>; 2]) -> f64 {
    let n = h[0].len();
    let mut edc = vec![0.0f64; n];
    let mut acc = 0.0;
    for i in (0..n).rev() {
        acc += (h[0][i] as f64).powi(2) + (h[1][i] as f64).powi(2);
        edc[i] = acc;
    }
    let total = edc[0];
    let points: Vec<(f64, f64)> = edc
        .iter()
        .enumerate()
        .map(|(i, &e)| (i as f64 / 16000.0, 10.0 * (e / total).log10()))
        .filter(|&(_, d)| (-25.0..=-5.0).contains(&d))
        .collect();
    let m = points.len() as f64;
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), p| (a + p.0, b + p.1));
    let (mx, my) = (sx / m, sy / m);
    let slope = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>()
        / points.iter().map(|p| (p.0 - mx).powi(2)).sum::<f64>();
    -60.0 / slope
}

/// The direct sound reaches the head centre at distance / c: for a source
/// straight ahead both ears peak there, within one sample.
#[test]
fn direct_path_arrives_at_distance_over_c() {
    let head = Head::spherical();
    let room = Room::with_rt60([8.0, 7.0, 3.5], 0.4, [1.0; 6]).unwrap();
    let mut rng = StdRng::seed_from_u64(1);
    for (source, listener) in [
        ([6.1, 3.5, 1.6], [3.0, 3.5, 1.6]),
        ([4.37, 2.0, 1.2], [2.0, 2.0, 1.2]),
    ] {
        let placement = Placement {
            source,
            listener,
            yaw: 0.0,
        };
        let brir = render_brir(&room, &placement, &head, &RenderConfig::default(), &mut rng);
        let d = ((source[0] - listener[0]).powi(2)
            + (source[1] - listener[1]).powi(2)
            + (source[2] - listener[2]).powi(2))
        .sqrt();
        let expected = d / SPEED_OF_SOUND * 16000.0;
        // Before the first reflection (the floor, here more than 1 m of extra path).
        let window = (expected + 30.0) as usize;
        for ear in &brir.early {
            let peak = (0..window)
                .max_by(|&a, &b| ear[a].abs().total_cmp(&ear[b].abs()))
                .unwrap();
            assert!(
                (peak as f64 - expected).abs() <= 1.0,
                "peak at {peak}, expected {expected:.2}"
            );
        }
    }
}

/// Schroeder backward integration of the rendered response gives the
/// room's RT60 within 20 %.
#[test]
fn schroeder_rt60_matches_target() {
    let head = Head::spherical();
    let mut rng = StdRng::seed_from_u64(7);
    for (size, rt60) in [
        ([4.0, 3.5, 2.7], 0.15),
        ([6.0, 5.0, 3.0], 0.3),
        ([7.0, 5.5, 3.2], 0.5),
        ([9.0, 7.0, 3.5], 0.8),
    ] {
        let room = Room::with_rt60(size, rt60, [1.1, 0.9, 1.0, 1.2, 0.8, 1.0]).unwrap();
        let placement = Placement {
            source: [size[0] * 0.7, size[1] * 0.4, 1.5],
            listener: [size[0] * 0.3, size[1] * 0.55, 1.6],
            yaw: 0.3,
        };
        let brir = render_brir(&room, &placement, &head, &RenderConfig::default(), &mut rng);
        let measured = schroeder_rt60(&brir.full);
        let error = (measured - room.rt60()).abs() / room.rt60();
        println!(
            "RT60 target {:.3} s, measured {measured:.3} s ({:+.1} %)",
            room.rt60(),
            100.0 * (measured / room.rt60() - 1.0)
        );
        assert!(
            error < 0.2,
            "target {:.3}, measured {measured:.3}",
            room.rt60()
        );
    }
}

/// A source on the left is louder and earlier in the left ear, and the
/// mirror position gives the mirror result.
#[test]
fn left_source_is_louder_and_earlier_on_the_left() {
    let head = Head::spherical();
    let room = Room::with_rt60([7.0, 7.0, 3.0], 0.3, [1.0; 6]).unwrap();
    let mut rng = StdRng::seed_from_u64(3);
    for (source, near) in [([3.5, 5.0, 1.5], 0usize), ([3.5, 2.0, 1.5], 1usize)] {
        let placement = Placement {
            source,
            listener: [3.5, 3.5, 1.5],
            yaw: 0.0,
        };
        let brir = render_brir(&room, &placement, &head, &RenderConfig::default(), &mut rng);
        let direct = (placement.distance() / SPEED_OF_SOUND * 16000.0) as usize;
        let window = direct + 20;
        let onset = |h: &[f32]| {
            let peak = h[..window].iter().fold(0.0f32, |m, v| m.max(v.abs()));
            h.iter().position(|v| v.abs() >= 0.5 * peak).unwrap()
        };
        let (near_h, far_h) = (&brir.full[near], &brir.full[1 - near]);
        assert!(
            onset(near_h) < onset(far_h),
            "onsets {} {}",
            onset(near_h),
            onset(far_h)
        );
        assert!(
            energy(&near_h[..window]) > 2.0 * energy(&far_h[..window]),
            "direct energies {} {}",
            energy(&near_h[..window]),
            energy(&far_h[..window])
        );
        assert!(energy(near_h) > energy(far_h));
    }
}

/// The diffuse tail is coherent between the ears at low frequencies and
/// incoherent at high ones, as in a diffuse field at a head.
#[test]
fn tail_interaural_coherence() {
    let head = Head::spherical();
    let envelope = vec![1.0f32; 1 << 16];
    let mut rng = StdRng::seed_from_u64(11);
    let [l, r] = kb_data::tail::diffuse_tail(&head, &envelope, &mut rng);
    // Coherence in a band, from averaged cross and auto spectra over 512-sample frames.
    let n = 512;
    let mut sums = vec![(0.0f64, 0.0f64, 0.0f64); n / 2 + 1];
    for f in 0..l.len() / n {
        let a = kb_data::conv::spectrum(&l[f * n..(f + 1) * n], n);
        let b = kb_data::conv::spectrum(&r[f * n..(f + 1) * n], n);
        for k in 0..sums.len() {
            sums[k].0 += (a[k] * b[k].conj()).re as f64;
            sums[k].1 += a[k].norm_sqr() as f64;
            sums[k].2 += b[k].norm_sqr() as f64;
        }
    }
    let band = |lo: f64, hi: f64| {
        let ks: Vec<usize> = (0..sums.len())
            .filter(|&k| (lo..hi).contains(&(k as f64 * 16000.0 / n as f64)))
            .collect();
        ks.iter()
            .map(|&k| sums[k].0 / (sums[k].1 * sums[k].2).sqrt())
            .sum::<f64>()
            / ks.len() as f64
    };
    let low = band(60.0, 200.0);
    let high = band(2000.0, 7000.0);
    let expected_low = kb_data::tail::diffuse_coherence(130.0);
    println!("coherence below 200 Hz {low:.2} (model {expected_low:.2}), 2-7 kHz {high:.2}");
    assert!(low > 0.8 && (low - expected_low).abs() < 0.1);
    assert!(high.abs() < 0.1);
}

/// The same lateral checks with a measured head: the SOFA file named by
/// `$KB_DATA_SOFA`, by default Debian's libmysofa1 KEMAR (installed by the
/// README's set-up line and by `.ci/run`).
#[test]
fn measured_head_left_source() {
    let path = std::env::var("KB_DATA_SOFA")
        .unwrap_or_else(|_| "/usr/share/libmysofa/MIT_KEMAR_normal_pinna.sofa".into());
    let head = Head::from_sofa(std::path::Path::new(&path)).unwrap();
    let room = Room::with_rt60([7.0, 7.0, 3.0], 0.3, [1.0; 6]).unwrap();
    let mut rng = StdRng::seed_from_u64(3);
    for (source, near) in [
        ([3.5, 5.0, 1.5], 0usize),
        ([3.5, 2.0, 1.5], 1usize),
        ([5.0, 3.5, 1.5], 2),
    ] {
        let placement = Placement {
            source,
            listener: [3.5, 3.5, 1.5],
            yaw: 0.0,
        };
        let brir = render_brir(&room, &placement, &head, &RenderConfig::default(), &mut rng);
        let expected = placement.distance() / SPEED_OF_SOUND * 16000.0;
        let window = expected as usize + 24;
        let onset = |h: &[f32]| {
            let peak = h[..window].iter().fold(0.0f32, |m, v| m.max(v.abs()));
            h.iter().position(|v| v.abs() >= 0.5 * peak).unwrap()
        };
        let (l, r) = (&brir.full[0], &brir.full[1]);
        println!(
            "source {source:?}: onsets {} {} (distance/c {expected:.1}), direct energy {:.3} {:.3}",
            onset(l),
            onset(r),
            energy(&l[..window]),
            energy(&r[..window])
        );
        if near == 2 {
            // Straight ahead: both ears within a sample of each other and of distance / c.
            assert!(onset(l).abs_diff(onset(r)) <= 1);
            assert!((onset(l) as f64 - expected).abs() <= 1.0);
            continue;
        }
        let (near_h, far_h) = (&brir.full[near], &brir.full[1 - near]);
        assert!(onset(near_h) < onset(far_h));
        assert!(energy(&near_h[..window]) > 2.0 * energy(&far_h[..window]));
    }
}
