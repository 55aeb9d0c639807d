//! List commands (LPUSH, LRANGE, LMOVE, ...) and the blocking pops BLPOP, BRPOP, BLMOVE,
//! BRPOPLPUSH, BLMPOP, following Redis 7.0's `t_list.c` so that replies, error texts and
//! the order in which errors are found are the same.
//!
//! The blocking forms share one "try now" function with their non-blocking twins; when
//! there is nothing to take they hand over to [`blocking::block`], which re-runs the same
//! handler once a push makes a key ready.

use super::blocking::{self, TimeoutReply};
use super::keyspace::class;
use super::{cmd, err, wrong_arity, Args, CmdError, CmdResult, CommandTable, Ctx};
use crate::protocol::ReplyBuf;
use crate::store::list::{Elem, List};
use crate::store::{EncodingLimits, Entry, KeyHash, Shard, Value};

const WRITE_FAST: &[&str] = &["write", "list", "fast"];
const WRITE_SLOW: &[&str] = &["write", "list", "slow"];
const READ_FAST: &[&str] = &["read", "list", "fast"];
const READ_SLOW: &[&str] = &["read", "list", "slow"];
const BLOCKING: &[&str] = &["write", "list", "slow", "blocking"];

pub fn register(t: &mut CommandTable) {
    let wf = "write denyoom fast";
    t.add(cmd("lpush", -3, wf, WRITE_FAST, (1, 1, 1), lpush));
    t.add(cmd("rpush", -3, wf, WRITE_FAST, (1, 1, 1), rpush));
    t.add(cmd("lpushx", -3, wf, WRITE_FAST, (1, 1, 1), lpushx));
    t.add(cmd("rpushx", -3, wf, WRITE_FAST, (1, 1, 1), rpushx));
    t.add(cmd("lpop", -2, "write fast", WRITE_FAST, (1, 1, 1), lpop));
    t.add(cmd("rpop", -2, "write fast", WRITE_FAST, (1, 1, 1), rpop));
    t.add(cmd("llen", 2, "readonly fast", READ_FAST, (1, 1, 1), llen));
    t.add(cmd("lrange", 4, "readonly", READ_SLOW, (1, 1, 1), lrange));
    t.add(cmd("lindex", 3, "readonly", READ_SLOW, (1, 1, 1), lindex));
    t.add(cmd("lset", 4, "write denyoom", WRITE_SLOW, (1, 1, 1), lset));
    t.add(cmd(
        "linsert",
        5,
        "write denyoom",
        WRITE_SLOW,
        (1, 1, 1),
        linsert,
    ));
    t.add(cmd("lrem", 4, "write", WRITE_SLOW, (1, 1, 1), lrem));
    t.add(cmd("ltrim", 4, "write", WRITE_SLOW, (1, 1, 1), ltrim));
    t.add(cmd("lpos", -3, "readonly", READ_SLOW, (1, 1, 1), lpos));
    t.add(cmd(
        "lmove",
        5,
        "write denyoom",
        WRITE_SLOW,
        (1, 2, 1),
        lmove,
    ));
    t.add(cmd(
        "rpoplpush",
        3,
        "write denyoom",
        WRITE_SLOW,
        (1, 2, 1),
        rpoplpush,
    ));
    // Redis marks LMPOP/BLMPOP `movablekeys` with key specs (0, 0, 0): their keys are
    // found from numkeys.
    t.add(cmd("lmpop", -4, "write", WRITE_SLOW, (0, 0, 0), lmpop).with_numkeys(1));
    t.add(cmd(
        "blpop",
        -3,
        "write noscript blocking",
        BLOCKING,
        (1, -2, 1),
        blpop,
    ));
    t.add(cmd(
        "brpop",
        -3,
        "write noscript blocking",
        BLOCKING,
        (1, -2, 1),
        brpop,
    ));
    t.add(cmd(
        "blmove",
        6,
        "write denyoom noscript blocking",
        BLOCKING,
        (1, 2, 1),
        blmove,
    ));
    t.add(cmd(
        "brpoplpush",
        4,
        "write denyoom noscript blocking",
        BLOCKING,
        (1, 2, 1),
        brpoplpush,
    ));
    t.add(cmd("blmpop", -5, "write blocking", BLOCKING, (0, 0, 0), blmpop).with_numkeys(2));
}

/// Which end of a list.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Left,
    Right,
}

/// `getListPositionFromObjectOrReply`: LEFT or RIGHT, any case.
fn parse_end(a: &[u8]) -> Result<End, CmdError> {
    if a.eq_ignore_ascii_case(b"left") {
        Ok(End::Left)
    } else if a.eq_ignore_ascii_case(b"right") {
        Ok(End::Right)
    } else {
        Err(CmdError::new(err::SYNTAX))
    }
}

/// `list-max-listpack-size`, the chunk budget new elements are packed under.
fn fill(ctx: &Ctx) -> i64 {
    EncodingLimits::get(&ctx.shared.limits.list_max_listpack_size)
}

fn write_elem(out: &mut ReplyBuf, e: Elem) {
    match e {
        Elem::Str(s) => out.bulk(s),
        Elem::Int(i) => out.bulk_int(i),
    }
}

fn as_list(e: &mut Entry) -> Result<&mut List, CmdError> {
    e.list_mut().ok_or(CmdError::new(err::WRONGTYPE))
}

fn new_entry(key: &[u8], list: List, clock: u32) -> Entry {
    Entry::new(key, Value::List(Box::new(list)), 0, clock)
}

/// Deletes `key` if its list was emptied, as Redis never keeps an empty list. True if
/// it did.
fn remove_if_empty(shard: &mut Shard, h: KeyHash, key: &[u8], now: u64) -> bool {
    let empty = shard
        .get_mut(h, key, now)
        .is_some_and(|e| e.list().is_some_and(|l| l.is_empty()));
    if empty {
        shard.remove(h, key, now);
    }
    empty
}

/// The keyspace event of a push at `end`.
fn push_event(end: End) -> &'static str {
    match end {
        End::Left => "lpush",
        End::Right => "rpush",
    }
}

/// The keyspace event of a pop at `end`.
fn pop_event(end: End) -> &'static str {
    match end {
        End::Left => "lpop",
        End::Right => "rpop",
    }
}

/// What follows popping elements from `key` (Redis's listElementsRemoved): the pop
/// event, the deletion of an emptied list with its "del" event, and the change signal.
/// `signal` is false where Redis serves a blocked BLPOP/BRPOP/BLMOVE: it leaves the
/// signal to the push that made the key ready.
fn elements_removed(
    ctx: &mut Ctx,
    shard: &mut Shard,
    h: KeyHash,
    key: &[u8],
    end: End,
    signal: bool,
) {
    let db = ctx.db();
    ctx.notify(class::LIST, pop_event(end), db, key);
    if remove_if_empty(shard, h, key, ctx.now()) {
        ctx.notify(class::GENERIC, "del", db, key);
    }
    if signal {
        ctx.modified(db, key);
    }
}

/// `getPositiveLongFromObjectOrReply` with a custom message: the message for both a
/// non-number and a negative one.
fn positive(a: &[u8], msg: &'static str) -> Result<i64, CmdError> {
    match crate::util::parse_i64(a) {
        Some(v) if v >= 0 => Ok(v),
        _ => Err(CmdError::new(msg)),
    }
}

/// `getRangeLongFromObjectOrReply(1, LONG_MAX)` with a custom message.
fn at_least_one(a: &[u8], msg: &'static str) -> Result<i64, CmdError> {
    match crate::util::parse_i64(a) {
        Some(v) if v >= 1 => Ok(v),
        _ => Err(CmdError::new(msg)),
    }
}

// ---------------------------------------------------------------------------------------
// Pushes

fn lpush(ctx: &mut Ctx, args: &Args) -> CmdResult {
    push_generic(ctx, args, End::Left, false)
}

fn rpush(ctx: &mut Ctx, args: &Args) -> CmdResult {
    push_generic(ctx, args, End::Right, false)
}

fn lpushx(ctx: &mut Ctx, args: &Args) -> CmdResult {
    push_generic(ctx, args, End::Left, true)
}

fn rpushx(ctx: &mut Ctx, args: &Args) -> CmdResult {
    push_generic(ctx, args, End::Right, true)
}

fn push_all(list: &mut List, args: &Args, end: End, fill: i64) {
    for v in args.iter_from(2) {
        match end {
            End::Left => list.push_front(v, fill),
            End::Right => list.push_back(v, fill),
        }
    }
}

fn push_generic(ctx: &mut Ctx, args: &Args, end: End, only_existing: bool) -> CmdResult {
    let key = args.get(1);
    let fill = fill(ctx);
    let store = ctx.store();
    let h = store.hash(key);
    let db = ctx.db();
    let mut shard = store.lock(db, h);
    match shard.lookup_write(h, key, ctx.now(), ctx.clock()) {
        Some(e) => {
            let list = as_list(e)?;
            push_all(list, args, end, fill);
            ctx.out.int(list.len() as i64);
        }
        None if only_existing => {
            ctx.out.int(0);
            return Ok(());
        }
        None => {
            let mut list = List::new();
            push_all(&mut list, args, end, fill);
            ctx.out.int(list.len() as i64);
            shard.insert_new(h, new_entry(key, list, ctx.clock()), &store.entry_hasher());
            ctx.notify(class::NEW, "new", db, key);
        }
    }
    ctx.modified(db, key);
    ctx.notify(class::LIST, push_event(end), db, key);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Pops

fn lpop(ctx: &mut Ctx, args: &Args) -> CmdResult {
    pop_generic(ctx, args, End::Left, "lpop")
}

fn rpop(ctx: &mut Ctx, args: &Args) -> CmdResult {
    pop_generic(ctx, args, End::Right, "rpop")
}

/// Writes the first `n` elements from `end` (in pop order) and removes them.
fn pop_range_reply(out: &mut ReplyBuf, list: &mut List, end: End, n: usize) {
    let n = n.min(list.len());
    out.array(n);
    match end {
        End::Left => {
            for e in list.iter().take(n) {
                write_elem(out, e);
            }
            list.drop_front(n);
        }
        End::Right => {
            for e in list.iter_rev().take(n) {
                write_elem(out, e);
            }
            list.drop_back(n);
        }
    }
}

/// Writes one element from `end` as a bulk string and removes it.
fn pop_one_reply(out: &mut ReplyBuf, list: &mut List, end: End) {
    match end {
        End::Left => {
            if let Some(e) = list.front() {
                write_elem(out, e);
            }
            list.drop_front(1);
        }
        End::Right => {
            if let Some(e) = list.back() {
                write_elem(out, e);
            }
            list.drop_back(1);
        }
    }
}

fn pop_generic(ctx: &mut Ctx, args: &Args, end: End, name: &str) -> CmdResult {
    if args.len() > 3 {
        return Err(wrong_arity(name));
    }
    let count = if args.len() == 3 {
        Some(positive(
            args.get(2),
            "ERR value is out of range, must be positive",
        )?)
    } else {
        None
    };
    let key = args.get(1);
    let now = ctx.now();
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let Some(e) = shard.lookup_write(h, key, now, ctx.clock()) else {
        match count {
            Some(_) => ctx.out.null_array(),
            None => ctx.out.null(),
        }
        return Ok(());
    };
    let list = as_list(e)?;
    match count {
        Some(0) => {
            ctx.out.array(0);
            return Ok(());
        }
        None => pop_one_reply(ctx.out, list, end),
        Some(n) => pop_range_reply(ctx.out, list, end, n as usize),
    }
    elements_removed(ctx, &mut shard, h, key, end, true);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Reads

fn llen(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let key = args.get(1);
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    match shard.lookup_read(h, key, ctx.now(), ctx.clock()) {
        None => ctx.out.int(0),
        Some(e) => {
            let n = as_list(e)?.len();
            ctx.out.int(n as i64);
        }
    }
    Ok(())
}

fn lrange(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let start = args.int(2)?;
    let stop = args.int(3)?;
    let key = args.get(1);
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let Some(e) = shard.lookup_read(h, key, ctx.now(), ctx.clock()) else {
        ctx.out.array(0);
        return Ok(());
    };
    let list = as_list(e)?;
    let Some((start, end)) = crate::util::index_range(start, stop, list.len()) else {
        ctx.out.array(0);
        return Ok(());
    };
    let n = end - start;
    ctx.out.array(n);
    for e in list.iter_from(start).take(n) {
        write_elem(ctx.out, e);
    }
    Ok(())
}

/// A client index (negative from the tail) as a position, None if out of range.
fn normalize_index(index: i64, len: usize) -> Option<usize> {
    let len = len as i64;
    let i = if index < 0 { index + len } else { index };
    (0..len).contains(&i).then_some(i as usize)
}

fn lindex(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let key = args.get(1);
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let Some(e) = shard.lookup_read(h, key, ctx.now(), ctx.clock()) else {
        ctx.out.null();
        return Ok(());
    };
    let list = as_list(e)?;
    let index = args.int(2)?;
    match normalize_index(index, list.len()).and_then(|i| list.get(i)) {
        Some(e) => write_elem(ctx.out, e),
        None => ctx.out.null(),
    }
    Ok(())
}

fn lpos(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let mut rank: i64 = 1;
    let mut count: i64 = -1; // -1: COUNT not given
    let mut maxlen: i64 = 0;
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        if args.is(j, "rank") && more {
            j += 1;
            rank = args.int(j)?;
            if rank == 0 {
                return Err(CmdError::new(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the \
                     second ... or use negative to start from the end of the list",
                ));
            }
        } else if args.is(j, "count") && more {
            j += 1;
            count = positive(args.get(j), "ERR COUNT can't be negative")?;
        } else if args.is(j, "maxlen") && more {
            j += 1;
            maxlen = positive(args.get(j), "ERR MAXLEN can't be negative")?;
        } else {
            return Err(CmdError::new(err::SYNTAX));
        }
        j += 1;
    }
    // A negative rank searches from the tail. Redis negates a LONG_MIN rank into itself
    // (still negative, so every match qualifies): wrapping arithmetic keeps that.
    let from_tail = rank < 0;
    if from_tail {
        rank = rank.wrapping_neg();
    }
    let key = args.get(1);
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let Some(e) = shard.lookup_read(h, key, ctx.now(), ctx.clock()) else {
        if count != -1 {
            ctx.out.array(0);
        } else {
            ctx.out.null();
        }
        return Ok(());
    };
    let list = as_list(e)?;
    let target = Elem::of(args.get(2));
    let llen = list.len() as i64;
    let mut found: Vec<i64> = Vec::new();
    let mut matches: i64 = 0;
    let mut last = None;
    let elems: Box<dyn Iterator<Item = Elem>> = if from_tail {
        Box::new(list.iter_rev())
    } else {
        Box::new(list.iter())
    };
    for (index, e) in (0i64..).zip(elems) {
        if maxlen != 0 && index >= maxlen {
            break;
        }
        if e != target {
            continue;
        }
        matches += 1;
        let at = if from_tail { llen - index - 1 } else { index };
        if matches >= rank {
            if count == -1 {
                last = Some(at);
                break;
            }
            found.push(at);
            if count != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= count {
                break;
            }
        }
    }
    if count != -1 {
        ctx.out.array(found.len());
        for i in found {
            ctx.out.int(i);
        }
    } else {
        match last {
            Some(i) => ctx.out.int(i),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Edits

fn lset(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let key = args.get(1);
    let fill = fill(ctx);
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let Some(e) = shard.lookup_write(h, key, ctx.now(), ctx.clock()) else {
        return Err(CmdError::new(err::NO_SUCH_KEY));
    };
    let list = as_list(e)?;
    let index = args.int(2)?;
    match normalize_index(index, list.len()) {
        Some(i) if list.set(i, args.get(3), fill) => ctx.out.ok(),
        _ => return Err(CmdError::new("ERR index out of range")),
    }
    let db = ctx.db();
    ctx.modified(db, key);
    ctx.notify(class::LIST, "lset", db, key);
    Ok(())
}

fn linsert(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let after = if args.is(2, "after") {
        true
    } else if args.is(2, "before") {
        false
    } else {
        return Err(CmdError::new(err::SYNTAX));
    };
    let key = args.get(1);
    let fill = fill(ctx);
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let Some(e) = shard.lookup_write(h, key, ctx.now(), ctx.clock()) else {
        ctx.out.int(0);
        return Ok(());
    };
    let list = as_list(e)?;
    if list.insert(args.get(3), after, args.get(4), fill) {
        ctx.out.int(list.len() as i64);
        let db = ctx.db();
        ctx.modified(db, key);
        ctx.notify(class::LIST, "linsert", db, key);
    } else {
        ctx.out.int(-1);
    }
    Ok(())
}

fn lrem(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let count = args.int(2)?;
    let key = args.get(1);
    let now = ctx.now();
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let Some(e) = shard.lookup_write(h, key, now, ctx.clock()) else {
        ctx.out.int(0);
        return Ok(());
    };
    let removed = as_list(e)?.remove(args.get(3), count);
    let db = ctx.db();
    if removed > 0 {
        ctx.modified(db, key);
        ctx.notify(class::LIST, "lrem", db, key);
    }
    if remove_if_empty(&mut shard, h, key, now) {
        ctx.notify(class::GENERIC, "del", db, key);
    }
    ctx.out.int(removed as i64);
    Ok(())
}

fn ltrim(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let start = args.int(2)?;
    let stop = args.int(3)?;
    let key = args.get(1);
    let now = ctx.now();
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let Some(e) = shard.lookup_write(h, key, now, ctx.clock()) else {
        ctx.out.ok();
        return Ok(());
    };
    let list = as_list(e)?;
    let len = list.len();
    let (ltrim, rtrim) = match crate::util::index_range(start, stop, len) {
        Some((start, end)) => (start, len - end),
        None => (len, 0),
    };
    list.drop_front(ltrim);
    list.drop_back(rtrim);
    // Redis reports a trim even when it removed nothing.
    let db = ctx.db();
    ctx.notify(class::LIST, "ltrim", db, key);
    if remove_if_empty(&mut shard, h, key, now) {
        ctx.notify(class::GENERIC, "del", db, key);
    }
    ctx.modified(db, key);
    ctx.out.ok();
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Moves between lists

fn lmove(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let from = parse_end(args.get(3))?;
    let to = parse_end(args.get(4))?;
    if !move_now(ctx, args.get(1), args.get(2), from, to)? {
        ctx.out.null();
    }
    Ok(())
}

fn rpoplpush(ctx: &mut Ctx, args: &Args) -> CmdResult {
    if !move_now(ctx, args.get(1), args.get(2), End::Right, End::Left)? {
        ctx.out.null();
    }
    Ok(())
}

fn blmove(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let from = parse_end(args.get(3))?;
    let to = parse_end(args.get(4))?;
    let timeout = blocking::parse_timeout(args.get(5))?;
    if move_now(ctx, args.get(1), args.get(2), from, to)? {
        return Ok(());
    }
    blocking::block(
        ctx,
        args,
        vec![args.get(1).to_vec()],
        timeout,
        TimeoutReply::NullBulk,
    )
}

fn brpoplpush(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let timeout = blocking::parse_timeout(args.get(3))?;
    if move_now(ctx, args.get(1), args.get(2), End::Right, End::Left)? {
        return Ok(());
    }
    blocking::block(
        ctx,
        args,
        vec![args.get(1).to_vec()],
        timeout,
        TimeoutReply::NullBulk,
    )
}

/// LMOVE's work: pops from `src` and pushes onto `dst` (which may be the same list, a
/// rotation), replying with the element. False, with nothing written, when `src` does not
/// exist. The destination's type is checked before anything is popped, so a wrong-type
/// destination loses nothing.
fn move_now(ctx: &mut Ctx, src: &[u8], dst: &[u8], from: End, to: End) -> Result<bool, CmdError> {
    let fill = fill(ctx);
    let (db, now, clock) = (ctx.db(), ctx.now(), ctx.clock());
    let store = ctx.store();
    let (hs, hd) = (store.hash(src), store.hash(dst));
    let mut locked = store.lock_many([(db, hs), (db, hd)]);
    let value = {
        let shard = locked.shard(store, db, hs);
        let Some(e) = shard.lookup_write(hs, src, now, clock) else {
            return Ok(false);
        };
        as_list(e)?;
        let dshard = locked.shard(store, db, hd);
        if let Some(d) = dshard.lookup_write(hd, dst, now, clock) {
            as_list(d)?;
        }
        let shard = locked.shard(store, db, hs);
        let Some(e) = shard.get_mut(hs, src, now) else {
            return Ok(false);
        };
        let list = as_list(e)?;
        let v = match from {
            End::Left => list.front(),
            End::Right => list.back(),
        };
        let Some(v) = v.map(|e| e.to_vec()) else {
            return Ok(false);
        };
        match from {
            End::Left => list.drop_front(1),
            End::Right => list.drop_back(1),
        }
        v
    };
    // Redis's lmoveHandlePush (creation, signal and push event of the destination),
    // then the pop event of the source, its deletion if emptied, and its signal (which
    // serving a blocked BLMOVE leaves to the push that made the source ready).
    let dshard = locked.shard(store, db, hd);
    match dshard.get_mut(hd, dst, now) {
        Some(d) => {
            let list = as_list(d)?;
            match to {
                End::Left => list.push_front(&value, fill),
                End::Right => list.push_back(&value, fill),
            }
        }
        None => {
            let mut list = List::new();
            list.push_back(&value, fill);
            dshard.insert_new(hd, new_entry(dst, list, clock), &store.entry_hasher());
            ctx.notify(class::NEW, "new", db, dst);
        }
    }
    ctx.modified(db, dst);
    ctx.notify(class::LIST, push_event(to), db, dst);
    ctx.notify(class::LIST, pop_event(from), db, src);
    if src != dst && remove_if_empty(locked.shard(store, db, hs), hs, src, now) {
        ctx.notify(class::GENERIC, "del", db, src);
    }
    if !ctx.session.serving {
        ctx.modified(db, src);
    }
    ctx.out.bulk(&value);
    Ok(true)
}

// ---------------------------------------------------------------------------------------
// Pops from the first non-empty of several lists

/// Pops from the first of `keys` holding a list: `count` None replies `[key, element]`
/// (BLPOP), Some(n) `[key, [elements]]` (LMPOP). False, with nothing written, when every
/// key is absent; a key of another type is WRONGTYPE even if a later key has elements.
fn multi_pop_now(
    ctx: &mut Ctx,
    keys: &[&[u8]],
    end: End,
    count: Option<usize>,
) -> Result<bool, CmdError> {
    let (db, now, clock) = (ctx.db(), ctx.now(), ctx.clock());
    let store = ctx.store();
    let hashes: Vec<KeyHash> = keys.iter().map(|k| store.hash(k)).collect();
    let mut locked = store.lock_many(hashes.iter().map(|&h| (db, h)));
    for (&key, &h) in keys.iter().zip(&hashes) {
        let shard = locked.shard(store, db, h);
        let Some(e) = shard.lookup_write(h, key, now, clock) else {
            continue;
        };
        let list = as_list(e)?;
        if list.is_empty() {
            continue;
        }
        ctx.out.array(2);
        ctx.out.bulk(key);
        match count {
            None => pop_one_reply(ctx.out, list, end),
            Some(n) => pop_range_reply(ctx.out, list, end, n),
        }
        // A served BLMPOP goes through listElementsRemoved (which signals); a served
        // BLPOP/BRPOP does not signal.
        let signal = !(ctx.session.serving && count.is_none());
        elements_removed(ctx, shard, h, key, end, signal);
        return Ok(true);
    }
    Ok(false)
}

fn blpop(ctx: &mut Ctx, args: &Args) -> CmdResult {
    bpop_generic(ctx, args, End::Left)
}

fn brpop(ctx: &mut Ctx, args: &Args) -> CmdResult {
    bpop_generic(ctx, args, End::Right)
}

fn bpop_generic(ctx: &mut Ctx, args: &Args, end: End) -> CmdResult {
    let last = args.len() - 1;
    let timeout = blocking::parse_timeout(args.get(last))?;
    let keys: Vec<&[u8]> = (1..last).map(|i| args.get(i)).collect();
    if multi_pop_now(ctx, &keys, end, None)? {
        return Ok(());
    }
    let keys = keys.iter().map(|k| k.to_vec()).collect();
    blocking::block(ctx, args, keys, timeout, TimeoutReply::NullArray)
}

/// The arguments of LMPOP/BLMPOP from `numkeys_idx` on, as `lmpopGenericCommand` parses
/// them: (keys, end, count).
fn parse_mpop<'a>(
    args: &Args<'a>,
    numkeys_idx: usize,
) -> Result<(Vec<&'a [u8]>, End, usize), CmdError> {
    let numkeys = at_least_one(
        args.get(numkeys_idx),
        "ERR numkeys should be greater than 0",
    )?;
    // where_idx = numkeys_idx + numkeys + 1 must be an argument.
    let room = (args.len() - numkeys_idx - 1) as i64;
    if numkeys >= room {
        return Err(CmdError::new(err::SYNTAX));
    }
    let where_idx = numkeys_idx + numkeys as usize + 1;
    let end = parse_end(args.get(where_idx))?;
    let mut count: i64 = -1;
    let mut j = where_idx + 1;
    while j < args.len() {
        if count == -1 && args.is(j, "count") && j + 1 < args.len() {
            j += 1;
            count = at_least_one(args.get(j), "ERR count should be greater than 0")?;
        } else {
            return Err(CmdError::new(err::SYNTAX));
        }
        j += 1;
    }
    let count = if count == -1 { 1 } else { count };
    let keys = (numkeys_idx + 1..where_idx).map(|i| args.get(i)).collect();
    Ok((keys, end, usize::try_from(count).unwrap_or(usize::MAX)))
}

fn lmpop(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let (keys, end, count) = parse_mpop(args, 1)?;
    if !multi_pop_now(ctx, &keys, end, Some(count))? {
        ctx.out.null_array();
    }
    Ok(())
}

fn blmpop(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let (keys, end, count) = parse_mpop(args, 2)?;
    let timeout = blocking::parse_timeout(args.get(1))?;
    if multi_pop_now(ctx, &keys, end, Some(count))? {
        return Ok(());
    }
    let keys = keys.iter().map(|k| k.to_vec()).collect();
    blocking::block(ctx, args, keys, timeout, TimeoutReply::NullArray)
}
