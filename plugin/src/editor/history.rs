//! Hint misses per second over the last 10 s, kept in editor state by sampling the
//! cumulative miss counter each frame.

/// Seconds the history covers.
pub const SECONDS: usize = 10;

/// A ring of per-second miss counts.
#[derive(Debug, Clone, Default)]
pub struct MissHistory {
    bins: [u64; SECONDS],
    second: Option<u64>,
    last_count: u64,
}

impl MissHistory {
    /// Folds in the cumulative miss counter `count` read at `now_s` seconds (frame time).
    pub fn sample(&mut self, now_s: f64, count: u64) {
        let second = now_s.max(0.0) as u64;
        let Some(prev) = self.second else {
            self.second = Some(second);
            self.last_count = count;
            return;
        };
        for s in prev.saturating_add(1)..=second.min(prev + SECONDS as u64) {
            self.bins[s as usize % SECONDS] = 0;
        }
        self.second = Some(second.max(prev));
        // A smaller count means a new activation reset the counter.
        let new = count.checked_sub(self.last_count).unwrap_or(count);
        self.last_count = count;
        self.bins[self.second.unwrap_or(0) as usize % SECONDS] += new;
    }

    /// Misses per second, oldest first, the current (partial) second last.
    pub fn per_second(&self) -> [u64; SECONDS] {
        let now = self.second.unwrap_or(0) as usize;
        std::array::from_fn(|i| self.bins[(now + 1 + i) % SECONDS])
    }

    /// Misses over the whole history.
    pub fn total(&self) -> u64 {
        self.bins.iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_misses_per_second_and_forgets_after_ten_seconds() {
        let mut h = MissHistory::default();
        h.sample(0.0, 100);
        h.sample(0.5, 103);
        h.sample(1.2, 103);
        h.sample(1.9, 104);
        assert_eq!(h.total(), 4);
        let bins = h.per_second();
        assert_eq!(bins[SECONDS - 2..], [3, 1]);
        h.sample(5.0, 110);
        assert_eq!(h.per_second()[SECONDS - 1], 6);
        h.sample(11.5, 110);
        assert_eq!(h.total(), 6, "second 5 is still within the last 10 s");
        h.sample(15.5, 110);
        assert_eq!(h.total(), 0);
        h.sample(16.0, 2);
        assert_eq!(h.total(), 2, "a counter reset counts from zero");
    }
}
