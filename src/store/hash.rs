//! Hash values: a compact packed form up to hash-max-listpack-entries/-value (`listpack`),
//! a hash table past them (`hashtable`).
//!
//! The packed form is one exactly sized byte buffer of field, value, field, value ... in
//! insertion order, which is the order Redis's listpack replies in (a deleted pair closes
//! the gap, an overwritten value keeps its place). Each element is one header byte and its
//! payload, and canonical decimal integers are stored as integers (0..63 in the header byte
//! alone), so a small field costs one byte more than its text, against Redis's two.
//!
//! The table form keeps each pair in one allocation (`varint field length, field, value`)
//! in a `hashbrown::HashTable`, so a pair costs one pointer slot, one control byte and one
//! small allocation (Redis: a dict entry, a bucket and two sds strings). Its SCAN cursor is
//! a bucket position plus an epoch that changes whenever the table moves entries; a stale
//! cursor restarts the walk, so fields present for the whole scan are always returned.
//!
//! Once in table form a hash never converts back, as in Redis.

use std::borrow::Cow;
use std::hash::BuildHasher;

use hashbrown::HashTable;
use rand::Rng;

/// Header bytes below this are a short string of that length.
const SHORT_STR_MAX: u8 = 0x7f;
/// Headers `IMM_BASE..IMM_BASE+64` are the integers 0..63.
const IMM_BASE: u8 = 0x80;
const IMM_COUNT: i64 = 64;
/// Headers `INT_BASE+n` (n = 1..8) are an n-byte little-endian two's-complement integer.
const INT_BASE: u8 = 0xc0;
/// A string of any length: LEB128 length, then the bytes.
const LONG_STR: u8 = 0xd0;

/// Cursor bits of the bucket index in a table-form HSCAN cursor; the rest is the epoch.
const BUCKET_BITS: u32 = 40;
const BUCKET_MASK: u64 = (1 << BUCKET_BITS) - 1;

/// A field or value as stored: packed integers come back as integers, so replies can
/// print them without an allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl<'a> Elem<'a> {
    /// Classifies bytes as the packed form stores them: canonical integers as integers.
    fn of(bytes: &'a [u8]) -> Elem<'a> {
        match crate::util::parse_i64(bytes) {
            Some(i) => Elem::Int(i),
            None => Elem::Str(bytes),
        }
    }

    pub fn bytes(&self) -> Cow<'a, [u8]> {
        match *self {
            Elem::Int(i) => Cow::Owned(itoa::Buffer::new().format(i).as_bytes().to_vec()),
            Elem::Str(s) => Cow::Borrowed(s),
        }
    }

    /// Length of the text (HSTRLEN).
    pub fn text_len(&self) -> usize {
        match *self {
            Elem::Int(i) => itoa::Buffer::new().format(i).len(),
            Elem::Str(s) => s.len(),
        }
    }
}

/// Appends the packed encoding of `e`.
fn encode(out: &mut Vec<u8>, e: Elem) {
    match e {
        Elem::Int(i) if (0..IMM_COUNT).contains(&i) => out.push(IMM_BASE + i as u8),
        Elem::Int(i) => {
            let n = int_width(i);
            out.push(INT_BASE + n as u8);
            out.extend_from_slice(&i.to_le_bytes()[..n]);
        }
        Elem::Str(s) if s.len() <= SHORT_STR_MAX as usize => {
            out.push(s.len() as u8);
            out.extend_from_slice(s);
        }
        Elem::Str(s) => {
            out.push(LONG_STR);
            push_varint(out, s.len());
            out.extend_from_slice(s);
        }
    }
}

fn encoded_len(e: Elem) -> usize {
    match e {
        Elem::Int(i) if (0..IMM_COUNT).contains(&i) => 1,
        Elem::Int(i) => 1 + int_width(i),
        Elem::Str(s) if s.len() <= SHORT_STR_MAX as usize => 1 + s.len(),
        Elem::Str(s) => 1 + varint_len(s.len()) + s.len(),
    }
}

/// Bytes needed to hold `i` in two's complement.
fn int_width(i: i64) -> usize {
    let bits = 65
        - if i < 0 {
            (!i).leading_zeros()
        } else {
            i.leading_zeros()
        };
    (bits as usize).div_ceil(8).max(1)
}

fn push_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

/// Reads a LEB128 number at `pos`; returns it and the position after it.
fn read_varint(buf: &[u8], mut pos: usize) -> (usize, usize) {
    let mut n = 0usize;
    let mut shift = 0;
    loop {
        let b = buf[pos];
        pos += 1;
        n |= ((b & 0x7f) as usize) << shift;
        if b < 0x80 {
            return (n, pos);
        }
        shift += 7;
    }
}

/// Decodes the element at `pos` of a packed buffer; returns it and the position after it.
fn decode(buf: &[u8], pos: usize) -> (Elem<'_>, usize) {
    let h = buf[pos];
    match h {
        0..=SHORT_STR_MAX => {
            let end = pos + 1 + h as usize;
            (Elem::Str(&buf[pos + 1..end]), end)
        }
        LONG_STR => {
            let (len, start) = read_varint(buf, pos + 1);
            (Elem::Str(&buf[start..start + len]), start + len)
        }
        _ if h >= INT_BASE => {
            let n = (h - INT_BASE) as usize;
            let mut bytes = [0u8; 8];
            bytes[..n].copy_from_slice(&buf[pos + 1..pos + 1 + n]);
            // Sign-extend from the top stored byte.
            if bytes[n - 1] & 0x80 != 0 {
                bytes[n..].fill(0xff);
            }
            (Elem::Int(i64::from_le_bytes(bytes)), pos + 1 + n)
        }
        _ => (Elem::Int((h - IMM_BASE) as i64), pos + 1),
    }
}

/// One pair of the table form: `varint field length, field, value` in one allocation.
fn make_pair(field: &[u8], value: &[u8]) -> Box<[u8]> {
    let mut v = Vec::with_capacity(varint_len(field.len()) + field.len() + value.len());
    push_varint(&mut v, field.len());
    v.extend_from_slice(field);
    v.extend_from_slice(value);
    v.into_boxed_slice()
}

fn split_pair(p: &[u8]) -> (&[u8], &[u8]) {
    let (flen, start) = read_varint(p, 0);
    (&p[start..start + flen], &p[start + flen..])
}

/// The `hashtable` form.
pub struct Table {
    map: HashTable<Box<[u8]>>,
    hasher: hashbrown::DefaultHashBuilder,
    /// Changes whenever entries may have moved between buckets (growth, rehash, shrink),
    /// which invalidates the bucket positions of outstanding HSCAN cursors.
    epoch: u32,
}

impl Table {
    fn with_capacity(n: usize) -> Table {
        Table {
            map: HashTable::with_capacity(n),
            hasher: hashbrown::DefaultHashBuilder::default(),
            epoch: 0,
        }
    }

    fn find(&self, field: &[u8]) -> Option<&[u8]> {
        let h = self.hasher.hash_one(field);
        self.map
            .find(h, |p| split_pair(p).0 == field)
            .map(|p| split_pair(p).1)
    }

    /// Inserts or overwrites; true if the field is new.
    fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        let h = self.hasher.hash_one(field);
        let hasher = &self.hasher;
        match self.map.find_mut(h, |p| split_pair(p).0 == field) {
            Some(p) => {
                *p = make_pair(field, value);
                false
            }
            None => {
                if self.map.len() == self.map.capacity() {
                    self.epoch = self.epoch.wrapping_add(1);
                }
                self.map.insert_unique(h, make_pair(field, value), |p| {
                    hasher.hash_one(split_pair(p).0)
                });
                true
            }
        }
    }

    fn remove(&mut self, field: &[u8]) -> bool {
        let h = self.hasher.hash_one(field);
        match self.map.find_entry(h, |p| split_pair(p).0 == field) {
            Ok(occ) => {
                occ.remove();
                // Give memory back once the table is mostly empty, as Redis's dict shrinks.
                let cap = self.map.capacity();
                if cap > 64 && self.map.len() * 8 < cap {
                    let hasher = &self.hasher;
                    self.map
                        .shrink_to(self.map.len() * 2, |p| hasher.hash_one(split_pair(p).0));
                    self.epoch = self.epoch.wrapping_add(1);
                }
                true
            }
            Err(_) => false,
        }
    }

    /// A uniformly chosen pair (the table must not be empty).
    fn random(&self, rng: &mut impl Rng) -> (&[u8], &[u8]) {
        let buckets = self.map.num_buckets();
        // The table is kept at least 1/16 full, so probes nearly always hit within a few tries.
        for _ in 0..64 {
            if let Some(p) = self.map.get_bucket(rng.random_range(0..buckets)) {
                return split_pair(p);
            }
        }
        let n = rng.random_range(0..self.map.len());
        let p = self.map.iter().nth(n).expect("index below len");
        split_pair(p)
    }
}

/// A hash value (`Value::Hash`).
pub enum Hash {
    /// `listpack`: packed pairs in insertion order, `len` of them.
    Packed { buf: Box<[u8]>, len: u32 },
    /// `hashtable`.
    Table(Box<Table>),
}

const _: () = assert!(std::mem::size_of::<Hash>() <= 24);

impl Default for Hash {
    fn default() -> Self {
        Hash::new()
    }
}

/// The thresholds of the packed form (hash-max-listpack-entries / -value).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub entries: i64,
    pub value: i64,
}

impl Limits {
    fn too_long(&self, s: &[u8]) -> bool {
        s.len() as i64 > self.value
    }
}

impl Hash {
    pub fn new() -> Hash {
        Hash::Packed {
            buf: Box::default(),
            len: 0,
        }
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Hash::Packed { .. } => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Hash::Packed { len, .. } => *len as usize,
            Hash::Table(t) => t.map.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A deep copy (COPY).
    pub fn duplicate(&self) -> Hash {
        match self {
            Hash::Packed { buf, len } => Hash::Packed {
                buf: buf.clone(),
                len: *len,
            },
            Hash::Table(t) => {
                let mut n = Table::with_capacity(t.map.len());
                for p in t.map.iter() {
                    let (f, v) = split_pair(p);
                    n.set(f, v);
                }
                Hash::Table(Box::new(n))
            }
        }
    }

    /// Positions (field start, value start, value end) of `field` in a packed buffer.
    fn packed_find(buf: &[u8], field: &[u8]) -> Option<(usize, usize, usize)> {
        let probe = Elem::of(field);
        let mut pos = 0;
        while pos < buf.len() {
            let (f, vpos) = decode(buf, pos);
            let (_, end) = decode(buf, vpos);
            if f == probe {
                return Some((pos, vpos, end));
            }
            pos = end;
        }
        None
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<Elem<'_>> {
        match self {
            Hash::Packed { buf, .. } => {
                let (_, vpos, _) = Self::packed_find(buf, field)?;
                Some(decode(buf, vpos).0)
            }
            Hash::Table(t) => t.find(field).map(Elem::Str),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        match self {
            Hash::Packed { buf, .. } => Self::packed_find(buf, field).is_some(),
            Hash::Table(t) => t.find(field).is_some(),
        }
    }

    /// Converts the packed form to a table (never the other way).
    fn convert(&mut self) {
        if let Hash::Packed { .. } = self {
            let mut t = Table::with_capacity(self.len());
            for (f, v) in self.iter() {
                t.set(&f.bytes(), &v.bytes());
            }
            *self = Hash::Table(Box::new(t));
        }
    }

    /// Converts to the table form if a field or value about to be written is longer than
    /// the limit (Redis's `hashTypeTryConversion`).
    pub fn convert_for(&mut self, args: &[&[u8]], limits: Limits) {
        if matches!(self, Hash::Packed { .. }) && args.iter().any(|a| limits.too_long(a)) {
            self.convert();
        }
    }

    /// Sets `field` to `value`; true if the field is new. Converts to the table form when
    /// the field or value is too long for the packed form, or when the packed form would
    /// hold more than the entry limit.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: Limits) -> bool {
        if let Hash::Packed { .. } = self {
            if limits.too_long(field) || limits.too_long(value) {
                self.convert();
            }
        }
        match self {
            Hash::Packed { buf, len } => {
                let value_e = Elem::of(value);
                let mut v = std::mem::take(buf).into_vec();
                let new = match Self::packed_find(&v, field) {
                    Some((_, vpos, end)) => {
                        let mut enc = Vec::with_capacity(encoded_len(value_e));
                        encode(&mut enc, value_e);
                        v.splice(vpos..end, enc);
                        false
                    }
                    None => {
                        let field_e = Elem::of(field);
                        v.reserve_exact(encoded_len(field_e) + encoded_len(value_e));
                        encode(&mut v, field_e);
                        encode(&mut v, value_e);
                        *len += 1;
                        true
                    }
                };
                *buf = v.into_boxed_slice();
                if *len as i64 > limits.entries {
                    self.convert();
                }
                new
            }
            Hash::Table(t) => t.set(field, value),
        }
    }

    /// Removes `field`; true if it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Packed { buf, len } => {
                let Some((start, _, end)) = Self::packed_find(buf, field) else {
                    return false;
                };
                let mut v = std::mem::take(buf).into_vec();
                v.drain(start..end);
                *buf = v.into_boxed_slice();
                *len -= 1;
                true
            }
            Hash::Table(t) => t.remove(field),
        }
    }

    /// Every pair: in insertion order for the packed form, table order otherwise.
    pub fn iter(&self) -> Iter<'_> {
        match self {
            Hash::Packed { buf, .. } => Iter::Packed { buf, pos: 0 },
            Hash::Table(t) => Iter::Table(t.map.iter()),
        }
    }

    /// A uniformly chosen pair, None if empty.
    pub fn random(&self, rng: &mut impl Rng) -> Option<(Elem<'_>, Elem<'_>)> {
        if self.is_empty() {
            return None;
        }
        match self {
            Hash::Packed { .. } => self.iter().nth(rng.random_range(0..self.len())),
            Hash::Table(t) => {
                let (f, v) = t.random(rng);
                Some((Elem::Str(f), Elem::Str(v)))
            }
        }
    }

    /// `count` distinct pairs chosen at random (all of them if `count >= len`).
    pub fn random_distinct(&self, count: usize, rng: &mut impl Rng) -> Vec<(Elem<'_>, Elem<'_>)> {
        let len = self.len();
        if count >= len {
            return self.iter().collect();
        }
        match self {
            Hash::Table(t) if count * 3 <= len => {
                // Few of many: probe random buckets, remembering the ones taken.
                let buckets = t.map.num_buckets();
                let mut taken = std::collections::HashSet::with_capacity(count);
                let mut out = Vec::with_capacity(count);
                let mut misses = 0usize;
                while out.len() < count && misses < 64 * count + 1024 {
                    let b = rng.random_range(0..buckets);
                    match t.map.get_bucket(b) {
                        Some(p) if taken.insert(b) => {
                            let (f, v) = split_pair(p);
                            out.push((Elem::Str(f), Elem::Str(v)));
                        }
                        _ => misses += 1,
                    }
                }
                if out.len() == count {
                    return out;
                }
                self.sample_all(count, rng)
            }
            _ => self.sample_all(count, rng),
        }
    }

    fn sample_all(&self, count: usize, rng: &mut impl Rng) -> Vec<(Elem<'_>, Elem<'_>)> {
        let all: Vec<_> = self.iter().collect();
        rand::seq::index::sample(rng, all.len(), count)
            .into_iter()
            .map(|i| all[i])
            .collect()
    }

    /// One HSCAN step of the table form: calls `visit` with the pairs of the buckets walked
    /// from `cursor` (stopping after `count` pairs or `10 * count` buckets) and returns the
    /// next cursor, 0 when the walk is complete. The packed form visits everything and
    /// returns 0, as Redis does for a listpack.
    pub fn scan<'a>(
        &'a self,
        cursor: u64,
        count: usize,
        mut visit: impl FnMut(Elem<'a>, Elem<'a>),
    ) -> u64 {
        let t = match self {
            Hash::Packed { .. } => {
                for (f, v) in self.iter() {
                    visit(f, v);
                }
                return 0;
            }
            Hash::Table(t) => t,
        };
        let epoch = t.epoch as u64 & (u64::MAX >> BUCKET_BITS);
        let mut bucket = (cursor & BUCKET_MASK) as usize;
        if bucket != 0 && cursor >> BUCKET_BITS != epoch {
            // Entries moved since this cursor was issued: walk again from the start, so
            // nothing is missed (some fields may come twice, which SCAN allows).
            bucket = 0;
        }
        let count = count.max(1);
        let max_visits = count.saturating_mul(10);
        let buckets = t.map.num_buckets();
        let (mut found, mut visited) = (0, 0);
        while bucket < buckets && found < count && visited < max_visits {
            if let Some(p) = t.map.get_bucket(bucket) {
                let (f, v) = split_pair(p);
                visit(Elem::Str(f), Elem::Str(v));
                found += 1;
            }
            bucket += 1;
            visited += 1;
        }
        if bucket >= buckets {
            0
        } else {
            // bucket >= 1 here, so the cursor is never 0.
            bucket as u64 | (epoch << BUCKET_BITS)
        }
    }
}

/// Iterator over the pairs of a hash.
pub enum Iter<'a> {
    Packed { buf: &'a [u8], pos: usize },
    Table(hashbrown::hash_table::Iter<'a, Box<[u8]>>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (Elem<'a>, Elem<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Packed { buf, pos } => {
                if *pos >= buf.len() {
                    return None;
                }
                let (f, vpos) = decode(buf, *pos);
                let (v, end) = decode(buf, vpos);
                *pos = end;
                Some((f, v))
            }
            Iter::Table(it) => it.next().map(|p| {
                let (f, v) = split_pair(p);
                (Elem::Str(f), Elem::Str(v))
            }),
        }
    }
}

// MEMORY USAGE: the bytes a value holds on the heap, in jemalloc size classes.
impl Hash {
    /// Heap bytes: the packed buffer, or the table with its pairs estimated from the first
    /// `samples` of them (average times the count), as Redis samples a dict.
    pub fn heap_bytes(&self, samples: usize) -> usize {
        use crate::memory::alloc_size;
        match self {
            Hash::Packed { buf, .. } => alloc_size(buf.len()),
            Hash::Table(t) => {
                let n = t.map.len();
                let k = samples.clamp(1, n.max(1));
                let sampled: usize = t.map.iter().take(k).map(|p| alloc_size(p.len())).sum();
                alloc_size(std::mem::size_of::<Table>())
                    + t.map.allocation_size()
                    + (sampled as f64 / k as f64 * n as f64) as usize
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: Limits = Limits {
        entries: 512,
        value: 64,
    };

    #[test]
    fn integers_round_trip_in_every_width() {
        let samples = [
            0i64,
            1,
            63,
            64,
            127,
            128,
            255,
            256,
            -1,
            -128,
            -129,
            32767,
            -32768,
            1 << 40,
            i64::MAX,
            i64::MIN,
        ];
        let mut buf = Vec::new();
        for &i in &samples {
            encode(&mut buf, Elem::Int(i));
        }
        let mut pos = 0;
        for &i in &samples {
            let (e, next) = decode(&buf, pos);
            assert_eq!(e, Elem::Int(i));
            assert_eq!(next - pos, encoded_len(Elem::Int(i)));
            pos = next;
        }
        assert_eq!(pos, buf.len());
    }

    #[test]
    fn packed_keeps_insertion_order_and_converts_past_limits() {
        let mut h = Hash::new();
        assert!(h.set(b"b", b"1", DEFAULT));
        assert!(h.set(b"a", b"x", DEFAULT));
        assert!(h.set(b"c", b"-7", DEFAULT));
        assert!(!h.set(b"b", b"long enough to need more room", DEFAULT));
        assert!(h.remove(b"a"));
        let keys: Vec<_> = h.iter().map(|(f, _)| f.bytes().into_owned()).collect();
        assert_eq!(keys, vec![b"b".to_vec(), b"c".to_vec()]);
        assert_eq!(h.get(b"c"), Some(Elem::Int(-7)));
        // "07" is not canonical: it stays text and does not match 7.
        h.set(b"07", b"v", DEFAULT);
        assert!(!h.contains(b"7"));
        assert_eq!(h.encoding(), "listpack");
        h.set(&[b'x'; 200], b"v", DEFAULT);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 4);
        assert_eq!(
            h.get(b"c").map(|e| e.bytes().into_owned()),
            Some(b"-7".to_vec())
        );
    }

    #[test]
    fn table_scan_survives_growth() {
        let mut h = Hash::new();
        let lim = Limits {
            entries: 0,
            value: 64,
        };
        for i in 0..100 {
            h.set(format!("f{i}").as_bytes(), b"v", lim);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut i = 100;
        for _ in 0..10_000 {
            cursor = h.scan(cursor, 5, |f, _| {
                seen.insert(f.bytes().into_owned());
            });
            // Grow the table while scanning.
            h.set(format!("f{i}").as_bytes(), b"v", lim);
            i += 1;
            if cursor == 0 || i > 2000 {
                break;
            }
        }
        for k in 0..100 {
            assert!(seen.contains(format!("f{k}").as_bytes()), "f{k} missed");
        }
    }
}
