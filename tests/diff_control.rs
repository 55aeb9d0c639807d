//! CLIENT REPLY, CLIENT NO-EVICT, CLIENT PAUSE/UNPAUSE and MONITOR against redis-server:
//! the same commands to both servers, replies (and monitor lines, timestamps and ports
//! aside) compared byte for byte.

mod common;
use common::{Pair, Raw};
use std::time::{Duration, Instant};

#[test]
fn error_paths_and_plain_replies_match() {
    let mut p = Pair::new();
    p.script(
        "
        CLIENT REPLY
        CLIENT REPLY FOO
        CLIENT REPLY ON
        CLIENT NO-EVICT
        CLIENT NO-EVICT maybe
        CLIENT NO-EVICT on
        CLIENT NO-EVICT OFF
        CLIENT PAUSE
        CLIENT PAUSE abc
        CLIENT PAUSE -1
        CLIENT PAUSE 10 FOO
        CLIENT PAUSE 10 WRITE x
        CLIENT PAUSE 0 all
        CLIENT UNPAUSE
        CLIENT UNPAUSE x
        COMMAND INFO client|reply client|no-evict client|pause client|unpause monitor
        ",
    );
}

/// Sends the commands in one write, then reads what comes back until a final PING's PONG.
fn replies_of(c: &mut Raw, lines: &[&str]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for l in lines.iter().chain(std::iter::once(&"PING")) {
        let args = common::split(l);
        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        bytes.extend(common::encode_command(&refs));
    }
    c.send_raw(&bytes);
    let mut got = Vec::new();
    loop {
        let r = c.read_reply();
        if r == b"+PONG\r\n" {
            return got;
        }
        got.extend(r);
    }
}

#[test]
fn reply_off_and_skip_drop_exactly_the_replies_redis_drops() {
    let mut p = Pair::new();
    let script = [
        "CLIENT REPLY SKIP",
        "SET a 1",
        "GET a",
        "CLIENT REPLY OFF",
        "INCR a",
        "GET a",
        "CLIENT REPLY SKIP",
        "GET a",
        "CLIENT REPLY ON",
        "GET a",
        "CLIENT REPLY SKIP",
        "CLIENT REPLY SKIP",
        "GET a",
        "GET a",
    ];
    let ours = replies_of(&mut p.a, &script);
    let redis = replies_of(&mut p.b, &script);
    assert_eq!(common::show(&ours), common::show(&redis));
}

/// Strips the timestamp and the client port of a MONITOR line.
fn normalize(line: &[u8]) -> String {
    let s = String::from_utf8_lossy(line).to_string();
    let after_ts = s.split_once(' ').map(|x| x.1).unwrap_or("");
    let (head, rest) = after_ts.split_once(']').unwrap_or(("", ""));
    let head = head.rsplit_once(':').map(|x| x.0).unwrap_or(head);
    format!("{}]{}", head, rest)
}

#[test]
fn monitor_lines_match() {
    let p = Pair::new();
    let mut lines = Vec::new();
    for addr in [p.ours.addr(), p.redis.addr()] {
        let mut mon = Raw::connect(addr);
        assert_eq!(mon.cmd("MONITOR"), b"+OK\r\n");
        let mut c = Raw::connect(addr);
        for l in [
            "SET \"a b\" \"x\\\"y\\n\"",
            "SELECT 3",
            "GET a",
            "CONFIG GET maxmemory",
            "MULTI",
            "INCR n",
            "EXEC",
            "DEBUG SLEEP 0",
            "PING",
        ] {
            c.cmd(l);
        }
        let mut got = Vec::new();
        for _ in 0..7 {
            got.push(normalize(&mon.read_reply()));
        }
        lines.push(got);
    }
    assert_eq!(lines[0], lines[1]);
    assert_eq!(
        lines[0][0],
        "[0 127.0.0.1] \"SET\" \"a b\" \"x\\\"y\\n\"\r\n"
    );
}

/// Whether a command sent now gets its reply within `wait`.
fn answers_within(c: &mut Raw, line: &str, wait: Duration) -> bool {
    c.send(line);
    c.reply_within(wait)
}

#[test]
fn pause_write_holds_writes_only_until_unpause() {
    let p = Pair::new();
    let mut seen = Vec::new();
    for addr in [p.ours.addr(), p.redis.addr()] {
        let mut admin = Raw::connect(addr);
        let mut reader = Raw::connect(addr);
        let mut writer = Raw::connect(addr);
        assert_eq!(admin.cmd("CLIENT PAUSE 5000 WRITE"), b"+OK\r\n");
        let get_ran = answers_within(&mut reader, "GET k", Duration::from_millis(500));
        if get_ran {
            reader.read_reply();
        }
        let set_ran = answers_within(&mut writer, "SET k v", Duration::from_millis(300));
        let t = Instant::now();
        assert_eq!(admin.cmd("CLIENT UNPAUSE"), b"+OK\r\n");
        let set_reply = writer.read_reply();
        let released_in = t.elapsed();
        assert!(released_in < Duration::from_secs(2), "{:?}", released_in);
        seen.push((get_ran, set_ran, set_reply));
    }
    assert_eq!(seen[0], seen[1]);
    assert!(seen[0].0, "GET must run during a WRITE pause");
    assert!(!seen[0].1, "SET must wait for the end of a WRITE pause");
}

#[test]
fn pause_all_ends_by_itself() {
    let ours = common::ours();
    let mut admin = Raw::connect(ours.addr());
    let mut c = Raw::connect(ours.addr());
    assert_eq!(admin.cmd("CLIENT PAUSE 300 ALL"), b"+OK\r\n");
    let t = Instant::now();
    assert_eq!(c.cmd("GET k"), b"$-1\r\n");
    let waited = t.elapsed();
    assert!(waited >= Duration::from_millis(200), "{:?}", waited);
    assert!(waited < Duration::from_secs(3), "{:?}", waited);
}
