//! `cmsgpack`: lua-cmsgpack 0.4.0 as Redis bundles it: MessagePack encoding of Lua values
//! (`pack`, several values concatenated) and decoding of a stream of them (`unpack`,
//! `unpack_one`, `unpack_limit`).
//!
//! Encoding: whole numbers in int64 range become the smallest integer type, other numbers a
//! float when one represents them exactly, else a double; tables whose keys are exactly 1..n
//! become arrays, others maps; tables nested 16 deep, functions and other values become nil.

use std::ffi::{c_int, CStr};

use mlua::ffi;

use super::{check_stack, raise, Lease, Scratch, State};

/// Buffers above this size are freed after a call instead of kept for the next one.
const KEEP_LIMIT: usize = 1 << 16;

/// Tables nested this deep are packed as nil (it also stops reference cycles).
const MAX_NESTING: i32 = 16;

/// One container being decoded.
#[derive(Clone, Copy)]
enum Frame {
    /// An array with `left` items to read; the next one goes to index `next`.
    Array { left: usize, next: c_int },
    /// A map with `left` pairs to read; `value` when its key is on the stack.
    Map { left: usize, value: bool },
}

/// The state shared by the functions (their upvalue).
type Shared = Scratch<Frame>;

const SCRATCH: &CStr = c"rcs.cmsgpack.scratch";

unsafe fn shared(l: State) -> *mut Shared {
    ffi::lua_touserdata(l, ffi::lua_upvalueindex(1)) as *mut Shared
}

// ------------------------------------------------------------------ encoding

fn encode_bytes(buf: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        buf.push(0xa0 | len as u8);
    } else if len <= 0xff {
        buf.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        buf.push(0xda);
        buf.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        buf.push(0xdb);
        buf.extend_from_slice(&(len as u32).to_be_bytes());
    }
    buf.extend_from_slice(s);
}

fn encode_double(buf: &mut Vec<u8>, d: f64) {
    let f = d as f32;
    if d == f as f64 {
        buf.push(0xca);
        buf.extend_from_slice(&f.to_be_bytes());
    } else {
        buf.push(0xcb);
        buf.extend_from_slice(&d.to_be_bytes());
    }
}

fn encode_int(buf: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n <= 127 {
            buf.push(n as u8);
        } else if n <= 0xff {
            buf.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            buf.push(0xcd);
            buf.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            buf.push(0xce);
            buf.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            buf.push(0xcf);
            buf.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        buf.push(n as i8 as u8);
    } else if n >= -128 {
        buf.extend_from_slice(&[0xd0, n as u8]);
    } else if n >= -32768 {
        buf.push(0xd1);
        buf.extend_from_slice(&(n as u16).to_be_bytes());
    } else if n >= -2147483648 {
        buf.push(0xd2);
        buf.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        buf.push(0xd3);
        buf.extend_from_slice(&(n as u64).to_be_bytes());
    }
}

fn encode_header(buf: &mut Vec<u8>, n: u64, fix: u8, b16: u8, b32: u8) {
    if n <= 15 {
        buf.push(fix | n as u8);
    } else if n <= 65535 {
        buf.push(b16);
        buf.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        buf.push(b32);
        buf.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// A number as lua-cmsgpack packs it on Lua 5.1: an integer when `(int64_t)n == n`.
fn encode_number(buf: &mut Vec<u8>, n: f64) {
    if !n.is_infinite() && super::c_i64_of(n) as f64 == n {
        encode_int(buf, super::c_i64_of(n));
    } else {
        encode_double(buf, n);
    }
}

/// A `luaL_checkstack` that failed: the message to raise once the scratch is returned.
type Overflow = &'static CStr;

/// `lua_checkstack` as the C library would see it, its stack holding `adj` more slots.
unsafe fn room(l: State, n: c_int, adj: c_int, msg: Overflow) -> Result<(), Overflow> {
    if ffi::lua_gettop(l) + adj + n > super::MAX_C_STACK || ffi::lua_checkstack(l, n) == 0 {
        return Err(msg);
    }
    Ok(())
}

/// Raises `luaL_checkstack`'s error.
unsafe fn overflow(l: State, msg: Overflow) -> ! {
    ffi::luaL_error(l, c"stack overflow (%s)".as_ptr(), msg.as_ptr());
    ffi::lua_error(l)
}

/// `table_is_an_array`: keys exactly 1..n (raw walk).
unsafe fn table_is_an_array(l: State, adj: c_int) -> Result<bool, Overflow> {
    let top = ffi::lua_gettop(l);
    let mut count: i32 = 0;
    let mut max: i32 = 0;
    room(l, 2, adj, c"in function table_is_an_array")?;
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        ffi::lua_settop(l, -2);
        let n = if ffi::lua_type(l, -1) == ffi::LUA_TNUMBER {
            ffi::lua_tonumber(l, -1)
        } else {
            0.0
        };
        // `(int)n == n` rejects NaN, fractions and anything past INT_MAX.
        if n <= 0.0 || n.is_nan() || n.is_infinite() || super::c_int_of(n) as f64 != n {
            ffi::lua_settop(l, top);
            return Ok(false);
        }
        let n = super::c_int_of(n);
        if n > max {
            max = n;
        }
        count = count.wrapping_add(1);
    }
    ffi::lua_settop(l, top);
    Ok(max == count)
}

/// Packs the value on top of the stack and pops it. `adj` is how many more slots the C
/// library's stack holds at this point than ours (it keeps each packed argument's string).
unsafe fn encode_value(
    l: State,
    buf: *mut Vec<u8>,
    level: i32,
    adj: c_int,
) -> Result<(), Overflow> {
    let mut t = ffi::lua_type(l, -1);
    if t == ffi::LUA_TTABLE && level == MAX_NESTING {
        t = ffi::LUA_TNIL;
    }
    match t {
        ffi::LUA_TSTRING => {
            let mut len = 0;
            let s = ffi::lua_tolstring(l, -1, &mut len) as *const u8;
            // SAFETY: a Lua string stays alive and unmoved while it is on the stack.
            encode_bytes(&mut *buf, std::slice::from_raw_parts(s, len));
        }
        ffi::LUA_TBOOLEAN => {
            (*buf).push(if ffi::lua_toboolean(l, -1) != 0 {
                0xc3
            } else {
                0xc2
            });
        }
        ffi::LUA_TNUMBER => encode_number(&mut *buf, ffi::lua_tonumber(l, -1)),
        ffi::LUA_TTABLE => {
            if table_is_an_array(l, adj)? {
                let len = ffi::lua_objlen(l, -1);
                encode_header(&mut *buf, len as u64, 0x90, 0xdc, 0xdd);
                room(l, 1, adj, c"in function mp_encode_lua_table_as_array")?;
                for j in 1..=len {
                    ffi::lua_pushnumber(l, j as f64);
                    // lua_gettable as in C; every key is present, so no metamethod runs.
                    ffi::lua_gettable_(l, -2);
                    encode_value(l, buf, level + 1, adj)?;
                }
            } else {
                room(l, 3, adj, c"in function mp_encode_lua_table_as_map")?;
                let mut len: u64 = 0;
                ffi::lua_pushnil(l);
                while ffi::lua_next(l, -2) != 0 {
                    ffi::lua_settop(l, -2);
                    len += 1;
                }
                encode_header(&mut *buf, len, 0x80, 0xde, 0xdf);
                ffi::lua_pushnil(l);
                while ffi::lua_next(l, -2) != 0 {
                    ffi::lua_pushvalue(l, -2);
                    encode_value(l, buf, level + 1, adj)?;
                    encode_value(l, buf, level + 1, adj)?;
                }
            }
        }
        _ => (*buf).push(0xc0),
    }
    ffi::lua_settop(l, -2);
    Ok(())
}

/// `cmsgpack.pack(...)`: the arguments packed one after the other.
unsafe extern "C-unwind" fn pack(l: State) -> c_int {
    let nargs = ffi::lua_gettop(l);
    if nargs == 0 {
        super::arg_error(l, 0, format_args!("MessagePack pack needs input."));
    }
    if ffi::lua_checkstack(l, nargs) == 0 {
        super::arg_error(
            l,
            0,
            format_args!("Too many arguments for MessagePack pack."),
        );
    }
    let lease = Lease::take(l, shared(l), SCRATCH);
    let buf: *mut Vec<u8> = lease.buf();
    let pushed = lease.pushed() as c_int;
    for i in 1..=nargs {
        // C has the strings of arguments 1..i-1 on its stack; ours may hold the lease.
        let adj = (i - 1) - pushed;
        let done = room(l, 1, adj, c"in function mp_check").and_then(|()| {
            ffi::lua_pushvalue(l, i);
            encode_value(l, buf, 0, adj)
        });
        if let Err(msg) = done {
            lease.release(KEEP_LIMIT);
            overflow(l, msg);
        }
    }
    super::push_bytes(l, &*buf);
    lease.release(KEEP_LIMIT);
    1
}

// ------------------------------------------------------------------ decoding

/// Why decoding stopped early.
enum DecodeError {
    /// The input ends inside a value.
    Eof,
    /// A byte that starts no value lua-cmsgpack knows.
    BadFormat,
    /// The Lua stack is full.
    Stack(Overflow),
    /// A map key Lua tables refuse ("table index is nil" / "is NaN").
    Index(&'static str),
}

const TOO_MANY: &CStr = c"too many return values at once; use unpack_one or unpack_limit instead.";

/// Big-endian unsigned integer of `b` (at most 8 bytes).
fn be(b: &[u8]) -> u64 {
    b.iter().fold(0, |v, &x| (v << 8) | x as u64)
}

/// Decodes one value at `*pos` onto the stack, containers included, iteratively: the stack
/// holds what the C recursion holds (a table and its pending key per level), `frames` the
/// counts.
unsafe fn decode_one(
    l: State,
    data: &[u8],
    pos: &mut usize,
    frames: &mut Vec<Frame>,
) -> Result<(), DecodeError> {
    frames.clear();
    'value: loop {
        let rest = &data[*pos..];
        let Some(&tag) = rest.first() else {
            return Err(DecodeError::Eof);
        };
        room(l, 1, 0, TOO_MANY).map_err(DecodeError::Stack)?;
        // Takes `n` bytes of the value (header included) or fails with Eof.
        let need =
            |n: usize| -> Result<&[u8], DecodeError> { rest.get(..n).ok_or(DecodeError::Eof) };
        // A container's length, once its header is consumed.
        let mut container: Option<(bool, usize)> = None;
        match tag {
            0xcc => {
                let b = need(2)?;
                ffi::lua_pushinteger(l, b[1] as ffi::lua_Integer);
                *pos += 2;
            }
            0xd0 => {
                let b = need(2)?;
                ffi::lua_pushinteger(l, b[1] as i8 as ffi::lua_Integer);
                *pos += 2;
            }
            0xcd => {
                let b = need(3)?;
                ffi::lua_pushinteger(l, be(&b[1..3]) as ffi::lua_Integer);
                *pos += 3;
            }
            0xd1 => {
                let b = need(3)?;
                ffi::lua_pushinteger(l, be(&b[1..3]) as u16 as i16 as ffi::lua_Integer);
                *pos += 3;
            }
            0xce => {
                let b = need(5)?;
                ffi::lua_pushinteger(l, be(&b[1..5]) as ffi::lua_Integer);
                *pos += 5;
            }
            0xd2 => {
                let b = need(5)?;
                ffi::lua_pushinteger(l, be(&b[1..5]) as u32 as i32 as ffi::lua_Integer);
                *pos += 5;
            }
            0xcf => {
                // Pushed as a lua_Integer: past 2^63 it wraps negative, as in C.
                let b = need(9)?;
                ffi::lua_pushinteger(l, be(&b[1..9]) as i64 as ffi::lua_Integer);
                *pos += 9;
            }
            0xd3 => {
                let b = need(9)?;
                ffi::lua_pushnumber(l, be(&b[1..9]) as i64 as f64);
                *pos += 9;
            }
            0xc0 => {
                ffi::lua_pushnil(l);
                *pos += 1;
            }
            0xc3 | 0xc2 => {
                ffi::lua_pushboolean(l, (tag == 0xc3) as c_int);
                *pos += 1;
            }
            0xca => {
                let b = need(5)?;
                let f = f32::from_bits(be(&b[1..5]) as u32);
                ffi::lua_pushnumber(l, f as f64);
                *pos += 5;
            }
            0xcb => {
                let b = need(9)?;
                ffi::lua_pushnumber(l, f64::from_bits(be(&b[1..9])));
                *pos += 9;
            }
            0xd9..=0xdb => {
                let hl = match tag {
                    0xd9 => 2,
                    0xda => 3,
                    _ => 5,
                };
                let len = be(&need(hl)?[1..hl]) as usize;
                let s = rest
                    .get(hl..)
                    .and_then(|r| r.get(..len))
                    .ok_or(DecodeError::Eof)?;
                super::push_bytes(l, s);
                *pos += hl + len;
            }
            0xdc | 0xde => {
                let b = need(3)?;
                container = Some((tag == 0xdc, be(&b[1..3]) as usize));
                *pos += 3;
            }
            0xdd | 0xdf => {
                let b = need(5)?;
                container = Some((tag == 0xdd, be(&b[1..5]) as usize));
                *pos += 5;
            }
            _ if tag & 0x80 == 0 => {
                ffi::lua_pushinteger(l, tag as ffi::lua_Integer);
                *pos += 1;
            }
            _ if tag & 0xe0 == 0xe0 => {
                ffi::lua_pushinteger(l, tag as i8 as ffi::lua_Integer);
                *pos += 1;
            }
            _ if tag & 0xe0 == 0xa0 => {
                let len = (tag & 0x1f) as usize;
                let s = need(1 + len)?;
                super::push_bytes(l, &s[1..]);
                *pos += 1 + len;
            }
            _ if tag & 0xf0 == 0x90 || tag & 0xf0 == 0x80 => {
                container = Some((tag & 0xf0 == 0x90, (tag & 0xf) as usize));
                *pos += 1;
            }
            _ => return Err(DecodeError::BadFormat),
        }
        if let Some((is_array, len)) = container {
            ffi::lua_createtable(l, 0, 0);
            if is_array {
                room(l, 1, 0, c"in function mp_decode_to_lua_array").map_err(DecodeError::Stack)?;
                if len > 0 {
                    frames.push(Frame::Array { left: len, next: 2 });
                    ffi::lua_pushnumber(l, 1.0);
                    continue 'value;
                }
            } else if len > 0 {
                frames.push(Frame::Map {
                    left: len,
                    value: false,
                });
                continue 'value;
            }
        }
        // A value is complete on top of the stack: store it in its container, if any.
        loop {
            let Some(top) = frames.last_mut() else {
                return Ok(());
            };
            match top {
                Frame::Array { left, next } => {
                    ffi::lua_rawset(l, -3);
                    *left -= 1;
                    if *left == 0 {
                        frames.pop();
                        continue;
                    }
                    ffi::lua_pushnumber(l, *next as f64);
                    *next = next.wrapping_add(1);
                    continue 'value;
                }
                Frame::Map { left, value } => {
                    if !*value {
                        *value = true;
                        continue 'value;
                    }
                    // C's lua_settable raises for these keys; the error is raised by the
                    // caller once the scratch is returned.
                    match ffi::lua_type(l, -2) {
                        ffi::LUA_TNIL => return Err(DecodeError::Index("table index is nil")),
                        ffi::LUA_TNUMBER if ffi::lua_tonumber(l, -2).is_nan() => {
                            return Err(DecodeError::Index("table index is NaN"))
                        }
                        _ => {}
                    }
                    ffi::lua_rawset(l, -3);
                    *value = false;
                    *left -= 1;
                    if *left == 0 {
                        frames.pop();
                        continue;
                    }
                    continue 'value;
                }
            }
        }
    }
}

/// `mp_unpack_full`: decodes up to `limit` values from `offset` (all of them when both are
/// 0); unless decoding all, the first result is the offset after them (-1 at the end).
unsafe fn unpack_full(l: State, limit: ffi::lua_Integer, offset: ffi::lua_Integer) -> c_int {
    let mut len = 0;
    let s = ffi::luaL_checklstring(l, 1, &mut len) as *const u8;
    let decode_all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        // C prints the input length where it means the limit.
        raise(
            l,
            format_args!(
                "Invalid request to unpack with offset of {} and limit of {}.",
                offset as i32, len as i32
            ),
        );
    } else if offset as u64 > len as u64 {
        raise(
            l,
            format_args!(
                "Start offset {} greater than input length {}.",
                offset as i32, len as i32
            ),
        );
    }
    let limit = if decode_all {
        i32::MAX as ffi::lua_Integer
    } else {
        limit
    };
    // SAFETY: argument 1 stays on the stack (alive, unmoved) for the whole call.
    let data = std::slice::from_raw_parts(s, len);
    let mut pos = offset as usize;
    let lease = Lease::take(l, shared(l), SCRATCH);
    let lease_slot = ffi::lua_gettop(l);
    let mut cnt: c_int = 0;
    while pos < len && (cnt as ffi::lua_Integer) < limit {
        match decode_one(l, data, &mut pos, lease.frames()) {
            Ok(()) => {}
            Err(e) => {
                lease.release(KEEP_LIMIT);
                let msg = match e {
                    DecodeError::Eof => "Missing bytes in input.",
                    DecodeError::BadFormat => "Bad data format in input.",
                    DecodeError::Stack(msg) => overflow(l, msg),
                    DecodeError::Index(msg) => {
                        // A VM error: no position prefix.
                        super::push_bytes(l, msg.as_bytes());
                        ffi::lua_error(l)
                    }
                };
                raise(l, format_args!("{msg}"));
            }
        }
        cnt += 1;
    }
    lease.release(KEEP_LIMIT);
    if lease.pushed() {
        // The temporary scratch sits between the arguments and the results: drop it.
        ffi::lua_remove(l, lease_slot);
    }
    if !decode_all {
        check_stack(l, 1, c"in function mp_unpack_full");
        let next = if pos == len {
            -1
        } else {
            pos as ffi::lua_Integer
        };
        ffi::lua_pushinteger(l, next);
        ffi::lua_insert(l, 2);
        cnt += 1;
    }
    cnt
}

/// C's `lua_pop(L, lua_gettop(L) - 1)`: keeps the first argument (none if there was none).
unsafe fn keep_first(l: State) {
    if ffi::lua_gettop(l) > 0 {
        ffi::lua_settop(l, 1);
    }
}

/// `cmsgpack.unpack(s)`: every value in `s`.
unsafe extern "C-unwind" fn unpack(l: State) -> c_int {
    unpack_full(l, 0, 0)
}

/// `cmsgpack.unpack_one(s [, offset])`: next offset and one value.
unsafe extern "C-unwind" fn unpack_one(l: State) -> c_int {
    let offset = ffi::luaL_optinteger(l, 2, 0);
    keep_first(l);
    unpack_full(l, 1, offset)
}

/// `cmsgpack.unpack_limit(s, limit [, offset])`: next offset and up to `limit` values.
unsafe extern "C-unwind" fn unpack_limit(l: State) -> c_int {
    let limit = ffi::luaL_checkinteger(l, 2);
    let offset = ffi::luaL_optinteger(l, 3, 0);
    keep_first(l);
    unpack_full(l, limit, offset)
}

/// Pushes the `cmsgpack` table.
pub(super) unsafe fn open(l: State) {
    ffi::lua_createtable(l, 0, 0);
    super::push_userdata::<Shared>(l, SCRATCH);
    let funcs: [(&CStr, ffi::lua_CFunction); 4] = [
        (c"pack", pack),
        (c"unpack", unpack),
        (c"unpack_one", unpack_one),
        (c"unpack_limit", unpack_limit),
    ];
    for (name, f) in funcs {
        ffi::lua_pushvalue(l, -1);
        ffi::lua_pushcclosure(l, f, 1);
        ffi::lua_setfield(l, -3, name.as_ptr());
    }
    ffi::lua_settop(l, -2);
    let meta: [(&CStr, &CStr); 4] = [
        (c"_NAME", c"cmsgpack"),
        (c"_VERSION", c"lua-cmsgpack 0.4.0"),
        (c"_COPYRIGHT", c"Copyright (C) 2012, Salvatore Sanfilippo"),
        (c"_DESCRIPTION", c"MessagePack C implementation for Lua"),
    ];
    for (k, v) in meta {
        ffi::lua_pushstring_(l, v.as_ptr());
        ffi::lua_setfield(l, -2, k.as_ptr());
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::check_all;

    /// Each expectation is what Redis 7.0.15 returned for the same snippet, run as
    /// `redis-cli -p 7311 eval "<hex helper> local ok, r = pcall(function() <snippet> end)
    /// if ok then return tostring(r) else return 'ERR:' .. tostring(r) end" 0`
    /// (the wrapper of `testutil::run`).
    #[test]
    fn cmsgpack_matches_redis() {
        check_all(&[
            // integers at each width boundary
            ("return hex(cmsgpack.pack(0))", "00"),
            ("return hex(cmsgpack.pack(1))", "01"),
            ("return hex(cmsgpack.pack(127))", "7f"),
            ("return hex(cmsgpack.pack(128))", "cc80"),
            ("return hex(cmsgpack.pack(255))", "ccff"),
            ("return hex(cmsgpack.pack(256))", "cd0100"),
            ("return hex(cmsgpack.pack(65535))", "cdffff"),
            ("return hex(cmsgpack.pack(65536))", "ce00010000"),
            ("return hex(cmsgpack.pack(4294967295))", "ceffffffff"),
            ("return hex(cmsgpack.pack(4294967296))", "cf0000000100000000"),
            ("return hex(cmsgpack.pack(2^53))", "cf0020000000000000"),
            ("return hex(cmsgpack.pack(2^63))", "ca5f000000"),
            ("return hex(cmsgpack.pack(-1))", "ff"),
            ("return hex(cmsgpack.pack(-32))", "e0"),
            ("return hex(cmsgpack.pack(-33))", "d0df"),
            ("return hex(cmsgpack.pack(-128))", "d080"),
            ("return hex(cmsgpack.pack(-129))", "d1ff7f"),
            ("return hex(cmsgpack.pack(-32768))", "d18000"),
            ("return hex(cmsgpack.pack(-32769))", "d2ffff7fff"),
            ("return hex(cmsgpack.pack(-2147483648))", "d280000000"),
            ("return hex(cmsgpack.pack(-2147483649))", "d3ffffffff7fffffff"),
            ("return hex(cmsgpack.pack(-2^63))", "d38000000000000000"),
            ("return hex(cmsgpack.pack(-2^64))", "cadf800000"),
            ("return hex(cmsgpack.pack(-0.0))", "00"),
            // floats and doubles
            ("return hex(cmsgpack.pack(0.5))", "ca3f000000"),
            ("return hex(cmsgpack.pack(1.5))", "ca3fc00000"),
            ("return hex(cmsgpack.pack(-2.25))", "cac0100000"),
            ("return hex(cmsgpack.pack(0.1))", "cb3fb999999999999a"),
            ("return hex(cmsgpack.pack(3.14159))", "cb400921f9f01b866e"),
            ("return hex(cmsgpack.pack(1/0))", "ca7f800000"),
            ("return hex(cmsgpack.pack(-1/0))", "caff800000"),
            ("return hex(cmsgpack.pack(0/0))", "cbfff8000000000000"),
            ("return hex(cmsgpack.pack(1e300))", "cb7e37e43c8800759c"),
            ("return hex(cmsgpack.pack(1e-300))", "cb01a56e1fc2f8f359"),
            ("return hex(cmsgpack.pack(2^100))", "ca71800000"),
            // strings at length boundaries
            ("return hex(cmsgpack.pack(''))", "a0"),
            ("return hex(cmsgpack.pack('a'))", "a161"),
            ("return hex(cmsgpack.pack(string.rep('x', 31)))", "bf78787878787878787878787878787878787878787878787878787878787878"),
            ("return hex(string.sub(cmsgpack.pack(string.rep('x', 32)), 1, 3))", "d92078"),
            ("return #cmsgpack.pack(string.rep('x', 32))", "34"),
            ("return hex(string.sub(cmsgpack.pack(string.rep('x', 255)), 1, 3))", "d9ff78"),
            ("return hex(string.sub(cmsgpack.pack(string.rep('x', 256)), 1, 4))", "da010078"),
            ("return hex(string.sub(cmsgpack.pack(string.rep('x', 65535)), 1, 4))", "daffff78"),
            ("return hex(string.sub(cmsgpack.pack(string.rep('x', 65536)), 1, 6))", "db0001000078"),
            ("return #cmsgpack.pack(string.rep('x', 65536))", "65541"),
            ("return hex(cmsgpack.pack('a\\0b'))", "a3610062"),
            // other types
            ("return hex(cmsgpack.pack(true))", "c3"),
            ("return hex(cmsgpack.pack(false))", "c2"),
            ("return hex(cmsgpack.pack(nil))", "c0"),
            ("return hex(cmsgpack.pack(tostring))", "c0"),
            ("return hex(cmsgpack.pack(cjson.null))", "c0"),
            ("return hex(cmsgpack.pack(coroutine.create(function() end)))", "c0"),
            // tables
            ("return hex(cmsgpack.pack({}))", "90"),
            ("return hex(cmsgpack.pack({1, 2, 3}))", "93010203"),
            ("return hex(cmsgpack.pack({1, nil, 3}))", "8201010303"),
            ("return hex(cmsgpack.pack({[1]=1, [2]=2, [4]=4}))", "83010102020404"),
            ("return hex(cmsgpack.pack({a=1}))", "81a16101"),
            ("return hex(cmsgpack.pack({[0]=1}))", "810001"),
            ("return hex(cmsgpack.pack({[1.5]=1}))", "81ca3fc0000001"),
            ("return hex(cmsgpack.pack({[-1]=1}))", "81ff01"),
            ("return hex(cmsgpack.pack({[2^31]=1}))", "81ce8000000001"),
            ("return hex(cmsgpack.pack({[true]=1}))", "81c301"),
            ("return hex(cmsgpack.pack({[{}]=1}))", "819001"),
            ("return hex(cmsgpack.pack({{}, {{}}}))", "92909190"),
            ("return hex(cmsgpack.pack({x={y={z={1}}}}))", "81a17881a17981a17a9101"),
            ("local t = {} for i=1,15 do t[i]=i end return hex(cmsgpack.pack(t))", "9f0102030405060708090a0b0c0d0e0f"),
            ("local t = {} for i=1,16 do t[i]=i end return hex(cmsgpack.pack(t))", "dc00100102030405060708090a0b0c0d0e0f10"),
            ("local t = {} for i=1,65535 do t[i]=0 end return hex(string.sub(cmsgpack.pack(t), 1, 4))", "dcffff00"),
            ("local t = {} for i=1,65536 do t[i]=0 end return hex(string.sub(cmsgpack.pack(t), 1, 6))", "dd0001000000"),
            ("local t = {} for i=1,15 do t['k'..i]=i end return hex(string.sub(cmsgpack.pack(t), 1, 1))", "8f"),
            ("local t = {} for i=1,16 do t['k'..i]=i end return hex(string.sub(cmsgpack.pack(t), 1, 3))", "de0010"),
            ("local t = {} for i=1,70000 do t['k'..i]=i end return hex(string.sub(cmsgpack.pack(t), 1, 5))", "df00011170"),
            ("local t = {a=1, b=2, c=3, d=4} return hex(cmsgpack.pack(t))", "84a16101a16404a16303a16202"),
            ("local t = {1, 2, x='y', [10]=5} return hex(cmsgpack.pack(t))", "84010102020a05a178a179"),
            ("local t = {} t[1] = t return hex(cmsgpack.pack(t))", "91919191919191919191919191919191c0"),
            ("local t = {} t.a = t return hex(cmsgpack.pack(t))", "81a16181a16181a16181a16181a16181a16181a16181a16181a16181a16181a16181a16181a16181a16181a16181a161c0"),
            ("local t = {} local c = t for i=1,20 do c[1] = {} c = c[1] end return hex(cmsgpack.pack(t))", "91919191919191919191919191919191c0"),
            ("local t = {} local c = t for i=1,14 do c[1] = {} c = c[1] end return hex(cmsgpack.pack(t))", "919191919191919191919191919190"),
            ("local t = {} local c = t for i=1,15 do c[1] = {} c = c[1] end return hex(cmsgpack.pack(t))", "91919191919191919191919191919190"),
            ("local t = {} local c = t for i=1,14 do c[{}] = {} c = c[next(c)] end return hex(cmsgpack.pack(t))", "8190819081908190819081908190819081908190819081908190819090"),
            ("local t = setmetatable({1, 2}, {__index = function(t, k) return 'z' end}) return hex(cmsgpack.pack(t))", "920102"),
            ("local t = setmetatable({}, {__index = function(t, k) return 'z' end}) return hex(cmsgpack.pack(t))", "90"),
            ("local t = setmetatable({1, 2}, {__index = function(t, k) error('boom') end}) return hex(cmsgpack.pack(t))", "920102"),
            // multiple args
            ("return hex(cmsgpack.pack(1, 2, 3))", "010203"),
            ("return hex(cmsgpack.pack('a', {1}, nil, true))", "a1619101c0c3"),
            ("return cmsgpack.pack()", "ERR:user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.)"),
            ("local ok, e = pcall(cmsgpack.pack) return e", "bad argument #0 to '?' (MessagePack pack needs input.)"),
            ("local t = {} for i=1,4000 do t[i]=i end return #cmsgpack.pack(unpack(t))", "11618"),
            ("local t = {} for i=1,4001 do t[i]=i end return #cmsgpack.pack(unpack(t))", "ERR:user_script:1: bad argument #0 to 'pack' (Too many arguments for MessagePack pack.)"),
            ("local t = {} for i=1,3990 do t[i]=i end t[3990] = {{{{{{{{{{{{{{{{{{}}}}}}}}}}}}}}}}}} return #cmsgpack.pack(unpack(t))", "11602"),
            ("local t = {} for i=1,3999 do t[i]=i end t[3999] = {{{{{{{{{{{{{{{{{{}}}}}}}}}}}}}}}}}} return #cmsgpack.pack(unpack(t))", "ERR:user_script:1: stack overflow (in function table_is_an_array)"),
            ("local t = {} for i=1,3999 do t[i]=i end t[3999] = {a={b={c={d={e={f={}}}}}}} return #cmsgpack.pack(unpack(t))", "ERR:user_script:1: stack overflow (in function mp_encode_lua_table_as_map)"),
            ("local t = {} for i=1,4000 do t[i]=i end t[1] = {a={b={}}} return #cmsgpack.pack(unpack(t))", "11624"),
            // unpack
            ("return cmsgpack.unpack(cmsgpack.pack(123))", "123"),
            ("return cmsgpack.unpack(cmsgpack.pack(-123456))", "-123456"),
            ("return cmsgpack.unpack(cmsgpack.pack(0.1))", "0.1"),
            ("return cmsgpack.unpack(cmsgpack.pack(1.5))", "1.5"),
            ("return cmsgpack.unpack(cmsgpack.pack(2^63))", "9.2233720368548e+18"),
            ("return cmsgpack.unpack(cmsgpack.pack(-2^63))", "-9.2233720368548e+18"),
            ("return cmsgpack.unpack(cmsgpack.pack(2^53 + 1))", "9.007199254741e+15"),
            ("return cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255')", "-1"),
            ("return cmsgpack.unpack('\\207\\128\\0\\0\\0\\0\\0\\0\\0')", "-9.2233720368548e+18"),
            ("return cmsgpack.unpack('\\207\\0\\0\\0\\0\\0\\0\\0\\1')", "1"),
            ("return cmsgpack.unpack('\\211\\255\\255\\255\\255\\255\\255\\255\\255')", "-1"),
            ("return cmsgpack.unpack('\\211\\128\\0\\0\\0\\0\\0\\0\\0')", "-9.2233720368548e+18"),
            ("return cmsgpack.unpack('\\204\\200')", "200"),
            ("return cmsgpack.unpack('\\208\\200')", "-56"),
            ("return cmsgpack.unpack('\\205\\255\\254')", "65534"),
            ("return cmsgpack.unpack('\\209\\255\\254')", "-2"),
            ("return cmsgpack.unpack('\\209\\128\\1')", "-32767"),
            ("return cmsgpack.unpack('\\206\\255\\255\\255\\254')", "4294967294"),
            ("return cmsgpack.unpack('\\210\\255\\255\\255\\254')", "-2"),
            ("return cmsgpack.unpack('\\202\\63\\192\\0\\0')", "1.5"),
            ("return cmsgpack.unpack('\\202\\127\\192\\0\\0')", "nan"),
            ("return cmsgpack.unpack('\\203\\64\\9\\33\\251\\84\\68\\45\\24')", "3.1415926535898"),
            ("return cmsgpack.unpack('\\192')", "nil"),
            ("return cmsgpack.unpack('\\194')", "false"),
            ("return cmsgpack.unpack('\\195')", "true"),
            ("return cmsgpack.unpack('\\127')", "127"),
            ("return cmsgpack.unpack('\\224')", "-32"),
            ("return cmsgpack.unpack('\\255')", "-1"),
            ("return cmsgpack.unpack('\\163abc')", "abc"),
            ("return cmsgpack.unpack('\\217\\3abc')", "abc"),
            ("return cmsgpack.unpack('\\218\\0\\3abc')", "abc"),
            ("return cmsgpack.unpack('\\219\\0\\0\\0\\3abc')", "abc"),
            ("return cmsgpack.unpack('\\219\\0\\0\\0\\4abc')", "ERR:user_script:1: Missing bytes in input."),
            ("return cmsgpack.unpack('\\163ab')", "ERR:user_script:1: Missing bytes in input."),
            ("return cmsgpack.unpack('\\217')", "ERR:user_script:1: Missing bytes in input."),
            ("return cmsgpack.unpack('\\217\\5ab')", "ERR:user_script:1: Missing bytes in input."),
            ("return cmsgpack.unpack('\\204')", "ERR:user_script:1: Missing bytes in input."),
            ("return cmsgpack.unpack('\\203\\1\\2')", "ERR:user_script:1: Missing bytes in input."),
            ("return cmsgpack.unpack('\\193')", "ERR:user_script:1: Bad data format in input."),
            ("return cmsgpack.unpack('\\196\\1a')", "ERR:user_script:1: Bad data format in input."),
            ("return cmsgpack.unpack('\\212\\1\\2')", "ERR:user_script:1: Bad data format in input."),
            ("return cmsgpack.unpack('')", "nil"),
            ("return select('#', cmsgpack.unpack(''))", "0"),
            ("return select('#', cmsgpack.unpack('\\1\\2\\3'))", "3"),
            ("return select(3, cmsgpack.unpack('\\1\\2\\3'))", "3"),
            ("return cjson.encode(cmsgpack.unpack('\\147\\1\\2\\3'))", "[1,2,3]"),
            ("return cjson.encode(cmsgpack.unpack('\\144'))", "{}"),
            ("return cjson.encode(cmsgpack.unpack('\\128'))", "{}"),
            ("return cjson.encode(cmsgpack.unpack('\\130\\161a\\1\\161b\\2'))", "{\"a\":1,\"b\":2}"),
            ("return cjson.encode(cmsgpack.unpack('\\220\\0\\2\\1\\2'))", "[1,2]"),
            ("return cjson.encode(cmsgpack.unpack('\\221\\0\\0\\0\\2\\1\\2'))", "[1,2]"),
            ("return cjson.encode(cmsgpack.unpack('\\222\\0\\1\\1\\2'))", "[2]"),
            ("return cjson.encode(cmsgpack.unpack('\\223\\0\\0\\0\\1\\161k\\145\\1'))", "{\"k\":[1]}"),
            ("return cjson.encode(cmsgpack.unpack('\\147\\1\\192\\3'))", "[1,null,3]"),
            ("return cmsgpack.unpack('\\129\\192\\1')", "ERR:table index is nil"),
            ("return cmsgpack.unpack('\\129\\203\\127\\248\\0\\0\\0\\0\\0\\0\\1')", "ERR:table index is NaN"),
            ("return cjson.encode(cmsgpack.unpack('\\130\\1\\2\\1\\3'))", "[3]"),
            ("return cmsgpack.unpack('\\147\\1\\2')", "ERR:user_script:1: Missing bytes in input."),
            ("return cmsgpack.unpack('\\130\\1')", "ERR:user_script:1: Missing bytes in input."),
            ("return cmsgpack.unpack('\\220\\0')", "ERR:user_script:1: Missing bytes in input."),
            ("return cmsgpack.unpack('\\145\\193')", "ERR:user_script:1: Bad data format in input."),
            ("return cmsgpack.unpack(5)", "53"),
            ("return cmsgpack.unpack()", "ERR:user_script:1: bad argument #1 to 'unpack' (string expected, got no value)"),
            ("return cmsgpack.unpack({})", "ERR:user_script:1: bad argument #1 to 'unpack' (string expected, got table)"),
            ("return hex(cmsgpack.pack(cmsgpack.unpack(cmsgpack.pack({1, {a='b'}, 'c', 2.5}))))", "940181a161a162a163ca40200000"),
            ("local t = {} for i=1,7999 do t[i]=1 end return select('#', cmsgpack.unpack(cmsgpack.pack(unpack(t))))", "ERR:user_script:1: bad argument #0 to 'pack' (Too many arguments for MessagePack pack.)"),
            ("local t = {} for i=1,3000 do t[i]=1 end local s = string.rep(cmsgpack.pack(unpack(t)), 3) return select('#', cmsgpack.unpack(s))", "ERR:user_script:1: stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"),
            ("local t = {} for i=1,3000 do t[i]=1 end local s = string.rep(cmsgpack.pack(unpack(t)), 2) .. string.rep('\\1', 1998) return select('#', cmsgpack.unpack(s))", "7998"),
            ("local t = {} for i=1,3000 do t[i]=1 end local s = string.rep(cmsgpack.pack(unpack(t)), 2) .. string.rep('\\1', 1999) return select('#', cmsgpack.unpack(s))", "7999"),
            ("return select('#', cmsgpack.unpack(string.rep('\\145', 3998) .. '\\1'))", "1"),
            ("return select('#', cmsgpack.unpack(string.rep('\\145', 3999) .. '\\1'))", "1"),
            ("return select('#', cmsgpack.unpack(string.rep('\\145', 4000) .. '\\1'))", "ERR:user_script:1: stack overflow (in function mp_decode_to_lua_array)"),
            ("return select('#', cmsgpack.unpack(string.rep('\\129\\1', 3998) .. '\\1'))", "1"),
            ("return select('#', cmsgpack.unpack(string.rep('\\129\\1', 4000) .. '\\1'))", "ERR:user_script:1: stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"),
            ("return select('#', cmsgpack.unpack(string.rep('\\129\\145', 2000) .. '\\1'))", "ERR:user_script:1: Missing bytes in input."),
            ("return select('#', cmsgpack.unpack(string.rep('\\145', 100000) .. '\\1'))", "ERR:user_script:1: stack overflow (in function mp_decode_to_lua_array)"),
            // unpack_one / unpack_limit
            ("return cmsgpack.unpack_one('\\1\\2\\3')", "1"),
            ("return select(2, cmsgpack.unpack_one('\\1\\2\\3'))", "1"),
            ("return select('#', cmsgpack.unpack_one('\\1\\2\\3'))", "2"),
            ("return cmsgpack.unpack_one('\\1\\2\\3', 1)", "2"),
            ("return select(2, cmsgpack.unpack_one('\\1\\2\\3', 1))", "2"),
            ("return cmsgpack.unpack_one('\\1\\2\\3', 2)", "-1"),
            ("return select(2, cmsgpack.unpack_one('\\1\\2\\3', 2))", "3"),
            ("return cmsgpack.unpack_one('\\1\\2\\3', 3)", "-1"),
            ("return select('#', cmsgpack.unpack_one('\\1\\2\\3', 3))", "1"),
            ("return cmsgpack.unpack_one('\\1\\2\\3', 4)", "ERR:user_script:1: Start offset 4 greater than input length 3."),
            ("return cmsgpack.unpack_one('\\1\\2\\3', -1)", "ERR:user_script:1: Invalid request to unpack with offset of -1 and limit of 3."),
            ("return cmsgpack.unpack_one('\\1\\2\\3', 'x')", "ERR:user_script:1: bad argument #2 to 'unpack_one' (number expected, got string)"),
            ("return cmsgpack.unpack_one('\\1\\2\\3', '1')", "2"),
            ("return cmsgpack.unpack_one('\\1\\2\\3', 1.9)", "2"),
            ("return cmsgpack.unpack_one('\\1\\2\\3', nil)", "1"),
            ("return cmsgpack.unpack_one('')", "-1"),
            ("return select('#', cmsgpack.unpack_one(''))", "1"),
            ("return cmsgpack.unpack_one()", "ERR:user_script:1: bad argument #1 to 'unpack_one' (string expected, got no value)"),
            ("return cmsgpack.unpack_one(nil, 1)", "ERR:user_script:1: bad argument #1 to 'unpack_one' (string expected, got nil)"),
            ("return cmsgpack.unpack_one('\\147\\1')", "ERR:user_script:1: Missing bytes in input."),
            ("return cmsgpack.unpack_limit('\\1\\2\\3', 2)", "2"),
            ("return select('#', cmsgpack.unpack_limit('\\1\\2\\3', 2))", "3"),
            ("return select(3, cmsgpack.unpack_limit('\\1\\2\\3', 2))", "2"),
            ("return cmsgpack.unpack_limit('\\1\\2\\3', 3)", "-1"),
            ("return cmsgpack.unpack_limit('\\1\\2\\3', 10)", "-1"),
            ("return select('#', cmsgpack.unpack_limit('\\1\\2\\3', 10))", "4"),
            ("return cmsgpack.unpack_limit('\\1\\2\\3', 0)", "1"),
            ("return select('#', cmsgpack.unpack_limit('\\1\\2\\3', 0))", "3"),
            ("return cmsgpack.unpack_limit('\\1\\2\\3', 0, 1)", "1"),
            ("return select('#', cmsgpack.unpack_limit('\\1\\2\\3', 0, 1))", "1"),
            ("return cmsgpack.unpack_limit('\\1\\2\\3', 2, 1)", "-1"),
            ("return select(3, cmsgpack.unpack_limit('\\1\\2\\3', 2, 1))", "3"),
            ("return cmsgpack.unpack_limit('\\1\\2\\3', -1)", "ERR:user_script:1: Invalid request to unpack with offset of 0 and limit of 3."),
            ("return cmsgpack.unpack_limit('\\1\\2\\3', 1, -5)", "ERR:user_script:1: Invalid request to unpack with offset of -5 and limit of 3."),
            ("return cmsgpack.unpack_limit('\\1\\2\\3', 1, 2^32 + 1)", "ERR:user_script:1: Start offset 1 greater than input length 3."),
            ("return cmsgpack.unpack_limit('\\1\\2\\3', 1, 9)", "ERR:user_script:1: Start offset 9 greater than input length 3."),
            ("return cmsgpack.unpack_limit('\\1\\2\\3')", "ERR:user_script:1: bad argument #2 to 'unpack_limit' (number expected, got no value)"),
            ("return cmsgpack.unpack_limit('\\1\\2\\3', 'x')", "ERR:user_script:1: bad argument #2 to 'unpack_limit' (number expected, got string)"),
            ("return cmsgpack.unpack_limit('\\1\\2\\3', 1, 'x')", "ERR:user_script:1: bad argument #3 to 'unpack_limit' (number expected, got string)"),
            ("return cmsgpack.unpack_limit('\\1\\2', 2^40)", "-1"),
            ("return select('#', cmsgpack.unpack_limit('\\1\\2', 2^40))", "3"),
            ("return cmsgpack.unpack_limit('\\1\\2\\3\\4', 2, 3)", "-1"),
            ("return select('#', cmsgpack.unpack_limit('\\1\\2\\3\\4', 2, 3))", "2"),
            // module
            ("return cmsgpack._VERSION", "lua-cmsgpack 0.4.0"),
            ("return cmsgpack._COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo"),
            ("return cmsgpack._DESCRIPTION", "MessagePack C implementation for Lua"),
            ("return cmsgpack._NAME", "cmsgpack"),
            ("local r = {} for k in pairs(cmsgpack) do r[#r+1] = k end return table.concat(r, ',')", "_DESCRIPTION,pack,_NAME,unpack,_COPYRIGHT,_VERSION,unpack_one,unpack_limit"),
            ("local r = {} for k in pairs(bit) do r[#r+1] = k end return table.concat(r, ',')", "band,rshift,bor,bnot,bswap,bxor,tobit,ror,lshift,tohex,rol,arshift"),
            ("local r = {} for k in pairs(struct) do r[#r+1] = k end return table.concat(r, ',')", "pack,size,unpack"),
            ("local r = {} for k in pairs(cjson) do r[#r+1] = k end return table.concat(r, ',')", "_NAME,encode,decode_max_depth,_VERSION,decode_invalid_numbers,encode_keep_buffer,null,encode_number_precision,new,encode_max_depth,encode_invalid_numbers,decode,encode_sparse_array"),
            ("return tostring(cjson.null)", "userdata: (nil)"),
        ]);
    }
}
