//! The memory budget: `maxmemory` enforcement and the eviction policies.
//!
//! Before every command, while `maxmemory` is set, [`Store::enforce_maxmemory`] compares
//! the precise memory figure ([`crate::memory::used_memory_now`]) with the budget and, if
//! it is over, evicts keys until it is not, as Redis's `performEvictions` does. If the
//! policy finds nothing to evict (`noeviction`, or a `volatile-*` policy with no key that
//! has a TTL) the caller refuses commands flagged `denyoom` with the OOM error. As in
//! Redis, one call evicts for a bounded time (`maxmemory-eviction-tenacity`); what is left
//! is evicted by the next commands and the cron, and the command runs meanwhile.
//!
//! The policies are Redis's: `allkeys-`/`volatile-` `lru`, `lfu`, `random`, and
//! `volatile-ttl`, with the same approximations, so their hit ratios are Redis's. The
//! eviction pool of 16 candidates is kept across calls ([`EVPOOL_SIZE`]); each round adds
//! `maxmemory-samples` keys sampled from one shard (a random bucket of its table and the
//! occupied buckets after it), and the best candidate in the pool, whatever its shard or
//! database, is evicted. The budget is global and so is the choice: a shard that takes all
//! the writes cannot blow the budget, it simply supplies more of the candidates.
//!
//! What a policy sees is the entry's 31-bit access word, as Redis's `robj->lru`: the LRU
//! clock (10 ms ticks, [`LRU_TICK_MS`]) under LRU policies, or the LFU data (16 bits of minutes and an 8-bit
//! logarithmic counter, `LFULogIncr`/`LFUDecrAndReturn` exactly as Redis's) under LFU
//! ones. [`Store::access_stamp`] gives the word a command stamps on entries it creates
//! or touches; under LFU it carries [`LFU_MODE`] so the lookups know to update the
//! counter instead of storing the stamp. Switching policy at run time reinterprets the
//! words, as in Redis ("LRU and LFU data will take some time to adjust").
//!
//! One more policy, `allkeys-tinylfu`, is this server's own: TinyLFU (Einziger, Friedman
//! and Manes, "TinyLFU: A Highly Efficient Cache Admission Policy", ACM ToS 2017; the
//! admission filter of Caffeine's W-TinyLFU). Of the published results it fits a sampled
//! design best: it needs no per-key list links (S3-FIFO and ARC need queues threading
//! the entries, which would cost bytes per key, the figure this server drives down), only
//! a small count-min sketch per shard, and it beats LRU by a wide margin on skewed
//! (Zipf-like) traffic, where frequency predicts reuse better than recency. Each shard
//! counts every lookup of a key, hit or miss, in a count-min sketch of 4-bit counters
//! that are halved every ten accesses per counter width ([`Sketch`]); so a key that is
//! asked for while absent builds up frequency before it is written. Victims are the
//! sampled keys with the lowest estimated frequency (older access first among equals),
//! and a key just written competes with that victim: if its frequency is not higher, the
//! new key is the one evicted (the admission filter). The sketches exist only while the
//! policy is selected. Without the "window" of W-TinyLFU a burst of new keys that are
//! about to become popular needs a few requests to get in; the misses they take count
//! toward their frequency, which is what the window buys in Caffeine.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;

use super::{Entry, KeyHash, Shard, Store};

/// Candidates kept between eviction rounds (Redis's EVPOOL_SIZE).
pub const EVPOOL_SIZE: usize = 16;
/// The LFU counter of a new key (Redis's LFU_INIT_VAL).
pub const LFU_INIT_VAL: u32 = 5;
/// Set in an access stamp when an LFU policy is selected (and kept in the LFU words the
/// entries store): bit 30, above any LRU clock (34 years of seconds) and the 24 LFU bits,
/// below the entry's own flag bit.
pub const LFU_MODE: u32 = 1 << 30;
/// The bits of an access word that hold the LRU clock.
pub const LRU_MASK: u32 = LFU_MODE - 1;
/// The LRU clock's tick. Redis ticks once a second, which makes every key touched in the
/// same second equal to its LRU: over a trace of a few seconds its allkeys-lru is little
/// better than random. A 10 ms tick keeps the same algorithm with a finer order; 30 bits of
/// it wrap after 124 days (Redis's 24 bits of seconds: 194 days), and an idle time longer
/// than that reads modulo the wrap, as in Redis.
pub const LRU_TICK_MS: u64 = 10;
/// How long a list of non-empty shards is trusted before it is taken again.
const SHARD_LIST_TTL_MS: u128 = 100;
/// Written keys waiting for their admission check (allkeys-tinylfu).
const RECENT_WRITES: usize = 8;

/// A `maxmemory-policy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Policy {
    NoEviction = 0,
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
    AllkeysLru,
    AllkeysLfu,
    AllkeysRandom,
    /// This server's own: TinyLFU admission and sketch-frequency eviction (module doc).
    AllkeysTinyLfu,
}

/// Names in the order of the enum's discriminants.
const NAMES: [&str; 9] = [
    "noeviction",
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "allkeys-tinylfu",
];

impl Policy {
    const ALL: [Policy; 9] = [
        Policy::NoEviction,
        Policy::VolatileLru,
        Policy::VolatileLfu,
        Policy::VolatileRandom,
        Policy::VolatileTtl,
        Policy::AllkeysLru,
        Policy::AllkeysLfu,
        Policy::AllkeysRandom,
        Policy::AllkeysTinyLfu,
    ];

    /// The policy of a `maxmemory-policy` value (already lower-case, as the config keeps
    /// it); unknown names are noeviction.
    pub fn from_name(name: &str) -> Policy {
        NAMES
            .iter()
            .position(|n| n.eq_ignore_ascii_case(name))
            .map_or(Policy::NoEviction, |i| Policy::ALL[i])
    }

    pub fn name(self) -> &'static str {
        NAMES[self as usize]
    }

    fn from_u8(v: u8) -> Policy {
        Policy::ALL
            .get(v as usize)
            .copied()
            .unwrap_or(Policy::NoEviction)
    }

    /// Redis's MAXMEMORY_FLAG_LFU: the access word holds LFU data.
    pub fn is_lfu(self) -> bool {
        matches!(self, Policy::VolatileLfu | Policy::AllkeysLfu)
    }

    /// Redis's MAXMEMORY_FLAG_LRU.
    pub fn is_lru(self) -> bool {
        matches!(self, Policy::VolatileLru | Policy::AllkeysLru)
    }

    /// Redis's MAXMEMORY_FLAG_ALLKEYS: candidates are all keys, not only those with a TTL.
    pub fn all_keys(self) -> bool {
        matches!(
            self,
            Policy::AllkeysLru
                | Policy::AllkeysLfu
                | Policy::AllkeysRandom
                | Policy::AllkeysTinyLfu
        )
    }

    /// Whether keys may share the integer objects 0..9999 (Redis turns sharing off under
    /// LRU and LFU policies, whose per-key access data a shared object cannot hold).
    pub fn shares_integers(self) -> bool {
        !(self.is_lru() || self.is_lfu() || self == Policy::AllkeysTinyLfu)
    }

    fn uses_pool(self) -> bool {
        !matches!(
            self,
            Policy::NoEviction | Policy::AllkeysRandom | Policy::VolatileRandom
        )
    }
}

/// The eviction settings every shard can read without the config lock, refreshed from the
/// config at startup and after CONFIG SET ([`Store::configure_eviction`]).
pub struct Params {
    policy: AtomicU8,
    samples: AtomicU32,
    lfu_log_factor: AtomicU32,
    lfu_decay_time: AtomicU32,
    tenacity: AtomicU32,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            policy: AtomicU8::new(Policy::NoEviction as u8),
            samples: AtomicU32::new(5),
            lfu_log_factor: AtomicU32::new(10),
            lfu_decay_time: AtomicU32::new(1),
            tenacity: AtomicU32::new(10),
        }
    }
}

impl Params {
    #[inline]
    pub fn policy(&self) -> Policy {
        Policy::from_u8(self.policy.load(Ordering::Relaxed))
    }

    pub fn lfu_decay_time(&self) -> u32 {
        self.lfu_decay_time.load(Ordering::Relaxed)
    }

    /// Redis's `evictionTimeLimitUs`: how long one call may evict.
    fn time_limit_us(&self) -> u64 {
        let t = self.tenacity.load(Ordering::Relaxed).min(100);
        if t <= 10 {
            50 * t as u64
        } else if t < 100 {
            (500.0 * 1.15f64.powi(t as i32 - 10)) as u64
        } else {
            u64::MAX
        }
    }
}

// ---------------------------------------------------------------------------------------
// LFU, as Redis's evict.c

/// Minutes in 16 bits (Redis's `LFUGetTimeInMinutes`) at unix ms `now_ms`.
#[inline]
pub fn lfu_minutes(now_ms: u64) -> u32 {
    ((now_ms / 60_000) & 0xFFFF) as u32
}

/// Minutes since `ldt`, the clock wrapping at most once (`LFUTimeElapsed`).
#[inline]
fn lfu_time_elapsed(ldt: u32, now: u32) -> u32 {
    if now >= ldt {
        now - ldt
    } else {
        65535 - ldt + now
    }
}

/// The counter of an LFU word, decayed by one per `decay_time` minutes elapsed since its
/// last decrement time (`LFUDecrAndReturn`); the word itself is not changed.
#[inline]
pub fn lfu_decr_and_return(word: u32, now_minutes: u32, decay_time: u32) -> u32 {
    let ldt = (word >> 8) & 0xFFFF;
    let counter = word & 255;
    let periods = lfu_time_elapsed(ldt, now_minutes)
        .checked_div(decay_time)
        .unwrap_or(0);
    counter.saturating_sub(periods)
}

/// Logarithmic increment (`LFULogIncr`): the higher the counter, the less likely it
/// grows; `r` is uniform in [0, 1].
#[inline]
pub fn lfu_log_incr(counter: u32, log_factor: u32, r: f64) -> u32 {
    if counter >= 255 {
        return 255;
    }
    let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
    let p = 1.0 / (base * log_factor as f64 + 1.0);
    if r < p {
        counter + 1
    } else {
        counter
    }
}

impl Shard {
    /// Redis's `updateLFU` on an access: decay, increment, stamp the minutes. `stamp` is
    /// the command's access stamp (LFU_MODE set; its minutes in bits 8..24).
    #[inline]
    pub(super) fn lfu_touch(e: &mut Entry, stamp: u32, params: &Params, rng: &mut u32) {
        let now = (stamp >> 8) & 0xFFFF;
        let decay = params.lfu_decay_time.load(Ordering::Relaxed);
        let counter = lfu_decr_and_return(e.access(), now, decay);
        let counter = if counter >= 255 {
            255
        } else {
            let r = xorshift32(rng) as f64 / u32::MAX as f64;
            lfu_log_incr(counter, params.lfu_log_factor.load(Ordering::Relaxed), r)
        };
        e.set_access(LFU_MODE | (now << 8) | counter);
    }

    /// Counts an access to `hash` in the frequency sketch, if the shard keeps one.
    #[inline]
    pub(super) fn count_access(sketch: &mut Option<Box<Sketch>>, hash: KeyHash, keys: usize) {
        if let Some(s) = sketch.as_deref_mut() {
            s.increment(hash, keys);
        }
    }

    /// The sketch's frequency estimate of `hash` (0 without a sketch): allkeys-tinylfu's
    /// OBJECT FREQ.
    pub fn sketch_frequency(&self, hash: KeyHash) -> Option<u32> {
        self.sketch.as_deref().map(|s| s.estimate(hash))
    }
}

/// LRU ticks from `access` to `now`, modulo the clock's wrap. A stamp up to 10 s ahead of
/// `now` (another thread's command began after this one and touched the key first, or the
/// wall clock stepped back) is 0, not a wrap of 124 days.
#[inline]
fn idle_ticks(now: u32, access: u32) -> u32 {
    const AHEAD: u32 = (10_000 / LRU_TICK_MS) as u32;
    let d = now.wrapping_sub(access & LRU_MASK) & LRU_MASK;
    if d > LRU_MASK - AHEAD {
        0
    } else {
        d
    }
}

#[inline]
fn xorshift32(s: &mut u32) -> u32 {
    let mut x = *s;
    if x == 0 {
        x = 0x9E37_79B9;
    }
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    x
}

#[inline]
fn xorshift64(s: &mut u64) -> u64 {
    let mut x = *s;
    if x == 0 {
        x = 0x9E37_79B9_7F4A_7C15;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    x
}

// ---------------------------------------------------------------------------------------
// The frequency sketch of allkeys-tinylfu

/// A count-min sketch of 4-bit counters, depth 4, with TinyLFU's aging: after `10 * width`
/// increments every counter is halved, so frequencies follow the recent past. Increments
/// are conservative (only the smallest of a key's four counters grow), which keeps the
/// estimates of rare keys close to their true count. The width follows the shard's key
/// count: when the keys outnumber the counters of a row, the sketch starts over twice as
/// wide as the keys (rounded up to a power of two), so it costs 2 to 8 bytes per key
/// (Caffeine's: 8). Starting over loses the counts, but growth only happens while a
/// shard fills up, before eviction needs them. Two variants measured worse in
/// `scripts/hitratio.sh` at Zipf 0.8 (hit ratio 0.526 with this rule): carrying the
/// counts over when growing (each counter split in two, 0.512) and growing as soon as
/// the keys reach half a row (0.514).
pub struct Sketch {
    /// 16 counters per word; row `i` occupies counters `i * width .. (i + 1) * width`.
    table: Box<[u64]>,
    width_log: u32,
    additions: u32,
    sample: u32,
}

/// Odd multipliers that give each row its own index from the key hash.
const SKETCH_SEEDS: [u64; 4] = [
    0x9E37_79B9_7F4A_7C15,
    0xC2B2_AE3D_27D4_EB4F,
    0x1656_67B1_9E37_79F9,
    0xD6E8_FEB8_6659_FD93,
];

impl Sketch {
    fn new(keys: usize) -> Sketch {
        let width = keys.max(64).next_power_of_two();
        Sketch {
            table: vec![0u64; width * 4 / 16].into_boxed_slice(),
            width_log: width.trailing_zeros(),
            additions: 0,
            sample: (10 * width).min(u32::MAX as usize) as u32,
        }
    }

    fn width(&self) -> usize {
        1 << self.width_log
    }

    #[inline]
    fn indexes(&self, hash: KeyHash) -> [usize; 4] {
        // Mix first: the shard index lives in bits 40..56 of the hash, the same for every
        // key of this shard.
        let h = (hash ^ (hash >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let mut out = [0; 4];
        for (i, seed) in SKETCH_SEEDS.iter().enumerate() {
            let j = (h.wrapping_mul(*seed) >> (64 - self.width_log)) as usize;
            out[i] = (i << self.width_log) | j;
        }
        out
    }

    #[inline]
    fn get(&self, idx: usize) -> u32 {
        ((self.table[idx >> 4] >> ((idx & 15) * 4)) & 15) as u32
    }

    pub fn estimate(&self, hash: KeyHash) -> u32 {
        self.indexes(hash)
            .iter()
            .map(|&i| self.get(i))
            .min()
            .unwrap_or(0)
    }

    /// Counts one access; `keys` is the shard's key count, which the width follows.
    pub fn increment(&mut self, hash: KeyHash, keys: usize) {
        if keys > self.width() {
            *self = Sketch::new(keys * 2);
        }
        let idx = self.indexes(hash);
        let min = idx.iter().map(|&i| self.get(i)).min().unwrap_or(0);
        if min < 15 {
            for &i in &idx {
                if self.get(i) == min {
                    self.table[i >> 4] += 1u64 << ((i & 15) * 4);
                }
            }
        }
        self.additions += 1;
        if self.additions >= self.sample {
            for w in self.table.iter_mut() {
                *w = (*w >> 1) & 0x7777_7777_7777_7777;
            }
            self.additions /= 2;
        }
    }
}

// ---------------------------------------------------------------------------------------
// The evictor

/// One candidate of the pool. `score` orders candidates: higher is evicted first (Redis's
/// "idle", which is an inverse frequency under LFU and an inverse deadline under TTL).
#[derive(Default)]
struct Candidate {
    score: u64,
    db: usize,
    hash: KeyHash,
    key: Vec<u8>,
    used: bool,
}

/// What [`Store::enforce_maxmemory`] found (Redis's EVICT_OK / EVICT_RUNNING /
/// EVICT_FAIL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Within the budget (now).
    Ok,
    /// Still over after this call's time slice; later calls go on evicting.
    Running,
    /// Over the budget with nothing the policy may evict: refuse denyoom commands.
    Fail,
}

/// What one eviction attempt on a pool candidate did.
enum Evicted {
    /// The candidate was evicted.
    Victim,
    /// allkeys-tinylfu evicted the newest written key instead; the candidate stays.
    Newcomer,
    /// The candidate is gone (deleted meanwhile): try the next.
    Nothing,
}

/// The eviction state shared by all threads; one thread evicts at a time.
pub struct Evictor {
    pub params: Arc<Params>,
    /// Whether a maxmemory is set (the allocator is tuned for it).
    budget: std::sync::atomic::AtomicBool,
    state: Mutex<EvictState>,
    /// Keys written lately, for allkeys-tinylfu's admission check: (db, hash, key).
    recent: Mutex<VecDeque<(usize, KeyHash, Vec<u8>)>>,
}

struct EvictState {
    /// Ascending by score; the best candidate is the last used slot.
    pool: Vec<Candidate>,
    /// (db, shard) pairs that held candidates when last looked at.
    shards: Vec<(usize, usize)>,
    shards_taken: Option<Instant>,
    /// Whether `shards` lists shards with keys that have a TTL (volatile policies) or
    /// with any key.
    shards_volatile: bool,
    rng: u64,
    /// Keys sampled in the current round (reused buffer).
    round: Vec<(u64, KeyHash, Vec<u8>)>,
}

impl Default for Evictor {
    fn default() -> Self {
        Evictor {
            params: Arc::default(),
            budget: Default::default(),
            state: Mutex::new(EvictState {
                pool: (0..EVPOOL_SIZE).map(|_| Candidate::default()).collect(),
                shards: Vec::new(),
                shards_taken: None,
                shards_volatile: false,
                rng: rand::random::<u64>() | 1,
                round: Vec::new(),
            }),
            recent: Mutex::new(VecDeque::with_capacity(RECENT_WRITES)),
        }
    }
}

impl Evictor {
    /// Records a key written by a command, for the admission check of allkeys-tinylfu.
    pub fn note_write(&self, db: usize, hash: KeyHash, key: &[u8]) {
        let mut r = self.recent.lock();
        if r.len() == RECENT_WRITES {
            r.pop_front();
        }
        r.push_back((db, hash, key.to_vec()));
    }
}

impl EvictState {
    /// Empties the pool (after a policy change, its scores mean something else).
    fn clear_pool(&mut self) {
        for c in self.pool.iter_mut() {
            c.used = false;
        }
    }

    /// Inserts a sampled key as Redis's `evictionPoolPopulate` does: the pool stays sorted
    /// ascending; when full, a key worse than all is skipped, otherwise the worst is
    /// dropped.
    fn pool_insert(&mut self, score: u64, db: usize, hash: KeyHash, key: &[u8]) {
        let pool = &mut self.pool;
        let mut k = 0;
        while k < EVPOOL_SIZE && pool[k].used && pool[k].score < score {
            k += 1;
        }
        if k == 0 && pool[EVPOOL_SIZE - 1].used {
            return;
        } else if k < EVPOOL_SIZE && !pool[k].used {
            // An empty slot: insert there.
        } else if !pool[EVPOOL_SIZE - 1].used {
            // Room on the right: shift k.. one to the right.
            pool[k..].rotate_right(1);
        } else {
            // Full: drop the worst (leftmost) and insert at k - 1.
            k -= 1;
            pool[..=k].rotate_left(1);
        }
        let c = &mut pool[k];
        c.score = score;
        c.db = db;
        c.hash = hash;
        c.key.clear();
        c.key.extend_from_slice(key);
        c.used = true;
    }

    /// The best candidate still in the pool, if any.
    fn best(&self) -> Option<usize> {
        (0..EVPOOL_SIZE).rev().find(|&k| self.pool[k].used)
    }
}

impl Store {
    /// Publishes the config's eviction settings (startup, CONFIG SET), allocating or
    /// freeing the frequency sketches as allkeys-tinylfu is selected or left. Called
    /// without any shard locked.
    pub fn configure_eviction(&self, cfg: &crate::config::Config) {
        let p = &self.evictor.params;
        let policy = Policy::from_name(&cfg.maxmemory_policy);
        let old = p.policy();
        p.samples
            .store(cfg.maxmemory_samples.max(1), Ordering::Relaxed);
        p.lfu_log_factor
            .store(cfg.lfu_log_factor, Ordering::Relaxed);
        p.lfu_decay_time
            .store(cfg.lfu_decay_time, Ordering::Relaxed);
        p.tenacity
            .store(cfg.maxmemory_eviction_tenacity, Ordering::Relaxed);
        p.policy.store(policy as u8, Ordering::Relaxed);
        let budget = cfg.maxmemory > 0;
        if self.evictor.budget.swap(budget, Ordering::Relaxed) != budget {
            crate::memory::tune_for_budget(budget);
        }
        if old != policy {
            self.evictor.state.lock().clear_pool();
            self.evictor.recent.lock().clear();
            let tiny = policy == Policy::AllkeysTinyLfu;
            for db in self.dbs.iter() {
                for s in db.shards.iter() {
                    let mut s = s.lock();
                    if tiny && s.sketch.is_none() {
                        let n = s.len();
                        s.sketch = Some(Box::new(Sketch::new(n)));
                    } else if !tiny {
                        s.sketch = None;
                    }
                }
            }
        }
    }

    /// The access stamp of a command starting at unix ms `now_ms` (see the module doc):
    /// the LRU clock, or under an LFU policy the LFU word of a new key with
    /// [`LFU_MODE`] set.
    #[inline]
    pub fn access_stamp(&self, now_ms: u64) -> u32 {
        if self.evictor.params.policy().is_lfu() {
            LFU_MODE | (lfu_minutes(now_ms) << 8) | LFU_INIT_VAL
        } else {
            self.lru_ticks(now_ms)
        }
    }

    /// The LRU clock at unix ms `now_ms`: [`LRU_TICK_MS`] ticks since the start, in 30 bits.
    #[inline]
    pub fn lru_ticks(&self, now_ms: u64) -> u32 {
        (now_ms.saturating_sub(self.started_unix_ms) / LRU_TICK_MS) as u32 & LRU_MASK
    }

    /// Whole seconds since an access stamped with LRU clock `access` (OBJECT IDLETIME).
    pub fn idle_seconds(&self, access: u32, now_ms: u64) -> u64 {
        idle_ticks(self.lru_ticks(now_ms), access) as u64 * LRU_TICK_MS / 1000
    }

    /// Redis's `performEvictions`: if memory is over `maxmemory` (non-zero), evicts keys
    /// by the policy until it is not, or until this call's time slice is spent.
    pub fn enforce_maxmemory(&self, maxmemory: u64) -> Outcome {
        if crate::memory::used_memory_now() <= maxmemory {
            return Outcome::Ok;
        }
        let policy = self.evictor.params.policy();
        if policy == Policy::NoEviction {
            return Outcome::Fail;
        }
        // One evicting thread at a time; the others wait here and then find the memory
        // their turn freed (it is reported before the lock is released).
        let mut st = self.evictor.state.lock();
        let outcome = self.evict_locked(&mut st, policy, maxmemory);
        drop(st);
        crate::memory::report_thread_bytes();
        outcome
    }

    fn evict_locked(&self, st: &mut EvictState, policy: Policy, maxmemory: u64) -> Outcome {
        let started = Instant::now();
        let limit_us = self.evictor.params.time_limit_us();
        let mut freed_keys = 0u64;
        let now = crate::util::now_ms();
        while crate::memory::used_memory_now() > maxmemory {
            let evicted = if policy.uses_pool() {
                self.evict_from_pool(st, policy, now)
            } else {
                self.evict_random(st, policy, now)
            };
            if !evicted {
                return Outcome::Fail;
            }
            freed_keys += 1;
            if freed_keys.is_multiple_of(16) && started.elapsed().as_micros() as u64 > limit_us {
                return if crate::memory::used_memory_now() > maxmemory {
                    Outcome::Running
                } else {
                    Outcome::Ok
                };
            }
        }
        Outcome::Ok
    }

    /// The shards a round may sample, taken again when older than [`SHARD_LIST_TTL_MS`]
    /// or when `force`. Returns false when no shard has a candidate.
    fn refresh_shards(&self, st: &mut EvictState, volatile: bool, force: bool) -> bool {
        let fresh = st
            .shards_taken
            .is_some_and(|t| t.elapsed().as_millis() < SHARD_LIST_TTL_MS);
        if !force && fresh && st.shards_volatile == volatile && !st.shards.is_empty() {
            return true;
        }
        st.shards.clear();
        for (d, db) in self.dbs.iter().enumerate() {
            for (i, s) in db.shards.iter().enumerate() {
                let s = s.lock();
                if (volatile && s.expires > 0) || (!volatile && !s.is_empty()) {
                    st.shards.push((d, i));
                }
            }
        }
        st.shards_taken = Some(Instant::now());
        st.shards_volatile = volatile;
        !st.shards.is_empty()
    }

    /// A random shard that (lately) had candidates.
    fn pick_shard(&self, st: &mut EvictState, volatile: bool) -> Option<(usize, usize)> {
        if !self.refresh_shards(st, volatile, false) {
            return None;
        }
        let i = (xorshift64(&mut st.rng) % st.shards.len() as u64) as usize;
        Some(st.shards[i])
    }

    /// Evicts one key by a pool policy. False if there is nothing to evict.
    fn evict_from_pool(&self, st: &mut EvictState, policy: Policy, now: u64) -> bool {
        let volatile = !policy.all_keys();
        let samples = self.evictor.params.samples.load(Ordering::Relaxed) as usize;
        // Each round samples one shard into the pool, then tries the pool's candidates
        // best first; stale ones (deleted meanwhile) are dropped. Every failed round
        // takes the shard list again, so a round that finds nothing twice in a row
        // means there is nothing left.
        let mut empty_rounds = 0;
        loop {
            let Some((db, shard)) = self.pick_shard(st, volatile) else {
                return false;
            };
            let found = self.populate(st, policy, db, shard, samples, now);
            if found == 0 {
                // Emptied since the list was taken: drop it from the list.
                st.shards.retain(|&x| x != (db, shard));
                empty_rounds += 1;
                if st.shards.is_empty() || empty_rounds > 64 {
                    if !self.refresh_shards(st, volatile, true) {
                        return false;
                    }
                    empty_rounds = 0;
                }
            }
            while let Some(k) = st.best() {
                st.pool[k].used = false;
                let (db, hash) = (st.pool[k].db, st.pool[k].hash);
                let key = std::mem::take(&mut st.pool[k].key);
                let done = if policy == Policy::AllkeysTinyLfu {
                    self.evict_tinylfu(db, hash, &key, now)
                } else if self.evict_key(db, hash, &key, volatile, now) {
                    Evicted::Victim
                } else {
                    Evicted::Nothing
                };
                st.pool[k].key = key;
                match done {
                    Evicted::Victim => return true,
                    Evicted::Newcomer => {
                        // The victim was not evicted: it stays the best candidate.
                        st.pool[k].used = true;
                        return true;
                    }
                    Evicted::Nothing => {}
                }
            }
        }
    }

    /// Samples up to `samples` candidates of one shard into the pool; returns how many
    /// keys were looked at.
    fn populate(
        &self,
        st: &mut EvictState,
        policy: Policy,
        db: usize,
        shard: usize,
        samples: usize,
        now: u64,
    ) -> usize {
        let clock = self.lru_ticks(now);
        let minutes = lfu_minutes(now);
        let decay = self.evictor.params.lfu_decay_time();
        let volatile = !policy.all_keys();
        let mut round = std::mem::take(&mut st.round);
        round.clear();
        {
            let s = self.dbs[db].shards[shard].lock();
            let start = xorshift64(&mut st.rng) as usize;
            s.sample(start, samples, volatile, |e| {
                let hash = self.hash(e.key());
                let idle = || idle_ticks(clock, e.access());
                let score = match policy {
                    Policy::VolatileTtl => u64::MAX - e.expire_at(),
                    p if p.is_lfu() => 255 - lfu_decr_and_return(e.access(), minutes, decay) as u64,
                    Policy::AllkeysTinyLfu => {
                        let f = s.sketch_frequency(hash).unwrap_or(0) as u64;
                        ((16 - f) << 32) | idle() as u64
                    }
                    _ => idle() as u64,
                };
                round.push((score, hash, e.key().to_vec()));
            });
        }
        let n = round.len();
        for (score, hash, key) in round.iter() {
            st.pool_insert(*score, db, *hash, key);
        }
        st.round = round;
        n
    }

    /// Deletes `key` if it is still there (and still has a TTL under a volatile policy),
    /// counting an eviction. False if it is gone (a ghost of the pool).
    fn evict_key(&self, db: usize, hash: KeyHash, key: &[u8], volatile: bool, now: u64) -> bool {
        let mut s = self.lock(db, hash);
        match s.table.find(hash, |e| e.key() == key) {
            Some(e) if !volatile || e.expire_at() != 0 => {}
            _ => return false,
        }
        let removed = s.remove(hash, key, now);
        if removed.is_some() {
            s.stats.evicted_keys += 1;
            s.deletions.record(db, key, true);
        }
        self.compact_wheel(&mut s);
        drop(s);
        // Freed here, on this thread, so its memory counters see it.
        drop(removed);
        true
    }

    /// Rebuilds a shard's expiry wheel once most of its entries are stale. The wheel keeps
    /// the entry of a deleted key until that key's deadline: under eviction of keys with
    /// long TTLs (the volatile policies' usual diet) that garbage grew to most of the
    /// budget in `scripts/hitratio.sh` (16+ bytes per evicted key, for hours). A rebuild
    /// costs one pass over the shard and happens after at least as many stale entries as
    /// live ones, so it is amortized O(1) per eviction.
    fn compact_wheel(&self, s: &mut Shard) {
        let Some(wheel) = s.wheel.as_ref() else {
            return;
        };
        if wheel.len() <= 2 * s.expires + 1024 {
            return;
        }
        let mut fresh = Box::new(super::ExpiryWheel::new(crate::util::now_ms()));
        for e in s.table.iter() {
            let at = e.expire_at();
            if at != 0 {
                fresh.insert(self.hash(e.key()), at);
            }
        }
        s.wheel = Some(fresh);
    }

    /// allkeys-tinylfu: the admission check. The newest written key competes with the
    /// victim; the one with the lower frequency goes (the new key on a tie, as TinyLFU's
    /// filter admits only a key more frequent than the one it would replace).
    fn evict_tinylfu(&self, db: usize, hash: KeyHash, key: &[u8], now: u64) -> Evicted {
        let victim_freq = {
            let s = self.lock(db, hash);
            if s.table.find(hash, |e| e.key() == key).is_none() {
                return Evicted::Nothing;
            }
            s.sketch_frequency(hash).unwrap_or(0)
        };
        let newest = self.evictor.recent.lock().pop_back();
        if let Some((cdb, chash, ckey)) = newest {
            if (cdb, chash) != (db, hash) || ckey != key {
                let freq = self.lock(cdb, chash).sketch_frequency(chash).unwrap_or(0);
                if freq <= victim_freq && self.evict_key(cdb, chash, &ckey, false, now) {
                    return Evicted::Newcomer;
                }
            }
        }
        if self.evict_key(db, hash, key, false, now) {
            Evicted::Victim
        } else {
            Evicted::Nothing
        }
    }

    /// allkeys-random / volatile-random: one random key of a random shard.
    fn evict_random(&self, st: &mut EvictState, policy: Policy, now: u64) -> bool {
        let volatile = policy == Policy::VolatileRandom;
        let mut misses = 0;
        loop {
            let Some((db, shard)) = self.pick_shard(st, volatile) else {
                return false;
            };
            let mut s = self.dbs[db].shards[shard].lock();
            let picked = s
                .random_entry(&mut st.rng, volatile)
                .map(|e| e.key().to_vec());
            if let Some(key) = picked {
                let hash = self.hash(&key);
                let removed = s.remove(hash, &key, now);
                if removed.is_some() {
                    s.stats.evicted_keys += 1;
                    s.deletions.record(db, &key, true);
                }
                self.compact_wheel(&mut s);
                drop(s);
                drop(removed);
                return true;
            }
            drop(s);
            st.shards.retain(|&x| x != (db, shard));
            misses += 1;
            if (st.shards.is_empty() || misses > 64) && !self.refresh_shards(st, volatile, true) {
                return false;
            }
        }
    }
}

impl Shard {
    /// A uniformly random entry (with a TTL if `volatile`), as Redis's
    /// `dictGetRandomKey`: random buckets until one is occupied. Taking the first entry
    /// after a random bucket instead favours entries behind long runs of empty buckets,
    /// which cost allkeys-random over a point of hit ratio in `scripts/hitratio.sh`.
    fn random_entry(&self, rng: &mut u64, volatile: bool) -> Option<&Entry> {
        let buckets = self.table.num_buckets();
        if buckets == 0 || self.table.is_empty() || (volatile && self.expires == 0) {
            return None;
        }
        for _ in 0..128 {
            let i = (xorshift64(rng) % buckets as u64) as usize;
            if let Some(e) = self.table.get_bucket(i) {
                if !volatile || e.expire_at() != 0 {
                    return Some(e);
                }
            }
        }
        // Keys with a TTL are rare here: take the first one from a random point.
        let start = (xorshift64(rng) % buckets as u64) as usize;
        (start..buckets)
            .chain(0..start)
            .filter_map(|i| self.table.get_bucket(i))
            .find(|e| !volatile || e.expire_at() != 0)
    }

    /// Calls `visit` with up to `n` entries from the occupied buckets found walking from
    /// bucket `start` (modulo the table size), only entries with a TTL if `volatile`.
    /// Keys with a TTL may be rare: the walk goes on through the whole table if it must,
    /// rather than report none while some exist (Redis samples a separate dict of them;
    /// this costs a long walk only when TTL keys are a tiny fraction of a shard).
    fn sample(&self, start: usize, n: usize, volatile: bool, mut visit: impl FnMut(&Entry)) {
        let buckets = self.table.num_buckets();
        if buckets == 0 || self.table.is_empty() || (volatile && self.expires == 0) {
            return;
        }
        let mut found = 0;
        let mut i = start % buckets;
        for _ in 0..buckets {
            if let Some(e) = self.table.get_bucket(i) {
                if !volatile || e.expire_at() != 0 {
                    visit(e);
                    found += 1;
                    if found >= n {
                        return;
                    }
                }
            }
            i += 1;
            if i == buckets {
                i = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lfu_counter_as_redis() {
        // At or below LFU_INIT_VAL every access counts; above, with probability
        // 1 / ((counter - 5) * factor + 1).
        assert_eq!(lfu_log_incr(5, 10, 0.999), 6);
        assert_eq!(lfu_log_incr(6, 10, 1.0 / 11.0 - 1e-9), 7);
        assert_eq!(lfu_log_incr(6, 10, 1.0 / 11.0 + 1e-9), 6);
        assert_eq!(lfu_log_incr(100, 0, 0.999), 101);
        assert_eq!(lfu_log_incr(255, 0, 0.0), 255);
        // One point of decay per decay-time minutes since the word's minutes, wrapping
        // at 16 bits.
        let word = LFU_MODE | (1000 << 8) | 20;
        assert_eq!(lfu_decr_and_return(word, 1000, 1), 20);
        assert_eq!(lfu_decr_and_return(word, 1007, 1), 13);
        assert_eq!(lfu_decr_and_return(word, 1007, 2), 17);
        assert_eq!(lfu_decr_and_return(word, 1100, 1), 0);
        assert_eq!(lfu_decr_and_return(word, 1100, 0), 20);
        let late = LFU_MODE | (65530 << 8) | 20;
        assert_eq!(lfu_decr_and_return(late, 3, 1), 12);
    }

    #[test]
    fn sketch_counts_saturates_halves_and_starts_over_wider() {
        let mut s = Sketch::new(64);
        let (a, b) = (0x1234_5678_9abc_def0u64, 0x0fed_cba9_8765_4321u64);
        for _ in 0..9 {
            s.increment(a, 10);
        }
        s.increment(b, 10);
        assert_eq!((s.estimate(a), s.estimate(b)), (9, 1));
        // Counters saturate at 15.
        for _ in 0..20 {
            s.increment(a, 10);
        }
        assert_eq!(s.estimate(a), 15);
        // More keys than counters per row: a new, wider sketch.
        s.increment(b, 1000);
        assert_eq!(s.width(), 2048);
        assert_eq!((s.estimate(a), s.estimate(b)), (0, 1));
        for _ in 0..15 {
            s.increment(a, 1000);
        }
        // After 10 x width additions every counter is halved.
        let before = s.additions;
        for i in 0..(s.sample - before) as u64 {
            s.increment(i.wrapping_mul(0x9E37_79B9_7F4A_7C15), 1000);
        }
        assert!(s.estimate(a) <= 8, "{}", s.estimate(a));
    }

    #[test]
    fn pool_keeps_the_best_sixteen_in_order() {
        let ev = Evictor::default();
        let mut st = ev.state.lock();
        for score in [
            5u64, 1, 9, 3, 7, 30, 2, 8, 6, 4, 10, 11, 12, 13, 14, 15, 16, 0, 17,
        ] {
            st.pool_insert(score, 0, score, format!("k{}", score).as_bytes());
        }
        let scores: Vec<u64> = st.pool.iter().filter(|c| c.used).map(|c| c.score).collect();
        let mut want: Vec<u64> = (2..=17).collect();
        want.push(30);
        want.retain(|&x| x != 2);
        assert_eq!(scores, want);
        let k = st.best().unwrap();
        assert_eq!(st.pool[k].key, b"k30");
    }

    #[test]
    fn idle_ticks_tolerate_stamps_slightly_ahead() {
        assert_eq!(idle_ticks(1000, 400), 600);
        assert_eq!(idle_ticks(1000, 1003), 0);
        // Across the 30-bit wrap.
        assert_eq!(idle_ticks(5, LRU_MASK - 4), 10);
        assert_eq!(idle_ticks(1000, LFU_MODE | 400), 600);
    }

    #[test]
    fn policy_names_round_trip() {
        for p in Policy::ALL {
            assert_eq!(Policy::from_name(p.name()), p);
        }
        assert_eq!(Policy::from_name("ALLKEYS-LRU"), Policy::AllkeysLru);
        assert!(Policy::AllkeysLfu.is_lfu() && !Policy::AllkeysTinyLfu.is_lfu());
        assert!(!Policy::VolatileTtl.all_keys() && Policy::AllkeysRandom.all_keys());
    }
}
