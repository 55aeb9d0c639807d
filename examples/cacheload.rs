//! Load generator for the memory-budget measurements (`scripts/hitratio.sh`, the budget
//! figures in the README). Speaks RESP over one or more pipelined connections, to this
//! server or to redis-server alike.
//!
//! `cacheload hitratio --port P --keys N --requests M --alpha A [--seed S] [--value-size B]
//! [--ttl SECS] [--window W]` replays a seeded Zipf(A) trace of M requests over N keys the
//! way a cache is used: GET the key, and on a miss SET it (with `EX SECS` if --ttl is given).
//! Prints `hits misses hit_ratio seconds`.
//!
//! `cacheload fill --port P --bytes T [--min 10] [--max 102400] [--conns C] [--seed S]`
//! writes new keys with values of log-uniform random sizes until T bytes of values were
//! sent, and polls `INFO memory` meanwhile. Prints the highest `used_memory` and
//! `used_memory_rss` seen, the `used_memory_peak`, and how many replies were errors.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(mode) = args.first() else {
        usage();
    };
    let opt = |name: &str, default: &str| -> String {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
            .unwrap_or_else(|| default.to_string())
    };
    let num = |name: &str, default: &str| -> u64 {
        opt(name, default).parse().unwrap_or_else(|_| {
            eprintln!("{} wants a number", name);
            std::process::exit(2)
        })
    };
    let port = num("--port", "6379") as u16;
    match mode.as_str() {
        "hitratio" => {
            let alpha: f64 = opt("--alpha", "0.99").parse().unwrap_or(0.99);
            hitratio(
                port,
                num("--keys", "1000000") as usize,
                num("--requests", "1000000"),
                alpha,
                num("--seed", "1"),
                num("--value-size", "100") as usize,
                num("--ttl", "0"),
                num("--window", "64") as usize,
            )
        }
        "fill" => fill(
            port,
            num("--bytes", "100000000"),
            num("--min", "10"),
            num("--max", "102400"),
            num("--conns", "4") as usize,
            num("--seed", "1"),
        ),
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!("usage: cacheload hitratio|fill --port P ... (see the source's doc)");
    std::process::exit(2)
}

/// splitmix64: a small seeded generator, so both servers get the same trace.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Zipf(alpha) over ranks 0..n by inverse CDF (binary search in the cumulative weights).
struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    fn new(n: usize, alpha: f64) -> Zipf {
        let mut cdf = Vec::with_capacity(n);
        let mut sum = 0.0;
        for r in 1..=n {
            sum += 1.0 / (r as f64).powf(alpha);
            cdf.push(sum);
        }
        for c in cdf.iter_mut() {
            *c /= sum;
        }
        Zipf { cdf }
    }

    fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1)
    }
}

fn push_cmd(buf: &mut Vec<u8>, args: &[&[u8]]) {
    buf.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        buf.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        buf.extend_from_slice(a);
        buf.extend_from_slice(b"\r\n");
    }
}

/// One RESP reply, reduced to what the load needs.
enum Reply {
    Nil,
    Data(Vec<u8>),
    Error(String),
    Other,
}

fn read_reply(r: &mut BufReader<TcpStream>) -> Reply {
    let mut line = Vec::new();
    if r.read_until(b'\n', &mut line).unwrap_or(0) == 0 {
        eprintln!("connection closed by the server");
        std::process::exit(1);
    }
    let body = &line[1..line.len().saturating_sub(2)];
    match line[0] {
        b'$' => {
            let n: i64 = std::str::from_utf8(body)
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(-1);
            if n < 0 {
                return Reply::Nil;
            }
            let mut data = vec![0u8; n as usize + 2];
            r.read_exact(&mut data).expect("bulk reply");
            data.truncate(n as usize);
            Reply::Data(data)
        }
        b'-' => Reply::Error(String::from_utf8_lossy(body).into_owned()),
        b'_' => Reply::Nil,
        _ => Reply::Other,
    }
}

fn connect(port: u16) -> (TcpStream, BufReader<TcpStream>) {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap_or_else(|e| {
        eprintln!("cannot connect to 127.0.0.1:{}: {}", port, e);
        std::process::exit(1)
    });
    s.set_nodelay(true).ok();
    let r = BufReader::with_capacity(1 << 16, s.try_clone().expect("clone socket"));
    (s, r)
}

#[allow(clippy::too_many_arguments)]
fn hitratio(
    port: u16,
    keys: usize,
    requests: u64,
    alpha: f64,
    seed: u64,
    value_size: usize,
    ttl: u64,
    window: usize,
) {
    let zipf = Zipf::new(keys, alpha);
    let mut rng = Rng(seed);
    let (mut w, mut r) = connect(port);
    let value = vec![b'v'; value_size];
    let ttl_text = ttl.to_string();
    // Outstanding requests in send order: Some(rank) for a GET, None for a SET.
    let mut pending: std::collections::VecDeque<Option<usize>> = Default::default();
    let mut to_set: Vec<usize> = Vec::new();
    let mut out = Vec::with_capacity(1 << 16);
    let (mut sent, mut hits, mut misses, mut errors) = (0u64, 0u64, 0u64, 0u64);
    let started = Instant::now();
    while sent < requests || !pending.is_empty() || !to_set.is_empty() {
        // SETs of missed keys first, then GETs, up to the window.
        while pending.len() < window && (!to_set.is_empty() || sent < requests) {
            if let Some(rank) = to_set.pop() {
                let key = format!("key:{}", rank);
                if ttl > 0 {
                    push_cmd(
                        &mut out,
                        &[b"SET", key.as_bytes(), &value, b"EX", ttl_text.as_bytes()],
                    );
                } else {
                    push_cmd(&mut out, &[b"SET", key.as_bytes(), &value]);
                }
                pending.push_back(None);
            } else {
                let rank = zipf.sample(&mut rng);
                let key = format!("key:{}", rank);
                push_cmd(&mut out, &[b"GET", key.as_bytes()]);
                pending.push_back(Some(rank));
                sent += 1;
            }
        }
        if !out.is_empty() {
            w.write_all(&out).expect("write");
            out.clear();
        }
        // Read at least one reply, and every one already buffered.
        while let Some(kind) = pending.pop_front() {
            let reply = read_reply(&mut r);
            match (kind, reply) {
                (_, Reply::Error(e)) => {
                    errors += 1;
                    if errors == 1 {
                        eprintln!("error reply: {}", e);
                    }
                }
                (Some(rank), Reply::Nil) => {
                    misses += 1;
                    to_set.push(rank);
                }
                (Some(_), _) => hits += 1,
                (None, _) => {}
            }
            if r.buffer().is_empty() {
                break;
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "hits {} misses {} hit_ratio {:.4} seconds {:.1} errors {}",
        hits,
        misses,
        hits as f64 / (hits + misses).max(1) as f64,
        secs,
        errors
    );
}

/// `used_memory`, `used_memory_rss` and `used_memory_peak` from INFO memory.
fn info_memory(w: &mut TcpStream, r: &mut BufReader<TcpStream>) -> (u64, u64, u64) {
    let mut out = Vec::new();
    push_cmd(&mut out, &[b"INFO", b"memory"]);
    w.write_all(&out).expect("write");
    let Reply::Data(text) = read_reply(r) else {
        return (0, 0, 0);
    };
    let text = String::from_utf8_lossy(&text);
    let field = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    (
        field("used_memory:"),
        field("used_memory_rss:"),
        field("used_memory_peak:"),
    )
}

fn fill(port: u16, bytes: u64, min: u64, max: u64, conns: usize, seed: u64) {
    let started = Instant::now();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let per_conn = bytes / conns.max(1) as u64;
    let workers: Vec<_> = (0..conns.max(1))
        .map(|c| {
            std::thread::spawn(move || {
                let mut rng = Rng(seed.wrapping_mul(1000).wrapping_add(c as u64));
                let (mut w, mut r) = connect(port);
                let value = vec![b'x'; max as usize];
                let lmin = (min.max(1) as f64).ln();
                let lmax = (max as f64).ln().max(lmin);
                let mut written = 0u64;
                let mut errors = 0u64;
                let mut i = 0u64;
                let mut out = Vec::new();
                while written < per_conn {
                    // A batch of 16 pipelined SETs.
                    for _ in 0..16 {
                        let size = (lmin + (lmax - lmin) * rng.unit()).exp() as usize;
                        let size = size.clamp(min as usize, max as usize);
                        let key = format!("fill:{}:{}", c, i);
                        i += 1;
                        push_cmd(&mut out, &[b"SET", key.as_bytes(), &value[..size]]);
                        written += size as u64;
                    }
                    w.write_all(&out).expect("write");
                    out.clear();
                    for _ in 0..16 {
                        if let Reply::Error(e) = read_reply(&mut r) {
                            errors += 1;
                            if errors == 1 {
                                eprintln!("error reply: {}", e);
                            }
                        }
                    }
                }
                (written, errors, i)
            })
        })
        .collect();
    let d = done.clone();
    let monitor = std::thread::spawn(move || {
        let (mut w, mut r) = connect(port);
        let (mut used, mut rss, mut peak) = (0, 0, 0);
        while !d.load(std::sync::atomic::Ordering::Relaxed) {
            let (u, s, p) = info_memory(&mut w, &mut r);
            used = used.max(u);
            rss = rss.max(s);
            peak = peak.max(p);
            std::thread::sleep(Duration::from_millis(5));
        }
        let (u, s, p) = info_memory(&mut w, &mut r);
        (used.max(u), rss.max(s), peak.max(p), u, s)
    });
    let (mut written, mut errors, mut keys) = (0, 0, 0);
    for h in workers {
        let (wr, e, k) = h.join().expect("worker");
        written += wr;
        errors += e;
        keys += k;
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let (used, rss, peak, used_end, rss_end) = monitor.join().expect("monitor");
    println!(
        "written {} keys {} errors {} seconds {:.1} max_used_memory {} max_rss {} used_memory_peak {} end_used_memory {} end_rss {}",
        written,
        keys,
        errors,
        started.elapsed().as_secs_f64(),
        used,
        rss,
        peak,
        used_end,
        rss_end
    );
}
