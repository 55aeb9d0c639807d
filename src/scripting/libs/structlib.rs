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

    /// `getnum`: a decimal number at the cursor, or `df`; past `INT_MAX` is an error.
    unsafe fn getnum(&mut self, l: State, df: i32) -> i32 {
        if !self.peek().is_ascii_digit() {
            return df;
        }
        let mut a: i32 = 0;
        while self.peek().is_ascii_digit() {
            let d = (self.peek() - b'0') as i32;
            if a > i32::MAX / 10 || a * 10 > i32::MAX - d {
                raise(l, format_args!("integral size overflow"));
            }
            a = a * 10 + d;
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
        b'c' => f.getnum(l, 1) as usize,
        b'i' | b'I' => {
            let sz = f.getnum(l, 4);
            if sz > MAX_INT_SIZE {
                raise(
                    l,
                    format_args!("integral size {sz} is larger than limit of {MAX_INT_SIZE}"),
                );
            }
            sz as usize
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
            let a = f.getnum(l, MAX_ALIGN);
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
                // Bytes past the 8 of the value are zeros (no sign extension), as in C.
                let mut bytes = [0u8; MAX_INT_SIZE as usize];
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
    // SAFETY: argument 2 stays on the stack (alive, unmoved) for the whole call.
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

#[cfg(test)]
mod tests {
    use super::super::testutil::check_all;

    /// Each expectation is what Redis 7.0.15 returned for the same snippet, run as
    /// `redis-cli -p 7311 eval "<hex helper> local ok, r = pcall(function() <snippet> end)
    /// if ok then return tostring(r) else return 'ERR:' .. tostring(r) end" 0`
    /// (the wrapper of `testutil::run`).
    #[test]
    fn struct_matches_redis() {
        check_all(&[
            ("return hex(struct.pack('b', -1))", "ff"),
            ("return hex(struct.pack('B', 255))", "ff"),
            ("return hex(struct.pack('B', 256))", "00"),
            ("return hex(struct.pack('b', 128))", "80"),
            ("return hex(struct.pack('h', -2))", "feff"),
            ("return hex(struct.pack('>h', -2))", "fffe"),
            ("return hex(struct.pack('<H', 0x1234))", "3412"),
            ("return hex(struct.pack('>H', 0x1234))", "1234"),
            ("return hex(struct.pack('l', -1))", "ffffffffffffffff"),
            ("return hex(struct.pack('>l', 1))", "0000000000000001"),
            ("return hex(struct.pack('L', 2^63))", "0000000000000080"),
            ("return hex(struct.pack('>L', 2^64))", "0000000000000000"),
            (
                "return hex(struct.pack('>L', 2^64 + 2^20))",
                "0000000000000000",
            ),
            ("return hex(struct.pack('>L', 1/0))", "0000000000000000"),
            ("return hex(struct.pack('>L', -1/0))", "8000000000000000"),
            ("return hex(struct.pack('>L', 0/0))", "8000000000000000"),
            ("return hex(struct.pack('>l', -2^63))", "8000000000000000"),
            ("return hex(struct.pack('>l', -2^64))", "8000000000000000"),
            ("return hex(struct.pack('>L', 1.9))", "0000000000000001"),
            ("return hex(struct.pack('>L', -1.9))", "ffffffffffffffff"),
            ("return hex(struct.pack('T', 5))", "0500000000000000"),
            ("return hex(struct.pack('i', -3))", "fdffffff"),
            ("return hex(struct.pack('>i', 7))", "00000007"),
            ("return hex(struct.pack('>I2', 0x1234))", "1234"),
            ("return hex(struct.pack('<I3', 0x123456))", "563412"),
            (
                "return hex(struct.pack('>i16', -1))",
                "0000000000000000ffffffffffffffff",
            ),
            (
                "return hex(struct.pack('<i16', -1))",
                "ffffffffffffffff0000000000000000",
            ),
            (
                "return hex(struct.pack('>I32', 5))",
                "0000000000000000000000000000000000000000000000000000000000000005",
            ),
            ("return hex(struct.pack('i0', 5))", ""),
            (
                "return hex(struct.pack('i33', 5))",
                "ERR:user_script:1: integral size 33 is larger than limit of 32",
            ),
            (
                "return hex(struct.pack('i99999999999', 5))",
                "ERR:user_script:1: integral size overflow",
            ),
            ("return hex(struct.pack('f', 1.5))", "0000c03f"),
            ("return hex(struct.pack('>f', 1.5))", "3fc00000"),
            ("return hex(struct.pack('>f', 0.1))", "3dcccccd"),
            ("return hex(struct.pack('>f', 1e40))", "7f800000"),
            ("return hex(struct.pack('>d', 0.1))", "3fb999999999999a"),
            ("return hex(struct.pack('<d', -2.5))", "00000000000004c0"),
            ("return hex(struct.pack('x'))", "00"),
            ("return hex(struct.pack('bxb', 1, 2))", "010002"),
            ("return hex(struct.pack('c', 'abc'))", "61"),
            ("return hex(struct.pack('c2', 'abc'))", "6162"),
            ("return hex(struct.pack('c0', 'abc'))", "616263"),
            (
                "return hex(struct.pack('c5', 'abc'))",
                "ERR:user_script:1: bad argument #3 to 'pack' (string too short)",
            ),
            ("return hex(struct.pack('s', 'ab'))", "616200"),
            ("return hex(struct.pack('s', 'a\\0b'))", "61006200"),
            ("return hex(struct.pack('ss', 'a', 'b'))", "61006200"),
            ("return hex(struct.pack('s', 12))", "313200"),
            (
                "return hex(struct.pack('s', nil))",
                "ERR:user_script:1: bad argument #2 to 'pack' (string expected, got nil)",
            ),
            (
                "return hex(struct.pack('i', 'x'))",
                "ERR:user_script:1: bad argument #2 to 'pack' (number expected, got string)",
            ),
            ("return hex(struct.pack('i', '12'))", "0c000000"),
            (
                "return hex(struct.pack('i'))",
                "ERR:user_script:1: bad argument #2 to 'pack' (number expected, got nil)",
            ),
            ("return hex(struct.pack('bi', 1, 2))", "0102000000"),
            ("return hex(struct.pack('!bi', 1, 2))", "0100000002000000"),
            ("return hex(struct.pack('!2bi', 1, 2))", "010002000000"),
            (
                "return hex(struct.pack('!4bd', 1, 2))",
                "010000000000000000000040",
            ),
            (
                "return hex(struct.pack('!bd', 1, 2))",
                "01000000000000000000000000000040",
            ),
            (
                "return hex(struct.pack('!8bhd', 1, 2, 3))",
                "01000200000000000000000000000840",
            ),
            (
                "return hex(struct.pack('!3b', 1))",
                "ERR:user_script:1: alignment 3 is not a power of 2",
            ),
            (
                "return hex(struct.pack('!0b', 1))",
                "ERR:user_script:1: alignment 0 is not a power of 2",
            ),
            (
                "return hex(struct.pack('!bc3i', 1, 'abc', 2))",
                "0161626302000000",
            ),
            (
                "return hex(struct.pack('!bsi', 1, 'ab', 2))",
                "0161620002000000",
            ),
            ("return hex(struct.pack('> < b', 1))", "01"),
            (
                "return hex(struct.pack('z', 1))",
                "ERR:user_script:1: bad argument #1 to 'pack' (invalid format option 'z')",
            ),
            (
                "return hex(struct.pack('b5', 1))",
                "ERR:user_script:1: bad argument #1 to 'pack' (invalid format option '5')",
            ),
            ("return hex(struct.pack('', 1))", ""),
            (
                "return hex(struct.pack(12, 1))",
                "ERR:user_script:1: bad argument #1 to 'pack' (invalid format option '1')",
            ),
            (
                "return hex(struct.pack())",
                "ERR:user_script:1: bad argument #1 to 'pack' (string expected, got no value)",
            ),
            ("return hex(struct.pack('b\\0b', 1, 2))", "01"),
            (
                "return hex(struct.pack('>!4 h i', 1, 2))",
                "0001000000000002",
            ),
            ("return struct.unpack('b', '\\255')", "-1"),
            ("return struct.unpack('B', '\\255')", "255"),
            ("return select('#', struct.unpack('bb', '\\1\\2'))", "3"),
            ("return select(3, struct.unpack('bb', '\\1\\2'))", "3"),
            ("return struct.unpack('>h', '\\255\\254')", "-2"),
            ("return struct.unpack('<h', '\\255\\254')", "-257"),
            ("return struct.unpack('>H', '\\255\\254')", "65534"),
            (
                "return struct.unpack('>i', '\\128\\0\\0\\0')",
                "-2147483648",
            ),
            ("return struct.unpack('>I', '\\128\\0\\0\\0')", "2147483648"),
            (
                "return struct.unpack('>l', '\\255\\255\\255\\255\\255\\255\\255\\255')",
                "-1",
            ),
            (
                "return struct.unpack('>L', '\\255\\255\\255\\255\\255\\255\\255\\255')",
                "1.844674407371e+19",
            ),
            ("return struct.unpack('>i3', '\\255\\255\\254')", "-2"),
            ("return struct.unpack('<i3', '\\255\\255\\254')", "-65537"),
            (
                "return struct.unpack('>i16', string.rep('\\255', 16))",
                "-1",
            ),
            (
                "return struct.unpack('>I16', string.rep('\\1', 16))",
                "7.2340172838077e+16",
            ),
            (
                "return struct.unpack('>I9', string.rep('\\1', 9))",
                "7.2340172838077e+16",
            ),
            ("return struct.unpack('>i0', 'abc')", "0"),
            ("return select('#', struct.unpack('>i0', 'abc'))", "2"),
            ("return struct.unpack('>f', '\\63\\192\\0\\0')", "1.5"),
            ("return struct.unpack('<f', '\\0\\0\\192\\63')", "1.5"),
            ("return struct.unpack('>d', struct.pack('>d', 0.1))", "0.1"),
            (
                "return struct.unpack('<d', struct.pack('<d', -1e300))",
                "-1e+300",
            ),
            ("return struct.unpack('>f', '\\127\\128\\0\\0')", "inf"),
            ("return struct.unpack('>f', '\\127\\192\\0\\0')", "nan"),
            ("return struct.unpack('c3', 'abcdef')", "abc"),
            ("return select(2, struct.unpack('c3', 'abcdef'))", "4"),
            (
                "return struct.unpack('c0', 'abc')",
                "ERR:user_script:1: format 'c0' needs a previous size",
            ),
            ("return struct.unpack('bc0', '\\2abc')", "ab"),
            ("return select('#', struct.unpack('bc0', '\\2abc'))", "2"),
            (
                "return struct.unpack('bc0', '\\5abc')",
                "ERR:user_script:1: bad argument #2 to 'unpack' (data string too short)",
            ),
            ("return struct.unpack('s', 'ab\\0cd')", "ab"),
            ("return select(2, struct.unpack('s', 'ab\\0cd'))", "4"),
            ("return select(2, struct.unpack('ss', 'ab\\0cd\\0'))", "cd"),
            (
                "return struct.unpack('s', 'abc')",
                "ERR:user_script:1: unfinished string in data",
            ),
            (
                "return struct.unpack('b', '')",
                "ERR:user_script:1: bad argument #2 to 'unpack' (data string too short)",
            ),
            (
                "return struct.unpack('h', '\\1')",
                "ERR:user_script:1: bad argument #2 to 'unpack' (data string too short)",
            ),
            ("return struct.unpack('b', 'ab', 2)", "98"),
            ("return select(2, struct.unpack('b', 'ab', 2))", "3"),
            (
                "return struct.unpack('b', 'ab', 3)",
                "ERR:user_script:1: bad argument #2 to 'unpack' (data string too short)",
            ),
            (
                "return struct.unpack('b', 'ab', 0)",
                "ERR:user_script:1: bad argument #3 to 'unpack' (offset must be 1 or greater)",
            ),
            (
                "return struct.unpack('b', 'ab', -1)",
                "ERR:user_script:1: bad argument #2 to 'unpack' (data string too short)",
            ),
            (
                "return struct.unpack('b', 'ab', 'x')",
                "ERR:user_script:1: bad argument #3 to 'unpack' (number expected, got string)",
            ),
            ("return struct.unpack('b', 'ab', 1.7)", "97"),
            ("return struct.unpack('x', 'a')", "2"),
            ("return select('#', struct.unpack('xb', 'ab'))", "2"),
            (
                "return struct.unpack('!bi', '\\1\\0\\0\\0\\2\\0\\0\\0')",
                "1",
            ),
            (
                "return select(2, struct.unpack('!bi', '\\1\\0\\0\\0\\2\\0\\0\\0'))",
                "2",
            ),
            (
                "return select(3, struct.unpack('!bi', '\\1\\0\\0\\0\\2\\0\\0\\0'))",
                "9",
            ),
            (
                "return struct.unpack('!bi', '\\1\\0\\0\\0\\2\\0\\0')",
                "ERR:user_script:1: bad argument #2 to 'unpack' (data string too short)",
            ),
            (
                "return struct.unpack('q', 'a')",
                "ERR:user_script:1: bad argument #1 to 'unpack' (invalid format option 'q')",
            ),
            (
                "return struct.unpack('b')",
                "ERR:user_script:1: bad argument #2 to 'unpack' (string expected, got no value)",
            ),
            (
                "return struct.unpack()",
                "ERR:user_script:1: bad argument #1 to 'unpack' (string expected, got no value)",
            ),
            ("return struct.unpack('b', 5)", "53"),
            (
                "return struct.unpack(5, 'a')",
                "ERR:user_script:1: bad argument #1 to 'unpack' (invalid format option '5')",
            ),
            (
                "return select('#', struct.unpack(string.rep('b', 7000), string.rep('a', 7000)))",
                "7001",
            ),
            (
                "return select('#', struct.unpack(string.rep('b', 8000), string.rep('a', 8000)))",
                "ERR:user_script:1: stack overflow (too many results)",
            ),
            (
                "return struct.unpack(string.rep('b', 9000), string.rep('a', 9000))",
                "ERR:user_script:1: stack overflow (too many results)",
            ),
            ("return struct.size('b')", "1"),
            ("return struct.size('bhlid')", "23"),
            ("return struct.size('!bhlid')", "32"),
            ("return struct.size('!bd')", "16"),
            ("return struct.size('!2bd')", "10"),
            ("return struct.size('c5')", "5"),
            (
                "return struct.size('c0')",
                "ERR:user_script:1: bad argument #1 to 'size' (option 'c0' has no fixed size)",
            ),
            (
                "return struct.size('s')",
                "ERR:user_script:1: bad argument #1 to 'size' (option 's' has no fixed size)",
            ),
            (
                "return struct.size('bs')",
                "ERR:user_script:1: bad argument #1 to 'size' (option 's' has no fixed size)",
            ),
            ("return struct.size('z')", "0"),
            ("return struct.size('5')", "0"),
            ("return struct.size('q')", "0"),
            (
                "return struct.size('!3')",
                "ERR:user_script:1: alignment 3 is not a power of 2",
            ),
            (
                "return struct.size('i33')",
                "ERR:user_script:1: integral size 33 is larger than limit of 32",
            ),
            ("return struct.size('i3')", "3"),
            ("return struct.size('T')", "8"),
            ("return struct.size('x')", "1"),
            ("return struct.size('')", "0"),
            ("return struct.size('>')", "0"),
            (
                "return struct.size('#')",
                "ERR:user_script:1: bad argument #1 to 'size' (invalid format option '#')",
            ),
            (
                "return struct.size()",
                "ERR:user_script:1: bad argument #1 to 'size' (string expected, got no value)",
            ),
            ("return struct.size(12)", "0"),
            ("return hex(struct.pack('!1 b i', 1, 2))", "0102000000"),
            (
                "return struct.unpack('!3i', '')",
                "ERR:user_script:1: alignment 3 is not a power of 2",
            ),
            (
                "return hex(struct.pack('!16bd', 1, 2))",
                "01000000000000000000000000000040",
            ),
            ("return hex(struct.pack('!8bi2', 1, 2))", "01000200"),
            ("return hex(struct.pack('!4bi3', 1, 2))", "010000020000"),
            ("return struct.size('!4bi3b')", "7"),
            ("return struct.size('!4bi3bi3')", "10"),
        ]);
    }
}
