//! `maxmemory`: under `noeviction` a server over its budget refuses writes that may grow
//! memory with Redis's OOM error and still serves reads and deletes; under an eviction
//! policy the budget holds under a heavy write load (the policies themselves are in
//! `eviction.rs`).

mod common;
use common::Pair;

#[test]
fn over_budget_refuses_denyoom_writes_like_redis_noeviction() {
    let mut p = Pair::with(
        |c| {
            c.maxmemory = 1;
            c.maxmemory_policy = "noeviction".into();
        },
        &["--maxmemory", "1", "--maxmemory-policy", "noeviction"],
    );
    assert_eq!(
        p.check("SET k v"),
        b"-OOM command not allowed when used memory > 'maxmemory'.\r\n"
    );
    p.script(
        "
        INCR n
        MSET a 1 b 2
        APPEND k x
        GET k
        DEL k
        EXISTS k
        PING
        CONFIG SET maxmemory 0
        SET k v
        GET k
        ",
    );
}

/// Our server binary as a process of its own (its memory figures are then its own, not
/// the test process's), killed on drop.
struct Spawned {
    child: std::process::Child,
    port: u16,
}

impl Spawned {
    fn start(args: &[&str]) -> Spawned {
        for _ in 0..5 {
            let port = common::free_port();
            let child = std::process::Command::new(env!("CARGO_BIN_EXE_rust-cache-server"))
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--loglevel", "warning"])
                .args(args)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("start the server binary");
            let mut s = Spawned { child, port };
            for _ in 0..500 {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return s;
                }
                if let Ok(Some(_)) = s.child.try_wait() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            let _ = s.child.kill();
        }
        panic!("the server binary did not start");
    }

    fn addr(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Anonymous resident memory (the heap; not the binary's mapped code) in bytes.
    fn rss_anon(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("RssAnon:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn info_field(c: &mut common::Raw, section: &str, name: &str) -> u64 {
    let text = String::from_utf8_lossy(&c.cmd(&format!("INFO {}", section))).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{}:", name)))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {} in INFO {}", name, section))
}

/// The budget holds under a write-heavy load of mixed sizes (10 B to 100 KB, log-uniform)
/// totalling ten times maxmemory from three connections: used_memory stays within 5% of
/// maxmemory and the heap's resident memory within 1.25 times it.
#[test]
fn budget_holds_under_mixed_size_writes_of_ten_times_maxmemory() {
    const MAX: u64 = 48 << 20;
    let s = Spawned::start(&[
        "--maxmemory",
        &MAX.to_string(),
        "--maxmemory-policy",
        "allkeys-lru",
        "--threads",
        "2",
    ]);
    let addr = s.addr();
    let rss_start = s.rss_anon();
    let writers: Vec<_> = (0..3u64)
        .map(|w| {
            std::thread::spawn(move || {
                let mut c = common::Raw::connect(addr);
                let value = vec![b'x'; 100_000];
                let mut seed = 0x9E37_79B9_7F4A_7C15u64.wrapping_mul(w + 1);
                let (mut written, mut i) = (0u64, 0u64);
                // Each writer a third of 10 x maxmemory, 8 pipelined SETs at a time.
                while written < 10 * MAX / 3 {
                    for _ in 0..8 {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        let u = (seed >> 11) as f64 / (1u64 << 53) as f64;
                        let size = (10f64.ln() + u * (100_000f64 / 10.0).ln()).exp() as usize;
                        let key = format!("w{}:{}", w, i);
                        i += 1;
                        c.send_args(&[b"SET", key.as_bytes(), &value[..size.min(100_000)]]);
                        written += size as u64;
                    }
                    for _ in 0..8 {
                        let r = c.read_reply();
                        assert_eq!(r, b"+OK\r\n", "{}", common::show(&r));
                    }
                }
            })
        })
        .collect();
    let mut c = common::Raw::connect(addr);
    let (mut used_max, mut rss_max) = (0u64, 0u64);
    while !writers.iter().all(|w| w.is_finished()) {
        used_max = used_max.max(info_field(&mut c, "memory", "used_memory"));
        rss_max = rss_max.max(s.rss_anon());
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    for w in writers {
        w.join().expect("writer");
    }
    let peak = info_field(&mut c, "memory", "used_memory_peak");
    let evicted = info_field(&mut c, "stats", "evicted_keys");
    assert!(evicted > 1000, "only {} keys evicted", evicted);
    let over = |x: u64| x as f64 / MAX as f64;
    assert!(
        over(used_max.max(peak)) <= 1.05,
        "used_memory reached {:.3} x maxmemory (polled {}, peak {})",
        over(used_max.max(peak)),
        used_max,
        peak
    );
    assert!(
        over(rss_max) <= 1.25,
        "heap RSS reached {:.3} x maxmemory (at start {:.3}; used_memory peak {:.3})",
        over(rss_max),
        over(rss_start),
        over(used_max.max(peak))
    );
}
