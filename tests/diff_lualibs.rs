//! Differential tests of the Lua libraries scripts get (`cjson`, `bit`, `struct`,
//! `cmsgpack`): the same EVAL scripts sent to this server and to redis-server 7.0, replies
//! compared byte for byte. Each snippet runs twice: as the script itself (so results go
//! through the reply conversion and errors come back as error replies), and inside `pcall`
//! returning `tostring` of the result or the error message (so the library's own value or
//! message is compared, whatever the conversion does with it).

mod common;

use common::{show, Pair};

/// Defines `hex(s)` for snippets whose result is binary.
const HEX: &str = "local function hex(s) return (string.gsub(s, '.', function(c) \
    return string.format('%02x', string.byte(c)) end)) end ";

/// Runs every snippet of `cases` (one per line; `--#` lines are comments) both ways.
fn run_cases(p: &mut Pair, cases: &str) {
    let mut bad = Vec::new();
    let mut n = 0;
    for line in cases.lines() {
        let code = line.trim();
        if code.is_empty() || code.starts_with("--#") {
            continue;
        }
        let raw = format!("{HEX}{code}");
        let wrapped = format!(
            "{HEX}local ok, r = pcall(function() {code} end) \
             if ok then return tostring(r) else return 'ERR:' .. tostring(r) end"
        );
        for script in [raw, wrapped] {
            n += 1;
            let (ours, redis) = p.both_args(&[b"EVAL", script.as_bytes(), b"0"]);
            if ours != redis {
                bad.push(format!(
                    "{script}\n   ours:  {}\n   redis: {}",
                    show(&ours),
                    show(&redis)
                ));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {n} replies differ:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn bit_snippets() {
    let mut p = Pair::new();
    run_cases(&mut p, BIT_CASES);
}

#[test]
fn structlib_snippets() {
    let mut p = Pair::new();
    run_cases(&mut p, STRUCTLIB_CASES);
}

#[test]
fn cmsgpack_snippets() {
    let mut p = Pair::new();
    run_cases(&mut p, CMSGPACK_CASES);
}

#[test]
fn cjson_snippets() {
    let mut p = Pair::new();
    run_cases(&mut p, CJSON_CASES);
}

/// Sends one EVAL (script, keys, args) to both servers; records a difference.
fn eval(p: &mut Pair, bad: &mut Vec<String>, script: &str, keys: &[&str], args: &[&[u8]]) {
    let n = keys.len().to_string();
    let mut cmd: Vec<&[u8]> = vec![b"EVAL", script.as_bytes(), n.as_bytes()];
    cmd.extend(keys.iter().map(|k| k.as_bytes()));
    cmd.extend(args.iter().copied());
    let (ours, redis) = p.both_args(&cmd);
    if ours != redis {
        bad.push(format!(
            "{script}\n   ours:  {}\n   redis: {}",
            show(&ours),
            show(&redis)
        ));
    }
}

fn assert_none(bad: &[String], what: &str) {
    assert!(
        bad.is_empty(),
        "{what}: {} differ:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// Library values returned as they are: decoded JSON and msgpack, `cjson.null`, unpacked
/// structs, through the RESP2 and the RESP3 conversion.
#[test]
fn library_values_as_replies() {
    let mut p = Pair::new();
    let scripts = [
        r#"return cjson.decode('[1,2.5,"x",true,false,null,[3,[4]],{"a":1},-7.9]')"#,
        r#"return cjson.decode('{"a":1,"b":[1,2]}')"#,
        r#"return cjson.decode('"text"')"#,
        r#"return cjson.decode('null')"#,
        r#"return cjson.decode('1e300')"#,
        r#"return cjson.decode('-0.5')"#,
        r#"return cjson.null"#,
        r#"return {cjson.null, 1}"#,
        r#"return {1, cjson.null, 2}"#,
        r#"return cjson.decode('[null,1]')"#,
        r#"return cjson.decode('[true,{"x":null}]')"#,
        r#"return {cmsgpack.unpack(cmsgpack.pack(1, 'a', {2, {3}}, true, false, 0.5, -3))}"#,
        r#"return {cmsgpack.unpack_one(cmsgpack.pack('a', 'b'))}"#,
        r#"return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}"#,
        r#"return cmsgpack.unpack(cmsgpack.pack({x = 1}))"#,
        r#"return cmsgpack.pack({1, 2, {a = 'b'}})"#,
        r#"return cmsgpack.pack(1.5, 'x', nil)"#,
        r#"return {struct.unpack('>hBs', struct.pack('>hBs', -2, 200, 'str'))}"#,
        r#"return struct.pack('<d', 1.5)"#,
        r#"return {bit.band(-1, 0xff), bit.tohex(-1), bit.bnot(0)}"#,
        r#"return cjson.encode({cjson.decode('{"k":[1,2,3]}')})"#,
    ];
    let mut bad = Vec::new();
    for resp in ["2", "3"] {
        // Connection ids differ: switch protocols without comparing the HELLO replies.
        p.both(&format!("HELLO {resp}"));
        for s in scripts {
            eval(&mut p, &mut bad, s, &[], &[]);
        }
    }
    assert_none(&bad, "replies");
}

/// What job-queue scripts do: a JSON or msgpack job from ARGV, updated and stored, read back
/// and re-encoded; object member order after updates must come out the same.
#[test]
fn job_queue_payloads() {
    let mut p = Pair::new();
    let job = br#"{"id":"42","name":"send-email","data":{"to":"a@example.com","subject":"Hi \u00e9\u00e8 \ud83d\ude00","body":"line1\nline2\t\"quoted\" \/ slash","tags":["x","y","z"],"priority":3,"ratio":0.25,"big":12345678901234567890,"neg":-1e-7,"nested":{"a":{"b":{"c":[1,2,{"d":null}]}}}},"opts":{"attempts":5,"backoff":{"type":"exponential","delay":1000},"removeOnComplete":true,"lifo":false},"progress":0,"attemptsMade":0,"timestamp":1700000000123}"#;
    let scripts = [
        "return cjson.encode(cjson.decode(ARGV[1]))",
        "local j = cjson.decode(ARGV[1]) j.attemptsMade = j.attemptsMade + 1 j.processedOn = 1700000000999 \
         j.data.tags[4] = 'w' redis.call('SET', KEYS[1], cjson.encode(j)) return redis.call('GET', KEYS[1])",
        "local j = cjson.decode(redis.call('GET', KEYS[1])) return {j.id, j.name, j.data.priority, \
         tostring(j.data.ratio), j.opts.backoff.type, #j.data.tags, tostring(j.data.big)}",
        "local j = cjson.decode(ARGV[1]) local m = cmsgpack.pack(j) redis.call('SET', KEYS[1], m) \
         return cjson.encode(cmsgpack.unpack(redis.call('GET', KEYS[1])))",
        "local j = cjson.decode(ARGV[1]) return cmsgpack.pack(j)",
        "local j = cjson.decode(ARGV[1]) local out = {} for k, v in pairs(j) do out[#out + 1] = k end return out",
        "local j = cjson.decode(ARGV[1]) local out = {} for k, v in pairs(j.data) do out[#out + 1] = k .. '=' .. type(v) end return out",
        "local j = cjson.decode(ARGV[1]) j.opts = nil j.data.nested = nil j.extra = {1, 2, 3} return cjson.encode(j)",
        "local t = {} for i = 1, 50 do t['job:' .. i] = {id = i, state = (i % 3 == 0) and 'done' or 'wait'} end return cjson.encode(t)",
        "local t = {} for i = 1, 50 do t[i] = cjson.encode({i, 'x' .. i}) end return cjson.encode(t)",
        "redis.call('HSET', KEYS[1], 'data', ARGV[1]) local j = cjson.decode(redis.call('HGET', KEYS[1], 'data')) \
         return cjson.encode({j.id, j.opts.attempts, j.data.subject})",
    ];
    let mut bad = Vec::new();
    for s in scripts {
        eval(&mut p, &mut bad, s, &["job:1"], &[job]);
    }
    // The same with a msgpack job (as some queues store them).
    let packed = p.a.cmd_args(&[
        b"EVAL",
        b"return cmsgpack.pack(cjson.decode(ARGV[1]))",
        b"0",
        job,
    ]);
    let packed_r = p.b.cmd_args(&[
        b"EVAL",
        b"return cmsgpack.pack(cjson.decode(ARGV[1]))",
        b"0",
        job,
    ]);
    assert_eq!(show(&packed), show(&packed_r), "packed job");
    let body = bulk_body(&packed);
    for s in [
        "return cjson.encode(cmsgpack.unpack(ARGV[1]))",
        "local j = cmsgpack.unpack(ARGV[1]) j.progress = 50 return cmsgpack.pack(j)",
        "return {cmsgpack.unpack_one(ARGV[1])}",
        "return #ARGV[1]",
    ] {
        eval(&mut p, &mut bad, s, &[], &[&body]);
    }
    assert_none(&bad, "job scripts");
}

/// The payload of a bulk string reply.
fn bulk_body(reply: &[u8]) -> Vec<u8> {
    let nl = reply.iter().position(|&b| b == b'\n').unwrap_or(0);
    reply[nl + 1..reply.len().saturating_sub(2)].to_vec()
}

/// Library errors as scripts see them: uncaught (error replies with the script's line), caught
/// by pcall (the message as a string), through xpcall handlers, from multi-line scripts.
#[test]
fn errors_caught_and_uncaught() {
    let mut p = Pair::new();
    let scripts = [
        "return cjson.decode('{')",
        "local x = 1\nlocal y = 2\nreturn cjson.decode('[1,,]')",
        "local function f()\n  return cjson.encode({[true] = 1})\nend\nreturn f()",
        "local ok, e = pcall(cjson.decode, '{') return {tostring(ok), e}",
        "local ok, e = pcall(function() return cjson.decode('[') end) return {tostring(ok), e}",
        "local ok, e = pcall(bit.band, {}) return e",
        "local ok, e = pcall(struct.pack, 'q') return e",
        "local ok, e = pcall(cmsgpack.unpack, '\\193') return e",
        "local ok, e = pcall(cmsgpack.pack) return e",
        "return xpcall(function() return cjson.decode('x') end, function(e) return 'handled: ' .. e end)",
        "return {xpcall(function() return struct.unpack('i', '') end, function(e) return type(e) .. ':' .. e end)}",
        "return select(2, pcall(cjson.encode, function() end))",
        "local t = setmetatable({}, {__index = function() return cjson.decode('!') end}) return t.x",
        "return cmsgpack.unpack('\\129\\192\\1')",
        "local ok, e = pcall(cmsgpack.unpack, '\\129\\192\\1') return e",
        "return bit.tohex()",
        "return struct.size('s')",
        "return cjson.encode_max_depth(0)",
        "local c = cjson.new() return c.encode(1, 2)",
        "return redis.pcall('GET', cjson.encode({1}))",
        "return cjson.encode(redis.call('PING'))",
        "return cjson.encode({redis.call('PING')})",
        "return cjson.encode(redis.status_reply('OK'))",
        "return cjson.encode(redis.error_reply('boom'))",
        "return cmsgpack.pack(redis.error_reply('boom'))",
    ];
    let mut bad = Vec::new();
    for s in scripts {
        eval(&mut p, &mut bad, s, &[], &[]);
    }
    assert_none(&bad, "error scripts");
}

/// Settings live as long as the Lua state: an EVAL sees what an earlier one set, SCRIPT FLUSH
/// resets them, and `cjson.new()` instances keep their own.
#[test]
fn settings_persist_until_script_flush() {
    let mut p = Pair::new();
    let mut bad = Vec::new();
    for s in [
        "return cjson.encode(1/3)",
        "return cjson.encode_number_precision(4)",
        "return cjson.encode(1/3)",
        "return {cjson.encode_sparse_array(true, 3, 4)}",
        "return cjson.encode({[10] = 1})",
        "return cjson.encode_max_depth(2)",
        "return cjson.encode({{{}}})",
        "return cjson.decode_max_depth(2)",
        "return cjson.decode('[[[]]]')",
        "return cjson.encode_invalid_numbers('null')",
        "return cjson.encode({1/0})",
        "return cjson.decode_invalid_numbers(false)",
        "return cjson.decode('0x10')",
        "return cjson.encode_keep_buffer(false)",
        "return cjson.encode({1, 2})",
        "local c = cjson.new() return {c.encode(1/3), c.encode_max_depth(), cjson.encode(1/3)}",
    ] {
        eval(&mut p, &mut bad, s, &[], &[]);
    }
    p.check("SCRIPT FLUSH");
    for s in [
        "return cjson.encode(1/3)",
        "return {cjson.encode_max_depth(), cjson.decode_max_depth(), tostring(cjson.encode_keep_buffer())}",
        "return cjson.decode('0x10')",
    ] {
        eval(&mut p, &mut bad, s, &[], &[]);
    }
    assert_none(&bad, "settings");
}

/// A fixed-seed generator, so runs are repeatable.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A random JSON-ish document: mostly valid, with the odd number form, escape and nesting.
fn random_json(r: &mut Lcg, depth: u32, out: &mut String) {
    let pick = if depth > 3 { r.below(7) } else { r.below(10) };
    match pick {
        0 => out.push_str(["true", "false", "null"][r.below(3) as usize]),
        1 => out.push_str(&(r.below(2_000_000) as i64 - 1_000_000).to_string()),
        2 => {
            let forms = [
                "0.5",
                "-1.25e-3",
                "1E+2",
                "3.14159265358979",
                "1e400",
                "0x1F",
                "-0",
                "2.5e-320",
                "123456789012345678",
            ];
            out.push_str(forms[r.below(forms.len() as u64) as usize]);
        }
        3..=6 => {
            let parts = [
                "a",
                "b c",
                "\\n",
                "\\u00e9",
                "\\ud83d\\ude00",
                "\\\"",
                "\\/",
                "\\\\",
                "x\\ty",
                "\\u0000",
                "é",
            ];
            out.push('"');
            for _ in 0..r.below(4) {
                out.push_str(parts[r.below(parts.len() as u64) as usize]);
            }
            out.push('"');
        }
        7 => {
            out.push('[');
            for i in 0..r.below(5) {
                if i > 0 {
                    out.push(',');
                }
                random_json(r, depth + 1, out);
            }
            out.push(']');
        }
        _ => {
            out.push('{');
            for i in 0..r.below(5) {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&format!("\"k{}\":", r.below(8)));
                random_json(r, depth + 1, out);
            }
            out.push('}');
        }
    }
}

/// Random documents and corruptions of them: decoded (values or error messages with their
/// positions) and re-encoded on both servers.
#[test]
fn random_json_documents() {
    let mut p = Pair::new();
    let mut r = Lcg(2024);
    let mut bad = Vec::new();
    let noise = [
        ",", "]", "}", "\"", "\\", ":", " ", "x", "-", "[", "{", "0", "\u{0}",
    ];
    for _ in 0..400 {
        let mut doc = String::new();
        random_json(&mut r, 0, &mut doc);
        let mut bytes = doc.into_bytes();
        if r.below(3) == 0 && !bytes.is_empty() {
            // Corrupt: insert, drop or cut.
            let at = r.below(bytes.len() as u64) as usize;
            match r.below(3) {
                0 => {
                    let n = noise[r.below(noise.len() as u64) as usize].as_bytes();
                    bytes.splice(at..at, n.iter().copied());
                }
                1 => {
                    bytes.remove(at);
                }
                _ => bytes.truncate(at),
            }
        }
        eval(
            &mut p,
            &mut bad,
            "local ok, v = pcall(cjson.decode, ARGV[1]) if not ok then return v end \
             local ok2, s = pcall(cjson.encode, v) return {cjson.encode(type(v)), s}",
            &[],
            &[&bytes],
        );
    }
    assert_none(&bad, "random documents");
}

/// Random bytes and random tables through cmsgpack: unpack results or errors, and packing of
/// generated tables (integers at width edges, floats, strings, nesting, holes).
#[test]
fn random_msgpack() {
    let mut p = Pair::new();
    let mut r = Lcg(99);
    let mut bad = Vec::new();
    let starts: Vec<u8> = (0..=255).collect();
    for _ in 0..300 {
        let mut bytes = vec![starts[r.below(256) as usize]];
        for _ in 0..r.below(12) {
            bytes.push(r.below(256) as u8);
        }
        eval(
            &mut p,
            &mut bad,
            "local out = {} local ok, e = pcall(function() local t = {cmsgpack.unpack(ARGV[1])} \
             for i = 1, #t do out[i] = cjson.encode(t[i]) end end) \
             if not ok then return e end return out",
            &[],
            &[&bytes],
        );
        eval(
            &mut p,
            &mut bad,
            "local ok, a, b = pcall(cmsgpack.unpack_one, ARGV[1], tonumber(ARGV[2])) \
             return {tostring(ok), tostring(a), cjson.encode(b)}",
            &[],
            &[&bytes, r.below(4).to_string().as_bytes()],
        );
    }
    let scalars = [
        "0",
        "-1",
        "127",
        "128",
        "-32",
        "-33",
        "255",
        "256",
        "-128",
        "-129",
        "65535",
        "65536",
        "-32768",
        "-32769",
        "4294967295",
        "4294967296",
        "-2147483648",
        "-2147483649",
        "2^53",
        "-2^63",
        "2^63",
        "0.5",
        "0.1",
        "-2.75",
        "1/0",
        "1e-310",
        "'s'",
        "''",
        "string.rep('x', 40)",
        "string.rep('y', 300)",
        "true",
        "false",
        "nil",
    ];
    for _ in 0..150 {
        let mut t = String::from("{");
        for i in 1..=r.below(8) {
            let v = scalars[r.below(scalars.len() as u64) as usize];
            match r.below(4) {
                0 => t.push_str(&format!("k{i} = {v}, ")),
                1 => t.push_str(&format!("{{{v}, {v}}}, ")),
                _ => t.push_str(&format!("{v}, ")),
            }
        }
        t.push('}');
        eval(
            &mut p,
            &mut bad,
            &format!(
                "local t = {t} local m = cmsgpack.pack(t) \
                 local ok, j = pcall(cjson.encode, cmsgpack.unpack(m)) return {{m, tostring(j)}}"
            ),
            &[],
            &[],
        );
    }
    assert_none(&bad, "random msgpack");
}

const BIT_CASES: &str = r#"
return bit.tobit(1)
return bit.tobit(2^31)
return bit.tobit(2^32 + 5)
return bit.tobit(-1)
return bit.tobit(0xffffffff)
return bit.tobit(1.5)
return bit.tobit(2.5)
return bit.tobit(-1.5)
return bit.tobit(2^52)
return bit.tobit(2^53 + 3)
return bit.tobit(1e300)
return bit.tobit(0/0)
return bit.tobit(1/0)
return bit.tobit('0x10')
return bit.tobit(' 12 ')
return bit.tobit('abc')
return bit.tobit('0')
return bit.tobit()
return bit.tobit({})
return bit.tobit(nil)
return bit.tobit(true)
return bit.bnot(0)
return bit.bnot(-1)
return bit.bnot(0x12345678)
return bit.band(0xff, 0x0f)
return bit.band(-1, 0x80000000)
return bit.band(1)
return bit.band(7, 3, 1)
return bit.band(7, 3, 'x')
return bit.band('x', 3)
return bit.band()
return bit.bor(1, 2, 4, 8)
return bit.bor(0x80000000, 1)
return bit.bxor(0xff, 0x0f)
return bit.bxor(-1, 1)
return bit.bxor(1, 2, 3)
return bit.lshift(1, 31)
return bit.lshift(1, 32)
return bit.lshift(1, 33)
return bit.lshift(1, -1)
return bit.lshift(0xff, 4)
return bit.rshift(-1, 28)
return bit.rshift(0x80000000, 31)
return bit.rshift(256, 4)
return bit.arshift(-256, 4)
return bit.arshift(0x80000000, 31)
return bit.arshift(256, 4)
return bit.rol(0x12345678, 8)
return bit.rol(0x12345678, 0)
return bit.rol(0x80000001, 1)
return bit.ror(0x12345678, 8)
return bit.ror(1, 1)
return bit.ror(1, 33)
return bit.bswap(0x12345678)
return bit.bswap(-1)
return bit.bswap(0xff)
return bit.tohex(0x1234abcd)
return bit.tohex(255)
return bit.tohex(255, 2)
return bit.tohex(255, -2)
return bit.tohex(-1)
return bit.tohex(-1, -8)
return bit.tohex(0xabc, 12)
return bit.tohex(0xabc, -12)
return bit.tohex(0xabc, 0)
return bit.tohex(0xabc, 1)
return bit.tohex(0xabc, -2^31)
return bit.tohex(0xabc, 2^31)
return bit.tohex(2^32 + 0xabc)
return bit.tohex('x')
return bit.tohex(1, 'x')
return bit.lshift(1)
return bit.rshift()
local f = bit.band; return f('x')
return pcall(bit.band, 'x')
local ok, e = pcall(bit.bor, {}) return e
return bit.band(1.4999, 3)
return bit.bor(0.5)
return bit.bor(-0.5)
return bit.bor(-2^31 - 1)
return bit.bor(2^31 - 1)
"#;

const STRUCTLIB_CASES: &str = r#"
return hex(struct.pack('b', -1))
return hex(struct.pack('B', 255))
return hex(struct.pack('B', 256))
return hex(struct.pack('b', 128))
return hex(struct.pack('h', -2))
return hex(struct.pack('>h', -2))
return hex(struct.pack('<H', 0x1234))
return hex(struct.pack('>H', 0x1234))
return hex(struct.pack('l', -1))
return hex(struct.pack('>l', 1))
return hex(struct.pack('L', 2^63))
return hex(struct.pack('>L', 2^64))
return hex(struct.pack('>L', 2^64 + 2^20))
return hex(struct.pack('>L', 1/0))
return hex(struct.pack('>L', -1/0))
return hex(struct.pack('>L', 0/0))
return hex(struct.pack('>l', -2^63))
return hex(struct.pack('>l', -2^64))
return hex(struct.pack('>L', 1.9))
return hex(struct.pack('>L', -1.9))
return hex(struct.pack('T', 5))
return hex(struct.pack('i', -3))
return hex(struct.pack('>i', 7))
return hex(struct.pack('>I2', 0x1234))
return hex(struct.pack('<I3', 0x123456))
return hex(struct.pack('>i16', -1))
return hex(struct.pack('<i16', -1))
return hex(struct.pack('>I32', 5))
return hex(struct.pack('i0', 5))
return hex(struct.pack('i33', 5))
return hex(struct.pack('i99999999999', 5))
return hex(struct.pack('f', 1.5))
return hex(struct.pack('>f', 1.5))
return hex(struct.pack('>f', 0.1))
return hex(struct.pack('>f', 1e40))
return hex(struct.pack('>d', 0.1))
return hex(struct.pack('<d', -2.5))
return hex(struct.pack('x'))
return hex(struct.pack('bxb', 1, 2))
return hex(struct.pack('c', 'abc'))
return hex(struct.pack('c2', 'abc'))
return hex(struct.pack('c0', 'abc'))
return hex(struct.pack('c5', 'abc'))
return hex(struct.pack('s', 'ab'))
return hex(struct.pack('s', 'a\0b'))
return hex(struct.pack('ss', 'a', 'b'))
return hex(struct.pack('s', 12))
return hex(struct.pack('s', nil))
return hex(struct.pack('i', 'x'))
return hex(struct.pack('i', '12'))
return hex(struct.pack('i'))
return hex(struct.pack('bi', 1, 2))
return hex(struct.pack('!bi', 1, 2))
return hex(struct.pack('!2bi', 1, 2))
return hex(struct.pack('!4bd', 1, 2))
return hex(struct.pack('!bd', 1, 2))
return hex(struct.pack('!8bhd', 1, 2, 3))
return hex(struct.pack('!3b', 1))
return hex(struct.pack('!0b', 1))
return hex(struct.pack('!bc3i', 1, 'abc', 2))
return hex(struct.pack('!bsi', 1, 'ab', 2))
return hex(struct.pack('> < b', 1))
return hex(struct.pack('z', 1))
return hex(struct.pack('b5', 1))
return hex(struct.pack('', 1))
return hex(struct.pack(12, 1))
return hex(struct.pack())
return hex(struct.pack('b\0b', 1, 2))
return hex(struct.pack('>!4 h i', 1, 2))
return struct.unpack('b', '\255')
return struct.unpack('B', '\255')
return select('#', struct.unpack('bb', '\1\2'))
return select(3, struct.unpack('bb', '\1\2'))
return struct.unpack('>h', '\255\254')
return struct.unpack('<h', '\255\254')
return struct.unpack('>H', '\255\254')
return struct.unpack('>i', '\128\0\0\0')
return struct.unpack('>I', '\128\0\0\0')
return struct.unpack('>l', '\255\255\255\255\255\255\255\255')
return struct.unpack('>L', '\255\255\255\255\255\255\255\255')
return struct.unpack('>i3', '\255\255\254')
return struct.unpack('<i3', '\255\255\254')
return struct.unpack('>i16', string.rep('\255', 16))
return struct.unpack('>I16', string.rep('\1', 16))
return struct.unpack('>I9', string.rep('\1', 9))
return struct.unpack('>i0', 'abc')
return select('#', struct.unpack('>i0', 'abc'))
return struct.unpack('>f', '\63\192\0\0')
return struct.unpack('<f', '\0\0\192\63')
return struct.unpack('>d', struct.pack('>d', 0.1))
return struct.unpack('<d', struct.pack('<d', -1e300))
return struct.unpack('>f', '\127\128\0\0')
return struct.unpack('>f', '\127\192\0\0')
return struct.unpack('c3', 'abcdef')
return select(2, struct.unpack('c3', 'abcdef'))
return struct.unpack('c0', 'abc')
return struct.unpack('bc0', '\2abc')
return select('#', struct.unpack('bc0', '\2abc'))
return struct.unpack('bc0', '\5abc')
return struct.unpack('s', 'ab\0cd')
return select(2, struct.unpack('s', 'ab\0cd'))
return select(2, struct.unpack('ss', 'ab\0cd\0'))
return struct.unpack('s', 'abc')
return struct.unpack('b', '')
return struct.unpack('h', '\1')
return struct.unpack('b', 'ab', 2)
return select(2, struct.unpack('b', 'ab', 2))
return struct.unpack('b', 'ab', 3)
return struct.unpack('b', 'ab', 0)
return struct.unpack('b', 'ab', -1)
return struct.unpack('b', 'ab', 'x')
return struct.unpack('b', 'ab', 1.7)
return struct.unpack('x', 'a')
return select('#', struct.unpack('xb', 'ab'))
return struct.unpack('!bi', '\1\0\0\0\2\0\0\0')
return select(2, struct.unpack('!bi', '\1\0\0\0\2\0\0\0'))
return select(3, struct.unpack('!bi', '\1\0\0\0\2\0\0\0'))
return struct.unpack('!bi', '\1\0\0\0\2\0\0')
return struct.unpack('q', 'a')
return struct.unpack('b')
return struct.unpack()
return struct.unpack('b', 5)
return struct.unpack(5, 'a')
return select('#', struct.unpack(string.rep('b', 7000), string.rep('a', 7000)))
return select('#', struct.unpack(string.rep('b', 8000), string.rep('a', 8000)))
return struct.unpack(string.rep('b', 9000), string.rep('a', 9000))
return struct.size('b')
return struct.size('bhlid')
return struct.size('!bhlid')
return struct.size('!bd')
return struct.size('!2bd')
return struct.size('c5')
return struct.size('c0')
return struct.size('s')
return struct.size('bs')
return struct.size('z')
return struct.size('5')
return struct.size('q')
return struct.size('!3')
return struct.size('i33')
return struct.size('i3')
return struct.size('T')
return struct.size('x')
return struct.size('')
return struct.size('>')
return struct.size('#')
return struct.size()
return struct.size(12)
return hex(struct.pack('!1 b i', 1, 2))
return struct.unpack('!3i', '')
return hex(struct.pack('!16bd', 1, 2))
return hex(struct.pack('!8bi2', 1, 2))
return hex(struct.pack('!4bi3', 1, 2))
return struct.size('!4bi3b')
return struct.size('!4bi3bi3')
"#;

const CMSGPACK_CASES: &str = r#"
--# integers at each width boundary
return hex(cmsgpack.pack(0))
return hex(cmsgpack.pack(1))
return hex(cmsgpack.pack(127))
return hex(cmsgpack.pack(128))
return hex(cmsgpack.pack(255))
return hex(cmsgpack.pack(256))
return hex(cmsgpack.pack(65535))
return hex(cmsgpack.pack(65536))
return hex(cmsgpack.pack(4294967295))
return hex(cmsgpack.pack(4294967296))
return hex(cmsgpack.pack(2^53))
return hex(cmsgpack.pack(2^63))
return hex(cmsgpack.pack(-1))
return hex(cmsgpack.pack(-32))
return hex(cmsgpack.pack(-33))
return hex(cmsgpack.pack(-128))
return hex(cmsgpack.pack(-129))
return hex(cmsgpack.pack(-32768))
return hex(cmsgpack.pack(-32769))
return hex(cmsgpack.pack(-2147483648))
return hex(cmsgpack.pack(-2147483649))
return hex(cmsgpack.pack(-2^63))
return hex(cmsgpack.pack(-2^64))
return hex(cmsgpack.pack(-0.0))
--# floats and doubles
return hex(cmsgpack.pack(0.5))
return hex(cmsgpack.pack(1.5))
return hex(cmsgpack.pack(-2.25))
return hex(cmsgpack.pack(0.1))
return hex(cmsgpack.pack(3.14159))
return hex(cmsgpack.pack(1/0))
return hex(cmsgpack.pack(-1/0))
return hex(cmsgpack.pack(0/0))
return hex(cmsgpack.pack(1e300))
return hex(cmsgpack.pack(1e-300))
return hex(cmsgpack.pack(2^100))
--# strings at length boundaries
return hex(cmsgpack.pack(''))
return hex(cmsgpack.pack('a'))
return hex(cmsgpack.pack(string.rep('x', 31)))
return hex(string.sub(cmsgpack.pack(string.rep('x', 32)), 1, 3))
return #cmsgpack.pack(string.rep('x', 32))
return hex(string.sub(cmsgpack.pack(string.rep('x', 255)), 1, 3))
return hex(string.sub(cmsgpack.pack(string.rep('x', 256)), 1, 4))
return hex(string.sub(cmsgpack.pack(string.rep('x', 65535)), 1, 4))
return hex(string.sub(cmsgpack.pack(string.rep('x', 65536)), 1, 6))
return #cmsgpack.pack(string.rep('x', 65536))
return hex(cmsgpack.pack('a\0b'))
--# other types
return hex(cmsgpack.pack(true))
return hex(cmsgpack.pack(false))
return hex(cmsgpack.pack(nil))
return hex(cmsgpack.pack(tostring))
return hex(cmsgpack.pack(cjson.null))
return hex(cmsgpack.pack(coroutine.create(function() end)))
--# tables
return hex(cmsgpack.pack({}))
return hex(cmsgpack.pack({1, 2, 3}))
return hex(cmsgpack.pack({1, nil, 3}))
return hex(cmsgpack.pack({[1]=1, [2]=2, [4]=4}))
return hex(cmsgpack.pack({a=1}))
return hex(cmsgpack.pack({[0]=1}))
return hex(cmsgpack.pack({[1.5]=1}))
return hex(cmsgpack.pack({[-1]=1}))
return hex(cmsgpack.pack({[2^31]=1}))
return hex(cmsgpack.pack({[true]=1}))
return hex(cmsgpack.pack({[{}]=1}))
return hex(cmsgpack.pack({{}, {{}}}))
return hex(cmsgpack.pack({x={y={z={1}}}}))
local t = {} for i=1,15 do t[i]=i end return hex(cmsgpack.pack(t))
local t = {} for i=1,16 do t[i]=i end return hex(cmsgpack.pack(t))
local t = {} for i=1,65535 do t[i]=0 end return hex(string.sub(cmsgpack.pack(t), 1, 4))
local t = {} for i=1,65536 do t[i]=0 end return hex(string.sub(cmsgpack.pack(t), 1, 6))
local t = {} for i=1,15 do t['k'..i]=i end return hex(string.sub(cmsgpack.pack(t), 1, 1))
local t = {} for i=1,16 do t['k'..i]=i end return hex(string.sub(cmsgpack.pack(t), 1, 3))
local t = {} for i=1,70000 do t['k'..i]=i end return hex(string.sub(cmsgpack.pack(t), 1, 5))
local t = {a=1, b=2, c=3, d=4} return hex(cmsgpack.pack(t))
local t = {1, 2, x='y', [10]=5} return hex(cmsgpack.pack(t))
local t = {} t[1] = t return hex(cmsgpack.pack(t))
local t = {} t.a = t return hex(cmsgpack.pack(t))
local t = {} local c = t for i=1,20 do c[1] = {} c = c[1] end return hex(cmsgpack.pack(t))
local t = {} local c = t for i=1,14 do c[1] = {} c = c[1] end return hex(cmsgpack.pack(t))
local t = {} local c = t for i=1,15 do c[1] = {} c = c[1] end return hex(cmsgpack.pack(t))
local t = {} local c = t for i=1,14 do c[{}] = {} c = c[next(c)] end return hex(cmsgpack.pack(t))
local t = setmetatable({1, 2}, {__index = function(t, k) return 'z' end}) return hex(cmsgpack.pack(t))
local t = setmetatable({}, {__index = function(t, k) return 'z' end}) return hex(cmsgpack.pack(t))
local t = setmetatable({1, 2}, {__index = function(t, k) error('boom') end}) return hex(cmsgpack.pack(t))
--# multiple args
return hex(cmsgpack.pack(1, 2, 3))
return hex(cmsgpack.pack('a', {1}, nil, true))
return cmsgpack.pack()
local ok, e = pcall(cmsgpack.pack) return e
local t = {} for i=1,4000 do t[i]=i end return #cmsgpack.pack(unpack(t))
local t = {} for i=1,4001 do t[i]=i end return #cmsgpack.pack(unpack(t))
local t = {} for i=1,3990 do t[i]=i end t[3990] = {{{{{{{{{{{{{{{{{{}}}}}}}}}}}}}}}}}} return #cmsgpack.pack(unpack(t))
local t = {} for i=1,3999 do t[i]=i end t[3999] = {{{{{{{{{{{{{{{{{{}}}}}}}}}}}}}}}}}} return #cmsgpack.pack(unpack(t))
local t = {} for i=1,3999 do t[i]=i end t[3999] = {a={b={c={d={e={f={}}}}}}} return #cmsgpack.pack(unpack(t))
local t = {} for i=1,4000 do t[i]=i end t[1] = {a={b={}}} return #cmsgpack.pack(unpack(t))
--# unpack
return cmsgpack.unpack(cmsgpack.pack(123))
return cmsgpack.unpack(cmsgpack.pack(-123456))
return cmsgpack.unpack(cmsgpack.pack(0.1))
return cmsgpack.unpack(cmsgpack.pack(1.5))
return cmsgpack.unpack(cmsgpack.pack(2^63))
return cmsgpack.unpack(cmsgpack.pack(-2^63))
return cmsgpack.unpack(cmsgpack.pack(2^53 + 1))
return cmsgpack.unpack('\207\255\255\255\255\255\255\255\255')
return cmsgpack.unpack('\207\128\0\0\0\0\0\0\0')
return cmsgpack.unpack('\207\0\0\0\0\0\0\0\1')
return cmsgpack.unpack('\211\255\255\255\255\255\255\255\255')
return cmsgpack.unpack('\211\128\0\0\0\0\0\0\0')
return cmsgpack.unpack('\204\200')
return cmsgpack.unpack('\208\200')
return cmsgpack.unpack('\205\255\254')
return cmsgpack.unpack('\209\255\254')
return cmsgpack.unpack('\209\128\1')
return cmsgpack.unpack('\206\255\255\255\254')
return cmsgpack.unpack('\210\255\255\255\254')
return cmsgpack.unpack('\202\63\192\0\0')
return cmsgpack.unpack('\202\127\192\0\0')
return cmsgpack.unpack('\203\64\9\33\251\84\68\45\24')
return cmsgpack.unpack('\192')
return cmsgpack.unpack('\194')
return cmsgpack.unpack('\195')
return cmsgpack.unpack('\127')
return cmsgpack.unpack('\224')
return cmsgpack.unpack('\255')
return cmsgpack.unpack('\163abc')
return cmsgpack.unpack('\217\3abc')
return cmsgpack.unpack('\218\0\3abc')
return cmsgpack.unpack('\219\0\0\0\3abc')
return cmsgpack.unpack('\219\0\0\0\4abc')
return cmsgpack.unpack('\163ab')
return cmsgpack.unpack('\217')
return cmsgpack.unpack('\217\5ab')
return cmsgpack.unpack('\204')
return cmsgpack.unpack('\203\1\2')
return cmsgpack.unpack('\193')
return cmsgpack.unpack('\196\1a')
return cmsgpack.unpack('\212\1\2')
return cmsgpack.unpack('')
return select('#', cmsgpack.unpack(''))
return select('#', cmsgpack.unpack('\1\2\3'))
return select(3, cmsgpack.unpack('\1\2\3'))
return cjson.encode(cmsgpack.unpack('\147\1\2\3'))
return cjson.encode(cmsgpack.unpack('\144'))
return cjson.encode(cmsgpack.unpack('\128'))
return cjson.encode(cmsgpack.unpack('\130\161a\1\161b\2'))
return cjson.encode(cmsgpack.unpack('\220\0\2\1\2'))
return cjson.encode(cmsgpack.unpack('\221\0\0\0\2\1\2'))
return cjson.encode(cmsgpack.unpack('\222\0\1\1\2'))
return cjson.encode(cmsgpack.unpack('\223\0\0\0\1\161k\145\1'))
return cjson.encode(cmsgpack.unpack('\147\1\192\3'))
return cmsgpack.unpack('\129\192\1')
return cmsgpack.unpack('\129\203\127\248\0\0\0\0\0\0\1')
return cjson.encode(cmsgpack.unpack('\130\1\2\1\3'))
return cmsgpack.unpack('\147\1\2')
return cmsgpack.unpack('\130\1')
return cmsgpack.unpack('\220\0')
return cmsgpack.unpack('\145\193')
return cmsgpack.unpack(5)
return cmsgpack.unpack()
return cmsgpack.unpack({})
return hex(cmsgpack.pack(cmsgpack.unpack(cmsgpack.pack({1, {a='b'}, 'c', 2.5}))))
local t = {} for i=1,7999 do t[i]=1 end return select('#', cmsgpack.unpack(cmsgpack.pack(unpack(t))))
local t = {} for i=1,3000 do t[i]=1 end local s = string.rep(cmsgpack.pack(unpack(t)), 3) return select('#', cmsgpack.unpack(s))
local t = {} for i=1,3000 do t[i]=1 end local s = string.rep(cmsgpack.pack(unpack(t)), 2) .. string.rep('\1', 1998) return select('#', cmsgpack.unpack(s))
local t = {} for i=1,3000 do t[i]=1 end local s = string.rep(cmsgpack.pack(unpack(t)), 2) .. string.rep('\1', 1999) return select('#', cmsgpack.unpack(s))
return select('#', cmsgpack.unpack(string.rep('\145', 3998) .. '\1'))
return select('#', cmsgpack.unpack(string.rep('\145', 3999) .. '\1'))
return select('#', cmsgpack.unpack(string.rep('\145', 4000) .. '\1'))
return select('#', cmsgpack.unpack(string.rep('\129\1', 3998) .. '\1'))
return select('#', cmsgpack.unpack(string.rep('\129\1', 4000) .. '\1'))
return select('#', cmsgpack.unpack(string.rep('\129\145', 2000) .. '\1'))
return select('#', cmsgpack.unpack(string.rep('\145', 100000) .. '\1'))
--# unpack_one / unpack_limit
return cmsgpack.unpack_one('\1\2\3')
return select(2, cmsgpack.unpack_one('\1\2\3'))
return select('#', cmsgpack.unpack_one('\1\2\3'))
return cmsgpack.unpack_one('\1\2\3', 1)
return select(2, cmsgpack.unpack_one('\1\2\3', 1))
return cmsgpack.unpack_one('\1\2\3', 2)
return select(2, cmsgpack.unpack_one('\1\2\3', 2))
return cmsgpack.unpack_one('\1\2\3', 3)
return select('#', cmsgpack.unpack_one('\1\2\3', 3))
return cmsgpack.unpack_one('\1\2\3', 4)
return cmsgpack.unpack_one('\1\2\3', -1)
return cmsgpack.unpack_one('\1\2\3', 'x')
return cmsgpack.unpack_one('\1\2\3', '1')
return cmsgpack.unpack_one('\1\2\3', 1.9)
return cmsgpack.unpack_one('\1\2\3', nil)
return cmsgpack.unpack_one('')
return select('#', cmsgpack.unpack_one(''))
return cmsgpack.unpack_one()
return cmsgpack.unpack_one(nil, 1)
return cmsgpack.unpack_one('\147\1')
return cmsgpack.unpack_limit('\1\2\3', 2)
return select('#', cmsgpack.unpack_limit('\1\2\3', 2))
return select(3, cmsgpack.unpack_limit('\1\2\3', 2))
return cmsgpack.unpack_limit('\1\2\3', 3)
return cmsgpack.unpack_limit('\1\2\3', 10)
return select('#', cmsgpack.unpack_limit('\1\2\3', 10))
return cmsgpack.unpack_limit('\1\2\3', 0)
return select('#', cmsgpack.unpack_limit('\1\2\3', 0))
return cmsgpack.unpack_limit('\1\2\3', 0, 1)
return select('#', cmsgpack.unpack_limit('\1\2\3', 0, 1))
return cmsgpack.unpack_limit('\1\2\3', 2, 1)
return select(3, cmsgpack.unpack_limit('\1\2\3', 2, 1))
return cmsgpack.unpack_limit('\1\2\3', -1)
return cmsgpack.unpack_limit('\1\2\3', 1, -5)
return cmsgpack.unpack_limit('\1\2\3', 1, 2^32 + 1)
return cmsgpack.unpack_limit('\1\2\3', 1, 9)
return cmsgpack.unpack_limit('\1\2\3')
return cmsgpack.unpack_limit('\1\2\3', 'x')
return cmsgpack.unpack_limit('\1\2\3', 1, 'x')
return cmsgpack.unpack_limit('\1\2', 2^40)
return select('#', cmsgpack.unpack_limit('\1\2', 2^40))
return cmsgpack.unpack_limit('\1\2\3\4', 2, 3)
return select('#', cmsgpack.unpack_limit('\1\2\3\4', 2, 3))
--# module
return cmsgpack._VERSION
return cmsgpack._COPYRIGHT
return cmsgpack._DESCRIPTION
return cmsgpack._NAME
local r = {} for k in pairs(cmsgpack) do r[#r+1] = k end return table.concat(r, ',')
local r = {} for k in pairs(bit) do r[#r+1] = k end return table.concat(r, ',')
local r = {} for k in pairs(struct) do r[#r+1] = k end return table.concat(r, ',')
local r = {} for k in pairs(cjson) do r[#r+1] = k end return table.concat(r, ',')
return tostring(cjson.null)
"#;

const CJSON_CASES: &str = r#"
--# encode scalars
return cjson.encode(1)
return cjson.encode(-1)
return cjson.encode(0.1)
return cjson.encode(1/3)
return cjson.encode(-0.0)
return cjson.encode(1e15)
return cjson.encode(1e16)
return cjson.encode(123456789012345)
return cjson.encode(1234567890123456)
return cjson.encode(2^53)
return cjson.encode(1e-5)
return cjson.encode(0.0001)
return cjson.encode(1e300)
return cjson.encode(5e-324)
return cjson.encode(1.7976931348623157e308)
return cjson.encode(100)
return cjson.encode(1e100)
return cjson.encode(0.5)
return cjson.encode(3.14159265358979)
return cjson.encode(1/0)
return cjson.encode(-1/0)
return cjson.encode(0/0)
return cjson.encode(true)
return cjson.encode(false)
return cjson.encode(nil)
return cjson.encode(cjson.null)
return cjson.encode('hello')
return cjson.encode('')
return cjson.encode('a"b\\c/d')
return cjson.encode('\0\1\2\3\4\5\6\7\8\9\10\11\12\13\14\15')
return cjson.encode('\16\17\18\19\20\21\22\23\24\25\26\27\28\29\30\31\127')
return hex(cjson.encode('\128\255\195\169\230\151\165'))
return cjson.encode(tostring)
return cjson.encode(coroutine.create(function() end))
return cjson.encode()
return cjson.encode(1, 2)
return cjson.encode(nil, nil)
local ok, e = pcall(cjson.encode) return e
--# encode tables
return cjson.encode({})
return cjson.encode({1, 2, 3})
return cjson.encode({'a', {'b', {'c'}}})
return cjson.encode({a=1})
return cjson.encode({a={b={c={}}}})
return cjson.encode({1, 2, nil, 4})
return cjson.encode({[1]=1, [3]=3})
return cjson.encode({[1]=1, [4]=4})
return cjson.encode({[10]=1})
return cjson.encode({[11]=1})
return cjson.encode({[1]=1, [2]=2, [5]=5, [6]=6, [12]=12})
return cjson.encode({[1]=1, [2]=2, [5]=5, [12]=12})
return cjson.encode({[0]=1})
return cjson.encode({[-1]=1})
return cjson.encode({[1.5]=1})
return cjson.encode({[2^40]=1})
return cjson.encode({[2^31]=1, [1]=2})
return cjson.encode({[true]=1})
return cjson.encode({[{}]=1})
return cjson.encode({a=tostring})
return cjson.encode({1, 2, x=3})
return cjson.encode({[1/0]=1})
return cjson.encode({f=1/0})
return cjson.encode({cjson.null, cjson.null})
return cjson.encode({[1]='a', ['1']='b'})
local t = {} t.x = t return cjson.encode(t)
local t = {} local c = t for i=1,999 do c[1] = {} c = c[1] end return #cjson.encode(t)
local t = {} local c = t for i=1,1000 do c[1] = {} c = c[1] end return #cjson.encode(t)
local t = {} local c = t for i=1,999 do c.k = {} c = c.k end return #cjson.encode(t)
local t = {} local c = t for i=1,1000 do c.k = {} c = c.k end return #cjson.encode(t)
local t = {} for i=1,100 do t['key' .. i] = i end local s = cjson.encode(t) return #s
local t = {} for i=1,20 do t['k' .. i] = i end return cjson.encode(t)
local t = {b=1, a=2, c=3, d=4, e=5} return cjson.encode(t)
local t = {} for i=1,10 do t[i] = i end t[5] = nil return cjson.encode(t)
return cjson.encode({1, {2, {3, {4, {5}}}}, a={b={c='d'}}})
return cjson.encode({['a"b']=1})
return cjson.encode({[' ']={}})
--# decode
return cjson.encode(cjson.decode('[1,2,3]'))
return cjson.encode(cjson.decode('{"a":1,"b":[true,false,null]}'))
return cjson.decode('"abc"')
return cjson.decode('123')
return cjson.decode('-123.5e2')
return cjson.decode('  42  ')
return cjson.decode('\t\n\r 42')
return cjson.decode('1e400')
return cjson.decode('-1e400')
return cjson.decode('1e-400')
return cjson.decode('0.1')
return cjson.decode('123456789012345678901234567890')
return cjson.decode('0x10')
return cjson.decode('-0x10')
return cjson.decode('0x1p4')
return cjson.decode('0x1.8')
return cjson.decode('0xfffffffffffffffffff')
return cjson.decode('0x')
return cjson.decode('0xg')
return cjson.decode('+1')
return cjson.decode('+')
return cjson.decode('-')
return cjson.decode('-a')
return cjson.decode('01')
return cjson.decode('-01')
return cjson.decode('1.')
return cjson.decode('.5')
return cjson.decode('-.5')
return cjson.decode('1e')
return cjson.decode('1e+')
return cjson.decode('1E2')
return cjson.decode('inf')
return cjson.decode('-inf')
return cjson.decode('Infinity')
return cjson.decode('-Infinity')
return cjson.decode('infinit')
return cjson.decode('nan')
return cjson.decode('NaN')
return cjson.decode('-nan')
return cjson.decode('nan(123)')
return cjson.decode('nan(12')
return cjson.decode('nil')
return cjson.decode('true')
return cjson.decode('false')
return cjson.decode('null') == cjson.null
return cjson.decode('tru')
return cjson.decode('True')
return cjson.decode('nul')
return cjson.decode('')
return cjson.decode('   ')
return cjson.decode('x')
return cjson.decode('[1,]')
return cjson.decode('[1 2]')
return cjson.decode('[')
return cjson.decode(']')
return cjson.decode('{')
return cjson.decode('{"a"}')
return cjson.decode('{"a":}')
return cjson.decode('{"a":1,}')
return cjson.decode('{"a":1 "b":2}')
return cjson.decode('{1:2}')
return cjson.decode('{"a":1}}')
return cjson.decode('[1]x')
return type(cjson.decode('[1] '))
return cjson.decode('1 2')
return cjson.decode('"abc')
return cjson.decode('"ab\\')
return cjson.decode('"a\\qb"')
return cjson.decode('"\\"\\\\\\/\\b\\f\\n\\r\\t"') == '"\\/\b\f\n\r\t'
return cjson.decode('"\\u0041"')
return hex(cjson.decode('"\\u00e9"'))
return hex(cjson.decode('"\\u20AC"'))
return hex(cjson.decode('"\\uD83D\\uDE00"'))
return hex(cjson.decode('"\\ud83d\\ude00"'))
return hex(cjson.decode('"\\u0000"'))
return cjson.decode('"\\uD83D"')
return cjson.decode('"\\uD83Dx"')
return cjson.decode('"\\uD83D\\u0041"')
return cjson.decode('"\\uDE00"')
return cjson.decode('"\\u12"')
return cjson.decode('"\\u12G4"')
return cjson.decode('"\\uD83D\\uDE0"')
return hex(cjson.decode('"\195\169"'))
return cjson.decode('"a\0b"')
return cjson.decode('[1]\0garbage')[1]
return cjson.decode('\0[1]')
return cjson.decode('[\0')
return cjson.decode('a\0')
return cjson.decode('"\1\2"') == '\1\2'
return cjson.decode('"tab\there"')
return cjson.decode(123)
return cjson.decode()
return cjson.decode(nil)
return cjson.decode({})
return cjson.decode('1', '2')
return cjson.encode(cjson.decode('{"a":{"b":{"c":[1,{"d":null}]}}}'))
return cjson.encode(cjson.decode('[[],{},[[]],{"":{}}]'))
return cjson.decode('{"a":1,"a":2}').a
return cjson.encode(cjson.decode('{"1":"x"}'))
return cjson.encode(cjson.decode('[null,null]'))
local t = cjson.decode('[1,null,3]') return #t
local s = string.rep('[', 1000) .. string.rep(']', 1000) return #cjson.encode(cjson.decode(s))
local s = string.rep('[', 1001) .. string.rep(']', 1001) return cjson.decode(s)
local s = string.rep('{"a":', 1001) .. '1' .. string.rep('}', 1001) return cjson.decode(s)
local s = string.rep('{"a":', 1000) .. '1' .. string.rep('}', 1000) return type(cjson.decode(s))
return cjson.decode('[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[')
local s = '[' .. string.rep('1,', 10000) .. '1]' return #cjson.decode(s)
return cjson.encode(cjson.decode('{"k":[1,2,{"x":"y"}],"z":1.5}'))
--# round trips
return cjson.encode(cjson.decode(cjson.encode({1.5, 'x', {y=true}})))
return cjson.decode(cjson.encode('\0\31"\\/'))  == '\0\31"\\/'
return cjson.encode(cjson.decode('0.30000000000000004'))
return cjson.encode(cjson.decode('12345678901234567890'))
return cjson.encode(cjson.decode('-0'))
return cjson.encode(cjson.decode('1e-7'))
return cjson.encode(cjson.decode('123456.789e3'))
--# configuration (on fresh instances: settings persist in the oracle)
local c = cjson.new() return c.encode_max_depth()
local c = cjson.new() return c.decode_max_depth()
local c = cjson.new() return c.encode_number_precision()
local c = cjson.new() return c.encode_keep_buffer()
local c = cjson.new() return c.encode_invalid_numbers()
local c = cjson.new() return c.decode_invalid_numbers()
local c = cjson.new() return table.concat({tostring(c.encode_sparse_array())}, ',')
local c = cjson.new() local a, b, d = c.encode_sparse_array() return tostring(a) .. ',' .. b .. ',' .. d
local c = cjson.new() local a, b, d = c.encode_sparse_array(true) return tostring(a) .. ',' .. b .. ',' .. d
local c = cjson.new() local a, b, d = c.encode_sparse_array(true, 3, 20) return tostring(a) .. ',' .. b .. ',' .. d
local c = cjson.new() local a, b, d = c.encode_sparse_array('on') return tostring(a) .. ',' .. b .. ',' .. d
local c = cjson.new() local a, b, d = c.encode_sparse_array('off', 0) return tostring(a) .. ',' .. b .. ',' .. d
local c = cjson.new() return c.encode_sparse_array('bad')
local c = cjson.new() return c.encode_sparse_array(1)
local c = cjson.new() return c.encode_sparse_array(nil, -1)
local c = cjson.new() return c.encode_sparse_array(nil, 1, -1)
local c = cjson.new() return c.encode_sparse_array(nil, 'x')
local c = cjson.new() return c.encode_sparse_array(true, 1, 2, 3)
local c = cjson.new() c.encode_sparse_array(true) return c.encode({[20]=1})
local c = cjson.new() c.encode_sparse_array(false, 0) return c.encode({[20]=1})
local c = cjson.new() c.encode_sparse_array(false, 1) return c.encode({[1]=1, [2]=2, [3]=3})
local c = cjson.new() c.encode_sparse_array(false, 1, 0) return c.encode({[1]=1, [3]=3})
local c = cjson.new() c.encode_sparse_array(false, 3, 0) return c.encode({[1]=1, [3]=3})
local c = cjson.new() c.encode_sparse_array(false, 3, 0) return c.encode({[1]=1, [4]=3})
local c = cjson.new() c.encode_sparse_array(true, 2, 1) return c.encode({[1]=1, [3]=3, x=1})
local c = cjson.new() return c.encode_max_depth(5)
local c = cjson.new() c.encode_max_depth(2) return c.encode({{1}})
local c = cjson.new() c.encode_max_depth(2) return c.encode({{{1}}})
local c = cjson.new() c.encode_max_depth(1) return c.encode({a={}})
local c = cjson.new() return c.encode_max_depth(0)
local c = cjson.new() return c.encode_max_depth(-5)
local c = cjson.new() return c.encode_max_depth('x')
local c = cjson.new() return c.encode_max_depth('7')
local c = cjson.new() return c.encode_max_depth(7.9)
local c = cjson.new() return c.encode_max_depth(2^32 + 3)
local c = cjson.new() return c.encode_max_depth(2^31)
local c = cjson.new() return c.encode_max_depth(1, 2)
local c = cjson.new() return c.encode_max_depth(nil)
local c = cjson.new() c.encode_max_depth(100000) local t = {} local x = t for i=1,7990 do x[1] = {} x = x[1] end return #c.encode(t)
local c = cjson.new() c.encode_max_depth(100000) local t = {} local x = t for i=1,8000 do x[1] = {} x = x[1] end return #c.encode(t)
local c = cjson.new() c.encode_max_depth(100000) local t = {} local x = t for i=1,3990 do x.k = {} x = x.k end return #c.encode(t)
local c = cjson.new() c.encode_max_depth(100000) local t = {} local x = t for i=1,4000 do x.k = {} x = x.k end return #c.encode(t)
local c = cjson.new() c.encode_max_depth(100000) local t = {} local x = t for i=1,7996 do x[1] = {} x = x[1] end return #c.encode(t)
local c = cjson.new() c.encode_max_depth(100000) local t = {} local x = t for i=1,7997 do x[1] = {} x = x[1] end return #c.encode(t)
local c = cjson.new() c.encode_max_depth(100000) local t = {} local x = t for i=1,3998 do x.k = {} x = x.k end return #c.encode(t)
local c = cjson.new() c.encode_max_depth(100000) local t = {} local x = t for i=1,3999 do x.k = {} x = x.k end return #c.encode(t)
local c = cjson.new() return c.decode_max_depth(3)
local c = cjson.new() c.decode_max_depth(2) return #c.decode('[[1]]')
local c = cjson.new() c.decode_max_depth(2) return c.decode('[[[1]]]')
local c = cjson.new() c.decode_max_depth(1) return c.decode('{"a":{"b":1}}')
local c = cjson.new() c.decode_max_depth(100000) return #c.decode(string.rep('[', 7990) .. string.rep(']', 7990))
local c = cjson.new() c.decode_max_depth(100000) return #c.decode(string.rep('[', 7998) .. string.rep(']', 7998))
local c = cjson.new() c.decode_max_depth(100000) return #c.decode(string.rep('[', 7999) .. string.rep(']', 7999))
local c = cjson.new() c.decode_max_depth(100000) return #c.decode(string.rep('[', 8000) .. string.rep(']', 8000))
local c = cjson.new() c.decode_max_depth(100000) return type(c.decode(string.rep('{"a":', 3997) .. '1' .. string.rep('}', 3997)))
local c = cjson.new() c.decode_max_depth(100000) return type(c.decode(string.rep('{"a":', 3998) .. '1' .. string.rep('}', 3998)))
local c = cjson.new() c.decode_max_depth(100000) return type(c.decode(string.rep('{"a":', 3999) .. '1' .. string.rep('}', 3999)))
local c = cjson.new() c.decode_max_depth(100000) return type(c.decode(string.rep('{"a":', 4000) .. '1' .. string.rep('}', 4000)))
local c = cjson.new() return c.decode_max_depth(0)
local c = cjson.new() return c.encode_number_precision(3)
local c = cjson.new() c.encode_number_precision(3) return c.encode(1/3)
local c = cjson.new() c.encode_number_precision(1) return c.encode({0.15, 0.25, 0.35, 12345, 0.0001234})
local c = cjson.new() c.encode_number_precision(5) return c.encode({123456, 1.23456e-5, 99999.5, 0.1})
local c = cjson.new() c.encode_number_precision(14) return c.encode(2^53)
local c = cjson.new() return c.encode_number_precision(15)
local c = cjson.new() return c.encode_number_precision(0)
local c = cjson.new() c.encode_number_precision(2) return c.encode({[1.234]=1})
local c = cjson.new() return tostring(c.encode_keep_buffer(false))
local c = cjson.new() c.encode_keep_buffer(false) return c.encode({1, 'a', {b=2}})
local c = cjson.new() return tostring(c.encode_keep_buffer('off'))
local c = cjson.new() return tostring(c.encode_keep_buffer('on'))
local c = cjson.new() return c.encode_keep_buffer('yes')
local c = cjson.new() return c.encode_keep_buffer(1)
local c = cjson.new() return tostring(c.encode_invalid_numbers(true))
local c = cjson.new() return tostring(c.encode_invalid_numbers('null'))
local c = cjson.new() return tostring(c.encode_invalid_numbers('on'))
local c = cjson.new() return tostring(c.encode_invalid_numbers('off'))
local c = cjson.new() return c.encode_invalid_numbers('maybe')
local c = cjson.new() c.encode_invalid_numbers(true) return c.encode({1/0, -1/0, 0/0, -(0/0)})
local c = cjson.new() c.encode_invalid_numbers('null') return c.encode({1/0, -1/0, 0/0, 1})
local c = cjson.new() c.encode_invalid_numbers(true) return c.encode({[1/0]=1})
local c = cjson.new() c.encode_invalid_numbers('null') return c.encode({[1/0]=1})
local c = cjson.new() c.encode_invalid_numbers('null') return tostring(c.encode_invalid_numbers())
local c = cjson.new() return tostring(c.decode_invalid_numbers(false))
local c = cjson.new() c.decode_invalid_numbers(false) return c.decode('0x10')
local c = cjson.new() c.decode_invalid_numbers(false) return c.decode('-0x10')
local c = cjson.new() c.decode_invalid_numbers(false) return c.decode('01')
local c = cjson.new() c.decode_invalid_numbers(false) return c.decode('0')
local c = cjson.new() c.decode_invalid_numbers(false) return c.decode('-0.5')
local c = cjson.new() c.decode_invalid_numbers(false) return c.decode('+1')
local c = cjson.new() c.decode_invalid_numbers(false) return c.decode('inf')
local c = cjson.new() c.decode_invalid_numbers(false) return c.decode('-inf')
local c = cjson.new() c.decode_invalid_numbers(false) return c.decode('nan')
local c = cjson.new() c.decode_invalid_numbers(false) return c.decode('[1, NaN]')
local c = cjson.new() c.decode_invalid_numbers(false) return c.decode('1e5')
local c = cjson.new() return c.decode_invalid_numbers('null')
local c = cjson.new() local d = c.new() c.encode_number_precision(2) return c.encode(1/3) .. ' ' .. d.encode(1/3) .. ' ' .. cjson.encode(1/3)
local c = cjson.new() return c._NAME .. ' ' .. c._VERSION .. ' ' .. tostring(c.null == cjson.null)
local c = cjson.new() return tostring(c.encode == cjson.encode)
local c = cjson.new() local r = {} for k in pairs(c) do r[#r+1] = k end return table.concat(r, ',')
return cjson.new(1, 2, 3)._NAME
return cjson.encode_max_depth() .. cjson.decode_max_depth() .. cjson.encode_number_precision()
"#;
