//! A hierarchical timing wheel (Varghese and Lauck) indexing a shard's keys by deadline.
//!
//! Time runs in ticks of 8 ms ([`GRAIN_BITS`]). A slot of level L spans 64^L ticks and
//! each level is a ring of 128 slots starting at the slot the wheel's time is in: level 0
//! reaches 1 s ahead, level 1 65 s, level 2 70 min, ... up to 34 years; further deadlines
//! wait in an overflow list. A key is indexed under the tick at which every deadline of
//! its 8 ms bucket has passed, at the lowest level that reaches it, so it is collected at
//! most 8 ms after its deadline by the wheel itself (plus the tick period), never before.
//!
//! Each ring spans two slots of the level above, so the upper slot that comes next always
//! fits the level below whole, and the wheel cascades it *ahead of time*, whenever it has
//! nothing due. A wheel of 64-slot levels could only cascade a slot once it was due: a
//! crowded one (one level-1 slot of a million keys spread over 10 s is about 51k keys)
//! was then read through while its first keys were already due, and they came out up to
//! a few hundred ms late.
//!
//! A slot holds one `u32` per key, a *mark*: the 32 bits of the key's hash that its
//! shard table's probe depends on. hashbrown locates an entry by the hash's low bits
//! (bucket position) and its top 7 (tag); [`key_hash`] builds every key's hash so that
//! all the bits a table below 2^40 buckets reads are a function of those 32 bits, so
//! [`probe_hash`] turns a mark back into a hash that finds the key's entry at any table
//! size. Cascading an upper slot reads each key's deadline from the table
//! ([`WheelKeys::deadline_in`]), as a mark has no room for tick bits. Marks live in chunks
//! of [`CHUNK`] so a slot's growth slack stays under one chunk, and a slot gives its
//! memory back as soon as it is drained: about 4.3 bytes per key with a TTL (1M keys, 64
//! shards). The first version, `(hash, deadline)` pairs in plain `Vec`s, took 29; 8-byte
//! marks (the hash with 21 tick bits, so levels 0-3 cascaded without the table) 8.7.
//!
//! Two keys of a shard may share a mark (of n keys with TTLs, about n^2/2^33 pairs), and a
//! cascade, reading "the" deadline of a mark, could then carry one key's mark to the
//! other's tick and drop it there. The shard looks for such a partner when it indexes a
//! deadline ([`ExpiryWheel::insert_exact`]): both keys are then also kept with their exact
//! ticks in a small heap, so each is collected on time whatever their marks do.
//!
//! Marks may be stale (the key was deleted or its TTL changed; a new deadline gets a mark
//! of its own): the table is the truth, checked before anything is deleted. All work is
//! bounded by a budget (a table operation costs [`COST_TABLE`], moving a mark 1), so a mass
//! expiry or the cascade of a crowded upper slot is spread over several calls instead of
//! stalling clients; a slot left half-drained is simply taken again first by the next call.

const LEVELS: usize = 6;
/// A slot of level L spans 64^L ticks.
const LEVEL_BITS: u32 = 6;
/// Slots per level: each level's ring spans two slots of the level above, so the next
/// upper slot always fits below and can be cascaded ahead of time (see the module doc).
const SLOTS: usize = 128;
/// Shift of the top level's slot width: a change of `elapsed >> TOP_SHIFT` may let
/// overflowed deadlines into the wheel.
const TOP_SHIFT: u32 = LEVEL_BITS * (LEVELS as u32 - 1);
/// A tick is 2^GRAIN_BITS ms.
pub const GRAIN_BITS: u32 = 3;
/// Marks per full chunk: 512 bytes, one jemalloc size class, so a chunk wastes nothing.
const CHUNK: usize = 128;
/// The low hash bits a mark keeps as they are (bucket positions up to 2^25 buckets).
const LOW_BITS: u32 = 25;
const LOW_MASK: u64 = (1 << LOW_BITS) - 1;
/// Hash bits 25..40: derived from the mark ([`spread`]), for tables above 2^25 buckets.
const SPREAD_BITS: u32 = 15;
/// Hash bits 40..57, kept from the key's own hash: they pick the shard (see `Store`),
/// whose table never reads them (it would need 2^40 buckets).
const SHARD_BITS: u64 = ((1 << 17) - 1) << 40;
/// Where hashbrown reads its 7-bit tag.
const TAG_SHIFT: u32 = 57;
/// Budget units of an operation on the table (a lookup or a deletion) and of moving a
/// mark within the wheel.
const COST_TABLE: usize = 16;
const COST_MOVE: usize = 1;

const _: () = assert!(
    usize::BITS == 64,
    "marks rely on 64-bit hashbrown bucket positions"
);

/// The mark of a key whose hash is `hash`: the bits its table probe depends on (the low
/// 25 and the top 7).
#[inline]
pub fn mark_of(hash: u64) -> u32 {
    (hash & LOW_MASK) as u32 | ((hash >> TAG_SHIFT) as u32) << LOW_BITS
}

/// True if `hash` (an entry's full hash) is the key a wheel mark stands for.
#[inline]
pub fn marks(mark: u32, hash: u64) -> bool {
    mark_of(hash) == mark
}

/// Hash bits 25..40 as a function of the mark, so they are the same in a key's hash and
/// in the probe hash rebuilt from its mark.
#[inline]
fn spread(mark: u32) -> u64 {
    ((mark as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - SPREAD_BITS)) << LOW_BITS
}

/// A hash to look a mark's key up by: equal to the key's hash in every bit but the shard
/// bits (40..57), which a table reads only from 2^40 buckets on.
#[inline]
pub fn probe_hash(mark: u32) -> u64 {
    (mark as u64 & LOW_MASK) | spread(mark) | ((mark >> LOW_BITS) as u64) << TAG_SHIFT
}

/// The hash a key is stored under, from its hasher's `raw` 64 bits: the shard bits as they
/// are, the rest as [`probe_hash`] rebuilds it from the key's mark. The probe reads bits
/// of which 32 are independent, as many as a 32-bit hash has: at 2^25 buckets and below
/// exactly the bits of `raw` it would read anyway.
#[inline]
pub fn key_hash(raw: u64) -> u64 {
    let mark = (raw & LOW_MASK) as u32 | ((raw >> TAG_SHIFT) as u32) << LOW_BITS;
    probe_hash(mark) | (raw & SHARD_BITS)
}

/// The wheel tick of a deadline: the first tick at whose start every deadline of its 8 ms
/// bucket has passed.
fn tick_of(deadline: u64) -> u64 {
    (deadline >> GRAIN_BITS) + 1
}

/// The tick the wheel may advance to at `now` (ms): a tick `t` is due once `now` reaches
/// the last ms of the bucket before it.
fn clock(now: u64) -> u64 {
    now.saturating_add(1) >> GRAIN_BITS
}

/// What the wheel needs from the table it indexes. `mark` is a wheel mark: look it up by
/// [`probe_hash`] (it finds the key's probe path), and tell the key by [`marks`].
pub trait WheelKeys {
    /// The deadline of the key `mark` stands for, if it has one in `[from, to)`.
    fn deadline_in(&mut self, mark: u32, from: u64, to: u64) -> Option<u64>;
    /// Deletes the keys found on `mark`'s probe path whose deadline is at or before
    /// `now`; returns how many.
    fn expire(&mut self, mark: u32, now: u64) -> usize;
}

/// The marks of one slot: the newest in `head` (a `Vec` growing up to one chunk), older
/// ones in full chunks.
#[derive(Default)]
struct Slot {
    head: Vec<u32>,
    /// Boxed on purpose: chunks are separate allocations, so the list grows by moving
    /// pointers (a `Vec` of arrays would copy them all and keep up to half of them as
    /// doubling slack).
    #[allow(clippy::vec_box)]
    full: Vec<Box<[u32; CHUNK]>>,
}

impl Slot {
    fn push(&mut self, mark: u32) {
        if self.head.len() == CHUNK {
            // Doubling from 4 reaches exactly CHUNK, so this moves the buffer as it is.
            match std::mem::take(&mut self.head).into_boxed_slice().try_into() {
                Ok(chunk) => self.full.push(chunk),
                // Not reached (the length is CHUNK); the head would just grow on.
                Err(head) => self.head = Vec::from(head as Box<[u32]>),
            }
        }
        self.head.push(mark);
    }

    fn pop(&mut self) -> Option<u32> {
        if self.head.is_empty() {
            let chunk: Box<[u32]> = self.full.pop()?;
            self.head = chunk.into_vec();
        }
        self.head.pop()
    }

    fn len(&self) -> usize {
        self.head.len() + self.full.len() * CHUNK
    }

    fn heap_bytes(&self) -> usize {
        self.head.capacity() * 4
            + self.full.capacity() * std::mem::size_of::<Box<[u32; CHUNK]>>()
            + self.full.len() * CHUNK * 4
    }
}

#[derive(Default)]
struct Level {
    /// Bit i: slot i holds marks.
    occupied: u128,
    /// Allocated on the level's first entry.
    slots: Option<Box<[Slot; SLOTS]>>,
}

/// The wheel of one shard.
pub struct ExpiryWheel {
    /// Tick the wheel has advanced to: every level-0 slot before it has been drained, and
    /// the one at it, or an upper slot it is in, may be draining.
    elapsed: u64,
    levels: [Level; LEVELS],
    /// Ticks beyond the wheel's span, kept with their tick (rare).
    overflow: Vec<(u32, u64)>,
    /// Marks indexed at or before `elapsed` (a deadline already past when set, or a clock
    /// that stepped back), handled before any slot.
    due: Vec<u32>,
    /// (tick, mark) of keys whose mark another key with a deadline shares (see the module
    /// doc), earliest first.
    exact: std::collections::BinaryHeap<std::cmp::Reverse<(u64, u32)>>,
    len: usize,
}

fn shift(level: usize) -> u32 {
    LEVEL_BITS * level as u32
}

/// The lowest level whose ring, from the slot `elapsed` is in, reaches `tick` (`LEVELS`
/// if none does). A mark placed above level 0 is thus at least two slots ahead of
/// `elapsed`'s at its level.
fn level_for(elapsed: u64, tick: u64) -> usize {
    (0..LEVELS)
        .find(|&l| (tick >> shift(l)) < (elapsed >> shift(l)) + SLOTS as u64)
        .unwrap_or(LEVELS)
}

fn slot_range(level: usize) -> u64 {
    1u64 << shift(level)
}

/// Why [`ExpiryWheel::drain`] stopped.
enum Drained {
    Empty,
    OutOfBudget,
}

impl ExpiryWheel {
    pub fn new(now: u64) -> Self {
        ExpiryWheel {
            elapsed: clock(now),
            levels: Default::default(),
            overflow: Vec::new(),
            due: Vec::new(),
            exact: Default::default(),
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
        let mut n =
            std::mem::size_of::<Self>() + self.overflow.capacity() * 16 + self.due.capacity() * 4;
        n += self.exact.capacity() * 16;
        for lvl in &self.levels {
            if let Some(slots) = &lvl.slots {
                n += std::mem::size_of::<[Slot; SLOTS]>();
                n += slots.iter().map(Slot::heap_bytes).sum::<usize>();
            }
        }
        n
    }

    /// Indexes the key of `hash` (from [`key_hash`]) under `deadline` (unix ms).
    pub fn insert(&mut self, hash: u64, deadline: u64) {
        self.len += 1;
        let tick = tick_of(deadline);
        self.place(mark_of(hash), tick);
    }

    /// Indexes the key of `hash` under `deadline` by its exact tick: for a key whose mark
    /// another key with a deadline shares (see the module doc).
    pub fn insert_exact(&mut self, hash: u64, deadline: u64) {
        self.len += 1;
        self.exact
            .push(std::cmp::Reverse((tick_of(deadline), mark_of(hash))));
    }

    fn place(&mut self, mark: u32, tick: u64) {
        if tick <= self.elapsed {
            self.due.push(mark);
            return;
        }
        let level = level_for(self.elapsed, tick);
        if level >= LEVELS {
            self.overflow.push((mark, tick));
            return;
        }
        let slot = ((tick >> shift(level)) % SLOTS as u64) as usize;
        let lvl = &mut self.levels[level];
        lvl.slots
            .get_or_insert_with(|| Box::new(std::array::from_fn(|_| Slot::default())))[slot]
            .push(mark);
        lvl.occupied |= 1 << slot;
    }

    /// The start tick of the earliest occupied slot across levels, with its position.
    /// On a tie the lower level wins. An upper slot that `elapsed` is in starts at or
    /// before it: it was left half-drained, and is taken up again first.
    fn next_slot(&self) -> Option<(u64, usize, usize)> {
        let mut best: Option<(u64, usize, usize)> = None;
        for (level, lvl) in self.levels.iter().enumerate() {
            if lvl.occupied == 0 {
                continue;
            }
            let base = self.elapsed >> shift(level);
            let now_slot = (base % SLOTS as u64) as u32;
            let ahead = lvl.occupied.rotate_right(now_slot).trailing_zeros() as u64;
            let start = (base + ahead) << shift(level);
            if best.is_none_or(|(b, _, _)| start < b) {
                best = Some((start, level, ((base + ahead) % SLOTS as u64) as usize));
            }
        }
        best
    }

    /// The lowest upper slot that follows the one `elapsed` is in, if it holds marks: it
    /// fits the ring below it whole, so it may be cascaded before it is due.
    fn next_ahead(&self) -> Option<(u64, usize, usize)> {
        (1..LEVELS).find_map(|level| {
            let next = (self.elapsed >> shift(level)) + 1;
            let slot = (next % SLOTS as u64) as usize;
            (self.levels[level].occupied & 1 << slot != 0).then_some((
                next << shift(level),
                level,
                slot,
            ))
        })
    }

    /// Advances to `now` (unix ms): deletes (through `keys`) the keys whose deadline has
    /// passed and cascades upper slots, spending at most `budget` table operations'
    /// worth of work. With nothing due, it cascades the slots that come next ahead of
    /// time, a share at a time. Returns whether work that cannot wait remains (the budget
    /// ran out), so the caller can come back sooner, and the work done in budget units (a
    /// caller that yields after so much work counts cascading ahead, which deletes
    /// nothing).
    pub fn advance(&mut self, now: u64, budget: usize, keys: &mut impl WheelKeys) -> (bool, usize) {
        let limit = budget.saturating_mul(COST_TABLE);
        let now_tick = clock(now);
        let mut spent = 0;
        // Marks of `due` whose key is still ahead of `now` (the clock stepped back):
        // kept, and put back once this call is done.
        let mut early = Vec::new();
        let more = 'work: loop {
            while let Some(&std::cmp::Reverse((tick, m))) = self.exact.peek() {
                if tick > now_tick {
                    break;
                }
                if spent >= limit {
                    break 'work true;
                }
                self.exact.pop();
                spent += COST_TABLE;
                keys.expire(m, now);
                self.len -= 1;
            }
            while let Some(m) = self.due.pop() {
                if spent >= limit {
                    self.due.push(m);
                    break 'work true;
                }
                spent += COST_TABLE;
                let ahead = now.saturating_add(1)..self.elapsed << GRAIN_BITS;
                if keys.expire(m, now) == 0 && keys.deadline_in(m, ahead.start, ahead.end).is_some()
                {
                    early.push(m);
                } else {
                    self.len -= 1;
                }
            }
            if let Some((start, level, slot)) = self.next_slot().filter(|s| s.0 <= now_tick) {
                self.advance_to(start);
                if let Drained::OutOfBudget =
                    self.drain(level, slot, start, now, limit, &mut spent, keys)
                {
                    break 'work true;
                }
                continue;
            }
            if self.advance_to(now_tick) || !self.due.is_empty() {
                continue;
            }
            // Nothing is due: cascade what comes next, so a crowded upper slot is not
            // read through only once its first keys are due. Paced to be done a quarter
            // of a slot before it is due: this work is not urgent yet, and done all at
            // once it would take clients' time in a burst.
            let Some((start, level, slot)) = self.next_ahead() else {
                break false;
            };
            let left = start - self.elapsed;
            let slack = slot_range(level) / 4;
            let pace = (left > slack + 1).then(|| {
                let marks = self.levels[level]
                    .slots
                    .as_ref()
                    .map_or(0, |s| s[slot].len());
                // Twice the even share of each tick left: calls come about once a tick.
                (marks * 2 / (left - slack) as usize + 1) * COST_TABLE
            });
            let paced_limit = pace.map_or(limit, |p| limit.min(spent + p));
            if let Drained::OutOfBudget =
                self.drain(level, slot, start, now, paced_limit, &mut spent, keys)
            {
                break 'work pace.is_none();
            }
        };
        self.due.append(&mut early);
        if self.due.is_empty() && self.due.capacity() > CHUNK {
            self.due = Vec::new();
        }
        (more, spent.div_ceil(COST_TABLE))
    }

    /// Moves `elapsed` up to `tick` (never back). Returns true if overflowed marks were
    /// placed again (the top level's ring moved).
    fn advance_to(&mut self, tick: u64) -> bool {
        let old_top = self.elapsed >> TOP_SHIFT;
        self.elapsed = self.elapsed.max(tick);
        if self.elapsed >> TOP_SHIFT != old_top && !self.overflow.is_empty() {
            for (m, t) in std::mem::take(&mut self.overflow) {
                self.place(m, t);
            }
            return true;
        }
        false
    }

    /// Empties the slot `slot` of `level` (starting at tick `start`): a level-0 mark's key
    /// is deleted, an upper one's deadline is read from the table and the mark placed
    /// lower (or its key deleted if due by `now`; a stale mark is dropped).
    #[allow(clippy::too_many_arguments)]
    fn drain(
        &mut self,
        level: usize,
        slot: usize,
        start: u64,
        now: u64,
        limit: usize,
        spent: &mut usize,
        keys: &mut impl WheelKeys,
    ) -> Drained {
        let now_tick = clock(now);
        let range = slot_range(level);
        while let Some(slots) = self.levels[level].slots.as_mut() {
            let Some(m) = slots[slot].pop() else {
                // Drained: give its memory back.
                slots[slot] = Slot::default();
                self.levels[level].occupied &= !(1 << slot);
                return Drained::Empty;
            };
            if *spent >= limit {
                slots[slot].push(m);
                return Drained::OutOfBudget;
            }
            // The key's tick: a level-0 slot is one tick; above, the table says (a stale
            // mark finds no deadline in this slot).
            let tick = if level == 0 {
                *spent += COST_MOVE;
                Some(start)
            } else {
                *spent += COST_TABLE;
                let from = (start - 1) << GRAIN_BITS;
                let to = (start + range - 1) << GRAIN_BITS;
                keys.deadline_in(m, from, to).map(tick_of)
            };
            match tick {
                Some(t) if t <= now_tick => {
                    *spent += COST_TABLE;
                    keys.expire(m, now);
                    self.len -= 1;
                }
                Some(t) => self.place(m, t),
                None => self.len -= 1,
            }
        }
        Drained::Empty
    }

    /// Drops every entry (FLUSHDB).
    pub fn clear(&mut self) {
        *self = ExpiryWheel {
            elapsed: self.elapsed,
            levels: Default::default(),
            overflow: Vec::new(),
            due: Vec::new(),
            exact: Default::default(),
            len: 0,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A table of `mark -> deadline` standing in for a shard (hashes below 2^25, so a
    /// key's mark is its hash), recording when each key expired.
    #[derive(Default)]
    struct Fake {
        deadlines: HashMap<u32, u64>,
        fired: HashMap<u32, u64>,
        /// The `now` of the current `advance`, and (now, from) of every deadline read.
        now: u64,
        reads: Vec<(u64, u64)>,
    }

    impl WheelKeys for Fake {
        fn deadline_in(&mut self, mark: u32, from: u64, to: u64) -> Option<u64> {
            self.reads.push((self.now, from));
            self.deadlines
                .get(&mark)
                .copied()
                .filter(|d| *d >= from && *d < to)
        }
        fn expire(&mut self, mark: u32, now: u64) -> usize {
            let h = mark;
            match self.deadlines.get(&h) {
                Some(d) if *d <= now => {
                    self.deadlines.remove(&h);
                    assert!(self.fired.insert(h, now).is_none(), "fired twice");
                    1
                }
                _ => 0,
            }
        }
    }

    impl Fake {
        fn add(&mut self, w: &mut ExpiryWheel, hash: u64, deadline: u64) {
            self.deadlines.insert(mark_of(hash), deadline);
            w.insert(hash, deadline);
        }
    }

    /// Ticks are 8 ms: a key goes within one grain after its deadline, plus the step of
    /// the calls.
    const GRAIN: u64 = 1 << GRAIN_BITS;

    #[test]
    fn fires_each_entry_once_at_or_after_deadline() {
        fires_each_entry_once_with_budget(usize::MAX);
    }

    /// The same with slots left half-drained all the time.
    #[test]
    fn fires_each_entry_once_with_a_small_budget() {
        fires_each_entry_once_with_budget(3);
    }

    fn fires_each_entry_once_with_budget(budget: usize) {
        let start = 1_700_000_000_000u64;
        let mut w = ExpiryWheel::new(start);
        let mut t = Fake::default();
        // Deadlines up to ~58 hours ahead reach every level, the table-read ones included.
        let deadlines: Vec<u64> = (0..5000u64)
            .map(|i| start + (i * 7919) % 300_000 + 1 + if i % 10 == 0 { i * 42_000 } else { 0 })
            .collect();
        for (i, d) in deadlines.iter().enumerate() {
            t.add(&mut w, i as u64, *d);
        }
        let mut now = start;
        let end = *deadlines.iter().max().unwrap() + 100;
        while now < end {
            // Fine steps while keys are near, coarse ones later.
            now += if now < start + 310_000 { 13 } else { 9_973 };
            while w.advance(now, budget, &mut t).0 {}
        }
        for (i, d) in deadlines.iter().enumerate() {
            let f = t.fired[&(i as u32)];
            let step = if *d < start + 310_000 { 13 } else { 9_973 };
            assert!(
                f >= *d && f < d + GRAIN + step,
                "entry {i}: deadline {d} fired {f}"
            );
        }
        assert!(w.is_empty());
    }

    #[test]
    fn budget_defers_work_and_a_slot_resumes_where_it_stopped() {
        let mut w = ExpiryWheel::new(0);
        let mut t = Fake::default();
        // One deadline in level 2's slot 3 (ticks 12288..16384 = 98.3..131 s).
        for i in 0..1000 {
            t.add(&mut w, i, 100_000);
        }
        assert_eq!(w.levels[2].occupied, 1 << 3);
        // Slot 3 is cascaded ahead of time, a share per call, from when the wheel is in
        // slot 2 (65.5 s on). A quarter of a slot (8.2 s) before it is due, what is left
        // cannot wait: one table read per mark, 4 per call (budget 4).
        let mut calls = 1;
        while w.advance(95_000, 4, &mut t).0 {
            calls += 1;
            assert!(calls < 1000);
        }
        assert_eq!(calls, 1000usize.div_ceil(4));
        assert!(t.fired.is_empty());
        assert_eq!(w.len(), 1000);
        assert_eq!(w.levels[2].occupied, 0);
        assert_eq!(w.levels[1].occupied, 1 << ((12_501 >> 6) % SLOTS));
        let mut calls = 1;
        while w.advance(100_500, 64, &mut t).0 {
            calls += 1;
            assert!(calls < 100);
        }
        assert!(calls >= 1000 / 64, "{calls}");
        assert_eq!(t.fired.len(), 1000);
        assert!(t.fired.values().all(|f| *f == 100_500));
        assert!(w.is_empty());
    }

    #[test]
    fn stale_entries_are_dropped_and_moved_deadlines_fire_once() {
        let mut w = ExpiryWheel::new(0);
        let mut t = Fake::default();
        t.add(&mut w, 1, 10_000);
        t.add(&mut w, 2, 10_000);
        // Key 1 deleted, key 2's TTL moved later (indexed again), key 3 moved earlier,
        // key 4 far (a table-read level) then moved near.
        t.deadlines.remove(&1);
        t.add(&mut w, 2, 20_000);
        t.add(&mut w, 3, 15_000);
        t.add(&mut w, 3, 5_000);
        t.add(&mut w, 4, 400_000_000);
        t.add(&mut w, 4, 25_000);
        let mut now = 0;
        while now < 30_000 {
            now += 7;
            w.advance(now, usize::MAX, &mut t);
            if let Some(f) = t.fired.get(&2) {
                assert!(*f >= 20_000);
            }
        }
        assert_eq!(t.fired.get(&1), None);
        assert!((20_000..20_000 + 7 + GRAIN).contains(&t.fired[&2]));
        assert!((5_000..5_000 + 7 + GRAIN).contains(&t.fired[&3]));
        assert!((25_000..25_000 + 7 + GRAIN).contains(&t.fired[&4]));
        // Key 4's old mark waits in a far slot until the table says it is stale.
        assert_eq!(w.len(), 1);
        w.advance(500_000_000, usize::MAX, &mut t);
        assert!(w.is_empty(), "{} left", w.len());
        let levels = w.levels.iter().filter(|l| l.slots.is_some()).count();
        // Level arrays stay allocated; every slot gave its memory back.
        assert_eq!(
            w.heap_bytes(),
            std::mem::size_of::<ExpiryWheel>() + levels * std::mem::size_of::<[Slot; SLOTS]>()
        );
    }

    /// A crowded upper slot is read through before its first key is due, so its keys
    /// are collected on time however many there are.
    #[test]
    fn upper_slots_are_cascaded_ahead_of_time() {
        let mut w = ExpiryWheel::new(0);
        let mut t = Fake::default();
        // Deadlines over 5.0..6.5 s: level 1's slots 9..12 (512 ms each).
        for i in 0..3000u64 {
            t.add(&mut w, i, 5_000 + i * 7919 % 1500);
        }
        let mut now = 0;
        while now < 7_000 {
            now += 7;
            t.now = now;
            while w.advance(now, 16, &mut t).0 {}
        }
        assert_eq!(t.fired.len(), 3000);
        assert_eq!(t.reads.len(), 3000);
        for (i, f) in &t.fired {
            let d = 5_000 + *i as u64 * 7919 % 1500;
            assert!(*f >= d && *f < d + GRAIN + 7, "{i}: {d} fired {f}");
        }
        // Each slot was read before it was due (by more than the time of a slot's
        // quarter, 128 ms, less two calls).
        for (now, from) in &t.reads {
            assert!(
                *now + 100 < *from,
                "read at {now} for a slot starting at {from}"
            );
        }
    }

    /// Cascading ahead of time is spread over the slot before: no call does much of it.
    #[test]
    fn cascading_ahead_is_paced() {
        let mut w = ExpiryWheel::new(0);
        let mut t = Fake::default();
        // 6400 keys in level 1's slot 3 (1536..2048 ms), cascaded while the wheel is in
        // slot 2 (1024..1536 ms).
        for i in 0..6400u64 {
            t.add(&mut w, i, 1_540 + i % 400);
        }
        let mut per_call = Vec::new();
        let mut now = 1_000;
        while now < 2_000 {
            now += 10;
            let before = t.reads.len();
            assert!(!w.advance(now, 10_000, &mut t).0, "{now}");
            per_call.push(t.reads.len() - before);
        }
        assert_eq!(t.reads.len(), 6400);
        // 48 ticks (384 ms) to do it in: twice the even share is about 270 per call.
        assert!(per_call.iter().all(|n| *n <= 300), "{per_call:?}");
        // Done a quarter of a slot (128 ms) before the slot is due, at 1536 ms.
        assert_eq!(per_call[..40].iter().sum::<usize>(), 6400, "{per_call:?}");
        assert_eq!(t.fired.len(), 6400);
    }

    #[test]
    fn a_clock_stepping_back_keeps_entries_that_are_not_due() {
        let mut w = ExpiryWheel::new(10_000);
        let mut t = Fake::default();
        // Indexed behind the wheel's time, so it waits in the due list.
        t.add(&mut w, 7, 9_000);
        assert!(!w.advance(5_000, 100, &mut t).0);
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
        let far = (((SLOTS as u64 * 3) << TOP_SHIFT) << GRAIN_BITS) + 40;
        t.add(&mut w, 1, far);
        assert_eq!(w.overflow.len(), 1);
        w.advance(far - 1000, usize::MAX, &mut t);
        assert!(t.fired.is_empty());
        w.advance(far + GRAIN, usize::MAX, &mut t);
        assert_eq!(t.fired.keys().copied().collect::<Vec<_>>(), vec![1]);
    }

    /// What marks rely on: hashbrown finds an entry by the low bits and the top 7 bits of
    /// its hash, and a key's hash differs from its mark's probe hash only in bits 40..57,
    /// so the probe hash finds it too, at every table size.
    #[test]
    fn a_mark_finds_its_entry_in_a_hashbrown_table() {
        use std::hash::BuildHasher;
        let build = hashbrown::DefaultHashBuilder::default();
        let hash = |x: u64| key_hash(build.hash_one(x));
        let mut table = hashbrown::HashTable::new();
        for i in 0..200_000u64 {
            table.insert_unique(hash(i), i, |x| hash(*x));
            if i.is_power_of_two() || i % 49_999 == 0 {
                for j in (0..=i).step_by((i as usize / 500).max(1)) {
                    let h = hash(j);
                    let m = mark_of(h);
                    assert!(marks(m, h));
                    assert_eq!(probe_hash(m) & !SHARD_BITS, h & !SHARD_BITS);
                    let found = table.find(probe_hash(m), |x| *x == j);
                    assert_eq!(found, Some(&j), "{i} {j}");
                }
            }
        }
        // The shard bits are the raw hash's, the table's bits the mark's.
        let raw = build.hash_one(7u64);
        assert_eq!(key_hash(raw) & SHARD_BITS, raw & SHARD_BITS);
        assert_eq!(key_hash(raw) & LOW_MASK, raw & LOW_MASK);
        assert_eq!(key_hash(raw) >> TAG_SHIFT, raw >> TAG_SHIFT);
    }

    #[test]
    fn slots_chunk_their_marks() {
        let mut s = Slot::default();
        for i in 0..1000 {
            s.push(i);
        }
        // 7 full chunks and 104 in a head of capacity 128.
        assert_eq!(s.full.len(), 7);
        assert!(s.heap_bytes() < 1000 * 4 + 128 * 4 + 8 * 8);
        let mut got: Vec<u32> = std::iter::from_fn(|| s.pop()).collect();
        got.sort_unstable();
        assert_eq!(got, (0..1000).collect::<Vec<_>>());
    }
}
