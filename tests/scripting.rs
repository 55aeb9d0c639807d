//! Scripting behaviour with the scripts real libraries ship, run through the `redis`
//! crate's `Script` (EVALSHA, falling back to SCRIPT LOAD on NOSCRIPT) against this
//! server and redis-server, results compared: the Redlock unlock script, a token-bucket
//! rate limiter and a BullMQ-style moveToActive. Then what only concurrency shows:
//! read-modify-write scripts from 8 clients keep exact totals and a plain reader never
//! sees a script half done; a script past busy-reply-threshold makes others answer BUSY,
//! SCRIPT KILL stops it unless it wrote, and SHUTDOWN NOSAVE stops a busy server.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{client, show, Pair, Raw};
use redis::{Script, Value};

/// A script's result (or error) in a form both servers' answers can be compared in.
fn outcome(r: redis::RedisResult<Value>) -> String {
    match r {
        Ok(v) => format!("{v:?}"),
        Err(e) => format!("error: {e}"),
    }
}

fn query(con: &mut redis::Connection, args: &[&str]) -> String {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    outcome(c.query::<Value>(con))
}

/// Runs `f` against both servers and asserts the same transcript.
fn on_both(f: impl Fn(&mut redis::Connection) -> Vec<String>) -> Vec<String> {
    let p = Pair::new();
    let ours = f(&mut client(p.ours.addr()));
    let redis = f(&mut client(p.redis.addr()));
    assert_eq!(
        ours, redis,
        "transcripts differ (left: ours, right: redis-server)"
    );
    ours
}

// ---------------------------------------------------------------------------------------
// Library scripts

/// The unlock script of the Redlock algorithm (redis.io/docs/manual/patterns/distributed-locks).
const REDLOCK_UNLOCK: &str = r#"if redis.call("get",KEYS[1]) == ARGV[1] then
    return redis.call("del",KEYS[1])
else
    return 0
end"#;

#[test]
fn redlock_unlock() {
    let t = on_both(|con| {
        let unlock = Script::new(REDLOCK_UNLOCK);
        let unlock_with = |con: &mut redis::Connection, token: &str| {
            outcome(unlock.key("lock:res").arg(token).invoke(con))
        };
        vec![
            query(con, &["SET", "lock:res", "token-a", "NX", "PX", "30000"]),
            // Someone else's token does not release the lock.
            unlock_with(con, "token-b"),
            query(con, &["GET", "lock:res"]),
            // The owner's does, once.
            unlock_with(con, "token-a"),
            query(con, &["EXISTS", "lock:res"]),
            unlock_with(con, "token-a"),
            // Loaded now: EVALSHA finds it. After SCRIPT FLUSH the crate loads it again.
            query(con, &["SCRIPT", "EXISTS", unlock.get_hash()]),
            query(con, &["SET", "lock:res", "token-c"]),
            query(con, &["SCRIPT", "FLUSH"]),
            unlock_with(con, "token-c"),
            // A key of another type makes GET fail inside the script.
            query(con, &["HSET", "lock:res", "f", "v"]),
            unlock_with(con, "token-c"),
        ]
    });
    let expected = [
        "int(0)",
        "bulk-string('\"token-a\"')",
        "int(1)",
        "int(0)",
        "int(0)",
    ];
    assert_eq!(&t[1..6], expected);
    assert!(t[11].contains("WRONGTYPE"), "{}", t[11]);
}

/// A token bucket as rate-limiting libraries write it: state in a hash, refilled by the
/// time since the last call (the caller's clock, in ms), fractional tokens kept.
const TOKEN_BUCKET: &str = r#"
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local requested = tonumber(ARGV[4])
local state = redis.call("HMGET", KEYS[1], "tokens", "ts")
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then
  tokens = capacity
  ts = now
end
local elapsed = math.max(0, now - ts)
tokens = math.min(capacity, tokens + elapsed * rate / 1000)
local allowed = 0
if tokens >= requested then
  tokens = tokens - requested
  allowed = 1
end
redis.call("HMSET", KEYS[1], "tokens", tokens, "ts", now)
redis.call("PEXPIRE", KEYS[1], math.ceil(capacity / rate * 1000) * 2)
return {allowed, math.floor(tokens), tostring(tokens)}
"#;

#[test]
fn token_bucket_rate_limiter() {
    let t = on_both(|con| {
        let bucket = Script::new(TOKEN_BUCKET);
        let mut out = Vec::new();
        let mut now = 1_700_000_000_000u64;
        // Capacity 5, 2.5 tokens a second; bursts, waits and a request too big.
        for (advance, n) in [
            (0, 1),
            (0, 1),
            (0, 1),
            (0, 1),
            (0, 1),
            (0, 1),
            (100, 1),
            (300, 1),
            (400, 1),
            (0, 3),
            (2000, 3),
            (10_000, 6),
            (10_000, 5),
            (1, 1),
        ] {
            now += advance;
            let r = bucket
                .key("rate:user:42")
                .arg(5)
                .arg(2.5)
                .arg(now)
                .arg(n)
                .invoke(con);
            out.push(outcome(r));
        }
        out.push(query(con, &["HGETALL", "rate:user:42"]));
        let ttl: i64 = redis::cmd("PTTL")
            .arg("rate:user:42")
            .query(con)
            .expect("PTTL");
        out.push(format!("ttl in range: {}", (3000..=4000).contains(&ttl)));
        out
    });
    // The burst allows exactly the capacity.
    let allowed: Vec<bool> = t[..6]
        .iter()
        .map(|r| r.starts_with("array([int(1),"))
        .collect();
    assert_eq!(allowed, [true, true, true, true, true, false], "{t:?}");
    assert_eq!(t.last().map(String::as_str), Some("ttl in range: true"));
}

/// A job queue's move-to-active step in the manner of BullMQ's moveToActive: pop the
/// next job id from the wait list onto the active list, lock it, drop it from the
/// priority set, stamp the job hash (a key built from a prefix, not declared in KEYS)
/// and return the job.
const MOVE_TO_ACTIVE: &str = r#"
local jobId = redis.call("RPOPLPUSH", KEYS[1], KEYS[2])
if not jobId then
  return false
end
local jobKey = ARGV[1] .. jobId
redis.call("SET", jobKey .. ":lock", ARGV[2], "PX", ARGV[3])
redis.call("ZREM", KEYS[3], jobId)
redis.call("HSET", jobKey, "processedOn", ARGV[4])
redis.call("HINCRBY", jobKey, "attemptsMade", 1)
redis.call("XADD", KEYS[4], "*", "event", "active", "jobId", jobId)
return {jobId, redis.call("HGETALL", jobKey)}
"#;

/// The same script without the events stream (for servers without streams).
fn move_to_active_script() -> String {
    MOVE_TO_ACTIVE.replace(
        "redis.call(\"XADD\", KEYS[4], \"*\", \"event\", \"active\", \"jobId\", jobId)\n",
        "redis.call(\"INCR\", KEYS[4])\n",
    )
}

#[test]
fn job_queue_move_to_active() {
    let t = on_both(|con| {
        let script = Script::new(&move_to_active_script());
        let mut out = Vec::new();
        for id in ["1", "2", "3"] {
            out.push(query(
                con,
                &[
                    "HSET",
                    &format!("bull:q:{id}"),
                    "name",
                    "send-mail",
                    "data",
                    id,
                ],
            ));
            out.push(query(con, &["LPUSH", "bull:q:wait", id]));
            out.push(query(con, &["ZADD", "bull:q:prioritized", id, id]));
        }
        for n in 0..4 {
            let r = script
                .key("bull:q:wait")
                .key("bull:q:active")
                .key("bull:q:prioritized")
                .key("bull:q:events")
                .arg("bull:q:")
                .arg(format!("worker-token-{n}"))
                .arg(30_000)
                .arg(1_700_000_000_000u64 + n)
                .invoke(con);
            out.push(outcome(r));
        }
        out.push(query(con, &["LRANGE", "bull:q:active", "0", "-1"]));
        out.push(query(con, &["LLEN", "bull:q:wait"]));
        out.push(query(con, &["ZCARD", "bull:q:prioritized"]));
        out.push(query(con, &["GET", "bull:q:2:lock"]));
        out.push(query(con, &["GET", "bull:q:events"]));
        out
    });
    assert!(t[9].contains("\"1\""), "first job taken first: {}", t[9]);
    assert_eq!(t[12], "nil", "an empty queue answers nil");
}

// ---------------------------------------------------------------------------------------
// Atomicity

/// Moves `ARGV[1]` from KEYS[1] to KEYS[2], parking KEYS[1] on a value no reader may
/// ever see in between, and counts the moves in a key it does not declare.
const TRANSFER: &str = r#"
local a = tonumber(redis.call("GET", KEYS[1]))
local b = tonumber(redis.call("GET", KEYS[2]) or "0")
local amount = tonumber(ARGV[1])
redis.call("SET", KEYS[1], "BROKEN")
redis.call("SET", KEYS[1], a - amount)
redis.call("SET", KEYS[2], b + amount)
redis.call("INCR", "atomic:moves")
return a - amount
"#;

const START: i64 = 1_000_000;

/// 8 clients run the transfer script while a reader GETs and MGETs; returns the moves
/// done, the final (a, b, moves) and how many reads the reader made.
fn transfers(addr: SocketAddr, threads: usize, per_thread: usize) -> (i64, (i64, i64, i64), u64) {
    let mut setup = client(addr);
    redis::cmd("SET")
        .arg("atomic:a")
        .arg(START)
        .query::<()>(&mut setup)
        .expect("SET");
    let done = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));
    let reader = {
        let done = done.clone();
        let reads = reads.clone();
        std::thread::spawn(move || {
            let mut con = client(addr);
            let deadline = Instant::now() + Duration::from_secs(30);
            while !done.load(Ordering::Relaxed) && Instant::now() < deadline {
                let a: String = redis::cmd("GET")
                    .arg("atomic:a")
                    .query(&mut con)
                    .expect("GET");
                assert_ne!(a, "BROKEN", "a reader saw a script half done");
                let (a, b): (i64, Option<i64>) = redis::cmd("MGET")
                    .arg("atomic:a")
                    .arg("atomic:b")
                    .query(&mut con)
                    .expect("MGET");
                assert_eq!(
                    a + b.unwrap_or(0),
                    START,
                    "a reader saw a transfer half done"
                );
                reads.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            std::thread::spawn(move || {
                let mut con = client(addr);
                let script = Script::new(TRANSFER);
                let deadline = Instant::now() + Duration::from_secs(30);
                for i in 0..per_thread {
                    assert!(Instant::now() < deadline, "transfers too slow");
                    let amount = 1 + ((t + i) % 3) as i64;
                    let _: i64 = script
                        .key("atomic:a")
                        .key("atomic:b")
                        .arg(amount)
                        .invoke(&mut con)
                        .expect("transfer");
                }
            })
        })
        .collect();
    let mut moved = 0;
    for (t, w) in workers.into_iter().enumerate() {
        w.join().expect("worker");
        moved += (0..per_thread)
            .map(|i| 1 + ((t + i) % 3) as i64)
            .sum::<i64>();
    }
    done.store(true, Ordering::Relaxed);
    reader.join().expect("reader");
    let (a, b, n): (i64, i64, i64) = redis::cmd("MGET")
        .arg("atomic:a")
        .arg("atomic:b")
        .arg("atomic:moves")
        .query(&mut setup)
        .expect("MGET");
    (moved, (a, b, n), reads.load(Ordering::Relaxed))
}

#[test]
fn read_modify_write_scripts_are_atomic() {
    let p = Pair::new();
    for (name, addr) in [("ours", p.ours.addr()), ("redis-server", p.redis.addr())] {
        let (threads, per_thread) = (8, 250);
        let (moved, (a, b, n), reads) = transfers(addr, threads, per_thread);
        assert_eq!(
            (a, b, n),
            (START - moved, moved, (threads * per_thread) as i64),
            "{name}: final totals"
        );
        assert!(reads > 0, "{name}: the reader never ran");
    }
}

// ---------------------------------------------------------------------------------------
// BUSY, SCRIPT KILL, SHUTDOWN NOSAVE

/// A loop of 400 million rounds: seconds long, so it is seen busy, and it ends on its
/// own if nothing stops it (well within the test's time in a debug build). The loop is
/// one line, so the line a kill reports does not depend on where in the loop the
/// interrupt lands.
fn busy_loop(write_first: bool) -> String {
    let write = if write_first {
        "redis.call('set', 'busy:wrote', '1')\n"
    } else {
        ""
    };
    format!("{write}local n = 0 for i = 1, 400000000 do n = n + 1 end return n")
}

/// Sends EVAL of `body` without waiting for the reply.
fn start_script(c: &mut Raw, body: &str) {
    c.send_args(&[b"EVAL", body.as_bytes(), b"0"]);
}

/// Waits until another client's GET answers BUSY (the script is past the threshold);
/// returns that reply.
fn wait_busy(addr: SocketAddr) -> Vec<u8> {
    common::wait_busy(&mut Raw::connect(addr), "GET busy:k")
}

/// What each server answers around a busy read-only script: other clients' commands,
/// SCRIPT KILL, the script's own error, and service afterwards.
fn kill_transcript(addr: SocketAddr, body: &str) -> Vec<String> {
    let mut admin = Raw::connect(addr);
    let mut out = vec![show(&admin.cmd("CONFIG SET busy-reply-threshold 100"))];
    let mut tx = Raw::connect(addr);
    out.push(show(&tx.cmd("MULTI")));
    out.push(show(&tx.cmd("SET busy:tx 1")));
    let mut runner = Raw::connect(addr);
    start_script(&mut runner, body);
    out.push(show(&wait_busy(addr)));
    out.push(format!("EXEC: {}", show(&tx.cmd("EXEC"))));
    let mut other = Raw::connect(addr);
    for line in [
        "PING",
        "SET busy:k v",
        "EVAL \"return 1\" 0",
        "SCRIPT LOAD \"return 1\"",
    ] {
        out.push(format!("{line}: {}", show(&other.cmd(line))));
    }
    out.push(show(&admin.cmd("SCRIPT KILL")));
    assert!(
        runner.reply_within(Duration::from_secs(10)),
        "the killed script never answered"
    );
    out.push(show(&runner.read_reply()));
    out.push(show(&other.cmd("GET busy:k")));
    out.push(show(&admin.cmd("SCRIPT KILL")));
    out
}

#[test]
fn busy_script_is_killed_by_script_kill() {
    let p = Pair::new();
    // The loop as it is, and inside pcall and xpcall, which cannot catch the kill.
    let caught = |f: &str| {
        format!(
            "local ok, e = {f}(function() {} end{}) return {{tostring(ok), e}}",
            busy_loop(false),
            if f == "xpcall" {
                ", function(e) return e end"
            } else {
                ""
            }
        )
    };
    for body in [busy_loop(false), caught("pcall"), caught("xpcall")] {
        let ours = kill_transcript(p.ours.addr(), &body);
        let redis = kill_transcript(p.redis.addr(), &body);
        assert_eq!(ours, redis, "left: ours, right: redis-server");
        assert!(
            ours[3].starts_with("-BUSY Redis is busy running a script."),
            "{ours:?}"
        );
        assert!(
            ours[10].contains("Script killed by user with SCRIPT KILL"),
            "{ours:?}"
        );
    }
}

/// A script that wrote cannot be killed; SHUTDOWN NOSAVE stops the server anyway.
fn unkillable_transcript(addr: SocketAddr) -> Vec<String> {
    let mut admin = Raw::connect(addr);
    let mut out = vec![show(&admin.cmd("CONFIG SET busy-reply-threshold 100"))];
    let mut runner = Raw::connect(addr);
    start_script(&mut runner, &busy_loop(true));
    out.push(show(&wait_busy(addr)));
    out.push(show(&admin.cmd("SCRIPT KILL")));
    admin.send("SHUTDOWN NOSAVE");
    let (reply, closed) = admin.read_until_close(Duration::from_secs(10));
    out.push(format!("shutdown: {} closed={closed}", show(&reply)));
    let (_, closed) = runner.read_until_close(Duration::from_secs(10));
    out.push(format!("runner closed={closed}"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(addr).is_ok() {
        assert!(
            Instant::now() < deadline,
            "the server still accepts connections"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    out.push("stopped".into());
    out
}

#[test]
fn unkillable_script_and_shutdown_nosave() {
    let p = Pair::new();
    let ours = unkillable_transcript(p.ours.addr());
    let redis = unkillable_transcript(p.redis.addr());
    assert_eq!(ours, redis, "left: ours, right: redis-server");
    assert!(ours[2].starts_with("-UNKILLABLE"), "{ours:?}");
}
