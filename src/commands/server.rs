//! Server commands: INFO, CONFIG, COMMAND, DBSIZE, FLUSHDB/FLUSHALL, TIME, SHUTDOWN, ...

use super::{cmd, container, Args, CmdResult, CommandTable, Ctx};

const CAT: &[&str] = &["server"];

pub fn register(t: &mut CommandTable) {
    t.add(cmd(
        "dbsize",
        1,
        "readonly fast",
        &["keyspace"],
        (0, 0, 0),
        dbsize,
    ));
    t.add(cmd(
        "flushall",
        -1,
        "write",
        &["keyspace", "dangerous"],
        (0, 0, 0),
        flushall,
    ));
    t.add(
        cmd("config", -2, "", CAT, (0, 0, 0), container).with_subcommands(vec![cmd(
            "config|get",
            -3,
            "admin noscript loading stale",
            CAT,
            (0, 0, 0),
            config_get,
        )]),
    );
}

fn dbsize(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    let n = ctx.store().db_counts(ctx.db()).0;
    ctx.out.int(n as i64);
    Ok(())
}

fn flushall(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    for db in ctx.store().dbs.iter() {
        for s in db.shards.iter() {
            s.lock().clear();
        }
    }
    ctx.out.ok();
    Ok(())
}

fn config_get(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let cfg = ctx.shared.config.read().clone();
    let mut found: Vec<(&str, String)> = Vec::new();
    for pat in args.iter_from(2) {
        for p in crate::config::PARAMS {
            if crate::util::glob_match(pat, p.name.as_bytes(), true)
                && !found.iter().any(|(n, _)| *n == p.name)
            {
                found.push((p.name, (p.get)(&cfg)));
            }
        }
    }
    ctx.out.map(found.len());
    for (n, v) in found {
        ctx.out.bulk(n.as_bytes());
        ctx.out.bulk(v.as_bytes());
    }
    Ok(())
}
