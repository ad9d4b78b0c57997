//! Reassembly of hint frames from their fragments: a few frames in flight at
//! once (datagrams reorder), duplicates and replays ignored, a frame with a
//! missing fragment never completes (its chunk gets the zero hint).

use crate::wire::{Fragment, StreamTag, MAX_PARTS};

/// Frames gathered at once; a fragment of a newer frame evicts the oldest.
const SLOTS: usize = 4;
/// Completed frames remembered so that a replay cannot complete one twice.
const DONE: usize = 16;

#[derive(Debug, Clone)]
struct Slot {
    live: bool,
    tag: StreamTag,
    index: u64,
    parts: usize,
    got: u64,
    data: Vec<f32>,
}

/// Gathers fragments into whole hint frames. Allocates only in [`Assembler::new`].
#[derive(Debug)]
pub struct Assembler {
    slots: Vec<Slot>,
    done: [(StreamTag, u64); DONE],
    done_at: usize,
    /// Fragments ignored: duplicates, replays of a completed frame, or a frame of another size.
    pub ignored: u64,
    /// Frames evicted before all their fragments came.
    pub incomplete: u64,
}

impl Assembler {
    /// An assembler for frames of `values` values.
    pub fn new(values: usize) -> Self {
        let slot = Slot {
            live: false,
            tag: StreamTag::default(),
            index: 0,
            parts: 0,
            got: 0,
            data: vec![0.0; values],
        };
        Self {
            slots: vec![slot; SLOTS],
            done: [(StreamTag::default(), u64::MAX); DONE],
            done_at: 0,
            ignored: 0,
            incomplete: 0,
        }
    }

    /// Adds fragment `f` whose values are `values[..f.count]`; returns the
    /// whole frame (tag, chunk index, values) when this fragment completes it.
    pub fn add(&mut self, f: &Fragment, values: &[f32]) -> Option<(StreamTag, u64, &[f32])> {
        let len = self.slots[0].data.len();
        if f.total != len || f.parts > MAX_PARTS || self.done.contains(&(f.tag, f.index)) {
            self.ignored += 1;
            return None;
        }
        let at = match self
            .slots
            .iter()
            .position(|s| s.live && s.tag == f.tag && s.index == f.index)
        {
            Some(i) => i,
            None => {
                let i = self.slots.iter().position(|s| !s.live).unwrap_or_else(|| {
                    self.incomplete += 1;
                    (0..SLOTS).min_by_key(|&i| self.slots[i].index).unwrap_or(0)
                });
                let s = &mut self.slots[i];
                (s.live, s.tag, s.index, s.parts, s.got) = (true, f.tag, f.index, f.parts, 0);
                i
            }
        };
        let s = &mut self.slots[at];
        let bit = 1u64 << f.part;
        if s.parts != f.parts || s.got & bit != 0 {
            self.ignored += 1;
            return None;
        }
        s.got |= bit;
        s.data[f.offset..f.offset + f.count].copy_from_slice(&values[..f.count]);
        if s.got.count_ones() as usize != s.parts {
            return None;
        }
        s.live = false;
        self.done[self.done_at] = (s.tag, s.index);
        self.done_at = (self.done_at + 1) % DONE;
        Some((s.tag, s.index, &s.data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{decode, encode_hint, Datagram, Encoding, FRAGMENT_BYTES};

    fn fragments(index: u64, hint: &[f32]) -> Vec<Vec<u8>> {
        (0..Encoding::F32.parts(hint.len()))
            .map(|part| {
                let mut out = Vec::new();
                encode_hint(
                    &mut out,
                    StreamTag::default(),
                    index,
                    hint,
                    Encoding::F32,
                    part,
                );
                out
            })
            .collect()
    }

    fn feed(a: &mut Assembler, bytes: &[u8]) -> Option<(u64, Vec<f32>)> {
        let mut buf = vec![0.0; FRAGMENT_BYTES / 2];
        let Ok(Datagram::Hint(f)) = decode(bytes, &mut buf) else {
            panic!("not a hint fragment");
        };
        a.add(&f, &buf).map(|(_, i, v)| (i, v.to_vec()))
    }

    /// Two frames interleaved and reordered complete once each, with their own values;
    /// a replayed fragment of a completed frame completes nothing.
    #[test]
    fn interleaved_frames_complete_once() {
        let a_hint: Vec<f32> = (0..600).map(|i| i as f32).collect();
        let b_hint: Vec<f32> = (0..600).map(|i| -(i as f32)).collect();
        let (fa, fb) = (fragments(4, &a_hint), fragments(5, &b_hint));
        assert_eq!(fa.len(), 3);
        let mut asm = Assembler::new(600);
        assert!(feed(&mut asm, &fb[2]).is_none());
        assert!(feed(&mut asm, &fa[1]).is_none());
        assert!(feed(&mut asm, &fa[0]).is_none());
        assert!(feed(&mut asm, &fb[0]).is_none());
        assert!(feed(&mut asm, &fb[0]).is_none(), "a duplicate");
        assert_eq!(feed(&mut asm, &fb[1]), Some((5, b_hint.clone())));
        assert_eq!(feed(&mut asm, &fa[2]), Some((4, a_hint)));
        for f in &fb {
            assert!(feed(&mut asm, f).is_none(), "a replay");
        }
        assert_eq!(asm.ignored, 4);
    }

    /// A frame missing a fragment is evicted by newer frames in flight and
    /// never completes; the frames after it do.
    #[test]
    fn a_lost_fragment_loses_only_its_frame() {
        let hint = vec![1.5; 600];
        let mut asm = Assembler::new(600);
        let lost = fragments(0, &hint);
        feed(&mut asm, &lost[0]);
        feed(&mut asm, &lost[2]);
        let newer: Vec<_> = (1..=SLOTS as u64).map(|i| fragments(i, &hint)).collect();
        for f in &newer {
            assert!(feed(&mut asm, &f[0]).is_none());
        }
        assert_eq!(asm.incomplete, 1, "frame 0 evicted");
        assert!(feed(&mut asm, &lost[1]).is_none());
        for (i, f) in newer.iter().enumerate().skip(1) {
            let done: Vec<_> = f[1..].iter().filter_map(|b| feed(&mut asm, b)).collect();
            assert_eq!(done.len(), 1, "frame {}", i + 1);
        }
    }
}
