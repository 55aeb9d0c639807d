//! Keyspace notifications of the list, set and sorted-set writes against redis-server: a
//! subscriber to `__key*@*__:*` must receive the same message frames, in the same order,
//! for every case of `cases_b` (the command's own event, "new" before it, "del" after an
//! emptied key, nothing for a no-op or an error), under several `notify-keyspace-events`
//! settings, in RESP2 and RESP3, and for blocked clients served by another client's write.
//!
//! `DIFF_NOTIFY_B_SELFCHECK=1 cargo test --test diff_notify_b` runs the same harness
//! against two redis-servers, which must agree (a check of the harness itself).

mod cases_b;
mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{show, wait_blocked, Raw, RedisServer};

/// A channel the pattern matches, published after each case: every event of the case
/// arrives before it.
const END: &str = "__keyspace@0__:__end_of_case__";

/// The server compared with redis-server: ours, or a second redis-server (self-check).
struct Left {
    _ours: Option<rust_cache_server::ServerHandle>,
    _redis: Option<RedisServer>,
    addr: SocketAddr,
}

fn left() -> Left {
    if std::env::var_os("DIFF_NOTIFY_B_SELFCHECK").is_some() {
        let r = RedisServer::start();
        let addr = r.addr();
        Left {
            _ours: None,
            _redis: Some(r),
            addr,
        }
    } else {
        let o = common::ours();
        let addr = o.addr();
        Left {
            _ours: Some(o),
            _redis: None,
            addr,
        }
    }
}

/// How notifications are set up for a run.
#[derive(Clone, Copy, Debug)]
struct Variant {
    flags: &'static str,
    resp3: bool,
    db: usize,
}

const VARIANTS: &[Variant] = &[
    Variant {
        flags: "KEA",
        resp3: false,
        db: 0,
    },
    // "new" events are only sent with n.
    Variant {
        flags: "KEAn",
        resp3: false,
        db: 0,
    },
    // Only the generic class: the "del" of emptied keys, and nothing of the commands.
    Variant {
        flags: "Kg",
        resp3: false,
        db: 0,
    },
    // The type classes without the generic one.
    Variant {
        flags: "Elszn",
        resp3: false,
        db: 0,
    },
    Variant {
        flags: "KEAn",
        resp3: true,
        db: 5,
    },
];

/// One server's clients: the one running commands, and the pattern subscriber.
struct Side {
    addr: SocketAddr,
    actor: Raw,
    sub: Raw,
    variant: Variant,
}

impl Side {
    fn new(addr: SocketAddr, variant: Variant) -> Side {
        let mut actor = Raw::connect(addr);
        if variant.db != 0 {
            assert_eq!(
                show(&actor.cmd(&format!("SELECT {}", variant.db))),
                "+OK\\r\\n"
            );
        }
        let mut sub = Raw::connect(addr);
        if variant.resp3 {
            sub.cmd("HELLO 3");
        }
        sub.send("PSUBSCRIBE __key*@*__:*");
        sub.read_reply();
        Side {
            addr,
            actor,
            sub,
            variant,
        }
    }

    fn notify(&mut self, on: bool) {
        let flags = if on { self.variant.flags } else { "" };
        let r = self.actor.cmd_args(&[
            b"CONFIG",
            b"SET",
            b"notify-keyspace-events",
            flags.as_bytes(),
        ]);
        assert_eq!(show(&r), "+OK\\r\\n");
    }

    /// Publishes the end marker and returns every frame received before it.
    fn events(&mut self) -> Vec<String> {
        self.actor.cmd(&format!("PUBLISH {END} end"));
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut frames = Vec::new();
        loop {
            let f = show(&self.sub.read_reply());
            if f.contains(END) {
                return frames;
            }
            frames.push(f);
            assert!(
                frames.len() < 1000 && Instant::now() < deadline,
                "no end marker after {} frames",
                frames.len()
            );
        }
    }

    /// Runs a case: setup with notifications off, then the command with them on.
    fn case(&mut self, case: &cases_b::Case) -> String {
        let (setup, _, cmd) = *case;
        self.notify(false);
        self.actor.cmd("FLUSHALL");
        for line in cases_b::setup_lines(setup) {
            self.actor.cmd(line);
        }
        self.notify(true);
        let (line, comparable) = cases_b::command(cmd);
        let reply = self.actor.cmd(line);
        let mut t = if comparable {
            format!("{line} => {}", show(&reply))
        } else {
            line.to_string()
        };
        for f in self.events() {
            t += "\n      ";
            t += &f;
        }
        t
    }
}

fn check_table(cases: &[cases_b::Case]) {
    let ours = left();
    let redis = RedisServer::start();
    let mut diffs = Vec::new();
    let mut frames = 0;
    for &v in VARIANTS {
        let mut a = Side::new(ours.addr, v);
        let mut b = Side::new(redis.addr(), v);
        for case in cases {
            let (x, y) = (a.case(case), b.case(case));
            frames += y.matches('\n').count();
            if x != y {
                diffs.push(format!("{v:?}\n   ours:  {x}\n   redis: {y}"));
            }
        }
    }
    assert!(frames > 0, "redis-server sent no notification at all");
    assert!(
        diffs.is_empty(),
        "{} runs differ:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

#[test]
fn list_events_match_redis() {
    check_table(cases_b::LISTS);
}

#[test]
fn set_events_match_redis() {
    check_table(cases_b::SETS);
}

#[test]
fn sorted_set_events_match_redis() {
    check_table(cases_b::ZSETS);
}

/// A blocked client served by a write: the writer's events, then the served command's.
fn served(side: &mut Side, setup: &[&str], block: &[&str], writes: &[&str]) -> String {
    side.notify(false);
    side.actor.cmd("FLUSHALL");
    for line in setup {
        side.actor.cmd(line);
    }
    side.notify(true);
    let mut blocked: Vec<Raw> = Vec::new();
    for (i, line) in block.iter().enumerate() {
        let mut c = Raw::connect(side.addr);
        if side.variant.db != 0 {
            c.cmd(&format!("SELECT {}", side.variant.db));
        }
        c.send(line);
        wait_blocked(side.addr, i + 1);
        blocked.push(c);
    }
    let mut t = String::new();
    for line in writes {
        t += &format!("{line} => {}; ", show(&side.actor.cmd(line)));
    }
    for c in blocked.iter_mut() {
        t += &format!("served => {}; ", show(&c.read_reply()));
    }
    for f in side.events() {
        t += "\n      ";
        t += &f;
    }
    t
}

#[test]
fn served_blocked_clients_events_match_redis() {
    type Scenario = (
        &'static [&'static str],
        &'static [&'static str],
        &'static [&'static str],
    );
    const SCENARIOS: &[Scenario] = &[
        (&[], &["BLPOP q 0"], &["LPUSH q a"]),
        (&[], &["BRPOP q 0"], &["LPUSH q a b"]),
        (&[], &["BRPOPLPUSH q d 0"], &["LPUSH q a"]),
        (
            &["RPUSH d x"],
            &["BLMOVE q d LEFT RIGHT 0"],
            &["LPUSH q a b"],
        ),
        (&[], &["BLMOVE q q LEFT RIGHT 0"], &["LPUSH q a"]),
        (&["SET d x"], &["BLMOVE q d LEFT RIGHT 0"], &["LPUSH q a"]),
        (&[], &["BLMPOP 0 1 q LEFT COUNT 5"], &["LPUSH q a b"]),
        (&[], &["BZPOPMIN z 0"], &["ZADD z 1 a"]),
        (&[], &["BZPOPMAX z 0"], &["ZADD z 1 a 2 b"]),
        (&[], &["BZMPOP 0 1 z MIN COUNT 5"], &["ZADD z 1 a 2 b"]),
        (
            &[],
            &["BLMOVE q d LEFT LEFT 0", "BLPOP d 0"],
            &["RPUSH q a"],
        ),
        (
            &[],
            &["BLPOP q 0"],
            &["MULTI", "LPUSH q a", "LPUSH q b", "EXEC"],
        ),
        (
            &[],
            &["BLPOP q 0"],
            &["MULTI", "LPUSH q a", "LPOP q", "EXEC", "RPUSH q c"],
        ),
        (&["ZADD a 1 x"], &["BZPOPMIN z 0"], &["ZUNIONSTORE z 1 a"]),
    ];
    let ours = left();
    let redis = RedisServer::start();
    let mut diffs = Vec::new();
    for &v in VARIANTS {
        let mut a = Side::new(ours.addr, v);
        let mut b = Side::new(redis.addr(), v);
        for (setup, block, writes) in SCENARIOS {
            let x = served(&mut a, setup, block, writes);
            let y = served(&mut b, setup, block, writes);
            if x != y {
                diffs.push(format!("{v:?} {block:?}\n   ours:  {x}\n   redis: {y}"));
            }
        }
    }
    assert!(
        diffs.is_empty(),
        "{} runs differ:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}
