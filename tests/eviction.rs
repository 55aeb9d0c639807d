//! Eviction under each maxmemory policy, on small deterministic cases: what is evicted and
//! what is kept, OOM when nothing may be evicted, `evicted_keys`, OBJECT FREQ/IDLETIME,
//! and the CONFIG parameters of eviction against redis-server.
//!
//! The policy cases run the server binary as a process of its own, so its memory figure
//! is its own (an in-process server would count every other test's allocations), with one
//! shard and `maxmemory-samples` above the key count: each sampling round then sees every
//! key, so the approximated policies become exact and the outcome is known. The budget is
//! set below the memory in use, which evicts at the next command.

mod common;

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{show, Pair, Raw};

/// Our server binary as a child process, killed on drop.
struct Spawned {
    child: Child,
    port: u16,
}

impl Spawned {
    fn start(policy: &str) -> Spawned {
        for _ in 0..5 {
            let port = common::free_port();
            let child = Command::new(env!("CARGO_BIN_EXE_rust-cache-server"))
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--threads", "1", "--shards", "1", "--loglevel", "warning"])
                .args(["--maxmemory-policy", policy])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start the server binary");
            let mut s = Spawned { child, port };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    let mut c = s.conn();
                    // Exact sampling (module doc), and no time limit on one eviction call.
                    assert_eq!(c.cmd("CONFIG SET maxmemory-samples 1000"), b"+OK\r\n");
                    assert_eq!(
                        c.cmd("CONFIG SET maxmemory-eviction-tenacity 100"),
                        b"+OK\r\n"
                    );
                    return s;
                }
                if let Ok(Some(_)) = s.child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = s.child.kill();
        }
        panic!("the server binary did not start");
    }

    fn conn(&self) -> Raw {
        Raw::connect(std::net::SocketAddr::from(([127, 0, 0, 1], self.port)))
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An integer field of an INFO reply.
fn info_field(c: &mut Raw, section: &str, name: &str) -> u64 {
    let text = String::from_utf8_lossy(&c.cmd(&format!("INFO {}", section))).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{}:", name)))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {} in INFO {}", name, section))
}

/// Writes `n` keys `{prefix}{i}` of `size` bytes (with `EX ttl` when given), pipelined.
fn write_keys(c: &mut Raw, prefix: &str, n: usize, size: usize, ttl: Option<u64>) {
    let value = vec![b'v'; size];
    for i in 0..n {
        let key = format!("{}{}", prefix, i);
        match ttl {
            Some(t) => {
                let t = (t + i as u64).to_string();
                c.send_args(&[b"SET", key.as_bytes(), &value, b"EX", t.as_bytes()])
            }
            None => c.send_args(&[b"SET", key.as_bytes(), &value]),
        }
    }
    for _ in 0..n {
        assert_eq!(c.read_reply(), b"+OK\r\n");
    }
}

/// The keys of `prefix{0..n}` that still exist.
fn surviving(c: &mut Raw, prefix: &str, n: usize) -> HashSet<usize> {
    (0..n)
        .filter(|i| c.cmd(&format!("EXISTS {}{}", prefix, i)) == b":1\r\n")
        .collect()
}

/// Sets maxmemory to what is in use now plus `delta` bytes.
fn set_budget(c: &mut Raw, delta: i64) {
    let used = info_field(c, "memory", "used_memory") as i64;
    assert_eq!(
        c.cmd(&format!("CONFIG SET maxmemory {}", (used + delta).max(1))),
        b"+OK\r\n"
    );
}

/// Lowers maxmemory `bytes` below what is in use now, so the next command evicts about
/// that much, then lifts the budget so nothing else is evicted while the test looks;
/// returns evicted_keys.
fn squeeze(c: &mut Raw, bytes: u64) -> u64 {
    set_budget(c, -(bytes as i64));
    // Any command evicts before it runs.
    assert_eq!(c.cmd("PING"), b"+PONG\r\n");
    assert_eq!(c.cmd("CONFIG SET maxmemory 0"), b"+OK\r\n");
    info_field(c, "stats", "evicted_keys")
}

#[test]
fn allkeys_lru_evicts_the_least_recently_used_keys() {
    let s = Spawned::start("allkeys-lru");
    let mut c = s.conn();
    write_keys(&mut c, "k:", 100, 16000, None);
    // Keys read later have a later access time: read 50..100 after a pause, then a few
    // of the first half, which must survive as well.
    std::thread::sleep(Duration::from_millis(50));
    for i in (50..100).chain([3, 7, 11]) {
        assert_ne!(c.cmd(&format!("GET k:{}", i)), b"$-1\r\n");
    }
    let evicted = squeeze(&mut c, 480_000);
    let alive = surviving(&mut c, "k:", 100);
    assert!(evicted >= 10, "evicted only {} keys", evicted);
    assert_eq!(alive.len() as u64, 100 - evicted);
    for i in (50..100).chain([3, 7, 11]) {
        assert!(alive.contains(&i), "recently read k:{} was evicted", i);
    }
}

#[test]
fn allkeys_lfu_keeps_frequently_read_keys() {
    let s = Spawned::start("allkeys-lfu");
    let mut c = s.conn();
    // Every access increments the counter (factor 0) and nothing decays: exact counts.
    c.cmd("CONFIG SET lfu-log-factor 0");
    c.cmd("CONFIG SET lfu-decay-time 0");
    write_keys(&mut c, "k:", 100, 16000, None);
    // k:0..20 read 5 times; k:20..40 twice; the rest never.
    for round in 0..5 {
        for i in 0..40 {
            if i < 20 || round < 2 {
                c.cmd(&format!("GET k:{}", i));
            }
        }
    }
    assert_eq!(c.cmd("OBJECT FREQ k:0"), b":10\r\n");
    assert_eq!(c.cmd("OBJECT FREQ k:20"), b":7\r\n");
    assert_eq!(c.cmd("OBJECT FREQ k:99"), b":5\r\n");
    // About 35 keys (of the 60 never read).
    let evicted = squeeze(&mut c, 600_000);
    let alive = surviving(&mut c, "k:", 100);
    assert!(
        (15..=55).contains(&evicted),
        "evicted {} keys, the squeeze was for about 35",
        evicted
    );
    for i in 0..40 {
        assert!(alive.contains(&i), "frequently read k:{} was evicted", i);
    }
    // About 35 more: the rest of those never read, then some read twice, never one read
    // five times.
    let evicted = squeeze(&mut c, 600_000);
    let alive = surviving(&mut c, "k:", 100);
    assert!(alive.len() as u64 == 100 - evicted);
    for i in 0..20 {
        assert!(alive.contains(&i), "most read k:{} was evicted", i);
    }
    assert!(
        (20..40).any(|i| !alive.contains(&i)),
        "no key read twice was evicted: {:?}",
        alive
    );
}

#[test]
fn volatile_ttl_evicts_the_nearest_deadline_first_and_keys_without_ttl_never() {
    let s = Spawned::start("volatile-ttl");
    let mut c = s.conn();
    write_keys(&mut c, "plain:", 50, 16000, None);
    // t:i expires in 1000 + i seconds.
    write_keys(&mut c, "t:", 50, 16000, Some(1000));
    let evicted = squeeze(&mut c, 400_000);
    assert!(evicted >= 10, "evicted only {} keys", evicted);
    let alive = surviving(&mut c, "t:", 50);
    assert_eq!(alive.len() as u64, 50 - evicted);
    // Exactly the nearest deadlines went.
    let expect: HashSet<usize> = (evicted as usize..50).collect();
    assert_eq!(alive, expect);
    assert_eq!(surviving(&mut c, "plain:", 50).len(), 50);
}

#[test]
fn volatile_policies_spare_keys_without_ttl_and_refuse_writes_when_none_is_left() {
    for policy in [
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
    ] {
        let s = Spawned::start(policy);
        let mut c = s.conn();
        write_keys(&mut c, "plain:", 40, 16000, None);
        write_keys(&mut c, "t:", 20, 16000, Some(1000));
        assert_eq!(c.cmd("CONFIG SET maxmemory 1"), b"+OK\r\n");
        let oom = b"-OOM command not allowed when used memory > 'maxmemory'.\r\n";
        assert_eq!(c.cmd("SET new v"), oom, "{}", policy);
        assert_eq!(
            info_field(&mut c, "stats", "evicted_keys"),
            20,
            "{}",
            policy
        );
        assert!(surviving(&mut c, "t:", 20).is_empty(), "{}", policy);
        assert_eq!(surviving(&mut c, "plain:", 40).len(), 40, "{}", policy);
        // Reads and deletes still run; so does a write once memory allows it.
        assert_eq!(c.cmd("STRLEN plain:0"), b":16000\r\n");
        assert_eq!(c.cmd("DEL plain:0"), b":1\r\n");
        assert_eq!(c.cmd("CONFIG SET maxmemory 0"), b"+OK\r\n");
        assert_eq!(c.cmd("SET new v"), b"+OK\r\n");
    }
}

#[test]
fn allkeys_random_evicts_until_under_the_budget() {
    let s = Spawned::start("allkeys-random");
    let mut c = s.conn();
    write_keys(&mut c, "k:", 100, 16000, None);
    set_budget(&mut c, -600_000);
    assert_eq!(c.cmd("PING"), b"+PONG\r\n");
    // Evicted until under the budget (the INFO reply's own bytes aside), no further.
    let max = info_field(&mut c, "memory", "maxmemory");
    let used = info_field(&mut c, "memory", "used_memory");
    assert!(used <= max + 8192, "used {} max {}", used, max);
    let evicted = info_field(&mut c, "stats", "evicted_keys");
    assert!(
        (30..=45).contains(&evicted),
        "evicted {} keys for 600 kB",
        evicted
    );
    c.cmd("CONFIG SET maxmemory 0");
    assert_eq!(surviving(&mut c, "k:", 100).len() as u64, 100 - evicted);
    // With maxmemory 1 everything evictable goes and writes are refused.
    c.cmd("CONFIG SET maxmemory 1");
    let oom = b"-OOM command not allowed when used memory > 'maxmemory'.\r\n";
    assert_eq!(c.cmd("SET k v"), oom);
    assert_eq!(c.cmd("DBSIZE"), b":0\r\n");
    assert_eq!(info_field(&mut c, "stats", "evicted_keys"), 100);
}

#[test]
fn noeviction_refuses_writes_and_evicts_nothing() {
    let s = Spawned::start("noeviction");
    let mut c = s.conn();
    write_keys(&mut c, "k:", 20, 16000, None);
    c.cmd("CONFIG SET maxmemory 1");
    let oom = b"-OOM command not allowed when used memory > 'maxmemory'.\r\n";
    assert_eq!(c.cmd("SET k v"), oom);
    assert_eq!(c.cmd("DBSIZE"), b":20\r\n");
    assert_eq!(info_field(&mut c, "stats", "evicted_keys"), 0);
}

#[test]
fn allkeys_tinylfu_keeps_frequent_keys_and_turns_away_rare_new_ones() {
    let s = Spawned::start("allkeys-tinylfu");
    let mut c = s.conn();
    write_keys(&mut c, "k:", 100, 16000, None);
    // Every key read once, k:0..30 six times more: their sketch counts grow.
    for i in 0..100 {
        c.cmd(&format!("GET k:{}", i));
    }
    for _ in 0..6 {
        for i in 0..30 {
            c.cmd(&format!("GET k:{}", i));
        }
    }
    let freq = |c: &mut Raw, key: &str| -> i64 {
        let r = c.cmd(&format!("OBJECT FREQ {}", key));
        show(&r)
            .trim_start_matches(':')
            .trim_end_matches("\\r\\n")
            .parse()
            .unwrap_or_else(|_| panic!("OBJECT FREQ {}: {}", key, show(&r)))
    };
    let (hot, cold) = (freq(&mut c, "k:0"), freq(&mut c, "k:99"));
    // Counts are estimates: a key's counters may all be shared with other keys', and the
    // sketch started over (wider) when the shard passed 64 keys, forgetting the SETs.
    assert!(hot >= 7 && cold <= 3, "hot {} cold {}", hot, cold);
    let evicted = squeeze(&mut c, 480_000);
    assert!(evicted >= 10);
    let alive = surviving(&mut c, "k:", 100);
    for i in 0..30 {
        assert!(alive.contains(&i), "frequently read k:{} was evicted", i);
    }
    // A budget half a new key above the memory in use: a new key that was never asked
    // for goes over it, competes with the coldest resident key and loses, while the
    // resident keys stay.
    let before = surviving(&mut c, "k:", 100);
    let value = vec![b'n'; 32000];
    // The connection's read buffer (counted in used_memory, as Redis counts query
    // buffers) grows for a request this large and keeps its size: grow it now.
    c.cmd_args(&[b"SET", b"warm", &[b'w'; 64000]]);
    c.cmd("DEL warm");
    set_budget(&mut c, 16000);
    c.cmd_args(&[b"SET", b"newcomer", &value]);
    c.cmd("PING");
    assert_eq!(c.cmd("EXISTS newcomer"), b":0\r\n");
    assert_eq!(surviving(&mut c, "k:", 100), before);
    // One asked for many times while absent (each miss counts) is admitted instead.
    for _ in 0..12 {
        assert_eq!(c.cmd("GET wanted"), b"$-1\r\n");
    }
    // Measured again: memory freed since (the refused newcomer's buffers) would leave
    // room for this key without evicting anything.
    set_budget(&mut c, 16000);
    c.cmd_args(&[b"SET", b"wanted", &value]);
    c.cmd("PING");
    assert_eq!(c.cmd("EXISTS wanted"), b":1\r\n");
    assert!(surviving(&mut c, "k:", 100).len() < before.len());
    // A policy switch frees the sketches: OBJECT FREQ is then Redis's error again.
    c.cmd("CONFIG SET maxmemory-policy allkeys-lru");
    assert!(c
        .cmd("OBJECT FREQ k:0")
        .starts_with(b"-ERR An LFU maxmemory policy"));
}

#[test]
fn eviction_config_matches_redis() {
    let mut p = Pair::new();
    p.check_unordered("CONFIG GET maxmemory*");
    p.check_unordered("CONFIG GET lfu-*");
    p.script(
        "
        CONFIG SET lfu-log-factor -1
        CONFIG SET lfu-log-factor abc
        CONFIG SET lfu-log-factor 2147483648
        CONFIG SET lfu-log-factor 1.5
        CONFIG SET lfu-log-factor 0
        CONFIG SET lfu-decay-time -1
        CONFIG SET lfu-decay-time 1k
        CONFIG SET lfu-decay-time 2147483647
        CONFIG SET maxmemory-samples 0
        CONFIG SET maxmemory-samples x
        CONFIG SET maxmemory-samples 64
        CONFIG SET maxmemory-eviction-tenacity 101
        CONFIG SET maxmemory-eviction-tenacity -1
        CONFIG SET maxmemory-eviction-tenacity 50
        CONFIG SET maxmemory-policy foo
        CONFIG SET maxmemory-policy ALLKEYS-LRU
        CONFIG GET maxmemory-policy
        CONFIG SET maxmemory-policy volatile-ttl
        CONFIG SET maxmemory -1
        CONFIG SET maxmemory 1.5mb
        CONFIG SET maxmemory 100mb
        CONFIG SET maxmemory-clients abc
        CONFIG SET maxmemory-clients 101%
        CONFIG SET maxmemory-clients 0
        CONFIG SET maxmemory 0
        ",
    );
    p.check_unordered("CONFIG GET maxmemory*");
    p.check_unordered("CONFIG GET lfu-*");
    // This server's own policy is refused by Redis; it is accepted here only.
    assert_eq!(
        p.a.cmd("CONFIG SET maxmemory-policy allkeys-tinylfu"),
        b"+OK\r\n"
    );
    assert_eq!(
        p.a.cmd("CONFIG GET maxmemory-policy"),
        b"*2\r\n$16\r\nmaxmemory-policy\r\n$15\r\nallkeys-tinylfu\r\n"
    );
}

#[test]
fn object_freq_and_idletime_match_redis_under_each_policy() {
    let mut p = Pair::new();
    p.script(
        "
        SET k v
        OBJECT FREQ k
        OBJECT FREQ missing
        CONFIG SET maxmemory-policy allkeys-random
        OBJECT FREQ k
        CONFIG SET maxmemory-policy volatile-ttl
        OBJECT FREQ k
        CONFIG SET maxmemory-policy allkeys-lfu
        OBJECT IDLETIME k
        OBJECT IDLETIME missing
        CONFIG SET lfu-log-factor 0
        SET n v
        OBJECT FREQ n
        GET n
        GET n
        GET n
        OBJECT FREQ n
        SET n w
        OBJECT FREQ n
        EXISTS n
        OBJECT FREQ n
        CONFIG SET maxmemory-policy volatile-lfu
        OBJECT FREQ n
        OBJECT IDLETIME n
        CONFIG SET maxmemory-policy volatile-lru
        OBJECT FREQ n
        ",
    );
}

#[test]
fn oom_with_nothing_left_to_evict_matches_redis() {
    let mut p = Pair::new();
    p.script(
        "
        SET a 1
        SET b 2 EX 1000
        CONFIG SET maxmemory-policy volatile-lru
        CONFIG SET maxmemory 1
        GET a
        GET b
        SET c 3
        INCR a
        DBSIZE
        DEL a
        CONFIG SET maxmemory-policy allkeys-lru
        SET a 1
        DBSIZE
        CONFIG SET maxmemory 0
        SET a 1
        GET a
        ",
    );
}
