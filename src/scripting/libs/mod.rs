//! The Lua libraries Redis scripts rely on besides Lua's own: `cjson`, `bit`, `struct` and
//! `cmsgpack`, written against mlua to behave as the C libraries Redis 7.0 bundles.
//!
//! They are written as raw Lua C functions (`mlua::ffi`), not as mlua callbacks, because the
//! observable behaviour depends on it:
//! - errors must be plain Lua strings (`pcall(cjson.decode, "x")` returns the message as a
//!   string), and argument errors must name the function the way `luaL_argerror` does from the
//!   call site ("bad argument #1 to 'band' (number expected, got string)");
//! - `cmsgpack.unpack` and `struct.unpack` can return thousands of values and the limit is the
//!   Lua C stack (8000 slots, "stack overflow (too many results)"), while mlua would hold each
//!   returned string or table as a registry reference and panic past its own limit;
//! - nesting limits are Lua stack checks (`lua_checkstack`) at the same points as in C.
//!
//! Unwinding discipline: a Lua error is a `longjmp` through our frames. Every function here
//! keeps only plain data (integers, raw pointers, fixed arrays) alive across a Lua API call that
//! may raise, so no destructor is ever skipped. Growable buffers live inside Lua userdata
//! (freed by `__gc`), never in a Rust local, and every path that raises hands its loaned
//! buffers back first (see `Lease`).
//!
//! Everything here is `unsafe` for one reason: it is the Lua C API. The functions are only
//! called by Lua with a valid state; pointers into Lua strings are used while the string is
//! on the stack; userdata pointers are used while the userdata is an upvalue or on the stack.

use std::ffi::{c_char, c_int, CStr};
use std::fmt::{self, Write};
use std::mem::{align_of, size_of};
use std::ptr;

use mlua::{ffi, Lua, Table};

mod bit;
mod cjson;
mod cmsgpack;
mod structlib;

/// A raw Lua state, as the C functions receive it.
type State = *mut ffi::lua_State;

/// `LUAI_MAXCSTACK` of Lua 5.1: the most slots a C function may use on the Lua stack.
const MAX_C_STACK: c_int = 8000;

/// Adds `cjson`, `bit`, `struct` and `cmsgpack` to `globals` (the script sandbox's table of
/// globals, which is made read-only afterwards).
pub fn open(lua: &Lua, globals: &Table) -> mlua::Result<()> {
    // SAFETY: the openers only push values on the state they are given; exec_raw runs them in
    // a protected call and takes the four tables they leave on the stack.
    let (cjson, structt, cmsgpack, bit): (Table, Table, Table, Table) = unsafe {
        lua.exec_raw((), |l| {
            cjson::open(l);
            structlib::open(l);
            cmsgpack::open(l);
            bit::open(l);
        })?
    };
    // Same order as Redis registers them, so `pairs(_G)` walks them alike.
    globals.raw_set("cjson", cjson)?;
    globals.raw_set("struct", structt)?;
    globals.raw_set("cmsgpack", cmsgpack)?;
    globals.raw_set("bit", bit)?;
    Ok(())
}

/// A fixed-capacity text buffer for error messages: formatting needs no heap allocation, so
/// nothing is left to drop when `lua_error` jumps out of the frame that holds it.
struct MsgBuf {
    buf: [u8; 256],
    len: usize,
}

impl MsgBuf {
    fn new() -> MsgBuf {
        MsgBuf {
            buf: [0; 256],
            len: 0,
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// NUL-terminates the text for the C API (truncating the last byte if full).
    fn c_str(&mut self) -> *const c_char {
        let end = self.len.min(self.buf.len() - 1);
        self.buf[end] = 0;
        self.buf.as_ptr().cast()
    }
}

impl Write for MsgBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.buf.len() - 1 - self.len;
        let n = s.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// Pushes `s` as a Lua string.
unsafe fn push_bytes(l: State, s: &[u8]) {
    ffi::lua_pushlstring_(l, s.as_ptr().cast(), s.len());
}

/// `luaL_error`: raises the formatted message, prefixed with the position of the Lua code that
/// called the library function ("user_script:1: "; nothing when called from C, e.g. `pcall`).
unsafe fn raise(l: State, args: fmt::Arguments) -> ! {
    let mut m = MsgBuf::new();
    let _ = m.write_fmt(args);
    ffi::luaL_error(l, c"%s".as_ptr(), m.c_str());
    ffi::lua_error(l)
}

/// `luaL_argerror`: "bad argument #n to 'name' (msg)", naming the function from the call site.
unsafe fn arg_error(l: State, narg: c_int, args: fmt::Arguments) -> ! {
    let mut m = MsgBuf::new();
    let _ = m.write_fmt(args);
    ffi::luaL_argerror(l, narg, m.c_str());
    ffi::lua_error(l)
}

/// `luaL_checkstack` of Lua 5.1 (mlua's compat version reserves 20 more slots).
unsafe fn check_stack(l: State, n: c_int, msg: &CStr) {
    if ffi::lua_checkstack(l, n) == 0 {
        ffi::luaL_error(l, c"stack overflow (%s)".as_ptr(), msg.as_ptr());
    }
}

/// `(int)x` as x86-64 computes it (`cvttsd2si`): out of range and NaN give `INT_MIN`.
fn c_int_of(x: f64) -> i32 {
    if !(x > -2147483649.0 && x < 2147483648.0) {
        i32::MIN
    } else {
        x as i32
    }
}

/// `(int64_t)x` as x86-64 computes it: out of range and NaN give `INT64_MIN`.
fn c_i64_of(x: f64) -> i64 {
    if !(-9223372036854775808.0..9223372036854775808.0).contains(&x) {
        i64::MIN
    } else {
        x as i64
    }
}

/// `(uint64_t)x` as gcc computes it on x86-64 (two `cvttsd2si` paths split at 2^63).
fn c_u64_of(x: f64) -> u64 {
    if x >= 9223372036854775808.0 {
        (c_i64_of(x - 9223372036854775808.0) as u64) ^ (1 << 63)
    } else {
        c_i64_of(x) as u64
    }
}

/// `__gc` of a userdata holding a Rust value: takes the value out (dropping it) and leaves a
/// default one behind, so a second call does nothing harmful.
unsafe extern "C-unwind" fn gc_take<T: Default>(l: State) -> c_int {
    let p = ffi::lua_touserdata(l, 1) as *mut T;
    if !p.is_null() {
        drop(std::mem::take(&mut *p));
    }
    0
}

/// Pushes a new userdata holding `T::default()`, with a `__gc` that drops it. The metatable is
/// shared per `name` (in the registry) and hidden from `getmetatable`.
unsafe fn push_userdata<T: Default>(l: State, name: &CStr) -> *mut T {
    const { assert!(align_of::<T>() <= 8) };
    let p = ffi::lua_newuserdata(l, size_of::<T>()) as *mut T;
    // No Lua call between building the value and storing it: nothing to leak if one raises.
    ptr::write(p, T::default());
    if ffi::luaL_newmetatable_(l, name.as_ptr()) != 0 {
        ffi::lua_pushcclosure(l, gc_take::<T>, 0);
        ffi::lua_setfield(l, -2, c"__gc".as_ptr());
        ffi::lua_pushboolean(l, 0);
        ffi::lua_setfield(l, -2, c"__metatable".as_ptr());
    }
    ffi::lua_setmetatable(l, -2);
    p
}

/// Working memory a library function reuses between calls: an output buffer and a stack of
/// frames for the iterative walks (nesting can go thousands deep; Rust recursion would risk the
/// thread's stack).
struct Scratch<F> {
    buf: Vec<u8>,
    frames: Vec<F>,
    busy: bool,
}

impl<F> Default for Scratch<F> {
    fn default() -> Self {
        Scratch {
            buf: Vec::new(),
            frames: Vec::new(),
            busy: false,
        }
    }
}

/// A `Scratch` lent to one call: the shared one when free, else (a re-entrant call, or one left
/// marked busy by an error) a temporary userdata pushed on the stack, collected by the GC.
#[derive(Clone, Copy)]
struct Lease<F> {
    s: *mut Scratch<F>,
    shared: bool,
}

impl<F: 'static> Lease<F> {
    /// Borrows `shared`'s buffers, emptied. `pushed()` tells whether a slot was pushed.
    unsafe fn take(l: State, shared: *mut Scratch<F>, name: &CStr) -> Lease<F> {
        if !(*shared).busy {
            (*shared).busy = true;
            (*shared).buf.clear();
            (*shared).frames.clear();
            Lease {
                s: shared,
                shared: true,
            }
        } else {
            Lease {
                s: push_userdata::<Scratch<F>>(l, name),
                shared: false,
            }
        }
    }

    fn pushed(&self) -> bool {
        !self.shared
    }

    /// Ends the loan. Shared buffers grown past `keep_limit` bytes are freed.
    unsafe fn release(&self, keep_limit: usize) {
        if self.shared {
            let s = &mut *self.s;
            s.busy = false;
            if s.buf.capacity() > keep_limit {
                s.buf = Vec::new();
            }
            if s.frames.capacity() * size_of::<F>() > keep_limit {
                s.frames = Vec::new();
            }
        }
    }

    /// The output buffer. Unbounded lifetime: valid until `release`, and the caller must not
    /// hold two of these at once.
    unsafe fn buf<'b>(&self) -> &'b mut Vec<u8> {
        &mut (*self.s).buf
    }

    /// The frame stack (a field apart from the buffer). Valid until `release`.
    unsafe fn frames<'b>(&self) -> &'b mut Vec<F> {
        &mut (*self.s).frames
    }
}

/// Appends bytes to a fixed array, dropping what does not fit.
struct Out<'a> {
    out: &'a mut [u8; 32],
    n: usize,
}

impl Out<'_> {
    fn put(&mut self, b: u8) {
        if let Some(slot) = self.out.get_mut(self.n) {
            *slot = b;
            self.n += 1;
        }
    }

    fn put_all(&mut self, s: &[u8]) {
        for &b in s {
            self.put(b);
        }
    }
}

/// Formats `x` as C's `printf("%.<prec>g", x)` into `out`, returning the length (at most 32).
fn format_g(out: &mut [u8; 32], x: f64, prec: usize) -> usize {
    let prec = prec.clamp(1, 17);
    let mut o = Out { out, n: 0 };
    if x.is_nan() || x.is_infinite() {
        if x.is_sign_negative() {
            o.put(b'-');
        }
        o.put_all(if x.is_nan() { b"nan" } else { b"inf" });
        return o.n;
    }
    // Rust's `{:e}` is exact and rounds ties to even as glibc does: take its digits and
    // exponent, then lay them out as %g would.
    let mut e = MsgBuf::new();
    let _ = write!(e, "{:.*e}", prec - 1, x);
    let s = e.as_bytes();
    let (neg, s) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    let epos = s.iter().position(|&b| b == b'e').unwrap_or(s.len());
    let mut digits = [0u8; 20];
    let mut nd = 0;
    for &b in &s[..epos] {
        if b.is_ascii_digit() && nd < digits.len() {
            digits[nd] = b;
            nd += 1;
        }
    }
    let mut exp: i32 = 0;
    let mut eneg = false;
    for &b in s.get(epos + 1..).unwrap_or(&[]) {
        match b {
            b'-' => eneg = true,
            b'0'..=b'9' => exp = exp.saturating_mul(10).saturating_add((b - b'0') as i32),
            _ => {}
        }
    }
    if eneg {
        exp = -exp;
    }
    // %g drops trailing zeros of the significant digits.
    while nd > 1 && digits[nd - 1] == b'0' {
        nd -= 1;
    }
    if neg {
        o.put(b'-');
    }
    if exp < -4 || exp >= prec as i32 {
        o.put(digits[0]);
        if nd > 1 {
            o.put(b'.');
            o.put_all(&digits[1..nd]);
        }
        o.put(b'e');
        o.put(if exp < 0 { b'-' } else { b'+' });
        let a = exp.unsigned_abs();
        if a >= 100 {
            o.put(b'0' + (a / 100 % 10) as u8);
        }
        o.put(b'0' + (a / 10 % 10) as u8);
        o.put(b'0' + (a % 10) as u8);
    } else if exp < 0 {
        o.put_all(b"0.");
        for _ in 0..(-exp - 1) {
            o.put(b'0');
        }
        o.put_all(&digits[..nd]);
    } else {
        let int_digits = exp as usize + 1;
        for i in 0..int_digits {
            o.put(digits.get(i).filter(|_| i < nd).copied().unwrap_or(b'0'));
        }
        if nd > int_digits {
            o.put(b'.');
            o.put_all(&digits[int_digits..nd]);
        }
    }
    o.n
}

#[cfg(test)]
mod tests {
    /// A fixed-seed generator, so the sweeps below are the same on every run.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 ^ (self.0 >> 29)
        }
    }

    /// `format_g` against C's printf, reached through Lua's `string.format` (which hands the
    /// format to sprintf): random bit patterns, values near rounding ties and powers of ten.
    #[test]
    fn format_g_matches_printf() {
        let lua = mlua::Lua::new();
        let fmt: mlua::Function = lua
            .load("return function(x, p) return string.format('%.' .. p .. 'g', x) end")
            .eval()
            .expect("chunk");
        let mut rng = Lcg(42);
        let mut values = vec![0.0, -0.0, 0.5, 1.5, 2.5, 0.125, 1e15, 1e16, 1e-5, 1e-4, 9.5];
        for e in -30..30 {
            values.push(10f64.powi(e));
            values.push(-(10f64.powi(e)) * 1.5);
            values.push(0.5 * 10f64.powi(e));
        }
        for _ in 0..3000 {
            let x = f64::from_bits(rng.next());
            if x.is_finite() {
                values.push(x);
            }
            values.push((rng.next() % 2_000_000) as f64 / 64.0);
            values.push((rng.next() % 100_000) as f64 * 10f64.powi((rng.next() % 40) as i32 - 20));
        }
        let mut bad = Vec::new();
        for &x in &values {
            for prec in [1usize, 2, 3, 5, 14] {
                let want: String = fmt.call((x, prec)).expect("format");
                let mut out = [0u8; 32];
                let n = super::format_g(&mut out, x, prec);
                let got = String::from_utf8_lossy(&out[..n]).into_owned();
                if got != want {
                    bad.push(format!("{x:e} %.{prec}g: got {got} want {want}"));
                }
            }
        }
        assert!(bad.is_empty(), "{}", bad[..bad.len().min(20)].join("\n"));
    }

    /// An allocation failure while a shared buffer is lent (the result string cannot be made)
    /// leaves it marked busy; later calls then work on temporary buffers and give the same
    /// results, extra arguments and all.
    #[test]
    fn calls_after_a_memory_error_still_work() {
        use super::testutil::{lua, run};
        let lua = lua();
        lua.load("big = string.rep('x', 2000000) packed = cmsgpack.pack(big .. 'z')")
            .exec()
            .expect("setup");
        let fail = [
            "return #cjson.encode({big})",
            "return #cmsgpack.pack(big, 1)",
            "return #cjson.decode(encoded)",
            "return #cmsgpack.unpack(packed)",
        ];
        // Decoded strings must be new ones (equal strings are shared), so they need memory.
        lua.load("encoded = cjson.encode(big .. 'y') collectgarbage()")
            .exec()
            .expect("setup");
        lua.set_memory_limit(lua.used_memory() + 1_000_000)
            .expect("limit");
        for code in fail {
            let got = run(&lua, code);
            assert_eq!(
                &got[..got.len().min(100)],
                "ERR:not enough memory",
                "{code}"
            );
        }
        lua.set_memory_limit(0).expect("no limit");
        let after = [
            ("return #cjson.encode({big, 1})", "2000006"),
            ("return #cmsgpack.pack(big, 1)", "2000006"),
            (
                "return cjson.encode({cjson.decode('[1,{\"a\":[2]}]')})",
                "[[1,{\"a\":[2]}]]",
            ),
            ("return #cjson.decode(encoded)", "2000001"),
            (
                "return select('#', cmsgpack.unpack(cmsgpack.pack(1, 2, 3), 'extra'))",
                "3",
            ),
            (
                "return select(3, cmsgpack.unpack(cmsgpack.pack(1, 2, 3), 'extra'))",
                "3",
            ),
            (
                "return select(2, cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 1, 1))",
                "2",
            ),
            ("return #cmsgpack.unpack(packed)", "2000001"),
        ];
        for (code, want) in after {
            assert_eq!(run(&lua, code), want, "{code}");
        }
    }
}

/// Unit-test helpers: a Lua state with the libraries, and a runner returning a chunk's result
/// as text (or "ERR:" and the error message).
#[cfg(test)]
mod testutil {
    use mlua::Lua;

    pub fn lua() -> Lua {
        let lua = Lua::new();
        super::open(&lua, &lua.globals()).expect("open libs");
        lua
    }

    /// A `hex(s)` helper for binary results, defined the same way in the oracle runs.
    const HEX: &str = "local function hex(s) return (string.gsub(s, '.', function(c) \
        return string.format('%02x', string.byte(c)) end)) end";

    /// Runs `code` (a function body) under pcall; returns `tostring` of its first result.
    pub fn run(lua: &Lua, code: &str) -> String {
        let wrapped = format!(
            "{HEX} local ok, r = pcall(function() {code} end) \
             if ok then return tostring(r) else return 'ERR:' .. tostring(r) end"
        );
        // Redis names the chunk "@user_script": error positions read "user_script:1:".
        match lua
            .load(&wrapped)
            .set_name("@user_script")
            .eval::<mlua::String>()
        {
            Ok(s) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
            Err(e) => format!("LOADERR:{e}"),
        }
    }

    /// Checks each (code, expected) pair, reporting every mismatch at once.
    pub fn check_all(cases: &[(&str, &str)]) {
        let lua = lua();
        let mut bad = Vec::new();
        for (code, want) in cases {
            let got = run(&lua, code);
            if got != *want {
                bad.push(format!("{code}\n   got: {got:?}\n  want: {want:?}"));
            }
        }
        assert!(
            bad.is_empty(),
            "{} mismatches:\n{}",
            bad.len(),
            bad.join("\n")
        );
    }
}
