//! The hint delay C of a pair, written once: the hint of chunk k is merged at chunk k + C.

use super::boost::HintFrame;
use crate::config::JointConfig;

/// The chunk whose hint chunk `index` merges, for hints that began at chunk
/// `start`: `index - delay`, or None while no hint can have arrived yet.
pub fn hint_source(index: u64, start: u64, delay: u64) -> Option<u64> {
    index.checked_sub(delay).filter(|&i| i >= start)
}

/// The hints of the last C + 1 chunks, filled in order, so that the chunk
/// just filled reads the hint of the chunk C before it; allocation-free.
#[derive(Debug, Clone)]
pub struct HintRing {
    frames: Vec<HintFrame>,
    delay: u64,
    filled: u64,
}

impl HintRing {
    /// A ring for `cfg`'s hint frames and its trained delay C.
    pub fn new(cfg: &JointConfig) -> Self {
        Self {
            frames: (0..=cfg.delay).map(|_| HintFrame::new(cfg)).collect(),
            delay: cfg.delay as u64,
            filled: 0,
        }
    }

    /// Forgets every hint (a new stream).
    pub fn reset(&mut self) {
        self.filled = 0;
    }

    /// The frame that receives the hint of the next chunk.
    pub fn slot(&mut self) -> &mut HintFrame {
        let n = self.frames.len() as u64;
        &mut self.frames[(self.filled % n) as usize]
    }

    /// Marks the slot filled and returns the hint that chunk merges, if any.
    pub fn advance(&mut self) -> Option<&HintFrame> {
        let chunk = self.filled;
        self.filled += 1;
        let n = self.frames.len() as u64;
        hint_source(chunk, 0, self.delay).map(|i| &self.frames[(i % n) as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_chunk_reads_the_hint_of_the_chunk_c_before_it() {
        for c in 0..5 {
            let mut ring = HintRing::new(&JointConfig::tiny(2, c, 2));
            for k in 0..20u64 {
                ring.slot().index = 1000 + k;
                let read = ring.advance().map(|h| h.index - 1000);
                let expected = (k >= c as u64).then(|| k - c as u64);
                assert_eq!(read, expected, "C = {c}, chunk {k}");
            }
            ring.reset();
            ring.slot().index = 7;
            assert_eq!(ring.advance().map(|h| h.index), (c == 0).then_some(7));
        }
    }

    #[test]
    fn no_hint_before_the_stream_started_plus_c() {
        assert_eq!(hint_source(10, 8, 3), None);
        assert_eq!(hint_source(11, 8, 3), Some(8));
        assert_eq!(hint_source(2, 0, 3), None);
        assert_eq!(hint_source(5, 5, 0), Some(5));
    }
}
