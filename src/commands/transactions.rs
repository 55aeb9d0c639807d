//! MULTI, EXEC, DISCARD, WATCH and UNWATCH.
//!
//! While a client is in MULTI, `execute` queues its commands (after the checks Redis makes
//! at queuing time; a failed check voids the transaction: EXECABORT). EXEC runs the queue
//! holding the store's exec gate for writing: every other command holds it for reading
//! while it runs, so no client can observe a transaction half done, whatever shards it
//! touches. The gate is one uncontended read lock per command for everyone else.
//!
//! WATCH records each key in the registry of `keyspace.rs`, whose flag any change to the
//! key sets (handlers call `Ctx::modified` where Redis calls signalModifiedKey); EXEC also
//! fails if a key that was alive at WATCH time has expired or gone since, as Redis's
//! isWatchedKeyExpired and the deletion signals make it.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::keyspace::WatchFlag;
use super::{cmd, execute, Args, CmdError, CmdResult, CommandTable, Ctx, Shared};
use crate::protocol::Request;

const CAT: &[&str] = &["transaction"];

pub fn register(t: &mut CommandTable) {
    let f = "noscript loading stale fast allow_busy";
    t.add(cmd("multi", 1, f, CAT, (0, 0, 0), multi));
    t.add(
        cmd(
            "exec",
            1,
            "noscript loading stale skip_slowlog",
            CAT,
            (0, 0, 0),
            exec,
        )
        .own_gate(),
    );
    t.add(cmd("discard", 1, f, CAT, (0, 0, 0), discard));
    t.add(cmd("watch", -2, f, CAT, (1, -1, 1), watch));
    t.add(cmd("unwatch", 1, f, CAT, (0, 0, 0), unwatch));
}

/// A client's open transaction.
#[derive(Default)]
pub struct MultiState {
    pub queue: Vec<Vec<Vec<u8>>>,
    /// A command failed its queuing checks: EXEC will answer EXECABORT.
    pub aborted: bool,
    /// Some queued command may grow memory (EXEC is refused as a whole when over
    /// maxmemory, as Redis does).
    pub denyoom: bool,
}

/// A watched key and whether it was alive (present, not expired) when watched.
pub struct Watched {
    pub db: usize,
    pub key: Vec<u8>,
    pub alive: bool,
}

/// The commands that run at once even inside MULTI (Redis's processCommand list).
pub fn runs_inside_multi(name: &str) -> bool {
    matches!(
        name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

fn multi(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    if ctx.session.multi.is_some() {
        return Err(CmdError::new("ERR MULTI calls can not be nested"));
    }
    ctx.session.multi = Some(MultiState::default());
    ctx.session.info.multi.store(0, Ordering::Relaxed);
    ctx.out.ok();
    Ok(())
}

fn discard(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    if ctx.session.multi.is_none() {
        return Err(CmdError::new("ERR DISCARD without MULTI"));
    }
    end_transaction(ctx.shared, ctx.session);
    ctx.out.ok();
    Ok(())
}

/// Leaves MULTI and drops every watch (after EXEC, DISCARD, RESET, disconnect).
pub fn end_transaction(shared: &Shared, session: &mut super::Session) {
    session.multi = None;
    session.info.multi.store(-1, Ordering::Relaxed);
    unwatch_all(shared, session);
}

fn unwatch_all(shared: &Shared, session: &mut super::Session) {
    if session.watched.is_empty() {
        return;
    }
    let keys: Vec<(usize, Vec<u8>)> = session.watched.drain(..).map(|w| (w.db, w.key)).collect();
    shared.keyspace.watches.unwatch(session.info.id, &keys);
    if let Some(f) = &session.watch_flag {
        f.dirty.store(false, Ordering::Relaxed);
    }
}

/// Whether `key` exists and has not expired, with no side effect (no lazy deletion,
/// no statistics, no access time).
fn alive(ctx: &Ctx, db: usize, key: &[u8]) -> bool {
    let store = ctx.store();
    let h = store.hash(key);
    let s = store.lock(db, h);
    s.table
        .find(h, |e| e.key() == key)
        .is_some_and(|e| !e.is_expired(ctx.now()))
}

/// EXEC refused before running (arity, NOAUTH): Redis's execCommandAbort leaves MULTI
/// (and drops the watches) whether or not the client was in it, and wraps the reason.
pub fn exec_abort(ctx: &mut Ctx, reason: &CmdError) -> CmdError {
    end_transaction(ctx.shared, ctx.session);
    let text = reason.0.strip_prefix("ERR ").unwrap_or(&reason.0);
    CmdError::from(format!(
        "EXECABORT Transaction discarded because of: {text}"
    ))
}

fn watch(ctx: &mut Ctx, args: &Args) -> CmdResult {
    if ctx.session.multi.is_some() {
        return Err(CmdError::new("ERR WATCH inside MULTI is not allowed"));
    }
    let db = ctx.db();
    let flag = ctx
        .session
        .watch_flag
        .get_or_insert_with(|| Arc::new(WatchFlag::default()))
        .clone();
    for key in args.iter_from(1) {
        if ctx
            .session
            .watched
            .iter()
            .any(|w| w.db == db && w.key == key)
        {
            continue;
        }
        let alive = alive(ctx, db, key);
        ctx.shared
            .keyspace
            .watches
            .watch(ctx.session.info.id, &flag, db, key);
        ctx.session.watched.push(Watched {
            db,
            key: key.to_vec(),
            alive,
        });
    }
    ctx.out.ok();
    Ok(())
}

fn unwatch(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    unwatch_all(ctx.shared, ctx.session);
    ctx.out.ok();
    Ok(())
}

/// True if a watched key changed since WATCH (the transaction must not run).
fn watch_failed(ctx: &Ctx) -> bool {
    if let Some(f) = &ctx.session.watch_flag {
        if f.dirty.load(Ordering::Relaxed) {
            return true;
        }
    }
    ctx.session
        .watched
        .iter()
        .any(|w| w.alive && !alive(ctx, w.db, &w.key))
}

fn exec(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    let Some(state) = ctx.session.multi.take() else {
        return Err(CmdError::new("ERR EXEC without MULTI"));
    };
    if state.aborted {
        end_transaction(ctx.shared, ctx.session);
        return Err(CmdError::new(
            "EXECABORT Transaction discarded because of previous errors.",
        ));
    }
    let max = ctx.shared.maxmemory.load(Ordering::Relaxed);
    if state.denyoom
        && max > 0
        && ctx.shared.store.enforce_maxmemory(max) == crate::store::evict::Outcome::Fail
    {
        end_transaction(ctx.shared, ctx.session);
        return Err(CmdError::new(format!(
            "EXECABORT Transaction discarded because of: {}",
            super::err::OOM
        )));
    }
    // Nothing may change between the watch check and the last queued command.
    let shared = ctx.shared;
    // A script past busy-reply-threshold holds the gate: BUSY, not a wait (EXEC takes
    // the gate itself, so execute()'s busy check does not cover it).
    let gate = match crate::scripting::write_gate(shared) {
        Ok(g) => g,
        Err(e) => return Err(exec_abort(ctx, &e)),
    };
    if watch_failed(ctx) {
        drop(gate);
        end_transaction(ctx.shared, ctx.session);
        ctx.out.null_array();
        return Ok(());
    }
    ctx.out.array(state.queue.len());
    ctx.session.in_exec = true;
    let no_block = std::mem::replace(&mut ctx.session.no_block, true);
    for argv in state.queue {
        let req = Request::from_owned(argv);
        let args = Args::new(&[], &req);
        execute(ctx, &args);
    }
    ctx.session.no_block = no_block;
    ctx.session.in_exec = false;
    drop(gate);
    end_transaction(ctx.shared, ctx.session);
    Ok(())
}
