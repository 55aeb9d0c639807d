//! Differential tests of the keyspace family: every command and its error paths sent to
//! this server and to a real redis-server, replies compared byte for byte (order-insensitive
//! only for KEYS and full SCAN iterations, whose order Redis leaves unspecified).

mod common;
use std::collections::BTreeSet;

use common::{elements, show, Pair, Raw};

#[test]
fn del_unlink_exists_type_touch() {
    let mut p = Pair::new();
    p.script(
        r#"
        DEL
        UNLINK
        EXISTS
        TYPE
        TYPE a b
        TOUCH
        MSET a 1 b 2 c 3
        EXISTS a b missing a
        TOUCH a missing b
        TYPE a
        TYPE missing
        DEL a missing a
        UNLINK b c
        EXISTS a b c
        DEL a
        SET "key with spaces" v
        EXISTS "key with spaces"
        TYPE "key with spaces"
        "#,
    );
}

#[test]
fn rename_and_renamenx() {
    let mut p = Pair::new();
    p.script(
        r#"
        RENAME
        RENAME a
        RENAME a b c
        RENAMENX a
        RENAME missing b
        RENAMENX missing b
        SET a 1
        RENAME a a
        RENAMENX a a
        GET a
        RENAME missing missing
        RENAMENX missing missing
        RENAME a b
        EXISTS a
        GET b
        SET c 3
        RENAMENX b c
        GET b
        GET c
        RENAMENX b d
        GET d
        RENAME d c
        GET c
        EXISTS d
        SET t v EX 100
        RENAME t t2
        TTL t2
        TTL t
        SET n 5
        RENAME t2 n
        TTL n
        GET n
        SET p v
        RENAME p n
        TTL n
        OBJECT ENCODING n
        "#,
    );
}

#[test]
fn copy_between_keys_and_databases() {
    let mut p = Pair::new();
    p.script(
        r#"
        COPY
        COPY a
        SET a hello EX 100
        COPY a a
        COPY a b foo
        COPY a b DB
        COPY a b DB x
        COPY a b DB 16
        COPY a b DB -1
        COPY a b DB 99999999999
        COPY a a DB 1 foo
        COPY missing b
        COPY a b
        GET b
        TTL b
        COPY a b
        SET c other
        COPY a c
        GET c
        COPY a c REPLACE
        GET c
        COPY a c replace REPLACE
        COPY a a DB 0
        COPY a a DB 1
        COPY a x db 1 replace
        EXISTS x
        SWAPDB 0 1
        GET a
        GET x
        TTL a
        SET a changed
        SWAPDB 1 0
        COPY a a DB 1
        COPY a a DB 1 REPLACE
        SELECT 1
        GET a
        SELECT 0
        SET n 12345
        COPY n n2
        OBJECT ENCODING n2
        GET n2
        SET big aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
        COPY big big2
        OBJECT ENCODING big2
        "#,
    );
}

#[test]
fn move_and_swapdb() {
    let mut p = Pair::new();
    p.script(
        r#"
        MOVE
        MOVE a
        MOVE a b c
        MOVE a x
        MOVE a 16
        MOVE a -1
        MOVE a 99999999999
        MOVE a 1.5
        MOVE a 0
        MOVE missing 1
        SET a 1 EX 100
        MOVE a 1
        EXISTS a
        MOVE a 1
        SELECT 1
        TTL a
        GET a
        SET b inone
        SELECT 0
        SET b inzero
        MOVE b 1
        GET b
        SWAPDB
        SWAPDB 0
        SWAPDB a 1
        SWAPDB 1 b
        SWAPDB a b
        SWAPDB 0 16
        SWAPDB -1 0
        SWAPDB 99999999999 0
        SWAPDB 0 99999999999
        SWAPDB 0 0
        SWAPDB 0 1
        GET a
        GET b
        DBSIZE
        SWAPDB 1 0
        GET b
        DBSIZE
        "#,
    );
}

#[test]
fn flushdb_flushall_dbsize() {
    let mut p = Pair::new();
    p.script(
        r#"
        DBSIZE x
        FLUSHDB foo
        FLUSHDB async sync
        FLUSHALL foo
        FLUSHALL sync async
        MSET a 1 b 2 c 3
        SET e v EX 100
        DBSIZE
        SELECT 2
        SET z 1
        DBSIZE
        FLUSHDB
        DBSIZE
        SET z 1
        SELECT 0
        FLUSHDB SYNC
        DBSIZE
        SELECT 2
        DBSIZE
        SELECT 0
        MSET a 1 b 2
        FLUSHDB ASYNC
        DBSIZE
        GET a
        MSET a 1 b 2
        FLUSHALL
        DBSIZE
        SELECT 2
        DBSIZE
        SET z 1
        FLUSHALL async
        DBSIZE
        SET z 1
        FLUSHALL SYNC
        DBSIZE
        FLUSHALL
        "#,
    );
}

#[test]
fn keys_and_randomkey() {
    let mut p = Pair::new();
    p.script(
        r#"
        KEYS
        KEYS a b
        RANDOMKEY x
        RANDOMKEY
        KEYS *
        SET only 1
        RANDOMKEY
        "#,
    );
    p.check("MSET foo 1 foobar 2 bar 3 fxo 4 f*o 5 F 6 hello 7 hallo 8 h\\llo 9");
    for pat in [
        "*", "f*", "*o", "f?o", "f[ox]o", "f[^o]o", "f\\*o", "h[ae]llo", "h*llo", "nomatch*", "?",
        "F", "f", "[a-g]*", "*[",
    ] {
        p.check_unordered(&format!("KEYS {}", pat));
    }
    // RANDOMKEY returns one of the keys.
    let (ours, _) = p.both("RANDOMKEY");
    let all = p.a.cmd("KEYS *");
    assert!(
        elements(&all).contains(&ours),
        "RANDOMKEY gave {}",
        show(&ours)
    );
}

/// Runs a full SCAN iteration with `opts` on one connection and returns the key set.
fn full_scan(c: &mut Raw, opts: &str) -> BTreeSet<Vec<u8>> {
    let mut cursor = "0".to_string();
    let mut keys = BTreeSet::new();
    for _ in 0..100_000 {
        let reply = c.cmd(&format!("SCAN {} {}", cursor, opts));
        let parts = elements(&reply);
        assert_eq!(parts.len(), 2, "SCAN reply {}", show(&reply));
        let cur = String::from_utf8(parts[0].clone()).unwrap();
        // "$<len>\r\n<cursor>\r\n"
        cursor = cur.split("\r\n").nth(1).unwrap().to_string();
        for k in elements(&parts[1]) {
            keys.insert(k);
        }
        if cursor == "0" {
            return keys;
        }
    }
    panic!("SCAN did not finish");
}

#[test]
fn scan_errors_and_full_iterations() {
    let mut p = Pair::new();
    p.script(
        r#"
        SCAN
        SCAN 0
        SCAN 0 COUNT
        SCAN 0 COUNT 0
        SCAN 0 COUNT -1
        SCAN 0 COUNT x
        SCAN 0 COUNT 99999999999999999999
        SCAN 0 MATCH
        SCAN 0 TYPE
        SCAN 0 foo bar
        SCAN x
        SCAN " 1"
        SCAN 1x
        SCAN 18446744073709551616
        SCAN -
        SCAN 0 COUNT 0 MATCH
        SET k v
        SCAN 0
        SCAN 0 MATCH k
        SCAN 0 MATCH x
        SCAN 0 TYPE string
        SCAN 0 TYPE STRING
        SCAN 0 TYPE list
        SCAN 0 TYPE nosuchtype
        SCAN 0 MATCH * COUNT 1000 TYPE string
        SCAN "" COUNT 5
        SCAN +0
        SCAN -0
        "#,
    );
    let mut mset = String::from("MSET");
    for i in 0..1000 {
        mset.push_str(&format!(" key:{i} {i}"));
    }
    p.check(&mset);
    for opts in [
        "",
        "COUNT 1",
        "COUNT 3",
        "COUNT 1000",
        "MATCH key:1*",
        "MATCH key:?? COUNT 7",
        "TYPE string COUNT 50",
        "TYPE hash",
        "MATCH nothing*",
    ] {
        let ours = full_scan(&mut p.a, opts);
        let theirs = full_scan(&mut p.b, opts);
        assert_eq!(ours, theirs, "full SCAN {opts}");
    }
}

#[test]
fn expire_family() {
    let mut p = Pair::new();
    p.script(
        r#"
        EXPIRE
        EXPIRE k
        PEXPIRE k
        EXPIREAT k
        PEXPIREAT k
        TTL
        TTL a b
        PTTL
        EXPIRETIME
        PEXPIRETIME
        PERSIST
        PERSIST a b
        EXPIRE missing 100
        TTL missing
        PTTL missing
        EXPIRETIME missing
        PEXPIRETIME missing
        PERSIST missing
        SET k v
        TTL k
        PTTL k
        EXPIRETIME k
        PEXPIRETIME k
        PERSIST k
        EXPIRE k abc
        EXPIRE k 1.5
        EXPIRE k 100 foo
        EXPIRE k 100 nx xx
        EXPIRE k 100 NX GT
        EXPIRE k 100 nx lt
        EXPIRE k 100 gt lt
        EXPIRE k 100 GT LT
        EXPIRE k abc nx xx
        EXPIRE k 9223372036854775807
        EXPIRE k 9223372036854776
        EXPIRE k -9223372036854776
        PEXPIRE k 9223372036854775807
        EXPIREAT k 9223372036854775807
        PEXPIREAT k 9223372036854775807
        EXPIRE k 9223372036854775808
        GET k
        EXPIRE k 100 XX
        EXPIRE k 99 GT
        EXPIRE k 100 LT
        TTL k
        EXPIRE k 100 NX
        TTL k
        EXPIRE k 200 NX
        EXPIRE k 200 XX
        TTL k
        EXPIRE k 100 GT
        EXPIRE k 300 GT
        TTL k
        EXPIRE k 400 LT
        EXPIRE k 50 LT
        TTL k
        EXPIRE k 49 xx gt
        EXPIRE k 40 xx lt
        TTL k
        PERSIST k
        PERSIST k
        TTL k
        EXPIREAT k 4000000000
        EXPIRETIME k
        PEXPIRETIME k
        PEXPIREAT k 4000000000123
        EXPIRETIME k
        PEXPIRETIME k
        PEXPIREAT k 4000000000499
        EXPIRETIME k
        PEXPIREAT k 4000000000500
        EXPIRETIME k
        EXPIREAT k 4000000001 LT
        EXPIREAT k 3000000000 GT
        EXPIREAT k 3000000000 LT
        EXPIRETIME k
        EXPIREAT k 100
        EXISTS k
        SET k v
        EXPIRE k 0
        EXISTS k
        SET k v
        EXPIRE k -10
        EXISTS k
        SET k v
        PEXPIRE k -1 NX
        EXISTS k
        SET k v EX 100
        PEXPIREAT k 1 LT
        EXISTS k
        SET k v EX 100
        EXPIREAT k 1 GT
        TTL k
        SET k v EX 100
        SET k w
        TTL k
        SET k v EX 100
        SET big 12345678901234567890
        OBJECT ENCODING big
        "#,
    );
}

#[test]
fn object_subcommands() {
    let mut p = Pair::new();
    p.script(
        r#"
        OBJECT
        OBJECT HELP
        OBJECT help extra
        OBJECT foo
        OBJECT foo bar
        OBJECT ENCODING
        OBJECT ENCODING a b
        OBJECT IDLETIME
        OBJECT FREQ
        OBJECT REFCOUNT
        OBJECT ENCODING missing
        OBJECT IDLETIME missing
        OBJECT FREQ missing
        OBJECT REFCOUNT missing
        SET small 42
        SET neg -5
        SET large 123456789
        SET edge 9999
        SET edge2 10000
        SET emb hello
        SET raw aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
        SET float 1.5
        SET lead 0123
        OBJECT ENCODING small
        OBJECT ENCODING neg
        OBJECT ENCODING large
        OBJECT ENCODING emb
        OBJECT ENCODING raw
        OBJECT ENCODING float
        OBJECT ENCODING lead
        OBJECT REFCOUNT small
        OBJECT REFCOUNT edge
        OBJECT REFCOUNT edge2
        OBJECT REFCOUNT neg
        OBJECT REFCOUNT large
        OBJECT REFCOUNT emb
        OBJECT REFCOUNT raw
        OBJECT IDLETIME emb
        OBJECT FREQ emb
        OBJECT freq small
        object encoding small
        "#,
    );
}

#[test]
fn object_under_an_lfu_policy() {
    let mut p = Pair::with(
        |c| c.maxmemory_policy = "allkeys-lfu".into(),
        &["--maxmemory-policy", "allkeys-lfu"],
    );
    p.script(
        r#"
        SET k v
        OBJECT IDLETIME k
        OBJECT IDLETIME missing
        OBJECT FREQ missing
        OBJECT ENCODING k
        OBJECT FREQ k
        "#,
    );
    // A new key starts at LFU_INIT_VAL, as in Redis.
    p.check("OBJECT FREQ k");
}
