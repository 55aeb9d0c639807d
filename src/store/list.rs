//! List values (LPUSH, LRANGE, ...), shaped like Redis's quicklist: a deque of chunks,
//! each one packed buffer of entries, so a small element costs a couple of bytes beyond
//! its own and both ends push and pop in O(1). Redis 7.0 reports every list as
//! `quicklist`.
//!
//! An entry is `header, payload, backlen`, as in a listpack: the header gives the kind and
//! length (canonical decimal integers are stored as little-endian integers of 0, 2, 3, 4 or
//! 8 bytes), and `backlen` (the header+payload length in 7-bit groups, readable from its
//! last byte) lets a chunk be walked backwards from its end. A chunk keeps a free gap in
//! front of its data (`start`) so LPUSH and LPOP do not shift the chunk's bytes on every
//! call; the gap and spare capacity are squeezed out once a chunk is full and a new one is
//! started, so long lists carry almost no slack.
//!
//! Chunk size follows `list-max-listpack-size` like a quicklist node: a negative value is
//! a byte budget (-1 = 4 KiB ... -5 = 64 KiB), a positive one an entry count (still capped
//! at 8 KiB). An element bigger than the budget gets a chunk of its own.

use std::collections::VecDeque;

/// Byte budget of a chunk under a count limit (Redis's SIZE_SAFETY_LIMIT).
const SIZE_SAFETY_LIMIT: usize = 8192;
/// Byte budgets of `list-max-listpack-size` -1 ... -5 (Redis's optimization_level).
const SIZE_LEVELS: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// Most entries of a chunk under a count limit (a quicklist node counts in 16 bits).
const MAX_COUNT: usize = 65535;
/// Chunks up to this size grow to their exact size, as a listpack is reallocated, so the
/// many small lists of a cache carry no slack; bigger ones grow geometrically.
const EXACT_GROWTH: usize = 256;

/// One list element as stored: its bytes, or the integer its canonical decimal text
/// stands for. Two elements are equal exactly when their texts are (an element is kept
/// as an integer if and only if its text is a canonical integer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem<'a> {
    Str(&'a [u8]),
    Int(i64),
}

impl<'a> Elem<'a> {
    /// The stored form of `v`, also what a query value is compared as.
    pub fn of(v: &'a [u8]) -> Elem<'a> {
        if v.len() <= 20 {
            if let Some(i) = crate::util::parse_i64(v) {
                return Elem::Int(i);
            }
        }
        Elem::Str(v)
    }

    /// The element's text.
    pub fn to_vec(&self) -> Vec<u8> {
        match *self {
            Elem::Str(s) => s.to_vec(),
            Elem::Int(i) => itoa::Buffer::new().format(i).as_bytes().to_vec(),
        }
    }
}

/// An element encoded as an entry, ready to be copied into a chunk.
struct Encoded<'a> {
    head: [u8; 9],
    head_len: u8,
    payload: &'a [u8],
    back: [u8; 10],
    back_len: u8,
}

impl<'a> Encoded<'a> {
    fn new(v: &'a [u8]) -> Encoded<'a> {
        let mut head = [0u8; 9];
        let (head_len, payload): (usize, &[u8]) = match Elem::of(v) {
            Elem::Int(i) => {
                let n = if (0..=127).contains(&i) {
                    head[0] = i as u8;
                    0
                } else if i16::try_from(i).is_ok() {
                    head[0] = 0xE0;
                    2
                } else if (-(1 << 23)..(1 << 23)).contains(&i) {
                    head[0] = 0xE1;
                    3
                } else if i32::try_from(i).is_ok() {
                    head[0] = 0xE2;
                    4
                } else {
                    head[0] = 0xE3;
                    8
                };
                head[1..1 + n].copy_from_slice(&i.to_le_bytes()[..n]);
                (1 + n, &[])
            }
            Elem::Str(s) => {
                let n = s.len();
                let h = if n < 64 {
                    head[0] = 0x80 | n as u8;
                    1
                } else if n < 8192 {
                    head[0] = 0xC0 | (n >> 8) as u8;
                    head[1] = n as u8;
                    2
                } else if let Ok(n32) = u32::try_from(n) {
                    head[0] = 0xF0;
                    head[1..5].copy_from_slice(&n32.to_le_bytes());
                    5
                } else {
                    head[0] = 0xF1;
                    head[1..9].copy_from_slice(&(n as u64).to_le_bytes());
                    9
                };
                (h, s)
            }
        };
        let mut back = [0u8; 10];
        let back_len = encode_backlen(head_len + payload.len(), &mut back);
        Encoded {
            head,
            head_len: head_len as u8,
            payload,
            back,
            back_len: back_len as u8,
        }
    }

    fn size(&self) -> usize {
        self.head_len as usize + self.payload.len() + self.back_len as usize
    }

    fn append_to(&self, v: &mut Vec<u8>) {
        v.extend_from_slice(&self.head[..self.head_len as usize]);
        v.extend_from_slice(self.payload);
        v.extend_from_slice(&self.back[..self.back_len as usize]);
    }

    /// Writes the entry into `dst`, which is exactly `size()` long.
    fn write_to(&self, dst: &mut [u8]) {
        let h = self.head_len as usize;
        let p = self.payload.len();
        dst[..h].copy_from_slice(&self.head[..h]);
        dst[h..h + p].copy_from_slice(self.payload);
        dst[h + p..].copy_from_slice(&self.back[..self.back_len as usize]);
    }

    fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.size());
        self.append_to(&mut v);
        v
    }
}

/// Writes `l` as a backlen (most significant 7-bit group first; every byte but the
/// first has the high bit set, meaning "more groups precede"). Returns its length.
fn encode_backlen(l: usize, out: &mut [u8; 10]) -> usize {
    let n = backlen_size(l);
    for (i, b) in out[..n].iter_mut().enumerate() {
        let group = ((l >> (7 * (n - 1 - i))) & 0x7F) as u8;
        *b = if i == 0 { group } else { group | 0x80 };
    }
    n
}

fn backlen_size(l: usize) -> usize {
    let mut n = 1;
    let mut x = l >> 7;
    while x > 0 {
        n += 1;
        x >>= 7;
    }
    n
}

/// Decodes the entry at `off`: the element and the entry's whole size.
fn decode(data: &[u8], off: usize) -> (Elem<'_>, usize) {
    let b = data[off];
    let int = |n: usize| {
        let mut le = [0u8; 8];
        le[..n].copy_from_slice(&data[off + 1..off + 1 + n]);
        // Sign-extend from n bytes.
        let shift = 64 - 8 * n as u32;
        ((i64::from_le_bytes(le) << shift) >> shift, 1 + n)
    };
    let str_at = |h: usize, n: usize| (Elem::Str(&data[off + h..off + h + n]), h + n);
    let (elem, l) = match b {
        0x00..=0x7F => (Elem::Int(b as i64), 1),
        0x80..=0xBF => str_at(1, (b & 0x3F) as usize),
        0xC0..=0xDF => str_at(2, ((b & 0x1F) as usize) << 8 | data[off + 1] as usize),
        0xE0 => {
            let (i, l) = int(2);
            (Elem::Int(i), l)
        }
        0xE1 => {
            let (i, l) = int(3);
            (Elem::Int(i), l)
        }
        0xE2 => {
            let (i, l) = int(4);
            (Elem::Int(i), l)
        }
        0xE3 => {
            let (i, l) = int(8);
            (Elem::Int(i), l)
        }
        0xF0 => {
            let mut n = [0u8; 4];
            n.copy_from_slice(&data[off + 1..off + 5]);
            str_at(5, u32::from_le_bytes(n) as usize)
        }
        _ => {
            let mut n = [0u8; 8];
            n.copy_from_slice(&data[off + 1..off + 9]);
            str_at(9, u64::from_le_bytes(n) as usize)
        }
    };
    (elem, l + backlen_size(l))
}

/// Offset of the entry that ends at `end`, read from its backlen.
fn entry_before(data: &[u8], end: usize) -> usize {
    let mut p = end - 1;
    let mut l = (data[p] & 0x7F) as usize;
    let mut shift = 0;
    while data[p] & 0x80 != 0 {
        p -= 1;
        shift += 7;
        l |= ((data[p] & 0x7F) as usize) << shift;
    }
    p - l
}

/// Whether a chunk of `bytes` bytes and `count` entries is within the configured budget.
fn fits(fill: i64, bytes: usize, count: usize) -> bool {
    if fill < 0 {
        // -(fill + 1) cannot overflow, even for i64::MIN.
        let level = (-(fill + 1)).min(SIZE_LEVELS.len() as i64 - 1) as usize;
        bytes <= SIZE_LEVELS[level]
    } else {
        bytes <= SIZE_SAFETY_LIMIT && count <= (fill as usize).min(MAX_COUNT)
    }
}

/// A run of entries: `buf[start..]` holds them back to back.
struct Chunk {
    buf: Vec<u8>,
    start: u32,
    count: u32,
}

impl Chunk {
    fn with(e: &Encoded) -> Chunk {
        Chunk {
            buf: e.to_vec(),
            start: 0,
            count: 1,
        }
    }

    #[inline]
    fn data(&self) -> &[u8] {
        &self.buf[self.start as usize..]
    }

    #[inline]
    fn bytes(&self) -> usize {
        self.buf.len() - self.start as usize
    }

    #[inline]
    fn count(&self) -> usize {
        self.count as usize
    }

    fn allows(&self, fill: i64, add: usize) -> bool {
        fits(fill, self.bytes() + add, self.count() + 1)
    }

    fn over_budget(&self, fill: i64) -> bool {
        self.count > 1 && !fits(fill, self.bytes(), self.count())
    }

    fn push_back(&mut self, e: &Encoded) {
        let need = e.size();
        if self.buf.capacity() - self.buf.len() < need {
            if self.bytes() + need <= EXACT_GROWTH {
                self.buf.reserve_exact(need);
            } else {
                self.buf.reserve(need);
            }
        }
        e.append_to(&mut self.buf);
        self.count += 1;
    }

    fn push_front(&mut self, e: &Encoded) {
        let need = e.size();
        if (self.start as usize) < need {
            let used = self.bytes();
            // Small chunks are rebuilt to their exact size; bigger ones get a gap as large
            // as their data, so shifting is paid once per doubling.
            let gap = if used + need <= EXACT_GROWTH {
                need
            } else {
                need + used
            };
            let mut nb = Vec::with_capacity(gap + used);
            nb.resize(gap, 0);
            nb.extend_from_slice(self.data());
            self.buf = nb;
            self.set_start(gap);
        }
        let s = self.start as usize - need;
        e.write_to(&mut self.buf[s..s + need]);
        self.set_start(s);
        self.count += 1;
    }

    /// Moves the data start to `abs` (an absolute offset in `buf`), squeezing the gap out
    /// if it would not fit the 32-bit field.
    fn set_start(&mut self, abs: usize) {
        match u32::try_from(abs) {
            Ok(s) => self.start = s,
            Err(_) => {
                self.buf.drain(..abs);
                self.start = 0;
            }
        }
    }

    /// Removes the first `n` entries (fewer than `count`).
    fn drop_front(&mut self, n: usize) {
        let off = self.offset_of(n);
        self.set_start(self.start as usize + off);
        self.count -= n as u32;
        self.maybe_shrink();
    }

    /// Removes the last `n` entries (fewer than `count`).
    fn drop_back(&mut self, n: usize) {
        let off = self.offset_of(self.count() - n);
        self.buf.truncate(self.start as usize + off);
        self.count -= n as u32;
        self.maybe_shrink();
    }

    /// After shrinking a lot, give the memory back (the cost is paid once per halving
    /// twice over, so it stays amortized O(1) per removed entry).
    fn maybe_shrink(&mut self) {
        if self.buf.capacity() > 4 * self.bytes() + 64 {
            self.compact();
        }
    }

    /// Drops the front gap and spare capacity.
    fn compact(&mut self) {
        if self.start > 0 {
            self.buf.drain(..self.start as usize);
            self.start = 0;
        }
        self.buf.shrink_to_fit();
    }

    /// Data offset of entry `i` (`i == count` gives the end).
    fn offset_of(&self, i: usize) -> usize {
        let data = self.data();
        if i <= self.count() / 2 {
            let mut off = 0;
            for _ in 0..i {
                off += decode(data, off).1;
            }
            off
        } else {
            let mut off = data.len();
            for _ in i..self.count() {
                off = entry_before(data, off);
            }
            off
        }
    }

    /// Replaces `len` bytes at data offset `off` with `with`.
    fn splice(&mut self, off: usize, len: usize, with: &[u8]) {
        let s = self.start as usize + off;
        self.buf.splice(s..s + len, with.iter().copied());
    }

    /// Splits off the second half of the entries into a new chunk.
    fn split(&mut self) -> Chunk {
        let keep = self.count() / 2;
        let off = self.offset_of(keep);
        let tail = self.data()[off..].to_vec();
        let moved = self.count() - keep;
        self.buf.truncate(self.start as usize + off);
        self.count = keep as u32;
        self.compact();
        Chunk {
            buf: tail,
            start: 0,
            count: moved as u32,
        }
    }

    /// Removes up to `max` entries equal to `target`, scanning from the head or the tail.
    fn remove_matching(&mut self, target: &Elem, max: usize, from_head: bool) -> usize {
        let data = self.data();
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        if from_head {
            let mut off = 0;
            while off < data.len() && ranges.len() < max {
                let (e, sz) = decode(data, off);
                if e == *target {
                    ranges.push((off, off + sz));
                }
                off += sz;
            }
        } else {
            let mut end = data.len();
            while end > 0 && ranges.len() < max {
                let off = entry_before(data, end);
                if decode(data, off).0 == *target {
                    ranges.push((off, end));
                }
                end = off;
            }
            ranges.reverse();
        }
        if ranges.is_empty() {
            return 0;
        }
        let removed: usize = ranges.iter().map(|(a, b)| b - a).sum();
        let mut nb = Vec::with_capacity(data.len() - removed);
        let mut at = 0;
        for &(a, b) in &ranges {
            nb.extend_from_slice(&data[at..a]);
            at = b;
        }
        nb.extend_from_slice(&data[at..]);
        self.buf = nb;
        self.start = 0;
        self.count -= ranges.len() as u32;
        ranges.len()
    }

    fn duplicate(&self) -> Chunk {
        Chunk {
            buf: self.data().to_vec(),
            start: 0,
            count: self.count,
        }
    }
}

/// A list: chunks in order, plus the element count so LLEN is O(1).
pub struct List {
    len: usize,
    /// Inline: `Value` holds the whole list behind one `Box`.
    chunks: VecDeque<Chunk>,
}

impl Default for List {
    fn default() -> Self {
        List::new()
    }
}

impl List {
    pub fn new() -> List {
        List {
            len: 0,
            chunks: VecDeque::with_capacity(1),
        }
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A deep copy (COPY), without the slack of the original.
    pub fn duplicate(&self) -> List {
        List {
            len: self.len,
            chunks: self.chunks.iter().map(Chunk::duplicate).collect(),
        }
    }

    /// LPUSH of one element; `fill` is `list-max-listpack-size`.
    pub fn push_front(&mut self, v: &[u8], fill: i64) {
        let e = Encoded::new(v);
        match self.chunks.front_mut() {
            Some(c) if c.allows(fill, e.size()) => c.push_front(&e),
            head => {
                if let Some(c) = head {
                    c.compact();
                }
                self.chunks.push_front(Chunk::with(&e));
            }
        }
        self.len += 1;
    }

    /// RPUSH of one element; `fill` is `list-max-listpack-size`.
    pub fn push_back(&mut self, v: &[u8], fill: i64) {
        let e = Encoded::new(v);
        match self.chunks.back_mut() {
            Some(c) if c.allows(fill, e.size()) => c.push_back(&e),
            tail => {
                if let Some(c) = tail {
                    c.compact();
                }
                self.chunks.push_back(Chunk::with(&e));
            }
        }
        self.len += 1;
    }

    pub fn front(&self) -> Option<Elem<'_>> {
        self.chunks.front().map(|c| decode(c.data(), 0).0)
    }

    pub fn back(&self) -> Option<Elem<'_>> {
        self.chunks.back().map(|c| {
            let data = c.data();
            decode(data, entry_before(data, data.len())).0
        })
    }

    /// Removes the first `n` elements (all of them if `n >= len`).
    pub fn drop_front(&mut self, n: usize) {
        let mut n = n.min(self.len);
        self.len -= n;
        while n > 0 {
            let Some(c) = self.chunks.front_mut() else {
                break;
            };
            if c.count() <= n {
                n -= c.count();
                self.chunks.pop_front();
            } else {
                c.drop_front(n);
                n = 0;
            }
        }
    }

    /// Removes the last `n` elements (all of them if `n >= len`).
    pub fn drop_back(&mut self, n: usize) {
        let mut n = n.min(self.len);
        self.len -= n;
        while n > 0 {
            let Some(c) = self.chunks.back_mut() else {
                break;
            };
            if c.count() <= n {
                n -= c.count();
                self.chunks.pop_back();
            } else {
                c.drop_back(n);
                n = 0;
            }
        }
    }

    /// Chunk index and data offset of element `index` (< len).
    fn locate(&self, index: usize) -> (usize, usize) {
        if index < self.len / 2 {
            let mut i = index;
            for (ci, c) in self.chunks.iter().enumerate() {
                if i < c.count() {
                    return (ci, c.offset_of(i));
                }
                i -= c.count();
            }
        } else {
            let mut i = self.len - 1 - index;
            for ci in (0..self.chunks.len()).rev() {
                let c = &self.chunks[ci];
                if i < c.count() {
                    return (ci, c.offset_of(c.count() - 1 - i));
                }
                i -= c.count();
            }
        }
        unreachable!("list index {index} below len {} not found", self.len)
    }

    /// Element `index` counted from the head, None past the end.
    pub fn get(&self, index: usize) -> Option<Elem<'_>> {
        if index >= self.len {
            return None;
        }
        let (ci, off) = self.locate(index);
        Some(decode(self.chunks[ci].data(), off).0)
    }

    /// Replaces element `index` (LSET). False if out of range.
    pub fn set(&mut self, index: usize, v: &[u8], fill: i64) -> bool {
        if index >= self.len {
            return false;
        }
        let (ci, off) = self.locate(index);
        let e = Encoded::new(v).to_vec();
        let c = &mut self.chunks[ci];
        let old = decode(c.data(), off).1;
        c.splice(off, old, &e);
        self.split_if_over(ci, fill);
        true
    }

    /// Inserts `v` before or after the first element equal to `pivot` (LINSERT). False if
    /// there is no such element.
    pub fn insert(&mut self, pivot: &[u8], after: bool, v: &[u8], fill: i64) -> bool {
        let target = Elem::of(pivot);
        let mut found = None;
        'outer: for (ci, c) in self.chunks.iter().enumerate() {
            let data = c.data();
            let mut off = 0;
            while off < data.len() {
                let (e, sz) = decode(data, off);
                if e == target {
                    found = Some((ci, if after { off + sz } else { off }));
                    break 'outer;
                }
                off += sz;
            }
        }
        let Some((ci, off)) = found else {
            return false;
        };
        let e = Encoded::new(v).to_vec();
        let c = &mut self.chunks[ci];
        c.splice(off, 0, &e);
        c.count += 1;
        self.len += 1;
        self.split_if_over(ci, fill);
        true
    }

    fn split_if_over(&mut self, ci: usize, fill: i64) {
        if self.chunks[ci].over_budget(fill) {
            let second = self.chunks[ci].split();
            self.chunks.insert(ci + 1, second);
        }
    }

    /// Removes elements equal to `v` (LREM): `count` > 0 the first `count` from the head,
    /// < 0 from the tail, 0 all. Returns how many were removed.
    pub fn remove(&mut self, v: &[u8], count: i64) -> usize {
        let target = Elem::of(v);
        let max = if count == 0 {
            usize::MAX
        } else {
            usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX)
        };
        let mut removed = 0;
        let n = self.chunks.len();
        for k in 0..n {
            if removed >= max {
                break;
            }
            let ci = if count >= 0 { k } else { n - 1 - k };
            removed += self.chunks[ci].remove_matching(&target, max - removed, count >= 0);
        }
        if removed > 0 {
            self.chunks.retain(|c| c.count > 0);
            self.len -= removed;
        }
        removed
    }

    /// Elements from `index` on, head to tail.
    pub fn iter_from(&self, index: usize) -> Iter<'_> {
        if index >= self.len {
            return Iter {
                chunks: &self.chunks,
                ci: self.chunks.len(),
                off: 0,
                left: 0,
            };
        }
        let (ci, off) = self.locate(index);
        Iter {
            chunks: &self.chunks,
            ci,
            off,
            left: self.len - index,
        }
    }

    /// Elements from the head.
    pub fn iter(&self) -> Iter<'_> {
        self.iter_from(0)
    }

    /// Elements from the tail towards the head.
    pub fn iter_rev(&self) -> RevIter<'_> {
        let ci = self.chunks.len();
        RevIter {
            chunks: &self.chunks,
            ci,
            end: 0,
            left: self.len,
        }
    }
}

/// Head-to-tail iterator over a list's elements.
pub struct Iter<'a> {
    chunks: &'a VecDeque<Chunk>,
    ci: usize,
    off: usize,
    left: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Elem<'a>;

    #[inline]
    fn next(&mut self) -> Option<Elem<'a>> {
        if self.left == 0 {
            return None;
        }
        let mut data = self.chunks[self.ci].data();
        if self.off >= data.len() {
            self.ci += 1;
            self.off = 0;
            data = self.chunks[self.ci].data();
        }
        let (e, sz) = decode(data, self.off);
        self.off += sz;
        self.left -= 1;
        Some(e)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

/// Tail-to-head iterator over a list's elements.
pub struct RevIter<'a> {
    chunks: &'a VecDeque<Chunk>,
    /// The chunk after the one being read (0 = before the first chunk).
    ci: usize,
    /// Data offset in chunk `ci - 1` where the next entry ends.
    end: usize,
    left: usize,
}

impl<'a> Iterator for RevIter<'a> {
    type Item = Elem<'a>;

    #[inline]
    fn next(&mut self) -> Option<Elem<'a>> {
        if self.left == 0 {
            return None;
        }
        if self.end == 0 {
            self.ci -= 1;
            self.end = self.chunks[self.ci].bytes();
        }
        let data = self.chunks[self.ci].data();
        let off = entry_before(data, self.end);
        self.end = off;
        self.left -= 1;
        Some(decode(data, off).0)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

// MEMORY USAGE: the bytes a value holds on the heap, in jemalloc size classes.
impl List {
    /// Heap bytes: the chunk ring, and the chunk buffers estimated from the first
    /// `samples` chunks (average times the chunk count), as Redis samples quicklist nodes.
    pub fn heap_bytes(&self, samples: usize) -> usize {
        use crate::memory::alloc_size;
        let ring = alloc_size(self.chunks.capacity() * std::mem::size_of::<Chunk>());
        let n = self.chunks.len();
        let k = samples.clamp(1, n.max(1));
        let sampled: usize = self
            .chunks
            .iter()
            .take(k)
            .map(|c| alloc_size(c.buf.capacity()))
            .sum();
        ring + (sampled as f64 / k as f64 * n as f64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(l: &List) -> Vec<Vec<u8>> {
        l.iter().map(|e| e.to_vec()).collect()
    }

    fn check(l: &List, model: &VecDeque<Vec<u8>>) {
        let fwd = texts(l);
        assert_eq!(fwd, model.iter().cloned().collect::<Vec<_>>());
        let mut rev: Vec<Vec<u8>> = l.iter_rev().map(|e| e.to_vec()).collect();
        rev.reverse();
        assert_eq!(rev, fwd);
        assert_eq!(l.len(), model.len());
        assert_eq!(l.chunks.iter().map(|c| c.count()).sum::<usize>(), l.len());
        assert!(l.chunks.iter().all(|c| c.count > 0));
    }

    #[test]
    fn entries_round_trip() {
        let long = vec![b'x'; 70_000];
        let mid = vec![b'y'; 300];
        let vals: Vec<&[u8]> = vec![
            b"",
            b"0",
            b"127",
            b"128",
            b"-1",
            b"32767",
            b"-32768",
            b"8388607",
            b"-8388608",
            b"2147483647",
            b"-2147483648",
            b"9223372036854775807",
            b"-9223372036854775808",
            b"9223372036854775808",
            b"007",
            b"-0",
            b"+1",
            b"hello",
            &mid,
            &long,
        ];
        let mut l = List::new();
        let mut model = VecDeque::new();
        for (i, v) in vals.iter().enumerate() {
            if i % 2 == 0 {
                l.push_back(v, -2);
                model.push_back(v.to_vec());
            } else {
                l.push_front(v, -2);
                model.push_front(v.to_vec());
            }
        }
        check(&l, &model);
        for (i, v) in model.iter().enumerate() {
            assert_eq!(l.get(i).map(|e| e.to_vec()).as_deref(), Some(&v[..]));
        }
    }

    #[test]
    fn small_elements_cost_two_bytes_of_overhead() {
        let mut l = List::new();
        for i in 0..10_000 {
            l.push_back(format!("v{:05}", i).as_bytes(), -2);
        }
        let bytes: usize = l.chunks.iter().map(|c| c.buf.capacity()).sum();
        // 6 bytes of text + header + backlen, with sealed chunks squeezed.
        assert!(bytes <= 10_000 * 8 + 8192, "{bytes}");
        assert!(l.chunks.len() > 5);
    }

    #[test]
    fn mixed_operations_match_a_deque() {
        for fill in [-2i64, -1, 1, 3, 0, 128] {
            let mut l = List::new();
            let mut model: VecDeque<Vec<u8>> = VecDeque::new();
            let mut seed = 12345u64 ^ fill as u64;
            let mut rnd = |n: u64| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed % n
            };
            for step in 0..4000 {
                let v = match rnd(4) {
                    0 => rnd(300).to_string().into_bytes(),
                    1 => vec![b'a' + rnd(3) as u8; rnd(40) as usize],
                    2 => vec![b'z'; 100 + rnd(3000) as usize],
                    _ => (rnd(1 << 40) as i64 - (1 << 39)).to_string().into_bytes(),
                };
                match rnd(10) {
                    0 | 1 => {
                        l.push_front(&v, fill);
                        model.push_front(v);
                    }
                    2 | 3 => {
                        l.push_back(&v, fill);
                        model.push_back(v);
                    }
                    4 => {
                        let n = rnd(5) as usize;
                        l.drop_front(n);
                        for _ in 0..n {
                            model.pop_front();
                        }
                    }
                    5 => {
                        let n = rnd(5) as usize;
                        l.drop_back(n);
                        for _ in 0..n {
                            model.pop_back();
                        }
                    }
                    6 if !model.is_empty() => {
                        let i = rnd(model.len() as u64) as usize;
                        assert!(l.set(i, &v, fill));
                        model[i] = v;
                    }
                    7 if !model.is_empty() => {
                        let pivot = model[rnd(model.len() as u64) as usize].clone();
                        let after = rnd(2) == 0;
                        assert!(l.insert(&pivot, after, &v, fill));
                        let p = model.iter().position(|x| *x == pivot).unwrap();
                        model.insert(if after { p + 1 } else { p }, v);
                    }
                    8 if !model.is_empty() => {
                        let target = model[rnd(model.len() as u64) as usize].clone();
                        let count = rnd(5) as i64 - 2;
                        let got = l.remove(&target, count);
                        let mut removed = 0;
                        let max = if count == 0 {
                            usize::MAX
                        } else {
                            count.unsigned_abs() as usize
                        };
                        if count >= 0 {
                            let mut i = 0;
                            while i < model.len() && removed < max {
                                if model[i] == target {
                                    model.remove(i);
                                    removed += 1;
                                } else {
                                    i += 1;
                                }
                            }
                        } else {
                            let mut i = model.len();
                            while i > 0 && removed < max {
                                i -= 1;
                                if model[i] == target {
                                    model.remove(i);
                                    removed += 1;
                                }
                            }
                        }
                        assert_eq!(got, removed);
                    }
                    _ => {
                        let i = rnd(model.len() as u64 + 2) as usize;
                        let want: Vec<Vec<u8>> = model.iter().skip(i).cloned().collect();
                        let got: Vec<Vec<u8>> = l.iter_from(i).map(|e| e.to_vec()).collect();
                        assert_eq!(got, want);
                    }
                }
                if step % 97 == 0 {
                    check(&l, &model);
                }
            }
            check(&l, &model);
            check(&l.duplicate(), &model);
        }
    }
}
