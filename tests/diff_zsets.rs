//! Differential tests of the sorted set family: every command, its options and its error
//! paths are sent to this server and to a real redis-server, and the replies must be
//! byte-identical. Random picks (ZRANDMEMBER) are checked for their properties instead.

mod common;
use common::Pair;

/// Switches both connections to RESP3 (the replies carry differing client ids).
fn hello3(p: &mut Pair) {
    let (a, b) = p.both("HELLO 3");
    assert!(a.starts_with(b"%7"), "{}", common::show(&a));
    assert!(b.starts_with(b"%7"), "{}", common::show(&b));
}

#[test]
fn zadd_options_and_errors() {
    let mut p = Pair::new();
    p.script(
        r#"
        ZADD
        ZADD z
        ZADD z 1
        ZADD z ch
        ZADD z 1 a 2
        ZADD z foo 1 a
        ZADD z nx xx 1 a
        ZADD z gt lt 1 a
        ZADD z nx gt 1 a
        ZADD z nx lt 1 a
        ZADD z incr 1 a 2 b
        ZADD z abc a
        ZADD z nan a
        ZADD z 1e400 a
        ZADD z 1e-400 a
        ZADD z " 1" a
        ZADD z "1 " a
        ZADD z "" a
        EXISTS z
        ZADD z xx 1 a
        EXISTS z
        ZADD z xx incr 1 a
        ZADD z 1 a 2 b 3 c
        ZADD z 1 a 2 b 3 c
        ZADD z ch 1 a 5 b 3 c 4 d
        ZRANGE z 0 -1 WITHSCORES
        ZADD z nx 10 a 10 e
        ZADD z xx ch 10 a 10 f
        ZADD z gt ch 0 a 20 b
        ZADD z lt ch 30 c 1 d
        ZADD z GT CH XX 100 a 100 zz
        ZRANGE z 0 -1 WITHSCORES
        ZADD z incr 5 a
        ZADD z incr -5 newone
        ZADD z nx incr 1 a
        ZADD z xx incr 1 missing
        ZADD z gt incr -1 a
        ZADD z lt incr -1 a
        ZADD z 0x10 hex 1e-320 tiny infinity i -Infinity ni .5 half 5. five +5 plus
        ZRANGE z 0 -1 WITHSCORES
        ZADD z inf big
        ZINCRBY z -inf big
        ZADD z incr -inf big
        ZADD z -0 negzero
        ZSCORE z negzero
        ZADD z 0.1 p 1e300 q 1e17 r 3.0 s 123456789.123 t -1.5e-7 u
        ZRANGE z 0 -1 WITHSCORES
        SET str x
        ZADD str 1 a
        ZADD str xx 1 a
        ZADD str abc a
        ZINCRBY str 1 a
        ZINCRBY
        ZINCRBY z 1
        ZINCRBY z abc a
        ZINCRBY z 1e400 a
        ZINCRBY z 2.5 a
        ZINCRBY z 1 new
        ZINCRBY newkey 3 m
        ZRANGE newkey 0 -1 WITHSCORES
        ZINCRBY z -0.1 a
        "#,
    );
}

#[test]
fn zrem_and_point_reads() {
    let mut p = Pair::new();
    p.script(
        r#"
        ZADD z 1 a 2 b 3 c
        ZREM
        ZREM z
        ZREM z x
        ZREM z a x a
        ZREM nokey a
        ZCARD z
        ZCARD nokey
        ZCARD
        ZSCORE z b
        ZSCORE z nope
        ZSCORE nokey b
        ZSCORE z
        ZMSCORE z b nope c
        ZMSCORE nokey a b
        ZMSCORE z
        ZRANK z b
        ZRANK z c
        ZRANK z nope
        ZRANK nokey a
        ZREVRANK z b
        ZREVRANK z c
        ZREVRANK z nope
        ZRANK z
        ZREM z b c
        EXISTS z
        TYPE z
        SET str x
        ZREM str a
        ZCARD str
        ZSCORE str a
        ZMSCORE str a
        ZRANK str a
        ZREVRANK str a
        ZCOUNT str 0 1
        ZLEXCOUNT str - +
        "#,
    );
}

#[test]
fn counts_and_range_parsing() {
    let mut p = Pair::new();
    p.script(
        r#"
        ZADD z -inf ninf 1 a 2 b 2 bb 3 c 4.5 d inf pinf
        ZCOUNT z -inf +inf
        ZCOUNT z 1 2
        ZCOUNT z (1 2
        ZCOUNT z (1 (2
        ZCOUNT z 2 1
        ZCOUNT z (2 2
        ZCOUNT z 2 (2
        ZCOUNT z "" ""
        ZCOUNT z "(" +inf
        ZCOUNT z " 1" 1e400
        ZCOUNT z 0x1 0x3
        ZCOUNT z (nan inf
        ZCOUNT z [1 2
        ZCOUNT z 1 abc
        ZCOUNT z 1
        ZCOUNT nokey 0 1
        ZCOUNT nokey x 1
        ZCOUNT z -inf (1e500
        ZADD l 0 a 0 b 0 c 0 d 0 e 0 f 0 g
        ZLEXCOUNT l - +
        ZLEXCOUNT l [b [d
        ZLEXCOUNT l (b (d
        ZLEXCOUNT l (b [d
        ZLEXCOUNT l [d [b
        ZLEXCOUNT l + -
        ZLEXCOUNT l - [c
        ZLEXCOUNT l (c +
        ZLEXCOUNT l [ +
        ZLEXCOUNT l ( +
        ZLEXCOUNT l a b
        ZLEXCOUNT l [a ""
        ZLEXCOUNT l -x +
        ZLEXCOUNT l - +x
        ZLEXCOUNT l 1 +
        ZLEXCOUNT nokey - +
        ZLEXCOUNT nokey a +
        "#,
    );
}

#[test]
fn zrange_family() {
    let mut p = Pair::new();
    p.script(
        r#"
        ZADD z 1 a 2 b 3 c 4 d 5 e 5 f 6 g
        ZRANGE z 0 -1
        ZRANGE z 0 -1 WITHSCORES
        ZRANGE z 2 3
        ZRANGE z -2 -1
        ZRANGE z -100 100
        ZRANGE z 5 2
        ZRANGE z 7 10
        ZRANGE z -1 -100
        ZRANGE z 0 0 withscores
        ZRANGE z a b
        ZRANGE z 0 1 foo
        ZRANGE z 0 -1 REV
        ZRANGE z 0 -1 REV WITHSCORES
        ZRANGE z 0 -1 LIMIT 0 1
        ZRANGE z 0 -1 LIMIT 0
        ZRANGE z 0 -1 BYLEX WITHSCORES
        ZRANGE z 2 4 BYSCORE
        ZRANGE z (2 4 BYSCORE WITHSCORES
        ZRANGE z 4 (2 BYSCORE REV
        ZRANGE z (2 4 BYSCORE REV
        ZRANGE z -inf +inf BYSCORE LIMIT 1 2
        ZRANGE z -inf +inf BYSCORE LIMIT 1 -1
        ZRANGE z -inf +inf BYSCORE LIMIT -1 2
        ZRANGE z -inf +inf BYSCORE LIMIT 10 1
        ZRANGE z -inf +inf BYSCORE LIMIT 7 1
        ZRANGE z -inf +inf BYSCORE LIMIT 6 5
        ZRANGE z -inf +inf BYSCORE LIMIT 0 0
        ZRANGE z +inf -inf BYSCORE REV LIMIT 1 3 WITHSCORES
        ZRANGE z -inf +inf BYSCORE LIMIT a 1
        ZRANGE z -inf +inf BYSCORE LIMIT 1 b
        ZRANGE z x y BYSCORE
        ZRANGE z [a [c BYLEX
        ZRANGE z - + BYLEX LIMIT 2 2
        ZRANGE z + - BYLEX REV LIMIT 1 2
        ZRANGE z a c BYLEX
        ZRANGE z 0 -1 BYSCORE BYLEX
        ZRANGE z 0 -1 REV REV
        ZRANGE z 0 -1 withscores withscores
        ZRANGE nokey 0 -1
        ZRANGE nokey a b
        ZRANGE nokey 0 1 BYSCORE
        ZREVRANGE z 0 -1
        ZREVRANGE z 0 2 WITHSCORES
        ZREVRANGE z 0 -1 BYSCORE
        ZREVRANGE z 0 -1 REV
        ZREVRANGE z 1
        ZRANGEBYSCORE z 2 5
        ZRANGEBYSCORE z (2 (5 WITHSCORES
        ZRANGEBYSCORE z -inf +inf LIMIT 2 3
        ZRANGEBYSCORE z -inf +inf WITHSCORES LIMIT 2 3
        ZRANGEBYSCORE z -inf +inf LIMIT 2
        ZRANGEBYSCORE z -inf +inf withscores withscores
        ZRANGEBYSCORE z -inf +inf REV
        ZRANGEBYSCORE z -inf +inf BYLEX
        ZRANGEBYSCORE z a b
        ZREVRANGEBYSCORE z 5 2
        ZREVRANGEBYSCORE z 2 5
        ZREVRANGEBYSCORE z +inf -inf WITHSCORES LIMIT 1 2
        ZREVRANGEBYSCORE z (5 (2
        ZADD l 0 a 0 b 0 c 0 d 0 e 0 f 0 g
        ZRANGEBYLEX l - +
        ZRANGEBYLEX l [b (e
        ZRANGEBYLEX l - + LIMIT 1 2
        ZRANGEBYLEX l - + LIMIT -1 2
        ZRANGEBYLEX l - + withscores
        ZRANGEBYLEX l a b
        ZRANGEBYLEX l - + foo
        ZREVRANGEBYLEX l + -
        ZREVRANGEBYLEX l (e [b
        ZREVRANGEBYLEX l + - LIMIT 2 2
        ZREVRANGEBYLEX l - +
        SET str x
        ZRANGE str 0 -1
        ZRANGE str a b
        ZRANGEBYSCORE str 0 1
        ZRANGEBYLEX str - +
        ZREVRANGE str 0 1
        "#,
    );
}

#[test]
fn zrangestore_and_removals() {
    let mut p = Pair::new();
    p.script(
        r#"
        ZADD z 1 a 2 b 3 c 4 d 5 e
        ZRANGESTORE d z 0 -1
        ZRANGE d 0 -1 WITHSCORES
        OBJECT ENCODING d
        ZRANGESTORE d z 1 2 REV
        ZRANGE d 0 -1 WITHSCORES
        ZRANGESTORE d z (1 4 BYSCORE LIMIT 1 2
        ZRANGE d 0 -1 WITHSCORES
        ZRANGESTORE d z [b [d BYLEX
        ZRANGESTORE d z 0 -1 WITHSCORES
        ZRANGESTORE d z 0 -1 LIMIT 0 1
        ZRANGESTORE d z a b
        ZRANGESTORE d z 10 20
        EXISTS d
        ZRANGESTORE d nokey 0 -1
        SET str x
        ZRANGESTORE str z 0 0
        TYPE str
        ZRANGESTORE d str 0 0
        SET d x
        EXPIRE d 100
        ZRANGESTORE d z 0 0
        TTL d
        TYPE d
        ZREMRANGEBYRANK z 0 0
        ZREMRANGEBYRANK z -1 -1
        ZREMRANGEBYRANK z 5 10
        ZREMRANGEBYRANK z 2 1
        ZREMRANGEBYRANK z a 1
        ZREMRANGEBYRANK nokey 0 1
        ZREMRANGEBYRANK str 0 1
        ZRANGE z 0 -1
        ZREMRANGEBYRANK z 0 -1
        EXISTS z
        ZADD z 1 a 2 b 3 c 4 d 5 e
        ZREMRANGEBYSCORE z (1 3
        ZREMRANGEBYSCORE z 10 20
        ZREMRANGEBYSCORE z x 1
        ZREMRANGEBYSCORE str 0 1
        ZRANGE z 0 -1 WITHSCORES
        ZREMRANGEBYSCORE z -inf +inf
        EXISTS z
        ZADD l 0 a 0 b 0 c 0 d 0 e
        ZREMRANGEBYLEX l [b (d
        ZREMRANGEBYLEX l a b
        ZREMRANGEBYLEX str - +
        ZRANGE l 0 -1
        ZREMRANGEBYLEX l - +
        EXISTS l
        ZREMRANGEBYRANK
        ZREMRANGEBYSCORE z 1
        "#,
    );
}

#[test]
fn pops() {
    let mut p = Pair::new();
    p.script(
        r#"
        ZADD z 1 a 2 b 3 c 4 d 5 e 6 f
        ZPOPMIN z
        ZPOPMAX z
        ZPOPMIN z 2
        ZPOPMAX z 0
        ZPOPMIN z -1
        ZPOPMIN z abc
        ZPOPMIN z 1 2
        ZPOPMAX z 100
        EXISTS z
        ZPOPMIN z
        ZPOPMIN z 0
        ZPOPMAX nokey 3
        SET str x
        ZPOPMIN str
        ZPOPMAX str 0
        ZADD z 1 a 2 b 3 c
        ZMPOP 1 z MIN
        ZMPOP 1 z max COUNT 5
        ZMPOP 1 z MIN
        ZADD z 1 a 2 b 3 c
        ZMPOP 2 nokey z MAX COUNT 2
        ZMPOP 2 str z MIN
        ZMPOP 2 z str MIN
        ZMPOP 0 z MIN
        ZMPOP -1 z MIN
        ZMPOP abc z MIN
        ZMPOP 1 z foo
        ZMPOP 1 z MIN COUNT 0
        ZMPOP 1 z MIN COUNT -1
        ZMPOP 1 z MIN COUNT abc
        ZMPOP 1 z MIN COUNT 1 COUNT 2
        ZMPOP 1 z MIN COUNT
        ZMPOP 2 z MIN
        ZMPOP 1 z MIN extra
        ZMPOP 1 nokey MIN
        ZADD z 1 a 2 b 3 c 4 d 5 e
        BZPOPMIN z 0
        BZPOPMAX z 0
        BZPOPMIN nokey z 0
        BZPOPMIN z -1
        BZPOPMIN z abc
        BZPOPMIN str 0
        BZPOPMIN nokey str 0
        BZMPOP 0 1 z MIN
        BZMPOP 0 0 z MIN
        BZMPOP -1 1 z MIN
        BZMPOP abc 1 z MIN
        BZMPOP abc 0 z MIN
        BZMPOP 0 1 z foo
        BZMPOP 0 1 str MIN
        BZMPOP 0 2 nokey z MAX COUNT 10
        EXISTS z
        BZPOPMIN nokey 0.01
        BZPOPMAX nokey 0.01
        BZMPOP 0.01 1 nokey MIN
        "#,
    );
}

#[test]
fn set_operations() {
    let mut p = Pair::new();
    p.script(
        r#"
        ZADD a 1 x 2 y 3 z
        ZADD b 10 y 20 z 30 w
        ZADD c 100 z
        ZUNION 2 a b
        ZUNION 2 a b WITHSCORES
        ZUNION 2 a b WEIGHTS 2 3 WITHSCORES
        ZUNION 2 a b AGGREGATE MIN WITHSCORES
        ZUNION 2 a b AGGREGATE MAX WITHSCORES
        ZUNION 2 a b WEIGHTS 1 -1 AGGREGATE SUM WITHSCORES
        ZUNION 3 a b nokey WITHSCORES
        ZUNION 2 a b WEIGHTS 1
        ZUNION 2 a b WEIGHTS 1 nan
        ZUNION 2 a b WEIGHTS 1 x
        ZUNION 2 a b AGGREGATE foo
        ZUNION 2 a b AGGREGATE
        ZUNION 2 a b foo
        ZUNION 0 a
        ZUNION -1 a
        ZUNION abc a
        ZUNION 3 a b
        ZINTER 2 a b WITHSCORES
        ZINTER 3 a b c WITHSCORES
        ZINTER 2 a b AGGREGATE MAX WEIGHTS 2 0.5 WITHSCORES
        ZINTER 2 a nokey
        ZINTER 1 a
        ZINTER 0 a
        ZDIFF 2 a b WITHSCORES
        ZDIFF 3 b a c
        ZDIFF 2 a a
        ZDIFF 1 a WEIGHTS 1
        ZDIFF 1 a AGGREGATE SUM
        ZDIFF 2 nokey a
        ZDIFF 0 a
        ZINTERCARD 2 a b
        ZINTERCARD 3 a b c
        ZINTERCARD 2 a b LIMIT 1
        ZINTERCARD 2 a b LIMIT 0
        ZINTERCARD 2 a b LIMIT -1
        ZINTERCARD 2 a b LIMIT x
        ZINTERCARD 2 a b WITHSCORES
        ZINTERCARD 0 a
        ZINTERCARD 3 a b
        ZINTERCARD 1 nokey
        ZUNIONSTORE d 2 a b
        ZRANGE d 0 -1 WITHSCORES
        OBJECT ENCODING d
        ZUNIONSTORE d 2 a b WEIGHTS 1 2 AGGREGATE MIN
        ZRANGE d 0 -1 WITHSCORES
        ZUNIONSTORE d 2 a b WITHSCORES
        ZINTERSTORE d 2 a b
        ZRANGE d 0 -1 WITHSCORES
        ZINTERSTORE d 2 a nokey
        EXISTS d
        ZDIFFSTORE d 2 b a
        ZRANGE d 0 -1 WITHSCORES
        ZDIFFSTORE d 2 a a
        EXISTS d
        ZUNIONSTORE d 0 a
        ZINTERSTORE d 0 a
        ZDIFFSTORE d 0 a
        ZUNIONSTORE a 2 a b
        ZRANGE a 0 -1 WITHSCORES
        ZADD inf1 inf m
        ZADD inf2 -inf m
        ZUNION 2 inf1 inf2 WITHSCORES
        ZINTER 2 inf1 inf2 WITHSCORES
        ZUNION 1 inf1 WEIGHTS 0 WITHSCORES
        SET str x
        ZUNION 2 a str
        ZINTER 2 str a
        ZDIFF 2 a str
        ZUNIONSTORE d 2 a str
        ZUNIONSTORE str 1 a
        TYPE str
        SADD s1 x y q
        SADD ints 1 2 3
        ZADD zi 5 1 6 7
        ZUNION 2 a s1 WITHSCORES
        ZUNION 2 s1 a WEIGHTS 3 1 AGGREGATE MAX WITHSCORES
        ZINTER 2 a s1 WITHSCORES
        ZINTER 2 ints zi WITHSCORES
        ZDIFF 2 s1 a WITHSCORES
        ZDIFF 2 ints zi WITHSCORES
        ZINTERCARD 2 s1 a
        ZUNIONSTORE d 2 ints s1
        ZRANGE d 0 -1 WITHSCORES
        OBJECT ENCODING d
        ZUNION 1 s1
        "#,
    );
}

#[test]
fn command_info_matches() {
    let mut p = Pair::new();
    for name in [
        "zadd",
        "zincrby",
        "zrem",
        "zscore",
        "zmscore",
        "zcard",
        "zcount",
        "zlexcount",
        "zrank",
        "zrevrank",
        "zrange",
        "zrangestore",
        "zrangebyscore",
        "zrevrangebyscore",
        "zrangebylex",
        "zrevrangebylex",
        "zrevrange",
        "zremrangebyrank",
        "zremrangebyscore",
        "zremrangebylex",
        "zpopmin",
        "zpopmax",
        "zmpop",
        "bzpopmin",
        "bzpopmax",
        "bzmpop",
        "zrandmember",
        "zunion",
        "zinter",
        "zdiff",
        "zunionstore",
        "zinterstore",
        "zdiffstore",
        "zintercard",
        "zscan",
    ] {
        // Name, arity, flags, first/last/step key and ACL categories (the first 7 fields).
        let (a, b) = p.both(&format!("COMMAND INFO {name}"));
        let (ea, eb) = (common::elements(&a), common::elements(&b));
        let (fa, fb) = (common::elements(&ea[0]), common::elements(&eb[0]));
        for i in 0..7 {
            assert_eq!(
                common::show(&fa[i]),
                common::show(&fb[i]),
                "COMMAND INFO {name} field {i}"
            );
        }
    }
    p.check("COMMAND GETKEYS ZUNIONSTORE d 2 a b WEIGHTS 1 2");
    p.check("COMMAND GETKEYS ZMPOP 2 a b MIN");
    p.check("COMMAND GETKEYS BZMPOP 0 2 a b MIN");
    p.check("COMMAND GETKEYS ZRANGESTORE d s 0 -1");
}

#[test]
fn zrandmember_rules() {
    let mut p = Pair::new();
    p.script(
        r#"
        ZADD z 1 a 2 b 3 c
        ZRANDMEMBER z 3
        ZRANDMEMBER z 10
        ZRANDMEMBER z 3 WITHSCORES
        ZRANDMEMBER z 10 withscores
        ZRANDMEMBER z 0
        ZRANDMEMBER z 0 WITHSCORES
        ZRANDMEMBER z 1 foo
        ZRANDMEMBER z 1 WITHSCORES foo
        ZRANDMEMBER z abc
        ZRANDMEMBER z -9223372036854775808
        ZRANDMEMBER z -9223372036854775807 WITHSCORES
        ZRANDMEMBER z 9223372036854775807 WITHSCORES
        ZRANDMEMBER z -4611686018427387904 WITHSCORES
        ZRANDMEMBER nokey
        ZRANDMEMBER nokey 5
        ZRANDMEMBER nokey -5 WITHSCORES
        SET str x
        ZRANDMEMBER str
        ZRANDMEMBER str 1
        "#,
    );
    hello3(&mut p);
    p.check("ZRANDMEMBER z 10 WITHSCORES");
    // Random picks: semantic checks on our server.
    let mut c = common::client(p.ours.addr());
    let members: Vec<String> = redis::cmd("ZRANDMEMBER")
        .arg("z")
        .arg(-20)
        .query(&mut c)
        .unwrap();
    assert_eq!(members.len(), 20);
    assert!(members
        .iter()
        .all(|m| ["a", "b", "c"].contains(&m.as_str())));
    let two: Vec<String> = redis::cmd("ZRANDMEMBER")
        .arg("z")
        .arg(2)
        .query(&mut c)
        .unwrap();
    assert_eq!(two.len(), 2);
    assert_ne!(two[0], two[1]);
    let pairs: Vec<String> = redis::cmd("ZRANDMEMBER")
        .arg("z")
        .arg(-5)
        .arg("WITHSCORES")
        .query(&mut c)
        .unwrap();
    assert_eq!(pairs.len(), 10);
    for pair in pairs.chunks(2) {
        let want = match pair[0].as_str() {
            "a" => "1",
            "b" => "2",
            "c" => "3",
            other => panic!("unexpected member {other}"),
        };
        assert_eq!(pair[1], want);
    }
    let one: String = redis::cmd("ZRANDMEMBER").arg("z").query(&mut c).unwrap();
    assert!(["a", "b", "c"].contains(&one.as_str()));
    // A large set: distinct picks, from the set.
    let mut args: Vec<String> = Vec::new();
    for i in 0..300 {
        args.push(i.to_string());
        args.push(format!("m{i}"));
    }
    let _: i64 = redis::cmd("ZADD")
        .arg("big")
        .arg(&args)
        .query(&mut c)
        .unwrap();
    let picks: Vec<String> = redis::cmd("ZRANDMEMBER")
        .arg("big")
        .arg(100)
        .query(&mut c)
        .unwrap();
    let set: std::collections::HashSet<&String> = picks.iter().collect();
    assert_eq!(set.len(), 100);
    assert!(picks.iter().all(|m| m.starts_with('m')));
}

#[test]
fn resp3_forms() {
    let mut p = Pair::new();
    hello3(&mut p);
    p.script(
        r#"
        ZADD z 1 a 2 b 3 c 0.1 d
        ZSCORE z a
        ZSCORE z d
        ZSCORE z nope
        ZMSCORE z a nope
        ZINCRBY z 1 a
        ZADD z INCR 1 a
        ZADD z NX INCR 1 a
        ZRANGE z 0 -1 WITHSCORES
        ZRANGE z 0 -1
        ZRANGEBYSCORE z -inf +inf WITHSCORES
        ZREVRANGE z 0 1 WITHSCORES
        ZRANK z a
        ZRANK z nope
        ZPOPMIN z
        ZPOPMIN z 1
        ZPOPMAX z 5
        ZPOPMIN z
        ZADD z 1 a 2 b 3 c
        ZMPOP 1 z MIN
        ZMPOP 1 z MAX COUNT 5
        ZMPOP 1 z MIN
        ZADD z 1 a 2 b 3 c
        BZPOPMIN z 0
        BZMPOP 0 1 z MAX
        ZUNION 1 z WITHSCORES
        ZINTER 1 z
        ZDIFF 1 z WITHSCORES
        ZSCAN z 0
        BZPOPMIN nokey 0.01
        BZMPOP 0.01 1 nokey MIN
        ZRANDMEMBER nokey
        ZMPOP 1 nokey MIN
        "#,
    );
}

#[test]
fn score_formatting() {
    let mut p = Pair::new();
    p.script(
        r#"
        ZADD z 0.1 a 1e300 b inf c -inf d 1e17 e 3.0 f 4503599627370496 g -4503599627370495 h 1.5e-10 i 123.456 j 4611686018427387904 k 4611686018427387905 l 9e18 n 1e18 o
        ZRANGE z 0 -1 WITHSCORES
        ZSCORE z a
        ZSCORE z b
        ZSCORE z c
        ZSCAN z 0
        ZADD z -0 nz
        ZSCORE z nz
        ZSCAN z 0 MATCH n*
        CONFIG SET zset-max-listpack-entries 0
        ZADD s -0 nz 0.1 a 1e17 e
        OBJECT ENCODING s
        ZSCORE s nz
        ZRANGE s 0 -1 WITHSCORES
        ZINCRBY s 0 nz
        ZADD one -0 nz
        ZSCAN one 0
        DEL one
        ZADD one 1e17 e
        ZSCAN one 0
        "#,
    );
    // Hashtable order differs: compare the (member, score text) pairs as sets.
    let pairs = |addr| {
        let mut c = common::client(addr);
        let (cursor, items): (u64, Vec<String>) =
            redis::cmd("ZSCAN").arg("s").arg(0).query(&mut c).unwrap();
        let mut v: Vec<(String, String)> = items
            .chunks(2)
            .map(|p| (p[0].clone(), p[1].clone()))
            .collect();
        v.sort();
        (cursor, v)
    };
    assert_eq!(pairs(p.ours.addr()), pairs(p.redis.addr()));
}

#[test]
fn encodings_and_conversions() {
    let mut p = Pair::new();
    let mut cmd = String::from("ZADD z");
    for i in 0..128 {
        cmd.push_str(&format!(" {i} m{i}"));
    }
    p.check(&cmd);
    p.check("OBJECT ENCODING z");
    p.check("ZADD z 1 m1");
    p.check("OBJECT ENCODING z");
    p.check("ZADD z 500 m500");
    p.check("OBJECT ENCODING z");
    p.check("ZREM z m500 m1 m2");
    p.check("OBJECT ENCODING z");
    p.check("ZRANGE z 0 5 WITHSCORES");
    p.check("ZRANK z m100");
    let long = "x".repeat(64);
    let longer = "x".repeat(65);
    p.script(&format!(
        r#"
        ZADD a 1 {long}
        OBJECT ENCODING a
        ZADD a 2 {longer}
        OBJECT ENCODING a
        ZREM a {longer}
        OBJECT ENCODING a
        ZADD b 1 {longer}
        OBJECT ENCODING b
        ZADD c 1 a 1 a 1 a 1 a
        OBJECT ENCODING c
        ZRANGESTORE d z 0 9
        OBJECT ENCODING d
        ZRANGESTORE d z 0 -1
        OBJECT ENCODING d
        ZUNIONSTORE d 1 z
        OBJECT ENCODING d
        ZUNIONSTORE d 1 a
        OBJECT ENCODING d
        ZINTERSTORE d 2 z z
        OBJECT ENCODING d
        ZDIFFSTORE d 1 b
        OBJECT ENCODING d
        ZRANGESTORE d b 0 -1
        OBJECT ENCODING d
        COPY z zc
        OBJECT ENCODING zc
        ZRANGE zc 0 3 WITHSCORES
        COPY a ac
        OBJECT ENCODING ac
        RENAME zc zr
        TYPE zr
        OBJECT ENCODING zr
        ZCARD zr
        CONFIG SET zset-max-listpack-entries 2
        ZADD e 1 a 2 b
        OBJECT ENCODING e
        ZADD e 3 c
        OBJECT ENCODING e
        CONFIG SET zset-max-listpack-value 3
        ZADD f 1 abcd
        OBJECT ENCODING f
        ZADD g 1 abc
        OBJECT ENCODING g
        ZUNIONSTORE h 1 e
        OBJECT ENCODING h
        ZRANGESTORE h e 0 1
        OBJECT ENCODING h
        CONFIG SET zset-max-listpack-entries 0
        ZADD i 1 a
        OBJECT ENCODING i
        ZINCRBY j 1 a
        OBJECT ENCODING j
        CONFIG SET zset-max-listpack-entries 128
        CONFIG SET zset-max-listpack-value 64
        TYPE z
        DEL z
        TYPE z
        "#
    ));
}

#[test]
fn zscan_forms() {
    let mut p = Pair::new();
    p.script(
        r#"
        ZADD z 1 a 2 b 3 c 1.5 ab
        ZSCAN z 0
        ZSCAN z 0 MATCH a*
        ZSCAN z 0 COUNT 1
        ZSCAN z 0 COUNT 0
        ZSCAN z 0 COUNT -1
        ZSCAN z 0 COUNT x
        ZSCAN z 0 MATCH
        ZSCAN z 0 foo bar
        ZSCAN z abc
        ZSCAN z -1
        ZSCAN nokey 0
        ZSCAN nokey abc
        SET str x
        ZSCAN str 0
        ZSCAN
        "#,
    );
    // The large form: every member comes back at least once over a full iteration.
    let mut c = common::client(p.ours.addr());
    let mut args: Vec<String> = Vec::new();
    for i in 0..1000 {
        args.push(i.to_string());
        args.push(format!("m{i}"));
    }
    let _: i64 = redis::cmd("ZADD")
        .arg("big")
        .arg(&args)
        .query(&mut c)
        .unwrap();
    let mut cursor = 0u64;
    let mut seen = std::collections::HashMap::new();
    for _ in 0..10_000 {
        let (next, items): (u64, Vec<String>) = redis::cmd("ZSCAN")
            .arg("big")
            .arg(cursor)
            .arg("COUNT")
            .arg(20)
            .query(&mut c)
            .unwrap();
        for pair in items.chunks(2) {
            seen.insert(pair[0].clone(), pair[1].clone());
        }
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(cursor, 0, "scan did not finish");
    assert_eq!(seen.len(), 1000);
    assert_eq!(seen["m7"], "7");
}

#[test]
fn large_sets_agree_on_ranks_and_ranges() {
    let mut p = Pair::new();
    // 3000 members, many score ties, added in several batches so both sides build the
    // large form incrementally.
    for batch in 0..6 {
        let mut cmd = String::from("ZADD big");
        for i in 0..500 {
            let n = batch * 500 + i;
            cmd.push_str(&format!(" {} m{:05}", (n * 7919) % 1000, n));
        }
        p.check(&cmd);
    }
    p.check("OBJECT ENCODING big");
    p.check("ZCARD big");
    for line in [
        "ZRANGE big 0 20 WITHSCORES",
        "ZRANGE big -20 -1 WITHSCORES",
        "ZRANGE big 1000 1030",
        "ZRANGE big 0 30 REV WITHSCORES",
        "ZRANGE big 2990 3100 REV",
        "ZRANGE big 100 (105 BYSCORE WITHSCORES",
        "ZRANGE big (900 +inf BYSCORE LIMIT 5 10",
        "ZRANGE big 500 400 BYSCORE REV LIMIT 3 12 WITHSCORES",
        "ZRANGEBYSCORE big 10 12",
        "ZREVRANGEBYSCORE big 999 990 WITHSCORES",
        "ZCOUNT big 100 200",
        "ZCOUNT big (100 (200",
        "ZRANK big m00000",
        "ZRANK big m02999",
        "ZRANK big m01234",
        "ZREVRANK big m01234",
        "ZSCORE big m01234",
        "ZMSCORE big m00001 nope m02000",
        "ZPOPMIN big 3",
        "ZPOPMAX big 3",
        "ZREMRANGEBYRANK big 100 199",
        "ZREMRANGEBYSCORE big 300 310",
        "ZCARD big",
        "ZRANGE big 95 105 WITHSCORES",
        "ZRANK big m01234",
        "ZINCRBY big 0.5 m01234",
        "ZRANK big m01234",
        "ZUNIONSTORE u 1 big WEIGHTS 2",
        "OBJECT ENCODING u",
        "ZRANGE u 0 10 WITHSCORES",
        "ZRANGESTORE s big 0 99",
        "OBJECT ENCODING s",
        "ZRANGE s 0 -1 WITHSCORES",
        "ZINTERCARD 2 big s",
        "ZDIFF 2 s big",
    ] {
        p.check(line);
    }
    for r in (0..2800).step_by(97) {
        p.check(&format!("ZRANGE big {r} {r} WITHSCORES"));
    }
    let mut lex = String::from("ZADD lex");
    for i in 0..2000 {
        lex.push_str(&format!(" 0 k{:05}", i));
    }
    p.check(&lex);
    for line in [
        "ZRANGEBYLEX lex [k00100 (k00120",
        "ZREVRANGEBYLEX lex (k01900 - LIMIT 0 5",
        "ZLEXCOUNT lex [k00500 +",
        "ZREMRANGEBYLEX lex - (k01000",
        "ZCARD lex",
        "ZRANGE lex 0 3",
    ] {
        p.check(line);
    }
}

#[test]
fn blocked_pops_are_served_by_writes_and_time_out() {
    use common::{show, Raw};
    use std::time::{Duration, Instant};
    let server = common::ours();
    let addr = server.addr();
    let mut min = Raw::connect(addr);
    min.send("BZPOPMIN z 0");
    common::wait_blocked(addr, 1);
    let mut max = Raw::connect(addr);
    max.send("BZPOPMAX other z 0");
    common::wait_blocked(addr, 2);
    let mut mpop = Raw::connect(addr);
    mpop.send("BZMPOP 0 2 nokey z MIN COUNT 10");
    common::wait_blocked(addr, 3);
    let mut writer = Raw::connect(addr);
    // A write of another type does not wake a sorted set waiter.
    assert_eq!(show(&writer.cmd("SET z str")), "+OK\\r\\n");
    assert_eq!(show(&writer.cmd("DEL z")), ":1\\r\\n");
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(show(&writer.cmd("ZADD z 1 a 2 b 3 c 4 d")), ":4\\r\\n");
    // Served oldest first, each from the same write.
    assert_eq!(
        show(&min.read_reply()),
        "*3\\r\\n$1\\r\\nz\\r\\n$1\\r\\na\\r\\n$1\\r\\n1\\r\\n"
    );
    assert_eq!(
        show(&max.read_reply()),
        "*3\\r\\n$1\\r\\nz\\r\\n$1\\r\\nd\\r\\n$1\\r\\n4\\r\\n"
    );
    assert_eq!(
        show(&mpop.read_reply()),
        "*2\\r\\n$1\\r\\nz\\r\\n*2\\r\\n*2\\r\\n$1\\r\\nb\\r\\n$1\\r\\n2\\r\\n*2\\r\\n$1\\r\\nc\\r\\n$1\\r\\n3\\r\\n"
    );
    common::wait_blocked(addr, 0);
    assert_eq!(show(&writer.cmd("EXISTS z")), ":0\\r\\n");
    // ZINCRBY and the *STORE commands also wake waiters.
    min.send("BZPOPMIN z2 0");
    common::wait_blocked(addr, 1);
    writer.cmd("ZINCRBY z2 5 m");
    assert_eq!(
        show(&min.read_reply()),
        "*3\\r\\n$2\\r\\nz2\\r\\n$1\\r\\nm\\r\\n$1\\r\\n5\\r\\n"
    );
    writer.cmd("ZADD src 7 s");
    min.send("BZPOPMAX dst 0");
    common::wait_blocked(addr, 1);
    assert_eq!(show(&writer.cmd("ZUNIONSTORE dst 1 src")), ":1\\r\\n");
    assert_eq!(
        show(&min.read_reply()),
        "*3\\r\\n$3\\r\\ndst\\r\\n$1\\r\\ns\\r\\n$1\\r\\n7\\r\\n"
    );
    // Timeouts: a null array after about the time asked for.
    for (cmd, secs) in [
        ("BZPOPMIN nokey 0.2", 0.2),
        ("BZMPOP 0.15 1 nokey MAX", 0.15),
    ] {
        let t = Instant::now();
        let reply = min.cmd(cmd);
        let took = t.elapsed();
        assert_eq!(show(&reply), "*-1\\r\\n");
        assert!(
            took >= Duration::from_secs_f64(secs),
            "{cmd} returned after {took:?}"
        );
        assert!(
            took < Duration::from_secs_f64(secs + 0.5),
            "{cmd} took {took:?}"
        );
    }
}

/// Lex ranges over members that are not in lex order (mixed scores): Redis's listpack
/// walk decides the answer, and ours walks the same way (found by diff_random).
#[test]
fn lex_ranges_over_mixed_scores_walk_like_redis() {
    let mut p = Pair::new();
    let queries = [
        "ZRANGEBYLEX z - +",
        "ZRANGEBYLEX z [b +",
        "ZRANGEBYLEX z (a [c",
        "ZRANGEBYLEX z [m1 +",
        "ZREVRANGEBYLEX z + [b",
        "ZREVRANGEBYLEX z [c (a",
        "ZREVRANGEBYLEX z + - LIMIT 1 2",
        "ZRANGEBYLEX z - + LIMIT 1 2",
        "ZRANGEBYLEX z - [b LIMIT 2 5",
        "ZRANGE z [b + BYLEX REV",
        "ZRANGE z [a [d BYLEX LIMIT 1 1",
        "ZLEXCOUNT z [b +",
        "ZLEXCOUNT z - [b",
        "ZLEXCOUNT z [m1 +",
    ];
    for fill in [
        "ZADD z 1 b 2 a 3 d 0 c",
        "ZADD z 1 m1 2 a 3 x 4 b 5 c",
        "ZADD z 5 a 4 b 3 c 2 d 1 e",
    ] {
        p.check("DEL z");
        p.check(fill);
        for q in queries {
            p.check(q);
        }
        for rem in [
            "ZREMRANGEBYLEX z [b [c",
            "ZREMRANGEBYLEX z [m1 +",
            "ZREMRANGEBYLEX z - +",
        ] {
            p.check("DEL z");
            p.check(fill);
            p.check(rem);
            p.check("ZRANGE z 0 -1 WITHSCORES");
        }
    }
}
