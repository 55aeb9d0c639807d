//! Hash commands (HSET, HGET, HGETALL, HINCRBY, HRANDFIELD, HSCAN, ...), each following
//! Redis 7.0's `t_hash.c`: the same error precedence (argument errors before the key
//! lookup, except where Redis looks the key up first), reply shapes in RESP2 and RESP3,
//! and the same encoding conversions (see `store::hash`).

use super::keyspace::class;
use super::strings::changed;
use super::{cmd, err, Args, CmdError, CmdResult, CommandTable, Ctx};
use crate::store::hash::{Elem, Hash, Limits};
use crate::store::{EncodingLimits, Entry, KeyHash, Shard, Value};
use crate::util::long_double::LongDouble;

const READ_FAST: &[&str] = &["read", "hash", "fast"];
const READ_SLOW: &[&str] = &["read", "hash", "slow"];
const WRITE_FAST: &[&str] = &["write", "hash", "fast"];

/// Most items a negative HRANDFIELD count may ask for. Redis would try to build any size
/// of reply and run out of memory; refusing keeps one request from taking the server down.
const MAX_RANDOM_REPLY: u64 = 1 << 27;

pub fn register(t: &mut CommandTable) {
    let k = (1, 1, 1);
    t.add(cmd("hset", -4, "write denyoom fast", WRITE_FAST, k, hset));
    t.add(cmd("hmset", -4, "write denyoom fast", WRITE_FAST, k, hmset));
    t.add(cmd(
        "hsetnx",
        4,
        "write denyoom fast",
        WRITE_FAST,
        k,
        hsetnx,
    ));
    t.add(cmd("hget", 3, "readonly fast", READ_FAST, k, hget));
    t.add(cmd("hmget", -3, "readonly fast", READ_FAST, k, hmget));
    t.add(cmd("hdel", -3, "write fast", WRITE_FAST, k, hdel));
    t.add(cmd("hlen", 2, "readonly fast", READ_FAST, k, hlen));
    t.add(cmd("hexists", 3, "readonly fast", READ_FAST, k, hexists));
    t.add(cmd("hstrlen", 3, "readonly fast", READ_FAST, k, hstrlen));
    t.add(cmd("hgetall", 2, "readonly", READ_SLOW, k, hgetall));
    t.add(cmd("hkeys", 2, "readonly", READ_SLOW, k, hkeys));
    t.add(cmd("hvals", 2, "readonly", READ_SLOW, k, hvals));
    t.add(cmd(
        "hincrby",
        4,
        "write denyoom fast",
        WRITE_FAST,
        k,
        hincrby,
    ));
    t.add(cmd(
        "hincrbyfloat",
        4,
        "write denyoom fast",
        WRITE_FAST,
        k,
        hincrbyfloat,
    ));
    t.add(cmd("hrandfield", -2, "readonly", READ_SLOW, k, hrandfield));
    t.add(cmd("hscan", -3, "readonly", READ_SLOW, k, hscan));
}

fn limits(ctx: &Ctx) -> Limits {
    let l = &ctx.shared.limits;
    Limits {
        entries: EncodingLimits::get(&l.hash_max_listpack_entries),
        value: EncodingLimits::get(&l.hash_max_listpack_value),
    }
}

fn put(ctx: &mut Ctx, e: Elem) {
    match e {
        Elem::Int(i) => ctx.out.bulk_int(i),
        Elem::Str(s) => ctx.out.bulk(s),
    }
}

fn hash_of(e: &Entry) -> Result<&Hash, CmdError> {
    e.hash().ok_or(CmdError::new(err::WRONGTYPE))
}

fn hash_of_mut(e: &mut Entry) -> Result<&mut Hash, CmdError> {
    e.hash_mut().ok_or(CmdError::new(err::WRONGTYPE))
}

/// Runs `f` on the hash at `key` for reading (`lookupKeyRead`); `missing` replies for an
/// absent key, a non-hash is WRONGTYPE.
fn read(
    ctx: &mut Ctx,
    key: &[u8],
    missing: impl FnOnce(&mut Ctx),
    f: impl FnOnce(&mut Ctx, &Hash) -> CmdResult,
) -> CmdResult {
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    match shard.lookup_read(h, key, ctx.now(), ctx.clock()) {
        None => {
            missing(ctx);
            Ok(())
        }
        Some(e) => f(ctx, hash_of(e)?),
    }
}

/// `hashTypeLookupWriteOrCreate`: the hash at `key`, created empty if absent (with
/// Redis's "new" event, from its dbAdd); WRONGTYPE for another type. Callers must not
/// leave a created hash empty (see `drop_if_empty`).
fn write_or_create<'s>(
    ctx: &mut Ctx,
    shard: &'s mut Shard,
    h: KeyHash,
    key: &[u8],
) -> Result<&'s mut Hash, CmdError> {
    let (now, clock) = (ctx.now(), ctx.clock());
    if shard.lookup_write(h, key, now, clock).is_none() {
        let entry = Entry::new(key, Value::Hash(Box::default()), 0, clock);
        shard.insert_new(h, entry, &ctx.store().entry_hasher());
        ctx.notify(class::NEW, "new", ctx.db(), key);
    }
    match shard.get_mut(h, key, now) {
        Some(e) => hash_of_mut(e),
        None => Err(CmdError::new(err::NO_SUCH_KEY)),
    }
}

/// Deletes the key if its hash is empty (an emptied collection never stays); true if it
/// did.
fn drop_if_empty(ctx: &Ctx, shard: &mut Shard, h: KeyHash, key: &[u8]) -> bool {
    let empty = shard
        .get_mut(h, key, ctx.now())
        .and_then(|e| e.hash())
        .is_some_and(|x| x.is_empty());
    if empty {
        shard.remove(h, key, ctx.now());
    }
    empty
}

/// HSET and HMSET (`hsetCommand`): an odd number of field/value words is an arity error
/// under the command's own name.
fn set_pairs(ctx: &mut Ctx, args: &Args, name: &str) -> Result<usize, CmdError> {
    if args.len() % 2 == 1 {
        return Err(CmdError::from(format!(
            "ERR wrong number of arguments for '{}' command",
            name
        )));
    }
    let lim = limits(ctx);
    let key = args.get(1);
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let hash = write_or_create(ctx, &mut shard, h, key)?;
    let words: Vec<&[u8]> = args.iter_from(2).collect();
    hash.convert_for(&words, lim);
    let mut created = 0;
    for pair in words.chunks_exact(2) {
        if hash.set(pair[0], pair[1], lim) {
            created += 1;
        }
    }
    drop(shard);
    // Always a change, even when every value was already there.
    changed(ctx, class::HASH, "hset", key);
    Ok(created)
}

fn hset(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let n = set_pairs(ctx, args, "hset")?;
    ctx.out.int(n as i64);
    Ok(())
}

fn hmset(ctx: &mut Ctx, args: &Args) -> CmdResult {
    set_pairs(ctx, args, "hmset")?;
    ctx.out.ok();
    Ok(())
}

fn hsetnx(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let lim = limits(ctx);
    let (key, field, value) = (args.get(1), args.get(2), args.get(3));
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let hash = write_or_create(ctx, &mut shard, h, key)?;
    if hash.contains(field) {
        ctx.out.int(0);
    } else {
        hash.convert_for(&[field, value], lim);
        hash.set(field, value, lim);
        drop(shard);
        changed(ctx, class::HASH, "hset", key);
        ctx.out.int(1);
    }
    Ok(())
}

fn hget(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let field = args.get(2);
    read(
        ctx,
        args.get(1),
        |c| c.out.null(),
        |c, hash| {
            match hash.get(field) {
                Some(v) => put(c, v),
                None => c.out.null(),
            }
            Ok(())
        },
    )
}

fn hmget(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let n = args.len() - 2;
    read(
        ctx,
        args.get(1),
        |c| {
            c.out.array(n);
            for _ in 0..n {
                c.out.null();
            }
        },
        |c, hash| {
            c.out.array(n);
            for f in args.iter_from(2) {
                match hash.get(f) {
                    Some(v) => put(c, v),
                    None => c.out.null(),
                }
            }
            Ok(())
        },
    )
}

fn hdel(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let key = args.get(1);
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let Some(e) = shard.lookup_write(h, key, ctx.now(), ctx.clock()) else {
        ctx.out.int(0);
        return Ok(());
    };
    let hash = hash_of_mut(e)?;
    let mut deleted = 0;
    for f in args.iter_from(2) {
        if hash.remove(f) {
            deleted += 1;
            if hash.is_empty() {
                break;
            }
        }
    }
    let removed = drop_if_empty(ctx, &mut shard, h, key);
    drop(shard);
    if deleted > 0 {
        changed(ctx, class::HASH, "hdel", key);
        if removed {
            ctx.notify(class::GENERIC, "del", ctx.db(), key);
        }
    }
    ctx.out.int(deleted);
    Ok(())
}

fn hlen(ctx: &mut Ctx, args: &Args) -> CmdResult {
    read(
        ctx,
        args.get(1),
        |c| c.out.int(0),
        |c, hash| {
            c.out.int(hash.len() as i64);
            Ok(())
        },
    )
}

fn hexists(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let field = args.get(2);
    read(
        ctx,
        args.get(1),
        |c| c.out.int(0),
        |c, hash| {
            c.out.int(hash.contains(field) as i64);
            Ok(())
        },
    )
}

fn hstrlen(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let field = args.get(2);
    read(
        ctx,
        args.get(1),
        |c| c.out.int(0),
        |c, hash| {
            c.out
                .int(hash.get(field).map_or(0, |v| v.text_len()) as i64);
            Ok(())
        },
    )
}

/// HGETALL / HKEYS / HVALS (`genericHgetallCommand`): a map in RESP3 when both fields and
/// values are wanted, an array otherwise.
fn getall(ctx: &mut Ctx, args: &Args, fields: bool, values: bool) -> CmdResult {
    let both = fields && values;
    read(
        ctx,
        args.get(1),
        |c| {
            if both {
                c.out.map(0)
            } else {
                c.out.array(0)
            }
        },
        |c, hash| {
            if both {
                c.out.map(hash.len());
            } else {
                c.out.array(hash.len());
            }
            for (f, v) in hash.iter() {
                if fields {
                    put(c, f);
                }
                if values {
                    put(c, v);
                }
            }
            Ok(())
        },
    )
}

fn hgetall(ctx: &mut Ctx, args: &Args) -> CmdResult {
    getall(ctx, args, true, true)
}

fn hkeys(ctx: &mut Ctx, args: &Args) -> CmdResult {
    getall(ctx, args, true, false)
}

fn hvals(ctx: &mut Ctx, args: &Args) -> CmdResult {
    getall(ctx, args, false, true)
}

fn hincrby(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let incr = args.int(3)?;
    let lim = limits(ctx);
    let (key, field) = (args.get(1), args.get(2));
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let hash = write_or_create(ctx, &mut shard, h, key)?;
    let cur = match hash.get(field) {
        None => 0,
        Some(Elem::Int(i)) => i,
        Some(Elem::Str(s)) => {
            crate::util::parse_i64(s).ok_or(CmdError::new("ERR hash value is not an integer"))?
        }
    };
    let new = cur.checked_add(incr).ok_or(CmdError::new(err::OVERFLOW))?;
    hash.set(field, itoa::Buffer::new().format(new).as_bytes(), lim);
    drop(shard);
    changed(ctx, class::HASH, "hincrby", key);
    ctx.out.int(new);
    Ok(())
}

fn hincrbyfloat(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let incr = LongDouble::parse(args.get(3)).ok_or(CmdError::new(err::NOT_FLOAT))?;
    if !incr.is_finite() {
        return Err(CmdError::new("ERR value is NaN or Infinity"));
    }
    let lim = limits(ctx);
    let (key, field) = (args.get(1), args.get(2));
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    let hash = write_or_create(ctx, &mut shard, h, key)?;
    let cur = match hash.get(field) {
        None => Ok(LongDouble::ZERO),
        Some(Elem::Int(i)) => Ok(LongDouble::from_i64(i)),
        Some(Elem::Str(s)) => {
            LongDouble::parse(s).ok_or(CmdError::new("ERR hash value is not a float"))
        }
    };
    let text = cur.and_then(|cur| {
        (cur + incr)
            .to_human_string()
            .ok_or(CmdError::new("ERR increment would produce NaN or Infinity"))
    });
    match text {
        Ok(text) => {
            hash.set(field, text.as_bytes(), lim);
            drop(shard);
            changed(ctx, class::HASH, "hincrbyfloat", key);
            ctx.out.bulk(text.as_bytes());
            Ok(())
        }
        Err(e) => {
            drop_if_empty(ctx, &mut shard, h, key);
            Err(e)
        }
    }
}

/// Writes one HRANDFIELD item: the field, or with values a [field, value] pair in RESP3
/// and the two flat in RESP2.
fn put_random_item(ctx: &mut Ctx, f: Elem, v: Elem, withvalues: bool) {
    if withvalues && ctx.session.resp >= 3 {
        ctx.out.array(2);
    }
    put(ctx, f);
    if withvalues {
        put(ctx, v);
    }
}

fn random_reply_header(ctx: &mut Ctx, items: usize, withvalues: bool) {
    if withvalues && ctx.session.resp < 3 {
        ctx.out.array(items * 2);
    } else {
        ctx.out.array(items);
    }
}

fn hrandfield(ctx: &mut Ctx, args: &Args) -> CmdResult {
    if args.len() == 2 {
        return read(
            ctx,
            args.get(1),
            |c| c.out.null(),
            |c, hash| {
                match hash.random(&mut rand::rng()) {
                    Some((f, _)) => put(c, f),
                    None => c.out.null(),
                }
                Ok(())
            },
        );
    }
    let l = args.int(2)?;
    if l == i64::MIN {
        return Err(CmdError::new(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    let withvalues = args.len() == 4 && args.is(3, "withvalues");
    if args.len() > 4 || (args.len() == 4 && !withvalues) {
        return Err(CmdError::new(err::SYNTAX));
    }
    if withvalues && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
        return Err(CmdError::new("ERR value is out of range"));
    }
    let (count, distinct) = (l.unsigned_abs(), l >= 0);
    read(
        ctx,
        args.get(1),
        |c| c.out.array(0),
        |c, hash| {
            let mut rng = rand::rng();
            if count == 0 || hash.is_empty() {
                c.out.array(0);
            } else if !distinct && count > MAX_RANDOM_REPLY {
                return Err(CmdError::new("ERR value is out of range"));
            } else if !distinct || count == 1 {
                random_reply_header(c, count as usize, withvalues);
                for _ in 0..count {
                    if let Some((f, v)) = hash.random(&mut rng) {
                        put_random_item(c, f, v, withvalues);
                    }
                }
            } else if count >= hash.len() as u64 {
                // The whole hash, in its own order, as Redis does.
                random_reply_header(c, hash.len(), withvalues);
                for (f, v) in hash.iter() {
                    put_random_item(c, f, v, withvalues);
                }
            } else {
                let picked = hash.random_distinct(count as usize, &mut rng);
                random_reply_header(c, picked.len(), withvalues);
                for (f, v) in picked {
                    put_random_item(c, f, v, withvalues);
                }
            }
            Ok(())
        },
    )
}

fn hscan(ctx: &mut Ctx, args: &Args) -> CmdResult {
    // The cursor is checked before the key, the other options after it (`hscanCommand`).
    if super::keys::parse_cursor(args.get(2)).is_none() {
        return Err(CmdError::new("ERR invalid cursor"));
    }
    read(
        ctx,
        args.get(1),
        |c| {
            c.out.array(2);
            c.out.bulk(b"0");
            c.out.array(0);
        },
        |c, hash| {
            let scan = super::keys::parse_collection_scan(args)?;
            let mut items: Vec<Elem> = Vec::new();
            let next = hash.scan(scan.cursor, scan.count, |f, v| {
                let keep = match (scan.pattern, f) {
                    (None, _) => true,
                    (Some(p), Elem::Str(s)) => crate::util::glob_match(p, s, false),
                    (Some(p), Elem::Int(i)) => {
                        crate::util::glob_match(p, itoa::Buffer::new().format(i).as_bytes(), false)
                    }
                };
                if keep {
                    items.push(f);
                    items.push(v);
                }
            });
            c.out.array(2);
            c.out.bulk(itoa::Buffer::new().format(next).as_bytes());
            c.out.array(items.len());
            for e in items {
                put(c, e);
            }
            Ok(())
        },
    )
}
