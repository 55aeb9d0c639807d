//! Connection commands: PING, ECHO, QUIT, SELECT, AUTH, HELLO, RESET.

use super::{cmd, err, Args, CmdError, CmdResult, CommandTable, Ctx};

const CAT: &[&str] = &["connection"];

pub fn register(t: &mut CommandTable) {
    t.add(cmd("ping", -1, "fast", CAT, (0, 0, 0), ping));
    t.add(cmd("echo", 2, "fast", CAT, (0, 0, 0), echo));
    t.add(cmd(
        "quit",
        -1,
        "no_auth allow_busy fast",
        CAT,
        (0, 0, 0),
        quit,
    ));
    t.add(cmd(
        "select",
        2,
        "loading stale fast",
        CAT,
        (0, 0, 0),
        select,
    ));
}

fn ping(ctx: &mut Ctx, args: &Args) -> CmdResult {
    match args.len() {
        1 => ctx.out.simple("PONG"),
        2 => ctx.out.bulk(args.get(1)),
        _ => return Err(super::wrong_arity("ping")),
    }
    Ok(())
}

fn echo(ctx: &mut Ctx, args: &Args) -> CmdResult {
    ctx.out.bulk(args.get(1));
    Ok(())
}

fn quit(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    ctx.out.ok();
    ctx.session.close_after_reply = true;
    Ok(())
}

fn select(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let idx = crate::util::parse_i64(args.get(1)).ok_or(CmdError::new(err::NOT_INT))?;
    if idx < 0 || idx as usize >= ctx.store().dbs.len() {
        return Err(CmdError::new(err::DB_INDEX));
    }
    ctx.session.db = idx as usize;
    ctx.session
        .info
        .db
        .store(idx as usize, std::sync::atomic::Ordering::Relaxed);
    ctx.out.ok();
    Ok(())
}
