//! Where an utterance is cut into partial utterances of 160 mel frames
//! (Resemblyzer's `compute_partial_slices` at 1.3 partials a second with a
//! minimum coverage of 0.75 for the last one).

use crate::{HOP, PARTIAL_FRAMES, SAMPLE_RATE};

/// Partial utterances per second.
pub const RATE: f64 = 1.3;
/// Share of the last partial that must hold audio for it to be kept.
pub const MIN_COVERAGE: f64 = 0.75;

/// Frames between the starts of two partials (77).
pub fn frame_step() -> usize {
    ((SAMPLE_RATE as f64 / RATE) / HOP as f64).round() as usize
}

/// The first mel frame of each partial of an utterance of `samples` samples
/// (at least one), as an iterator over `0, step, 2 step, ...`.
pub fn starts(samples: usize) -> impl Iterator<Item = usize> {
    let step = frame_step();
    let frames = (samples + 1).div_ceil(HOP);
    let steps = (frames + step + 1).saturating_sub(PARTIAL_FRAMES).max(1);
    let mut count = steps.div_ceil(step);
    let last = (count - 1) * step;
    let coverage = (samples as f64 - (last * HOP) as f64) / (PARTIAL_FRAMES * HOP) as f64;
    if coverage < MIN_COVERAGE && count > 1 {
        count -= 1;
    }
    (0..count).map(move |k| k * step)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Resemblyzer's function, transcribed with its own variable names.
    fn reference(n_samples: usize) -> Vec<usize> {
        let samples_per_frame = 160i64;
        let n_frames = ((n_samples as f64 + 1.0) / samples_per_frame as f64).ceil() as i64;
        let frame_step = ((16000.0 / 1.3) / samples_per_frame as f64).round() as i64;
        let steps = (n_frames - 160 + frame_step + 1).max(1);
        let mut starts: Vec<i64> = (0..steps).step_by(frame_step as usize).collect();
        let last = *starts.last().unwrap();
        let coverage = (n_samples as f64 - (last * samples_per_frame) as f64) / (160.0 * 160.0);
        if coverage < 0.75 && starts.len() > 1 {
            starts.pop();
        }
        starts.into_iter().map(|s| s as usize).collect()
    }

    #[test]
    fn the_partials_match_resemblyzers_slicing_at_every_length() {
        for n in (0..200_000)
            .step_by(37)
            .chain([1, 159, 160, 161, 25_600, 38_080])
        {
            assert_eq!(starts(n).collect::<Vec<_>>(), reference(n), "{n} samples");
        }
    }
}
