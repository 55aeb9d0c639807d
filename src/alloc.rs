//! The process allocator: jemalloc built with an 8-byte quantum, as Redis builds it.
//!
//! jemalloc's default quantum on x86-64 is 16 bytes, so its small size classes are 16, 32,
//! 48, 64...: a 50-byte entry costs 64. Redis configures its bundled jemalloc with
//! `--with-lg-quantum=3` (classes 8, 16, 24, 32, 40, 48, 56, 64, 80...), and so do we
//! (`JEMALLOC_SYS_WITH_LG_QUANTUM=3` in `.cargo/config.toml`): on 1M small string keys it
//! saved 8-16 bytes a key (see the README's memory table).
//!
//! With that quantum jemalloc only guarantees 8-byte alignment for sizes that are not a
//! multiple of 16, while `tikv-jemallocator` assumes 16 (C's `max_align_t`) and would pass
//! a 16-aligned request of 24 bytes straight to `malloc`. This wrapper rounds a 16-aligned
//! request up to a multiple of 16 (every size class that is a multiple of 16 is 16-aligned,
//! so plain `malloc` with its fast path gives the alignment: Lua's allocations are all
//! 16-aligned, and `mallocx` with an alignment flag cost the EVALSHA path ~5% of its CPU in
//! jemalloc's slow path) and asks jemalloc for any larger alignment explicitly.

use std::alloc::{GlobalAlloc, Layout};
use std::os::raw::{c_int, c_void};

use tikv_jemalloc_sys as ffi;

/// What jemalloc guarantees without flags, given the 8-byte quantum.
const QUANTUM_ALIGN: usize = 8;

/// jemalloc with explicit alignment above 8 bytes (see the module doc).
pub struct Allocator;

/// The size to ask jemalloc for and the flags that give the layout's alignment.
#[inline]
fn plan(layout_align: usize, size: usize) -> (usize, c_int) {
    if layout_align <= QUANTUM_ALIGN && layout_align <= size {
        (size, 0)
    } else if layout_align == 16 {
        // Size classes that are multiples of 16 (16, 32, 48, ... 128, 160, 192, ...) start
        // every region at a multiple of 16.
        ((size + 15) & !15, 0)
    } else {
        (size, ffi::MALLOCX_ALIGN(layout_align))
    }
}

// SAFETY: every method forwards to jemalloc's matching call with the size and alignment
// of the layout as `plan` gives them: a size whose size classes are aligned enough, or an
// alignment flag; deallocation passes the same size and flags as the allocation.
unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // malloc has jemalloc's fast path; mallocx only when alignment must be asked for.
        match plan(layout.align(), layout.size()) {
            (size, 0) => ffi::malloc(size) as *mut u8,
            (size, f) => ffi::mallocx(size, f) as *mut u8,
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        match plan(layout.align(), layout.size()) {
            (size, 0) => ffi::calloc(1, size) as *mut u8,
            (size, f) => ffi::mallocx(size, f | ffi::MALLOCX_ZERO) as *mut u8,
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let (size, f) = plan(layout.align(), layout.size());
        ffi::sdallocx(ptr as *mut c_void, size, f)
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        match plan(layout.align(), new_size) {
            (size, 0) => ffi::realloc(ptr as *mut c_void, size) as *mut u8,
            (size, f) => ffi::rallocx(ptr as *mut c_void, size, f) as *mut u8,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_classes_are_eight_bytes_apart() {
        // Fails if the build lost JEMALLOC_SYS_WITH_LG_QUANTUM=3 (.cargo/config.toml).
        use crate::memory::alloc_size;
        assert_eq!(alloc_size(17), 24);
        assert_eq!(alloc_size(33), 40);
        assert_eq!(alloc_size(49), 56);
        assert_eq!(alloc_size(65), 80);
    }

    #[test]
    fn over_aligned_small_allocations_are_aligned() {
        for size in [1usize, 8, 24, 40, 56, 72, 136, 200, 1000, 5000] {
            let layout = Layout::from_size_align(size, 16).unwrap();
            let ptrs: Vec<*mut u8> = (0..64)
                .map(|_| unsafe { Allocator.alloc(layout) })
                .collect();
            for &p in &ptrs {
                assert!(!p.is_null());
                assert_eq!(p as usize % 16, 0, "size {size}");
            }
            for p in ptrs {
                unsafe { Allocator.dealloc(p, layout) };
            }
        }
    }
}
