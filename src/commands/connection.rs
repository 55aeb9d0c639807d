//! Connection commands: PING, ECHO, QUIT, SELECT, AUTH, HELLO, RESET (and CLIENT, whose
//! handlers live beside the client registry in `clients.rs`).
//!
//! Authentication follows Redis 7.0 with a single `default` user: without `requirepass`
//! the user is "nopass" (any password works for `AUTH default <x>`, the one-argument form
//! is an error); with it, the password must match.

use std::sync::atomic::Ordering;

use super::{cmd, err, Args, CmdError, CmdResult, CommandTable, Ctx};

const CAT: &[&str] = &["connection"];

const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

pub fn register(t: &mut CommandTable) {
    t.add(cmd("ping", -1, "fast", CAT, (0, 0, 0), ping));
    t.add(cmd("echo", 2, "loading stale fast", CAT, (0, 0, 0), echo));
    t.add(cmd(
        "quit",
        -1,
        "noscript loading stale fast no_auth allow_busy",
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
    t.add(cmd(
        "auth",
        -2,
        "noscript loading stale fast no_auth allow_busy",
        CAT,
        (0, 0, 0),
        auth,
    ));
    t.add(cmd(
        "hello",
        -1,
        "noscript loading stale fast no_auth allow_busy",
        CAT,
        (0, 0, 0),
        hello,
    ));
    t.add(cmd(
        "reset",
        1,
        "noscript loading stale fast no_auth allow_busy",
        CAT,
        (0, 0, 0),
        reset,
    ));
    super::clients::register(t);
}

fn ping(ctx: &mut Ctx, args: &Args) -> CmdResult {
    if args.len() <= 2 && super::pubsub::subscribed_ping(ctx, args) {
        return Ok(());
    }
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
    let idx = super::keys::parse_db(ctx, args.get(1))?;
    ctx.session.db = idx;
    ctx.session.info.db.store(idx, Ordering::Relaxed);
    ctx.out.ok();
    Ok(())
}

/// Checks a user/password pair against the single `default` user.
fn credentials_ok(ctx: &Ctx, user: &[u8], pass: &[u8]) -> bool {
    if user != b"default" {
        return false;
    }
    match &ctx.shared.config.read().requirepass {
        None => true,
        Some(p) => constant_time_eq(p.as_bytes(), pass),
    }
}

/// Compares without an early exit, so response time does not reveal a password prefix.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn auth(ctx: &mut Ctx, args: &Args) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::new(err::SYNTAX));
    }
    let (user, pass): (&[u8], &[u8]) = if args.len() == 2 {
        if ctx.shared.config.read().requirepass.is_none() {
            return Err(CmdError::new(
                "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
            ));
        }
        (b"default", args.get(1))
    } else {
        (args.get(1), args.get(2))
    };
    if credentials_ok(ctx, user, pass) {
        ctx.session.authenticated = true;
        ctx.out.ok();
        Ok(())
    } else {
        Err(CmdError::new(WRONGPASS))
    }
}

fn hello(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let mut ver = 0;
    let mut next = 1;
    if args.len() >= 2 {
        ver = crate::util::parse_i64(args.get(1)).ok_or(CmdError::new(
            "ERR Protocol version is not an integer or out of range",
        ))?;
        next = 2;
        if !(2..=3).contains(&ver) {
            return Err(CmdError::new("NOPROTO unsupported protocol version"));
        }
    }
    let mut creds = None;
    let mut name = None;
    let mut j = next;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if args.is(j, "auth") && more >= 2 {
            creds = Some((args.get(j + 1), args.get(j + 2)));
            j += 3;
        } else if args.is(j, "setname") && more >= 1 {
            name = Some(args.get(j + 1));
            j += 2;
        } else {
            return Err(CmdError::from(format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(args.get(j))
            )));
        }
    }
    if let Some((user, pass)) = creds {
        if !credentials_ok(ctx, user, pass) {
            return Err(CmdError::new(WRONGPASS));
        }
        ctx.session.authenticated = true;
    }
    if !ctx.session.authenticated {
        return Err(CmdError::new(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
        ));
    }
    if let Some(name) = name {
        super::clients::set_client_name(ctx, name)?;
    }
    if ver != 0 {
        ctx.session.resp = ver as u8;
        ctx.session.info.resp.store(ver as usize, Ordering::Relaxed);
        // The reply itself already uses the new protocol, as in Redis.
        ctx.out.resp3 = ver == 3;
    }
    let out = &mut *ctx.out;
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(crate::REDIS_VERSION.as_bytes());
    out.bulk(b"proto");
    out.int(ctx.session.resp as i64);
    out.bulk(b"id");
    out.int(ctx.session.info.id as i64);
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(b"master");
    out.bulk(b"modules");
    out.array(0);
    Ok(())
}

/// RESET: back to the state of a new connection (no subscriptions, db 0, RESP2, no name,
/// and the authentication a new connection would have), replying `+RESET`.
fn reset(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    super::transactions::end_transaction(ctx.shared, ctx.session);
    super::pubsub::unsubscribe_everything(ctx.shared, ctx.session);
    super::tracking::disable(ctx.shared, ctx.session);
    ctx.session.db = 0;
    ctx.session.info.db.store(0, Ordering::Relaxed);
    ctx.session.resp = 2;
    ctx.session.info.resp.store(2, Ordering::Relaxed);
    ctx.out.resp3 = false;
    ctx.session.authenticated = ctx.shared.config.read().requirepass.is_none();
    ctx.session.info.set_name(None);
    ctx.out.simple("RESET");
    Ok(())
}
