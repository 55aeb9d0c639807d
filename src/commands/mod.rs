//! The command table and dispatch.
//!
//! Every command is described as data (name, arity, flags, key positions, handler) and
//! registered by the family file that implements it (`strings.rs`, `keys.rs`, ...). The
//! table answers unknown-command, arity and subcommand errors with Redis's text, feeds
//! `COMMAND`, and says which arguments are keys. Handlers see only a [`Ctx`]: the shared
//! state, the client's [`Session`] and the reply buffer, never the server layer.

pub mod bitmaps;
pub mod blocking;
pub mod clients;
pub mod connection;
pub mod context;
pub mod control;
pub mod hashes;
pub mod hyperloglog;
pub mod keys;
pub mod keyspace;
pub mod lists;
pub mod memory;
pub mod pubsub;
pub mod server;
pub mod sets;
pub mod strings;
pub mod tracking;
pub mod transactions;
pub mod zsets;

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};

use hashbrown::HashMap;

use crate::protocol::decode::Request;
use crate::protocol::ReplyBuf;

pub use context::{Ctx, Session, Shared};

/// An error reply: the full text after '-', e.g. `ERR syntax error`. An error that echoes
/// client bytes which are not UTF-8 also keeps the exact bytes (`.0` is then a lossy copy
/// for logs); replies are written from [`CmdError::bytes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdError(pub Cow<'static, str>, Option<Box<[u8]>>);

impl CmdError {
    pub fn new(s: impl Into<Cow<'static, str>>) -> Self {
        CmdError(s.into(), None)
    }

    /// An error text built from client bytes, kept byte for byte.
    pub fn from_bytes(text: Vec<u8>) -> Self {
        match String::from_utf8(text) {
            Ok(s) => CmdError(Cow::Owned(s), None),
            Err(e) => {
                let raw = e.into_bytes();
                let lossy = String::from_utf8_lossy(&raw).into_owned();
                CmdError(Cow::Owned(lossy), Some(raw.into_boxed_slice()))
            }
        }
    }

    /// The exact text to reply with.
    pub fn bytes(&self) -> &[u8] {
        self.1.as_deref().unwrap_or(self.0.as_bytes())
    }
}

impl From<String> for CmdError {
    fn from(s: String) -> Self {
        CmdError(Cow::Owned(s), None)
    }
}

impl From<&'static str> for CmdError {
    fn from(s: &'static str) -> Self {
        CmdError(Cow::Borrowed(s), None)
    }
}

pub type CmdResult = Result<(), CmdError>;

/// Error texts shared by many commands, exactly as Redis writes them.
pub mod err {
    pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
    pub const NOT_INT: &str = "ERR value is not an integer or out of range";
    pub const NOT_FLOAT: &str = "ERR value is not a valid float";
    pub const SYNTAX: &str = "ERR syntax error";
    pub const NO_SUCH_KEY: &str = "ERR no such key";
    pub const OVERFLOW: &str = "ERR increment or decrement would overflow";
    pub const DB_INDEX: &str = "ERR DB index is out of range";
    pub const NOAUTH: &str = "NOAUTH Authentication required.";
    pub const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";
}

/// The arguments of one request (argument 0 is the command name).
pub struct Args<'a> {
    buf: &'a [u8],
    req: &'a Request,
}

impl<'a> Args<'a> {
    pub fn new(buf: &'a [u8], req: &'a Request) -> Self {
        Args { buf, req }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.req.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.req.is_empty()
    }

    /// Argument `i`. Callers index within `len()`, which the arity check guarantees.
    #[inline]
    pub fn get(&self, i: usize) -> &'a [u8] {
        self.req.arg(self.buf, i)
    }

    /// Arguments from `start` on.
    pub fn iter_from(&self, start: usize) -> impl Iterator<Item = &'a [u8]> + '_ {
        (start..self.len()).map(move |i| self.get(i))
    }

    /// Argument `i` as an i64, or `ERR value is not an integer or out of range`.
    pub fn int(&self, i: usize) -> Result<i64, CmdError> {
        crate::util::parse_i64(self.get(i)).ok_or(CmdError::new(err::NOT_INT))
    }

    /// True if argument `i` equals `word`, ignoring ASCII case.
    #[inline]
    pub fn is(&self, i: usize, word: &str) -> bool {
        self.get(i).eq_ignore_ascii_case(word.as_bytes())
    }

    /// Copies all arguments (for queued or deferred execution).
    pub fn to_vec(&self) -> Vec<Vec<u8>> {
        (0..self.len()).map(|i| self.get(i).to_vec()).collect()
    }
}

pub type Handler = fn(&mut Ctx, &Args) -> CmdResult;

/// Command flags, named as `COMMAND INFO` names them.
pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const SKIP_MONITOR: u32 = 1 << 9;
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    pub const FAST: u32 = 1 << 11;
    pub const NO_AUTH: u32 = 1 << 12;
    pub const MAY_REPLICATE: u32 = 1 << 13;
    pub const NO_MULTI: u32 = 1 << 14;
    pub const ALLOW_BUSY: u32 = 1 << 15;
    /// Keys are found through a `numkeys` argument (set by `with_numkeys`).
    pub const MOVABLEKEYS: u32 = 1 << 16;
    pub const NO_MANDATORY_KEYS: u32 = 1 << 17;
    /// Internal, not reported by COMMAND: the handler takes the exec gate itself (EXEC,
    /// EVAL and FCALL take it for writing), so `execute` does not take it for reading.
    pub const OWN_GATE: u32 = 1 << 18;

    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_MULTI, "no_multi"),
        (ALLOW_BUSY, "allow_busy"),
        (MOVABLEKEYS, "movablekeys"),
    ];

    /// Parses a space-separated list of flag names; unknown names are a bug in the table.
    pub const fn parse(s: &str) -> u32 {
        let b = s.as_bytes();
        let mut out = 0;
        let mut i = 0;
        while i < b.len() {
            while i < b.len() && b[i] == b' ' {
                i += 1;
            }
            let start = i;
            while i < b.len() && b[i] != b' ' {
                i += 1;
            }
            if i > start {
                let mut j = 0;
                let mut found = false;
                while j < NAMES.len() {
                    let name = NAMES[j].1.as_bytes();
                    if name.len() == i - start {
                        let mut k = 0;
                        while k < name.len() && name[k] == b[start + k] {
                            k += 1;
                        }
                        if k == name.len() {
                            out |= NAMES[j].0;
                            found = true;
                        }
                    }
                    j += 1;
                }
                assert!(found, "unknown command flag");
            }
        }
        out
    }
}

/// Call statistics of one command (INFO commandstats).
#[derive(Default)]
pub struct CommandStats {
    pub calls: AtomicU64,
    pub usec: AtomicU64,
    pub rejected: AtomicU64,
    pub failed: AtomicU64,
}

/// One entry of the command table.
pub struct CommandSpec {
    /// Lower-case full name; subcommands are `container|sub` as Redis names them.
    pub name: &'static str,
    /// Positive: exact argument count (name included); negative: at least -arity.
    pub arity: i32,
    pub flags: u32,
    /// ACL categories reported by COMMAND, without the '@'.
    pub categories: &'static [&'static str],
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    pub handler: Handler,
    pub subcommands: Vec<CommandSpec>,
    /// For commands whose keys follow a count (`ZUNION numkeys k1 k2 ...`): the index of
    /// that count argument.
    pub numkeys_at: Option<usize>,
    pub stats: CommandStats,
    /// Index into [`CommandTable::name_of`], set when the table is built, so a client's
    /// last command is recorded as one relaxed atomic store.
    pub id: u32,
}

impl CommandSpec {
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// The arity check Redis does before calling a command.
    #[inline]
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i64;
        let a = self.arity as i64;
        (a > 0 && argc == a) || (a < 0 && argc >= -a)
    }

    /// Adds subcommands to a container command (CLIENT, CONFIG, ...).
    pub fn with_subcommands(mut self, subs: Vec<CommandSpec>) -> Self {
        self.subcommands = subs;
        self
    }

    /// The key argument positions of a request, from the (first, last, step) spec.
    pub fn key_positions(&self, argc: usize) -> Vec<usize> {
        if self.first_key <= 0 {
            return Vec::new();
        }
        let last = if self.last_key < 0 {
            argc as i64 + self.last_key as i64
        } else {
            self.last_key as i64
        };
        let step = self.step.max(1) as usize;
        let mut out = Vec::new();
        let mut i = self.first_key as usize;
        while (i as i64) <= last && i < argc {
            out.push(i);
            i += step;
        }
        out
    }

    /// Declares the keys as `numkeys` arguments following argument `at` (the command is
    /// then `movablekeys`, as Redis flags it).
    pub fn with_numkeys(mut self, at: usize) -> Self {
        self.numkeys_at = Some(at);
        self.flags |= flags::MOVABLEKEYS;
        self
    }

    /// Every key argument position of a request: the (first, last, step) range plus the
    /// keys counted by a `numkeys` argument. None if that count is not a positive integer
    /// within the arguments given.
    pub fn all_key_positions(&self, args: &Args) -> Option<Vec<usize>> {
        let mut keys = self.key_positions(args.len());
        if let Some(at) = self.numkeys_at {
            if at >= args.len() {
                return None;
            }
            let n = crate::util::parse_i64(args.get(at))?;
            if n <= 0 || n as u64 > (args.len() - at - 1) as u64 {
                return None;
            }
            keys.extend(at + 1..=at + n as usize);
        }
        Some(keys)
    }

    /// Marks a command whose handler takes the exec gate itself ([`flags::OWN_GATE`]).
    pub fn own_gate(mut self) -> Self {
        self.flags |= flags::OWN_GATE;
        self
    }

    /// The name as COMMAND INFO prints it (the part after '|' for subcommands).
    pub fn short_name(&self) -> &'static str {
        self.name
    }
}

/// Builds a table entry: `cmd("get", 2, "readonly fast", &["read", "string"], (1, 1, 1), get)`.
pub fn cmd(
    name: &'static str,
    arity: i32,
    flag_names: &str,
    categories: &'static [&'static str],
    keys: (i32, i32, i32),
    handler: Handler,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags: flags::parse(flag_names),
        categories,
        first_key: keys.0,
        last_key: keys.1,
        step: keys.2,
        handler,
        subcommands: Vec::new(),
        numkeys_at: None,
        stats: CommandStats::default(),
        id: 0,
    }
}

/// Handler of a container command called without a known subcommand; never reached
/// because dispatch resolves subcommands first.
pub fn container(_: &mut Ctx, args: &Args) -> CmdResult {
    Err(unknown_subcommand(args))
}

fn unknown_subcommand(args: &Args) -> CmdError {
    let mut m = b"ERR unknown subcommand '".to_vec();
    m.extend_from_slice(c_arg(args.get(1.min(args.len() - 1)), 128));
    m.extend_from_slice(b"'. Try ");
    m.extend_from_slice(&args.get(0).to_ascii_uppercase());
    m.extend_from_slice(b" HELP.");
    CmdError::from_bytes(m)
}

/// An argument as Redis's `%.*s` prints it into an error: at most `max` bytes, cut at the
/// first NUL.
pub fn c_arg(a: &[u8], max: usize) -> &[u8] {
    let a = &a[..a.len().min(max)];
    match a.iter().position(|&b| b == 0) {
        Some(n) => &a[..n],
        None => a,
    }
}

/// All commands, looked up by lower-case name.
pub struct CommandTable {
    /// Keyed by the lower-case name's bytes, so a lookup needs no UTF-8 check.
    by_name: HashMap<&'static [u8], CommandSpec>,
    names: Vec<&'static str>,
}

impl Default for CommandTable {
    fn default() -> Self {
        Self::new()
    }
}

impl CommandTable {
    /// The table with every family registered.
    pub fn new() -> Self {
        let mut t = CommandTable {
            by_name: HashMap::new(),
            names: Vec::new(),
        };
        strings::register(&mut t);
        bitmaps::register(&mut t);
        keys::register(&mut t);
        connection::register(&mut t);
        server::register(&mut t);
        lists::register(&mut t);
        hashes::register(&mut t);
        sets::register(&mut t);
        zsets::register(&mut t);
        crate::scripting::register(&mut t);
        hyperloglog::register(&mut t);
        transactions::register(&mut t);
        control::register(&mut t);
        pubsub::register(&mut t);
        memory::register(&mut t);
        t
    }

    pub fn add(&mut self, mut spec: CommandSpec) {
        spec.id = self.names.len() as u32;
        self.names.push(spec.name);
        for sub in spec.subcommands.iter_mut() {
            sub.id = self.names.len() as u32;
            self.names.push(sub.name);
        }
        let prev = self.by_name.insert(spec.name.as_bytes(), spec);
        assert!(prev.is_none(), "command registered twice");
    }

    /// The name of the command with this id ("" for none).
    pub fn name_of(&self, id: u32) -> &'static str {
        self.names.get(id as usize).copied().unwrap_or("")
    }

    /// Looks a command up by name, ignoring case.
    #[inline]
    pub fn get(&self, name: &[u8]) -> Option<&CommandSpec> {
        let mut lower = [0u8; 32];
        if name.len() > lower.len() {
            return None;
        }
        for (d, s) in lower.iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        self.by_name.get(&lower[..name.len()])
    }

    /// Resolves a request to the spec that handles it (a subcommand for containers), or
    /// the error Redis would reply with.
    pub fn resolve(&self, args: &Args) -> Result<&CommandSpec, CmdError> {
        let Some(spec) = self.get(args.get(0)) else {
            return Err(unknown_command(args));
        };
        if spec.subcommands.is_empty() {
            if !spec.arity_ok(args.len()) {
                return Err(wrong_arity(spec.name));
            }
            return Ok(spec);
        }
        if args.len() < 2 {
            // A container callable bare (COMMAND) runs its own handler.
            if spec.arity_ok(args.len()) {
                return Ok(spec);
            }
            return Err(wrong_arity(spec.name));
        }
        let sub = args.get(1);
        let found = spec.subcommands.iter().find(|s| {
            let short = s.name.split('|').nth(1).unwrap_or("");
            short.as_bytes().eq_ignore_ascii_case(sub)
        });
        match found {
            Some(s) if s.arity_ok(args.len()) => Ok(s),
            Some(s) => Err(wrong_arity(s.name)),
            None => Err(unknown_subcommand(args)),
        }
    }

    /// Looks a request up as Redis's lookupCommand does for scripts: an unknown
    /// subcommand is an unknown command, a bad argument count is reported apart.
    pub fn lookup(&self, args: &Args) -> Lookup<'_> {
        let Some(spec) = self.get(args.get(0)) else {
            return Lookup::Unknown;
        };
        let spec = if spec.subcommands.is_empty() || args.len() < 2 {
            spec
        } else {
            let sub = args.get(1);
            match spec.subcommands.iter().find(|s| {
                let short = s.name.split('|').nth(1).unwrap_or("");
                short.as_bytes().eq_ignore_ascii_case(sub)
            }) {
                Some(s) => s,
                None => return Lookup::Unknown,
            }
        };
        if spec.arity_ok(args.len()) {
            Lookup::Found(spec)
        } else {
            Lookup::BadArity(spec)
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &CommandSpec> {
        self.by_name.values()
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// What [`CommandTable::lookup`] found.
pub enum Lookup<'a> {
    Found(&'a CommandSpec),
    BadArity(&'a CommandSpec),
    Unknown,
}

pub fn wrong_arity(name: &str) -> CmdError {
    CmdError::from(format!(
        "ERR wrong number of arguments for '{}' command",
        name
    ))
}

fn unknown_command(args: &Args) -> CmdError {
    let mut m = b"ERR unknown command '".to_vec();
    m.extend_from_slice(c_arg(args.get(0), 128));
    m.extend_from_slice(b"', with args beginning with: ");
    // Redis appends `'%.*s' ` per argument while the list is under 128 bytes, each
    // argument cut to the room left.
    let mut rest: Vec<u8> = Vec::new();
    for a in args.iter_from(1) {
        if rest.len() >= 128 {
            break;
        }
        let room = 128 - rest.len();
        rest.push(b'\'');
        rest.extend_from_slice(c_arg(a, room));
        rest.extend_from_slice(b"' ");
    }
    m.extend_from_slice(&rest);
    CmdError::from_bytes(m)
}

/// Executes one request: resolves the command, checks authentication, runs the handler,
/// writes the reply (or error) into `ctx.out` and records statistics.
pub fn execute(ctx: &mut Ctx, args: &Args) {
    execute_command(ctx, args, None);
    // Client-side caching: CLIENT CACHING covers the next command only, whatever became
    // of it (tracking.rs).
    if ctx.session.tracking.caching {
        tracking::command_done(ctx, args);
    }
}

/// [`execute`] for a request already resolved to `spec` (a script's command, which the
/// script layer looked up to check it).
pub fn execute_spec(ctx: &mut Ctx, args: &Args, spec: &CommandSpec) {
    execute_command(ctx, args, Some(spec));
    if ctx.session.tracking.caching {
        tracking::command_done(ctx, args);
    }
}

fn execute_command(ctx: &mut Ctx, args: &Args, resolved: Option<&CommandSpec>) {
    let found = match resolved {
        Some(s) => Ok(s),
        None => ctx.shared.commands.resolve(args),
    };
    let spec = match found {
        Ok(s) => s,
        Err(e) => {
            let found = ctx.shared.commands.get(args.get(0));
            note_rejected(ctx, found);
            let e = match found {
                Some(s) if s.name == "exec" => transactions::exec_abort(ctx, &e),
                _ => e,
            };
            ctx.shared.count_error(&e.0);
            ctx.out.error_bytes(e.bytes());
            return;
        }
    };
    if !ctx.session.authenticated && !spec.has(flags::NO_AUTH) {
        note_rejected(ctx, Some(spec));
        let e = CmdError::new(err::NOAUTH);
        let e = match spec.name {
            "exec" => transactions::exec_abort(ctx, &e),
            _ => e,
        };
        ctx.shared.count_error(&e.0);
        ctx.out.error_bytes(e.bytes());
        return;
    }
    // Every command but EXEC, EVAL and FCALL (which take it for writing) and those they
    // run holds the exec gate for reading, so a transaction or script is never seen half
    // done (evictions included).
    let _gate = if ctx.session.in_exec || spec.has(flags::OWN_GATE) {
        None
    } else {
        match read_gate(ctx.shared, spec) {
            Ok(g) => g,
            Err(e) => {
                reject(ctx, spec, &e);
                return;
            }
        }
    };
    // As Redis's processCommand: with maxmemory set, evict before every command while
    // over the budget; a command that may grow memory is refused if nothing could be
    // evicted (`store/evict.rs`). A script's commands were judged when it started.
    let maxmemory = ctx.shared.maxmemory.load(Ordering::Relaxed);
    if maxmemory > 0
        && !ctx.session.in_script
        && ctx.shared.store.enforce_maxmemory(maxmemory) == crate::store::evict::Outcome::Fail
        && spec.has(flags::DENYOOM)
    {
        reject(ctx, spec, &CmdError::new(err::OOM));
        return;
    }
    // RESP2 subscribed mode (pubsub.rs): only the subscribe family, PING, QUIT, RESET.
    if let Err(e) = pubsub::check_subscribed_mode(ctx, spec) {
        // Redis records a refused command as the client's last one (CLIENT LIST cmd=).
        ctx.session.info.set_last_command(spec.id);
        note_rejected(ctx, Some(spec));
        ctx.shared.count_error(&e.0);
        if spec.name == "exec" {
            // Redis's execCommandAbort: EXEC refused before running voids the transaction.
            transactions::end_transaction(ctx.shared, ctx.session);
            let why = e.0.strip_prefix("ERR ").unwrap_or(&e.0);
            ctx.out.error(&format!(
                "EXECABORT Transaction discarded because of: {}",
                why
            ));
            return;
        }
        ctx.out.error_bytes(e.bytes());
        return;
    }
    if let Some(m) = ctx.session.multi.as_mut() {
        if !transactions::runs_inside_multi(spec.name) {
            m.queue.push(args.to_vec());
            m.denyoom |= spec.has(flags::DENYOOM);
            ctx.session
                .info
                .multi
                .store(m.queue.len() as i64, Ordering::Relaxed);
            ctx.out.simple("QUEUED");
            return;
        }
    }
    let start = quanta::Instant::now();
    ctx.begin_command_at(start);
    ctx.session.info.set_last_command(spec.id);
    // Client-side caching: a tracking client's read is remembered after it (tracking.rs).
    let tracked = ctx
        .session
        .tracking
        .on
        .then(|| tracking::before_command(ctx, spec, args));
    let result = (spec.handler)(ctx, args);
    let usec = quanta::Instant::now()
        .saturating_duration_since(start)
        .as_micros() as u64;
    spec.stats.calls.fetch_add(1, Ordering::Relaxed);
    spec.stats.usec.fetch_add(usec, Ordering::Relaxed);
    if maxmemory > 0 && spec.has(flags::DENYOOM) {
        evict_note_write(ctx, spec, args);
    }
    if let Err(e) = result {
        spec.stats.failed.fetch_add(1, Ordering::Relaxed);
        ctx.shared
            .stats
            .failed_calls
            .fetch_add(1, Ordering::Relaxed);
        ctx.shared.count_error(&e.0);
        ctx.out.error_bytes(e.bytes());
    }
    control::feed(ctx, spec, args);
    if !spec.has(flags::SKIP_SLOWLOG) {
        ctx.shared.slowlog_record(ctx.session, args, usec);
    }
    // Keys this command expired lazily or evicted go first, as Redis emits them when
    // they happen, before the command's own events.
    let mut events = keyspace::take_deletion_events(ctx.shared);
    if !ctx.session.events.is_empty() {
        events.append(&mut ctx.session.events);
    }
    if !events.is_empty() {
        keyspace::publish_events(ctx, events);
    }
    if tracked.is_some() || ctx.session.tracking.dirty {
        tracking::after_command(ctx, args, tracked);
    }
    if !ctx.shared.blocking.is_empty() {
        if spec.has(flags::WRITE) {
            blocking::note_written(ctx, spec, args);
        }
        // Inside EXEC the ready keys wait for the end of the transaction, as in Redis:
        // a blocked client sees the transaction's net effect, never a part of it.
        if !ctx.session.ready.is_empty() && !ctx.session.in_exec {
            let ready = std::mem::take(&mut ctx.session.ready);
            blocking::serve_ready(ctx.shared, ready);
        }
    }
}

/// The exec gate for reading. While a script holds it past `busy-reply-threshold`, a
/// command answers BUSY instead of waiting, or runs without the gate if Redis lets it
/// run during a busy script (`allow_busy`: SCRIPT KILL, SHUTDOWN, ...).
fn read_gate<'a>(
    shared: &'a Shared,
    spec: &CommandSpec,
) -> Result<Option<parking_lot::RwLockReadGuard<'a, ()>>, CmdError> {
    if let Some(g) = shared.exec_gate.try_read() {
        return Ok(Some(g));
    }
    loop {
        if let Some(g) = shared
            .exec_gate
            .try_read_for(std::time::Duration::from_millis(2))
        {
            return Ok(Some(g));
        }
        if let Some(busy) = shared.scripting.busy_error() {
            if spec.has(flags::ALLOW_BUSY) {
                return Ok(None);
            }
            return Err(CmdError::new(busy));
        }
    }
}

/// Counts a command refused before running (INFO rejected_calls and its commandstats) and
/// voids an open transaction, as Redis's rejectCommand does.
fn note_rejected(ctx: &mut Ctx, spec: Option<&CommandSpec>) {
    flag_transaction(ctx);
    count_rejected(ctx.shared, spec);
}

/// Counts a refused command (INFO rejected_calls, and the command's own when known).
pub fn count_rejected(shared: &Shared, spec: Option<&CommandSpec>) {
    if let Some(s) = spec {
        s.stats.rejected.fetch_add(1, Ordering::Relaxed);
    }
    shared.stats.rejected_calls.fetch_add(1, Ordering::Relaxed);
}

/// Refuses a command before running it: counted as [`note_rejected`], the error counted
/// and written.
fn reject(ctx: &mut Ctx, spec: &CommandSpec, e: &CmdError) {
    note_rejected(ctx, Some(spec));
    ctx.shared.count_error(&e.0);
    ctx.out.error_bytes(e.bytes());
}

/// A command was refused before running: inside MULTI that voids the transaction
/// (EXEC will answer EXECABORT), as Redis's flagTransaction.
fn flag_transaction(ctx: &mut Ctx) {
    if let Some(m) = ctx.session.multi.as_mut() {
        m.aborted = true;
    }
}

/// allkeys-tinylfu's admission check needs the key each write just stored.
fn evict_note_write(ctx: &Ctx, spec: &CommandSpec, args: &Args) {
    let store = &ctx.shared.store;
    if store.evictor.params.policy() != crate::store::evict::Policy::AllkeysTinyLfu {
        return;
    }
    if let Some(&i) = spec.key_positions(args.len()).first() {
        let key = args.get(i);
        store.evictor.note_write(ctx.db(), store.hash(key), key);
    }
}

/// Writes a reply of a Redis-style "ERR" for an unexpected option.
pub fn syntax_error() -> CmdError {
    CmdError::new(err::SYNTAX)
}

impl ReplyBuf {
    /// Replies with the result of a handler that produced a value or an error.
    pub fn result(&mut self, r: CmdResult) {
        if let Err(e) = r {
            self.error_bytes(e.bytes());
        }
    }
}
