//! Conversions between RESP and Lua values, both ways, as Redis 7.0's script_lua.c
//! defines them: a command's reply becomes a Lua value for `redis.call`, and a script's
//! return value becomes the client's reply.

use std::ffi::c_int;

use mlua::{ffi, Lua, Table, Value};

use crate::protocol::ReplyBuf;

/// Lua number to integer as C's `(long long)` cast on x86-64: truncation, and
/// i64::MIN for NaN or anything out of range.
pub fn c_long_long(v: f64) -> i64 {
    if v.is_nan() || !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&v) {
        i64::MIN
    } else {
        v as i64
    }
}

/// A number argument of `redis.call` as Redis formats it (`%.17g`).
pub fn number_arg(v: f64) -> Vec<u8> {
    if v.is_nan() {
        return if v.is_sign_negative() {
            b"-nan".to_vec()
        } else {
            b"nan".to_vec()
        };
    }
    if v.is_infinite() {
        return if v > 0.0 {
            b"inf".to_vec()
        } else {
            b"-inf".to_vec()
        };
    }
    crate::util::format_g(v, 17).into_bytes()
}

/// The number in a Lua value (Lua 5.1 has only doubles; mlua reports whole ones as
/// integers).
fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => Some(*n),
        Value::Integer(i) => Some(*i as f64),
        _ => None,
    }
}

/// A Redis error text ("-CODE msg" or "msg") as luaPushErrorBuff words it: "CODE msg",
/// with a generic ERR code when there is none, trimmed of CR/LF and cut at a NUL.
pub fn error_text(text: &[u8]) -> Vec<u8> {
    let (code, msg): (&[u8], &[u8]) = match text.strip_prefix(b"-") {
        Some(rest) => match rest.iter().position(|&b| b == b' ') {
            Some(sp) => (&rest[..sp], &rest[sp + 1..]),
            None => (b"ERR", rest),
        },
        None => (b"ERR", text),
    };
    let msg = trim_crlf(msg);
    let mut full = Vec::with_capacity(code.len() + 1 + msg.len());
    full.extend_from_slice(code);
    full.push(b' ');
    full.extend_from_slice(msg);
    if let Some(n) = full.iter().position(|&b| b == 0) {
        full.truncate(n);
    }
    full
}

/// The `{err=...}` table of redis.pcall for an error text already worded by
/// [`error_text`] (or, if it starts with '-', worded here).
pub fn error_table(lua: &Lua, text: &[u8], counted: bool) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(0, 2)?;
    if text.first() == Some(&b'-') {
        t.raw_set("err", lua.create_string(error_text(text))?)?;
    } else {
        t.raw_set("err", lua.create_string(text)?)?;
    }
    if counted {
        t.raw_set("ignore_error_stats_update", true)?;
    }
    Ok(t)
}

fn trim_crlf(mut s: &[u8]) -> &[u8] {
    while let [b'\r' | b'\n', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b'\r' | b'\n'] = s {
        s = rest;
    }
    s
}

/// Pushes the reply at the start of `buf` onto the Lua stack for redis.call, as
/// redisProtocolToLuaType: `Ok(None)` when a value was pushed, `Ok(Some(text))` for an
/// error reply (its line, '-' included; nothing pushed). Push frames (`>`) before it are
/// skipped and their bytes appended to `pushed`. `resp3`: the reply may hold RESP3 nulls.
///
/// # Safety
/// `l` is a Lua state inside a C function call (see `call.rs` for the unwinding rules:
/// nothing here owns memory across a Lua API call).
pub unsafe fn push_reply<'b>(
    l: *mut ffi::lua_State,
    buf: &'b [u8],
    pushed: &mut Vec<u8>,
    resp3: bool,
) -> Result<Option<&'b [u8]>, Malformed> {
    let mut p = Parser { buf, pos: 0 };
    loop {
        match p.buf.get(p.pos) {
            Some(b'>') => {
                let start = p.pos;
                p.skip()?;
                pushed.extend_from_slice(&buf[start..p.pos]);
            }
            Some(b'-') => return Ok(Some(p.line()?)),
            _ => {
                p.push(l, resp3)?;
                return Ok(None);
            }
        }
    }
}

/// A reply that could not be read (never from our own commands; kept as an error).
#[derive(Debug)]
pub struct Malformed;

struct Parser<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn line(&mut self) -> Result<&'a [u8], Malformed> {
        let rest = &self.buf[self.pos..];
        let n = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or(Malformed)?;
        self.pos += n + 2;
        Ok(&rest[..n])
    }

    fn int(&mut self) -> Result<i64, Malformed> {
        crate::util::parse_i64(self.line()?).ok_or(Malformed)
    }

    fn bulk(&mut self, len: i64) -> Result<&'a [u8], Malformed> {
        let len = usize::try_from(len).map_err(|_| Malformed)?;
        let end = self.pos.checked_add(len).ok_or(Malformed)?;
        let s = self.buf.get(self.pos..end).ok_or(Malformed)?;
        self.pos = end + 2;
        Ok(s)
    }

    /// Skips one value (attributes, push frames).
    fn skip(&mut self) -> Result<(), Malformed> {
        let t = *self.buf.get(self.pos).ok_or(Malformed)?;
        self.pos += 1;
        match t {
            b'$' | b'=' | b'!' => {
                let n = self.int()?;
                if n >= 0 {
                    self.bulk(n)?;
                }
            }
            b'*' | b'~' | b'>' => {
                let n = self.int()?;
                for _ in 0..n.max(0) {
                    self.skip()?;
                }
            }
            b'%' | b'|' => {
                let n = self.int()?;
                for _ in 0..n.max(0) * 2 {
                    self.skip()?;
                }
            }
            _ => {
                self.line()?;
            }
        }
        Ok(())
    }

    /// Whether one of the next `n` values is a RESP3 null.
    fn any_null(&self, n: i64) -> Result<bool, Malformed> {
        let mut ahead = Parser {
            buf: self.buf,
            pos: self.pos,
        };
        for _ in 0..n {
            if ahead.buf.get(ahead.pos) == Some(&b'_') {
                return Ok(true);
            }
            ahead.skip()?;
        }
        Ok(false)
    }

    /// Pushes one value (a Lua nil for a RESP3 null).
    unsafe fn push(&mut self, l: *mut ffi::lua_State, resp3: bool) -> Result<(), Malformed> {
        // A table, a key and a value at each level of nesting.
        if ffi::lua_checkstack(l, 4) == 0 {
            return Err(Malformed);
        }
        let t = *self.buf.get(self.pos).ok_or(Malformed)?;
        self.pos += 1;
        match t {
            b'+' => {
                let s = self.line()?;
                ffi::lua_createtable(l, 0, 1);
                push_bytes(l, s);
                ffi::lua_setfield(l, -2, c"ok".as_ptr());
            }
            b'-' => {
                let s = self.line()?;
                ffi::lua_createtable(l, 0, 1);
                let mut text = Vec::with_capacity(s.len() + 1);
                text.push(b'-');
                text.extend_from_slice(s);
                let text = error_text(&text);
                push_bytes(l, &text);
                drop(text);
                ffi::lua_setfield(l, -2, c"err".as_ptr());
            }
            b':' => ffi::lua_pushnumber(l, self.int()? as f64),
            b'$' => {
                let n = self.int()?;
                if n < 0 {
                    ffi::lua_pushboolean(l, 0);
                } else {
                    push_bytes(l, self.bulk(n)?);
                }
            }
            b'*' => {
                let n = self.int()?;
                if n < 0 {
                    ffi::lua_pushboolean(l, 0);
                    return Ok(());
                }
                // A RESP3 null element is a hole. Redis fills a table made without a size,
                // and where a hole leaves the elements after it (array or hash part) decides
                // what `#` answers, so a table with holes is grown the same way here.
                if resp3 && self.any_null(n)? {
                    ffi::lua_createtable(l, 0, 0);
                } else {
                    ffi::lua_createtable(l, n.min(1 << 24) as c_int, 0);
                }
                for i in 0..n {
                    self.push(l, resp3)?;
                    ffi::lua_rawseti_(l, -2, (i + 1) as c_int);
                }
            }
            b'_' => {
                self.line()?;
                ffi::lua_pushnil(l);
            }
            b'#' => ffi::lua_pushboolean(l, (self.line()? == b"t") as c_int),
            b',' => {
                let d = parse_double(self.line()?);
                ffi::lua_createtable(l, 0, 1);
                ffi::lua_pushnumber(l, d);
                ffi::lua_setfield(l, -2, c"double".as_ptr());
            }
            b'(' => {
                let s = self.line()?;
                ffi::lua_createtable(l, 0, 1);
                push_bytes(l, s);
                ffi::lua_setfield(l, -2, c"big_number".as_ptr());
            }
            b'=' => {
                let n = self.int()?;
                let s = self.bulk(n)?;
                let (format, text) = if s.len() >= 4 {
                    (&s[..3], &s[4..])
                } else {
                    (&s[..0], s)
                };
                ffi::lua_createtable(l, 0, 1);
                ffi::lua_createtable(l, 0, 2);
                push_bytes(l, text);
                ffi::lua_setfield(l, -2, c"string".as_ptr());
                push_bytes(l, format);
                ffi::lua_setfield(l, -2, c"format".as_ptr());
                ffi::lua_setfield(l, -2, c"verbatim_string".as_ptr());
            }
            b'%' | b'~' => {
                let n = self.int()?;
                ffi::lua_createtable(l, 0, 1);
                ffi::lua_createtable(l, 0, 0);
                for _ in 0..n {
                    self.push(l, resp3)?;
                    if t == b'%' {
                        self.push(l, resp3)?;
                    } else {
                        ffi::lua_pushboolean(l, 1);
                    }
                    if ffi::lua_type(l, -2) == ffi::LUA_TNIL {
                        ffi::lua_settop(l, -3);
                    } else {
                        ffi::lua_rawset(l, -3);
                    }
                }
                let field = if t == b'%' { c"map" } else { c"set" };
                ffi::lua_setfield(l, -2, field.as_ptr());
            }
            b'|' => {
                self.pos -= 1;
                self.skip()?;
                return self.push(l, resp3);
            }
            _ => return Err(Malformed),
        }
        Ok(())
    }
}

unsafe fn push_bytes(l: *mut ffi::lua_State, s: &[u8]) {
    ffi::lua_pushlstring_(l, s.as_ptr().cast(), s.len());
}

fn parse_double(s: &[u8]) -> f64 {
    match s {
        b"inf" => f64::INFINITY,
        b"-inf" => f64::NEG_INFINITY,
        b"nan" | b"-nan" => f64::NAN,
        _ => crate::util::parse_f64(s).unwrap_or(0.0),
    }
}

/// Lua's limit on the values one C function keeps on the stack (LUAI_MAXCSTACK).
const LUA_MAXCSTACK: usize = 8000;

/// Stack slots in use when Redis starts converting a script's result (the error handler
/// and the result itself).
const FIRST_SLOT: usize = 2;

/// An error reply written while converting a script's result.
pub struct WrittenError {
    /// The text after '-'.
    pub text: Vec<u8>,
    /// Already counted in INFO errorstats (an error reply of a command the script called
    /// and passed on: Redis's `ignore_error_stats_update`).
    pub counted: bool,
}

/// How a script's return value becomes a reply (luaReplyToRedisReply).
///
/// Redis converts recursively on the C stack and checks the Lua stack before each value:
/// an array element costs one stack slot, a map key four and a map value or set member
/// three, and a value past LUAI_MAXCSTACK becomes a "reached lua stack limit" error
/// element. This walks the same values with an explicit stack (deep tables cannot
/// overflow a worker thread's stack) and counts the slots the same way.
pub struct ToResp {
    /// The RESP version the script chose with redis.setresp (booleans depend on it).
    pub script_resp3: bool,
    /// The error replies written, in order (for INFO errorstats and commandstats).
    pub errors: Vec<WrittenError>,
}

impl ToResp {
    pub fn new(script_resp3: bool) -> Self {
        ToResp {
            script_resp3,
            errors: Vec::new(),
        }
    }

    pub fn write(&mut self, out: &mut ReplyBuf, v: &Value) {
        let Value::Table(t) = v else {
            // The common small result needs no work list.
            self.scalar(out, v);
            return;
        };
        let mut todo: Vec<(Value, usize)> = Vec::new();
        self.table(out, t, FIRST_SLOT, &mut todo);
        while let Some((v, slots)) = todo.pop() {
            if slots + 4 > LUA_MAXCSTACK {
                self.error(out, b"ERR reached lua stack limit".to_vec(), false);
                continue;
            }
            match &v {
                Value::Table(t) => self.table(out, t, slots, &mut todo),
                _ => self.scalar(out, &v),
            }
        }
    }

    fn scalar(&self, out: &mut ReplyBuf, v: &Value) {
        match v {
            Value::String(s) => out.bulk(&s.as_bytes()),
            Value::Boolean(b) => {
                if self.script_resp3 {
                    out.boolean(*b);
                } else if *b {
                    out.int(1);
                } else {
                    out.null();
                }
            }
            Value::Number(_) | Value::Integer(_) => {
                out.int(c_long_long(as_number(v).unwrap_or(0.0)));
            }
            _ => out.null(),
        }
    }

    fn error(&mut self, out: &mut ReplyBuf, text: Vec<u8>, counted: bool) {
        write_error(out, &text);
        self.errors.push(WrittenError { text, counted });
    }

    /// Writes a table, or its header with its elements pushed on `todo` (last first).
    fn table(
        &mut self,
        out: &mut ReplyBuf,
        t: &Table,
        slots: usize,
        todo: &mut Vec<(Value, usize)>,
    ) {
        let field = |name: &str| t.raw_get::<Value>(name).unwrap_or(Value::Nil);
        if let Value::String(s) = field("err") {
            // "-%s": a C string, so the text ends at a NUL; CR and LF become spaces.
            let bytes = s.as_bytes();
            let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
            let counted = matches!(
                t.raw_get::<Value>("ignore_error_stats_update"),
                Ok(Value::Boolean(true))
            );
            self.error(out, bytes[..end].to_vec(), counted);
            return;
        }
        if let Value::String(s) = field("ok") {
            // sdsnew: the status ends at a NUL.
            let bytes = s.as_bytes();
            let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
            out.raw(b"+");
            out.raw(&map_crlf(&bytes[..end]));
            out.raw(b"\r\n");
            return;
        }
        if let Some(d) = as_number(&field("double")) {
            if d.is_nan() {
                // %.17g of a NaN, with its sign (0/0 is negative on x86).
                let text: &[u8] = if d.is_sign_negative() {
                    b"-nan"
                } else {
                    b"nan"
                };
                if out.resp3 {
                    out.raw(b",");
                    out.raw(text);
                    out.raw(b"\r\n");
                } else {
                    out.bulk(text);
                }
            } else {
                out.double(d);
            }
            return;
        }
        if let Value::String(s) = field("big_number") {
            let n = map_crlf(&s.as_bytes());
            if out.resp3 {
                out.raw(b"(");
                out.raw(&n);
                out.raw(b"\r\n");
            } else {
                out.bulk(&n);
            }
            return;
        }
        if let Value::Table(vt) = field("verbatim_string") {
            let format = vt.raw_get::<Value>("format").unwrap_or(Value::Nil);
            let text = vt.raw_get::<Value>("string").unwrap_or(Value::Nil);
            if let (Value::String(f), Value::String(s)) = (format, text) {
                let s = s.as_bytes();
                if out.resp3 {
                    let f = f.as_bytes();
                    let mut ext = [b' '; 3];
                    for (d, c) in ext.iter_mut().zip(f.iter()) {
                        *d = *c;
                    }
                    out.raw(b"=");
                    out.raw((s.len() + 4).to_string().as_bytes());
                    out.raw(b"\r\n");
                    out.raw(&ext);
                    out.raw(b":");
                    out.raw(&s);
                    out.raw(b"\r\n");
                } else {
                    out.bulk(&s);
                }
                return;
            }
        }
        if let Value::Table(m) = field("map") {
            let pairs: Vec<(Value, Value)> =
                m.pairs::<Value, Value>().filter_map(Result::ok).collect();
            out.map(pairs.len());
            for (k, v) in pairs.into_iter().rev() {
                todo.push((v, slots + 3));
                todo.push((k, slots + 4));
            }
            return;
        }
        if let Value::Table(s) = field("set") {
            let keys: Vec<Value> = s
                .pairs::<Value, Value>()
                .filter_map(|r| r.ok().map(|(k, _)| k))
                .collect();
            out.set(keys.len());
            for k in keys.into_iter().rev() {
                todo.push((k, slots + 3));
            }
            return;
        }
        let mut items = Vec::new();
        for i in 1.. {
            match t.raw_get::<Value>(i) {
                Ok(Value::Nil) | Err(_) => break,
                Ok(v) => items.push(v),
            }
        }
        out.array(items.len());
        for v in items.into_iter().rev() {
            todo.push((v, slots + 1));
        }
    }
}

/// Writes an error reply a script produced as Redis's addReplyErrorFormatEx("-%s") does:
/// CR and LF at the end dropped, others made spaces, no "ERR" added.
pub fn write_error(out: &mut ReplyBuf, text: &[u8]) {
    let mut end = text.len();
    while end > 0 && matches!(text[end - 1], b'\r' | b'\n') {
        end -= 1;
    }
    out.raw(b"-");
    out.raw(&map_crlf(&text[..end]));
    out.raw(b"\r\n");
}

/// The INFO errorstats code of an error reply (the text after '-') as Redis's
/// afterErrorReply finds it: the first word if a space ends it within the reply's first
/// 32 bytes, else "ERR".
pub fn error_code(text: &[u8]) -> String {
    let window = &text[..text.len().min(31)];
    match window.iter().position(|&b| b == b' ') {
        Some(p) => String::from_utf8_lossy(&text[..p]).into_owned(),
        None => "ERR".to_string(),
    }
}

fn map_crlf(s: &[u8]) -> Vec<u8> {
    s.iter()
        .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b })
        .collect()
}

/// Redis's `redisLrand48` (the 48-bit generator of rand.c, as drand48), which backs
/// `math.random` so every script sees the same sequence on every machine.
#[derive(Clone, Copy)]
pub struct Lrand48(u64);

pub const LRAND48_MAX: i32 = i32::MAX;

impl Lrand48 {
    /// The generator's state before any seeding (Redis never seeds it on its own, so the
    /// sequence runs on across scripts from this state until `math.randomseed`).
    pub const INITIAL: Lrand48 = Lrand48(0x1234_ABCD_330E);

    pub fn new(seed: i32) -> Self {
        Lrand48((((seed as u32) as u64) << 16 | 0x330E) & 0xFFFF_FFFF_FFFF)
    }

    pub fn next_value(&mut self) -> i32 {
        self.0 = (self.0.wrapping_mul(0x5DEE_CE66D).wrapping_add(0xB)) & 0xFFFF_FFFF_FFFF;
        (self.0 >> 17) as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_cast_matches_x86() {
        assert_eq!(c_long_long(1.9), 1);
        assert_eq!(c_long_long(-2.5), -2);
        assert_eq!(c_long_long(1e20), i64::MIN);
        assert_eq!(c_long_long(f64::NAN), i64::MIN);
        assert_eq!(c_long_long(4294967297.7), 4294967297);
    }

    #[test]
    fn lrand48_starts_as_redis() {
        // A fresh redis-server 7.0.15 answers 40 to `return math.random(100)`, then 36 after
        // math.randomseed(0) it answers 18.
        let mut r = Lrand48::INITIAL;
        let v = (r.next_value() % LRAND48_MAX) as f64 / LRAND48_MAX as f64;
        assert_eq!((v * 100.0).floor() + 1.0, 40.0);
        let mut r = Lrand48::new(0);
        let v = (r.next_value() % LRAND48_MAX) as f64 / LRAND48_MAX as f64;
        assert_eq!((v * 100.0).floor() + 1.0, 18.0);
    }

    #[test]
    fn number_args_use_17_digits() {
        assert_eq!(number_arg(3.0), b"3");
        assert_eq!(number_arg(0.1), b"0.10000000000000001");
        assert_eq!(number_arg(1e20), b"1e+20");
    }
}
