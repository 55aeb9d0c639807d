//! Lua scripting, differentially: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT sent to
//! this server and to a real redis-server 7.0, replies compared byte for byte, most of
//! them in RESP2 and again after HELLO 3.
//!
//! Covered: every conversion rule between Lua values and RESP both ways (including the
//! RESP3 types a script sees after `redis.setresp(3)` and the Lua stack limit on deep
//! replies), errors raised by `redis.call` against those caught by `redis.pcall`, `pcall`
//! and `xpcall`, the error texts with their `script: <sha>, on @user_script:N.` suffix,
//! every `redis.*` helper, the sandbox, commands refused inside scripts, read-only
//! scripts and shebang flags, the SCRIPT subcommands, scripts inside MULTI, SELECT inside
//! a script, `math.random`'s sequence and the error statistics a failing script leaves.

mod common;

use common::{show, Pair};

/// Runs `text` through `check` in RESP2, then again after HELLO 3 (both servers), and
/// goes back to RESP2. The HELLO replies differ only in the connection id.
fn both_protocols(p: &mut Pair, text: &str) {
    p.script(text);
    let (a, b) = p.both("HELLO 3");
    assert!(a.starts_with(b"%") && b.starts_with(b"%"), "{}", show(&a));
    p.script(text);
    p.both("HELLO 2");
}

// ---------------------------------------------------------------------------------------
// Lua -> RESP

/// Script return values: numbers, strings, booleans, nil, arrays and the special tables.
const LUA_TO_RESP: &str = r##"
    EVAL "return 1" 0
    EVAL "return -1.9" 0
    EVAL "return 2.9" 0
    EVAL "return 0.5" 0
    EVAL "return -0.0" 0
    EVAL "return 1e20" 0
    EVAL "return -1e20" 0
    EVAL "return 0/0" 0
    EVAL "return 1/0" 0
    EVAL "return -1/0" 0
    EVAL "return 4294967297.7" 0
    EVAL "return 9007199254740993" 0
    EVAL "return 2^63" 0
    EVAL "return -2^63" 0
    EVAL "return '12'" 0
    EVAL "return 'hello'" 0
    EVAL "return ''" 0
    EVAL "return 'a\\0b'" 0
    EVAL "return true" 0
    EVAL "return false" 0
    EVAL "return nil" 0
    EVAL "return" 0
    EVAL "return 1, 2" 0
    EVAL "return {}" 0
    EVAL "return {1, 2.7, 'x', true, false, nil, 3}" 0
    EVAL "return {1, 2, 3, nil, 5}" 0
    EVAL "return {nil, 1}" 0
    EVAL "local t = {1, 2, 3} t[5] = 5 return t" 0
    EVAL "local t = {} t[1] = 1 t[2] = 2 t[4] = 4 return t" 0
    EVAL "return {[2] = 'b'}" 0
    EVAL "return {'a', x = 'y'}" 0
    EVAL "return {a = 1}" 0
    EVAL "return {1, {2, {3, 'x'}}, {}, 4}" 0
    EVAL "return {1.5, -0.5, -1.5, 2^31, 2^53, -2^63, 2^63, 0/0, 1/0}" 0
    EVAL "return {true, false, 'a'}" 0
    EVAL "return {ok = 'fine'}" 0
    EVAL "return {ok = ''}" 0
    EVAL "return {ok = 'a\\r\\nb'}" 0
    EVAL "return {ok = 'a\\0b'}" 0
    EVAL "return {ok = 5}" 0
    EVAL "return {ok = {}}" 0
    EVAL "return {err = 'MYERR custom'}" 0
    EVAL "return {err = 'no code here'}" 0
    EVAL "return {err = 'bad\\r\\nx'}" 0
    EVAL "return {err = 'E trailing\\r\\n'}" 0
    EVAL "return {err = '\\r\\nE leading'}" 0
    EVAL "return {err = 'E a\\0b'}" 0
    EVAL "return {err = ''}" 0
    EVAL "return {err = 5}" 0
    EVAL "return {err = {}}" 0
    EVAL "return {err = 'E first', ok = 'second'}" 0
    EVAL "return {1, {ok = 'x'}, {err = 'E nested'}, {double = 1.5}}" 0
    EVAL "return {double = 3.14}" 0
    EVAL "return {double = 10}" 0
    EVAL "return {double = '3.5'}" 0
    EVAL "return {double = 'abc'}" 0
    EVAL "return {double = {}}" 0
    EVAL "return {double = 0.1}" 0
    EVAL "return {double = -0.0}" 0
    EVAL "return {double = 1e300}" 0
    EVAL "return {double = 1e-300}" 0
    EVAL "return {double = 1e15}" 0
    EVAL "return {double = 1e16}" 0
    EVAL "return {double = 1e17}" 0
    EVAL "return {double = 2^63}" 0
    EVAL "return {double = 0.000001}" 0
    EVAL "return {double = 0.0000001}" 0
    EVAL "return {double = 123456789.123456789}" 0
    EVAL "return {double = 1/0}" 0
    EVAL "return {double = -1/0}" 0
    EVAL "return {double = 0/0}" 0
    EVAL "return {double = -(0/0)}" 0
    EVAL "return {big_number = '123456789012345678901234567890'}" 0
    EVAL "return {big_number = 12}" 0
    EVAL "return {big_number = ''}" 0
    EVAL "return {big_number = '1\\r\\n2'}" 0
    EVAL "return {verbatim_string = {format = 'txt', string = 'hello'}}" 0
    EVAL "return {verbatim_string = {format = 'markdown', string = 'hello'}}" 0
    EVAL "return {verbatim_string = {format = 't', string = 'hello'}}" 0
    EVAL "return {verbatim_string = {format = '', string = ''}}" 0
    EVAL "return {verbatim_string = {format = 'txt'}}" 0
    EVAL "return {verbatim_string = {format = 'txt', string = 1}}" 0
    EVAL "return {verbatim_string = {format = 1, string = 'x'}}" 0
    EVAL "return {verbatim_string = 'x'}" 0
    EVAL "return {map = {a = 1}}" 0
    EVAL "return {map = {}}" 0
    EVAL "return {map = {[1] = 'x'}}" 0
    EVAL "return {map = {[1.5] = 2}}" 0
    EVAL "return {map = {[true] = false}}" 0
    EVAL "return {map = {a = {1, 2}}}" 0
    EVAL "return {map = {a = true, b = false}}" 0
    EVAL "return {map = {a = 1, b = 2, c = 3, d = 4, e = 5}}" 0
    EVAL "return {map = {x = {ok = 'fine'}}}" 0
    EVAL "return {map = {x = {err = 'E bad'}}}" 0
    EVAL "return {map = {a = {map = {b = 1}}}}" 0
    EVAL "return {set = {a = true}}" 0
    EVAL "return {set = {}}" 0
    EVAL "return {set = {a = false}}" 0
    EVAL "return {set = {1, 2, 3}}" 0
    EVAL "return {set = {a = true, b = true, c = true}}" 0
    EVAL "return {set = {[{}] = true}}" 0
    EVAL "return function() end" 0
    EVAL "return coroutine.create(function() end)" 0
    EVAL "return {function() end, 1}" 0
"##;

#[test]
fn lua_values_to_resp() {
    let mut p = Pair::new();
    both_protocols(&mut p, LUA_TO_RESP);
}

/// After redis.setresp(3) booleans, nulls and doubles reply as RESP3 types to a RESP3
/// client and fall back to RESP2 forms for a RESP2 client.
const SETRESP3_REPLIES: &str = r##"
    EVAL "redis.setresp(3) return true" 0
    EVAL "redis.setresp(3) return false" 0
    EVAL "redis.setresp(3) return nil" 0
    EVAL "redis.setresp(3) return {true, false, 1, 'x'}" 0
    EVAL "redis.setresp(3) return {map = {a = true, b = false}}" 0
    EVAL "redis.setresp(3) return {set = {x = true}}" 0
    EVAL "redis.setresp(3) return {double = 1.5}" 0
    EVAL "redis.setresp(3) return {big_number = '1'}" 0
    EVAL "redis.setresp(2) return true" 0
    EVAL "redis.setresp(2) return false" 0
    EVAL "redis.setresp(3) redis.setresp(2) return {true, false}" 0
"##;

#[test]
fn setresp3_reply_types() {
    let mut p = Pair::new();
    both_protocols(&mut p, SETRESP3_REPLIES);
}

/// Replies nested deeper than the Lua stack allows end in "reached lua stack limit"
/// error elements where Redis puts them: arrays cost one stack slot per level, maps and
/// sets three; a table holding itself stops the same way. This server must neither
/// crash nor stop elsewhere.
#[test]
fn deep_replies_stop_at_the_lua_stack_limit() {
    with_big_stack(deep_replies);
}

/// Runs `f` on a thread with room for the harness's recursive parse of 8000 nested
/// replies.
fn with_big_stack(f: fn()) {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(f)
        .expect("thread")
        .join()
        .expect("test thread");
}

fn deep_replies() {
    let mut p = Pair::new();
    both_protocols(
        &mut p,
        r##"
        EVAL "local t = {} local c = t for i = 1, 1100 do c[1] = {} c = c[1] end return t" 0
        EVAL "local t = {} local c = t for i = 1, 7994 do c[1] = {} c = c[1] end return t" 0
        EVAL "local t = {} local c = t for i = 1, 7995 do c[1] = {} c = c[1] end return t" 0
        EVAL "local t = {} local c = t for i = 1, 20000 do c[1] = {} c = c[1] end return t" 0
        EVAL "local t = {} t[1] = t return t" 0
        EVAL "local t = {} local c = t for i = 1, 2700 do local n = {} c.map = {a = n} c = n end return t" 0
        EVAL "local t = {} local c = t for i = 1, 2700 do local n = {} c.set = {[n] = true} c = n end return t" 0
        EVAL "local t = {} local c = t for i = 1, 2500 do local n = {} c[1] = {map = {a = n}} c = n end return t" 0
        EVAL "local t = {} t.map = {k = t} return t" 0
        "##,
    );
    // The servers are still there.
    p.check("PING");
}

// ---------------------------------------------------------------------------------------
// RESP -> Lua

const RESP_TO_LUA: &str = r##"
    FLUSHALL
    SET k v
    SET n 10
    HSET h f1 v1 f2 v2
    SADD s a
    ZADD z 1.5 m
    RPUSH l a b c
    EVAL "return redis.call('type', KEYS[1]).ok" 1 k
    EVAL "return redis.call('type', KEYS[1])" 1 k
    EVAL "local r = redis.call('set', 'x', 1) return type(r) .. ':' .. tostring(r.ok)" 0
    EVAL "return redis.call('ping')" 0
    EVAL "return redis.call('get', 'k')" 0
    EVAL "return redis.call('get', 'nokey')" 0
    EVAL "return type(redis.call('get', 'nokey'))" 0
    EVAL "return tostring(redis.call('get', 'nokey'))" 0
    EVAL "return redis.call('incr', 'n')" 0
    EVAL "return type(redis.call('incr', 'n'))" 0
    EVAL "return redis.call('incrbyfloat', 'n', '0.5')" 0
    EVAL "return type(redis.call('strlen', 'k'))" 0
    EVAL "return redis.call('lrange', 'l', 0, -1)" 0
    EVAL "return #redis.call('lrange', 'l', 0, -1)" 0
    EVAL "return redis.call('hgetall', 'h')" 0
    EVAL "return redis.call('mget', 'k', 'nokey', 'k')" 0
    EVAL "local r = redis.call('mget', 'k', 'nokey', 'k') return {#r, type(r[2])}" 0
    EVAL "return redis.call('zscore', 'z', 'm')" 0
    EVAL "return type(redis.call('zscore', 'z', 'm'))" 0
    EVAL "return redis.call('lpop', 'nolist')" 0
    EVAL "return redis.call('blpop', 'nolist', 0) == false" 0
    EVAL "local r = redis.call('exists', 'k') return r + 1" 0
    EVAL "return redis.pcall('incr', 'k')" 0
    EVAL "local r = redis.pcall('incr', 'k') return {type(r), r.err}" 0
    EVAL "return redis.pcall('hget', 'k', 'f')" 0
    EVAL "return redis.call('scan', 0, 'match', 'nomatch*')" 0
    EVAL "return redis.call('smembers', 's')" 0
    EVAL "return redis.call('zrange', 'z', 0, -1, 'withscores')" 0
    EVAL "return redis.call('config', 'get', 'maxmemory')" 0
    EVAL "return redis.call('object', 'encoding', 'l')" 0
    EVAL "redis.setresp(3) return redis.call('hgetall', 'h')" 0
    EVAL "redis.setresp(3) local r = redis.call('hgetall', 'h') return {type(r.map), r.map.f1, r.map.f2}" 0
    EVAL "redis.setresp(3) return redis.call('smembers', 's')" 0
    EVAL "redis.setresp(3) local r = redis.call('smembers', 's') return {type(r.set), tostring(r.set.a)}" 0
    EVAL "redis.setresp(3) return redis.call('zscore', 'z', 'm')" 0
    EVAL "redis.setresp(3) local r = redis.call('zscore', 'z', 'm') return {tostring(r.double), r.double * 2}" 0
    EVAL "redis.setresp(3) return redis.call('zrange', 'z', 0, -1, 'withscores')" 0
    EVAL "redis.setresp(3) return redis.call('get', 'nokey')" 0
    EVAL "redis.setresp(3) return type(redis.call('get', 'nokey'))" 0
    EVAL "redis.setresp(3) return redis.call('lpop', 'nolist')" 0
    EVAL "redis.setresp(3) return redis.call('mget', 'k', 'nokey', 'k')" 0
    EVAL "redis.setresp(3) local r = redis.call('mget', 'k', 'nokey', 'k') return #r" 0
    EVAL "redis.setresp(3) local r = redis.call('mget', 'nokey', 'k') return {#r, r[2]}" 0
    EVAL "redis.setresp(3) return {1, redis.call('get', 'nokey'), 3}" 0
    EVAL "redis.setresp(3) return redis.call('config', 'get', 'maxmemory')" 0
    EVAL "redis.setresp(3) return redis.call('config', 'get', 'maxmemory').map.maxmemory" 0
    EVAL "redis.setresp(3) return redis.call('exists', 'k')" 0
    EVAL "redis.setresp(3) return redis.call('type', 'k')" 0
    EVAL "redis.setresp(3) return redis.call('info', 'nosuchsection')" 0
    EVAL "redis.setresp(3) local r = redis.call('info', 'nosuchsection') return {type(r.verbatim_string), r.verbatim_string.format, r.verbatim_string.string}" 0
    EVAL "redis.setresp(3) return redis.pcall('incr', 'k')" 0
    EVAL "redis.setresp(2) return redis.call('zscore', 'z', 'm')" 0
    EVAL "redis.setresp(2) return redis.call('hgetall', 'h')" 0
"##;

#[test]
fn command_replies_to_lua() {
    let mut p = Pair::new();
    both_protocols(&mut p, RESP_TO_LUA);
}

// ---------------------------------------------------------------------------------------
// Errors

const ERRORS: &str = r##"
    FLUSHALL
    SET str v
    EVAL "return redis.call('incr', 'str')" 0
    EVAL "return redis.pcall('incr', 'str')" 0
    EVAL "local r = redis.pcall('incr', 'str') return r.err" 0
    EVAL "local r = redis.pcall('incr', 'str') return type(r)" 0
    EVAL "return redis.call('hget', 'str', 'f')" 0
    EVAL "return redis.pcall('hget', 'str', 'f')" 0
    EVAL "local ok, e = pcall(redis.call, 'incr', 'str') return {tostring(ok), e}" 0
    EVAL "local ok, e = pcall(redis.call, 'incr', 'str') return type(e)" 0
    EVAL "local ok, e = pcall(function() return redis.call('incr', 'str') end) return {tostring(ok), type(e), e}" 0
    EVAL "local ok, e = xpcall(function() return redis.call('incr', 'str') end, function(m) return m end) return {tostring(ok), type(e)}" 0
    EVAL "local ok, e = xpcall(function() return redis.call('incr', 'str') end, function(m) return m end) return e" 0
    EVAL "local ok, e = xpcall(function() error('boom') end, function(m) return m end) return e" 0
    EVAL "return {xpcall(function() error('x') end, function(e) return 'h:' .. e end)}" 0
    EVAL "return {xpcall(function() error({err = 'T'}) end, function(e) return type(e) end)}" 0
    EVAL "return {xpcall(function() redis.call('nosuch') end, function(e) return e.err end)}" 0
    EVAL "return {xpcall(function() return 1, 2 end, function(e) return e end)}" 0
    EVAL "return {pcall(redis.call, 'nosuch')}" 0
    EVAL "return {pcall(redis.pcall, 'nosuch')}" 0
    EVAL "return {pcall(function() return 1, 2 end)}" 0
    EVAL "return {pcall(error)}" 0
    EVAL "local ok, e = pcall(error, 'boom') return e" 0
    EVAL "local ok, e = pcall(error, {err = 'x'}) return {type(e), e}" 0
    EVAL "local ok, e = pcall(error, {1}) return type(e)" 0
    EVAL "local ok, e = pcall(function() error({err = 'E1', x = 1}) end) return e" 0
    EVAL "local ok, e = pcall(function() error(redis.error_reply('E2 x')) end) return e" 0
    EVAL "local ok, e = pcall(string.rep) return e" 0
    EVAL "local ok, e = pcall(loadstring, 'x =') return {tostring(ok), e}" 0
    EVAL "return {pcall(redis.setresp, 5)}" 0
    EVAL "redis.pcall('incr', 'str') return 'went on'" 0
    EVAL "pcall(redis.call, 'incr', 'str') return 'went on'" 0
    EVAL "error('boom')" 0
    EVAL "error('boom', 0)" 0
    EVAL "error('boom', 2)" 0
    EVAL "error({err = 'MYERR custom'})" 0
    EVAL "error({err = 'custom no code'})" 0
    EVAL "error(redis.error_reply('CODE from helper'))" 0
    EVAL "error(nil)" 0
    EVAL "error(5)" 0
    EVAL "error()" 0
    EVAL "local t = nil return t.x" 0
    EVAL "\n\nlocal t = nil\nreturn t.x" 0
    EVAL "return 1 + {}" 0
    EVAL "return #nil" 0
    EVAL "return ('x'):bad()" 0
    EVAL "local function f()\n  return redis.call('incr', 'str')\nend\nlocal function g()\n  return f()\nend\nreturn g()" 0
    EVAL "local function f()\n  local x = redis.call('incr', 'str')\n  return x\nend\nlocal y = f()\nreturn y" 0
    EVAL "local function f()\n  error('deep')\nend\nreturn f()" 0
    EVAL "local function f()\n  error('deep')\nend\nlocal r = f()\nreturn r" 0
    EVAL "local function f()\n  error({err = 'TBL deep'})\nend\nf()" 0
    EVAL "local f = loadstring('return redis.call(\"incr\", \"str\")') return f()" 0
    EVAL "local f = loadstring('\\n\\nerror(\"in chunk\")') return f()" 0
    EVAL "local f = loadstring('\\n\\nerror(\"in chunk\")') local r = f() return r" 0
    EVAL "local f = loadstring('x = =') return f" 0
    EVAL "local f, e = loadstring('x = =') return e" 0
    EVAL "local f, e = loadstring('return 1', 'name') return f()" 0
    EVAL "local f = loadstring('local t = nil return t.x', 'named') return f()" 0
    EVAL "local f = loadstring('local t = nil return t.x', '@file.lua') local r = f() return r" 0
    EVAL "local co = coroutine.create(function() error('in co') end) local ok, v = coroutine.resume(co) return {tostring(ok), v}" 0
    EVAL "local co = coroutine.create(function() return redis.call('incr', 'str') end) local ok, v = coroutine.resume(co) return {tostring(ok), type(v)}" 0
    EVAL "local co = coroutine.create(function() redis.call('set', 'co', '1') return 5 end) local ok, v = coroutine.resume(co) return {tostring(ok), v}" 0
    EVAL "return coroutine.wrap(function() coroutine.yield(1) end)()" 0
    EVAL "return redis.call('nosuchcmd')" 0
    EVAL "return redis.pcall('nosuchcmd')" 0
    EVAL "return redis.call('get')" 0
    EVAL "return redis.pcall('get')" 0
    EVAL "return redis.call('set', 'k')" 0
    EVAL "return redis.call()" 0
    EVAL "return redis.pcall()" 0
    EVAL "return redis.call({})" 0
    EVAL "return redis.call(1)" 0
    EVAL "return redis.call('select', 99)" 0
    EVAL "return redis.pcall('select', 'x')" 0
    EVAL "return 1 +" 0
    EVAL "local" 0
    EVAL "return 'unfinished" 0
    EVAL "x = [[" 0
    EVAL "\n\n\nreturn nil +" 0
    EVAL "" 0
    EVAL " " 0
"##;

#[test]
fn errors_raised_and_caught() {
    let mut p = Pair::new();
    both_protocols(&mut p, ERRORS);
}

// ---------------------------------------------------------------------------------------
// redis.* helpers and argument conversion

const HELPERS: &str = r##"
    EVAL "return redis.REDIS_VERSION" 0
    EVAL "return redis.REDIS_VERSION_NUM" 0
    EVAL "return redis.sha1hex('')" 0
    EVAL "return redis.sha1hex('abc')" 0
    EVAL "return redis.sha1hex(123)" 0
    EVAL "return redis.sha1hex(1.5)" 0
    EVAL "return redis.sha1hex({})" 0
    EVAL "return redis.sha1hex(nil)" 0
    EVAL "return redis.sha1hex()" 0
    EVAL "return redis.sha1hex('a', 'b')" 0
    EVAL "return redis.error_reply('MY error')" 0
    EVAL "return redis.error_reply('-MY error')" 0
    EVAL "return redis.error_reply('noerrcode')" 0
    EVAL "return redis.error_reply('')" 0
    EVAL "return redis.error_reply('E a\\0b')" 0
    EVAL "return redis.error_reply('E a\\r\\nb')" 0
    EVAL "return redis.error_reply()" 0
    EVAL "return redis.error_reply(1)" 0
    EVAL "return redis.error_reply('a', 'b')" 0
    EVAL "return type(redis.error_reply('x'))" 0
    EVAL "return redis.error_reply('x').err" 0
    EVAL "return redis.status_reply('FINE')" 0
    EVAL "return redis.status_reply('')" 0
    EVAL "return redis.status_reply('a\\0b')" 0
    EVAL "return redis.status_reply('a\\nb')" 0
    EVAL "return redis.status_reply()" 0
    EVAL "return redis.status_reply(1)" 0
    EVAL "return redis.status_reply('a', 'b')" 0
    EVAL "return redis.status_reply('x').ok" 0
    EVAL "redis.log(redis.LOG_WARNING, 'diff_scripting says hello')" 0
    EVAL "return redis.log(redis.LOG_NOTICE, 'a', 'b', 3)" 0
    EVAL "redis.log(redis.LOG_DEBUG, 'x', {}, 'y')" 0
    EVAL "redis.log(redis.LOG_WARNING)" 0
    EVAL "redis.log()" 0
    EVAL "redis.log('x', 'y')" 0
    EVAL "redis.log('2', 'y')" 0
    EVAL "redis.log(7, 'y')" 0
    EVAL "redis.log(-1, 'y')" 0
    EVAL "return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}" 0
    EVAL "return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}" 0
    EVAL "redis.set_repl(redis.REPL_ALL)" 0
    EVAL "return redis.set_repl(redis.REPL_NONE)" 0
    EVAL "redis.set_repl(99)" 0
    EVAL "redis.set_repl(-1)" 0
    EVAL "redis.set_repl()" 0
    EVAL "redis.set_repl(1, 2)" 0
    EVAL "redis.set_repl('x')" 0
    EVAL "return redis.replicate_commands()" 0
    EVAL "return redis.breakpoint()" 0
    EVAL "return redis.debug('x')" 0
    EVAL "return redis.setresp(3)" 0
    EVAL "redis.setresp(4)" 0
    EVAL "redis.setresp()" 0
    EVAL "redis.setresp('3') return true" 0
    EVAL "redis.setresp(2, 3)" 0
    EVAL "redis.setresp('x')" 0
    EVAL "redis.setresp(3.9) return true" 0
    EVAL "redis.setresp(2.5)" 0
    EVAL "return redis.acl_check_cmd('get', 'x')" 0
    EVAL "return redis.acl_check_cmd('set', 'x', 'y')" 0
    EVAL "return redis.acl_check_cmd('get')" 0
    EVAL "return redis.acl_check_cmd('config', 'get', 'x')" 0
    EVAL "return redis.acl_check_cmd('nosuch')" 0
    EVAL "return redis.acl_check_cmd('config', 'nosub')" 0
    EVAL "return redis.acl_check_cmd()" 0
    EVAL "return redis.acl_check_cmd({})" 0
"##;

#[test]
fn redis_helpers() {
    let mut p = Pair::new();
    both_protocols(&mut p, HELPERS);
}

const ARGUMENTS: &str = r##"
    FLUSHALL
    EVAL "redis.call('set', 'num', 3.14159265358979) return redis.call('get', 'num')" 0
    EVAL "redis.call('set', 'num', 0.1) return redis.call('get', 'num')" 0
    EVAL "redis.call('set', 'num', 1e20) return redis.call('get', 'num')" 0
    EVAL "redis.call('set', 'num', 1/0) return redis.call('get', 'num')" 0
    EVAL "redis.call('set', 'num', -1/0) return redis.call('get', 'num')" 0
    EVAL "redis.call('set', 'num', 0/0) return redis.call('get', 'num')" 0
    EVAL "redis.call('set', 'num', 100) return redis.call('get', 'num')" 0
    EVAL "redis.call('set', 'num', -0.0) return redis.call('get', 'num')" 0
    EVAL "redis.call('set', 'num', 123456789012345678) return redis.call('get', 'num')" 0
    EVAL "redis.call('set', 'num', 2^53) return redis.call('get', 'num')" 0
    EVAL "redis.call('set', 'num', 1/3) return redis.call('get', 'num')" 0
    EVAL "return redis.call('incrby', 'cnt', 1.5)" 0
    EVAL "return redis.call('incrby', 'cnt', 2)" 0
    EVAL "return redis.pcall('incrby', 'cnt', 'x')" 0
    EVAL "return redis.call('get', {})" 0
    EVAL "return redis.pcall('get', {})" 0
    EVAL "return redis.call('get', nil)" 0
    EVAL "return redis.call('get', true)" 0
    EVAL "return redis.call('get', function() end)" 0
    EVAL "return redis.call('set', 'bin', ARGV[1])" 0 "a\x00b\xff"
    EVAL "return redis.call('get', 'bin')" 0
    EVAL "return #redis.call('get', 'bin')" 0
    EVAL "return redis.call('set', 'a\\0b', 'v')" 0
    EVAL "return redis.call('get', 'a\\0b')" 0
    EVAL "return ARGV[1]" 0 "a\x00b"
    EVAL "return #ARGV[1]" 0 "a\x00b\xff"
    EVAL "return #KEYS" 0
    EVAL "return {KEYS, ARGV}" 2 a b c d
    EVAL "return {#KEYS, #ARGV}" 2 a b c d
    EVAL "return {KEYS[1], ARGV[1]}" 0 a
    EVAL "return type(KEYS[1])" 1 5
    EVAL "return KEYS[3]" 2 a b
    EVAL "KEYS[1] = 'x' return KEYS" 1 a
    EVAL "ARGV[5] = 'x' return ARGV" 0 a
    EVAL "return {KEYS, ARGV}" 0
    EVAL "KEYS = 1" 0
    EVAL "return 1"
    EVAL "return 1" x
    EVAL "return 1" -1
    EVAL "return 1" 2 a
    EVAL "return 1" 1.5 a
    EVAL "return 1" 99999999999999999999 a
    EVAL "return KEYS" 1
    EVAL "return KEYS" 1 onlykey
    EVAL
"##;

#[test]
fn arguments_keys_and_argv() {
    let mut p = Pair::new();
    both_protocols(&mut p, ARGUMENTS);
}

/// More keys and arguments than Lua's C stack holds (8000 slots): Redis fills KEYS and
/// ARGV one element at a time, so any count works.
#[test]
fn many_keys_and_arguments() {
    let mut p = Pair::new();
    let names: Vec<Vec<u8>> = (0..20_000).map(|i| format!("a{i}").into_bytes()).collect();
    let scripts: [&[u8]; 3] = [
        b"return {#KEYS, #ARGV, KEYS[1], ARGV[#ARGV]}",
        b"return redis.call('MSET', unpack(ARGV, 1, 7000))",
        b"return redis.call('EXISTS', unpack(KEYS, 1, 7000))",
    ];
    let numkeys: [&[u8]; 3] = [b"12000", b"0", b"20000"];
    for (numkeys, script) in numkeys.into_iter().zip(scripts) {
        let mut args: Vec<&[u8]> = vec![b"EVAL", script, numkeys];
        args.extend(names.iter().map(|n| n.as_slice()));
        let (ours, redis) = p.both_args(&args);
        assert_eq!(
            show(&ours),
            show(&redis),
            "{}",
            String::from_utf8_lossy(script)
        );
    }
}

// ---------------------------------------------------------------------------------------
// Sandbox

const SANDBOX: &str = r##"
    EVAL "x = 1" 0
    EVAL "function f() return 1 end" 0
    EVAL "return undefined_global" 0
    EVAL "return tostring(rawget(_G, 'nope'))" 0
    EVAL "rawset(_G, 'x', 1)" 0
    EVAL "_G.x = 1" 0
    EVAL "_G['x'] = 1" 0
    EVAL "local f = loadstring('y = 1') f()" 0
    EVAL "local f = loadstring('return undefined_g') return f()" 0
    EVAL "local f = loadstring('return KEYS[1]') return f()" 1 kk
    EVAL "local f = loadstring('return _G == ...') return tostring(f(_G))" 0
    EVAL "local f = loadstring('return redis.call(\"ping\")') return f()" 0
    EVAL "local x = 1 x = 2 return x" 0
    EVAL "local function f() return 1 end return f()" 0
    EVAL "string.foo = 1" 0
    EVAL "math.floor = nil" 0
    EVAL "table.insert = 1" 0
    EVAL "coroutine.x = 1" 0
    EVAL "redis.call = 1" 0
    EVAL "redis.x = 1" 0
    EVAL "rawset(string, 'x', 1)" 0
    EVAL "rawset(math, 'x', 1)" 0
    EVAL "rawset(redis, 'x', 1)" 0
    EVAL "setmetatable(_G, {})" 0
    EVAL "setmetatable(string, {})" 0
    EVAL "setmetatable(redis, {})" 0
    EVAL "return type(setmetatable({}, {}))" 0
    EVAL "return type(getmetatable(_G))" 0
    EVAL "local m = getmetatable(_G) local t = {} for k, v in pairs(m) do t[#t + 1] = k .. '=' .. type(v) end return t" 0
    EVAL "getmetatable(_G).__index = nil" 0
    EVAL "getmetatable(_G).x = 1" 0
    EVAL "rawset(getmetatable(_G), 'x', 1)" 0
    EVAL "return tostring(getmetatable(_G).__newindex)" 0
    EVAL "return type(getmetatable(redis))" 0
    EVAL "return type(getmetatable(math))" 0
    EVAL "return type(getmetatable(string))" 0
    EVAL "return type(getmetatable(''))" 0
    EVAL "return getmetatable('').__index == string" 0
    EVAL "getmetatable('').__index = {}" 0
    EVAL "getmetatable('').__index.upper = nil" 0
    EVAL "rawset(getmetatable(''), '__index', {})" 0
    EVAL "getmetatable('').__index = {upper = function() return 'pwned' end}" 0
    EVAL "local s = 'abc' return s:upper()" 0
    EVAL "return ('x'):rep(3)" 0
    EVAL "return rawget(_G, 'redis') == redis" 0
    EVAL "return rawequal(_G, _G)" 0
    EVAL "return tostring(_G._G == _G)" 0
    EVAL "return #_G" 0
    EVAL "return next(_G) ~= nil" 0
    EVAL "local t = setmetatable({}, {__index = _G}) return type(t.redis)" 0
    EVAL "return type(os)" 0
    EVAL "return type(io)" 0
    EVAL "return type(print)" 0
    EVAL "return type(loadfile)" 0
    EVAL "return type(dofile)" 0
    EVAL "return type(setfenv)" 0
    EVAL "return type(getfenv)" 0
    EVAL "return type(newproxy)" 0
    EVAL "return type(debug)" 0
    EVAL "return type(require)" 0
    EVAL "return type(module)" 0
    EVAL "return type(package)" 0
    EVAL "return type(gcinfo)" 0
    EVAL "return type(collectgarbage)" 0
    EVAL "return type(load)" 0
    EVAL "return type(loadstring)" 0
    EVAL "return type(unpack)" 0
    EVAL "return _VERSION" 0
    EVAL "return type(_G)" 0
    EVAL "return type(__redis__err__handler)" 0
    EVAL "return type(string.dump)" 0
    EVAL "return type(table.getn)" 0
    EVAL "return type(string.gfind)" 0
    EVAL "return type(math.mod)" 0
    EVAL "return type(table.foreach)" 0
    EVAL "local t = {} for k in pairs(redis) do t[#t + 1] = k end table.sort(t) return t" 0
    EVAL "local t = {} for k in pairs(string) do t[#t + 1] = k end table.sort(t) return t" 0
    EVAL "local t = {} for k in pairs(math) do t[#t + 1] = k end table.sort(t) return t" 0
    EVAL "local t = {} for k in pairs(table) do t[#t + 1] = k end table.sort(t) return t" 0
    EVAL "local t = {} for k in pairs(coroutine) do t[#t + 1] = k end table.sort(t) return t" 0
    EVAL "return tostring(1e15)" 0
    EVAL "return tostring(0.1)" 0
    EVAL "return string.format('%.17g', 0.1)" 0
    EVAL "return tostring(2^63)" 0
    EVAL "return select('#', 1, 2, 3)" 0
"##;

#[test]
fn sandbox() {
    let mut p = Pair::new();
    both_protocols(&mut p, SANDBOX);
    // A script cannot leave anything behind for the next one.
    p.script(
        r##"
        EVAL "local s = 'abc' return s:upper()" 0
        EVAL "return tostring(rawget(_G, 'x'))" 0
        "##,
    );
}

/// Wrapped builtins fail with the builtin's own message, position and argument name.
const BUILTIN_ARGUMENT_ERRORS: &str = r##"
    EVAL "rawset(1, 2, 3)" 0
    EVAL "rawset()" 0
    EVAL "rawset({}, nil, 3)" 0
    EVAL "local x = rawget(1, 2)" 0
    EVAL "local x = rawget()" 0
    EVAL "local x = next(1)" 0
    EVAL "local x = next()" 0
    EVAL "local x = next({}, 'nokey')" 0
    EVAL "for k in pairs(nil) do end" 0
    EVAL "for k in pairs() do end" 0
    EVAL "return {pcall()}" 0
    EVAL "return {pcall(1)}" 0
    EVAL "local a, b = xpcall()" 0
    EVAL "local a, b = xpcall(function() end)" 0
    EVAL "return {xpcall(1, function(e) return e end)}" 0
    EVAL "return {xpcall(error, 1)}" 0
    EVAL "local f = loadstring()" 0
    EVAL "return loadstring(1)" 0
    EVAL "local f = load()" 0
    EVAL "local f = load(1)" 0
    EVAL "local a, b = coroutine.resume()" 0
    EVAL "local a, b = coroutine.resume(1)" 0
    EVAL "setmetatable(1, {})" 0
    EVAL "setmetatable({}, 1)" 0
    EVAL "setmetatable()" 0
    EVAL "local m = getmetatable()" 0
    EVAL "return tostring(getmetatable(1))" 0
"##;

#[test]
fn builtin_argument_errors() {
    let mut p = Pair::new();
    p.script(BUILTIN_ARGUMENT_ERRORS);
}

/// The same errors when the wrapped builtin is called in a tail call (`return f(...)`):
/// this server's stand-ins for those builtins are Lua functions, and a Lua tail call
/// drops the caller's frame, so the error has no position and points at `=(tail call)`.
#[test]
#[ignore = "known difference: argument errors of wrapped builtins called as `return f(...)`"]
fn builtin_argument_errors_in_tail_calls() {
    let mut p = Pair::new();
    p.script(
        r##"
        EVAL "return rawget(1, 2)" 0
        EVAL "return next()" 0
        EVAL "return next({}, 'nokey')" 0
        EVAL "return xpcall()" 0
        EVAL "return loadstring()" 0
        EVAL "return load(1)" 0
        EVAL "return coroutine.resume(1)" 0
        EVAL "return getmetatable()" 0
        "##,
    );
}

/// The exact global environment (pairs over _G sees cjson, bit, struct and cmsgpack in
/// Redis).
#[test]
fn global_list() {
    let mut p = Pair::new();
    p.script(
        r##"
        EVAL "local t = {} for k in pairs(_G) do t[#t + 1] = k end table.sort(t) return t" 0
        EVAL "local n = 0 for k, v in next, _G do n = n + 1 end return n" 0
        EVAL "return {type(cjson), type(bit), type(struct), type(cmsgpack)}" 0
        EVAL "return {type(getmetatable(cjson)), type(getmetatable(bit))}" 0
        EVAL "cjson.encode = nil" 0
        EVAL "rawset(cmsgpack, 'x', 1)" 0
        EVAL "setmetatable(struct, {})" 0
        EVAL "local t = {} for k in pairs(cjson) do t[#t + 1] = k end table.sort(t) return t" 0
        EVAL "local t = {} for k in pairs(bit) do t[#t + 1] = k end table.sort(t) return t" 0
        "##,
    );
}

// ---------------------------------------------------------------------------------------
// Commands refused inside scripts; read-only scripts; shebangs

const REFUSED: &str = r##"
    EVAL "return redis.call('blpop', 'l', 0)" 0
    EVAL "return redis.call('brpop', 'l', 0)" 0
    EVAL "return redis.call('blmove', 'a', 'b', 'left', 'left', 0)" 0
    EVAL "return redis.call('brpoplpush', 'a', 'b', 0)" 0
    EVAL "return redis.call('bzpopmin', 'z', 0)" 0
    EVAL "return redis.call('multi')" 0
    EVAL "return redis.call('exec')" 0
    EVAL "return redis.call('discard')" 0
    EVAL "return redis.call('watch', 'x')" 0
    EVAL "return redis.call('unwatch')" 0
    EVAL "return redis.call('subscribe', 'c')" 0
    EVAL "return redis.call('psubscribe', 'x')" 0
    EVAL "return redis.call('eval', 'return 1', 0)" 0
    EVAL "return redis.pcall('eval', 'return 1', 0)" 0
    EVAL "return redis.call('evalsha', 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db', 0)" 0
    EVAL "return redis.call('script', 'load', 'return 1')" 0
    EVAL "return redis.call('script', 'exists', 'x')" 0
    EVAL "return redis.call('script', 'kill')" 0
    EVAL "return redis.call('monitor')" 0
    EVAL "return redis.call('hello')" 0
    EVAL "return redis.call('auth', 'x')" 0
    EVAL "return redis.call('quit')" 0
    EVAL "return redis.call('reset')" 0
    EVAL "return redis.call('client', 'pause', 1)" 0
    EVAL "return redis.call('debug', 'sleep', 0)" 0
    EVAL "return redis.call('shutdown')" 0
    EVAL "return redis.call('publish', 'ch', 'm')" 0
    EVAL "return redis.call('spublish', 'ch', 'm')" 0
    EVAL "return redis.call('select', 1)" 0
    EVAL "return redis.call('config', 'set', 'maxmemory', '0')" 0
"##;

#[test]
fn commands_refused_in_scripts() {
    let mut p = Pair::new();
    both_protocols(&mut p, REFUSED);
}

const READ_ONLY: &str = r##"
    FLUSHALL
    EVAL "return redis.call('set', 'k', 'v')" 0
    EVAL_RO "return redis.call('set', 'k', 'v')" 0
    EVAL_RO "return redis.pcall('set', 'k', 'v')" 0
    EVAL_RO "return redis.call('get', 'k')" 0
    EVAL_RO "return redis.call('get', 'k')" 1 k
    EVAL_RO "return redis.call('del', 'k')" 0
    EVAL_RO "return redis.call('incr', 'k')" 0
    EVAL_RO "return redis.call('expire', 'k', 10)" 0
    EVAL_RO "return redis.call('publish', 'c', 'm')" 0
    EVAL_RO "return redis.call('spublish', 'c', 'm')" 0
    EVAL_RO "return redis.call('pfcount', 'h')" 0
    EVAL_RO "return redis.call('ttl', 'k')" 0
    EVAL_RO "#!lua\nreturn 1" 0
    EVAL_RO "#!lua flags=no-writes\nreturn redis.call('get', 'k')" 0
    EVAL_RO "return 1"
    EVAL "#!lua flags=no-writes\nreturn redis.call('set', 'k', 'v')" 0
    EVAL "#!lua flags=no-writes\nreturn redis.pcall('set', 'k', 'v')" 0
    EVAL "#!lua flags=no-writes\nreturn redis.call('get', 'k')" 0
    EVAL "#!lua flags=no-writes\nreturn redis.call('pfcount', 'h')" 0
    EVAL "#!lua flags=no-writes\nreturn redis.call('publish', 'c', 'm')" 0
    EVAL "return redis.call('pfcount', 'h')" 0
    EVAL "return redis.call('publish', 'c', 'm')" 0
    GET k
"##;

#[test]
fn read_only_scripts() {
    let mut p = Pair::new();
    both_protocols(&mut p, READ_ONLY);
    p.script(
        r##"
        "##,
    );
    let (a, b) = p.both("SCRIPT LOAD \"return redis.call('set', 'k', 'w')\"");
    assert_eq!(a, b);
    let sha = String::from_utf8_lossy(&a[a.len() - 42..a.len() - 2]).into_owned();
    p.check(&format!("EVALSHA_RO {sha} 0"));
    p.check(&format!("EVALSHA {sha} 0"));
    p.check("GET k");
}

const SHEBANGS: &str = r##"
    EVAL "#!lua\nreturn 1" 0
    EVAL "#!lua\n" 0
    EVAL "#!lua" 0
    EVAL "#!python" 0
    EVAL "#!" 0
    EVAL "#!\nreturn 1" 0
    EVAL "#!python\nreturn 1" 0
    EVAL "#!lua flags=no-writes,allow-oom\nreturn 1" 0
    EVAL "#!lua flags=allow-stale,no-cluster,allow-cross-slot-keys\nreturn 1" 0
    EVAL "#!lua flags=\nreturn 1" 0
    EVAL "#!lua flags=no-writes flags=allow-oom\nreturn 1" 0
    EVAL "#!lua  flags=no-writes\nreturn 1" 0
    EVAL "#!lua foo=bar\nreturn 1" 0
    EVAL "#!lua name=x\nreturn 1" 0
    EVAL "#!lua flags=bad\nreturn 1" 0
    EVAL "#!lua flags=no-writes,bad\nreturn 1" 0
    EVAL "#!lua flags=no-writes,\nreturn 1" 0
    EVAL "#!lua flags=,no-writes\nreturn 1" 0
    EVAL "#!lua flags=no-writes,,\nreturn 1" 0
    EVAL "#!lua flags=,\nreturn 1" 0
    EVAL "#!lua\nerror('x')" 0
    EVAL "#!lua\n\nreturn redis.call('incr', 'k')" 0
    EVAL "#!lua\nreturn 1 +" 0
    EVAL "#lua\nreturn 1" 0
    SCRIPT LOAD "#!lua\nreturn 2"
    SCRIPT LOAD "#!lua flags=no-writes\nreturn 3"
    SCRIPT LOAD "#!lua flags=bad\nreturn 3"
    SCRIPT LOAD "#!notlua\nreturn 3"
    SCRIPT LOAD "#!lua"
"##;

#[test]
fn shebangs() {
    let mut p = Pair::new();
    both_protocols(&mut p, SHEBANGS);
}

/// Over maxmemory (noeviction): a script without flags may run but its first command
/// that may grow memory is refused (unless it already wrote); a script with flags is
/// refused before it runs unless it allows OOM (no-writes implies it).
const OVER_MAXMEMORY: &str = r##"
    FLUSHALL
    SET k v
    CONFIG SET maxmemory 1
    EVAL "return redis.call('set', 'k2', 'v')" 0
    EVAL "return redis.pcall('set', 'k2', 'v')" 0
    EVAL "return redis.call('get', 'k')" 0
    EVAL "return redis.call('del', 'nokey')" 0
    EVAL "redis.call('del', 'nokey') return redis.call('set', 'k2', 'v')" 0
    EVAL "redis.call('get', 'k') return redis.call('set', 'k2', 'v')" 0
    EVAL "#!lua\nreturn redis.call('get', 'k')" 0
    EVAL "#!lua flags=allow-oom\nreturn redis.call('set', 'k3', 'v')" 0
    EVAL "#!lua flags=no-writes\nreturn redis.call('get', 'k')" 0
    EVAL "#!lua flags=no-writes\nreturn redis.call('set', 'q', '1')" 0
    EVAL_RO "#!lua\nreturn 1" 0
    EVAL_RO "return redis.call('get', 'k')" 0
    EVAL "return 1" 0
    SCRIPT LOAD "return 2"
    CONFIG SET maxmemory 0
    EVAL "#!lua\nreturn redis.call('get', 'k')" 0
"##;

#[test]
fn scripts_over_maxmemory() {
    let mut p = Pair::new();
    both_protocols(&mut p, OVER_MAXMEMORY);
}

// ---------------------------------------------------------------------------------------
// EVALSHA and SCRIPT

const SCRIPT_COMMANDS: &str = r##"
    SCRIPT FLUSH
    EVALSHA 0000000000000000000000000000000000000000 0
    EVALSHA abc 0
    EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0
    EVALSHA_RO e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0
    SCRIPT EXISTS e0e1f9fabfc9d4800c877a703b823ac0578ff8db
    EVAL "return 1" 0
    SCRIPT EXISTS e0e1f9fabfc9d4800c877a703b823ac0578ff8db
    EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0
    EVALSHA E0E1F9FABFC9D4800C877A703B823AC0578FF8DB 0
    EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8db x
    EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8db 5
    EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8db
    EVALSHA_RO e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0
    SCRIPT LOAD "return 'loaded'"
    SCRIPT LOAD "return 'loaded'"
    EVALSHA b534286061d4b9e4026607613b95c06c06015ae8 0
    SCRIPT LOAD "return 'loaded'" extra
    SCRIPT LOAD
    SCRIPT LOAD "return +"
    SCRIPT EXISTS e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0000000000000000000000000000000000000000 E0E1F9FABFC9D4800C877A703B823AC0578FF8DB short
    SCRIPT EXISTS
    SCRIPT HELP
    SCRIPT help
    SCRIPT HELP x
    SCRIPT KILL
    SCRIPT KILL x
    SCRIPT NOSUCH
    SCRIPT
    SCRIPT FLUSH badarg
    SCRIPT FLUSH sync extra
    SCRIPT FLUSH ASYNC
    SCRIPT EXISTS e0e1f9fabfc9d4800c877a703b823ac0578ff8db
    EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0
    EVAL "return 1" 0
    SCRIPT FLUSH SYNC
    SCRIPT EXISTS e0e1f9fabfc9d4800c877a703b823ac0578ff8db
    SCRIPT FLUSH sync
    SCRIPT DEBUG no
    SCRIPT DEBUG maybe
    SCRIPT DEBUG
"##;

#[test]
fn evalsha_and_script_subcommands() {
    let mut p = Pair::new();
    both_protocols(&mut p, SCRIPT_COMMANDS);
}

// ---------------------------------------------------------------------------------------
// Transactions and databases

const IN_MULTI: &str = r##"
    FLUSHALL
    MULTI
    EVAL "return redis.call('incr', 'c')" 0
    EVAL "return redis.call('incr', 'c')" 0
    EVAL "return redis.call('nosuch')" 0
    EVAL "error('x')" 0
    EVALSHA 0000000000000000000000000000000000000000 0
    SCRIPT LOAD "return 'inmulti'"
    EXEC
    MULTI
    EVAL "return 1"
    EVAL "return 2" 0
    EXEC
    MULTI
    EVAL "redis.call('select', 5) return 1" 0
    SET after v
    EXEC
    GET after
    GET c
    MULTI
    EVAL "return 1" x
    EVAL_RO "return redis.call('incr', 'c')" 0
    SCRIPT KILL
    EXEC
    GET c
    SET w 1
    WATCH w
    EVAL "return redis.call('set', 'w', 2)" 0
    MULTI
    GET w
    EXEC
    WATCH w
    MULTI
    EVAL "return redis.call('set', 'w', 3)" 0
    EXEC
    GET w
"##;

#[test]
fn eval_inside_multi_exec() {
    let mut p = Pair::new();
    both_protocols(&mut p, IN_MULTI);
}

const SELECT_IN_SCRIPT: &str = r##"
    FLUSHALL
    SELECT 0
    EVAL "redis.call('select', 3) redis.call('set', 'k', 'db3') return redis.call('get', 'k')" 0
    GET k
    SELECT 3
    GET k
    EVAL "return redis.call('get', 'k')" 0
    EVAL "redis.call('select', 0) return redis.call('get', 'k')" 0
    GET k
    EVAL "redis.call('select', 4) error('fails after select')" 0
    SET k3 v
    SELECT 4
    GET k3
    SELECT 0
"##;

#[test]
fn select_inside_a_script_does_not_leak() {
    let mut p = Pair::new();
    both_protocols(&mut p, SELECT_IN_SCRIPT);
}

/// Time stands still for a script: a key alive when it starts stays alive to its end,
/// and one it sets with a short PX too, however long it runs; they are gone after.
/// (Each server runs the whole sequence in turn: run side by side, the second server's
/// key would expire while the first runs its script.)
#[test]
fn keys_do_not_expire_during_a_script() {
    let mut p = Pair::new();
    let lines = [
        "SET fk v PX 300",
        "EVAL \"local a = redis.call('get', 'fk') redis.call('set', 'fk2', 'v', 'px', 5) \
         local t0 = redis.call('time') local t = t0 \
         repeat t = redis.call('time') until (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > 400000 \
         return {a, redis.call('get', 'fk'), redis.call('exists', 'fk'), \
         redis.call('get', 'fk2'), redis.call('exists', 'fk2')}\" 0",
        "GET fk",
        "EXISTS fk2",
    ];
    let ours: Vec<String> = lines.iter().map(|l| show(&p.a.cmd(l))).collect();
    let redis: Vec<String> = lines.iter().map(|l| show(&p.b.cmd(l))).collect();
    assert_eq!(ours, redis, "left: ours, right: redis-server");
}

/// PTTL inside a script: Redis 7.0 keeps the key (judged at the script's start) but
/// measures what is left against the real clock (a key set with PX 5 reads 0 after 20 ms).
#[test]
fn pttl_inside_a_script_uses_the_real_clock() {
    let mut p = Pair::new();
    p.check(
        "EVAL \"redis.call('set', 'fk', 'v', 'px', 5) local t0 = redis.call('time') local t = t0 \
         repeat t = redis.call('time') until (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > 20000 \
         return {redis.call('get', 'fk'), redis.call('pttl', 'fk')}\" 0",
    );
}

// ---------------------------------------------------------------------------------------
// math.random

/// math.random follows the same 48-bit sequence on both servers: from a fresh start, on
/// across scripts, and after math.randomseed.
#[test]
fn math_random_sequence_from_a_fresh_server() {
    // Nothing may run a script on these servers before this.
    let mut p = Pair::new();
    p.script(
        r##"
        EVAL "return {math.random(100), math.random(100), math.random(1, 6), tostring(math.random())}" 0
        EVAL "return {math.random(100), math.random(100)}" 0
        EVAL "local t = {} for i = 1, 50 do t[i] = math.random(1000000) end return t" 0
        EVAL "math.randomseed(42) return {math.random(100), math.random(100), tostring(math.random())}" 0
        EVAL "return {math.random(100), math.random(100)}" 0
        EVAL "math.randomseed(0) return math.random(100)" 0
        EVAL "math.randomseed(-7) return {math.random(), math.random(5, 9)}" 0
        EVAL "math.randomseed(2^40) return math.random(100)" 0
        EVAL "return math.random(-5, -1)" 0
        EVAL "return math.random(2147483647)" 0
        EVAL "return math.random(-2147483648, 2147483647)" 0
        EVAL "return math.random(-2147483648, 0)" 0
        EVAL "return math.random('5')" 0
        EVAL "return math.random(2.9)" 0
        EVAL "return math.random(0)" 0
        EVAL "return math.random(3, 1)" 0
        EVAL "return math.random(1, 2, 3)" 0
        EVAL "return math.random('x')" 0
        EVAL "math.randomseed()" 0
        EVAL "math.randomseed('x')" 0
        SCRIPT FLUSH
        EVAL "return math.random(1000)" 0
        "##,
    );
}

// ---------------------------------------------------------------------------------------
// Error statistics

/// The `cmdstat_<name>` line of INFO commandstats without its timings.
fn cmdstat(info: &[u8], name: &str) -> String {
    let text = String::from_utf8_lossy(info);
    let prefix = format!("cmdstat_{name}:");
    let Some(line) = text.lines().find(|l| l.starts_with(&prefix)) else {
        return format!("{name}: none");
    };
    line.split(',')
        .filter(|f| !f.contains("usec"))
        .collect::<Vec<_>>()
        .join(",")
}

/// A script failing with a command's error counts that error once (errorstats,
/// total_error_replies); errors a script returns or raises itself count as theirs; EVAL
/// counts as failed whenever its reply is an error.
#[test]
fn errorstats_after_failing_scripts() {
    with_big_stack(errorstats);
}

fn errorstats() {
    let mut p = Pair::new();
    let steps: &[&str] = &[
        "EVAL \"return redis.call('incr', 'str')\" 0",
        "EVAL \"return redis.pcall('incr', 'str')\" 0",
        "EVAL \"return redis.call('hget', 'str', 'f')\" 0",
        "EVAL \"local ok = pcall(redis.call, 'incr', 'str') return 1\" 0",
        "EVAL \"redis.pcall('incr', 'str') return 1\" 0",
        "EVAL \"return {err = 'MYERR x'}\" 0",
        "EVAL \"return redis.error_reply('OTHER y')\" 0",
        "EVAL \"return {1, {err = 'NESTED z'}, redis.pcall('incr', 'str')}\" 0",
        "EVAL \"return {redis.pcall('incr', 'str'), redis.pcall('incr', 'str')}\" 0",
        "EVAL \"return redis.call('nosuch')\" 0",
        "EVAL \"return redis.pcall('nosuch')\" 0",
        "EVAL \"error('x')\" 0",
        "EVAL \"error({err = 'RAISED r'})\" 0",
        "EVAL \"return redis.call('set', 'k')\" 0",
        "EVAL_RO \"return redis.call('set', 'k', 'v')\" 0",
        "EVAL \"return 1 +\" 0",
        "EVALSHA 0000000000000000000000000000000000000000 0",
        "EVAL \"local t = {} t[1] = t return t\" 0",
        "EVAL \"return {err = ''}\" 0",
        "EVAL \"return {err = 'NOSPACE'}\" 0",
        "EVAL \"return {err = 'AVERYLONGERRORCODEOFMORETHAN32CHARACTERS x'}\" 0",
        "EVAL \"return {err = ' leading space'}\" 0",
        "EVAL \"local ok = pcall(redis.call, 'nosuch') return 1\" 0",
        "EVAL \"local ok = pcall(redis.call, 'get') return 1\" 0",
        "EVAL \"local ok = pcall(redis.call, 'multi') return 1\" 0",
        "EVAL \"local ok = pcall(redis.call) return 1\" 0",
        "EVAL \"local ok = pcall(redis.call, {}) return 1\" 0",
        "EVAL_RO \"local ok = pcall(redis.call, 'set', 'k', 'v') return 1\" 0",
        "EVAL_RO \"return redis.pcall('publish', 'c', 'm')\" 0",
        "EVAL \"return redis.pcall('multi')\" 0",
    ];
    p.check("CONFIG RESETSTAT");
    p.check("SET str v");
    for step in steps {
        p.check(step);
        let (a, b) = p.both("INFO errorstats");
        assert_eq!(show(&a), show(&b), "INFO errorstats after {step}");
        let (a, b) = p.both("INFO commandstats");
        for name in [
            "eval", "eval_ro", "evalsha", "incr", "hget", "set", "get", "multi", "publish",
        ] {
            assert_eq!(
                cmdstat(&a, name),
                cmdstat(&b, name),
                "INFO commandstats after {step}"
            );
        }
        let (a, b) = p.both("INFO stats");
        let total = |info: &[u8]| {
            String::from_utf8_lossy(info)
                .lines()
                .find(|l| l.starts_with("total_error_replies:"))
                .map(str::to_string)
        };
        assert_eq!(total(&a), total(&b), "total_error_replies after {step}");
    }
}
