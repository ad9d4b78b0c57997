//! The pass-through's lookahead shift: delays 16 kHz chunks by the models' lookahead.

use crate::path::{CHUNK, LOOKAHEAD};

/// Delays a two-ear chunk stream by [`LOOKAHEAD`] samples, as a model's output
/// is delayed, so a path without a model stays aligned with one that has it.
#[derive(Debug, Clone, Copy)]
pub struct LookaheadShift {
    /// The last `LOOKAHEAD` samples of each ear's previous chunk [ear][sample].
    tail: [f32; 2 * LOOKAHEAD],
}

impl Default for LookaheadShift {
    fn default() -> Self {
        Self {
            tail: [0.0; 2 * LOOKAHEAD],
        }
    }
}

impl LookaheadShift {
    /// `input` [ear][CHUNK] -> `out` [ear][CHUNK], `LOOKAHEAD` samples later.
    pub fn process(&mut self, input: &[f32], out: &mut [f32]) {
        for ear in 0..2 {
            let out = &mut out[ear * CHUNK..(ear + 1) * CHUNK];
            let inp = &input[ear * CHUNK..(ear + 1) * CHUNK];
            let tail = &mut self.tail[ear * LOOKAHEAD..(ear + 1) * LOOKAHEAD];
            out[..LOOKAHEAD].copy_from_slice(tail);
            out[LOOKAHEAD..].copy_from_slice(&inp[..CHUNK - LOOKAHEAD]);
            tail.copy_from_slice(&inp[CHUNK - LOOKAHEAD..]);
        }
    }

    /// Forgets the previous chunk (a new stream).
    pub fn reset(&mut self) {
        self.tail = [0.0; 2 * LOOKAHEAD];
    }
}

#[cfg(test)]
mod tests {
    use super::{LookaheadShift, CHUNK, LOOKAHEAD};

    #[test]
    fn the_stream_comes_out_lookahead_samples_later_per_ear() {
        let stream: Vec<[f32; 2]> = (0..5 * CHUNK)
            .map(|n| [n as f32 + 1.0, -(n as f32) - 1.0])
            .collect();
        let mut shift = LookaheadShift::default();
        let mut out = Vec::new();
        for chunk in stream.chunks(CHUNK) {
            let input: Vec<f32> = (0..2)
                .flat_map(|ear| chunk.iter().map(move |s| s[ear]))
                .collect();
            let mut o = vec![0.0; 2 * CHUNK];
            shift.process(&input, &mut o);
            out.extend((0..CHUNK).map(|i| [o[i], o[CHUNK + i]]));
        }
        for (n, o) in out.iter().enumerate() {
            let want = if n < LOOKAHEAD {
                [0.0, 0.0]
            } else {
                stream[n - LOOKAHEAD]
            };
            assert_eq!(*o, want, "sample {n}");
        }
    }
}
