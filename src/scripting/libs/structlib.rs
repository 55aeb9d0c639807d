//! `struct`: Roberto Ierusalimschy's struct library (struct.c 1.4, with the bounds fixes Redis
//! applied) for packing Lua values into binary strings and back, as on x86-64 Linux: `long`
//! and `size_t` are 8 bytes, `int` 4, native order little endian, maximum alignment 8.

use std::ffi::c_int;
use std::mem::MaybeUninit;

use mlua::ffi;

use super::{arg_error, check_stack, raise, State};

/// Largest size of an `i`/`I` integer.
const MAX_INT_SIZE: i32 = 32;
/// Default of `!` without a number: the alignment of a double.
const MAX_ALIGN: i32 = 8;

/// The format string being read. Reading stops at the first NUL, as C's string walk does.
struct Fmt {
    p: *const u8,
    len: usize,
    i: usize,
}

impl Fmt {
    unsafe fn at(&self, k: usize) -> u8 {
        if k < self.len {
            *self.p.add(k)
        } else {
            0
        }
    }

    unsafe fn peek(&self) -> u8 {
        self.at(self.i)
    }

    /// `getnum`: a decimal number at the cursor (C `int` arithmetic), or `df`.
    unsafe fn getnum(&mut self, df: i32) -> i32 {
        if !self.peek().is_ascii_digit() {
            return df;
        }
        let mut a: i32 = 0;
        while self.peek().is_ascii_digit() {
            a = a.wrapping_mul(10).wrapping_add((self.peek() - b'0') as i32);
            self.i += 1;
        }
        a
    }
}

/// Byte order and maximum alignment in force.
struct Header {
    little: bool,
    align: usize,
}

fn isp2(x: i32) -> bool {
    x > 0 && (x & (x - 1)) == 0
}

/// `optsize`: the size of option `opt` (reading its number, if any).
unsafe fn optsize(l: State, opt: u8, f: &mut Fmt) -> usize {
    match opt {
        b'B' | b'b' => 1,
        b'H' | b'h' => 2,
        b'L' | b'l' | b'T' | b'd' => 8,
        b'f' => 4,
        b'x' => 1,
        b'c' => f.getnum(1) as isize as usize,
        b'i' | b'I' => {
            let sz = f.getnum(4);
            if sz > MAX_INT_SIZE {
                raise(
                    l,
                    format_args!("integral size {sz} is larger than limit of {MAX_INT_SIZE}"),
                );
            }
            sz as isize as usize
        }
        _ => 0,
    }
}

/// `gettoalign`: padding before an item of `size` at offset `len`.
fn gettoalign(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    (size.wrapping_sub(len & size.wrapping_sub(1))) & size.wrapping_sub(1)
}

/// `controloptions`: spaces, byte order and alignment; anything else is an invalid option.
unsafe fn controloptions(l: State, opt: u8, f: &mut Fmt, h: &mut Header) {
    match opt {
        b' ' => {}
        b'>' => h.little = false,
        b'<' => h.little = true,
        b'!' => {
            let a = f.getnum(MAX_ALIGN);
            if !isp2(a) {
                raise(l, format_args!("alignment {a} is not a power of 2"));
            }
            h.align = a as usize;
        }
        _ => arg_error(
            l,
            1,
            format_args!("invalid format option '{}'", char::from(opt)),
        ),
    }
}

unsafe fn check_fmt(l: State) -> Fmt {
    let mut len = 0;
    let p = ffi::luaL_checklstring(l, 1, &mut len) as *const u8;
    Fmt { p, len, i: 0 }
}

/// Integer bytes of `n` as struct.c converts it: through `long` when negative, else through
/// `unsigned long`.
fn integer_bits(n: f64) -> u64 {
    if n < 0.0 {
        super::c_i64_of(n) as u64
    } else {
        super::c_u64_of(n)
    }
}

/// `struct.pack(fmt, ...)`.
unsafe extern "C-unwind" fn pack(l: State) -> c_int {
    let mut f = check_fmt(l);
    let mut h = Header {
        little: true,
        align: 1,
    };
    let mut arg: c_int = 2;
    let mut total: usize = 0;
    ffi::lua_pushnil(l); // separates the arguments from the buffer's pieces, as in C
    let mut b = MaybeUninit::<ffi::luaL_Buffer>::uninit();
    let b = b.as_mut_ptr();
    ffi::luaL_buffinit(l, b);
    loop {
        let opt = f.peek();
        if opt == 0 {
            break;
        }
        f.i += 1;
        let mut size = optsize(l, opt, &mut f);
        let toalign = gettoalign(total, &h, opt, size);
        total = total.wrapping_add(toalign);
        for _ in 0..toalign {
            ffi::luaL_addchar(b, 0);
        }
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = ffi::luaL_checknumber(l, arg);
                arg += 1;
                let value = integer_bits(n);
                // Sizes past 8 bytes get the value's sign-less high bytes as zeros.
                let mut bytes = [0u8; MAX_INT_SIZE as usize];
                let size = size.min(bytes.len());
                for (k, slot) in bytes[..size].iter_mut().enumerate() {
                    *slot = if k < 8 { (value >> (8 * k)) as u8 } else { 0 };
                }
                if !h.little {
                    bytes[..size].reverse();
                }
                ffi::luaL_addlstring(b, bytes.as_ptr().cast(), size);
            }
            b'x' => ffi::luaL_addchar(b, 0),
            b'f' => {
                let v = ffi::luaL_checknumber(l, arg) as f32;
                arg += 1;
                let bytes = if h.little {
                    v.to_le_bytes()
                } else {
                    v.to_be_bytes()
                };
                ffi::luaL_addlstring(b, bytes.as_ptr().cast(), 4);
            }
            b'd' => {
                let v = ffi::luaL_checknumber(l, arg);
                arg += 1;
                let bytes = if h.little {
                    v.to_le_bytes()
                } else {
                    v.to_be_bytes()
                };
                ffi::luaL_addlstring(b, bytes.as_ptr().cast(), 8);
            }
            b'c' | b's' => {
                let mut len = 0;
                let s = ffi::luaL_checklstring(l, arg, &mut len);
                arg += 1;
                if size == 0 {
                    size = len;
                }
                // C checks against the already advanced argument number.
                if len < size {
                    arg_error(l, arg, format_args!("string too short"));
                }
                ffi::luaL_addlstring(b, s, size);
                if opt == b's' {
                    ffi::luaL_addchar(b, 0);
                    size += 1;
                }
            }
            _ => controloptions(l, opt, &mut f, &mut h),
        }
        total = total.wrapping_add(size);
    }
    ffi::luaL_pushresult(b);
    1
}

/// `getinteger`: `size` bytes as an integer (bytes past 8 shift out of the 64-bit value).
fn getinteger(data: &[u8], little: bool, signed: bool) -> f64 {
    let size = data.len();
    let mut v: u64 = 0;
    if little {
        for &byte in data.iter().rev() {
            v = (v << 8) | byte as u64;
        }
    } else {
        for &byte in data {
            v = (v << 8) | byte as u64;
        }
    }
    if !signed {
        return v as f64;
    }
    // The shift count is taken modulo 64 by the CPU, as in C for sizes outside 1..=8.
    let mask = u64::MAX.wrapping_shl(((size as i32) * 8 - 1) as u32);
    if v & mask != 0 {
        v |= mask;
    }
    v as i64 as f64
}

/// `struct.unpack(fmt, data [, pos])`: the values, then the position after them.
unsafe extern "C-unwind" fn unpack(l: State) -> c_int {
    let mut f = check_fmt(l);
    let mut ld = 0;
    let data = ffi::luaL_checklstring(l, 2, &mut ld) as *const u8;
    let mut pos = ffi::luaL_optinteger(l, 3, 1) as usize;
    if pos == 0 {
        arg_error(l, 3, format_args!("offset must be 1 or greater"));
    }
    pos -= 1;
    let data = std::slice::from_raw_parts(data, ld);
    let mut n: c_int = 0;
    let mut h = Header {
        little: true,
        align: 1,
    };
    loop {
        let opt = f.peek();
        if opt == 0 {
            break;
        }
        f.i += 1;
        let mut size = optsize(l, opt, &mut f);
        pos = pos.wrapping_add(gettoalign(pos, &h, opt, size));
        if !(size <= ld && pos <= ld - size) {
            arg_error(l, 2, format_args!("data string too short"));
        }
        check_stack(l, 2, c"too many results");
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let signed = opt.is_ascii_lowercase();
                ffi::lua_pushnumber(l, getinteger(&data[pos..pos + size], h.little, signed));
                n += 1;
            }
            b'x' => {}
            b'f' => {
                let mut bytes = [0u8; 4];
                bytes.copy_from_slice(&data[pos..pos + 4]);
                let v = if h.little {
                    f32::from_le_bytes(bytes)
                } else {
                    f32::from_be_bytes(bytes)
                };
                ffi::lua_pushnumber(l, v as f64);
                n += 1;
            }
            b'd' => {
                let mut bytes = [0u8; 8];
                bytes.copy_from_slice(&data[pos..pos + 8]);
                let v = if h.little {
                    f64::from_le_bytes(bytes)
                } else {
                    f64::from_be_bytes(bytes)
                };
                ffi::lua_pushnumber(l, v);
                n += 1;
            }
            b'c' => {
                if size == 0 {
                    if n == 0 || ffi::lua_isnumber(l, -1) == 0 {
                        raise(l, format_args!("format 'c0' needs a previous size"));
                    }
                    size = super::c_u64_of(ffi::lua_tonumber(l, -1)) as usize;
                    ffi::lua_settop(l, -2);
                    n -= 1;
                    if !(size <= ld && pos <= ld - size) {
                        arg_error(l, 2, format_args!("data string too short"));
                    }
                }
                super::push_bytes(l, &data[pos..pos + size]);
                n += 1;
            }
            b's' => {
                let Some(end) = data[pos..].iter().position(|&c| c == 0) else {
                    raise(l, format_args!("unfinished string in data"));
                };
                super::push_bytes(l, &data[pos..pos + end]);
                size = end + 1;
                n += 1;
            }
            _ => controloptions(l, opt, &mut f, &mut h),
        }
        pos = pos.wrapping_add(size);
    }
    ffi::lua_pushinteger(l, pos.wrapping_add(1) as ffi::lua_Integer);
    n + 1
}

/// `struct.size(fmt)`: the size of a fixed-size format.
unsafe extern "C-unwind" fn size(l: State) -> c_int {
    let mut f = check_fmt(l);
    let mut h = Header {
        little: true,
        align: 1,
    };
    let mut pos: usize = 0;
    loop {
        let opt = f.peek();
        if opt == 0 {
            break;
        }
        f.i += 1;
        let size = optsize(l, opt, &mut f);
        pos = pos.wrapping_add(gettoalign(pos, &h, opt, size));
        if opt == b's' {
            arg_error(l, 1, format_args!("option 's' has no fixed size"));
        } else if opt == b'c' && size == 0 {
            arg_error(l, 1, format_args!("option 'c0' has no fixed size"));
        }
        if !opt.is_ascii_alphanumeric() {
            controloptions(l, opt, &mut f, &mut h);
        }
        pos = pos.wrapping_add(size);
    }
    ffi::lua_pushinteger(l, pos as ffi::lua_Integer);
    1
}

/// Pushes the `struct` table (created as `luaL_register` does).
pub(super) unsafe fn open(l: State) {
    ffi::lua_createtable(l, 0, 3);
    ffi::lua_pushcclosure(l, pack, 0);
    ffi::lua_setfield(l, -2, c"pack".as_ptr());
    ffi::lua_pushcclosure(l, unpack, 0);
    ffi::lua_setfield(l, -2, c"unpack".as_ptr());
    ffi::lua_pushcclosure(l, size, 0);
    ffi::lua_setfield(l, -2, c"size".as_ptr());
}
