//! Trimming leading and trailing silence from a clip.

/// Settings of the silence trimmer.
#[derive(Debug, Clone, Copy)]
pub struct TrimConfig {
    /// Frame length in samples for the energy measure.
    pub frame: usize,
    /// A frame counts as sound when its level is within this many dB of the loudest frame.
    pub range_db: f32,
    /// Frames below this absolute level (dBFS) are always silence.
    pub floor_db: f32,
    /// Samples of margin kept before the first and after the last sounding frame.
    pub margin: usize,
}

impl Default for TrimConfig {
    fn default() -> Self {
        TrimConfig {
            frame: 160,
            range_db: 40.0,
            floor_db: -65.0,
            margin: 800,
        }
    }
}

/// The range of `x` left after removing leading and trailing silence; empty when all is silence.
pub fn sounding_range(x: &[f32], cfg: &TrimConfig) -> std::ops::Range<usize> {
    let levels: Vec<f32> = x
        .chunks(cfg.frame)
        .map(|f| {
            let power = f.iter().map(|v| v * v).sum::<f32>() / f.len() as f32;
            10.0 * (power + 1e-20).log10()
        })
        .collect();
    let loudest = levels.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let threshold = (loudest - cfg.range_db).max(cfg.floor_db);
    let first = levels.iter().position(|&l| l >= threshold);
    let last = levels.iter().rposition(|&l| l >= threshold);
    match (first, last) {
        (Some(a), Some(b)) => {
            let start = (a * cfg.frame).saturating_sub(cfg.margin);
            let end = ((b + 1) * cfg.frame + cfg.margin).min(x.len());
            start..end
        }
        _ => 0..0,
    }
}

/// Returns `x` without leading and trailing silence.
pub fn trim<'a>(x: &'a [f32], cfg: &TrimConfig) -> &'a [f32] {
    &x[sounding_range(x, cfg)]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tone between two stretches of faint noise is cut out to within the margin.
    #[test]
    fn trims_to_the_tone_plus_margin() {
        let mut x = vec![0.0f32; 48000];
        let mut seed = 1u32;
        for v in x.iter_mut() {
            seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
            *v = ((seed >> 8) as f32 / (1 << 24) as f32 - 0.5) * 1e-4;
        }
        for (i, v) in x.iter_mut().enumerate().take(30400).skip(16000) {
            *v += 0.5 * (i as f32 * 0.1).sin();
        }
        let cfg = TrimConfig::default();
        let r = sounding_range(&x, &cfg);
        assert_eq!(r, 16000 - cfg.margin..30400 + cfg.margin);
        assert!(sounding_range(&[0.0; 1000], &cfg).is_empty());
    }
}
