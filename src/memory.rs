//! Memory figures from the allocator and the kernel, for INFO memory and the maxmemory
//! budget.
//!
//! The process allocates through jemalloc (`#[global_allocator]` in `lib.rs`), so
//! `used_memory` is jemalloc's own count of allocated bytes, as in Redis, not an estimate.
//! jemalloc refreshes its statistics only when its epoch is advanced, which takes a global
//! lock: [`sample`] does it, from the server's 100 ms cron and INFO.
//!
//! A figure 100 ms old is too coarse for a budget: a write-heavy client adds tens of MB in
//! that time. So the budget check ([`used_memory_now`]) adds to the last sample what the
//! threads that run commands allocated and freed since, read from jemalloc's per-thread
//! counters (`thread.allocatedp`/`thread.deallocatedp`: plain loads of this thread's own
//! counters, no lock). Each thread folds its net change into one shared atomic
//! ([`DRIFT`]) once it exceeds [`PUBLISH_BYTES`] (and after every eviction), so the
//! shared line is written every few dozen commands, not every command; the figure is then
//! exact up to `PUBLISH_BYTES` per thread, plus what other threads (none of which run
//! commands) allocated since the last sample.

use std::cell::Cell;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use tikv_jemalloc_ctl::{epoch, stats, thread};

/// The highest `used_memory` seen so far (INFO used_memory_peak).
static PEAK: AtomicU64 = AtomicU64::new(0);
/// The latest sampled `used_memory`.
static LAST: AtomicU64 = AtomicU64::new(0);
/// Net bytes (allocated minus freed) that command threads have reported, since start.
static DRIFT: AtomicI64 = AtomicI64::new(0);
/// The latest sample minus [`DRIFT`] at that moment, so `BASE + DRIFT` is the figure now
/// and one atomic store publishes a new sample consistently.
static BASE: AtomicI64 = AtomicI64::new(0);
/// Bumped by every sample: a thread that has not reported for two samples has had its
/// unreported bytes counted by a sample already (see [`ThreadCounters::unreported`]).
static GENERATION: AtomicU64 = AtomicU64::new(0);
/// A thread reports its net change once it is this large (either way).
const PUBLISH_BYTES: i64 = 64 * 1024;

/// jemalloc's counters of the current thread and what of them was already reported.
struct ThreadCounters {
    allocated: thread::ThreadLocal<u64>,
    deallocated: thread::ThreadLocal<u64>,
    /// allocated - deallocated when last reported (or resynchronized).
    reported: Cell<i64>,
    /// [`GENERATION`] when last reported.
    generation: Cell<u64>,
}

impl ThreadCounters {
    fn new() -> Option<ThreadCounters> {
        let t = ThreadCounters {
            allocated: thread::allocatedp::read().ok()?,
            deallocated: thread::deallocatedp::read().ok()?,
            reported: Cell::new(0),
            generation: Cell::new(GENERATION.load(Ordering::Relaxed)),
        };
        t.reported.set(t.net());
        Some(t)
    }

    #[inline]
    fn net(&self) -> i64 {
        self.allocated.get().wrapping_sub(self.deallocated.get()) as i64
    }

    /// This thread's bytes not yet in [`DRIFT`]; reports them first if `force` or if
    /// they reached [`PUBLISH_BYTES`] (then returns 0).
    #[inline]
    fn unreported(&self, force: bool) -> i64 {
        let net = self.net();
        let delta = net.wrapping_sub(self.reported.get());
        if !force && delta.abs() < PUBLISH_BYTES {
            return delta;
        }
        let generation = GENERATION.load(Ordering::Relaxed);
        if generation.wrapping_sub(self.generation.get()) < 2 {
            DRIFT.fetch_add(delta, Ordering::Relaxed);
        }
        // Otherwise the thread has not reported across a whole sampling period (it ran
        // no budget check, e.g. while maxmemory was 0): those bytes, but for at most the
        // last period's, are in the sample already, and adding them again would count
        // them twice, so the thread starts over from here.
        self.reported.set(net);
        self.generation.set(generation);
        0
    }
}

thread_local! {
    static COUNTERS: Option<ThreadCounters> = ThreadCounters::new();
}

/// The budget's view of `used_memory` now: the last sample plus what command threads
/// allocated since (see the module doc). Cheap enough to call before every command.
#[inline]
pub fn used_memory_now() -> u64 {
    if GENERATION.load(Ordering::Relaxed) == 0 {
        // Nothing sampled yet (a server just started): take the first sample now.
        sample();
    }
    let local = COUNTERS.with(|c| c.as_ref().map_or(0, |c| c.unreported(false)));
    let total = BASE.load(Ordering::Relaxed) + DRIFT.load(Ordering::Relaxed) + local;
    total.max(0) as u64
}

/// Reports this thread's unreported bytes now (after an eviction freed some), so other
/// threads' budget checks see them at once.
pub fn report_thread_bytes() {
    COUNTERS.with(|c| {
        if let Some(c) = c {
            c.unreported(true);
        }
    });
}

/// One reading of the allocator and process memory.
#[derive(Clone, Copy, Debug, Default)]
pub struct MemoryStats {
    /// Bytes allocated by the program (jemalloc `stats.allocated`, less what the thread
    /// caches hold): INFO used_memory.
    pub used: u64,
    /// jemalloc's `stats.allocated` (INFO allocator_allocated).
    pub allocated: u64,
    /// Bytes in pages the allocator holds active (`stats.active`).
    pub active: u64,
    /// Bytes the allocator holds resident (`stats.resident`).
    pub resident: u64,
    /// The process's resident set size (`/proc/self/statm`).
    pub rss: u64,
    /// The highest `used` seen so far, this reading included.
    pub peak: u64,
}

impl MemoryStats {
    /// rss / used, as Redis's `mem_fragmentation_ratio`.
    pub fn fragmentation_ratio(&self) -> f64 {
        if self.used == 0 {
            0.0
        } else {
            self.rss as f64 / self.used as f64
        }
    }
}

/// Reads fresh figures (advances jemalloc's epoch) and updates the peak.
pub fn sample() -> MemoryStats {
    // This thread's own unreported bytes are part of the sample: report them first so
    // they are in the DRIFT the sample is based on, not counted again later.
    report_thread_bytes();
    let drift = DRIFT.load(Ordering::Relaxed);
    let _ = epoch::advance();
    let allocated = stats::allocated::read().unwrap_or(0) as u64;
    // jemalloc counts what sits in the threads' caches (freed, not yet returned to an
    // arena) as allocated; Redis's used_memory (zmalloc's count) and the per-thread
    // counters the budget adds do not. Thousands of evicted 4 KB values can sit there.
    // SAFETY: a read-only size_t mallctl of every jemalloc 5 build with stats;
    // 4096 is MALLCTL_ARENAS_ALL, the sum over arenas.
    let cached =
        unsafe { tikv_jemalloc_ctl::raw::read::<usize>(b"stats.arenas.4096.tcache_bytes\0") }
            .unwrap_or(0) as u64;
    let used = allocated.saturating_sub(cached);
    BASE.store(used as i64 - drift, Ordering::Relaxed);
    GENERATION.fetch_add(1, Ordering::Relaxed);
    let active = stats::active::read().unwrap_or(0) as u64;
    let resident = stats::resident::read().unwrap_or(0) as u64;
    LAST.store(used, Ordering::Relaxed);
    let peak = PEAK.fetch_max(used, Ordering::Relaxed).max(used);
    MemoryStats {
        used,
        allocated,
        active,
        resident,
        rss: rss_bytes(),
        peak,
    }
}

/// jemalloc's default `dirty_decay_ms`, restored when the budget is lifted.
const DEFAULT_DIRTY_DECAY_MS: isize = 10_000;

/// Tunes the allocator for a memory budget (`maxmemory` set) or for none.
///
/// jemalloc keeps freed pages resident ("dirty") for `dirty_decay_ms` (10 s) so it can
/// reuse them without asking the kernel again. Under a budget with eviction, memory churns
/// constantly: measured with 1 GB of 10 B..100 KB values written under `maxmemory 100mb`,
/// those pages kept RSS at 1.41x the budget (redis-server with its jemalloc defaults:
/// 1.54x at 30 MB). Returning them at once (decay 0, and no lazy `MADV_FREE` "muzzy"
/// stage, whose pages still count in RSS) kept it at 1.11x, for about twice the server
/// CPU on that large-value churn; small values live in slabs that rarely empty, so they
/// are barely affected. Without a budget the defaults stay.
pub fn tune_for_budget(budget: bool) {
    let decay: isize = if budget { 0 } else { DEFAULT_DIRTY_DECAY_MS };
    let muzzy: isize = 0;
    // SAFETY: these mallctls take an ssize_t (isize) and exist in every jemalloc 5 build;
    // writing an arena that does not exist only returns an error, which is ignored.
    unsafe {
        let _ = tikv_jemalloc_ctl::raw::write(b"arenas.dirty_decay_ms\0", decay);
        let _ = tikv_jemalloc_ctl::raw::write(b"arenas.muzzy_decay_ms\0", muzzy);
        let n = tikv_jemalloc_ctl::raw::read::<u32>(b"arenas.narenas\0").unwrap_or(0);
        for i in 0..n {
            let name = format!("arena.{}.dirty_decay_ms\0", i);
            let _ = tikv_jemalloc_ctl::raw::write(name.as_bytes(), decay);
            let name = format!("arena.{}.muzzy_decay_ms\0", i);
            let _ = tikv_jemalloc_ctl::raw::write(name.as_bytes(), muzzy);
        }
    }
}

/// Lets jemalloc return freed pages to the kernel on its own background threads, as
/// Redis runs it (`jemalloc-bg-thread yes`): without them, pages are purged only as a side
/// effect of later allocations, so after a mass expiry or FLUSHALL on an idle server the
/// RSS stayed up (1M keys expired: 92 MB before, 75 MB 20 s after the wave). Called once
/// when a server starts; harmless to repeat.
pub fn enable_background_purge() {
    if let Err(e) = tikv_jemalloc_ctl::background_thread::write(true) {
        tracing::debug!("jemalloc background threads unavailable: {}", e);
    }
}

/// `used_memory` when the server had started (INFO used_memory_startup, MEMORY STATS
/// startup.allocated).
static STARTUP: AtomicU64 = AtomicU64::new(0);

/// Records the startup figure; called once a server is initialized (a process running
/// several servers, as the tests do, keeps the latest).
pub fn record_startup() {
    STARTUP.store(sample().used, Ordering::Relaxed);
}

/// See [`record_startup`].
pub fn startup_allocated() -> u64 {
    STARTUP.load(Ordering::Relaxed)
}

/// What an allocation of `n` bytes really takes: jemalloc's size class for it (0 for 0).
/// MEMORY USAGE adds these up, so its figure is what the allocator hands out.
pub fn alloc_size(n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    // SAFETY: nallocx only computes the size class of a request; flags 0 asks for the
    // default alignment. It returns 0 only on overflow.
    match unsafe { tikv_jemalloc_sys::nallocx(n, 0) } {
        0 => n,
        r => r,
    }
}

/// Returns every arena's unused dirty pages to the kernel now (MEMORY PURGE), as Redis's
/// `jemalloc_purge`. False if jemalloc refused.
pub fn purge() -> bool {
    // MALLCTL_ARENAS_ALL (4096) addresses every arena.
    let name = b"arena.4096.purge\0";
    // SAFETY: "arena.<i>.purge" takes and returns nothing, so every pointer is null; the
    // name is NUL-terminated.
    unsafe {
        tikv_jemalloc_sys::mallctl(
            name.as_ptr() as *const std::ffi::c_char,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        ) == 0
    }
}

/// jemalloc's own statistics report (MEMORY MALLOC-STATS), as `malloc_stats_print` writes
/// it.
pub fn malloc_stats() -> Vec<u8> {
    unsafe extern "C" fn append(opaque: *mut std::ffi::c_void, text: *const std::ffi::c_char) {
        // SAFETY: `opaque` is the `Vec<u8>` passed below, alive for the whole call, and
        // jemalloc hands over NUL-terminated strings.
        unsafe {
            let out = &mut *(opaque as *mut Vec<u8>);
            out.extend_from_slice(std::ffi::CStr::from_ptr(text).to_bytes());
        }
    }
    let mut out: Vec<u8> = Vec::new();
    // SAFETY: the callback only appends to `out`, which outlives the call; null options
    // ask for the default report.
    unsafe {
        tikv_jemalloc_sys::malloc_stats_print(
            Some(append),
            &mut out as *mut Vec<u8> as *mut std::ffi::c_void,
            std::ptr::null(),
        );
    }
    out
}

/// The `used_memory` of the latest [`sample`] (0 before the first one).
pub fn used_memory_cached() -> u64 {
    LAST.load(Ordering::Relaxed)
}

/// The allocator's name and version as INFO's `mem_allocator` shows it (`jemalloc-5.3.1`).
pub fn allocator_name() -> String {
    let v = tikv_jemalloc_ctl::version::read().unwrap_or("unknown");
    // jemalloc's version string carries a git suffix ("5.3.1-0-g81034ce..."): Redis shows
    // only the release.
    let release = v.split('-').next().unwrap_or(v);
    format!("jemalloc-{}", release)
}

fn page_size() -> u64 {
    // SAFETY: "arenas.page" is a read-only size_t mallctl that every jemalloc build has.
    let page = unsafe { tikv_jemalloc_ctl::raw::read::<usize>(b"arenas.page\0") };
    page.map(|p| p as u64).unwrap_or(4096)
}

/// The resident set size from `/proc/self/statm` (its second field, in pages).
pub fn rss_bytes() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    text.split_whitespace()
        .nth(1)
        .and_then(|p| p.parse::<u64>().ok())
        .map(|pages| pages * page_size())
        .unwrap_or(0)
}

/// Total physical memory (`/proc/meminfo` MemTotal), for INFO total_system_memory.
pub fn total_system_memory() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/meminfo") else {
        return 0;
    };
    text.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// Formats a byte count as Redis's `bytesToHuman` does (`1.06M`, `512B`).
pub fn bytes_to_human(n: u64) -> String {
    const UNITS: [(u64, &str); 6] = [
        (1 << 10, "K"),
        (1 << 20, "M"),
        (1 << 30, "G"),
        (1 << 40, "T"),
        (1 << 50, "P"),
        (1 << 60, "E"),
    ];
    if n < 1024 {
        return format!("{}B", n);
    }
    let mut chosen = UNITS[0];
    for u in UNITS {
        if n >= u.0 {
            chosen = u;
        }
    }
    format!("{:.2}{}", n as f64 / chosen.0 as f64, chosen.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_forms() {
        assert_eq!(bytes_to_human(0), "0B");
        assert_eq!(bytes_to_human(1023), "1023B");
        assert_eq!(bytes_to_human(1024), "1.00K");
        assert_eq!(bytes_to_human(1115048), "1.06M");
        assert_eq!(bytes_to_human(25276514304), "23.54G");
    }

    #[test]
    fn allocator_counts_allocations() {
        // Other unit tests allocate and free on their own threads meanwhile, so one
        // reading pair can be off; an allocation this large shows through in some try.
        let mut seen = Vec::new();
        let counted = (0..5).any(|_| {
            let before = sample().used;
            // black_box: the optimizer may otherwise drop an allocation nothing reads.
            let big: Vec<u8> = std::hint::black_box(vec![1; 64 << 20]);
            let during = sample();
            assert!(during.peak >= during.used);
            assert!(during.rss > 0);
            drop(big);
            seen.push((before, during.used));
            during.used >= before + (64 << 20) - (1 << 20)
        });
        assert!(
            counted,
            "used_memory never grew by the allocation: {:?}",
            seen
        );
        assert!(allocator_name().starts_with("jemalloc-5."));
    }

    #[test]
    fn size_classes_round_up() {
        assert_eq!(alloc_size(0), 0);
        assert_eq!(alloc_size(1), 8);
        // Classes 8 bytes apart up to 64 (the 8-byte quantum, alloc.rs).
        assert_eq!(alloc_size(50), 56);
        assert_eq!(alloc_size(17), 24);
        assert_eq!(alloc_size(64), 64);
        assert_eq!(alloc_size(65), 80);
        assert_eq!(alloc_size(4097), 5120);
        assert!(purge());
        let report = String::from_utf8(malloc_stats()).unwrap();
        assert!(report.contains("Begin jemalloc statistics"), "{report}");
    }
}
