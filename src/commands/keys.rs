//! Keyspace commands: DEL, UNLINK, EXISTS, TYPE, RENAME, COPY, MOVE, SCAN, KEYS, RANDOMKEY,
//! OBJECT, the databases as a whole (SWAPDB, FLUSHDB, FLUSHALL, DBSIZE) and the expiry
//! family (EXPIRE, TTL, PERSIST, ...).
//!
//! Commands touching two keys or two databases lock all their shards at once through
//! `lock_many` / `lock_dbs`, so no other client sees half of a RENAME or a MOVE.

use super::keyspace::class;
use super::{cmd, container, err, Args, CmdError, CmdResult, CommandTable, Ctx};
use crate::store::evict::{self, Policy};
use crate::store::{Entry, KeyHash, Shard};

const CAT: &[&str] = &["keyspace"];

pub fn register(t: &mut CommandTable) {
    t.add(cmd("del", -2, "write", CAT, (1, -1, 1), del));
    t.add(cmd("unlink", -2, "write fast", CAT, (1, -1, 1), del));
    t.add(cmd("exists", -2, "readonly fast", CAT, (1, -1, 1), exists));
    t.add(cmd("touch", -2, "readonly fast", CAT, (1, -1, 1), touch));
    t.add(cmd("type", 2, "readonly fast", CAT, (1, 1, 1), type_cmd));
    t.add(cmd("rename", 3, "write", CAT, (1, 2, 1), rename));
    t.add(cmd("renamenx", 3, "write fast", CAT, (1, 2, 1), renamenx));
    t.add(cmd("copy", -3, "write denyoom", CAT, (1, 2, 1), copy));
    t.add(cmd("move", 3, "write fast", CAT, (1, 1, 1), move_cmd));
    t.add(cmd("randomkey", 1, "readonly", CAT, (0, 0, 0), randomkey));
    t.add(cmd("keys", 2, "readonly", CAT, (0, 0, 0), keys));
    t.add(cmd("scan", -2, "readonly", CAT, (0, 0, 0), scan));
    t.add(cmd("dbsize", 1, "readonly fast", CAT, (0, 0, 0), dbsize));
    t.add(cmd("swapdb", 3, "write fast", CAT, (0, 0, 0), swapdb));
    t.add(cmd(
        "flushdb",
        -1,
        "write",
        &["keyspace", "dangerous"],
        (0, 0, 0),
        flushdb,
    ));
    t.add(cmd(
        "flushall",
        -1,
        "write",
        &["keyspace", "dangerous"],
        (0, 0, 0),
        flushall,
    ));

    t.add(cmd("expire", -3, "write fast", CAT, (1, 1, 1), expire));
    t.add(cmd("pexpire", -3, "write fast", CAT, (1, 1, 1), pexpire));
    t.add(cmd("expireat", -3, "write fast", CAT, (1, 1, 1), expireat));
    t.add(cmd(
        "pexpireat",
        -3,
        "write fast",
        CAT,
        (1, 1, 1),
        pexpireat,
    ));
    t.add(cmd("ttl", 2, "readonly fast", CAT, (1, 1, 1), ttl));
    t.add(cmd("pttl", 2, "readonly fast", CAT, (1, 1, 1), pttl));
    t.add(cmd(
        "expiretime",
        2,
        "readonly fast",
        CAT,
        (1, 1, 1),
        expiretime,
    ));
    t.add(cmd(
        "pexpiretime",
        2,
        "readonly fast",
        CAT,
        (1, 1, 1),
        pexpiretime,
    ));
    t.add(cmd("persist", 2, "write fast", CAT, (1, 1, 1), persist));

    t.add(
        cmd("object", -2, "", CAT, (0, 0, 0), container).with_subcommands(vec![
            cmd(
                "object|encoding",
                3,
                "readonly",
                CAT,
                (2, 2, 1),
                object_encoding,
            ),
            cmd("object|freq", 3, "readonly", CAT, (2, 2, 1), object_freq),
            cmd(
                "object|idletime",
                3,
                "readonly",
                CAT,
                (2, 2, 1),
                object_idletime,
            ),
            cmd(
                "object|refcount",
                3,
                "readonly",
                CAT,
                (2, 2, 1),
                object_refcount,
            ),
            cmd(
                "object|help",
                2,
                "loading stale",
                CAT,
                (0, 0, 0),
                object_help,
            ),
        ]),
    );
}

const SAME_OBJECT: &str = "ERR source and destination objects are the same";

/// Hashes of the arguments from `from` on.
fn hashes(ctx: &Ctx, args: &Args, from: usize) -> Vec<KeyHash> {
    let store = ctx.store();
    args.iter_from(from).map(|k| store.hash(k)).collect()
}

/// A database index argument as Redis's `getIntFromObjectOrReply` reads it, then checked
/// against the number of databases.
pub(crate) fn parse_db(ctx: &Ctx, arg: &[u8]) -> Result<usize, CmdError> {
    let n = crate::util::parse_i64(arg).ok_or(CmdError::new(err::NOT_INT))?;
    if i32::try_from(n).is_err() {
        return Err(CmdError::new(
            "ERR value is out of range, value must between -2147483648 and 2147483647",
        ));
    }
    usize::try_from(n)
        .ok()
        .filter(|&n| n < ctx.store().dbs.len())
        .ok_or(CmdError::new(err::DB_INDEX))
}

/// Replies with how many of the keys in `args[1..]` `found` reports, all shards locked at
/// once so the count is atomic (DEL, EXISTS, TOUCH).
fn count_keys(
    ctx: &mut Ctx,
    args: &Args,
    found: impl Fn(&mut Shard, u64, &[u8], u64, u32) -> bool,
) -> CmdResult {
    let store = ctx.store();
    let db = ctx.db();
    let hs = hashes(ctx, args, 1);
    let mut locked = store.lock_many(hs.iter().map(|&h| (db, h)));
    let mut n = 0;
    for (i, &h) in hs.iter().enumerate() {
        if found(
            locked.shard(store, db, h),
            h,
            args.get(i + 1),
            ctx.now(),
            ctx.clock(),
        ) {
            n += 1;
        }
    }
    ctx.out.int(n);
    Ok(())
}

/// DEL and UNLINK: each key really deleted is signalled, with a "del" event, in argument
/// order (an expired key was not there: the store reports it as expired instead).
fn del(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let store = ctx.store();
    let db = ctx.db();
    let now = ctx.now();
    let hs = hashes(ctx, args, 1);
    let mut locked = store.lock_many(hs.iter().map(|&h| (db, h)));
    let mut deleted = Vec::new();
    for (i, &h) in hs.iter().enumerate() {
        if locked
            .shard(store, db, h)
            .remove(h, args.get(i + 1), now)
            .is_some()
        {
            deleted.push(i + 1);
        }
    }
    drop(locked);
    for &i in &deleted {
        let key = args.get(i);
        ctx.modified(db, key);
        ctx.notify(class::GENERIC, "del", db, key);
    }
    ctx.out.int(deleted.len() as i64);
    Ok(())
}

fn exists(ctx: &mut Ctx, args: &Args) -> CmdResult {
    count_keys(ctx, args, |s, h, k, now, _| {
        s.lookup_notouch(h, k, now).is_some()
    })
}

fn touch(ctx: &mut Ctx, args: &Args) -> CmdResult {
    count_keys(ctx, args, |s, h, k, now, clock| {
        s.lookup_read(h, k, now, clock).is_some()
    })
}

fn type_cmd(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let key = args.get(1);
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let name = match shard.lookup_notouch(h, key, ctx.now()) {
        Some(e) => e.value().type_name(),
        None => "none",
    };
    ctx.out.simple(name);
    Ok(())
}

fn rename(ctx: &mut Ctx, args: &Args) -> CmdResult {
    rename_generic(ctx, args, false)
}

fn renamenx(ctx: &mut Ctx, args: &Args) -> CmdResult {
    rename_generic(ctx, args, true)
}

fn rename_generic(ctx: &mut Ctx, args: &Args, nx: bool) -> CmdResult {
    let (src, dst) = (args.get(1), args.get(2));
    let store = ctx.store();
    let db = ctx.db();
    let (now, clock) = (ctx.now(), ctx.clock());
    let (hs, hd) = (store.hash(src), store.hash(dst));
    let mut locked = store.lock_many([(db, hs), (db, hd)]);
    if locked
        .shard(store, db, hs)
        .lookup_write(hs, src, now, clock)
        .is_none()
    {
        return Err(CmdError::new(err::NO_SUCH_KEY));
    }
    if src == dst {
        if nx {
            ctx.out.int(0);
        } else {
            ctx.out.ok();
        }
        return Ok(());
    }
    if nx && locked.shard(store, db, hd).get_mut(hd, dst, now).is_some() {
        ctx.out.int(0);
        return Ok(());
    }
    // The entry itself moves, with its deadline and access time.
    let Some(e) = locked.shard(store, db, hs).remove(hs, src, now) else {
        return Err(CmdError::new(err::NO_SUCH_KEY));
    };
    let e = e.with_key(dst);
    locked
        .shard(store, db, hd)
        .insert(hd, e, now, &store.entry_hasher());
    drop(locked);
    // Redis deletes an overwritten destination silently, then dbAdd says "new".
    ctx.notify(class::NEW, "new", db, dst);
    ctx.modified(db, src);
    ctx.modified(db, dst);
    ctx.notify(class::GENERIC, "rename_from", db, src);
    ctx.notify(class::GENERIC, "rename_to", db, dst);
    if nx {
        ctx.out.int(1);
    } else {
        ctx.out.ok();
    }
    Ok(())
}

fn copy(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let (src, dst) = (args.get(1), args.get(2));
    let src_db = ctx.db();
    let mut dst_db = src_db;
    let mut replace = false;
    let mut i = 3;
    while i < args.len() {
        if args.is(i, "replace") {
            replace = true;
        } else if args.is(i, "db") && i + 1 < args.len() {
            dst_db = parse_db(ctx, args.get(i + 1))?;
            i += 1;
        } else {
            return Err(CmdError::new(err::SYNTAX));
        }
        i += 1;
    }
    if src_db == dst_db && src == dst {
        return Err(CmdError::new(SAME_OBJECT));
    }
    let store = ctx.store();
    let (now, clock) = (ctx.now(), ctx.clock());
    let (hs, hd) = (store.hash(src), store.hash(dst));
    let mut locked = store.lock_many([(src_db, hs), (dst_db, hd)]);
    let Some(e) = locked
        .shard(store, src_db, hs)
        .lookup_read(hs, src, now, clock)
    else {
        ctx.out.int(0);
        return Ok(());
    };
    let copy = Entry::new(dst, e.value().duplicate(), e.expire_at(), clock);
    let target = locked.shard(store, dst_db, hd);
    if !replace && target.get_mut(hd, dst, now).is_some() {
        ctx.out.int(0);
        return Ok(());
    }
    target.insert(hd, copy, now, &store.entry_hasher());
    drop(locked);
    ctx.notify(class::NEW, "new", dst_db, dst);
    ctx.modified(dst_db, dst);
    ctx.notify(class::GENERIC, "copy_to", dst_db, dst);
    ctx.out.int(1);
    Ok(())
}

fn move_cmd(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let key = args.get(1);
    let src_db = ctx.db();
    let dst_db = parse_db(ctx, args.get(2))?;
    if src_db == dst_db {
        return Err(CmdError::new(SAME_OBJECT));
    }
    let store = ctx.store();
    let (now, clock) = (ctx.now(), ctx.clock());
    let h = store.hash(key);
    let mut locked = store.lock_many([(src_db, h), (dst_db, h)]);
    if locked
        .shard(store, src_db, h)
        .lookup_write(h, key, now, clock)
        .is_none()
        || locked
            .shard(store, dst_db, h)
            .get_mut(h, key, now)
            .is_some()
    {
        ctx.out.int(0);
        return Ok(());
    }
    let Some(e) = locked.shard(store, src_db, h).remove(h, key, now) else {
        ctx.out.int(0);
        return Ok(());
    };
    locked
        .shard(store, dst_db, h)
        .insert_new(h, e, &store.entry_hasher());
    drop(locked);
    ctx.notify(class::NEW, "new", dst_db, key);
    ctx.modified(src_db, key);
    ctx.modified(dst_db, key);
    ctx.notify(class::GENERIC, "move_from", src_db, key);
    ctx.notify(class::GENERIC, "move_to", dst_db, key);
    ctx.out.int(1);
    Ok(())
}

fn randomkey(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    match ctx.store().random_key(ctx.db(), ctx.now()) {
        Some(k) => ctx.out.bulk(&k),
        None => ctx.out.null(),
    }
    Ok(())
}

fn keys(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let pattern = args.get(1);
    let all = pattern == b"*";
    let found = ctx.store().collect_keys(ctx.db(), ctx.now(), |k| {
        all || crate::util::glob_match(pattern, k, false)
    });
    ctx.out.array(found.len());
    for k in &found {
        ctx.out.bulk(k);
    }
    Ok(())
}

/// A SCAN cursor as Redis reads it (`strtoul`, base 10): an optional sign, digits, nothing
/// else; no leading space; the empty string is 0; a negative value wraps.
pub(crate) fn parse_cursor(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return Some(0);
    }
    if matches!(s[0], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        return None;
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let v = crate::util::parse_digits(digits)?;
    Some(if neg { v.wrapping_neg() } else { v })
}

/// The cursor and options of HSCAN/SSCAN/ZSCAN (`key cursor [MATCH p] [COUNT n]`), with
/// SCAN's error texts. `pattern` is None for no pattern or `*`.
pub struct CollectionScan<'a> {
    pub cursor: u64,
    pub pattern: Option<&'a [u8]>,
    pub count: usize,
}

pub fn parse_collection_scan<'a>(args: &Args<'a>) -> Result<CollectionScan<'a>, CmdError> {
    let cursor = parse_cursor(args.get(2)).ok_or(CmdError::new("ERR invalid cursor"))?;
    let mut out = CollectionScan {
        cursor,
        pattern: None,
        count: 10,
    };
    let mut i = 3;
    while i < args.len() {
        let more = i + 1 < args.len();
        if args.is(i, "count") && more {
            let n = args.int(i + 1)?;
            if n < 1 {
                return Err(CmdError::new(err::SYNTAX));
            }
            out.count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if args.is(i, "match") && more {
            let p = args.get(i + 1);
            out.pattern = (p != b"*").then_some(p);
        } else {
            return Err(CmdError::new(err::SYNTAX));
        }
        i += 2;
    }
    Ok(out)
}

fn scan(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let cursor = parse_cursor(args.get(1)).ok_or(CmdError::new("ERR invalid cursor"))?;
    let mut count = 10usize;
    let mut pattern: Option<&[u8]> = None;
    let mut type_name: Option<&[u8]> = None;
    let mut i = 2;
    while i < args.len() {
        let more = i + 1 < args.len();
        if args.is(i, "count") && more {
            let n = args.int(i + 1)?;
            if n < 1 {
                return Err(CmdError::new(err::SYNTAX));
            }
            count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if args.is(i, "match") && more {
            let p = args.get(i + 1);
            pattern = (p != b"*").then_some(p);
        } else if args.is(i, "type") && more {
            type_name = Some(args.get(i + 1));
        } else {
            return Err(CmdError::new(err::SYNTAX));
        }
        i += 2;
    }
    let now = ctx.now();
    let mut found: Vec<Box<[u8]>> = Vec::new();
    let next = ctx.store().scan(ctx.db(), cursor, count, |e| {
        if pattern.is_some_and(|p| !crate::util::glob_match(p, e.key(), false)) {
            return;
        }
        // Redis 7.0 looks the type up first (an expired key reads as "none") and only
        // then drops expired keys, so `TYPE none` lists keys that have just expired.
        let expired = e.is_expired(now);
        if let Some(t) = type_name {
            let actual = if expired {
                "none"
            } else {
                e.value().type_name()
            };
            if !t.eq_ignore_ascii_case(actual.as_bytes()) {
                return;
            }
        } else if expired {
            return;
        }
        found.push(e.key().into());
    });
    ctx.out.array(2);
    ctx.out.bulk(itoa::Buffer::new().format(next).as_bytes());
    ctx.out.array(found.len());
    for k in &found {
        ctx.out.bulk(k);
    }
    Ok(())
}

fn dbsize(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    let n = ctx.store().db_counts(ctx.db()).0;
    ctx.out.int(n as i64);
    Ok(())
}

fn swapdb(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let index = |i: usize, msg: &'static str| {
        crate::util::parse_i64(args.get(i))
            .filter(|n| i32::try_from(*n).is_ok())
            .ok_or(CmdError::new(msg))
    };
    let a = index(1, "ERR invalid first DB index")?;
    let b = index(2, "ERR invalid second DB index")?;
    let dbs = ctx.store().dbs.len() as i64;
    if !(0..dbs).contains(&a) || !(0..dbs).contains(&b) {
        return Err(CmdError::new(err::DB_INDEX));
    }
    ctx.modified_db(a as usize, Some(b as usize));
    ctx.modified_db(b as usize, Some(a as usize));
    ctx.store().swap_dbs(a as usize, b as usize);
    ctx.out.ok();
    Ok(())
}

/// FLUSHDB / FLUSHALL's optional ASYNC|SYNC argument: true for ASYNC.
fn flush_async(args: &Args) -> Result<bool, CmdError> {
    match args.len() {
        1 => Ok(false),
        2 if args.is(1, "async") => Ok(true),
        2 if args.is(1, "sync") => Ok(false),
        _ => Err(CmdError::new(err::SYNTAX)),
    }
}

/// Empties the databases atomically (every shard locked at once), then frees what was
/// taken out after the locks are released: on a background thread for ASYNC.
fn flush(ctx: &mut Ctx, dbs: &[usize], asynchronous: bool) {
    for &db in dbs {
        ctx.modified_db(db, None);
    }
    let store = ctx.store();
    let taken: Vec<_> = {
        let mut locked = store.lock_dbs(dbs);
        locked.iter_mut().map(|s| s.take()).collect()
    };
    if asynchronous && taken.iter().any(|t| !t.is_empty()) {
        let spawned = std::thread::Builder::new()
            .name("rcs-lazyfree".into())
            .spawn(move || drop(taken));
        if let Err(e) = spawned {
            tracing::warn!("lazy free thread not started ({}); freeing inline", e);
        }
    } else {
        drop(taken);
    }
    ctx.out.ok();
}

fn flushdb(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let asynchronous = flush_async(args)?;
    let db = ctx.db();
    flush(ctx, &[db], asynchronous);
    Ok(())
}

fn flushall(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let asynchronous = flush_async(args)?;
    let all: Vec<usize> = (0..ctx.store().dbs.len()).collect();
    flush(ctx, &all, asynchronous);
    Ok(())
}

fn expire(ctx: &mut Ctx, args: &Args) -> CmdResult {
    expire_generic(ctx, args, false, false, "expire")
}

fn pexpire(ctx: &mut Ctx, args: &Args) -> CmdResult {
    expire_generic(ctx, args, true, false, "pexpire")
}

fn expireat(ctx: &mut Ctx, args: &Args) -> CmdResult {
    expire_generic(ctx, args, false, true, "expireat")
}

fn pexpireat(ctx: &mut Ctx, args: &Args) -> CmdResult {
    expire_generic(ctx, args, true, true, "pexpireat")
}

/// The NX / XX / GT / LT conditions of the EXPIRE family.
#[derive(Default)]
struct ExpireFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

fn parse_expire_flags(args: &Args) -> Result<ExpireFlags, CmdError> {
    let mut f = ExpireFlags::default();
    for i in 3..args.len() {
        if args.is(i, "nx") {
            f.nx = true;
        } else if args.is(i, "xx") {
            f.xx = true;
        } else if args.is(i, "gt") {
            f.gt = true;
        } else if args.is(i, "lt") {
            f.lt = true;
        } else {
            let mut m = b"ERR Unsupported option ".to_vec();
            m.extend_from_slice(super::c_arg(args.get(i), usize::MAX));
            return Err(CmdError::from_bytes(m));
        }
    }
    if f.nx && (f.xx || f.gt || f.lt) {
        return Err(CmdError::new(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if f.gt && f.lt {
        return Err(CmdError::new(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    Ok(f)
}

/// EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT, as Redis's `expireGenericCommand`.
fn expire_generic(
    ctx: &mut Ctx,
    args: &Args,
    unit_ms: bool,
    absolute: bool,
    name: &str,
) -> CmdResult {
    let flags = parse_expire_flags(args)?;
    let mut when = args.int(2)?;
    let invalid = || CmdError::from(format!("ERR invalid expire time in '{}' command", name));
    if !unit_ms {
        when = when.checked_mul(1000).ok_or_else(invalid)?;
    }
    let now = ctx.now();
    if !absolute {
        when = when.checked_add(now as i64).ok_or_else(invalid)?;
    }
    let key = args.get(1);
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let Some(e) = shard.lookup_write(h, key, now, ctx.clock()) else {
        ctx.out.int(0);
        return Ok(());
    };
    // -1 stands for "no deadline", which GT treats as infinite and LT as "not set".
    let current = if e.expire_at() == 0 {
        -1
    } else {
        e.expire_at() as i64
    };
    let refused = (flags.nx && current != -1)
        || (flags.xx && current == -1)
        || (flags.gt && (current == -1 || when <= current))
        || (flags.lt && current != -1 && when >= current);
    if refused {
        ctx.out.int(0);
        return Ok(());
    }
    // Redis compares with the clock again, not the command's start time. A deadline in
    // the past deletes the key: "del", not "expired".
    let event = if when <= crate::util::now_ms() as i64 {
        shard.remove(h, key, now);
        "del"
    } else {
        shard.set_expire(h, key, when as u64, now);
        "expire"
    };
    drop(shard);
    let db = ctx.db();
    ctx.modified(db, key);
    ctx.notify(class::GENERIC, event, db, key);
    ctx.out.int(1);
    Ok(())
}

fn ttl(ctx: &mut Ctx, args: &Args) -> CmdResult {
    ttl_generic(ctx, args, false, false)
}

fn pttl(ctx: &mut Ctx, args: &Args) -> CmdResult {
    ttl_generic(ctx, args, true, false)
}

fn expiretime(ctx: &mut Ctx, args: &Args) -> CmdResult {
    ttl_generic(ctx, args, false, true)
}

fn pexpiretime(ctx: &mut Ctx, args: &Args) -> CmdResult {
    ttl_generic(ctx, args, true, true)
}

/// TTL, PTTL, EXPIRETIME and PEXPIRETIME: -2 for a missing key, -1 without a deadline;
/// seconds are rounded to the nearest, as Redis does.
fn ttl_generic(ctx: &mut Ctx, args: &Args, unit_ms: bool, absolute: bool) -> CmdResult {
    let key = args.get(1);
    let store = ctx.store();
    let h = store.hash(key);
    let now = ctx.now();
    let mut shard = store.lock(ctx.db(), h);
    let reply = match shard.lookup_notouch(h, key, now) {
        None => -2,
        Some(e) if e.expire_at() == 0 => -1,
        Some(e) => {
            // Inside a script the key is judged against the script's start time, but the
            // remaining time against the clock, as Redis 7.0 computes it (mstime()).
            let clock = if ctx.session.in_script {
                crate::util::now_ms()
            } else {
                now
            };
            let v = if absolute {
                e.expire_at() as i64
            } else {
                (e.expire_at() as i64 - clock as i64).max(0)
            };
            if unit_ms {
                v
            } else {
                // Unsigned, as compiled Redis computes it for a deadline near i64::MAX
                // (EXPIRETIME after PEXPIREAT 9223372036854775807 is 9223372036854776).
                ((v as u64 + 500) / 1000) as i64
            }
        }
    };
    drop(shard);
    ctx.out.int(reply);
    Ok(())
}

fn persist(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let key = args.get(1);
    let store = ctx.store();
    let h = store.hash(key);
    let now = ctx.now();
    let mut shard = store.lock(ctx.db(), h);
    let had = match shard.lookup_write(h, key, now, ctx.clock()) {
        Some(e) => e.expire_at() != 0,
        None => false,
    };
    if had {
        shard.set_expire(h, key, 0, now);
    }
    drop(shard);
    if had {
        let db = ctx.db();
        ctx.modified(db, key);
        ctx.notify(class::GENERIC, "persist", db, key);
    }
    ctx.out.int(had as i64);
    Ok(())
}

/// What OBJECT reports about a value, read without touching it.
struct ObjectInfo {
    encoding: &'static str,
    refcount: i64,
    access: u32,
    /// allkeys-tinylfu's sketch estimate for the key.
    sketch_freq: Option<u32>,
}

/// Looks up OBJECT's key argument; None (after replying null) when it is missing.
fn object_lookup(ctx: &mut Ctx, args: &Args) -> Option<ObjectInfo> {
    let key = args.get(2);
    let store = ctx.store();
    let h = store.hash(key);
    let shared_ints = shared_integers_allowed(ctx);
    let mut shard = store.lock(ctx.db(), h);
    let shared = shard.shared_ints.clone();
    let sketch_freq = shard.sketch_frequency(h);
    let info = shard.lookup_notouch(h, key, ctx.now()).map(|e| ObjectInfo {
        encoding: e.value().encoding(),
        // Redis shares the objects of the integers 0..9999 (OBJ_SHARED_INTEGERS), and a
        // shared object reports refcount INT_MAX.
        refcount: if shared_ints && e.value().is_shared_int() {
            i32::MAX as i64
        } else {
            1
        },
        access: match shared_ints {
            true => shared.access(&e.value()).unwrap_or(e.access()),
            false => e.access(),
        },
        sketch_freq,
    });
    drop(shard);
    if info.is_none() {
        ctx.out.null();
    }
    info
}

fn policy(ctx: &Ctx) -> Policy {
    ctx.store().evictor.params.policy()
}

/// Redis stops sharing integer objects when maxmemory is set with an LRU or LFU policy,
/// since each key then needs its own access data.
fn shared_integers_allowed(ctx: &Ctx) -> bool {
    ctx.shared
        .maxmemory
        .load(std::sync::atomic::Ordering::Relaxed)
        == 0
        || policy(ctx).shares_integers()
}

fn object_encoding(ctx: &mut Ctx, args: &Args) -> CmdResult {
    if let Some(info) = object_lookup(ctx, args) {
        ctx.out.bulk(info.encoding.as_bytes());
    }
    Ok(())
}

fn object_refcount(ctx: &mut Ctx, args: &Args) -> CmdResult {
    if let Some(info) = object_lookup(ctx, args) {
        ctx.out.int(info.refcount);
    }
    Ok(())
}

/// Seconds since the key's last access, by the LRU clock its access word holds (under
/// allkeys-tinylfu too, whose entries keep the LRU clock).
fn object_idletime(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let Some(info) = object_lookup(ctx, args) else {
        return Ok(());
    };
    if policy(ctx).is_lfu() {
        return Err(CmdError::new(
            "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
        ));
    }
    // A word left by an LFU policy reads as some clock, as in Redis: the data "takes some
    // time to adjust".
    let idle = ctx.store().idle_seconds(info.access, ctx.now());
    ctx.out.int(idle as i64);
    Ok(())
}

/// The key's LFU counter, decayed to now (Redis's `LFUDecrAndReturn`); under
/// allkeys-tinylfu the sketch's estimate of its recent accesses (0..15).
fn object_freq(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let Some(info) = object_lookup(ctx, args) else {
        return Ok(());
    };
    let p = policy(ctx);
    if p == Policy::AllkeysTinyLfu {
        ctx.out.int(info.sketch_freq.unwrap_or(0) as i64);
        return Ok(());
    }
    if !p.is_lfu() {
        return Err(CmdError::new(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
        ));
    }
    let params = &ctx.store().evictor.params;
    let freq = evict::lfu_decr_and_return(
        info.access,
        evict::lfu_minutes(ctx.now()),
        params.lfu_decay_time(),
    );
    ctx.out.int(freq as i64);
    Ok(())
}

fn object_help(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    const HELP: &[&str] = &[
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Prints this help.",
    ];
    ctx.out.array(HELP.len());
    for line in HELP {
        ctx.out.simple(line);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_cursor;

    #[test]
    fn cursor_parses_like_strtoul() {
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b"+7"), Some(7));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551616"), None);
        assert_eq!(parse_cursor(b" 1"), None);
        assert_eq!(parse_cursor(b"1 "), None);
        assert_eq!(parse_cursor(b"-"), None);
        assert_eq!(parse_cursor(b"0x10"), None);
    }
}
