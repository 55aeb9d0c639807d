//! Shared test harness: starts this server in-process and a real `redis-server` on
//! ephemeral ports of 127.0.0.1, and talks raw RESP to both so replies can be compared
//! byte for byte (the differential tests).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rust_cache_server::{Config, ServerHandle};

/// Starts this server with test defaults (ephemeral port, 2 threads).
pub fn ours() -> ServerHandle {
    ours_with(|_| {})
}

/// Starts this server after letting the caller adjust the config.
pub fn ours_with(f: impl FnOnce(&mut Config)) -> ServerHandle {
    let mut c = Config {
        port: 0,
        threads: 2,
        ..Config::default()
    };
    f(&mut c);
    rust_cache_server::spawn(c).expect("start rust-cache-server")
}

/// A `redis-server` child process, killed on drop.
pub struct RedisServer {
    child: Child,
    pub port: u16,
    dir: std::path::PathBuf,
}

impl RedisServer {
    pub fn start() -> RedisServer {
        Self::start_with(&[])
    }

    /// Starts redis-server with extra `--name value` arguments.
    pub fn start_with(extra: &[&str]) -> RedisServer {
        for _attempt in 0..5 {
            let port = free_port();
            let dir =
                std::env::temp_dir().join(format!("rcs-redis-{}-{}", std::process::id(), port));
            let _ = std::fs::create_dir_all(&dir);
            let child = Command::new("redis-server")
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .arg("--dir")
                .arg(&dir)
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server not found: run scripts/test.sh, which installs it");
            let mut s = RedisServer { child, port, dir };
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(mut c) = TcpStream::connect(("127.0.0.1", port)) {
                    let _ = c.set_read_timeout(Some(Duration::from_secs(1)));
                    if c.write_all(b"PING\r\n").is_ok() {
                        let mut b = [0u8; 64];
                        if let Ok(n) = c.read(&mut b) {
                            if n > 0 && (b.starts_with(b"+PONG") || b.starts_with(b"-NOAUTH")) {
                                return s;
                            }
                        }
                    }
                }
                if let Ok(Some(_)) = s.child.try_wait() {
                    break; // port taken or bad flag: try again on another port
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = s.child.kill();
        }
        panic!("could not start redis-server");
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral port")
}

/// A raw RESP connection: sends commands, returns each reply's exact bytes.
pub struct Raw {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    pub fn connect(addr: SocketAddr) -> Raw {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let _ = stream.set_nodelay(true);
        Raw {
            stream,
            buf: Vec::new(),
        }
    }

    /// Wraps a stream connected some other way (e.g. with socket options set first).
    pub fn from_stream(stream: TcpStream) -> Raw {
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let _ = stream.set_nodelay(true);
        Raw {
            stream,
            buf: Vec::new(),
        }
    }

    /// Sends one command given as separate arguments.
    pub fn send_args(&mut self, args: &[&[u8]]) {
        self.stream.write_all(&encode_command(args)).expect("write");
    }

    /// Sends raw bytes as they are.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Sends a command line split like redis-cli splits it (quotes allowed).
    pub fn send(&mut self, line: &str) {
        let args = split(line);
        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        self.send_args(&refs);
    }

    /// Reads one complete reply and returns its bytes.
    pub fn read_reply(&mut self) -> Vec<u8> {
        loop {
            if let Some(n) = reply_len(&self.buf) {
                return self.buf.drain(..n).collect();
            }
            let mut chunk = [0u8; 65536];
            let n = self.stream.read(&mut chunk).expect("read reply");
            assert!(n > 0, "connection closed while waiting for a reply");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Whether a complete reply arrives within `wait`; the reply stays to be read.
    pub fn reply_within(&mut self, wait: Duration) -> bool {
        let _ = self.stream.set_read_timeout(Some(wait));
        let start = std::time::Instant::now();
        let mut chunk = [0u8; 65536];
        let done = loop {
            if reply_len(&self.buf).is_some() {
                break true;
            }
            if start.elapsed() >= wait {
                break false;
            }
            match self.stream.read(&mut chunk) {
                Ok(n) if n > 0 => self.buf.extend_from_slice(&chunk[..n]),
                _ => break reply_len(&self.buf).is_some(),
            }
        };
        let _ = self.stream.set_read_timeout(Some(Duration::from_secs(30)));
        done
    }

    /// Reads whatever arrives until the peer closes (or times out); for protocol errors.
    pub fn read_until_close(&mut self, timeout: Duration) -> (Vec<u8>, bool) {
        let _ = self.stream.set_read_timeout(Some(timeout));
        let mut out = std::mem::take(&mut self.buf);
        let mut chunk = [0u8; 65536];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return (out, true),
                Ok(n) => out.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (out, true),
                Err(_) => return (out, false),
            }
        }
    }

    /// Sends a command line and returns the reply bytes.
    pub fn cmd(&mut self, line: &str) -> Vec<u8> {
        self.send(line);
        self.read_reply()
    }

    pub fn cmd_args(&mut self, args: &[&[u8]]) -> Vec<u8> {
        self.send_args(args);
        self.read_reply()
    }
}

/// Encodes a command as a RESP multibulk.
pub fn encode_command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Splits a line into arguments the way redis-cli does.
pub fn split(line: &str) -> Vec<Vec<u8>> {
    rust_cache_server::protocol::decode::split_args(line.as_bytes())
        .unwrap_or_else(|| panic!("unbalanced quotes in test line {:?}", line))
}

fn line_end(buf: &[u8], from: usize) -> Option<usize> {
    buf[from..]
        .windows(2)
        .position(|w| w == b"\r\n")
        .map(|p| from + p)
}

/// Length of the complete RESP2/RESP3 reply at the start of `buf`, if complete.
pub fn reply_len(buf: &[u8]) -> Option<usize> {
    reply_len_at(buf, 0)
}

fn reply_len_at(buf: &[u8], at: usize) -> Option<usize> {
    if at >= buf.len() {
        return None;
    }
    let end = line_end(buf, at)?;
    // Only length headers must be text; error and status lines may carry any bytes.
    let head = || std::str::from_utf8(&buf[at + 1..end]).ok();
    match buf[at] {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Some(end + 2),
        b'$' | b'=' | b'!' => {
            let n: i64 = head()?.parse().ok()?;
            if n < 0 {
                return Some(end + 2);
            }
            let stop = end + 2 + n as usize + 2;
            (buf.len() >= stop).then_some(stop)
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n: i64 = head()?.parse().ok()?;
            if n < 0 {
                return Some(end + 2);
            }
            let count = if matches!(buf[at], b'%' | b'|') {
                n * 2
            } else {
                n
            };
            let mut pos = end + 2;
            for _ in 0..count {
                pos = reply_len_at(buf, pos)?;
            }
            if buf[at] == b'|' {
                // An attribute precedes the real reply.
                return reply_len_at(buf, pos);
            }
            Some(pos)
        }
        _ => Some(end + 2),
    }
}

/// Splits an aggregate reply into the raw bytes of its elements (for order-insensitive
/// comparison). Non-aggregates come back as a single element.
pub fn elements(reply: &[u8]) -> Vec<Vec<u8>> {
    if !matches!(reply.first(), Some(b'*' | b'~' | b'%')) {
        return vec![reply.to_vec()];
    }
    let end = line_end(reply, 0).expect("header");
    let n: i64 = std::str::from_utf8(&reply[1..end])
        .unwrap()
        .parse()
        .unwrap();
    if n < 0 {
        return vec![reply.to_vec()];
    }
    let count = if reply[0] == b'%' { n * 2 } else { n };
    let mut out = Vec::new();
    let mut pos = end + 2;
    for _ in 0..count {
        let next = reply_len_at(reply, pos).expect("element");
        out.push(reply[pos..next].to_vec());
        pos = next;
    }
    out
}

/// Printable form of reply bytes for assertion messages.
pub fn show(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.replace("\r\n", "\\r\\n"),
        // Escaped, not lossy: replies differing only in invalid UTF-8 must not look equal.
        Err(_) => b.escape_ascii().to_string(),
    }
}

/// This server and redis-server side by side, one connection to each.
pub struct Pair {
    pub ours: ServerHandle,
    pub redis: RedisServer,
    pub a: Raw,
    pub b: Raw,
}

impl Pair {
    pub fn new() -> Pair {
        Self::with(|_| {}, &[])
    }

    /// Both servers with matching adjustments (our config closure, redis-server flags).
    pub fn with(f: impl FnOnce(&mut Config), redis_args: &[&str]) -> Pair {
        let ours = ours_with(f);
        let redis = RedisServer::start_with(redis_args);
        let a = Raw::connect(ours.addr());
        let b = Raw::connect(redis.addr());
        Pair { ours, redis, a, b }
    }

    /// Sends a line to both and returns (ours, redis).
    pub fn both(&mut self, line: &str) -> (Vec<u8>, Vec<u8>) {
        (self.a.cmd(line), self.b.cmd(line))
    }

    pub fn both_args(&mut self, args: &[&[u8]]) -> (Vec<u8>, Vec<u8>) {
        (self.a.cmd_args(args), self.b.cmd_args(args))
    }

    /// Sends a line to both and asserts identical reply bytes.
    pub fn check(&mut self, line: &str) -> Vec<u8> {
        let (x, y) = self.both(line);
        assert_eq!(
            show(&x),
            show(&y),
            "reply differs for `{}` (left: ours, right: redis-server)",
            line
        );
        x
    }

    /// Runs every non-empty, non-comment line of a script through `check`.
    pub fn script(&mut self, text: &str) {
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            self.check(line);
        }
    }

    /// Like `check`, but the elements of an aggregate reply may come in any order.
    pub fn check_unordered(&mut self, line: &str) {
        let (x, y) = self.both(line);
        let (mut ex, mut ey) = (elements(&x), elements(&y));
        ex.sort();
        ey.sort();
        let hx = &x[..line_end(&x, 0).map(|e| e + 2).unwrap_or(0)];
        let hy = &y[..line_end(&y, 0).map(|e| e + 2).unwrap_or(0)];
        assert_eq!(show(hx), show(hy), "reply header differs for `{}`", line);
        let sx: Vec<String> = ex.iter().map(|e| show(e)).collect();
        let sy: Vec<String> = ey.iter().map(|e| show(e)).collect();
        assert_eq!(sx, sy, "reply elements differ for `{}` (ours, redis)", line);
    }
}

impl Default for Pair {
    fn default() -> Self {
        Self::new()
    }
}

/// Waits (at most 5 s) until our server at `addr` reports exactly `n` blocked clients, so
/// a test knows its blocking commands are parked before it writes.
pub fn wait_blocked(addr: SocketAddr, n: usize) {
    let mut c = Raw::connect(addr);
    let deadline = Instant::now() + Duration::from_secs(5);
    let want = format!("blocked_clients:{n}\r\n");
    loop {
        let info = c.cmd("INFO clients");
        if String::from_utf8_lossy(&info).contains(&want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "never reached {n} blocked clients: {}",
            show(&info)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A `redis` crate connection to an address.
pub fn client(addr: SocketAddr) -> redis::Connection {
    redis::Client::open(format!("redis://{}/", addr))
        .expect("client")
        .get_connection()
        .expect("connect")
}

/// One connection to each server; every command goes to both.
pub struct Both {
    pub ours: Raw,
    pub redis: Raw,
}

impl Both {
    pub fn new(p: &Pair) -> Both {
        Both {
            ours: Raw::connect(p.ours.addr()),
            redis: Raw::connect(p.redis.addr()),
        }
    }

    /// A RESP3 connection (HELLO 3; its reply carries the connection id, not compared).
    pub fn resp3(p: &Pair) -> Both {
        let mut b = Both::new(p);
        for r in [b.ours.cmd("HELLO 3"), b.redis.cmd("HELLO 3")] {
            assert!(r.starts_with(b"%7"), "{}", show(&r));
        }
        b
    }

    /// CLIENT ID on each side.
    pub fn id(&mut self) -> (u64, u64) {
        let num = |r: Vec<u8>| -> u64 {
            String::from_utf8_lossy(&r)
                .trim()
                .trim_start_matches(':')
                .parse()
                .expect("CLIENT ID")
        };
        (
            num(self.ours.cmd("CLIENT ID")),
            num(self.redis.cmd("CLIENT ID")),
        )
    }

    /// Reads `n` frames from each side and asserts they are identical, in order; `ids`
    /// are connection ids that may appear as integers (`:id`), differing per server.
    pub fn expect_ids(&mut self, n: usize, what: &str, ids: (u64, u64)) -> Vec<Vec<u8>> {
        let a: Vec<Vec<u8>> = (0..n).map(|_| self.ours.read_reply()).collect();
        let b: Vec<Vec<u8>> = (0..n).map(|_| self.redis.read_reply()).collect();
        let norm = |fs: &[Vec<u8>], id: u64| -> Vec<String> {
            fs.iter()
                .map(|f| show(f).replace(&format!(":{id}\\r\\n"), ":<id>\\r\\n"))
                .collect()
        };
        assert_eq!(
            norm(&a, ids.0),
            norm(&b, ids.1),
            "frames differ after `{what}` (left: ours, right: redis)"
        );
        a
    }

    pub fn expect(&mut self, n: usize, what: &str) -> Vec<Vec<u8>> {
        self.expect_ids(n, what, (u64::MAX, u64::MAX))
    }

    /// Sends a command and compares the `n` frames it produces.
    pub fn cmd(&mut self, line: &str, n: usize) -> Vec<Vec<u8>> {
        self.ours.send(line);
        self.redis.send(line);
        self.expect(n, line)
    }

    /// A command with one reply, compared.
    pub fn check(&mut self, line: &str) -> Vec<u8> {
        self.cmd(line, 1).remove(0)
    }

    /// A command naming a connection id: `{}` in `line` is each side's id.
    pub fn check_with_id(&mut self, line: &str, ids: (u64, u64), n: usize) -> Vec<Vec<u8>> {
        self.ours.send(&line.replace("{}", &ids.0.to_string()));
        self.redis.send(&line.replace("{}", &ids.1.to_string()));
        self.expect_ids(n, line, ids)
    }

    pub fn script(&mut self, text: &str) {
        for line in text.lines().map(str::trim) {
            if !line.is_empty() && !line.starts_with('#') {
                self.check(line);
            }
        }
    }

    /// Nothing was pushed: a PING's reply is the next frame on both sides.
    pub fn quiet(&mut self, what: &str) {
        let f = self.check("PING");
        assert!(
            f == b"+PONG\r\n" || f.starts_with(b"*2\r\n$4\r\npong"),
            "something was pushed after `{what}`: {}",
            show(&f)
        );
    }

    /// One field of this connection's CLIENT INFO line, on each side.
    pub fn info_field(&mut self, name: &str) -> (String, String) {
        let f = |r: Vec<u8>| field(&String::from_utf8_lossy(&r), name);
        (
            f(self.ours.cmd("CLIENT INFO")),
            f(self.redis.cmd("CLIENT INFO")),
        )
    }

    /// Waits until the connections with these ids are gone from both servers.
    pub fn wait_gone(&mut self, ids: (u64, u64)) {
        let deadline = Instant::now() + Duration::from_secs(5);
        for (conn, id) in [(&mut self.ours, ids.0), (&mut self.redis, ids.1)] {
            loop {
                let r = conn.cmd(&format!("CLIENT LIST ID {id}"));
                if !String::from_utf8_lossy(&r).contains("id=") {
                    break;
                }
                assert!(Instant::now() < deadline, "client {id} never left");
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
    /// Reads `n` frames from each side, in order.
    pub fn frames(&mut self, n: usize) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let a = (0..n).map(|_| self.ours.read_reply()).collect();
        let b = (0..n).map(|_| self.redis.read_reply()).collect();
        (a, b)
    }

    /// Reads `n` frames from each side and asserts they are the same multiset.
    pub fn expect_unordered(&mut self, n: usize, what: &str) {
        let (a, b) = self.frames(n);
        let mut sa: Vec<String> = a.iter().map(|f| show(f)).collect();
        let mut sb: Vec<String> = b.iter().map(|f| show(f)).collect();
        sa.sort();
        sb.sort();
        assert_eq!(sa, sb, "frames differ after `{what}` (ours, redis)");
    }
}

/// `name=value` out of a CLIENT LIST/INFO line, or `name:value` out of INFO.
pub fn field(text: &str, name: &str) -> String {
    for sep in ["=", ":"] {
        let pat = format!("{name}{sep}");
        for part in text.split([' ', '\r', '\n']) {
            if let Some(v) = part.strip_prefix(&pat) {
                return v.to_string();
            }
        }
    }
    panic!("no field {name} in {text}")
}

/// Sends `line` on `c` every 20 ms until the reply is a BUSY error (a script is past the
/// busy threshold), for at most 10 s; returns that reply.
pub fn wait_busy(c: &mut Raw, line: &str) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = c.cmd(line);
        if r.starts_with(b"-BUSY") {
            return r;
        }
        assert!(Instant::now() < deadline, "never busy: {}", show(&r));
        std::thread::sleep(Duration::from_millis(20));
    }
}
