//! String commands: GET, SET and its variants, counters, ranges, MGET/MSET.

use super::{cmd, err, Args, CmdError, CmdResult, CommandTable, Ctx};
use crate::store::{Entry, Value};

const CAT: &[&str] = &["string"];

pub fn register(t: &mut CommandTable) {
    t.add(cmd("get", 2, "readonly fast", CAT, (1, 1, 1), get));
    t.add(cmd("set", -3, "write denyoom", CAT, (1, 1, 1), set));
    t.add(cmd("incr", 2, "write denyoom fast", CAT, (1, 1, 1), incr));
    t.add(cmd("decr", 2, "write denyoom fast", CAT, (1, 1, 1), decr));
    t.add(cmd(
        "incrby",
        3,
        "write denyoom fast",
        CAT,
        (1, 1, 1),
        incrby,
    ));
    t.add(cmd(
        "decrby",
        3,
        "write denyoom fast",
        CAT,
        (1, 1, 1),
        decrby,
    ));
    t.add(cmd("mget", -2, "readonly fast", CAT, (1, -1, 1), mget));
    t.add(cmd("mset", -3, "write denyoom", CAT, (1, -1, 2), mset));
}

fn get(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let key = args.get(1);
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    match shard.lookup_read(h, key, ctx.now(), ctx.clock()) {
        None => ctx.out.null(),
        Some(e) => write_string(ctx, &e.value)?,
    }
    Ok(())
}

/// Replies with a string value, or WRONGTYPE for other types.
pub fn write_string(ctx: &mut Ctx, v: &Value) -> CmdResult {
    match v {
        Value::Int(i) => ctx.out.bulk_int(*i),
        Value::Str { data, .. } => ctx.out.bulk(data),
    }
    Ok(())
}

/// Options of SET, parsed as Redis's `parseExtendedStringArgumentsOrReply`.
#[derive(Default)]
struct SetOptions {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    /// Absolute deadline in unix ms.
    expire_at: Option<u64>,
}

/// Turns an EX/PX/EXAT/PXAT argument into a deadline, with Redis's checks and errors.
pub fn parse_expire(
    arg: &[u8],
    unit_ms: bool,
    absolute: bool,
    now: u64,
    cmd_name: &str,
) -> Result<u64, CmdError> {
    let v = crate::util::parse_i64(arg).ok_or(CmdError::new(err::NOT_INT))?;
    let invalid = || CmdError::from(format!("ERR invalid expire time in '{}' command", cmd_name));
    if v <= 0 {
        return Err(invalid());
    }
    let ms = if unit_ms {
        v
    } else {
        v.checked_mul(1000).ok_or_else(invalid)?
    };
    let deadline = if absolute {
        ms
    } else {
        ms.checked_add(now as i64).ok_or_else(invalid)?
    };
    if deadline <= 0 {
        return Err(invalid());
    }
    Ok(deadline as u64)
}

fn parse_set_options(args: &Args, now: u64) -> Result<SetOptions, CmdError> {
    let mut o = SetOptions::default();
    let mut i = 3;
    let mut expire_word: Option<&[u8]> = None;
    let mut expire_pos = 0;
    while i < args.len() {
        let a = args.get(i);
        let next = i + 1 < args.len();
        if a.eq_ignore_ascii_case(b"nx") && !o.xx {
            o.nx = true;
        } else if a.eq_ignore_ascii_case(b"xx") && !o.nx {
            o.xx = true;
        } else if a.eq_ignore_ascii_case(b"get") {
            o.get = true;
        } else if a.eq_ignore_ascii_case(b"keepttl") && expire_word.is_none() {
            o.keepttl = true;
        } else if !o.keepttl
            && next
            && is_expire_word(a)
            && expire_word.is_none_or(|w: &[u8]| w.eq_ignore_ascii_case(a))
        {
            // The value is parsed after all options, so a syntax error wins as in Redis;
            // the same option may repeat (the last wins), a different one may not.
            expire_word = Some(a);
            expire_pos = i;
            i += 1;
        } else {
            return Err(CmdError::new(err::SYNTAX));
        }
        i += 1;
    }
    if let Some(word) = expire_word {
        let pos = expire_pos;
        let (unit_ms, absolute) = expire_kind(word);
        o.expire_at = Some(parse_expire(
            args.get(pos + 1),
            unit_ms,
            absolute,
            now,
            "set",
        )?);
    }
    Ok(o)
}

fn is_expire_word(a: &[u8]) -> bool {
    ["ex", "px", "exat", "pxat"]
        .iter()
        .any(|w| a.eq_ignore_ascii_case(w.as_bytes()))
}

/// (unit is ms, deadline is absolute) for EX/PX/EXAT/PXAT.
fn expire_kind(a: &[u8]) -> (bool, bool) {
    let lower = a.to_ascii_lowercase();
    match lower.as_slice() {
        b"ex" => (false, false),
        b"px" => (true, false),
        b"exat" => (false, true),
        _ => (true, true),
    }
}

fn set(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let opts = if args.len() > 3 {
        parse_set_options(args, ctx.now())?
    } else {
        SetOptions::default()
    };
    let key = args.get(1);
    let store = ctx.store();
    let h = store.hash(key);
    let (now, clock) = (ctx.now(), ctx.clock());
    let mut shard = store.lock(ctx.db(), h);
    let existing = shard.lookup_write(h, key, now, clock);
    if opts.get {
        match &existing {
            Some(e) if !e.value.is_string() => return Err(CmdError::new(err::WRONGTYPE)),
            _ => {}
        }
    }
    let exists = existing.is_some();
    if (opts.nx && exists) || (opts.xx && !exists) {
        match existing {
            Some(e) if opts.get => write_string(ctx, &e.value)?,
            _ => ctx.out.null(),
        }
        return Ok(());
    }
    let value = Value::string(args.get(2));
    let keep = if opts.keepttl {
        existing.as_ref().map(|e| e.expire_at).unwrap_or(0)
    } else {
        0
    };
    let deadline = opts.expire_at.unwrap_or(keep);
    if let Some(e) = existing {
        // Replace in place: no rehash, and the old value is returned for GET.
        let old = std::mem::replace(&mut e.value, value);
        let old_deadline = e.expire_at;
        if deadline != old_deadline {
            shard.set_expire(h, key, deadline, now);
        }
        if opts.get {
            write_string(ctx, &old)?;
        } else {
            ctx.out.ok();
        }
        return Ok(());
    }
    let hasher = store.entry_hasher();
    shard.insert_new(
        h,
        Entry {
            key: key.into(),
            value,
            expire_at: deadline,
            access: clock,
        },
        &hasher,
    );
    if opts.get {
        ctx.out.null();
    } else {
        ctx.out.ok();
    }
    Ok(())
}

fn incr_by(ctx: &mut Ctx, key: &[u8], delta: i64) -> CmdResult {
    let store = ctx.store();
    let h = store.hash(key);
    let (now, clock) = (ctx.now(), ctx.clock());
    let mut shard = store.lock(ctx.db(), h);
    if let Some(e) = shard.lookup_write(h, key, now, clock) {
        let cur = match &e.value {
            Value::Int(i) => *i,
            Value::Str { data, .. } => {
                crate::util::parse_i64(data).ok_or(CmdError::new(err::NOT_INT))?
            }
        };
        let n = cur.checked_add(delta).ok_or(CmdError::new(err::OVERFLOW))?;
        e.value = Value::Int(n);
        ctx.out.int(n);
        return Ok(());
    }
    let hasher = store.entry_hasher();
    shard.insert_new(
        h,
        Entry {
            key: key.into(),
            value: Value::Int(delta),
            expire_at: 0,
            access: clock,
        },
        &hasher,
    );
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

fn mget(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let store = ctx.store();
    let db = ctx.db();
    let hashes: Vec<u64> = args.iter_from(1).map(|k| store.hash(k)).collect();
    let mut locked = store.lock_many(hashes.iter().map(|&h| (db, h)));
    ctx.out.array(hashes.len());
    for (i, &h) in hashes.iter().enumerate() {
        let key = args.get(i + 1);
        let shard = locked.shard(store, db, h);
        match shard.lookup_read(h, key, ctx.now(), ctx.clock()) {
            Some(e) if e.value.is_string() => write_string(ctx, &e.value)?,
            _ => ctx.out.null(),
        }
    }
    Ok(())
}

fn mset(ctx: &mut Ctx, args: &Args) -> CmdResult {
    if args.len().is_multiple_of(2) {
        return Err(super::wrong_arity("mset"));
    }
    let store = ctx.store();
    let db = ctx.db();
    let (now, clock) = (ctx.now(), ctx.clock());
    let hashes: Vec<u64> = (1..args.len())
        .step_by(2)
        .map(|i| store.hash(args.get(i)))
        .collect();
    let mut locked = store.lock_many(hashes.iter().map(|&h| (db, h)));
    let hasher = store.entry_hasher();
    for (n, &h) in hashes.iter().enumerate() {
        let key = args.get(1 + 2 * n);
        let value = Value::string(args.get(2 + 2 * n));
        let entry = Entry {
            key: key.into(),
            value,
            expire_at: 0,
            access: clock,
        };
        locked.shard(store, db, h).insert(h, entry, now, &hasher);
    }
    ctx.out.ok();
    Ok(())
}
