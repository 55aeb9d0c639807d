//! Integration tests of the string and bitmap families through the `redis` crate: TTL
//! handling of every command that writes a key (read from the store, since deadlines are
//! absolute times), real expiry, the encodings OBJECT ENCODING will report, typed replies
//! and the atomicity of the multi-key commands.

mod common;

use std::time::{Duration, Instant};

use redis::Commands;
use rust_cache_server::ServerHandle;

/// The key's deadline in unix ms (0 = none), or None if the key does not exist.
fn deadline(s: &ServerHandle, key: &str) -> Option<u64> {
    let store = &s.shared().store;
    let h = store.hash(key.as_bytes());
    let mut shard = store.lock(0, h);
    let now = rust_cache_server::util::now_ms();
    shard.get_mut(h, key.as_bytes(), now).map(|e| e.expire_at())
}

fn encoding(s: &ServerHandle, key: &str) -> &'static str {
    let store = &s.shared().store;
    let h = store.hash(key.as_bytes());
    let mut shard = store.lock(0, h);
    let now = rust_cache_server::util::now_ms();
    shard
        .get_mut(h, key.as_bytes(), now)
        .map(|e| e.value().encoding())
        .unwrap_or("none")
}

/// Asserts a deadline lies `ms` from now, give or take the time the test took.
fn assert_ttl_about(s: &ServerHandle, key: &str, ms: u64) {
    let now = rust_cache_server::util::now_ms();
    let d = deadline(s, key).expect("key exists");
    assert!(
        d > now + ms - 5_000 && d <= now + ms,
        "deadline of {} is {} ms from now, expected about {}",
        key,
        d as i64 - now as i64,
        ms
    );
}

fn q<T: redis::FromRedisValue>(c: &mut redis::Connection, args: &[&str]) -> T {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(c)
        .unwrap_or_else(|e| panic!("{:?} failed: {}", args, e))
}

fn q_err(c: &mut redis::Connection, args: &[&str]) -> String {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    match cmd.query::<redis::Value>(c) {
        Ok(v) => panic!("{:?} succeeded with {:?}", args, v),
        Err(e) => e.to_string(),
    }
}

#[test]
fn set_expire_options_set_the_right_deadlines() {
    let s = common::ours();
    let mut c = common::client(s.addr());
    let _: () = q(&mut c, &["SET", "k", "v", "EX", "100"]);
    assert_ttl_about(&s, "k", 100_000);
    let _: () = q(&mut c, &["SET", "k", "v", "PX", "250000"]);
    assert_ttl_about(&s, "k", 250_000);
    let _: () = q(&mut c, &["SET", "k", "v", "EXAT", "4000000000"]);
    assert_eq!(deadline(&s, "k"), Some(4_000_000_000_000));
    let _: () = q(&mut c, &["SET", "k", "v", "PXAT", "4000000000123"]);
    assert_eq!(deadline(&s, "k"), Some(4_000_000_000_123));
    // KEEPTTL keeps it, a plain SET drops it.
    let _: () = q(&mut c, &["SET", "k", "v2", "KEEPTTL"]);
    assert_eq!(deadline(&s, "k"), Some(4_000_000_000_123));
    let v: String = q(&mut c, &["GET", "k"]);
    assert_eq!(v, "v2");
    let _: () = q(&mut c, &["SET", "k", "v3"]);
    assert_eq!(deadline(&s, "k"), Some(0));
    // A rejected SET (NX on an existing key, bad expire) leaves the key untouched.
    let _: () = q(&mut c, &["SET", "k", "v4", "EX", "50"]);
    let r: Option<String> = q(&mut c, &["SET", "k", "v5", "NX", "EX", "1000"]);
    assert_eq!(r, None);
    assert_ttl_about(&s, "k", 50_000);
    let e = q_err(&mut c, &["SET", "k", "v6", "EX", "0"]);
    assert!(e.contains("invalid expire time in 'set' command"), "{}", e);
    let v: String = q(&mut c, &["GET", "k"]);
    assert_eq!(v, "v4");
    // SET ... GET returns the old value and applies the new deadline.
    let old: String = q(&mut c, &["SET", "k", "v7", "GET", "PX", "70000"]);
    assert_eq!(old, "v4");
    assert_ttl_about(&s, "k", 70_000);
}

#[test]
fn getex_changes_or_removes_the_deadline() {
    let s = common::ours();
    let mut c = common::client(s.addr());
    let _: () = q(&mut c, &["SET", "k", "v"]);
    let v: String = q(&mut c, &["GETEX", "k", "EX", "30"]);
    assert_eq!(v, "v");
    assert_ttl_about(&s, "k", 30_000);
    let _: String = q(&mut c, &["GETEX", "k"]);
    assert_ttl_about(&s, "k", 30_000);
    let _: String = q(&mut c, &["GETEX", "k", "PX", "90000"]);
    assert_ttl_about(&s, "k", 90_000);
    let _: String = q(&mut c, &["GETEX", "k", "EXAT", "4000000000"]);
    assert_eq!(deadline(&s, "k"), Some(4_000_000_000_000));
    let _: String = q(&mut c, &["GETEX", "k", "PERSIST"]);
    assert_eq!(deadline(&s, "k"), Some(0));
    let e = q_err(&mut c, &["GETEX", "k", "EX", "-3"]);
    assert!(
        e.contains("invalid expire time in 'getex' command"),
        "{}",
        e
    );
    // A deadline already in the past deletes the key after replying with it.
    let v: String = q(&mut c, &["GETEX", "k", "PXAT", "1"]);
    assert_eq!(v, "v");
    assert_eq!(deadline(&s, "k"), None);
    let v: Option<String> = q(&mut c, &["GETEX", "k", "PERSIST"]);
    assert_eq!(v, None);
}

#[test]
fn overwriting_commands_reset_ttl_and_modifying_ones_keep_it() {
    let s = common::ours();
    let mut c = common::client(s.addr());
    let far = "4000000000";
    let keep: &[&[&str]] = &[
        &["APPEND", "k", "x"],
        &["SETRANGE", "k", "0", "y"],
        &["SETBIT", "k", "3", "1"],
        &["BITFIELD", "k", "SET", "u8", "0", "65"],
        &["SET", "k", "v", "KEEPTTL"],
        &["SET", "k", "v", "XX", "KEEPTTL", "GET"],
    ];
    for cmd in keep {
        let _: () = q(&mut c, &["SET", "k", "abc", "EXAT", far]);
        let _: redis::Value = q(&mut c, cmd);
        assert_eq!(deadline(&s, "k"), Some(4_000_000_000_000), "{:?}", cmd);
    }
    for cmd in [
        &["INCR", "k"][..],
        &["DECRBY", "k", "5"],
        &["INCRBYFLOAT", "k", "1.5"],
    ] {
        let _: () = q(&mut c, &["SET", "k", "10", "EXAT", far]);
        let _: redis::Value = q(&mut c, cmd);
        assert_eq!(deadline(&s, "k"), Some(4_000_000_000_000), "{:?}", cmd);
    }
    let reset: &[&[&str]] = &[
        &["SET", "k", "v"],
        &["GETSET", "k", "v"],
        &["MSET", "k", "v", "other", "w"],
        &["BITOP", "OR", "k", "k"],
        &["BITOP", "NOT", "k", "other"],
    ];
    for cmd in reset {
        let _: () = q(&mut c, &["SET", "k", "abc", "EXAT", far]);
        let _: redis::Value = q(&mut c, cmd);
        assert_eq!(deadline(&s, "k"), Some(0), "{:?}", cmd);
    }
    let _: () = q(&mut c, &["SET", "k", "abc", "EXAT", far]);
    let _: () = q(&mut c, &["SETEX", "k", "40", "v"]);
    assert_ttl_about(&s, "k", 40_000);
    let _: () = q(&mut c, &["PSETEX", "k", "45000", "v"]);
    assert_ttl_about(&s, "k", 45_000);
    let e = q_err(&mut c, &["SETEX", "k", "0", "v"]);
    assert!(
        e.contains("invalid expire time in 'setex' command"),
        "{}",
        e
    );
    let e = q_err(&mut c, &["PSETEX", "k", "-1", "v"]);
    assert!(
        e.contains("invalid expire time in 'psetex' command"),
        "{}",
        e
    );
    // MSETNX that writes nothing leaves the old deadline.
    let n: i64 = q(&mut c, &["MSETNX", "k", "1", "fresh", "2"]);
    assert_eq!(n, 0);
    assert_ttl_about(&s, "k", 45_000);
    assert_eq!(deadline(&s, "fresh"), None);
    // BITOP with an empty result deletes the destination.
    let n: i64 = q(&mut c, &["BITOP", "AND", "k", "nosuch"]);
    assert_eq!(n, 0);
    assert_eq!(deadline(&s, "k"), None);
}

#[test]
fn keys_with_a_deadline_really_expire() {
    let s = common::ours();
    let mut c = common::client(s.addr());
    let _: () = q(&mut c, &["SET", "a", "1", "PX", "500"]);
    let _: () = q(&mut c, &["PSETEX", "b", "500", "2"]);
    let _: () = q(&mut c, &["SET", "c", "3", "PX", "500"]);
    let _: () = q(&mut c, &["SET", "c", "4", "KEEPTTL"]);
    let _: () = q(&mut c, &["SET", "d", "5", "PX", "500"]);
    let _: String = q(&mut c, &["GETEX", "d", "PERSIST"]);
    let _: () = q(&mut c, &["SET", "e", "6", "PX", "500"]);
    let _: () = q(&mut c, &["SET", "e", "7"]);
    let v: Vec<Option<String>> = q(&mut c, &["MGET", "a", "b", "c", "d", "e"]);
    assert_eq!(v.iter().filter(|x| x.is_some()).count(), 5, "{:?}", v);
    std::thread::sleep(Duration::from_millis(1000));
    // Before any lookup: the active expiry alone has removed the three due keys.
    assert_eq!(s.shared().store.db_counts(0), (2, 0));
    let v: Vec<Option<String>> = q(&mut c, &["MGET", "a", "b", "c", "d", "e"]);
    assert_eq!(
        v,
        vec![None, None, None, Some("5".into()), Some("7".into())]
    );
    assert_eq!(deadline(&s, "d"), Some(0));
    // Commands treat an expired key as missing (lazy expiry on access).
    let _: () = q(&mut c, &["SET", "f", "10", "PX", "30"]);
    std::thread::sleep(Duration::from_millis(60));
    let n: i64 = q(&mut c, &["INCR", "f"]);
    assert_eq!(n, 1);
    assert_eq!(deadline(&s, "f"), Some(0));
}

#[test]
fn encodings_follow_redis() {
    let s = common::ours();
    let mut c = common::client(s.addr());
    let long = "x".repeat(45);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["SET", "k", "12345"], "int"),
        (vec!["SET", "k", "-9223372036854775808"], "int"),
        (vec!["SET", "k", "007"], "embstr"),
        (vec!["SET", "k", "abc"], "embstr"),
        (vec!["SET", "k", &long], "raw"),
        (vec!["APPEND", "k", ""], "raw"),
        (vec!["SET", "k", "1"], "int"),
        (vec!["APPEND", "k", "2"], "raw"),
        (vec!["INCR", "k"], "int"),
        (vec!["INCRBYFLOAT", "k", "1"], "embstr"),
        (vec!["INCRBYFLOAT", "k", "1e50"], "raw"),
        (vec!["SET", "k", "abc"], "embstr"),
        (vec!["SETRANGE", "k", "5", ""], "embstr"),
        (vec!["GETBIT", "k", "3"], "embstr"),
        (vec!["BITFIELD", "k", "GET", "u8", "0"], "embstr"),
        (vec!["SETRANGE", "k", "0", "z"], "raw"),
        (vec!["SET", "k", "abc"], "embstr"),
        (vec!["SETBIT", "k", "0", "0"], "raw"),
        (vec!["SET", "k", "abc"], "embstr"),
        (vec!["BITFIELD", "k", "INCRBY", "u8", "0", "0"], "raw"),
        (vec!["GETSET", "k", "99"], "int"),
        (vec!["MSET", "k", "hello"], "embstr"),
        (vec!["BITOP", "OR", "k", "k"], "raw"),
        (vec!["DEL", "k"], "none"),
        (vec!["APPEND", "k", "42"], "int"),
        (vec!["DEL", "k"], "none"),
        (vec!["SETRANGE", "k", "0", "42"], "raw"),
        (vec!["DEL", "k"], "none"),
        (vec!["SETBIT", "k", "1", "1"], "raw"),
        (vec!["DEL", "k"], "none"),
        (vec!["INCRBYFLOAT", "k", "5"], "embstr"),
        (vec!["SETNX", "j", "7"], "embstr"),
    ];
    for (cmd, enc) in cases {
        let _: redis::Value = q(&mut c, &cmd);
        assert_eq!(encoding(&s, "k"), enc, "after {:?}", cmd);
    }
}

#[test]
fn typed_replies_through_the_client() {
    let s = common::ours();
    let mut c = common::client(s.addr());
    let _: () = c.set("f", "10.5").unwrap();
    let v: String = q(&mut c, &["INCRBYFLOAT", "f", "0.1"]);
    assert_eq!(v, "10.6");
    let v: f64 = q(&mut c, &["INCRBYFLOAT", "f", "3.0e3"]);
    assert_eq!(v, 3010.6);
    let e = q_err(&mut c, &["INCRBYFLOAT", "f", "inf"]);
    assert!(
        e.contains("increment would produce NaN or Infinity"),
        "{}",
        e
    );
    let n: i64 = c.incr("n", 5).unwrap();
    assert_eq!(n, 5);
    let e = q_err(&mut c, &["INCRBY", "n", "9223372036854775807"]);
    assert!(e.contains("increment or decrement would overflow"), "{}", e);
    let n: i64 = q(&mut c, &["APPEND", "s", "hello"]);
    assert_eq!(n, 5);
    let r: String = c.getrange("s", 1, -2).unwrap();
    assert_eq!(r, "ell");
    let n: i64 = c.setrange("s", 7, "!").unwrap();
    assert_eq!(n, 8);
    let v: Vec<u8> = c.get("s").unwrap();
    assert_eq!(v, b"hello\0\0!");
    let old: i64 = q(&mut c, &["SETBIT", "b", "9", "1"]);
    assert_eq!(old, 0);
    let n: i64 = q(&mut c, &["BITCOUNT", "b"]);
    assert_eq!(n, 1);
    let n: i64 = q(&mut c, &["BITPOS", "b", "1"]);
    assert_eq!(n, 9);
    let r: Vec<Option<i64>> = q(
        &mut c,
        &[
            "BITFIELD", "bf", "SET", "i8", "0", "127", "OVERFLOW", "FAIL", "INCRBY", "i8", "0",
            "1", "GET", "i8", "0",
        ],
    );
    assert_eq!(r, vec![Some(0), None, Some(127)]);
    let _: () = q(&mut c, &["MSET", "a", "ohmytext", "b", "mynewtext"]);
    let l: String = q(&mut c, &["LCS", "a", "b"]);
    assert_eq!(l, "mytext");
    let n: i64 = q(&mut c, &["LCS", "a", "b", "LEN"]);
    assert_eq!(n, 6);
    let e = q_err(&mut c, &["SETRANGE", "s", "-1", "x"]);
    assert!(e.contains("offset is out of range"), "{}", e);
    let e = q_err(&mut c, &["SETBIT", "b", "4294967296", "1"]);
    assert!(
        e.contains("bit offset is not an integer or out of range"),
        "{}",
        e
    );
}

#[test]
fn size_limits_follow_the_configured_proto_max_bulk_len() {
    let s = common::ours_with(|c| c.proto_max_bulk_len = 1000);
    let mut c = common::client(s.addr());
    let n: i64 = q(&mut c, &["SETRANGE", "k", "990", "0123456789"]);
    assert_eq!(n, 1000);
    let e = q_err(&mut c, &["APPEND", "k", "x"]);
    assert!(e.contains("string exceeds maximum allowed size"), "{}", e);
    let e = q_err(&mut c, &["SETRANGE", "k", "991", "0123456789"]);
    assert!(e.contains("string exceeds maximum allowed size"), "{}", e);
    let _: i64 = q(&mut c, &["SETBIT", "k", "7999", "1"]);
    let e = q_err(&mut c, &["SETBIT", "k", "8000", "1"]);
    assert!(
        e.contains("bit offset is not an integer or out of range"),
        "{}",
        e
    );
    let e = q_err(&mut c, &["BITFIELD", "k", "GET", "u8", "#1000"]);
    assert!(
        e.contains("bit offset is not an integer or out of range"),
        "{}",
        e
    );
    let n: i64 = q(&mut c, &["STRLEN", "k"]);
    assert_eq!(n, 1000);
    // 15 * 16 * 4 bytes of LCS table fit in 1000, 16 * 16 * 4 do not.
    let _: () = q(
        &mut c,
        &["MSET", "a", &"a".repeat(14), "b", &"b".repeat(15)],
    );
    let n: i64 = q(&mut c, &["LCS", "a", "b", "LEN"]);
    assert_eq!(n, 0);
    let _: () = q(&mut c, &["SET", "a", &"a".repeat(15)]);
    let e = q_err(&mut c, &["LCS", "a", "b", "LEN"]);
    assert!(e.contains("transient memory for LCS exceeds"), "{}", e);
}

/// MSET/MGET/MSETNX/BITOP lock all their shards at once: a reader never sees a half
/// applied MSET, and concurrent MSETNX calls on overlapping keys never both succeed.
#[test]
fn multi_key_commands_are_atomic() {
    let s = common::ours_with(|c| c.threads = 4);
    let addr = s.addr();
    let keys: Vec<String> = (0..16).map(|i| format!("key:{}", i)).collect();
    let writer = {
        let keys = keys.clone();
        std::thread::spawn(move || {
            let mut c = common::client(addr);
            for round in 0..400 {
                let mut cmd = redis::cmd("MSET");
                for k in &keys {
                    cmd.arg(k).arg(round);
                }
                let _: () = cmd.query(&mut c).unwrap();
            }
        })
    };
    let mut c = common::client(addr);
    let start = Instant::now();
    let mut reads = 0;
    while !writer.is_finished() && start.elapsed() < Duration::from_secs(30) {
        let v: Vec<Option<i64>> = redis::cmd("MGET").arg(&keys).query(&mut c).unwrap();
        if v[0].is_some() {
            assert!(
                v.iter().all(|x| *x == v[0]),
                "torn MSET seen by MGET: {:?}",
                v
            );
        }
        reads += 1;
    }
    writer.join().unwrap();
    assert!(reads > 0);

    // Racing MSETNX on overlapping key pairs: exactly one per key may win.
    let winners: Vec<i64> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                let mut c = common::client(addr);
                let mut won = 0;
                for i in 0..100 {
                    let a = format!("nx:{}:{}", i, t % 2);
                    let b = format!("nx:{}:shared", i);
                    let n: i64 = redis::cmd("MSETNX")
                        .arg(&a)
                        .arg(t)
                        .arg(&b)
                        .arg(t)
                        .query(&mut c)
                        .unwrap();
                    won += n;
                }
                won
            })
        })
        .map(|h| h.join().unwrap())
        .collect();
    assert_eq!(winners.iter().sum::<i64>(), 100, "{:?}", winners);
}
