//! STOI against pystoi 0.4.1 on the signals of `xtask/tests/fixtures/stoi_reference.py`.

use super::super::stoi::stoi;

/// The fixture script's LCG noise in [-1, 1).
fn lcg_noise(n: usize, seed: u64) -> Vec<f64> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect()
}

/// The fixture script's harmonic talker.
fn talker(n: usize, fs: usize, f0: f64, rate: f64, seed: u64) -> Vec<f64> {
    let noise = lcg_noise(n, seed);
    (0..n)
        .map(|i| {
            let t = i as f64 / fs as f64;
            let voiced: f64 = (0..12)
                .map(|h| {
                    0.7f64.powf(h as f64)
                        * (2.0 * std::f64::consts::PI * f0 * (h + 1) as f64 * t + h as f64).sin()
                })
                .sum();
            let envelope = (2.0 * std::f64::consts::PI * rate * t)
                .sin()
                .max(0.0)
                .powi(2);
            let pause = if t % 1.0 > 0.7 { 1.0 } else { 0.0 };
            0.1 * (voiced * envelope * (1.0 - pause) + 0.05 * noise[i] * envelope)
        })
        .collect()
}

fn case(fs: usize, name: &str) -> (Vec<f64>, Vec<f64>) {
    let n = (2.5 * fs as f64) as usize;
    let clean = talker(n, fs, 130.0, 4.0, 1);
    let other = talker(n, fs, 210.0, 5.3, 2);
    let noise = lcg_noise(n, 3);
    let y: Vec<f64> = match name {
        "identical" => clean.clone(),
        "scaled" => clean.iter().map(|v| 0.3 * v).collect(),
        "plus_talker" => clean.iter().zip(&other).map(|(a, b)| a + 0.7 * b).collect(),
        "plus_noise" => clean
            .iter()
            .zip(&noise)
            .map(|(a, b)| a + 0.02 * b)
            .collect(),
        "other_talker" => other,
        _ => panic!("unknown fixture case {name}"),
    };
    (clean, y)
}

fn reference() -> Vec<(usize, String, f64)> {
    let text = include_str!("../../../tests/fixtures/stoi_reference.json");
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["fs"].as_u64().unwrap() as usize,
                c["case"].as_str().unwrap().to_string(),
                c["stoi"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// At 10 kHz (no resampling) the computation is pystoi's step for step.
#[test]
fn stoi_matches_pystoi_at_10k() {
    let cases: Vec<_> = reference().into_iter().filter(|c| c.0 == 10_000).collect();
    assert_eq!(cases.len(), 5);
    for (fs, name, want) in cases {
        let (x, y) = case(fs, &name);
        let got = stoi(&x, &y, fs);
        println!("{fs} Hz {name}: {got:.6} (pystoi {want:.6})");
        assert!((got - want).abs() < 1e-6, "{name}: {got} vs pystoi {want}");
    }
}

/// At 16 kHz both resample to 10 kHz with Octave's filter (pystoi's resample_oct, rebuilt in resample.rs).
#[test]
fn stoi_matches_pystoi_at_16k() {
    let cases: Vec<_> = reference().into_iter().filter(|c| c.0 == 16_000).collect();
    assert_eq!(cases.len(), 5);
    for (fs, name, want) in cases {
        let (x, y) = case(fs, &name);
        let got = stoi(&x, &y, fs);
        println!("{fs} Hz {name}: {got:.6} (pystoi {want:.6})");
        assert!((got - want).abs() < 1e-6, "{name}: {got} vs pystoi {want}");
    }
}
