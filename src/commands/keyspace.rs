//! What happens when a key changes, besides the change itself: clients that WATCH it
//! learn their transaction is void, and keyspace notifications are published (Redis's
//! `signalModifiedKey` and `notifyKeyspaceEvent`).
//!
//! Handlers call [`Ctx::modified`] and [`Ctx::notify`] exactly where Redis calls those two
//! functions (only when the key really changed, with Redis's event names), so WATCH and
//! the notifications agree with Redis command by command. Both cost one relaxed atomic
//! load when nobody watches and notifications are off, Redis's default.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use super::Ctx;
use crate::store::KeyFate;

/// Keyspace event classes: Redis's NOTIFY_* bits, one per `notify-keyspace-events` letter.
pub mod class {
    /// K: publish to `__keyspace@<db>__:<key>`.
    pub const KEYSPACE: u32 = 1 << 0;
    /// E: publish to `__keyevent@<db>__:<event>`.
    pub const KEYEVENT: u32 = 1 << 1;
    /// g: DEL, EXPIRE, RENAME, ... (type-independent commands).
    pub const GENERIC: u32 = 1 << 2;
    /// $: string commands.
    pub const STRING: u32 = 1 << 3;
    /// l: list commands.
    pub const LIST: u32 = 1 << 4;
    /// s: set commands.
    pub const SET: u32 = 1 << 5;
    /// h: hash commands.
    pub const HASH: u32 = 1 << 6;
    /// z: sorted-set commands.
    pub const ZSET: u32 = 1 << 7;
    /// x: a key expired (deleted by lazy or active expiry).
    pub const EXPIRED: u32 = 1 << 8;
    /// e: a key was evicted for maxmemory.
    pub const EVICTED: u32 = 1 << 9;
    /// t: stream commands.
    pub const STREAM: u32 = 1 << 10;
    /// m: a read missed its key (excluded from A).
    pub const KEY_MISS: u32 = 1 << 11;
    /// d: module key types.
    pub const MODULE: u32 = 1 << 13;
    /// n: a new key was created (excluded from A).
    pub const NEW: u32 = 1 << 14;
    /// A: g$lshzxetd.
    pub const ALL: u32 =
        GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;
}

/// Parses a `notify-keyspace-events` value (Redis's keyspaceEventsStringToFlags).
pub fn parse_classes(v: &str) -> Result<u32, String> {
    let mut flags = 0;
    for c in v.chars() {
        flags |= match c {
            'A' => class::ALL,
            'g' => class::GENERIC,
            '$' => class::STRING,
            'l' => class::LIST,
            's' => class::SET,
            'h' => class::HASH,
            'z' => class::ZSET,
            'x' => class::EXPIRED,
            'e' => class::EVICTED,
            'K' => class::KEYSPACE,
            'E' => class::KEYEVENT,
            't' => class::STREAM,
            'm' => class::KEY_MISS,
            'd' => class::MODULE,
            'n' => class::NEW,
            _ => return Err("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into()),
        };
    }
    Ok(flags)
}

/// The canonical spelling CONFIG GET shows (Redis's keyspaceEventsFlagsToString).
pub fn format_classes(flags: u32) -> String {
    let mut s = String::new();
    if flags & class::ALL == class::ALL {
        s.push('A');
    } else {
        for (bit, c) in [
            (class::GENERIC, 'g'),
            (class::STRING, '$'),
            (class::LIST, 'l'),
            (class::SET, 's'),
            (class::HASH, 'h'),
            (class::ZSET, 'z'),
            (class::EXPIRED, 'x'),
            (class::EVICTED, 'e'),
            (class::STREAM, 't'),
            (class::MODULE, 'd'),
            (class::NEW, 'n'),
        ] {
            if flags & bit != 0 {
                s.push(c);
            }
        }
    }
    for (bit, c) in [
        (class::KEYSPACE, 'K'),
        (class::KEYEVENT, 'E'),
        (class::KEY_MISS, 'm'),
    ] {
        if flags & bit != 0 {
            s.push(c);
        }
    }
    s
}

/// One keyspace notification waiting to be published once the command is done (and its
/// shard locks are released).
pub struct KeyEvent {
    pub class: u32,
    pub event: &'static str,
    pub db: usize,
    pub key: Vec<u8>,
}

/// The flag a watching client's EXEC checks: set by any change to a key it watches.
#[derive(Default)]
pub struct WatchFlag {
    pub dirty: AtomicBool,
}

/// The clients (id and flag) watching one key.
type Watchers = Vec<(u64, Arc<WatchFlag>)>;

/// Which clients watch which keys, per database.
#[derive(Default)]
pub struct WatchRegistry {
    /// Number of (client, key) watches: writers only look at the map when it is not 0.
    count: AtomicUsize,
    keys: Mutex<HashMap<(usize, Vec<u8>), Watchers>>,
}

impl WatchRegistry {
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.count.load(Ordering::Relaxed) == 0
    }

    /// Registers `client`'s flag on `key`; false if it already watched it.
    pub fn watch(&self, client: u64, flag: &Arc<WatchFlag>, db: usize, key: &[u8]) -> bool {
        let mut keys = self.keys.lock();
        let list = keys.entry((db, key.to_vec())).or_default();
        if list.iter().any(|(c, _)| *c == client) {
            return false;
        }
        list.push((client, flag.clone()));
        self.count.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Removes `client`'s watches on the given keys (UNWATCH, EXEC, DISCARD, disconnect).
    pub fn unwatch(&self, client: u64, watched: &[(usize, Vec<u8>)]) {
        if watched.is_empty() {
            return;
        }
        let mut keys = self.keys.lock();
        for (db, key) in watched {
            let k = (*db, key.clone());
            if let Some(list) = keys.get_mut(&k) {
                let before = list.len();
                list.retain(|(c, _)| *c != client);
                self.count.fetch_sub(before - list.len(), Ordering::Relaxed);
                if list.is_empty() {
                    keys.remove(&k);
                }
            }
        }
    }

    /// A key changed: every client watching it will fail its EXEC.
    #[inline]
    pub fn touch(&self, db: usize, key: &[u8]) {
        if self.is_empty() {
            return;
        }
        if let Some(list) = self.keys.lock().get(&(db, key.to_vec())) {
            for (_, f) in list {
                f.dirty.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Marks the watchers of the keys of `db` that `exists` says are (or were) there:
    /// FLUSHDB, FLUSHALL and SWAPDB (Redis's touchAllWatchedKeysInDb).
    pub fn touch_db(&self, db: usize, mut exists: impl FnMut(&[u8]) -> bool) {
        if self.is_empty() {
            return;
        }
        for ((d, key), list) in self.keys.lock().iter() {
            if *d == db && exists(key) {
                for (_, f) in list {
                    f.dirty.store(true, Ordering::Relaxed);
                }
            }
        }
    }

    /// The keys watched in `db` (so FLUSHDB/SWAPDB can check them before changing it).
    pub fn keys_of_db(&self, db: usize) -> Vec<Vec<u8>> {
        if self.is_empty() {
            return Vec::new();
        }
        self.keys
            .lock()
            .keys()
            .filter(|(d, _)| *d == db)
            .map(|(_, k)| k.clone())
            .collect()
    }
}

/// The process-wide side of keyspace changes, in `Shared`.
#[derive(Default)]
pub struct Keyspace {
    /// `notify-keyspace-events` as class bits (0: off).
    pub notify: AtomicU32,
    pub watches: WatchRegistry,
}

impl Ctx<'_> {
    /// A key's value changed, or it was created or deleted (Redis's signalModifiedKey).
    #[inline]
    pub fn modified(&mut self, db: usize, key: &[u8]) {
        self.shared.keyspace.watches.touch(db, key);
        // Client-side caching (tracking.rs): one relaxed load while nobody tracks.
        if self.shared.tracking.active() {
            super::tracking::key_modified(self, key);
        }
    }

    /// Every watched key of `db` that is present there (or, for SWAPDB, in the database
    /// it is swapped with) counts as changed: FLUSHDB, FLUSHALL, SWAPDB (Redis's
    /// touchAllWatchedKeysInDb). Called before the databases change.
    pub fn modified_db(&mut self, db: usize, swapped_with: Option<usize>) {
        // Client-side caching: a flush invalidates every tracked key (SWAPDB does not,
        // as in Redis's signalFlushedDb / swapdb).
        if swapped_with.is_none() && self.shared.tracking.active() {
            super::tracking::flushed(self);
        }
        let watches = &self.shared.keyspace.watches;
        if watches.is_empty() {
            return;
        }
        let store = self.store();
        let present = |db: usize, key: &[u8]| {
            let h = store.hash(key);
            store
                .lock(db, h)
                .table
                .find(h, |e| e.key() == key)
                .is_some()
        };
        for key in watches.keys_of_db(db) {
            if present(db, &key) || swapped_with.is_some_and(|o| present(o, &key)) {
                watches.touch(db, &key);
            }
        }
    }

    /// Publishes a keyspace notification of `class` (Redis's notifyKeyspaceEvent), after
    /// the command, if `notify-keyspace-events` selects it.
    #[inline]
    pub fn notify(&mut self, class: u32, event: &'static str, db: usize, key: &[u8]) {
        let flags = self.shared.keyspace.notify.load(Ordering::Relaxed);
        if flags & class == 0 || flags & (class::KEYSPACE | class::KEYEVENT) == 0 {
            return;
        }
        self.session.events.push(KeyEvent {
            class,
            event,
            db,
            key: key.to_vec(),
        });
    }
}

/// Publishes the events a command produced (called by `execute` once the command is
/// done and its locks are released). Frames for the running client itself go into its
/// own reply, ahead of the command's reply, as Redis's single output buffer has them.
pub fn publish_events(ctx: &mut Ctx, events: Vec<KeyEvent>) {
    let flags = ctx.shared.keyspace.notify.load(Ordering::Relaxed);
    let shared = ctx.shared;
    for e in events {
        if flags & e.class == 0 {
            continue;
        }
        if flags & class::KEYSPACE != 0 {
            let mut channel = format!("__keyspace@{}__:", e.db).into_bytes();
            channel.extend_from_slice(&e.key);
            let me = Some(super::pubsub::Publisher::of(ctx));
            super::pubsub::publish(shared, &channel, e.event.as_bytes(), me);
        }
        if flags & class::KEYEVENT != 0 {
            let channel = format!("__keyevent@{}__:{}", e.db, e.event);
            let me = Some(super::pubsub::Publisher::of(ctx));
            super::pubsub::publish(shared, channel.as_bytes(), &e.key, me);
        }
    }
}

/// Turns the store's log of the keys it deletes by itself (expiry, eviction) on or off:
/// on while `notify-keyspace-events` selects `x` or `e` (with K or E) or a client tracks
/// keys (their cached copies must be invalidated).
pub fn refresh_deletion_log(shared: &super::Shared) {
    let flags = shared.keyspace.notify.load(Ordering::Relaxed);
    let any = flags & (class::KEYSPACE | class::KEYEVENT) != 0;
    shared.store.deletions.set_enabled(
        (any && flags & (class::EXPIRED | class::EVICTED) != 0) || shared.tracking.active(),
        any && flags & class::KEY_MISS != 0,
    );
}

/// The keys the store deleted by itself since the last call, as keyspace events.
pub fn take_deletion_events(shared: &super::Shared) -> Vec<KeyEvent> {
    let deleted = shared.store.deletions.take();
    if shared.tracking.active() {
        for d in deleted.iter().filter(|d| d.fate != KeyFate::Missed) {
            super::tracking::key_deleted_by_server(shared, d.db, &d.key);
        }
    }
    deleted
        .into_iter()
        .map(|d| {
            let (class, event) = match d.fate {
                KeyFate::Expired => (class::EXPIRED, "expired"),
                KeyFate::Evicted => (class::EVICTED, "evicted"),
                KeyFate::Missed => (class::KEY_MISS, "keymiss"),
            };
            KeyEvent {
                class,
                event,
                db: d.db,
                key: d.key,
            }
        })
        .collect()
}

/// Publishes the keys the store deleted by itself (after an expiry tick).
pub fn publish_deletions(shared: &super::Shared) {
    let events = take_deletion_events(shared);
    if !events.is_empty() {
        publish_server_events(shared, events);
    }
}

/// Publishes events the server raises on its own, outside any command (a key expired
/// or was evicted): no running client's reply to order them with.
pub fn publish_server_events(shared: &super::Shared, events: Vec<KeyEvent>) {
    let flags = shared.keyspace.notify.load(Ordering::Relaxed);
    for e in events {
        if flags & e.class == 0 {
            continue;
        }
        if flags & class::KEYSPACE != 0 {
            let mut channel = format!("__keyspace@{}__:", e.db).into_bytes();
            channel.extend_from_slice(&e.key);
            super::pubsub::publish(shared, &channel, e.event.as_bytes(), None);
        }
        if flags & class::KEYEVENT != 0 {
            let channel = format!("__keyevent@{}__:{}", e.db, e.event);
            super::pubsub::publish(shared, channel.as_bytes(), &e.key, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_strings_round_trip_as_redis_prints_them() {
        for (input, shown) in [
            ("AKE", "AKE"),
            ("g$lshzxetd", "A"),
            ("KEA", "AKE"),
            ("Ex", "xE"),
            ("nm", "nm"),
            ("KA", "AK"),
            ("", ""),
            ("Kgx$mn", "g$xnKm"),
            ("E", "E"),
        ] {
            assert_eq!(format_classes(parse_classes(input).unwrap()), shown);
        }
        assert!(parse_classes("xyz").is_err());
    }
}
