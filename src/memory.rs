//! Memory figures from the allocator and the kernel, for INFO memory and (later) eviction.
//!
//! The process allocates through jemalloc (`#[global_allocator]` in `lib.rs`), so
//! `used_memory` is jemalloc's own count of allocated bytes, as in Redis, not an estimate.
//! jemalloc refreshes its statistics only when its epoch is advanced, which takes a global
//! lock: [`sample`] does it, and callers on hot paths should use the cached figure that the
//! server's background task keeps fresh ([`used_memory_cached`]).

use std::sync::atomic::{AtomicU64, Ordering};

use tikv_jemalloc_ctl::{epoch, stats};

/// The highest `used_memory` seen so far (INFO used_memory_peak).
static PEAK: AtomicU64 = AtomicU64::new(0);
/// The latest sampled `used_memory`.
static LAST: AtomicU64 = AtomicU64::new(0);

/// One reading of the allocator and process memory.
#[derive(Clone, Copy, Debug, Default)]
pub struct MemoryStats {
    /// Bytes allocated by the program (jemalloc `stats.allocated`).
    pub used: u64,
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
    let _ = epoch::advance();
    let used = stats::allocated::read().unwrap_or(0) as u64;
    let active = stats::active::read().unwrap_or(0) as u64;
    let resident = stats::resident::read().unwrap_or(0) as u64;
    LAST.store(used, Ordering::Relaxed);
    let peak = PEAK.fetch_max(used, Ordering::Relaxed).max(used);
    MemoryStats {
        used,
        active,
        resident,
        rss: rss_bytes(),
        peak,
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
            let big: Vec<u8> = vec![1; 64 << 20];
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
        assert_eq!(alloc_size(50), 64);
        assert_eq!(alloc_size(64), 64);
        assert_eq!(alloc_size(65), 80);
        assert_eq!(alloc_size(4097), 5120);
        assert!(purge());
        let report = String::from_utf8(malloc_stats()).unwrap();
        assert!(report.contains("Begin jemalloc statistics"), "{report}");
    }
}
