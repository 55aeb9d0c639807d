//! Set commands: SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SMOVE SPOP SRANDMEMBER,
//! the algebra SINTER SUNION SDIFF (and their *STORE forms) SINTERCARD, and SSCAN, as in
//! Redis 7.0's `t_set.c`: the same replies and reply types (RESP3 sets where Redis sends
//! them), error texts and error precedence, and the same encodings of the sets they create.
//!
//! Commands over several keys lock every shard involved at once (`lock_many`), so they
//! are atomic, and compute their whole result before writing a destination, which may be
//! one of the sources.

use super::keyspace::class;
use super::{cmd, err, Args, CmdError, CmdResult, CommandTable, Ctx};
use crate::protocol::ReplyBuf;
use crate::store::set::{Member, Set};
use crate::store::{EncodingLimits, Entry, Shard, Value};

const READ_FAST: &[&str] = &["read", "set", "fast"];
const READ_SLOW: &[&str] = &["read", "set", "slow"];
const WRITE_FAST: &[&str] = &["write", "set", "fast"];
const WRITE_SLOW: &[&str] = &["write", "set", "slow"];

pub fn register(t: &mut CommandTable) {
    t.add(cmd(
        "sadd",
        -3,
        "write denyoom fast",
        WRITE_FAST,
        (1, 1, 1),
        sadd,
    ));
    t.add(cmd("srem", -3, "write fast", WRITE_FAST, (1, 1, 1), srem));
    t.add(cmd(
        "smembers",
        2,
        "readonly",
        READ_SLOW,
        (1, 1, 1),
        smembers,
    ));
    t.add(cmd(
        "sismember",
        3,
        "readonly fast",
        READ_FAST,
        (1, 1, 1),
        sismember,
    ));
    t.add(cmd(
        "smismember",
        -3,
        "readonly fast",
        READ_FAST,
        (1, 1, 1),
        smismember,
    ));
    t.add(cmd(
        "scard",
        2,
        "readonly fast",
        READ_FAST,
        (1, 1, 1),
        scard,
    ));
    t.add(cmd("smove", 4, "write fast", WRITE_FAST, (1, 2, 1), smove));
    t.add(cmd("spop", -2, "write fast", WRITE_FAST, (1, 1, 1), spop));
    t.add(cmd(
        "srandmember",
        -2,
        "readonly",
        READ_SLOW,
        (1, 1, 1),
        srandmember,
    ));
    t.add(cmd("sinter", -2, "readonly", READ_SLOW, (1, -1, 1), sinter));
    t.add(cmd("sunion", -2, "readonly", READ_SLOW, (1, -1, 1), sunion));
    t.add(cmd("sdiff", -2, "readonly", READ_SLOW, (1, -1, 1), sdiff));
    t.add(cmd(
        "sinterstore",
        -3,
        "write denyoom",
        WRITE_SLOW,
        (1, -1, 1),
        sinterstore,
    ));
    t.add(cmd(
        "sunionstore",
        -3,
        "write denyoom",
        WRITE_SLOW,
        (1, -1, 1),
        sunionstore,
    ));
    t.add(cmd(
        "sdiffstore",
        -3,
        "write denyoom",
        WRITE_SLOW,
        (1, -1, 1),
        sdiffstore,
    ));
    // Redis flags it `movablekeys` (keys follow numkeys); the table has no such flag yet.
    t.add(
        cmd(
            "sintercard",
            -3,
            "readonly",
            READ_SLOW,
            (0, 0, 0),
            sintercard,
        )
        .with_numkeys(1),
    );
    t.add(cmd("sscan", -3, "readonly", READ_SLOW, (1, 1, 1), sscan));
}

fn max_intset(ctx: &Ctx) -> i64 {
    EncodingLimits::get(&ctx.shared.limits.set_max_intset_entries)
}

fn set_of(e: &Entry) -> Result<&Set, CmdError> {
    e.set().ok_or(CmdError::new(err::WRONGTYPE))
}

fn set_of_mut(e: &mut Entry) -> Result<&mut Set, CmdError> {
    e.set_mut().ok_or(CmdError::new(err::WRONGTYPE))
}

fn reply_member(out: &mut ReplyBuf, m: Member) {
    match m {
        Member::Int(i) => out.bulk_int(i),
        Member::Bytes(b) => out.bulk(b),
    }
}

/// Replies with every member of `s` as a RESP3 set (array in RESP2).
fn reply_set(out: &mut ReplyBuf, s: &Set) {
    out.set(s.len());
    for m in s.iter() {
        reply_member(out, m);
    }
}

fn new_entry(key: &[u8], value: Set, clock: u32) -> Entry {
    Entry::new(key, Value::Set(Box::new(value)), 0, clock)
}

/// A fresh copy of `s` built member by member from an empty intset, as Redis builds the
/// result of SUNION: an all-integer result is an intset again, listed ascending.
fn rebuilt(s: &Set, max_intset: i64) -> Set {
    let mut out = Set::new();
    for m in s.iter() {
        out.add_member(m, max_intset);
    }
    out
}

fn sadd(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let key = args.get(1);
    let (now, clock, max) = (ctx.now(), ctx.clock(), max_intset(ctx));
    let store = ctx.store();
    let h = store.hash(key);
    let db = ctx.db();
    let mut shard = store.lock(db, h);
    let added = match shard.lookup_write(h, key, now, clock) {
        Some(e) => {
            let set = set_of_mut(e)?;
            args.iter_from(2).filter(|m| set.add(m, max)).count()
        }
        None => {
            let mut set = Set::for_member(args.get(2));
            let added = args.iter_from(2).filter(|m| set.add(m, max)).count();
            shard.insert_new(h, new_entry(key, set, clock), &store.entry_hasher());
            ctx.notify(class::NEW, "new", db, key);
            added
        }
    };
    if added > 0 {
        ctx.modified(db, key);
        ctx.notify(class::SET, "sadd", db, key);
    }
    ctx.out.int(added as i64);
    Ok(())
}

fn srem(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let key = args.get(1);
    let (now, clock) = (ctx.now(), ctx.clock());
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let Some(e) = shard.lookup_write(h, key, now, clock) else {
        ctx.out.int(0);
        return Ok(());
    };
    let set = set_of_mut(e)?;
    let mut removed = 0;
    for m in args.iter_from(2) {
        if set.remove(m) {
            removed += 1;
            if set.is_empty() {
                break;
            }
        }
    }
    let emptied = set.is_empty();
    if emptied {
        shard.remove(h, key, now);
    }
    if removed > 0 {
        let db = ctx.db();
        ctx.modified(db, key);
        ctx.notify(class::SET, "srem", db, key);
        if emptied {
            ctx.notify(class::GENERIC, "del", db, key);
        }
    }
    ctx.out.int(removed);
    Ok(())
}

/// Runs a read of one key: `f` gets the set, or None when the key is missing.
fn read_one(
    ctx: &mut Ctx,
    key: &[u8],
    f: impl FnOnce(&mut ReplyBuf, Option<&Set>) -> CmdResult,
) -> CmdResult {
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    match shard.lookup_read(h, key, ctx.now(), ctx.clock()) {
        None => f(ctx.out, None),
        Some(e) => f(ctx.out, Some(set_of(e)?)),
    }
}

fn smembers(ctx: &mut Ctx, args: &Args) -> CmdResult {
    read_one(ctx, args.get(1), |out, s| {
        match s {
            Some(s) => reply_set(out, s),
            None => out.set(0),
        }
        Ok(())
    })
}

fn sismember(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let m = args.get(2);
    read_one(ctx, args.get(1), |out, s| {
        out.int(s.is_some_and(|s| s.contains(m)) as i64);
        Ok(())
    })
}

fn smismember(ctx: &mut Ctx, args: &Args) -> CmdResult {
    read_one(ctx, args.get(1), |out, s| {
        out.array(args.len() - 2);
        for m in args.iter_from(2) {
            out.int(s.is_some_and(|s| s.contains(m)) as i64);
        }
        Ok(())
    })
}

fn scard(ctx: &mut Ctx, args: &Args) -> CmdResult {
    read_one(ctx, args.get(1), |out, s| {
        out.int(s.map_or(0, |s| s.len()) as i64);
        Ok(())
    })
}

fn smove(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let (src, dst, m) = (args.get(1), args.get(2), args.get(3));
    let (now, clock, max) = (ctx.now(), ctx.clock(), max_intset(ctx));
    let store = ctx.store();
    let db = ctx.db();
    let (hs, hd) = (store.hash(src), store.hash(dst));
    let mut locked = store.lock_many([(db, hs), (db, hd)]);
    let src_type_ok = locked
        .shard(store, db, hs)
        .lookup_write(hs, src, now, clock)
        .map(|e| e.set().is_some());
    let dst_state = locked
        .shard(store, db, hd)
        .lookup_write(hd, dst, now, clock)
        .map(|e| e.set().is_some());
    let Some(src_ok) = src_type_ok else {
        ctx.out.int(0);
        return Ok(());
    };
    if !src_ok || dst_state == Some(false) {
        return Err(CmdError::new(err::WRONGTYPE));
    }
    let shard = locked.shard(store, db, hs);
    let Some(e) = shard.get_mut(hs, src, now) else {
        ctx.out.int(0);
        return Ok(());
    };
    let set = set_of_mut(e)?;
    if src == dst {
        ctx.out.int(set.contains(m) as i64);
        return Ok(());
    }
    if !set.remove(m) {
        ctx.out.int(0);
        return Ok(());
    }
    ctx.notify(class::SET, "srem", db, src);
    if set.is_empty() {
        shard.remove(hs, src, now);
        ctx.notify(class::GENERIC, "del", db, src);
    }
    let shard = locked.shard(store, db, hd);
    let added = match shard.get_mut(hd, dst, now) {
        Some(e) => set_of_mut(e)?.add(m, max),
        None => {
            let mut set = Set::for_member(m);
            set.add(m, max);
            shard.insert_new(hd, new_entry(dst, set, clock), &store.entry_hasher());
            ctx.notify(class::NEW, "new", db, dst);
            true
        }
    };
    ctx.modified(db, src);
    // The destination counts as changed only if it gained the member.
    if added {
        ctx.modified(db, dst);
        ctx.notify(class::SET, "sadd", db, dst);
    }
    ctx.out.int(1);
    Ok(())
}

fn spop(ctx: &mut Ctx, args: &Args) -> CmdResult {
    match args.len() {
        2 => {}
        3 => return spop_count(ctx, args),
        _ => return Err(CmdError::new(err::SYNTAX)),
    }
    let key = args.get(1);
    let (now, clock) = (ctx.now(), ctx.clock());
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let Some(e) = shard.lookup_write(h, key, now, clock) else {
        ctx.out.null();
        return Ok(());
    };
    let set = set_of_mut(e)?;
    if let Some(m) = set.pop_random(&mut rand::rng()) {
        ctx.out.bulk(&m);
    }
    let db = ctx.db();
    ctx.notify(class::SET, "spop", db, key);
    if set.is_empty() {
        shard.remove(h, key, now);
        ctx.notify(class::GENERIC, "del", db, key);
    }
    ctx.modified(db, key);
    Ok(())
}

/// Redis's SPOP_MOVE_STRATEGY_MUL: when at most 1/5 of the set would remain, SPOP picks
/// the members to keep into a new set instead of the ones to pop.
const SPOP_MOVE_STRATEGY_MUL: u64 = 5;

fn spop_count(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let count = match crate::util::parse_i64(args.get(2)) {
        Some(c) if c >= 0 => c as u64,
        _ => return Err(CmdError::new("ERR value is out of range, must be positive")),
    };
    let key = args.get(1);
    let (now, clock, max) = (ctx.now(), ctx.clock(), max_intset(ctx));
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let Some(e) = shard.lookup_write(h, key, now, clock) else {
        ctx.out.set(0);
        return Ok(());
    };
    let set = set_of_mut(e)?;
    if count == 0 {
        ctx.out.set(0);
        return Ok(());
    }
    let size = set.len() as u64;
    let mut rng = rand::rng();
    let db = ctx.db();
    ctx.notify(class::SET, "spop", db, key);
    ctx.modified(db, key);
    if count >= size {
        // Redis answers through SUNION's code: the members of a freshly built copy, in
        // that copy's order, after a read lookup that counts as a keyspace hit.
        reply_set(ctx.out, &rebuilt(set, max));
        shard.remove(h, key, now);
        shard.stats.keyspace_hits += 1;
        ctx.notify(class::GENERIC, "del", db, key);
        return Ok(());
    }
    let remaining = size - count;
    ctx.out.set(count as usize);
    if remaining * SPOP_MOVE_STRATEGY_MUL > count {
        for _ in 0..count {
            if let Some(m) = set.pop_random(&mut rng) {
                ctx.out.bulk(&m);
            }
        }
    } else {
        // The kept members form a new set, created as SADD would create it from the
        // first one kept (so a set of integers becomes an intset again).
        let mut kept: Option<Set> = None;
        for _ in 0..remaining {
            if let Some(m) = set.pop_random(&mut rng) {
                kept.get_or_insert_with(|| Set::for_member(&m)).add(&m, max);
            }
        }
        for m in set.iter() {
            reply_member(ctx.out, m);
        }
        if let Some(kept) = kept {
            *set = kept;
        }
    }
    Ok(())
}

fn srandmember(ctx: &mut Ctx, args: &Args) -> CmdResult {
    match args.len() {
        2 => {}
        3 => return srandmember_count(ctx, args),
        _ => return Err(CmdError::new(err::SYNTAX)),
    }
    read_one(ctx, args.get(1), |out, s| {
        match s.and_then(|s| s.random(&mut rand::rng())) {
            Some(m) => reply_member(out, m),
            None => out.null(),
        }
        Ok(())
    })
}

fn srandmember_count(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let count = args.int(2)?;
    if count == i64::MIN {
        return Err(CmdError::new(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    read_one(ctx, args.get(1), |out, s| {
        let Some(s) = s else {
            out.array(0);
            return Ok(());
        };
        let mut rng = rand::rng();
        let n = count.unsigned_abs();
        if count < 0 {
            // Repeats allowed: n independent draws.
            out.array(n as usize);
            for _ in 0..n {
                if let Some(m) = s.random(&mut rng) {
                    reply_member(out, m);
                }
            }
        } else if n >= s.len() as u64 {
            out.array(s.len());
            for m in s.iter() {
                reply_member(out, m);
            }
        } else {
            let picked = s.sample(n as usize, &mut rng);
            out.array(picked.len());
            for m in picked {
                reply_member(out, m);
            }
        }
        Ok(())
    })
}

/// Runs a command over the sets at `keys` with the shards of every key (and of `dst`)
/// locked. Each key is looked up as a read (lazy expiry, hit/miss counting); any key of
/// another type is WRONGTYPE, whatever its position. `f` gets the sets (None for a
/// missing key) and either replies itself, or returns the set to store at `dst`: an empty
/// result deletes `dst`, and the reply is the stored cardinality. `dst` comes with the
/// keyspace event of storing it ("sinterstore", ...).
fn with_sets(
    ctx: &mut Ctx,
    keys: &[&[u8]],
    dst: Option<(&[u8], &'static str)>,
    f: impl FnOnce(&mut Ctx, &[Option<&Set>]) -> Option<Set>,
) -> CmdResult {
    let store = ctx.store();
    let db = ctx.db();
    let (now, clock) = (ctx.now(), ctx.clock());
    let hashes: Vec<u64> = keys.iter().map(|k| store.hash(k)).collect();
    let dst_hash = dst.map(|(k, _)| store.hash(k));
    let all = || hashes.iter().chain(dst_hash.iter()).copied();
    // `Locked::iter_mut` yields the shards in lock order: ascending shard index, once each.
    let mut order: Vec<usize> = all().map(|h| store.shard_index(h)).collect();
    order.sort_unstable();
    order.dedup();
    let slot = |h: u64| {
        order
            .binary_search(&store.shard_index(h))
            .unwrap_or_default()
    };
    let mut locked = store.lock_many(all().map(|h| (db, h)));
    let mut shards: Vec<&mut Shard> = locked.iter_mut().collect();
    for (k, &h) in keys.iter().zip(&hashes) {
        if let Some(e) = shards[slot(h)].lookup_read(h, k, now, clock) {
            set_of(e)?;
        }
    }
    let result = {
        let sets: Vec<Option<&Set>> = keys
            .iter()
            .zip(&hashes)
            .map(|(k, &h)| {
                let shard: &Shard = shards[slot(h)];
                shard.table.find(h, |e| e.key() == *k)?.set()
            })
            .collect();
        f(ctx, &sets)
    };
    if let (Some((dk, event)), Some(dh)) = (dst, dst_hash) {
        let shard = &mut *shards[slot(dh)];
        match result {
            Some(s) if !s.is_empty() => {
                let n = s.len();
                let old = shard.insert(dh, new_entry(dk, s, clock), now, &store.entry_hasher());
                // Redis's setKey: dbAdd ("new") or an overwrite, then the signal.
                if old.is_none() {
                    ctx.notify(class::NEW, "new", db, dk);
                }
                ctx.modified(db, dk);
                ctx.out.int(n as i64);
                ctx.notify(class::SET, event, db, dk);
            }
            _ => {
                ctx.out.int(0);
                if shard.remove(dh, dk, now).is_some() {
                    ctx.modified(db, dk);
                    ctx.notify(class::GENERIC, "del", db, dk);
                }
            }
        }
    }
    Ok(())
}

/// The members common to every set, in the order of the smallest set, stopping at `limit`
/// members (0: no limit). A missing key makes the intersection empty.
fn intersection<'a>(sets: &[Option<&'a Set>], limit: usize) -> Vec<Member<'a>> {
    let Some(mut sets) = sets.iter().copied().collect::<Option<Vec<&Set>>>() else {
        return Vec::new();
    };
    sets.sort_by_key(|s| s.len());
    let (first, rest) = (sets[0], &sets[1..]);
    let mut out = Vec::new();
    for m in first.iter() {
        if rest
            .iter()
            .all(|s| std::ptr::eq(*s, first) || s.contains_member(m))
        {
            out.push(m);
            if out.len() == limit {
                break;
            }
        }
    }
    out
}

/// The union, built as a fresh set (an intset while it can be one).
fn union(sets: &[Option<&Set>], max: i64) -> Set {
    let mut out = Set::new();
    for s in sets.iter().flatten() {
        for m in s.iter() {
            out.add_member(m, max);
        }
    }
    out
}

/// The members of the first set in none of the others, built as a fresh set.
fn difference(sets: &[Option<&Set>], max: i64) -> Set {
    let mut out = Set::new();
    let Some(Some(first)) = sets.first() else {
        return out;
    };
    for m in first.iter() {
        if !sets[1..].iter().flatten().any(|s| s.contains_member(m)) {
            out.add_member(m, max);
        }
    }
    out
}

fn sinter(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let keys: Vec<&[u8]> = args.iter_from(1).collect();
    with_sets(ctx, &keys, None, |ctx, sets| {
        let common = intersection(sets, 0);
        ctx.out.set(common.len());
        for m in common {
            reply_member(ctx.out, m);
        }
        None
    })
}

fn sinterstore(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let keys: Vec<&[u8]> = args.iter_from(2).collect();
    let max = max_intset(ctx);
    with_sets(ctx, &keys, Some((args.get(1), "sinterstore")), |_, sets| {
        let mut out = Set::new();
        for m in intersection(sets, 0) {
            out.add_member(m, max);
        }
        Some(out)
    })
}

fn sunion(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let keys: Vec<&[u8]> = args.iter_from(1).collect();
    let max = max_intset(ctx);
    with_sets(ctx, &keys, None, |ctx, sets| {
        reply_set(ctx.out, &union(sets, max));
        None
    })
}

fn sunionstore(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let keys: Vec<&[u8]> = args.iter_from(2).collect();
    let max = max_intset(ctx);
    with_sets(ctx, &keys, Some((args.get(1), "sunionstore")), |_, sets| {
        Some(union(sets, max))
    })
}

fn sdiff(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let keys: Vec<&[u8]> = args.iter_from(1).collect();
    let max = max_intset(ctx);
    with_sets(ctx, &keys, None, |ctx, sets| {
        reply_set(ctx.out, &difference(sets, max));
        None
    })
}

fn sdiffstore(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let keys: Vec<&[u8]> = args.iter_from(2).collect();
    let max = max_intset(ctx);
    with_sets(ctx, &keys, Some((args.get(1), "sdiffstore")), |_, sets| {
        Some(difference(sets, max))
    })
}

fn sintercard(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let numkeys = match crate::util::parse_i64(args.get(1)) {
        Some(n) if n >= 1 => n,
        _ => return Err(CmdError::new("ERR numkeys should be greater than 0")),
    };
    if numkeys > args.len() as i64 - 2 {
        return Err(CmdError::new(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    let numkeys = numkeys as usize;
    let mut limit = 0usize;
    let mut i = 2 + numkeys;
    while i < args.len() {
        if args.is(i, "limit") && i + 1 < args.len() {
            limit = match crate::util::parse_i64(args.get(i + 1)) {
                Some(n) if n >= 0 => usize::try_from(n).unwrap_or(usize::MAX),
                _ => return Err(CmdError::new("ERR LIMIT can't be negative")),
            };
            i += 2;
        } else {
            return Err(CmdError::new(err::SYNTAX));
        }
    }
    let keys: Vec<&[u8]> = (2..2 + numkeys).map(|i| args.get(i)).collect();
    with_sets(ctx, &keys, None, |ctx, sets| {
        ctx.out.int(intersection(sets, limit).len() as i64);
        None
    })
}

fn sscan(ctx: &mut Ctx, args: &Args) -> CmdResult {
    // Redis reads the cursor first, then the key (a missing key ends the scan before the
    // options are even parsed), then the options.
    super::keys::parse_cursor(args.get(2)).ok_or(CmdError::new("ERR invalid cursor"))?;
    read_one(ctx, args.get(1), |out, s| {
        let Some(s) = s else {
            out.array(2);
            out.bulk(b"0");
            out.array(0);
            return Ok(());
        };
        let opts = super::keys::parse_collection_scan(args)?;
        let mut found: Vec<Member> = Vec::new();
        let next = s.scan(opts.cursor, opts.count, |m| {
            let keep = opts
                .pattern
                .is_none_or(|p| m.with_bytes(|b| crate::util::glob_match(p, b, false)));
            if keep {
                found.push(m);
            }
        });
        out.array(2);
        out.bulk(itoa::Buffer::new().format(next).as_bytes());
        out.array(found.len());
        for m in found {
            reply_member(out, m);
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algebra_on_mixed_shapes() {
        let mut a = Set::new();
        let mut b = Set::for_member(b"x");
        for m in ["1", "2", "3", "x"] {
            a.add(m.as_bytes(), 512);
        }
        for m in ["x", "2", "9"] {
            b.add(m.as_bytes(), 512);
        }
        let sets = [Some(&a), Some(&b)];
        let mut i: Vec<Vec<u8>> = intersection(&sets, 0).iter().map(|m| m.to_vec()).collect();
        i.sort();
        assert_eq!(i, vec![b"2".to_vec(), b"x".to_vec()]);
        assert_eq!(intersection(&sets, 1).len(), 1);
        assert!(intersection(&[Some(&a), None], 0).is_empty());
        assert_eq!(union(&sets, 512).len(), 5);
        let d = difference(&sets, 512);
        assert_eq!(d.encoding(), "intset");
        let d: Vec<Vec<u8>> = d.iter().map(|m| m.to_vec()).collect();
        assert_eq!(d, vec![b"1".to_vec(), b"3".to_vec()]);
        assert!(difference(&[None, Some(&a)], 512).is_empty());
    }
}
