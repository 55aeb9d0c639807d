//! Integration tests of the connection and server layer that need several clients, time
//! or our own figures (so no redis-server to compare with): CLIENT KILL/LIST across
//! connections, DEBUG SLEEP blocking only its client, idle timeout, runtime CONFIG SET
//! effects, INFO memory and stats, RESP3 after HELLO 3, SHUTDOWN of an in-process server.

mod common;

use std::time::{Duration, Instant};

use common::{elements, ours, ours_with, show, Raw};

fn int_reply(r: &[u8]) -> i64 {
    let s = String::from_utf8_lossy(r);
    s.trim_start_matches(':')
        .trim()
        .parse()
        .expect("integer reply")
}

fn info_field(r: &[u8], name: &str) -> String {
    String::from_utf8_lossy(r)
        .split("\r\n")
        .find_map(|l| l.strip_prefix(&format!("{}:", name)).map(String::from))
        .unwrap_or_else(|| panic!("no INFO field {}", name))
}

#[test]
fn client_kill_by_id_addr_and_self() {
    let s = ours();
    let mut a = Raw::connect(s.addr());
    let mut b = Raw::connect(s.addr());
    let mut c = Raw::connect(s.addr());
    let b_id = int_reply(&b.cmd("CLIENT ID"));
    let c_info = String::from_utf8_lossy(&c.cmd("CLIENT INFO")).to_string();
    let c_addr = c_info
        .split(' ')
        .find_map(|kv| kv.strip_prefix("addr="))
        .expect("addr")
        .to_string();
    let list = String::from_utf8_lossy(&a.cmd("CLIENT LIST")).to_string();
    assert_eq!(list.matches("id=").count(), 3, "{}", list);
    assert!(list.contains(&format!("id={} ", b_id)));
    assert_eq!(a.cmd(&format!("CLIENT KILL ID {}", b_id)), b":1\r\n");
    let (_, closed) = b.read_until_close(Duration::from_secs(5));
    assert!(closed, "killed client still open");
    assert_eq!(a.cmd(&format!("CLIENT KILL {}", c_addr)), b"+OK\r\n");
    let (_, closed) = c.read_until_close(Duration::from_secs(5));
    assert!(closed);
    // CLIENT LIST ID picks clients out.
    let my_id = int_reply(&a.cmd("CLIENT ID"));
    let one = a.cmd(&format!("CLIENT LIST ID {} 999999", my_id));
    assert_eq!(String::from_utf8_lossy(&one).matches("id=").count(), 1);
    // SKIPME yes (the default) spares the caller; SKIPME no kills it after the reply.
    assert_eq!(a.cmd(&format!("CLIENT KILL ID {}", my_id)), b":0\r\n");
    assert_eq!(
        a.cmd(&format!("CLIENT KILL ID {} SKIPME no", my_id)),
        b":1\r\n"
    );
    let (_, closed) = a.read_until_close(Duration::from_secs(5));
    assert!(closed);
}

#[test]
fn debug_sleep_blocks_only_its_client() {
    let s = ours();
    let mut a = Raw::connect(s.addr());
    let mut b = Raw::connect(s.addr());
    let start = Instant::now();
    a.send("DEBUG SLEEP 0.5");
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(b.cmd("PING"), b"+PONG\r\n");
    assert!(
        start.elapsed() < Duration::from_millis(400),
        "other client waited"
    );
    assert_eq!(a.read_reply(), b"+OK\r\n");
    assert!(start.elapsed() >= Duration::from_millis(500));
    assert_eq!(a.cmd("DEBUG SLEEP 0"), b"+OK\r\n");
    assert!(show(&a.cmd("DEBUG SLEEP abc")).starts_with("-ERR"));
    assert!(show(&a.cmd("DEBUG RELOAD")).starts_with("-ERR unknown subcommand"));
}

#[test]
fn idle_timeout_closes_clients() {
    let s = ours();
    let mut a = Raw::connect(s.addr());
    assert_eq!(a.cmd("CONFIG SET timeout 1"), b"+OK\r\n");
    let mut idle = Raw::connect(s.addr());
    assert_eq!(idle.cmd("PING"), b"+PONG\r\n");
    let start = Instant::now();
    let (_, closed) = idle.read_until_close(Duration::from_secs(5));
    assert!(closed, "idle client not closed");
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(3),
        "{:?}",
        waited
    );
    // Back to no timeout: a new client stays.
    let mut a = Raw::connect(s.addr());
    assert_eq!(a.cmd("CONFIG SET timeout 0"), b"+OK\r\n");
    let (_, closed) = a.read_until_close(Duration::from_millis(1500));
    assert!(!closed);
}

#[test]
fn requirepass_at_runtime() {
    let s = ours();
    let mut admin = Raw::connect(s.addr());
    assert_eq!(admin.cmd("CONFIG SET requirepass pw"), b"+OK\r\n");
    // Already connected clients keep their access, as in Redis.
    assert_eq!(admin.cmd("PING"), b"+PONG\r\n");
    let mut c = Raw::connect(s.addr());
    assert_eq!(c.cmd("PING"), b"-NOAUTH Authentication required.\r\n");
    assert!(c.cmd("HELLO 3").starts_with(b"-NOAUTH HELLO"));
    assert_eq!(
        c.cmd("AUTH nope"),
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(c.cmd("AUTH pw"), b"+OK\r\n");
    assert_eq!(c.cmd("PING"), b"+PONG\r\n");
    // RESET drops the authentication again.
    assert_eq!(c.cmd("RESET"), b"+RESET\r\n");
    assert_eq!(c.cmd("PING"), b"-NOAUTH Authentication required.\r\n");
    let hello = c.cmd("HELLO 3 AUTH default pw SETNAME app");
    assert!(hello.starts_with(b"%7\r\n"), "{}", show(&hello));
    assert_eq!(c.cmd("CLIENT GETNAME"), b"$3\r\napp\r\n");
    let info = admin.cmd("INFO stats");
    assert!(int_reply(info_field(&info, "total_error_replies").as_bytes()) >= 3);
}

#[test]
fn hello3_switches_to_resp3_and_reset_back() {
    let s = ours();
    let mut c = Raw::connect(s.addr());
    assert_eq!(c.cmd("CLIENT GETNAME"), b"$-1\r\n");
    c.cmd("HELLO 3");
    assert_eq!(c.cmd("CLIENT GETNAME"), b"_\r\n");
    assert!(c.cmd("CONFIG GET maxmemory").starts_with(b"%1\r\n"));
    assert!(c.cmd("INFO server").starts_with(b"="));
    assert!(c.cmd("CLIENT INFO").starts_with(b"="));
    let info = String::from_utf8_lossy(&c.cmd("CLIENT INFO")).to_string();
    assert!(info.contains("resp=3"), "{}", info);
    assert_eq!(c.cmd("RESET"), b"+RESET\r\n");
    assert_eq!(c.cmd("CLIENT GETNAME"), b"$-1\r\n");
}

#[test]
fn info_memory_follows_allocations() {
    let s = ours();
    let mut c = Raw::connect(s.addr());
    let used = |c: &mut Raw| -> u64 {
        info_field(&c.cmd("INFO memory"), "used_memory")
            .parse()
            .expect("used_memory")
    };
    let before = used(&mut c);
    let big = vec![b'v'; 4 << 20];
    for i in 0..4 {
        let key = format!("big{}", i);
        assert_eq!(c.cmd_args(&[b"SET", key.as_bytes(), &big]), b"+OK\r\n");
    }
    let after = used(&mut c);
    assert!(after >= before + (16 << 20), "{} -> {}", before, after);
    let info = c.cmd("INFO memory");
    let peak: u64 = info_field(&info, "used_memory_peak").parse().expect("peak");
    assert!(peak >= after);
    let rss: u64 = info_field(&info, "used_memory_rss").parse().expect("rss");
    assert!(rss > 16 << 20);
    let ratio: f64 = info_field(&info, "mem_fragmentation_ratio")
        .parse()
        .expect("ratio");
    assert!(ratio > 0.0);
    assert!(info_field(&info, "used_memory_human").ends_with('M'));
    assert!(info_field(&info, "mem_allocator").starts_with("jemalloc-5"));
    assert_eq!(c.cmd("CONFIG SET maxmemory 1gb"), b"+OK\r\n");
    let info = c.cmd("INFO memory");
    assert_eq!(info_field(&info, "maxmemory"), "1073741824");
    assert_eq!(info_field(&info, "maxmemory_human"), "1.00G");
}

#[test]
fn stats_and_resetstat() {
    let s = ours();
    let mut c = Raw::connect(s.addr());
    c.cmd("SET a 1");
    c.cmd("GET a");
    c.cmd("GET missing");
    c.cmd("NOSUCH");
    let info = c.cmd("INFO stats");
    assert_eq!(info_field(&info, "keyspace_hits"), "1");
    assert_eq!(info_field(&info, "keyspace_misses"), "1");
    assert!(int_reply(info_field(&info, "total_commands_processed").as_bytes()) >= 4);
    let cs = String::from_utf8_lossy(&c.cmd("INFO commandstats")).to_string();
    assert!(cs.contains("cmdstat_get:calls=2,usec="), "{}", cs);
    assert!(cs.contains("cmdstat_set:calls=1,"));
    assert_eq!(c.cmd("CONFIG RESETSTAT"), b"+OK\r\n");
    let info = c.cmd("INFO stats");
    assert_eq!(info_field(&info, "keyspace_hits"), "0");
    assert_eq!(info_field(&info, "total_error_replies"), "0");
    let cs = String::from_utf8_lossy(&c.cmd("INFO commandstats")).to_string();
    assert!(!cs.contains("cmdstat_get"), "{}", cs);
    let es = String::from_utf8_lossy(&c.cmd("INFO errorstats")).to_string();
    assert!(!es.contains("errorstat_"), "{}", es);
    // The keyspace section counts keys and keys with a deadline.
    c.cmd("SET b 2 EX 100");
    let ks = c.cmd("INFO keyspace");
    assert_eq!(info_field(&ks, "db0"), "keys=2,expires=1,avg_ttl=0");
}

#[test]
fn slowlog_threshold_changes_at_runtime() {
    let s = ours();
    let mut c = Raw::connect(s.addr());
    c.cmd("CLIENT SETNAME logger");
    assert_eq!(c.cmd("SLOWLOG LEN"), b":0\r\n");
    assert_eq!(c.cmd("CONFIG SET slowlog-log-slower-than 0"), b"+OK\r\n");
    c.cmd("SET k v");
    let entries = elements(&c.cmd("SLOWLOG GET"));
    assert!(entries.len() >= 2);
    let newest = elements(&entries[0]);
    assert_eq!(newest.len(), 6);
    assert_eq!(elements(&newest[3]).len(), 3, "{}", show(&newest[3]));
    assert_eq!(newest[5], b"$6\r\nlogger\r\n");
    assert_eq!(c.cmd("CONFIG SET slowlog-log-slower-than -1"), b"+OK\r\n");
    assert_eq!(c.cmd("SLOWLOG RESET"), b"+OK\r\n");
    c.cmd("SET k v");
    assert_eq!(c.cmd("SLOWLOG LEN"), b":0\r\n");
    // max-len trims the oldest entries.
    c.cmd("CONFIG SET slowlog-log-slower-than 0");
    c.cmd("CONFIG SET slowlog-max-len 3");
    for _ in 0..10 {
        c.cmd("PING");
    }
    assert_eq!(c.cmd("SLOWLOG LEN"), b":3\r\n");
    assert_eq!(elements(&c.cmd("SLOWLOG GET 2")).len(), 2);
    assert_eq!(elements(&c.cmd("SLOWLOG GET -1")).len(), 3);
}

#[test]
fn command_table_views_agree() {
    let s = ours();
    let mut c = Raw::connect(s.addr());
    let count = int_reply(&c.cmd("COMMAND COUNT")) as usize;
    assert_eq!(elements(&c.cmd("COMMAND")).len(), count);
    assert_eq!(elements(&c.cmd("COMMAND INFO")).len(), count);
    assert_eq!(elements(&c.cmd("COMMAND DOCS")).len(), count * 2);
    let list = elements(&c.cmd("COMMAND LIST"));
    assert!(list.len() > count, "subcommands are listed too");
    assert!(list.contains(&b"$11\r\nclient|kill\r\n".to_vec()));
    let conn = elements(&c.cmd("COMMAND LIST FILTERBY ACLCAT connection"));
    assert!(conn.contains(&b"$4\r\nping\r\n".to_vec()));
    assert!(!conn.contains(&b"$3\r\nget\r\n".to_vec()));
    let info = c.cmd("COMMAND INFO get nosuch config|get");
    let e = elements(&info);
    assert_eq!(e.len(), 3);
    assert_eq!(e[1], b"$-1\r\n");
    assert!(show(&e[2]).contains("config|get"));
}

#[test]
fn shutdown_command_stops_in_process_server() {
    let s = ours_with(|c| c.maxclients = 100);
    let mut other = Raw::connect(s.addr());
    assert_eq!(other.cmd("PING"), b"+PONG\r\n");
    let mut c = Raw::connect(s.addr());
    c.send("SHUTDOWN NOSAVE");
    let (reply, closed) = c.read_until_close(Duration::from_secs(5));
    assert!(reply.is_empty(), "{}", show(&reply));
    assert!(closed);
    let (_, closed) = other.read_until_close(Duration::from_secs(5));
    assert!(closed, "other clients are closed at shutdown");
    assert!(
        std::net::TcpStream::connect_timeout(&s.addr(), Duration::from_millis(500)).is_err() || {
            // The listener may linger for a moment: a new connection gets nothing.
            let mut late = Raw::connect(s.addr());
            late.read_until_close(Duration::from_secs(2)).1
        }
    );
}

/// Keys are kept with a 32-bit length, so the bulk limit stops just below 4 GB (Redis
/// allows more); within it CONFIG SET behaves as Redis's.
#[test]
fn proto_max_bulk_len_stops_below_four_gigabytes() {
    let server = common::ours();
    let mut raw = common::Raw::connect(server.addr());
    assert_eq!(
        raw.cmd("CONFIG SET proto-max-bulk-len 4294967295"),
        b"+OK\r\n"
    );
    let r = raw.cmd("CONFIG SET proto-max-bulk-len 5gb");
    assert!(
        common::show(&r).contains("at most 4294967295"),
        "{}",
        common::show(&r)
    );
    assert_eq!(
        raw.cmd("CONFIG GET proto-max-bulk-len"),
        b"*2\r\n$18\r\nproto-max-bulk-len\r\n$10\r\n4294967295\r\n"
    );
}
