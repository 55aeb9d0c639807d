//! `bit`: LuaBitOp 1.0.2 as Redis bundles it. Numbers are taken modulo 2^32 (through the
//! 2^52+2^51 rounding trick, so fractions round half to even) and results are signed 32-bit.

use std::ffi::c_int;

use mlua::ffi;

use super::State;

/// `barg`: argument `idx` as 32 bits. A non-number that converts to 0 is a type error, as in
/// LuaBitOp on Lua 5.1 (so `bit.band("0x10")` is 16 and `bit.band({})` an error).
unsafe fn barg(l: State, idx: c_int) -> u32 {
    let n = ffi::lua_tonumber(l, idx);
    let b = (n + 6755399441055744.0).to_bits() as u32;
    if b == 0 && ffi::lua_isnumber(l, idx) == 0 {
        ffi::luaL_typerror(l, idx, c"number".as_ptr());
    }
    b
}

/// Pushes a result as LuaBitOp's BRET: the 32 bits read as a signed integer.
unsafe fn bret(l: State, b: u32) -> c_int {
    ffi::lua_pushnumber(l, b as i32 as f64);
    1
}

unsafe extern "C-unwind" fn tobit(l: State) -> c_int {
    bret(l, barg(l, 1))
}

unsafe extern "C-unwind" fn bnot(l: State) -> c_int {
    bret(l, !barg(l, 1))
}

/// The folds over all arguments: the first is read first, then the rest from the last down.
unsafe fn fold(l: State, op: fn(u32, u32) -> u32) -> c_int {
    let mut b = barg(l, 1);
    let mut i = ffi::lua_gettop(l);
    while i > 1 {
        b = op(b, barg(l, i));
        i -= 1;
    }
    bret(l, b)
}

unsafe extern "C-unwind" fn band(l: State) -> c_int {
    fold(l, |a, b| a & b)
}

unsafe extern "C-unwind" fn bor(l: State) -> c_int {
    fold(l, |a, b| a | b)
}

unsafe extern "C-unwind" fn bxor(l: State) -> c_int {
    fold(l, |a, b| a ^ b)
}

/// Shifts and rotates: the count is taken modulo 32.
unsafe fn shift(l: State, op: fn(u32, u32) -> u32) -> c_int {
    let b = barg(l, 1);
    let n = barg(l, 2) & 31;
    bret(l, op(b, n))
}

unsafe extern "C-unwind" fn lshift(l: State) -> c_int {
    shift(l, |b, n| b << n)
}

unsafe extern "C-unwind" fn rshift(l: State) -> c_int {
    shift(l, |b, n| b >> n)
}

unsafe extern "C-unwind" fn arshift(l: State) -> c_int {
    shift(l, |b, n| ((b as i32) >> n) as u32)
}

unsafe extern "C-unwind" fn rol(l: State) -> c_int {
    shift(l, |b, n| b.rotate_left(n))
}

unsafe extern "C-unwind" fn ror(l: State) -> c_int {
    shift(l, |b, n| b.rotate_right(n))
}

unsafe extern "C-unwind" fn bswap(l: State) -> c_int {
    bret(l, barg(l, 1).swap_bytes())
}

/// `tohex(x [, n])`: the low `|n|` hex digits (default 8, at most 8), upper case when `n` < 0.
unsafe extern "C-unwind" fn tohex(l: State) -> c_int {
    let mut b = barg(l, 1);
    let n: i32 = if ffi::lua_isnone(l, 2) != 0 {
        8
    } else {
        barg(l, 2) as i32
    };
    let digits: &[u8; 16] = if n < 0 {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    // -INT_MIN overflows in C; gcc's code then treats it as large, i.e. 8 digits.
    let n = n.unsigned_abs().min(8) as usize;
    let mut buf = [0u8; 8];
    for slot in buf[..n].iter_mut().rev() {
        *slot = digits[(b & 15) as usize];
        b >>= 4;
    }
    super::push_bytes(l, &buf[..n]);
    1
}

/// Pushes the `bit` table (created as `luaL_register` does, sized for its twelve functions).
pub(super) unsafe fn open(l: State) {
    let funcs: [(&std::ffi::CStr, ffi::lua_CFunction); 12] = [
        (c"tobit", tobit),
        (c"bnot", bnot),
        (c"band", band),
        (c"bor", bor),
        (c"bxor", bxor),
        (c"lshift", lshift),
        (c"rshift", rshift),
        (c"arshift", arshift),
        (c"rol", rol),
        (c"ror", ror),
        (c"bswap", bswap),
        (c"tohex", tohex),
    ];
    ffi::lua_createtable(l, 0, funcs.len() as c_int);
    for (name, f) in funcs {
        ffi::lua_pushcclosure(l, f, 0);
        ffi::lua_setfield(l, -2, name.as_ptr());
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
    fn bit_matches_redis() {
        check_all(&[
            ("return bit.tobit(1)", "1"),
            ("return bit.tobit(2^31)", "-2147483648"),
            ("return bit.tobit(2^32 + 5)", "5"),
            ("return bit.tobit(-1)", "-1"),
            ("return bit.tobit(0xffffffff)", "-1"),
            ("return bit.tobit(1.5)", "2"),
            ("return bit.tobit(2.5)", "2"),
            ("return bit.tobit(-1.5)", "-2"),
            ("return bit.tobit(2^52)", "0"),
            ("return bit.tobit(2^53 + 3)", "2"),
            ("return bit.tobit(1e300)", "-2013235812"),
            ("return bit.tobit(0/0)", "0"),
            ("return bit.tobit(1/0)", "0"),
            ("return bit.tobit('0x10')", "16"),
            ("return bit.tobit(' 12 ')", "12"),
            (
                "return bit.tobit('abc')",
                "ERR:user_script:1: bad argument #1 to 'tobit' (number expected, got string)",
            ),
            ("return bit.tobit('0')", "0"),
            (
                "return bit.tobit()",
                "ERR:user_script:1: bad argument #1 to 'tobit' (number expected, got no value)",
            ),
            (
                "return bit.tobit({})",
                "ERR:user_script:1: bad argument #1 to 'tobit' (number expected, got table)",
            ),
            (
                "return bit.tobit(nil)",
                "ERR:user_script:1: bad argument #1 to 'tobit' (number expected, got nil)",
            ),
            (
                "return bit.tobit(true)",
                "ERR:user_script:1: bad argument #1 to 'tobit' (number expected, got boolean)",
            ),
            ("return bit.bnot(0)", "-1"),
            ("return bit.bnot(-1)", "0"),
            ("return bit.bnot(0x12345678)", "-305419897"),
            ("return bit.band(0xff, 0x0f)", "15"),
            ("return bit.band(-1, 0x80000000)", "-2147483648"),
            ("return bit.band(1)", "1"),
            ("return bit.band(7, 3, 1)", "1"),
            (
                "return bit.band(7, 3, 'x')",
                "ERR:user_script:1: bad argument #3 to 'band' (number expected, got string)",
            ),
            (
                "return bit.band('x', 3)",
                "ERR:user_script:1: bad argument #1 to 'band' (number expected, got string)",
            ),
            (
                "return bit.band()",
                "ERR:user_script:1: bad argument #1 to 'band' (number expected, got no value)",
            ),
            ("return bit.bor(1, 2, 4, 8)", "15"),
            ("return bit.bor(0x80000000, 1)", "-2147483647"),
            ("return bit.bxor(0xff, 0x0f)", "240"),
            ("return bit.bxor(-1, 1)", "-2"),
            ("return bit.bxor(1, 2, 3)", "0"),
            ("return bit.lshift(1, 31)", "-2147483648"),
            ("return bit.lshift(1, 32)", "1"),
            ("return bit.lshift(1, 33)", "2"),
            ("return bit.lshift(1, -1)", "-2147483648"),
            ("return bit.lshift(0xff, 4)", "4080"),
            ("return bit.rshift(-1, 28)", "15"),
            ("return bit.rshift(0x80000000, 31)", "1"),
            ("return bit.rshift(256, 4)", "16"),
            ("return bit.arshift(-256, 4)", "-16"),
            ("return bit.arshift(0x80000000, 31)", "-1"),
            ("return bit.arshift(256, 4)", "16"),
            ("return bit.rol(0x12345678, 8)", "878082066"),
            ("return bit.rol(0x12345678, 0)", "305419896"),
            ("return bit.rol(0x80000001, 1)", "3"),
            ("return bit.ror(0x12345678, 8)", "2014458966"),
            ("return bit.ror(1, 1)", "-2147483648"),
            ("return bit.ror(1, 33)", "-2147483648"),
            ("return bit.bswap(0x12345678)", "2018915346"),
            ("return bit.bswap(-1)", "-1"),
            ("return bit.bswap(0xff)", "-16777216"),
            ("return bit.tohex(0x1234abcd)", "1234abcd"),
            ("return bit.tohex(255)", "000000ff"),
            ("return bit.tohex(255, 2)", "ff"),
            ("return bit.tohex(255, -2)", "FF"),
            ("return bit.tohex(-1)", "ffffffff"),
            ("return bit.tohex(-1, -8)", "FFFFFFFF"),
            ("return bit.tohex(0xabc, 12)", "00000abc"),
            ("return bit.tohex(0xabc, -12)", "00000ABC"),
            ("return bit.tohex(0xabc, 0)", ""),
            ("return bit.tohex(0xabc, 1)", "c"),
            ("return bit.tohex(0xabc, -2^31)", "00000ABC"),
            ("return bit.tohex(0xabc, 2^31)", "00000ABC"),
            ("return bit.tohex(2^32 + 0xabc)", "00000abc"),
            (
                "return bit.tohex('x')",
                "ERR:user_script:1: bad argument #1 to 'tohex' (number expected, got string)",
            ),
            (
                "return bit.tohex(1, 'x')",
                "ERR:user_script:1: bad argument #2 to 'tohex' (number expected, got string)",
            ),
            (
                "return bit.lshift(1)",
                "ERR:user_script:1: bad argument #2 to 'lshift' (number expected, got no value)",
            ),
            (
                "return bit.rshift()",
                "ERR:user_script:1: bad argument #1 to 'rshift' (number expected, got no value)",
            ),
            (
                "local f = bit.band; return f('x')",
                "ERR:user_script:1: bad argument #1 to 'f' (number expected, got string)",
            ),
            ("return pcall(bit.band, 'x')", "false"),
            (
                "local ok, e = pcall(bit.bor, {}) return e",
                "bad argument #1 to '?' (number expected, got table)",
            ),
            ("return bit.band(1.4999, 3)", "1"),
            ("return bit.bor(0.5)", "0"),
            ("return bit.bor(-0.5)", "0"),
            ("return bit.bor(-2^31 - 1)", "2147483647"),
            ("return bit.bor(2^31 - 1)", "2147483647"),
        ]);
    }
}
