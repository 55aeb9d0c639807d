//! Set values, in the shapes a set takes as it grows.
//!
//! - `intset`: every member a canonical integer (Redis's `string2ll`) and at most
//!   set-max-intset-entries of them. Kept, as in Redis, as sorted little-endian integers
//!   of a common width (2, 4 or 8 bytes), which sets the order SMEMBERS and SSCAN list
//!   them in.
//! - packed: a small set with a non-integer member. Redis 7.0 has no compact form for those
//!   (it reports `hashtable`, and so do we), but a dict with an allocation per member costs
//!   hundreds of bytes for five short members, so up to [`PACKED_MAX_ENTRIES`] members of at
//!   most [`PACKED_MAX_LEN`] bytes live in one buffer of length-prefixed strings.
//! - big: a hash table of offsets into one arena of length-prefixed members, so a member
//!   costs its bytes plus a table slot rather than an allocation of its own.
//!
//! The two compact buffers live inside the value itself while they fit in
//! [`INLINE`] bytes (five small integers or five one-letter members), so a small set
//! costs no allocation at all.
//!
//! A set only ever moves forward through these shapes (Redis never converts a set back),
//! except that commands building a result from scratch (*STORE, SPOP's rebuild) start a
//! fresh intset as Redis does.

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rand::Rng;

use crate::util::parse_i64;

/// Most members a packed set holds before it becomes a hash table.
pub const PACKED_MAX_ENTRIES: usize = 128;
/// Longest member a packed set holds.
pub const PACKED_MAX_LEN: usize = 64;
/// Largest compact buffer kept inside the value rather than on the heap.
pub const INLINE: usize = 22;

/// `Value` holds a `Set` in a `Box`: at 24 bytes that is one 24-byte allocation, with a
/// small set's members inline in it.
const _: () = assert!(std::mem::size_of::<Set>() <= 24);

#[derive(Clone)]
pub struct Set {
    repr: Repr,
}

/// The compact buffers are laid out as [`intset`] and [`packed`] describe, either inline
/// (`len` bytes of `data` used) or on the heap.
#[derive(Clone)]
enum Repr {
    SmallInts { len: u8, data: [u8; INLINE] },
    SmallPacked { len: u8, data: [u8; INLINE] },
    Ints(Box<[u8]>),
    Packed(Box<[u8]>),
    Big(Box<BigSet>),
}

/// A borrowed look at a set's storage, whatever its place.
enum View<'a> {
    Ints(&'a [u8]),
    Packed(&'a [u8]),
    Big(&'a BigSet),
}

fn inline(v: &[u8]) -> Option<(u8, [u8; INLINE])> {
    if v.len() > INLINE {
        return None;
    }
    let mut data = [0u8; INLINE];
    data[..v.len()].copy_from_slice(v);
    Some((v.len() as u8, data))
}

impl Repr {
    fn ints(v: Vec<u8>) -> Repr {
        match inline(&v) {
            Some((len, data)) => Repr::SmallInts { len, data },
            None => Repr::Ints(v.into_boxed_slice()),
        }
    }

    fn packed(v: Vec<u8>) -> Repr {
        match inline(&v) {
            Some((len, data)) => Repr::SmallPacked { len, data },
            None => Repr::Packed(v.into_boxed_slice()),
        }
    }
}

/// A member as a set holds it: an intset yields integers, other shapes bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Member<'a> {
    Int(i64),
    Bytes(&'a [u8]),
}

impl Member<'_> {
    /// Calls `f` with the member's bytes (an integer in its decimal form).
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Member::Int(i) => f(itoa::Buffer::new().format(*i).as_bytes()),
            Member::Bytes(b) => f(b),
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        self.with_bytes(|b| b.to_vec())
    }
}

impl Default for Set {
    fn default() -> Self {
        Set::new()
    }
}

impl Set {
    /// An empty intset (Redis's `createIntsetObject`), the start of every result set.
    pub fn new() -> Set {
        Set {
            repr: Repr::ints(vec![2]),
        }
    }

    /// An empty set of the shape that can hold `first` (Redis's `setTypeCreate`).
    pub fn for_member(first: &[u8]) -> Set {
        if parse_i64(first).is_some() {
            Set::new()
        } else if first.len() <= PACKED_MAX_LEN {
            Set {
                repr: Repr::packed(vec![0]),
            }
        } else {
            Set {
                repr: Repr::Big(Box::new(BigSet::with_capacity(1))),
            }
        }
    }

    fn view(&self) -> View<'_> {
        match &self.repr {
            Repr::SmallInts { len, data } => View::Ints(&data[..*len as usize]),
            Repr::SmallPacked { len, data } => View::Packed(&data[..*len as usize]),
            Repr::Ints(d) => View::Ints(d),
            Repr::Packed(d) => View::Packed(d),
            Repr::Big(b) => View::Big(b),
        }
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self.view() {
            View::Ints(_) => "intset",
            View::Packed(_) | View::Big(_) => "hashtable",
        }
    }

    pub fn len(&self) -> usize {
        match self.view() {
            View::Ints(d) => intset::len(d),
            View::Packed(d) => d[0] as usize,
            View::Big(b) => b.table.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A deep copy (COPY).
    pub fn duplicate(&self) -> Set {
        self.clone()
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        match self.view() {
            View::Ints(d) => parse_i64(m).is_some_and(|v| intset::search(d, v).is_ok()),
            View::Packed(d) => packed::find(d, m).is_some(),
            View::Big(b) => b.contains(m),
        }
    }

    /// Membership of a member taken from another set, without formatting integers when
    /// both sides are intsets.
    pub fn contains_member(&self, m: Member) -> bool {
        match (self.view(), m) {
            (View::Ints(d), Member::Int(v)) => intset::search(d, v).is_ok(),
            (_, m) => m.with_bytes(|b| self.contains(b)),
        }
    }

    /// Adds a member (Redis's `setTypeAdd`); true if it was not there. An intset turns
    /// into a hash table when `m` is not an integer or it grows past `max_intset`.
    pub fn add(&mut self, m: &[u8], max_intset: i64) -> bool {
        match self.view() {
            View::Ints(_) => match parse_i64(m) {
                Some(v) => self.add_int(v, max_intset),
                None => {
                    self.ints_to_hashtable(1, m.len());
                    self.add(m, max_intset)
                }
            },
            View::Packed(d) => {
                if packed::find(d, m).is_some() {
                    return false;
                }
                self.repr = if (d[0] as usize) < PACKED_MAX_ENTRIES && m.len() <= PACKED_MAX_LEN {
                    Repr::packed(packed::pushed(d, m))
                } else {
                    let mut big = BigSet::with_capacity(d[0] as usize + 1);
                    for e in packed::Iter::new(d) {
                        big.insert(e);
                    }
                    big.insert(m);
                    Repr::Big(Box::new(big))
                };
                true
            }
            View::Big(_) => match &mut self.repr {
                Repr::Big(b) => b.insert(m),
                _ => false,
            },
        }
    }

    /// [`Set::add`] of a member taken from another set.
    pub fn add_member(&mut self, m: Member, max_intset: i64) -> bool {
        match (self.view(), m) {
            (View::Ints(_), Member::Int(v)) => self.add_int(v, max_intset),
            (_, m) => m.with_bytes(|b| self.add(b, max_intset)),
        }
    }

    fn add_int(&mut self, v: i64, max_intset: i64) -> bool {
        match self.view() {
            View::Ints(d) => {
                let Some(grown) = intset::inserted(d, v) else {
                    return false;
                };
                let n = intset::len(&grown);
                self.repr = Repr::ints(grown);
                if n as i64 > max_intset {
                    self.ints_to_hashtable(0, 0);
                }
                true
            }
            _ => self.add(itoa::Buffer::new().format(v).as_bytes(), max_intset),
        }
    }

    /// Converts an intset to the hash-table shape that will fit `extra` more members, the
    /// longest `extra_len` bytes long.
    fn ints_to_hashtable(&mut self, extra: usize, extra_len: usize) {
        let View::Ints(d) = self.view() else {
            return;
        };
        let n = intset::len(d);
        let mut buf = itoa::Buffer::new();
        self.repr = if n + extra <= PACKED_MAX_ENTRIES && extra_len <= PACKED_MAX_LEN {
            let mut v = Vec::with_capacity(1 + n * 4);
            v.push(0);
            for i in 0..n {
                packed::append(&mut v, buf.format(intset::get(d, i)).as_bytes());
            }
            Repr::packed(v)
        } else {
            let mut big = BigSet::with_capacity(n + extra);
            for i in 0..n {
                big.insert(buf.format(intset::get(d, i)).as_bytes());
            }
            Repr::Big(Box::new(big))
        };
    }

    /// Removes a member; true if it was there.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self.view() {
            View::Ints(d) => {
                let Some(i) = parse_i64(m).and_then(|v| intset::search(d, v).ok()) else {
                    return false;
                };
                self.repr = Repr::ints(intset::without(d, i));
                true
            }
            View::Packed(d) => {
                let Some(off) = packed::find(d, m) else {
                    return false;
                };
                self.repr = Repr::packed(packed::without(d, off));
                true
            }
            View::Big(_) => match &mut self.repr {
                Repr::Big(b) => b.remove(m),
                _ => false,
            },
        }
    }

    /// Every member: intsets ascending, other shapes in their own order.
    pub fn iter(&self) -> Iter<'_> {
        Iter(match self.view() {
            View::Ints(d) => IterInner::Ints { data: d, next: 0 },
            View::Packed(d) => IterInner::Packed(packed::Iter::new(d)),
            View::Big(b) => IterInner::Big {
                arena: &b.arena,
                it: b.table.iter(),
            },
        })
    }

    /// A uniformly chosen member, None if empty.
    pub fn random(&self, rng: &mut impl Rng) -> Option<Member<'_>> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        Some(match self.view() {
            View::Ints(d) => Member::Int(intset::get(d, rng.random_range(0..n))),
            View::Packed(d) => Member::Bytes(packed::Iter::new(d).nth(rng.random_range(0..n))?),
            View::Big(b) => Member::Bytes(entry(&b.arena, b.random_slot(rng).1)),
        })
    }

    /// Removes a uniformly chosen member and returns its bytes, None if empty.
    pub fn pop_random(&mut self, rng: &mut impl Rng) -> Option<Vec<u8>> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        let (m, repr) = match self.view() {
            View::Ints(d) => {
                let i = rng.random_range(0..n);
                let m = itoa::Buffer::new()
                    .format(intset::get(d, i))
                    .as_bytes()
                    .to_vec();
                (m, Repr::ints(intset::without(d, i)))
            }
            View::Packed(d) => {
                let off = packed::offset_of(d, rng.random_range(0..n));
                (
                    packed::at(d, off).to_vec(),
                    Repr::packed(packed::without(d, off)),
                )
            }
            View::Big(_) => {
                return match &mut self.repr {
                    Repr::Big(b) => Some(b.pop_random(rng)),
                    _ => None,
                };
            }
        };
        self.repr = repr;
        Some(m)
    }

    /// `count` distinct members chosen at random, `count` < len (SRANDMEMBER's unique
    /// sample). Order is random.
    pub fn sample(&self, count: usize, rng: &mut impl Rng) -> Vec<Member<'_>> {
        let n = self.len();
        let count = count.min(n);
        if let View::Big(b) = self.view() {
            if count.saturating_mul(3) <= n {
                // Few of many: distinct table slots are distinct members, and probing
                // random slots costs no copy of the whole set.
                let mut seen = hashbrown::HashSet::with_capacity(count);
                let mut out = Vec::with_capacity(count);
                while out.len() < count {
                    let (slot, off) = b.random_slot(rng);
                    if seen.insert(slot) {
                        out.push(Member::Bytes(entry(&b.arena, off)));
                    }
                }
                return out;
            }
        }
        let all: Vec<Member<'_>> = self.iter().collect();
        rand::seq::index::sample(rng, n, count)
            .into_iter()
            .map(|i| all[i])
            .collect()
    }

    /// One SSCAN step from `cursor`: the compact shapes give everything at once (cursor 0,
    /// as Redis does for an intset); the big shape walks about `count` table slots. Every
    /// member present for a whole scan is visited at least once.
    pub fn scan<'a>(&'a self, cursor: u64, count: usize, mut visit: impl FnMut(Member<'a>)) -> u64 {
        match self.view() {
            View::Big(b) => b.scan(cursor, count, visit),
            _ => {
                for m in self.iter() {
                    visit(m);
                }
                0
            }
        }
    }
}

/// Iterator over a set's members.
pub struct Iter<'a>(IterInner<'a>);

enum IterInner<'a> {
    Ints {
        data: &'a [u8],
        next: usize,
    },
    Packed(packed::Iter<'a>),
    Big {
        arena: &'a [u8],
        it: hashbrown::hash_table::Iter<'a, u64>,
    },
}

impl<'a> Iterator for Iter<'a> {
    type Item = Member<'a>;

    fn next(&mut self) -> Option<Member<'a>> {
        match &mut self.0 {
            IterInner::Ints { data, next } => {
                if *next >= intset::len(data) {
                    return None;
                }
                *next += 1;
                Some(Member::Int(intset::get(data, *next - 1)))
            }
            IterInner::Packed(it) => it.next().map(Member::Bytes),
            IterInner::Big { arena, it } => it.next().map(|&off| Member::Bytes(entry(arena, off))),
        }
    }
}

/// Sorted integers of one width in a buffer: byte 0 is the width (2, 4 or 8), then the
/// values little-endian. The width only grows, as Redis's intset upgrade does.
mod intset {
    pub fn width(d: &[u8]) -> usize {
        d[0] as usize
    }

    pub fn len(d: &[u8]) -> usize {
        (d.len() - 1) / width(d)
    }

    fn width_for(v: i64) -> usize {
        if i16::try_from(v).is_ok() {
            2
        } else if i32::try_from(v).is_ok() {
            4
        } else {
            8
        }
    }

    fn read(d: &[u8], w: usize, i: usize) -> i64 {
        let at = 1 + i * w;
        let b = &d[at..at + w];
        match w {
            2 => i16::from_le_bytes([b[0], b[1]]) as i64,
            4 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
            _ => {
                let mut x = [0u8; 8];
                x.copy_from_slice(b);
                i64::from_le_bytes(x)
            }
        }
    }

    fn write(out: &mut Vec<u8>, w: usize, v: i64) {
        out.extend_from_slice(&v.to_le_bytes()[..w]);
    }

    pub fn get(d: &[u8], i: usize) -> i64 {
        read(d, width(d), i)
    }

    /// Ok(index) if present, else Err(insertion index).
    pub fn search(d: &[u8], v: i64) -> Result<usize, usize> {
        let w = width(d);
        if width_for(v) > w {
            // Outside every value this width holds: below all or above all.
            return Err(if v < 0 { 0 } else { len(d) });
        }
        let (mut lo, mut hi) = (0, len(d));
        while lo < hi {
            let mid = (lo + hi) / 2;
            let x = read(d, w, mid);
            if x == v {
                return Ok(mid);
            }
            if x < v {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Err(lo)
    }

    /// The buffer with `v` added, None if it was there.
    pub fn inserted(d: &[u8], v: i64) -> Option<Vec<u8>> {
        let pos = search(d, v).err()?;
        let n = len(d);
        let w = width(d).max(width_for(v));
        let mut out = Vec::with_capacity(1 + (n + 1) * w);
        out.push(w as u8);
        for i in 0..pos {
            write(&mut out, w, get(d, i));
        }
        write(&mut out, w, v);
        for i in pos..n {
            write(&mut out, w, get(d, i));
        }
        Some(out)
    }

    /// The buffer without its i-th value.
    pub fn without(d: &[u8], i: usize) -> Vec<u8> {
        let w = width(d);
        let mut v = Vec::with_capacity(d.len() - w);
        v.extend_from_slice(&d[..1 + i * w]);
        v.extend_from_slice(&d[1 + (i + 1) * w..]);
        v
    }
}

/// Short strings in a buffer: byte 0 is the count, then `[len][bytes]` per member, in the
/// order they were added (lengths are at most [`super::PACKED_MAX_LEN`]).
mod packed {
    pub struct Iter<'a> {
        data: &'a [u8],
        off: usize,
    }

    impl<'a> Iter<'a> {
        pub fn new(d: &'a [u8]) -> Self {
            Iter { data: d, off: 1 }
        }
    }

    impl<'a> Iterator for Iter<'a> {
        type Item = &'a [u8];

        fn next(&mut self) -> Option<&'a [u8]> {
            let len = *self.data.get(self.off)? as usize;
            let start = self.off + 1;
            self.off = start + len;
            self.data.get(start..start + len)
        }
    }

    /// The member stored at byte offset `off`.
    pub fn at(d: &[u8], off: usize) -> &[u8] {
        let len = d[off] as usize;
        &d[off + 1..off + 1 + len]
    }

    pub fn find(d: &[u8], m: &[u8]) -> Option<usize> {
        let mut off = 1;
        while off < d.len() {
            let len = d[off] as usize;
            if len == m.len() && &d[off + 1..off + 1 + len] == m {
                return Some(off);
            }
            off += 1 + len;
        }
        None
    }

    /// Byte offset of the i-th member.
    pub fn offset_of(d: &[u8], i: usize) -> usize {
        let mut off = 1;
        for _ in 0..i {
            off += 1 + d[off] as usize;
        }
        off
    }

    pub fn append(v: &mut Vec<u8>, m: &[u8]) {
        v[0] += 1;
        v.push(m.len() as u8);
        v.extend_from_slice(m);
    }

    /// The buffer with `m` appended.
    pub fn pushed(d: &[u8], m: &[u8]) -> Vec<u8> {
        let mut v = Vec::with_capacity(d.len() + 1 + m.len());
        v.extend_from_slice(d);
        append(&mut v, m);
        v
    }

    /// The buffer without the member at byte offset `off`.
    pub fn without(d: &[u8], off: usize) -> Vec<u8> {
        let len = d[off] as usize;
        let mut v = Vec::with_capacity(d.len() - 1 - len);
        v.extend_from_slice(&d[..off]);
        v.extend_from_slice(&d[off + 1 + len..]);
        v[0] -= 1;
        v
    }
}

/// The member stored at `off` in an arena: a LEB128 length, then the bytes.
fn entry(arena: &[u8], off: u64) -> &[u8] {
    let (len, start) = read_len(arena, off as usize);
    &arena[start..start + len]
}

fn read_len(arena: &[u8], mut at: usize) -> (usize, usize) {
    let mut len = 0usize;
    let mut shift = 0;
    loop {
        let b = arena[at];
        at += 1;
        len |= ((b & 0x7f) as usize) << shift;
        if b & 0x80 == 0 {
            return (len, at);
        }
        shift += 7;
    }
}

fn write_len(arena: &mut Vec<u8>, mut len: usize) {
    loop {
        let b = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            arena.push(b);
            return;
        }
        arena.push(b | 0x80);
    }
}

/// Bits of an SSCAN cursor holding the table slot; the bits above hold the table's
/// layout epoch, so a cursor issued before the table was resized restarts the walk.
const SLOT_BITS: u32 = 40;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;

/// The large shape: a table of offsets into an arena of members. Removed members leave
/// dead bytes in the arena until they outweigh the live ones and the arena is compacted.
#[derive(Clone)]
struct BigSet {
    table: HashTable<u64>,
    arena: Vec<u8>,
    /// Arena bytes of removed members.
    dead: usize,
    /// Bumped whenever the table may have moved members between slots (growth, shrink),
    /// which invalidates the slot positions of SSCAN cursors.
    epoch: u32,
    hasher: hashbrown::DefaultHashBuilder,
}

impl BigSet {
    fn with_capacity(n: usize) -> BigSet {
        BigSet {
            table: HashTable::with_capacity(n),
            arena: Vec::new(),
            dead: 0,
            epoch: 0,
            hasher: hashbrown::DefaultHashBuilder::default(),
        }
    }

    fn contains(&self, m: &[u8]) -> bool {
        let h = self.hasher.hash_one(m);
        self.table
            .find(h, |&o| entry(&self.arena, o) == m)
            .is_some()
    }

    fn insert(&mut self, m: &[u8]) -> bool {
        let h = self.hasher.hash_one(m);
        let BigSet {
            table,
            arena,
            hasher,
            epoch,
            ..
        } = self;
        if table.find(h, |&o| entry(arena, o) == m).is_some() {
            return false;
        }
        if table.len() == table.capacity() {
            // This insert grows or rehashes the table.
            *epoch = epoch.wrapping_add(1);
        }
        let off = arena.len() as u64;
        write_len(arena, m.len());
        arena.extend_from_slice(m);
        let arena = &*arena;
        table.insert_unique(h, off, |&o| hasher.hash_one(entry(arena, o)));
        true
    }

    fn remove(&mut self, m: &[u8]) -> bool {
        let h = self.hasher.hash_one(m);
        let arena = &self.arena;
        match self.table.find_entry(h, |&o| entry(arena, o) == m) {
            Ok(occ) => {
                let (off, _) = occ.remove();
                self.released(off);
                true
            }
            Err(_) => false,
        }
    }

    /// A random occupied (slot, offset). The table is kept at least 1/8 full (see
    /// [`BigSet::released`]), so this takes a few probes. Callers ensure it is not empty.
    fn random_slot(&self, rng: &mut impl Rng) -> (usize, u64) {
        let buckets = self.table.num_buckets();
        loop {
            let slot = rng.random_range(0..buckets);
            if let Some(&off) = self.table.get_bucket(slot) {
                return (slot, off);
            }
        }
    }

    fn pop_random(&mut self, rng: &mut impl Rng) -> Vec<u8> {
        let (slot, off) = self.random_slot(rng);
        let m = entry(&self.arena, off).to_vec();
        if let Ok(occ) = self.table.get_bucket_entry(slot) {
            occ.remove();
        }
        self.released(off);
        m
    }

    /// Accounts for the member at `off` having left the table: compacts the arena when
    /// it is mostly dead, shrinks the table when it is mostly empty.
    fn released(&mut self, off: u64) {
        let (len, start) = read_len(&self.arena, off as usize);
        self.dead += start - off as usize + len;
        if self.dead > 64 && self.dead * 2 > self.arena.len() {
            self.compact();
        }
        let buckets = self.table.num_buckets();
        if buckets > 64 && self.table.len() * 8 < buckets {
            let arena = &self.arena;
            let hasher = &self.hasher;
            self.table
                .shrink_to(0, |&o| hasher.hash_one(entry(arena, o)));
            self.epoch = self.epoch.wrapping_add(1);
        }
    }

    /// Copies the live members into a fresh arena. Members keep their table slots (only
    /// the offsets change), so SSCAN cursors stay valid.
    fn compact(&mut self) {
        let live = self.arena.len() - self.dead;
        let mut fresh = Vec::with_capacity(live);
        for off in self.table.iter_mut() {
            let m = entry(&self.arena, *off);
            *off = fresh.len() as u64;
            write_len(&mut fresh, m.len());
            fresh.extend_from_slice(m);
        }
        self.arena = fresh;
        self.dead = 0;
    }

    fn scan<'a>(&'a self, cursor: u64, count: usize, mut visit: impl FnMut(Member<'a>)) -> u64 {
        let epoch = self.epoch as u64 & (u64::MAX >> SLOT_BITS);
        let mut slot = if cursor >> SLOT_BITS == epoch {
            (cursor & SLOT_MASK) as usize
        } else {
            // Issued before a resize: positions moved, so walk again from the start
            // (members may repeat, none is missed).
            0
        };
        let buckets = self.table.num_buckets();
        let count = count.max(1);
        let max_slots = count.saturating_mul(10);
        let (mut found, mut walked) = (0, 0);
        while slot < buckets && found < count && walked < max_slots {
            if let Some(&off) = self.table.get_bucket(slot) {
                visit(Member::Bytes(entry(&self.arena, off)));
                found += 1;
            }
            slot += 1;
            walked += 1;
        }
        if slot >= buckets {
            0
        } else {
            (epoch << SLOT_BITS) | slot as u64
        }
    }
}

// MEMORY USAGE: the bytes a value holds on the heap, in jemalloc size classes.
impl Set {
    /// Heap bytes, exact: a set's members live in one buffer or one arena, so there is
    /// nothing to sample.
    pub fn heap_bytes(&self) -> usize {
        use crate::memory::alloc_size;
        match &self.repr {
            Repr::SmallInts { .. } | Repr::SmallPacked { .. } => 0,
            Repr::Ints(b) | Repr::Packed(b) => alloc_size(b.len()),
            Repr::Big(b) => {
                alloc_size(std::mem::size_of::<BigSet>())
                    + b.table.allocation_size()
                    + alloc_size(b.arena.capacity())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(s: &Set) -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = s.iter().map(|m| m.to_vec()).collect();
        v.sort();
        v
    }

    #[test]
    fn intset_widths_and_order() {
        let mut s = Set::new();
        for v in [5i64, -3, 70000, 1, i64::MIN, i64::MAX, 0] {
            assert!(s.add(v.to_string().as_bytes(), 512));
        }
        assert!(!s.add(b"70000", 512));
        assert_eq!(s.encoding(), "intset");
        let got: Vec<Member> = s.iter().collect();
        let want: Vec<Member> = [i64::MIN, -3, 0, 1, 5, 70000, i64::MAX]
            .into_iter()
            .map(Member::Int)
            .collect();
        assert_eq!(got, want);
        assert!(s.contains(b"-3"));
        assert!(!s.contains(b"03"));
        assert!(s.remove(b"70000"));
        assert!(!s.remove(b"70000"));
        assert_eq!(s.len(), 6);
    }

    #[test]
    fn small_sets_live_inline() {
        let mut s = Set::new();
        for v in 1..=10 {
            s.add(v.to_string().as_bytes(), 512);
        }
        assert!(matches!(s.repr, Repr::SmallInts { .. }));
        s.add(b"11", 512);
        assert!(matches!(s.repr, Repr::Ints(_)));
        s.remove(b"11");
        assert!(matches!(s.repr, Repr::SmallInts { .. }));
        let mut p = Set::for_member(b"a");
        for m in ["a", "b", "c", "d", "e"] {
            p.add(m.as_bytes(), 512);
        }
        assert!(matches!(p.repr, Repr::SmallPacked { .. }));
        assert_eq!(p.len(), 5);
        assert!(p.contains(b"e") && !p.contains(b"f"));
        p.add(b"a longer member than fits inline", 512);
        assert!(matches!(p.repr, Repr::Packed(_)));
        assert_eq!(members(&p).len(), 6);
    }

    #[test]
    fn conversions() {
        let mut s = Set::new();
        for i in 0..3 {
            s.add(i.to_string().as_bytes(), 3);
        }
        assert_eq!(s.encoding(), "intset");
        s.add(b"3", 3);
        assert_eq!(s.encoding(), "hashtable");
        assert!(matches!(s.view(), View::Packed(_)));
        for i in 4..200 {
            s.add(format!("m{i}").as_bytes(), 3);
        }
        assert!(matches!(s.view(), View::Big(_)));
        assert_eq!(s.len(), 200);
        assert!(s.contains(b"3") && s.contains(b"m199"));
        let long = vec![b'x'; 100];
        let mut p = Set::for_member(b"a");
        p.add(b"a", 512);
        p.add(&long, 512);
        assert!(matches!(p.view(), View::Big(_)));
        assert_eq!(members(&p), vec![b"a".to_vec(), long]);
    }

    #[test]
    fn big_remove_compact_shrink_and_scan() {
        let mut s = Set::for_member(b"x");
        for i in 0..2000 {
            s.add(format!("member:{i}").as_bytes(), 512);
        }
        for i in 0..1990 {
            assert!(s.remove(format!("member:{i}").as_bytes()));
        }
        assert_eq!(s.len(), 10);
        let mut seen = Vec::new();
        let mut cursor = 0;
        for _ in 0..100 {
            cursor = s.scan(cursor, 3, |m| seen.push(m.to_vec()));
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(cursor, 0);
        seen.sort();
        seen.dedup();
        assert_eq!(seen, members(&s));
        let mut rng = rand::rng();
        let mut popped = Vec::new();
        while let Some(m) = s.pop_random(&mut rng) {
            popped.push(m);
        }
        assert_eq!(popped.len(), 10);
        assert!(s.is_empty());
    }

    #[test]
    fn samples_are_distinct() {
        let mut rng = rand::rng();
        let mut s = Set::for_member(b"a");
        for i in 0..1000 {
            s.add(format!("{i}x").as_bytes(), 512);
        }
        for count in [1, 10, 300, 500, 999] {
            let mut v: Vec<Vec<u8>> = s
                .sample(count, &mut rng)
                .iter()
                .map(|m| m.to_vec())
                .collect();
            v.sort();
            v.dedup();
            assert_eq!(v.len(), count);
        }
    }
}
