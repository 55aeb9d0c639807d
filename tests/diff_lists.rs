//! Differential tests of the list family: every command, its error paths (wrong type,
//! arity, bad numbers, out-of-range indexes, option errors) and its RESP3 forms, sent to
//! this server and to a real redis-server with replies compared byte for byte. Blocking
//! commands appear here only where they do not block (data present, or an error).

mod common;
use common::{show, Pair};

#[test]
fn push_pop_and_length() {
    let mut p = Pair::new();
    p.script(
        r#"
        LPUSH l a
        LPUSH l b c d
        RPUSH l e f
        LLEN l
        LRANGE l 0 -1
        LPUSHX l x y
        RPUSHX l z
        LPUSHX missing a
        RPUSHX missing a
        EXISTS missing
        LPOP l
        RPOP l
        LPOP l 2
        RPOP l 2
        LPOP l 0
        RPOP l 0
        LRANGE l 0 -1
        LPOP l 100
        EXISTS l
        LPOP l
        RPOP l
        LPOP l 0
        RPOP l 3
        LLEN l
        LLEN missing
        RPUSH n 1 2 3 -5 12345678901234567890 -0 007 +1 " 1" 9223372036854775807 -9223372036854775808 127 128 32768 8388608
        LRANGE n 0 -1
        LPOP n
        RPOP n
        LPOP n 3
        RPOP n 3
        LRANGE n 0 -1
        TYPE n
        OBJECT ENCODING n
        "#,
    );
}

#[test]
fn pop_count_errors_and_null_forms() {
    let mut p = Pair::new();
    p.script(
        r#"
        SET s x
        RPUSH l a b c
        LPOP l abc
        LPOP l -1
        RPOP l -1
        LPOP l 1.5
        LPOP missing abc
        LPOP missing 0
        LPOP missing 1
        RPOP missing
        LPOP s
        LPOP s 0
        RPOP s 2
        LPOP l 1 2
        RPOP l 1 2
        LPOP l 9223372036854775807
        EXISTS l
        "#,
    );
}

#[test]
fn wrong_type_everywhere() {
    let mut p = Pair::new();
    p.script(
        r#"
        SET s x
        RPUSH l a b
        LPUSH s a
        RPUSH s a
        LPUSHX s a
        RPUSHX s a
        LLEN s
        LRANGE s 0 -1
        LINDEX s 0
        LINDEX s abc
        LSET s 0 x
        LSET s abc x
        LINSERT s BEFORE a b
        LINSERT s MIDDLE a b
        LREM s 0 a
        LREM s abc a
        LTRIM s 0 1
        LTRIM s a b
        LPOS s a
        LPOS s a RANK 0
        LMOVE s l LEFT LEFT
        LMOVE l s LEFT LEFT
        LRANGE l 0 -1
        RPOPLPUSH s l
        RPOPLPUSH l s
        LRANGE l 0 -1
        LMPOP 1 s LEFT
        LMPOP 2 missing s LEFT
        LMPOP 2 l s LEFT
        LMPOP 2 s l LEFT
        BLPOP s 0
        BRPOP missing s 0
        BLMOVE s l LEFT LEFT 0
        BLMOVE l s LEFT LEFT 0
        BRPOPLPUSH s l 0
        BRPOPLPUSH l s 0
        BLMPOP 0 1 s LEFT
        GET s
        LRANGE l 0 -1
        "#,
    );
}

#[test]
fn wrong_arity_of_every_command() {
    let mut p = Pair::new();
    p.script(
        r#"
        LPUSH
        LPUSH k
        RPUSH k
        LPUSHX k
        RPUSHX k
        LPOP
        RPOP
        LLEN
        LLEN a b
        LRANGE k 0
        LINDEX k
        LSET k 0
        LINSERT k BEFORE a
        LREM k 0
        LTRIM k 0
        LPOS k
        LMOVE a b LEFT
        RPOPLPUSH a
        LMPOP 1 a
        BLPOP a
        BRPOP a
        BLMOVE a b LEFT LEFT
        BRPOPLPUSH a b
        BLMPOP 0 1 a
        "#,
    );
}

#[test]
fn index_set_and_ranges() {
    let mut p = Pair::new();
    p.script(
        r#"
        RPUSH l a b c d e
        LINDEX l 0
        LINDEX l -1
        LINDEX l 4
        LINDEX l 5
        LINDEX l -5
        LINDEX l -6
        LINDEX l abc
        LINDEX l 9223372036854775807
        LINDEX l -9223372036854775808
        LINDEX missing 0
        LINDEX missing abc
        LSET l 0 A
        LSET l -1 E
        LSET l 2 12345
        LSET l 5 x
        LSET l -6 x
        LSET l abc x
        LSET l 9223372036854775807 x
        LSET missing 0 x
        LSET missing abc x
        LRANGE l 0 -1
        LRANGE l 1 2
        LRANGE l -2 -1
        LRANGE l -100 100
        LRANGE l 3 1
        LRANGE l 5 10
        LRANGE l -1 -2
        LRANGE l 0 0
        LRANGE l -9223372036854775808 9223372036854775807
        LRANGE l a 1
        LRANGE l 0 b
        LRANGE missing 0 -1
        LRANGE missing a b
        "#,
    );
}

#[test]
fn insert_remove_trim() {
    let mut p = Pair::new();
    p.script(
        r#"
        RPUSH l a b c a b c a
        LINSERT l BEFORE b X
        LINSERT l after c Y
        LINSERT l before zz Q
        LINSERT l AFTER a 42
        LINSERT l middle a b
        LINSERT missing BEFORE a b
        LINSERT missing foo a b
        EXISTS missing
        LRANGE l 0 -1
        LREM l 1 a
        LRANGE l 0 -1
        LREM l -1 a
        LRANGE l 0 -1
        LREM l 0 c
        LRANGE l 0 -1
        LREM l 0 nothing
        LREM l abc a
        LREM missing 0 a
        LREM missing x a
        LREM l 0 42
        LRANGE l 0 -1
        LREM l 0 X
        LREM l 0 Y
        LREM l 0 b
        LRANGE l 0 -1
        LREM l -9223372036854775808 a
        EXISTS l
        RPUSH t 1 2 3 4 5 6 7 8 9 10
        LTRIM t 1 -2
        LRANGE t 0 -1
        LTRIM t -3 100
        LRANGE t 0 -1
        LTRIM t 0 0
        LRANGE t 0 -1
        LTRIM t 5 10
        EXISTS t
        RPUSH t a b c
        LTRIM t 2 1
        EXISTS t
        RPUSH t a b c
        LTRIM t -100 -4
        EXISTS t
        LTRIM t a 1
        LTRIM missing 0 1
        LTRIM missing a b
        RPUSH t a b c
        LTRIM t -9223372036854775808 9223372036854775807
        LRANGE t 0 -1
        "#,
    );
}

#[test]
fn lpos_options_and_errors() {
    let mut p = Pair::new();
    p.script(
        r#"
        RPUSH l a b c 1 2 3 c c a 1
        LPOS l a
        LPOS l c
        LPOS l 1
        LPOS l 01
        LPOS l zz
        LPOS l c RANK 2
        LPOS l c RANK -1
        LPOS l c RANK -2
        LPOS l c RANK 5
        LPOS l c RANK -5
        LPOS l c COUNT 0
        LPOS l c COUNT 2
        LPOS l c COUNT 2 RANK 2
        LPOS l c COUNT 0 RANK -1
        LPOS l c COUNT 10 RANK -2
        LPOS l c MAXLEN 3
        LPOS l c MAXLEN 3 COUNT 0
        LPOS l c MAXLEN 7 COUNT 0
        LPOS l c MAXLEN 2 RANK -1
        LPOS l c MAXLEN 4 RANK -1 COUNT 0
        LPOS l zz COUNT 0
        LPOS l a rank 1 count 1 maxlen 0
        LPOS l a RANK 0
        LPOS l a RANK abc
        LPOS l a RANK -9223372036854775808
        LPOS l a RANK -9223372036854775808 COUNT 0
        LPOS l a RANK 9223372036854775807
        LPOS l a COUNT -1
        LPOS l a COUNT abc
        LPOS l a MAXLEN -1
        LPOS l a MAXLEN abc
        LPOS l a RANK
        LPOS l a COUNT
        LPOS l a FOO 1
        LPOS l a RANK 1 FOO
        LPOS missing a
        LPOS missing a COUNT 0
        LPOS missing a RANK 0
        LPOS missing a COUNT -1
        LPOS missing a RANK 2 COUNT 3 MAXLEN 5
        "#,
    );
}

#[test]
fn lmove_rpoplpush_and_rotation() {
    let mut p = Pair::new();
    p.script(
        r#"
        RPUSH src a b c
        LMOVE src dst LEFT RIGHT
        LMOVE src dst RIGHT LEFT
        LRANGE src 0 -1
        LRANGE dst 0 -1
        LMOVE src dst left left
        EXISTS src
        LRANGE dst 0 -1
        LMOVE src dst LEFT LEFT
        LMOVE dst dst LEFT RIGHT
        LRANGE dst 0 -1
        LMOVE dst dst RIGHT LEFT
        LRANGE dst 0 -1
        LMOVE dst dst LEFT LEFT
        LMOVE dst dst RIGHT RIGHT
        LRANGE dst 0 -1
        RPOPLPUSH dst dst
        LRANGE dst 0 -1
        RPUSH one x
        RPOPLPUSH one one
        LMOVE one one LEFT RIGHT
        LRANGE one 0 -1
        RPOPLPUSH dst other
        LRANGE other 0 -1
        RPOPLPUSH missing other
        LMOVE missing other LEFT LEFT
        LMOVE dst other UP LEFT
        LMOVE dst other LEFT DOWN
        LMOVE missing other UP LEFT
        SET s x
        LMOVE dst s LEFT LEFT
        RPOPLPUSH dst s
        LRANGE dst 0 -1
        LMOVE s dst LEFT LEFT
        RPUSH n 1 200 70000 -3
        LMOVE n n LEFT RIGHT
        LMOVE n m RIGHT LEFT
        LRANGE n 0 -1
        LRANGE m 0 -1
        "#,
    );
}

#[test]
fn lmpop_parsing_and_replies() {
    let mut p = Pair::new();
    p.script(
        r#"
        RPUSH a 1 2 3
        RPUSH b x y z w
        LMPOP 1 a LEFT
        LMPOP 1 a RIGHT COUNT 5
        EXISTS a
        LMPOP 2 a b right
        LMPOP 2 a b LEFT COUNT 2
        LMPOP 3 missing a b LEFT COUNT 10
        EXISTS b
        LMPOP 2 a b LEFT
        LMPOP 0 a LEFT
        LMPOP -1 a LEFT
        LMPOP abc a LEFT
        LMPOP 9223372036854775807 a LEFT
        LMPOP 2 a LEFT
        LMPOP 1 a MIDDLE
        LMPOP 1 a LEFT COUNT
        LMPOP 1 a LEFT COUNT 0
        LMPOP 1 a LEFT COUNT -1
        LMPOP 1 a LEFT COUNT abc
        LMPOP 1 a LEFT COUNT 1 COUNT 1
        LMPOP 1 a LEFT FOO
        RPUSH c v
        LMPOP 1 c LEFT COUNT 9223372036854775807
        BLMPOP 0 0 a LEFT
        BLMPOP abc 0 a LEFT
        BLMPOP abc 1 a MIDDLE
        BLMPOP abc 1 a LEFT COUNT 0
        BLMPOP abc 1 a LEFT
        BLMPOP -1 1 a LEFT
        BLMPOP 0 1 a LEFT COUNT 1 COUNT 1
        "#,
    );
}

#[test]
fn blocking_forms_that_do_not_block() {
    let mut p = Pair::new();
    p.script(
        r#"
        RPUSH a 1 2 3
        RPUSH b x y
        BLPOP a 0
        BRPOP a 0
        BLPOP missing b 0.5
        BRPOP missing a b 1
        BLPOP a abc
        BLPOP a -1
        BLPOP a 1e400
        BLPOP a inf
        BLPOP a -inf
        BLPOP a nan
        BLPOP a 9223372036854776
        BLPOP a 1e17
        BLPOP a " 1"
        RPUSH a 4 5 6 7
        BLPOP a 1e-400
        BLPOP a -1e-10
        BLPOP a -0
        BLPOP a 0x10
        BRPOP a ""
        BLMOVE b a LEFT RIGHT 0
        BLMOVE b a UP RIGHT 0
        BLMOVE b a LEFT RIGHT abc
        BLMOVE b a LEFT RIGHT -0.5
        RPUSH b p q r
        BLMOVE b b RIGHT LEFT 0
        LRANGE b 0 -1
        BRPOPLPUSH b a 0
        BRPOPLPUSH a a 0.1
        BRPOPLPUSH a a nope
        LRANGE a 0 -1
        EXISTS b
        RPUSH c 1 2 3 4 5
        BLMPOP 0 2 missing c RIGHT COUNT 2
        BLMPOP 0.01 1 c LEFT
        BLMPOP 0 1 c LEFT COUNT 100
        EXISTS c
        "#,
    );
}

#[test]
fn binary_safe_values() {
    let mut p = Pair::new();
    let vals: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"\x00".to_vec(),
        b"a\r\nb".to_vec(),
        (0u8..=255).collect(),
        vec![0xff; 70],
        vec![b'q'; 9000],
        vec![0u8; 100_000],
    ];
    for v in &vals {
        let (x, y) = p.both_args(&[b"RPUSH", b"bin", v]);
        assert_eq!(show(&x), show(&y));
        let (x, y) = p.both_args(&[b"LPUSH", b"bin", v]);
        assert_eq!(show(&x), show(&y));
    }
    p.check("LRANGE bin 0 -1");
    for v in &vals {
        for cmd in [
            &[&b"LPOS"[..], b"bin", v][..],
            &[b"LPOS", b"bin", v, b"RANK", b"-1"],
            &[b"LPOS", b"bin", v, b"COUNT", b"0"],
        ] {
            let (x, y) = p.both_args(cmd);
            assert_eq!(show(&x), show(&y));
        }
        let (x, y) = p.both_args(&[b"LINSERT", b"bin", b"AFTER", v, b"mark"]);
        assert_eq!(show(&x), show(&y));
    }
    p.check("LRANGE bin 0 -1");
    let (x, y) = p.both_args(&[b"LSET", b"bin", b"3", &vals[3]]);
    assert_eq!(show(&x), show(&y));
    for v in &vals {
        let (x, y) = p.both_args(&[b"LREM", b"bin", b"1", v]);
        assert_eq!(show(&x), show(&y));
    }
    p.script(
        r#"
        LRANGE bin 0 -1
        LINDEX bin 3
        RPOP bin 3
        LPOP bin 2
        LLEN bin
        "#,
    );
}

#[test]
fn large_lists() {
    let mut p = Pair::new();
    // Thousands of elements across many chunks: mixed sizes, integers and strings.
    for batch in 0..20 {
        let mut args: Vec<Vec<u8>> = vec![
            if batch % 2 == 0 { b"RPUSH" } else { b"LPUSH" }.to_vec(),
            b"big".to_vec(),
        ];
        for i in 0..250 {
            let v = match i % 4 {
                0 => format!("{}", batch * 1000 + i),
                1 => format!("elem-{}-{}", batch, i),
                2 => "x".repeat(i * 3),
                _ => format!("-{}", i * 77777),
            };
            args.push(v.into_bytes());
        }
        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        let (x, y) = p.both_args(&refs);
        assert_eq!(show(&x), show(&y));
    }
    p.script(
        r#"
        LLEN big
        LRANGE big 0 -1
        LRANGE big 2400 2600
        LRANGE big -300 -200
        LINDEX big 2500
        LINDEX big -2500
        LINDEX big 4999
        LSET big 2500 replaced
        LSET big 10 ""
        LSET big -10 99999999999
        LINDEX big 2500
        LINSERT big BEFORE replaced before
        LINSERT big AFTER replaced after
        LPOS big replaced
        LPOS big 3007 RANK -1
        LPOS big xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx COUNT 0
        LPOS big xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx COUNT 0 RANK -3 MAXLEN 3000
        LREM big 3 xxxxxxxxxxxx
        LREM big -2 xxxxxxxxxxxxxxx
        LREM big 0 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
        LLEN big
        LRANGE big 0 -1
        LPOP big 1000
        RPOP big 1000
        LTRIM big 100 -100
        LLEN big
        LRANGE big 0 -1
        LMPOP 1 big RIGHT COUNT 300
        LTRIM big 1 0
        EXISTS big
        "#,
    );
}

#[test]
fn chunk_size_settings() {
    for fill in ["-1", "-5", "1", "2", "0", "100"] {
        let mut p = Pair::with(
            |c| c.list_max_listpack_size = fill.parse().unwrap(),
            &["--list-max-listpack-size", fill],
        );
        p.script(
            r#"
            CONFIG GET list-max-listpack-size
            RPUSH l a b c d e f g h
            LPUSH l 1 2 3 4 5 6 7 8
            LINSERT l AFTER d inserted
            LSET l 3 setvalue
            LREM l 1 e
            LRANGE l 0 -1
            LTRIM l 2 -3
            LRANGE l 0 -1
            LPOS l setvalue
            OBJECT ENCODING l
            "#,
        );
    }
    let mut p = Pair::new();
    p.script(
        r#"
        CONFIG SET list-max-listpack-size 3
        RPUSH l a b c d e f g
        LINSERT l BEFORE c X
        LRANGE l 0 -1
        CONFIG SET list-max-listpack-size -2
        CONFIG GET list-max-listpack-size
        RPUSH l h
        LRANGE l 0 -1
        OBJECT ENCODING l
        "#,
    );
}

#[test]
fn emptied_lists_are_deleted() {
    let mut p = Pair::new();
    p.script(
        r#"
        RPUSH l a
        LPOP l
        EXISTS l
        RPUSH l a
        RPOP l 5
        EXISTS l
        RPUSH l a a
        LREM l 0 a
        EXISTS l
        RPUSH l a
        LTRIM l 1 -1
        EXISTS l
        RPUSH l a
        LMOVE l m LEFT LEFT
        EXISTS l
        RPOPLPUSH m l
        EXISTS m
        LMPOP 1 l LEFT
        EXISTS l
        RPUSH l a
        BLPOP l 0
        EXISTS l
        RPUSH l a
        SET l b
        TYPE l
        RPUSH l2 a
        EXPIRE l2 100
        TTL l2
        LPUSH l2 b
        TTL l2
        RENAME l2 l3
        LRANGE l3 0 -1
        COPY l3 l4
        LRANGE l4 0 -1
        OBJECT ENCODING l4
        DEL l3 l4
        DBSIZE
        "#,
    );
}

#[test]
fn command_info_of_list_commands() {
    let mut p = Pair::new();
    for c in [
        "lpush",
        "rpush",
        "lpushx",
        "rpushx",
        "lpop",
        "rpop",
        "llen",
        "lrange",
        "lindex",
        "lset",
        "linsert",
        "lrem",
        "ltrim",
        "lpos",
        "lmove",
        "rpoplpush",
        "blpop",
        "brpop",
        "blmove",
        "brpoplpush",
    ] {
        let (ours, redis) = p.both(&format!("COMMAND INFO {c}"));
        // Compare name, arity, flags, key positions and categories (the first 7 fields);
        // key specs and the rest are outside what this server reports.
        let a = common::elements(&common::elements(&ours)[0]);
        let b = common::elements(&common::elements(&redis)[0]);
        assert_eq!(
            a[..7].iter().map(|x| show(x)).collect::<Vec<_>>(),
            b[..7].iter().map(|x| show(x)).collect::<Vec<_>>(),
            "COMMAND INFO {c}"
        );
    }
}

#[test]
fn resp3_replies_match() {
    let mut p = Pair::new();
    let (ours, redis) = p.both("HELLO 3");
    assert!(ours.starts_with(b"%7\r\n") && redis.starts_with(b"%7\r\n"));
    p.script(
        r#"
        RPUSH l a b c 1 2
        LPOP missing
        LPOP missing 1
        LPOP missing 0
        RPOP missing
        LPOP l 0
        LPOP l
        RPOP l 2
        LINDEX l 10
        LINDEX missing 0
        LPOS l zz
        LPOS l zz COUNT 0
        LPOS missing zz
        LPOS missing zz COUNT 0
        LRANGE missing 0 -1
        LRANGE l 0 -1
        LMOVE missing l LEFT LEFT
        RPOPLPUSH missing l
        LMPOP 1 missing LEFT
        LMPOP 1 l LEFT COUNT 2
        RPUSH l a b c
        BLPOP l 0
        BLMPOP 0 2 missing l RIGHT
        LPOS l b RANK -1
        "#,
    );
}

#[test]
fn getkeys_of_numkeys_commands() {
    let mut p = Pair::new();
    p.script(
        "
        COMMAND GETKEYS lmpop 2 a b left
        COMMAND GETKEYS lmpop 1 a b left
        COMMAND GETKEYS lmpop 5 a b left
        COMMAND GETKEYS lmpop 0 a left
        COMMAND GETKEYS lmpop x a left
        COMMAND GETKEYS blmpop 0 2 a b left
        COMMAND GETKEYS blmpop 0 3 a b left
        COMMAND GETKEYS lmove a b left right
        ",
    );
}
