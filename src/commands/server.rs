//! Server commands: INFO, CONFIG, COMMAND, DBSIZE, FLUSHDB/FLUSHALL, TIME, SHUTDOWN, ...

use super::{cmd, container, Args, CmdResult, CommandTable, Ctx};

const CAT: &[&str] = &["server"];

pub fn register(t: &mut CommandTable) {
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
