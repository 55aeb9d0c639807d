//! The built `rust-cache-server` binary: command-line flags, a redis.conf-style file
//! (port, bind, quoted values, an unknown directive that only warns), the startup log
//! line, and clean exits (status 0) on SIGTERM, SIGINT and SHUTDOWN.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{free_port, Raw};

const BIN: &str = env!("CARGO_BIN_EXE_rust-cache-server");

/// A running server process and its log lines (stdout and stderr merged).
struct Proc {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Proc {
    fn start(args: &[&str]) -> Proc {
        let mut child = Command::new(BIN)
            .args(args)
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the server binary");
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().expect("stdout");
        let err = child.stderr.take().expect("stderr");
        let tx2 = tx.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx2.send(l);
            }
        });
        Proc {
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }

    /// Waits (bounded) for a log line containing `needle`.
    fn wait_line(&mut self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        if let Some(l) = self.seen.iter().find(|l| l.contains(needle)) {
            return l.clone();
        }
        while std::time::Instant::now() < deadline {
            if let Ok(l) = self.lines.recv_timeout(Duration::from_millis(100)) {
                self.seen.push(l.clone());
                if l.contains(needle) {
                    return l;
                }
            }
        }
        panic!("no log line with {:?}; saw {:?}", needle, self.seen);
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{}", sig), &self.child.id().to_string()])
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill -{} failed", sig);
    }

    /// Waits (bounded) for the process to exit and returns its status code.
    fn wait_exit(&mut self) -> Option<i32> {
        for _ in 0..100 {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        panic!("server did not exit within 5 s; log: {:?}", self.seen);
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn addr(port: u16) -> std::net::SocketAddr {
    std::net::SocketAddr::from(([127, 0, 0, 1], port))
}

#[test]
fn port_flag_startup_line_and_sigterm() {
    let port = free_port();
    let mut p = Proc::start(&["--port", &port.to_string(), "--threads", "1"]);
    let line = p.wait_line("listening on");
    assert!(line.contains(&format!("127.0.0.1:{}", port)), "{}", line);
    assert!(line.contains("7.0.15"), "{}", line);
    let mut c = Raw::connect(addr(port));
    assert_eq!(c.cmd("PING"), b"+PONG\r\n");
    assert_eq!(c.cmd("SET k v"), b"+OK\r\n");
    p.signal("TERM");
    assert_eq!(p.wait_exit(), Some(0));
}

#[test]
fn sigint_exits_cleanly() {
    let port = free_port();
    let mut p = Proc::start(&["--port", &port.to_string(), "--threads", "1"]);
    p.wait_line("listening on");
    p.signal("INT");
    assert_eq!(p.wait_exit(), Some(0));
}

#[test]
fn config_file_and_shutdown() {
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("rcs-binary-{}-{}", std::process::id(), port));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("server.conf");
    std::fs::write(
        &file,
        format!(
            "# a comment\n\
             port {}\n\
             bind 127.0.0.1\n\
             requirepass \"pass word\"\n\
             maxmemory 100mb\n\
             timeout 300\n\
             no-such-directive yes\n",
            port
        ),
    )
    .expect("write config");
    let file_s = file.to_string_lossy().to_string();
    let mut p = Proc::start(&[&file_s, "--threads", "1", "--maxclients", "50"]);
    p.wait_line("listening on");
    let warn = p.wait_line("no-such-directive");
    assert!(warn.contains("WARN"), "{}", warn);
    let mut c = Raw::connect(addr(port));
    assert_eq!(
        c.cmd("PING"),
        b"-NOAUTH Authentication required.\r\n".to_vec()
    );
    assert_eq!(c.cmd("AUTH \"pass word\""), b"+OK\r\n");
    assert_eq!(
        c.cmd("CONFIG GET maxmemory"),
        b"*2\r\n$9\r\nmaxmemory\r\n$9\r\n104857600\r\n"
    );
    // The flag overrides the file's default.
    assert_eq!(
        c.cmd("CONFIG GET maxclients"),
        b"*2\r\n$10\r\nmaxclients\r\n$2\r\n50\r\n"
    );
    let info = String::from_utf8_lossy(&c.cmd("INFO server")).to_string();
    assert!(info.contains("config_file:/"), "{}", info);
    assert!(info.contains(&format!("tcp_port:{}", port)), "{}", info);
    // SHUTDOWN: no reply, the connection closes, the process exits 0.
    c.send("SHUTDOWN");
    let (reply, closed) = c.read_until_close(Duration::from_secs(5));
    assert!(reply.is_empty(), "{}", common::show(&reply));
    assert!(closed);
    assert_eq!(p.wait_exit(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_config_value_fails_to_start() {
    let dir = std::env::temp_dir().join(format!("rcs-binary-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("bad.conf");
    std::fs::write(&file, "port notanumber\n").expect("write config");
    let mut p = Proc::start(&[&file.to_string_lossy()]);
    let code = p.wait_exit();
    assert_ne!(code, Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn redis_cli_connects_cleanly() {
    let port = free_port();
    let mut p = Proc::start(&["--port", &port.to_string(), "--threads", "1"]);
    p.wait_line("listening on");
    let run = |args: &[&str]| -> String {
        let out = Command::new("redis-cli")
            .args(["-p", &port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli");
        assert!(out.status.success(), "{:?}", out);
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    assert_eq!(run(&["PING"]), "PONG\n");
    // What redis-cli asks for its help and hints must parse.
    let docs = run(&["COMMAND", "DOCS", "get"]);
    assert!(docs.contains("group"), "{}", docs);
    let count: usize = run(&["COMMAND", "COUNT"]).trim().parse().expect("count");
    assert!(count > 20);
    assert!(run(&["INFO", "server"]).contains("redis_version:7.0.15"));
    p.signal("TERM");
    assert_eq!(p.wait_exit(), Some(0));
}

/// `CONFIG SET loglevel` changes what the running binary logs: a protocol error is logged
/// at debug level, so it shows only after the level is lowered.
#[test]
fn config_set_loglevel_takes_effect() {
    let port = free_port();
    let mut p = Proc::start(&["--port", &port.to_string(), "--loglevel", "warning"]);
    // The startup line is logged at info level, hidden at warning: wait for the port.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(addr(port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "server never listened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut c = Raw::connect(addr(port));
    assert_eq!(c.cmd("PING"), b"+PONG\r\n");
    let mut bad = Raw::connect(addr(port));
    bad.send_raw(b"*1\r\n+quiet\r\n");
    let _ = bad.read_until_close(Duration::from_secs(2));
    assert_eq!(c.cmd("CONFIG SET loglevel debug"), b"+OK\r\n");
    let mut bad = Raw::connect(addr(port));
    bad.send_raw(b"*1\r\n+loud\r\n");
    let _ = bad.read_until_close(Duration::from_secs(2));
    p.wait_line("expected '$', got '+'");
    assert!(
        p.seen
            .iter()
            .filter(|l| l.contains("protocol error"))
            .count()
            == 1,
        "only the error after CONFIG SET is logged: {:?}",
        p.seen
    );
    p.signal("TERM");
    assert_eq!(p.wait_exit(), Some(0));
}
