//! A multichannel ring buffer: collects host frames until the resampler can cut
//! the next 128-sample chunk, holds resampled output until the host asks for it,
//! and delays the dry signal by the reported latency.

/// A fixed-capacity multichannel FIFO; it never allocates after construction.
#[derive(Debug, Clone)]
pub struct Fifo {
    data: Vec<f32>,
    channels: usize,
    cap: usize,
    start: usize,
    len: usize,
}

impl Fifo {
    /// `channels` channels of at most `cap` frames each.
    pub fn new(channels: usize, cap: usize) -> Self {
        Self {
            data: vec![0.0; channels * cap.max(1)],
            channels,
            cap: cap.max(1),
            start: 0,
            len: 0,
        }
    }

    /// Frames held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no frame is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Frames that fit.
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// Empties the FIFO and fills it with `frames` zero frames.
    pub fn clear_with_zeros(&mut self, frames: usize) {
        assert!(frames <= self.cap, "prefill beyond the FIFO's capacity");
        self.data.fill(0.0);
        self.start = 0;
        self.len = frames;
    }

    /// Appends `frames` frames; `src(ch)` gives channel ch's samples (at least `frames`).
    pub fn push<'a>(&mut self, frames: usize, src: impl Fn(usize) -> &'a [f32]) {
        assert!(self.len + frames <= self.cap, "FIFO overflow");
        let first = (self.start + self.len) % self.cap;
        for ch in 0..self.channels {
            let s = &src(ch)[..frames];
            let ring = &mut self.data[ch * self.cap..(ch + 1) * self.cap];
            let a = frames.min(self.cap - first);
            ring[first..first + a].copy_from_slice(&s[..a]);
            ring[..frames - a].copy_from_slice(&s[a..]);
        }
        self.len += frames;
    }

    /// Copies the oldest `dst.len()` frames of channel `ch` without removing them.
    pub fn peek(&self, ch: usize, dst: &mut [f32]) {
        let frames = dst.len();
        assert!(frames <= self.len, "FIFO underflow");
        let ring = &self.data[ch * self.cap..(ch + 1) * self.cap];
        let a = frames.min(self.cap - self.start);
        dst[..a].copy_from_slice(&ring[self.start..self.start + a]);
        dst[a..].copy_from_slice(&ring[..frames - a]);
    }

    /// Removes the oldest `frames` frames.
    pub fn consume(&mut self, frames: usize) {
        assert!(frames <= self.len, "FIFO underflow");
        self.start = (self.start + frames) % self.cap;
        self.len -= frames;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_and_keeps_order_per_channel() {
        let mut f = Fifo::new(2, 5);
        f.clear_with_zeros(2);
        let a = [[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]];
        f.push(3, |c| &a[c]);
        let mut out = [0.0; 4];
        f.peek(1, &mut out);
        assert_eq!(out, [0.0, 0.0, 10.0, 20.0]);
        f.consume(4);
        f.push(3, |c| &a[c]);
        let mut out = [0.0; 4];
        f.peek(0, &mut out);
        assert_eq!(out, [3.0, 1.0, 2.0, 3.0]);
        assert_eq!(f.len(), 4);
    }
}
