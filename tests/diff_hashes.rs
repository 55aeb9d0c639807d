//! Differential tests of the hash family: every command, its options, error paths, the
//! listpack/hashtable conversion points and the RESP3 reply forms are sent to this server
//! and to a real redis-server. Small (listpack) hashes must reply byte for byte as Redis,
//! in insertion order; hashtable-encoded ones are compared without order, and the random
//! and cursor commands are checked for their properties on both servers.

mod common;
use std::collections::{HashMap, HashSet};

use common::{elements, show, Pair};

/// The text of a bulk string element (`$n\r\n...\r\n`).
fn bulk_text(e: &[u8]) -> Vec<u8> {
    assert_eq!(e[0], b'$', "not a bulk: {}", show(e));
    let start = e.iter().position(|&b| b == b'\n').expect("header") + 1;
    e[start..e.len() - 2].to_vec()
}

/// An HSET line setting `n` fields `f0..` to values `v0..` (each value padded to `vlen`).
fn hset_line(key: &str, from: usize, n: usize) -> String {
    let mut s = format!("HSET {}", key);
    for i in from..from + n {
        s.push_str(&format!(" f{i} v{i}"));
    }
    s
}

#[test]
fn basic_commands_on_small_hashes() {
    let mut p = Pair::new();
    p.script(
        r#"
        HSET h a 1 b 2 c 3
        HSET h b 20 d 4
        HGETALL h
        HKEYS h
        HVALS h
        HLEN h
        HGET h a
        HGET h b
        HGET h zz
        HGET nokey a
        HMGET h a zz b
        HMGET nokey a b
        HEXISTS h a
        HEXISTS h zz
        HEXISTS nokey a
        HSTRLEN h b
        HSTRLEN h zz
        HSTRLEN nokey a
        HSETNX h a 100
        HSETNX h e 5
        HGETALL h
        HMSET h f 6 a 11
        HGETALL h
        HDEL h b zz
        HDEL h b
        HDEL nokey a
        HGETALL h
        HSET h b back
        HGETALL h
        HLEN nokey
        HGETALL nokey
        HKEYS nokey
        HVALS nokey
        HSET n 0 0 -1 -1 63 63 64 64 -128 x 255 x 65535 x 2147483648 x 9223372036854775807 x -9223372036854775808 x
        HSET n 007 a +5 b -0 c " 1" d 1.0 e 9223372036854775808 f
        HGETALL n
        HSTRLEN n -9223372036854775808
        HSTRLEN n -1
        HGET n 7
        HGET n 007
        HEXISTS n 5
        HEXISTS n +5
        HSET e "" ""
        HGETALL e
        HSTRLEN e ""
        HGET e ""
        HSET sp "a b" "c d" "\x00\xff" "\r\n"
        HGETALL sp
        HGET sp "\x00\xff"
        HSTRLEN sp "a b"
        "#,
    );
    // Binary fields and values with NUL bytes, sent as raw arguments.
    let bin: &[&[u8]] = &[b"HSET", b"bin", b"f\x00g", b"v\x00\x01", b"\xfe\xff", b""];
    p.both_args(bin);
    for args in [
        &[b"HGET".as_slice(), b"bin", b"f\x00g"][..],
        &[b"HGET", b"bin", b"f\x00"],
        &[b"HGETALL", b"bin"],
        &[b"HSTRLEN", b"bin", b"f\x00g"],
        &[b"HDEL", b"bin", b"\xfe\xff"],
        &[b"HGETALL", b"bin"],
    ] {
        let (x, y) = p.both_args(args);
        assert_eq!(show(&x), show(&y), "{:?}", args);
    }
}

#[test]
fn emptied_hash_is_deleted() {
    let mut p = Pair::new();
    p.script(
        r#"
        HSET h a 1 b 2
        HDEL h a b c
        EXISTS h
        TYPE h
        HSET h a 1
        HDEL h a
        EXISTS h
        HSET h a 1 b 2
        HDEL h b
        EXISTS h
        HGETALL h
        "#,
    );
}

#[test]
fn wrong_type_and_arity() {
    let mut p = Pair::new();
    p.script(
        r#"
        SET s v
        HSET s a 1
        HSETNX s a 1
        HGET s a
        HMGET s a
        HMSET s a 1
        HDEL s a
        HLEN s
        HEXISTS s a
        HGETALL s
        HKEYS s
        HVALS s
        HINCRBY s a 1
        HINCRBYFLOAT s a 1
        HSTRLEN s a
        HRANDFIELD s
        HRANDFIELD s 2
        HRANDFIELD s -2 WITHVALUES
        HSCAN s 0
        HSET
        HSET h
        HSET h f
        HSET h a 1 b
        HMSET h f
        HMSET h a 1 b
        HSETNX h a
        HSETNX h a 1 2
        HGET h
        HGET h a b
        HMGET h
        HDEL h
        HLEN
        HLEN a b
        HEXISTS h
        HGETALL
        HKEYS
        HVALS a b
        HINCRBY h a
        HINCRBYFLOAT h a
        HSTRLEN h
        HRANDFIELD
        HSCAN h
        EXISTS h
        GET s
        "#,
    );
    // Argument errors come before WRONGTYPE where Redis checks them first.
    p.script(
        r#"
        HINCRBY s a x
        HINCRBYFLOAT s a x
        HINCRBYFLOAT s a inf
        HRANDFIELD s x
        HRANDFIELD s 1 foo
        HSCAN s x
        HSCAN s 0 COUNT 0
        HSCAN s 0 foo
        "#,
    );
}

#[test]
fn hincrby_and_hincrbyfloat() {
    let mut p = Pair::new();
    p.script(
        r#"
        HINCRBY h a 5
        HINCRBY h a -12
        HINCRBY h a 0
        HGETALL h
        HINCRBY h a x
        HINCRBY h a 1.5
        HINCRBY h a ""
        HINCRBY h a 9223372036854775808
        HSET h s abc big 9223372036854775807 small -9223372036854775808 sp " 1" f 1.5
        HINCRBY h s 1
        HINCRBY h f 1
        HINCRBY h sp 1
        HINCRBY h big 1
        HINCRBY h big 0
        HINCRBY h big -1
        HINCRBY h small -1
        HINCRBY h small 1
        HINCRBY h small 9223372036854775807
        HINCRBY new x 9223372036854775807
        HINCRBY new x 1
        HINCRBY new y -9223372036854775808
        HINCRBY new y -1
        HGETALL h
        HGETALL new
        HINCRBYFLOAT h f 1.25
        HINCRBYFLOAT h f -2.75
        HINCRBYFLOAT h a 0.1
        HINCRBYFLOAT h s 1
        HINCRBYFLOAT h sp 1
        HINCRBYFLOAT h big 1
        HINCRBYFLOAT h g 10.5e3
        HINCRBYFLOAT h g 0x10
        HINCRBYFLOAT h g 1e-5
        HINCRBYFLOAT h g inf
        HINCRBYFLOAT h g -inf
        HINCRBYFLOAT h g +inf
        HINCRBYFLOAT h g infinity
        HINCRBYFLOAT h g nan
        HINCRBYFLOAT h g NaN
        HINCRBYFLOAT h g abc
        HINCRBYFLOAT h g ""
        HINCRBYFLOAT h g " 1"
        HINCRBYFLOAT h g 1e5000
        HINCRBYFLOAT h huge 1e4000
        HINCRBYFLOAT h huge 1e4000
        HINCRBYFLOAT h x 3.0
        HINCRBYFLOAT h x 5.0e3
        HINCRBYFLOAT h x 1.23456789012345678
        OBJECT ENCODING h
        "#,
    );
    // The 4001-byte value made it a hashtable.
    p.check_unordered("HGETALL h");
    p.script(
        r#"
        HINCRBYFLOAT nf a inf
        EXISTS nf
        HINCRBYFLOAT nf2 a -0.0
        HGETALL nf2
        HSET inff v inf
        HINCRBYFLOAT inff v 1
        HSET big m 1.18973149535723176502e+4932
        HINCRBYFLOAT big m 1.18973149535723176502e+4932
        HGET big m
        "#,
    );
}

#[test]
fn conversion_by_entries() {
    let mut p = Pair::new();
    p.check(&hset_line("h", 0, 512));
    p.check("OBJECT ENCODING h");
    p.check("HKEYS h");
    p.check("HSCAN h 0 COUNT 5");
    p.check("HSET h f0 again");
    p.check("OBJECT ENCODING h");
    p.check("HSET h f512 v512");
    p.check("OBJECT ENCODING h");
    p.check_unordered("HGETALL h");
    p.check_unordered("HKEYS h");
    p.check_unordered("HVALS h");
    p.check("HLEN h");
    p.check("HGET h f512");
    p.check("HGET h f0");
    // Never back to listpack, even when it shrinks.
    let mut del = String::from("HDEL h");
    for i in 0..510 {
        del.push_str(&format!(" f{i}"));
    }
    p.check(&del);
    p.check("HLEN h");
    p.check("OBJECT ENCODING h");
    p.check_unordered("HGETALL h");

    // One HSET of 513 new fields converts at once.
    p.check(&hset_line("h2", 0, 513));
    p.check("OBJECT ENCODING h2");
    p.check("HLEN h2");
}

#[test]
fn conversion_by_value_length() {
    let mut p = Pair::new();
    let v64 = "x".repeat(64);
    let v65 = "x".repeat(65);
    p.check(&format!("HSET h {v64} {v64}"));
    p.check("OBJECT ENCODING h");
    p.check("HGETALL h");
    p.check(&format!("HSET h a {v65}"));
    p.check("OBJECT ENCODING h");
    p.check_unordered("HGETALL h");
    p.check(&format!("HSET h2 {v65} 1"));
    p.check("OBJECT ENCODING h2");
    // A long field or value converts even when the field already exists.
    p.check("HSET h3 a 1");
    p.check(&format!("HSET h3 a {v65}"));
    p.check("OBJECT ENCODING h3");
    // HSETNX of an existing field writes nothing and converts nothing.
    p.check("HSET h4 a 1");
    p.check(&format!("HSETNX h4 a {v65}"));
    p.check("OBJECT ENCODING h4");
    p.check(&format!("HSETNX h4 b {v65}"));
    p.check("OBJECT ENCODING h4");
    // HINCRBY / HINCRBYFLOAT with a long field.
    p.check(&format!("HINCRBY h5 {v65} 1"));
    p.check("OBJECT ENCODING h5");
    p.check(&format!("HINCRBYFLOAT h6 {v65} 1.5"));
    p.check("OBJECT ENCODING h6");
    p.check(&format!("HINCRBY h7 {v64} 1"));
    p.check("OBJECT ENCODING h7");
    // Any long word in one HSET converts, whatever its position.
    p.check(&format!("HSET h8 a 1 b 2 c {v65} d 4"));
    p.check("OBJECT ENCODING h8");
    p.check_unordered("HGETALL h8");
}

#[test]
fn conversion_thresholds_from_config() {
    let mut p = Pair::new();
    p.script(
        r#"
        CONFIG SET hash-max-listpack-entries 2
        HSET h a 1 b 2
        OBJECT ENCODING h
        HSET h c 3
        OBJECT ENCODING h
        CONFIG SET hash-max-listpack-entries 0
        HSET z a 1
        OBJECT ENCODING z
        CONFIG SET hash-max-listpack-entries 512
        CONFIG SET hash-max-listpack-value 3
        HSET v abc def
        OBJECT ENCODING v
        HSET v abcd 1
        OBJECT ENCODING v
        HSET w 1234 1
        OBJECT ENCODING w
        HINCRBY x a 999
        OBJECT ENCODING x
        HINCRBY x a 1
        OBJECT ENCODING x
        CONFIG SET hash-max-listpack-value 0
        HSET e "" ""
        OBJECT ENCODING e
        HSET e a ""
        OBJECT ENCODING e
        CONFIG SET hash-max-ziplist-entries 4
        CONFIG GET hash-max-listpack-entries
        HSET y a 1 b 2 c 3 d 4
        OBJECT ENCODING y
        HSET y e 5
        OBJECT ENCODING y
        CONFIG SET hash-max-listpack-value 64
        CONFIG SET hash-max-listpack-entries 512
        "#,
    );
}

#[test]
fn hscan_small_and_errors() {
    let mut p = Pair::new();
    p.script(
        r#"
        HSET h a 1 b 2 foo 3 bar 4 12 5 123 6
        HSCAN h 0
        HSCAN h 0 COUNT 1
        HSCAN h 0 MATCH b*
        HSCAN h 0 MATCH 1*
        HSCAN h 0 match * count 100
        HSCAN h 0 MATCH zz*
        HSCAN h 5
        HSCAN h 0 COUNT 0
        HSCAN h 0 COUNT -1
        HSCAN h 0 COUNT x
        HSCAN h 0 COUNT
        HSCAN h 0 MATCH
        HSCAN h 0 FOO bar
        HSCAN h x
        HSCAN h -1
        HSCAN h 18446744073709551615
        HSCAN h 18446744073709551616
        HSCAN nokey 0
        HSCAN nokey 0 COUNT 0
        HSCAN nokey x
        HSCAN nokey 0 FOO
        "#,
    );
}

/// Walks a whole HSCAN on one connection, returning every field seen (with repeats).
fn scan_all(
    raw: &mut common::Raw,
    key: &str,
    extra: &str,
    mut between: impl FnMut(&mut common::Raw),
) -> Vec<Vec<u8>> {
    let mut seen = Vec::new();
    let mut cursor = b"0".to_vec();
    for _ in 0..100_000 {
        let line = format!(
            "HSCAN {} {} {}",
            key,
            String::from_utf8_lossy(&cursor),
            extra
        );
        let reply = raw.cmd(&line);
        let parts = elements(&reply);
        assert_eq!(parts.len(), 2, "{}", show(&reply));
        cursor = bulk_text(&parts[0]);
        let items = elements(&parts[1]);
        assert_eq!(items.len() % 2, 0);
        for pair in items.chunks(2) {
            seen.push(bulk_text(&pair[0]));
        }
        if cursor == b"0" {
            return seen;
        }
        between(raw);
    }
    panic!("HSCAN {} did not finish", key);
}

#[test]
fn hscan_large_returns_everything() {
    let mut p = Pair::new();
    p.check(&hset_line("h", 0, 1000));
    p.check("OBJECT ENCODING h");
    for (raw, name) in [(&mut p.a, "ours"), (&mut p.b, "redis")] {
        let seen: HashSet<_> = scan_all(raw, "h", "COUNT 7", |_| {}).into_iter().collect();
        assert_eq!(seen.len(), 1000, "{name}");
        let seen: HashSet<_> = scan_all(raw, "h", "MATCH f1?", |_| {})
            .into_iter()
            .collect();
        let want: HashSet<Vec<u8>> = (10..20).map(|i| format!("f{i}").into_bytes()).collect();
        assert_eq!(seen, want, "{name}");
    }
    // Growth during the scan (several doublings) must not hide any original field.
    let mut next = 1000;
    let seen: HashSet<_> = scan_all(&mut p.a, "h", "COUNT 3", |raw| {
        if next < 5000 {
            raw.cmd(&hset_line("h", next, 40));
            next += 40;
        }
    })
    .into_iter()
    .collect();
    for i in 0..1000 {
        assert!(seen.contains(format!("f{i}").as_bytes()), "f{i} missed");
    }
    // Deleting other fields (and the table shrinking) must not hide the ones that stay.
    let mut d = 1000;
    let seen: HashSet<_> = scan_all(&mut p.a, "h", "COUNT 3", |raw| {
        if d < 5000 {
            let mut line = String::from("HDEL h");
            for i in d..d + 100 {
                line.push_str(&format!(" f{i}"));
            }
            raw.cmd(&line);
            d += 100;
        }
    })
    .into_iter()
    .collect();
    for i in 0..1000 {
        assert!(seen.contains(format!("f{i}").as_bytes()), "f{i} missed");
    }
}

/// Parses an HRANDFIELD reply into (field, value) items; values only WITHVALUES.
fn random_items(reply: &[u8], withvalues: bool, resp3: bool) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    let e = elements(reply);
    assert!(reply.starts_with(b"*"), "{}", show(reply));
    if !withvalues {
        return e.iter().map(|x| (bulk_text(x), None)).collect();
    }
    if resp3 {
        e.iter()
            .map(|pair| {
                let p = elements(pair);
                assert_eq!(p.len(), 2, "{}", show(pair));
                (bulk_text(&p[0]), Some(bulk_text(&p[1])))
            })
            .collect()
    } else {
        assert_eq!(e.len() % 2, 0);
        e.chunks(2)
            .map(|c| (bulk_text(&c[0]), Some(bulk_text(&c[1]))))
            .collect()
    }
}

fn check_random(p: &mut Pair, key: &str, model: &HashMap<Vec<u8>, Vec<u8>>, resp3: bool) {
    let n = model.len() as i64;
    for count in [1, 2, 3, n - 1, n, n + 5, -1, -3, -(n * 3), 100] {
        for withvalues in [false, true] {
            let line = format!(
                "HRANDFIELD {} {} {}",
                key,
                count,
                if withvalues { "WITHVALUES" } else { "" }
            );
            let (x, y) = p.both(&line);
            for (reply, who) in [(&x, "ours"), (&y, "redis")] {
                let items = random_items(reply, withvalues, resp3);
                let want = if count >= 0 { count.min(n) } else { -count };
                assert_eq!(items.len() as i64, want, "{who} `{line}`");
                for (f, v) in &items {
                    let m = model.get(f).unwrap_or_else(|| panic!("{who}: stray field"));
                    if let Some(v) = v {
                        assert_eq!(v, m, "{who}: wrong value");
                    }
                }
                if count >= 0 {
                    let distinct: HashSet<_> = items.iter().map(|(f, _)| f).collect();
                    assert_eq!(distinct.len(), items.len(), "{who} `{line}` repeats");
                }
            }
        }
    }
    // Without a count: one field of the hash.
    for _ in 0..20 {
        let r = p.a.cmd(&format!("HRANDFIELD {}", key));
        assert!(model.contains_key(&bulk_text(&r)), "{}", show(&r));
    }
}

#[test]
fn hrandfield_semantics() {
    let mut p = Pair::new();
    p.script(
        r#"
        HRANDFIELD nokey
        HRANDFIELD nokey 5
        HRANDFIELD nokey -5 WITHVALUES
        HRANDFIELD nokey 0
        HRANDFIELD nokey x
        HRANDFIELD nokey 1 WITHVALUE
        HRANDFIELD nokey 1 WITHVALUES x
        HRANDFIELD nokey -9223372036854775808
        HRANDFIELD nokey -9223372036854775807
        HRANDFIELD nokey 9223372036854775807 WITHVALUES
        HRANDFIELD nokey -9223372036854775807 WITHVALUES
        HRANDFIELD nokey 4611686018427387903 WITHVALUES
        HRANDFIELD nokey 4611686018427387904 WITHVALUES
        HRANDFIELD nokey -4611686018427387904 WITHVALUES
        HSET h a 1 b 2 c 3 d 4 e 5
        HRANDFIELD h 0
        HRANDFIELD h 0 WITHVALUES
        HRANDFIELD h 5
        HRANDFIELD h 5 WITHVALUES
        HRANDFIELD h 50 WITHVALUES
        HRANDFIELD h 9223372036854775807
        HRANDFIELD h 1 withvalues foo
        "#,
    );
    let mut small = HashMap::new();
    for (f, v) in [("a", "1"), ("b", "2"), ("c", "3"), ("d", "4"), ("e", "5")] {
        small.insert(f.as_bytes().to_vec(), v.as_bytes().to_vec());
    }
    check_random(&mut p, "h", &small, false);

    p.check(&hset_line("big", 0, 600));
    p.check("OBJECT ENCODING big");
    let big: HashMap<_, _> = (0..600)
        .map(|i| (format!("f{i}").into_bytes(), format!("v{i}").into_bytes()))
        .collect();
    check_random(&mut p, "big", &big, false);
    // A count between a third of the size and the size takes the other sampling path.
    let r = p.a.cmd("HRANDFIELD big 400");
    let items = random_items(&r, false, false);
    assert_eq!(items.iter().collect::<HashSet<_>>().len(), 400);

    // Negative counts repeat: with 2 fields and 200 draws, both appear.
    p.check("HSET two x 1 y 2");
    let r = p.a.cmd("HRANDFIELD two -200");
    let seen: HashSet<_> = random_items(&r, false, false).into_iter().collect();
    assert_eq!(seen.len(), 2);

    // Redis would try to build this reply until memory runs out; we refuse it.
    let r = p.a.cmd("HRANDFIELD two -9223372036854775807");
    assert_eq!(show(&r), "-ERR value is out of range\\r\\n");

    p.a.cmd("HELLO 3");
    p.b.cmd("HELLO 3");
    check_random(&mut p, "h", &small, true);
    check_random(&mut p, "big", &big, true);
    p.script(
        r#"
        HRANDFIELD nokey
        HRANDFIELD nokey 3 WITHVALUES
        HRANDFIELD h 5 WITHVALUES
        HRANDFIELD h 6
        "#,
    );
}

#[test]
fn resp3_forms() {
    let mut p = Pair::new();
    p.a.cmd("HELLO 3");
    p.b.cmd("HELLO 3");
    p.script(
        r#"
        HSET h a 1 b 2.5 c x
        HGETALL h
        HGETALL nokey
        HKEYS h
        HKEYS nokey
        HVALS h
        HGET h a
        HGET h zz
        HGET nokey a
        HMGET h a zz c
        HMGET nokey a b
        HEXISTS h a
        HEXISTS h zz
        HINCRBYFLOAT h b 1
        HINCRBY h a 1
        HSCAN h 0
        HSCAN nokey 0
        HSTRLEN h c
        HLEN h
        HMSET h d 4
        HSETNX h d 5
        "#,
    );
    p.check(&hset_line("big", 0, 600));
    p.check_unordered("HGETALL big");
    p.check_unordered("HKEYS big");
}

#[test]
fn keyspace_commands_on_hashes() {
    let mut p = Pair::new();
    p.script(
        r#"
        HSET h a 1 b 2
        TYPE h
        OBJECT ENCODING h
        COPY h h2
        HGETALL h2
        OBJECT ENCODING h2
        HSET h2 c 3
        HGETALL h
        HGETALL h2
        COPY h h2
        COPY h h2 REPLACE
        HGETALL h2
        RENAME h h3
        EXISTS h
        HGETALL h3
        EXPIRE h3 100
        TTL h3
        HSET h3 c 3
        TTL h3
        HDEL h3 a b c
        EXISTS h3
        TTL h3
        HSET px a 1
        PEXPIRE px 1
        "#,
    );
    std::thread::sleep(std::time::Duration::from_millis(20));
    p.script(
        r#"
        HGET px a
        EXISTS px
        HSET k a 1
        PERSIST k
        DEL k
        HGETALL k
        SET str v
        RENAME k str
        HSET k a 1
        RENAME k str
        TYPE str
        HGET str a
        "#,
    );
    p.check(&hset_line("big", 0, 600));
    p.script(
        r#"
        COPY big bigcopy
        OBJECT ENCODING bigcopy
        HLEN bigcopy
        HGET bigcopy f599
        TYPE bigcopy
        RENAME bigcopy bc
        OBJECT ENCODING bc
        HLEN bc
        "#,
    );
    p.check_unordered("HGETALL bc");
}

#[test]
fn command_info_matches() {
    let mut p = Pair::new();
    for c in [
        "hset",
        "hsetnx",
        "hget",
        "hmget",
        "hmset",
        "hdel",
        "hlen",
        "hexists",
        "hgetall",
        "hkeys",
        "hvals",
        "hincrby",
        "hincrbyfloat",
        "hstrlen",
        "hrandfield",
        "hscan",
    ] {
        let (x, y) = p.both(&format!("COMMAND INFO {c}"));
        // Compare the classic part: name, arity, flags, key positions, categories.
        let (ex, ey) = (elements(&x), elements(&y));
        let (ix, iy) = (elements(&ex[0]), elements(&ey[0]));
        for i in 0..7 {
            assert_eq!(show(&ix[i]), show(&iy[i]), "COMMAND INFO {c} element {i}");
        }
    }
}
