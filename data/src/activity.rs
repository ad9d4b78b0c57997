//! Who is talking when: per-frame voice activity of each talker's target
//! image, and the share of frames in which two or more talk at once.

/// Frame length of the activity measure in samples (32 ms at 16 kHz).
pub const FRAME: usize = 512;
/// A talker is active in a frame whose energy is within this many dB of its loudest frame.
pub const ACTIVE_WITHIN_DB: f64 = 30.0;

/// Per frame, whether the talker `image` (`[ear][sample]`) is active.
pub fn active_frames(image: &[Vec<f32>]) -> Vec<bool> {
    let n = image.first().map_or(0, Vec::len);
    let energies: Vec<f64> = (0..n / FRAME)
        .map(|f| {
            image
                .iter()
                .flat_map(|ear| &ear[f * FRAME..(f + 1) * FRAME])
                .map(|&v| (v as f64) * (v as f64))
                .sum()
        })
        .collect();
    let loudest = energies.iter().copied().fold(0.0f64, f64::max);
    let floor = loudest * 10f64.powf(-ACTIVE_WITHIN_DB / 10.0);
    energies
        .iter()
        .map(|&e| loudest > 0.0 && e > floor)
        .collect()
}

/// Share of frames in which at least two of `images` (`[talker][ear][sample]`) are active.
pub fn double_talk_share(images: &[Vec<Vec<f32>>]) -> f64 {
    let active: Vec<Vec<bool>> = images.iter().map(|i| active_frames(i)).collect();
    let frames = active.first().map_or(0, Vec::len);
    if frames == 0 {
        return 0.0;
    }
    let both = (0..frames)
        .filter(|&f| active.iter().filter(|a| a[f]).count() >= 2)
        .count();
    both as f64 / frames as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A talker speaking (a constant tone-free signal) in frames `from..to` of `frames`.
    fn talker(frames: usize, from: usize, to: usize) -> Vec<Vec<f32>> {
        let ear: Vec<f32> = (0..frames * FRAME)
            .map(|i| {
                if (from * FRAME..to * FRAME).contains(&i) {
                    0.1
                } else {
                    1e-5
                }
            })
            .collect();
        vec![ear.clone(), ear]
    }

    #[test]
    fn overlap_counts_the_frames_both_talk() {
        let a = talker(10, 0, 6);
        let b = talker(10, 4, 10);
        assert_eq!(double_talk_share(&[a.clone(), b]), 0.2);
        assert_eq!(double_talk_share(&[a.clone(), talker(10, 6, 10)]), 0.0);
        assert_eq!(double_talk_share(&[a.clone(), a]), 0.6);
    }
}
