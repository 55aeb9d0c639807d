//! Walking a database without holding it still: SCAN cursors, KEYS and RANDOMKEY.
//!
//! A SCAN cursor is an opaque `u64` that encodes a position in the database: a shard, a
//! bucket index inside that shard's `hashbrown` table, and a few bits of the shard's
//! `layout_epoch`. Entries of a SwissTable stay in their bucket until the table grows or
//! rehashes (inserts into free slots and removals never move other entries), and every such
//! event bumps `layout_epoch`. So a cursor whose epoch bits still match resumes exactly where
//! it left off, and one whose epoch changed restarts its shard at bucket 0: keys may come
//! twice, never not at all, which is Redis's guarantee for keys present during the whole
//! iteration. Cursor 0 starts an iteration and a returned 0 ends it.
//!
//! A table that grows (or rehashes to drop tombstones) while a shard is being walked makes
//! that shard start over, so, as Redis documents for its own SCAN, an iteration is only sure
//! to end if the database stops growing; bounded churn rarely reshapes a SwissTable.
//!
//! Layout, low bits first: 36 bits of bucket index, `log2(shards)` bits of shard index,
//! and the remaining (at least 12) bits of epoch.

use rand::Rng;

use super::{Entry, Shard, Store};

/// Cursor bits given to the bucket index inside one shard (64 G buckets, far beyond memory).
const BUCKET_BITS: u32 = 36;
const BUCKET_MASK: u64 = (1 << BUCKET_BITS) - 1;

/// Random buckets RANDOMKEY probes in a shard before walking it from a random point.
const RANDOM_PROBES: usize = 16;

/// A decoded cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Position {
    shard: usize,
    bucket: usize,
    epoch: u64,
}

impl Store {
    fn shard_bits(&self) -> u32 {
        self.shards_per_db().trailing_zeros()
    }

    fn epoch_mask(&self) -> u64 {
        let bits = 64 - BUCKET_BITS - self.shard_bits();
        (1u64 << bits) - 1
    }

    fn decode_cursor(&self, cursor: u64) -> Position {
        Position {
            bucket: (cursor & BUCKET_MASK) as usize,
            shard: (cursor >> BUCKET_BITS) as usize & self.shard_mask,
            epoch: cursor >> (BUCKET_BITS + self.shard_bits()),
        }
    }

    fn encode_cursor(&self, p: Position) -> u64 {
        (p.bucket as u64 & BUCKET_MASK)
            | ((p.shard as u64) << BUCKET_BITS)
            | ((p.epoch & self.epoch_mask()) << (BUCKET_BITS + self.shard_bits()))
    }

    /// One SCAN step over database `db` from `cursor`: calls `visit` with every entry found
    /// in the buckets walked (expired ones included, the caller filters), stopping after
    /// `count` entries or `10 * count` buckets, and returns the next cursor (0 when done).
    /// Only one shard is locked at a time.
    pub fn scan(&self, db: usize, cursor: u64, count: usize, mut visit: impl FnMut(&Entry)) -> u64 {
        let count = count.max(1);
        let max_visits = count.saturating_mul(10);
        let Position {
            mut shard,
            mut bucket,
            epoch,
        } = self.decode_cursor(cursor);
        let mut found = 0;
        let mut visited = 0;
        let shards = &self.dbs[db].shards;
        while shard < shards.len() {
            let s = shards[shard].lock();
            if s.table.is_empty() {
                // Costs a lock, not a visit, so small databases finish in one call as in
                // Redis, and trailing empty shards never need a call of their own.
                drop(s);
                shard += 1;
                bucket = 0;
                continue;
            }
            let current = s.layout_epoch as u64 & self.epoch_mask();
            if bucket != 0 && current != epoch {
                // The table moved entries since this cursor was issued: walk it again.
                bucket = 0;
            }
            if found >= count || visited >= max_visits {
                // Only reached after walking an earlier shard, so shard > 0 and the cursor
                // is not 0.
                return self.encode_cursor(Position {
                    shard,
                    bucket,
                    epoch: current,
                });
            }
            let buckets = s.table.num_buckets();
            while bucket < buckets && found < count && visited < max_visits {
                if let Some(e) = s.table.get_bucket(bucket) {
                    visit(e);
                    found += 1;
                }
                bucket += 1;
                visited += 1;
            }
            if bucket < buckets {
                // At least one bucket was walked (count >= 1), so this is never cursor 0.
                return self.encode_cursor(Position {
                    shard,
                    bucket,
                    epoch: current,
                });
            }
            drop(s);
            shard += 1;
            bucket = 0;
        }
        0
    }

    /// Every live key of `db` for which `keep` is true (KEYS). Locks one shard at a time.
    pub fn collect_keys(
        &self,
        db: usize,
        now: u64,
        mut keep: impl FnMut(&[u8]) -> bool,
    ) -> Vec<Box<[u8]>> {
        let mut out = Vec::new();
        for s in self.dbs[db].shards.iter() {
            let s = s.lock();
            for e in s.table.iter() {
                if !e.is_expired(now) && keep(e.key()) {
                    out.push(e.key().into());
                }
            }
        }
        out
    }

    /// A random live key of `db` (RANDOMKEY), or None if it has none. Expired keys met on
    /// the way are deleted, as Redis does. Probes random buckets instead of walking the db.
    pub fn random_key(&self, db: usize, now: u64) -> Option<Box<[u8]>> {
        let shards = &self.dbs[db].shards;
        let mut rng = rand::rng();
        let start = rng.random_range(0..shards.len());
        for i in 0..shards.len() {
            let mut s = shards[(start + i) % shards.len()].lock();
            while !s.table.is_empty() {
                let Some((key, expired)) =
                    random_entry(&s, &mut rng).map(|e| (e.key().into(), e.is_expired(now)))
                else {
                    break;
                };
                if !expired {
                    return Some(key);
                }
                let h = self.hash(&key);
                s.remove(h, &key, now);
            }
        }
        None
    }
}

/// A random occupied bucket of a non-empty shard: a few random probes, then a walk from a
/// random point (which always finds one, so a sparse table costs time, not correctness).
fn random_entry<'a>(s: &'a Shard, rng: &mut impl Rng) -> Option<&'a Entry> {
    let n = s.table.num_buckets();
    if n == 0 || s.table.is_empty() {
        return None;
    }
    for _ in 0..RANDOM_PROBES {
        if let Some(e) = s.table.get_bucket(rng.random_range(0..n)) {
            return Some(e);
        }
    }
    let from = rng.random_range(0..n);
    (0..n).find_map(|i| s.table.get_bucket((from + i) % n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Value;
    use std::collections::HashSet;

    fn put(store: &Store, key: &[u8]) {
        let h = store.hash(key);
        let mut s = store.lock(0, h);
        let e = Entry::new(key, Value::string(b"v"), 0, 0);
        s.insert(h, e, 0, &store.entry_hasher());
    }

    fn del(store: &Store, key: &[u8]) {
        let h = store.hash(key);
        store.lock(0, h).remove(h, key, 0);
    }

    #[test]
    fn cursor_round_trips() {
        for shards in [1, 4, 64, 1 << 16] {
            let store = Store::new(1, shards);
            for p in [
                Position {
                    shard: 0,
                    bucket: 1,
                    epoch: 0,
                },
                Position {
                    shard: shards - 1,
                    bucket: (1 << 36) - 1,
                    epoch: store.epoch_mask(),
                },
            ] {
                assert_eq!(store.decode_cursor(store.encode_cursor(p)), p);
            }
        }
    }

    #[test]
    fn full_scan_survives_growth_and_deletes() {
        let store = Store::new(1, 4);
        let stable: Vec<Vec<u8>> = (0..500).map(|i| format!("s{i}").into_bytes()).collect();
        for k in &stable {
            put(&store, k);
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut round = 0;
        loop {
            cursor = store.scan(0, cursor, 7, |e| {
                seen.insert(e.key().to_vec());
            });
            // Grow the tables (forcing resizes) for a while, then keep churning other keys.
            // Like Redis, a full iteration only promises to end while the size is bounded.
            let adds = if round < 60 { 40 } else { 20 };
            for j in 0..adds {
                put(&store, format!("x{round}-{j}").as_bytes());
            }
            if round > 0 {
                for j in 0..20 {
                    del(&store, format!("x{}-{j}", round - 1).as_bytes());
                }
            }
            round += 1;
            assert!(round < 100_000, "scan does not terminate");
            if cursor == 0 {
                break;
            }
        }
        for k in &stable {
            assert!(seen.contains(k), "lost {:?}", String::from_utf8_lossy(k));
        }
    }

    /// A table at its load limit is full of displaced entries; growing it mid-scan moves
    /// some of them from behind the cursor's bucket to before it. Without the epoch check
    /// those keys would be lost, so try many cursor positions.
    #[test]
    fn growth_at_any_cursor_position_loses_nothing() {
        for trial in 0..300usize {
            let store = Store::new(1, 1);
            let stable: Vec<Vec<u8>> = (0..1000)
                .map(|i| format!("t{trial}:{i}").into_bytes())
                .collect();
            for k in &stable {
                put(&store, k);
            }
            let (len, cap) = {
                let s = store.lock(0, store.hash(b"x"));
                (s.len(), s.table.capacity())
            };
            // Fill to exactly the capacity of the table.
            for i in 0..cap - len {
                put(&store, format!("fill{i}").as_bytes());
            }
            let mut seen = HashSet::new();
            let mut cursor = 0;
            let stop_at = 1 + trial * 3;
            for _ in 0..stop_at {
                cursor = store.scan(0, cursor, 1, |e| {
                    seen.insert(e.key().to_vec());
                });
            }
            put(&store, b"grow"); // the table is full: this insert moves everything
            while cursor != 0 {
                cursor = store.scan(0, cursor, 1, |e| {
                    seen.insert(e.key().to_vec());
                });
            }
            for k in &stable {
                assert!(seen.contains(k), "trial {trial} lost a key");
            }
        }
    }

    #[test]
    fn random_key_finds_the_only_key_and_skips_expired() {
        let store = Store::new(1, 64);
        assert!(store.random_key(0, 10).is_none());
        put(&store, b"only");
        for _ in 0..20 {
            assert_eq!(store.random_key(0, 10).as_deref(), Some(&b"only"[..]));
        }
        let h = store.hash(b"only");
        store.lock(0, h).set_expire(h, b"only", 5, 1);
        assert!(store.random_key(0, 10).is_none());
        assert_eq!(store.db_counts(0), (0, 0));
    }
}
