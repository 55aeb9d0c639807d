//! [`Entry`]: one key and everything that belongs to it (access word, deadline, value) as
//! ONE variable-length allocation behind a 6-byte handle, and the guards that lend its
//! value out ([`ValueRef`], [`ValueMut`]).
//!
//! Layout, no padding anywhere (every multi-byte field is read and written unaligned
//! except the word, at offset 0 of an 8-aligned allocation):
//!
//! ```text
//! [access word u32][tag u8][key length: 1 byte, or 255 + u32][key][deadline: 0, 4 or 8][payload]
//! ```
//!
//! The tag says what the payload is (bits 0..5: a string of 0..=14 bytes inline, an
//! integer in 1, 2, 4 or 8 bytes, or an 8-byte pointer to a longer string or a collection)
//! and which deadline form follows the key (bits 5..7): none, 4 bytes of milliseconds after
//! [`deadline_base`] (the server's start; deadlines up to 49.7 days after it), or the
//! 8-byte unix-ms deadline. The tag sits at a fixed offset, so the type of a value and
//! whether the key has a deadline are known without reading the key's length. A 10-byte
//! key with a 12-byte value takes 4 + 1 + 1 + 10 + 12 = 28 bytes, the 32-byte jemalloc
//! class, and still 32 with a deadline: a TTL costs only its expiry-wheel mark. With a
//! 16-byte [`Value`] stored whole and an 8-byte deadline, as before, the same key took 31
//! bytes, and 39 (the 40-byte class) with a TTL.
//!
//! There is no `Value` in the allocation to borrow, so [`Entry::value`] decodes one
//! (a bitwise copy: for a pointer variant the pointer, never the pointee) that must not
//! be dropped, tied to the borrow of the entry; [`Entry::value_mut`] moves the value out
//! and its guard writes it back when dropped, in place when the entry's size stays in its
//! jemalloc size class (every collection, a SET of a value about as long as the old one,
//! nearly every INCR).
//!
//! Most callers need neither guard: the typed accessors (`str_slice`, `as_int`, `list_mut`,
//! `hash`, `set_mut`, `zset`, `string_mut`, ...) borrow what the payload holds or points
//! to for as long as the entry is borrowed, and `set_value` overwrites a payload of the
//! same length in place. Choices against the first plan (tag after the key, a guard
//! everywhere): the tag at a fixed offset saves reading the key length on every type
//! check and on every deadline check of a key without one; the accessors keep the command
//! code as it was (`as_list(e)?` instead of a guard and a write-back); and an entry asks
//! jemalloc for its whole size class, so a change of length within the class needs no
//! `realloc`. The 4-byte deadline is relative to the process's start: on a server up for
//! more than 49.7 days new deadlines beyond that window take 8 bytes again (a base that
//! moves would need entries rewritten).

use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

use super::hash::Hash;
use super::list::List;
use super::set::Set;
use super::value::{ThinBytes, Value, SMALL_MAX};
use super::zset::ZSet;

/// Offset of the tag (after the 4-byte access word).
const TAG_AT: usize = 4;
/// Offset of the key length.
const KEY_LEN_AT: usize = 5;
/// First byte of the key length meaning "a u32 length follows".
const LONG_KEY: u8 = u8::MAX;
/// Allocations are 8-aligned (the handle keeps the address divided by 8) and at least 8
/// bytes (jemalloc's smallest class; below it the alignment would need a flag).
const ENTRY_ALIGN: usize = 8;
const MIN_SIZE: usize = 8;
/// Addresses an [`Entry`] handle holds are below 2^ADDR_LIMIT_BITS (48 bits of 8-byte units).
const ADDR_LIMIT_BITS: u32 = 51;
/// The bits of the word that hold the access clock or LFU data (bit 31 stays clear, as
/// when it flagged a deadline: OBJECT IDLETIME and the policies see the same 31 bits).
const ACCESS_MASK: u32 = u32::MAX >> 1;

/// Tag bits 0..5: the payload's kind.
const KIND_MASK: u8 = 0x1f;
/// Tag bits 5..7: the deadline's form.
const FORM_SHIFT: u32 = 5;
const FORM_NONE: u8 = 0;
/// 4 bytes: milliseconds after [`deadline_base`].
const FORM_REL: u8 = 1;
/// 8 bytes: unix milliseconds.
const FORM_ABS: u8 = 2;

// Kinds 0..=SMALL_MAX are inline strings of that many bytes.
/// `Value::Int` in 1, 2, 4 or 8 bytes (K_INT + log2 of the width).
const K_INT: u8 = SMALL_MAX as u8 + 1;
/// `Value::OwnInt`, widths as for `K_INT`.
const K_OWN_INT: u8 = K_INT + 4;
/// The kinds from here on are 8-byte pointers the entry owns.
const K_STR_EMB: u8 = K_OWN_INT + 4;
const K_STR_RAW: u8 = K_STR_EMB + 1;
const K_RAW: u8 = K_STR_EMB + 2;
const K_LIST: u8 = K_STR_EMB + 3;
const K_HASH: u8 = K_STR_EMB + 4;
const K_SET: u8 = K_STR_EMB + 5;
const K_ZSET: u8 = K_STR_EMB + 6;
/// An 8-byte integer: what a pointer's kind becomes while its value is lent out by
/// [`ValueMut`] (same payload size, nothing to free), so an entry whose guard was leaked
/// holds a plain number instead of a pointer it no longer owns.
const K_PLACEHOLDER: u8 = K_INT + 3;

const PTR: usize = std::mem::size_of::<*mut u8>();
const _: () = assert!(K_ZSET <= KIND_MASK && PTR == 8 && SMALL_MAX < 16);
const _: () = assert!(std::mem::size_of::<Entry>() == 6 && std::mem::align_of::<Entry>() == 1);

/// The origin of the 4-byte deadline form: the unix-ms time of the first deadline
/// question asked in this process (the store asks when it is created, so: the server's
/// start). Deadlines in `[base, base + 2^32 ms)`, 49.7 days, take 4 bytes; others
/// (deadlines in the past, or set more than 49 days after the start) take 8.
#[inline]
pub fn deadline_base() -> u64 {
    static BASE: AtomicU64 = AtomicU64::new(0);
    // Set once, before any deadline is stored against it; a relaxed load suffices (a
    // thread storing a deadline set or read the base itself, and the shard lock orders
    // that before any other thread's read of the entry).
    match BASE.load(Ordering::Relaxed) {
        0 => {
            let now = crate::util::now_ms().max(1);
            match BASE.compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => now,
                Err(set) => set,
            }
        }
        b => b,
    }
}

/// The form a deadline is stored in.
#[inline]
fn form_of(deadline: u64) -> u8 {
    if deadline == 0 {
        FORM_NONE
    } else if deadline
        .checked_sub(deadline_base())
        .is_some_and(|r| r <= u32::MAX as u64)
    {
        FORM_REL
    } else {
        FORM_ABS
    }
}

#[inline]
fn form_len(form: u8) -> usize {
    match form {
        FORM_NONE => 0,
        FORM_REL => 4,
        _ => 8,
    }
}

/// Bytes of payload a kind has.
#[inline]
fn payload_len(kind: u8) -> usize {
    if kind < K_INT {
        kind as usize
    } else if kind < K_STR_EMB {
        1 << ((kind - K_INT) & 3)
    } else {
        PTR
    }
}

/// log2 of the bytes an integer needs, sign-extended.
#[inline]
fn int_width(i: i64) -> u8 {
    if i as i8 as i64 == i {
        0
    } else if i as i16 as i64 == i {
        1
    } else if i as i32 as i64 == i {
        2
    } else {
        3
    }
}

/// The kind a value is stored as.
#[inline]
fn kind_of(v: &Value) -> u8 {
    match v {
        // Every constructor keeps `len` at most SMALL_MAX; the cap keeps a value built
        // otherwise from reading past its array.
        Value::Small { len, .. } => (*len).min(SMALL_MAX as u8),
        Value::Int(i) => K_INT + int_width(*i),
        Value::OwnInt(i) => K_OWN_INT + int_width(*i),
        Value::Str { raw: false, .. } => K_STR_EMB,
        Value::Str { raw: true, .. } => K_STR_RAW,
        Value::Raw(_) => K_RAW,
        Value::List(_) => K_LIST,
        Value::Hash(_) => K_HASH,
        Value::Set(_) => K_SET,
        Value::ZSet(_) => K_ZSET,
    }
}

/// Copies `n` (at most 16) bytes with fixed-size moves, two overlapping ones per size
/// band: a `copy_nonoverlapping` of a run-time length is a call to `memcpy`, which showed
/// up in INCR's and SET's profiles.
///
/// # Safety
/// As `copy_nonoverlapping(src, dst, n)`, with `n <= 16`.
#[inline(always)]
unsafe fn copy_small(src: *const u8, dst: *mut u8, n: usize) {
    use std::ptr::{read_unaligned as rd, write_unaligned as wr};
    if n >= 8 {
        let (a, b) = (rd(src as *const u64), rd(src.add(n - 8) as *const u64));
        wr(dst as *mut u64, a);
        wr(dst.add(n - 8) as *mut u64, b);
    } else if n >= 4 {
        let (a, b) = (rd(src as *const u32), rd(src.add(n - 4) as *const u32));
        wr(dst as *mut u32, a);
        wr(dst.add(n - 4) as *mut u32, b);
    } else if n > 0 {
        // 1..=3 bytes: first, middle, last (some the same byte).
        let (a, b, c) = (*src, *src.add(n / 2), *src.add(n - 1));
        *dst = a;
        *dst.add(n / 2) = b;
        *dst.add(n - 1) = c;
    }
}

/// Reads an integer payload of `kind` (1, 2, 4 or 8 bytes, sign-extended).
///
/// # Safety
/// `at` holds an integer payload of that kind.
#[inline(always)]
unsafe fn read_int(kind: u8, at: *const u8) -> i64 {
    match (kind - K_INT) & 3 {
        0 => (at as *const i8).read() as i64,
        1 => i16::from_le((at as *const i16).read_unaligned()) as i64,
        2 => i32::from_le((at as *const i32).read_unaligned()) as i64,
        _ => i64::from_le((at as *const i64).read_unaligned()),
    }
}

/// Writes `v`'s payload (of the kind `kind_of(&v)`) at `at`, moving any pointer it owns
/// into those bytes.
///
/// # Safety
/// `at` must be valid for `payload_len(kind_of(&v))` bytes of writes.
#[inline]
unsafe fn write_payload(v: Value, at: *mut u8) {
    #[inline]
    unsafe fn ptr_at<T>(at: *mut u8, p: *mut T) {
        (at as *mut *mut T).write_unaligned(p)
    }
    match v {
        Value::Small { len, data } => copy_small(data.as_ptr(), at, (len as usize).min(SMALL_MAX)),
        Value::Int(i) | Value::OwnInt(i) => match int_width(i) {
            0 => (at as *mut i8).write(i as i8),
            1 => (at as *mut i16).write_unaligned((i as i16).to_le()),
            2 => (at as *mut i32).write_unaligned((i as i32).to_le()),
            _ => (at as *mut i64).write_unaligned(i.to_le()),
        },
        Value::Str { data, .. } => ptr_at(at, data.into_raw().as_ptr()),
        Value::Raw(b) => ptr_at(at, Box::into_raw(b)),
        Value::List(b) => ptr_at(at, Box::into_raw(b)),
        Value::Hash(b) => ptr_at(at, Box::into_raw(b)),
        Value::Set(b) => ptr_at(at, Box::into_raw(b)),
        Value::ZSet(b) => ptr_at(at, Box::into_raw(b)),
    }
}

/// The value a payload of `kind` at `at` encodes. A pointer kind's value owns the
/// pointee: the caller either gives ownership up (the entry no longer holds it) or never
/// drops the value ([`ValueRef`]).
///
/// # Safety
/// `at` holds a payload of `kind` written by [`write_payload`].
#[inline]
unsafe fn decode(kind: u8, at: *const u8) -> Value {
    #[inline]
    unsafe fn read_ptr<T>(at: *const u8) -> *mut T {
        (at as *const *mut T).read_unaligned()
    }
    if kind < K_INT {
        let mut data = [0u8; SMALL_MAX];
        copy_small(at, data.as_mut_ptr(), kind as usize);
        return Value::Small { len: kind, data };
    }
    if kind < K_STR_EMB {
        let i = read_int(kind, at);
        return if kind < K_OWN_INT {
            Value::Int(i)
        } else {
            Value::OwnInt(i)
        };
    }
    match kind {
        K_STR_EMB | K_STR_RAW => Value::Str {
            data: ThinBytes::from_raw(NonNull::new_unchecked(read_ptr(at))),
            raw: kind == K_STR_RAW,
        },
        K_RAW => Value::Raw(Box::from_raw(read_ptr(at))),
        K_LIST => Value::List(Box::from_raw(read_ptr(at))),
        K_HASH => Value::Hash(Box::from_raw(read_ptr(at))),
        K_SET => Value::Set(Box::from_raw(read_ptr(at))),
        // K_ZSET: no other kind is ever written.
        _ => Value::ZSet(Box::from_raw(read_ptr(at))),
    }
}

/// `n` rounded up to jemalloc's size class as this build configures it (8-byte quantum:
/// 8, 16, ... 64, then four classes per doubling: 80, 96, 112, 128, 160, ...; jemalloc
/// itself is asked above 4 KiB). An entry
/// asks for its whole class, so a value or deadline whose new size stays in the class is
/// written in place with no call to the allocator (a SET of a value one byte longer,
/// an INCR from 99 to 100 digits' worth), and the layout given back is the one asked
/// for. Were this ever to differ from jemalloc's classes, only the rounding would be
/// off, never the soundness (`class_is_jemallocs` checks it).
#[inline]
fn size_class(n: usize) -> usize {
    let n = n.max(MIN_SIZE);
    if n <= 64 {
        return (n + 7) & !7;
    }
    if n > 4096 {
        // Large classes depend on the page size: ask (only keys of kilobytes get here).
        return crate::memory::alloc_size(n);
    }
    // Spacing: a quarter of the power of two at or above n.
    let lg = usize::BITS - (n - 1).leading_zeros();
    let delta = 1usize << (lg - 3);
    (n + delta - 1) & !(delta - 1)
}

fn layout(size: usize) -> std::alloc::Layout {
    match std::alloc::Layout::from_size_align(size_class(size), ENTRY_ALIGN) {
        Ok(l) => l,
        // Only for sizes near isize::MAX, which no key reaches (capped at u32::MAX).
        Err(_) => panic!("entry layout overflow"),
    }
}

#[inline]
fn len_bytes(key_len: usize) -> usize {
    if key_len < LONG_KEY as usize {
        1
    } else {
        5
    }
}

/// One key and what belongs to it, as ONE allocation behind a thin pointer (layout in
/// the module doc): the table keeps 6 bytes a slot (a power-of-two table is 44-87% full,
/// so its slack costs little), and a lookup touches the table, then this allocation,
/// where the key and a short value both live. Measured against boxed entries with a
/// separate key allocation: one cache miss less per lookup (`lookup_read` was 37% of GET
/// -P 16 under perf) and one allocation less per key.
///
/// The pointer is kept in 6 bytes (alignment 1), as its address divided by 8: the
/// allocation is 8-aligned and user-space addresses are below 2^48 on x86-64 and
/// AArch64 Linux (wider ones only come from an mmap that asks for them), so 48 bits hold
/// any address below 2^51. A slot costs 6 + 1 control bytes instead of 8 + 1; with 1M
/// keys in tables 48% full that is 4.2 bytes a key (51.1 -> 47 B/key on memory.sh).
/// [`Entry::new`] checks that the address fits.
pub struct Entry {
    addr: [u8; 6],
}

// SAFETY: an Entry owns its allocation and the value's pointees exclusively, like a Box
// would, and `Value` is Send + Sync.
unsafe impl Send for Entry {}
// SAFETY: shared access only reads through `&self`, as for a Box.
unsafe impl Sync for Entry {}

/// Writes `deadline` in `form` (none, 4 bytes after [`deadline_base`], or 8) at `p`.
///
/// # Safety
/// `p` has room for `form_len(form)` bytes the caller owns.
#[inline]
unsafe fn write_deadline(p: *mut u8, form: u8, deadline: u64) {
    match form {
        FORM_NONE => {}
        FORM_REL => {
            let rel = (deadline - deadline_base()) as u32;
            (p as *mut u32).write_unaligned(rel.to_le())
        }
        _ => (p as *mut u64).write_unaligned(deadline.to_le()),
    }
}

/// `name(&self) -> Option<&T>` and `name_mut(&mut self) -> Option<&mut T>` for each
/// collection kind: the collection the value points to, or None for another type.
macro_rules! collection_accessors {
    ($(($get:ident, $get_mut:ident, $ty:ty, $kind:expr, $what:literal)),* $(,)?) => {
        $(
            #[doc = concat!("The ", $what, " the value is, or None for another type.")]
            #[inline]
            pub fn $get(&self) -> Option<&$ty> {
                // SAFETY: the entry owns the pointee; it lives and stays unchanged as long
                // as the borrow of `self`.
                self.pointee::<$ty>($kind).map(|p| unsafe { &*p })
            }

            #[doc = concat!("The ", $what, " the value is, to change in place, or None for another type.")]
            #[inline]
            pub fn $get_mut(&mut self) -> Option<&mut $ty> {
                // SAFETY: as in the shared accessor, exclusively through `&mut self`.
                self.pointee::<$ty>($kind).map(|p| unsafe { &mut *p })
            }
        )*
    };
}

impl Entry {
    /// An entry for `key`; `expire_at` is a unix-ms deadline (0: none), `access` the LRU
    /// clock of its creation.
    pub fn new(key: &[u8], value: Value, expire_at: u64, access: u32) -> Entry {
        // proto-max-bulk-len is capped below 4 GB, so every key fits the 32-bit length;
        // the cut only keeps the layout sound should that ever change.
        let key = &key[..key.len().min(u32::MAX as usize)];
        let form = form_of(expire_at);
        let tail_at = KEY_LEN_AT + len_bytes(key.len()) + key.len();
        let size = tail_at + form_len(form) + payload_len(kind_of(&value));
        let layout = layout(size);
        // SAFETY: the layout is non-zero-sized and valid (checked in `layout`) and holds
        // every byte written below; each part is written before it is ever read. An
        // address the handle cannot hold is given back (with the same layout) untouched.
        unsafe {
            let raw = std::alloc::alloc(layout);
            if raw.is_null() {
                std::alloc::handle_alloc_error(layout);
            }
            if raw.addr() >> ADDR_LIMIT_BITS != 0 {
                let addr = raw.addr();
                std::alloc::dealloc(raw, layout);
                panic!("an entry's address {addr:#x} does not fit its 6-byte handle");
            }
            (raw as *mut u32).write(access & ACCESS_MASK);
            let mut at = raw.add(KEY_LEN_AT);
            if key.len() < LONG_KEY as usize {
                at.write(key.len() as u8);
                at = at.add(1);
            } else {
                at.write(LONG_KEY);
                std::ptr::copy_nonoverlapping(
                    (key.len() as u32).to_le_bytes().as_ptr(),
                    at.add(1),
                    4,
                );
                at = at.add(5);
            }
            std::ptr::copy_nonoverlapping(key.as_ptr(), at, key.len());
            let mut e = Entry { addr: [0; 6] };
            e.set_ptr(raw);
            e.write_tail(tail_at, form, expire_at, value);
            e
        }
    }

    /// The allocation's address.
    #[inline]
    fn ptr(&self) -> *mut u8 {
        let mut b = [0u8; 8];
        b[..6].copy_from_slice(&self.addr);
        // The inverse of `set_ptr`, which exposed the allocation's provenance.
        std::ptr::with_exposed_provenance_mut((u64::from_le_bytes(b) << 3) as usize)
    }

    /// Points the handle at `raw`: 8-aligned (ENTRY_ALIGN) and below 2^51, so its address
    /// divided by 8 fits 48 bits. Aborts otherwise: only a reallocation can get here with
    /// such an address (`new` checks before), and the entry could not be left sound.
    #[inline]
    fn set_ptr(&mut self, raw: *mut u8) {
        let addr = raw.expose_provenance();
        if addr >> ADDR_LIMIT_BITS != 0 {
            eprintln!("an entry's address {addr:#x} does not fit its 6-byte handle");
            std::process::abort();
        }
        self.addr
            .copy_from_slice(&((addr >> 3) as u64).to_le_bytes()[..6]);
    }

    #[inline]
    fn word(&self) -> u32 {
        // SAFETY: the word was written at offset 0 (4-aligned: the allocation is
        // 8-aligned) in `new`.
        unsafe { (self.ptr() as *const u32).read() }
    }

    #[inline]
    fn key_len(&self) -> usize {
        // SAFETY: the length bytes were written at KEY_LEN_AT in `new`: one byte, or 255
        // and four more.
        unsafe {
            let at = self.ptr().add(KEY_LEN_AT);
            let b = at.read();
            if b < LONG_KEY {
                b as usize
            } else {
                (at.add(1) as *const u32).read_unaligned().to_le() as usize
            }
        }
    }

    #[inline]
    pub fn key(&self) -> &[u8] {
        let len = self.key_len();
        // SAFETY: `len` bytes of key were written right after the length bytes in `new`,
        // and live as long as `self`.
        unsafe { std::slice::from_raw_parts(self.ptr().add(KEY_LEN_AT + len_bytes(len)), len) }
    }

    /// The tag: the value's kind and the deadline's form.
    #[inline]
    fn tag(&self) -> u8 {
        // SAFETY: the tag was written at TAG_AT (`write_tail`).
        unsafe { self.ptr().add(TAG_AT).read() }
    }

    /// Offset of the tail: the deadline (if any), then the payload.
    #[inline]
    fn tail_at(&self) -> usize {
        let len = self.key_len();
        KEY_LEN_AT + len_bytes(len) + len
    }

    /// Bytes of the allocation before rounding to its class.
    #[inline]
    fn size(&self) -> usize {
        let tag = self.tag();
        self.tail_at() + form_len(tag >> FORM_SHIFT) + payload_len(tag & KIND_MASK)
    }

    /// Writes the tag, and the deadline in `form` and `v`'s payload from `tail_at` on.
    ///
    /// # Safety
    /// The allocation has room for them: `tail_at + form_len(form) +
    /// payload_len(kind_of(&v))` bytes; the payload bytes hold no pointer still owned.
    #[inline]
    unsafe fn write_tail(&mut self, tail_at: usize, form: u8, deadline: u64, v: Value) {
        self.ptr()
            .add(TAG_AT)
            .write((form << FORM_SHIFT) | kind_of(&v));
        let p = self.ptr().add(tail_at);
        write_deadline(p, form, deadline);
        write_payload(v, p.add(form_len(form)));
    }

    /// Changes the allocation from `old` to `new` bytes (before rounding to the class),
    /// keeping the first `min(old, new)` bytes, and points the handle at it; nothing to do
    /// when both round to the same class.
    #[inline]
    fn resize(&mut self, old: usize, new: usize) {
        let old_layout = layout(old);
        let new_size = size_class(new);
        if new_size == old_layout.size() {
            return;
        }
        // SAFETY: the allocation was made with `old_layout` (every size change goes
        // through here and `layout`); the new size is non-zero and valid for the same
        // alignment (it is below the old or a payload or deadline longer).
        unsafe {
            let raw = std::alloc::realloc(self.ptr(), old_layout, new_size);
            if raw.is_null() {
                std::alloc::handle_alloc_error(layout(new));
            }
            self.set_ptr(raw);
        }
    }

    /// Deadline in unix ms; 0 means no expiry.
    #[inline]
    pub fn expire_at(&self) -> u64 {
        let form = self.tag() >> FORM_SHIFT;
        if form == FORM_NONE {
            return 0;
        }
        // SAFETY: the deadline bytes of the tag's form start the tail (`write_tail`).
        unsafe {
            let p = self.ptr().add(self.tail_at());
            if form == FORM_REL {
                deadline_base() + u32::from_le((p as *const u32).read_unaligned()) as u64
            } else {
                u64::from_le((p as *const u64).read_unaligned())
            }
        }
    }

    /// Sets or clears (0) the deadline. Only the entry changes: the shard's expiry index
    /// and counters are the caller's ([`super::Shard::set_expire`] keeps them in step).
    pub fn set_expire_at(&mut self, deadline: u64) {
        let (tag, at) = (self.tag(), self.tail_at());
        let (old_form, form) = (tag >> FORM_SHIFT, form_of(deadline));
        if old_form == form {
            // SAFETY: the deadline bytes of this form start the tail; we own them.
            unsafe { write_deadline(self.ptr().add(at), form, deadline) };
            return;
        }
        // The deadline's bytes change size: the payload after them moves.
        let old = at + form_len(old_form) + payload_len(tag & KIND_MASK);
        let v = self.take_value();
        self.resize(old, at + form_len(form) + payload_len(kind_of(&v)));
        // SAFETY: resized for this form and this value's payload.
        unsafe { self.write_tail(at, form, deadline, v) }
    }

    /// Last access, in seconds of the store's LRU clock (OBJECT IDLETIME), or LFU data.
    #[inline]
    pub fn access(&self) -> u32 {
        self.word() & ACCESS_MASK
    }

    #[inline]
    pub fn set_access(&mut self, clock: u32) {
        // SAFETY: exclusive (`&mut self`) access to the word we own (see `word`).
        unsafe { (self.ptr() as *mut u32).write(clock & ACCESS_MASK) }
    }

    #[inline]
    pub fn is_expired(&self, now: u64) -> bool {
        let at = self.expire_at();
        at != 0 && at <= now
    }

    /// The value, to read. It is decoded from the entry's bytes (a copy of an inline
    /// string or number; for anything longer the pointer to it) and lives no longer than
    /// this borrow of the entry.
    #[inline]
    pub fn value(&self) -> ValueRef<'_> {
        let (p, kind) = self.payload();
        // SAFETY: `p` holds a payload of `kind`; the decoded value is never dropped
        // (ManuallyDrop), so the entry keeps sole ownership of any pointee, which cannot
        // be freed or changed while `&self` is borrowed.
        let value = unsafe { decode(kind, p) };
        ValueRef {
            value: ManuallyDrop::new(value),
            _entry: PhantomData,
        }
    }

    /// The value, to change: the guard holds it and writes it back into the entry when
    /// dropped (see [`ValueMut`]).
    #[inline]
    pub fn value_mut(&mut self) -> ValueMut<'_> {
        let value = self.take_value();
        ValueMut {
            entry: self,
            value: ManuallyDrop::new(value),
        }
    }

    /// The integer of an `int`-encoded value that Redis would hold as a shared object
    /// (`Value::Int` in 0..SHARED_INTEGERS); the tag rules out anything else first.
    #[inline]
    pub fn shared_int(&self) -> Option<usize> {
        // Shared integers (0..10000) take 1 or 2 bytes.
        let kind = self.tag() & KIND_MASK;
        if kind != K_INT && kind != K_INT + 1 {
            return None;
        }
        let (p, kind) = self.payload();
        // SAFETY: the payload is an integer of this kind.
        let i = unsafe { read_int(kind, p) };
        (0..super::value::SHARED_INTEGERS)
            .contains(&i)
            .then_some(i as usize)
    }

    /// The integer of an `int`-encoded string (as [`Value::as_int`]), read in place.
    #[inline]
    pub fn as_int(&self) -> Option<i64> {
        if !(K_INT..K_STR_EMB).contains(&(self.tag() & KIND_MASK)) {
            return None;
        }
        let (p, kind) = self.payload();
        // SAFETY: the payload is an integer of this kind.
        Some(unsafe { read_int(kind, p) })
    }

    /// Where the payload starts, and the kind of value it holds.
    #[inline]
    fn payload(&self) -> (*mut u8, u8) {
        let tag = self.tag();
        // SAFETY: the payload follows the deadline in the tail (`write_tail`).
        let p = unsafe { self.ptr().add(self.tail_at() + form_len(tag >> FORM_SHIFT)) };
        (p, tag & KIND_MASK)
    }

    /// The pointer a payload of a pointer kind holds.
    #[inline]
    fn pointee<T>(&self, kind: u8) -> Option<*mut T> {
        if self.tag() & KIND_MASK != kind {
            return None;
        }
        // SAFETY: a payload of a pointer kind is the pointer (`write_payload`).
        Some(unsafe { (self.payload().0 as *const *mut T).read_unaligned() })
    }

    /// The bytes of a string value that is not int-encoded (as [`Value::str_slice`]),
    /// borrowed from the entry (an inline string) or from what it owns.
    #[inline]
    pub fn str_slice(&self) -> Option<&[u8]> {
        let (p, kind) = self.payload();
        // SAFETY: an inline string's bytes are the payload; a longer string's pointee is
        // owned by the entry, and neither changes or goes while `&self` is borrowed.
        unsafe {
            if kind < K_INT {
                return Some(std::slice::from_raw_parts(p, kind as usize));
            }
            match kind {
                K_STR_EMB | K_STR_RAW => {
                    let t = ManuallyDrop::new(ThinBytes::from_raw(NonNull::new_unchecked(
                        (p as *const *mut u8).read_unaligned(),
                    )));
                    Some(std::slice::from_raw_parts(t.as_ptr(), t.len()))
                }
                K_RAW => self.pointee::<Vec<u8>>(K_RAW).map(|v| (*v).as_slice()),
                _ => None,
            }
        }
    }

    /// The bytes of a string value, formatting an integer (as [`Value::string_bytes`]).
    #[inline]
    pub fn string_bytes(&self) -> Option<std::borrow::Cow<'_, [u8]>> {
        match self.str_slice() {
            Some(s) => Some(std::borrow::Cow::Borrowed(s)),
            None => self
                .value()
                .string_bytes()
                .map(|c| std::borrow::Cow::Owned(c.into_owned())),
        }
    }

    /// Makes a string value's bytes mutable in place (APPEND, SETRANGE, SETBIT), turning it
    /// into the `raw` encoding as Redis does (as [`Value::string_mut`]). None for other
    /// types.
    pub fn string_mut(&mut self) -> Option<&mut Vec<u8>> {
        if self.payload().1 != K_RAW {
            let bytes = self.string_bytes()?.into_owned();
            self.set_value(Value::raw(bytes));
        }
        // SAFETY: the entry owns the vector; `&mut self` makes the borrow exclusive.
        self.pointee::<Vec<u8>>(K_RAW).map(|p| unsafe { &mut *p })
    }

    collection_accessors! {
        (list, list_mut, List, K_LIST, "list"),
        (hash, hash_mut, Hash, K_HASH, "hash"),
        (set, set_mut, Set, K_SET, "set"),
        (zset, zset_mut, ZSet, K_ZSET, "sorted set"),
    }

    /// Replaces the value, dropping the old one: in place when the payload keeps its
    /// length (SET over a value of the same kind and length, INCR within a width), the
    /// hot case, written out here so it needs no call.
    #[inline]
    pub fn set_value(&mut self, v: Value) {
        let tag = self.tag();
        let (old_kind, kind) = (tag & KIND_MASK, kind_of(&v));
        if payload_len(old_kind) != payload_len(kind) {
            drop(self.replace_value(v));
            return;
        }
        // SAFETY: the payload of `old_kind` is at `at`, as long as the new one; an old
        // pointee moves to `old` (freed once the entry holds the new value) before the
        // new payload overwrites its pointer.
        unsafe {
            let p = self.ptr();
            let at = p.add(self.tail_at() + form_len(tag >> FORM_SHIFT));
            let old = (old_kind >= K_STR_EMB).then(|| decode(old_kind, at));
            p.add(TAG_AT).write((tag & !KIND_MASK) | kind);
            write_payload(v, at);
            drop(old);
        }
    }

    /// Replaces the value, returning the old one.
    #[inline]
    pub fn replace_value(&mut self, v: Value) -> Value {
        let old = self.take_value();
        self.put_value(v);
        old
    }

    /// Moves the value out. A pointer kind's tag becomes an 8-byte integer's (same size,
    /// nothing owned), so the entry stays sound should no value ever be put back.
    #[inline]
    fn take_value(&mut self) -> Value {
        let tag = self.tag();
        let (p, kind) = self.payload();
        // SAFETY: as in `value`; ownership of a pointee moves to the returned value, and
        // the entry's tag stops claiming it before anything else can read it.
        unsafe {
            let v = decode(kind, p);
            if kind >= K_STR_EMB {
                self.ptr()
                    .add(TAG_AT)
                    .write((tag & !KIND_MASK) | K_PLACEHOLDER);
            }
            v
        }
    }

    /// Stores `v` in an entry whose value was taken out (it owns no pointee): in place
    /// when its payload is as long as the one there, else resizing the allocation.
    #[inline]
    fn put_value(&mut self, v: Value) {
        let tag = self.tag();
        let head = self.tail_at() + form_len(tag >> FORM_SHIFT);
        let kind = kind_of(&v);
        let (old, new) = (payload_len(tag & KIND_MASK), payload_len(kind));
        if old != new {
            self.resize(head + old, head + new);
        }
        // SAFETY: the allocation holds the deadline and `new` payload bytes after it; the
        // old payload owned nothing (taken).
        unsafe {
            let p = self.ptr();
            p.add(TAG_AT).write((tag & !KIND_MASK) | kind);
            write_payload(v, p.add(head));
        }
    }

    /// The same value, deadline and access time under another key (RENAME).
    pub fn with_key(mut self, key: &[u8]) -> Entry {
        let value = self.take_value();
        Entry::new(key, value, self.expire_at(), self.access())
    }

    /// Bytes of this entry's own allocation (access word, key, deadline, an inline value
    /// or the pointer to it), as jemalloc rounds the request up to its size class
    /// (MEMORY USAGE).
    pub fn alloc_bytes(&self) -> usize {
        crate::memory::alloc_size(layout(self.size()).size())
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        let size = self.size();
        let (p, kind) = self.payload();
        // SAFETY: a pointer kind's pointee is owned by the entry and freed exactly once
        // here (by dropping the value that takes it over); the allocation was made with
        // the layout of this same size.
        unsafe {
            if kind >= K_STR_EMB {
                drop(decode(kind, p));
            }
            std::alloc::dealloc(self.ptr(), layout(size));
        }
    }
}

/// An entry's value lent for reading ([`Entry::value`]): derefs to a [`Value`] decoded
/// from the entry's bytes, which shares (never owns) any pointee with the entry and is
/// never dropped.
pub struct ValueRef<'a> {
    value: ManuallyDrop<Value>,
    _entry: PhantomData<&'a Entry>,
}

impl std::ops::Deref for ValueRef<'_> {
    type Target = Value;
    #[inline]
    fn deref(&self) -> &Value {
        &self.value
    }
}

/// An entry's value lent for changing ([`Entry::value_mut`]): the value is moved out of
/// the entry (which meanwhile holds a placeholder it does not own) and moved back when
/// the guard is dropped, also while unwinding from a panic, so it is freed exactly once
/// whatever happens; a leaked guard leaks the value, never frees it twice.
pub struct ValueMut<'a> {
    entry: &'a mut Entry,
    value: ManuallyDrop<Value>,
}

impl std::ops::Deref for ValueMut<'_> {
    type Target = Value;
    #[inline]
    fn deref(&self) -> &Value {
        &self.value
    }
}

impl std::ops::DerefMut for ValueMut<'_> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Value {
        &mut self.value
    }
}

impl Drop for ValueMut<'_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the value is taken exactly once, here, and never used after.
        let v = unsafe { ManuallyDrop::take(&mut self.value) };
        self.entry.put_value(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{hash, zset};

    /// Net bytes this thread holds from jemalloc (tests run one per thread).
    fn held() -> i64 {
        use tikv_jemalloc_ctl::thread;
        let a = thread::allocatedp::read().unwrap().get();
        let d = thread::deallocatedp::read().unwrap().get();
        a.wrapping_sub(d) as i64
    }

    /// A value of every variant and encoded width, each with what describes it.
    fn samples() -> Vec<Value> {
        let mut v = Vec::new();
        for len in 0..=SMALL_MAX {
            v.push(Value::str_of(&b"abcdefghijklmnop"[..len], false));
        }
        for i in [
            0i64,
            1,
            -1,
            127,
            128,
            -128,
            -129,
            9999,
            32767,
            32768,
            -32769,
            i32::MAX as i64,
            i32::MAX as i64 + 1,
            i32::MIN as i64 - 1,
            i64::MIN,
            i64::MAX,
        ] {
            v.push(Value::Int(i));
            v.push(Value::OwnInt(i));
        }
        v.push(Value::str_of(&[b'e'; 15], false));
        v.push(Value::str_of(&[b'r'; 100], true));
        v.push(Value::raw(b"grown".to_vec()));
        let mut l = List::new();
        l.push_back(b"a", -2);
        l.push_back(b"b", -2);
        v.push(Value::List(Box::new(l)));
        let mut h = Hash::new();
        let hl = hash::Limits {
            entries: 128,
            value: 64,
        };
        h.set(b"f", b"v", hl);
        v.push(Value::Hash(Box::new(h)));
        let mut s = Set::new();
        s.add(b"m", 512);
        s.add(b"7", 512);
        v.push(Value::Set(Box::new(s)));
        let mut z = ZSet::new();
        let zl = zset::Limits {
            entries: 128,
            value: 64,
        };
        z.insert(b"m", 1.5, zl);
        v.push(Value::ZSet(Box::new(z)));
        v
    }

    /// What a value reads as, to compare a copy with the original.
    fn describe(v: &Value) -> String {
        let len = match v {
            Value::List(l) => l.len(),
            Value::Hash(h) => h.len(),
            Value::Set(s) => s.len(),
            Value::ZSet(z) => z.len(),
            _ => 0,
        };
        let variant = match v {
            Value::Int(_) => "Int",
            Value::OwnInt(_) => "OwnInt",
            Value::Small { .. } => "Small",
            Value::Str { .. } => "Str",
            Value::Raw(_) => "Raw",
            _ => "collection",
        };
        format!(
            "{variant} {} {} {:?} {len}",
            v.type_name(),
            v.encoding(),
            v.string_bytes()
        )
    }

    #[test]
    fn every_value_round_trips_with_every_key_and_deadline_form() {
        let base = deadline_base();
        let before = held();
        let deadlines = [
            0,
            base,
            base + 1_000,
            base + u32::MAX as u64,
            base + (1 << 32),
            42,
        ];
        for key_len in [0usize, 10, 254, 255, 300] {
            let key: Vec<u8> = (0..key_len).map(|i| i as u8).collect();
            for &d in &deadlines {
                for (value, want) in samples().into_iter().zip(samples()) {
                    let e = Entry::new(&key, value, d, 77);
                    assert_eq!(describe(&e.value()), describe(&want));
                    assert_eq!((e.key(), e.expire_at(), e.access()), (&key[..], d, 77));
                    assert_eq!(e.str_slice(), want.str_slice());
                    assert_eq!(e.string_bytes(), want.string_bytes());
                    let e = e.with_key(b"other");
                    assert_eq!(describe(&e.value()), describe(&want));
                    assert_eq!((e.key(), e.expire_at(), e.access()), (&b"other"[..], d, 77));
                }
            }
        }
        assert_eq!(held(), before, "every entry and value was freed");
    }

    #[test]
    fn deadline_forms_switch_in_place_or_by_resizing() {
        let base = deadline_base();
        let before = held();
        let mut e = Entry::new(b"key:123456", Value::string(b"value:123456"), 0, 5);
        // 4 + 1 + 1 + 10 + 12 = 28 bytes: the 32-byte class, with a 4-byte deadline too.
        assert_eq!(e.alloc_bytes(), 32);
        let forms = [
            (base + 3_600_000, 32),
            (base + 3_600_001, 32),
            (base + (1 << 32), 40),
            (base + 7, 32),
            (1, 40),
            (0, 32),
            (u64::MAX, 40),
            (base, 32),
            (0, 32),
        ];
        for (d, bytes) in forms {
            e.set_expire_at(d);
            assert_eq!((e.expire_at(), e.alloc_bytes()), (d, bytes), "deadline {d}");
            assert_eq!((e.key(), e.access()), (&b"key:123456"[..], 5));
            assert_eq!(e.str_slice(), Some(&b"value:123456"[..]));
            assert_eq!(e.is_expired(d), d != 0);
        }
        drop(e);
        // A pointer payload moves with the deadline as well.
        let mut e = Entry::new(b"k", Value::str_of(&[b'x'; 40], false), 0, 0);
        for d in [base + 1, 3, 0, base + 2, 0] {
            e.set_expire_at(d);
            assert_eq!(
                (e.expire_at(), e.string_bytes().map(|b| b.len())),
                (d, Some(40))
            );
        }
        drop(e);
        assert_eq!(held(), before);
    }

    #[test]
    fn values_change_size_through_the_guard_and_setters() {
        let base = deadline_base();
        let before = held();
        let long_key = vec![b'k'; 300];
        for key in [&b"key:1"[..], &long_key[..]] {
            let mut e = Entry::new(key, Value::string(b"tiny"), base + 50, 9);
            // Across the inline limit and back, and between integer widths.
            {
                let mut v = e.value_mut();
                *v = Value::string(&[b'y'; 30]);
            }
            assert_eq!(e.string_bytes().as_deref(), Some(&[b'y'; 30][..]));
            {
                let mut v = e.value_mut();
                v.string_mut().unwrap().truncate(3);
            }
            assert_eq!(
                (e.value().encoding(), e.str_slice()),
                ("raw", Some(&b"yyy"[..]))
            );
            e.set_value(Value::string(b"12"));
            assert_eq!(e.value().as_int(), Some(12));
            for i in [300i64, 70_000, 1 << 40, -5, 0] {
                let old = e.replace_value(Value::Int(i));
                assert!(old.is_string());
                assert_eq!(e.value().as_int(), Some(i));
            }
            e.string_mut().unwrap().extend_from_slice(b"1");
            assert_eq!(e.str_slice(), Some(&b"01"[..]));
            e.set_value(Value::str_of(b"fourteen bytes", false));
            assert_eq!(e.str_slice(), Some(&b"fourteen bytes"[..]));
            e.set_value(Value::List(Box::default()));
            e.list_mut().unwrap().push_back(b"x", -2);
            assert_eq!(
                (e.list().map(List::len), e.set().is_some()),
                (Some(1), false)
            );
            assert!(e.string_mut().is_none());
            // Everything else is where it was.
            assert_eq!((e.key(), e.expire_at(), e.access()), (key, base + 50, 9));
        }
        drop(long_key);
        assert_eq!(held(), before);
    }

    #[test]
    fn a_panic_or_a_leaked_guard_never_frees_twice() {
        let before = held();
        let mut e = Entry::new(b"k", Value::List(Box::default()), 0, 0);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut v = e.value_mut();
            *v = Value::str_of(&[b'p'; 50], true);
            // Unwinds like a panic, without the panic hook (whose output capture would
            // hold memory of this thread and spoil the count).
            std::panic::resume_unwind(Box::new(()));
        }));
        assert!(r.is_err());
        drop(r);
        // The guard's drop put the changed value back while unwinding.
        assert_eq!(e.string_bytes().map(|b| b.len()), Some(50));
        drop(e);
        assert_eq!(held(), before);
        // A forgotten guard leaves the entry holding a plain number it does not own: the
        // value leaks, the entry stays sound.
        let mut e = Entry::new(b"k", Value::Set(Box::default()), 0, 0);
        std::mem::forget(e.value_mut());
        assert!(e.value().as_int().is_some());
        drop(e);
    }

    #[test]
    fn class_is_jemallocs() {
        for n in 1..=70_000 {
            assert_eq!(
                size_class(n),
                crate::memory::alloc_size(n.max(MIN_SIZE)),
                "{n}"
            );
        }
    }

    #[test]
    fn shared_integers_are_told_apart_by_the_tag() {
        let e = |v| Entry::new(b"k", v, 0, 0);
        assert_eq!(e(Value::Int(0)).shared_int(), Some(0));
        assert_eq!(e(Value::Int(9999)).shared_int(), Some(9999));
        assert_eq!(e(Value::Int(10_000)).shared_int(), None);
        assert_eq!(e(Value::Int(-1)).shared_int(), None);
        assert_eq!(e(Value::OwnInt(5)).shared_int(), None);
        assert_eq!(e(Value::string(b"5x")).shared_int(), None);
    }
}
