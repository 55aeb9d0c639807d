//! The registry of connected clients, for CLIENT LIST/INFO/KILL and INFO clients.
//!
//! Each connection registers a [`ClientInfo`] whose fields other clients may read: the
//! owner updates them with relaxed atomic stores (no contention: one writer), readers
//! take a snapshot. Killing a client sets its flag and wakes its task.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;

/// What others may see of one connected client.
pub struct ClientInfo {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    pub fd: i64,
    pub created: Instant,
    name: Mutex<Option<String>>,
    lib_name: Mutex<Option<String>>,
    lib_ver: Mutex<Option<String>>,
    pub db: AtomicUsize,
    pub resp: AtomicUsize,
    /// ms since `created` of the last command.
    last_interaction_ms: AtomicU64,
    /// The last command's name (a `&'static str` from the table, stored by address).
    last_cmd: Mutex<&'static str>,
    pub query_buf: AtomicUsize,
    pub query_buf_free: AtomicUsize,
    pub out_buf: AtomicUsize,
    killed: AtomicBool,
    pub kill_notify: tokio::sync::Notify,
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
    pub fn set_last_command(&self, name: &'static str) {
        // Only the owner writes; the lock is uncontended except during CLIENT LIST.
        *self.last_cmd.lock() = name;
    }

    /// Marks the time of the latest request (once per read batch).
    pub fn touch(&self) {
        self.last_interaction_ms
            .store(self.created.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    /// Seconds since the last request.
    pub fn idle_secs(&self) -> u64 {
        let now = self.created.elapsed().as_millis() as u64;
        now.saturating_sub(self.last_interaction_ms.load(Ordering::Relaxed)) / 1000
    }

    pub fn age_secs(&self) -> u64 {
        self.created.elapsed().as_secs()
    }

    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.kill_notify.notify_one();
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }

    /// One line of CLIENT LIST / the reply of CLIENT INFO, in Redis 7.0's field order.
    pub fn describe(&self) -> String {
        let cmd = *self.last_cmd.lock();
        let cmd = if cmd.is_empty() { "NULL" } else { cmd };
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags=N db={} sub=0 psub=0 ssub=0 multi=-1 qbuf={} qbuf-free={} argv-mem=0 multi-mem=0 rbs={} rbp={} obl=0 oll=0 omem={} tot-mem={} events=r cmd={} user=default redir=-1 resp={}\n",
            self.id,
            self.addr,
            self.laddr,
            self.fd,
            self.name(),
            self.age_secs(),
            self.idle_secs(),
            self.db.load(Ordering::Relaxed),
            self.query_buf.load(Ordering::Relaxed),
            self.query_buf_free.load(Ordering::Relaxed),
            self.query_buf.load(Ordering::Relaxed) + self.query_buf_free.load(Ordering::Relaxed),
            self.query_buf.load(Ordering::Relaxed),
            self.out_buf.load(Ordering::Relaxed),
            self.query_buf.load(Ordering::Relaxed)
                + self.query_buf_free.load(Ordering::Relaxed)
                + self.out_buf.load(Ordering::Relaxed),
            cmd,
            self.resp.load(Ordering::Relaxed),
        )
    }
}

/// All connected clients by id.
#[derive(Default)]
pub struct ClientRegistry {
    clients: Mutex<BTreeMap<u64, Arc<ClientInfo>>>,
    next_id: AtomicU64,
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
            last_interaction_ms: AtomicU64::new(0),
            last_cmd: Mutex::new(""),
            query_buf: AtomicUsize::new(0),
            query_buf_free: AtomicUsize::new(0),
            out_buf: AtomicUsize::new(0),
            killed: AtomicBool::new(false),
            kill_notify: tokio::sync::Notify::new(),
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
}
