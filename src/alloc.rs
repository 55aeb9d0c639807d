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
//! a 16-aligned request of 24 bytes straight to `malloc`. This wrapper asks jemalloc for the
//! alignment explicitly whenever it is above 8.

use std::alloc::{GlobalAlloc, Layout};
use std::os::raw::{c_int, c_void};

use tikv_jemalloc_sys as ffi;

/// What jemalloc guarantees without flags, given the 8-byte quantum.
const QUANTUM_ALIGN: usize = 8;

/// jemalloc with explicit alignment above 8 bytes (see the module doc).
pub struct Allocator;

#[inline]
fn flags(layout_align: usize, size: usize) -> c_int {
    if layout_align <= QUANTUM_ALIGN && layout_align <= size {
        0
    } else {
        ffi::MALLOCX_ALIGN(layout_align)
    }
}

// SAFETY: every method forwards to jemalloc's matching call with the size and alignment
// of the layout; `flags` requests the alignment whenever jemalloc would not give it by
// default, and deallocation passes the same size and flags as the allocation.
unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // malloc has jemalloc's fast path; mallocx only when alignment must be asked for.
        match flags(layout.align(), layout.size()) {
            0 => ffi::malloc(layout.size()) as *mut u8,
            f => ffi::mallocx(layout.size(), f) as *mut u8,
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        match flags(layout.align(), layout.size()) {
            0 => ffi::calloc(1, layout.size()) as *mut u8,
            f => ffi::mallocx(layout.size(), f | ffi::MALLOCX_ZERO) as *mut u8,
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        ffi::sdallocx(
            ptr as *mut c_void,
            layout.size(),
            flags(layout.align(), layout.size()),
        )
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        match flags(layout.align(), new_size) {
            0 => ffi::realloc(ptr as *mut c_void, new_size) as *mut u8,
            f => ffi::rallocx(ptr as *mut c_void, new_size, f) as *mut u8,
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
        for size in [8usize, 24, 40, 56, 72] {
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
