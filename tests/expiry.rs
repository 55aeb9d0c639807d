//! The expiry promise, measured: a key with a deadline exists until its deadline and is gone
//! (deleted from the table and counted in `expired_keys`) within 100 ms after it, by active
//! expiry alone. The store is inspected directly through `ServerHandle::shared()`, which
//! neither triggers lazy deletion nor counts as an access.

mod common;

use std::time::{Duration, Instant};

use proptest::prelude::*;
use rust_cache_server::util::now_ms;
use rust_cache_server::ServerHandle;

/// How late after its deadline a key may still be in the table.
/// The promise is 100 ms (measured on the release build by `scripts/expiry.sh`); an
/// unoptimized test build deletes several times slower, so on a loaded 2-core CI machine
/// it gets 3x the slack.
const BOUND_MS: u64 = if cfg!(debug_assertions) { 300 } else { 100 };

/// True if `key` is in db 0's table (expired or not): a raw look that deletes nothing.
fn in_table(s: &ServerHandle, key: &[u8]) -> bool {
    let store = &s.shared().store;
    let h = store.hash(key);
    let shard = store.lock(0, h);
    shard.table.find(h, |e| e.key() == key).is_some()
}

/// Sets every `(key, deadline)` with `SET key v PXAT deadline` in one pipeline.
fn set_with_deadlines(c: &mut common::Raw, keys: &[(Vec<u8>, u64)]) {
    let mut buf = Vec::new();
    for (k, d) in keys {
        let d = d.to_string();
        buf.extend_from_slice(&common::encode_command(&[
            b"SET",
            k,
            b"v",
            b"PXAT",
            d.as_bytes(),
        ]));
    }
    c.send_raw(&buf);
    for _ in keys {
        assert_eq!(c.read_reply(), b"+OK\r\n");
    }
}

fn expired_keys(s: &ServerHandle) -> u64 {
    s.shared().store.stats().expired_keys
}

/// Watches keys until all are gone: none may vanish before its deadline, none may stay
/// more than BOUND_MS after it. Bounded by the last deadline plus a margin.
fn watch(s: &ServerHandle, keys: &[(Vec<u8>, u64)]) -> Result<(), TestCaseError> {
    let last = keys.iter().map(|(_, d)| *d).max().unwrap_or(0);
    let give_up = Instant::now() + Duration::from_millis(last.saturating_sub(now_ms()) + 1000);
    let mut gone = vec![false; keys.len()];
    while gone.iter().any(|g| !g) {
        prop_assert!(
            Instant::now() < give_up,
            "keys still present long after deadlines"
        );
        for (i, (k, d)) in keys.iter().enumerate() {
            if gone[i] {
                continue;
            }
            let before = now_ms();
            let present = in_table(s, k);
            let after = now_ms();
            if present {
                prop_assert!(
                    before <= d + BOUND_MS,
                    "key {:?} still present {} ms after its deadline",
                    String::from_utf8_lossy(k),
                    before - d
                );
            } else {
                prop_assert!(
                    after >= *d,
                    "key {:?} gone {} ms before its deadline",
                    String::from_utf8_lossy(k),
                    d - after
                );
                gone[i] = true;
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]

    /// Random TTLs between 10 and 300 ms: every key outlives its deadline and is collected
    /// within the bound, and each one is counted as expired exactly once.
    #[test]
    fn keys_expire_on_time(ttls in proptest::collection::vec(10u64..300, 1..60)) {
        use std::sync::OnceLock;
        static SERVER: OnceLock<ServerHandle> = OnceLock::new();
        static CASE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let s = SERVER.get_or_init(common::ours);
        let case = CASE.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let mut c = common::Raw::connect(s.addr());
        let expired_before = expired_keys(s);
        let now = now_ms();
        let keys: Vec<(Vec<u8>, u64)> = ttls
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("case{case}:key{i}").into_bytes(), now + t))
            .collect();
        set_with_deadlines(&mut c, &keys);
        watch(s, &keys)?;
        prop_assert_eq!(expired_keys(s) - expired_before, keys.len() as u64);
        prop_assert_eq!(s.shared().store.db_counts(0), (0, 0));
    }
}

/// A mass expiry: 50k keys with deadlines spread over one second are all collected within
/// the bound, checked through the database's key count at every sample.
#[test]
fn mass_expiry_keeps_up() {
    let s = common::ours();
    let mut c = common::Raw::connect(s.addr());
    const N: u64 = 50_000;
    let base = now_ms() + 2_000;
    let mut deadlines: Vec<u64> = (0..N).map(|i| base + (i * 7919) % 1000).collect();
    let keys: Vec<(Vec<u8>, u64)> = deadlines
        .iter()
        .enumerate()
        .map(|(i, d)| (format!("mass:{i}").into_bytes(), *d))
        .collect();
    for chunk in keys.chunks(5_000) {
        set_with_deadlines(&mut c, chunk);
    }
    assert!(
        now_ms() < base,
        "loading took too long for the test to mean anything"
    );
    assert_eq!(s.shared().store.db_counts(0), (N as usize, N as usize));
    deadlines.sort_unstable();
    let expired_before = expired_keys(&s);
    let give_up = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < give_up, "mass expiry never finished");
        let before = now_ms();
        let (count, expires) = s.shared().store.db_counts(0);
        let after = now_ms();
        assert_eq!(count, expires);
        // Keys whose deadline is still ahead must all be there...
        let not_due = deadlines.len() - deadlines.partition_point(|&d| d <= after);
        // ...and keys more than BOUND_MS past their deadline must all be gone.
        let may_remain = deadlines.len() - deadlines.partition_point(|&d| d + BOUND_MS < before);
        assert!(
            count >= not_due,
            "{count} keys left but {not_due} are not due yet"
        );
        assert!(
            count <= may_remain,
            "{count} keys left at {} ms past the base, at most {may_remain} allowed",
            before as i64 - base as i64
        );
        if count == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(expired_keys(&s) - expired_before, N);
}

/// Lazy expiry: a key read after its deadline is gone at once, even if active expiry has
/// not run yet, and TTL/EXISTS/GET agree.
#[test]
fn lazy_expiry_on_access() {
    let s = common::ours();
    let mut c = common::Raw::connect(s.addr());
    assert_eq!(c.cmd("SET k v PX 30"), b"+OK\r\n");
    assert_eq!(c.cmd("EXISTS k"), b":1\r\n");
    std::thread::sleep(Duration::from_millis(40));
    assert_eq!(c.cmd("GET k"), b"$-1\r\n");
    assert_eq!(c.cmd("TTL k"), b":-2\r\n");
    assert_eq!(c.cmd("EXISTS k"), b":0\r\n");
    assert!(!in_table(&s, b"k"));
}
