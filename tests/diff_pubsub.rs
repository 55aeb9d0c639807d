//! Differential tests of Pub/Sub: the same commands sent to this server and to a real
//! redis-server 7.0 over raw connections (a subscriber and a publisher on each side), and
//! the frames each subscriber receives compared byte for byte: subscribe confirmations,
//! message/pmessage/smessage frames in RESP2 and RESP3, the RESP2 subscribed-mode rules,
//! RESET, QUIT, PUBSUB introspection, CLIENT LIST fields and the output-buffer-limit
//! configuration. Where Redis's order is its hash table's (unsubscribing from everything,
//! PUBSUB CHANNELS, several matching patterns) the frames are compared as multisets.

mod common;

use common::{elements, show, Both, Pair};

/// An unsubscribe-everything command: Redis goes through its hash table, so the names
/// may come in another order; the kind word, the set of names and the sequence of
/// counts must match.
fn unsubscribe_all(b: &mut Both, line: &str, n: usize) {
    b.ours.send(line);
    b.redis.send(line);
    let (a, b) = b.frames(n);
    let parts = |fs: &[Vec<u8>]| {
        let mut words = Vec::new();
        let mut names = Vec::new();
        let mut counts = Vec::new();
        for f in fs {
            let e = push_elements(f);
            assert_eq!(e.len(), 3, "{}", show(f));
            words.push(show(&e[0]));
            names.push(show(&e[1]));
            counts.push(show(&e[2]));
        }
        names.sort();
        (words, names, counts)
    };
    assert_eq!(parts(&a), parts(&b), "`{line}` (ours, redis)");
}

/// Publishes on `publ` (PUBLISH or SPUBLISH), compares the receiver counts, and reads as
/// many frames on `sub`, its only subscriber, comparing them as a multiset (a channel
/// subscription comes first, patterns in Redis's hash-table order).
fn publish(publ: &mut Both, sub: &mut Both, args: &[&[u8]]) {
    let what = show(&args.join(&b' '));
    let (a, b) = (publ.ours.cmd_args(args), publ.redis.cmd_args(args));
    assert_eq!(show(&a), show(&b), "{what}");
    let n: usize = text(&a)[1..].trim().parse().expect("an integer reply");
    sub.expect_unordered(n, &what);
}

/// HELLO `ver` on both sides; the replies differ only in the connection id.
fn hello(b: &mut Both, ver: u8) {
    let line = format!("HELLO {ver}");
    let (x, y) = (b.ours.cmd(&line), b.redis.cmd(&line));
    let strip = |r: &[u8]| {
        let t = text(r);
        match t.find("id\r\n") {
            Some(i) => {
                let j = t[i + 5..].find("\r\n").expect("id value") + i + 5;
                format!("{}{}", &t[..i], &t[j..])
            }
            None => t,
        }
    };
    assert_eq!(strip(&x), strip(&y), "{line}");
}

/// The elements of an array or push frame.
fn push_elements(frame: &[u8]) -> Vec<Vec<u8>> {
    let mut f = frame.to_vec();
    if f.first() == Some(&b'>') {
        f[0] = b'*';
    }
    elements(&f)
}

/// A raw connection's reply as text, for field extraction.
fn text(reply: &[u8]) -> String {
    String::from_utf8_lossy(reply).into_owned()
}

/// The value of `field=` in a CLIENT LIST/INFO line.
fn field(line: &str, name: &str) -> String {
    line.split([' ', '\n'])
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name}= in {line}"))
        .to_string()
}

#[test]
fn resp2_subscribe_publish_and_unsubscribe_frames() {
    let p = Pair::new();
    let mut sub = Both::new(&p);
    let mut publ = Both::new(&p);
    // Duplicates confirm again without counting twice; SSUBSCRIBE counts apart.
    sub.cmd("SUBSCRIBE a b a", 3);
    sub.cmd("SSUBSCRIBE s1 s2", 2);
    sub.cmd("PSUBSCRIBE p* p*", 2);
    sub.cmd("PSUBSCRIBE ?", 1);
    // Message frames in order: the channel's, then each matching pattern's.
    publ.check("PUBLISH pq hello");
    sub.expect(1, "PUBLISH pq hello");
    publ.check("PUBLISH a hello");
    sub.expect(2, "PUBLISH a hello");
    publish(&mut publ, &mut sub, &[b"PUBLISH", b"b", b""]);
    // A channel matching two patterns: one pmessage each.
    publish(&mut publ, &mut sub, &[b"PUBLISH", b"p", b"y"]);
    publish(&mut publ, &mut sub, &[b"PUBLISH", b"nobody", b"z"]);
    publish(&mut publ, &mut sub, &[b"SPUBLISH", b"s1", b"shard"]);
    // SPUBLISH reaches shard subscribers only; PUBLISH to a shard channel's name reaches
    // channel and pattern subscribers only.
    publish(&mut publ, &mut sub, &[b"SPUBLISH", b"a", b"x"]);
    publish(&mut publ, &mut sub, &[b"PUBLISH", b"s1", b"x"]);
    // Binary channel and payload.
    publish(
        &mut publ,
        &mut sub,
        &[b"PUBLISH", b"\x00\r\n", b"\x00\r\n\xff"],
    );
    publish(&mut publ, &mut sub, &[b"PUBLISH", b"a", b"\x00\r\n\xff"]);
    // PING in RESP2 subscribed mode is an array; it also proves nothing else is pending.
    sub.check("PING");
    sub.check("PING hi");
    sub.check("PING a b");
    sub.cmd("UNSUBSCRIBE a zz", 2);
    sub.cmd("PUNSUBSCRIBE p* nope", 2);
    sub.cmd("SUNSUBSCRIBE s2", 1);
    publish(&mut publ, &mut sub, &[b"PUBLISH", b"a", b"gone"]);
    publ.check("PUBSUB NUMSUB a b s1 s2");
    unsubscribe_all(&mut sub, "UNSUBSCRIBE", 1);
    unsubscribe_all(&mut sub, "PUNSUBSCRIBE", 1);
    // Still subscribed to a shard channel: still in subscribed mode.
    sub.check("GET k");
    unsubscribe_all(&mut sub, "SUNSUBSCRIBE", 1);
    // Subscribed to nothing: a null name and 0, and the client is out of the mode.
    sub.cmd("UNSUBSCRIBE", 1);
    sub.cmd("PUNSUBSCRIBE", 1);
    sub.cmd("SUNSUBSCRIBE", 1);
    sub.cmd("UNSUBSCRIBE x", 1);
    sub.check("GET k");
    sub.check("PING");
    publ.check("PUBLISH b after");
}

#[test]
fn unsubscribe_from_many_channels_at_once() {
    let p = Pair::new();
    let mut sub = Both::new(&p);
    sub.cmd("SUBSCRIBE c1 c2 c3 c4 c5", 5);
    sub.cmd("PSUBSCRIBE x* y* z*", 3);
    sub.cmd("SSUBSCRIBE s1 s2 s3", 3);
    unsubscribe_all(&mut sub, "UNSUBSCRIBE", 5);
    unsubscribe_all(&mut sub, "SUNSUBSCRIBE", 3);
    unsubscribe_all(&mut sub, "PUNSUBSCRIBE", 3);
    sub.check("PING");
}

#[test]
fn resp2_subscribed_mode_allows_only_the_subscribe_family() {
    let p = Pair::new();
    let mut sub = Both::new(&p);
    sub.cmd("SUBSCRIBE ch", 1);
    sub.script(
        r#"
        GET k
        get k
        SET k v
        HELLO
        HELLO 3
        HELLO 2
        CLIENT LIST
        CLIENT ID
        CONFIG GET maxmemory
        PUBLISH ch x
        SPUBLISH ch x
        PUBSUB NUMSUB ch
        PUBSUB CHANNELS
        SELECT 1
        ECHO x
        INFO
        DBSIZE
        COMMAND COUNT
        # Unknown commands and arity errors are checked first.
        NOSUCH a b
        GET
        PUBLISH ch
        CLIENT NOSUCH
        PING
        "#,
    );
    // The subscribe family is allowed (and PSUBSCRIBE / SSUBSCRIBE reply with frames).
    sub.cmd("PSUBSCRIBE x*", 1);
    sub.cmd("SSUBSCRIBE sh", 1);
    sub.cmd("PUNSUBSCRIBE x*", 1);
    sub.cmd("SUNSUBSCRIBE sh", 1);
    // RESET leaves subscribed mode and drops every subscription.
    sub.check("RESET");
    sub.check("GET k");
    let mut other = Both::new(&p);
    other.check("PUBLISH ch x");
    other.check("PUBSUB NUMSUB ch");
    // QUIT is allowed: +OK, then the connection closes.
    sub.cmd("SUBSCRIBE ch", 1);
    sub.check("QUIT");
    let (a, closed_a) = sub.ours.read_until_close(std::time::Duration::from_secs(5));
    let (b, closed_b) = sub
        .redis
        .read_until_close(std::time::Duration::from_secs(5));
    assert_eq!((show(&a), closed_a), (show(&b), closed_b));
}

#[test]
fn rejected_commands_are_counted_like_redis() {
    let p = Pair::new();
    let mut sub = Both::new(&p);
    let mut admin = Both::new(&p);
    admin.check("CONFIG RESETSTAT");
    sub.cmd("SUBSCRIBE ch", 1);
    sub.check("GET k");
    sub.check("CONFIG GET x");
    let grab = |reply: &[u8], name: &str| {
        text(reply)
            .lines()
            .find(|l| l.starts_with(name))
            .map(str::to_string)
    };
    let (a, b) = (admin.ours.cmd("INFO stats"), admin.redis.cmd("INFO stats"));
    for f in ["total_error_replies:", "pubsub_channels:"] {
        assert_eq!(grab(&a, f), grab(&b, f), "INFO stats {f}");
    }
    let (a, b) = (
        admin.ours.cmd("INFO commandstats"),
        admin.redis.cmd("INFO commandstats"),
    );
    for f in ["cmdstat_get:", "cmdstat_config|get:"] {
        assert_eq!(grab(&a, f), grab(&b, f), "INFO commandstats {f}");
    }
    let (a, b) = (
        admin.ours.cmd("CLIENT LIST"),
        admin.redis.cmd("CLIENT LIST"),
    );
    let line = |r: &[u8]| {
        text(r)
            .lines()
            .find(|l| l.contains("flags=P"))
            .map(|l| field(l, "cmd"))
    };
    assert_eq!(line(&a), line(&b));
}

#[test]
fn resp3_push_frames_and_any_command_while_subscribed() {
    let p = Pair::new();
    let mut sub = Both::new(&p);
    let mut publ = Both::new(&p);
    hello(&mut sub, 3);
    sub.cmd("SUBSCRIBE a", 1);
    sub.cmd("PSUBSCRIBE a*", 1);
    sub.cmd("SSUBSCRIBE a", 1);
    sub.script(
        r#"
        SET k v
        GET k
        PING
        PING x
        PUBSUB NUMSUB a
        CLIENT GETNAME
        "#,
    );
    publ.check("PUBLISH a m1");
    sub.expect(2, "PUBLISH a m1");
    publish(&mut publ, &mut sub, &[b"SPUBLISH", b"a", b"m2"]);
    publish(&mut publ, &mut sub, &[b"PUBLISH", b"ab", b"m3"]);
    sub.cmd("UNSUBSCRIBE a zz", 2);
    sub.cmd("PUNSUBSCRIBE", 1);
    sub.cmd("PUNSUBSCRIBE", 1);
    // Back to RESP2 while still subscribed (shard channel): the restrictions apply.
    hello(&mut sub, 2);
    sub.check("GET k");
    sub.check("PING");
    publ.check("SPUBLISH a m4");
    sub.expect(1, "SPUBLISH a m4 (RESP2 now)");
    sub.cmd("SUNSUBSCRIBE", 1);
    sub.check("GET k");
    // RESET in RESP3 also unsubscribes and returns to RESP2.
    hello(&mut sub, 3);
    sub.cmd("SUBSCRIBE z", 1);
    sub.check("RESET");
    sub.check("PING");
    publ.check("PUBLISH z x");
    sub.check("PING");
}

#[test]
fn a_resp3_client_receives_its_own_messages_before_the_reply() {
    let p = Pair::new();
    let mut c = Both::new(&p);
    c.ours.cmd("HELLO 3");
    c.redis.cmd("HELLO 3");
    c.cmd("SUBSCRIBE me", 1);
    c.cmd("PSUBSCRIBE m*", 1);
    // The message and the pmessage to itself, then PUBLISH's reply.
    c.cmd("PUBLISH me hi", 3);
    c.cmd("SSUBSCRIBE me", 1);
    c.cmd("SPUBLISH me x", 2);
    // Pipelined: frames and replies interleave exactly as in Redis.
    let batch = "*3\r\n$7\r\nPUBLISH\r\n$2\r\nme\r\n$1\r\n1\r\n*1\r\n$4\r\nPING\r\n*3\r\n$7\r\nPUBLISH\r\n$2\r\nmx\r\n$1\r\n2\r\n";
    c.ours.send_raw(batch.as_bytes());
    c.redis.send_raw(batch.as_bytes());
    c.expect(3 + 1 + 2, "pipelined PUBLISH/PING/PUBLISH");
}

#[test]
fn a_blocked_resp3_client_still_receives_messages() {
    let p = Pair::new();
    let mut c = Both::new(&p);
    let mut other = Both::new(&p);
    c.ours.cmd("HELLO 3");
    c.redis.cmd("HELLO 3");
    c.cmd("SUBSCRIBE ch", 1);
    c.ours.send("BLPOP list 0");
    c.redis.send("BLPOP list 0");
    common::wait_blocked(p.ours.addr(), 1);
    other.check("PUBLISH ch while-blocked");
    c.expect(1, "PUBLISH while BLPOP blocks");
    other.check("RPUSH list v");
    c.expect(1, "BLPOP served");
}

#[test]
fn glob_patterns_match_like_redis() {
    let p = Pair::new();
    let mut sub = Both::new(&p);
    let mut publ = Both::new(&p);
    let patterns = [
        "h?llo",
        "h*llo",
        "h[ae]llo",
        "h[^e]llo",
        "h[a-b]llo",
        "*",
        "\\*",
        "h\\?llo",
        "news.*",
        "[",
        "a[",
        "**x",
    ];
    for pat in patterns {
        sub.ours.send_args(&[b"PSUBSCRIBE", pat.as_bytes()]);
        sub.redis.send_args(&[b"PSUBSCRIBE", pat.as_bytes()]);
        sub.expect(1, &format!("PSUBSCRIBE {pat}"));
    }
    publ.check("PUBSUB NUMPAT");
    for ch in [
        "hello", "hallo", "hbllo", "hxllo", "hllo", "heeello", "*", "h?llo", "news.", "news.x",
        "[", "a[", "x", "xx", "",
    ] {
        let (a, b) = (
            publ.ours.cmd_args(&[b"PUBLISH", ch.as_bytes(), b"m"]),
            publ.redis.cmd_args(&[b"PUBLISH", ch.as_bytes(), b"m"]),
        );
        assert_eq!(show(&a), show(&b), "PUBLISH {ch:?}");
        let n: usize = text(&a)[1..].trim().parse().unwrap();
        sub.expect_unordered(n, &format!("PUBLISH {ch:?}"));
    }
    sub.check("PING");
}

#[test]
fn pubsub_introspection() {
    let p = Pair::new();
    let mut s1 = Both::new(&p);
    let mut s2 = Both::new(&p);
    let mut q = Both::new(&p);
    s1.cmd("SUBSCRIBE news.a news.b other", 3);
    s2.cmd("SUBSCRIBE news.a", 1);
    s1.cmd("PSUBSCRIBE n* x", 2);
    s2.cmd("PSUBSCRIBE n*", 1);
    s1.cmd("SSUBSCRIBE sh1 sh2", 2);
    s2.cmd("SSUBSCRIBE sh1", 1);
    let unordered = |q: &mut Both, line: &str| {
        let (a, b) = (q.ours.cmd(line), q.redis.cmd(line));
        let (mut ea, mut eb) = (elements(&a), elements(&b));
        ea.sort();
        eb.sort();
        assert_eq!(
            ea.iter().map(|e| show(e)).collect::<Vec<_>>(),
            eb.iter().map(|e| show(e)).collect::<Vec<_>>(),
            "{line}"
        );
    };
    for line in [
        "PUBSUB CHANNELS",
        "PUBSUB CHANNELS news.*",
        "PUBSUB CHANNELS nomatch*",
        "PUBSUB CHANNELS *",
        "PUBSUB SHARDCHANNELS",
        "PUBSUB SHARDCHANNELS sh1",
        "PUBSUB SHARDCHANNELS x*",
    ] {
        unordered(&mut q, line);
    }
    q.script(
        r#"
        PUBSUB NUMSUB
        PUBSUB NUMSUB news.a news.b other nosuch news.a
        PUBSUB NUMPAT
        PUBSUB SHARDNUMSUB sh1 sh2 sh3
        PUBSUB SHARDNUMSUB
        PUBSUB HELP
        pubsub help
        PUBSUB CHANNELS a b
        PUBSUB channels a b c
        PUBSUB SHARDCHANNELS a b
        PUBSUB NUMPAT x
        PUBSUB HELP x
        PUBSUB foo
        PUBSUB
        PUBLISH news.a x
        PUBLISH nb x
        SPUBLISH sh1 x
        SUBSCRIBE
        PSUBSCRIBE
        SSUBSCRIBE
        PUBLISH a
        PUBLISH a b c
        SPUBLISH a
        "#,
    );
    let stats = |r: &[u8]| {
        text(r)
            .lines()
            .filter(|l| l.starts_with("pubsub"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let (a, b) = (q.ours.cmd("INFO stats"), q.redis.cmd("INFO stats"));
    assert_eq!(stats(&a), stats(&b));
    assert_eq!(stats(&a).len(), 3, "{}", text(&a));
    // What the script published: news.a (message + n*), nb (n*), sh1 (smessage).
    s1.expect_unordered(4, "the script's publishes (s1)");
    s2.expect_unordered(4, "the script's publishes (s2)");
    // Subscriptions end with their connection.
    drop(s2);
    unsubscribe_all(&mut s1, "UNSUBSCRIBE", 3);
    unsubscribe_all(&mut s1, "PUNSUBSCRIBE", 2);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while q.ours.cmd("PUBSUB NUMPAT") != b":0\r\n" {
        assert!(
            std::time::Instant::now() < deadline,
            "closed subscriber still counted"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    q.check("PUBSUB NUMPAT");
    q.check("PUBSUB NUMSUB news.a");
    q.check("PUBSUB SHARDNUMSUB sh1 sh2");
    let (a, b) = (q.ours.cmd("INFO stats"), q.redis.cmd("INFO stats"));
    assert_eq!(stats(&a), stats(&b));
}

#[test]
fn client_list_shows_subscriptions() {
    let p = Pair::new();
    let mut sub = Both::new(&p);
    let mut q = Both::new(&p);
    // RESP3, so that the subscriber itself may run CLIENT INFO.
    hello(&mut sub, 3);
    sub.cmd("SUBSCRIBE a b", 2);
    sub.cmd("PSUBSCRIBE p*", 1);
    sub.cmd("SSUBSCRIBE s", 1);
    let fields = |reply: &[u8]| {
        let t = text(reply);
        let mut lines: Vec<Vec<String>> = t
            .lines()
            .filter(|l| l.contains("id="))
            .map(|l| {
                ["flags", "sub", "psub", "ssub", "omem", "cmd"]
                    .iter()
                    .map(|f| format!("{f}={}", field(l, f)))
                    .collect()
            })
            .collect();
        lines.sort();
        lines
    };
    for line in [
        "CLIENT LIST",
        "CLIENT LIST TYPE pubsub",
        "CLIENT LIST TYPE normal",
        "CLIENT LIST TYPE PUBSUB",
    ] {
        let (a, b) = (q.ours.cmd(line), q.redis.cmd(line));
        assert_eq!(fields(&a), fields(&b), "{line}");
    }
    let (a, b) = (sub.ours.cmd("CLIENT INFO"), sub.redis.cmd("CLIENT INFO"));
    assert_eq!(fields(&a), fields(&b), "CLIENT INFO");
    // CLIENT KILL TYPE pubsub closes the subscriber only.
    q.check("CLIENT KILL TYPE normal SKIPME yes");
    q.check("CLIENT KILL TYPE pubsub");
    q.check("PUBSUB NUMSUB a");
    q.check("PING");
}

#[test]
fn client_output_buffer_limit_config() {
    let mut p = Pair::new();
    p.script(
        r#"
        CONFIG GET client-output-buffer-limit
        CONFIG GET client-output-*
        CONFIG SET client-output-buffer-limit "pubsub 1mb 2mb 10"
        CONFIG GET client-output-buffer-limit
        CONFIG SET client-output-buffer-limit "PUBSUB 1kb 2k 5 replica 1 2 3"
        CONFIG GET client-output-buffer-limit
        CONFIG SET client-output-buffer-limit "slave 1 1 1 pubsub 1 1 1 normal 1 1 1"
        CONFIG GET client-output-buffer-limit
        CONFIG SET client-output-buffer-limit "pubsub 1 2 3 pubsub 4 5 6"
        CONFIG GET client-output-buffer-limit
        CONFIG SET client-output-buffer-limit "pubsub 10gb 1 99999999999"
        CONFIG GET client-output-buffer-limit
        CONFIG SET client-output-buffer-limit "pubsub 18446744073709551616 1 1"
        CONFIG GET client-output-buffer-limit
        CONFIG SET client-output-buffer-limit "pubsub 99999999999999999999999kb 0 1"
        CONFIG GET client-output-buffer-limit
        CONFIG SET client-output-buffer-limit "pubsub 1 2 "
        CONFIG GET client-output-buffer-limit
        CONFIG SET client-output-buffer-limit "pubsub  1 2"
        CONFIG GET client-output-buffer-limit
        CONFIG SET client-output-buffer-limit "pubsub 5 0 -0"
        CONFIG SET client-output-buffer-limit "pubsub 5 0 +7"
        CONFIG SET client-output-buffer-limit "pubsub 5 0 007"
        CONFIG SET client-output-buffer-limit "pubsub 1 2 -2147483649"
        CONFIG SET client-output-buffer-limit "pubsub 1 2 4294967296"
        CONFIG GET client-output-buffer-limit
        CONFIG SET client-output-buffer-limit ""
        CONFIG GET client-output-buffer-limit
        CONFIG SET client-output-buffer-limit "pubsub 1 2"
        CONFIG SET client-output-buffer-limit "pubsub 1 2 3 "
        CONFIG SET client-output-buffer-limit " pubsub 1 2 3"
        CONFIG SET client-output-buffer-limit "replica 1 2 3 foo"
        CONFIG SET client-output-buffer-limit "master 1 2 3"
        CONFIG SET client-output-buffer-limit "foo 1 2 3"
        CONFIG SET client-output-buffer-limit "normal 1 2 3 master 1 1 1"
        CONFIG SET client-output-buffer-limit "pubsub -1 2 3"
        CONFIG SET client-output-buffer-limit "pubsub abc 2 3"
        CONFIG SET client-output-buffer-limit "pubsub +5 0 1"
        CONFIG SET client-output-buffer-limit "pubsub 1.5 2 3"
        CONFIG SET client-output-buffer-limit "pubsub 1tb 0 1"
        CONFIG SET client-output-buffer-limit "pubsub 0x10 0 1"
        CONFIG SET client-output-buffer-limit "pubsub 1 2 -3"
        CONFIG SET client-output-buffer-limit "pubsub 1 2 abc"
        CONFIG SET client-output-buffer-limit "pubsub 1 2 3x"
        CONFIG SET client-output-buffer-limit "pubsub 5 0 2147483648"
        CONFIG SET client-output-buffer-limit "pubsub 5 0 9223372036854775807"
        CONFIG SET client-output-buffer-limit "pubsub 5 0 99999999999999999999"
        CONFIG SET client-output-buffer-limit "pubsub 1 2 3 foo 1 2 3"
        CONFIG GET client-output-buffer-limit
        CONFIG SET client-output-buffer-limit "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
        CONFIG GET client-output-buffer-limit
        "#,
    );
}

#[test]
fn command_info_of_the_pubsub_commands() {
    let mut p = Pair::new();
    for name in [
        "subscribe",
        "unsubscribe",
        "psubscribe",
        "punsubscribe",
        "ssubscribe",
        "sunsubscribe",
        "publish",
        "spublish",
        "pubsub",
        "pubsub|channels",
        "pubsub|numsub",
        "pubsub|numpat",
        "pubsub|shardchannels",
        "pubsub|shardnumsub",
        "pubsub|help",
    ] {
        let (a, b) = p.both(&format!("COMMAND INFO {name}"));
        let fields = |r: &[u8]| {
            let outer = elements(r);
            assert_eq!(outer.len(), 1, "{}", show(r));
            elements(&outer[0])[..7]
                .iter()
                .map(|f| show(f))
                .collect::<Vec<_>>()
        };
        assert_eq!(fields(&a), fields(&b), "COMMAND INFO {name}");
    }
    p.script(
        r#"
        COMMAND GETKEYS ssubscribe a b
        COMMAND GETKEYS spublish a b
        COMMAND GETKEYS sunsubscribe a
        COMMAND GETKEYS publish a b
        COMMAND GETKEYS subscribe a
        "#,
    );
}

#[test]
fn subscribers_are_exempt_from_the_idle_timeout() {
    let p = Pair::new();
    let mut admin = Both::new(&p);
    admin.check("CONFIG SET timeout 1");
    let mut sub = Both::new(&p);
    let mut idle = Both::new(&p);
    sub.cmd("SUBSCRIBE x", 1);
    idle.check("PING");
    // Both servers check idleness at least once a second.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let mut publ = Both::new(&p);
    publish(&mut publ, &mut sub, &[b"PUBLISH", b"x", b"still here"]);
    sub.check("PING");
    let (a, closed_a) = idle
        .ours
        .read_until_close(std::time::Duration::from_secs(5));
    let (b, closed_b) = idle
        .redis
        .read_until_close(std::time::Duration::from_secs(5));
    assert_eq!((show(&a), closed_a), (show(&b), closed_b));
    assert!(closed_a, "the idle normal client was not closed");
}
