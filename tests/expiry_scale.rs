//! The expiry promise on many keys at once (scripts/expiry.sh measures the full million):
//! 30k keys whose deadlines are spread over 2 s. While they expire, sampled keys are read
//! with GET and the store's count of keys with a TTL is watched:
//! - a GET sent after a key's deadline never finds it, and a GET answered before its
//!   deadline always does (the only slack is the round trip: the server reads its clock
//!   between send and reply);
//! - no key is deleted before its deadline (the count never drops below the keys not yet
//!   due), and none is still there 100 ms after it (nor above the keys due less than
//!   100 ms ago);
//! - `expired_keys` ends at exactly the number of keys.
//!
//! Deadlines are set with PXAT, so each is known to the millisecond.

mod common;

use std::time::{Duration, Instant};

use rust_cache_server::util::now_ms;
use rust_cache_server::ServerHandle;

const BOUND_MS: u64 = 100;

/// Loads `key:i` with deadline `deadlines[i]` in one pipeline.
fn load(c: &mut common::Raw, deadlines: &[u64]) {
    let mut buf = Vec::new();
    for (i, d) in deadlines.iter().enumerate() {
        buf.extend_from_slice(&common::encode_command(&[
            b"SET",
            format!("key:{i}").as_bytes(),
            b"v",
            b"PXAT",
            d.to_string().as_bytes(),
        ]));
    }
    c.send_raw(&buf);
    for _ in deadlines {
        assert_eq!(c.read_reply(), b"+OK\r\n");
    }
}

/// Keys with a TTL in db 0, read from the store without touching any key.
fn expires(s: &ServerHandle) -> usize {
    s.shared().store.db_counts(0).1
}

/// Number of sorted deadlines at or before `t`.
fn due(sorted: &[u64], t: u64) -> usize {
    sorted.partition_point(|d| *d <= t)
}

/// Watches the wave until `last + tail_ms`; returns (GETs checked, count samples).
fn watch(s: &ServerHandle, deadlines: &[u64], bound_ms: u64, tail_ms: u64) -> (usize, usize) {
    let mut sorted = deadlines.to_vec();
    sorted.sort_unstable();
    let n = deadlines.len();
    let last = sorted[n - 1];
    let mut c = common::Raw::connect(s.addr());
    let give_up = Instant::now() + Duration::from_millis(last.saturating_sub(now_ms()) + 5_000);
    let (mut gets, mut counts) = (0, 0);
    let mut i = 0usize;
    loop {
        assert!(Instant::now() < give_up, "the wave never ended");
        // A GET of a key whose deadline is near now, so both outcomes are exercised.
        let now = now_ms();
        let target = sorted[due(&sorted, now).min(n - 1)];
        i = (i + 7919) % n;
        let k = (0..n)
            .map(|j| (i + j) % n)
            .take(2000)
            .min_by_key(|&j| deadlines[j].abs_diff(target))
            .unwrap_or(i);
        let d = deadlines[k];
        let sent = now_ms();
        let reply = c.cmd(&format!("GET key:{k}"));
        let got = now_ms();
        if reply == b"$1\r\nv\r\n" {
            assert!(
                sent < d,
                "key:{k} visible {} ms after its deadline",
                sent - d
            );
        } else {
            assert_eq!(reply, b"$-1\r\n");
            assert!(got >= d, "key:{k} gone {} ms before its deadline", d - got);
        }
        gets += 1;

        // The count of keys with a TTL, between what must be there and what may be.
        let before = now_ms();
        let left = expires(s);
        let after = now_ms();
        let must = n - due(&sorted, after);
        let may = n - due(&sorted, before.saturating_sub(bound_ms));
        assert!(left >= must, "{left} keys left, {must} not yet due");
        assert!(
            left <= may,
            "{left} keys left at {before}: {} more than the keys due less than {bound_ms} ms ago",
            left - may
        );
        counts += 1;
        if before > last + tail_ms {
            assert_eq!(left, 0);
            return (gets, counts);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn thirty_thousand_keys_over_two_seconds_expire_on_time() {
    let s = common::ours();
    let mut c = common::Raw::connect(s.addr());
    let n = 30_000u64;
    let t0 = now_ms() + 1_500;
    let deadlines: Vec<u64> = (0..n).map(|i| t0 + (i * 7919 % n) * 2_000 / n).collect();
    load(&mut c, &deadlines);
    let (gets, counts) = watch(&s, &deadlines, BOUND_MS, BOUND_MS + 50);
    assert!(gets > 100 && counts > 100, "{gets} GETs, {counts} counts");
    assert_eq!(s.shared().store.stats().expired_keys, n);
    assert_eq!(s.shared().store.db_counts(0), (0, 0));
}

/// Every key on one deadline: the work is spread over ticks (40% of each at most), so
/// this promises less than 100 ms (a debug build deletes ~10x slower), but every key is
/// invisible from its deadline on, none goes early, and all are counted.
#[test]
fn twenty_thousand_keys_on_one_deadline_all_go_and_are_counted() {
    let s = common::ours();
    let mut c = common::Raw::connect(s.addr());
    let n = 20_000u64;
    let d = now_ms() + 1_000;
    let deadlines = vec![d; n as usize];
    load(&mut c, &deadlines);
    watch(&s, &deadlines, 1_000, 1_050);
    assert_eq!(s.shared().store.stats().expired_keys, n);
}
