//! What a command handler sees: the state shared by all clients ([`Shared`]), the calling
//! client's session ([`Session`]) and its reply buffer, bundled as a [`Ctx`].
//!
//! The session is a plain struct owned by the connection task and lent to each command,
//! so handlers never reach into the server layer.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Mutex, RwLock};

use super::clients::{ClientInfo, ClientRegistry};
use super::{Args, CommandTable};
use crate::config::Config;
use crate::protocol::ReplyBuf;
use crate::store::Store;

/// Server-wide counters reported by INFO (the store keeps per-shard ones of its own).
#[derive(Default)]
pub struct Stats {
    pub total_connections_received: AtomicU64,
    pub total_commands_processed: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    pub rejected_calls: AtomicU64,
    pub failed_calls: AtomicU64,
    pub total_error_replies: AtomicU64,
    pub total_reads_processed: AtomicU64,
    pub total_writes_processed: AtomicU64,
}

impl Stats {
    /// CONFIG RESETSTAT: every counter back to zero.
    pub fn reset(&self) {
        for c in [
            &self.total_connections_received,
            &self.total_commands_processed,
            &self.rejected_connections,
            &self.net_input_bytes,
            &self.net_output_bytes,
            &self.rejected_calls,
            &self.failed_calls,
            &self.total_error_replies,
            &self.total_reads_processed,
            &self.total_writes_processed,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }
}

/// Rates INFO reports as "instantaneous", refreshed by the server's background task from
/// the counters in [`Stats`] (averaged over the last few samples, as Redis does).
#[derive(Default)]
pub struct Instantaneous {
    pub ops_per_sec: AtomicU64,
    /// Hundredths of kilobytes per second.
    pub input_kbps_x100: AtomicU64,
    pub output_kbps_x100: AtomicU64,
}

/// One SLOWLOG entry.
#[derive(Clone, Debug)]
pub struct SlowlogEntry {
    pub id: u64,
    pub timestamp: u64,
    pub usec: u64,
    pub args: Vec<Vec<u8>>,
    pub addr: String,
    pub name: String,
}

#[derive(Default)]
pub struct SlowLog {
    pub entries: VecDeque<SlowlogEntry>,
    pub next_id: u64,
}

/// State shared by every connection.
pub struct Shared {
    pub store: Store,
    /// Compact-encoding thresholds, mirrored from `config` for the write paths.
    pub limits: crate::store::EncodingLimits,
    /// Clients blocked on keys (BLPOP, BZPOPMIN, ...).
    pub blocking: super::blocking::Registry,
    pub config: RwLock<Config>,
    pub commands: CommandTable,
    pub stats: Stats,
    pub instantaneous: Instantaneous,
    pub clients: ClientRegistry,
    pub slowlog: Mutex<SlowLog>,
    /// Cached `slowlog-log-slower-than` so the per-command check reads one atomic.
    /// Cached `maxmemory` (0: no limit) for the per-command memory check.
    pub maxmemory: AtomicU64,
    pub slowlog_threshold: std::sync::atomic::AtomicI64,
    /// Set by SHUTDOWN; the server layer waits on `shutdown_notify`.
    pub shutdown_requested: AtomicBool,
    pub shutdown_notify: tokio::sync::Notify,
    pub started: Instant,
    pub started_unix_ms: u64,
    /// Random 40-hex-digit id, as INFO's run_id.
    pub run_id: String,
    /// The TCP port actually bound (the configured one may be 0).
    pub port: std::sync::atomic::AtomicU16,
    pub executable: String,
    /// Error replies by their first word (INFO errorstats), e.g. `ERR`, `WRONGTYPE`.
    pub error_stats: Mutex<BTreeMap<String, u64>>,
    /// WATCH registry and keyspace notification settings.
    pub keyspace: super::keyspace::Keyspace,
    /// CLIENT PAUSE state and MONITOR clients (control.rs).
    pub control: super::control::Control,
    /// Held for reading by every command and for writing by EXEC (transactions.rs) and
    /// scripts (scripting/).
    pub exec_gate: parking_lot::RwLock<()>,
    /// Lua scripts and functions.
    pub scripting: crate::scripting::Scripting,

    // ---- Pub/Sub (commands/pubsub.rs) ----
    /// Every channel, pattern and shard-channel subscription.
    pub pubsub: super::pubsub::Registry,

    // ---- Client-side caching (commands/tracking.rs) ----
    /// Tracked keys and BCAST prefixes of every client.
    pub tracking: super::tracking::Tracking,
}

impl Shared {
    pub fn new(config: Config) -> Self {
        use rand::Rng;
        let mut rng = rand::rng();
        let run_id: String = (0..40)
            .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
            .collect();
        let notify = config.notify_keyspace_events;
        let store = Store::new(config.databases, config.shards);
        store.configure_eviction(&config);
        let shared = Shared {
            store,
            limits: crate::store::EncodingLimits::from_config(&config),
            blocking: Default::default(),
            slowlog_threshold: std::sync::atomic::AtomicI64::new(config.slowlog_log_slower_than),
            maxmemory: AtomicU64::new(config.maxmemory),
            port: std::sync::atomic::AtomicU16::new(config.port),
            config: RwLock::new(config),
            commands: CommandTable::new(),
            stats: Stats::default(),
            instantaneous: Instantaneous::default(),
            clients: ClientRegistry::default(),
            slowlog: Mutex::new(SlowLog::default()),
            shutdown_requested: AtomicBool::new(false),
            shutdown_notify: tokio::sync::Notify::new(),
            started: Instant::now(),
            started_unix_ms: crate::util::now_ms(),
            run_id,
            executable: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            error_stats: Mutex::new(BTreeMap::new()),
            keyspace: super::keyspace::Keyspace {
                notify: std::sync::atomic::AtomicU32::new(notify),
                ..Default::default()
            },
            exec_gate: parking_lot::RwLock::new(()),
            scripting: crate::scripting::Scripting::new(),
            control: Default::default(),
            pubsub: Default::default(),
            tracking: Default::default(),
        };
        // Pub/Sub: the output buffer limits pushes check start from the config.
        shared.clients.obuf_limits.refresh(&shared.config.read());
        super::keyspace::refresh_deletion_log(&shared);
        shared
    }

    /// Counts one error reply for INFO (total_error_replies and errorstats by prefix, as
    /// Redis's `afterErrorReply` does). `msg` is the text after '-'.
    pub fn count_error(&self, msg: &str) {
        self.stats
            .total_error_replies
            .fetch_add(1, Ordering::Relaxed);
        let code = msg.split(' ').next().unwrap_or("ERR");
        let mut map = self.error_stats.lock();
        // Redis stops tracking new error codes past 128 (a client could invent codes).
        if let Some(n) = map.get_mut(code) {
            *n += 1;
        } else if map.len() < 128 {
            map.insert(code.to_string(), 1);
        }
    }

    /// CONFIG RESETSTAT: server counters, store counters, command and error statistics.
    pub fn reset_stats(&self) {
        self.stats.reset();
        self.store.reset_stats();
        for spec in self.commands.iter() {
            for s in std::iter::once(spec).chain(spec.subcommands.iter()) {
                s.stats.calls.store(0, Ordering::Relaxed);
                s.stats.usec.store(0, Ordering::Relaxed);
                s.stats.rejected.store(0, Ordering::Relaxed);
                s.stats.failed.store(0, Ordering::Relaxed);
            }
        }
        self.error_stats.lock().clear();
    }

    /// Unix seconds of the last successful save: the start time, as nothing is saved.
    pub fn lastsave(&self) -> u64 {
        self.started_unix_ms / 1000
    }

    /// Asks the server to stop (SHUTDOWN, signals).
    pub fn request_shutdown(&self) {
        // A running script stops at its next check (SHUTDOWN NOSAVE works while busy).
        self.scripting.abort();
        self.shutdown_requested.store(true, Ordering::SeqCst);
        self.shutdown_notify.notify_waiters();
        self.shutdown_notify.notify_one();
    }

    /// Adds a command to the slow log if it took longer than the threshold.
    #[inline]
    pub fn slowlog_record(&self, session: &Session, args: &Args, usec: u64) {
        let threshold = self.slowlog_threshold.load(Ordering::Relaxed);
        if threshold < 0 || (usec as i64) < threshold {
            return;
        }
        let max_len = self.config.read().slowlog_max_len;
        // Redis keeps at most 32 arguments and 128 bytes of each.
        let argc = args.len();
        let mut kept: Vec<Vec<u8>> = Vec::new();
        for (i, a) in args.iter_from(0).enumerate() {
            if i == 31 && argc > 32 {
                kept.push(format!("... ({} more arguments)", argc - 31).into_bytes());
                break;
            }
            if a.len() > 128 {
                let mut v = a[..128].to_vec();
                v.extend_from_slice(format!("... ({} more bytes)", a.len() - 128).as_bytes());
                kept.push(v);
            } else {
                kept.push(a.to_vec());
            }
        }
        let mut log = self.slowlog.lock();
        let id = log.next_id;
        log.next_id += 1;
        log.entries.push_front(SlowlogEntry {
            id,
            timestamp: crate::util::now_ms() / 1000,
            usec,
            args: kept,
            addr: session.info.addr.clone(),
            name: session.info.name(),
        });
        while log.entries.len() > max_len {
            log.entries.pop_back();
        }
    }
}

/// The per-client state commands read and change.
pub struct Session {
    pub db: usize,
    /// 2 or 3 (HELLO).
    pub resp: u8,
    pub authenticated: bool,
    /// Close the connection once the replies written so far are sent (QUIT, errors).
    pub close_after_reply: bool,
    /// DEBUG SLEEP: the connection waits this long (without blocking other clients) after
    /// the command and before running the next one or sending replies.
    pub sleep_after_reply: Option<std::time::Duration>,
    /// The client's entry in the registry (name, addresses, kill switch).
    pub info: Arc<ClientInfo>,
    /// Set by a blocking command that found nothing: the connection parks until served.
    pub blocked: Option<Arc<super::blocking::Waiter>>,
    /// The command is being re-run to serve this (blocked) client; `block` then only
    /// records in `not_served` that there was still nothing to take.
    pub serving: bool,
    pub not_served: bool,
    /// Blocking commands answer at once instead of blocking (inside MULTI or a script).
    pub no_block: bool,
    /// Keys written by the current command that blocked clients may be waiting on.
    pub ready: Vec<(usize, Vec<u8>)>,
    /// MULTI state (None outside a transaction).
    pub multi: Option<super::transactions::MultiState>,
    /// EXEC is running this client's queue, or a script its commands (they skip the exec
    /// gate).
    pub in_exec: bool,
    /// A script is running this client's commands (scripting/engine.rs).
    pub in_script: bool,
    /// Unix ms every command of a running script takes as "now" (0: none), as Redis
    /// judges expiry against the script's start time.
    pub frozen_now: u64,
    /// Keys under WATCH, and the flag a change to any of them sets.
    pub watched: Vec<super::transactions::Watched>,
    pub watch_flag: Option<Arc<super::keyspace::WatchFlag>>,
    /// Keyspace notifications of the running command, published when it is done.
    pub events: Vec<super::keyspace::KeyEvent>,
    /// CLIENT REPLY OFF / SKIP (the connection drops the replies).
    pub reply_off: bool,
    pub reply_skip_next: bool,

    // ---- Pub/Sub (commands/pubsub.rs) ----
    /// This client's channel, pattern and shard-channel subscriptions.
    pub subs: super::pubsub::Subscriptions,

    // ---- Client-side caching (commands/tracking.rs) ----
    /// Tracking mode, CLIENT CACHING, prefixes and invalidations due after the reply.
    pub tracking: super::tracking::SessionTracking,
}

impl Session {
    pub fn new(info: Arc<ClientInfo>, authenticated: bool) -> Self {
        Session {
            db: 0,
            resp: 2,
            authenticated,
            close_after_reply: false,
            sleep_after_reply: None,
            info,
            blocked: None,
            serving: false,
            not_served: false,
            no_block: false,
            ready: Vec::new(),
            multi: None,
            in_exec: false,
            in_script: false,
            frozen_now: 0,
            watched: Vec::new(),
            watch_flag: None,
            events: Vec::new(),
            reply_off: false,
            reply_skip_next: false,
            subs: Default::default(),
            tracking: Default::default(),
        }
    }
}

/// Everything a handler may use while running one command.
pub struct Ctx<'a> {
    pub shared: &'a Shared,
    pub session: &'a mut Session,
    pub out: &'a mut ReplyBuf,
    now: u64,
    clock: u32,
}

impl<'a> Ctx<'a> {
    pub fn new(shared: &'a Shared, session: &'a mut Session, out: &'a mut ReplyBuf) -> Self {
        Ctx {
            shared,
            session,
            out,
            now: 0,
            clock: 0,
        }
    }

    /// Fixes the command's notion of "now", as Redis does once per command, so every key
    /// a command touches is judged expired or not against the same instant.
    #[inline]
    pub fn begin_command(&mut self) {
        self.begin_command_at(quanta::Instant::now());
    }

    /// As [`Ctx::begin_command`], with the instant the caller already read.
    #[inline]
    pub fn begin_command_at(&mut self, t: quanta::Instant) {
        self.now = if self.session.frozen_now != 0 {
            self.session.frozen_now
        } else {
            crate::util::clock::unix_ms_at(t)
        };
        self.clock = self.shared.store.access_stamp(self.now);
    }

    /// Unix ms at the start of the command.
    #[inline]
    pub fn now(&self) -> u64 {
        self.now
    }

    /// The access stamp of the command: the LRU clock at its start, or under an LFU
    /// policy the LFU word of a new key (see `store/evict.rs`).
    #[inline]
    pub fn clock(&self) -> u32 {
        self.clock
    }

    #[inline]
    pub fn store(&self) -> &'a Store {
        &self.shared.store
    }

    #[inline]
    pub fn db(&self) -> usize {
        self.session.db
    }
}
