//! A hierarchical timing wheel (Varghese and Lauck) indexing a shard's keys by deadline.
//!
//! Six levels of 64 slots at 1 ms resolution cover about two years; further deadlines wait
//! in an overflow list. A slot holds key hashes and nothing else: the deadline is the
//! entry's own (read through [`WheelKeys`] when a slot of an upper level is cascaded), and
//! a level-0 slot spans one millisecond, so its keys are due when it is reached. Hashes
//! live in chunks of [`CHUNK`] so a slot's growth slack stays under one chunk, and a slot
//! gives its memory back as soon as it is drained: about 8.3 bytes per key with a TTL
//! (1M keys, 64 shards; the first version stored `(hash, deadline)` in plain `Vec`s, 29).
//!
//! Entries may be stale (the key was deleted or its TTL changed; the new deadline has an
//! index entry of its own): the table is the truth, checked before anything is deleted,
//! and a cascade drops a hash whose key's deadline no longer falls in the slot's span.
//! All work (deletions and cascades alike) is bounded by a budget, so a mass expiry or the
//! cascade of a crowded upper slot is spread over several ticks instead of stalling
//! clients; a slot left half-drained is simply taken again first by the next call.

const LEVELS: usize = 6;
const SLOTS: usize = 64;
const LEVEL_BITS: u32 = 6;
/// Span of the whole wheel in ms (64^6).
const WHEEL_SPAN: u64 = 1 << (LEVEL_BITS as u64 * LEVELS as u64);
/// Hashes per full chunk: 512 bytes, one jemalloc size class, so a chunk wastes nothing.
const CHUNK: usize = 64;

/// What the wheel needs from the table it indexes.
pub trait WheelKeys {
    /// The deadline of the key stored under exactly `hash`, if it has one in
    /// `[from, to)`.
    fn deadline_in(&mut self, hash: u64, from: u64, to: u64) -> Option<u64>;
    /// Deletes the keys found under `hash` whose deadline is at or before `now`;
    /// returns how many.
    fn expire(&mut self, hash: u64, now: u64) -> usize;
}

/// The hashes of one slot: the newest in `head` (a `Vec` growing up to one chunk), older
/// ones in full chunks.
#[derive(Default)]
struct Slot {
    head: Vec<u64>,
    full: Vec<Box<[u64]>>,
}

impl Slot {
    fn push(&mut self, hash: u64) {
        if self.head.len() == CHUNK {
            // Doubling from 4 reaches exactly CHUNK, so this moves the buffer as it is.
            let chunk = std::mem::take(&mut self.head).into_boxed_slice();
            self.full.push(chunk);
        }
        self.head.push(hash);
    }

    fn pop(&mut self) -> Option<u64> {
        if self.head.is_empty() {
            let chunk = self.full.pop()?;
            self.head = chunk.into_vec();
        }
        self.head.pop()
    }

    fn heap_bytes(&self) -> usize {
        self.head.capacity() * 8
            + self.full.capacity() * std::mem::size_of::<Box<[u64]>>()
            + self.full.len() * CHUNK * 8
    }
}

#[derive(Default)]
struct Level {
    occupied: u64,
    /// Allocated on the level's first entry.
    slots: Option<Box<[Slot; SLOTS]>>,
}

/// The wheel of one shard.
pub struct ExpiryWheel {
    /// Time (unix ms) the wheel has advanced to: every slot that starts before it has been
    /// drained, and one starting at it may be draining.
    elapsed: u64,
    levels: [Level; LEVELS],
    /// Deadlines beyond the wheel's span, kept with their deadline (rare).
    overflow: Vec<(u64, u64)>,
    /// Hashes indexed at or before `elapsed` (a deadline already past when set, or a
    /// clock that stepped back), handled before any slot.
    due: Vec<u64>,
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
            levels: Default::default(),
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

    /// Bytes the wheel holds on the heap (INFO's overhead figures), itself included.
    pub fn heap_bytes(&self) -> usize {
        let mut n = std::mem::size_of::<Self>()
            + self.overflow.capacity() * 16
            + self.due.capacity() * 8;
        for lvl in &self.levels {
            if let Some(slots) = &lvl.slots {
                n += std::mem::size_of::<[Slot; SLOTS]>();
                n += slots.iter().map(Slot::heap_bytes).sum::<usize>();
            }
        }
        n
    }

    /// Indexes `hash` under `deadline` (unix ms).
    pub fn insert(&mut self, hash: u64, deadline: u64) {
        self.len += 1;
        self.place(hash, deadline);
    }

    fn place(&mut self, hash: u64, deadline: u64) {
        if deadline <= self.elapsed {
            self.due.push(hash);
            return;
        }
        let level = level_for(self.elapsed, deadline);
        if level >= LEVELS || deadline - self.elapsed >= WHEEL_SPAN {
            self.overflow.push((hash, deadline));
            return;
        }
        let slot = ((deadline >> (level as u32 * LEVEL_BITS)) as usize) % SLOTS;
        let lvl = &mut self.levels[level];
        lvl.slots
            .get_or_insert_with(|| Box::new(std::array::from_fn(|_| Slot::default())))[slot]
            .push(hash);
        lvl.occupied |= 1 << slot;
    }

    /// The start time of the earliest occupied slot across levels, with its position.
    /// On a tie the lower level wins, so a half-drained upper slot (which starts at
    /// `elapsed`) never lets the wheel move past it.
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

    /// Advances to `now`: deletes (through `keys`) the keys whose deadline is at or before
    /// `now` and cascades upper slots, doing at most `budget` units of work (one per hash
    /// handled). Returns true when due work remains (the budget ran out) so the caller can
    /// come back sooner.
    pub fn advance(&mut self, now: u64, budget: usize, keys: &mut impl WheelKeys) -> bool {
        let mut spent = 0;
        // Hashes of `due` whose key is still ahead of `now` (the clock stepped back):
        // kept, and put back once this call is done.
        let mut early = Vec::new();
        let more = 'work: loop {
            while let Some(h) = self.due.pop() {
                if spent >= budget {
                    self.due.push(h);
                    break 'work true;
                }
                spent += 1;
                if keys.expire(h, now) == 0
                    && keys
                        .deadline_in(h, now.saturating_add(1), self.elapsed.saturating_add(1))
                        .is_some()
                {
                    early.push(h);
                } else {
                    self.len -= 1;
                }
            }
            match self.next_slot() {
                Some((start, level, slot)) if start <= now => {
                    let old_window = self.elapsed / WHEEL_SPAN;
                    self.elapsed = self.elapsed.max(start);
                    if self.elapsed / WHEEL_SPAN != old_window {
                        self.reinsert_overflow();
                    }
                    let end = start + slot_range(level);
                    loop {
                        let Some(slots) = self.levels[level].slots.as_mut() else {
                            break;
                        };
                        let Some(h) = slots[slot].pop() else {
                            // Drained: give its memory back.
                            slots[slot] = Slot::default();
                            self.levels[level].occupied &= !(1 << slot);
                            break;
                        };
                        if spent >= budget {
                            slots[slot].push(h);
                            break 'work true;
                        }
                        spent += 1;
                        if level == 0 {
                            // A level-0 slot spans one ms: what it indexes is due now.
                            keys.expire(h, now);
                            self.len -= 1;
                            continue;
                        }
                        match keys.deadline_in(h, start, end) {
                            Some(d) if d <= now => {
                                keys.expire(h, now);
                                self.len -= 1;
                            }
                            Some(d) => self.place(h, d),
                            // The key is gone or its deadline moved (and was indexed
                            // again): a stale entry.
                            None => self.len -= 1,
                        }
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
                        break false;
                    }
                }
            }
        };
        self.due.append(&mut early);
        if self.due.is_empty() && self.due.capacity() > CHUNK {
            self.due = Vec::new();
        }
        more
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
    use std::collections::HashMap;

    /// A table of `hash -> deadline` standing in for a shard, recording what expired.
    #[derive(Default)]
    struct Fake {
        deadlines: HashMap<u64, u64>,
        fired: HashMap<u64, u64>,
    }

    impl WheelKeys for Fake {
        fn deadline_in(&mut self, hash: u64, from: u64, to: u64) -> Option<u64> {
            self.deadlines
                .get(&hash)
                .copied()
                .filter(|d| *d >= from && *d < to)
        }
        fn expire(&mut self, hash: u64, now: u64) -> usize {
            match self.deadlines.get(&hash) {
                Some(d) if *d <= now => {
                    self.deadlines.remove(&hash);
                    assert!(self.fired.insert(hash, now).is_none(), "fired twice");
                    1
                }
                _ => 0,
            }
        }
    }

    impl Fake {
        fn add(&mut self, w: &mut ExpiryWheel, hash: u64, deadline: u64) {
            self.deadlines.insert(hash, deadline);
            w.insert(hash, deadline);
        }
    }

    #[test]
    fn fires_each_entry_once_at_or_after_deadline() {
        let start = 1_700_000_000_000u64;
        let mut w = ExpiryWheel::new(start);
        let mut t = Fake::default();
        let deadlines: Vec<u64> = (0..5000u64)
            .map(|i| start + (i * 7919) % 300_000 + 1)
            .collect();
        for (i, d) in deadlines.iter().enumerate() {
            t.add(&mut w, i as u64, *d);
        }
        let mut now = start;
        while now < start + 310_000 {
            now += 13;
            w.advance(now, usize::MAX, &mut t);
        }
        for (i, d) in deadlines.iter().enumerate() {
            let f = t.fired[&(i as u64)];
            assert!(f >= *d && f < d + 13, "entry {i}: deadline {d} fired {f}");
        }
        assert!(w.is_empty());
    }

    #[test]
    fn budget_defers_work_and_a_slot_resumes_where_it_stopped() {
        let mut w = ExpiryWheel::new(1000);
        let mut t = Fake::default();
        // Same deadline, far enough to sit in an upper level: the cascade itself is
        // budgeted too.
        for i in 0..1000 {
            t.add(&mut w, i, 9000);
        }
        // Before the deadline: the upper slot is cascaded, 64 hashes a call.
        let mut calls = 1;
        while w.advance(8500, 64, &mut t) {
            calls += 1;
            assert!(calls < 100);
        }
        assert_eq!(calls, 1000 / 64 + 1);
        assert!(t.fired.is_empty());
        assert_eq!(w.len(), 1000);
        let mut calls = 1;
        while w.advance(9500, 64, &mut t) {
            calls += 1;
            assert!(calls < 100);
        }
        assert_eq!(calls, 1000 / 64 + 1);
        assert_eq!(t.fired.len(), 1000);
        assert!(t.fired.values().all(|f| *f == 9500));
        assert!(w.is_empty());
    }

    #[test]
    fn stale_entries_are_dropped_and_moved_deadlines_fire_once() {
        let mut w = ExpiryWheel::new(0);
        let mut t = Fake::default();
        t.add(&mut w, 1, 10_000);
        t.add(&mut w, 2, 10_000);
        // Key 1 deleted, key 2's TTL moved later (indexed again), key 3 moved earlier.
        t.deadlines.remove(&1);
        t.add(&mut w, 2, 20_000);
        t.add(&mut w, 3, 15_000);
        t.add(&mut w, 3, 5_000);
        let mut now = 0;
        while now < 30_000 {
            now += 7;
            w.advance(now, usize::MAX, &mut t);
            if let Some(f) = t.fired.get(&2) {
                assert!(*f >= 20_000);
            }
        }
        assert_eq!(t.fired.get(&1), None);
        assert!((20_000..20_007).contains(&t.fired[&2]));
        assert!((5_000..5_007).contains(&t.fired[&3]));
        assert!(w.is_empty(), "{} left", w.len());
        assert_eq!(w.heap_bytes(), std::mem::size_of::<ExpiryWheel>() + {
            // Level arrays stay allocated; every slot gave its memory back.
            w.levels.iter().filter(|l| l.slots.is_some()).count()
                * std::mem::size_of::<[Slot; SLOTS]>()
        });
    }

    #[test]
    fn a_clock_stepping_back_keeps_entries_that_are_not_due() {
        let mut w = ExpiryWheel::new(10_000);
        let mut t = Fake::default();
        // Indexed at the wheel's time, so it waits in the due list.
        t.add(&mut w, 7, 9_000);
        assert!(!w.advance(5_000, 100, &mut t));
        assert!(t.fired.is_empty());
        assert_eq!(w.len(), 1);
        w.advance(9_000, 100, &mut t);
        assert_eq!(t.fired.get(&7), Some(&9_000));
        assert!(w.is_empty());
    }

    #[test]
    fn far_deadlines_overflow() {
        let mut w = ExpiryWheel::new(0);
        let mut t = Fake::default();
        t.add(&mut w, 1, WHEEL_SPAN * 3 + 5);
        w.advance(WHEEL_SPAN * 3, usize::MAX, &mut t);
        assert!(t.fired.is_empty());
        w.advance(WHEEL_SPAN * 3 + 5, usize::MAX, &mut t);
        assert_eq!(t.fired.keys().copied().collect::<Vec<_>>(), vec![1]);
    }

    #[test]
    fn slots_chunk_their_hashes() {
        let mut s = Slot::default();
        for i in 0..1000 {
            s.push(i);
        }
        // 15 full chunks and 40 in a head of capacity 64.
        assert_eq!(s.full.len(), 15);
        assert!(s.heap_bytes() < 1000 * 8 + 64 * 8 + 16 * 16);
        let mut got: Vec<u64> = std::iter::from_fn(|| s.pop()).collect();
        got.sort_unstable();
        assert_eq!(got, (0..1000).collect::<Vec<_>>());
    }
}
