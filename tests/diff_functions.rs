//! Differential tests of Redis 7.0 functions: FUNCTION LOAD/DELETE/FLUSH/LIST/DUMP/
//! RESTORE/STATS/KILL/HELP, FCALL and FCALL_RO, sent to this server and to redis-server,
//! replies compared byte for byte. Redis orders FUNCTION LIST and DUMP by hash tables
//! seeded at random per process, so those are compared byte for byte only where one
//! library with one function is shown, and element by element otherwise.

mod common;

use common::{elements, show, Pair, Raw};
use rust_cache_server::scripting::function::rdb;

/// Sends `FUNCTION LOAD [REPLACE] code` to both and asserts identical replies.
fn load(p: &mut Pair, code: &str) -> Vec<u8> {
    let (x, y) = p.both_args(&[b"FUNCTION", b"LOAD", code.as_bytes()]);
    assert_eq!(show(&x), show(&y), "FUNCTION LOAD differs for {code:?}");
    x
}

fn check_args(p: &mut Pair, args: &[&[u8]]) -> Vec<u8> {
    let (x, y) = p.both_args(args);
    let shown: Vec<String> = args.iter().map(|a| show(a)).collect();
    assert_eq!(show(&x), show(&y), "reply differs for {shown:?}");
    x
}

/// Metadata errors of FUNCTION LOAD, each checked before any Lua runs.
#[test]
fn load_metadata_errors() {
    let mut p = Pair::new();
    for code in [
        "return 1",
        "#!lua name=x",
        "#!lua\nreturn 1",
        "#!lua name=a name=b\nreturn 1",
        "#!lua foo=bar\nx",
        "#!py name=x\nx",
        "#! name=x\nx",
        "#!lua name=a-b\nx",
        "#!lua name=\"a b\"\nx",
        "#!lua name=\"ab\nx",
        "#!lua name=\nx",
        "#!lua name=z\0\nx",
        "#!lua\0 name=z\nx",
        "#!lua name=zz '\nx",
        "#!py name=a-b\nx",
        "#!lua name=a-b foo\nx",
        "#!lua name=y\nreturn 1",
        "#!lua name=y\nx = = 1",
        "#!LUA NAME=up\nredis.register_function('UP1', function() return 1 end)",
        "#!lua name=\"q\"\nredis.register_function('qq', function() return 1 end)",
        "#!lua Name=z1 \nredis.register_function('z1', function() return 1 end)",
        "#!lua name=up\nredis.register_function('other', function() return 1 end)",
        "#!lua name=up2\nredis.register_function('up1', function() return 1 end)",
    ] {
        load(&mut p, code);
    }
    p.script(
        r#"
        FUNCTION LOAD
        FUNCTION LOAD REPLACE
        FUNCTION LOAD foo bar
        FUNCTION LOAD REPLACE REPLACE x
        FCALL UP1 0
        FCALL up1 0
        FCALL qq 0
        "#,
    );
    let code = "#!lua name=up\nredis.register_function('up1', function() return 2 end)";
    for args in [
        &[b"FUNCTION".as_slice(), b"LOAD", b"replace", code.as_bytes()][..],
        &[
            b"FUNCTION",
            b"LOAD",
            b"REPLACE",
            b"replace",
            code.as_bytes(),
        ],
    ] {
        check_args(&mut p, args);
    }
    p.script(
        r#"
        FCALL UP1 0
        FUNCTION LIST LIBRARYNAME up
        "#,
    );
}

/// redis.register_function in both forms and every error it raises; what a library can
/// and cannot reach while it loads (only the load-time API); the load timeout.
#[test]
fn register_function_and_load_sandbox() {
    let mut p = Pair::new();
    let bodies = [
        "redis.register_function(1, function() return 1 end)",
        "redis.register_function('f', 1)",
        "redis.register_function('f')",
        "redis.register_function()",
        "redis.register_function('a', function() end, 3)",
        "redis.register_function('a', function() end, nil)",
        "redis.register_function{function_name='f'}",
        "redis.register_function{callback=function() end}",
        "redis.register_function{function_name='f', callback=function() end, flags={'bad'}}",
        "redis.register_function{function_name='f', callback=function() end, flags='no-writes'}",
        "redis.register_function{function_name='f', callback=function() end, foo=1}",
        "redis.register_function{function_name=1, callback=function() end}",
        "redis.register_function{function_name={}, callback=function() end}",
        "redis.register_function{function_name='f', callback=1}",
        "redis.register_function{function_name='fd', callback=function() end, description=2}",
        "redis.register_function{function_name='f', callback=function() end, description={}}",
        "redis.register_function{[1]='f', callback=function() end}",
        "redis.register_function{[true]='f', callback=function() end}",
        "redis.register_function{function_name='f', callback=function() end, flags={'NO-WRITES', 1}}",
        "redis.register_function{function_name='f', callback=function() end, flags={true}}",
        "redis.register_function(1)",
        "redis.register_function{}",
        "redis.register_function{FUNCTION_NAME='fz', CALLBACK=function() end, FLAGS={'no-writes'}, DESCRIPTION='d'}",
        "redis.register_function{function_name='fn', callback=function() end, flags={'no-writes',nil,'allow-oom'}}",
        "redis.register_function{function_name='fa', callback=function() end, flags={[2]='no-writes'}}",
        "redis.register_function('f-g', function() return 1 end)",
        "redis.register_function('', function() return 1 end)",
        "redis.register_function('f', function() end) redis.register_function('f', function() end)",
        "redis.register_function('Fc', function() end) redis.register_function('fc', function() end)",
        "redis.call('ping')",
        "redis.pcall('ping')",
        "local x = string.len('a')",
        "redis.setresp(3)",
        "redis.sha1hex('a')",
        "x = 1",
        "local t = _G",
        "redis.foo = 1",
        "error('boom')",
        "error({err='MYERR x'})",
        "error({err=5})",
        "error(12)",
        "print('x')",
        "local a = KEYS",
        "local v = redis.REDIS_VERSION .. redis.REDIS_VERSION_NUM redis.register_function(v, function() end)",
        "local x = redis.LOG_NOTICE + redis.LOG_DEBUG + redis.LOG_VERBOSE + redis.LOG_WARNING redis.register_function('lg', function() return x end)",
        "redis.log(redis.LOG_DEBUG, 'loading') redis.register_function('logged', function() end)",
        "local ok = pcall(redis.register_function) redis.register_function('pc', function() return 'pc' end)",
        "redis.register_function('ok1', function() end) error('late')",
        "local function f() return 'shared' end redis.register_function('s1', f) redis.register_function('s2', f)",
        "local r = redis redis.register_function('keeper', function() return r.register_function('z', function() end) end)",
        "redis.register_function('rt', function() return type(redis.register_function) end)",
        "redis.register_function('s1', function() end)",
        "while true do end",
        "local ok, e = pcall(function() while true do end end) redis.register_function('nope', function() end)",
    ];
    for (i, body) in bodies.iter().enumerate() {
        load(&mut p, &format!("#!lua name=l{i}\n{body}"));
    }
    p.script(
        r#"
        FCALL 1 0
        FCALL fd 0
        FCALL lg 0
        FCALL pc 0
        FCALL ok1 0
        FCALL s1 0
        FCALL S2 0
        FCALL keeper 0
        FCALL rt 0
        FCALL fc 0
        FCALL Fc 0
        FUNCTION LIST LIBRARYNAME l14
        FUNCTION LIST LIBRARYNAME l22 WITHCODE
        FUNCTION LIST LIBRARYNAME L23
        FUNCTION LIST LIBRARYNAME l24
        "#,
    );
}

/// FCALL and FCALL_RO: arguments, numkeys errors, reply conversions, errors raised in a
/// function (named after it, with its line), flags, what a function may not call.
#[test]
fn fcall_behaviour() {
    let mut p = Pair::new();
    load(
        &mut p,
        r#"#!lua name=rt
local function e1() error('boom') end
redis.register_function('e1', function(k, a) e1() end)
redis.register_function('e2', function(k, a) return redis.call('nosuch') end)
redis.register_function('e3', function(k, a) return redis.error_reply('MY err') end)
redis.register_function('e4', function(k, a) return KEYS end)
redis.register_function('e5', function(k, a) redis.register_function('zz', function() end) end)
redis.register_function('e6', function(k, a) x = 1 end)
redis.register_function('e7', function(k, a) return {k, a, #k, #a} end)
redis.register_function('e8', function(k, a) return redis.call('set', k[1], a[1]) end)
redis.register_function{function_name='ro', callback=function(k, a) return redis.call('set', 'x', 'y') end, flags={'no-writes'}}
redis.register_function{function_name='ro2', callback=function(k, a) return redis.call('get', k[1]) end, flags={'no-writes'}}
redis.register_function('e9', function(k, a) return redis.pcall('incr', 'str') end)
redis.register_function('e10', function(k, a) error({err='XX custom'}) end)
redis.register_function('e11', function(k, a) return redis.call('incr', 'str') end)
redis.register_function('e12', function(k, a) return string.rep('a', 3) .. table.concat({1, 2}, ',') end)
redis.register_function('e13', function(k, a) return _G.foo end)
redis.register_function('e16', function(k, a) redis.setresp(3) return redis.call('hgetall', k[1]) end)
redis.register_function('e17', function(k, a) return {1, 2.5, 'x', {err='E'}, false, true} end)
redis.register_function('e18', function(k, a) return redis.call('fcall', 'e7', 0) end)
redis.register_function('e19', function(k, a) return redis.call('function', 'list') end)
redis.register_function('e20', function(k, a) return redis.call('eval', 'return 1', 0) end)
redis.register_function('e22', function(k, a) local t = {} for i = 1, #a do t[i] = a[i] .. '!' end return t end)
redis.register_function('e23', function(k, a) return redis.sha1hex(a[1] or '') end)
redis.register_function('e24', function(k, a) return {pcall(function() error('inner') end)} end)
redis.register_function('e25', function(k, a) return {ok='fine'} end)
redis.register_function('e26', function(k, a) return redis.call('incrby', k[1], a[1]) end)
"#,
    );
    p.script(
        r#"
        HSET h a 1
        SET str abc
        FCALL e1 0
        FCALL e2 0
        FCALL e3 0
        FCALL e4 0
        FCALL e5 0
        FCALL e6 0
        FCALL e7 2 a b c d
        FCALL e7 0
        FCALL e7 0 x y
        FCALL e8 1 k v
        GET k
        FCALL ro 0
        FCALL_RO ro 0
        FCALL_RO ro2 1 k
        FCALL ro2 1 k
        FCALL_RO e8 1 k v
        FCALL e9 0
        FCALL e10 0
        FCALL e11 0
        FCALL e12 0
        FCALL e13 0
        FCALL E1 0
        FCALL e16 1 h
        FCALL e17 0
        FCALL e18 0
        FCALL e19 0
        FCALL e20 0
        FCALL e22 0 a b c
        FCALL e23 0 abc
        FCALL e24 0
        FCALL e25 0
        FCALL e26 1 n 5
        FCALL e26 1 n 5
        FCALL e1 x
        FCALL e1 -1
        FCALL e1 5
        FCALL e7 1.0 a
        FCALL e7 01 a
        FCALL e7 -0 a
        FCALL e7 +1 a
        FCALL e7 9999999999999999999999 a
        FCALL nope x
        FCALL_RO nope 0
        FCALL e1
        FCALL
        FCALL_RO
        "#,
    );
    p.both("HELLO 3");
    p.script(
        r#"
        FCALL e16 1 h
        FCALL e17 0
        FCALL e7 1 a b
        FUNCTION STATS
        "#,
    );
    p.both("HELLO 2");
    p.script(
        r#"
        MULTI
        FCALL e7 1 a b
        FCALL nope 0
        FCALL e26 1 n 1
        EXEC
        FUNCTION DELETE rt
        FCALL e1 0
        "#,
    );
}

/// Flags under maxmemory: a function without allow-oom or no-writes is refused as a
/// command that may grow memory; allow-oom lets it write, no-writes lets it read.
#[test]
fn fcall_flags_under_maxmemory() {
    let mut p = Pair::new();
    load(
        &mut p,
        r#"#!lua name=mem
redis.register_function('w', function(k, a) return redis.call('set', k[1], 'v') end)
redis.register_function{function_name='oomok', callback=function(k, a) return redis.call('set', k[1], 'v') end, flags={'allow-oom'}}
redis.register_function{function_name='r', callback=function(k, a) return redis.call('get', k[1]) end, flags={'no-writes'}}
redis.register_function{function_name='all', callback=function(k, a) return 1 end, flags={'no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'}}
"#,
    );
    p.script(
        r#"
        SET a 1
        CONFIG SET maxmemory 1
        FCALL w 1 a
        FCALL oomok 1 a
        FCALL r 1 a
        FCALL_RO r 1 a
        FCALL all 0
        FCALL_RO w 1 a
        FCALL nosuch 0
        CONFIG SET maxmemory 0
        FCALL w 1 a
        "#,
    );
}

/// The reply of FUNCTION LIST as a sorted list of library entries (Redis's order is per
/// process; each library here has one function, so an entry's bytes are deterministic).
fn sorted_list(reply: &[u8]) -> Vec<String> {
    let mut v: Vec<String> = elements(reply).iter().map(|e| show(e)).collect();
    v.sort();
    v
}

#[test]
fn list_shapes_and_arguments() {
    let mut p = Pair::new();
    p.check("FUNCTION LIST");
    p.check("FUNCTION LIST WITHCODE");
    load(
        &mut p,
        "#!lua name=alpha\nredis.register_function{function_name='a1', callback=function() return 1 end, description='first one', flags={'no-writes'}}",
    );
    load(
        &mut p,
        "#!lua name=Beta\nredis.register_function('b1', function() return 2 end)",
    );
    load(
        &mut p,
        "#!lua name=gamma_2\nredis.register_function{function_name='g1', callback=function() return 3 end, flags={'allow-cross-slot-keys', 'allow-oom'}}",
    );
    load(
        &mut p,
        "#!lua name=every\nredis.register_function{function_name='e', callback=function() return 4 end, flags={'allow-cross-slot-keys', 'no-cluster', 'allow-stale', 'allow-oom', 'no-writes'}, description=''}",
    );
    for line in [
        "FUNCTION LIST",
        "FUNCTION LIST WITHCODE",
        "FUNCTION LIST LIBRARYNAME *a*",
        "FUNCTION LIST WITHCODE LIBRARYNAME *",
    ] {
        let (x, y) = p.both(line);
        assert_eq!(sorted_list(&x), sorted_list(&y), "{line}");
    }
    p.script(
        r#"
        FUNCTION LIST LIBRARYNAME alpha
        FUNCTION LIST LIBRARYNAME every
        FUNCTION LIST LIBRARYNAME beta
        FUNCTION LIST LIBRARYNAME B?ta WITHCODE
        FUNCTION LIST libraryname GAMMA* withcode
        FUNCTION LIST LIBRARYNAME nomatch
        FUNCTION LIST LIBRARYNAME [ab]lpha
        FUNCTION LIST LIBRARYNAME
        FUNCTION LIST WITHCODE WITHCODE
        FUNCTION LIST LIBRARYNAME a LIBRARYNAME b
        FUNCTION LIST foo
        "#,
    );
    p.both("HELLO 3");
    p.script(
        r#"
        FUNCTION LIST LIBRARYNAME alpha
        FUNCTION LIST LIBRARYNAME gamma_2 WITHCODE
        FUNCTION LIST LIBRARYNAME nomatch
        "#,
    );
    p.both("HELLO 2");
    p.script(
        r#"
        FUNCTION DELETE alpha
        FUNCTION DELETE alpha
        FUNCTION DELETE BETA
        FUNCTION DELETE
        FUNCTION DELETE a b
        FUNCTION LIST LIBRARYNAME *amm*
        FUNCTION LIST LIBRARYNAME alpha
        "#,
    );
}

/// A DUMP payload as Redis builds it: opcode 245 and the code per library, version,
/// CRC64.
fn payload(libs: &[&[u8]], version: u16) -> Vec<u8> {
    let mut body = Vec::new();
    for code in libs {
        body.push(245);
        rdb::write_string(&mut body, code);
    }
    seal(body, version)
}

fn seal(mut body: Vec<u8>, version: u16) -> Vec<u8> {
    body.extend_from_slice(&version.to_le_bytes());
    let crc = rdb::crc64(0, &body);
    body.extend_from_slice(&crc.to_le_bytes());
    body
}

/// An RDB string written without compression.
fn plain(s: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    rdb::write_len(&mut v, s.len() as u64);
    v.extend_from_slice(s);
    v
}

fn restore(p: &mut Pair, data: &[u8], policy: Option<&str>) -> Vec<u8> {
    let mut args: Vec<&[u8]> = vec![b"FUNCTION", b"RESTORE", data];
    if let Some(pol) = policy {
        args.push(pol.as_bytes());
    }
    check_args(p, &args)
}

/// DUMP is byte for byte Redis's; a payload from either server restores on the other
/// and its functions run; RESTORE's policies and every error it reports.
#[test]
fn dump_and_restore() {
    let mut p = Pair::new();
    p.check("FUNCTION DUMP");
    let long = format!(
        "#!lua name=big\nredis.register_function('big', function(k, a) return #a end)\n--[[{}]]",
        "function libraries compress well, function libraries compress well; ".repeat(40)
    );
    for code in [
        "#!lua name=mylib\nredis.register_function('f1', function(keys, args) return keys[1] end)",
        "#!lua name=t\nredis.register_function('t', function() return 1 end)",
        long.as_str(),
    ] {
        load(&mut p, code);
        let dump = p.check("FUNCTION DUMP");
        assert!(dump.len() > 20, "{}", show(&dump));
        p.check("FUNCTION FLUSH");
    }

    // Oracle's payload restored here, and ours there.
    load(&mut p, &long);
    load(
        &mut p,
        "#!lua name=second\nredis.register_function{function_name='s', callback=function(k, a) return k[1] end, flags={'no-writes'}, description='d'}",
    );
    let theirs = p.b.cmd("FUNCTION DUMP");
    let ours = p.a.cmd("FUNCTION DUMP");
    let theirs = bulk_body(&theirs);
    let ours = bulk_body(&ours);
    assert_eq!(
        p.a.cmd_args(&[b"FUNCTION", b"RESTORE", &theirs, b"FLUSH"]),
        b"+OK\r\n"
    );
    assert_eq!(
        p.b.cmd_args(&[b"FUNCTION", b"RESTORE", &ours, b"FLUSH"]),
        b"+OK\r\n"
    );
    p.script(
        r#"
        FCALL big 0 a b c
        FCALL_RO s 1 key
        FUNCTION LIST LIBRARYNAME second WITHCODE
        "#,
    );
    // With two libraries in the payload, which one a clash names depends on Redis's
    // hash order: clash on one only.
    p.check("FUNCTION DELETE big");
    restore(&mut p, &theirs, None);
    p.check("FUNCTION DELETE big");
    restore(&mut p, &theirs, Some("APPEND"));
    restore(&mut p, &theirs, Some("replace"));
    restore(&mut p, &theirs, Some("flush"));
    restore(&mut p, &theirs, Some("bogus"));
    p.check("FCALL big 0 x");
    p.check("FUNCTION FLUSH");

    let l1: &[u8] = b"#!lua name=L1\nredis.register_function('g1', function() return 1 end)";
    let l2: &[u8] = b"#!lua name=L2\nredis.register_function('g1', function() return 2 end)";
    restore(&mut p, &payload(&[l1], 10), None);
    p.check("FCALL g1 0");
    restore(&mut p, &payload(&[l1], 10), None);
    restore(&mut p, &payload(&[l1], 10), Some("REPLACE"));
    restore(&mut p, &payload(&[l2], 10), None);
    restore(&mut p, &payload(&[l2], 10), Some("REPLACE"));
    restore(&mut p, &payload(&[l2], 10), Some("FLUSH"));
    p.check("FCALL g1 0");
    restore(&mut p, &payload(&[l1, l1], 10), Some("FLUSH"));
    restore(&mut p, &payload(&[l1], 11), Some("FLUSH"));
    restore(&mut p, &payload(&[l1], 9), Some("FLUSH"));
    restore(&mut p, &payload(&[l1], 0), Some("FLUSH"));
    restore(&mut p, &payload(&[], 10), None);
    restore(&mut p, &payload(&[], 10), Some("FLUSH"));
    p.check("FUNCTION LIST");
    let mut bad_crc = payload(&[l1], 10);
    if let Some(last) = bad_crc.last_mut() {
        *last ^= 1;
    }
    restore(&mut p, &bad_crc, None);
    let mut zero_crc = payload(&[l1], 10);
    let n = zero_crc.len();
    zero_crc[n - 8..].fill(0);
    restore(&mut p, &zero_crc, None);
    for short in [&b""[..], b"abc", b"\x0a\x00\0\0\0\0\0\0\0"] {
        restore(&mut p, short, None);
    }

    // Hand-made payloads: other encodings, truncations, the 7.0 release-candidate form.
    let mut cases: Vec<Vec<u8>> = Vec::new();
    let mut push = |parts: &[&[u8]]| cases.push(seal(parts.concat(), 10));
    push(&[b"\x00", &plain(l1)]);
    push(&[b"\xf5", &plain(l1)]);
    push(&[b"\xf5\x40\x64abc"]);
    push(&[b"\xf5\x05abc"]);
    push(&[b"\xf5"]);
    push(&[b"\xf5", &plain(b"return 1")]);
    push(&[b"\xf5", &plain(b"#!lua name=zz\nreturn 1")]);
    push(&[b"\xf5\xc0\x05"]);
    push(&[b"\xf5\xc1\x01\x02"]);
    push(&[b"\xf5\xc2\x01\x02\x03\x04"]);
    push(&[b"\xf5\xc3\x05\x10abcde"]);
    push(&[b"\xf5\xc4\x05"]);
    push(&[b"\xf5\x82"]);
    let l9: &[u8] = b"#!lua name=L9\nredis.register_function('g9', function() return 9 end)";
    push(&[b"\xf5\x80", &(l9.len() as u32).to_be_bytes(), l9]);
    let l8: &[u8] = b"#!lua name=L8\nredis.register_function('g8', function() return 8 end)";
    push(&[b"\xf5\x81", &(l8.len() as u64).to_be_bytes(), l8]);
    push(&[b"\xf5\x81", &(1u64 << 63).to_be_bytes()]);
    push(&[b"\xf5\xc3\x02\x81", &(1u64 << 40).to_be_bytes(), b"\x00a"]);
    let body3: &[u8] = b"redis.register_function('g3', function() return 3 end)";
    push(&[
        b"\xf6",
        &plain(b"L3"),
        &plain(b"LUA"),
        b"\x00",
        &plain(body3),
    ]);
    let body4: &[u8] = b"redis.register_function('g4', function() return 4 end)";
    push(&[
        b"\xf6",
        &plain(b"L4"),
        &plain(b"lua"),
        b"\x01",
        &plain(b"desc"),
        &plain(body4),
    ]);
    push(&[b"\xf6\x82"]);
    push(&[b"\xf6", &plain(b"L5"), b"\x82"]);
    push(&[b"\xf6", &plain(b"L5"), &plain(b"LUA"), b"\x82"]);
    push(&[b"\xf6", &plain(b"L5"), &plain(b"LUA"), b"\x01\x82"]);
    push(&[b"\xf6", &plain(b"L5"), &plain(b"LUA"), b"\x00\x82"]);
    push(&[b"\xf6", &plain(b"L7"), &plain(b"py"), b"\x00", &plain(b"x")]);
    push(&[
        b"\xf6",
        &plain(b"L 7"),
        &plain(b"lua"),
        b"\x00",
        &plain(b"x"),
    ]);
    // Restored code has no load time limit.
    push(&[
        b"\xf5",
        &plain(b"#!lua name=slow\nlocal t = 0 for i = 1, 3000000 do t = t + i end\nredis.register_function('slow', function() return t end)"),
    ]);
    for c in &cases {
        restore(&mut p, c, None);
    }
    p.script(
        r#"
        FCALL g3 0
        FCALL g4 0
        FCALL g8 0
        FCALL g9 0
        FCALL slow 0
        FUNCTION LIST LIBRARYNAME L4 WITHCODE
        FUNCTION RESTORE
        FUNCTION RESTORE a b c
        FUNCTION RESTORE a b
        FUNCTION RESTORE a
        FUNCTION DUMP x
        "#,
    );
}

/// The payload of a bulk reply.
fn bulk_body(reply: &[u8]) -> Vec<u8> {
    let start = reply.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1);
    reply[start..reply.len() - 2].to_vec()
}

/// FLUSH, STATS, KILL and HELP, the container's errors, and INFO's function counts.
#[test]
fn flush_stats_kill_help() {
    let mut p = Pair::new();
    p.script(
        r#"
        FUNCTION STATS
        FUNCTION KILL
        FUNCTION HELP
        FUNCTION help
        FUNCTION
        FUNCTION nosuch
        FUNCTION STATS x
        FUNCTION KILL x
        FUNCTION HELP x
        FUNCTION FLUSH
        FUNCTION FLUSH ASYNC
        FUNCTION flush sync
        FUNCTION FLUSH x
        FUNCTION FLUSH a b
        FUNCTION flush a b
        "#,
    );
    load(
        &mut p,
        "#!lua name=one\nredis.register_function('o1', function() return 1 end)\nredis.register_function('o2', function() return 2 end)",
    );
    load(
        &mut p,
        "#!lua name=two\nredis.register_function('t1', function() return 1 end)",
    );
    p.check("FUNCTION STATS");
    p.both("HELLO 3");
    p.check("FUNCTION STATS");
    p.both("HELLO 2");
    assert_eq!(info_counts(&mut p.a), info_counts(&mut p.b));
    assert_eq!(info_counts(&mut p.a), (3, 2));
    p.script(
        r#"
        FUNCTION DELETE one
        FUNCTION STATS
        FUNCTION FLUSH
        FUNCTION STATS
        FCALL t1 0
        "#,
    );
    assert_eq!(info_counts(&mut p.a), (0, 0));
    assert_eq!(info_counts(&mut p.b), (0, 0));
}

/// (number_of_functions, number_of_libraries) from INFO memory.
fn info_counts(c: &mut Raw) -> (u64, u64) {
    let info = String::from_utf8_lossy(&c.cmd("INFO memory")).into_owned();
    let field = |name: &str| -> u64 {
        info.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':')?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {info}"))
    };
    (field("number_of_functions"), field("number_of_libraries"))
}

/// A function running past busy-reply-threshold: other clients get BUSY naming FUNCTION
/// KILL, FUNCTION STATS shows it, SCRIPT KILL is refused, FUNCTION KILL stops it with
/// Redis's error; a function that wrote cannot be killed.
#[test]
fn busy_function_and_kill() {
    let mut p = Pair::new();
    p.check("CONFIG SET busy-reply-threshold 100");
    load(
        &mut p,
        "#!lua name=busy\nredis.register_function{function_name='spin', callback=function(k, a) local i = 0 while true do i = i + 1 end end, flags={'no-writes'}}\nlocal function now() local t = redis.call('time') return t[1] * 1000000 + t[2] end\nredis.register_function('spinw', function(k, a) redis.call('set', k[1], '1') local stop = now() + 2000000 while now() < stop do for i = 1, 1000 do end end return 'done' end)",
    );
    let addrs = [p.ours.addr(), p.redis.addr()];
    let mut runners: Vec<Raw> = addrs.iter().map(|a| Raw::connect(*a)).collect();
    let mut others: Vec<Raw> = addrs.iter().map(|a| Raw::connect(*a)).collect();
    for r in runners.iter_mut() {
        r.send("FCALL spin 1 kk aa");
    }
    // Wait until both answer BUSY.
    for o in others.iter_mut() {
        common::wait_busy(o, "PING");
    }
    let both = |others: &mut Vec<Raw>, line: &str| -> Vec<Vec<u8>> {
        others.iter_mut().map(|o| o.cmd(line)).collect()
    };
    for line in ["GET x", "SCRIPT KILL", "FUNCTION LIST", "FCALL spin 0"] {
        let r = both(&mut others, line);
        assert_eq!(show(&r[0]), show(&r[1]), "{line}");
    }
    // STATS: everything but the duration.
    let stats = both(&mut others, "FUNCTION STATS");
    let masked: Vec<String> = stats
        .iter()
        .map(|s| {
            let text = show(s);
            let at = text.find("duration_ms\\r\\n:").expect("duration_ms") + 16;
            let end = at + text[at..].find('\\').expect("end");
            format!("{}<ms>{}", &text[..at], &text[end..])
        })
        .collect();
    assert_eq!(masked[0], masked[1]);
    let r = both(&mut others, "FUNCTION KILL");
    assert_eq!(show(&r[0]), show(&r[1]));
    let r: Vec<Vec<u8>> = runners.iter_mut().map(|r| r.read_reply()).collect();
    assert_eq!(show(&r[0]), show(&r[1]));
    assert!(
        r[0].starts_with(b"-ERR Script killed by user"),
        "{}",
        show(&r[0])
    );
    p.check("FUNCTION KILL");
    p.check("FUNCTION STATS");
    // A kill ends with its run: the next load runs its code to the end.
    load(
        &mut p,
        "#!lua name=after\nlocal t = 0 for i = 1, 300000 do t = t + i end\nredis.register_function('after', function() return t end)",
    );
    p.check("FCALL after 0");

    // A function that wrote: FUNCTION KILL refuses; it ends by itself (2 s: room for
    // both servers to be seen busy one after the other).
    for (r, o) in runners.iter_mut().zip(others.iter_mut()) {
        r.send("FCALL spinw 1 w");
        common::wait_busy(o, "PING");
    }
    let r = both(&mut others, "FUNCTION KILL");
    assert_eq!(show(&r[0]), show(&r[1]));
    let r: Vec<Vec<u8>> = runners.iter_mut().map(|r| r.read_reply()).collect();
    assert_eq!(show(&r[0]), show(&r[1]));
    p.check("GET w");
}
