//! Synthetic pools shared by the integration tests: a few seconds of
//! harmonic "voices" and filtered noise, generated in memory.

#![allow(dead_code)]

use std::sync::Arc;

use kb_data::{Clip, Head, Pools, Split};

/// A voiced, syllable-modulated harmonic signal of `seconds` at fundamental `f0`.
pub fn voice(f0: f32, seconds: f32, phase: f32) -> Vec<f32> {
    let n = (seconds * 16000.0) as usize;
    (0..n)
        .map(|i| {
            let t = i as f32 / 16000.0;
            let syllables =
                (0.5 + 0.5 * (2.0 * std::f32::consts::PI * 4.0 * t + phase).sin()).powi(2);
            let wobble = 1.0 + 0.03 * (2.0 * std::f32::consts::PI * 5.0 * t).sin();
            let tone: f32 = (1..12)
                .map(|h| (2.0 * std::f32::consts::PI * f0 * wobble * h as f32 * t).sin() / h as f32)
                .sum();
            0.1 * syllables * tone
        })
        .collect()
}

/// Low-passed pseudo-random noise.
pub fn noise(seconds: f32, seed: u32) -> Vec<f32> {
    let n = (seconds * 16000.0) as usize;
    let mut state = seed.wrapping_mul(2654435761).wrapping_add(1);
    let mut y = 0.0f32;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let x = state as f32 / u32::MAX as f32 - 0.5;
            y = 0.9 * y + 0.1 * x;
            y
        })
        .collect()
}

/// Four talkers with three clips each, and three noise files, all in `split`.
pub fn pools(split: Split) -> Arc<Pools> {
    let mut speech = Vec::new();
    for (s, f0) in [110.0f32, 145.0, 190.0, 230.0].iter().enumerate() {
        for u in 0..3 {
            speech.push(Clip {
                id: format!("talker{s}/utt{u}.wav"),
                speaker: format!("talker{s}"),
                split,
                samples: voice(*f0, 1.5 + 0.5 * u as f32, u as f32).into(),
            });
        }
    }
    let noise = (0..3)
        .map(|k| Clip {
            id: format!("noise/n{k}.wav"),
            speaker: "synthetic-noise".into(),
            split,
            samples: noise(2.5, k).into(),
        })
        .collect();
    Arc::new(Pools::new(speech, noise, vec![Arc::new(Head::spherical())]))
}
