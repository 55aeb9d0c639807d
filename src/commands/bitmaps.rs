//! Bitmap commands on string values: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD
//! and BITFIELD_RO, following Redis 7.0's `bitops.c` (bit 0 is the most significant bit
//! of byte 0; strings grow with zero bytes; offsets are limited by proto-max-bulk-len).

use super::keyspace::class;
use super::strings::{changed, ensure_string, entry_string};
use super::{cmd, err, Args, CmdError, CmdResult, CommandTable, Ctx};
use crate::store::{Entry, Value};

const READ_FAST: &[&str] = &["read", "bitmap", "fast"];
const READ_SLOW: &[&str] = &["read", "bitmap", "slow"];
const WRITE_SLOW: &[&str] = &["write", "bitmap", "slow"];

pub fn register(t: &mut CommandTable) {
    t.add(cmd(
        "setbit",
        4,
        "write denyoom",
        WRITE_SLOW,
        (1, 1, 1),
        setbit,
    ));
    t.add(cmd(
        "getbit",
        3,
        "readonly fast",
        READ_FAST,
        (1, 1, 1),
        getbit,
    ));
    t.add(cmd(
        "bitcount",
        -2,
        "readonly",
        READ_SLOW,
        (1, 1, 1),
        bitcount,
    ));
    t.add(cmd("bitpos", -3, "readonly", READ_SLOW, (1, 1, 1), bitpos));
    t.add(cmd(
        "bitop",
        -4,
        "write denyoom",
        WRITE_SLOW,
        (2, -1, 1),
        bitop,
    ));
    t.add(cmd(
        "bitfield",
        -2,
        "write denyoom",
        WRITE_SLOW,
        (1, 1, 1),
        bitfield,
    ));
    t.add(cmd(
        "bitfield_ro",
        -2,
        "readonly fast",
        READ_FAST,
        (1, 1, 1),
        bitfield_ro,
    ));
}

const BIT_OFFSET_ERR: &str = "ERR bit offset is not an integer or out of range";

/// `getBitOffsetFromArgument`: a non-negative bit offset whose byte lies below
/// proto-max-bulk-len. With `bits` > 0 (BITFIELD), `#n` means n * bits; the product
/// wraps as Redis's does.
fn bit_offset(ctx: &Ctx, arg: &[u8], bits: u32) -> Result<u64, CmdError> {
    let hashed = bits > 0 && arg.first() == Some(&b'#');
    let digits = if hashed { &arg[1..] } else { arg };
    let mut v = crate::util::parse_i64(digits).ok_or(CmdError::new(BIT_OFFSET_ERR))?;
    if hashed {
        v = v.wrapping_mul(bits as i64);
    }
    let max = ctx.shared.config.read().proto_max_bulk_len;
    if v < 0 || (v >> 3) >= max {
        return Err(CmdError::new(BIT_OFFSET_ERR));
    }
    Ok(v as u64)
}

/// Makes the string of `key` at least `len` bytes long (creating it if missing, and
/// turning it `raw` as Redis's `lookupStringForBitCommand` does), then runs `f` on its
/// bytes. `len` has already been bounded by `bit_offset`. Also says whether the key was
/// created or grown (Redis's `dirty`): that alone counts as a change; a created key has
/// had its "new" event.
fn with_bit_string<R>(
    ctx: &mut Ctx,
    key: &[u8],
    len: usize,
    f: impl FnOnce(&mut Vec<u8>) -> R,
) -> Result<(R, bool), CmdError> {
    let store = ctx.store();
    let h = store.hash(key);
    let (now, clock) = (ctx.now(), ctx.clock());
    let mut shard = store.lock(ctx.db(), h);
    let created = ensure_string(&mut shard, store, h, key, now, clock)?;
    if created {
        ctx.notify(class::NEW, "new", ctx.db(), key);
    }
    let data = shard
        .get_mut(h, key, now)
        .and_then(|e| e.string_mut())
        .ok_or(CmdError::new(err::WRONGTYPE))?;
    let grown = data.len() < len;
    if grown {
        data.resize(len, 0);
    }
    Ok((f(data), created || grown))
}

fn setbit(ctx: &mut Ctx, args: &Args) -> CmdResult {
    const BIT_ERR: &str = "ERR bit is not an integer or out of range";
    let offset = bit_offset(ctx, args.get(2), 0)?;
    let on = crate::util::parse_i64(args.get(3)).ok_or(CmdError::new(BIT_ERR))?;
    if on & !1 != 0 {
        return Err(CmdError::new(BIT_ERR));
    }
    let byte = (offset >> 3) as usize;
    let mask = 1u8 << (7 - (offset & 7));
    let (old, dirty) = with_bit_string(ctx, args.get(1), byte + 1, |data| {
        let old = data[byte] & mask != 0;
        if on == 1 {
            data[byte] |= mask;
        } else {
            data[byte] &= !mask;
        }
        old
    })?;
    // Redis signals only if the key was created or grown, or the bit flipped.
    if dirty || old != (on == 1) {
        changed(ctx, class::STRING, "setbit", args.get(1));
    }
    ctx.out.int(old as i64);
    Ok(())
}

fn getbit(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let offset = bit_offset(ctx, args.get(2), 0)?;
    let key = args.get(1);
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let bit = match shard.lookup_read(h, key, ctx.now(), ctx.clock()) {
        None => false,
        Some(e) => {
            let s = entry_string(e)?;
            let byte = (offset >> 3) as usize;
            byte < s.len() && s[byte] & (1 << (7 - (offset & 7))) != 0
        }
    };
    ctx.out.int(bit as i64);
    Ok(())
}

/// The bytes BITCOUNT and BITPOS scan (inclusive; empty when start > end), plus masks of
/// the bits of the first and last byte that lie outside a BIT range.
struct Range {
    start: i64,
    end: i64,
    first_neg_mask: u8,
    last_neg_mask: u8,
}

/// Clamps a start/end pair (negative counts from the end; in bits for BIT) to the string.
fn resolve_range(mut start: i64, mut end: i64, strlen: i64, isbit: bool) -> Range {
    let totlen = if isbit { strlen << 3 } else { strlen };
    if start < 0 {
        start += totlen;
    }
    if end < 0 {
        end += totlen;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= totlen {
        end = totlen - 1;
    }
    let (mut first_neg_mask, mut last_neg_mask) = (0u8, 0u8);
    if isbit && start <= end {
        first_neg_mask = !((1u32 << (8 - (start & 7))) - 1) as u8;
        last_neg_mask = ((1u32 << (7 - (end & 7))) - 1) as u8;
        start >>= 3;
        end >>= 3;
    }
    Range {
        start,
        end,
        first_neg_mask,
        last_neg_mask,
    }
}

/// Parses BYTE|BIT.
fn range_unit(a: &[u8]) -> Result<bool, CmdError> {
    if a.eq_ignore_ascii_case(b"bit") {
        Ok(true)
    } else if a.eq_ignore_ascii_case(b"byte") {
        Ok(false)
    } else {
        Err(CmdError::new(err::SYNTAX))
    }
}

fn popcount(b: &[u8]) -> i64 {
    b.iter().map(|x| x.count_ones() as i64).sum()
}

fn bitcount(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let key = args.get(1);
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let Some(e) = shard.lookup_read(h, key, ctx.now(), ctx.clock()) else {
        ctx.out.int(0);
        return Ok(());
    };
    let p = entry_string(e)?;
    let strlen = p.len() as i64;
    let range = match args.len() {
        2 => Range {
            start: 0,
            end: strlen - 1,
            first_neg_mask: 0,
            last_neg_mask: 0,
        },
        4 | 5 => {
            let start = args.int(2)?;
            let end = args.int(3)?;
            if start < 0 && end < 0 && start > end {
                ctx.out.int(0);
                return Ok(());
            }
            let isbit = args.len() == 5 && range_unit(args.get(4))?;
            resolve_range(start, end, strlen, isbit)
        }
        _ => return Err(CmdError::new(err::SYNTAX)),
    };
    if range.start > range.end {
        ctx.out.int(0);
        return Ok(());
    }
    let (s, en) = (range.start as usize, range.end as usize);
    let mut count = popcount(&p[s..=en]);
    count -= (p[s] & range.first_neg_mask).count_ones() as i64;
    count -= (p[en] & range.last_neg_mask).count_ones() as i64;
    ctx.out.int(count);
    Ok(())
}

/// `redisBitpos`: position of the first bit equal to `bit`; if none, -1 when looking for
/// a 1, or the first bit past the end when looking for a 0 (strings are zero-padded).
fn first_bit(s: &[u8], bit: bool) -> i64 {
    for (i, &b) in s.iter().enumerate() {
        let b = if bit { b } else { !b };
        if b != 0 {
            return i as i64 * 8 + b.leading_zeros() as i64;
        }
    }
    if bit {
        -1
    } else {
        s.len() as i64 * 8
    }
}

fn bitpos(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let bit = args.int(2)?;
    if bit != 0 && bit != 1 {
        return Err(CmdError::new("ERR The bit argument must be 1 or 0."));
    }
    let bit = bit == 1;
    let key = args.get(1);
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let Some(e) = shard.lookup_read(h, key, ctx.now(), ctx.clock()) else {
        ctx.out.int(if bit { -1 } else { 0 });
        return Ok(());
    };
    let p = entry_string(e)?;
    let strlen = p.len() as i64;
    let mut end_given = false;
    let range = match args.len() {
        3 => Range {
            start: 0,
            end: strlen - 1,
            first_neg_mask: 0,
            last_neg_mask: 0,
        },
        4..=6 => {
            let start = args.int(3)?;
            let isbit = args.len() == 6 && range_unit(args.get(5))?;
            let end = if args.len() >= 5 {
                end_given = true;
                args.int(4)?
            } else {
                strlen - 1
            };
            resolve_range(start, end, strlen, isbit)
        }
        _ => return Err(CmdError::new(err::SYNTAX)),
    };
    if range.start > range.end {
        ctx.out.int(-1);
        return Ok(());
    }
    let (mut start, end) = (range.start, range.end);
    let (first_mask, last_mask) = (range.first_neg_mask, range.last_neg_mask);
    let mut bytes = end - start + 1;
    let masked = |b: u8, mask: u8| if bit { b & !mask } else { b | mask };
    // The same steps as Redis: the partial first byte, the whole middle, the partial
    // last byte; `start` and `bytes` end up describing the part the answer came from.
    let pos = 'search: {
        if first_mask != 0 {
            let mut c = masked(p[start as usize], first_mask);
            if last_mask != 0 && bytes == 1 {
                c = masked(c, last_mask);
            }
            let pos = first_bit(&[c], bit);
            if bytes == 1 || (pos != -1 && pos != 8) {
                break 'search pos;
            }
            start += 1;
            bytes -= 1;
        }
        let cur = bytes - (last_mask != 0) as i64;
        if cur > 0 {
            let s = start as usize;
            let pos = first_bit(&p[s..s + cur as usize], bit);
            if bytes == cur || (pos != -1 && pos != cur << 3) {
                break 'search pos;
            }
            start += cur;
            bytes -= cur;
        }
        first_bit(&[masked(p[end as usize], last_mask)], bit)
    };
    // A clear bit just past an explicit end is outside the range: not found.
    if end_given && !bit && pos == bytes << 3 {
        ctx.out.int(-1);
        return Ok(());
    }
    ctx.out.int(if pos == -1 { -1 } else { pos + (start << 3) });
    Ok(())
}

fn bitop(ctx: &mut Ctx, args: &Args) -> CmdResult {
    #[derive(Clone, Copy, PartialEq)]
    enum Op {
        And,
        Or,
        Xor,
        Not,
    }
    let op = match args.get(1).to_ascii_lowercase().as_slice() {
        b"and" => Op::And,
        b"or" => Op::Or,
        b"xor" => Op::Xor,
        b"not" => Op::Not,
        _ => return Err(CmdError::new(err::SYNTAX)),
    };
    if op == Op::Not && args.len() != 4 {
        return Err(CmdError::new(
            "ERR BITOP NOT must be called with a single source key.",
        ));
    }
    let store = ctx.store();
    let db = ctx.db();
    let (now, clock) = (ctx.now(), ctx.clock());
    let hashes: Vec<u64> = args.iter_from(2).map(|k| store.hash(k)).collect();
    let mut locked = store.lock_many(hashes.iter().map(|&h| (db, h)));
    let mut sources: Vec<Vec<u8>> = Vec::with_capacity(hashes.len() - 1);
    for (i, &h) in hashes.iter().enumerate().skip(1) {
        let key = args.get(2 + i);
        match locked.shard(store, db, h).lookup_read(h, key, now, clock) {
            None => sources.push(Vec::new()),
            Some(e) => sources.push(entry_string(e)?.into_owned()),
        }
    }
    let maxlen = sources.iter().map(Vec::len).max().unwrap_or(0);
    let (dest, hd) = (args.get(2), hashes[0]);
    let shard = locked.shard(store, db, hd);
    if maxlen == 0 {
        // An empty result deletes the destination ("del" only if it was there).
        let removed = shard.remove(hd, dest, now).is_some();
        drop(locked);
        if removed {
            changed(ctx, class::GENERIC, "del", dest);
        }
        ctx.out.int(0);
        return Ok(());
    }
    let byte = |s: &Vec<u8>, j: usize| s.get(j).copied().unwrap_or(0);
    let mut res = vec![0u8; maxlen];
    for (j, out) in res.iter_mut().enumerate() {
        let mut acc = byte(&sources[0], j);
        if op == Op::Not {
            acc = !acc;
        }
        for s in &sources[1..] {
            let b = byte(s, j);
            match op {
                Op::And => acc &= b,
                Op::Or => acc |= b,
                Op::Xor => acc ^= b,
                Op::Not => {}
            }
        }
        *out = acc;
    }
    let entry = Entry::new(dest, Value::raw(res), 0, clock);
    let created = shard
        .insert(hd, entry, now, &store.entry_hasher())
        .is_none();
    drop(locked);
    // setKey: "new" for a created key, the signal, then "set".
    if created {
        ctx.notify(class::NEW, "new", db, dest);
    }
    changed(ctx, class::STRING, "set", dest);
    ctx.out.int(maxlen as i64);
    Ok(())
}

#[derive(Clone, Copy, PartialEq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, PartialEq)]
enum FieldOp {
    Get,
    Set,
    IncrBy,
}

struct BitfieldOp {
    op: FieldOp,
    offset: u64,
    value: i64,
    bits: u32,
    signed: bool,
    overflow: Overflow,
}

/// `getBitfieldTypeFromArgument`: `i1`..`i64` or `u1`..`u63` (lower case only). The
/// width is read up to the first NUL, as Redis reads it with strlen.
fn field_type(arg: &[u8]) -> Result<(bool, u32), CmdError> {
    const TYPE_ERR: &str = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(CmdError::new(TYPE_ERR)),
    };
    let rest = &arg[1..];
    let rest = &rest[..rest.iter().position(|&c| c == 0).unwrap_or(rest.len())];
    match crate::util::parse_i64(rest) {
        Some(b) if b >= 1 && b <= if signed { 64 } else { 63 } => Ok((signed, b as u32)),
        _ => Err(CmdError::new(TYPE_ERR)),
    }
}

/// Reads `bits` bits at bit `offset`, most significant first; bytes past the end read 0.
fn get_unsigned(p: &[u8], offset: u64, bits: u32) -> u64 {
    let mut v = 0u64;
    for i in 0..bits as u64 {
        let o = offset + i;
        let byte = (o >> 3) as usize;
        let bit = p.get(byte).is_some_and(|b| b & (1 << (7 - (o & 7))) != 0);
        v = (v << 1) | bit as u64;
    }
    v
}

fn get_signed(p: &[u8], offset: u64, bits: u32) -> i64 {
    let v = get_unsigned(p, offset, bits) as i64;
    if bits < 64 && v & (1i64 << (bits - 1)) != 0 {
        v | (-1i64 << bits)
    } else {
        v
    }
}

/// Writes the low `bits` bits of `v` at bit `offset`; the string is long enough.
fn set_field(p: &mut [u8], offset: u64, bits: u32, v: u64) {
    for i in 0..bits as u64 {
        let o = offset + i;
        let byte = (o >> 3) as usize;
        let mask = 1u8 << (7 - (o & 7));
        if (v >> (bits as u64 - 1 - i)) & 1 == 1 {
            p[byte] |= mask;
        } else {
            p[byte] &= !mask;
        }
    }
}

/// `checkSignedBitfieldOverflow`: Some(result) when `value + incr` leaves the range of
/// a signed `bits`-wide field (the wrapped or saturated value; FAIL only needs the flag).
fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> Option<i64> {
    let max: i64 = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let wrap = || {
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & (1u64 << (bits - 1)) != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    if value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
        Some(match ow {
            Overflow::Wrap => wrap(),
            _ => max,
        })
    } else if value < min
        || (bits != 64 && incr < minincr)
        || (value < 0 && incr < 0 && incr < minincr)
    {
        Some(match ow {
            Overflow::Wrap => wrap(),
            _ => min,
        })
    } else {
        None
    }
}

/// `checkUnsignedBitfieldOverflow`, for widths up to 63 bits.
fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> Option<u64> {
    let max = (1u64 << bits) - 1;
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = (value as i64).wrapping_neg();
    let wrap = || value.wrapping_add(incr as u64) & !(u64::MAX << bits);
    if value > max || (incr > 0 && incr > maxincr) {
        Some(match ow {
            Overflow::Wrap => wrap(),
            _ => max,
        })
    } else if incr < 0 && incr < minincr {
        Some(match ow {
            Overflow::Wrap => wrap(),
            _ => 0,
        })
    } else {
        None
    }
}

/// One field reply: the value, or None for an overflow under FAIL.
fn run_write_op(data: &mut [u8], o: &BitfieldOp) -> Option<i64> {
    if o.signed {
        let old = get_signed(data, o.offset, o.bits);
        let (new, ret, over) = if o.op == FieldOp::IncrBy {
            let over = signed_overflow(old, o.value, o.bits, o.overflow);
            let new = over.unwrap_or_else(|| old.wrapping_add(o.value));
            (new, new, over.is_some())
        } else {
            let over = signed_overflow(o.value, 0, o.bits, o.overflow);
            (over.unwrap_or(o.value), old, over.is_some())
        };
        if over && o.overflow == Overflow::Fail {
            return None;
        }
        set_field(data, o.offset, o.bits, new as u64);
        Some(ret)
    } else {
        let old = get_unsigned(data, o.offset, o.bits);
        let (new, ret, over) = if o.op == FieldOp::IncrBy {
            let over = unsigned_overflow(old, o.value, o.bits, o.overflow);
            let new = over.unwrap_or_else(|| old.wrapping_add(o.value as u64));
            (new, new, over.is_some())
        } else {
            let over = unsigned_overflow(o.value as u64, 0, o.bits, o.overflow);
            (over.unwrap_or(o.value as u64), old, over.is_some())
        };
        if over && o.overflow == Overflow::Fail {
            return None;
        }
        set_field(data, o.offset, o.bits, new);
        Some(ret as i64)
    }
}

fn read_field(p: &[u8], o: &BitfieldOp) -> i64 {
    if o.signed {
        get_signed(p, o.offset, o.bits)
    } else {
        get_unsigned(p, o.offset, o.bits) as i64
    }
}

fn bitfield(ctx: &mut Ctx, args: &Args) -> CmdResult {
    bitfield_generic(ctx, args, false)
}

fn bitfield_ro(ctx: &mut Ctx, args: &Args) -> CmdResult {
    bitfield_generic(ctx, args, true)
}

/// `bitfieldGeneric`: every operation is parsed (and validated) first, then the key is
/// read, or grown to the highest bit written, and the operations run in order.
fn bitfield_generic(ctx: &mut Ctx, args: &Args, ro_command: bool) -> CmdResult {
    let mut ops: Vec<BitfieldOp> = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut readonly = true;
    let mut highest_write: u64 = 0;
    let mut j = 2;
    while j < args.len() {
        let remaining = args.len() - j - 1;
        let op = if args.is(j, "get") && remaining >= 2 {
            FieldOp::Get
        } else if args.is(j, "set") && remaining >= 3 {
            FieldOp::Set
        } else if args.is(j, "incrby") && remaining >= 3 {
            FieldOp::IncrBy
        } else if args.is(j, "overflow") && remaining >= 1 {
            overflow = match args.get(j + 1).to_ascii_lowercase().as_slice() {
                b"wrap" => Overflow::Wrap,
                b"sat" => Overflow::Sat,
                b"fail" => Overflow::Fail,
                _ => return Err(CmdError::new("ERR Invalid OVERFLOW type specified")),
            };
            j += 2;
            continue;
        } else {
            return Err(CmdError::new(err::SYNTAX));
        };
        let (signed, bits) = field_type(args.get(j + 1))?;
        let offset = bit_offset(ctx, args.get(j + 2), bits)?;
        let mut value = 0;
        if op != FieldOp::Get {
            readonly = false;
            highest_write = highest_write.max(offset + bits as u64 - 1);
            value = args.int(j + 3)?;
        }
        ops.push(BitfieldOp {
            op,
            offset,
            value,
            bits,
            signed,
            overflow,
        });
        j += if op == FieldOp::Get { 3 } else { 4 };
    }

    let mut replies: Vec<Option<i64>> = Vec::with_capacity(ops.len());
    if readonly {
        let key = args.get(1);
        let store = ctx.store();
        let h = store.hash(key);
        let mut shard = store.lock(ctx.db(), h);
        let value = shard.lookup_read(h, key, ctx.now(), ctx.clock());
        let p = match &value {
            Some(e) => entry_string(e)?,
            None => std::borrow::Cow::Borrowed(&[][..]),
        };
        replies.extend(ops.iter().map(|o| Some(read_field(&p, o))));
    } else {
        if ro_command {
            return Err(CmdError::new(
                "ERR BITFIELD_RO only supports the GET subcommand",
            ));
        }
        let len = (highest_write >> 3) as usize + 1;
        // Redis counts a write as a change if the key was created or grown, or the
        // field's bits differ afterwards; a write refused by OVERFLOW FAIL is none.
        let ((wrote, flipped), dirty) = with_bit_string(ctx, args.get(1), len, |data| {
            let (mut wrote, mut flipped) = (false, false);
            for o in &ops {
                replies.push(match o.op {
                    FieldOp::Get => Some(read_field(data, o)),
                    _ => {
                        let before = get_unsigned(data, o.offset, o.bits);
                        let r = run_write_op(data, o);
                        if r.is_some() {
                            wrote = true;
                            flipped |= get_unsigned(data, o.offset, o.bits) != before;
                        }
                        r
                    }
                });
            }
            (wrote, flipped)
        })?;
        if flipped || (dirty && wrote) {
            changed(ctx, class::STRING, "setbit", args.get(1));
        }
    }
    ctx.out.array(replies.len());
    for r in replies {
        match r {
            Some(v) => ctx.out.int(v),
            None => ctx.out.null(),
        }
    }
    Ok(())
}
