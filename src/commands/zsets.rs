//! Sorted set commands (ZADD, ZRANGE, ZUNIONSTORE, ZSCAN, BZPOPMIN, ...).
//!
//! Arguments are parsed and checked in the order Redis 7.0's `t_zset.c` checks them, so
//! the first error a client sees is the one Redis would report. Score and lex ranges are
//! turned into rank ranges (`ZSet::count_prefix`), so every range command is a walk over
//! ranks, O(log n) to find in the large form.

use super::blocking::{self, TimeoutReply};
use super::keyspace::class;
use super::{cmd, err, Args, CmdError, CmdResult, CommandTable, Ctx};
use crate::store::value::Value;
use crate::store::zset::{Limits, ZSet};
use crate::store::{EncodingLimits, Entry, Shard};

pub fn register(t: &mut CommandTable) {
    let cmds = [
        cmd(
            "zadd",
            -4,
            "write denyoom fast",
            &["write", "sortedset", "fast"],
            (1, 1, 1),
            zadd,
        ),
        cmd(
            "zincrby",
            4,
            "write denyoom fast",
            &["write", "sortedset", "fast"],
            (1, 1, 1),
            zincrby,
        ),
        cmd(
            "zrem",
            -3,
            "write fast",
            &["write", "sortedset", "fast"],
            (1, 1, 1),
            zrem,
        ),
        cmd(
            "zscore",
            3,
            "readonly fast",
            &["read", "sortedset", "fast"],
            (1, 1, 1),
            zscore,
        ),
        cmd(
            "zmscore",
            -3,
            "readonly fast",
            &["read", "sortedset", "fast"],
            (1, 1, 1),
            zmscore,
        ),
        cmd(
            "zcard",
            2,
            "readonly fast",
            &["read", "sortedset", "fast"],
            (1, 1, 1),
            zcard,
        ),
        cmd(
            "zcount",
            4,
            "readonly fast",
            &["read", "sortedset", "fast"],
            (1, 1, 1),
            zcount,
        ),
        cmd(
            "zlexcount",
            4,
            "readonly fast",
            &["read", "sortedset", "fast"],
            (1, 1, 1),
            zlexcount,
        ),
        cmd(
            "zrank",
            3,
            "readonly fast",
            &["read", "sortedset", "fast"],
            (1, 1, 1),
            zrank,
        ),
        cmd(
            "zrevrank",
            3,
            "readonly fast",
            &["read", "sortedset", "fast"],
            (1, 1, 1),
            zrevrank,
        ),
        cmd(
            "zrange",
            -4,
            "readonly",
            &["read", "sortedset", "slow"],
            (1, 1, 1),
            zrange,
        ),
        cmd(
            "zrangestore",
            -5,
            "write denyoom",
            &["write", "sortedset", "slow"],
            (1, 2, 1),
            zrangestore,
        ),
        cmd(
            "zrangebyscore",
            -4,
            "readonly",
            &["read", "sortedset", "slow"],
            (1, 1, 1),
            zrangebyscore,
        ),
        cmd(
            "zrevrangebyscore",
            -4,
            "readonly",
            &["read", "sortedset", "slow"],
            (1, 1, 1),
            zrevrangebyscore,
        ),
        cmd(
            "zrangebylex",
            -4,
            "readonly",
            &["read", "sortedset", "slow"],
            (1, 1, 1),
            zrangebylex,
        ),
        cmd(
            "zrevrangebylex",
            -4,
            "readonly",
            &["read", "sortedset", "slow"],
            (1, 1, 1),
            zrevrangebylex,
        ),
        cmd(
            "zrevrange",
            -4,
            "readonly",
            &["read", "sortedset", "slow"],
            (1, 1, 1),
            zrevrange,
        ),
        cmd(
            "zremrangebyrank",
            4,
            "write",
            &["write", "sortedset", "slow"],
            (1, 1, 1),
            zremrangebyrank,
        ),
        cmd(
            "zremrangebyscore",
            4,
            "write",
            &["write", "sortedset", "slow"],
            (1, 1, 1),
            zremrangebyscore,
        ),
        cmd(
            "zremrangebylex",
            4,
            "write",
            &["write", "sortedset", "slow"],
            (1, 1, 1),
            zremrangebylex,
        ),
        cmd(
            "zpopmin",
            -2,
            "write fast",
            &["write", "sortedset", "fast"],
            (1, 1, 1),
            zpopmin,
        ),
        cmd(
            "zpopmax",
            -2,
            "write fast",
            &["write", "sortedset", "fast"],
            (1, 1, 1),
            zpopmax,
        ),
        cmd(
            "zmpop",
            -4,
            "write",
            &["write", "sortedset", "slow"],
            (0, 0, 0),
            zmpop,
        )
        .with_numkeys(1),
        cmd(
            "bzpopmin",
            -3,
            "write noscript blocking fast",
            &["write", "sortedset", "fast", "blocking"],
            (1, -2, 1),
            bzpopmin,
        ),
        cmd(
            "bzpopmax",
            -3,
            "write noscript blocking fast",
            &["write", "sortedset", "fast", "blocking"],
            (1, -2, 1),
            bzpopmax,
        ),
        cmd(
            "bzmpop",
            -5,
            "write blocking",
            &["write", "sortedset", "slow", "blocking"],
            (0, 0, 0),
            bzmpop,
        )
        .with_numkeys(2),
        cmd(
            "zrandmember",
            -2,
            "readonly",
            &["read", "sortedset", "slow"],
            (1, 1, 1),
            zrandmember,
        ),
        cmd(
            "zunion",
            -3,
            "readonly",
            &["read", "sortedset", "slow"],
            (0, 0, 0),
            zunion,
        )
        .with_numkeys(1),
        cmd(
            "zinter",
            -3,
            "readonly",
            &["read", "sortedset", "slow"],
            (0, 0, 0),
            zinter,
        )
        .with_numkeys(1),
        cmd(
            "zdiff",
            -3,
            "readonly",
            &["read", "sortedset", "slow"],
            (0, 0, 0),
            zdiff,
        )
        .with_numkeys(1),
        cmd(
            "zunionstore",
            -4,
            "write denyoom",
            &["write", "sortedset", "slow"],
            (1, 1, 1),
            zunionstore,
        )
        .with_numkeys(2),
        cmd(
            "zinterstore",
            -4,
            "write denyoom",
            &["write", "sortedset", "slow"],
            (1, 1, 1),
            zinterstore,
        )
        .with_numkeys(2),
        cmd(
            "zdiffstore",
            -4,
            "write denyoom",
            &["write", "sortedset", "slow"],
            (1, 1, 1),
            zdiffstore,
        )
        .with_numkeys(2),
        cmd(
            "zintercard",
            -3,
            "readonly",
            &["read", "sortedset", "slow"],
            (0, 0, 0),
            zintercard,
        )
        .with_numkeys(1),
        cmd(
            "zscan",
            -3,
            "readonly",
            &["read", "sortedset", "slow"],
            (1, 1, 1),
            zscan,
        ),
    ];
    for c in cmds {
        t.add(c);
    }
}

const NOT_FLOAT_RANGE: &str = "ERR min or max is not a float";
const NOT_LEX_RANGE: &str = "ERR min or max not valid string range item";
const NAN_RESULT: &str = "ERR resulting score is not a number (NaN)";

// ---------------------------------------------------------------------------------------
// Numbers and ranges
// ---------------------------------------------------------------------------------------

/// C's `strtod` over `s` (which ends at its first NUL, as a C string would): the value,
/// the bytes consumed (0 when nothing converts) and whether it over- or underflowed to
/// zero (`ERANGE` with a HUGE_VAL or zero result).
fn strtod(s: &[u8]) -> (f64, usize, bool) {
    let s = match s.iter().position(|&b| b == 0) {
        Some(n) => &s[..n],
        None => s,
    };
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let num_start = i;
    let neg = i < s.len() && s[i] == b'-';
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        i += 1;
    }
    let rest = &s[i..];
    let lower: Vec<u8> = rest
        .iter()
        .take(8)
        .map(|b| b.to_ascii_lowercase())
        .collect();
    let sign = if neg { -1.0 } else { 1.0 };
    if lower.starts_with(b"infinity") {
        return (sign * f64::INFINITY, i + 8, false);
    }
    if lower.starts_with(b"inf") {
        return (sign * f64::INFINITY, i + 3, false);
    }
    if lower.starts_with(b"nan") {
        let mut end = i + 3;
        if end < s.len() && s[end] == b'(' {
            if let Some(close) = s[end..].iter().position(|&b| b == b')') {
                if s[end + 1..end + close]
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
                {
                    end += close + 1;
                }
            }
        }
        return (f64::NAN, end, false);
    }
    if lower.len() >= 2 && lower[0] == b'0' && lower[1] == b'x' {
        if let Some((v, used)) = hex_float(&s[i + 2..]) {
            return (sign * v, i + 2 + used, v.is_infinite());
        }
        // "0x" with no hex digits converts just the "0".
        return (sign * 0.0, i + 1, false);
    }
    let mut j = i;
    let mut digits = 0;
    let mut nonzero = false;
    while j < s.len() && s[j].is_ascii_digit() {
        nonzero |= s[j] != b'0';
        j += 1;
        digits += 1;
    }
    if j < s.len() && s[j] == b'.' {
        j += 1;
        while j < s.len() && s[j].is_ascii_digit() {
            nonzero |= s[j] != b'0';
            j += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return (0.0, 0, false);
    }
    if j < s.len() && (s[j] == b'e' || s[j] == b'E') {
        let mut k = j + 1;
        if k < s.len() && (s[k] == b'+' || s[k] == b'-') {
            k += 1;
        }
        if k < s.len() && s[k].is_ascii_digit() {
            while k < s.len() && s[k].is_ascii_digit() {
                k += 1;
            }
            j = k;
        }
    }
    let text = std::str::from_utf8(&s[num_start..j]).unwrap_or("0");
    let v: f64 = text.parse().unwrap_or(0.0);
    let erange = v.is_infinite() || (v == 0.0 && nonzero);
    (v, j, erange)
}

/// The value of hex digits `[h*][.h*][p[+-]d+]` after "0x", and the bytes used.
fn hex_float(s: &[u8]) -> Option<(f64, usize)> {
    let mut v = 0.0f64;
    let mut i = 0;
    let mut digits = 0;
    let mut exp: i32 = 0;
    while i < s.len() && s[i].is_ascii_hexdigit() {
        v = v * 16.0 + (s[i] as char).to_digit(16).unwrap_or(0) as f64;
        i += 1;
        digits += 1;
    }
    if i < s.len() && s[i] == b'.' {
        let mut k = i + 1;
        let mut frac = 0;
        while k < s.len() && s[k].is_ascii_hexdigit() {
            v = v * 16.0 + (s[k] as char).to_digit(16).unwrap_or(0) as f64;
            exp -= 4;
            k += 1;
            frac += 1;
        }
        if digits + frac > 0 {
            i = k;
            digits += frac;
        }
    }
    if digits == 0 {
        return None;
    }
    if i < s.len() && (s[i] == b'p' || s[i] == b'P') {
        let mut k = i + 1;
        let eneg = k < s.len() && s[k] == b'-';
        if k < s.len() && (s[k] == b'+' || s[k] == b'-') {
            k += 1;
        }
        if k < s.len() && s[k].is_ascii_digit() {
            let mut e: i32 = 0;
            while k < s.len() && s[k].is_ascii_digit() {
                e = e.saturating_mul(10).saturating_add((s[k] - b'0') as i32);
                k += 1;
            }
            exp = exp.saturating_add(if eneg { -e } else { e });
            i = k;
        }
    }
    Some((v * 2f64.powi(exp), i))
}

/// A score argument as Redis's `getDoubleFromObject`: the whole string, no leading space,
/// no overflow, never NaN.
fn parse_score(s: &[u8]) -> Option<f64> {
    if s.is_empty() || matches!(s[0], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        return None;
    }
    let (v, used, erange) = strtod(s);
    if used != s.len() || erange || v.is_nan() {
        return None;
    }
    Some(v)
}

fn score_arg(s: &[u8]) -> Result<f64, CmdError> {
    parse_score(s).ok_or(CmdError::new(err::NOT_FLOAT))
}

/// A score interval as Redis's `zslParseRange`.
#[derive(Clone, Copy)]
struct ScoreRange {
    min: f64,
    minex: bool,
    max: f64,
    maxex: bool,
}

fn parse_bound(s: &[u8]) -> Option<(f64, bool)> {
    let (ex, body) = match s.first() {
        Some(b'(') => (true, &s[1..]),
        _ => (false, s),
    };
    let (v, used, _) = strtod(body);
    // strtod stops at a NUL, which C sees as the end of the string.
    let end = body.iter().position(|&b| b == 0).unwrap_or(body.len());
    if used != end || v.is_nan() {
        return None;
    }
    Some((v, ex))
}

impl ScoreRange {
    fn parse(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
        let bad = || CmdError::new(NOT_FLOAT_RANGE);
        let (min, minex) = parse_bound(min).ok_or_else(bad)?;
        let (max, maxex) = parse_bound(max).ok_or_else(bad)?;
        Ok(ScoreRange {
            min,
            minex,
            max,
            maxex,
        })
    }

    fn gte_min(&self, v: f64) -> bool {
        if self.minex {
            v > self.min
        } else {
            v >= self.min
        }
    }

    fn lte_max(&self, v: f64) -> bool {
        if self.maxex {
            v < self.max
        } else {
            v <= self.max
        }
    }

    /// The ascending rank interval [start, end) of the elements inside the range.
    fn ranks(&self, z: &ZSet) -> (usize, usize) {
        let start = z.count_prefix(|s, _| !self.gte_min(s));
        let end = z.count_prefix(|s, _| self.lte_max(s));
        (start, end.max(start))
    }
}

/// One end of a lex range: `-`, `+`, `[x` or `(x`.
#[derive(Clone)]
enum LexItem {
    Min,
    Max,
    Value(Vec<u8>, bool),
}

struct LexRange {
    min: LexItem,
    max: LexItem,
}

fn parse_lex_item(s: &[u8]) -> Option<LexItem> {
    match s.first() {
        Some(b'+') if s.len() == 1 => Some(LexItem::Max),
        Some(b'-') if s.len() == 1 => Some(LexItem::Min),
        Some(b'(') => Some(LexItem::Value(s[1..].to_vec(), true)),
        Some(b'[') => Some(LexItem::Value(s[1..].to_vec(), false)),
        _ => None,
    }
}

/// Compares a member with a range end as Redis's `sdscmplex`.
fn cmp_lex(m: &[u8], item: &LexItem) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match item {
        LexItem::Min => Greater,
        LexItem::Max => Less,
        LexItem::Value(v, _) => m.cmp(v),
    }
}

impl LexRange {
    fn parse(min: &[u8], max: &[u8]) -> Result<LexRange, CmdError> {
        let bad = || CmdError::new(NOT_LEX_RANGE);
        Ok(LexRange {
            min: parse_lex_item(min).ok_or_else(bad)?,
            max: parse_lex_item(max).ok_or_else(bad)?,
        })
    }

    fn gte_min(&self, m: &[u8]) -> bool {
        let c = cmp_lex(m, &self.min);
        match self.min {
            LexItem::Value(_, true) | LexItem::Min | LexItem::Max => c.is_gt(),
            LexItem::Value(_, false) => c.is_ge(),
        }
    }

    fn lte_max(&self, m: &[u8]) -> bool {
        let c = cmp_lex(m, &self.max);
        match self.max {
            LexItem::Value(_, true) | LexItem::Min | LexItem::Max => c.is_lt(),
            LexItem::Value(_, false) => c.is_le(),
        }
    }

    /// Redis's `sdscmplex(min, max) > 0`, or equal with an exclusive end: a range no
    /// member can be in.
    fn bounds_empty(&self) -> bool {
        use std::cmp::Ordering::*;
        let c = match (&self.min, &self.max) {
            (LexItem::Min, LexItem::Min) | (LexItem::Max, LexItem::Max) => Equal,
            (LexItem::Min, _) | (_, LexItem::Max) => Less,
            (LexItem::Max, _) | (_, LexItem::Min) => Greater,
            (LexItem::Value(a, _), LexItem::Value(b, _)) => a.as_slice().cmp(b.as_slice()),
        };
        let exclusive = matches!(self.min, LexItem::Value(_, true))
            || matches!(self.max, LexItem::Value(_, true));
        c == Greater || (c == Equal && exclusive)
    }

    /// The walk Redis's listpack code does (`zzlFirstInLexRange`/`zzlLastInLexRange`, then
    /// element by element), which on a zset whose members are not in lex order (mixed
    /// scores) gives answers a binary search would not. Returns (first rank visited,
    /// count), walking down from that rank when `reverse`. `offset` elements are skipped
    /// without being checked, as Redis skips them.
    fn walk_packed(&self, z: &ZSet, reverse: bool, offset: usize, limit: i64) -> (usize, usize) {
        let items = z.collect(0, z.len(), false);
        let len = items.len();
        if len == 0
            || self.bounds_empty()
            || !self.gte_min(&items[len - 1].0)
            || !self.lte_max(&items[0].0)
        {
            return (0, 0);
        }
        let within = |n: usize| limit < 0 || (n as u64) < limit as u64;
        if !reverse {
            let Some(first) = (0..len).find(|&i| self.gte_min(&items[i].0)) else {
                return (0, 0);
            };
            if !self.lte_max(&items[first].0) {
                return (0, 0);
            }
            let from = first.saturating_add(offset);
            let mut n = 0;
            while from + n < len && within(n) && self.lte_max(&items[from + n].0) {
                n += 1;
            }
            (from, n)
        } else {
            let Some(last) = (0..len).rev().find(|&i| self.lte_max(&items[i].0)) else {
                return (0, 0);
            };
            if !self.gte_min(&items[last].0) || offset > last {
                return (0, 0);
            }
            let from = last - offset;
            let mut n = 0;
            while n <= from && within(n) && self.gte_min(&items[from - n].0) {
                n += 1;
            }
            (from, n)
        }
    }

    fn ranks(&self, z: &ZSet) -> (usize, usize) {
        if z.encoding() == "listpack" {
            let (from, n) = self.walk_packed(z, false, 0, -1);
            return (from, from + n);
        }
        let start = z.count_prefix(|_, m| !self.gte_min(m));
        let end = z.count_prefix(|_, m| self.lte_max(m));
        (start, end.max(start))
    }
}

// ---------------------------------------------------------------------------------------
// Store access
// ---------------------------------------------------------------------------------------

fn limits(ctx: &Ctx) -> Limits {
    let l = &ctx.shared.limits;
    let get = |a| EncodingLimits::get(a).max(0) as usize;
    Limits {
        entries: get(&l.zset_max_listpack_entries),
        value: get(&l.zset_max_listpack_value),
    }
}

/// The sorted set of an entry, or WRONGTYPE.
fn zset_of(e: &mut Entry) -> Result<&mut ZSet, CmdError> {
    e.zset_mut().ok_or(CmdError::new(err::WRONGTYPE))
}

/// Read access to the sorted set at `key`: `f(None)` when the key is absent.
fn read<R>(
    ctx: &mut Ctx,
    key: &[u8],
    f: impl FnOnce(&mut Ctx, Option<&ZSet>) -> Result<R, CmdError>,
) -> Result<R, CmdError> {
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    match shard.lookup_read(h, key, ctx.now(), ctx.clock()) {
        None => f(ctx, None),
        Some(e) => {
            let z = zset_of(e)?;
            f(ctx, Some(z))
        }
    }
}

/// Removes `key` if its sorted set became empty, as Redis deletes emptied collections.
/// True if it did.
fn drop_if_empty(shard: &mut Shard, h: u64, key: &[u8], now: u64) -> bool {
    let empty = shard
        .get_mut(h, key, now)
        .is_some_and(|e| e.zset().is_some_and(|z| z.is_empty()));
    if empty {
        shard.remove(h, key, now);
    }
    empty
}

fn new_entry(ctx: &Ctx, key: &[u8], z: ZSet) -> Entry {
    Entry::new(key, Value::ZSet(Box::new(z)), 0, ctx.clock())
}

/// Writes one element of a range reply.
fn emit(ctx: &mut Ctx, m: &[u8], s: f64, withscores: bool) {
    if withscores && ctx.out.resp3 {
        ctx.out.array(2);
    }
    ctx.out.bulk(m);
    if withscores {
        ctx.out.double(s);
    }
}

/// The array header of a range reply of `n` elements.
fn range_header(ctx: &mut Ctx, n: usize, withscores: bool) {
    let resp3 = ctx.out.resp3;
    ctx.out.array(if withscores && !resp3 { n * 2 } else { n });
}

// ---------------------------------------------------------------------------------------
// ZADD / ZINCRBY / ZREM
// ---------------------------------------------------------------------------------------

#[derive(Default, Clone, Copy)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

fn zadd(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let mut f = AddFlags::default();
    let mut i = 2;
    while i < args.len() {
        let a = args.get(i).to_ascii_lowercase();
        match a.as_slice() {
            b"nx" => f.nx = true,
            b"xx" => f.xx = true,
            b"gt" => f.gt = true,
            b"lt" => f.lt = true,
            b"ch" => f.ch = true,
            b"incr" => f.incr = true,
            _ => break,
        }
        i += 1;
    }
    add_generic(ctx, args, i, f)
}

fn zincrby(ctx: &mut Ctx, args: &Args) -> CmdResult {
    add_generic(
        ctx,
        args,
        2,
        AddFlags {
            incr: true,
            ..AddFlags::default()
        },
    )
}

fn add_generic(ctx: &mut Ctx, args: &Args, scoreidx: usize, f: AddFlags) -> CmdResult {
    let elements = args.len() - scoreidx;
    if !elements.is_multiple_of(2) || elements == 0 {
        return Err(CmdError::new(err::SYNTAX));
    }
    let elements = elements / 2;
    if f.nx && f.xx {
        return Err(CmdError::new(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if (f.nx && (f.gt || f.lt)) || (f.gt && f.lt) {
        return Err(CmdError::new(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if f.incr && elements > 1 {
        return Err(CmdError::new(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    let mut scores = Vec::with_capacity(elements);
    for j in 0..elements {
        scores.push(score_arg(args.get(scoreidx + j * 2))?);
    }
    let key = args.get(1);
    let lim = limits(ctx);
    let store = ctx.store();
    let h = store.hash(key);
    let now = ctx.now();
    let db = ctx.db();
    let mut shard = store.lock(db, h);
    let exists = match shard.lookup_write(h, key, now, ctx.clock()) {
        Some(e) => {
            zset_of(e)?;
            true
        }
        None => false,
    };
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0);
    let mut last = 0.0;
    if exists || !f.xx {
        if !exists {
            shard.insert_new(h, new_entry(ctx, key, ZSet::new()), &store.entry_hasher());
            ctx.notify(class::NEW, "new", db, key);
        }
        let Some(e) = shard.get_mut(h, key, now) else {
            return Err(CmdError::new("ERR no such key"));
        };
        let z = zset_of(e)?;
        for (j, &score) in scores.iter().enumerate() {
            let m = args.get(scoreidx + 1 + j * 2);
            match z.score(m) {
                Some(cur) => {
                    if f.nx {
                        continue;
                    }
                    let mut score = score;
                    if f.incr {
                        score += cur;
                        if score.is_nan() {
                            drop_if_empty(&mut shard, h, key, now);
                            return Err(CmdError::new(NAN_RESULT));
                        }
                    }
                    if (f.lt && score >= cur) || (f.gt && score <= cur) {
                        continue;
                    }
                    last = score;
                    processed += 1;
                    if score != cur {
                        z.set_score(m, score);
                        updated += 1;
                    }
                }
                None => {
                    if f.xx {
                        continue;
                    }
                    z.insert(m, score, lim);
                    last = score;
                    added += 1;
                    processed += 1;
                }
            }
        }
    }
    drop(shard);
    if added > 0 || updated > 0 {
        ctx.modified(db, key);
        let event = if f.incr { "zincr" } else { "zadd" };
        ctx.notify(class::ZSET, event, db, key);
    }
    if f.incr {
        if processed > 0 {
            ctx.out.double(last);
        } else {
            ctx.out.null();
        }
    } else {
        ctx.out.int(if f.ch { added + updated } else { added });
    }
    Ok(())
}

fn zrem(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let key = args.get(1);
    let store = ctx.store();
    let h = store.hash(key);
    let now = ctx.now();
    let mut shard = store.lock(ctx.db(), h);
    let Some(e) = shard.lookup_write(h, key, now, ctx.clock()) else {
        ctx.out.int(0);
        return Ok(());
    };
    let z = zset_of(e)?;
    let mut deleted = 0;
    for m in args.iter_from(2) {
        if z.remove(m).is_some() {
            deleted += 1;
        }
        if z.is_empty() {
            break;
        }
    }
    let removed = drop_if_empty(&mut shard, h, key, now);
    if deleted > 0 {
        let db = ctx.db();
        ctx.notify(class::ZSET, "zrem", db, key);
        if removed {
            ctx.notify(class::GENERIC, "del", db, key);
        }
        ctx.modified(db, key);
    }
    ctx.out.int(deleted);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Point reads
// ---------------------------------------------------------------------------------------

fn zscore(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let m = args.get(2);
    read(ctx, args.get(1), |ctx, z| {
        match z.and_then(|z| z.score(m)) {
            Some(s) => ctx.out.double(s),
            None => ctx.out.null(),
        }
        Ok(())
    })
}

fn zmscore(ctx: &mut Ctx, args: &Args) -> CmdResult {
    read(ctx, args.get(1), |ctx, z| {
        ctx.out.array(args.len() - 2);
        for m in args.iter_from(2) {
            match z.and_then(|z| z.score(m)) {
                Some(s) => ctx.out.double(s),
                None => ctx.out.null(),
            }
        }
        Ok(())
    })
}

fn zcard(ctx: &mut Ctx, args: &Args) -> CmdResult {
    read(ctx, args.get(1), |ctx, z| {
        ctx.out.int(z.map_or(0, |z| z.len()) as i64);
        Ok(())
    })
}

fn zcount(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let range = ScoreRange::parse(args.get(2), args.get(3))?;
    read(ctx, args.get(1), |ctx, z| {
        let n = z.map_or(0, |z| {
            let (s, e) = range.ranks(z);
            e - s
        });
        ctx.out.int(n as i64);
        Ok(())
    })
}

fn zlexcount(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let range = LexRange::parse(args.get(2), args.get(3))?;
    read(ctx, args.get(1), |ctx, z| {
        let n = z.map_or(0, |z| {
            let (s, e) = range.ranks(z);
            e - s
        });
        ctx.out.int(n as i64);
        Ok(())
    })
}

fn rank_generic(ctx: &mut Ctx, args: &Args, rev: bool) -> CmdResult {
    let m = args.get(2);
    read(ctx, args.get(1), |ctx, z| {
        match z.and_then(|z| z.rank(m).map(|(r, _)| (r, z.len()))) {
            Some((r, len)) => ctx.out.int(if rev { len - 1 - r } else { r } as i64),
            None => ctx.out.null(),
        }
        Ok(())
    })
}

fn zrank(ctx: &mut Ctx, args: &Args) -> CmdResult {
    rank_generic(ctx, args, false)
}

fn zrevrank(ctx: &mut Ctx, args: &Args) -> CmdResult {
    rank_generic(ctx, args, true)
}

// ---------------------------------------------------------------------------------------
// ZRANGE and its older forms
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum RangeType {
    Auto,
    Rank,
    Score,
    Lex,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Auto,
    Forward,
    Reverse,
}

enum Range {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

struct RangeSpec {
    range: Range,
    reverse: bool,
    withscores: bool,
    offset: i64,
    limit: i64,
}

/// Parses ZRANGE-style arguments from `key` at `argc_start` (Redis's zrangeGenericCommand).
fn parse_range(
    args: &Args,
    argc_start: usize,
    store: bool,
    mut rangetype: RangeType,
    mut direction: Direction,
) -> Result<RangeSpec, CmdError> {
    let mut minidx = argc_start + 1;
    let mut maxidx = argc_start + 2;
    let mut withscores = false;
    let mut offset = 0i64;
    let mut limit = -1i64;
    let mut j = argc_start + 3;
    while j < args.len() {
        let left = args.len() - j - 1;
        if !store && args.is(j, "withscores") {
            withscores = true;
        } else if args.is(j, "limit") && left >= 2 {
            offset = args.int(j + 1)?;
            limit = args.int(j + 2)?;
            j += 2;
        } else if direction == Direction::Auto && args.is(j, "rev") {
            direction = Direction::Reverse;
        } else if rangetype == RangeType::Auto && args.is(j, "bylex") {
            rangetype = RangeType::Lex;
        } else if rangetype == RangeType::Auto && args.is(j, "byscore") {
            rangetype = RangeType::Score;
        } else {
            return Err(CmdError::new(err::SYNTAX));
        }
        j += 1;
    }
    if direction == Direction::Auto {
        direction = Direction::Forward;
    }
    if rangetype == RangeType::Auto {
        rangetype = RangeType::Rank;
    }
    if limit != -1 && rangetype == RangeType::Rank {
        return Err(CmdError::new(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && rangetype == RangeType::Lex {
        return Err(CmdError::new(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let reverse = direction == Direction::Reverse;
    if reverse && rangetype != RangeType::Rank {
        std::mem::swap(&mut minidx, &mut maxidx);
    }
    let range = match rangetype {
        RangeType::Score => Range::Score(ScoreRange::parse(args.get(minidx), args.get(maxidx))?),
        RangeType::Lex => Range::Lex(LexRange::parse(args.get(minidx), args.get(maxidx))?),
        _ => Range::Rank(args.int(minidx)?, args.int(maxidx)?),
    };
    Ok(RangeSpec {
        range,
        reverse,
        withscores,
        offset,
        limit,
    })
}

/// The elements a range selects as (first ascending rank to visit, count, walk downwards).
fn select(spec: &RangeSpec, z: &ZSet) -> (usize, usize) {
    let len = z.len();
    if let Range::Lex(r) = &spec.range {
        if z.encoding() == "listpack" {
            if spec.offset < 0 || (spec.offset > 0 && spec.offset as u64 >= len as u64) {
                return (0, 0);
            }
            return r.walk_packed(z, spec.reverse, spec.offset as usize, spec.limit);
        }
    }
    let (start, end) = match &spec.range {
        Range::Rank(a, b) => {
            return match crate::util::index_range(*a, *b, len) {
                None => (0, 0),
                Some((s, e)) => {
                    if spec.reverse {
                        (len - 1 - s, e - s)
                    } else {
                        (s, e - s)
                    }
                }
            };
        }
        Range::Score(r) => r.ranks(z),
        Range::Lex(r) => r.ranks(z),
    };
    // LIMIT: a negative offset walks off the end (nothing), a negative count means all.
    if spec.offset < 0 || (spec.offset > 0 && spec.offset as u64 >= len as u64) {
        return (0, 0);
    }
    let inside = end - start;
    let offset = spec.offset as usize;
    if offset >= inside {
        return (0, 0);
    }
    let n = inside - offset;
    let n = if spec.limit < 0 {
        n
    } else {
        n.min(spec.limit as usize)
    };
    if spec.reverse {
        (end - 1 - offset, n)
    } else {
        (start + offset, n)
    }
}

fn range_generic(
    ctx: &mut Ctx,
    args: &Args,
    rangetype: RangeType,
    direction: Direction,
) -> CmdResult {
    let spec = parse_range(args, 1, false, rangetype, direction)?;
    read(ctx, args.get(1), |ctx, z| {
        let Some(z) = z else {
            ctx.out.array(0);
            return Ok(());
        };
        let (from, n) = select(&spec, z);
        range_header(ctx, n, spec.withscores);
        if n > 0 {
            let ws = spec.withscores;
            let resp3 = ctx.out.resp3;
            let out = &mut *ctx.out;
            z.visit(from, n, spec.reverse, |m, s| {
                if ws && resp3 {
                    out.array(2);
                }
                out.bulk(m);
                if ws {
                    out.double(s);
                }
            });
        }
        Ok(())
    })
}

fn zrange(ctx: &mut Ctx, args: &Args) -> CmdResult {
    range_generic(ctx, args, RangeType::Auto, Direction::Auto)
}

fn zrevrange(ctx: &mut Ctx, args: &Args) -> CmdResult {
    range_generic(ctx, args, RangeType::Rank, Direction::Reverse)
}

fn zrangebyscore(ctx: &mut Ctx, args: &Args) -> CmdResult {
    range_generic(ctx, args, RangeType::Score, Direction::Forward)
}

fn zrevrangebyscore(ctx: &mut Ctx, args: &Args) -> CmdResult {
    range_generic(ctx, args, RangeType::Score, Direction::Reverse)
}

fn zrangebylex(ctx: &mut Ctx, args: &Args) -> CmdResult {
    range_generic(ctx, args, RangeType::Lex, Direction::Forward)
}

fn zrevrangebylex(ctx: &mut Ctx, args: &Args) -> CmdResult {
    range_generic(ctx, args, RangeType::Lex, Direction::Reverse)
}

/// Replaces `dst` with a sorted set built from `items` (deleting it when there are none)
/// and replies with the count, as the *STORE commands do; `event` is the keyspace event
/// of a store ("zunionstore", ...).
fn store_result(
    ctx: &mut Ctx,
    shard: &mut Shard,
    dst: &[u8],
    items: Vec<(Vec<u8>, f64)>,
    event: &'static str,
) {
    let store = ctx.store();
    let db = ctx.db();
    let h = store.hash(dst);
    let n = items.len();
    if n == 0 {
        if shard.remove(h, dst, ctx.now()).is_some() {
            ctx.modified(db, dst);
            ctx.notify(class::GENERIC, "del", db, dst);
        }
    } else {
        let z = ZSet::from_entries(items, limits(ctx));
        let old = shard.insert(h, new_entry(ctx, dst, z), ctx.now(), &store.entry_hasher());
        // Redis's setKey: dbAdd ("new") or an overwrite, then the signal.
        if old.is_none() {
            ctx.notify(class::NEW, "new", db, dst);
        }
        ctx.modified(db, dst);
        ctx.notify(class::ZSET, event, db, dst);
    }
    ctx.out.int(n as i64);
}

fn zrangestore(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let spec = parse_range(args, 2, true, RangeType::Auto, Direction::Auto)?;
    let (dst, src) = (args.get(1), args.get(2));
    let store = ctx.store();
    let db = ctx.db();
    let (hd, hs) = (store.hash(dst), store.hash(src));
    let mut locked = store.lock_many([(db, hd), (db, hs)]);
    let items = {
        let shard = locked.shard(store, db, hs);
        match shard.lookup_read(hs, src, ctx.now(), ctx.clock()) {
            None => Vec::new(),
            Some(e) => {
                let z = zset_of(e)?;
                let (from, n) = select(&spec, z);
                z.collect(from, n, spec.reverse)
            }
        }
    };
    let shard = locked.shard(store, db, hd);
    store_result(ctx, shard, dst, items, "zrangestore");
    Ok(())
}

// ---------------------------------------------------------------------------------------
// ZREMRANGEBY*
// ---------------------------------------------------------------------------------------

fn remrange_generic(ctx: &mut Ctx, args: &Args, rangetype: RangeType) -> CmdResult {
    let range = match rangetype {
        RangeType::Score => Range::Score(ScoreRange::parse(args.get(2), args.get(3))?),
        RangeType::Lex => Range::Lex(LexRange::parse(args.get(2), args.get(3))?),
        _ => Range::Rank(args.int(2)?, args.int(3)?),
    };
    let key = args.get(1);
    let store = ctx.store();
    let h = store.hash(key);
    let now = ctx.now();
    let mut shard = store.lock(ctx.db(), h);
    let Some(e) = shard.lookup_write(h, key, now, ctx.clock()) else {
        ctx.out.int(0);
        return Ok(());
    };
    let z = zset_of(e)?;
    let (start, end) = match &range {
        Range::Rank(a, b) => crate::util::index_range(*a, *b, z.len()).unwrap_or((0, 0)),
        Range::Score(r) => r.ranks(z),
        Range::Lex(r) => r.ranks(z),
    };
    let n = if end > start {
        z.remove_ranks(start, end - start)
    } else {
        0
    };
    let removed = drop_if_empty(&mut shard, h, key, now);
    if n > 0 {
        let event = match rangetype {
            RangeType::Score => "zremrangebyscore",
            RangeType::Lex => "zremrangebylex",
            _ => "zremrangebyrank",
        };
        let db = ctx.db();
        ctx.modified(db, key);
        ctx.notify(class::ZSET, event, db, key);
        if removed {
            ctx.notify(class::GENERIC, "del", db, key);
        }
    }
    ctx.out.int(n as i64);
    Ok(())
}

fn zremrangebyrank(ctx: &mut Ctx, args: &Args) -> CmdResult {
    remrange_generic(ctx, args, RangeType::Rank)
}

fn zremrangebyscore(ctx: &mut Ctx, args: &Args) -> CmdResult {
    remrange_generic(ctx, args, RangeType::Score)
}

fn zremrangebylex(ctx: &mut Ctx, args: &Args) -> CmdResult {
    remrange_generic(ctx, args, RangeType::Lex)
}

// ---------------------------------------------------------------------------------------
// Pops
// ---------------------------------------------------------------------------------------

/// How a pop replies (Redis's genericZpopCommand arguments).
#[derive(Clone, Copy)]
struct PopReply {
    emitkey: bool,
    nested: bool,
    nil_when_empty: bool,
}

/// Pops from the first of `keys` that exists. Returns false, writing nothing, when none
/// does and `may_block` (the caller blocks); otherwise replies.
fn pop_generic(
    ctx: &mut Ctx,
    keys: &[&[u8]],
    max: bool,
    count: i64,
    how: PopReply,
    may_block: bool,
) -> Result<bool, CmdError> {
    let store = ctx.store();
    let db = ctx.db();
    let now = ctx.now();
    let hashes: Vec<u64> = keys.iter().map(|k| store.hash(k)).collect();
    let mut locked = store.lock_many(hashes.iter().map(|&h| (db, h)));
    for (key, &h) in keys.iter().zip(&hashes) {
        let shard = locked.shard(store, db, h);
        let Some(e) = shard.lookup_write(h, key, now, ctx.clock()) else {
            continue;
        };
        let z = zset_of(e)?;
        if count == 0 {
            ctx.out.array(0);
            return Ok(true);
        }
        let count = if count < 0 { 1 } else { count as usize };
        let items = z.pop(count, max);
        let n = items.len();
        let event = if max { "zpopmax" } else { "zpopmin" };
        ctx.notify(class::ZSET, event, db, key);
        if drop_if_empty(shard, h, key, now) {
            ctx.notify(class::GENERIC, "del", db, key);
        }
        ctx.modified(db, key);
        let out = &mut *ctx.out;
        match (how.nested, how.emitkey) {
            (false, false) => out.array(n * 2),
            (true, false) => out.array(n),
            (false, true) => {
                out.array(n * 2 + 1);
                out.bulk(key);
            }
            (true, true) => {
                out.array(2);
                out.bulk(key);
                out.array(n);
            }
        }
        for (m, s) in &items {
            if how.nested {
                out.array(2);
            }
            out.bulk(m);
            out.double(*s);
        }
        return Ok(true);
    }
    if may_block {
        return Ok(false);
    }
    if how.nil_when_empty {
        ctx.out.null_array();
    } else {
        ctx.out.array(0);
    }
    Ok(true)
}

/// A count that must be positive, with Redis's `getPositiveLongFromObjectOrReply` text.
fn positive_count(a: &[u8]) -> Result<i64, CmdError> {
    match crate::util::parse_i64(a) {
        Some(n) if n >= 0 => Ok(n),
        _ => Err(CmdError::new("ERR value is out of range, must be positive")),
    }
}

fn zpop_minmax(ctx: &mut Ctx, args: &Args, max: bool) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::new(err::SYNTAX));
    }
    let count = if args.len() == 3 {
        positive_count(args.get(2))?
    } else {
        -1
    };
    let how = PopReply {
        emitkey: false,
        nested: ctx.out.resp3 && count != -1,
        nil_when_empty: false,
    };
    pop_generic(ctx, &[args.get(1)], max, count, how, false)?;
    Ok(())
}

fn zpopmin(ctx: &mut Ctx, args: &Args) -> CmdResult {
    zpop_minmax(ctx, args, false)
}

fn zpopmax(ctx: &mut Ctx, args: &Args) -> CmdResult {
    zpop_minmax(ctx, args, true)
}

/// A count in 1..=LONG_MAX with a custom error (Redis's getRangeLongFromObjectOrReply).
fn count_at_least_one(a: &[u8], msg: &'static str) -> Result<i64, CmdError> {
    match crate::util::parse_i64(a) {
        Some(n) if n >= 1 => Ok(n),
        _ => Err(CmdError::new(msg)),
    }
}

/// Parses `numkeys key... MIN|MAX [COUNT n]` from `idx`: (keys, max, count).
fn parse_mpop<'a>(args: &Args<'a>, idx: usize) -> Result<(Vec<&'a [u8]>, bool, i64), CmdError> {
    let numkeys = count_at_least_one(args.get(idx), "ERR numkeys should be greater than 0")?;
    let where_idx = (idx as u64)
        .saturating_add(numkeys as u64)
        .saturating_add(1);
    if where_idx >= args.len() as u64 {
        return Err(CmdError::new(err::SYNTAX));
    }
    let where_idx = where_idx as usize;
    let max = if args.is(where_idx, "min") {
        false
    } else if args.is(where_idx, "max") {
        true
    } else {
        return Err(CmdError::new(err::SYNTAX));
    };
    let mut count = -1;
    let mut j = where_idx + 1;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if count == -1 && args.is(j, "count") && more > 0 {
            j += 1;
            count = count_at_least_one(args.get(j), "ERR count should be greater than 0")?;
        } else {
            return Err(CmdError::new(err::SYNTAX));
        }
        j += 1;
    }
    if count == -1 {
        count = 1;
    }
    let keys = (idx + 1..where_idx).map(|i| args.get(i)).collect();
    Ok((keys, max, count))
}

const MPOP_REPLY: PopReply = PopReply {
    emitkey: true,
    nested: true,
    nil_when_empty: true,
};

fn zmpop(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let (keys, max, count) = parse_mpop(args, 1)?;
    pop_generic(ctx, &keys, max, count, MPOP_REPLY, false)?;
    Ok(())
}

fn bzmpop(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let (keys, max, count) = parse_mpop(args, 2)?;
    let timeout = blocking::parse_timeout(args.get(1))?;
    if pop_generic(ctx, &keys, max, count, MPOP_REPLY, true)? {
        return Ok(());
    }
    let keys = keys.iter().map(|k| k.to_vec()).collect();
    blocking::block(ctx, args, keys, timeout, TimeoutReply::NullArray)
}

fn bzpop_generic(ctx: &mut Ctx, args: &Args, max: bool) -> CmdResult {
    let timeout = blocking::parse_timeout(args.get(args.len() - 1))?;
    let keys: Vec<&[u8]> = (1..args.len() - 1).map(|i| args.get(i)).collect();
    let how = PopReply {
        emitkey: true,
        nested: false,
        nil_when_empty: false,
    };
    if pop_generic(ctx, &keys, max, -1, how, true)? {
        return Ok(());
    }
    let keys = keys.iter().map(|k| k.to_vec()).collect();
    blocking::block(ctx, args, keys, timeout, TimeoutReply::NullArray)
}

fn bzpopmin(ctx: &mut Ctx, args: &Args) -> CmdResult {
    bzpop_generic(ctx, args, false)
}

fn bzpopmax(ctx: &mut Ctx, args: &Args) -> CmdResult {
    bzpop_generic(ctx, args, true)
}

// ---------------------------------------------------------------------------------------
// ZRANDMEMBER
// ---------------------------------------------------------------------------------------

fn zrandmember(ctx: &mut Ctx, args: &Args) -> CmdResult {
    use rand::Rng;
    if args.len() >= 3 {
        let l = match crate::util::parse_i64(args.get(2)) {
            None => return Err(CmdError::new(err::NOT_INT)),
            Some(i64::MIN) => {
                return Err(CmdError::new(
                    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
                ))
            }
            Some(l) => l,
        };
        let withscores = if args.len() > 4 || (args.len() == 4 && !args.is(3, "withscores")) {
            return Err(CmdError::new(err::SYNTAX));
        } else if args.len() == 4 {
            if !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
                return Err(CmdError::new("ERR value is out of range"));
            }
            true
        } else {
            false
        };
        return read(ctx, args.get(1), |ctx, z| {
            let Some(z) = z else {
                ctx.out.array(0);
                return Ok(());
            };
            let size = z.len();
            let (count, uniq) = if l >= 0 {
                (l as u64, true)
            } else {
                (l.unsigned_abs(), false)
            };
            if count == 0 {
                ctx.out.array(0);
                return Ok(());
            }
            let mut rng = rand::rng();
            if !uniq || count == 1 {
                range_header(ctx, count as usize, withscores);
                for _ in 0..count {
                    let r = rng.random_range(0..size);
                    z.visit(r, 1, false, |m, s| emit_to(ctx.out, m, s, withscores));
                }
                return Ok(());
            }
            if count >= size as u64 {
                // Everything, in the order Redis's set-operation iterator yields it:
                // from the highest element down.
                range_header(ctx, size, withscores);
                z.visit(size - 1, size, true, |m, s| {
                    emit_to(ctx.out, m, s, withscores)
                });
                return Ok(());
            }
            let count = count as usize;
            let picks = rand::seq::index::sample(&mut rng, size, count);
            range_header(ctx, count, withscores);
            for r in picks.iter() {
                z.visit(r, 1, false, |m, s| emit_to(ctx.out, m, s, withscores));
            }
            Ok(())
        });
    }
    read(ctx, args.get(1), |ctx, z| {
        match z {
            None => ctx.out.null(),
            Some(z) => {
                let r = rand::rng().random_range(0..z.len());
                z.visit(r, 1, false, |m, _| ctx.out.bulk(m));
            }
        }
        Ok(())
    })
}

fn emit_to(out: &mut crate::protocol::ReplyBuf, m: &[u8], s: f64, withscores: bool) {
    if withscores && out.resp3 {
        out.array(2);
    }
    out.bulk(m);
    if withscores {
        out.double(s);
    }
}

// ---------------------------------------------------------------------------------------
// ZUNION / ZINTER / ZDIFF (and STORE, ZINTERCARD)
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

fn aggregate(target: &mut f64, v: f64, how: Aggregate) {
    match how {
        Aggregate::Sum => {
            *target += v;
            // inf + -inf: Redis keeps the convention that the result is 0.
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if v < *target {
                *target = v
            }
        }
        Aggregate::Max => {
            if v > *target {
                *target = v
            }
        }
    }
}

/// An input of a set operation, copied out under the locks: a sorted set's elements or a
/// set's members (score 1).
struct Source {
    items: Vec<(Vec<u8>, f64)>,
    index: hashbrown::HashMap<Vec<u8>, f64>,
    weight: f64,
}

impl Source {
    fn get(&self, m: &[u8]) -> Option<f64> {
        self.index.get(m).copied()
    }
}

/// The members of a set input (each counts with score 1, as in Redis).
fn set_members(s: &crate::store::set::Set) -> Vec<Vec<u8>> {
    s.iter().map(|m| m.to_vec()).collect()
}

/// Parses and runs a set operation (Redis's zunionInterDiffGenericCommand).
fn setop_generic(
    ctx: &mut Ctx,
    args: &Args,
    dst: Option<&[u8]>,
    numkeys_idx: usize,
    op: SetOp,
    cardinality_only: bool,
) -> CmdResult {
    let setnum = args.int(numkeys_idx)?;
    if setnum < 1 {
        let name = String::from_utf8_lossy(args.get(0)).to_ascii_lowercase();
        return Err(CmdError::from(format!(
            "ERR at least 1 input key is needed for '{}' command",
            name
        )));
    }
    if setnum as u64 > (args.len() - (numkeys_idx + 1)) as u64 {
        return Err(CmdError::new(err::SYNTAX));
    }
    let setnum = setnum as usize;
    let keys: Vec<&[u8]> = (0..setnum).map(|i| args.get(numkeys_idx + 1 + i)).collect();
    let store = ctx.store();
    let db = ctx.db();
    let now = ctx.now();
    let mut hashes: Vec<u64> = keys.iter().map(|k| store.hash(k)).collect();
    if let Some(d) = dst {
        hashes.push(store.hash(d));
    }
    let mut locked = store.lock_many(hashes.iter().map(|&h| (db, h)));
    // Inputs are checked for their type before the options are parsed, as in Redis.
    let mut sources = Vec::with_capacity(setnum);
    for (i, key) in keys.iter().enumerate() {
        let shard = locked.shard(store, db, hashes[i]);
        let items = match shard.lookup_read(hashes[i], key, now, ctx.clock()) {
            None => Vec::new(),
            Some(e) => match &*e.value() {
                Value::ZSet(z) => z.collect(0, z.len(), false),
                Value::Set(s) => set_members(s).into_iter().map(|m| (m, 1.0)).collect(),
                _ => return Err(CmdError::new(err::WRONGTYPE)),
            },
        };
        sources.push(Source {
            items,
            index: hashbrown::HashMap::new(),
            weight: 1.0,
        });
    }
    let mut how = Aggregate::Sum;
    let mut withscores = false;
    let mut limit = 0i64;
    let mut j = numkeys_idx + 1 + setnum;
    while j < args.len() {
        let remaining = args.len() - j;
        if op != SetOp::Diff && !cardinality_only && remaining > setnum && args.is(j, "weights") {
            j += 1;
            for s in sources.iter_mut() {
                s.weight = parse_score(args.get(j))
                    .ok_or(CmdError::new("ERR weight value is not a float"))?;
                j += 1;
            }
        } else if op != SetOp::Diff
            && !cardinality_only
            && remaining >= 2
            && args.is(j, "aggregate")
        {
            how = if args.is(j + 1, "sum") {
                Aggregate::Sum
            } else if args.is(j + 1, "min") {
                Aggregate::Min
            } else if args.is(j + 1, "max") {
                Aggregate::Max
            } else {
                return Err(CmdError::new(err::SYNTAX));
            };
            j += 2;
        } else if dst.is_none() && !cardinality_only && args.is(j, "withscores") {
            withscores = true;
            j += 1;
        } else if cardinality_only && remaining >= 2 && args.is(j, "limit") {
            limit = match crate::util::parse_i64(args.get(j + 1)) {
                Some(n) if n >= 0 => n,
                _ => return Err(CmdError::new("ERR LIMIT can't be negative")),
            };
            j += 2;
        } else {
            return Err(CmdError::new(err::SYNTAX));
        }
    }

    let mut result: Vec<(Vec<u8>, f64)> = Vec::new();
    let mut cardinality = 0i64;
    match op {
        SetOp::Inter => {
            // Smallest input first, as Redis orders them (aggregation order included).
            sources.sort_by_key(|s| s.items.len());
            for s in sources.iter_mut().skip(1) {
                s.index = s.items.iter().cloned().collect();
            }
            if !sources[0].items.is_empty() {
                let (first, rest) = sources.split_at(1);
                for (m, sc) in &first[0].items {
                    let mut score = first[0].weight * sc;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    let mut all = true;
                    for s in rest {
                        match s.get(m) {
                            Some(v) => aggregate(&mut score, v * s.weight, how),
                            None => {
                                all = false;
                                break;
                            }
                        }
                    }
                    if !all {
                        continue;
                    }
                    if cardinality_only {
                        cardinality += 1;
                        if limit > 0 && cardinality >= limit {
                            break;
                        }
                    } else {
                        result.push((m.clone(), score));
                    }
                }
            }
        }
        SetOp::Union => {
            sources.sort_by_key(|s| s.items.len());
            let mut acc: hashbrown::HashMap<Vec<u8>, f64> = hashbrown::HashMap::new();
            for s in &sources {
                for (m, sc) in &s.items {
                    let mut score = s.weight * sc;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    match acc.get_mut(m) {
                        Some(t) => aggregate(t, score, how),
                        None => {
                            acc.insert(m.clone(), score);
                        }
                    }
                }
            }
            result = acc.into_iter().collect();
        }
        SetOp::Diff => {
            for s in sources.iter_mut().skip(1) {
                s.index = s.items.iter().cloned().collect();
            }
            let (first, rest) = sources.split_at(1);
            for (m, sc) in &first[0].items {
                if !rest.iter().any(|s| s.get(m).is_some()) {
                    result.push((m.clone(), *sc));
                }
            }
        }
    }

    if let Some(d) = dst {
        let hd = *hashes.last().unwrap_or(&0);
        let shard = locked.shard(store, db, hd);
        let event = match op {
            SetOp::Union => "zunionstore",
            SetOp::Inter => "zinterstore",
            SetOp::Diff => "zdiffstore",
        };
        store_result(ctx, shard, d, result, event);
        return Ok(());
    }
    drop(locked);
    if cardinality_only {
        ctx.out.int(cardinality);
        return Ok(());
    }
    result.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.0.cmp(&b.0))
    });
    range_header(ctx, result.len(), withscores);
    for (m, s) in &result {
        emit(ctx, m, *s, withscores);
    }
    Ok(())
}

fn zunion(ctx: &mut Ctx, args: &Args) -> CmdResult {
    setop_generic(ctx, args, None, 1, SetOp::Union, false)
}

fn zinter(ctx: &mut Ctx, args: &Args) -> CmdResult {
    setop_generic(ctx, args, None, 1, SetOp::Inter, false)
}

fn zdiff(ctx: &mut Ctx, args: &Args) -> CmdResult {
    setop_generic(ctx, args, None, 1, SetOp::Diff, false)
}

fn zintercard(ctx: &mut Ctx, args: &Args) -> CmdResult {
    setop_generic(ctx, args, None, 1, SetOp::Inter, true)
}

fn zunionstore(ctx: &mut Ctx, args: &Args) -> CmdResult {
    setop_generic(ctx, args, Some(args.get(1)), 2, SetOp::Union, false)
}

fn zinterstore(ctx: &mut Ctx, args: &Args) -> CmdResult {
    setop_generic(ctx, args, Some(args.get(1)), 2, SetOp::Inter, false)
}

fn zdiffstore(ctx: &mut Ctx, args: &Args) -> CmdResult {
    setop_generic(ctx, args, Some(args.get(1)), 2, SetOp::Diff, false)
}

// ---------------------------------------------------------------------------------------
// ZSCAN
// ---------------------------------------------------------------------------------------

/// A score as Redis's `d2string` writes it (ZSCAN): integral values in `double2ll`'s
/// range as integers (so -0 is "0"), others as replies format doubles.
fn d2string(s: f64) -> String {
    match crate::store::zset::as_listpack_int(s) {
        Some(i) => i.to_string(),
        None => crate::util::format_double(s),
    }
}

fn zscan(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let opts = super::keys::parse_collection_scan(args)?;
    read(ctx, args.get(1), |ctx, z| {
        let mut items: Vec<(Vec<u8>, f64)> = Vec::new();
        // A listpack hands out the score text it stores (d2string); the skiplist's scan
        // formats the double as replies do (%.17g, keeping -0).
        let compact = z.is_some_and(|z| z.encoding() == "listpack");
        let next = match z {
            None => 0,
            Some(z) => z.scan(opts.cursor, opts.count, |m, s| {
                if opts
                    .pattern
                    .is_none_or(|p| crate::util::glob_match(p, m, false))
                {
                    items.push((m.to_vec(), s));
                }
            }),
        };
        ctx.out.array(2);
        ctx.out.bulk(next.to_string().as_bytes());
        ctx.out.array(items.len() * 2);
        for (m, s) in &items {
            ctx.out.bulk(m);
            if compact {
                ctx.out.bulk(d2string(*s).as_bytes());
            } else {
                ctx.out.bulk(crate::util::format_double(*s).as_bytes());
            }
        }
        Ok(())
    })
}
