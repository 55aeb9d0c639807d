//! Hostile and broken clients: protocol garbage, oversized lengths before and after AUTH,
//! unbalanced quotes, too many clients, a query buffer over its limit, half-sent frames.
//! In every case the offending connection gets Redis's exact error bytes (compared with a
//! real redis-server) or is closed, and the server goes on serving other clients with
//! their data intact.

mod common;

use std::time::Duration;

use common::{show, Pair, Raw, RedisServer};

const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// Sends `bytes` on fresh connections to both servers and compares what comes back
/// before each closes the connection.
fn both_close(p: &Pair, bytes: &[u8]) -> Vec<u8> {
    let mut a = Raw::connect(p.ours.addr());
    let mut b = Raw::connect(p.redis.addr());
    a.send_raw(bytes);
    b.send_raw(bytes);
    let (ra, closed_a) = a.read_until_close(CLOSE_WAIT);
    let (rb, closed_b) = b.read_until_close(CLOSE_WAIT);
    assert_eq!(show(&ra), show(&rb), "reply to {:?}", show(bytes));
    assert!(closed_b, "redis-server kept the connection open");
    assert!(
        closed_a,
        "we kept the connection open after {:?}",
        show(bytes)
    );
    ra
}

/// The bystander connection still works and its data is intact.
fn bystander_ok(p: &mut Pair) {
    assert_eq!(p.check("GET survivor"), b"$4\r\ndata\r\n");
    p.check("PING");
}

#[test]
fn protocol_errors_match_redis() {
    let mut p = Pair::new();
    p.check("SET survivor data");
    let cases: &[&[u8]] = &[
        b"*abc\r\n",
        b"*1\r\n$abc\r\n",
        b"*1\r\nfoo\r\n",
        b"*1\r\n$-5\r\n",
        b"*3000000000\r\n",
        b"*1\r\n$999999999999\r\n",
        b"*2\r\n$4\r\nPING\r\n:12\r\n",
        b"SET \"a b\r\n",
        b"SET 'a\r\n",
        b"SET \"a\"b c\r\n",
        // Good commands before the bad one still get their replies.
        b"PING\r\n*1\r\n$4\r\nPING\r\n*x\r\n",
    ];
    for case in cases {
        let reply = both_close(&p, case);
        assert!(
            show(&reply).contains("-ERR Protocol error: "),
            "{}",
            show(&reply)
        );
        bystander_ok(&mut p);
    }
}

#[test]
fn oversized_headers_and_inline() {
    let mut p = Pair::new();
    p.check("SET survivor data");
    // An inline request with no newline, longer than 64 KB.
    let inline = vec![b'a'; 70 * 1024];
    both_close(&p, &inline);
    // A multibulk count line that never ends.
    let mut count = b"*".to_vec();
    count.extend(std::iter::repeat_n(b'1', 70 * 1024));
    both_close(&p, &count);
    // A bulk length line that never ends.
    let mut bulk = b"*1\r\n$".to_vec();
    bulk.extend(std::iter::repeat_n(b'1', 70 * 1024));
    both_close(&p, &bulk);
    bystander_ok(&mut p);
}

#[test]
fn unauthenticated_limits() {
    let mut p = Pair::with(
        |c| c.requirepass = Some("pw".into()),
        &["--requirepass", "pw"],
    );
    p.check("AUTH pw");
    p.check("SET survivor data");
    both_close(&p, b"*2000000\r\n");
    both_close(&p, b"*1\r\n$20000\r\n");
    // After AUTH the same sizes are fine (the bulk just waits for its bytes).
    let mut a = Raw::connect(p.ours.addr());
    assert_eq!(a.cmd("AUTH pw"), b"+OK\r\n");
    let big = vec![b'x'; 20000];
    assert_eq!(a.cmd_args(&[b"SET", b"big", &big]), b"+OK\r\n");
    let got = a.cmd("GET big");
    assert_eq!(got.len(), 20000 + b"$20000\r\n\r\n".len());
    // A client that never authenticates gets NOAUTH for ordinary commands.
    let mut n = Raw::connect(p.ours.addr());
    let mut m = Raw::connect(p.redis.addr());
    assert_eq!(n.cmd("GET survivor"), m.cmd("GET survivor"));
    bystander_ok(&mut p);
}

#[test]
fn max_clients() {
    let ours = common::ours_with(|c| c.maxclients = 2);
    let redis = RedisServer::start_with(&["--maxclients", "2"]);
    for addr in [ours.addr(), redis.addr()] {
        let mut a = Raw::connect(addr);
        let mut b = Raw::connect(addr);
        assert_eq!(a.cmd("SET survivor data"), b"+OK\r\n");
        assert_eq!(b.cmd("PING"), b"+PONG\r\n");
        let mut c = Raw::connect(addr);
        let (reply, closed) = c.read_until_close(CLOSE_WAIT);
        assert_eq!(show(&reply), "-ERR max number of clients reached\\r\\n");
        assert!(closed);
        assert_eq!(a.cmd("GET survivor"), b"$4\r\ndata\r\n");
        // A slot freed is a slot available again.
        drop(b);
        let mut ok = false;
        for _ in 0..50 {
            let mut d = Raw::connect(addr);
            d.send("PING");
            let (r, _) = d.read_until_close(Duration::from_millis(200));
            if r == b"+PONG\r\n" {
                ok = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(ok, "no slot after a client left");
    }
    // Raising the limit at run time takes effect for the next connection.
    let mut a = Raw::connect(ours.addr());
    let mut b = Raw::connect(ours.addr());
    assert_eq!(a.cmd("CONFIG SET maxclients 3"), b"+OK\r\n");
    let mut c = Raw::connect(ours.addr());
    assert_eq!(c.cmd("PING"), b"+PONG\r\n");
    assert_eq!(b.cmd("PING"), b"+PONG\r\n");
}

#[test]
fn query_buffer_limit_closes_client() {
    let mut p = Pair::new();
    p.check("SET survivor data");
    p.check("CONFIG SET client-query-buffer-limit 1mb");
    for addr in [p.ours.addr(), p.redis.addr()] {
        use std::io::{Read, Write};
        let mut c = std::net::TcpStream::connect(addr).expect("connect");
        c.set_read_timeout(Some(CLOSE_WAIT)).expect("timeout");
        let mut req = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3000000\r\n".to_vec();
        req.extend(std::iter::repeat_n(b'x', 1_500_000));
        // The server may close while we are still writing: a write error is expected.
        let _ = c.write_all(&req);
        let mut reply = Vec::new();
        let closed = match c.read_to_end(&mut reply) {
            Ok(_) => true,
            Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        };
        assert!(closed, "client over the query buffer limit was not closed");
        assert!(reply.is_empty(), "{}", show(&reply));
    }
    bystander_ok(&mut p);
    // The key was never written.
    p.check("EXISTS k");
}

#[test]
fn partial_frames_then_disconnect() {
    let mut p = Pair::new();
    p.check("SET survivor data");
    let partials: &[&[u8]] = &[
        b"*3\r\n$3\r\nSET\r\n$1\r\nk",
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nabc",
        b"*2",
        b"PIN",
        b"*1000000\r\n$1\r\nx\r\n",
    ];
    for bytes in partials {
        for addr in [p.ours.addr(), p.redis.addr()] {
            let mut c = Raw::connect(addr);
            c.send_raw(bytes);
            drop(c);
        }
    }
    std::thread::sleep(Duration::from_millis(100));
    bystander_ok(&mut p);
    p.check("EXISTS k");
    let n = p.ours.shared().clients.len();
    assert!(n <= 2, "{} clients still registered", n);
}

#[test]
fn random_garbage_never_hurts_the_server() {
    let ours = common::ours();
    let mut keeper = Raw::connect(ours.addr());
    assert_eq!(keeper.cmd("SET survivor data"), b"+OK\r\n");
    // A fixed pseudo-random sequence (xorshift), so a failure is reproducible.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for round in 0..60 {
        let mut bytes = Vec::new();
        let len = 1 + (round * 37) % 400;
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Bias toward protocol characters so the decoder goes deep.
            let b = match x % 8 {
                0 => b'*',
                1 => b'$',
                2 => b'\r',
                3 => b'\n',
                4 => b'0' + (x >> 8) as u8 % 10,
                5 => b'"',
                _ => (x >> 16) as u8,
            };
            bytes.push(b);
        }
        use std::io::{Read, Write};
        let mut c = std::net::TcpStream::connect(ours.addr()).expect("connect");
        // The server may answer a protocol error and close before all bytes are sent.
        let _ = c.write_all(&bytes);
        let _ = c.set_read_timeout(Some(Duration::from_millis(50)));
        let mut sink = [0u8; 4096];
        let _ = c.read(&mut sink);
    }
    assert_eq!(keeper.cmd("GET survivor"), b"$4\r\ndata\r\n");
    let mut fresh = Raw::connect(ours.addr());
    assert_eq!(fresh.cmd("PING"), b"+PONG\r\n");
}

/// Inline requests with NUL bytes and C whitespace: Redis splits them as C strings. A NUL
/// once made the word splitter loop forever, taking the whole server down.
#[test]
fn inline_nul_and_c_whitespace() {
    let mut p = Pair::new();
    p.check("SET survivor data");
    // Redis looks for the newline with strchr, so it never sees one after a NUL: that
    // request stays incomplete (no reply, connection open) until it grows past 64 KB. We
    // must behave the same, and nothing may stall the server meanwhile.
    for case in [&b"PING\0garbage\r\n"[..], b"\0\r\n", b"ECHO \"a\0b\"\r\n"] {
        let mut a = Raw::connect(p.ours.addr());
        let mut b = Raw::connect(p.redis.addr());
        for c in [&mut a, &mut b] {
            c.send_raw(case);
            c.send_raw(b"PING\r\n");
        }
        let (ra, closed_a) = a.read_until_close(Duration::from_millis(300));
        let (rb, closed_b) = b.read_until_close(Duration::from_millis(300));
        assert_eq!(show(&ra), show(&rb), "reply to {:?}", show(case));
        assert_eq!(closed_a, closed_b, "closing after {:?}", show(case));
        bystander_ok(&mut p);
    }
    let cases: &[&[u8]] = &[b"\x0bPING\r\n", b"ECHO \x0ba\x0bb\x0c\r\n"];
    for case in cases {
        let mut a = Raw::connect(p.ours.addr());
        let mut b = Raw::connect(p.redis.addr());
        a.send_raw(case);
        b.send_raw(case);
        a.send_raw(b"PING\r\n");
        b.send_raw(b"PING\r\n");
        let (ra, _) = a.read_until_close(Duration::from_millis(300));
        let (rb, _) = b.read_until_close(Duration::from_millis(300));
        assert_eq!(show(&ra), show(&rb), "reply to {:?}", show(case));
        bystander_ok(&mut p);
    }
}

/// A panic inside a command handler (forced with DEBUG PANIC) closes only the calling
/// connection: the server keeps running, other clients keep their connections and data,
/// and the panicking client leaves the client list.
#[test]
fn handler_panic_costs_only_that_connection() {
    let server = common::ours();
    let mut other = Raw::connect(server.addr());
    assert_eq!(other.cmd("SET survivor yes"), b"+OK\r\n");
    let mut victim = Raw::connect(server.addr());
    assert_eq!(victim.cmd("SET k v"), b"+OK\r\n");
    victim.send("DEBUG PANIC");
    let (reply, closed) = victim.read_until_close(CLOSE_WAIT);
    assert!(closed, "the panicking connection must be closed");
    assert!(
        reply.starts_with(b"-ERR internal error"),
        "{}",
        show(&reply)
    );
    assert_eq!(other.cmd("GET survivor"), b"$3\r\nyes\r\n");
    assert_eq!(other.cmd("GET k"), b"$1\r\nv\r\n");
    let mut fresh = Raw::connect(server.addr());
    assert_eq!(fresh.cmd("PING"), b"+PONG\r\n");
    let list = fresh.cmd("CLIENT LIST");
    let text = String::from_utf8_lossy(&list);
    assert_eq!(text.matches("id=").count(), 2, "{}", text);
}
