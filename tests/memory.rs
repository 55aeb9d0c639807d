//! Memory accounting: INFO memory's figures are present (with Redis 7.0's names, in its
//! order) and follow the data; MEMORY USAGE grows with what a key holds; MEMORY's
//! syntax, errors, HELP, DOCTOR (empty instance) and COMMAND INFO match redis-server.
//!
//! `used_memory` is the whole test process's (the server runs in it), so the tests of
//! this file take turns through one lock, and compare figures with margins.

mod common;

use std::sync::Mutex;

use common::{elements, show, Pair, Raw};

static TURN: Mutex<()> = Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

/// The text of a bulk (or RESP3 verbatim) reply.
fn text(reply: &[u8]) -> String {
    let s = String::from_utf8_lossy(reply).into_owned();
    let body = s.split_once("\r\n").map(|x| x.1).unwrap_or("");
    let body = body.strip_suffix("\r\n").unwrap_or(body);
    body.strip_prefix("txt:").unwrap_or(body).to_string()
}

/// INFO fields of one section, in order.
fn info(c: &mut Raw, section: &str) -> Vec<(String, String)> {
    text(&c.cmd(&format!("INFO {section}")))
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn field(fields: &[(String, String)], name: &str) -> u64 {
    let v = &fields
        .iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("no {name} in {fields:?}"))
        .1;
    v.parse()
        .unwrap_or_else(|_| panic!("{name} is not a number: {v}"))
}

fn int(reply: &[u8]) -> i64 {
    let s = std::str::from_utf8(reply).expect("utf8");
    s.strip_prefix(':')
        .and_then(|s| s.strip_suffix("\r\n"))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an integer reply: {}", show(reply)))
}

/// Loads `n` keys `key:i` -> `value:i` in one pipeline.
fn load(c: &mut Raw, n: usize) {
    let mut buf = Vec::new();
    for i in 0..n {
        buf.extend_from_slice(&common::encode_command(&[
            b"SET",
            format!("key:{i}").as_bytes(),
            format!("value:{i}").as_bytes(),
        ]));
    }
    c.send_raw(&buf);
    for _ in 0..n {
        assert_eq!(c.read_reply(), b"+OK\r\n");
    }
}

/// The server runs inside the test process, so `used_memory` counts every allocation of
/// the process: the tests of this file run one at a time, or one test's figures would
/// include another's keys and servers.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn info_memory_has_redis_fields_in_order_and_sane_figures() {
    let _serial = serial();
    let _t = turn();
    let mut p = Pair::with(
        |c| {
            c.maxmemory = 100 << 20;
            c.maxmemory_policy = "allkeys-lru".into();
        },
        &["--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru"],
    );
    let ours = info(&mut p.a, "memory");
    let theirs = info(&mut p.b, "memory");
    let names = |f: &[(String, String)]| f.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&ours), names(&theirs));
    let used = field(&ours, "used_memory");
    assert!(used > 100_000, "{used}");
    assert!(field(&ours, "used_memory_rss") > 0);
    assert!(field(&ours, "used_memory_peak") >= used);
    assert_eq!(field(&ours, "maxmemory"), 100 << 20);
    let get = |name: &str| ours.iter().find(|x| x.0 == name).unwrap().1.clone();
    assert_eq!(get("maxmemory_human"), "100.00M");
    assert_eq!(get("maxmemory_policy"), "allkeys-lru");
    let frag: f64 = get("mem_fragmentation_ratio").parse().unwrap();
    assert!(frag > 0.0, "{frag}");
    // The breakdown adds up, from one reading.
    assert_eq!(
        field(&ours, "used_memory_overhead") + field(&ours, "used_memory_dataset"),
        used
    );
    let startup = field(&ours, "used_memory_startup");
    assert!(startup > 0 && startup <= field(&ours, "used_memory_peak"));
    assert!(get("used_memory_dataset_perc").ends_with('%'));
    assert!(get("mem_allocator").starts_with("jemalloc-5."));
}

#[test]
fn used_memory_follows_100k_keys_and_flushall() {
    let _serial = serial();
    let _t = turn();
    let s = common::ours();
    let mut c = Raw::connect(s.addr());
    let before = field(&info(&mut c, "memory"), "used_memory");
    load(&mut c, 100_000);
    let loaded = info(&mut c, "memory");
    let grown = field(&loaded, "used_memory").saturating_sub(before);
    // Each key is at least an entry (32 B for these) and a table slot.
    assert!(
        (100_000 * 40..100_000 * 200).contains(&grown),
        "100k keys took {grown} bytes"
    );
    assert!(field(&loaded, "used_memory_peak") >= before + grown);
    let overhead = field(&loaded, "used_memory_overhead");
    let startup = field(&loaded, "used_memory_startup");
    // The tables' buckets: at least 8 bytes per key.
    assert!(overhead >= startup + 800_000, "{overhead} {startup}");

    // MEMORY STATS agrees on the keys and their cost.
    c.send("HELLO 3");
    c.read_reply();
    let stats = elements(&c.cmd("MEMORY STATS"));
    let get = |name: &str| -> Vec<u8> {
        let i = stats
            .iter()
            .position(|e| e == format!("${}\r\n{}\r\n", name.len(), name).as_bytes())
            .unwrap_or_else(|| panic!("no {name}"));
        stats[i + 1].clone()
    };
    assert_eq!(int(&get("keys.count")), 100_000);
    let per_key = int(&get("keys.bytes-per-key"));
    assert!((40..300).contains(&per_key), "{per_key}");
    assert!(int(&get("dataset.bytes")) > 100_000 * 30);
    let db0 = elements(&get("db.0"));
    assert_eq!(db0.len(), 6, "{db0:?}");
    assert!(int(&db0[1]) >= 800_000);
    assert_eq!(int(&db0[3]), 0, "no TTLs: no expiry wheel");
    c.send("HELLO 2");
    c.read_reply();

    assert_eq!(c.cmd("FLUSHALL"), b"+OK\r\n");
    // Memory a worker thread freed may sit in its jemalloc thread cache, which the
    // allocator's statistics count as allocated until the cache is flushed (seen: 1.3 MB
    // more, about once in 20 runs): allow the figure a second to settle.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    let mut after = field(&info(&mut c, "memory"), "used_memory");
    while after >= before + grown / 10 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
        after = field(&info(&mut c, "memory"), "used_memory");
    }
    assert!(
        after < before + grown / 10,
        "before {before}, loaded +{grown}, after FLUSHALL {after}"
    );
}

#[test]
fn memory_usage_grows_with_the_value() {
    let _serial = serial();
    let _t = turn();
    let s = common::ours();
    let mut c = Raw::connect(s.addr());
    let usage = |c: &mut Raw, line: &str| int(&c.cmd(line));
    assert_eq!(c.cmd("MEMORY USAGE nokey"), b"$-1\r\n");
    let mut last = 0;
    for len in [1usize, 10, 40, 100, 1000, 100_000] {
        c.cmd(&format!("SET s {}", "x".repeat(len)));
        let u = usage(&mut c, "MEMORY USAGE s");
        // Strings up to 30 bytes live inside the entry: the same size class.
        let grew = if len > 30 { u > last } else { u >= last };
        assert!(u as usize > len && grew, "{len} bytes: {u} after {last}");
        // No more than a size class (25%) plus the entry over the bytes themselves.
        assert!((u as usize) < len * 5 / 4 + 96, "{len} bytes: {u}");
        last = u;
    }
    // A longer key costs more; a deadline never costs less.
    c.cmd("SET k v");
    let short = usage(&mut c, "MEMORY USAGE k");
    c.cmd(&format!("SET {} v", "k".repeat(200)));
    assert!(usage(&mut c, &format!("MEMORY USAGE {}", "k".repeat(200))) > short + 150);
    c.cmd("PEXPIRE k 100000");
    assert!(usage(&mut c, "MEMORY USAGE k") >= short);
    // An expired key is gone, not measured.
    c.cmd("SET gone v PX 1");
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert_eq!(c.cmd("MEMORY USAGE gone"), b"$-1\r\n");

    // Collections: more elements, more bytes; SAMPLES 0 measures them all.
    for (fill, key) in [
        ("RPUSH l", "l"),
        ("HSET h", "h"),
        ("SADD st", "st"),
        ("ZADD z", "z"),
    ] {
        c.cmd(&format!("{fill} 1 a 2 b"));
        let small = usage(&mut c, &format!("MEMORY USAGE {key}"));
        let mut args = String::new();
        for i in 0..2000 {
            args.push_str(&format!(" {i} member-number-{i}"));
        }
        c.cmd(&format!("{fill}{args}"));
        let big = usage(&mut c, &format!("MEMORY USAGE {key}"));
        let all = usage(&mut c, &format!("MEMORY USAGE {key} SAMPLES 0"));
        // 2000 elements of at least 5 bytes each (members or numbers).
        assert!(small < big && all > 2000 * 5, "{key}: {small} {big} {all}");
        // Sampling 5 of the uniform elements lands near the full count.
        assert!(big * 2 > all && big < all * 2, "{key}: {big} vs {all}");
    }
}

#[test]
fn memory_syntax_errors_help_and_doctor_match_redis() {
    let _serial = serial();
    let _t = turn();
    let mut p = Pair::new();
    p.script(
        r#"
        MEMORY
        MEMORY HELP
        MEMORY help x
        MEMORY USAGE
        MEMORY USAGE nokey
        MEMORY USAGE nokey SAMPLES
        MEMORY USAGE nokey SAMPLES -1
        MEMORY USAGE nokey SAMPLES abc
        MEMORY USAGE nokey SAMPLES 0
        MEMORY USAGE nokey foo
        MEMORY USAGE nokey SAMPLES 5 SAMPLES 0
        MEMORY USAGE nokey SAMPLES 5 x
        MEMORY DOCTOR
        MEMORY DOCTOR x
        MEMORY PURGE
        MEMORY PURGE x
        MEMORY STATS x
        MEMORY MALLOC-STATS x
        MEMORY foo
        SET k v
        MEMORY USAGE k SAMPLES -5
        MEMORY USAGE k SAMPLES 99999999999999999999
        "#,
    );
    let (a, b) = p.both("MEMORY MALLOC-STATS");
    for r in [a, b] {
        assert!(text(&r).starts_with("___ Begin jemalloc statistics ___"));
    }
    // RESP3: the same map keys in the same order, values of the same types.
    for c in [&mut p.a, &mut p.b] {
        c.cmd("HELLO 3");
    }
    let shape = |r: &[u8]| -> Vec<String> {
        elements(r)
            .chunks(2)
            .map(|kv| {
                let inner = if kv[1][0] == b'%' {
                    elements(&kv[1])
                        .iter()
                        .step_by(2)
                        .map(|k| show(k))
                        .collect::<Vec<_>>()
                        .join(",")
                } else {
                    String::new()
                };
                format!("{} {} {}", show(&kv[0]), kv[1][0] as char, inner)
            })
            .collect()
    };
    let (a, b) = p.both("MEMORY STATS");
    assert_eq!(a[0], b'%');
    assert_eq!(shape(&a), shape(&b));
    for line in ["MEMORY DOCTOR", "MEMORY USAGE nokey", "MEMORY PURGE"] {
        p.check(line);
    }
}

/// Name, arity, flags, key positions and ACL categories, as COMMAND INFO gives them.
#[test]
fn memory_command_info_matches_redis() {
    let _serial = serial();
    let _t = turn();
    let mut p = Pair::new();
    for name in [
        "memory",
        "memory|usage",
        "memory|stats",
        "memory|doctor",
        "memory|malloc-stats",
        "memory|purge",
        "memory|help",
    ] {
        let (a, b) = p.both(&format!("COMMAND INFO {name}"));
        let (a, b) = (elements(&a), elements(&b));
        assert_eq!(a.len(), 1, "{name}");
        let (fa, fb) = (elements(&a[0]), elements(&b[0]));
        let head = |f: &[Vec<u8>]| f[..7].iter().map(|x| show(x)).collect::<Vec<_>>();
        assert_eq!(head(&fa), head(&fb), "COMMAND INFO {name}");
    }
    let (a, b) = p.both("COMMAND INFO memory");
    let subs = |r: &[u8]| elements(&elements(&elements(r)[0])[9]).len();
    assert_eq!(subs(&a), subs(&b));
    p.check("COMMAND GETKEYS MEMORY USAGE somekey SAMPLES 3");
}
