//! A hierarchical timing wheel (Varghese and Lauck) indexing a shard's keys by deadline.
//!
//! Six levels of 64 slots at 1 ms resolution cover about two years; further deadlines wait
//! in an overflow list. A slot holds `(key hash, deadline)` pairs and nothing else, so the
//! wheel costs 16 bytes per key with a TTL and never owns keys. Entries may be stale (the
//! key was deleted or its TTL changed): the entry's own deadline in the table is the truth
//! and is checked before anything is deleted. Advancing is bounded by a budget so a mass
//! expiry is spread over several ticks instead of stalling clients.

const LEVELS: usize = 6;
const SLOTS: usize = 64;
const LEVEL_BITS: u32 = 6;
/// Span of the whole wheel in ms (64^6).
const WHEEL_SPAN: u64 = 1 << (LEVEL_BITS as u64 * LEVELS as u64);

#[derive(Default)]
struct Level {
    occupied: u64,
    slots: Vec<Vec<(u64, u64)>>,
}

/// The wheel of one shard.
pub struct ExpiryWheel {
    /// Time (unix ms) the wheel has advanced to: every slot that starts at or before it has
    /// been taken.
    elapsed: u64,
    levels: Vec<Level>,
    overflow: Vec<(u64, u64)>,
    /// Entries found due but not yet handed out because a tick ran out of budget.
    due: Vec<(u64, u64)>,
    len: usize,
}

fn level_for(elapsed: u64, when: u64) -> usize {
    let masked = (elapsed ^ when) | (SLOTS as u64 - 1);
    let significant = 63 - masked.leading_zeros() as usize;
    significant / LEVEL_BITS as usize
}

fn slot_range(level: usize) -> u64 {
    1u64 << (LEVEL_BITS as usize * level)
}

fn level_range(level: usize) -> u64 {
    slot_range(level) * SLOTS as u64
}

impl ExpiryWheel {
    pub fn new(now: u64) -> Self {
        ExpiryWheel {
            elapsed: now,
            levels: (0..LEVELS).map(|_| Level::default()).collect(),
            overflow: Vec::new(),
            due: Vec::new(),
            len: 0,
        }
    }

    /// Number of entries held, stale ones included.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Indexes `hash` under `deadline` (unix ms).
    pub fn insert(&mut self, hash: u64, deadline: u64) {
        self.len += 1;
        self.place(hash, deadline);
    }

    fn place(&mut self, hash: u64, deadline: u64) {
        if deadline <= self.elapsed {
            self.due.push((hash, deadline));
            return;
        }
        let level = level_for(self.elapsed, deadline);
        if level >= LEVELS || deadline - self.elapsed >= WHEEL_SPAN {
            self.overflow.push((hash, deadline));
            return;
        }
        let slot = ((deadline >> (level as u32 * LEVEL_BITS)) as usize) % SLOTS;
        let lvl = &mut self.levels[level];
        if lvl.slots.is_empty() {
            lvl.slots = (0..SLOTS).map(|_| Vec::new()).collect();
        }
        lvl.slots[slot].push((hash, deadline));
        lvl.occupied |= 1 << slot;
    }

    /// The start time of the earliest occupied slot across levels, with its position.
    fn next_slot(&self) -> Option<(u64, usize, usize)> {
        let mut best: Option<(u64, usize, usize)> = None;
        for (level, lvl) in self.levels.iter().enumerate() {
            if lvl.occupied == 0 {
                continue;
            }
            let now_slot = ((self.elapsed / slot_range(level)) % SLOTS as u64) as u32;
            let rotated = lvl.occupied.rotate_right(now_slot);
            let slot = (rotated.trailing_zeros() + now_slot) as usize % SLOTS;
            let level_start = self.elapsed & !(level_range(level) - 1);
            let mut start = level_start + slot as u64 * slot_range(level);
            if start < level_start + now_slot as u64 * slot_range(level) {
                start += level_range(level);
            }
            if best.is_none_or(|(b, _, _)| start < b) {
                best = Some((start, level, slot));
            }
        }
        best
    }

    /// Advances to `now`, calling `expire(hash, deadline)` for entries whose deadline is at
    /// or before `now`, at most `budget` times. Returns true when due entries remain (the
    /// budget ran out) so the caller can come back sooner.
    pub fn advance(&mut self, now: u64, budget: usize, mut expire: impl FnMut(u64, u64)) -> bool {
        let mut spent = 0;
        loop {
            while let Some((h, d)) = self.due.pop() {
                if spent >= budget {
                    self.due.push((h, d));
                    return true;
                }
                self.len -= 1;
                spent += 1;
                expire(h, d);
            }
            match self.next_slot() {
                Some((start, level, slot)) if start <= now => {
                    let old_window = self.elapsed / WHEEL_SPAN;
                    self.elapsed = self.elapsed.max(start);
                    let lvl = &mut self.levels[level];
                    lvl.occupied &= !(1 << slot);
                    let entries = std::mem::take(&mut lvl.slots[slot]);
                    for (h, d) in entries {
                        if d <= now {
                            self.due.push((h, d));
                        } else {
                            self.place(h, d);
                        }
                    }
                    if self.elapsed / WHEEL_SPAN != old_window {
                        self.reinsert_overflow();
                    }
                }
                _ => {
                    let old_window = self.elapsed / WHEEL_SPAN;
                    self.elapsed = self.elapsed.max(now);
                    if self.elapsed / WHEEL_SPAN != old_window {
                        self.reinsert_overflow();
                        continue;
                    }
                    if self.due.is_empty() {
                        return false;
                    }
                }
            }
        }
    }

    fn reinsert_overflow(&mut self) {
        for (h, d) in std::mem::take(&mut self.overflow) {
            self.place(h, d);
        }
    }

    /// Drops every entry (FLUSHDB).
    pub fn clear(&mut self) {
        let now = self.elapsed;
        *self = ExpiryWheel::new(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_each_entry_once_at_or_after_deadline() {
        let start = 1_700_000_000_000u64;
        let mut w = ExpiryWheel::new(start);
        let deadlines: Vec<u64> = (0..5000u64)
            .map(|i| start + (i * 7919) % 300_000 + 1)
            .collect();
        for (i, d) in deadlines.iter().enumerate() {
            w.insert(i as u64, *d);
        }
        let mut fired = vec![None; deadlines.len()];
        let mut now = start;
        while now < start + 310_000 {
            now += 13;
            w.advance(now, usize::MAX, |h, d| {
                assert!(d <= now);
                assert!(fired[h as usize].is_none());
                fired[h as usize] = Some(now);
            });
        }
        for (i, d) in deadlines.iter().enumerate() {
            let f = fired[i].expect("every entry fires");
            assert!(f >= *d && f < d + 13, "entry {i}: deadline {d} fired {f}");
        }
        assert!(w.is_empty());
    }

    #[test]
    fn budget_defers_work() {
        let mut w = ExpiryWheel::new(1000);
        for i in 0..100 {
            w.insert(i, 1001);
        }
        let mut n = 0;
        assert!(w.advance(2000, 30, |_, _| n += 1));
        assert_eq!(n, 30);
        assert!(!w.advance(2000, 1000, |_, _| n += 1));
        assert_eq!(n, 100);
    }

    #[test]
    fn far_deadlines_overflow() {
        let mut w = ExpiryWheel::new(0);
        w.insert(1, WHEEL_SPAN * 3 + 5);
        let mut got = vec![];
        w.advance(WHEEL_SPAN * 3, usize::MAX, |h, _| got.push(h));
        assert!(got.is_empty());
        w.advance(WHEEL_SPAN * 3 + 5, usize::MAX, |h, _| got.push(h));
        assert_eq!(got, vec![1]);
    }
}
