//! First differential checks of the foundation: the harness itself and the basic commands.

mod common;
use common::Pair;

#[test]
fn basic_strings_and_errors_match_redis() {
    let mut p = Pair::new();
    p.script(
        r#"
        PING
        PING hello
        SET k v
        GET k
        GET missing
        INCR n
        INCRBY n 10
        DECRBY n 3
        INCR k
        SET big 9223372036854775807
        INCR big
        MSET a 1 b 2 c 3
        MGET a b missing c
        MSET a
        DEL a b missing
        EXISTS a c c
        SET x y EX 0
        SET x y EX abc
        SET x y NX XX
        SET x y KEEPTTL EX 10
        SET x y EX 10 EX 20
        SET x y GET
        SET x z XX GET
        NOSUCHCOMMAND a b
        GET
        SELECT 16
        SELECT 1
        DBSIZE
        "#,
    );
}

#[test]
fn redis_crate_talks_to_us() {
    let s = common::ours();
    let mut c = common::client(s.addr());
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    let v: String = redis::cmd("GET").arg("k").query(&mut c).unwrap();
    assert_eq!(v, "v");
}
