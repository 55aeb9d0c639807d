//! WATCH, differentially: which commands count as a change to a key (Redis's
//! signalModifiedKey), for the string, bitmap, keyspace, HyperLogLog and hash families;
//! the transaction commands' replies and error paths in RESP2 and RESP3; and the
//! atomicity of EXEC under concurrent clients.
//!
//! The WATCH table runs each case the same way on this server and on redis-server: a
//! writer connection prepares the keys, a watcher connection WATCHes, the writer runs the
//! command, and the watcher answers MULTI / PING / EXEC. EXEC's reply (an array, or nil
//! when the watched key changed) and the command's own reply are compared byte for byte.
//! Each case also says which outcome Redis 7.0's source implies (`+`: the command
//! signals the key, EXEC fails; `-`: it does not), so a case that no longer exercises
//! what it was written for is noticed too.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{show, Pair, Raw};

/// One case: `"<+|-> setup; setup | watched keys | command"`. Watched keys are
/// space-separated, `db:key` for another database than 0; setup lines are separated by
/// `; ` and run on the writer in database 0 after FLUSHALL.
const CASES: &[&str] = &[
    // SET and its variants.
    "+ | k | SET k v",
    "+ SET k a | k | SET k v",
    "+ SET k a | k | SET k a",
    "- SET k a | k | SET k v NX",
    "+ | k | SET k v NX",
    "- | k | SET k v XX",
    "+ SET k a | k | SET k v XX",
    "+ SET k a | k | SET k v GET",
    "+ | k | SET k v GET",
    "- | k | SET k v XX GET",
    "- HSET k f v | k | SET k v GET",
    "+ HSET k f v | k | SET k v",
    "+ SET k a | k | SET k v EX 100",
    "+ SET k a EX 100 | k | SET k v KEEPTTL",
    "+ | k | SET k v PXAT 1",
    "- SET k a | k | SET k v EX 0",
    "- SET k a | k | SET k v EX abc",
    "- SET k a | k | SET k v NX XX",
    "- SET k a | k | SET other v",
    "+ | k | SETNX k v",
    "- SET k a | k | SETNX k v",
    "+ | k | SETEX k 100 v",
    "- SET k a | k | SETEX k 0 v",
    "+ SET k a | k | PSETEX k 100000 v",
    "- SET k a | k | PSETEX k -5 v",
    // GETEX, GETDEL, GETSET.
    "- SET k a | k | GETEX k",
    "+ SET k a | k | GETEX k EX 100",
    "+ SET k a | k | GETEX k PXAT 99999999999999",
    "+ SET k a | k | GETEX k EXAT 1",
    "+ SET k a EX 100 | k | GETEX k PERSIST",
    "- SET k a | k | GETEX k PERSIST",
    "- | k | GETEX k EX 100",
    "- SET k a | k | GETEX k EX 0",
    "- HSET k f v | k | GETEX k EX 100",
    "+ SET k a | k | GETDEL k",
    "- | k | GETDEL k",
    "- HSET k f v | k | GETDEL k",
    "+ SET k a | k | GETSET k b",
    "+ | k | GETSET k b",
    "- HSET k f v | k | GETSET k b",
    // MSET, MSETNX.
    "+ | k | MSET a 1 k 2",
    "- | k | MSET a 1 b 2",
    "+ | k | MSETNX a 1 k 2",
    "- SET a 1 | k | MSETNX a 1 k 2",
    "+ | k | MSETNX k 1 k 2",
    // APPEND, SETRANGE.
    "+ SET k a | k | APPEND k b",
    "+ | k | APPEND k b",
    "+ SET k a | k | APPEND k \"\"",
    "- HSET k f v | k | APPEND k b",
    "+ SET k hello | k | SETRANGE k 1 a",
    "+ SET k hello | k | SETRANGE k 1 e",
    "+ | k | SETRANGE k 3 a",
    "- | k | SETRANGE k 3 \"\"",
    "- SET k hello | k | SETRANGE k 3 \"\"",
    "- SET k hello | k | SETRANGE k -1 a",
    "- HSET k f v | k | SETRANGE k 1 a",
    // Counters.
    "+ | k | INCR k",
    "+ SET k 5 | k | INCR k",
    "+ SET k 5 | k | DECR k",
    "+ SET k 5 | k | INCRBY k 0",
    "+ SET k 5 | k | DECRBY k 3",
    "- SET k abc | k | INCR k",
    "- SET k 9223372036854775807 | k | INCR k",
    "- SET k 5 | k | INCRBY k x",
    "- SET k 5 | k | DECRBY k -9223372036854775808",
    "- HSET k f v | k | INCR k",
    "+ | k | INCRBYFLOAT k 1.5",
    "+ SET k 1 | k | INCRBYFLOAT k 0",
    "- SET k abc | k | INCRBYFLOAT k 1",
    "- SET k 1 | k | INCRBYFLOAT k inf",
    // Reads never signal.
    "- SET k a | k | GET k",
    "- SET k a | k | MGET k k",
    "- SET k a | k | STRLEN k",
    "- SET k hello | k | GETRANGE k 0 2",
    "- SET k hello; SET j help | k | LCS k j",
    // Bitmaps.
    "+ | k | SETBIT k 0 0",
    "+ | k | SETBIT k 7 1",
    "- SETBIT k 0 0 | k | SETBIT k 0 0",
    "- SETBIT k 0 0 | k | SETBIT k 7 0",
    "+ SETBIT k 0 0 | k | SETBIT k 8 0",
    "+ SETBIT k 0 0 | k | SETBIT k 0 1",
    "- SETBIT k 0 1 | k | SETBIT k 0 1",
    "- SETBIT k 0 1 | k | SETBIT k 0 2",
    "- SETBIT k 0 1 | k | SETBIT k -1 1",
    "- HSET k f v | k | SETBIT k 0 1",
    "- SET k a | k | GETBIT k 1",
    "- SET k a | k | BITCOUNT k",
    "- SET k a | k | BITPOS k 1",
    "- SET k a | k | BITFIELD k SET u8 0 97",
    "+ SET k a | k | BITFIELD k SET u8 0 98",
    "- SET k a | k | BITFIELD k INCRBY u8 0 0",
    "+ SET k a | k | BITFIELD k INCRBY u8 0 1",
    "+ SET k a | k | BITFIELD k SET u8 8 0",
    "- SET k a | k | BITFIELD k GET u8 0",
    "- | k | BITFIELD k GET u8 0",
    "+ | k | BITFIELD k SET u8 0 0",
    // A key created by a write that OVERFLOW FAIL refused is not signalled.
    "- | k | BITFIELD k OVERFLOW FAIL INCRBY u2 0 10",
    "- SET k a | k | BITFIELD k OVERFLOW FAIL INCRBY u8 0 200",
    "+ SET k a | k | BITFIELD k OVERFLOW SAT INCRBY u8 0 200",
    "- SET k a | k | BITFIELD_RO k GET u8 0",
    "- SET k a | k | BITFIELD k SET u8 0",
    "- HSET k f v | k | BITFIELD k SET u8 0 1",
    "+ SET a x | k | BITOP OR k a",
    "+ SET a x; SET k y | k | BITOP AND k a k",
    "+ SET k y | k | BITOP OR k missing",
    "- | k | BITOP OR k missing",
    "+ SET a x; HSET k f v | k | BITOP NOT k a",
    "- HSET a f v | k | BITOP OR k a",
    "- SET a x | k | BITOP NOT k a a",
    // Keyspace: DEL, UNLINK.
    "+ SET k a | k | DEL k",
    "- | k | DEL k",
    "+ SET k a | k | DEL missing k",
    "- SET a 1 | k | DEL a",
    "+ SET k a | k | UNLINK k",
    "- | k | UNLINK k",
    "- SET k a | k | EXISTS k",
    "- SET k a | k | TOUCH k",
    "- SET k a | k | TYPE k",
    // RENAME, RENAMENX.
    "+ SET k a | k | RENAME k j",
    "+ SET k a EX 100 | j | RENAME k j",
    "+ SET j a | k | RENAME j k",
    "+ SET j a; SET k b | k | RENAME j k",
    "- SET k a | k | RENAME k k",
    "- | k | RENAME k j",
    "+ SET k a | k | RENAMENX k j",
    "- SET k a; SET j b | k | RENAMENX k j",
    "- SET k a; SET j b | j | RENAMENX k j",
    "- SET k a | k | RENAMENX k k",
    // COPY.
    "+ SET j a | k | COPY j k",
    "- SET j a | j | COPY j k",
    "- SET j a; SET k b | k | COPY j k",
    "+ SET j a; SET k b | k | COPY j k REPLACE",
    "- | k | COPY j k",
    "+ SET k a | 1:k | COPY k k DB 1",
    "- SET k a | k | COPY k k DB 1",
    "- SET k a | 1:k | COPY k k DB 99",
    "- SET k a | k | COPY k k",
    // MOVE.
    "+ SET k a | k | MOVE k 1",
    "+ SET k a | 1:k | MOVE k 1",
    "- | 1:k | MOVE k 1",
    "- SET k a; SELECT 1; SET k b; SELECT 0 | k 1:k | MOVE k 1",
    "- SET k a | k | MOVE k 0",
    "- SET k a | k | MOVE k x",
    // SWAPDB marks watched keys that exist in either database.
    "+ SET k a | k | SWAPDB 0 1",
    "+ SET k a | 1:k | SWAPDB 0 1",
    "- SET j a | k 1:k | SWAPDB 0 1",
    "- SET k a | k | SWAPDB 1 2",
    "- SET k a | k | SWAPDB 0 99",
    // The EXPIRE family and PERSIST.
    "+ SET k a | k | EXPIRE k 100",
    "- | k | EXPIRE k 100",
    "+ SET k a | k | EXPIRE k -1",
    "+ SET k a | k | PEXPIRE k 100000",
    "+ SET k a | k | EXPIREAT k 99999999999",
    "+ SET k a | k | EXPIREAT k 1",
    "+ SET k a | k | PEXPIREAT k 99999999999999",
    "+ SET k a | k | EXPIRE k 100 NX",
    "- SET k a EX 100 | k | EXPIRE k 200 NX",
    "- SET k a | k | EXPIRE k 100 XX",
    "+ SET k a EX 100 | k | EXPIRE k 200 XX",
    "+ SET k a EX 100 | k | EXPIRE k 200 GT",
    "- SET k a EX 100 | k | EXPIRE k 50 GT",
    "- SET k a | k | EXPIRE k 50 GT",
    "+ SET k a EX 100 | k | EXPIRE k 50 LT",
    "+ SET k a | k | EXPIRE k 50 LT",
    "- SET k a | k | EXPIRE k 50 NX XX",
    "- SET k a | k | EXPIRE k 50 FOO",
    "- SET k a | k | EXPIRE k abc",
    "- SET k a | k | EXPIRE k 9223372036854775807",
    "+ SET k a EX 100 | k | PERSIST k",
    "- SET k a | k | PERSIST k",
    "- | k | PERSIST k",
    "- SET k a EX 100 | k | TTL k",
    "- SET k a PXAT 99999999999999 | k | PEXPIRETIME k",
    // HyperLogLog. PFCOUNT writes the cached cardinality when it was stale, and Redis
    // signals that.
    "+ | k | PFADD k a",
    "+ | k | PFADD k",
    "- PFADD k a | k | PFADD k a",
    "- PFADD k a | k | PFADD k",
    "+ PFADD k a | k | PFADD k b c",
    "- SET k a | k | PFADD k a",
    "- HSET k f v | k | PFADD k a",
    "+ PFADD k a b c | k | PFCOUNT k",
    "- PFADD k a b c; PFCOUNT k | k | PFCOUNT k",
    "- PFADD k a b c; PFADD j d | k | PFCOUNT k j",
    "- | k | PFCOUNT k",
    "- SET k a | k | PFCOUNT k",
    "- PFADD k a; PFCOUNT k | k | PFDEBUG TODENSE k",
    "- PFADD k a; PFCOUNT k | k | PFDEBUG GETREG k",
    "+ PFADD a x | k | PFMERGE k a",
    "+ | k | PFMERGE k",
    "+ PFADD k a | k | PFMERGE k",
    "- SET a x | k | PFMERGE k a",
    "- PFADD k a; HSET a f v | k | PFMERGE k a",
    // Hashes.
    "+ | k | HSET k f v",
    "+ HSET k f v | k | HSET k f v",
    "+ HSET k f v | k | HMSET k f v",
    "- HSET k f v | k | HSET k f",
    "- SET k a | k | HSET k f v",
    "+ | k | HSETNX k f v",
    "+ HSET k f v | k | HSETNX k g v",
    "- HSET k f v | k | HSETNX k f w",
    "- SET k a | k | HSETNX k f w",
    "+ HSET k f v g w | k | HDEL k f",
    "+ HSET k f v | k | HDEL k f",
    "+ HSET k f v | k | HDEL k f f",
    "- HSET k f v | k | HDEL k g",
    "- | k | HDEL k g",
    "- SET k a | k | HDEL k g",
    "+ | k | HINCRBY k f 1",
    "+ HSET k f 1 | k | HINCRBY k f 0",
    "- HSET k f x | k | HINCRBY k f 1",
    "- HSET k f 9223372036854775807 | k | HINCRBY k f 1",
    "- HSET k f 1 | k | HINCRBY k f x",
    "- SET k a | k | HINCRBY k f 1",
    "+ | k | HINCRBYFLOAT k f 1.5",
    "+ HSET k f 1 | k | HINCRBYFLOAT k f 1",
    "- HSET k f x | k | HINCRBYFLOAT k f 1",
    "- HSET k f 1 | k | HINCRBYFLOAT k f inf",
    "- SET k a | k | HINCRBYFLOAT k f 1",
    "- HSET k f v | k | HGET k f",
    "- HSET k f v | k | HMGET k f g",
    "- HSET k f v | k | HGETALL k",
    "- HSET k f v | k | HLEN k",
    "- HSET k f v | k | HEXISTS k f",
    "- HSET k f v | k | HSTRLEN k f",
    "- HSET k f v | k | HKEYS k",
    "- HSET k f v | k | HVALS k",
    "- HSET k f v | k | HRANDFIELD k",
    "- HSET k f v | k | HSCAN k 0",
];

struct Case {
    signals: bool,
    setup: Vec<&'static str>,
    watch: Vec<(usize, &'static str)>,
    command: &'static str,
}

fn parse_case(text: &'static str) -> Case {
    let (mark, rest) = text.split_at(1);
    let parts: Vec<&str> = rest.split(" | ").collect();
    assert_eq!(parts.len(), 3, "bad case {text:?}");
    Case {
        signals: match mark {
            "+" => true,
            "-" => false,
            _ => panic!("bad mark in {text:?}"),
        },
        setup: parts[0]
            .split("; ")
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect(),
        watch: parts[1]
            .split_whitespace()
            .map(|w| match w.split_once(':') {
                Some((db, key)) => (db.parse().expect("db index"), key),
                None => (0, w),
            })
            .collect(),
        command: parts[2].trim(),
    }
}

/// A watcher and a writer connection to one server.
struct Side {
    watcher: Raw,
    writer: Raw,
}

impl Side {
    fn connect(addr: std::net::SocketAddr) -> Side {
        Side {
            watcher: Raw::connect(addr),
            writer: Raw::connect(addr),
        }
    }

    /// Runs one case; returns every reply in order (setup, command, EXEC last).
    fn run(&mut self, case: &Case) -> Vec<Vec<u8>> {
        let mut replies = Vec::new();
        replies.push(self.writer.cmd("FLUSHALL"));
        for line in &case.setup {
            replies.push(self.writer.cmd(line));
        }
        for &(db, key) in &case.watch {
            replies.push(self.watcher.cmd(&format!("SELECT {db}")));
            replies.push(self.watcher.cmd_args(&[b"WATCH", key.as_bytes()]));
        }
        replies.push(self.watcher.cmd("SELECT 0"));
        replies.push(self.writer.cmd(case.command));
        replies.push(self.watcher.cmd("MULTI"));
        replies.push(self.watcher.cmd("PING"));
        replies.push(self.watcher.cmd("EXEC"));
        replies
    }
}

#[test]
fn watch_sees_exactly_the_changes_redis_signals() {
    let p = Pair::new();
    let mut ours = Side::connect(p.ours.addr());
    let mut redis = Side::connect(p.redis.addr());
    let mut failures = Vec::new();
    let (mut failed_execs, mut run_execs) = (0, 0);
    for text in CASES {
        let case = parse_case(text);
        let x = ours.run(&case);
        let y = redis.run(&case);
        let exec = y.last().expect("EXEC reply");
        let voided = exec == b"*-1\r\n";
        if voided {
            failed_execs += 1;
        } else {
            assert_eq!(show(exec), "*1\\r\\n+PONG\\r\\n", "redis EXEC in {text:?}");
            run_execs += 1;
        }
        if voided != case.signals {
            failures.push(format!(
                "{text:?}: redis-server's EXEC was {}, the case says otherwise",
                show(exec)
            ));
        }
        if x != y {
            let xs: Vec<String> = x.iter().map(|r| show(r)).collect();
            let ys: Vec<String> = y.iter().map(|r| show(r)).collect();
            failures.push(format!("{text:?}:\n  ours:  {xs:?}\n  redis: {ys:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
    // Both outcomes were exercised.
    assert!(failed_execs > 50 && run_execs > 50);
}

/// Sends each line to both servers on the given connections and compares the replies.
fn check_lines(x: &mut Raw, y: &mut Raw, script: &str) {
    for line in script.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (a, b) = (x.cmd(line), y.cmd(line));
        assert_eq!(
            show(&a),
            show(&b),
            "reply differs for `{line}` (left: ours, right: redis-server)"
        );
    }
}

/// The transaction commands on one connection: queuing, EXECABORT, nesting, errors at
/// EXEC time, blocking commands and SELECT inside MULTI.
const TRANSACTION_SCRIPT: &str = r#"
    EXEC
    DISCARD
    UNWATCH
    WATCH
    MULTI extra
    EXEC extra
    MULTI
    EXEC
    MULTI
    SET a 1
    INCR a
    GET a
    EXEC
    MULTI
    MULTI
    EXEC
    MULTI
    SET a
    PING
    EXEC
    MULTI
    NOSUCHCOMMAND x y
    SET a 5
    EXEC
    GET a
    MULTI
    SET a 7
    DISCARD
    GET a
    DISCARD
    MULTI
    WATCH a
    SET a 8
    EXEC
    GET a
    MULTI
    UNWATCH
    EXEC
    MULTI
    SET s hello
    LPUSH s x
    INCR s
    APPEND s !
    HSET s f v
    GET s
    EXEC
    MULTI
    BLPOP nolist 0
    BRPOP nolist 1
    BLMOVE nolist other LEFT RIGHT 0
    BZPOPMIN nozset 0
    EXEC
    RPUSH l a
    MULTI
    BLPOP l 0
    BLPOP l 0
    EXEC
    MULTI
    SELECT 1
    SET x in-db-1
    SELECT 99
    GET x
    EXEC
    GET x
    SELECT 0
    GET x
    MULTI
    EXPIRE a 100
    TTL a
    PERSIST a
    DEL a
    EXISTS a
    EXEC
    MULTI
    SET a 1 EX 0
    EXEC
    MULTI
    SET a 1 EX abc
    GET a
    EXEC
    MULTI
    SET a
    DISCARD
    EXEC
    FLUSHALL
"#;

#[test]
fn transaction_commands_in_resp2_and_resp3() {
    let mut p = Pair::new();
    check_lines(&mut p.a, &mut p.b, TRANSACTION_SCRIPT);
    // HELLO's reply carries the connection id, which differs: only its type is compared.
    let (x, y) = p.both("HELLO 3");
    assert_eq!((x[0], y[0]), (b'%', b'%'));
    check_lines(&mut p.a, &mut p.b, TRANSACTION_SCRIPT);
}

/// Runs `WATCH key` on the watcher, `action` on the writer, then MULTI/PING/EXEC on the
/// watcher, on both servers; returns redis-server's EXEC reply after comparing.
struct Watching {
    p: Pair,
    ours: Side,
    redis: Side,
}

impl Watching {
    fn new() -> Watching {
        let p = Pair::new();
        let ours = Side::connect(p.ours.addr());
        let redis = Side::connect(p.redis.addr());
        Watching { p, ours, redis }
    }

    fn both(&mut self, f: impl Fn(&mut Side) -> Vec<Vec<u8>>, what: &str) -> Vec<u8> {
        let x = f(&mut self.ours);
        let y = f(&mut self.redis);
        let xs: Vec<String> = x.iter().map(|r| show(r)).collect();
        let ys: Vec<String> = y.iter().map(|r| show(r)).collect();
        assert_eq!(xs, ys, "{what} (left: ours, right: redis-server)");
        y.last().cloned().unwrap_or_default()
    }

    fn exec(s: &mut Side) -> Vec<Vec<u8>> {
        vec![
            s.watcher.cmd("MULTI"),
            s.watcher.cmd("PING"),
            s.watcher.cmd("EXEC"),
        ]
    }
}

#[test]
fn watch_with_expiry_flushes_and_own_writes() {
    let mut w = Watching::new();
    let nil = b"*-1\r\n".to_vec();
    let ran = b"*1\r\n+PONG\r\n".to_vec();

    // A watched key that expires before EXEC voids the transaction.
    let r = w.both(
        |s| {
            let mut v = vec![s.writer.cmd("SET k v PX 50"), s.watcher.cmd("WATCH k")];
            std::thread::sleep(Duration::from_millis(120));
            v.extend(Watching::exec(s));
            v
        },
        "watched key expiring",
    );
    assert_eq!(r, nil);
    // ... even if something read it (and deleted it lazily) in between.
    let r = w.both(
        |s| {
            let mut v = vec![s.writer.cmd("SET k v PX 50"), s.watcher.cmd("WATCH k")];
            std::thread::sleep(Duration::from_millis(120));
            v.push(s.writer.cmd("GET k"));
            v.extend(Watching::exec(s));
            v
        },
        "watched key expiring, then read",
    );
    assert_eq!(r, nil);
    // A key already gone when watched is no change.
    let r = w.both(
        |s| {
            let mut v = vec![s.writer.cmd("SET k v PX 20")];
            std::thread::sleep(Duration::from_millis(80));
            v.push(s.watcher.cmd("WATCH k"));
            v.extend(Watching::exec(s));
            v
        },
        "watching an expired key",
    );
    assert_eq!(r, ran);
    // ... nor is its deletion afterwards (Redis clears the watch's expired flag), but
    // writing the key again is.
    for (then, expect) in [("GET k", &ran), ("DEL k", &ran), ("SET k new", &nil)] {
        let r = w.both(
            |s| {
                let mut v = vec![s.writer.cmd("SET k v PX 20")];
                std::thread::sleep(Duration::from_millis(60));
                v.push(s.watcher.cmd("WATCH k"));
                v.push(s.writer.cmd(then));
                v.extend(Watching::exec(s));
                v
            },
            &format!("watching an expired key, then {then}"),
        );
        assert_eq!(&r, expect, "watching an expired key, then {then}");
    }

    // FLUSHDB / FLUSHALL / SWAPDB touch watched keys that exist, not missing ones.
    for (setup, flush, expect) in [
        ("SET k v", "FLUSHDB", &nil),
        ("SET other v", "FLUSHDB", &ran),
        ("SET k v", "FLUSHALL", &nil),
        ("SET other v", "FLUSHALL", &ran),
        ("SET k v", "FLUSHALL ASYNC", &nil),
        ("SET k v", "SWAPDB 0 1", &nil),
        ("SET other v", "SWAPDB 0 1", &ran),
    ] {
        let r = w.both(
            |s| {
                let mut v = vec![
                    s.writer.cmd("FLUSHALL"),
                    s.writer.cmd(setup),
                    s.watcher.cmd("WATCH k"),
                    s.writer.cmd(flush),
                ];
                v.extend(Watching::exec(s));
                v
            },
            &format!("{setup} then {flush}"),
        );
        assert_eq!(&r, expect, "{setup} then {flush}");
    }
    // FLUSHDB of another database leaves a watched key alone.
    let r = w.both(
        |s| {
            let mut v = vec![
                s.writer.cmd("FLUSHALL"),
                s.writer.cmd("SET k v"),
                s.watcher.cmd("WATCH k"),
                s.writer.cmd("SELECT 1"),
                s.writer.cmd("SET k v"),
                s.writer.cmd("FLUSHDB"),
                s.writer.cmd("SELECT 0"),
            ];
            v.extend(Watching::exec(s));
            v
        },
        "FLUSHDB of another database",
    );
    assert_eq!(r, ran);

    // The watcher's own write counts; UNWATCH, EXEC and DISCARD forget the watches.
    let r = w.both(
        |s| {
            vec![
                s.watcher.cmd("FLUSHALL"),
                s.watcher.cmd("WATCH k"),
                s.watcher.cmd("SET k mine"),
                s.watcher.cmd("MULTI"),
                s.watcher.cmd("PING"),
                s.watcher.cmd("EXEC"),
            ]
        },
        "own write",
    );
    assert_eq!(r, nil);
    for forget in ["UNWATCH", "MULTI\nDISCARD", "MULTI\nEXEC"] {
        let r = w.both(
            |s| {
                let mut v = vec![s.watcher.cmd("WATCH k")];
                for l in forget.lines() {
                    v.push(s.watcher.cmd(l));
                }
                v.push(s.writer.cmd("SET k other"));
                v.extend(Watching::exec(s));
                v
            },
            forget,
        );
        assert_eq!(r, ran, "after {forget:?}");
    }
    // Several keys, several databases: a change to any one voids the transaction.
    let r = w.both(
        |s| {
            let mut v = vec![
                s.watcher.cmd("WATCH a b"),
                s.watcher.cmd("SELECT 3"),
                s.watcher.cmd("WATCH c"),
                s.watcher.cmd("SELECT 0"),
                s.writer.cmd("SELECT 3"),
                s.writer.cmd("SET c 1"),
                s.writer.cmd("SELECT 0"),
            ];
            v.extend(Watching::exec(s));
            v
        },
        "watch in two databases",
    );
    assert_eq!(r, nil);
    // The same key name in another database is another key.
    let r = w.both(
        |s| {
            let mut v = vec![
                s.watcher.cmd("WATCH c"),
                s.writer.cmd("SELECT 3"),
                s.writer.cmd("SET c 2"),
                s.writer.cmd("SELECT 0"),
            ];
            v.extend(Watching::exec(s));
            v
        },
        "same name, other database",
    );
    assert_eq!(r, ran);
    // RESP3: a voided EXEC is a null, not a nil array.
    let r = w.both(
        |s| {
            let mut v = vec![
                s.watcher.cmd("HELLO 3").split_at(1).0.to_vec(),
                s.watcher.cmd("WATCH k"),
                s.writer.cmd("SET k again"),
            ];
            v.extend(Watching::exec(s));
            v
        },
        "RESP3 voided EXEC",
    );
    assert_eq!(r, b"_\r\n");
    drop(w.p);
}

/// EXEC is atomic across shards: concurrent MULTI/INCR a/INCR b/EXEC transactions and
/// WATCH-based read-modify-write loops against this server, while a reader checks that
/// it never sees a and b differ; the totals come out exact. Bounded in count and time.
#[test]
fn exec_is_atomic_under_concurrency() {
    const WRITERS: usize = 4;
    const TXNS: u64 = 400;
    const CASWRITERS: usize = 3;
    const CAS_INCRS: u64 = 100;
    const PAD: usize = 20;
    let p = Pair::new();
    let addr = p.ours.addr();
    let deadline = Instant::now() + Duration::from_secs(20);
    let done = Arc::new(AtomicBool::new(false));
    let retries = Arc::new(AtomicU64::new(0));

    let reader = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut c = Raw::connect(addr);
            let mut reads = 0u64;
            while !done.load(Ordering::Relaxed) && Instant::now() < deadline {
                let r = c.cmd("MGET a b");
                let items = common::elements(&r);
                assert_eq!(items.len(), 2, "MGET reply {}", show(&r));
                assert_eq!(items[0], items[1], "a and b seen apart: {}", show(&r));
                reads += 1;
            }
            reads
        })
    };
    let mut writers = Vec::new();
    for _ in 0..WRITERS {
        writers.push(std::thread::spawn(move || {
            let mut c = Raw::connect(addr);
            for _ in 0..TXNS {
                if Instant::now() > deadline {
                    return false;
                }
                // Pipelined, so the server sees the whole transaction in one read; the
                // padding between the two INCRs widens the window a reader could hit.
                c.send("MULTI");
                c.send("INCR a");
                for _ in 0..PAD {
                    c.send("INCR pad");
                }
                c.send("INCR b");
                c.send("EXEC");
                assert_eq!(c.read_reply(), b"+OK\r\n");
                for _ in 0..PAD + 2 {
                    assert_eq!(c.read_reply(), b"+QUEUED\r\n");
                }
                let r = c.read_reply();
                let items = common::elements(&r);
                assert_eq!(items.len(), PAD + 2, "EXEC reply {}", show(&r));
                assert_eq!(
                    items[0],
                    items[PAD + 1],
                    "INCR a / INCR b apart: {}",
                    show(&r)
                );
            }
            true
        }));
    }
    for _ in 0..CASWRITERS {
        let retries = retries.clone();
        writers.push(std::thread::spawn(move || {
            let mut c = Raw::connect(addr);
            for _ in 0..CAS_INCRS {
                loop {
                    if Instant::now() > deadline {
                        return false;
                    }
                    c.cmd("WATCH cas");
                    let cur = c.cmd("GET cas");
                    let n: u64 = if cur == b"$-1\r\n" {
                        0
                    } else {
                        let s = String::from_utf8_lossy(&cur);
                        s.lines()
                            .nth(1)
                            .and_then(|l| l.parse().ok())
                            .expect("number")
                    };
                    c.cmd("MULTI");
                    c.cmd(&format!("SET cas {}", n + 1));
                    let r = c.cmd("EXEC");
                    if r != b"*-1\r\n" {
                        assert_eq!(r, b"*1\r\n+OK\r\n");
                        break;
                    }
                    retries.fetch_add(1, Ordering::Relaxed);
                }
            }
            true
        }));
    }
    // Every writer is joined (no short-circuit) before the reader is stopped.
    let results: Vec<bool> = writers
        .into_iter()
        .map(|w| w.join().expect("writer"))
        .collect();
    let finished = !results.contains(&false);
    done.store(true, Ordering::Relaxed);
    let reads = reader.join().expect("reader");
    assert!(finished, "writers did not finish within the time bound");
    assert!(reads > 0);
    let mut c = Raw::connect(addr);
    let total = (WRITERS as u64 * TXNS).to_string();
    let want = format!(
        "*2\r\n${}\r\n{}\r\n${}\r\n{}\r\n",
        total.len(),
        total,
        total.len(),
        total
    );
    assert_eq!(show(&c.cmd("MGET a b")), show(want.as_bytes()));
    let cas = (CASWRITERS as u64 * CAS_INCRS).to_string();
    assert_eq!(
        show(&c.cmd("GET cas")),
        show(format!("${}\r\n{}\r\n", cas.len(), cas).as_bytes())
    );
    eprintln!(
        "atomicity: {reads} consistent reads, {} WATCH retries",
        retries.load(Ordering::Relaxed)
    );
}
