//! The server layer: listeners, connection tasks, background work and shutdown.
//!
//! [`run`] serves until SHUTDOWN or a signal; [`spawn`] starts a server on its own thread
//! and runtime and returns a handle, which is how tests and embedders start one.

pub mod connection;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::commands::Shared;
use crate::config::Config;

/// Wheel work (deletions and cascades) per shard per call: bounds how long active expiry
/// holds one shard's lock (~64 deletions: 10-20 us).
const EXPIRE_BUDGET: usize = 64;
/// Active expiry runs this often, so a key is gone well within 100 ms of its deadline.
const EXPIRE_TICK: Duration = Duration::from_millis(10);
/// Most of each tick active expiry may spend working (40%): a mass expiry is spread over
/// ticks at this duty cycle instead of starving clients.
const EXPIRE_WORK: Duration = Duration::from_millis(4);
/// Active expiry yields to client tasks after this much work, so a request waits at most
/// about this long behind it. 50 us rather than 200: with 1M keys expiring over 10 s
/// under GET/SET load (scripts/expiry.sh, alternating rounds) GET's p99 during the wave
/// was 1.26-1.35x its figure without expiry, against 1.70-1.80x.
const EXPIRE_SLICE: Duration = Duration::from_micros(50);
/// Slices double, up to this, for as long as ticks end with due work left (a mass
/// expiry): yielding every 50 us cuts the share of a busy server active expiry gets.
const EXPIRE_SLICE_MAX: Duration = Duration::from_micros(400);

/// The worker thread count a config asks for (0: one per core).
pub fn worker_threads(config: &Config) -> usize {
    if config.threads > 0 {
        config.threads
    } else {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    }
}

/// Binds the configured addresses. Port 0 picks an ephemeral port (the first listener's
/// port is then used for the others).
pub async fn bind(config: &Config) -> std::io::Result<Vec<TcpListener>> {
    let mut listeners = Vec::new();
    let mut port = config.port;
    for addr in &config.bind {
        let addr = addr.trim_start_matches('-');
        let host = if addr.contains(':') && !addr.starts_with('[') {
            format!("[{}]", addr)
        } else {
            addr.to_string()
        };
        let l = TcpListener::bind(format!("{}:{}", host, port)).await?;
        port = l.local_addr()?.port();
        listeners.push(l);
    }
    if listeners.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "no bind address",
        ));
    }
    Ok(listeners)
}

/// Serves on already-bound listeners until shutdown is requested.
pub async fn serve(shared: Arc<Shared>, listeners: Vec<TcpListener>) {
    crate::memory::enable_background_purge();
    crate::memory::record_startup();
    let expiry = tokio::spawn(expiry_task(shared.clone()));
    let cron = tokio::spawn(cron_task(shared.clone()));
    let mut accepts = Vec::new();
    for l in listeners {
        accepts.push(tokio::spawn(accept_loop(shared.clone(), l)));
    }
    while !shared.shutdown_requested.load(Ordering::SeqCst) {
        shared.shutdown_notify.notified().await;
    }
    for a in &accepts {
        a.abort();
    }
    expiry.abort();
    cron.abort();
    for c in shared.clients.all() {
        c.kill();
    }
    // Give connection tasks a moment to flush their last replies.
    for _ in 0..50 {
        if shared.clients.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    let laddr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // Out of descriptors and similar: back off instead of spinning.
                tracing::warn!("accept failed: {}", e);
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        shared
            .stats
            .total_connections_received
            .fetch_add(1, Ordering::Relaxed);
        let (maxclients, keepalive) = {
            let c = shared.config.read();
            (c.maxclients, c.tcp_keepalive)
        };
        if keepalive > 0 {
            // As Redis's tcp-keepalive: probe idle peers so dead ones are noticed.
            let ka = socket2::TcpKeepalive::new().with_time(Duration::from_secs(keepalive));
            let _ = socket2::SockRef::from(&stream).set_tcp_keepalive(&ka);
        }
        if shared.clients.len() >= maxclients {
            shared
                .stats
                .rejected_connections
                .fetch_add(1, Ordering::Relaxed);
            tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                let mut stream = stream;
                let _ = stream
                    .write_all(b"-ERR max number of clients reached\r\n")
                    .await;
            });
            continue;
        }
        #[cfg(unix)]
        let fd = {
            use std::os::fd::AsRawFd;
            stream.as_raw_fd() as i64
        };
        #[cfg(not(unix))]
        let fd = -1;
        let info = shared.clients.register(peer.to_string(), laddr.clone(), fd);
        tokio::spawn(connection::serve(shared.clone(), stream, info));
    }
}

async fn expiry_task(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(EXPIRE_TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let store = &shared.store;
    let hasher = store.entry_hasher();
    let mut slice_len = EXPIRE_SLICE;
    loop {
        tick.tick().await;
        crate::util::clock::resync();
        // Rounds over every shard, EXPIRE_BUDGET at a time, while due work remains and
        // the tick's share of time lasts; yielding every `slice_len` of work.
        let started = std::time::Instant::now();
        let mut slice = started;
        loop {
            let now = crate::util::now_ms();
            let mut more = false;
            for db in store.dbs.iter() {
                for shard in db.shards.iter() {
                    // Nothing expires while a script or transaction runs (it holds the
                    // gate for writing): Redis judges keys against the time it started.
                    let Some(gate) = shared.exec_gate.try_read() else {
                        continue;
                    };
                    let (_, m, worked) = shard.lock().expire_due(now, EXPIRE_BUDGET, &hasher);
                    drop(gate);
                    more |= m;
                    // Reading the clock only after real work keeps an idle tick (1024
                    // shard locks over 16 databases) cheap.
                    if worked > 0 && slice.elapsed() >= slice_len {
                        tokio::task::yield_now().await;
                        slice = std::time::Instant::now();
                    }
                }
            }
            if !more {
                slice_len = EXPIRE_SLICE;
                break;
            }
            if started.elapsed() >= EXPIRE_WORK {
                slice_len = (slice_len * 2).min(EXPIRE_SLICE_MAX);
                break;
            }
        }
        // `expired` notifications for what this tick deleted (nothing when nobody
        // listens: the store keeps no log then).
        crate::commands::keyspace::publish_deletions(&shared);
    }
}

/// How often the cron samples rates and memory and looks for idle clients.
const CRON_TICK: Duration = Duration::from_millis(100);
/// Samples averaged for the instantaneous rates (Redis's STATS_METRIC_SAMPLES).
const RATE_SAMPLES: usize = 16;

/// Averages the per-second rate of a counter over the last [`RATE_SAMPLES`] ticks.
struct RateTracker {
    last: u64,
    last_at: std::time::Instant,
    samples: [u64; RATE_SAMPLES],
    next: usize,
}

impl RateTracker {
    fn new(value: u64) -> Self {
        RateTracker {
            last: value,
            last_at: std::time::Instant::now(),
            samples: [0; RATE_SAMPLES],
            next: 0,
        }
    }

    /// Records the counter's current value; returns the mean rate per second.
    fn sample(&mut self, value: u64) -> f64 {
        let now = std::time::Instant::now();
        let ms = now.duration_since(self.last_at).as_millis().max(1) as u64;
        // A counter reset by CONFIG RESETSTAT must not look like a huge negative jump.
        let delta = value.saturating_sub(self.last);
        self.samples[self.next] = delta * 1000 / ms;
        self.next = (self.next + 1) % RATE_SAMPLES;
        self.last = value;
        self.last_at = now;
        self.samples.iter().sum::<u64>() as f64 / RATE_SAMPLES as f64
    }
}

/// Periodic housekeeping, as Redis's serverCron/clientsCron: instantaneous rates, the
/// memory peak, and closing clients idle for longer than `timeout`.
async fn cron_task(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(CRON_TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let s = &shared.stats;
    let mut ops = RateTracker::new(s.total_commands_processed.load(Ordering::Relaxed));
    let mut input = RateTracker::new(s.net_input_bytes.load(Ordering::Relaxed));
    let mut output = RateTracker::new(s.net_output_bytes.load(Ordering::Relaxed));
    loop {
        tick.tick().await;
        let inst = &shared.instantaneous;
        let r = ops.sample(s.total_commands_processed.load(Ordering::Relaxed));
        inst.ops_per_sec.store(r as u64, Ordering::Relaxed);
        let r = input.sample(s.net_input_bytes.load(Ordering::Relaxed));
        inst.input_kbps_x100
            .store((r / 1024.0 * 100.0) as u64, Ordering::Relaxed);
        let r = output.sample(s.net_output_bytes.load(Ordering::Relaxed));
        inst.output_kbps_x100
            .store((r / 1024.0 * 100.0) as u64, Ordering::Relaxed);
        crate::memory::sample();
        // Redis's evictionTimeProc: eviction that a command's time slice left over goes
        // on here even if no command comes (e.g. after CONFIG SET maxmemory).
        let maxmemory = shared.maxmemory.load(Ordering::Relaxed);
        if maxmemory > 0 {
            shared.store.enforce_maxmemory(maxmemory);
        }
        let timeout = shared.config.read().timeout;
        if timeout > 0 {
            for c in shared.clients.all() {
                // Subscribers are exempt, as in Redis: they may legitimately only listen.
                if c.idle_ms() > timeout.saturating_mul(1000) && !c.is_pubsub() {
                    tracing::debug!(client = c.id, "closing idle client");
                    c.kill();
                }
            }
        }
    }
}

/// Runs a server until SHUTDOWN or SIGINT/SIGTERM. Logs one line at start.
pub async fn run(config: Config) -> std::io::Result<()> {
    let listeners = bind(&config).await?;
    let addr = listeners[0].local_addr()?;
    let threads = worker_threads(&config);
    let shared = Arc::new(Shared::new(config));
    shared.port.store(addr.port(), Ordering::Relaxed);
    // Handlers are installed before the startup line, so a signal sent as soon as the
    // server says it is up stops it cleanly instead of killing it.
    let signals = Signals::install()?;
    tracing::info!(
        "rust-cache-server {} (Redis {} compatible) listening on {}, {} worker threads, {} shards per database",
        env!("CARGO_PKG_VERSION"),
        crate::REDIS_VERSION,
        addr,
        threads,
        shared.store.shards_per_db()
    );
    let s = shared.clone();
    tokio::spawn(async move {
        signals.wait().await;
        tracing::info!("signal received, shutting down");
        s.request_shutdown();
    });
    serve(shared, listeners).await;
    tracing::info!("bye");
    Ok(())
}

#[cfg(unix)]
struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn install() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn install() -> std::io::Result<Signals> {
        Ok(Signals)
    }

    async fn wait(self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// A server running on its own thread; stopped when the handle is dropped.
pub struct ServerHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ServerHandle {
    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's shared state (for tests that inspect the store directly).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Stops the server and waits for its thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.shared.request_shutdown();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The runtime a config asks for: tokio's multi-thread scheduler with `threads` workers.
/// Even for one thread it measured faster than the current-thread scheduler here
/// (redis-benchmark -P 16, 5 alternating rounds: GET 763k vs 733k, SET 784k vs 666k req/s).
pub fn runtime(config: &Config) -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads(config))
        .enable_all()
        .thread_name("rcs-worker")
        .build()
}

/// Starts a server on a thread of its own (port 0 for an ephemeral port).
pub fn spawn(config: Config) -> std::io::Result<ServerHandle> {
    let rt = runtime(&config)?;
    let listeners = rt.block_on(bind(&config))?;
    let addr = listeners[0].local_addr()?;
    let shared = Arc::new(Shared::new(config));
    shared.port.store(addr.port(), Ordering::Relaxed);
    let s = shared.clone();
    let thread = std::thread::Builder::new()
        .name("rcs-server".into())
        .spawn(move || {
            rt.block_on(serve(s, listeners));
            rt.shutdown_timeout(Duration::from_millis(500));
        })?;
    Ok(ServerHandle {
        addr,
        shared,
        thread: Some(thread),
    })
}
