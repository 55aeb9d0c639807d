//! Differential tests of the string and bitmap families: every command, its options and
//! its error paths are sent to this server and to a real redis-server, and the replies
//! must be byte-identical.

mod common;
use common::Pair;

#[test]
fn get_set_and_options() {
    let mut p = Pair::new();
    p.script(
        r#"
        GET
        GET a b
        SET
        SET k
        GET k
        SET k v
        GET k
        SET k v2 NX
        SET k v3 XX
        GET k
        SET n1 v XX
        GET n1
        SET n2 v NX
        SET n2 v nx
        SET k v NX XX
        SET k v XX NX
        SET k v nx nx
        SET k v xx xx
        SET k v GET
        SET k w get get
        SET n3 v GET
        SET n3 x NX GET
        SET n4 x XX GET
        GET n4
        SET n3 y XX GET
        GET n3
        SET k v FOO
        SET k v EX
        SET k v PX
        SET k v EX 10 PX 10
        SET k v PX 10 EX 10
        SET k v EXAT 10 PXAT 10
        SET k v KEEPTTL EX 10
        SET k v EX 10 KEEPTTL
        SET k v KEEPTTL PX 10
        SET k v KEEPTTL KEEPTTL
        SET k v EX 10 EX 20
        SET k v ex 10 ex abc
        SET k v EX 0
        SET k v EX -1
        SET k v PX 0
        SET k v PX -5
        SET k v EXAT 0
        SET k v PXAT -1
        SET k v EX abc
        SET k v EX 1.5
        SET k v EX " 1"
        SET k v EX 9223372036854775807
        SET k v EX 9223372036854775
        SET k v EX 9223372036854776
        SET k v PX 9223372036854775807
        SET k v PX 9223372036854775806
        SET k v EXAT 9223372036854775
        SET k v EXAT 9223372036854776
        SET k v PXAT 9223372036854775807
        SET k v EX 9223372036854775808
        SET k v EX abc FOO
        SET k v FOO EX abc
        SET k v EX 0 NX XX
        SET k v EX 100
        GET k
        SET k v PERSIST
        SET k v EX 100 GET
        SET k v2 PX 100000 NX GET
        SET k v3 KEEPTTL XX GET
        GET k
        SET "" empty
        GET ""
        SET k ""
        GET k
        SET k 12345
        GET k
        SET k -0
        GET k
        SET k 007
        GET k
        SET k 9223372036854775808
        GET k
        SET k -9223372036854775808
        GET k
        SET past v PXAT 1
        EXISTS past
        GET past
        SET k v2 EXAT 1 GET
        GET k
        SET k v3 PXAT 1 NX GET
        SET k v4 PX 100000 XX GET
        SET k v5 EX 100000 KEEPTTL GET
        "#,
    );
}

#[test]
fn set_variants_and_getters() {
    let mut p = Pair::new();
    p.script(
        r#"
        SETNX
        SETNX k
        SETNX k v
        SETNX k w
        GET k
        SETNX k v extra
        SETEX k 10
        SETEX k 10 v
        GET k
        SETEX k 0 v
        SETEX k -1 v
        SETEX k abc v
        SETEX k 9223372036854775807 v
        SETEX k 9223372036854775 v
        PSETEX k 0 v
        PSETEX k -10 v
        PSETEX k abc v
        PSETEX k 9223372036854775807 v
        PSETEX k 100000 v2
        GET k
        GETSET
        GETSET k
        GETSET k new
        GETSET k newer
        GETSET missing1 x
        GET missing1
        GETSET k 42
        GET k
        GETDEL
        GETDEL k extra
        GETDEL k
        GETDEL k
        EXISTS k
        GETDEL nothing
        SET k v
        GETEX
        GETEX k
        GETEX nosuch
        GETEX nosuch EX 10
        GETEX nosuch EX abc
        GETEX nosuch EX 0
        GETEX nosuch FOO
        GETEX k FOO
        GETEX k EX
        GETEX k EX abc
        GETEX k EX 0
        GETEX k EX -1
        GETEX k PX 0
        GETEX k EXAT 0
        GETEX k PXAT -1
        GETEX k EX 9223372036854775807
        GETEX k EX 9223372036854776
        GETEX k PX 9223372036854775807
        GETEX k EX 10 PX 10
        GETEX k EX 10 PERSIST
        GETEX k PERSIST EX 10
        GETEX k PERSIST PERSIST
        GETEX k KEEPTTL
        GETEX k NX
        GETEX k XX
        GETEX k GET
        GETEX k EX 10 EX 20
        GETEX k EX 100
        GETEX k PX 100000
        GETEX k EXAT 99999999999
        GETEX k PXAT 99999999999999
        GETEX k PERSIST
        GETEX k EXAT 1
        EXISTS k
        SET k v
        GETEX k PXAT 1
        GET k
        SET k 123
        GETEX k
        GETDEL k
        "#,
    );
}

#[test]
fn mget_mset_msetnx() {
    let mut p = Pair::new();
    p.script(
        r#"
        MGET
        MGET a
        MSET
        MSET a
        MSET a 1 b
        MSET a 1 b 2 c 3
        MGET a b c d
        MGET d d a a
        MSET a x a y
        GET a
        MSETNX
        MSETNX a
        MSETNX a 1 b
        MSETNX a 1 z 2
        EXISTS z
        MSETNX y 1 z 2
        MGET y z
        MSETNX q 1 q 2
        GET q
        MSETNX r 1 y 9
        EXISTS r
        MSET "" e1 " " e2
        MGET "" " "
        "#,
    );
}

#[test]
fn append_strlen_ranges() {
    let mut p = Pair::new();
    p.script(
        r#"
        APPEND
        APPEND k
        APPEND k v extra
        APPEND k hello
        APPEND k " world"
        GET k
        STRLEN k
        STRLEN nosuch
        STRLEN
        STRLEN a b
        APPEND e ""
        EXISTS e
        STRLEN e
        APPEND n 12
        APPEND n 34
        GET n
        INCR n
        STRLEN n
        SET i 12345
        STRLEN i
        SET i -12345
        STRLEN i
        GETRANGE
        GETRANGE k 0
        GETRANGE k 0 1 2
        GETRANGE k 0 4
        GETRANGE k 0 -1
        GETRANGE k -5 -1
        GETRANGE k -1 -5
        GETRANGE k 5 3
        GETRANGE k 3 3
        GETRANGE k -100 100
        GETRANGE k 100 200
        GETRANGE k -1 0
        GETRANGE k 0 -100
        GETRANGE k -100 -50
        GETRANGE k 9223372036854775807 9223372036854775807
        GETRANGE k -9223372036854775808 9223372036854775807
        GETRANGE k -9223372036854775808 -9223372036854775808
        GETRANGE k a 1
        GETRANGE k 1 b
        GETRANGE k 1.5 2
        GETRANGE nosuch 0 -1
        GETRANGE nosuch a b
        GETRANGE i 0 -1
        GETRANGE i 1 2
        GETRANGE e 0 -1
        GETRANGE e 0 0
        GETRANGE e -1 -1
        SUBSTR k 0 4
        SUBSTR k -3 -1
        SUBSTR k a b
        SUBSTR k 0
        SETRANGE
        SETRANGE k 0
        SETRANGE k a v
        SETRANGE k -1 v
        SETRANGE k 0 H
        GET k
        SETRANGE k 20 X
        GET k
        SETRANGE k 2 ""
        SETRANGE nosuch 5 ""
        EXISTS nosuch
        SETRANGE nosuch 3 abc
        GET nosuch
        SETRANGE i 1 9
        GET i
        SETRANGE k 536870912 x
        SETRANGE k 536870911 ""
        SETRANGE new 536870912 x
        SETRANGE new 9223372036854775807 x
        SETRANGE k 9223372036854775807 ""
        SETRANGE k 9223372036854775808 x
        "#,
    );
}

#[test]
fn integer_counters() {
    let mut p = Pair::new();
    p.script(
        r#"
        INCR
        INCR a b
        INCR n
        INCR n
        DECR n
        DECR n
        DECR n
        INCRBY n 10
        INCRBY n -20
        INCRBY n abc
        INCRBY n 1.5
        INCRBY n ""
        INCRBY n 9223372036854775808
        INCRBY
        INCRBY n
        DECRBY n 5
        DECRBY n -5
        DECRBY n -9223372036854775808
        DECRBY n 9223372036854775807
        DECRBY n abc
        SET max 9223372036854775807
        INCR max
        INCRBY max 0
        DECR max
        INCR max
        SET min -9223372036854775808
        DECR min
        DECRBY min 1
        INCRBY min -1
        INCRBY min 9223372036854775807
        INCRBY min 9223372036854775807
        SET s hello
        INCR s
        DECR s
        INCRBY s 1
        SET s " 1"
        INCR s
        SET s "1 "
        INCR s
        SET s 01
        INCR s
        SET s +1
        INCR s
        SET s -0
        INCR s
        SET s 1.0
        INCR s
        SET s ""
        INCR s
        SET s 99999999999999999999
        INCR s
        APPEND t 1
        APPEND t 0
        INCR t
        GET t
        INCRBY fresh -7
        GET fresh
        DECRBY fresh2 3
        "#,
    );
}

#[test]
fn incrbyfloat_long_double_formatting() {
    let mut p = Pair::new();
    p.script(
        r#"
        INCRBYFLOAT
        INCRBYFLOAT k
        INCRBYFLOAT k 1 2
        INCRBYFLOAT f 10.5
        INCRBYFLOAT f 0.1
        INCRBYFLOAT f -5
        INCRBYFLOAT f 3.0e3
        INCRBYFLOAT f 3.0E-3
        INCRBYFLOAT f -3003.6030000000000
        INCRBYFLOAT f 0
        INCRBYFLOAT g 1e300
        INCRBYFLOAT g 1e300
        INCRBYFLOAT h 1.7976931348623157e308
        INCRBYFLOAT h2 1e4932
        INCRBYFLOAT h2 1e4932
        INCRBYFLOAT h3 1.1e4932
        INCRBYFLOAT h3 1.2e4932
        INCRBYFLOAT t 0.000003814697265625
        INCRBYFLOAT t2 -0.000003814697265625
        INCRBYFLOAT t3 0.000011444091796875
        INCRBYFLOAT t4 1.5e-20
        INCRBYFLOAT t5 -1.5e-20
        INCRBYFLOAT t6 1e-4940
        INCRBYFLOAT t7 1e-5000
        INCRBYFLOAT t8 0e-99999
        INCRBYFLOAT t9 -0
        INCRBYFLOAT t9 -0.0
        INCRBYFLOAT x 0x10
        INCRBYFLOAT x 0x1p-3
        INCRBYFLOAT x 0X.8
        INCRBYFLOAT x 0x1P+4
        INCRBYFLOAT x 0x
        INCRBYFLOAT x 0x1p
        INCRBYFLOAT x 0xg
        INCRBYFLOAT y inf
        INCRBYFLOAT y -inf
        INCRBYFLOAT y +INF
        INCRBYFLOAT y Infinity
        INCRBYFLOAT y nan
        INCRBYFLOAT y NaN
        INCRBYFLOAT y abc
        INCRBYFLOAT y ""
        INCRBYFLOAT y " 1"
        INCRBYFLOAT y "1 "
        INCRBYFLOAT y 1e
        INCRBYFLOAT y 1e+
        INCRBYFLOAT y .
        INCRBYFLOAT y .5
        INCRBYFLOAT y 5.
        INCRBYFLOAT y +1.25
        INCRBYFLOAT y -.25e1
        INCRBYFLOAT y 1_000
        INCRBYFLOAT y 0.1
        INCRBYFLOAT y 0.2
        INCRBYFLOAT y 0.3
        INCRBYFLOAT y 123456789.123456789
        INCRBYFLOAT y 1e19
        INCRBYFLOAT y 1e-19
        INCRBYFLOAT z 9223372036854775807
        INCRBYFLOAT z 1
        SET i 5
        INCRBYFLOAT i 1.5
        SET i 9223372036854775807
        INCRBYFLOAT i 0
        SET i -9223372036854775808
        INCRBYFLOAT i -1
        SET s hello
        INCRBYFLOAT s 1
        INCRBYFLOAT s abc
        SET s inf
        INCRBYFLOAT s 1
        SET s " 1.5"
        INCRBYFLOAT s 1
        SET s 1.5
        INCRBYFLOAT s abc
        SET s 1e4932
        INCRBYFLOAT s 1e4932
        GET s
        SET s 0x1.8p1
        INCRBYFLOAT s 0
        INCRBYFLOAT big 99999999999999999999999999999999999999999.5
        INCRBYFLOAT big 0.00000000000000000001
        INCRBYFLOAT neg -0.00000000000000001
        INCRBYFLOAT neg -0.000000000000000005
        INCRBYFLOAT neg2 -0.000000000000000005
        INCR f
        "#,
    );
}

#[test]
fn incrbyfloat_random_values_match() {
    let mut p = Pair::new();
    // A fixed pseudo-random sequence of decimal inputs of many shapes and magnitudes.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..300 {
        let r = next();
        let mantissa = r % 1_000_000_007;
        let frac = next() % 100_000;
        let exp = (next() % 80) as i64 - 40;
        let sign = if r & 1 == 0 { "" } else { "-" };
        let v = match i % 3 {
            0 => format!("{}{}.{:05}", sign, mantissa, frac),
            1 => format!("{}{}.{}e{}", sign, mantissa % 1000, frac, exp),
            _ => format!("{}0.{}{}", sign, mantissa, frac),
        };
        let key = format!("k{}", i % 7);
        p.check(&format!("INCRBYFLOAT {} {}", key, v));
    }
}

#[test]
fn lcs_all_options() {
    let mut p = Pair::new();
    p.script(
        r#"
        LCS
        LCS a
        MSET a ohmytext b mynewtext
        LCS a b
        LCS a b LEN
        LCS a b IDX
        LCS a b IDX WITHMATCHLEN
        LCS a b IDX MINMATCHLEN 4
        LCS a b IDX MINMATCHLEN 4 WITHMATCHLEN
        LCS a b IDX MINMATCHLEN -5 WITHMATCHLEN
        LCS a b IDX MINMATCHLEN abc
        LCS a b IDX MINMATCHLEN
        LCS a b LEN IDX
        LCS a b IDX LEN
        LCS a b FOO
        LCS a b LEN LEN
        LCS a b WITHMATCHLEN
        LCS a b MINMATCHLEN 2
        LCS a nosuch
        LCS nosuch a IDX
        LCS nosuch nosuch2 LEN
        LCS a a
        LCS a a IDX WITHMATCHLEN
        MSET c ABCBDAB d BDCABA
        LCS c d
        LCS c d IDX WITHMATCHLEN
        LCS d c IDX WITHMATCHLEN
        MSET e 1234567890 f 0987654321
        LCS e f IDX
        MSET g aaaa h aa
        LCS g h IDX WITHMATCHLEN
        SET n 12345
        LCS n e IDX WITHMATCHLEN
        MSET x "" y abc
        LCS x y
        LCS x y IDX
        LCS x y LEN
        "#,
    );
}

#[test]
fn lcs_memory_limit_follows_proto_max_bulk_len() {
    let mut p = Pair::with(
        |c| c.proto_max_bulk_len = 1024 * 1024,
        &["--proto-max-bulk-len", "1mb"],
    );
    let a = "x".repeat(600);
    let b = "y".repeat(600);
    p.both_args(&[b"SET", b"a", a.as_bytes()]);
    p.both_args(&[b"SET", b"b", b.as_bytes()]);
    p.check("LCS a b");
    p.check("LCS a b LEN");
    p.check("LCS a missing");
    p.check("SETRANGE big 1048575 x");
    p.check("STRLEN big");
    p.check("SETRANGE big 1048576 x");
    p.check("APPEND big y");
    p.check("SETBIT big 8388607 1");
    p.check("SETBIT big 8388608 1");
    p.check("GETBIT big 8388608");
    p.check("BITFIELD big GET u8 8388600");
    p.check("BITFIELD big GET u8 8388608");
    p.check("BITFIELD big SET u8 #1048575 1");
    p.check("BITFIELD big SET u8 #1048576 1");
}

#[test]
fn setbit_getbit() {
    let mut p = Pair::new();
    p.script(
        r#"
        SETBIT
        SETBIT k 0
        SETBIT k 0 1 2
        SETBIT k 7 1
        GET k
        SETBIT k 7 1
        SETBIT k 7 0
        SETBIT k 0 1
        SETBIT k 100 1
        STRLEN k
        GET k
        SETBIT k -1 1
        SETBIT k abc 1
        SETBIT k 1.5 1
        SETBIT k 4294967295 1
        SETBIT k 4294967296 1
        SETBIT k 9223372036854775807 1
        SETBIT k 9223372036854775808 1
        SETBIT k 1 2
        SETBIT k 1 -1
        SETBIT k 1 abc
        SETBIT k 1 ""
        SETBIT k -1 abc
        SETBIT k 5 true
        GETBIT
        GETBIT k
        GETBIT k 0
        GETBIT k 1
        GETBIT k 7
        GETBIT k 100
        GETBIT k 10000
        GETBIT k -1
        GETBIT k abc
        GETBIT k 4294967296
        GETBIT nosuch 5
        GETBIT nosuch -5
        SET n 5
        GETBIT n 2
        GETBIT n 5
        GETBIT n 7
        GETBIT n 8
        SETBIT n 6 1
        GET n
        SET e ""
        GETBIT e 0
        SETBIT e 0 0
        GET e
        "#,
    );
}

#[test]
fn bitcount_ranges() {
    let mut p = Pair::new();
    p.script(
        r#"
        BITCOUNT
        BITCOUNT nosuch
        BITCOUNT nosuch 1
        BITCOUNT nosuch a b c d
        SET s foobar
        BITCOUNT s
        BITCOUNT s 0 0
        BITCOUNT s 1 1
        BITCOUNT s 0 -1
        BITCOUNT s -2 -1
        BITCOUNT s -1 -2
        BITCOUNT s -1 -2 foo
        BITCOUNT s 2 1
        BITCOUNT s 1
        BITCOUNT s 0 -1 foo
        BITCOUNT s 0 -1 bit 1
        BITCOUNT s a 1
        BITCOUNT s 1 a
        BITCOUNT s a 1 foo
        BITCOUNT s 0 -1 BYTE
        BITCOUNT s 0 -1 byte
        BITCOUNT s 0 -1 BIT
        BITCOUNT s 5 30 BIT
        BITCOUNT s 1 1 BIT
        BITCOUNT s 0 7 bit
        BITCOUNT s 3 3 BIT
        BITCOUNT s 3 10 BIT
        BITCOUNT s -5 -1 BIT
        BITCOUNT s -100 -1 BIT
        BITCOUNT s 40 1000 BIT
        BITCOUNT s 47 47 BIT
        BITCOUNT s 48 100 BIT
        BITCOUNT s 9223372036854775807 9223372036854775807
        BITCOUNT s -9223372036854775808 9223372036854775807
        BITCOUNT s -9223372036854775808 9223372036854775807 BIT
        BITCOUNT s 0 9223372036854775807 BIT
        SET n 12345
        BITCOUNT n
        BITCOUNT n 1 2
        BITCOUNT n 3 20 BIT
        SET e ""
        BITCOUNT e
        BITCOUNT e 0 -1
        BITCOUNT e 0 -1 BIT
        "#,
    );
}

#[test]
fn bitpos_ranges() {
    let mut p = Pair::new();
    p.script(
        r#"
        BITPOS
        BITPOS k
        BITPOS nosuch 1
        BITPOS nosuch 0
        BITPOS nosuch 2
        BITPOS nosuch abc
        BITPOS nosuch 1 0 -1 foo
        BITPOS nosuch 0 a b c d
        SET s "\xff\xf0\x00"
        BITPOS s 0
        BITPOS s 1
        BITPOS s 2
        BITPOS s -1
        BITPOS s a
        BITPOS s 0 0
        BITPOS s 0 1
        BITPOS s 0 2
        BITPOS s 0 3
        BITPOS s 0 -1
        BITPOS s 1 2
        BITPOS s 1 -1
        BITPOS s 0 0 0
        BITPOS s 0 0 -1
        BITPOS s 1 1 1
        BITPOS s 1 2 -1
        BITPOS s 0 2 1
        BITPOS s 1 a
        BITPOS s 1 0 a
        BITPOS s 1 0 -1 foo
        BITPOS s 1 0 1 2 3
        BITPOS s 1 a -1 foo
        BITPOS s 1 0 a foo
        BITPOS s 1 0 -1 BYTE
        BITPOS s 0 0 -1 BIT
        BITPOS s 0 0 11 BIT
        BITPOS s 0 0 12 BIT
        BITPOS s 1 12 23 BIT
        BITPOS s 1 3 7 bit
        BITPOS s 1 8 11 BIT
        BITPOS s 0 7 9 BIT
        BITPOS s 0 8 9 BIT
        BITPOS s 0 2 5 BIT
        BITPOS s 1 -3 -1 BIT
        BITPOS s 0 -3 -1 BIT
        BITPOS s 0 -100 -1 BIT
        BITPOS s 1 10 3 BIT
        BITPOS s 0 20 1000 BIT
        BITPOS s 1 20 1000 BIT
        BITPOS s 0 16 23 BIT
        SET ones "\xff\xff\xff"
        BITPOS ones 0
        BITPOS ones 0 0
        BITPOS ones 0 1
        BITPOS ones 0 0 -1
        BITPOS ones 0 0 -1 BIT
        BITPOS ones 0 3 20 BIT
        BITPOS ones 0 3 3 BIT
        BITPOS ones 1 3 3 BIT
        BITPOS ones 1 5 21 BIT
        SET zeros "\x00\x00\x00"
        BITPOS zeros 1
        BITPOS zeros 0
        BITPOS zeros 1 1
        BITPOS zeros 1 0 -1 BIT
        BITPOS zeros 0 9 13 BIT
        SET n 0
        BITPOS n 1
        BITPOS n 0
        SET e ""
        BITPOS e 0
        BITPOS e 1
        BITPOS e 0 0 -1
        BITPOS e 0 0 -1 BIT
        BITPOS s 0 9223372036854775807
        BITPOS s 0 -9223372036854775808 9223372036854775807 BIT
        "#,
    );
}

#[test]
fn bitop_operations() {
    let mut p = Pair::new();
    p.script(
        r#"
        BITOP
        BITOP AND
        BITOP AND dest
        BITOP FOO dest a
        MSET a "\x0f\xf0\xaa" b "\xff\x00" c abc
        BITOP AND dest a b
        GET dest
        BITOP OR dest a b
        GET dest
        BITOP XOR dest a b c
        GET dest
        BITOP and dest a nosuch
        GET dest
        BITOP NOT dest a
        GET dest
        BITOP not dest a b
        BITOP NOT dest
        BITOP NOT dest nosuch
        EXISTS dest
        SET dest old
        BITOP OR dest nosuch nosuch2
        EXISTS dest
        BITOP OR a a b
        GET a
        SET n 123
        BITOP XOR dest n c
        GET dest
        SET e ""
        BITOP OR dest e
        EXISTS dest
        BITOP AND dest a b c nosuch
        GET dest
        STRLEN dest
        "#,
    );
}

#[test]
fn bitfield_operations() {
    let mut p = Pair::new();
    p.script(
        r#"
        BITFIELD
        BITFIELD k
        BITFIELD nosuch GET u8 0
        EXISTS nosuch
        BITFIELD k SET u8 0 255
        BITFIELD k GET u8 0 GET i8 0 GET u4 0 GET i4 4 GET u1 7
        BITFIELD k SET i8 0 -100 GET u8 0 GET i8 0
        BITFIELD k INCRBY u2 100 1 OVERFLOW SAT INCRBY i8 104 -300 GET i8 104
        BITFIELD k SET i64 0 -1 GET i64 0 GET u63 0 GET u63 1 GET i64 1
        BITFIELD k SET i64 0 9223372036854775807 INCRBY i64 0 1 INCRBY i64 0 -1
        BITFIELD k OVERFLOW SAT INCRBY i64 0 9223372036854775807 INCRBY i64 0 -9223372036854775808 INCRBY i64 0 -9223372036854775808
        BITFIELD k OVERFLOW FAIL INCRBY i64 0 -9223372036854775808 INCRBY i64 0 -1 GET i64 0
        BITFIELD k OVERFLOW WRAP SET i8 0 200 SET u8 8 -1 SET u8 16 256 GET i8 0 GET u8 8 GET u8 16
        BITFIELD k OVERFLOW SAT SET i8 0 200 SET i8 0 -200 SET u8 8 -1 SET u8 16 256 GET i8 0 GET u8 8 GET u8 16
        BITFIELD k OVERFLOW FAIL SET i8 0 200 SET u8 8 -1 SET u8 16 256 SET u8 24 255 GET u8 24
        BITFIELD k OVERFLOW fail INCRBY u8 24 1 OVERFLOW wrap INCRBY u8 24 1 OVERFLOW sat INCRBY u8 24 -5 INCRBY u8 24 -300
        BITFIELD k INCRBY u63 0 9223372036854775807 INCRBY u63 0 5 OVERFLOW SAT INCRBY u63 0 9223372036854775807
        BITFIELD k INCRBY i5 100 7 INCRBY i5 100 7 INCRBY i5 100 -40
        BITFIELD k OVERFLOW SAT INCRBY i5 100 100 INCRBY i5 100 -100
        BITFIELD k OVERFLOW WRAP INCRBY u5 200 31 INCRBY u5 200 1 INCRBY u5 200 -2
        BITFIELD k GET u8 #0 GET u8 #1 SET u8 #2 7 GET u8 16 GET i16 #3
        BITFIELD k GET u8 #-1
        BITFIELD k GET u8 #a
        BITFIELD k GET u8 -1
        BITFIELD k GET u8 abc
        BITFIELD k GET u8 4294967295
        BITFIELD k GET u8 4294967296
        BITFIELD k SET u8 #536870911 1
        BITFIELD k GET u8 #536870912
        BITFIELD k GET i64 #288230376151711745
        BITFIELD k GET u64 0
        BITFIELD k GET i65 0
        BITFIELD k GET i0 0
        BITFIELD k GET U8 0
        BITFIELD k GET I8 0
        BITFIELD k GET x8 0
        BITFIELD k GET u 0
        BITFIELD k GET u-1 0
        BITFIELD k GET "" 0
        BITFIELD k GET u08 0
        BITFIELD k GET u8
        BITFIELD k GET
        BITFIELD k SET u8 0
        BITFIELD k SET u8 0 abc
        BITFIELD k INCRBY u8 0 1.5
        BITFIELD k OVERFLOW
        BITFIELD k OVERFLOW FOO
        BITFIELD k OVERFLOW FOO GET u8 0
        BITFIELD k OVERFLOW WRAP
        BITFIELD k FOO
        BITFIELD k GET u8 0 FOO
        BITFIELD k GET u8 0 SET u8 0
        BITFIELD k get u8 0 set u8 0 1 incrby u8 0 1 overflow wrap
        BITFIELD k GET u8 0 GET u8 abc
        BITFIELD k SET i8 0 1 GET u8 abc
        BITFIELD new OVERFLOW FAIL SET u8 100 999
        STRLEN new
        GET new
        BITFIELD new2 GET u8 0 SET u4 20 3 GET u8 16 GET u16 100
        STRLEN new2
        SET n 123
        BITFIELD n GET u8 0 GET u24 0
        BITFIELD n INCRBY u8 0 1
        GET n
        BITFIELD_RO
        BITFIELD_RO k
        BITFIELD_RO k GET u8 0 GET i16 #1
        BITFIELD_RO nosuch GET u8 0
        BITFIELD_RO k SET u8 0 1
        BITFIELD_RO k INCRBY u8 0 1
        BITFIELD_RO k OVERFLOW SAT
        BITFIELD_RO k OVERFLOW FOO
        BITFIELD_RO k SET u8 0 abc
        BITFIELD_RO k GET u64 0
        BITFIELD_RO k FOO
        "#,
    );
}

#[test]
fn bitfield_random_ops_match() {
    let mut p = Pair::new();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let ow = ["WRAP", "SAT", "FAIL"];
    for _ in 0..200 {
        let signed = next() % 2 == 0;
        let bits = if signed {
            1 + next() % 64
        } else {
            1 + next() % 63
        };
        let ty = format!("{}{}", if signed { 'i' } else { 'u' }, bits);
        let offset = next() % 96;
        let val = match next() % 4 {
            0 => (next() % 8) as i64 - 4,
            1 => next() as i64,
            2 => (next() % (1 << 20)) as i64 - (1 << 19),
            _ => i64::MIN + (next() % 3) as i64,
        };
        let op = if next() % 2 == 0 { "SET" } else { "INCRBY" };
        let line = format!(
            "BITFIELD r OVERFLOW {} {} {} {} {} GET {} {}",
            ow[(next() % 3) as usize],
            op,
            ty,
            offset,
            val,
            ty,
            offset
        );
        p.check(&line);
    }
    p.check("GET r");
}

#[test]
fn bit_commands_on_integer_and_short_strings() {
    let mut p = Pair::new();
    p.script(
        r#"
        SET n -42
        BITCOUNT n
        BITPOS n 1
        BITPOS n 0 1
        GETBIT n 3
        BITFIELD_RO n GET u16 0
        SETBIT n 0 1
        GET n
        SET m 7
        APPEND m 7
        SETRANGE m 0 8
        GET m
        INCR m
        SET k abc EX 100
        SETBIT k 1 0
        BITOP NOT k k
        GET k
        "#,
    );
}

#[test]
fn wrong_arity_of_every_command() {
    let mut p = Pair::new();
    p.script(
        r#"
        GET
        SET k
        SETNX k
        SETEX k 1
        PSETEX k 1
        GETEX
        GETDEL
        GETSET k
        MGET
        MSET k
        MSETNX k
        APPEND k
        STRLEN
        GETRANGE k 0
        SUBSTR k 0
        SETRANGE k 0
        INCR
        DECR
        INCRBY k
        DECRBY k
        INCRBYFLOAT k
        LCS k
        SETBIT k 0
        GETBIT k
        BITCOUNT
        BITPOS k
        BITOP AND d
        BITFIELD
        BITFIELD_RO
        "#,
    );
}

/// A small xorshift generator so the random scripts are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

#[test]
fn incrbyfloat_extreme_inputs_match() {
    let mut p = Pair::new();
    let mut r = Rng(0x1234_5678_9abc_def1);
    let mut values = 0;
    for i in 0..400 {
        let sign = if r.below(2) == 0 { "" } else { "-" };
        let v = match i % 5 {
            // Long mantissas with exponents across the whole long double range.
            0 => {
                let n = 1 + r.below(40) as usize;
                let exp = r.below(9900) as i64 - 4960;
                format!("{}{}e{}", sign, r.digits(n), exp)
            }
            1 => {
                let (a, b) = (1 + r.below(25) as usize, 1 + r.below(25) as usize);
                format!("{}{}.{}", sign, r.digits(a), r.digits(b))
            }
            // Hex floats with binary exponents.
            2 => format!(
                "{}0x{:x}.{:x}p{}",
                sign,
                r.next() >> r.below(64),
                r.below(4096),
                r.below(600) as i64 - 300
            ),
            // Near powers of two and halfway cases of the 17th decimal.
            3 => format!("{}{}e-{}", sign, 5 * (1 + r.below(1000)), 18 + r.below(6)),
            _ => format!("{}{}", sign, r.next() >> r.below(64)),
        };
        if p.check(&format!("INCRBYFLOAT k{} {}", i % 11, v))
            .starts_with(b"$")
        {
            values += 1;
        }
    }
    // Most inputs must be in range so the digits, not just the errors, are compared.
    assert!(
        values > 250,
        "only {} of 400 increments produced a value",
        values
    );
    for i in 0..11 {
        p.check(&format!("GET k{}", i));
    }
}

#[test]
fn random_ranges_of_bitcount_bitpos_getrange_match() {
    let mut p = Pair::new();
    let mut r = Rng(0xdead_beef_cafe_f00d);
    for round in 0..12 {
        let len = r.below(12) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| match r.below(4) {
                0 => 0x00,
                1 => 0xff,
                _ => r.below(256) as u8,
            })
            .collect();
        p.both_args(&[b"SET", b"s", &bytes]);
        for _ in 0..40 {
            let span = (len as i64 * 8 + 20).max(4) as u64;
            let a = r.below(span * 2) as i64 - span as i64;
            let b = r.below(span * 2) as i64 - span as i64;
            let unit = ["", " BYTE", " BIT", " bit"][r.below(4) as usize];
            p.check(&format!("BITCOUNT s {} {}{}", a, b, unit));
            let bit = r.below(2);
            p.check(&format!("BITPOS s {} {} {}{}", bit, a, b, unit));
            p.check(&format!("BITPOS s {} {}", bit, a));
            p.check(&format!("GETRANGE s {} {}", a, b));
        }
        p.check("BITPOS s 0");
        p.check("BITPOS s 1");
        p.check("BITCOUNT s");
        let off = r.below(40);
        p.check(&format!("SETRANGE s {} xyz{}", off, round));
        p.check("GET s");
    }
}

#[test]
fn random_lcs_match() {
    let mut p = Pair::new();
    let mut r = Rng(0x0bad_c0de_1234_4321);
    for _ in 0..40 {
        let alphabet = 1 + r.below(4) as u8;
        let mut word = |n: u64| -> String {
            (0..r.below(n))
                .map(|_| char::from(b'a' + (r.next() % alphabet as u64) as u8))
                .collect()
        };
        let (a, b) = (word(30), word(30));
        p.both_args(&[b"MSET", b"a", a.as_bytes(), b"b", b.as_bytes()]);
        p.check("LCS a b");
        p.check("LCS a b LEN");
        p.check("LCS a b IDX");
        p.check("LCS b a IDX WITHMATCHLEN");
        let m = r.below(5);
        p.check(&format!("LCS a b IDX MINMATCHLEN {} WITHMATCHLEN", m));
    }
}

/// RESP3 forms: LCS IDX is a map, BITFIELD's FAIL and GET misses are `_` nulls.
#[test]
fn resp3_replies_match() {
    let mut p = Pair::new();
    // The client id in the reply differs (the harness's own probes count on Redis).
    let (ours, redis) = p.both("HELLO 3");
    assert!(ours.starts_with(b"%7\r\n") && redis.starts_with(b"%7\r\n"));
    p.script(
        r#"
        MSET a ohmytext b mynewtext
        LCS a b IDX WITHMATCHLEN
        LCS a b IDX MINMATCHLEN 4
        BITFIELD k OVERFLOW FAIL INCRBY u2 0 7 GET u2 0
        GET nosuch
        MGET a nosuch
        SET a x GET
        SET nosuch x XX
        GETEX nosuch
        GETDEL nosuch
        GETSET nosuch2 v
        INCRBYFLOAT f 1.5
        "#,
    );
}
