//! WATCH against redis-server for the list, set and sorted-set writes: a command changes
//! a watched key exactly when Redis 7.0 signals it (a no-op such as SREM of a non-member,
//! LPUSHX on a missing key or ZADD XX of a new member leaves the transaction alone), and a
//! blocked client served by another client's write signals what Redis signals (BLMOVE's
//! destination). Client A watches, client B writes, then A runs MULTI/PING/EXEC: the EXEC
//! reply (nil or not) must be the same bytes on both servers.

mod cases_b;
mod common;

use std::net::SocketAddr;

use common::{show, wait_blocked, Raw};

/// The replies of one case on one server: setup, command (unless random), EXEC.
fn run_case(a: &mut Raw, b: &mut Raw, case: &cases_b::Case) -> String {
    let (setup, watch, cmd) = *case;
    let mut t = String::new();
    assert_eq!(show(&b.cmd("FLUSHALL")), "+OK\\r\\n");
    for line in cases_b::setup_lines(setup) {
        t += &format!("{line} => {}; ", show(&b.cmd(line)));
    }
    t += &format!(
        "WATCH {watch} => {}; ",
        show(&a.cmd(&format!("WATCH {watch}")))
    );
    let (line, comparable) = cases_b::command(cmd);
    let reply = b.cmd(line);
    if comparable {
        t += &format!("{line} => {}; ", show(&reply));
    }
    a.cmd("MULTI");
    a.cmd("PING");
    t += &format!("EXEC => {}", show(&a.cmd("EXEC")));
    t
}

/// Runs every case on both servers and reports all the cases that differ at once.
fn check_table(cases: &[cases_b::Case]) {
    let p = common::Pair::new();
    let (mut oa, mut ob) = (Raw::connect(p.ours.addr()), Raw::connect(p.ours.addr()));
    let (mut ra, mut rb) = (Raw::connect(p.redis.addr()), Raw::connect(p.redis.addr()));
    let mut diffs = Vec::new();
    let (mut voided, mut kept) = (0, 0);
    for case in cases {
        let ours = run_case(&mut oa, &mut ob, case);
        let redis = run_case(&mut ra, &mut rb, case);
        if redis.ends_with("EXEC => *-1\\r\\n") {
            voided += 1;
        } else {
            kept += 1;
        }
        if ours != redis {
            diffs.push(format!("{:?}\n   ours:  {ours}\n   redis: {redis}", case));
        }
    }
    // The table must exercise both outcomes, or it would prove nothing about WATCH.
    assert!(voided > 0 && kept > 0, "voided {voided}, kept {kept}");
    assert!(
        diffs.is_empty(),
        "{} of {} cases differ:\n{}",
        diffs.len(),
        cases.len(),
        diffs.join("\n")
    );
}

#[test]
fn list_writes_touch_watched_keys_as_redis_does() {
    check_table(cases_b::LISTS);
}

#[test]
fn set_writes_touch_watched_keys_as_redis_does() {
    check_table(cases_b::SETS);
}

#[test]
fn sorted_set_writes_touch_watched_keys_as_redis_does() {
    check_table(cases_b::ZSETS);
}

/// The clients of a blocking scenario on one server: watcher, pusher, blocked clients.
struct Clients {
    addr: SocketAddr,
    watcher: Raw,
    pusher: Raw,
    blocked: Vec<Raw>,
    log: Vec<String>,
}

impl Clients {
    fn new(addr: SocketAddr, blocked: usize) -> Clients {
        let mut c = Clients {
            addr,
            watcher: Raw::connect(addr),
            pusher: Raw::connect(addr),
            blocked: (0..blocked).map(|_| Raw::connect(addr)).collect(),
            log: Vec::new(),
        };
        c.push("FLUSHALL");
        c
    }

    fn push(&mut self, line: &str) {
        let r = self.pusher.cmd(line);
        self.log.push(format!("{line} => {}", show(&r)));
    }

    fn watch(&mut self, line: &str) {
        let r = self.watcher.cmd(line);
        self.log.push(format!("{line} => {}", show(&r)));
    }

    /// Blocked client `i` sends `line`; returns once the server counts it as blocked.
    fn block(&mut self, i: usize, line: &str, blocked_before: usize) {
        self.blocked[i].send(line);
        wait_blocked(self.addr, blocked_before + 1);
    }

    fn served(&mut self, i: usize) {
        let r = self.blocked[i].read_reply();
        self.log.push(format!("served {i} => {}", show(&r)));
    }

    fn exec(&mut self) {
        self.watcher.cmd("MULTI");
        self.watcher.cmd("PING");
        let r = self.watcher.cmd("EXEC");
        self.log.push(format!("EXEC => {}", show(&r)));
    }

    /// The `blocked_clients` line of INFO.
    fn blocked_count(&mut self) {
        let info = self.pusher.cmd("INFO clients");
        let line = String::from_utf8_lossy(&info)
            .lines()
            .find(|l| l.starts_with("blocked_clients:"))
            .unwrap_or("none")
            .to_string();
        self.log.push(line);
    }
}

/// Runs `scenario` on both servers and compares the transcripts.
fn check_scenario(blocked: usize, scenario: impl Fn(&mut Clients)) {
    let p = common::Pair::new();
    let mut ours = Clients::new(p.ours.addr(), blocked);
    scenario(&mut ours);
    let mut redis = Clients::new(p.redis.addr(), blocked);
    scenario(&mut redis);
    assert_eq!(
        ours.log.join("\n"),
        redis.log.join("\n"),
        "transcripts differ (left: ours, right: redis-server)"
    );
}

#[test]
fn served_blmove_signals_its_destination() {
    for cmd in ["BLMOVE q d LEFT RIGHT 0", "BRPOPLPUSH q d 0"] {
        // The push touches only q: the watcher of d fails because serving pushed onto d.
        check_scenario(1, |c| {
            c.push("RPUSH d x");
            c.watch("WATCH d");
            c.block(0, cmd, 0);
            c.push("LPUSH q a b");
            c.served(0);
            c.exec();
            c.push("LRANGE d 0 -1");
            c.push("LRANGE q 0 -1");
        });
        // The source, watched: the push itself signals it.
        check_scenario(1, |c| {
            c.watch("WATCH q");
            c.block(0, cmd, 0);
            c.push("RPUSH q a");
            c.served(0);
            c.exec();
            c.push("EXISTS q d");
        });
        // A destination of another type: the waiter gets WRONGTYPE, nothing moves, the
        // watcher of the destination keeps its transaction.
        check_scenario(1, |c| {
            c.push("SET d x");
            c.watch("WATCH d");
            c.block(0, cmd, 0);
            c.push("RPUSH q a");
            c.served(0);
            c.exec();
            c.push("LRANGE q 0 -1");
        });
    }
}

#[test]
fn served_pops_and_chains_match_redis() {
    for (block, push) in [
        ("BLPOP q 0", "RPUSH q a"),
        ("BRPOP x q 0", "RPUSH q a b"),
        ("BLMPOP 0 1 q LEFT COUNT 5", "RPUSH q a b"),
        ("BZPOPMIN z 0", "ZADD z 1 a"),
        ("BZPOPMAX z 0", "ZADD z 1 a 2 b"),
        ("BZMPOP 0 1 z MIN COUNT 5", "ZADD z 1 a 2 b"),
    ] {
        check_scenario(1, |c| {
            c.watch("WATCH q z");
            c.block(0, block, 0);
            c.push(push);
            c.served(0);
            c.exec();
            c.push("EXISTS q z");
        });
    }
    // BLMOVE q d serves a BLPOP d in turn; d is watched and ends empty.
    check_scenario(2, |c| {
        c.watch("WATCH d");
        c.block(0, "BLMOVE q d LEFT LEFT 0", 0);
        c.block(1, "BLPOP d 0", 1);
        c.push("RPUSH q a");
        c.served(0);
        c.served(1);
        c.exec();
        c.push("EXISTS q d");
    });
}

#[test]
fn transaction_serves_blocked_clients_after_exec() {
    // Pushed and popped within one transaction: the waiter never sees the element.
    check_scenario(1, |c| {
        c.block(0, "BLPOP q 0", 0);
        c.push("MULTI");
        c.push("LPUSH q a");
        c.push("LPOP q");
        c.push("EXEC");
        c.blocked_count();
        c.push("LPUSH q b");
        c.served(0);
    });
    // Two pushes: the waiter gets the head after both.
    check_scenario(1, |c| {
        c.watch("WATCH q");
        c.block(0, "BLPOP q 0", 0);
        c.push("MULTI");
        c.push("LPUSH q a");
        c.push("LPUSH q b");
        c.push("EXEC");
        c.served(0);
        c.exec();
        c.push("LRANGE q 0 -1");
    });
}
