//! HyperLogLog commands (PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST) over Redis's own
//! sparse and dense representations, stored as strings as Redis stores them.
//!
//! This is a port of Redis 7.0's `hyperloglog.c`: the bytes of a key (GET, STRLEN, APPEND,
//! SETRANGE all see them) are exactly those Redis would hold after the same commands,
//! including the cached cardinality in the header and the in-place sparse opcode edits.
//! Clients can write any bytes into an HLL key, so every access to the representation is
//! bounds-checked: where Redis would read the sds NUL terminator past the end we read 0,
//! and every sparse run is checked against the register count before it is used, as in
//! the oracle (Debian's 7.0.15, which carries the CVE-2025-32023 fix: a run past the last
//! register makes the HLL corrupt, not only a VAL run as in upstream 7.0).

use super::keyspace::class;
use super::strings::changed;
use super::{cmd, err, Args, CmdError, CmdResult, CommandTable, Ctx};
use crate::store::{EncodingLimits, Entry, Value};

const WRITE_FAST: &[&str] = &["write", "hyperloglog", "fast"];
const WRITE_SLOW: &[&str] = &["write", "hyperloglog", "slow"];
const READ_SLOW: &[&str] = &["read", "hyperloglog", "slow"];
const ADMIN_WRITE: &[&str] = &["write", "hyperloglog", "admin", "slow", "dangerous"];
const ADMIN: &[&str] = &["hyperloglog", "admin", "slow", "dangerous"];

pub fn register(t: &mut CommandTable) {
    t.add(cmd(
        "pfadd",
        -2,
        "write denyoom fast",
        WRITE_FAST,
        (1, 1, 1),
        pfadd,
    ));
    t.add(cmd(
        "pfcount",
        -2,
        "readonly",
        READ_SLOW,
        (1, -1, 1),
        pfcount,
    ));
    t.add(cmd(
        "pfmerge",
        -2,
        "write denyoom",
        WRITE_SLOW,
        (1, -1, 1),
        pfmerge,
    ));
    t.add(cmd(
        "pfdebug",
        3,
        "write denyoom admin",
        ADMIN_WRITE,
        (2, 2, 1),
        pfdebug,
    ));
    t.add(cmd("pfselftest", 1, "admin", ADMIN, (0, 0, 0), pfselftest));
}

/// A string that is not an HLL (Redis replies this text with its own WRONGTYPE code).
const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
/// A representation that passed the header checks but whose registers do not add up.
const INVALID_HLL: &str = "INVALIDOBJ Corrupted HLL object detected";

/// The HyperLogLog representation itself, independent of keys and replies.
pub mod hll {
    /// Header: "HYLL", encoding byte, 3 unused bytes, 8-byte little-endian cached cardinality.
    pub const HDR_SIZE: usize = 16;
    pub const P: u32 = 14;
    /// Hash bits left after the register index; runs of zeros are at most Q+1 long.
    pub const Q: usize = 64 - P as usize;
    pub const REGISTERS: usize = 1 << P;
    const P_MASK: u64 = REGISTERS as u64 - 1;
    const BITS: usize = 6;
    pub const REGISTER_MAX: u8 = (1 << BITS) - 1;
    pub const DENSE_SIZE: usize = HDR_SIZE + (REGISTERS * BITS).div_ceil(8);
    pub const DENSE: u8 = 0;
    pub const SPARSE: u8 = 1;
    const MAX_ENCODING: u8 = 1;

    const SPARSE_XZERO_BIT: u8 = 0x40;
    const SPARSE_VAL_BIT: u8 = 0x80;
    pub const SPARSE_VAL_MAX_VALUE: u8 = 32;
    const SPARSE_VAL_MAX_LEN: i64 = 4;
    const SPARSE_ZERO_MAX_LEN: i64 = 64;
    const SPARSE_XZERO_MAX_LEN: usize = 16384;
    /// 0.5 / ln(2), the estimator's alpha for m -> infinity.
    const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

    /// The seed Redis 7.0 hashes elements with.
    const HASH_SEED: u32 = 0xadc8_3b19;

    /// Byte `i` of `s`, or 0 past the end: Redis reads the sds NUL terminator there.
    #[inline]
    fn at(s: &[u8], i: usize) -> u8 {
        s.get(i).copied().unwrap_or(0)
    }

    #[inline]
    fn is_zero(b: u8) -> bool {
        b & 0xc0 == 0
    }
    #[inline]
    fn is_xzero(b: u8) -> bool {
        b & 0xc0 == SPARSE_XZERO_BIT
    }
    #[inline]
    fn is_val(b: u8) -> bool {
        b & SPARSE_VAL_BIT != 0
    }
    #[inline]
    fn zero_len(b: u8) -> i64 {
        (b & 0x3f) as i64 + 1
    }
    #[inline]
    fn xzero_len(s: &[u8], p: usize) -> i64 {
        ((((s[p] & 0x3f) as i64) << 8) | at(s, p + 1) as i64) + 1
    }
    #[inline]
    fn val_value(b: u8) -> u8 {
        ((b >> 2) & 0x1f) + 1
    }
    #[inline]
    fn val_len(b: u8) -> i64 {
        (b & 0x3) as i64 + 1
    }
    #[inline]
    fn val_op(val: u8, len: i64) -> u8 {
        ((val - 1) << 2 | (len as u8 - 1)) | SPARSE_VAL_BIT
    }
    #[inline]
    fn zero_op(len: i64) -> u8 {
        (len - 1) as u8
    }
    #[inline]
    fn xzero_op(len: i64) -> [u8; 2] {
        let l = len - 1;
        [(l >> 8) as u8 | SPARSE_XZERO_BIT, (l & 0xff) as u8]
    }

    /// MurmurHash2, 64-bit version, little-endian reads as Redis does on x86.
    pub fn murmur64a(key: &[u8], seed: u32) -> u64 {
        const M: u64 = 0xc6a4_a793_5bd1_e995;
        const R: u32 = 47;
        // `len * m` is computed from a C int: the length wraps as an int would.
        let len = key.len() as i32 as i64 as u64;
        let mut h = seed as u64 ^ len.wrapping_mul(M);
        let mut chunks = key.chunks_exact(8);
        for c in &mut chunks {
            let mut k = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            k = k.wrapping_mul(M);
            k ^= k >> R;
            k = k.wrapping_mul(M);
            h ^= k;
            h = h.wrapping_mul(M);
        }
        let tail = chunks.remainder();
        if !tail.is_empty() {
            for (i, &b) in tail.iter().enumerate() {
                h ^= (b as u64) << (8 * i);
            }
            h = h.wrapping_mul(M);
        }
        h ^= h >> R;
        h = h.wrapping_mul(M);
        h ^= h >> R;
        h
    }

    /// The register an element maps to and the length of its "000..1" pattern (1..=Q+1).
    pub fn pat_len(ele: &[u8]) -> (usize, u8) {
        let hash = murmur64a(ele, HASH_SEED);
        let index = (hash & P_MASK) as usize;
        // The sentinel bit bounds the count at Q+1.
        let rest = (hash >> P) | (1u64 << Q);
        (index, rest.trailing_zeros() as u8 + 1)
    }

    /// Dense register `i` of the register bytes `r`.
    #[inline]
    pub fn dense_get(r: &[u8], i: usize) -> u8 {
        let byte = i * BITS / 8;
        let fb = (i * BITS) & 7;
        let b0 = at(r, byte) as u32;
        let b1 = at(r, byte + 1) as u32;
        (((b0 >> fb) | (b1 << (8 - fb))) & REGISTER_MAX as u32) as u8
    }

    /// Sets dense register `i` of the register bytes `r` to `val` (<= 63).
    #[inline]
    pub fn dense_set(r: &mut [u8], i: usize, val: u8) {
        let byte = i * BITS / 8;
        let fb = (i * BITS) & 7;
        let v = val as u32;
        let m = REGISTER_MAX as u32;
        r[byte] = (r[byte] as u32 & !(m << fb) | (v << fb)) as u8;
        // The last register never spills into a next byte (the high bits are zero).
        if let Some(b) = r.get_mut(byte + 1) {
            *b = (*b as u32 & !(m >> (8 - fb)) | (v >> (8 - fb))) as u8;
        }
    }

    /// `hllDenseSet`: raises register `i` to `count`; true if it changed.
    #[inline]
    pub fn dense_raise(r: &mut [u8], i: usize, count: u8) -> bool {
        if count > dense_get(r, i) {
            dense_set(r, i, count);
            true
        } else {
            false
        }
    }

    /// A new HLL: sparse, every register zero (one XZERO per 16384 registers).
    pub fn new_sparse() -> Vec<u8> {
        let mut s = Vec::with_capacity(HDR_SIZE + 2);
        s.extend_from_slice(b"HYLL");
        s.push(SPARSE);
        s.extend_from_slice(&[0; 11]);
        let mut aux = REGISTERS;
        while aux > 0 {
            let x = aux.min(SPARSE_XZERO_MAX_LEN);
            s.extend_from_slice(&xzero_op(x as i64));
            aux -= x;
        }
        s
    }

    /// `isHLLObjectOrReply`'s checks on a string's bytes.
    pub fn is_valid_header(s: &[u8]) -> bool {
        s.len() >= HDR_SIZE
            && &s[..4] == b"HYLL"
            && s[4] <= MAX_ENCODING
            && !(s[4] == DENSE && s.len() != DENSE_SIZE)
    }

    pub fn invalidate_cache(s: &mut [u8]) {
        s[15] |= 0x80;
    }

    pub fn cache_valid(s: &[u8]) -> bool {
        s[15] & 0x80 == 0
    }

    pub fn cached(s: &[u8]) -> u64 {
        u64::from_le_bytes([s[8], s[9], s[10], s[11], s[12], s[13], s[14], s[15]])
    }

    pub fn set_cached(s: &mut [u8], card: u64) {
        s[8..16].copy_from_slice(&card.to_le_bytes());
    }

    /// Visits the runs of a sparse representation as (first register, length, value),
    /// Err if they do not cover exactly the 16384 registers. A run that would go past the
    /// last register stops the walk before it is visited, as in the oracle (Redis 7.0.15
    /// with the CVE-2025-32023 fix), which checks every opcode, not only VAL.
    fn walk(s: &[u8], mut f: impl FnMut(usize, usize, u8)) -> Result<(), Corrupt> {
        let mut idx = 0usize;
        let mut p = HDR_SIZE;
        while p < s.len() {
            let b = s[p];
            let (runlen, val, oplen) = if is_zero(b) {
                (zero_len(b), 0, 1)
            } else if is_xzero(b) {
                (xzero_len(s, p), 0, 2)
            } else {
                (val_len(b), val_value(b), 1)
            };
            let runlen = runlen as usize;
            if idx + runlen > REGISTERS {
                return Err(Corrupt);
            }
            f(idx, runlen, val);
            idx += runlen;
            p += oplen;
        }
        if idx == REGISTERS {
            Ok(())
        } else {
            Err(Corrupt)
        }
    }

    /// `hllSparseToDense`: converts in place; Err (and `s` untouched) if the sparse
    /// opcodes do not describe exactly 16384 registers. A dense HLL is left as is.
    pub fn sparse_to_dense(s: &mut Vec<u8>) -> Result<(), Corrupt> {
        if s[4] == DENSE {
            return Ok(());
        }
        let mut dense = vec![0u8; DENSE_SIZE];
        dense[..HDR_SIZE].copy_from_slice(&s[..HDR_SIZE]);
        dense[4] = DENSE;
        let regs = &mut dense[HDR_SIZE..];
        walk(s, |first, runlen, val| {
            if val != 0 {
                for i in first..first + runlen {
                    dense_set(regs, i, val);
                }
            }
        })?;
        *s = dense;
        Ok(())
    }

    /// A sparse representation whose opcodes do not describe exactly 16384 registers.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Corrupt;

    /// Outcome of setting one register, as Redis's 1 / 0 / -1.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Set {
        Changed,
        Unchanged,
        Corrupt,
    }

    /// `hllSparseSet`: raises register `index` to `count` editing the opcodes in place,
    /// promoting to dense when the value does not fit a VAL opcode or the string would
    /// grow beyond `max_bytes`.
    pub fn sparse_set(s: &mut Vec<u8>, index: usize, count: u8, max_bytes: i64) -> Set {
        if count > SPARSE_VAL_MAX_VALUE {
            return promote(s, index, count);
        }
        let index = index as i64;
        // Step 1: find the opcode covering the register.
        let sparse = HDR_SIZE;
        let mut end = s.len();
        let mut p = sparse;
        let mut first: i64 = 0;
        let mut prev: Option<usize> = None;
        let mut span: i64 = 0;
        while p < end {
            let b = s[p];
            let mut oplen = 1;
            if is_zero(b) {
                span = zero_len(b);
            } else if is_val(b) {
                span = val_len(b);
            } else {
                span = xzero_len(s, p);
                oplen = 2;
            }
            if index < first + span {
                break;
            }
            prev = Some(p);
            p += oplen;
            first += span;
        }
        if span == 0 || p >= end {
            return Set::Corrupt;
        }
        let b = s[p];
        let next = if is_xzero(b) { p + 2 } else { p + 1 };
        let has_next = next < end;
        let (is_zero_op, is_xzero_op) = (is_zero(b), is_xzero(b));
        let runlen = if is_zero_op {
            zero_len(b)
        } else if is_xzero_op {
            xzero_len(s, p)
        } else {
            val_len(b)
        };

        // Step 2: the trivial cases are updated in place.
        let trivial = if is_val(b) {
            if val_value(b) >= count {
                return Set::Unchanged;
            }
            runlen == 1
        } else {
            is_zero_op && runlen == 1
        };
        if trivial {
            s[p] = val_op(count, 1);
        } else {
            // General case: split the opcode into up to XZERO-VAL-XZERO.
            let mut seq = [0u8; 5];
            let mut n = 0;
            let last = first + span - 1;
            let push_zeros = |seq: &mut [u8; 5], n: &mut usize, len: i64| {
                if len > SPARSE_ZERO_MAX_LEN {
                    seq[*n..*n + 2].copy_from_slice(&xzero_op(len));
                    *n += 2;
                } else {
                    seq[*n] = zero_op(len);
                    *n += 1;
                }
            };
            if is_zero_op || is_xzero_op {
                if index != first {
                    push_zeros(&mut seq, &mut n, index - first);
                }
                seq[n] = val_op(count, 1);
                n += 1;
                if index != last {
                    push_zeros(&mut seq, &mut n, last - index);
                }
            } else {
                let curval = val_value(b);
                if index != first {
                    seq[n] = val_op(curval, index - first);
                    n += 1;
                }
                seq[n] = val_op(count, 1);
                n += 1;
                if index != last {
                    seq[n] = val_op(curval, last - index);
                    n += 1;
                }
            }
            // Step 3: substitute the new sequence for the old opcode.
            let oldlen = if is_xzero_op { 2 } else { 1 };
            let delta = n as i64 - oldlen as i64;
            if delta > 0 && s.len() as i64 + delta > max_bytes {
                return promote(s, index as usize, count);
            }
            let new_len = (s.len() as i64 + delta) as usize;
            if has_next {
                s.splice(p..p + oldlen, seq[..n].iter().copied());
            } else {
                // The opcode is the last one (possibly an XZERO cut short by the end of
                // the string): Redis writes the sequence over it and sets the length.
                s.truncate(p);
                s.extend_from_slice(&seq[..n]);
                s.resize(new_len, 0);
            }
            end = s.len();
        }

        // Step 4: merge adjacent VAL opcodes of equal value around the change.
        let mut p = prev.unwrap_or(sparse);
        let mut scanlen = 5;
        while p < end && scanlen > 0 {
            scanlen -= 1;
            let b = s[p];
            if is_xzero(b) {
                p += 2;
                continue;
            } else if is_zero(b) {
                p += 1;
                continue;
            }
            if p + 1 < end && is_val(s[p + 1]) {
                let v1 = val_value(b);
                let v2 = val_value(s[p + 1]);
                if v1 == v2 {
                    let len = val_len(b) + val_len(s[p + 1]);
                    if len <= SPARSE_VAL_MAX_LEN {
                        s[p + 1] = val_op(v1, len);
                        s.remove(p);
                        end -= 1;
                        continue;
                    }
                }
            }
            p += 1;
        }
        invalidate_cache(s);
        Set::Changed
    }

    fn promote(s: &mut Vec<u8>, index: usize, count: u8) -> Set {
        if sparse_to_dense(s).is_err() {
            return Set::Corrupt;
        }
        // A promotion happens only for a register that needs raising, so this changes it.
        dense_raise(&mut s[HDR_SIZE..], index, count);
        Set::Changed
    }

    /// `hllAdd`: adds an element to a validated HLL of either encoding.
    pub fn add(s: &mut Vec<u8>, ele: &[u8], max_bytes: i64) -> Set {
        let (index, count) = pat_len(ele);
        match s[4] {
            DENSE => {
                if dense_raise(&mut s[HDR_SIZE..], index, count) {
                    Set::Changed
                } else {
                    Set::Unchanged
                }
            }
            SPARSE => sparse_set(s, index, count, max_bytes),
            _ => Set::Corrupt,
        }
    }

    /// Histogram of the register values of a dense register array.
    fn dense_histogram(r: &[u8], h: &mut [u32; 64]) {
        for g in r.chunks_exact(3).take(REGISTERS / 4) {
            let (a, b, c) = (g[0] as usize, g[1] as usize, g[2] as usize);
            h[a & 63] += 1;
            h[(a >> 6 | b << 2) & 63] += 1;
            h[(b >> 4 | c << 4) & 63] += 1;
            h[(c >> 2) & 63] += 1;
        }
    }

    /// Histogram of a sparse representation; Err if it does not cover exactly 16384
    /// registers (the histogram is then meaningless).
    fn sparse_histogram(s: &[u8], h: &mut [u32; 64]) -> Result<(), Corrupt> {
        walk(s, |_, runlen, val| h[val as usize] += runlen as u32)
    }

    /// Ertl's sigma, "New cardinality estimation algorithms for HyperLogLog sketches".
    fn sigma(mut x: f64) -> f64 {
        if x == 1.0 {
            return f64::INFINITY;
        }
        let mut y = 1.0;
        let mut z = x;
        loop {
            x *= x;
            let z_prime = z;
            z += x * y;
            y += y;
            if z_prime == z {
                return z;
            }
        }
    }

    /// Ertl's tau.
    fn tau(mut x: f64) -> f64 {
        if x == 0.0 || x == 1.0 {
            return 0.0;
        }
        let mut y = 1.0;
        let mut z = 1.0 - x;
        loop {
            x = x.sqrt();
            let z_prime = z;
            y *= 0.5;
            z -= (1.0 - x).powf(2.0) * y;
            if z_prime == z {
                return z / 3.0;
            }
        }
    }

    /// The improved estimator of Redis 7.0 from a register histogram, with C's
    /// `(uint64_t)(double)llroundl(x)` conversions (an infinite estimate becomes 2^63).
    fn estimate(h: &[u32; 64]) -> u64 {
        let m = REGISTERS as f64;
        let mut z = m * tau((m - h[Q + 1] as f64) / m);
        for j in (1..=Q).rev() {
            z += h[j] as f64;
            z *= 0.5;
        }
        z += m * sigma(h[0] as f64 / m);
        let x = ALPHA_INF * m * m / z;
        // llroundl: round half away from zero; out of range gives LLONG_MIN on x86-64.
        let r = x.round();
        let lim = (1u64 << 63) as f64;
        let ll = if (-lim..lim).contains(&r) {
            r as i64
        } else {
            i64::MIN
        };
        let e = ll as f64;
        if e < 0.0 {
            e as i64 as u64
        } else {
            e as u64
        }
    }

    /// `hllCount` of a validated HLL; Err for a corrupt sparse representation.
    pub fn count(s: &[u8]) -> Result<u64, Corrupt> {
        let mut h = [0u32; 64];
        if s[4] == DENSE {
            dense_histogram(&s[HDR_SIZE..], &mut h);
        } else {
            sparse_histogram(s, &mut h)?;
        }
        Ok(estimate(&h))
    }

    /// `hllCount` of raw one-byte-per-register values (the PFCOUNT union).
    pub fn count_raw(max: &[u8; REGISTERS]) -> u64 {
        let mut h = [0u32; 64];
        for &v in max.iter() {
            h[(v & 63) as usize] += 1;
        }
        estimate(&h)
    }

    /// `hllMerge`: max[i] = MAX(max[i], register i); Err for a corrupt sparse HLL.
    pub fn merge(max: &mut [u8; REGISTERS], s: &[u8]) -> Result<(), Corrupt> {
        if s[4] == DENSE {
            let r = &s[HDR_SIZE..];
            for (i, m) in max.iter_mut().enumerate() {
                let v = dense_get(r, i);
                if v > *m {
                    *m = v;
                }
            }
            return Ok(());
        }
        walk(s, |first, runlen, val| {
            for m in &mut max[first..first + runlen] {
                if val > *m {
                    *m = val;
                }
            }
        })
    }

    /// PFDEBUG DECODE's text for a sparse HLL.
    pub fn decode(s: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut p = HDR_SIZE;
        while p < s.len() {
            let b = s[p];
            if is_zero(b) {
                out.extend_from_slice(format!("z:{} ", zero_len(b)).as_bytes());
                p += 1;
            } else if is_xzero(b) {
                out.extend_from_slice(format!("Z:{} ", xzero_len(s, p)).as_bytes());
                p += 2;
            } else {
                out.extend_from_slice(format!("v:{},{} ", val_value(b), val_len(b)).as_bytes());
                p += 1;
            }
        }
        while out.last() == Some(&b' ') {
            out.pop();
        }
        out
    }
}

/// `isHLLObjectOrReply`: the value's HLL bytes, or the error Redis replies.
fn hll_bytes(e: &Entry) -> Result<&[u8], CmdError> {
    match e.str_slice() {
        Some(data) if hll::is_valid_header(data) => Ok(data),
        // An int-encoded string is not sds-encoded: never an HLL.
        _ if e.value().is_string() => Err(CmdError::new(NOT_HLL)),
        _ => Err(CmdError::new(err::WRONGTYPE)),
    }
}

/// Validates and unshares (`dbUnshareStringValue`: the value becomes `raw`) an HLL value.
fn hll_mut(e: &mut Entry) -> Result<&mut Vec<u8>, CmdError> {
    hll_bytes(e)?;
    e.string_mut().ok_or(CmdError::new(err::WRONGTYPE))
}

fn sparse_max_bytes(ctx: &Ctx) -> i64 {
    EncodingLimits::get(&ctx.shared.limits.hll_sparse_max_bytes)
}

fn new_entry(key: &[u8], data: Vec<u8>, clock: u32) -> Entry {
    Entry::new(key, Value::raw(data), 0, clock)
}

fn pfadd(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let key = args.get(1);
    let max_bytes = sparse_max_bytes(ctx);
    let (now, clock) = (ctx.now(), ctx.clock());
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let updated = match shard.lookup_write(h, key, now, clock) {
        Some(e) => {
            let s = hll_mut(e)?;
            let mut updated = false;
            for ele in args.iter_from(2) {
                match hll::add(s, ele, max_bytes) {
                    hll::Set::Changed => updated = true,
                    hll::Set::Unchanged => {}
                    // Registers already raised stay raised, as in Redis.
                    hll::Set::Corrupt => return Err(CmdError::new(INVALID_HLL)),
                }
            }
            if updated {
                hll::invalidate_cache(s);
            }
            updated
        }
        None => {
            let mut s = hll::new_sparse();
            for ele in args.iter_from(2) {
                hll::add(&mut s, ele, max_bytes);
            }
            hll::invalidate_cache(&mut s);
            shard.insert_new(h, new_entry(key, s, clock), &store.entry_hasher());
            ctx.notify(class::NEW, "new", ctx.db(), key);
            true
        }
    };
    drop(shard);
    if updated {
        changed(ctx, class::STRING, "pfadd", key);
    }
    ctx.out.int(updated as i64);
    Ok(())
}

fn pfcount(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let (now, clock) = (ctx.now(), ctx.clock());
    let store = ctx.store();
    let db = ctx.db();
    if args.len() > 2 {
        // The cardinality of the union, computed on a temporary register array; nothing
        // is cached.
        let mut max = Box::new([0u8; hll::REGISTERS]);
        let hashes: Vec<_> = args.iter_from(1).map(|k| store.hash(k)).collect();
        let mut locked = store.lock_many(hashes.iter().map(|&h| (db, h)));
        for (key, &h) in args.iter_from(1).zip(&hashes) {
            let shard = locked.shard(store, db, h);
            let Some(e) = shard.lookup_read(h, key, now, clock) else {
                continue;
            };
            let s = hll_bytes(e)?;
            hll::merge(&mut max, s).map_err(|_| CmdError::new(INVALID_HLL))?;
        }
        drop(locked);
        ctx.out.int(hll::count_raw(&max) as i64);
        return Ok(());
    }
    let key = args.get(1);
    let h = store.hash(key);
    let mut shard = store.lock(db, h);
    let mut recomputed = false;
    let card = match shard.lookup_read(h, key, now, clock) {
        None => 0,
        Some(e) => {
            let s = hll_mut(e)?;
            if hll::cache_valid(s) {
                hll::cached(s)
            } else {
                let card = hll::count(s).map_err(|_| CmdError::new(INVALID_HLL))?;
                hll::set_cached(s, card);
                recomputed = true;
                card
            }
        }
    };
    drop(shard);
    // Caching the cardinality writes the string: Redis signals the key as modified
    // (WATCH sees it), without a keyspace event.
    if recomputed {
        ctx.modified(db, key);
    }
    ctx.out.int(card as i64);
    Ok(())
}

fn pfmerge(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let max_bytes = sparse_max_bytes(ctx);
    let (now, clock) = (ctx.now(), ctx.clock());
    let store = ctx.store();
    let db = ctx.db();
    let hashes: Vec<_> = args.iter_from(1).map(|k| store.hash(k)).collect();
    let mut locked = store.lock_many(hashes.iter().map(|&h| (db, h)));
    // The union of every key's registers, the destination's included.
    let mut max = Box::new([0u8; hll::REGISTERS]);
    let mut use_dense = false;
    for (key, &h) in args.iter_from(1).zip(&hashes) {
        let shard = locked.shard(store, db, h);
        let Some(e) = shard.lookup_read(h, key, now, clock) else {
            continue;
        };
        let s = hll_bytes(e)?;
        use_dense |= s[4] == hll::DENSE;
        hll::merge(&mut max, s).map_err(|_| CmdError::new(INVALID_HLL))?;
    }
    let dest = args.get(1);
    let h = hashes[0];
    let shard = locked.shard(store, db, h);
    if shard.lookup_write(h, dest, now, clock).is_none() {
        let entry = new_entry(dest, hll::new_sparse(), clock);
        shard.insert_new(h, entry, &store.entry_hasher());
        ctx.notify(class::NEW, "new", db, dest);
    }
    let e = shard
        .lookup_write(h, dest, now, clock)
        .ok_or(CmdError::new(INVALID_HLL))?;
    let s = hll_mut(e)?;
    if use_dense && hll::sparse_to_dense(s).is_err() {
        return Err(CmdError::new(INVALID_HLL));
    }
    for (j, &m) in max.iter().enumerate() {
        if m == 0 {
            continue;
        }
        if s[4] == hll::DENSE {
            hll::dense_raise(&mut s[hll::HDR_SIZE..], j, m);
        } else {
            // The destination was validated by the merge above, so this cannot fail.
            hll::sparse_set(s, j, m, max_bytes);
        }
    }
    hll::invalidate_cache(s);
    drop(locked);
    // Always a change, reported as "pfadd" (a mass add), as Redis does.
    changed(ctx, class::STRING, "pfadd", dest);
    ctx.out.ok();
    Ok(())
}

/// `%s` of a client argument in an error: cut at NUL, newlines turned into spaces.
fn error_arg(a: &[u8]) -> Vec<u8> {
    super::c_arg(a, usize::MAX)
        .iter()
        .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b })
        .collect()
}

fn pfdebug(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let key = args.get(2);
    let (now, clock) = (ctx.now(), ctx.clock());
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let Some(e) = shard.lookup_write(h, key, now, clock) else {
        return Err(CmdError::new("ERR The specified key does not exist"));
    };
    let s = hll_mut(e)?;
    if args.is(1, "getreg") {
        if hll::sparse_to_dense(s).is_err() {
            return Err(CmdError::new(INVALID_HLL));
        }
        ctx.out.array(hll::REGISTERS);
        let regs = &s[hll::HDR_SIZE..];
        for j in 0..hll::REGISTERS {
            ctx.out.int(hll::dense_get(regs, j) as i64);
        }
    } else if args.is(1, "decode") {
        if s[4] != hll::SPARSE {
            return Err(CmdError::new("ERR HLL encoding is not sparse"));
        }
        ctx.out.bulk(&hll::decode(s));
    } else if args.is(1, "encoding") {
        ctx.out.simple(if s[4] == hll::DENSE {
            "dense"
        } else {
            "sparse"
        });
    } else if args.is(1, "todense") {
        let conv = s[4] == hll::SPARSE;
        if hll::sparse_to_dense(s).is_err() {
            return Err(CmdError::new(INVALID_HLL));
        }
        ctx.out.int(conv as i64);
    } else {
        let mut m = b"ERR Unknown PFDEBUG subcommand '".to_vec();
        m.extend_from_slice(&error_arg(args.get(1)));
        m.push(b'\'');
        return Err(CmdError::from_bytes(m));
    }
    Ok(())
}

/// PFSELFTEST: Redis's self-test of the register access and of the estimator's error on
/// random data, dense and sparse side by side.
fn pfselftest(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    use rand::Rng;
    let max_bytes = sparse_max_bytes(ctx);
    let mut rng = rand::rng();
    let mut regs = vec![0u8; hll::DENSE_SIZE - hll::HDR_SIZE];
    let mut bytes = vec![0u8; hll::REGISTERS];
    // Test 1: registers keep their values and do not disturb their neighbours.
    for _ in 0..1000 {
        rng.fill(&mut bytes[..]);
        for (i, b) in bytes.iter_mut().enumerate() {
            *b &= hll::REGISTER_MAX;
            hll::dense_set(&mut regs, i, *b);
        }
        for (i, &b) in bytes.iter().enumerate() {
            let v = hll::dense_get(&regs, i);
            if v != b {
                return Err(format!("TESTFAILED Register {i} should be {b} but is {v}").into());
            }
        }
    }
    // Test 2: the estimate stays within a few standard errors.
    let mut dense = hll::new_sparse();
    let _ = hll::sparse_to_dense(&mut dense);
    dense[8..16].fill(0);
    let mut sparse = hll::new_sparse();
    let relerr = 1.04 / (hll::REGISTERS as f64).sqrt();
    let mut checkpoint: u64 = 1;
    let seed: u64 = rng.random();
    for j in 1..=10_000_000u64 {
        // Both copies get the element; hashing it once gives both the same register.
        let (index, count) = hll::pat_len(&(j ^ seed).to_ne_bytes());
        hll::dense_raise(&mut dense[hll::HDR_SIZE..], index, count);
        if sparse[4] == hll::DENSE {
            hll::dense_raise(&mut sparse[hll::HDR_SIZE..], index, count);
        } else {
            hll::sparse_set(&mut sparse, index, count, max_bytes);
        }
        if j != checkpoint {
            continue;
        }
        if (j as i64) < max_bytes / 2 && sparse[4] != hll::SPARSE {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let dc = hll::count(&dense).unwrap_or(0);
        if Ok(dc) != hll::count(&sparse) {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let abserr = (checkpoint as i64).wrapping_sub(dc as i64).unsigned_abs();
        let maxerr = if j == 10 {
            1
        } else {
            (relerr * 6.0 * checkpoint as f64).ceil() as u64
        };
        if abserr > maxerr {
            return Err(
                format!("TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}").into(),
            );
        }
        checkpoint *= 10;
    }
    ctx.out.ok();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::hll;

    #[test]
    fn registers_round_trip() {
        let mut r = vec![0u8; hll::DENSE_SIZE - hll::HDR_SIZE];
        for i in 0..hll::REGISTERS {
            hll::dense_set(&mut r, i, (i % 64) as u8);
        }
        for i in 0..hll::REGISTERS {
            assert_eq!(hll::dense_get(&r, i), (i % 64) as u8);
        }
    }

    #[test]
    fn empty_counts_zero_and_sparse_matches_dense() {
        let mut s = hll::new_sparse();
        assert_eq!(hll::count(&s), Ok(0));
        let mut d = hll::new_sparse();
        hll::sparse_to_dense(&mut d).unwrap();
        for i in 0..500u32 {
            hll::add(&mut s, &i.to_le_bytes(), 3000);
            hll::add(&mut d, &i.to_le_bytes(), 3000);
        }
        assert_eq!(s[4], hll::SPARSE);
        assert_eq!(hll::count(&s), hll::count(&d));
        let mut s2 = s.clone();
        hll::sparse_to_dense(&mut s2).unwrap();
        assert_eq!(&s2[hll::HDR_SIZE..], &d[hll::HDR_SIZE..]);
    }

    #[test]
    fn corrupt_bytes_never_panic() {
        use rand::Rng;
        let mut rng = rand::rng();
        for _ in 0..300 {
            let mut s = hll::new_sparse();
            for i in 0..rng.random_range(0..200u32) {
                hll::add(&mut s, &i.to_le_bytes(), 3000);
            }
            for _ in 0..rng.random_range(1..6) {
                let i = rng.random_range(hll::HDR_SIZE..s.len() + 3);
                if i < s.len() {
                    s[i] = rng.random();
                } else {
                    s.push(rng.random());
                }
            }
            let _ = hll::count(&s);
            let mut max = Box::new([0u8; hll::REGISTERS]);
            let _ = hll::merge(&mut max, &s);
            let _ = hll::decode(&s);
            for i in 0..50u32 {
                hll::add(&mut s, &i.to_be_bytes(), 3000);
            }
            let _ = hll::sparse_to_dense(&mut s);
        }
    }
}
