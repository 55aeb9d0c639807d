//! String commands: GET, SET and its variants (SETNX, SETEX, PSETEX, GETSET, GETEX,
//! GETDEL), MGET/MSET/MSETNX, APPEND, STRLEN, GETRANGE/SUBSTR, SETRANGE, the integer and
//! float counters, and LCS, each following Redis 7.0's `t_string.c` step by step so that
//! replies, error texts and error precedence are the same.

use std::borrow::Cow;

use super::keyspace::class;
use super::{cmd, err, Args, CmdError, CmdResult, CommandTable, Ctx};
use crate::store::{Entry, Shard, Value};
use crate::util::long_double::LongDouble;

/// ACL categories as Redis 7.0 reports them for each kind of string command.
const READ_FAST: &[&str] = &["read", "string", "fast"];
const READ_SLOW: &[&str] = &["read", "string", "slow"];
const WRITE_FAST: &[&str] = &["write", "string", "fast"];
const WRITE_SLOW: &[&str] = &["write", "string", "slow"];

pub fn register(t: &mut CommandTable) {
    t.add(cmd("get", 2, "readonly fast", READ_FAST, (1, 1, 1), get));
    t.add(cmd("set", -3, "write denyoom", WRITE_SLOW, (1, 1, 1), set));
    t.add(cmd(
        "setnx",
        3,
        "write denyoom fast",
        WRITE_FAST,
        (1, 1, 1),
        setnx,
    ));
    t.add(cmd(
        "setex",
        4,
        "write denyoom",
        WRITE_SLOW,
        (1, 1, 1),
        setex,
    ));
    t.add(cmd(
        "psetex",
        4,
        "write denyoom",
        WRITE_SLOW,
        (1, 1, 1),
        psetex,
    ));
    t.add(cmd("getex", -2, "write fast", WRITE_FAST, (1, 1, 1), getex));
    t.add(cmd(
        "getdel",
        2,
        "write fast",
        WRITE_FAST,
        (1, 1, 1),
        getdel,
    ));
    t.add(cmd(
        "getset",
        3,
        "write denyoom fast",
        WRITE_FAST,
        (1, 1, 1),
        getset,
    ));
    t.add(cmd(
        "mget",
        -2,
        "readonly fast",
        READ_FAST,
        (1, -1, 1),
        mget,
    ));
    t.add(cmd(
        "mset",
        -3,
        "write denyoom",
        WRITE_SLOW,
        (1, -1, 2),
        mset,
    ));
    t.add(cmd(
        "msetnx",
        -3,
        "write denyoom",
        WRITE_SLOW,
        (1, -1, 2),
        msetnx,
    ));
    t.add(cmd(
        "append",
        3,
        "write denyoom fast",
        WRITE_FAST,
        (1, 1, 1),
        append,
    ));
    t.add(cmd(
        "strlen",
        2,
        "readonly fast",
        READ_FAST,
        (1, 1, 1),
        strlen,
    ));
    t.add(cmd(
        "getrange",
        4,
        "readonly",
        READ_SLOW,
        (1, 1, 1),
        getrange,
    ));
    t.add(cmd("substr", 4, "readonly", READ_SLOW, (1, 1, 1), getrange));
    t.add(cmd(
        "setrange",
        4,
        "write denyoom",
        WRITE_SLOW,
        (1, 1, 1),
        setrange,
    ));
    t.add(cmd(
        "incr",
        2,
        "write denyoom fast",
        WRITE_FAST,
        (1, 1, 1),
        incr,
    ));
    t.add(cmd(
        "decr",
        2,
        "write denyoom fast",
        WRITE_FAST,
        (1, 1, 1),
        decr,
    ));
    t.add(cmd(
        "incrby",
        3,
        "write denyoom fast",
        WRITE_FAST,
        (1, 1, 1),
        incrby,
    ));
    t.add(cmd(
        "decrby",
        3,
        "write denyoom fast",
        WRITE_FAST,
        (1, 1, 1),
        decrby,
    ));
    t.add(cmd(
        "incrbyfloat",
        3,
        "write denyoom fast",
        WRITE_FAST,
        (1, 1, 1),
        incrbyfloat,
    ));
    t.add(cmd("lcs", -3, "readonly", READ_SLOW, (1, 2, 1), lcs));
}

/// The bytes of a string value, or WRONGTYPE for any other type.
pub fn string_of(v: &Value) -> Result<Cow<'_, [u8]>, CmdError> {
    v.string_bytes().ok_or(CmdError::new(err::WRONGTYPE))
}

/// The bytes of an entry's string value (an integer formatted), or WRONGTYPE.
pub fn entry_string(e: &Entry) -> Result<Cow<'_, [u8]>, CmdError> {
    e.string_bytes().ok_or(CmdError::new(err::WRONGTYPE))
}

/// Replies with an entry's string value, or WRONGTYPE for other types: the bytes are
/// read where they are (GET's path), no value decoded.
pub fn write_entry_string(ctx: &mut Ctx, e: &Entry) -> CmdResult {
    match (e.str_slice(), e.as_int()) {
        (Some(s), _) => ctx.out.bulk(s),
        (None, Some(i)) => ctx.out.bulk_int(i),
        (None, None) => return Err(CmdError::new(err::WRONGTYPE)),
    }
    Ok(())
}

/// `checkStringLength`: a string may not grow beyond proto-max-bulk-len.
pub fn check_string_length(ctx: &Ctx, size: u64, append: u64) -> CmdResult {
    let max = ctx.shared.config.read().proto_max_bulk_len;
    match size.checked_add(append) {
        Some(total) if total <= max.max(0) as u64 => Ok(()),
        _ => Err(CmdError::new(
            "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
        )),
    }
}

fn new_entry(key: &[u8], value: Value, expire_at: u64, clock: u32) -> Entry {
    Entry::new(key, value, expire_at, clock)
}

/// The usual pair after a write to `key` of the client's database: Redis's
/// signalModifiedKey then notifyKeyspaceEvent(`class`, `event`).
pub fn changed(ctx: &mut Ctx, class: u32, event: &'static str, key: &[u8]) {
    let db = ctx.db();
    ctx.modified(db, key);
    ctx.notify(class, event, db, key);
}

fn get(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let key = args.get(1);
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    match shard.lookup_read(h, key, ctx.now(), ctx.clock()) {
        None => ctx.out.null(),
        Some(e) => write_entry_string(ctx, e)?,
    }
    Ok(())
}

/// Which expire option was given: the unit of its number and whether it is absolute.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ExpireKind {
    Ex,
    Px,
    ExAt,
    PxAt,
}

impl ExpireKind {
    fn from_word(a: &[u8]) -> Option<ExpireKind> {
        if a.eq_ignore_ascii_case(b"ex") {
            Some(ExpireKind::Ex)
        } else if a.eq_ignore_ascii_case(b"px") {
            Some(ExpireKind::Px)
        } else if a.eq_ignore_ascii_case(b"exat") {
            Some(ExpireKind::ExAt)
        } else if a.eq_ignore_ascii_case(b"pxat") {
            Some(ExpireKind::PxAt)
        } else {
            None
        }
    }

    fn is_absolute(self) -> bool {
        matches!(self, ExpireKind::ExAt | ExpireKind::PxAt)
    }
}

/// Options of SET and GETEX, parsed as Redis's `parseExtendedStringArgumentsOrReply`.
#[derive(Default)]
struct ExtOptions<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    /// The expire option and its (not yet validated) argument.
    expire: Option<(ExpireKind, &'a [u8])>,
}

/// Parses the options from `start` on. SET accepts NX XX GET KEEPTTL, GETEX accepts
/// PERSIST; both take EX PX EXAT PXAT. The same option may repeat (the last value wins);
/// conflicting ones are a syntax error, as is an expire option without a value.
fn parse_ext_options<'a>(
    args: &Args<'a>,
    start: usize,
    for_set: bool,
) -> Result<ExtOptions<'a>, CmdError> {
    let mut o = ExtOptions::default();
    let mut i = start;
    while i < args.len() {
        let a = args.get(i);
        let has_next = i + 1 < args.len();
        let kind = ExpireKind::from_word(a);
        if for_set && a.eq_ignore_ascii_case(b"nx") && !o.xx {
            o.nx = true;
        } else if for_set && a.eq_ignore_ascii_case(b"xx") && !o.nx {
            o.xx = true;
        } else if for_set && a.eq_ignore_ascii_case(b"get") {
            o.get = true;
        } else if for_set && a.eq_ignore_ascii_case(b"keepttl") && o.expire.is_none() {
            o.keepttl = true;
        } else if !for_set && a.eq_ignore_ascii_case(b"persist") && o.expire.is_none() {
            o.persist = true;
        } else if let Some(kind) = kind.filter(|k| {
            has_next && !o.keepttl && !o.persist && o.expire.is_none_or(|(prev, _)| prev == *k)
        }) {
            o.expire = Some((kind, args.get(i + 1)));
            i += 1;
        } else {
            return Err(CmdError::new(err::SYNTAX));
        }
        i += 1;
    }
    Ok(o)
}

/// `getExpireMillisecondsOrReply`: turns an expire option's argument into a unix-ms
/// deadline, with Redis's checks: the number must be positive, seconds must not overflow
/// when turned into ms, and a relative time must not overflow when added to now.
fn expire_deadline(
    kind: ExpireKind,
    arg: &[u8],
    now: u64,
    cmd_name: &str,
) -> Result<u64, CmdError> {
    let v = crate::util::parse_i64(arg).ok_or(CmdError::new(err::NOT_INT))?;
    let invalid = || CmdError::from(format!("ERR invalid expire time in '{}' command", cmd_name));
    let in_seconds = matches!(kind, ExpireKind::Ex | ExpireKind::ExAt);
    if v <= 0 || (in_seconds && v > i64::MAX / 1000) {
        return Err(invalid());
    }
    let ms = if in_seconds { v * 1000 } else { v };
    let deadline = if kind.is_absolute() {
        ms
    } else {
        ms.checked_add(now as i64).ok_or_else(invalid)?
    };
    Ok(deadline as u64)
}

/// Turns an EX/PX/EXAT/PXAT argument into a deadline (kept for other families' use).
pub fn parse_expire(
    arg: &[u8],
    unit_ms: bool,
    absolute: bool,
    now: u64,
    cmd_name: &str,
) -> Result<u64, CmdError> {
    let kind = match (unit_ms, absolute) {
        (false, false) => ExpireKind::Ex,
        (true, false) => ExpireKind::Px,
        (false, true) => ExpireKind::ExAt,
        (true, true) => ExpireKind::PxAt,
    };
    expire_deadline(kind, arg, now, cmd_name)
}

/// What `setGenericCommand` replies when the key was set, and when NX/XX stopped it.
#[derive(Clone, Copy)]
enum SetReplies {
    /// SET: +OK, or a null bulk.
    OkNull,
    /// SETNX: :1, or :0.
    OneZero,
}

/// Redis's `setGenericCommand`: validates the deadline, replies the old value for GET,
/// applies NX/XX, stores the value (dropping the TTL unless KEEPTTL) and sets the deadline.
fn set_generic(
    ctx: &mut Ctx,
    key: &[u8],
    value: &[u8],
    opts: &ExtOptions,
    cmd_name: &str,
    replies: SetReplies,
) -> CmdResult {
    let (now, clock) = (ctx.now(), ctx.clock());
    let deadline = match opts.expire {
        Some((kind, arg)) => Some(expire_deadline(kind, arg, now, cmd_name)?),
        None => None,
    };
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let existing = if opts.get {
        // GET reads the old value as GET would (a keyspace hit or miss).
        let e = shard.lookup_read(h, key, now, clock);
        match &e {
            Some(e) => write_entry_string(ctx, e)?,
            None => ctx.out.null(),
        }
        e
    } else {
        shard.lookup_write(h, key, now, clock)
    };
    let found = existing.is_some();
    if (opts.nx && found) || (opts.xx && !found) {
        if !opts.get {
            match replies {
                SetReplies::OkNull => ctx.out.null(),
                SetReplies::OneZero => ctx.out.int(0),
            }
        }
        return Ok(());
    }
    let value = Value::string(value);
    let db = ctx.db();
    match existing {
        Some(e) => {
            e.set_value(value);
            let old = e.expire_at();
            let new = match deadline {
                Some(d) => d,
                None if opts.keepttl => old,
                None => 0,
            };
            if new != old {
                shard.set_expire(h, key, new, now);
            }
        }
        None => {
            let entry = new_entry(key, value, deadline.unwrap_or(0), clock);
            shard.insert_new(h, entry, &store.entry_hasher());
            ctx.notify(class::NEW, "new", db, key);
        }
    }
    drop(shard);
    // setKey signals, then "set", then (with an expire option) "expire".
    ctx.modified(db, key);
    ctx.notify(class::STRING, "set", db, key);
    if deadline.is_some() {
        ctx.notify(class::GENERIC, "expire", db, key);
    }
    if !opts.get {
        match replies {
            SetReplies::OkNull => ctx.out.ok(),
            SetReplies::OneZero => ctx.out.int(1),
        }
    }
    Ok(())
}

fn set(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let opts = parse_ext_options(args, 3, true)?;
    set_generic(
        ctx,
        args.get(1),
        args.get(2),
        &opts,
        "set",
        SetReplies::OkNull,
    )
}

fn setnx(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let opts = ExtOptions {
        nx: true,
        ..Default::default()
    };
    set_generic(
        ctx,
        args.get(1),
        args.get(2),
        &opts,
        "setnx",
        SetReplies::OneZero,
    )
}

fn setex(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let opts = ExtOptions {
        expire: Some((ExpireKind::Ex, args.get(2))),
        ..Default::default()
    };
    set_generic(
        ctx,
        args.get(1),
        args.get(3),
        &opts,
        "setex",
        SetReplies::OkNull,
    )
}

fn psetex(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let opts = ExtOptions {
        expire: Some((ExpireKind::Px, args.get(2))),
        ..Default::default()
    };
    set_generic(
        ctx,
        args.get(1),
        args.get(3),
        &opts,
        "psetex",
        SetReplies::OkNull,
    )
}

fn getex(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let opts = parse_ext_options(args, 2, false)?;
    let key = args.get(1);
    let (now, clock) = (ctx.now(), ctx.clock());
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let Some(e) = shard.lookup_read(h, key, now, clock) else {
        ctx.out.null();
        return Ok(());
    };
    entry_string(e)?;
    // The deadline is validated only once the key is known to hold a string.
    let deadline = match opts.expire {
        Some((kind, arg)) => Some((kind, expire_deadline(kind, arg, now, "getex")?)),
        None => None,
    };
    write_entry_string(ctx, e)?;
    let had_ttl = e.expire_at() != 0;
    let db = ctx.db();
    match deadline {
        Some((kind, d)) if kind.is_absolute() && d <= now => {
            shard.remove(h, key, now);
            drop(shard);
            ctx.modified(db, key);
            ctx.notify(class::GENERIC, "del", db, key);
        }
        Some((_, d)) => {
            shard.set_expire(h, key, d, now);
            drop(shard);
            ctx.modified(db, key);
            ctx.notify(class::GENERIC, "expire", db, key);
        }
        None if opts.persist && had_ttl => {
            shard.set_expire(h, key, 0, now);
            drop(shard);
            ctx.modified(db, key);
            ctx.notify(class::GENERIC, "persist", db, key);
        }
        None => {}
    }
    Ok(())
}

fn getdel(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let key = args.get(1);
    let (now, clock) = (ctx.now(), ctx.clock());
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let Some(e) = shard.lookup_read(h, key, now, clock) else {
        ctx.out.null();
        return Ok(());
    };
    write_entry_string(ctx, e)?;
    shard.remove(h, key, now);
    drop(shard);
    let db = ctx.db();
    ctx.modified(db, key);
    ctx.notify(class::GENERIC, "del", db, key);
    Ok(())
}

fn getset(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let key = args.get(1);
    let (now, clock) = (ctx.now(), ctx.clock());
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let value = Value::string(args.get(2));
    match shard.lookup_read(h, key, now, clock) {
        Some(e) => {
            write_entry_string(ctx, e)?;
            e.set_value(value);
            if e.expire_at() != 0 {
                shard.set_expire(h, key, 0, now);
            }
        }
        None => {
            ctx.out.null();
            shard.insert_new(h, new_entry(key, value, 0, clock), &store.entry_hasher());
            ctx.notify(class::NEW, "new", ctx.db(), key);
        }
    }
    drop(shard);
    let db = ctx.db();
    ctx.modified(db, key);
    ctx.notify(class::STRING, "set", db, key);
    Ok(())
}

fn mget(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let store = ctx.store();
    let db = ctx.db();
    let (now, clock) = (ctx.now(), ctx.clock());
    let hashes: Vec<u64> = args.iter_from(1).map(|k| store.hash(k)).collect();
    let mut locked = store.lock_many(hashes.iter().map(|&h| (db, h)));
    ctx.out.array(hashes.len());
    for (i, &h) in hashes.iter().enumerate() {
        let key = args.get(i + 1);
        let shard = locked.shard(store, db, h);
        match shard.lookup_read(h, key, now, clock) {
            Some(e) if e.value().is_string() => write_entry_string(ctx, e)?,
            _ => ctx.out.null(),
        }
    }
    Ok(())
}

/// MSET and MSETNX (`msetGenericCommand`): all keys are written under their shard locks
/// at once, each losing its TTL; MSETNX writes nothing if any key exists.
fn mset_generic(ctx: &mut Ctx, args: &Args, nx: bool) -> CmdResult {
    if args.len().is_multiple_of(2) {
        return Err(super::wrong_arity(if nx { "msetnx" } else { "mset" }));
    }
    let store = ctx.store();
    let db = ctx.db();
    let (now, clock) = (ctx.now(), ctx.clock());
    let hashes: Vec<u64> = (1..args.len())
        .step_by(2)
        .map(|i| store.hash(args.get(i)))
        .collect();
    let mut locked = store.lock_many(hashes.iter().map(|&h| (db, h)));
    if nx {
        for (n, &h) in hashes.iter().enumerate() {
            let key = args.get(1 + 2 * n);
            if locked
                .shard(store, db, h)
                .lookup_write(h, key, now, clock)
                .is_some()
            {
                ctx.out.int(0);
                return Ok(());
            }
        }
    }
    let hasher = store.entry_hasher();
    for (n, &h) in hashes.iter().enumerate() {
        let key = args.get(1 + 2 * n);
        let entry = new_entry(key, Value::string(args.get(2 + 2 * n)), 0, clock);
        // Per key, as setKey then notifyKeyspaceEvent: "new" if created, then "set".
        if locked
            .shard(store, db, h)
            .insert(h, entry, now, &hasher)
            .is_none()
        {
            ctx.notify(class::NEW, "new", db, key);
        }
        ctx.modified(db, key);
        ctx.notify(class::STRING, "set", db, key);
    }
    if nx {
        ctx.out.int(1);
    } else {
        ctx.out.ok();
    }
    Ok(())
}

fn mset(ctx: &mut Ctx, args: &Args) -> CmdResult {
    mset_generic(ctx, args, false)
}

fn msetnx(ctx: &mut Ctx, args: &Args) -> CmdResult {
    mset_generic(ctx, args, true)
}

fn append(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let (key, tail) = (args.get(1), args.get(2));
    let (now, clock) = (ctx.now(), ctx.clock());
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let total = match shard.lookup_write(h, key, now, clock) {
        Some(e) => {
            let len = e
                .value()
                .string_len()
                .ok_or(CmdError::new(err::WRONGTYPE))?;
            check_string_length(ctx, len as u64, tail.len() as u64)?;
            let data = e.string_mut().ok_or(CmdError::new(err::WRONGTYPE))?;
            data.extend_from_slice(tail);
            data.len()
        }
        None => {
            // A new key gets the argument as SET would encode it (int, embstr or raw).
            let entry = new_entry(key, Value::string(tail), 0, clock);
            shard.insert_new(h, entry, &store.entry_hasher());
            ctx.notify(class::NEW, "new", ctx.db(), key);
            tail.len()
        }
    };
    drop(shard);
    // Even an empty tail counts as a change, as in Redis.
    let db = ctx.db();
    ctx.modified(db, key);
    ctx.notify(class::STRING, "append", db, key);
    ctx.out.int(total as i64);
    Ok(())
}

fn strlen(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let key = args.get(1);
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let n = match shard.lookup_read(h, key, ctx.now(), ctx.clock()) {
        None => 0,
        Some(e) => e
            .value()
            .string_len()
            .ok_or(CmdError::new(err::WRONGTYPE))?,
    };
    ctx.out.int(n as i64);
    Ok(())
}

/// GETRANGE and SUBSTR: inclusive byte range with negative indexes from the end.
fn getrange(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let mut start = args.int(2)?;
    let mut end = args.int(3)?;
    let key = args.get(1);
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let Some(e) = shard.lookup_read(h, key, ctx.now(), ctx.clock()) else {
        ctx.out.bulk(b"");
        return Ok(());
    };
    let s = entry_string(e)?;
    let len = s.len() as i64;
    if start < 0 && end < 0 && start > end {
        ctx.out.bulk(b"");
        return Ok(());
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        ctx.out.bulk(b"");
    } else {
        ctx.out.bulk(&s[start as usize..=end as usize]);
    }
    Ok(())
}

fn setrange(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let key = args.get(1);
    let offset = args.int(2)?;
    let value = args.get(3);
    if offset < 0 {
        return Err(CmdError::new("ERR offset is out of range"));
    }
    let offset = offset as u64;
    let (now, clock) = (ctx.now(), ctx.clock());
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let len = match shard.lookup_write(h, key, now, clock) {
        None => {
            if value.is_empty() {
                ctx.out.int(0);
                return Ok(());
            }
            check_string_length(ctx, offset, value.len() as u64)?;
            let mut data = vec![0u8; offset as usize];
            data.extend_from_slice(value);
            let len = data.len();
            let entry = new_entry(key, Value::raw(data), 0, clock);
            shard.insert_new(h, entry, &store.entry_hasher());
            ctx.notify(class::NEW, "new", ctx.db(), key);
            len
        }
        Some(e) => {
            let old_len = e
                .value()
                .string_len()
                .ok_or(CmdError::new(err::WRONGTYPE))?;
            if value.is_empty() {
                // Nothing to write: the value (and its encoding) stays as it is.
                ctx.out.int(old_len as i64);
                return Ok(());
            }
            check_string_length(ctx, offset, value.len() as u64)?;
            let data = e.string_mut().ok_or(CmdError::new(err::WRONGTYPE))?;
            let off = offset as usize;
            let end = off + value.len();
            if data.len() < end {
                data.resize(end, 0);
            }
            data[off..end].copy_from_slice(value);
            data.len()
        }
    };
    drop(shard);
    // Only reached with a non-empty value: an empty one returned above, unchanged.
    let db = ctx.db();
    ctx.modified(db, key);
    ctx.notify(class::STRING, "setrange", db, key);
    ctx.out.int(len as i64);
    Ok(())
}

/// `incrDecrCommand`: the value must be a canonical i64; the TTL is kept.
fn incr_by(ctx: &mut Ctx, key: &[u8], delta: i64) -> CmdResult {
    let store = ctx.store();
    let h = store.hash(key);
    let (now, clock) = (ctx.now(), ctx.clock());
    let mut shard = store.lock(ctx.db(), h);
    if let Some(e) = shard.lookup_write(h, key, now, clock) {
        let cur = match e.as_int() {
            Some(i) => i,
            None => crate::util::parse_i64(&entry_string(e)?).ok_or(CmdError::new(err::NOT_INT))?,
        };
        let n = cur.checked_add(delta).ok_or(CmdError::new(err::OVERFLOW))?;
        e.set_value(Value::Int(n));
        drop(shard);
        changed(ctx, class::STRING, "incrby", key);
        ctx.out.int(n);
        return Ok(());
    }
    shard.insert_new(
        h,
        new_entry(key, Value::Int(delta), 0, clock),
        &store.entry_hasher(),
    );
    drop(shard);
    ctx.notify(class::NEW, "new", ctx.db(), key);
    changed(ctx, class::STRING, "incrby", key);
    ctx.out.int(delta);
    Ok(())
}

fn incr(ctx: &mut Ctx, args: &Args) -> CmdResult {
    incr_by(ctx, args.get(1), 1)
}

fn decr(ctx: &mut Ctx, args: &Args) -> CmdResult {
    incr_by(ctx, args.get(1), -1)
}

fn incrby(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let d = args.int(2)?;
    incr_by(ctx, args.get(1), d)
}

fn decrby(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let d = args.int(2)?;
    if d == i64::MIN {
        return Err(CmdError::new("ERR decrement would overflow"));
    }
    incr_by(ctx, args.get(1), -d)
}

/// INCRBYFLOAT computes in 80-bit long double and stores the `%.17Lf`-style text as a
/// plain (embstr or raw) string, never as an int, exactly as Redis does.
fn incrbyfloat(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let key = args.get(1);
    let store = ctx.store();
    let h = store.hash(key);
    let (now, clock) = (ctx.now(), ctx.clock());
    let mut shard = store.lock(ctx.db(), h);
    let existing = shard.lookup_write(h, key, now, clock);
    let cur = match &existing {
        None => LongDouble::ZERO,
        Some(e) => match e.as_int() {
            Some(i) => LongDouble::from_i64(i),
            None => LongDouble::parse(&entry_string(e)?).ok_or(CmdError::new(err::NOT_FLOAT))?,
        },
    };
    let incr = LongDouble::parse(args.get(2)).ok_or(CmdError::new(err::NOT_FLOAT))?;
    let text = (cur + incr)
        .to_human_string()
        .ok_or(CmdError::new("ERR increment would produce NaN or Infinity"))?;
    ctx.out.bulk(text.as_bytes());
    let value = Value::str_of(
        text.as_bytes(),
        text.len() > crate::store::value::EMBSTR_LIMIT,
    );
    match existing {
        Some(e) => e.set_value(value),
        None => {
            shard.insert_new(h, new_entry(key, value, 0, clock), &store.entry_hasher());
            ctx.notify(class::NEW, "new", ctx.db(), key);
        }
    }
    drop(shard);
    changed(ctx, class::STRING, "incrbyfloat", key);
    Ok(())
}

/// LCS (`lcsCommand`): both strings are copied under their shard locks, then the
/// dynamic-programming table is built with no lock held.
fn lcs(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let (a, b) = lcs_operands(ctx, args.get(1), args.get(2))?;
    let mut getlen = false;
    let mut getidx = false;
    let mut withmatchlen = false;
    let mut minmatchlen: i64 = 0;
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        if args.is(j, "idx") {
            getidx = true;
        } else if args.is(j, "len") {
            getlen = true;
        } else if args.is(j, "withmatchlen") {
            withmatchlen = true;
        } else if args.is(j, "minmatchlen") && more {
            minmatchlen = args.int(j + 1)?.max(0);
            j += 1;
        } else {
            return Err(CmdError::new(err::SYNTAX));
        }
        j += 1;
    }
    if getidx && getlen {
        return Err(CmdError::new(
            "ERR If you want both the length and indexes, please just use IDX.",
        ));
    }
    if a.len() as u64 >= u32::MAX as u64 - 1 || b.len() as u64 >= u32::MAX as u64 - 1 {
        return Err(CmdError::new("ERR String too long for LCS"));
    }
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    let max = ctx.shared.config.read().proto_max_bulk_len.max(0) as u64;
    if cells.saturating_mul(4) > max {
        return Err(CmdError::new(
            "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }
    let mut table: Vec<u32> = Vec::new();
    if table.try_reserve_exact(cells as usize).is_err() {
        return Err(CmdError::new(
            "ERR Insufficient memory, failed allocating transient memory for LCS",
        ));
    }
    table.resize(cells as usize, 0);
    let w = blen + 1;
    for i in 1..=alen {
        for jj in 1..=blen {
            table[i * w + jj] = if a[i - 1] == b[jj - 1] {
                table[(i - 1) * w + jj - 1] + 1
            } else {
                table[(i - 1) * w + jj].max(table[i * w + jj - 1])
            };
        }
    }
    let total = table[alen * w + blen];
    if getlen && !getidx {
        ctx.out.int(total as i64);
        return Ok(());
    }
    // Walk back from the end, collecting the LCS and the matching ranges as Redis does.
    let mut result = vec![0u8; total as usize];
    let mut idx = total as usize;
    let mut ranges: Vec<[u32; 5]> = Vec::new();
    let (alen32, mut i, mut jj) = (alen as u32, alen, blen);
    let (mut astart, mut aend, mut bstart, mut bend) = (alen32, 0u32, 0u32, 0u32);
    while i > 0 && jj > 0 {
        let mut emit = false;
        if a[i - 1] == b[jj - 1] {
            result[idx - 1] = a[i - 1];
            if astart == alen32 {
                astart = i as u32 - 1;
                aend = i as u32 - 1;
                bstart = jj as u32 - 1;
                bend = jj as u32 - 1;
            } else if astart == i as u32 && bstart == jj as u32 {
                astart -= 1;
                bstart -= 1;
            } else {
                emit = true;
            }
            if astart == 0 || bstart == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            jj -= 1;
        } else {
            if table[(i - 1) * w + jj] > table[i * w + jj - 1] {
                i -= 1;
            } else {
                jj -= 1;
            }
            if astart != alen32 {
                emit = true;
            }
        }
        let match_len = aend.wrapping_sub(astart).wrapping_add(1);
        if emit {
            if minmatchlen == 0 || match_len as i64 >= minmatchlen {
                ranges.push([astart, aend, bstart, bend, match_len]);
            }
            astart = alen32;
        }
    }
    if !getidx {
        ctx.out.bulk(&result);
        return Ok(());
    }
    ctx.out.map(2);
    ctx.out.bulk(b"matches");
    ctx.out.array(ranges.len());
    for r in &ranges {
        ctx.out.array(2 + withmatchlen as usize);
        ctx.out.array(2);
        ctx.out.int(r[0] as i64);
        ctx.out.int(r[1] as i64);
        ctx.out.array(2);
        ctx.out.int(r[2] as i64);
        ctx.out.int(r[3] as i64);
        if withmatchlen {
            ctx.out.int(r[4] as i64);
        }
    }
    ctx.out.bulk(b"len");
    ctx.out.int(total as i64);
    Ok(())
}

/// Copies LCS's two strings (missing keys are empty) under both shard locks.
fn lcs_operands(ctx: &Ctx, ka: &[u8], kb: &[u8]) -> Result<(Vec<u8>, Vec<u8>), CmdError> {
    let store = ctx.store();
    let db = ctx.db();
    let (now, clock) = (ctx.now(), ctx.clock());
    let (ha, hb) = (store.hash(ka), store.hash(kb));
    let mut locked = store.lock_many([(db, ha), (db, hb)]);
    let mut read = |key: &[u8], h: u64| -> Result<Vec<u8>, ()> {
        match locked.shard(store, db, h).lookup_read(h, key, now, clock) {
            None => Ok(Vec::new()),
            Some(e) => e.value().string_bytes().map(|c| c.into_owned()).ok_or(()),
        }
    };
    let a = read(ka, ha);
    let b = read(kb, hb);
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        _ => Err(CmdError::new(
            "ERR The specified keys must contain string values",
        )),
    }
}

/// Looks up `key` for a command that modifies its string in place (SETBIT, BITFIELD):
/// WRONGTYPE for other types, otherwise creates an empty raw string if missing.
/// Returns whether the key was created.
pub fn ensure_string(
    shard: &mut Shard,
    store: &crate::store::Store,
    h: u64,
    key: &[u8],
    now: u64,
    clock: u32,
) -> Result<bool, CmdError> {
    match shard.lookup_write(h, key, now, clock) {
        Some(e) if !e.value().is_string() => Err(CmdError::new(err::WRONGTYPE)),
        Some(_) => Ok(false),
        None => {
            let value = Value::raw(Vec::new());
            shard.insert_new(h, new_entry(key, value, 0, clock), &store.entry_hasher());
            Ok(true)
        }
    }
}
