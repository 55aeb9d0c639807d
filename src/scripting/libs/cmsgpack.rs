//! `cmsgpack`: lua-cmsgpack 0.4.0 as Redis bundles it: MessagePack encoding of Lua values
//! (`pack`, several values concatenated) and decoding of a stream of them (`unpack`,
//! `unpack_one`, `unpack_limit`).
//!
//! Encoding: whole numbers in int64 range become the smallest integer type, other numbers a
//! float when one represents them exactly, else a double; tables whose keys are exactly 1..n
//! become arrays, others maps; tables nested 16 deep, functions and other values become nil.

use std::ffi::{c_int, CStr};

use mlua::ffi;

use super::{check_stack, check_stack_as, raise, Lease, Scratch, State};

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

/// `table_is_an_array`: keys exactly 1..n (raw walk).
unsafe fn table_is_an_array(l: State, adj: c_int) -> bool {
    let top = ffi::lua_gettop(l);
    let mut count: i32 = 0;
    let mut max: i32 = 0;
    check_stack_as(l, 2, adj, c"in function table_is_an_array");
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
            return false;
        }
        let n = super::c_int_of(n);
        if n > max {
            max = n;
        }
        count = count.wrapping_add(1);
    }
    ffi::lua_settop(l, top);
    max == count
}

/// Packs the value on top of the stack and pops it. `adj` is how many more slots the C
/// library's stack holds at this point than ours (it keeps each packed argument's string).
unsafe fn encode_value(l: State, buf: *mut Vec<u8>, level: i32, adj: c_int) {
    let mut t = ffi::lua_type(l, -1);
    if t == ffi::LUA_TTABLE && level == MAX_NESTING {
        t = ffi::LUA_TNIL;
    }
    match t {
        ffi::LUA_TSTRING => {
            let mut len = 0;
            let s = ffi::lua_tolstring(l, -1, &mut len) as *const u8;
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
            if table_is_an_array(l, adj) {
                let len = ffi::lua_objlen(l, -1);
                encode_header(&mut *buf, len as u64, 0x90, 0xdc, 0xdd);
                check_stack_as(l, 1, adj, c"in function mp_encode_lua_table_as_array");
                for j in 1..=len {
                    ffi::lua_pushnumber(l, j as f64);
                    // Not raw: an __index metamethod is honoured, as in C.
                    ffi::lua_gettable_(l, -2);
                    encode_value(l, buf, level + 1, adj);
                }
            } else {
                check_stack_as(l, 3, adj, c"in function mp_encode_lua_table_as_map");
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
                    encode_value(l, buf, level + 1, adj);
                    encode_value(l, buf, level + 1, adj);
                }
            }
        }
        _ => (*buf).push(0xc0),
    }
    ffi::lua_settop(l, -2);
}

/// `cmsgpack.pack(...)`: the arguments packed one after the other.
unsafe extern "C-unwind" fn pack(l: State) -> c_int {
    let nargs = ffi::lua_gettop(l);
    if nargs == 0 {
        super::arg_error(l, 0, format_args!("MessagePack pack needs input."));
    }
    if ffi::lua_checkstack(l, nargs) == 0 {
        super::arg_error(l, 0, format_args!("Too many arguments for MessagePack pack."));
    }
    let lease = Lease::take(l, shared(l), SCRATCH);
    let buf: *mut Vec<u8> = lease.buf();
    let pushed = lease.pushed() as c_int;
    for i in 1..=nargs {
        // C has the strings of arguments 1..i-1 on its stack; ours may hold the lease.
        let adj = (i - 1) - pushed;
        check_stack_as(l, 1, adj, c"in function mp_check");
        ffi::lua_pushvalue(l, i);
        encode_value(l, buf, 0, adj);
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
        check_stack(l, 1, TOO_MANY);
        // Takes `n` bytes of the value (header included) or fails with Eof.
        let need = |n: usize| -> Result<&[u8], DecodeError> {
            rest.get(..n).ok_or(DecodeError::Eof)
        };
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
            0xd9 | 0xda | 0xdb => {
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
                check_stack(l, 1, c"in function mp_decode_to_lua_array");
                if len > 0 {
                    frames.push(Frame::Array { left: len, next: 2 });
                    ffi::lua_pushnumber(l, 1.0);
                    continue 'value;
                }
            } else if len > 0 {
                frames.push(Frame::Map { left: len, value: false });
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
                    ffi::lua_settable(l, -3);
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
                    // Not raw: a nil or NaN key raises "table index is nil/NaN", as in C.
                    ffi::lua_settable(l, -3);
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
    let data = std::slice::from_raw_parts(s, len);
    let mut pos = offset as usize;
    let lease = Lease::take(l, shared(l), SCRATCH);
    let mut cnt: c_int = 0;
    while pos < len && (cnt as ffi::lua_Integer) < limit {
        match decode_one(l, data, &mut pos, lease.frames()) {
            Ok(()) => {}
            Err(e) => {
                lease.release(KEEP_LIMIT);
                raise(
                    l,
                    format_args!(
                        "{}",
                        match e {
                            DecodeError::Eof => "Missing bytes in input.",
                            DecodeError::BadFormat => "Bad data format in input.",
                        }
                    ),
                );
            }
        }
        cnt += 1;
    }
    lease.release(KEEP_LIMIT);
    if lease.pushed() {
        // The temporary scratch sits between the argument and the results: drop it.
        ffi::lua_remove(l, 2);
    }
    if !decode_all {
        check_stack(l, 1, c"in function mp_unpack_full");
        let next = if pos == len { -1 } else { pos as ffi::lua_Integer };
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
