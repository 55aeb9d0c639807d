//! Differential tests of the set family: every command, its error paths and the encoding
//! conversion points are sent to this server and to a real redis-server. Replies must be
//! byte-identical, except where Redis lists a hash table in its own order (compared as
//! unordered) and for random picks (SPOP, SRANDMEMBER), checked for what they promise:
//! membership, distinctness and sizes.

mod common;
use std::collections::BTreeSet;

use common::{elements, show, Pair, Raw};

/// The payload of a bulk string element (`$n\r\n...\r\n`).
fn payload(e: &[u8]) -> Vec<u8> {
    assert_eq!(e.first(), Some(&b'$'), "not a bulk: {}", show(e));
    let start = e.iter().position(|&b| b == b'\n').unwrap() + 1;
    e[start..e.len() - 2].to_vec()
}

/// The members of an aggregate reply of bulk strings.
fn members(reply: &[u8]) -> Vec<Vec<u8>> {
    assert!(
        matches!(reply.first(), Some(b'*' | b'~')),
        "not an aggregate: {}",
        show(reply)
    );
    elements(reply).iter().map(|e| payload(e)).collect()
}

fn set_of(items: &[Vec<u8>]) -> BTreeSet<Vec<u8>> {
    items.iter().cloned().collect()
}

fn range(from: i64, to: i64) -> String {
    (from..=to)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn sadd_srem_and_arity() {
    let mut p = Pair::new();
    p.script(
        r#"
        SADD
        SADD s
        SREM
        SREM s
        SMEMBERS
        SMEMBERS a b
        SISMEMBER s
        SISMEMBER s a b
        SMISMEMBER s
        SCARD
        SCARD a b
        SMOVE a b
        SMOVE a b c d
        SPOP
        SRANDMEMBER
        SINTER
        SUNION
        SDIFF
        SINTERSTORE d
        SUNIONSTORE d
        SDIFFSTORE d
        SINTERCARD 1
        SSCAN s
        SADD s 3 1 2 2 3
        SMEMBERS s
        SCARD s
        SADD s 1 4
        SREM s 9 x
        SREM s 1 1 2
        SMEMBERS s
        SREM s 3 4 5
        EXISTS s
        SREM s 1
        SADD s a b c
        SREM s a b c d
        EXISTS s
        SET str v
        SADD str a
        SREM str a
        SMEMBERS str
        SCARD str
        SISMEMBER str a
        SMISMEMBER str a
        GET str
        SCARD missing
        SREM missing a
        "#,
    );
}

#[test]
fn intset_order_and_canonical_integers() {
    let mut p = Pair::new();
    p.script(
        r#"
        SADD s 5 -3 70000 1 -9223372036854775808 9223372036854775807 0 -70000 -5000000000 40000
        SMEMBERS s
        OBJECT ENCODING s
        SISMEMBER s 70000
        SISMEMBER s 070000
        SISMEMBER s 9223372036854775808
        SMISMEMBER s -3 +1 1 " 1" -0 0
        SREM s 70000 -9223372036854775808
        SMEMBERS s
        OBJECT ENCODING s
        SADD n 1 01
        OBJECT ENCODING n
        SADD m -0
        OBJECT ENCODING m
        SADD m2 +5
        OBJECT ENCODING m2
        SADD m3 9223372036854775808
        OBJECT ENCODING m3
        SADD m4 " 7"
        OBJECT ENCODING m4
        SADD m5 1.5
        OBJECT ENCODING m5
        SSCAN s 0
        SSCAN s 0 MATCH *0*
        SSCAN s 0 COUNT 1
        "#,
    );
    p.check_unordered("SMEMBERS n");
}

#[test]
fn encoding_conversion_points() {
    let mut p = Pair::new();
    p.check(&format!("SADD s {}", range(1, 512)));
    p.check("OBJECT ENCODING s");
    p.check("SSCAN s 0 MATCH 51?");
    p.check("SADD s 512");
    p.check("OBJECT ENCODING s");
    p.check("SADD s 513");
    p.check("OBJECT ENCODING s");
    p.check("SREM s 513 512");
    p.check("OBJECT ENCODING s");
    p.check("SCARD s");
    // All integers again, but a hash table stays a hash table.
    p.check_unordered("SMEMBERS s");
    // A 513-member union of integers is built fresh, and too big for an intset.
    p.check(&format!("SADD a {}", range(1, 300)));
    p.check(&format!("SADD b {}", range(200, 513)));
    p.check("SUNIONSTORE u a b");
    p.check("OBJECT ENCODING u");
    p.check("SUNIONSTORE u a");
    p.check("OBJECT ENCODING u");
    p.check("SMEMBERS u");
    // Adding a non-integer converts at once.
    p.script(
        r#"
        SADD i 1 2 3
        OBJECT ENCODING i
        SADD i a
        OBJECT ENCODING i
        SREM i a
        OBJECT ENCODING i
        SADD j 1
        SADD j aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
        OBJECT ENCODING j
        SCARD j
        CONFIG SET set-max-intset-entries 4
        SADD c 1 2 3 4
        OBJECT ENCODING c
        SADD c 5
        OBJECT ENCODING c
        SADD c2 1 2 3 4 5
        OBJECT ENCODING c2
        SINTERSTORE c3 c c
        OBJECT ENCODING c3
        CONFIG SET set-max-intset-entries 0
        SADD z 1
        OBJECT ENCODING z
        SMOVE i z2 1
        OBJECT ENCODING z2
        CONFIG SET set-max-intset-entries 512
        SADD z3 1
        OBJECT ENCODING z3
        "#,
    );
    p.check_unordered("SMEMBERS c");
    p.check_unordered("SMEMBERS j");
    // A hash table past the compact sizes keeps every member.
    let words: Vec<String> = (0..300).map(|i| format!("w{i}")).collect();
    p.check(&format!("SADD w {}", words.join(" ")));
    p.check("OBJECT ENCODING w");
    p.check("SCARD w");
    p.check_unordered("SMEMBERS w");
    p.check("SISMEMBER w w299");
    p.check("SREM w w0 w1 nope");
    p.check("SCARD w");
}

#[test]
fn smove_cases() {
    let mut p = Pair::new();
    p.script(
        r#"
        SADD a 1 2 x
        SADD b 3
        SET str v
        SMOVE missing b 1
        SMOVE missing str 1
        SMOVE str b 1
        SMOVE a str 1
        SMOVE a str nothere
        SMOVE a a 1
        SMOVE a a nothere
        SMOVE str str 1
        SMOVE a b nothere
        SMOVE a b 1
        SMEMBERS b
        OBJECT ENCODING b
        SMOVE a b x
        OBJECT ENCODING b
        SMOVE a b 2
        EXISTS a
        SCARD b
        SMOVE b n1 3
        OBJECT ENCODING n1
        SMOVE b n2 x
        OBJECT ENCODING n2
        SMEMBERS n2
        SMOVE b n2 1
        SMOVE b n2 2
        EXISTS b
        SADD c 5
        SADD d 5
        SMOVE c d 5
        EXISTS c
        SMEMBERS d
        "#,
    );
}

#[test]
fn algebra_and_store() {
    let mut p = Pair::new();
    p.script(
        r#"
        SADD i1 1 2 3 4 5
        SADD i2 4 5 6 7
        SADD i3 5 7 9
        SADD h1 a b c 4 5
        SET str v
        SINTER i1 i2
        SINTER i1 i2 i3
        SINTER i1 missing
        SINTER missing i1
        SINTER missing str
        SINTER str missing
        SINTER i1 str
        SINTER i1 i1
        SUNION i1 i2 i3
        SUNION missing i1
        SUNION missing
        SUNION i1 str
        SUNION str missing
        SDIFF i1 i2
        SDIFF i1 i2 i3
        SDIFF i1 missing
        SDIFF missing i1
        SDIFF i1 i1
        SDIFF i1 str
        SDIFF str i1
        SDIFF missing str
        SINTER h1 i1
        SDIFF i1 h1
        SINTERSTORE d i1 i2
        OBJECT ENCODING d
        SMEMBERS d
        SUNIONSTORE d i1 i2 i3
        SMEMBERS d
        SDIFFSTORE d i1 i3
        SMEMBERS d
        SINTERSTORE d i1 missing
        EXISTS d
        SADD d 1
        SDIFFSTORE d i1 i1
        EXISTS d
        SET d v
        SUNIONSTORE d missing
        EXISTS d
        SET d v
        SUNIONSTORE d i3
        TYPE d
        SMEMBERS d
        SADD e 1 2
        EXPIRE e 1000
        SINTERSTORE e e i1
        TTL e
        SMEMBERS e
        SUNIONSTORE e e i3
        SMEMBERS e
        SDIFFSTORE e e i3
        SMEMBERS e
        SINTERSTORE d i1 str
        SUNIONSTORE d str
        SDIFFSTORE d missing str
        SINTERSTORE hs h1 h1
        OBJECT ENCODING hs
        SINTERSTORE hs h1 i1
        OBJECT ENCODING hs
        SMEMBERS hs
        SDIFFSTORE hs h1 i1
        OBJECT ENCODING hs
        SUNIONSTORE hs h1
        OBJECT ENCODING hs
        SINTERCARD 1 i1
        SINTERCARD 2 i1 i2
        SINTERCARD 2 i1 i2 LIMIT 1
        SINTERCARD 2 i1 i2 limit 0
        SINTERCARD 2 i1 i2 LIMIT 100
        SINTERCARD 2 i1 missing
        SINTERCARD 2 missing str
        SINTERCARD 1 str
        SINTERCARD 0 i1
        SINTERCARD -1 i1
        SINTERCARD x i1
        SINTERCARD 3 i1 i2
        SINTERCARD 2 i1 i2 LIMIT -1
        SINTERCARD 2 i1 i2 LIMIT x
        SINTERCARD 2 i1 i2 LIMIT
        SINTERCARD 2 i1 i2 FOO 1
        SINTERCARD 1 i1 LIMIT 1 LIMIT 2
        SINTERCARD 9223372036854775807 i1
        SINTERCARD 99999999999999999999 i1
        "#,
    );
    for line in [
        "SUNION h1 i1",
        "SDIFF h1 i1",
        "SUNION h1 i2 i3",
        "SDIFF h1 missing",
        "SMEMBERS hs",
    ] {
        p.check_unordered(line);
    }
}

#[test]
fn resp3_replies() {
    let mut p = Pair::new();
    // Client ids differ between the servers: send HELLO to both, compare the rest.
    p.both("HELLO 3");
    p.script(
        r#"
        SADD s 3 1 2
        SMEMBERS s
        SMEMBERS missing
        SINTER s missing
        SINTER s s
        SUNION s missing
        SDIFF s missing
        SDIFF missing s
        SUNION missing
        SISMEMBER s 1
        SMISMEMBER s 1 9
        SPOP missing
        SPOP missing 2
        SPOP s 0
        SRANDMEMBER missing
        SRANDMEMBER missing 2
        SRANDMEMBER s 0
        SRANDMEMBER s 10
        SSCAN s 0
        SSCAN missing 0
        SPOP s 3
        EXISTS s
        SADD s 5
        SPOP s
        SPOP s
        "#,
    );
}

#[test]
fn spop_semantics() {
    let mut p = Pair::new();
    p.script(
        r#"
        SPOP s 1 2
        SPOP missing x
        SPOP missing -1
        SPOP missing 1.5
        SPOP missing 99999999999999999999
        SET str v
        SPOP str
        SPOP str 1
        SPOP str x
        SPOP str -1
        SPOP missing
        SPOP missing 0
        SPOP missing 5
        SADD one 7
        SPOP one
        EXISTS one
        SADD s 9 3 1
        SPOP s 0
        SPOP s 3
        EXISTS s
        SADD s 9 3 1
        SPOP s 100
        EXISTS s
        "#,
    );
    for (fill, label) in [
        (range(1, 20), "intset"),
        (
            (0..20)
                .map(|i| format!("m{i}"))
                .collect::<Vec<_>>()
                .join(" "),
            "packed",
        ),
        (
            (0..400)
                .map(|i| format!("m{i}"))
                .collect::<Vec<_>>()
                .join(" "),
            "big",
        ),
    ] {
        p.check("DEL s");
        p.check(&format!("SADD s {fill}"));
        let all: BTreeSet<Vec<u8>> = set_of(&members(&p.a.cmd("SMEMBERS s")));
        let total = all.len();
        let mut left = all.clone();
        // A single SPOP, then SPOPs of several sizes: each pops distinct members of the
        // set, removes exactly them, and the key goes when the set is empty.
        for count in [None, Some(1), Some(3), Some(total / 4)] {
            let (ours, theirs) = match count {
                None => p.both("SPOP s"),
                Some(c) => p.both(&format!("SPOP s {c}")),
            };
            let popped: Vec<Vec<u8>> = match count {
                None => vec![payload(&ours)],
                Some(_) => members(&ours),
            };
            let want = count.unwrap_or(1).min(left.len());
            assert_eq!(popped.len(), want, "{label}: SPOP size");
            assert_eq!(elements(&theirs).len(), elements(&ours).len());
            for m in &popped {
                assert!(left.remove(m), "{label}: popped {:?} twice or unknown", m);
            }
            let card = p.check("SCARD s");
            assert_eq!(card, format!(":{}\r\n", left.len()).into_bytes());
            assert_eq!(set_of(&members(&p.a.cmd("SMEMBERS s"))), left);
        }
        // Popping all but one (Redis's CASE 3: it keeps the one in a new set), then the rest.
        let rest = left.len();
        let ours = p.a.cmd(&format!("SPOP s {}", rest - 1));
        let popped = set_of(&members(&ours));
        assert_eq!(popped.len(), rest - 1, "{label}");
        assert!(popped.is_subset(&left));
        p.b.cmd(&format!("SPOP s {}", rest - 1));
        p.check("SCARD s");
        let (a, _) = p.both("SPOP s 5");
        assert_eq!(members(&a).len(), 1);
        p.check("EXISTS s");
    }
    // Keeping few of many integers rebuilds the set as an intset, in both.
    p.check(&format!("SADD big {}", range(1, 600)));
    p.check("OBJECT ENCODING big");
    let (a, b) = p.both("SPOP big 590");
    assert_eq!(members(&a).len(), 590);
    assert_eq!(members(&b).len(), 590);
    p.check("OBJECT ENCODING big");
    p.check("SCARD big");
}

#[test]
fn srandmember_semantics() {
    let mut p = Pair::new();
    p.script(
        r#"
        SRANDMEMBER s 1 2
        SRANDMEMBER missing x
        SRANDMEMBER missing 1.5
        SRANDMEMBER missing -9223372036854775808
        SRANDMEMBER missing -9223372036854775807
        SRANDMEMBER missing
        SRANDMEMBER missing 0
        SRANDMEMBER missing 3
        SRANDMEMBER missing -3
        SET str v
        SRANDMEMBER str
        SRANDMEMBER str 3
        SRANDMEMBER str x
        SADD s 3 1 2
        SRANDMEMBER s 0
        SRANDMEMBER s 3
        SRANDMEMBER s 4
        SRANDMEMBER s -9223372036854775808
        SADD one x
        SRANDMEMBER one
        SRANDMEMBER one 5
        SRANDMEMBER one -3
        "#,
    );
    for (fill, label) in [
        (range(1, 30), "intset"),
        (
            (0..30)
                .map(|i| format!("m{i}"))
                .collect::<Vec<_>>()
                .join(" "),
            "packed",
        ),
        (
            (0..1000)
                .map(|i| format!("m{i}"))
                .collect::<Vec<_>>()
                .join(" "),
            "big",
        ),
    ] {
        p.check("DEL s");
        p.check(&format!("SADD s {fill}"));
        let all = set_of(&members(&p.a.cmd("SMEMBERS s")));
        let total = all.len();
        let single = payload(&p.a.cmd("SRANDMEMBER s"));
        assert!(all.contains(&single), "{label}");
        for count in [1, 2, 5, total / 3, total / 2, total - 1, total, total + 5] {
            for conn in [&mut p.a, &mut p.b] {
                let got = members(&conn.cmd(&format!("SRANDMEMBER s {count}")));
                assert_eq!(got.len(), count.min(total), "{label} count {count}");
                let distinct = set_of(&got);
                assert_eq!(distinct.len(), got.len(), "{label}: repeats in {count}");
                assert!(distinct.is_subset(&all), "{label}");
            }
        }
        for count in [1, 7, total * 3] {
            for conn in [&mut p.a, &mut p.b] {
                let got = members(&conn.cmd(&format!("SRANDMEMBER s -{count}")));
                assert_eq!(got.len(), count, "{label} count -{count}");
                assert!(set_of(&got).is_subset(&all), "{label}");
            }
        }
        // Reading does not change the set.
        p.check("SCARD s");
    }
}

/// Runs a full SSCAN iteration and returns the members seen and the calls it took.
fn full_sscan(c: &mut Raw, key: &str, opts: &str) -> (Vec<Vec<u8>>, usize) {
    let mut cursor = "0".to_string();
    let mut seen = Vec::new();
    for calls in 1..=100_000 {
        let reply = c.cmd(&format!("SSCAN {key} {cursor} {opts}"));
        let parts = elements(&reply);
        assert_eq!(parts.len(), 2, "SSCAN reply {}", show(&reply));
        cursor = String::from_utf8(payload(&parts[0])).unwrap();
        seen.extend(members(&parts[1]));
        if cursor == "0" {
            return (seen, calls);
        }
    }
    panic!("SSCAN did not finish");
}

#[test]
fn sscan_cases() {
    let mut p = Pair::new();
    p.script(
        r#"
        SSCAN missing 0
        SSCAN missing x
        SSCAN missing 0 COUNT 0
        SSCAN missing 0 bogus
        SET str v
        SSCAN str 0
        SSCAN str x
        SSCAN str 0 COUNT 0
        SADD s 1 2 3 10 20
        SSCAN s 0
        SSCAN s 0 COUNT 1
        SSCAN s 0 MATCH 1*
        SSCAN s 0 MATCH *0 COUNT 100
        SSCAN s 0 COUNT 0
        SSCAN s 0 COUNT -1
        SSCAN s 0 COUNT x
        SSCAN s 0 MATCH
        SSCAN s 0 foo bar
        SSCAN s x
        SSCAN s -1
        SSCAN s 0 MATCH * COUNT 5
        "#,
    );
    // A small hash table fits one call of the default COUNT in Redis too.
    p.check("SADD h a b c d e");
    let (a, b) = p.both("SSCAN h 0");
    let (a, b) = (elements(&a), elements(&b));
    assert_eq!(a[0], b"$1\r\n0\r\n".to_vec());
    assert_eq!(a[0], b[0]);
    assert_eq!(set_of(&members(&a[1])), set_of(&members(&b[1])));
    // Big sets: every member comes at least once, whatever COUNT and MATCH.
    let words: Vec<String> = (0..2000).map(|i| format!("member:{i}")).collect();
    p.check(&format!("SADD big {}", words.join(" ")));
    p.check(&format!("SADD bigint {}", range(1, 1000)));
    for (key, opts) in [
        ("big", ""),
        ("big", "COUNT 1"),
        ("big", "COUNT 37"),
        ("big", "COUNT 5000"),
        ("big", "MATCH member:1?"),
        ("big", "MATCH *7 COUNT 100"),
        ("bigint", ""),
        ("bigint", "MATCH 99*"),
    ] {
        let (ours, calls) = full_sscan(&mut p.a, key, opts);
        let (theirs, _) = full_sscan(&mut p.b, key, opts);
        assert_eq!(set_of(&ours), set_of(&theirs), "SSCAN {key} {opts}");
        if opts.is_empty() {
            assert!(calls > 1, "a big set is scanned in steps");
        }
    }
    // Members present for the whole scan are seen even while others come and go.
    let mut cursor = "0".to_string();
    let mut seen = BTreeSet::new();
    for step in 0..10_000 {
        let reply = p.a.cmd(&format!("SSCAN big {cursor} COUNT 20"));
        let parts = elements(&reply);
        cursor = String::from_utf8(payload(&parts[0])).unwrap();
        seen.extend(members(&parts[1]));
        // Churn: add and remove members beyond the stable ones (growing the table too).
        p.a.cmd(&format!("SADD big extra:{step} extra2:{step}"));
        p.a.cmd(&format!("SREM big extra:{step}"));
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(cursor, "0", "scan finished");
    for w in &words {
        assert!(seen.contains(w.as_bytes()), "{w} missed during churn");
    }
}

#[test]
fn keyspace_commands_on_sets() {
    let mut p = Pair::new();
    p.script(
        r#"
        SADD i 3 1 2
        SADD h a b 1
        TYPE i
        TYPE h
        OBJECT ENCODING i
        OBJECT ENCODING h
        COPY i i2
        OBJECT ENCODING i2
        SMEMBERS i2
        SADD i2 4
        SCARD i
        COPY h h2
        OBJECT ENCODING h2
        SREM h2 a
        SCARD h
        SCARD h2
        RENAME i2 i3
        EXISTS i2
        SMEMBERS i3
        EXPIRE i3 100
        TTL i3
        SADD i3 9
        TTL i3
        SREM i3 9
        TTL i3
        PERSIST i3
        TTL i3
        PEXPIRE i3 1
        "#,
    );
    std::thread::sleep(std::time::Duration::from_millis(20));
    p.script(
        r#"
        EXISTS i3
        SCARD i3
        SMEMBERS i3
        "#,
    );
    let (a, b) = p.both("SCAN 0 TYPE set COUNT 100");
    let (a, b) = (elements(&a), elements(&b));
    assert_eq!(a[0], b[0]);
    assert_eq!(set_of(&members(&a[1])), set_of(&members(&b[1])));
    assert_eq!(members(&a[1]).len(), 3, "SCAN TYPE set lists the sets");
    p.script(
        r#"
        DEL i h h2
        EXISTS i h h2
        "#,
    );
    p.check_unordered("SMEMBERS h2");
    // Types are checked by the other families too.
    p.script(
        r#"
        SADD s a
        GET s
        INCR s
        APPEND s x
        "#,
    );
}

#[test]
fn command_info_of_set_commands() {
    let mut p = Pair::new();
    for c in [
        "sadd",
        "srem",
        "smembers",
        "sismember",
        "smismember",
        "scard",
        "smove",
        "spop",
        "srandmember",
        "sinter",
        "sunion",
        "sdiff",
        "sinterstore",
        "sunionstore",
        "sdiffstore",
        "sscan",
    ] {
        let (ours, theirs) = p.both(&format!("COMMAND INFO {c}"));
        // Compare name, arity, flags, key positions and categories (the first seven
        // fields); tips and key specs are not modelled.
        let o = elements(&ours);
        let t = elements(&theirs);
        let (o, t) = (elements(&o[0]), elements(&t[0]));
        assert_eq!(
            o[..7].iter().map(|e| show(e)).collect::<Vec<_>>(),
            t[..7].iter().map(|e| show(e)).collect::<Vec<_>>(),
            "COMMAND INFO {c}"
        );
    }
}
