//! The keyspace: databases split into shards, each a `hashbrown::HashTable` of entries
//! behind a `parking_lot` mutex with its own expiry wheel and counters.
//!
//! A key's hash is computed once per command; it picks the shard (bits 40..56, away from
//! the bits hashbrown uses for bucket position and tag) and is reused for the table
//! lookup. A command locks only the shards of its keys; commands with several keys (or
//! several databases) lock them through [`Store::lock_many`], which takes the locks in
//! ascending (db, shard) order so two commands can never deadlock.
//!
//! Bytes per key (issue 4's figure; measured with `scripts/memory.sh`, 1M keys): the
//! table's slot is a 6-byte handle to one variable-length allocation ([`Entry`], see
//! `entry.rs`) holding the access word, the key, the deadline if any (4 bytes for one
//! within 49 days of the start) and the value encoded in as few bytes as it needs; 1M
//! 10-byte keys with 12-byte values cost 47 bytes each (a 32-byte entry, ~15 table at 48%
//! load), and their deadlines fit the same 32 bytes. The bits of a key's hash that its
//! table probe reads are a function of 32 of them ([`expiry::key_hash`]), so the expiry
//! wheel indexes a key by a 4-byte mark: with it a TTL costs ~4 bytes.

pub mod entry;
pub mod evict;
pub mod expiry;
pub mod hash;
pub mod list;
pub mod scan;
pub mod set;
pub mod value;
pub mod zset;

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use hashbrown::HashTable;
use parking_lot::{Mutex, MutexGuard};

pub use entry::{Entry, ValueMut, ValueRef};
pub use expiry::ExpiryWheel;
pub use value::Value;

/// Counters a shard keeps under its own lock, summed for INFO.
#[derive(Default, Clone, Copy, Debug)]
pub struct ShardStats {
    pub expired_keys: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    /// Keys deleted by the maxmemory policy (`evict.rs`).
    pub evicted_keys: u64,
}

/// Keys the store deleted on its own (expiry, eviction) and, when asked, reads that missed,
/// kept only while someone wants to hear of them: keyspace notifications (`expired`,
/// `evicted`, `keymiss`) and client-side caching invalidations, which the command layer
/// publishes after the command or expiry tick. One relaxed load per event when nobody
/// listens.
#[derive(Default)]
pub struct DeletionLog {
    enabled: std::sync::atomic::AtomicBool,
    misses: std::sync::atomic::AtomicBool,
    pending: std::sync::atomic::AtomicUsize,
    entries: Mutex<Vec<Deleted>>,
}

/// What happened to a logged key.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum KeyFate {
    Expired,
    Evicted,
    /// A read found no key (not a deletion: `keymiss` notifications).
    Missed,
}

/// One key deleted by the store itself (or a read miss).
pub struct Deleted {
    pub db: usize,
    pub key: Vec<u8>,
    pub fate: KeyFate,
}

impl DeletionLog {
    /// Whether deletions, and read misses, are logged.
    pub fn set_enabled(&self, deletions: bool, misses: bool) {
        self.enabled.store(deletions, Ordering::Relaxed);
        self.misses.store(misses, Ordering::Relaxed);
    }

    #[inline]
    pub fn record(&self, db: usize, key: &[u8], evicted: bool) {
        if self.enabled.load(Ordering::Relaxed) {
            let fate = if evicted {
                KeyFate::Evicted
            } else {
                KeyFate::Expired
            };
            self.push(db, key, fate);
        }
    }

    #[inline]
    pub fn record_miss(&self, db: usize, key: &[u8]) {
        if self.misses.load(Ordering::Relaxed) {
            self.push(db, key, KeyFate::Missed);
        }
    }

    fn push(&self, db: usize, key: &[u8], fate: KeyFate) {
        self.entries.lock().push(Deleted {
            db,
            key: key.to_vec(),
            fate,
        });
        self.pending.fetch_add(1, Ordering::Relaxed);
    }

    /// Everything recorded so far (empty without a lock when nothing is).
    #[inline]
    pub fn take(&self) -> Vec<Deleted> {
        if self.pending.load(Ordering::Relaxed) == 0 {
            return Vec::new();
        }
        let v = std::mem::take(&mut *self.entries.lock());
        self.pending.fetch_sub(v.len(), Ordering::Relaxed);
        v
    }
}

/// One shard of one database.
pub struct Shard {
    /// One thin pointer per slot (see [`Entry`]), so the table's slack (a power-of-two
    /// table is 44-87% full) costs 6 bytes a slot (8 then) instead of a whole entry: 1M 5-field
    /// hashes took 217 MB with 64-byte entries inline, 147 MB this way (Redis: 152 MB).
    pub table: HashTable<Entry>,
    /// Allocated on the first key with a TTL: most shards of most databases never need one.
    wheel: Option<Box<ExpiryWheel>>,
    /// Keys in this shard that carry a deadline (INFO keyspace `expires`).
    pub expires: usize,
    pub stats: ShardStats,
    /// Bumped whenever the table may have moved entries between buckets (growth, an
    /// in-place rehash, a shrink, a new table), so a SCAN cursor knows its bucket positions
    /// are no longer valid (see `scan.rs`). Anything that reshapes `table` must bump it.
    pub layout_epoch: u32,
    /// Access clocks of the shared integers, common to every shard of the store.
    pub shared_ints: Arc<SharedIntClock>,
    /// The store's log of keys it deleted by itself, and this shard's database index.
    pub deletions: Arc<DeletionLog>,
    pub db: usize,
    /// Eviction settings (LFU parameters, policy), common to every shard of the store.
    pub evict: Arc<evict::Params>,
    /// allkeys-tinylfu's frequency sketch; only while that policy is selected.
    sketch: Option<Box<evict::Sketch>>,
    /// Random state for the LFU counter's logarithmic increment.
    rng: u32,
    /// The store's key hasher (`Store::hash` is `expiry::key_hash` of it), to tell expiry
    /// wheel marks apart.
    hasher: hashbrown::DefaultHashBuilder,
}

/// Redis keeps one object per integer 0..9999 shared by every key holding it, so the
/// access time OBJECT IDLETIME reports for such a key is the shared object's: the last
/// time any key holding that number was looked up, or the server start. Setting a key
/// does not touch it.
pub struct SharedIntClock {
    access: Box<[AtomicU32]>,
}

impl Default for SharedIntClock {
    fn default() -> Self {
        SharedIntClock {
            access: (0..value::SHARED_INTEGERS)
                .map(|_| AtomicU32::new(0))
                .collect(),
        }
    }
}

impl SharedIntClock {
    /// Records an access to the entry's value if it is a shared integer.
    #[inline]
    pub fn touch(&self, e: &Entry, clock: u32) {
        if let Some(a) = e.shared_int().and_then(|i| self.access.get(i)) {
            // Written at most once per LRU clock tick (10 ms) per number, so readers of
            // the same small integers on many threads do not fight over the cache line.
            if a.load(Ordering::Relaxed) != clock {
                a.store(clock, Ordering::Relaxed);
            }
        }
    }

    /// The access clock of a shared integer value, None for any other value.
    pub fn access(&self, v: &Value) -> Option<u32> {
        self.slot(v).map(|a| a.load(Ordering::Relaxed))
    }

    #[inline]
    fn slot(&self, v: &Value) -> Option<&AtomicU32> {
        match v {
            Value::Int(i) if v.is_shared_int() => self.access.get(*i as usize),
            _ => None,
        }
    }
}

/// The compact-encoding thresholds of the collection types, read on every write that may
/// convert an encoding, so they are atomics refreshed from the config (CONFIG SET) rather
/// than a config read per command.
#[derive(Default)]
pub struct EncodingLimits {
    pub list_max_listpack_size: std::sync::atomic::AtomicI64,
    pub hash_max_listpack_entries: std::sync::atomic::AtomicI64,
    pub hash_max_listpack_value: std::sync::atomic::AtomicI64,
    pub set_max_intset_entries: std::sync::atomic::AtomicI64,
    pub zset_max_listpack_entries: std::sync::atomic::AtomicI64,
    pub zset_max_listpack_value: std::sync::atomic::AtomicI64,
    pub hll_sparse_max_bytes: std::sync::atomic::AtomicI64,
}

impl EncodingLimits {
    pub fn from_config(c: &crate::config::Config) -> Self {
        let l = EncodingLimits::default();
        l.refresh(c);
        l
    }

    /// Publishes the config's thresholds (at startup and after CONFIG SET).
    pub fn refresh(&self, c: &crate::config::Config) {
        let r = Ordering::Relaxed;
        self.list_max_listpack_size
            .store(c.list_max_listpack_size, r);
        self.hash_max_listpack_entries
            .store(c.hash_max_listpack_entries, r);
        self.hash_max_listpack_value
            .store(c.hash_max_listpack_value, r);
        self.set_max_intset_entries
            .store(c.set_max_intset_entries, r);
        self.zset_max_listpack_entries
            .store(c.zset_max_listpack_entries, r);
        self.zset_max_listpack_value
            .store(c.zset_max_listpack_value, r);
        self.hll_sparse_max_bytes.store(c.hll_sparse_max_bytes, r);
    }

    #[inline]
    pub fn get(a: &std::sync::atomic::AtomicI64) -> i64 {
        a.load(Ordering::Relaxed)
    }
}

/// Hash a key is stored under, computed by [`Store::hash`].
pub type KeyHash = u64;

impl Default for Shard {
    fn default() -> Self {
        Shard {
            table: HashTable::new(),
            wheel: None,
            expires: 0,
            stats: ShardStats::default(),
            layout_epoch: 0,
            shared_ints: Arc::default(),
            deletions: Arc::default(),
            db: 0,
            evict: Arc::default(),
            sketch: None,
            rng: 0,
            hasher: Default::default(),
        }
    }
}

impl Shard {
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Finds a live entry without side effects on access time or statistics; an expired
    /// entry is deleted first (lazy expiry).
    #[inline]
    pub fn get_mut(&mut self, hash: KeyHash, key: &[u8], now: u64) -> Option<&mut Entry> {
        if self.expire_if_due(hash, key, now) {
            return None;
        }
        self.table.find_mut(hash, |e| e.key() == key)
    }

    /// Read lookup as Redis's `lookupKeyRead`: lazy expiry, hit/miss counting, access time.
    #[inline]
    pub fn lookup_read(
        &mut self,
        hash: KeyHash,
        key: &[u8],
        now: u64,
        clock: u32,
    ) -> Option<&mut Entry> {
        if self.expire_if_due(hash, key, now) {
            self.stats.keyspace_misses += 1;
            self.deletions.record_miss(self.db, key);
            Shard::count_access(&mut self.sketch, hash, self.table.len());
            return None;
        }
        Shard::count_access(&mut self.sketch, hash, self.table.len());
        match self.table.find_mut(hash, |e| e.key() == key) {
            Some(e) => {
                self.stats.keyspace_hits += 1;
                if clock & evict::LFU_MODE == 0 {
                    e.set_access(clock);
                    self.shared_ints.touch(e, clock);
                } else {
                    Shard::lfu_touch(e, clock, &self.evict, &mut self.rng);
                }
                Some(e)
            }
            None => {
                self.stats.keyspace_misses += 1;
                self.deletions.record_miss(self.db, key);
                None
            }
        }
    }

    /// Read lookup that leaves the access time alone, as Redis's `LOOKUP_NOTOUCH` reads
    /// (EXISTS, TYPE, TTL, OBJECT): lazy expiry and hit/miss counting only.
    #[inline]
    pub fn lookup_notouch(&mut self, hash: KeyHash, key: &[u8], now: u64) -> Option<&mut Entry> {
        if self.expire_if_due(hash, key, now) {
            self.stats.keyspace_misses += 1;
            self.deletions.record_miss(self.db, key);
            return None;
        }
        match self.table.find_mut(hash, |e| e.key() == key) {
            Some(e) => {
                self.stats.keyspace_hits += 1;
                Some(e)
            }
            None => {
                self.stats.keyspace_misses += 1;
                self.deletions.record_miss(self.db, key);
                None
            }
        }
    }

    /// Write lookup as Redis's `lookupKeyWrite`: lazy expiry and access time, no counting.
    #[inline]
    pub fn lookup_write(
        &mut self,
        hash: KeyHash,
        key: &[u8],
        now: u64,
        clock: u32,
    ) -> Option<&mut Entry> {
        let expired = self.expire_if_due(hash, key, now);
        Shard::count_access(&mut self.sketch, hash, self.table.len());
        if expired {
            return None;
        }
        let e = self.table.find_mut(hash, |e| e.key() == key)?;
        if clock & evict::LFU_MODE == 0 {
            e.set_access(clock);
            self.shared_ints.touch(e, clock);
        } else {
            Shard::lfu_touch(e, clock, &self.evict, &mut self.rng);
        }
        Some(e)
    }

    /// Deletes the entry for `key` if its deadline has passed. Returns true if it did.
    #[inline]
    fn expire_if_due(&mut self, hash: KeyHash, key: &[u8], now: u64) -> bool {
        if self.expires == 0 {
            return false;
        }
        match self.table.find_entry(hash, |e| e.key() == key) {
            Ok(occ) if occ.get().is_expired(now) => {
                let (e, _) = occ.remove();
                self.deletions.record(self.db, e.key(), false);
                self.expires -= 1;
                self.stats.expired_keys += 1;
                true
            }
            _ => false,
        }
    }

    /// Inserts or replaces the entry's key; returns the previous live entry. The deadline
    /// is indexed.
    pub fn insert(
        &mut self,
        hash: KeyHash,
        entry: Entry,
        now: u64,
        hasher: &impl Fn(&Entry) -> u64,
    ) -> Option<Entry> {
        let old = self.remove(hash, entry.key(), now);
        self.insert_new(hash, entry, hasher);
        old
    }

    /// Inserts an entry whose key is known to be absent.
    pub fn insert_new(&mut self, hash: KeyHash, entry: Entry, hasher: &impl Fn(&Entry) -> u64) {
        if self.table.len() == self.table.capacity() {
            // This insert will grow or rehash the table, moving entries between buckets.
            self.layout_epoch = self.layout_epoch.wrapping_add(1);
        }
        let deadline = entry.expire_at();
        let partner = if deadline != 0 {
            self.mark_partner(hash, entry.key())
        } else {
            None
        };
        self.table.insert_unique(hash, entry, |e| hasher(e));
        if deadline != 0 {
            self.expires += 1;
            self.index_deadline(hash, deadline, partner);
        }
    }

    /// Removes `key` if present (expired entries count as expired, and are not returned).
    pub fn remove(&mut self, hash: KeyHash, key: &[u8], now: u64) -> Option<Entry> {
        match self.table.find_entry(hash, |e| e.key() == key) {
            Ok(occ) => {
                let (e, _) = occ.remove();
                if e.expire_at() != 0 {
                    self.expires -= 1;
                    if e.expire_at() <= now {
                        self.deletions.record(self.db, e.key(), false);
                        self.stats.expired_keys += 1;
                        return None;
                    }
                }
                Some(e)
            }
            Err(_) => None,
        }
    }

    /// Sets or clears (0) the deadline of the live entry for `key`. Returns false if absent.
    pub fn set_expire(&mut self, hash: KeyHash, key: &[u8], deadline: u64, now: u64) -> bool {
        let Some(e) = self.get_mut(hash, key, now) else {
            return false;
        };
        let had = e.expire_at() != 0;
        e.set_expire_at(deadline);
        match (had, deadline != 0) {
            (false, true) => self.expires += 1,
            (true, false) => self.expires -= 1,
            _ => {}
        }
        if deadline != 0 {
            let partner = self.mark_partner(hash, key);
            self.index_deadline(hash, deadline, partner);
        }
        true
    }

    /// The deadline of another key with a deadline whose expiry wheel mark is the one of
    /// `hash` (see `expiry.rs`), if there is one. One probe, and the key of an entry is
    /// hashed only if its tag matches and it has a deadline.
    fn mark_partner(&self, hash: KeyHash, key: &[u8]) -> Option<u64> {
        let mark = expiry::mark_of(hash);
        let hasher = &self.hasher;
        self.table
            .find(expiry::probe_hash(mark), |e| {
                e.expire_at() != 0
                    && e.key() != key
                    && expiry::marks(mark, expiry::key_hash(hasher.hash_one(e.key())))
            })
            .map(|e| e.expire_at())
    }

    /// Indexes the key of `hash` under `deadline`; with a `partner` (the deadline of a
    /// key sharing its mark), both by their exact ticks.
    fn index_deadline(&mut self, hash: KeyHash, deadline: u64, partner: Option<u64>) {
        let wheel = self
            .wheel
            .get_or_insert_with(|| Box::new(ExpiryWheel::new(crate::util::now_ms())));
        match partner {
            None => wheel.insert(hash, deadline),
            Some(other) => {
                wheel.insert_exact(hash, deadline);
                wheel.insert_exact(hash, other);
            }
        }
    }

    /// Active expiry: deletes the keys whose deadline is at or before `now`, doing at most
    /// `budget` table operations' worth of wheel work (see [`ExpiryWheel::advance`]).
    /// `hasher` is the store's ([`Store::entry_hasher`]): a far wheel slot tells its keys
    /// by their hash. Returns (keys deleted, whether due work remains, work done in budget
    /// units). The server's expiry task calls it shard by shard, so it can yield between
    /// them.
    pub fn expire_due(
        &mut self,
        now: u64,
        budget: usize,
        hasher: &impl Fn(&Entry) -> u64,
    ) -> (usize, bool, usize) {
        let Some(wheel) = self.wheel.as_mut() else {
            return (0, false, 0);
        };
        let mut keys = WheelTable {
            table: &mut self.table,
            hasher,
            deleted: 0,
            log: (&self.deletions, self.db),
        };
        let (more, worked) = wheel.advance(now, budget, &mut keys);
        let deleted = keys.deleted;
        self.expires -= deleted;
        self.stats.expired_keys += deleted as u64;
        if deleted > 0 {
            self.shrink_if_sparse(hasher);
        }
        if self.expires == 0 && !more {
            // Drop stale entries and the wheel's memory once nothing can expire here.
            self.wheel = None;
        }
        (deleted, more, worked)
    }

    /// Gives a table that expiry left mostly empty its memory back, as Redis resizes a
    /// dict under 10% full: a mass expiry would otherwise leave the buckets of every key
    /// that was there. The rehash touches only the few keys left (under 1/8 of capacity).
    fn shrink_if_sparse(&mut self, hasher: &impl Fn(&Entry) -> u64) {
        let cap = self.table.capacity();
        if cap > 64 && self.table.len() < cap / 8 {
            self.table.shrink_to(self.table.len() * 2, |e| hasher(e));
            self.layout_epoch = self.layout_epoch.wrapping_add(1);
        }
    }

    /// Bytes the expiry index holds (MEMORY STATS, INFO used_memory_overhead).
    pub fn wheel_bytes(&self) -> usize {
        self.wheel.as_ref().map_or(0, |w| w.heap_bytes())
    }

    /// Removes every entry (FLUSHDB / FLUSHALL).
    pub fn clear(&mut self) {
        self.table = HashTable::new();
        self.wheel = None;
        self.expires = 0;
        self.layout_epoch = self.layout_epoch.wrapping_add(1);
    }

    /// Takes the contents out, leaving an empty shard (FLUSHALL ASYNC frees them elsewhere).
    pub fn take(&mut self) -> HashTable<Entry> {
        let t = std::mem::take(&mut self.table);
        self.wheel = None;
        self.expires = 0;
        self.layout_epoch = self.layout_epoch.wrapping_add(1);
        t
    }
}

/// A shard's table as its expiry wheel sees it (see [`expiry::WheelKeys`]).
struct WheelTable<'a, H> {
    table: &'a mut HashTable<Entry>,
    hasher: &'a H,
    deleted: usize,
    log: (&'a DeletionLog, usize),
}

impl<H: Fn(&Entry) -> u64> expiry::WheelKeys for WheelTable<'_, H> {
    fn deadline_in(&mut self, mark: u32, from: u64, to: u64) -> Option<u64> {
        // The deadline test is cheap and rules out nearly every other candidate before
        // the key is hashed again.
        let hasher = self.hasher;
        self.table
            .find(expiry::probe_hash(mark), |e| {
                let d = e.expire_at();
                d >= from && d < to && d != 0 && expiry::marks(mark, hasher(e))
            })
            .map(|e| e.expire_at())
    }

    fn expire(&mut self, mark: u32, now: u64) -> usize {
        // Any expired entry on this probe path may go (it is expired whoever indexed it),
        // so no key is hashed again here.
        let probe = expiry::probe_hash(mark);
        let mut n = 0;
        while let Ok(occ) = self.table.find_entry(probe, |e| e.is_expired(now)) {
            let (e, _) = occ.remove();
            self.log.0.record(self.log.1, e.key(), false);
            n += 1;
        }
        self.deleted += n;
        n
    }
}

/// One logical database (SELECT index).
pub struct Db {
    pub shards: Box<[Mutex<Shard>]>,
}

impl Db {
    fn new(
        db: usize,
        shards: usize,
        shared_ints: &Arc<SharedIntClock>,
        evict: &Arc<evict::Params>,
        deletions: &Arc<DeletionLog>,
        hasher: &hashbrown::DefaultHashBuilder,
    ) -> Self {
        Db {
            shards: (0..shards)
                .map(|i| {
                    Mutex::new(Shard {
                        db,
                        deletions: deletions.clone(),
                        shared_ints: shared_ints.clone(),
                        evict: evict.clone(),
                        rng: (i as u32).wrapping_mul(0x9E37_79B9) | 1,
                        hasher: hasher.clone(),
                        ..Shard::default()
                    })
                })
                .collect(),
        }
    }

    /// Number of live and not-yet-collected keys.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// All databases.
pub struct Store {
    /// Keys deleted by expiry and eviction, for notifications and invalidation.
    pub deletions: Arc<DeletionLog>,
    pub dbs: Box<[Db]>,
    hasher: hashbrown::DefaultHashBuilder,
    shard_mask: usize,
    started_unix_ms: u64,
    /// maxmemory enforcement: the eviction pool and settings (`evict.rs`).
    pub evictor: evict::Evictor,
}

/// Locks held on several shards, taken in ascending (db, shard) order.
pub struct Locked<'a> {
    guards: Vec<((usize, usize), MutexGuard<'a, Shard>)>,
}

impl<'a> Locked<'a> {
    /// The locked shard of `hash` in `db`. Panics if it was not locked: a bug in the
    /// command, never something a client controls.
    pub fn shard(&mut self, store: &Store, db: usize, hash: KeyHash) -> &mut Shard {
        let k = (db, store.shard_index(hash));
        let i = self
            .guards
            .binary_search_by(|(g, _)| g.cmp(&k))
            .expect("shard locked by lock_many");
        &mut self.guards[i].1
    }

    /// Every locked shard, in lock order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Shard> + use<'_, 'a> {
        self.guards.iter_mut().map(|(_, g)| &mut **g)
    }
}

impl Store {
    /// `databases` databases of `shards` shards each (rounded up to a power of two).
    pub fn new(databases: usize, shards: usize) -> Self {
        let shards = shards.clamp(1, 1 << 16).next_power_of_two();
        // Fixed now, before any key can have a deadline (see `entry::deadline_base`).
        entry::deadline_base();
        let shared_ints = Arc::default();
        let evictor = evict::Evictor::default();
        let deletions = Arc::default();
        let hasher = hashbrown::DefaultHashBuilder::default();
        Store {
            dbs: (0..databases.max(1))
                .map(|db| {
                    Db::new(
                        db,
                        shards,
                        &shared_ints,
                        &evictor.params,
                        &deletions,
                        &hasher,
                    )
                })
                .collect(),
            deletions,
            hasher,
            shard_mask: shards - 1,
            started_unix_ms: crate::util::now_ms(),
            evictor,
        }
    }

    pub fn shards_per_db(&self) -> usize {
        self.shard_mask + 1
    }

    /// The hash of a key: it picks the shard (bits 40..57) and places the key in the
    /// shard's table, by bits that are a function of the 32 an expiry wheel mark keeps
    /// ([`expiry::key_hash`]).
    #[inline]
    pub fn hash(&self, key: &[u8]) -> KeyHash {
        expiry::key_hash(self.hasher.hash_one(key))
    }

    /// The rehash function the shard tables need when they grow.
    #[inline]
    pub fn entry_hasher(&self) -> impl Fn(&Entry) -> u64 + '_ {
        move |e: &Entry| self.hash(e.key())
    }

    #[inline]
    pub fn shard_index(&self, hash: KeyHash) -> usize {
        (hash >> 40) as usize & self.shard_mask
    }

    /// Seconds since start, the clock entries record their last access in.
    #[inline]
    pub fn lru_clock(&self) -> u32 {
        self.lru_clock_at(crate::util::now_ms())
    }

    /// The LRU clock at `now_ms` (unix ms), so a command that already read the time
    /// does not read it again.
    #[inline]
    pub fn lru_clock_at(&self, now_ms: u64) -> u32 {
        (now_ms.saturating_sub(self.started_unix_ms) / 1000) as u32
    }

    #[inline]
    pub fn lock(&self, db: usize, hash: KeyHash) -> MutexGuard<'_, Shard> {
        self.dbs[db].shards[self.shard_index(hash)].lock()
    }

    /// Locks the shards of every `(db, hash)` given, in ascending (db, shard) order.
    pub fn lock_many(&self, keys: impl IntoIterator<Item = (usize, KeyHash)>) -> Locked<'_> {
        let mut idx: Vec<(usize, usize)> = keys
            .into_iter()
            .map(|(db, h)| (db, self.shard_index(h)))
            .collect();
        idx.sort_unstable();
        idx.dedup();
        Locked {
            guards: idx
                .into_iter()
                .map(|(db, s)| ((db, s), self.dbs[db].shards[s].lock()))
                .collect(),
        }
    }

    /// Locks every shard of the given databases (ascending), e.g. for SWAPDB or FLUSHALL.
    pub fn lock_dbs(&self, dbs: &[usize]) -> Locked<'_> {
        let mut d = dbs.to_vec();
        d.sort_unstable();
        d.dedup();
        let mut guards = Vec::new();
        for db in d {
            for (s, m) in self.dbs[db].shards.iter().enumerate() {
                guards.push(((db, s), m.lock()));
            }
        }
        Locked { guards }
    }

    /// Swaps the contents of two databases atomically (SWAPDB).
    pub fn swap_dbs(&self, a: usize, b: usize) {
        if a == b {
            return;
        }
        let (lo, hi) = if a < b { (a, b) } else { (b, a) };
        let mut locked = self.lock_dbs(&[lo, hi]);
        let n = self.shards_per_db();
        let (first, second) = locked.guards.split_at_mut(n);
        for (x, y) in first.iter_mut().zip(second.iter_mut()) {
            std::mem::swap(&mut *x.1, &mut *y.1);
            // The contents moved; each shard keeps the index of the database it is in.
            std::mem::swap(&mut x.1.db, &mut y.1.db);
            // A cursor of either database now points into the other one's table.
            let e = x.1.layout_epoch.max(y.1.layout_epoch).wrapping_add(1);
            x.1.layout_epoch = e;
            y.1.layout_epoch = e;
        }
    }

    /// Sum of the shard counters of every database.
    pub fn stats(&self) -> ShardStats {
        let mut t = ShardStats::default();
        for db in self.dbs.iter() {
            for s in db.shards.iter() {
                let s = s.lock();
                t.expired_keys += s.stats.expired_keys;
                t.keyspace_hits += s.stats.keyspace_hits;
                t.keyspace_misses += s.stats.keyspace_misses;
                t.evicted_keys += s.stats.evicted_keys;
            }
        }
        t
    }

    /// Resets the counters summed by [`Store::stats`] (CONFIG RESETSTAT).
    pub fn reset_stats(&self) {
        for db in self.dbs.iter() {
            for s in db.shards.iter() {
                s.lock().stats = ShardStats::default();
            }
        }
    }

    /// (keys, keys with a deadline) of one database.
    pub fn db_counts(&self, db: usize) -> (usize, usize) {
        let mut keys = 0;
        let mut expires = 0;
        for s in self.dbs[db].shards.iter() {
            let s = s.lock();
            keys += s.len();
            expires += s.expires;
        }
        (keys, expires)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &[u8], expire_at: u64) -> Entry {
        Entry::new(key, Value::string(b"v"), expire_at, 0)
    }

    #[test]
    fn active_expiry_survives_the_clock_stepping_back() {
        let store = Store::new(1, 1);
        let real = crate::util::now_ms();
        let h = store.hash(b"k");
        let mut s = store.lock(0, h);
        // Indexed behind the wheel's clock, so it waits in the wheel's due list.
        s.insert_new(h, entry(b"k", real - 1_000), &store.entry_hasher());
        // A tick whose clock is earlier than the deadline must not drop the entry...
        let hasher = store.entry_hasher();
        let (deleted, more, _) = s.expire_due(real - 5_000, 100, &hasher);
        assert_eq!((deleted, more), (0, false));
        assert_eq!(s.len(), 1);
        // ...so the key is still collected once the clock passes its deadline.
        assert_eq!(s.expire_due(real, 100, &hasher).0, 1);
        assert_eq!(s.len(), 0);
        assert_eq!(s.stats.expired_keys, 1);
    }

    /// Two keys sharing a wheel mark, with deadlines in one upper slot: each is collected
    /// at its own deadline (a cascade alone would carry both marks to one of them).
    #[test]
    fn keys_sharing_a_wheel_mark_both_expire_on_time() {
        let store = Store::new(1, 1);
        let mut seen = std::collections::HashMap::new();
        let (a, b) = (0..1_000_000u32)
            .find_map(|i| {
                let k = format!("k{i}").into_bytes();
                let m = expiry::mark_of(store.hash(&k));
                seen.insert(m, k.clone()).map(|other| (other, k))
            })
            .expect("a pair of 1M keys shares a 32-bit mark");
        let real = crate::util::now_ms();
        let hasher = store.entry_hasher();
        let mut s = store.lock(0, 0);
        // Deadlines 100 s ahead, 300 ms apart: one level-2 slot (33 s), and one level-1
        // slot (512 ms) or two next to each other.
        let (da, db) = (real + 100_000, real + 100_300);
        let (ha, hb) = (store.hash(&a), store.hash(&b));
        s.insert_new(ha, Entry::new(&a, Value::Int(1), da, 0), &hasher);
        s.insert_new(hb, Entry::new(&b, Value::Int(2), 0, 0), &hasher);
        // One through insert, one through a TTL set later.
        assert!(s.set_expire(hb, &b, db, real));
        let mut gone = [None, None];
        let mut now = real;
        while now < real + 101_000 {
            now += 5;
            s.expire_due(now, usize::MAX, &hasher);
            for (i, (h, k)) in [(ha, &a), (hb, &b)].into_iter().enumerate() {
                if gone[i].is_none() && s.table.find(h, |e| e.key() == &k[..]).is_none() {
                    gone[i] = Some(now);
                }
            }
        }
        let (ga, gb) = (gone[0].expect("a collected"), gone[1].expect("b collected"));
        assert!((da..da + 20).contains(&ga), "{ga} vs {da}");
        assert!((db..db + 20).contains(&gb), "{gb} vs {db}");
        assert_eq!(s.stats.expired_keys, 2);
        assert_eq!(s.expires, 0);
    }

    #[test]
    fn swapped_databases_invalidate_scan_positions() {
        let store = Store::new(2, 1);
        let before = store.dbs[0].shards[0].lock().layout_epoch;
        store.swap_dbs(0, 1);
        let a = store.dbs[0].shards[0].lock().layout_epoch;
        let b = store.dbs[1].shards[0].lock().layout_epoch;
        assert_ne!(a, before);
        assert_ne!(b, before);
    }
}
