//! The keyspace commands over every data type, compared with a real redis-server: TYPE,
//! OBJECT ENCODING, SCAN ... TYPE, COPY, RENAME, MOVE, DEL, EXISTS, expiry, and the
//! wrong-type errors each family gives for the others' keys.

mod common;
use common::{elements, Pair};

/// One key of each type, in the encodings Redis picks for small values.
const FILL: &str = "
SET str hello
SET num 12345
RPUSH list a b c
HSET hash f1 v1 f2 v2
SADD intset 1 2 3
SADD set a b c
ZADD zset 1 a 2 b
PFADD hll x y z
";

const KEYS: &[&str] = &["str", "num", "list", "hash", "intset", "set", "zset", "hll"];

#[test]
fn type_and_encoding_of_every_type() {
    let mut p = Pair::new();
    p.script(FILL);
    for k in KEYS {
        p.check(&format!("TYPE {k}"));
        p.check(&format!("OBJECT ENCODING {k}"));
        p.check(&format!("EXISTS {k}"));
    }
    p.check("DBSIZE");
}

#[test]
fn scan_filters_by_every_type() {
    let mut p = Pair::new();
    p.script(FILL);
    for t in [
        "string", "list", "hash", "set", "zset", "none", "stream", "LIST",
    ] {
        // A full iteration with each server's own cursors, compared as sets of keys.
        let mut found = Vec::new();
        for (side, raw) in [(0, &mut p.a), (1, &mut p.b)] {
            let mut keys: Vec<Vec<u8>> = Vec::new();
            let mut cursor = b"0".to_vec();
            for _ in 0..1000 {
                let c = String::from_utf8(cursor.clone()).unwrap();
                let reply = raw.cmd(&format!("SCAN {c} TYPE {t} COUNT 3"));
                let parts = elements(&reply);
                assert_eq!(parts.len(), 2, "side {side}: {}", common::show(&reply));
                let cur = elements(&parts[0]);
                cursor = cur[0].split(|&b| b == b'\n').nth(1).unwrap()[..].to_vec();
                cursor.retain(|&b| b != b'\r');
                keys.extend(elements(&parts[1]));
                if cursor == b"0" {
                    break;
                }
            }
            keys.sort();
            keys.dedup();
            found.push(keys);
        }
        assert_eq!(found[0], found[1], "SCAN TYPE {t}");
    }
}

#[test]
fn copy_rename_move_keep_value_and_encoding() {
    let mut p = Pair::new();
    p.script(FILL);
    for k in KEYS {
        p.script(&format!(
            "
            COPY {k} {k}:copy
            TYPE {k}:copy
            OBJECT ENCODING {k}:copy
            COPY {k} {k}:copy
            COPY {k} {k}:copy REPLACE
            RENAME {k}:copy {k}:renamed
            EXISTS {k}:copy
            TYPE {k}:renamed
            MOVE {k}:renamed 1
            SELECT 1
            TYPE {k}:renamed
            OBJECT ENCODING {k}:renamed
            DEL {k}:renamed
            SELECT 0
            "
        ));
    }
    // The copies are independent of their sources.
    p.script(
        "
        COPY list l2
        RPUSH l2 d
        LRANGE list 0 -1
        LRANGE l2 0 -1
        COPY hash h2
        HSET h2 f3 v3
        HGETALL hash
        HGETALL h2
        COPY intset s2
        SADD s2 4
        SCARD intset
        SCARD s2
        COPY zset z2
        ZADD z2 3 c
        ZRANGE zset 0 -1 WITHSCORES
        ZRANGE z2 0 -1 WITHSCORES
        COPY hll hll2
        PFADD hll2 w
        PFCOUNT hll
        PFCOUNT hll2
        GET hll2
        ",
    );
}

#[test]
fn expiry_and_delete_on_every_type() {
    let mut p = Pair::new();
    p.script(FILL);
    for k in KEYS {
        p.script(&format!(
            "
            EXPIRE {k} 100
            TTL {k}
            PERSIST {k}
            TTL {k}
            PEXPIRE {k} 1
            "
        ));
    }
    std::thread::sleep(std::time::Duration::from_millis(20));
    for k in KEYS {
        p.check(&format!("EXISTS {k}"));
        p.check(&format!("TYPE {k}"));
    }
    p.script(FILL);
    p.check(&format!("DEL {}", KEYS.join(" ")));
    p.check("DBSIZE");
}

#[test]
fn every_family_refuses_the_others_keys() {
    let mut p = Pair::new();
    p.script(FILL);
    let probes = [
        "GET {k}",
        "APPEND {k} x",
        "INCR {k}",
        "LPUSH {k} x",
        "LLEN {k}",
        "LRANGE {k} 0 -1",
        "HSET {k} f v",
        "HGET {k} f",
        "HLEN {k}",
        "SADD {k} x",
        "SCARD {k}",
        "SISMEMBER {k} x",
        "ZADD {k} 1 x",
        "ZCARD {k}",
        "ZSCORE {k} x",
        "PFADD {k} x",
        "PFCOUNT {k}",
        "SETBIT {k} 1 1",
        "BITCOUNT {k}",
        "STRLEN {k}",
    ];
    for k in KEYS {
        for probe in probes {
            p.check(&probe.replace("{k}", k));
        }
    }
    // Nothing above changed a key of another type.
    for k in KEYS {
        p.check(&format!("TYPE {k}"));
        p.check(&format!("OBJECT ENCODING {k}"));
    }
}
