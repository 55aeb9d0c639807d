//! Blocking commands (BLPOP, BLMOVE, BZPOPMIN, ...): the waiting room of clients parked on
//! keys, and the hand-off that serves them when a write makes a key ready.
//!
//! A blocking handler first tries to serve itself like its non-blocking twin. When there
//! is nothing to take it calls [`block`], which parks the client on its keys. After every
//! write command the keys it wrote are checked for waiters; the oldest waiter of a ready
//! key is served by re-running its own handler, in the writer's context, before any other
//! command can touch the key, so an element is never lost or delivered twice.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hashbrown::HashMap;
use parking_lot::Mutex;

use super::clients::ClientInfo;
use super::{flags, Args, CmdError, CmdResult, Ctx, Session, Shared};
use crate::protocol::{ReplyBuf, Request};

/// What a blocked client receives when its timeout passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutReply {
    /// `*-1` (RESP3 `_`): BLPOP, BRPOP, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP.
    NullArray,
    /// `$-1` (RESP3 `_`): BLMOVE, BRPOPLPUSH.
    NullBulk,
}

/// Parses a blocking command's timeout in seconds (fractions allowed) as Redis's
/// `getTimeoutFromObjectOrReply`. `None` means wait forever (0).
pub fn parse_timeout(arg: &[u8]) -> Result<Option<Duration>, CmdError> {
    use crate::util::long_double::LongDouble;
    let not_float = || CmdError::new("ERR timeout is not a float or out of range");
    let secs = match LongDouble::parse(arg).ok_or_else(not_float)? {
        LongDouble::Inf { neg } => {
            if neg {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }
        }
        v => v
            .to_human_string()
            .and_then(|s| s.parse::<f64>().ok())
            .ok_or_else(not_float)?,
    };
    let ms = (secs * 1000.0).ceil();
    // Redis 7.0 casts the milliseconds to long long without a range check: anything past
    // LLONG_MAX (inf included) becomes LLONG_MIN and is reported as negative.
    if ms < 0.0 || ms >= i64::MAX as f64 {
        return Err(CmdError::new("ERR timeout is negative"));
    }
    if ms == 0.0 {
        return Ok(None);
    }
    Ok(Some(Duration::from_millis(ms as u64)))
}

/// Parks the calling client on `keys` (in the session's database) until a write makes one
/// of them ready, `timeout` passes (then it gets `on_timeout`), or it disconnects.
///
/// A handler calls this when it found nothing to serve and has written no reply. Where a
/// client may not block (inside MULTI or a script) the timeout reply is written at once,
/// as Redis does. When the handler is being re-run to serve a waiter, this records that
/// the waiter could not be served yet and writes nothing.
pub fn block(
    ctx: &mut Ctx,
    args: &Args,
    keys: Vec<Vec<u8>>,
    timeout: Option<Duration>,
    on_timeout: TimeoutReply,
) -> CmdResult {
    if ctx.session.serving {
        ctx.session.not_served = true;
        return Ok(());
    }
    if ctx.session.no_block {
        timeout_reply(ctx.out, on_timeout);
        return Ok(());
    }
    let spec = ctx.shared.commands.resolve(args)?;
    // The type a waiter can be served from: a key of another type leaves it waiting.
    let wants = if spec.categories.contains(&"sortedset") {
        "zset"
    } else {
        "list"
    };
    let mut unique: Vec<Vec<u8>> = Vec::with_capacity(keys.len());
    for k in keys {
        if !unique.contains(&k) {
            unique.push(k);
        }
    }
    let db = ctx.db();
    let w = Arc::new(Waiter {
        db,
        resp: ctx.session.resp,
        args: args.to_vec(),
        keys: unique,
        wants,
        timeout,
        on_timeout,
        info: ctx.session.info.clone(),
        state: Mutex::new(WaitState::Waiting),
        notify: tokio::sync::Notify::new(),
    });
    ctx.shared.blocking.add(&w);
    // A write may have filled a key between the handler's attempt and the registration
    // above: checking our own keys once more now means no wake-up can be missed.
    for k in &w.keys {
        ctx.session.ready.push((db, k.clone()));
    }
    ctx.session.blocked = Some(w);
    Ok(())
}

/// Writes the reply a blocked client gets when its timeout passes.
pub fn timeout_reply(out: &mut ReplyBuf, kind: TimeoutReply) {
    match kind {
        TimeoutReply::NullArray => out.null_array(),
        TimeoutReply::NullBulk => out.null(),
    }
}

enum WaitState {
    Waiting,
    /// The reply bytes of the served command, for the client's connection to send.
    Served(Vec<u8>),
    Cancelled,
}

/// One blocked client: its command, kept to be re-run when one of its keys is ready.
pub struct Waiter {
    db: usize,
    resp: u8,
    args: Vec<Vec<u8>>,
    keys: Vec<Vec<u8>>,
    wants: &'static str,
    pub timeout: Option<Duration>,
    pub on_timeout: TimeoutReply,
    info: Arc<ClientInfo>,
    state: Mutex<WaitState>,
    /// Signalled once the waiter has been served.
    pub notify: tokio::sync::Notify,
}

impl Waiter {
    /// The reply of the command that served this waiter, if it was served.
    pub fn take_reply(&self) -> Option<Vec<u8>> {
        match &mut *self.state.lock() {
            WaitState::Served(r) => Some(std::mem::take(r)),
            _ => None,
        }
    }

    /// Still waiting: neither served nor cancelled.
    pub fn is_waiting(&self) -> bool {
        matches!(*self.state.lock(), WaitState::Waiting)
    }
}

/// A key of a database: what clients block on.
pub type DbKey = (usize, Vec<u8>);

/// Every blocked client, by the keys it waits on, oldest first.
#[derive(Default)]
pub struct Registry {
    by_key: Mutex<HashMap<DbKey, VecDeque<Arc<Waiter>>>>,
    blocked: AtomicUsize,
}

impl Registry {
    /// Number of blocked clients (INFO blocked_clients).
    pub fn blocked_clients(&self) -> usize {
        self.blocked.load(Ordering::Relaxed)
    }

    /// True when nobody is blocked: the check every write pays.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.blocked.load(Ordering::Relaxed) == 0
    }

    fn add(&self, w: &Arc<Waiter>) {
        let mut map = self.by_key.lock();
        for k in &w.keys {
            map.entry((w.db, k.clone()))
                .or_default()
                .push_back(w.clone());
        }
        self.blocked.fetch_add(1, Ordering::Relaxed);
    }

    fn remove(&self, w: &Arc<Waiter>) {
        let mut map = self.by_key.lock();
        for k in &w.keys {
            let key = (w.db, k.clone());
            if let Some(q) = map.get_mut(&key) {
                q.retain(|x| !Arc::ptr_eq(x, w));
                if q.is_empty() {
                    map.remove(&key);
                }
            }
        }
        self.blocked.fetch_sub(1, Ordering::Relaxed);
    }

    fn waiters(&self, db: usize, key: &[u8]) -> Vec<Arc<Waiter>> {
        self.by_key
            .lock()
            .get(&(db, key.to_vec()))
            .map(|q| q.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Every (db, key) somebody waits on.
    pub fn all_keys(&self) -> Vec<(usize, Vec<u8>)> {
        self.by_key.lock().keys().cloned().collect()
    }

    /// The waiter of a client, if it is blocked (CLIENT UNBLOCK).
    pub fn find_client(&self, id: u64) -> Option<Arc<Waiter>> {
        self.by_key
            .lock()
            .values()
            .flat_map(|q| q.iter())
            .find(|w| w.info.id == id)
            .cloned()
    }

    /// CLIENT UNBLOCK: ends the wait with the timeout reply, or with an UNBLOCKED error.
    /// False if the client was no longer waiting.
    pub fn unblock(&self, w: &Arc<Waiter>, error: bool) -> bool {
        let mut st = w.state.lock();
        if !matches!(*st, WaitState::Waiting) {
            return false;
        }
        let mut out = ReplyBuf::new();
        out.resp3 = w.resp == 3;
        if error {
            out.error("UNBLOCKED client unblocked via CLIENT UNBLOCK");
        } else {
            timeout_reply(&mut out, w.on_timeout);
        }
        *st = WaitState::Served(out.buf);
        drop(st);
        self.remove(w);
        w.notify.notify_one();
        true
    }

    /// Stops waiting (timeout, disconnect, kill). Returns false if the waiter was served
    /// first: its reply must then be delivered, or an element would be lost.
    pub fn cancel(&self, w: &Arc<Waiter>) -> bool {
        let mut st = w.state.lock();
        if !matches!(*st, WaitState::Waiting) {
            return false;
        }
        *st = WaitState::Cancelled;
        drop(st);
        self.remove(w);
        true
    }
}

/// Keys a finished write command may have made ready for a blocked client: its key
/// arguments, or every waited key for commands that move keys between databases.
pub fn note_written(ctx: &mut Ctx, spec: &super::CommandSpec, args: &Args) {
    if matches!(spec.name, "move" | "copy" | "swapdb") {
        let all = ctx.shared.blocking.all_keys();
        ctx.session.ready.extend(all);
        return;
    }
    let db = ctx.db();
    for i in spec.key_positions(args.len()) {
        ctx.session.ready.push((db, args.get(i).to_vec()));
    }
}

/// Serves blocked clients from the ready keys, oldest waiter first, following the chain
/// when serving one writes another key (BLMOVE).
pub fn serve_ready(shared: &Shared, ready: Vec<(usize, Vec<u8>)>) {
    let mut queue: VecDeque<(usize, Vec<u8>)> = ready.into();
    // Each pass serves at least one waiter or drops a key, and serving removes a waiter,
    // so this ends; the bound only guards against a bug turning into a hung server.
    let mut budget = 1_000_000usize;
    while let Some((db, key)) = queue.pop_front() {
        if shared.blocking.is_empty() {
            return;
        }
        for w in shared.blocking.waiters(db, &key) {
            budget = budget.saturating_sub(1);
            if budget == 0 {
                return;
            }
            if !holds(shared, db, &key, w.wants) {
                continue;
            }
            let mut st = w.state.lock();
            if !matches!(*st, WaitState::Waiting) {
                continue;
            }
            let Some((reply, written)) = run_for(shared, &w) else {
                continue;
            };
            *st = WaitState::Served(reply);
            drop(st);
            shared.blocking.remove(&w);
            w.notify.notify_one();
            queue.extend(written);
        }
    }
}

/// Whether `key` holds a live value of type `wants`.
fn holds(shared: &Shared, db: usize, key: &[u8], wants: &str) -> bool {
    let store = &shared.store;
    let h = store.hash(key);
    let mut shard = store.lock(db, h);
    let now = crate::util::now_ms();
    shard
        .get_mut(h, key, now)
        .is_some_and(|e| e.value().type_name() == wants)
}

/// Re-runs a waiter's command on its behalf. None if it still found nothing to take;
/// otherwise its reply and the keys it wrote.
fn run_for(shared: &Shared, w: &Waiter) -> Option<(Vec<u8>, Vec<DbKey>)> {
    let req = Request::from_owned(w.args.clone());
    let args = Args::new(&[], &req);
    let spec = shared.commands.resolve(&args).ok()?;
    let mut session = Session::new(w.info.clone(), true);
    session.db = w.db;
    session.resp = w.resp;
    session.serving = true;
    let mut out = ReplyBuf::new();
    out.resp3 = w.resp == 3;
    let result = {
        let mut ctx = Ctx::new(shared, &mut session, &mut out);
        ctx.begin_command();
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            (spec.handler)(&mut ctx, &args)
        }))
    };
    // The served command's keyspace events follow those of the write that served it,
    // as Redis publishes them while serving after that write.
    if !session.events.is_empty() {
        super::keyspace::publish_server_events(shared, std::mem::take(&mut session.events));
    }
    if session.not_served {
        return None;
    }
    match result {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            shared.count_error(&e.0);
            out.error_bytes(e.bytes());
        }
        Err(_) => {
            tracing::error!(client = w.info.id, "blocked command panicked while served");
            out.error("ERR internal error: the command failed unexpectedly");
        }
    }
    let mut written = std::mem::take(&mut session.ready);
    if spec.has(flags::WRITE) {
        for i in spec.key_positions(args.len()) {
            written.push((w.db, args.get(i).to_vec()));
        }
    }
    Some((out.buf, written))
}
