//! The registry of connected clients and the CLIENT command family that reads it
//! (CLIENT ID, INFO, LIST, KILL, SETNAME, GETNAME, SETINFO), plus INFO clients' figures.
//!
//! Each connection registers a [`ClientInfo`] whose fields other clients may read: the
//! owner updates them with relaxed atomic stores (no contention: one writer), readers
//! take a snapshot. Killing a client sets its flag and wakes its task.
//!
//! Each client also has a [`Mailbox`]: frames other clients push to it (pub/sub messages;
//! later keyspace events, tracking invalidations, MONITOR lines) are appended there and
//! its connection task, woken by the mailbox's `Notify`, writes them out even when the
//! client sends nothing. What waits there counts toward the client's output buffer, which
//! `client-output-buffer-limit` bounds: a client over its class's limit is disconnected.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;

use super::{cmd, container, err, tracking, Args, CmdError, CmdResult, CommandTable, Ctx};
use crate::config::{Config, ObufClass, ObufLimit};

/// What others may see of one connected client.
pub struct ClientInfo {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    pub fd: i64,
    pub created: Instant,
    pub(crate) name: Mutex<Option<String>>,
    lib_name: Mutex<Option<String>>,
    lib_ver: Mutex<Option<String>>,
    pub db: AtomicUsize,
    pub resp: AtomicUsize,
    /// Unix ms of the last request (fast clock: this is written once per read).
    last_interaction_ms: AtomicU64,
    /// The last command's id in the command table (u32::MAX: none yet).
    last_cmd: AtomicU32,
    pub query_buf: AtomicUsize,
    pub query_buf_free: AtomicUsize,
    pub out_buf: AtomicUsize,
    /// Commands queued in MULTI, -1 outside it (CLIENT LIST `multi`).
    pub multi: std::sync::atomic::AtomicI64,
    killed: AtomicBool,
    pub kill_notify: tokio::sync::Notify,
    /// Channel, pattern and shard-channel subscriptions (CLIENT LIST sub/psub/ssub); a
    /// client with any is in the pubsub class (flag P, its own output buffer limit).
    pub sub: AtomicUsize,
    pub psub: AtomicUsize,
    pub ssub: AtomicUsize,
    /// Frames pushed to this client by others, waiting for its connection task.
    pub mailbox: Mailbox,
    /// Client-side caching mode and REDIRECT target (tracking.rs).
    pub tracking: super::tracking::ClientTracking,
}

impl ClientInfo {
    pub fn name(&self) -> String {
        self.name.lock().clone().unwrap_or_default()
    }

    pub fn set_name(&self, name: Option<String>) {
        *self.name.lock() = name;
    }

    pub fn set_lib(&self, name: Option<String>, ver: Option<String>) {
        if name.is_some() {
            *self.lib_name.lock() = name;
        }
        if ver.is_some() {
            *self.lib_ver.lock() = ver;
        }
    }

    pub fn lib_name(&self) -> String {
        self.lib_name.lock().clone().unwrap_or_default()
    }

    pub fn lib_ver(&self) -> String {
        self.lib_ver.lock().clone().unwrap_or_default()
    }

    #[inline]
    pub fn set_last_command(&self, id: u32) {
        self.last_cmd.store(id, Ordering::Relaxed);
    }

    /// Marks the time of the latest request (once per read batch).
    pub fn touch(&self) {
        self.last_interaction_ms
            .store(crate::util::now_ms(), Ordering::Relaxed);
    }

    /// Seconds since the last request.
    pub fn idle_secs(&self) -> u64 {
        self.idle_ms() / 1000
    }

    /// Milliseconds since the last request.
    pub fn idle_ms(&self) -> u64 {
        crate::util::now_ms().saturating_sub(self.last_interaction_ms.load(Ordering::Relaxed))
    }

    pub fn age_secs(&self) -> u64 {
        self.created.elapsed().as_secs()
    }

    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.kill_notify.notify_one();
        // An idle connection task waits on its mailbox only.
        self.mailbox.notify.notify_one();
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }

    /// True while the client holds any subscription (Redis's CLIENT_PUBSUB flag).
    pub fn is_pubsub(&self) -> bool {
        self.sub.load(Ordering::Relaxed)
            + self.psub.load(Ordering::Relaxed)
            + self.ssub.load(Ordering::Relaxed)
            > 0
    }

    /// The class whose `client-output-buffer-limit` applies (Redis's getClientType).
    pub fn obuf_class(&self) -> ObufClass {
        if self.is_pubsub() {
            ObufClass::PubSub
        } else {
            ObufClass::Normal
        }
    }

    /// The type name CLIENT LIST TYPE and CLIENT KILL TYPE match.
    pub fn type_name(&self) -> &'static str {
        match self.obuf_class() {
            ObufClass::PubSub => "pubsub",
            ObufClass::Replica => "replica",
            ObufClass::Normal => "normal",
        }
    }

    /// Pushes one frame to this client. `frame` is encoded as a RESP2 array (`*N...`); a
    /// RESP3 client gets it as a push frame (`>N...`), the rest of the bytes being the
    /// same. Returns false if the client is closing (nothing is queued then, as Redis
    /// queues nothing for a client marked to close). The client may be disconnected here
    /// if the frame takes it over its output buffer limit.
    pub fn deliver(&self, frame: &[u8], limits: &OutputLimits) -> bool {
        let resp3 = self.resp.load(Ordering::Relaxed) == 3;
        self.push_with(limits, |q| {
            if resp3 && frame.first() == Some(&b'*') {
                q.push(b'>');
                q.extend_from_slice(&frame[1..]);
            } else {
                q.extend_from_slice(frame);
            }
        })
    }

    /// Pushes bytes already encoded for this client's protocol.
    pub fn deliver_raw(&self, bytes: &[u8], limits: &OutputLimits) -> bool {
        self.push_with(limits, |q| q.extend_from_slice(bytes))
    }

    fn push_with(&self, limits: &OutputLimits, write: impl FnOnce(&mut Vec<u8>)) -> bool {
        if self.is_killed() {
            return false;
        }
        let m = &self.mailbox;
        let (was_empty, queued) = {
            let mut q = m.queue.lock();
            let was_empty = q.is_empty();
            write(&mut q);
            m.queued.store(q.len(), Ordering::Relaxed);
            (was_empty, q.len())
        };
        let used = pending_to_omem(queued + m.inflight.load(Ordering::Relaxed));
        if self.over_output_limit(used, limits) {
            self.close_for_output_limit();
            return true;
        }
        // One wake-up per batch: the task takes everything queued when it runs.
        if was_empty {
            m.notify.notify_one();
        }
        true
    }

    /// Output buffer memory as CLIENT LIST's `omem` reports it and the limits count it:
    /// pending output beyond what Redis's static 16 KB reply buffer would hold.
    pub fn omem(&self) -> usize {
        let m = &self.mailbox;
        pending_to_omem(m.queued.load(Ordering::Relaxed) + m.inflight.load(Ordering::Relaxed))
    }

    /// Redis's `checkClientOutputBufferLimits`: over the hard limit, or over the soft
    /// limit for more than its seconds (measured from the first time it was seen over).
    fn over_output_limit(&self, used: usize, limits: &OutputLimits) -> bool {
        let l = limits.get(self.obuf_class());
        let used = used as u64;
        if l.hard > 0 && used >= l.hard {
            return true;
        }
        let since = &self.mailbox.soft_since;
        if l.soft > 0 && used >= l.soft {
            let now = crate::util::now_ms() / 1000;
            match since.compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => {
                    // A connection stuck writing learns the new deadline it must check.
                    self.mailbox.notify.notify_one();
                    false
                }
                Err(first) => now.saturating_sub(first) > l.soft_secs as u64,
            }
        } else {
            since.store(0, Ordering::Relaxed);
            false
        }
    }

    /// Re-checks the limits without new output (a client over its soft limit that gets
    /// nothing more must still be closed when the time runs out, as Redis's clientsCron
    /// does); closes the client and returns true if over.
    pub fn check_output_limit(&self, limits: &OutputLimits) -> bool {
        if self.over_output_limit(self.omem(), limits) {
            self.close_for_output_limit();
            return true;
        }
        false
    }

    /// When the soft limit, if it stays exceeded, must next be checked (unix ms).
    pub fn soft_limit_deadline_ms(&self, limits: &OutputLimits) -> Option<u64> {
        let since = self.mailbox.soft_since.load(Ordering::Relaxed);
        let l = limits.get(self.obuf_class());
        (since > 0 && l.soft > 0).then(|| (since + l.soft_secs as u64 + 1) * 1000)
    }

    fn close_for_output_limit(&self) {
        if self.is_killed() {
            return;
        }
        tracing::warn!(
            client = self.id,
            addr = %self.addr,
            omem = self.omem(),
            "client closed for overcoming of output buffer limits"
        );
        // Its pending output is dropped at once: that memory is what the limit protects.
        let dropped = std::mem::take(&mut *self.mailbox.queue.lock());
        self.mailbox.queued.store(0, Ordering::Relaxed);
        drop(dropped);
        self.kill();
    }

    /// True if frames wait in the mailbox.
    #[inline]
    pub fn has_pushed(&self) -> bool {
        self.mailbox.queued.load(Ordering::Relaxed) > 0
    }

    /// Moves everything pushed so far to the end of `out` (the connection's output).
    #[inline]
    pub fn take_pushed(&self, out: &mut Vec<u8>) {
        let m = &self.mailbox;
        if m.queued.load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut q = m.queue.lock();
        if out.is_empty() {
            // Swap, so the queue keeps a buffer to reuse and nothing is copied.
            std::mem::swap(&mut *q, out);
        } else {
            out.extend_from_slice(&q);
            q.clear();
        }
        m.queued.store(0, Ordering::Relaxed);
    }

    /// The connection reports how much of its current write the kernel has not taken yet.
    #[inline]
    pub fn set_inflight(&self, bytes: usize) {
        self.mailbox.inflight.store(bytes, Ordering::Relaxed);
    }

    /// One line of CLIENT LIST / the reply of CLIENT INFO, in Redis 7.0's field order.
    pub fn describe(&self, table: &super::CommandTable) -> String {
        let cmd = table.name_of(self.last_cmd.load(Ordering::Relaxed));
        let cmd = if cmd.is_empty() { "NULL" } else { cmd };
        // Flag letters in Redis's order; N when none applies.
        let mut flags = String::new();
        if self.is_pubsub() {
            flags.push('P');
        }
        let multi = self.multi.load(Ordering::Relaxed);
        if multi >= 0 {
            flags.push('x');
        }
        self.tracking.list_flags(&mut flags);
        if flags.is_empty() {
            flags.push('N');
        }
        let m = &self.mailbox;
        let pending = m.queued.load(Ordering::Relaxed) + m.inflight.load(Ordering::Relaxed);
        let omem = pending_to_omem(pending);
        let qbuf = self.query_buf.load(Ordering::Relaxed);
        let qbuf_free = self.query_buf_free.load(Ordering::Relaxed);
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem=0 multi-mem=0 rbs={} rbp={} obl={} oll={} omem={} tot-mem={} events=r cmd={} user=default redir={} resp={}\n",
            self.id,
            self.addr,
            self.laddr,
            self.fd,
            self.name(),
            self.age_secs(),
            self.idle_secs(),
            flags,
            self.db.load(Ordering::Relaxed),
            self.sub.load(Ordering::Relaxed),
            self.psub.load(Ordering::Relaxed),
            self.ssub.load(Ordering::Relaxed),
            multi,
            qbuf,
            qbuf_free,
            qbuf + qbuf_free,
            qbuf,
            pending.min(STATIC_REPLY_BUF),
            omem.div_ceil(STATIC_REPLY_BUF),
            omem,
            qbuf + qbuf_free + omem,
            cmd,
            self.tracking.redir(),
            self.resp.load(Ordering::Relaxed),
        )
    }
}

// ---------------------------------------------------------------------------------------
// Mailbox and output buffer limits.

/// Bytes of pending output that Redis keeps in a client's static reply buffer
/// (PROTO_REPLY_CHUNK_BYTES); only what is beyond it counts as `omem` and toward the
/// output buffer limits, there as here.
const STATIC_REPLY_BUF: usize = 16 * 1024;

#[inline]
fn pending_to_omem(pending: usize) -> usize {
    pending.saturating_sub(STATIC_REPLY_BUF)
}

/// Frames pushed to one client by others, in the order they were pushed.
///
/// Bounded by bytes, not count: every push checks the client's output buffer limit and a
/// client over it is closed and its queue dropped.
#[derive(Default)]
pub struct Mailbox {
    queue: Mutex<Vec<u8>>,
    /// `queue.len()`, readable without the lock.
    queued: AtomicUsize,
    /// Bytes of the connection's current socket write the kernel has not taken yet: they
    /// are output buffer too (a client that does not read leaves them there).
    inflight: AtomicUsize,
    /// Unix seconds when the soft limit was first seen exceeded (0: not exceeded).
    soft_since: AtomicU64,
    /// Wakes the connection task when the queue becomes non-empty.
    pub notify: tokio::sync::Notify,
}

/// `client-output-buffer-limit` per class, mirrored from the config in atomics so a push
/// reads them without the config lock. [`OutputLimits::refresh`] after CONFIG SET.
pub struct OutputLimits {
    limits: [[AtomicU64; 3]; 3],
}

impl Default for OutputLimits {
    fn default() -> Self {
        let l = OutputLimits {
            limits: Default::default(),
        };
        l.set(&ObufLimit::DEFAULTS);
        l
    }
}

impl OutputLimits {
    fn set(&self, v: &[ObufLimit; 3]) {
        for (dst, src) in self.limits.iter().zip(v) {
            dst[0].store(src.hard, Ordering::Relaxed);
            dst[1].store(src.soft, Ordering::Relaxed);
            dst[2].store(src.soft_secs as u64, Ordering::Relaxed);
        }
    }

    /// Takes the values of a (new) config.
    pub fn refresh(&self, config: &Config) {
        self.set(&config.client_output_buffer_limit);
    }

    pub fn get(&self, class: ObufClass) -> ObufLimit {
        let l = &self.limits[class as usize];
        ObufLimit {
            hard: l[0].load(Ordering::Relaxed),
            soft: l[1].load(Ordering::Relaxed),
            soft_secs: l[2].load(Ordering::Relaxed) as u32,
        }
    }
}

/// All connected clients by id.
#[derive(Default)]
pub struct ClientRegistry {
    clients: Mutex<BTreeMap<u64, Arc<ClientInfo>>>,
    next_id: AtomicU64,
    /// The output buffer limits every push checks.
    pub obuf_limits: OutputLimits,
}

impl ClientRegistry {
    /// Registers a new connection and returns its info (ids start at 1, as in Redis... after
    /// nothing else: every connection takes the next id).
    pub fn register(&self, addr: String, laddr: String, fd: i64) -> Arc<ClientInfo> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let info = Arc::new(ClientInfo {
            id,
            addr,
            laddr,
            fd,
            created: Instant::now(),
            name: Mutex::new(None),
            lib_name: Mutex::new(None),
            lib_ver: Mutex::new(None),
            db: AtomicUsize::new(0),
            resp: AtomicUsize::new(2),
            last_interaction_ms: AtomicU64::new(crate::util::now_ms()),
            last_cmd: AtomicU32::new(u32::MAX),
            query_buf: AtomicUsize::new(0),
            query_buf_free: AtomicUsize::new(0),
            out_buf: AtomicUsize::new(0),
            multi: std::sync::atomic::AtomicI64::new(-1),
            killed: AtomicBool::new(false),
            kill_notify: tokio::sync::Notify::new(),
            sub: AtomicUsize::new(0),
            psub: AtomicUsize::new(0),
            ssub: AtomicUsize::new(0),
            mailbox: Mailbox::default(),
            tracking: Default::default(),
        });
        self.clients.lock().insert(id, info.clone());
        info
    }

    pub fn unregister(&self, id: u64) {
        self.clients.lock().remove(&id);
    }

    pub fn len(&self) -> usize {
        self.clients.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A snapshot of every client, ordered by id.
    pub fn all(&self) -> Vec<Arc<ClientInfo>> {
        self.clients.lock().values().cloned().collect()
    }

    pub fn get(&self, id: u64) -> Option<Arc<ClientInfo>> {
        self.clients.lock().get(&id).cloned()
    }

    /// Pushes a frame (RESP2 array form, see [`ClientInfo::deliver`]) to the client with
    /// this id; false if there is no such client or it is closing.
    pub fn deliver_to(&self, id: u64, frame: &[u8]) -> bool {
        self.get(id)
            .is_some_and(|c| c.deliver(frame, &self.obuf_limits))
    }
}

// ---------------------------------------------------------------------------------------
// CLIENT command family.

const CAT: &[&str] = &["connection"];

pub fn register(t: &mut CommandTable) {
    const F: &str = "noscript loading stale";
    const ADMIN: &str = "admin noscript loading stale";
    t.add(
        cmd("client", -2, "", &[], (0, 0, 0), container).with_subcommands(vec![
            cmd("client|id", 2, F, CAT, (0, 0, 0), client_id),
            cmd("client|info", 2, F, CAT, (0, 0, 0), client_info),
            cmd("client|getname", 2, F, CAT, (0, 0, 0), client_getname),
            cmd("client|setname", 3, F, CAT, (0, 0, 0), client_setname),
            cmd("client|setinfo", 4, F, CAT, (0, 0, 0), client_setinfo),
            cmd("client|list", -2, ADMIN, CAT, (0, 0, 0), client_list),
            cmd("client|kill", -3, ADMIN, CAT, (0, 0, 0), client_kill),
            cmd("client|unblock", -3, ADMIN, CAT, (0, 0, 0), client_unblock),
            // ---- Client-side caching (tracking.rs) ----
            cmd(
                "client|tracking",
                -3,
                F,
                CAT,
                (0, 0, 0),
                tracking::client_tracking,
            ),
            cmd(
                "client|caching",
                3,
                F,
                CAT,
                (0, 0, 0),
                tracking::client_caching,
            ),
            cmd(
                "client|getredir",
                2,
                F,
                CAT,
                (0, 0, 0),
                tracking::client_getredir,
            ),
            cmd(
                "client|trackinginfo",
                2,
                F,
                CAT,
                (0, 0, 0),
                tracking::client_trackinginfo,
            ),
            // ----
            cmd(
                "client|help",
                2,
                "loading stale",
                CAT,
                (0, 0, 0),
                client_help,
            ),
        ]),
    );
}

fn client_id(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    ctx.out.int(ctx.session.info.id as i64);
    Ok(())
}

fn client_info(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    let line = ctx.session.info.describe(&ctx.shared.commands);
    ctx.out.verbatim(line.as_bytes());
    Ok(())
}

fn client_getname(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    match ctx.session.info.name.lock().as_deref() {
        Some(n) => ctx.out.bulk(n.as_bytes()),
        None => ctx.out.null(),
    }
    Ok(())
}

/// Redis accepts only printable ASCII without spaces in names ('!' to '~').
fn valid_name(name: &[u8]) -> bool {
    name.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

/// Sets (or with an empty name, clears) the connection name, as CLIENT SETNAME and
/// HELLO SETNAME do.
pub fn set_client_name(ctx: &mut Ctx, name: &[u8]) -> CmdResult {
    if !valid_name(name) {
        return Err(CmdError::new(
            "ERR Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    let name = (!name.is_empty()).then(|| String::from_utf8_lossy(name).into_owned());
    ctx.session.info.set_name(name);
    Ok(())
}

fn client_setname(ctx: &mut Ctx, args: &Args) -> CmdResult {
    set_client_name(ctx, args.get(2))?;
    ctx.out.ok();
    Ok(())
}

/// CLIENT SETINFO LIB-NAME|LIB-VER (Redis 7.2; clients send it and ignore errors, but
/// answering it keeps their logs clean).
fn client_setinfo(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let value = args.get(3);
    let is_name = args.is(2, "lib-name");
    if !is_name && !args.is(2, "lib-ver") {
        return Err(CmdError::from(format!(
            "ERR Unrecognized option '{}'",
            String::from_utf8_lossy(args.get(2))
        )));
    }
    if !valid_name(value) {
        let attr = if is_name { "lib-name" } else { "lib-ver" };
        return Err(CmdError::from(format!(
            "ERR {} cannot contain spaces, newlines or special characters.",
            attr
        )));
    }
    let v = Some(String::from_utf8_lossy(value).into_owned());
    if is_name {
        ctx.session.info.set_lib(v, None);
    } else {
        ctx.session.info.set_lib(None, v);
    }
    ctx.out.ok();
    Ok(())
}

/// Client types CLIENT LIST/KILL TYPE accept (a client is `pubsub` while subscribed,
/// `normal` otherwise; there are no replicas or masters here).
fn client_type(name: &[u8]) -> Option<&'static str> {
    match name.to_ascii_lowercase().as_slice() {
        b"normal" => Some("normal"),
        b"slave" | b"replica" => Some("replica"),
        b"master" => Some("master"),
        b"pubsub" => Some("pubsub"),
        _ => None,
    }
}

fn unknown_type(name: &[u8]) -> CmdError {
    CmdError::from(format!(
        "ERR Unknown client type '{}'",
        String::from_utf8_lossy(name)
    ))
}

fn client_list(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let mut text = String::new();
    if args.len() == 4 && args.is(2, "type") {
        let t = client_type(args.get(3)).ok_or_else(|| unknown_type(args.get(3)))?;
        for c in ctx.shared.clients.all() {
            if c.type_name() == t {
                text.push_str(&c.describe(&ctx.shared.commands));
            }
        }
    } else if args.len() > 3 && args.is(2, "id") {
        for a in args.iter_from(3) {
            let id = crate::util::parse_i64(a).ok_or(CmdError::new("ERR Invalid client ID"))?;
            if let Some(c) = u64::try_from(id)
                .ok()
                .and_then(|id| ctx.shared.clients.get(id))
            {
                text.push_str(&c.describe(&ctx.shared.commands));
            }
        }
    } else if args.len() != 2 {
        return Err(CmdError::new(err::SYNTAX));
    } else {
        for c in ctx.shared.clients.all() {
            text.push_str(&c.describe(&ctx.shared.commands));
        }
    }
    ctx.out.verbatim(text.as_bytes());
    Ok(())
}

/// CLIENT UNBLOCK id [TIMEOUT|ERROR]: ends a client's blocking command as if it timed
/// out, or with an UNBLOCKED error.
fn client_unblock(ctx: &mut Ctx, args: &Args) -> CmdResult {
    if args.len() > 4 {
        return Err(CmdError::from_bytes(
            format!(
                "ERR unknown subcommand or wrong number of arguments for '{}'. Try CLIENT HELP.",
                String::from_utf8_lossy(super::c_arg(args.get(1), 128))
            )
            .into_bytes(),
        ));
    }
    let id = args.int(2)?;
    let error = if args.len() == 4 {
        if args.is(3, "timeout") {
            false
        } else if args.is(3, "error") {
            true
        } else {
            return Err(CmdError::new(
                "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
            ));
        }
    } else {
        false
    };
    let done = u64::try_from(id)
        .ok()
        .and_then(|id| ctx.shared.blocking.find_client(id))
        .is_some_and(|w| ctx.shared.blocking.unblock(&w, error));
    ctx.out.int(done as i64);
    Ok(())
}

fn client_kill(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let mut id: Option<u64> = None;
    let mut ty: Option<&'static str> = None;
    let mut addr: Option<&[u8]> = None;
    let mut laddr: Option<&[u8]> = None;
    let mut skipme = true;
    let old_form = args.len() == 3;
    if old_form {
        addr = Some(args.get(2));
        // With the old form a client may kill itself.
        skipme = false;
    } else {
        let mut i = 2;
        while i < args.len() {
            let more = i + 1 < args.len();
            if !more {
                return Err(CmdError::new(err::SYNTAX));
            }
            let v = args.get(i + 1);
            if args.is(i, "id") {
                let n = crate::util::parse_i64(v)
                    .filter(|&n| n >= 1)
                    .ok_or(CmdError::new("ERR client-id should be greater than 0"))?;
                id = Some(n as u64);
            } else if args.is(i, "type") {
                ty = Some(client_type(v).ok_or_else(|| unknown_type(v))?);
            } else if args.is(i, "addr") {
                addr = Some(v);
            } else if args.is(i, "laddr") {
                laddr = Some(v);
            } else if args.is(i, "user") {
                if v != b"default" {
                    return Err(CmdError::from(format!(
                        "ERR No such user '{}'",
                        String::from_utf8_lossy(v)
                    )));
                }
            } else if args.is(i, "skipme") {
                if v.eq_ignore_ascii_case(b"yes") {
                    skipme = true;
                } else if v.eq_ignore_ascii_case(b"no") {
                    skipme = false;
                } else {
                    return Err(CmdError::new(err::SYNTAX));
                }
            } else {
                return Err(CmdError::new(err::SYNTAX));
            }
            i += 2;
        }
    }
    let me = ctx.session.info.id;
    let mut killed = 0;
    for c in ctx.shared.clients.all() {
        if addr.is_some_and(|a| a != c.addr.as_bytes())
            || laddr.is_some_and(|a| a != c.laddr.as_bytes())
            || id.is_some_and(|i| i != c.id)
            || ty.is_some_and(|t| t != c.type_name())
        {
            continue;
        }
        if c.id == me {
            if skipme {
                continue;
            }
            // Killing ourselves: the reply still goes out, then the connection closes.
            ctx.session.close_after_reply = true;
        } else {
            c.kill();
        }
        killed += 1;
    }
    if old_form {
        if killed == 0 {
            return Err(CmdError::new("ERR No such client"));
        }
        ctx.out.ok();
    } else {
        ctx.out.int(killed);
    }
    Ok(())
}

/// Writes a HELP reply: the title line, then each line as a status reply.
pub fn help_reply(ctx: &mut Ctx, container: &str, lines: &[&str]) {
    ctx.out.array(lines.len() + 3);
    ctx.out.simple(&format!(
        "{} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        container
    ));
    for l in lines {
        ctx.out.simple(l);
    }
    ctx.out.simple("HELP");
    ctx.out.simple("    Prints this help.");
}

fn client_help(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    help_reply(
        ctx,
        "CLIENT",
        &[
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "SETINFO <LIB-NAME|LIB-VER> <value>",
            "    Set client library name or version.",
        ],
    );
    Ok(())
}
