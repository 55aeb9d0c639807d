//! Pub/Sub under load, on this server alone: per-publisher order for many subscribers,
//! prompt delivery to a client that sends nothing, the slow-subscriber limits (a
//! subscriber that never reads is disconnected at the hard limit, or after the soft
//! limit's seconds, while another keeps receiving everything), and subscription churn.
//! Every loop is bounded in count and time.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{ours, ours_with, show, Raw};

/// The elements of a message frame (`*3 message ch payload` or `*4 pmessage ...`).
fn frame_parts(frame: &[u8]) -> Vec<Vec<u8>> {
    common::elements(frame)
        .into_iter()
        .map(|e| {
            // `$n\r\n<bytes>\r\n` -> bytes
            let start = e.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1);
            e[start..e.len().saturating_sub(2)].to_vec()
        })
        .collect()
}

/// The CLIENT LIST line of client `id`, if connected.
fn client_line(admin: &mut Raw, id: &str) -> Option<String> {
    let list = String::from_utf8_lossy(&admin.cmd("CLIENT LIST")).into_owned();
    list.lines()
        .find(|l| l.split(' ').any(|kv| kv == format!("id={id}")))
        .map(str::to_string)
}

fn omem(line: &str) -> u64 {
    line.split(' ')
        .find_map(|kv| kv.strip_prefix("omem="))
        .and_then(|v| v.parse().ok())
        .expect("omem field")
}

fn client_id(c: &mut Raw) -> String {
    let r = c.cmd("CLIENT ID");
    String::from_utf8_lossy(&r[1..]).trim().to_string()
}

/// A subscriber whose receive window stays small and which never reads: what the server
/// sends piles up in the server's output buffer once the kernel buffers are full.
fn stalled_subscriber(addr: SocketAddr, channel: &str) -> (Raw, String) {
    let sock =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    sock.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    sock.connect(&addr.into()).expect("connect");
    let mut c = Raw::from_stream(sock.into());
    let id = client_id(&mut c);
    c.send(&format!("SUBSCRIBE {channel}"));
    assert_eq!(
        c.read_reply(),
        format!(
            "*3\r\n$9\r\nsubscribe\r\n${}\r\n{channel}\r\n:1\r\n",
            channel.len()
        )
        .as_bytes()
    );
    (c, id)
}

/// Publishes `count` pipelined messages and returns the receiver counts.
fn publish_batch(
    p: &mut Raw,
    channel: &str,
    payload: &[u8],
    first: usize,
    count: usize,
) -> Vec<i64> {
    let mut batch = Vec::new();
    for i in first..first + count {
        let mut msg = format!("{i}:").into_bytes();
        msg.extend_from_slice(payload);
        batch.extend_from_slice(&common::encode_command(&[
            b"PUBLISH",
            channel.as_bytes(),
            &msg,
        ]));
    }
    p.send_raw(&batch);
    (0..count)
        .map(|_| {
            let r = p.read_reply();
            String::from_utf8_lossy(&r[1..])
                .trim()
                .parse()
                .expect("integer reply")
        })
        .collect()
}

/// Reads message frames until `expect` arrived, checking that the sequence numbers at the
/// start of each payload run 0, 1, 2, ... Returns how many were read.
fn read_in_order(mut c: Raw, expect: usize, pattern: bool) -> usize {
    for i in 0..expect {
        let f = c.read_reply();
        let parts = frame_parts(&f);
        let payload = &parts[if pattern { 3 } else { 2 }];
        let seq = payload.split(|&b| b == b':').next().unwrap_or(b"");
        assert_eq!(seq, i.to_string().as_bytes(), "message {i}: {}", show(&f));
    }
    expect
}

#[test]
fn every_subscriber_sees_one_publishers_messages_in_order() {
    let server = ours();
    let addr = server.addr();
    const N: usize = 20_000;
    let mut readers = Vec::new();
    for k in 0..4 {
        let mut c = Raw::connect(addr);
        let pattern = k == 3;
        if pattern {
            c.cmd("PSUBSCRIBE ord*");
        } else {
            c.cmd("SUBSCRIBE order");
        }
        readers.push(std::thread::spawn(move || read_in_order(c, N, pattern)));
    }
    let mut p = Raw::connect(addr);
    let mut sent = 0;
    while sent < N {
        let counts = publish_batch(&mut p, "order", b"payload", sent, 500);
        assert!(counts.iter().all(|&n| n == 4), "{counts:?}");
        sent += 500;
    }
    for r in readers {
        assert_eq!(r.join().expect("reader"), N);
    }
}

#[test]
fn a_subscriber_that_sends_nothing_gets_messages_promptly() {
    let server = ours();
    let mut sub = Raw::connect(server.addr());
    sub.cmd("SUBSCRIBE quiet");
    let mut p = Raw::connect(server.addr());
    for i in 0..20 {
        let before = Instant::now();
        assert_eq!(p.cmd(&format!("PUBLISH quiet m{i}")), b":1\r\n");
        let f = sub.read_reply();
        assert_eq!(frame_parts(&f)[2], format!("m{i}").as_bytes());
        // Generous: the bound is the harness's read timeout; this catches a frame that
        // only left with the next request.
        assert!(before.elapsed() < Duration::from_secs(2));
    }
}

#[test]
fn a_subscriber_that_never_reads_is_cut_at_the_hard_limit_and_others_keep_everything() {
    let server = ours();
    let addr = server.addr();
    let mut admin = Raw::connect(addr);
    assert_eq!(
        admin.cmd("CONFIG SET client-output-buffer-limit \"pubsub 1mb 0 0\""),
        b"+OK\r\n"
    );
    let (mut stalled, stalled_id) = stalled_subscriber(addr, "flood");
    let mut fast = Raw::connect(addr);
    fast.cmd("SUBSCRIBE flood");
    let payload = vec![b'x'; 4096];
    // Reads until the END message, checking the order of everything before it.
    let reader = std::thread::spawn(move || {
        let mut got = 0usize;
        loop {
            let f = fast.read_reply();
            let parts = frame_parts(&f);
            if parts[2] == b"END" {
                return got;
            }
            let seq = parts[2].split(|&b| b == b':').next().unwrap_or(b"");
            assert_eq!(seq, got.to_string().as_bytes(), "fast subscriber order");
            got += 1;
        }
    });
    let mut p = Raw::connect(addr);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut sent = 0;
    let mut cut_at = None;
    let mut max_omem = 0;
    // At most 80 MB: the kernel buffers (a few MB) fill first, then the 1 MB limit.
    while sent < 20_000 && Instant::now() < deadline {
        let counts = publish_batch(&mut p, "flood", &payload, sent, 64);
        sent += 64;
        if let Some(line) = client_line(&mut admin, &stalled_id) {
            max_omem = max_omem.max(omem(&line));
        }
        if let Some(i) = counts.iter().position(|&n| n == 1) {
            assert!(counts[i..].iter().all(|&n| n == 1), "{counts:?}");
            cut_at = Some(sent - 64 + i);
            break;
        }
        assert!(counts.iter().all(|&n| n == 2), "{counts:?}");
    }
    let cut_at = cut_at.expect("the stalled subscriber was never disconnected");
    assert!(cut_at > 100, "cut after only {cut_at} messages");
    // Its output buffer never grew past the limit (plus the one frame that crossed it).
    assert!(
        max_omem <= (1 << 20) + 4200,
        "omem reached {max_omem} with a 1 MB hard limit"
    );
    assert!(client_line(&mut admin, &stalled_id).is_none());
    assert_eq!(
        admin.cmd("PUBSUB NUMSUB flood"),
        b"*2\r\n$5\r\nflood\r\n:1\r\n"
    );
    // The other subscriber keeps receiving.
    let counts = publish_batch(&mut p, "flood", &payload, sent, 100);
    assert!(counts.iter().all(|&n| n == 1));
    sent += 100;
    assert_eq!(p.cmd("PUBLISH flood END"), b":1\r\n");
    assert_eq!(reader.join().expect("fast reader"), sent);
    // The stalled client finds its connection closed once it reads what the kernel held.
    let (_, closed) = stalled.read_until_close(Duration::from_secs(10));
    assert!(closed, "the stalled subscriber's connection is still open");
}

#[test]
fn the_soft_limit_disconnects_after_its_seconds_without_further_messages() {
    let server = ours_with(|c| {
        c.client_output_buffer_limit[2] = rust_cache_server::config::ObufLimit {
            hard: 0,
            soft: 256 * 1024,
            soft_secs: 1,
        };
    });
    let addr = server.addr();
    let mut admin = Raw::connect(addr);
    let want = "normal 0 0 0 slave 268435456 67108864 60 pubsub 0 262144 1";
    assert_eq!(
        show(&admin.cmd("CONFIG GET client-output-buffer-limit")),
        show(
            format!(
                "*2\r\n$26\r\nclient-output-buffer-limit\r\n${}\r\n{want}\r\n",
                want.len()
            )
            .as_bytes()
        )
    );
    let (_stalled, stalled_id) = stalled_subscriber(addr, "soft");
    let mut p = Raw::connect(addr);
    let payload = vec![b'y'; 4096];
    let mut sent = 0;
    let deadline = Instant::now() + Duration::from_secs(20);
    let over_at = loop {
        assert!(
            sent < 10_000 && Instant::now() < deadline,
            "never over the soft limit"
        );
        publish_batch(&mut p, "soft", &payload, sent, 16);
        sent += 16;
        let line = client_line(&mut admin, &stalled_id).expect("disconnected too early");
        // Well past the limit: the kernel may still take some of the pending output later
        // (its send buffer grows), which must not bring it back under.
        if omem(&line) > 1024 * 1024 {
            break Instant::now();
        }
    };
    // Over the soft limit, but not yet for more than a second: still connected.
    std::thread::sleep(Duration::from_millis(300));
    assert!(client_line(&mut admin, &stalled_id).is_some());
    // Nothing more is published; the limit's time runs out and the client is closed.
    while let Some(line) = client_line(&mut admin, &stalled_id) {
        assert!(
            over_at.elapsed() < Duration::from_secs(6),
            "still connected {:?} after passing the soft limit: {line}",
            over_at.elapsed()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(over_at.elapsed() >= Duration::from_secs(1));
    assert_eq!(p.cmd("PUBLISH soft x"), b":0\r\n");
}

#[test]
fn below_the_limits_a_slow_reader_loses_nothing() {
    let server = ours();
    let addr = server.addr();
    let mut admin = Raw::connect(addr);
    admin.cmd("CONFIG SET client-output-buffer-limit \"pubsub 64mb 32mb 60\"");
    let (stalled, stalled_id) = stalled_subscriber(addr, "slow");
    let mut p = Raw::connect(addr);
    let payload = vec![b'z'; 1024];
    const N: usize = 8000;
    let mut sent = 0;
    while sent < N {
        let counts = publish_batch(&mut p, "slow", &payload, sent, 500);
        assert!(counts.iter().all(|&n| n == 1));
        sent += 500;
    }
    // Some of it waits in the server, counted as the client's omem.
    let line = client_line(&mut admin, &stalled_id).expect("still connected");
    assert!(omem(&line) > 0, "{line}");
    // Now it reads, and gets all of it in order.
    assert_eq!(read_in_order(stalled, N, false), N);
}

#[test]
fn subscription_churn_while_publishing_leaves_nothing_behind() {
    let server = ours();
    let addr = server.addr();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..4 {
        workers.push(std::thread::spawn(move || {
            for round in 0..40 {
                let mut c = Raw::connect(addr);
                if w % 2 == 1 {
                    c.cmd("HELLO 3");
                }
                c.send("SUBSCRIBE churn a b");
                c.send("PSUBSCRIBE ch* *");
                c.send("SSUBSCRIBE churn");
                // Frames: 3 + 2 + 1 confirmations, plus any messages in between; read
                // until PING's reply so the stream is in a known place.
                c.send("PING");
                let mut guard = 0;
                loop {
                    let f = c.read_reply();
                    if f.starts_with(b"*2\r\n$4\r\npong") || f == b"+PONG\r\n" {
                        break;
                    }
                    guard += 1;
                    assert!(guard < 100_000, "no PONG");
                }
                match round % 3 {
                    // Drop the connection while subscribed.
                    0 => drop(c),
                    1 => {
                        c.send("RESET");
                    }
                    _ => {
                        c.send("UNSUBSCRIBE");
                        c.send("PUNSUBSCRIBE");
                        c.send("SUNSUBSCRIBE");
                        c.send("QUIT");
                        let _ = c.read_until_close(Duration::from_secs(5));
                    }
                }
            }
        }));
    }
    let publisher = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut p = Raw::connect(addr);
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && i < 200_000 {
                publish_batch(&mut p, "churn", b"m", i, 50);
                p.cmd("SPUBLISH churn x");
                i += 50;
            }
        })
    };
    for w in workers {
        w.join().expect("worker");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    publisher.join().expect("publisher");
    let mut admin = Raw::connect(addr);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let info = String::from_utf8_lossy(&admin.cmd("INFO stats")).into_owned();
        let zero = [
            "pubsub_channels:0",
            "pubsub_patterns:0",
            "pubsubshard_channels:0",
        ]
        .iter()
        .all(|f| info.contains(f));
        if zero {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "subscriptions left behind: {info}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(admin.cmd("PUBLISH churn x"), b":0\r\n");
    assert_eq!(admin.cmd("PUBSUB NUMPAT"), b":0\r\n");
}
