//! Integration tests of the keyspace family against this server alone: what a differential
//! script cannot pin down (time-dependent replies, asserted as ranges; randomness; SCAN's
//! guarantee under concurrent writes; atomicity of multi-key commands).

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{elements, encode_command, show, Raw};
use rust_cache_server::util::now_ms;

/// The integer of a `:n` reply.
fn int(reply: &[u8]) -> i64 {
    let s = std::str::from_utf8(reply).expect("utf8");
    s.strip_prefix(':')
        .and_then(|s| s.strip_suffix("\r\n"))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an integer reply: {}", show(reply)))
}

/// The payload of a `$n` bulk element.
fn bulk(reply: &[u8]) -> Vec<u8> {
    let end = reply.windows(2).position(|w| w == b"\r\n").expect("header");
    reply[end + 2..reply.len() - 2].to_vec()
}

fn in_range(v: i64, lo: i64, hi: i64, what: &str) {
    assert!(lo <= v && v <= hi, "{what} = {v}, expected {lo}..={hi}");
}

#[test]
fn ttl_replies_are_in_range() {
    let s = common::ours();
    let mut c = Raw::connect(s.addr());
    assert_eq!(c.cmd("SET k v EX 100"), b"+OK\r\n");
    assert_eq!(int(&c.cmd("TTL k")), 100);
    in_range(int(&c.cmd("PTTL k")), 99_000, 100_000, "PTTL");
    let now = now_ms() as i64;
    in_range(
        int(&c.cmd("PEXPIRETIME k")),
        now + 99_000,
        now + 100_000,
        "PEXPIRETIME",
    );
    in_range(
        int(&c.cmd("EXPIRETIME k")),
        now / 1000 + 99,
        now / 1000 + 101,
        "EXPIRETIME",
    );
    // Seconds are rounded to the nearest, as Redis does.
    assert_eq!(int(&c.cmd("PEXPIRE k 1700")), 1);
    assert_eq!(int(&c.cmd("TTL k")), 2);
    assert_eq!(int(&c.cmd("PEXPIRE k 1200")), 1);
    assert_eq!(int(&c.cmd("TTL k")), 1);
    assert_eq!(int(&c.cmd("PEXPIRE k 300")), 1);
    in_range(int(&c.cmd("TTL k")), 0, 0, "TTL of 300 ms");
    in_range(int(&c.cmd("PTTL k")), 200, 300, "PTTL");
    // EXPIREAT in seconds and PEXPIREAT in ms.
    let at = now_ms() / 1000 + 50;
    assert_eq!(int(&c.cmd(&format!("EXPIREAT k {at}"))), 1);
    in_range(int(&c.cmd("TTL k")), 48, 50, "TTL after EXPIREAT");
    assert_eq!(int(&c.cmd("EXPIRETIME k")), at as i64);
    assert_eq!(int(&c.cmd("PEXPIRETIME k")), at as i64 * 1000);
    assert_eq!(int(&c.cmd("PERSIST k")), 1);
    assert_eq!(int(&c.cmd("PTTL k")), -1);
}

#[test]
fn ttl_travels_with_the_key() {
    let s = common::ours();
    let mut c = Raw::connect(s.addr());
    assert_eq!(c.cmd("SET a v PX 50000"), b"+OK\r\n");
    assert_eq!(c.cmd("RENAME a b"), b"+OK\r\n");
    in_range(int(&c.cmd("PTTL b")), 49_000, 50_000, "PTTL after RENAME");
    assert_eq!(int(&c.cmd("COPY b c")), 1);
    in_range(int(&c.cmd("PTTL c")), 49_000, 50_000, "PTTL after COPY");
    assert_eq!(int(&c.cmd("MOVE c 3")), 1);
    assert_eq!(c.cmd("SELECT 3"), b"+OK\r\n");
    in_range(int(&c.cmd("PTTL c")), 49_000, 50_000, "PTTL after MOVE");
    assert_eq!(c.cmd("SELECT 0"), b"+OK\r\n");
    assert_eq!(s.shared().store.db_counts(0), (1, 1));
    assert_eq!(s.shared().store.db_counts(3), (1, 1));
    // A short TTL moved by RENAME still expires actively.
    assert_eq!(c.cmd("SET short v PX 30"), b"+OK\r\n");
    assert_eq!(c.cmd("RENAME short moved"), b"+OK\r\n");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(s.shared().store.db_counts(0), (1, 1));
}

#[test]
fn expire_in_the_past_deletes_without_counting_expiry() {
    let s = common::ours();
    let mut c = Raw::connect(s.addr());
    assert_eq!(c.cmd("SET k v"), b"+OK\r\n");
    assert_eq!(int(&c.cmd("EXPIRE k -1")), 1);
    assert_eq!(int(&c.cmd("EXISTS k")), 0);
    assert_eq!(c.cmd("SET k v"), b"+OK\r\n");
    assert_eq!(int(&c.cmd("PEXPIREAT k 1")), 1);
    assert_eq!(int(&c.cmd("EXISTS k")), 0);
    assert_eq!(s.shared().store.stats().expired_keys, 0);
    assert_eq!(s.shared().store.db_counts(0), (0, 0));
}

#[test]
fn object_idletime_counts_seconds_since_access() {
    let s = common::ours();
    let mut c = Raw::connect(s.addr());
    assert_eq!(c.cmd("SET k v"), b"+OK\r\n");
    assert_eq!(int(&c.cmd("OBJECT IDLETIME k")), 0);
    std::thread::sleep(Duration::from_millis(2100));
    // TYPE, EXISTS, TTL and OBJECT itself do not count as an access.
    c.cmd("TYPE k");
    c.cmd("EXISTS k");
    c.cmd("TTL k");
    in_range(int(&c.cmd("OBJECT IDLETIME k")), 2, 3, "IDLETIME");
    assert_eq!(bulk(&c.cmd("GET k")), b"v");
    assert_eq!(int(&c.cmd("OBJECT IDLETIME k")), 0);
}

#[test]
fn randomkey_covers_keys_and_skips_expired() {
    let s = common::ours();
    let mut c = Raw::connect(s.addr());
    assert_eq!(c.cmd("RANDOMKEY"), b"$-1\r\n");
    assert_eq!(c.cmd("MSET a 1 b 2 c 3"), b"+OK\r\n");
    let mut seen = HashSet::new();
    for _ in 0..300 {
        seen.insert(bulk(&c.cmd("RANDOMKEY")));
    }
    let want: HashSet<Vec<u8>> = [b"a".to_vec(), b"b".to_vec(), b"c".to_vec()].into();
    assert_eq!(seen, want);
    assert_eq!(int(&c.cmd("DEL a b c")), 3);
    // Many expired keys and one live one: RANDOMKEY finds the live one, deleting the rest.
    let mut buf = Vec::new();
    for i in 0..200 {
        let k = format!("gone{i}");
        buf.extend(encode_command(&[b"SET", k.as_bytes(), b"v", b"PX", b"1"]));
    }
    c.send_raw(&buf);
    for _ in 0..200 {
        c.read_reply();
    }
    assert_eq!(c.cmd("SET live v"), b"+OK\r\n");
    std::thread::sleep(Duration::from_millis(5));
    for _ in 0..20 {
        assert_eq!(bulk(&c.cmd("RANDOMKEY")), b"live");
    }
}

#[test]
fn flushall_async_empties_at_once() {
    let s = common::ours();
    let mut c = Raw::connect(s.addr());
    for chunk in 0..10 {
        let mut mset = vec![b"MSET".to_vec()];
        for i in 0..10_000 {
            mset.push(format!("k{chunk}:{i}").into_bytes());
            mset.push(b"v".to_vec());
        }
        let refs: Vec<&[u8]> = mset.iter().map(|a| a.as_slice()).collect();
        assert_eq!(c.cmd_args(&refs), b"+OK\r\n");
    }
    assert_eq!(c.cmd("SELECT 5"), b"+OK\r\n");
    assert_eq!(c.cmd("SET other v EX 100"), b"+OK\r\n");
    assert_eq!(int(&c.cmd("DBSIZE")), 1);
    assert_eq!(c.cmd("FLUSHALL ASYNC"), b"+OK\r\n");
    assert_eq!(int(&c.cmd("DBSIZE")), 0);
    assert_eq!(c.cmd("SELECT 0"), b"+OK\r\n");
    assert_eq!(int(&c.cmd("DBSIZE")), 0);
    assert_eq!(s.shared().store.db_counts(5), (0, 0));
    // The server keeps working normally afterwards.
    assert_eq!(c.cmd("SET k v"), b"+OK\r\n");
    assert_eq!(c.cmd("FLUSHDB ASYNC"), b"+OK\r\n");
    assert_eq!(int(&c.cmd("DBSIZE")), 0);
}

/// Runs a full SCAN with `COUNT count` and returns every key seen.
fn scan_all(c: &mut Raw, count: usize) -> HashSet<Vec<u8>> {
    let mut seen = HashSet::new();
    let mut cursor = b"0".to_vec();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "SCAN did not finish");
        let n = count.to_string();
        let reply = c.cmd_args(&[b"SCAN", &cursor, b"COUNT", n.as_bytes()]);
        let parts = elements(&reply);
        cursor = bulk(&parts[0]);
        for k in elements(&parts[1]) {
            seen.insert(bulk(&k));
        }
        if cursor == b"0" {
            return seen;
        }
    }
}

/// Redis's SCAN guarantee under fire: keys present for the whole iteration are all
/// returned while another client inserts and deletes many other keys (growing the tables).
fn scan_under_concurrent_writes(shards: usize) {
    let s = common::ours_with(|c| c.shards = shards);
    let mut c = Raw::connect(s.addr());
    let stable: Vec<String> = (0..3000).map(|i| format!("stable:{i}")).collect();
    for chunk in stable.chunks(500) {
        let mut args: Vec<&[u8]> = vec![b"MSET"];
        for k in chunk {
            args.push(k.as_bytes());
            args.push(b"v");
        }
        assert_eq!(c.cmd_args(&args), b"+OK\r\n");
    }
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let addr = s.addr();
        std::thread::spawn(move || {
            let mut w = Raw::connect(addr);
            let mut ops = 0u64;
            // Grow to 40k extra keys, then churn: delete old ones, add new ones.
            for round in 0..2000u64 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let mut buf = Vec::new();
                for j in 0..100u64 {
                    let id = round * 100 + j;
                    buf.extend(encode_command(&[
                        b"SET",
                        format!("churn:{id}").as_bytes(),
                        b"x",
                    ]));
                    if id >= 40_000 {
                        buf.extend(encode_command(&[
                            b"DEL",
                            format!("churn:{}", id - 40_000).as_bytes(),
                        ]));
                    }
                }
                w.send_raw(&buf);
                let replies = if round * 100 >= 40_000 { 200 } else { 100 };
                for _ in 0..replies {
                    w.read_reply();
                }
                ops += replies;
            }
            ops
        })
    };
    let mut rounds = 0;
    for count in [1, 10, 100] {
        let seen = scan_all(&mut c, count);
        for k in &stable {
            assert!(
                seen.contains(k.as_bytes()),
                "SCAN COUNT {count} with {shards} shards lost {k}"
            );
        }
        rounds += 1;
    }
    stop.store(true, Ordering::Relaxed);
    let ops = writer.join().expect("writer");
    assert_eq!(rounds, 3);
    assert!(ops > 0, "the writer never ran");
}

#[test]
fn scan_returns_stable_keys_under_concurrent_writes() {
    scan_under_concurrent_writes(64);
}

#[test]
fn scan_returns_stable_keys_under_concurrent_writes_one_shard() {
    scan_under_concurrent_writes(1);
}

/// RENAME is atomic: a reader never sees both names or neither while another client
/// renames a key back and forth.
#[test]
fn rename_is_atomic() {
    let s = common::ours();
    let mut c = Raw::connect(s.addr());
    assert_eq!(c.cmd("SET ping v"), b"+OK\r\n");
    let stop = Arc::new(AtomicBool::new(false));
    let renamer = {
        let stop = stop.clone();
        let addr = s.addr();
        std::thread::spawn(move || {
            let mut w = Raw::connect(addr);
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) && n < 20_000 {
                let (a, b) = if n % 2 == 0 {
                    ("ping", "pong")
                } else {
                    ("pong", "ping")
                };
                assert_eq!(w.cmd(&format!("RENAME {a} {b}")), b"+OK\r\n");
                n += 1;
            }
        })
    };
    for _ in 0..3000 {
        assert_eq!(int(&c.cmd("EXISTS ping pong")), 1);
    }
    stop.store(true, Ordering::Relaxed);
    renamer.join().expect("renamer");
}

/// SWAPDB is atomic with respect to the keys it moves: a reader sees a database either
/// before or after a swap, never a mix.
#[test]
fn swapdb_is_atomic() {
    let s = common::ours();
    let mut c = Raw::connect(s.addr());
    let mut args: Vec<Vec<u8>> = vec![b"MSET".to_vec()];
    for i in 0..200 {
        args.push(format!("k{i}").into_bytes());
        args.push(b"v".to_vec());
    }
    let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
    assert_eq!(c.cmd_args(&refs), b"+OK\r\n");
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let stop = stop.clone();
        let addr = s.addr();
        std::thread::spawn(move || {
            let mut w = Raw::connect(addr);
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) && n < 20_000 {
                assert_eq!(w.cmd("SWAPDB 0 1"), b"+OK\r\n");
                n += 1;
            }
        })
    };
    let mut keys: Vec<String> = vec!["EXISTS".into()];
    keys.extend((0..200).map(|i| format!("k{i}")));
    let line = keys.join(" ");
    for _ in 0..2000 {
        let n = int(&c.cmd(&line));
        assert!(n == 0 || n == 200, "EXISTS saw {n} of 200 keys mid-swap");
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().expect("swapper");
}
