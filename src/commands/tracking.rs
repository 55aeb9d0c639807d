//! Client-side caching: CLIENT TRACKING, CACHING, TRACKINGINFO and GETREDIR, and the
//! invalidation messages they promise (Redis 7.0's tracking.c and the tracking parts of
//! networking.c).
//!
//! In the default mode the keys a tracking client reads with a read-only command are
//! remembered in one server-wide table, key -> client ids (keys are global across
//! databases, as in Redis). A change to a key (`Ctx::modified`, or [`key_deleted_by_server`]
//! for expiry and eviction) sends `invalidate [key]` to every client remembered for it and
//! forgets them: an entry is one-shot, the client must read the key again to hear of the
//! next change. In BCAST mode nothing is remembered: every changed key under one of the
//! client's prefixes is sent, one message per prefix with the keys of one command. RESP3
//! clients get push frames on their own connection; a RESP2 client only through REDIRECT
//! to a client subscribed to `__redis__:invalidate`. A flush sends a null key list to every
//! tracking client. Frames for the client running the command go out after its reply
//! (after EXEC's whole reply inside a transaction), as Redis 7.0 does.
//!
//! Threads add a race Redis cannot have: a reader and a writer of one key on two threads,
//! the writer looking for trackers after the read but before the reader is remembered, so
//! the reader would keep a stale value forever. Every change bumps a stamp (chosen by the
//! key's hash) under the table lock; a tracked read takes its keys' stamps before the
//! command and compares them when it registers under that lock. A stamp that moved (other
//! than by this thread's own changes) means a change may have slipped between the read and
//! the registration: the reader is sent an invalidation of its own, after its reply.
//!
//! Cost: `Ctx::modified` is one relaxed load while no client tracks, and the table is
//! dropped when the last tracking client stops, so stale entries cannot keep writers on
//! the slow path. Redis drops ids of departed clients lazily, key by key; so do we while
//! anyone still tracks.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use hashbrown::HashMap;
use parking_lot::Mutex;

use super::clients::ClientInfo;
use super::pubsub::Publisher;
use super::{err, flags, Args, CmdError, CmdResult, CommandSpec, Ctx, Session, Shared};
use crate::protocol::ReplyBuf;

/// A client's tracking mode bits (Redis's CLIENT_TRACKING_* flags).
pub mod mode {
    pub const ON: u32 = 1 << 0;
    pub const BCAST: u32 = 1 << 1;
    pub const OPTIN: u32 = 1 << 2;
    pub const OPTOUT: u32 = 1 << 3;
    pub const NOLOOP: u32 = 1 << 4;
    /// The REDIRECT client was gone when an invalidation was due (flag R).
    pub const BROKEN_REDIR: u32 = 1 << 5;
}

// ---------------------------------------------------------------------------------------
// Per-client state.

/// What other clients need to know of a client's tracking (kept in its `ClientInfo`):
/// writers read it to decide what to send where, CLIENT LIST shows it.
#[derive(Default)]
pub struct ClientTracking {
    mode: AtomicU32,
    /// REDIRECT target id (0: none).
    redirect: AtomicU64,
}

impl ClientTracking {
    #[inline]
    pub fn mode(&self) -> u32 {
        self.mode.load(Ordering::Relaxed)
    }

    /// The redirect id as CLIENT GETREDIR / LIST `redir=` show it: -1 when not tracking.
    pub fn redir(&self) -> i64 {
        if self.mode() & mode::ON != 0 {
            self.redirect.load(Ordering::Relaxed) as i64
        } else {
            -1
        }
    }

    /// Appends CLIENT LIST's tracking flag letters, in Redis's order (t, R, B).
    pub fn list_flags(&self, flags: &mut String) {
        let m = self.mode();
        for (bit, c) in [
            (mode::ON, 't'),
            (mode::BROKEN_REDIR, 'R'),
            (mode::BCAST, 'B'),
        ] {
            if m & bit != 0 {
                flags.push(c);
            }
        }
    }
}

/// The tracking side of a client's session (only its own connection touches it).
#[derive(Default)]
pub struct SessionTracking {
    /// Tracking is on (mirrors `mode::ON`; checked on every command).
    pub on: bool,
    /// CLIENT CACHING YES|NO was given for the next command (or transaction).
    pub caching: bool,
    /// Something waits for the end of the command: see [`after_command`].
    pub dirty: bool,
    /// BCAST prefixes, sorted (CLIENT TRACKINGINFO, overlap checks, cleanup).
    prefixes: Vec<Box<[u8]>>,
    /// Invalidations for this client, sent after its reply (None: the flush null).
    pending: Vec<Option<Box<[u8]>>>,
    /// Keys this command changed, for the BCAST clients.
    bcast_keys: Vec<Box<[u8]>>,
    /// A flush already invalidated everything in this command (FLUSHALL reports every
    /// database; Redis sends one null).
    flushed: bool,
}

// ---------------------------------------------------------------------------------------
// The server-wide table.

/// Stamps by key hash for the read/write race (see the module comment).
const STAMPS: usize = 4096;
/// Own stamp moves remembered during one tracked read.
const MAX_OWN_BUMPS: usize = 1024;

#[derive(Default)]
struct Table {
    /// Key -> ids of the clients that may cache it, sorted.
    keys: HashMap<Box<[u8]>, Vec<u64>>,
    /// Sum of the id lists' lengths (INFO tracking_total_items).
    items: u64,
    /// BCAST prefix -> its clients.
    prefixes: BTreeMap<Box<[u8]>, Vec<Arc<ClientInfo>>>,
}

/// Keys tracking and BCAST prefixes of every client (in `Shared`).
pub struct Tracking {
    /// Clients with tracking on (INFO tracking_clients). While 0, writers skip everything.
    clients: AtomicUsize,
    /// Registered prefixes: writers collect keys for broadcast only when some exist.
    prefix_count: AtomicUsize,
    stamps: Box<[AtomicU32]>,
    table: Mutex<Table>,
}

impl Default for Tracking {
    fn default() -> Self {
        Tracking {
            clients: AtomicUsize::new(0),
            prefix_count: AtomicUsize::new(0),
            stamps: (0..STAMPS).map(|_| AtomicU32::new(0)).collect(),
            table: Mutex::new(Table::default()),
        }
    }
}

impl Tracking {
    /// True while some client tracks: the one check a write makes otherwise.
    #[inline]
    pub fn active(&self) -> bool {
        self.clients.load(Ordering::Relaxed) != 0
    }

    /// INFO clients: tracking_clients.
    pub fn clients(&self) -> usize {
        self.clients.load(Ordering::Relaxed)
    }

    /// INFO stats: tracking_total_keys, tracking_total_items, tracking_total_prefixes.
    pub fn totals(&self) -> (usize, u64, usize) {
        let t = self.table.lock();
        (t.keys.len(), t.items, t.prefixes.len())
    }

    /// Forgets who reads `key` (called under the table lock) and moves its stamp.
    fn take_key(&self, table: &mut Table, stamp: usize, key: &[u8]) -> Vec<u64> {
        self.stamps[stamp].fetch_add(1, Ordering::Relaxed);
        THREAD.with(|t| {
            if let Ok(mut t) = t.try_borrow_mut() {
                // Bounded (a handler that panicked leaves `recording` set until the next
                // tracked read): past it, own changes look like races, which only costs
                // an extra invalidation.
                if t.recording && t.bumped.len() < MAX_OWN_BUMPS {
                    t.bumped.push(stamp);
                }
            }
        });
        match table.keys.remove(key) {
            Some(ids) => {
                table.items -= ids.len() as u64;
                ids
            }
            None => Vec::new(),
        }
    }
}

fn stamp_of(shared: &Shared, key: &[u8]) -> usize {
    let h = shared.store.hash(key);
    ((h ^ (h >> 32)) as usize) & (STAMPS - 1)
}

/// What the thread running a command knows about it, for changes the store reports
/// without a context (expiry, eviction).
#[derive(Default)]
struct ThreadState {
    /// The tracking client whose command runs on this thread (0: none): the one making
    /// such a change, for NOLOOP.
    running: u64,
    /// A tracked read is running: the stamps this thread moves are its own doing.
    recording: bool,
    bumped: Vec<usize>,
}

thread_local! {
    static THREAD: RefCell<ThreadState> = RefCell::new(ThreadState::default());
}

// ---------------------------------------------------------------------------------------
// Sending.

/// The key list of an invalidation.
enum Keys<'a> {
    One(&'a [u8]),
    /// Already encoded: a BCAST array or the flush null.
    Encoded(&'a [u8]),
}

/// The null a flush sends, in the tracking client's protocol (as Redis encodes it, even
/// when the message is redirected).
fn null_of(resp: usize) -> &'static [u8] {
    if resp == 3 {
        b"_\r\n"
    } else {
        b"$-1\r\n"
    }
}

fn deliver(shared: &Shared, dest: &ClientInfo, frame: &[u8], me: &mut Option<Publisher<'_>>) {
    match me {
        Some(p) => p.deliver_to(shared, dest, frame),
        None => {
            dest.deliver(frame, &shared.clients.obuf_limits);
        }
    }
}

/// Redis's sendTrackingMessage: the invalidation for tracking client `target`, to it or
/// to its REDIRECT client. `me` is the running client, whose frames go into its reply.
fn send(shared: &Shared, target: &ClientInfo, keys: Keys, me: &mut Option<Publisher<'_>>) {
    let redirect = target.tracking.redirect.load(Ordering::Relaxed);
    let redirected;
    let (dest, using_redirect) = if redirect != 0 {
        match shared.clients.get(redirect) {
            Some(c) => {
                redirected = c;
                (&*redirected, true)
            }
            None => {
                target
                    .tracking
                    .mode
                    .fetch_or(mode::BROKEN_REDIR, Ordering::Relaxed);
                if target.resp.load(Ordering::Relaxed) == 3 {
                    let frame = format!("*2\r\n$21\r\ntracking-redir-broken\r\n:{}\r\n", redirect);
                    deliver(shared, target, frame.as_bytes(), me);
                }
                return;
            }
        }
    } else {
        (target, false)
    };
    let mut frame = Vec::with_capacity(64);
    if dest.resp.load(Ordering::Relaxed) == 3 {
        // `deliver` makes the RESP3 push frame out of this array header.
        frame.extend_from_slice(b"*2\r\n$10\r\ninvalidate\r\n");
    } else if using_redirect && dest.is_pubsub() {
        frame.extend_from_slice(b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n");
    } else {
        // RESP2 without redirection: the protocol has no way to say it.
        return;
    }
    match keys {
        Keys::One(key) => {
            frame.extend_from_slice(b"*1\r\n$");
            frame.extend_from_slice(itoa::Buffer::new().format(key.len()).as_bytes());
            frame.extend_from_slice(b"\r\n");
            frame.extend_from_slice(key);
            frame.extend_from_slice(b"\r\n");
        }
        Keys::Encoded(bytes) => frame.extend_from_slice(bytes),
    }
    deliver(shared, dest, &frame, me);
}

/// Sends the BCAST messages for `keys` changed by client `modifier` (0: the server):
/// per matching prefix, in prefix order, one array of the keys in byte order.
fn broadcast(
    shared: &Shared,
    modifier: u64,
    mut keys: Vec<Box<[u8]>>,
    me: &mut Option<Publisher<'_>>,
) {
    keys.sort_unstable();
    keys.dedup();
    let batches: Vec<(Vec<u8>, Vec<Arc<ClientInfo>>)> = {
        let table = shared.tracking.table.lock();
        table
            .prefixes
            .iter()
            .filter_map(|(prefix, clients)| {
                let n = keys.iter().filter(|k| k.starts_with(prefix)).count();
                if n == 0 {
                    return None;
                }
                let mut out = ReplyBuf::new();
                out.array(n);
                for k in keys.iter().filter(|k| k.starts_with(prefix)) {
                    out.bulk(k);
                }
                Some((out.buf, clients.clone()))
            })
            .collect()
    };
    for (encoded, clients) in batches {
        for c in clients {
            let m = c.tracking.mode();
            // Every key of the batch is the modifier's: NOLOOP leaves it nothing.
            if m & mode::ON == 0 || (m & mode::NOLOOP != 0 && c.id == modifier) {
                continue;
            }
            send(shared, &c, Keys::Encoded(&encoded), me);
        }
    }
}

/// A key changed with no command around to defer to (or with the frames going straight
/// to mailboxes): expiry, eviction, a blocked client's command served by a writer.
fn invalidate_now(shared: &Shared, modifier: u64, key: &[u8]) {
    let t = &shared.tracking;
    if t.prefix_count.load(Ordering::Relaxed) > 0 {
        broadcast(shared, modifier, vec![key.into()], &mut None);
    }
    let stamp = stamp_of(shared, key);
    let ids = t.take_key(&mut t.table.lock(), stamp, key);
    for id in ids {
        let Some(c) = shared.clients.get(id) else {
            continue;
        };
        let m = c.tracking.mode();
        if m & mode::ON == 0 || m & mode::BCAST != 0 || (m & mode::NOLOOP != 0 && id == modifier) {
            continue;
        }
        send(shared, &c, Keys::One(key), &mut None);
    }
}

// ---------------------------------------------------------------------------------------
// Hooks.

/// A key was deleted by the server itself (expiry, eviction): the store calls this with
/// no command context. One relaxed load while nobody tracks.
pub fn key_deleted_by_server(shared: &Shared, db: usize, key: &[u8]) {
    // Tracking keys are global across databases, as in Redis.
    let _ = db;
    if !shared.tracking.active() {
        return;
    }
    let running = THREAD.with(|t| t.try_borrow().map(|t| t.running).unwrap_or(0));
    invalidate_now(shared, running, key);
}

/// `Ctx::modified` while some client tracks (Redis's trackingInvalidateKey).
pub fn key_modified(ctx: &mut Ctx, key: &[u8]) {
    let shared = ctx.shared;
    if ctx.session.serving {
        invalidate_now(shared, ctx.session.info.id, key);
        return;
    }
    let t = &shared.tracking;
    if t.prefix_count.load(Ordering::Relaxed) > 0 {
        let st = &mut ctx.session.tracking;
        st.bcast_keys.push(key.into());
        st.dirty = true;
    }
    let stamp = stamp_of(shared, key);
    let ids = t.take_key(&mut t.table.lock(), stamp, key);
    let me = ctx.session.info.id;
    for id in ids {
        if id == me {
            let m = ctx.session.info.tracking.mode();
            if m & mode::ON == 0 || m & (mode::BCAST | mode::NOLOOP) != 0 {
                continue;
            }
            // After the reply, as Redis's tracking_pending_keys.
            let st = &mut ctx.session.tracking;
            st.pending.push(Some(key.into()));
            st.dirty = true;
        } else if let Some(c) = shared.clients.get(id) {
            let m = c.tracking.mode();
            if m & mode::ON == 0 || m & mode::BCAST != 0 {
                continue;
            }
            send(shared, &c, Keys::One(key), &mut Some(Publisher::of(ctx)));
        }
    }
}

/// FLUSHDB / FLUSHALL (through `Ctx::modified_db`): every tracking client is told that
/// all its keys are invalid (a null key list), and the table is emptied.
pub fn flushed(ctx: &mut Ctx) {
    if ctx.session.tracking.flushed {
        return;
    }
    ctx.session.tracking.flushed = true;
    ctx.session.tracking.dirty = true;
    let shared = ctx.shared;
    {
        let mut table = shared.tracking.table.lock();
        table.keys = HashMap::new();
        table.items = 0;
    }
    let me = ctx.session.info.id;
    for c in shared.clients.all() {
        if c.tracking.mode() & mode::ON == 0 {
            continue;
        }
        if c.id == me {
            ctx.session.tracking.pending.push(None);
        } else {
            let null = null_of(c.resp.load(Ordering::Relaxed));
            send(
                shared,
                &c,
                Keys::Encoded(null),
                &mut Some(Publisher::of(ctx)),
            );
        }
    }
}

/// Keys a tracked read will register, with their stamps before the command ran.
pub struct TrackedRead {
    positions: Vec<usize>,
    stamps: Vec<(usize, u32)>,
}

/// Taken before a tracking client's command runs, handed back to [`after_command`].
pub struct Token {
    prev_running: u64,
    read: Option<TrackedRead>,
}

/// Before the handler of a tracking client's command: notes the running client and, for
/// a read-only command whose keys are to be remembered, their stamps.
pub fn before_command(ctx: &Ctx, spec: &CommandSpec, args: &Args) -> Token {
    let id = ctx.session.info.id;
    let prev_running = THREAD.with(|t| {
        t.try_borrow_mut()
            .map(|mut t| std::mem::replace(&mut t.running, id))
            .unwrap_or(0)
    });
    let read = if remembers_keys(ctx, spec) {
        snapshot(ctx.shared, spec, args)
    } else {
        None
    };
    Token { prev_running, read }
}

/// Redis's call(): keys of read-only commands are remembered, not in BCAST mode, in
/// OPTIN mode only after CLIENT CACHING YES, in OPTOUT mode unless CLIENT CACHING NO.
fn remembers_keys(ctx: &Ctx, spec: &CommandSpec) -> bool {
    // Shard channels are keys only for cluster routing.
    if !spec.has(flags::READONLY) || spec.has(flags::PUBSUB) {
        return false;
    }
    let m = ctx.session.info.tracking.mode();
    let caching = ctx.session.tracking.caching;
    if m & mode::BCAST != 0 {
        return false;
    }
    // OPTIN remembers only after CLIENT CACHING YES, OPTOUT all but after CACHING NO.
    let optin = m & mode::OPTIN != 0;
    let optout = m & mode::OPTOUT != 0;
    (!optin || caching) && (!optout || !caching)
}

fn snapshot(shared: &Shared, spec: &CommandSpec, args: &Args) -> Option<TrackedRead> {
    let positions = spec.all_key_positions(args)?;
    if positions.is_empty() {
        return None;
    }
    let stamps = positions
        .iter()
        .map(|&i| {
            let s = stamp_of(shared, args.get(i));
            (s, shared.tracking.stamps[s].load(Ordering::Relaxed))
        })
        .collect();
    THREAD.with(|t| {
        if let Ok(mut t) = t.try_borrow_mut() {
            t.recording = true;
            t.bumped.clear();
        }
    });
    Some(TrackedRead { positions, stamps })
}

/// Registers the keys of a tracked read (Redis's trackingRememberKeys); a key whose stamp
/// another thread moved since the read began gets an invalidation of its own.
fn remember(ctx: &mut Ctx, args: &Args, read: TrackedRead) {
    let shared = ctx.shared;
    let id = ctx.session.info.id;
    let bumped = THREAD.with(|t| match t.try_borrow_mut() {
        Ok(mut t) => {
            t.recording = false;
            std::mem::take(&mut t.bumped)
        }
        Err(_) => Vec::new(),
    });
    let mut raced: Vec<&[u8]> = Vec::new();
    {
        let mut table = shared.tracking.table.lock();
        let mut added = 0;
        for (&pos, &(stamp, before)) in read.positions.iter().zip(&read.stamps) {
            let key = args.get(pos);
            match table.keys.get_mut(key) {
                Some(ids) => {
                    if let Err(at) = ids.binary_search(&id) {
                        ids.insert(at, id);
                        added += 1;
                    }
                }
                None => {
                    table.keys.insert(key.into(), vec![id]);
                    added += 1;
                }
            }
            let own = bumped.iter().filter(|&&b| b == stamp).count() as u32;
            let now = shared.tracking.stamps[stamp].load(Ordering::Relaxed);
            if now != before.wrapping_add(own) && !raced.contains(&key) {
                raced.push(key);
            }
        }
        table.items += added;
    }
    if !raced.is_empty() {
        let st = &mut ctx.session.tracking;
        st.pending.extend(raced.into_iter().map(|k| Some(k.into())));
        st.dirty = true;
    }
}

/// After the handler (of a tracking client's command, or of one that left work): remembers
/// the keys read, and at the top level (not inside EXEC) sends this client's pending
/// invalidations after its reply and the BCAST messages for the keys the command changed.
pub fn after_command(ctx: &mut Ctx, args: &Args, token: Option<Token>) {
    if let Some(token) = token {
        if let Some(read) = token.read {
            remember(ctx, args, read);
        }
        THREAD.with(|t| {
            if let Ok(mut t) = t.try_borrow_mut() {
                t.running = token.prev_running;
            }
        });
    }
    ctx.session.tracking.flushed = false;
    // EXEC's commands leave their frames for after EXEC's whole reply.
    if ctx.session.in_exec || !ctx.session.tracking.dirty {
        return;
    }
    let st = &mut ctx.session.tracking;
    st.dirty = false;
    let pending = std::mem::take(&mut st.pending);
    let keys = std::mem::take(&mut st.bcast_keys);
    let shared = ctx.shared;
    if !pending.is_empty() {
        let info = ctx.session.info.clone();
        let null = null_of(info.resp.load(Ordering::Relaxed));
        for key in &pending {
            let keys = match key {
                Some(k) => Keys::One(k),
                None => Keys::Encoded(null),
            };
            send(shared, &info, keys, &mut Some(Publisher::of(ctx)));
        }
    }
    if !keys.is_empty() {
        let id = ctx.session.info.id;
        broadcast(shared, id, keys, &mut Some(Publisher::of(ctx)));
    }
}

/// After every top-level command of a client with CLIENT CACHING given (Redis's
/// resetClient): the option covers one command, or a whole transaction, and survives the
/// CLIENT commands themselves.
pub fn command_done(ctx: &mut Ctx, args: &Args) {
    if ctx.session.in_exec || ctx.session.multi.is_some() {
        return;
    }
    let client_cmd = args.len() >= 2
        && args.is(0, "client")
        && ctx.shared.commands.get(b"client").is_some_and(|c| {
            c.subcommands.iter().any(|s| {
                s.name
                    .split('|')
                    .nth(1)
                    .is_some_and(|n| n.as_bytes().eq_ignore_ascii_case(args.get(1)))
            })
        });
    if !client_cmd {
        ctx.session.tracking.caching = false;
    }
}

// ---------------------------------------------------------------------------------------
// Turning tracking on and off.

fn enable(ctx: &mut Ctx, redirect: u64, opts: u32, prefixes: &[&[u8]]) {
    let shared = ctx.shared;
    let info = ctx.session.info.clone();
    let st = &mut ctx.session.tracking;
    let t = &shared.tracking;
    {
        // Counted under the table lock, so a concurrent last-client cleanup cannot drop
        // what this client is about to register.
        let mut table = t.table.lock();
        if !st.on {
            t.clients.fetch_add(1, Ordering::Relaxed);
            super::keyspace::refresh_deletion_log(ctx.shared);
        }
        if opts & mode::BCAST != 0 {
            let all: &[&[u8]] = &[b""];
            for &p in if prefixes.is_empty() { all } else { prefixes } {
                let clients = table.prefixes.entry(p.into()).or_insert_with(|| {
                    t.prefix_count.fetch_add(1, Ordering::Relaxed);
                    Vec::new()
                });
                if !clients.iter().any(|c| c.id == info.id) {
                    clients.push(info.clone());
                    if let Err(at) = st.prefixes.binary_search_by(|x| (**x).cmp(p)) {
                        st.prefixes.insert(at, p.into());
                    }
                }
            }
        }
    }
    info.tracking.redirect.store(redirect, Ordering::Relaxed);
    let keep = mode::BCAST | mode::OPTIN | mode::OPTOUT | mode::NOLOOP;
    info.tracking
        .mode
        .store(mode::ON | (opts & keep), Ordering::Relaxed);
    st.on = true;
}

/// CLIENT TRACKING OFF, RESET and a closing connection (Redis's disableTracking).
/// Invalidations still pending for the current command are kept, as Redis sends them.
pub fn disable(shared: &Shared, session: &mut Session) {
    let st = &mut session.tracking;
    if !st.on {
        return;
    }
    let id = session.info.id;
    let t = &shared.tracking;
    {
        let mut table = t.table.lock();
        for p in st.prefixes.drain(..) {
            if let Some(list) = table.prefixes.get_mut(&p) {
                list.retain(|c| c.id != id);
                if list.is_empty() {
                    table.prefixes.remove(&p);
                    t.prefix_count.fetch_sub(1, Ordering::Relaxed);
                }
            }
        }
        if t.clients.fetch_sub(1, Ordering::Relaxed) == 1 {
            // Nobody is left to tell about these keys.
            table.keys = HashMap::new();
            table.items = 0;
        }
    }
    session.info.tracking.mode.store(0, Ordering::Relaxed);
    st.on = false;
    st.caching = false;
    super::keyspace::refresh_deletion_log(shared);
}

// ---------------------------------------------------------------------------------------
// CLIENT subcommands.

/// `%s` of a prefix in Redis's overlap errors: up to its first NUL.
fn c_str(s: &[u8]) -> &[u8] {
    super::c_arg(s, usize::MAX)
}

fn overlap(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

fn overlap_error(new: &[u8], what: &str, other: &[u8]) -> Vec<u8> {
    let mut m = b"ERR Prefix '".to_vec();
    m.extend_from_slice(c_str(new));
    m.extend_from_slice(b"' overlaps with ");
    m.extend_from_slice(what.as_bytes());
    m.extend_from_slice(b" '");
    m.extend_from_slice(c_str(other));
    m.extend_from_slice(b"'. Prefixes for a single client must not overlap.");
    m
}

/// Redis's checkPrefixCollisionsOrReply, quirk included: an overlap among the new
/// prefixes found past the first one is replied as an error but reported as success,
/// so Redis goes on, enables tracking and replies +OK as well.
fn check_prefixes(ctx: &mut Ctx, prefixes: &[&[u8]]) -> Result<(), CmdError> {
    for (i, &p) in prefixes.iter().enumerate() {
        if let Some(old) = ctx.session.tracking.prefixes.iter().find(|o| overlap(o, p)) {
            return Err(CmdError::from_bytes(overlap_error(
                p,
                "an existing prefix",
                old,
            )));
        }
        if let Some(&q) = prefixes[i + 1..].iter().find(|&&q| overlap(p, q)) {
            let msg = overlap_error(p, "another provided prefix", q);
            if i == 0 {
                return Err(CmdError::from_bytes(msg));
            }
            ctx.shared.count_error(&String::from_utf8_lossy(&msg));
            ctx.out.error_bytes(&msg);
            return Ok(());
        }
    }
    Ok(())
}

/// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]
pub fn client_tracking(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let mut redirect: i64 = 0;
    let mut opts = 0u32;
    let mut prefixes: Vec<&[u8]> = Vec::new();
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        if args.is(j, "redirect") && more {
            j += 1;
            if redirect != 0 {
                return Err(CmdError::new(
                    "ERR A client can only redirect to a single other client",
                ));
            }
            redirect = args.int(j)?;
            // It must exist now, though it may go away later (the R flag then).
            let exists = u64::try_from(redirect)
                .ok()
                .and_then(|id| ctx.shared.clients.get(id))
                .is_some();
            if !exists {
                return Err(CmdError::new(
                    "ERR The client ID you want redirect to does not exist",
                ));
            }
        } else if args.is(j, "bcast") {
            opts |= mode::BCAST;
        } else if args.is(j, "optin") {
            opts |= mode::OPTIN;
        } else if args.is(j, "optout") {
            opts |= mode::OPTOUT;
        } else if args.is(j, "noloop") {
            opts |= mode::NOLOOP;
        } else if args.is(j, "prefix") && more {
            j += 1;
            prefixes.push(args.get(j));
        } else {
            return Err(CmdError::new(err::SYNTAX));
        }
        j += 1;
    }
    if args.is(2, "on") {
        let cur = ctx.session.info.tracking.mode();
        let bcast = opts & mode::BCAST != 0;
        if !bcast && !prefixes.is_empty() {
            return Err(CmdError::new(
                "ERR PREFIX option requires BCAST mode to be enabled",
            ));
        }
        if cur & mode::ON != 0 && (cur & mode::BCAST != 0) != bcast {
            return Err(CmdError::new(
                "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.",
            ));
        }
        if bcast && opts & (mode::OPTIN | mode::OPTOUT) != 0 {
            return Err(CmdError::new(
                "ERR OPTIN and OPTOUT are not compatible with BCAST",
            ));
        }
        if opts & mode::OPTIN != 0 && opts & mode::OPTOUT != 0 {
            return Err(CmdError::new(
                "ERR You can't specify both OPTIN mode and OPTOUT mode",
            ));
        }
        if (opts & mode::OPTIN != 0 && cur & mode::OPTOUT != 0)
            || (opts & mode::OPTOUT != 0 && cur & mode::OPTIN != 0)
        {
            return Err(CmdError::new(
                "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.",
            ));
        }
        if bcast {
            check_prefixes(ctx, &prefixes)?;
        }
        enable(ctx, redirect as u64, opts, &prefixes);
    } else if args.is(2, "off") {
        disable(ctx.shared, ctx.session);
    } else {
        return Err(CmdError::new(err::SYNTAX));
    }
    ctx.out.ok();
    Ok(())
}

/// CLIENT CACHING YES|NO: overrides OPTIN / OPTOUT for the next command.
pub fn client_caching(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let m = ctx.session.info.tracking.mode();
    if m & mode::ON == 0 {
        return Err(CmdError::new(
            "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled",
        ));
    }
    if args.is(2, "yes") {
        if m & mode::OPTIN == 0 {
            return Err(CmdError::new(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            ));
        }
    } else if args.is(2, "no") {
        if m & mode::OPTOUT == 0 {
            return Err(CmdError::new(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            ));
        }
    } else {
        return Err(CmdError::new(err::SYNTAX));
    }
    ctx.session.tracking.caching = true;
    ctx.out.ok();
    Ok(())
}

/// CLIENT GETREDIR: the REDIRECT id, 0 without one, -1 when not tracking.
pub fn client_getredir(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    ctx.out.int(ctx.session.info.tracking.redir());
    Ok(())
}

/// CLIENT TRACKINGINFO: flags (a set), redirect, prefixes.
pub fn client_trackinginfo(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    let m = ctx.session.info.tracking.mode();
    let caching = ctx.session.tracking.caching;
    let mut names: Vec<&[u8]> = vec![if m & mode::ON != 0 { b"on" } else { b"off" }];
    if m & mode::BCAST != 0 {
        names.push(b"bcast");
    }
    if m & mode::OPTIN != 0 {
        names.push(b"optin");
        if caching {
            names.push(b"caching-yes");
        }
    }
    if m & mode::OPTOUT != 0 {
        names.push(b"optout");
        if caching {
            names.push(b"caching-no");
        }
    }
    if m & mode::NOLOOP != 0 {
        names.push(b"noloop");
    }
    if m & mode::BROKEN_REDIR != 0 {
        names.push(b"broken_redirect");
    }
    let redir = ctx.session.info.tracking.redir();
    let out = &mut *ctx.out;
    out.map(3);
    out.bulk(b"flags");
    out.set(names.len());
    for n in names {
        out.bulk(n);
    }
    out.bulk(b"redirect");
    out.int(redir);
    out.bulk(b"prefixes");
    let prefixes = &ctx.session.tracking.prefixes;
    out.array(prefixes.len());
    for p in prefixes {
        out.bulk(p);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Request;

    fn client(shared: &Shared) -> Session {
        let info = shared
            .clients
            .register("127.0.0.1:1".into(), "127.0.0.1:2".into(), 1);
        Session::new(info, true)
    }

    fn request(line: &str) -> Request {
        Request::from_owned(line.split(' ').map(|w| w.as_bytes().to_vec()).collect())
    }

    /// Runs a command for `session` and returns its reply bytes.
    fn run(shared: &Shared, session: &mut Session, line: &str) -> Vec<u8> {
        let req = request(line);
        let args = Args::new(&[], &req);
        let mut out = ReplyBuf::new();
        out.resp3 = session.resp == 3;
        let mut ctx = Ctx::new(shared, session, &mut out);
        super::super::execute(&mut ctx, &args);
        out.buf
    }

    fn pushed(session: &Session) -> Vec<u8> {
        let mut v = Vec::new();
        session.info.take_pushed(&mut v);
        v
    }

    fn tracker(shared: &Shared) -> Session {
        let mut t = client(shared);
        run(shared, &mut t, "HELLO 3");
        assert_eq!(run(shared, &mut t, "CLIENT TRACKING ON"), b"+OK\r\n");
        t
    }

    const INVALIDATE_K: &[u8] = b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n";

    #[test]
    fn keys_deleted_by_the_server_invalidate_once() {
        let shared = Shared::new(crate::Config::default());
        let mut t = tracker(&shared);
        run(&shared, &mut t, "GET k");
        assert_eq!(shared.tracking.totals(), (1, 1, 0));
        key_deleted_by_server(&shared, 0, b"k");
        assert_eq!(pushed(&t), INVALIDATE_K);
        key_deleted_by_server(&shared, 0, b"k");
        assert_eq!(pushed(&t), b"");
        assert_eq!(shared.tracking.totals(), (0, 0, 0));
    }

    #[test]
    fn keys_deleted_by_the_server_reach_bcast_clients() {
        let shared = Shared::new(crate::Config::default());
        let mut t = client(&shared);
        run(&shared, &mut t, "HELLO 3");
        run(&shared, &mut t, "CLIENT TRACKING ON BCAST PREFIX k");
        key_deleted_by_server(&shared, 0, b"k");
        key_deleted_by_server(&shared, 0, b"x");
        assert_eq!(pushed(&t), INVALIDATE_K);
    }

    /// The race threads allow: another client's change lands between the read and the
    /// registration. Simulated by running the change on another thread in that window.
    #[test]
    fn a_change_between_read_and_registration_invalidates_the_reader() {
        let shared = Shared::new(crate::Config::default());
        let mut t = tracker(&shared);
        for (change, own_thread, expect) in [
            (false, false, &b""[..]),
            (true, false, INVALIDATE_K),
            // A change the reader's own command made (lazy expiry) is no race.
            (true, true, &b""[..]),
        ] {
            // Not remembered yet: only the race can send anything.
            key_deleted_by_server(&shared, 0, b"k");
            pushed(&t);
            let req = request("GET k");
            let args = Args::new(&[], &req);
            let spec = shared.commands.resolve(&args).expect("get");
            let mut out = ReplyBuf::new();
            out.resp3 = true;
            let mut ctx = Ctx::new(&shared, &mut t, &mut out);
            let token = before_command(&ctx, spec, &args);
            if change && own_thread {
                key_deleted_by_server(&shared, 0, b"k");
            } else if change {
                let s = &shared;
                std::thread::scope(|sc| {
                    sc.spawn(|| key_deleted_by_server(s, 0, b"k"));
                });
            }
            after_command(&mut ctx, &args, Some(token));
            assert_eq!(out.buf, expect, "change {change}, own thread {own_thread}");
            assert_eq!(shared.tracking.totals().0, 1, "the key stays remembered");
        }
    }

    #[test]
    fn the_last_tracking_client_leaving_empties_the_table() {
        let shared = Shared::new(crate::Config::default());
        let mut a = tracker(&shared);
        let mut b = tracker(&shared);
        run(&shared, &mut a, "GET k");
        run(&shared, &mut b, "GET j");
        disable(&shared, &mut a);
        assert_eq!(shared.tracking.totals(), (2, 2, 0));
        assert!(shared.tracking.active());
        disable(&shared, &mut b);
        assert_eq!(shared.tracking.totals(), (0, 0, 0));
        assert!(!shared.tracking.active());
    }

    #[test]
    fn prefixes_overlap_when_one_starts_the_other() {
        assert!(overlap(b"a", b"ab"));
        assert!(overlap(b"ab", b"a"));
        assert!(overlap(b"", b"x"));
        assert!(overlap(b"x", b"x"));
        assert!(!overlap(b"a\0b", b"a\0c"));
        assert!(!overlap(b"ab", b"ac"));
    }

    #[test]
    fn overlap_errors_cut_prefixes_at_nul_as_redis_prints_them() {
        let m = overlap_error(b"a\0b", "another provided prefix", b"a\0b");
        assert_eq!(
            m,
            b"ERR Prefix 'a' overlaps with another provided prefix 'a'. Prefixes for a single client must not overlap."
        );
    }
}
