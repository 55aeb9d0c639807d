//! Blocking list pops against this server: many clients parked on one key and served
//! first-blocked-first with every element delivered exactly once, timeouts (fractional
//! ones included) honoured within 100 ms, disconnects while blocked, BLMOVE chains,
//! BLMPOP, BRPOPLPUSH, and errors that must come back at once. Every wait is bounded.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{elements, show, wait_blocked, Raw};

/// Held by the timing test and the stress test, so the 100 ms bound is not measured while
/// this file's own stress test loads the machine.
static EXCLUSIVE: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn bulk(v: &str) -> String {
    format!("${}\\r\\n{}\\r\\n", v.len(), v)
}

fn pair(k: &str, v: &str) -> String {
    format!("*2\\r\\n{}{}", bulk(k), bulk(v))
}

#[test]
fn many_waiters_on_one_key_are_served_in_order_once_each() {
    let server = common::ours();
    let addr = server.addr();
    let mut waiters: Vec<Raw> = Vec::new();
    for i in 0..20 {
        let mut c = Raw::connect(addr);
        c.send("BLPOP q 0");
        // Registered one at a time, so the blocking order is known.
        wait_blocked(addr, i + 1);
        waiters.push(c);
    }
    let mut pusher = Raw::connect(addr);
    // Some pushes carry several elements, all served from one write.
    assert_eq!(show(&pusher.cmd("RPUSH q e0 e1 e2 e3 e4")), ":5\\r\\n");
    for i in 5..20 {
        pusher.cmd(&format!("RPUSH q e{i}"));
    }
    for (i, c) in waiters.iter_mut().enumerate() {
        assert_eq!(show(&c.read_reply()), pair("q", &format!("e{i}")));
    }
    wait_blocked(addr, 0);
    assert_eq!(show(&pusher.cmd("EXISTS q")), ":0\\r\\n");
    // The waiters' connections still work normally afterwards.
    assert_eq!(show(&waiters[3].cmd("PING")), "+PONG\\r\\n");
}

#[test]
fn concurrent_producers_and_consumers_lose_and_duplicate_nothing() {
    let _guard = EXCLUSIVE.lock().unwrap_or_else(|e| e.into_inner());
    let server = common::ours();
    let addr = server.addr();
    const PRODUCERS: usize = 4;
    const PER_PRODUCER: usize = 150;
    const CONSUMERS: usize = 8;
    let total = PRODUCERS * PER_PRODUCER;
    let popped = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut handles = Vec::new();
    for c in 0..CONSUMERS {
        let popped = popped.clone();
        handles.push(std::thread::spawn(move || {
            let mut con = Raw::connect(addr);
            let deadline = Instant::now() + Duration::from_secs(30);
            // Alternate the blocking pops, all on the same two keys.
            let cmds = [
                "BLPOP w1 w2 1",
                "BRPOP w2 w1 1",
                "BLMPOP 1 2 w1 w2 LEFT COUNT 2",
            ];
            let mut k = c;
            loop {
                if popped.lock().unwrap().len() >= total || Instant::now() > deadline {
                    return;
                }
                let reply = con.cmd(cmds[k % cmds.len()]);
                k += 1;
                if reply.starts_with(b"*-1") {
                    continue;
                }
                let parts = elements(&reply);
                assert_eq!(parts.len(), 2, "{}", show(&reply));
                let mut got = Vec::new();
                if parts[1].starts_with(b"*") {
                    for e in elements(&parts[1]) {
                        got.push(e);
                    }
                } else {
                    got.push(parts[1].clone());
                }
                let mut p = popped.lock().unwrap();
                for e in got {
                    p.push(show(&e));
                }
            }
        }));
    }
    let mut producers = Vec::new();
    for p in 0..PRODUCERS {
        producers.push(std::thread::spawn(move || {
            let mut con = Raw::connect(addr);
            for i in 0..PER_PRODUCER {
                let key = if i % 3 == 0 { "w1" } else { "w2" };
                let cmd = if i % 2 == 0 { "LPUSH" } else { "RPUSH" };
                let reply = con.cmd(&format!("{cmd} {key} p{p}-{i}"));
                assert!(reply.starts_with(b":"), "{}", show(&reply));
            }
        }));
    }
    for h in producers {
        h.join().unwrap();
    }
    for h in handles {
        h.join().unwrap();
    }
    let popped = popped.lock().unwrap();
    let unique: BTreeSet<&String> = popped.iter().collect();
    assert_eq!(
        popped.len(),
        total,
        "elements popped (duplicates count twice)"
    );
    assert_eq!(unique.len(), total, "distinct elements popped");
    let mut c = Raw::connect(addr);
    assert_eq!(show(&c.cmd("EXISTS w1 w2")), ":0\\r\\n");
}

#[test]
fn timeouts_are_honoured_within_100ms() {
    let _guard = EXCLUSIVE.lock().unwrap_or_else(|e| e.into_inner());
    let server = common::ours();
    let addr = server.addr();
    let cases: [(&str, &str, u64); 6] = [
        ("BLPOP t1 0.2", "*-1\\r\\n", 200),
        ("BRPOP t1 t2 0.15", "*-1\\r\\n", 150),
        ("BLMOVE t1 t2 LEFT LEFT 0.1", "$-1\\r\\n", 100),
        ("BRPOPLPUSH t1 t2 0.25", "$-1\\r\\n", 250),
        ("BLMPOP 0.3 2 t1 t2 RIGHT COUNT 3", "*-1\\r\\n", 300),
        ("BLPOP t1 0.001", "*-1\\r\\n", 1),
    ];
    // All at once, on separate connections, so the waits overlap; each reply is read on
    // its own thread so one wait is never measured behind another.
    let running: Vec<_> = cases
        .into_iter()
        .map(|(cmd, want, ms)| {
            std::thread::spawn(move || {
                let mut c = Raw::connect(addr);
                let start = Instant::now();
                c.send(cmd);
                let reply = c.read_reply();
                (start.elapsed(), reply, cmd, want, ms)
            })
        })
        .collect();
    for h in running {
        let (took, reply, cmd, want, ms) = h.join().unwrap();
        assert_eq!(show(&reply), want, "{cmd}");
        assert!(
            took >= Duration::from_millis(ms),
            "{cmd} returned after {took:?}"
        );
        assert!(
            took < Duration::from_millis(ms + 100),
            "{cmd} returned after {took:?}"
        );
    }
    wait_blocked(addr, 0);
    // RESP3 clients get the `_` null on timeout.
    let mut c = Raw::connect(addr);
    assert!(c.cmd("HELLO 3").starts_with(b"%"));
    assert_eq!(show(&c.cmd("BLPOP t1 0.05")), "_\\r\\n");
    assert_eq!(show(&c.cmd("BLMOVE t1 t2 LEFT LEFT 0.05")), "_\\r\\n");
    // Nothing was created by the timed-out waits.
    assert_eq!(show(&c.cmd("EXISTS t1 t2")), ":0\\r\\n");
}

#[test]
fn a_waiter_that_disconnects_is_removed_and_takes_nothing() {
    let server = common::ours();
    let addr = server.addr();
    {
        let mut gone = Raw::connect(addr);
        gone.send("BLPOP d 0");
        wait_blocked(addr, 1);
    }
    // The closed connection is noticed and its wait cancelled.
    wait_blocked(addr, 0);
    let mut pusher = Raw::connect(addr);
    assert_eq!(show(&pusher.cmd("RPUSH d v1")), ":1\\r\\n");
    assert_eq!(
        show(&pusher.cmd("LRANGE d 0 -1")),
        format!("*1\\r\\n{}", bulk("v1"))
    );

    // A waiter that leaves between two live ones: the element goes to the next in line.
    let mut first = Raw::connect(addr);
    first.send("BLPOP e 0");
    wait_blocked(addr, 1);
    {
        let mut gone = Raw::connect(addr);
        gone.send("BLPOP e 0");
        wait_blocked(addr, 2);
    }
    wait_blocked(addr, 1);
    let mut last = Raw::connect(addr);
    last.send("BRPOP e 0");
    wait_blocked(addr, 2);
    pusher.cmd("RPUSH e a b");
    assert_eq!(show(&first.read_reply()), pair("e", "a"));
    assert_eq!(show(&last.read_reply()), pair("e", "b"));
    assert_eq!(show(&pusher.cmd("EXISTS e")), ":0\\r\\n");
}

#[test]
fn blmove_chain_passes_the_element_along() {
    let server = common::ours();
    let addr = server.addr();
    let mut one = Raw::connect(addr);
    one.send("BLMOVE a b LEFT LEFT 0");
    wait_blocked(addr, 1);
    let mut two = Raw::connect(addr);
    two.send("BRPOPLPUSH b c 0");
    wait_blocked(addr, 2);
    let mut three = Raw::connect(addr);
    three.send("BLPOP c 0");
    wait_blocked(addr, 3);
    let mut pusher = Raw::connect(addr);
    assert_eq!(show(&pusher.cmd("RPUSH a x")), ":1\\r\\n");
    assert_eq!(show(&one.read_reply()), bulk("x"));
    assert_eq!(show(&two.read_reply()), bulk("x"));
    assert_eq!(show(&three.read_reply()), pair("c", "x"));
    wait_blocked(addr, 0);
    assert_eq!(show(&pusher.cmd("EXISTS a b c")), ":0\\r\\n");

    // A push made by LMOVE (not a plain push) also wakes a waiter.
    let mut w = Raw::connect(addr);
    w.send("BLPOP t 0");
    wait_blocked(addr, 1);
    pusher.cmd("RPUSH s v");
    assert_eq!(show(&pusher.cmd("LMOVE s t LEFT LEFT")), bulk("v"));
    assert_eq!(show(&w.read_reply()), pair("t", "v"));
    assert_eq!(show(&pusher.cmd("EXISTS s t")), ":0\\r\\n");
}

#[test]
fn wrong_type_errors_come_back_at_once() {
    let server = common::ours();
    let addr = server.addr();
    let mut c = Raw::connect(addr);
    c.cmd("SET s x");
    c.cmd("RPUSH l a");
    let wrongtype = "-WRONGTYPE Operation against a key holding the wrong kind of value\\r\\n";
    for cmd in [
        "BLPOP s 0",
        "BRPOP missing s 0",
        "BLMOVE s l LEFT LEFT 0",
        "BLMOVE l s LEFT LEFT 0",
        "BRPOPLPUSH s l 0",
        "BLMPOP 0 2 missing s LEFT",
    ] {
        let start = Instant::now();
        assert_eq!(show(&c.cmd(cmd)), wrongtype, "{cmd}");
        assert!(start.elapsed() < Duration::from_secs(1), "{cmd}");
    }
    // The wrong-type destination lost nothing.
    assert_eq!(
        show(&c.cmd("LRANGE l 0 -1")),
        format!("*1\\r\\n{}", bulk("a"))
    );

    // A waiter whose destination turned into another type while it waited gets the
    // error when the source fills, and the element stays in the source.
    let mut w = Raw::connect(addr);
    w.send("BLMOVE src dst LEFT LEFT 0");
    wait_blocked(addr, 1);
    c.cmd("SET dst notalist");
    c.cmd("RPUSH src kept");
    assert_eq!(show(&w.read_reply()), wrongtype);
    assert_eq!(
        show(&c.cmd("LRANGE src 0 -1")),
        format!("*1\\r\\n{}", bulk("kept"))
    );
    wait_blocked(addr, 0);
}

#[test]
fn blmpop_and_brpoplpush_when_served() {
    let server = common::ours();
    let addr = server.addr();
    let mut m = Raw::connect(addr);
    m.send("BLMPOP 0 2 k1 k2 RIGHT COUNT 3");
    wait_blocked(addr, 1);
    let mut r = Raw::connect(addr);
    r.send("BRPOPLPUSH k3 k4 0");
    wait_blocked(addr, 2);
    let mut multi = Raw::connect(addr);
    multi.send("BRPOP k5 k6 0");
    wait_blocked(addr, 3);
    let mut c = Raw::connect(addr);
    c.cmd("RPUSH k2 a b c d e");
    assert_eq!(
        show(&m.read_reply()),
        format!(
            "*2\\r\\n{}*3\\r\\n{}{}{}",
            bulk("k2"),
            bulk("e"),
            bulk("d"),
            bulk("c")
        )
    );
    assert_eq!(
        show(&c.cmd("LRANGE k2 0 -1")),
        format!("*2\\r\\n{}{}", bulk("a"), bulk("b"))
    );
    c.cmd("LPUSH k3 x y");
    assert_eq!(show(&r.read_reply()), bulk("x"));
    assert_eq!(
        show(&c.cmd("LRANGE k3 0 -1")),
        format!("*1\\r\\n{}", bulk("y"))
    );
    assert_eq!(
        show(&c.cmd("LRANGE k4 0 -1")),
        format!("*1\\r\\n{}", bulk("x"))
    );
    // Waiting on two keys: the one that fills serves it.
    c.cmd("RPUSH k6 z");
    assert_eq!(show(&multi.read_reply()), pair("k6", "z"));
    wait_blocked(addr, 0);
    // A RESP3 waiter gets its served reply in RESP3 (BLMPOP's nested arrays).
    let mut r3 = Raw::connect(addr);
    assert!(r3.cmd("HELLO 3").starts_with(b"%"));
    r3.send("BLMPOP 0 1 k7 LEFT");
    wait_blocked(addr, 1);
    c.cmd("RPUSH k7 only");
    assert_eq!(
        show(&r3.read_reply()),
        format!("*2\\r\\n{}*1\\r\\n{}", bulk("k7"), bulk("only"))
    );
}
