//! Keyspace commands: DEL, EXISTS, TYPE, RENAME, COPY, SCAN, KEYS, OBJECT, and the
//! expiry family (EXPIRE, TTL, PERSIST, ...).

use super::{cmd, Args, CmdResult, CommandTable, Ctx};

const CAT: &[&str] = &["keyspace"];

pub fn register(t: &mut CommandTable) {
    t.add(cmd("del", -2, "write", CAT, (1, -1, 1), del));
    t.add(cmd("exists", -2, "readonly fast", CAT, (1, -1, 1), exists));
}

fn del(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let store = ctx.store();
    let db = ctx.db();
    let hashes: Vec<u64> = args.iter_from(1).map(|k| store.hash(k)).collect();
    let mut locked = store.lock_many(hashes.iter().map(|&h| (db, h)));
    let mut n = 0;
    for (i, &h) in hashes.iter().enumerate() {
        if locked
            .shard(store, db, h)
            .remove(h, args.get(i + 1), ctx.now())
            .is_some()
        {
            n += 1;
        }
    }
    ctx.out.int(n);
    Ok(())
}

fn exists(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let store = ctx.store();
    let db = ctx.db();
    let hashes: Vec<u64> = args.iter_from(1).map(|k| store.hash(k)).collect();
    let mut locked = store.lock_many(hashes.iter().map(|&h| (db, h)));
    let mut n = 0;
    for (i, &h) in hashes.iter().enumerate() {
        if locked
            .shard(store, db, h)
            .get_mut(h, args.get(i + 1), ctx.now())
            .is_some()
        {
            n += 1;
        }
    }
    ctx.out.int(n);
    Ok(())
}
