//! `cjson`: Lua CJSON 2.1.0 as Redis bundles it: `encode`/`decode` between Lua values and JSON,
//! the configuration functions (kept per module instance; `cjson.new()` makes another) and
//! `cjson.null` (a NULL light userdata).
//!
//! Encoding: tables whose keys are all positive integers become arrays (holes as `null`,
//! "excessively sparse" ones an error or an object), other tables objects in `next()` order;
//! numbers print as `%.14g`. Decoding accepts what Lua CJSON accepts, including its lenient
//! numbers (hex, `inf`, `nan`, leading `+`, through C's `strtod`), and reports errors with the
//! same messages and 1-based character positions.

use std::ffi::{c_int, CStr};
use std::ptr;

use mlua::ffi;

use super::{arg_error, raise, Lease, Scratch, State};

/// Buffers above this size are freed after a call instead of kept for the next one.
const KEEP_LIMIT: usize = 1 << 16;

/// One container being encoded.
#[derive(Clone, Copy)]
enum EncFrame {
    /// An array of `len` items; `next` is the index to write next.
    Array { next: c_int, len: c_int },
    /// An object walked with `lua_next`; `first` until a member has been written.
    Object { first: bool },
}

/// One container being decoded.
#[derive(Clone, Copy)]
enum DecFrame {
    /// An array; `next` is the index its next value takes.
    Array { next: c_int },
    /// An object whose pending key is on the stack.
    Object,
}

/// A module instance's settings and working memory (the upvalue of its functions).
struct Config {
    encode_sparse_convert: c_int,
    encode_sparse_ratio: c_int,
    encode_sparse_safe: c_int,
    encode_max_depth: c_int,
    decode_max_depth: c_int,
    /// 0: error, 1: allowed (NaN as `nan`), 2: as `null`.
    encode_invalid_numbers: c_int,
    decode_invalid_numbers: c_int,
    encode_keep_buffer: c_int,
    encode_number_precision: c_int,
    encode: Scratch<EncFrame>,
    decode: Scratch<DecFrame>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            encode_sparse_convert: 0,
            encode_sparse_ratio: 2,
            encode_sparse_safe: 10,
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            encode_invalid_numbers: 0,
            decode_invalid_numbers: 1,
            encode_keep_buffer: 1,
            encode_number_precision: 14,
            encode: Scratch::default(),
            decode: Scratch::default(),
        }
    }
}

const CONFIG: &CStr = c"rcs.cjson.config";
const ENC_SCRATCH: &CStr = c"rcs.cjson.encode";
const DEC_SCRATCH: &CStr = c"rcs.cjson.decode";

unsafe fn config(l: State) -> *mut Config {
    let cfg = ffi::lua_touserdata(l, ffi::lua_upvalueindex(1)) as *mut Config;
    if cfg.is_null() {
        raise(l, format_args!("BUG: Unable to fetch CJSON configuration"));
    }
    cfg
}

// ------------------------------------------------------------------ configuration

/// `json_arg_init`: at most `args` arguments, padded with nils.
unsafe fn arg_init(l: State, args: c_int) -> *mut Config {
    if ffi::lua_gettop(l) > args {
        arg_error(l, args + 1, format_args!("found too many arguments"));
    }
    while ffi::lua_gettop(l) < args {
        ffi::lua_pushnil(l);
    }
    config(l)
}

/// An integer setting: argument `idx` (if not nil) must lie in `min..=max` (the error names
/// argument 1 whatever `idx` is, as in C); pushes the setting.
unsafe fn integer_option(l: State, idx: c_int, setting: *mut c_int, min: c_int, max: c_int) {
    if ffi::lua_isnil(l, idx) == 0 {
        // C stores the lua_Integer in an int.
        let value = ffi::luaL_checkinteger(l, idx) as c_int;
        if !(min <= value && value <= max) {
            arg_error(
                l,
                1,
                format_args!("expected integer between {min} and {max}"),
            );
        }
        *setting = value;
    }
    ffi::lua_pushinteger(l, *setting as ffi::lua_Integer);
}

/// An enumerated setting: a boolean (true meaning `bool_true`) or one of `options`; pushes
/// the setting as a boolean when it is 0 or `bool_true`, else as its name.
unsafe fn enum_option(l: State, idx: c_int, setting: *mut c_int, options: &[&CStr]) {
    let bool_true = 1;
    if ffi::lua_isnil(l, idx) == 0 {
        if ffi::lua_type(l, idx) == ffi::LUA_TBOOLEAN {
            *setting = ffi::lua_toboolean(l, idx) * bool_true;
        } else {
            let mut names = [ptr::null(); 4];
            for (slot, name) in names.iter_mut().zip(options) {
                *slot = name.as_ptr();
            }
            *setting = ffi::luaL_checkoption(l, idx, ptr::null(), names.as_ptr());
        }
    }
    if *setting == 0 || *setting == bool_true {
        ffi::lua_pushboolean(l, *setting);
    } else {
        let name = options.get(*setting as usize).copied().unwrap_or(c"");
        ffi::lua_pushstring_(l, name.as_ptr());
    }
}

const OFF_ON: [&CStr; 2] = [c"off", c"on"];

unsafe extern "C-unwind" fn cfg_encode_sparse_array(l: State) -> c_int {
    let cfg = arg_init(l, 3);
    enum_option(l, 1, &mut (*cfg).encode_sparse_convert, &OFF_ON);
    integer_option(l, 2, &mut (*cfg).encode_sparse_ratio, 0, c_int::MAX);
    integer_option(l, 3, &mut (*cfg).encode_sparse_safe, 0, c_int::MAX);
    3
}

unsafe extern "C-unwind" fn cfg_encode_max_depth(l: State) -> c_int {
    let cfg = arg_init(l, 1);
    integer_option(l, 1, &mut (*cfg).encode_max_depth, 1, c_int::MAX);
    1
}

unsafe extern "C-unwind" fn cfg_decode_max_depth(l: State) -> c_int {
    let cfg = arg_init(l, 1);
    integer_option(l, 1, &mut (*cfg).decode_max_depth, 1, c_int::MAX);
    1
}

unsafe extern "C-unwind" fn cfg_encode_number_precision(l: State) -> c_int {
    let cfg = arg_init(l, 1);
    integer_option(l, 1, &mut (*cfg).encode_number_precision, 1, 14);
    1
}

unsafe extern "C-unwind" fn cfg_encode_keep_buffer(l: State) -> c_int {
    let cfg = arg_init(l, 1);
    enum_option(l, 1, &mut (*cfg).encode_keep_buffer, &OFF_ON);
    1
}

unsafe extern "C-unwind" fn cfg_encode_invalid_numbers(l: State) -> c_int {
    let cfg = arg_init(l, 1);
    enum_option(
        l,
        1,
        &mut (*cfg).encode_invalid_numbers,
        &[c"off", c"on", c"null"],
    );
    1
}

unsafe extern "C-unwind" fn cfg_decode_invalid_numbers(l: State) -> c_int {
    let cfg = arg_init(l, 1);
    enum_option(l, 1, &mut (*cfg).decode_invalid_numbers, &OFF_ON);
    1
}

// ------------------------------------------------------------------ encoding

/// How each byte is written inside a JSON string: 0 as itself, else the escape's letter
/// (`u` for `\u00XX`).
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 32 {
        t[i] = b'u';
        i += 1;
    }
    t[8] = b'b';
    t[9] = b't';
    t[10] = b'n';
    t[12] = b'f';
    t[13] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t[b'/' as usize] = b'/';
    t[127] = b'u';
    t
};

fn append_string(buf: &mut Vec<u8>, s: &[u8]) {
    buf.reserve(s.len() + 2);
    buf.push(b'"');
    let mut run = 0;
    for (i, &c) in s.iter().enumerate() {
        let e = ESCAPE[c as usize];
        if e == 0 {
            continue;
        }
        buf.extend_from_slice(&s[run..i]);
        run = i + 1;
        if e == b'u' {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            buf.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(c >> 4) as usize],
                HEX[(c & 15) as usize],
            ]);
        } else {
            buf.extend_from_slice(&[b'\\', e]);
        }
    }
    buf.extend_from_slice(&s[run..]);
    buf.push(b'"');
}

/// Powers of ten up to 10^14, for the whole-number fast path.
const POW10: [f64; 15] = [
    1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14,
];

/// An encoding in progress: its settings and its loaned buffers.
struct Encoder {
    cfg: *mut Config,
    lease: Lease<EncFrame>,
}

impl Encoder {
    /// Buffer capacity kept for the next call: none without `encode_keep_buffer`.
    unsafe fn keep_limit(&self) -> usize {
        if (*self.cfg).encode_keep_buffer != 0 {
            KEEP_LIMIT
        } else {
            0
        }
    }

    /// Raises "Cannot serialise <type of idx>: <reason>" after returning the buffers.
    unsafe fn fail(&self, l: State, idx: c_int, reason: &str) -> ! {
        let tname = CStr::from_ptr(ffi::lua_typename(l, ffi::lua_type(l, idx)));
        let tname = tname.to_str().unwrap_or("?");
        self.lease.release(self.keep_limit());
        raise(l, format_args!("Cannot serialise {tname}: {reason}"))
    }

    unsafe fn append_number(&self, l: State, idx: c_int) {
        let num = ffi::lua_tonumber(l, idx);
        let buf = self.lease.buf();
        match (*self.cfg).encode_invalid_numbers {
            0 => {
                if num.is_infinite() || num.is_nan() {
                    self.fail(l, idx, "must not be NaN or Inf");
                }
            }
            1 => {
                if num.is_nan() {
                    buf.extend_from_slice(b"nan");
                    return;
                }
            }
            _ => {
                if num.is_infinite() || num.is_nan() {
                    buf.extend_from_slice(b"null");
                    return;
                }
            }
        }
        let prec = (*self.cfg).encode_number_precision;
        // Whole numbers with at most `prec` digits print as themselves under %.<prec>g: the
        // common case (ids, counts, timestamps) skips the float formatting.
        if num.fract() == 0.0
            && num.abs() < POW10[prec.clamp(1, 14) as usize]
            && (num != 0.0 || num.is_sign_positive())
        {
            buf.extend_from_slice(itoa::Buffer::new().format(num as i64).as_bytes());
            return;
        }
        let mut out = [0u8; 32];
        let n = super::format_g(&mut out, num, prec as usize);
        buf.extend_from_slice(&out[..n]);
    }

    unsafe fn append_lua_string(&self, l: State, idx: c_int) {
        let mut len = 0;
        let s = ffi::lua_tolstring(l, idx, &mut len) as *const u8;
        // SAFETY: a Lua string stays alive and unmoved while it is on the stack.
        append_string(self.lease.buf(), std::slice::from_raw_parts(s, len));
    }

    /// `lua_array_length`: for the table on top, its array length when its keys are all
    /// positive integers (0 if empty), else -1; raises on an excessively sparse array unless
    /// configured to encode it as an object.
    unsafe fn array_length(&self, l: State) -> c_int {
        let cfg = &*self.cfg;
        let mut max: c_int = 0;
        let mut items: c_int = 0;
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, -2) != 0 {
            if ffi::lua_type(l, -2) == ffi::LUA_TNUMBER {
                let k = ffi::lua_tonumber(l, -2);
                if k != 0.0 && k.floor() == k && k >= 1.0 {
                    if k > max as f64 {
                        max = super::c_int_of(k);
                    }
                    items = items.wrapping_add(1);
                    ffi::lua_settop(l, -2);
                    continue;
                }
            }
            ffi::lua_settop(l, -3);
            return -1;
        }
        if cfg.encode_sparse_ratio > 0
            && max > items.wrapping_mul(cfg.encode_sparse_ratio)
            && max > cfg.encode_sparse_safe
        {
            if cfg.encode_sparse_convert == 0 {
                self.fail(l, -1, "excessively sparse array");
            }
            return -1;
        }
        max
    }

    /// Encodes the value on top of the stack (and pops it), walking nested tables with
    /// `frames`; the Lua stack holds what the C recursion holds at each point.
    unsafe fn encode(&self, l: State) {
        let cfg = &*self.cfg;
        let frames = self.lease.frames();
        let mut depth: c_int = 0;
        'value: loop {
            let mut opened = false;
            match ffi::lua_type(l, -1) {
                ffi::LUA_TSTRING => self.append_lua_string(l, -1),
                ffi::LUA_TNUMBER => self.append_number(l, -1),
                ffi::LUA_TBOOLEAN => {
                    let text: &[u8] = if ffi::lua_toboolean(l, -1) != 0 {
                        b"true"
                    } else {
                        b"false"
                    };
                    self.lease.buf().extend_from_slice(text);
                }
                ffi::LUA_TTABLE => {
                    depth += 1;
                    if !(depth <= cfg.encode_max_depth && ffi::lua_checkstack(l, 3) != 0) {
                        self.lease.release(self.keep_limit());
                        raise(
                            l,
                            format_args!("Cannot serialise, excessive nesting ({depth})"),
                        );
                    }
                    // The table stays on the stack until its frame closes.
                    let len = self.array_length(l);
                    if len > 0 {
                        self.lease.buf().push(b'[');
                        frames.push(EncFrame::Array { next: 1, len });
                    } else {
                        self.lease.buf().push(b'{');
                        frames.push(EncFrame::Object { first: true });
                        ffi::lua_pushnil(l);
                    }
                    opened = true;
                }
                ffi::LUA_TNIL => self.lease.buf().extend_from_slice(b"null"),
                ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(l, -1).is_null() => {
                    self.lease.buf().extend_from_slice(b"null")
                }
                _ => self.fail(l, -1, "type not supported"),
            }
            if !opened {
                ffi::lua_settop(l, -2);
            }
            // Move to the next value to write, closing finished containers.
            loop {
                let Some(top) = frames.last_mut() else {
                    return;
                };
                match top {
                    EncFrame::Array { next, len } => {
                        if *next > *len {
                            self.lease.buf().push(b']');
                        } else {
                            if *next > 1 {
                                self.lease.buf().push(b',');
                            }
                            ffi::lua_rawgeti_(l, -1, *next);
                            *next += 1;
                            continue 'value;
                        }
                    }
                    EncFrame::Object { first } => {
                        if ffi::lua_next(l, -2) != 0 {
                            if !*first {
                                self.lease.buf().push(b',');
                            }
                            *first = false;
                            match ffi::lua_type(l, -2) {
                                ffi::LUA_TNUMBER => {
                                    self.lease.buf().push(b'"');
                                    self.append_number(l, -2);
                                    self.lease.buf().extend_from_slice(b"\":");
                                }
                                ffi::LUA_TSTRING => {
                                    self.append_lua_string(l, -2);
                                    self.lease.buf().push(b':');
                                }
                                _ => self.fail(l, -2, "table key must be a number or string"),
                            }
                            continue 'value;
                        }
                        self.lease.buf().push(b'}');
                    }
                }
                frames.pop();
                depth -= 1;
                ffi::lua_settop(l, -2);
            }
        }
    }
}

/// `cjson.encode(value)`.
unsafe extern "C-unwind" fn encode(l: State) -> c_int {
    let cfg = config(l);
    if ffi::lua_gettop(l) != 1 {
        arg_error(l, 1, format_args!("expected 1 argument"));
    }
    let enc = Encoder {
        cfg,
        lease: Lease::take(l, &mut (*cfg).encode, ENC_SCRATCH),
    };
    if enc.lease.pushed() {
        ffi::lua_pushvalue(l, 1);
    }
    enc.encode(l);
    super::push_bytes(l, enc.lease.buf());
    enc.lease.release(enc.keep_limit());
    1
}

// ------------------------------------------------------------------ decoding

/// A token's kind, named as Lua CJSON names them in errors.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str,
    Number,
    Boolean,
    Null,
    Colon,
    Comma,
    End,
    Error,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::ObjBegin => "T_OBJ_BEGIN",
            Kind::ObjEnd => "T_OBJ_END",
            Kind::ArrBegin => "T_ARR_BEGIN",
            Kind::ArrEnd => "T_ARR_END",
            Kind::Str => "T_STRING",
            Kind::Number => "T_NUMBER",
            Kind::Boolean => "T_BOOLEAN",
            Kind::Null => "T_NULL",
            Kind::Colon => "T_COLON",
            Kind::Comma => "T_COMMA",
            Kind::End => "T_END",
            Kind::Error => "T_ERROR",
        }
    }
}

#[derive(Clone, Copy)]
struct Token {
    kind: Kind,
    /// 0-based position of the token (of the problem, for errors).
    index: usize,
    number: f64,
    boolean: bool,
    /// A string token's bytes: `data[start..end]`, or the scratch buffer when `escaped`.
    start: usize,
    end: usize,
    escaped: bool,
    /// What went wrong, for `Kind::Error`.
    error: &'static str,
}

impl Token {
    fn new(kind: Kind, index: usize) -> Token {
        Token {
            kind,
            index,
            number: 0.0,
            boolean: false,
            start: 0,
            end: 0,
            escaped: false,
            error: "",
        }
    }

    fn error(index: usize, error: &'static str) -> Token {
        Token {
            error,
            ..Token::new(Kind::Error, index)
        }
    }
}

/// What kind of token a byte starts; `None` for those needing a closer look.
fn char_kind(c: u8) -> Option<Kind> {
    Some(match c {
        b'{' => Kind::ObjBegin,
        b'}' => Kind::ObjEnd,
        b'[' => Kind::ArrBegin,
        b']' => Kind::ArrEnd,
        b',' => Kind::Comma,
        b':' => Kind::Colon,
        0 => Kind::End,
        b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'"' | b'+' | b'-' | b'0'..=b'9' => return None,
        _ => Kind::Error,
    })
}

fn hex_value(c: u8) -> Option<u32> {
    (c as char).to_digit(16)
}

/// A JSON text being read. Reads past the end see NUL, as C sees the string's terminator.
struct Parser<'a> {
    data: &'a [u8],
    p: usize,
    decode_invalid_numbers: bool,
}

impl Parser<'_> {
    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    /// Whether the bytes at `i` start with `word`, ignoring ASCII case.
    fn starts_nocase(&self, i: usize, word: &[u8]) -> bool {
        word.iter()
            .enumerate()
            .all(|(k, &w)| self.at(i + k).eq_ignore_ascii_case(&w))
    }

    fn starts(&self, i: usize, word: &[u8]) -> bool {
        word.iter().enumerate().all(|(k, &w)| self.at(i + k) == w)
    }

    /// `decode_hex4`: four hex digits at `i`.
    fn hex4(&self, i: usize) -> Option<u32> {
        let mut v = 0;
        for k in 0..4 {
            v = (v << 4) | hex_value(self.at(i + k))?;
        }
        Some(v)
    }

    /// `json_is_invalid_number`: numbers strict JSON rejects but `strtod` would take.
    fn is_invalid_number(&self) -> bool {
        let mut i = self.p;
        if self.at(i) == b'+' {
            return true;
        }
        if self.at(i) == b'-' {
            i += 1;
        }
        let c = self.at(i);
        if c == b'0' {
            let c2 = self.at(i + 1);
            return c2 | 0x20 == b'x' || c2.is_ascii_digit();
        } else if (c as i8) <= b'9' as i8 {
            return false;
        }
        self.starts_nocase(i, b"inf") || self.starts_nocase(i, b"nan")
    }

    fn number_token(&mut self) -> Token {
        match strtod(self, self.p) {
            Some((value, end)) => {
                let mut t = Token::new(Kind::Number, self.p);
                t.number = value;
                self.p = end;
                t
            }
            None => Token::error(self.p, "invalid number"),
        }
    }

    /// `json_next_string_token`, with `self.p` at the opening quote. Strings without escapes
    /// are taken from the input in place; others are built in `tmp`.
    fn string_token(&mut self, tmp: &mut Vec<u8>) -> Token {
        self.p += 1;
        let start = self.p;
        // The common case: no escape before the closing quote.
        while let Some(&c) = self.data.get(self.p) {
            if c == b'"' || c == b'\\' || c == 0 {
                break;
            }
            self.p += 1;
        }
        if self.at(self.p) == b'"' {
            let mut t = Token::new(Kind::Str, start - 1);
            t.start = start;
            t.end = self.p;
            self.p += 1;
            return t;
        }
        tmp.clear();
        tmp.extend_from_slice(&self.data[start..self.p]);
        loop {
            let c = self.at(self.p);
            if c == b'"' {
                break;
            }
            if c == 0 {
                return Token::error(self.p, "unexpected end of string");
            }
            if c != b'\\' {
                tmp.push(c);
                self.p += 1;
                continue;
            }
            let decoded = match self.at(self.p + 1) {
                b'"' => b'"',
                b'\\' => b'\\',
                b'/' => b'/',
                b'b' => 8,
                b't' => b'\t',
                b'n' => b'\n',
                b'f' => 12,
                b'r' => b'\r',
                b'u' => {
                    if self.unicode_escape(tmp) {
                        continue;
                    }
                    return Token::error(self.p, "invalid unicode escape code");
                }
                _ => return Token::error(self.p, "invalid escape code"),
            };
            tmp.push(decoded);
            self.p += 2;
        }
        self.p += 1;
        let mut t = Token::new(Kind::Str, start - 1);
        t.escaped = true;
        t
    }

    /// `json_append_unicode_escape`: `\uXXXX` (or a surrogate pair) at `self.p` as UTF-8.
    fn unicode_escape(&mut self, tmp: &mut Vec<u8>) -> bool {
        let Some(mut cp) = self.hex4(self.p + 2) else {
            return false;
        };
        let mut len = 6;
        if cp & 0xF800 == 0xD800 {
            // A pair must be a high surrogate then an escaped low one.
            if cp & 0x400 != 0 {
                return false;
            }
            if self.at(self.p + 6) != b'\\' || self.at(self.p + 7) != b'u' {
                return false;
            }
            let Some(low) = self.hex4(self.p + 8) else {
                return false;
            };
            if low & 0xFC00 != 0xDC00 {
                return false;
            }
            cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            len = 12;
        }
        if cp <= 0x7F {
            tmp.push(cp as u8);
        } else if cp <= 0x7FF {
            tmp.extend_from_slice(&[(cp >> 6) as u8 | 0xC0, (cp & 0x3F) as u8 | 0x80]);
        } else if cp <= 0xFFFF {
            tmp.extend_from_slice(&[
                (cp >> 12) as u8 | 0xE0,
                ((cp >> 6) & 0x3F) as u8 | 0x80,
                (cp & 0x3F) as u8 | 0x80,
            ]);
        } else {
            tmp.extend_from_slice(&[
                (cp >> 18) as u8 | 0xF0,
                ((cp >> 12) & 0x3F) as u8 | 0x80,
                ((cp >> 6) & 0x3F) as u8 | 0x80,
                (cp & 0x3F) as u8 | 0x80,
            ]);
        }
        self.p += len;
        true
    }

    /// `json_next_token`.
    fn next_token(&mut self, tmp: &mut Vec<u8>) -> Token {
        let mut c = self.at(self.p);
        while matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            self.p += 1;
            c = self.at(self.p);
        }
        match char_kind(c) {
            Some(Kind::Error) => return Token::error(self.p, "invalid token"),
            Some(Kind::End) => return Token::new(Kind::End, self.p),
            Some(kind) => {
                self.p += 1;
                return Token::new(kind, self.p - 1);
            }
            None => {}
        }
        if c == b'"' {
            return self.string_token(tmp);
        }
        if c == b'-' || c.is_ascii_digit() {
            if !self.decode_invalid_numbers && self.is_invalid_number() {
                return Token::error(self.p, "invalid number");
            }
            return self.number_token();
        }
        let index = self.p;
        for (word, kind, value) in [
            (&b"true"[..], Kind::Boolean, true),
            (&b"false"[..], Kind::Boolean, false),
            (&b"null"[..], Kind::Null, false),
        ] {
            if self.starts(index, word) {
                self.p += word.len();
                let mut t = Token::new(kind, index);
                t.boolean = value;
                return t;
            }
        }
        if self.decode_invalid_numbers && self.is_invalid_number() {
            return self.number_token();
        }
        Token::error(index, "invalid token")
    }
}

/// glibc's `strtod` at `data[p..]` (which starts with a sign, a digit, `i`/`I` or `n`/`N`):
/// the value and where it ends, or `None` when no number starts there.
fn strtod(d: &Parser, p: usize) -> Option<(f64, usize)> {
    let mut i = p;
    let neg = match d.at(i) {
        b'-' => {
            i += 1;
            true
        }
        b'+' => {
            i += 1;
            false
        }
        _ => false,
    };
    let sign = |v: f64| if neg { -v } else { v };
    if d.starts_nocase(i, b"inf") {
        i += 3;
        if d.starts_nocase(i, b"inity") {
            i += 5;
        }
        return Some((sign(f64::INFINITY), i));
    }
    if d.starts_nocase(i, b"nan") {
        i += 3;
        if d.at(i) == b'(' {
            let mut j = i + 1;
            while d.at(j).is_ascii_alphanumeric() || d.at(j) == b'_' {
                j += 1;
            }
            if d.at(j) == b')' {
                i = j + 1;
            }
        }
        return Some((sign(f64::NAN), i));
    }
    if d.at(i) == b'0' && d.at(i + 1) | 0x20 == b'x' {
        let j = i + 2;
        let digit_follows =
            hex_value(d.at(j)).is_some() || (d.at(j) == b'.' && hex_value(d.at(j + 1)).is_some());
        if !digit_follows {
            // Only the "0" is a number.
            return Some((sign(0.0), i + 1));
        }
        let (v, end) = hex_float(d, j);
        return Some((sign(v), end));
    }
    let start = i;
    let mut j = i;
    while d.at(j).is_ascii_digit() {
        j += 1;
    }
    let mut digits = j - i;
    if d.at(j) == b'.' {
        let mut k = j + 1;
        while d.at(k).is_ascii_digit() {
            k += 1;
        }
        digits += k - j - 1;
        if digits > 0 {
            j = k;
        }
    }
    if digits == 0 {
        return None;
    }
    if d.at(j) | 0x20 == b'e' {
        let mut k = j + 1;
        if matches!(d.at(k), b'+' | b'-') {
            k += 1;
        }
        if d.at(k).is_ascii_digit() {
            while d.at(k).is_ascii_digit() {
                k += 1;
            }
            j = k;
        }
    }
    let text = std::str::from_utf8(d.data.get(start..j)?).ok()?;
    let v: f64 = text.parse().ok()?;
    Some((sign(v), j))
}

/// The hex digits (and optional `p` exponent) at `i`, correctly rounded to a double.
fn hex_float(d: &Parser, mut i: usize) -> (f64, usize) {
    let mut mant: u64 = 0;
    let mut exp: i64 = 0;
    let mut sticky = false;
    let mut dot = false;
    loop {
        let c = d.at(i);
        if c == b'.' && !dot {
            dot = true;
            i += 1;
            continue;
        }
        let Some(v) = hex_value(c) else { break };
        if mant >> 60 == 0 {
            mant = (mant << 4) | v as u64;
            if dot {
                exp -= 4;
            }
        } else {
            sticky |= v != 0;
            if !dot {
                exp += 4;
            }
        }
        i += 1;
    }
    if d.at(i) | 0x20 == b'p' {
        let mut k = i + 1;
        let eneg = match d.at(k) {
            b'-' => {
                k += 1;
                true
            }
            b'+' => {
                k += 1;
                false
            }
            _ => false,
        };
        if d.at(k).is_ascii_digit() {
            let mut e: i64 = 0;
            while d.at(k).is_ascii_digit() {
                e = (e * 10 + (d.at(k) - b'0') as i64).min(1 << 40);
                k += 1;
            }
            exp += if eneg { -e } else { e };
            i = k;
        }
    }
    (scale_binary(mant, exp, sticky), i)
}

/// `mant * 2^exp` rounded to nearest even, `sticky` telling of nonzero bits below `mant`.
fn scale_binary(mant: u64, exp: i64, sticky: bool) -> f64 {
    if mant == 0 {
        return 0.0;
    }
    let lz = mant.leading_zeros() as i64;
    let m = mant << lz;
    // The value is m * 2^(e - 63), with m's top bit set.
    let e = exp - lz + 63;
    if e > 1023 {
        return f64::INFINITY;
    }
    // Bits of m kept: 53 for normal numbers, fewer below 2^-1022.
    let shift = if e >= -1022 { 11 } else { 11 + (-1022 - e) };
    if shift > 64 {
        return 0.0;
    }
    let (kept, rem, half) = if shift == 64 {
        (0u64, m, 1u64 << 63)
    } else {
        (m >> shift, m & ((1u64 << shift) - 1), 1u64 << (shift - 1))
    };
    let round_up = rem > half || (rem == half && (sticky || kept & 1 == 1));
    let mut kept = kept + round_up as u64;
    if e >= -1022 {
        let mut be = e + 1023;
        if kept == 1 << 53 {
            kept >>= 1;
            be += 1;
        }
        if be >= 2047 {
            return f64::INFINITY;
        }
        f64::from_bits(((be as u64) << 52) | (kept & ((1 << 52) - 1)))
    } else {
        // Subnormal; rounding up to 2^52 gives the smallest normal, whose bits are the same.
        f64::from_bits(kept)
    }
}

/// A decoding in progress.
struct Decoder<'a> {
    parser: Parser<'a>,
    lease: Lease<DecFrame>,
    depth: c_int,
    max_depth: c_int,
}

impl Decoder<'_> {
    /// Raises "Expected <what> but found <token> at character <n>".
    unsafe fn fail(&self, l: State, expected: &str, t: &Token) -> ! {
        self.lease.release(KEEP_LIMIT);
        let found = if t.kind == Kind::Error {
            t.error
        } else {
            t.kind.name()
        };
        raise(
            l,
            format_args!(
                "Expected {expected} but found {found} at character {}",
                t.index as i64 + 1
            ),
        )
    }

    unsafe fn descend(&mut self, l: State, slots: c_int) {
        self.depth += 1;
        if self.depth <= self.max_depth && ffi::lua_checkstack(l, slots) != 0 {
            return;
        }
        self.lease.release(KEEP_LIMIT);
        raise(
            l,
            format_args!(
                "Found too many nested data structures ({}) at character {}",
                self.depth, self.parser.p
            ),
        )
    }

    unsafe fn next(&mut self) -> Token {
        self.parser.next_token(self.lease.buf())
    }

    unsafe fn push_string(&self, l: State, t: &Token) {
        if t.escaped {
            super::push_bytes(l, self.lease.buf());
        } else {
            super::push_bytes(l, &self.parser.data[t.start..t.end]);
        }
    }

    /// After an object's `{` or `,`: pushes the key and reads up to the value's first token.
    unsafe fn member_key(&mut self, l: State, t: Token) -> Token {
        if t.kind != Kind::Str {
            self.fail(l, "object key string", &t);
        }
        self.push_string(l, &t);
        let t = self.next();
        if t.kind != Kind::Colon {
            self.fail(l, "colon", &t);
        }
        self.next()
    }

    /// Decodes the whole text, leaving its value on the stack.
    unsafe fn decode(&mut self, l: State) {
        let frames = self.lease.frames();
        let mut t = self.next();
        'value: loop {
            match t.kind {
                Kind::Str => self.push_string(l, &t),
                Kind::Number => ffi::lua_pushnumber(l, t.number),
                Kind::Boolean => ffi::lua_pushboolean(l, t.boolean as c_int),
                Kind::Null => ffi::lua_pushlightuserdata(l, ptr::null_mut()),
                Kind::ObjBegin => {
                    self.descend(l, 3);
                    ffi::lua_createtable(l, 0, 0);
                    t = self.next();
                    if t.kind == Kind::ObjEnd {
                        self.depth -= 1;
                    } else {
                        frames.push(DecFrame::Object);
                        t = self.member_key(l, t);
                        continue 'value;
                    }
                }
                Kind::ArrBegin => {
                    self.descend(l, 2);
                    ffi::lua_createtable(l, 0, 0);
                    t = self.next();
                    if t.kind == Kind::ArrEnd {
                        self.depth -= 1;
                    } else {
                        frames.push(DecFrame::Array { next: 1 });
                        continue 'value;
                    }
                }
                _ => self.fail(l, "value", &t),
            }
            // A value is complete on top of the stack: store it in its container, if any.
            loop {
                let Some(top) = frames.last_mut() else {
                    break 'value;
                };
                match top {
                    DecFrame::Array { next } => {
                        ffi::lua_rawseti_(l, -2, *next);
                        *next = next.wrapping_add(1);
                        t = self.next();
                        if t.kind == Kind::ArrEnd {
                            frames.pop();
                            self.depth -= 1;
                            continue;
                        }
                        if t.kind != Kind::Comma {
                            self.fail(l, "comma or array end", &t);
                        }
                        t = self.next();
                        continue 'value;
                    }
                    DecFrame::Object => {
                        ffi::lua_rawset(l, -3);
                        t = self.next();
                        if t.kind == Kind::ObjEnd {
                            frames.pop();
                            self.depth -= 1;
                            continue;
                        }
                        if t.kind != Kind::Comma {
                            self.fail(l, "comma or object end", &t);
                        }
                        t = self.next();
                        t = self.member_key(l, t);
                        continue 'value;
                    }
                }
            }
        }
        let t = self.next();
        if t.kind != Kind::End {
            self.fail(l, "the end", &t);
        }
    }
}

/// `cjson.decode(text)`.
unsafe extern "C-unwind" fn decode(l: State) -> c_int {
    if ffi::lua_gettop(l) != 1 {
        arg_error(l, 1, format_args!("expected 1 argument"));
    }
    let cfg = config(l);
    let mut len = 0;
    let p = ffi::luaL_checklstring(l, 1, &mut len) as *const u8;
    // SAFETY: argument 1 stays on the stack (alive, unmoved) for the whole call.
    let data = std::slice::from_raw_parts(p, len);
    // UTF-16/32 show as a NUL among the first two bytes.
    if len >= 2 && (data[0] == 0 || data[1] == 0) {
        raise(
            l,
            format_args!("JSON parser does not support UTF-16 or UTF-32"),
        );
    }
    let mut dec = Decoder {
        parser: Parser {
            data,
            p: 0,
            decode_invalid_numbers: (*cfg).decode_invalid_numbers != 0,
        },
        lease: Lease::take(l, &mut (*cfg).decode, DEC_SCRATCH),
        depth: 0,
        max_depth: (*cfg).decode_max_depth,
    };
    dec.decode(l);
    dec.lease.release(KEEP_LIMIT);
    1
}

// ------------------------------------------------------------------ module

/// `cjson.new()`: a module table with its own configuration.
unsafe extern "C-unwind" fn new(l: State) -> c_int {
    ffi::lua_createtable(l, 0, 0);
    super::push_userdata::<Config>(l, CONFIG);
    let funcs: [(&CStr, ffi::lua_CFunction); 10] = [
        (c"encode", encode),
        (c"decode", decode),
        (c"encode_sparse_array", cfg_encode_sparse_array),
        (c"encode_max_depth", cfg_encode_max_depth),
        (c"decode_max_depth", cfg_decode_max_depth),
        (c"encode_number_precision", cfg_encode_number_precision),
        (c"encode_keep_buffer", cfg_encode_keep_buffer),
        (c"encode_invalid_numbers", cfg_encode_invalid_numbers),
        (c"decode_invalid_numbers", cfg_decode_invalid_numbers),
        (c"new", new),
    ];
    for (name, f) in funcs {
        ffi::lua_pushvalue(l, -1);
        ffi::lua_pushcclosure(l, f, 1);
        ffi::lua_setfield(l, -3, name.as_ptr());
    }
    ffi::lua_settop(l, -2);
    ffi::lua_pushlightuserdata(l, ptr::null_mut());
    ffi::lua_setfield(l, -2, c"null".as_ptr());
    ffi::lua_pushstring_(l, c"cjson".as_ptr());
    ffi::lua_setfield(l, -2, c"_NAME".as_ptr());
    ffi::lua_pushstring_(l, c"2.1.0".as_ptr());
    ffi::lua_setfield(l, -2, c"_VERSION".as_ptr());
    1
}

/// Pushes the `cjson` table.
pub(super) unsafe fn open(l: State) {
    new(l);
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{check_all, lua};

    /// The number reader against C's strtod, reached through Lua's `tonumber` (Lua 5.1 reads
    /// numbers with strtod, hex floats included): decoded values must be bit-identical.
    #[test]
    fn numbers_match_strtod() {
        let lua = lua();
        let check: mlua::Function = lua
            .load(
                "return function(s) \
                   local a, b = cjson.decode(s), tonumber(s) \
                   if a ~= a and b ~= b then return true end \
                   return a == b and 1/a == 1/b end",
            )
            .eval()
            .expect("chunk");
        let mut texts: Vec<String> = [
            "0",
            "-0",
            "1",
            "0.1",
            "1e308",
            "1.8e308",
            "4.9e-324",
            "2.4e-324",
            "2.5e-324",
            "2.2250738585072011e-308",
            "2.2250738585072014e-308",
            "9007199254740993",
            "0x1p-1074",
            "0x1p-1075",
            "0x1.8p-1074",
            "0x3p-1076",
            "0x1.fffffffffffff8p1023",
            "0x1.fffffffffffff7p1023",
            "0x1.00000000000008p0",
            "0x1.00000000000018p0",
            "0x1.000000000000080000001p0",
            "0xABCDEF.0123456789p-20",
            "0x.8",
            "0x8.",
            "1e-400",
            "123456789012345678901234567890e-30",
            "0.000000000000000000000000001e27",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut seed: u64 = 7;
        let mut next = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            seed >> 33
        };
        for _ in 0..3000 {
            let digits: String = (0..1 + next() % 25)
                .map(|_| char::from(b'0' + (next() % 10) as u8))
                .collect();
            let point = 1 + next() as usize % digits.len();
            let exp = next() as i64 % 700 - 350;
            texts.push(
                format!("{}.{}e{exp}", &digits[..point], &digits[point..]).replace(".e", "e"),
            );
            let hex: String = (0..1 + next() % 20)
                .map(|_| char::from(b"0123456789abcdef"[(next() % 16) as usize]))
                .collect();
            texts.push(format!("0x{hex}p{}", next() as i64 % 2200 - 1100));
        }
        let bad: Vec<&String> = texts
            .iter()
            .filter(|t| !check.call::<bool>(t.as_str()).unwrap_or(false))
            .collect();
        assert!(bad.is_empty(), "{bad:?}");
    }

    /// Each expectation is what Redis 7.0.15 returned for the same snippet, run as
    /// `redis-cli -p 7311 eval "<hex helper> local ok, r = pcall(function() <snippet> end)
    /// if ok then return tostring(r) else return 'ERR:' .. tostring(r) end" 0`
    /// (the wrapper of `testutil::run`).
    #[test]
    fn cjson_matches_redis() {
        check_all(&[
            // encode scalars
            ("return cjson.encode(1)", "1"),
            ("return cjson.encode(-1)", "-1"),
            ("return cjson.encode(0.1)", "0.1"),
            ("return cjson.encode(1/3)", "0.33333333333333"),
            ("return cjson.encode(-0.0)", "-0"),
            ("return cjson.encode(1e15)", "1e+15"),
            ("return cjson.encode(1e16)", "1e+16"),
            ("return cjson.encode(123456789012345)", "1.2345678901234e+14"),
            ("return cjson.encode(1234567890123456)", "1.2345678901235e+15"),
            ("return cjson.encode(2^53)", "9.007199254741e+15"),
            ("return cjson.encode(1e-5)", "1e-05"),
            ("return cjson.encode(0.0001)", "0.0001"),
            ("return cjson.encode(1e300)", "1e+300"),
            ("return cjson.encode(5e-324)", "4.9406564584125e-324"),
            ("return cjson.encode(1.7976931348623157e308)", "1.7976931348623e+308"),
            ("return cjson.encode(100)", "100"),
            ("return cjson.encode(1e100)", "1e+100"),
            ("return cjson.encode(0.5)", "0.5"),
            ("return cjson.encode(3.14159265358979)", "3.1415926535898"),
            ("return cjson.encode(1/0)", "ERR:user_script:1: Cannot serialise number: must not be NaN or Inf"),
            ("return cjson.encode(-1/0)", "ERR:user_script:1: Cannot serialise number: must not be NaN or Inf"),
            ("return cjson.encode(0/0)", "ERR:user_script:1: Cannot serialise number: must not be NaN or Inf"),
            ("return cjson.encode(true)", "true"),
            ("return cjson.encode(false)", "false"),
            ("return cjson.encode(nil)", "null"),
            ("return cjson.encode(cjson.null)", "null"),
            ("return cjson.encode('hello')", "\"hello\""),
            ("return cjson.encode('')", "\"\""),
            ("return cjson.encode('a\"b\\\\c/d')", "\"a\\\"b\\\\c\\/d\""),
            ("return cjson.encode('\\0\\1\\2\\3\\4\\5\\6\\7\\8\\9\\10\\11\\12\\13\\14\\15')", "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f\""),
            ("return cjson.encode('\\16\\17\\18\\19\\20\\21\\22\\23\\24\\25\\26\\27\\28\\29\\30\\31\\127')", "\"\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\\u007f\""),
            ("return hex(cjson.encode('\\128\\255\\195\\169\\230\\151\\165'))", "2280ffc3a9e697a522"),
            ("return cjson.encode(tostring)", "ERR:user_script:1: Cannot serialise function: type not supported"),
            ("return cjson.encode(coroutine.create(function() end))", "ERR:user_script:1: Cannot serialise thread: type not supported"),
            ("return cjson.encode()", "ERR:user_script:1: bad argument #1 to 'encode' (expected 1 argument)"),
            ("return cjson.encode(1, 2)", "ERR:user_script:1: bad argument #1 to 'encode' (expected 1 argument)"),
            ("return cjson.encode(nil, nil)", "ERR:user_script:1: bad argument #1 to 'encode' (expected 1 argument)"),
            ("local ok, e = pcall(cjson.encode) return e", "bad argument #1 to '?' (expected 1 argument)"),
            // encode tables
            ("return cjson.encode({})", "{}"),
            ("return cjson.encode({1, 2, 3})", "[1,2,3]"),
            ("return cjson.encode({'a', {'b', {'c'}}})", "[\"a\",[\"b\",[\"c\"]]]"),
            ("return cjson.encode({a=1})", "{\"a\":1}"),
            ("return cjson.encode({a={b={c={}}}})", "{\"a\":{\"b\":{\"c\":{}}}}"),
            ("return cjson.encode({1, 2, nil, 4})", "[1,2,null,4]"),
            ("return cjson.encode({[1]=1, [3]=3})", "[1,null,3]"),
            ("return cjson.encode({[1]=1, [4]=4})", "[1,null,null,4]"),
            ("return cjson.encode({[10]=1})", "[null,null,null,null,null,null,null,null,null,1]"),
            ("return cjson.encode({[11]=1})", "ERR:user_script:1: Cannot serialise table: excessively sparse array"),
            ("return cjson.encode({[1]=1, [2]=2, [5]=5, [6]=6, [12]=12})", "ERR:user_script:1: Cannot serialise table: excessively sparse array"),
            ("return cjson.encode({[1]=1, [2]=2, [5]=5, [12]=12})", "ERR:user_script:1: Cannot serialise table: excessively sparse array"),
            ("return cjson.encode({[0]=1})", "{\"0\":1}"),
            ("return cjson.encode({[-1]=1})", "{\"-1\":1}"),
            ("return cjson.encode({[1.5]=1})", "{\"1.5\":1}"),
            ("return cjson.encode({[2^40]=1})", "{\"1099511627776\":1}"),
            ("return cjson.encode({[2^31]=1, [1]=2})", "[2]"),
            ("return cjson.encode({[true]=1})", "ERR:user_script:1: Cannot serialise boolean: table key must be a number or string"),
            ("return cjson.encode({[{}]=1})", "ERR:user_script:1: Cannot serialise table: table key must be a number or string"),
            ("return cjson.encode({a=tostring})", "ERR:user_script:1: Cannot serialise function: type not supported"),
            ("return cjson.encode({1, 2, x=3})", "{\"1\":1,\"2\":2,\"x\":3}"),
            ("return cjson.encode({[1/0]=1})", "ERR:user_script:1: Cannot serialise number: must not be NaN or Inf"),
            ("return cjson.encode({f=1/0})", "ERR:user_script:1: Cannot serialise number: must not be NaN or Inf"),
            ("return cjson.encode({cjson.null, cjson.null})", "[null,null]"),
            ("return cjson.encode({[1]='a', ['1']='b'})", "{\"1\":\"a\",\"1\":\"b\"}"),
            ("local t = {} t.x = t return cjson.encode(t)", "ERR:user_script:1: Cannot serialise, excessive nesting (1001)"),
            ("local t = {} local c = t for i=1,999 do c[1] = {} c = c[1] end return #cjson.encode(t)", "2000"),
            ("local t = {} local c = t for i=1,1000 do c[1] = {} c = c[1] end return #cjson.encode(t)", "ERR:user_script:1: Cannot serialise, excessive nesting (1001)"),
            ("local t = {} local c = t for i=1,999 do c.k = {} c = c.k end return #cjson.encode(t)", "5996"),
            ("local t = {} local c = t for i=1,1000 do c.k = {} c = c.k end return #cjson.encode(t)", "ERR:user_script:1: Cannot serialise, excessive nesting (1001)"),
            ("local t = {} for i=1,100 do t['key' .. i] = i end local s = cjson.encode(t) return #s", "1085"),
            ("local t = {} for i=1,20 do t['k' .. i] = i end return cjson.encode(t)", "{\"k16\":16,\"k19\":19,\"k11\":11,\"k17\":17,\"k15\":15,\"k20\":20,\"k10\":10,\"k8\":8,\"k1\":1,\"k12\":12,\"k3\":3,\"k2\":2,\"k9\":9,\"k13\":13,\"k18\":18,\"k14\":14,\"k6\":6,\"k7\":7,\"k4\":4,\"k5\":5}"),
            ("local t = {b=1, a=2, c=3, d=4, e=5} return cjson.encode(t)", "{\"a\":2,\"c\":3,\"b\":1,\"e\":5,\"d\":4}"),
            ("local t = {} for i=1,10 do t[i] = i end t[5] = nil return cjson.encode(t)", "[1,2,3,4,null,6,7,8,9,10]"),
            ("return cjson.encode({1, {2, {3, {4, {5}}}}, a={b={c='d'}}})", "{\"1\":1,\"2\":[2,[3,[4,[5]]]],\"a\":{\"b\":{\"c\":\"d\"}}}"),
            ("return cjson.encode({['a\"b']=1})", "{\"a\\\"b\":1}"),
            ("return cjson.encode({[' ']={}})", "{\" \":{}}"),
            // decode
            ("return cjson.encode(cjson.decode('[1,2,3]'))", "[1,2,3]"),
            ("return cjson.encode(cjson.decode('{\"a\":1,\"b\":[true,false,null]}'))", "{\"a\":1,\"b\":[true,false,null]}"),
            ("return cjson.decode('\"abc\"')", "abc"),
            ("return cjson.decode('123')", "123"),
            ("return cjson.decode('-123.5e2')", "-12350"),
            ("return cjson.decode('  42  ')", "42"),
            ("return cjson.decode('\\t\\n\\r 42')", "42"),
            ("return cjson.decode('1e400')", "inf"),
            ("return cjson.decode('-1e400')", "-inf"),
            ("return cjson.decode('1e-400')", "0"),
            ("return cjson.decode('0.1')", "0.1"),
            ("return cjson.decode('123456789012345678901234567890')", "1.2345678901235e+29"),
            ("return cjson.decode('0x10')", "16"),
            ("return cjson.decode('-0x10')", "-16"),
            ("return cjson.decode('0x1p4')", "16"),
            ("return cjson.decode('0x1.8')", "1.5"),
            ("return cjson.decode('0xfffffffffffffffffff')", "7.5557863725914e+22"),
            ("return cjson.decode('0x')", "ERR:user_script:1: Expected the end but found invalid token at character 2"),
            ("return cjson.decode('0xg')", "ERR:user_script:1: Expected the end but found invalid token at character 2"),
            ("return cjson.decode('+1')", "1"),
            ("return cjson.decode('+')", "ERR:user_script:1: Expected value but found invalid number at character 1"),
            ("return cjson.decode('-')", "ERR:user_script:1: Expected value but found invalid number at character 1"),
            ("return cjson.decode('-a')", "ERR:user_script:1: Expected value but found invalid number at character 1"),
            ("return cjson.decode('01')", "1"),
            ("return cjson.decode('-01')", "-1"),
            ("return cjson.decode('1.')", "1"),
            ("return cjson.decode('.5')", "ERR:user_script:1: Expected value but found invalid token at character 1"),
            ("return cjson.decode('-.5')", "-0.5"),
            ("return cjson.decode('1e')", "ERR:user_script:1: Expected the end but found invalid token at character 2"),
            ("return cjson.decode('1e+')", "ERR:user_script:1: Expected the end but found invalid token at character 2"),
            ("return cjson.decode('1E2')", "100"),
            ("return cjson.decode('inf')", "inf"),
            ("return cjson.decode('-inf')", "-inf"),
            ("return cjson.decode('Infinity')", "inf"),
            ("return cjson.decode('-Infinity')", "-inf"),
            ("return cjson.decode('infinit')", "ERR:user_script:1: Expected the end but found invalid token at character 4"),
            ("return cjson.decode('nan')", "nan"),
            ("return cjson.decode('NaN')", "nan"),
            ("return cjson.decode('-nan')", "-nan"),
            ("return cjson.decode('nan(123)')", "nan"),
            ("return cjson.decode('nan(12')", "ERR:user_script:1: Expected the end but found invalid token at character 4"),
            ("return cjson.decode('nil')", "ERR:user_script:1: Expected value but found invalid token at character 1"),
            ("return cjson.decode('true')", "true"),
            ("return cjson.decode('false')", "false"),
            ("return cjson.decode('null') == cjson.null", "true"),
            ("return cjson.decode('tru')", "ERR:user_script:1: Expected value but found invalid token at character 1"),
            ("return cjson.decode('True')", "ERR:user_script:1: Expected value but found invalid token at character 1"),
            ("return cjson.decode('nul')", "ERR:user_script:1: Expected value but found invalid token at character 1"),
            ("return cjson.decode('')", "ERR:user_script:1: Expected value but found T_END at character 1"),
            ("return cjson.decode('   ')", "ERR:user_script:1: Expected value but found T_END at character 4"),
            ("return cjson.decode('x')", "ERR:user_script:1: Expected value but found invalid token at character 1"),
            ("return cjson.decode('[1,]')", "ERR:user_script:1: Expected value but found T_ARR_END at character 4"),
            ("return cjson.decode('[1 2]')", "ERR:user_script:1: Expected comma or array end but found T_NUMBER at character 4"),
            ("return cjson.decode('[')", "ERR:user_script:1: Expected value but found T_END at character 2"),
            ("return cjson.decode(']')", "ERR:user_script:1: Expected value but found T_ARR_END at character 1"),
            ("return cjson.decode('{')", "ERR:user_script:1: Expected object key string but found T_END at character 2"),
            ("return cjson.decode('{\"a\"}')", "ERR:user_script:1: Expected colon but found T_OBJ_END at character 5"),
            ("return cjson.decode('{\"a\":}')", "ERR:user_script:1: Expected value but found T_OBJ_END at character 6"),
            ("return cjson.decode('{\"a\":1,}')", "ERR:user_script:1: Expected object key string but found T_OBJ_END at character 8"),
            ("return cjson.decode('{\"a\":1 \"b\":2}')", "ERR:user_script:1: Expected comma or object end but found T_STRING at character 8"),
            ("return cjson.decode('{1:2}')", "ERR:user_script:1: Expected object key string but found T_NUMBER at character 2"),
            ("return cjson.decode('{\"a\":1}}')", "ERR:user_script:1: Expected the end but found T_OBJ_END at character 8"),
            ("return cjson.decode('[1]x')", "ERR:user_script:1: Expected the end but found invalid token at character 4"),
            ("return type(cjson.decode('[1] '))", "table"),
            ("return cjson.decode('1 2')", "ERR:user_script:1: Expected the end but found T_NUMBER at character 3"),
            ("return cjson.decode('\"abc')", "ERR:user_script:1: Expected value but found unexpected end of string at character 5"),
            ("return cjson.decode('\"ab\\\\')", "ERR:user_script:1: Expected value but found invalid escape code at character 4"),
            ("return cjson.decode('\"a\\\\qb\"')", "ERR:user_script:1: Expected value but found invalid escape code at character 3"),
            ("return cjson.decode('\"\\\\\"\\\\\\\\\\\\/\\\\b\\\\f\\\\n\\\\r\\\\t\"') == '\"\\\\/\\b\\f\\n\\r\\t'", "true"),
            ("return cjson.decode('\"\\\\u0041\"')", "A"),
            ("return hex(cjson.decode('\"\\\\u00e9\"'))", "c3a9"),
            ("return hex(cjson.decode('\"\\\\u20AC\"'))", "e282ac"),
            ("return hex(cjson.decode('\"\\\\uD83D\\\\uDE00\"'))", "f09f9880"),
            ("return hex(cjson.decode('\"\\\\ud83d\\\\ude00\"'))", "f09f9880"),
            ("return hex(cjson.decode('\"\\\\u0000\"'))", "00"),
            ("return cjson.decode('\"\\\\uD83D\"')", "ERR:user_script:1: Expected value but found invalid unicode escape code at character 2"),
            ("return cjson.decode('\"\\\\uD83Dx\"')", "ERR:user_script:1: Expected value but found invalid unicode escape code at character 2"),
            ("return cjson.decode('\"\\\\uD83D\\\\u0041\"')", "ERR:user_script:1: Expected value but found invalid unicode escape code at character 2"),
            ("return cjson.decode('\"\\\\uDE00\"')", "ERR:user_script:1: Expected value but found invalid unicode escape code at character 2"),
            ("return cjson.decode('\"\\\\u12\"')", "ERR:user_script:1: Expected value but found invalid unicode escape code at character 2"),
            ("return cjson.decode('\"\\\\u12G4\"')", "ERR:user_script:1: Expected value but found invalid unicode escape code at character 2"),
            ("return cjson.decode('\"\\\\uD83D\\\\uDE0\"')", "ERR:user_script:1: Expected value but found invalid unicode escape code at character 2"),
            ("return hex(cjson.decode('\"\\195\\169\"'))", "c3a9"),
            ("return cjson.decode('\"a\\0b\"')", "ERR:user_script:1: Expected value but found unexpected end of string at character 3"),
            ("return cjson.decode('[1]\\0garbage')[1]", "1"),
            ("return cjson.decode('\\0[1]')", "ERR:user_script:1: JSON parser does not support UTF-16 or UTF-32"),
            ("return cjson.decode('[\\0')", "ERR:user_script:1: JSON parser does not support UTF-16 or UTF-32"),
            ("return cjson.decode('a\\0')", "ERR:user_script:1: JSON parser does not support UTF-16 or UTF-32"),
            ("return cjson.decode('\"\\1\\2\"') == '\\1\\2'", "true"),
            ("return cjson.decode('\"tab\\there\"')", "tab\u{9}here"),
            ("return cjson.decode(123)", "123"),
            ("return cjson.decode()", "ERR:user_script:1: bad argument #1 to 'decode' (expected 1 argument)"),
            ("return cjson.decode(nil)", "ERR:user_script:1: bad argument #1 to 'decode' (string expected, got nil)"),
            ("return cjson.decode({})", "ERR:user_script:1: bad argument #1 to 'decode' (string expected, got table)"),
            ("return cjson.decode('1', '2')", "ERR:user_script:1: bad argument #1 to 'decode' (expected 1 argument)"),
            ("return cjson.encode(cjson.decode('{\"a\":{\"b\":{\"c\":[1,{\"d\":null}]}}}'))", "{\"a\":{\"b\":{\"c\":[1,{\"d\":null}]}}}"),
            ("return cjson.encode(cjson.decode('[[],{},[[]],{\"\":{}}]'))", "[{},{},[{}],{\"\":{}}]"),
            ("return cjson.decode('{\"a\":1,\"a\":2}').a", "2"),
            ("return cjson.encode(cjson.decode('{\"1\":\"x\"}'))", "{\"1\":\"x\"}"),
            ("return cjson.encode(cjson.decode('[null,null]'))", "[null,null]"),
            ("local t = cjson.decode('[1,null,3]') return #t", "3"),
            ("local s = string.rep('[', 1000) .. string.rep(']', 1000) return #cjson.encode(cjson.decode(s))", "2000"),
            ("local s = string.rep('[', 1001) .. string.rep(']', 1001) return cjson.decode(s)", "ERR:user_script:1: Found too many nested data structures (1001) at character 1001"),
            ("local s = string.rep('{\"a\":', 1001) .. '1' .. string.rep('}', 1001) return cjson.decode(s)", "ERR:user_script:1: Found too many nested data structures (1001) at character 5001"),
            ("local s = string.rep('{\"a\":', 1000) .. '1' .. string.rep('}', 1000) return type(cjson.decode(s))", "table"),
            ("return cjson.decode('[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[')", "ERR:user_script:1: Expected value but found T_END at character 51"),
            ("local s = '[' .. string.rep('1,', 10000) .. '1]' return #cjson.decode(s)", "10001"),
            ("return cjson.encode(cjson.decode('{\"k\":[1,2,{\"x\":\"y\"}],\"z\":1.5}'))", "{\"k\":[1,2,{\"x\":\"y\"}],\"z\":1.5}"),
            // round trips
            ("return cjson.encode(cjson.decode(cjson.encode({1.5, 'x', {y=true}})))", "[1.5,\"x\",{\"y\":true}]"),
            ("return cjson.decode(cjson.encode('\\0\\31\"\\\\/'))  == '\\0\\31\"\\\\/'", "true"),
            ("return cjson.encode(cjson.decode('0.30000000000000004'))", "0.3"),
            ("return cjson.encode(cjson.decode('12345678901234567890'))", "1.2345678901235e+19"),
            ("return cjson.encode(cjson.decode('-0'))", "-0"),
            ("return cjson.encode(cjson.decode('1e-7'))", "1e-07"),
            ("return cjson.encode(cjson.decode('123456.789e3'))", "123456789"),
            // configuration (on fresh instances: settings persist in the oracle)
            ("local c = cjson.new() return c.encode_max_depth()", "1000"),
            ("local c = cjson.new() return c.decode_max_depth()", "1000"),
            ("local c = cjson.new() return c.encode_number_precision()", "14"),
            ("local c = cjson.new() return c.encode_keep_buffer()", "true"),
            ("local c = cjson.new() return c.encode_invalid_numbers()", "false"),
            ("local c = cjson.new() return c.decode_invalid_numbers()", "true"),
            ("local c = cjson.new() return table.concat({tostring(c.encode_sparse_array())}, ',')", "false"),
            ("local c = cjson.new() local a, b, d = c.encode_sparse_array() return tostring(a) .. ',' .. b .. ',' .. d", "false,2,10"),
            ("local c = cjson.new() local a, b, d = c.encode_sparse_array(true) return tostring(a) .. ',' .. b .. ',' .. d", "true,2,10"),
            ("local c = cjson.new() local a, b, d = c.encode_sparse_array(true, 3, 20) return tostring(a) .. ',' .. b .. ',' .. d", "true,3,20"),
            ("local c = cjson.new() local a, b, d = c.encode_sparse_array('on') return tostring(a) .. ',' .. b .. ',' .. d", "true,2,10"),
            ("local c = cjson.new() local a, b, d = c.encode_sparse_array('off', 0) return tostring(a) .. ',' .. b .. ',' .. d", "false,0,10"),
            ("local c = cjson.new() return c.encode_sparse_array('bad')", "ERR:user_script:1: bad argument #1 to 'encode_sparse_array' (invalid option 'bad')"),
            ("local c = cjson.new() return c.encode_sparse_array(1)", "ERR:user_script:1: bad argument #1 to 'encode_sparse_array' (invalid option '1')"),
            ("local c = cjson.new() return c.encode_sparse_array(nil, -1)", "ERR:user_script:1: bad argument #1 to 'encode_sparse_array' (expected integer between 0 and 2147483647)"),
            ("local c = cjson.new() return c.encode_sparse_array(nil, 1, -1)", "ERR:user_script:1: bad argument #1 to 'encode_sparse_array' (expected integer between 0 and 2147483647)"),
            ("local c = cjson.new() return c.encode_sparse_array(nil, 'x')", "ERR:user_script:1: bad argument #2 to 'encode_sparse_array' (number expected, got string)"),
            ("local c = cjson.new() return c.encode_sparse_array(true, 1, 2, 3)", "ERR:user_script:1: bad argument #4 to 'encode_sparse_array' (found too many arguments)"),
            ("local c = cjson.new() c.encode_sparse_array(true) return c.encode({[20]=1})", "{\"20\":1}"),
            ("local c = cjson.new() c.encode_sparse_array(false, 0) return c.encode({[20]=1})", "[null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,1]"),
            ("local c = cjson.new() c.encode_sparse_array(false, 1) return c.encode({[1]=1, [2]=2, [3]=3})", "[1,2,3]"),
            ("local c = cjson.new() c.encode_sparse_array(false, 1, 0) return c.encode({[1]=1, [3]=3})", "ERR:user_script:1: Cannot serialise table: excessively sparse array"),
            ("local c = cjson.new() c.encode_sparse_array(false, 3, 0) return c.encode({[1]=1, [3]=3})", "[1,null,3]"),
            ("local c = cjson.new() c.encode_sparse_array(false, 3, 0) return c.encode({[1]=1, [4]=3})", "[1,null,null,3]"),
            ("local c = cjson.new() c.encode_sparse_array(true, 2, 1) return c.encode({[1]=1, [3]=3, x=1})", "{\"1\":1,\"x\":1,\"3\":3}"),
            ("local c = cjson.new() return c.encode_max_depth(5)", "5"),
            ("local c = cjson.new() c.encode_max_depth(2) return c.encode({{1}})", "[[1]]"),
            ("local c = cjson.new() c.encode_max_depth(2) return c.encode({{{1}}})", "ERR:user_script:1: Cannot serialise, excessive nesting (3)"),
            ("local c = cjson.new() c.encode_max_depth(1) return c.encode({a={}})", "ERR:user_script:1: Cannot serialise, excessive nesting (2)"),
            ("local c = cjson.new() return c.encode_max_depth(0)", "ERR:user_script:1: bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)"),
            ("local c = cjson.new() return c.encode_max_depth(-5)", "ERR:user_script:1: bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)"),
            ("local c = cjson.new() return c.encode_max_depth('x')", "ERR:user_script:1: bad argument #1 to 'encode_max_depth' (number expected, got string)"),
            ("local c = cjson.new() return c.encode_max_depth('7')", "7"),
            ("local c = cjson.new() return c.encode_max_depth(7.9)", "7"),
            ("local c = cjson.new() return c.encode_max_depth(2^32 + 3)", "3"),
            ("local c = cjson.new() return c.encode_max_depth(2^31)", "ERR:user_script:1: bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)"),
            ("local c = cjson.new() return c.encode_max_depth(1, 2)", "ERR:user_script:1: bad argument #2 to 'encode_max_depth' (found too many arguments)"),
            ("local c = cjson.new() return c.encode_max_depth(nil)", "1000"),
            ("local c = cjson.new() c.encode_max_depth(100000) local t = {} local x = t for i=1,7990 do x[1] = {} x = x[1] end return #c.encode(t)", "15982"),
            ("local c = cjson.new() c.encode_max_depth(100000) local t = {} local x = t for i=1,8000 do x[1] = {} x = x[1] end return #c.encode(t)", "ERR:user_script:1: Cannot serialise, excessive nesting (7998)"),
            ("local c = cjson.new() c.encode_max_depth(100000) local t = {} local x = t for i=1,3990 do x.k = {} x = x.k end return #c.encode(t)", "23942"),
            ("local c = cjson.new() c.encode_max_depth(100000) local t = {} local x = t for i=1,4000 do x.k = {} x = x.k end return #c.encode(t)", "ERR:user_script:1: Cannot serialise, excessive nesting (4000)"),
            ("local c = cjson.new() c.encode_max_depth(100000) local t = {} local x = t for i=1,7996 do x[1] = {} x = x[1] end return #c.encode(t)", "15994"),
            ("local c = cjson.new() c.encode_max_depth(100000) local t = {} local x = t for i=1,7997 do x[1] = {} x = x[1] end return #c.encode(t)", "ERR:user_script:1: Cannot serialise, excessive nesting (7998)"),
            ("local c = cjson.new() c.encode_max_depth(100000) local t = {} local x = t for i=1,3998 do x.k = {} x = x.k end return #c.encode(t)", "23990"),
            ("local c = cjson.new() c.encode_max_depth(100000) local t = {} local x = t for i=1,3999 do x.k = {} x = x.k end return #c.encode(t)", "ERR:user_script:1: Cannot serialise, excessive nesting (4000)"),
            ("local c = cjson.new() return c.decode_max_depth(3)", "3"),
            ("local c = cjson.new() c.decode_max_depth(2) return #c.decode('[[1]]')", "1"),
            ("local c = cjson.new() c.decode_max_depth(2) return c.decode('[[[1]]]')", "ERR:user_script:1: Found too many nested data structures (3) at character 3"),
            ("local c = cjson.new() c.decode_max_depth(1) return c.decode('{\"a\":{\"b\":1}}')", "ERR:user_script:1: Found too many nested data structures (2) at character 6"),
            ("local c = cjson.new() c.decode_max_depth(100000) return #c.decode(string.rep('[', 7990) .. string.rep(']', 7990))", "1"),
            ("local c = cjson.new() c.decode_max_depth(100000) return #c.decode(string.rep('[', 7998) .. string.rep(']', 7998))", "1"),
            ("local c = cjson.new() c.decode_max_depth(100000) return #c.decode(string.rep('[', 7999) .. string.rep(']', 7999))", "ERR:user_script:1: Found too many nested data structures (7999) at character 7999"),
            ("local c = cjson.new() c.decode_max_depth(100000) return #c.decode(string.rep('[', 8000) .. string.rep(']', 8000))", "ERR:user_script:1: Found too many nested data structures (7999) at character 7999"),
            ("local c = cjson.new() c.decode_max_depth(100000) return type(c.decode(string.rep('{\"a\":', 3997) .. '1' .. string.rep('}', 3997)))", "table"),
            ("local c = cjson.new() c.decode_max_depth(100000) return type(c.decode(string.rep('{\"a\":', 3998) .. '1' .. string.rep('}', 3998)))", "table"),
            ("local c = cjson.new() c.decode_max_depth(100000) return type(c.decode(string.rep('{\"a\":', 3999) .. '1' .. string.rep('}', 3999)))", "table"),
            ("local c = cjson.new() c.decode_max_depth(100000) return type(c.decode(string.rep('{\"a\":', 4000) .. '1' .. string.rep('}', 4000)))", "ERR:user_script:1: Found too many nested data structures (4000) at character 19996"),
            ("local c = cjson.new() return c.decode_max_depth(0)", "ERR:user_script:1: bad argument #1 to 'decode_max_depth' (expected integer between 1 and 2147483647)"),
            ("local c = cjson.new() return c.encode_number_precision(3)", "3"),
            ("local c = cjson.new() c.encode_number_precision(3) return c.encode(1/3)", "0.333"),
            ("local c = cjson.new() c.encode_number_precision(1) return c.encode({0.15, 0.25, 0.35, 12345, 0.0001234})", "[0.1,0.2,0.3,1e+04,0.0001]"),
            ("local c = cjson.new() c.encode_number_precision(5) return c.encode({123456, 1.23456e-5, 99999.5, 0.1})", "[1.2346e+05,1.2346e-05,1e+05,0.1]"),
            ("local c = cjson.new() c.encode_number_precision(14) return c.encode(2^53)", "9.007199254741e+15"),
            ("local c = cjson.new() return c.encode_number_precision(15)", "ERR:user_script:1: bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)"),
            ("local c = cjson.new() return c.encode_number_precision(0)", "ERR:user_script:1: bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)"),
            ("local c = cjson.new() c.encode_number_precision(2) return c.encode({[1.234]=1})", "{\"1.2\":1}"),
            ("local c = cjson.new() return tostring(c.encode_keep_buffer(false))", "false"),
            ("local c = cjson.new() c.encode_keep_buffer(false) return c.encode({1, 'a', {b=2}})", "[1,\"a\",{\"b\":2}]"),
            ("local c = cjson.new() return tostring(c.encode_keep_buffer('off'))", "false"),
            ("local c = cjson.new() return tostring(c.encode_keep_buffer('on'))", "true"),
            ("local c = cjson.new() return c.encode_keep_buffer('yes')", "ERR:user_script:1: bad argument #1 to 'encode_keep_buffer' (invalid option 'yes')"),
            ("local c = cjson.new() return c.encode_keep_buffer(1)", "ERR:user_script:1: bad argument #1 to 'encode_keep_buffer' (invalid option '1')"),
            ("local c = cjson.new() return tostring(c.encode_invalid_numbers(true))", "true"),
            ("local c = cjson.new() return tostring(c.encode_invalid_numbers('null'))", "null"),
            ("local c = cjson.new() return tostring(c.encode_invalid_numbers('on'))", "true"),
            ("local c = cjson.new() return tostring(c.encode_invalid_numbers('off'))", "false"),
            ("local c = cjson.new() return c.encode_invalid_numbers('maybe')", "ERR:user_script:1: bad argument #1 to 'encode_invalid_numbers' (invalid option 'maybe')"),
            ("local c = cjson.new() c.encode_invalid_numbers(true) return c.encode({1/0, -1/0, 0/0, -(0/0)})", "[inf,-inf,nan,nan]"),
            ("local c = cjson.new() c.encode_invalid_numbers('null') return c.encode({1/0, -1/0, 0/0, 1})", "[null,null,null,1]"),
            ("local c = cjson.new() c.encode_invalid_numbers(true) return c.encode({[1/0]=1})", "{\"inf\":1}"),
            ("local c = cjson.new() c.encode_invalid_numbers('null') return c.encode({[1/0]=1})", "{\"null\":1}"),
            ("local c = cjson.new() c.encode_invalid_numbers('null') return tostring(c.encode_invalid_numbers())", "null"),
            ("local c = cjson.new() return tostring(c.decode_invalid_numbers(false))", "false"),
            ("local c = cjson.new() c.decode_invalid_numbers(false) return c.decode('0x10')", "ERR:user_script:1: Expected value but found invalid number at character 1"),
            ("local c = cjson.new() c.decode_invalid_numbers(false) return c.decode('-0x10')", "ERR:user_script:1: Expected value but found invalid number at character 1"),
            ("local c = cjson.new() c.decode_invalid_numbers(false) return c.decode('01')", "ERR:user_script:1: Expected value but found invalid number at character 1"),
            ("local c = cjson.new() c.decode_invalid_numbers(false) return c.decode('0')", "0"),
            ("local c = cjson.new() c.decode_invalid_numbers(false) return c.decode('-0.5')", "-0.5"),
            ("local c = cjson.new() c.decode_invalid_numbers(false) return c.decode('+1')", "ERR:user_script:1: Expected value but found invalid token at character 1"),
            ("local c = cjson.new() c.decode_invalid_numbers(false) return c.decode('inf')", "ERR:user_script:1: Expected value but found invalid token at character 1"),
            ("local c = cjson.new() c.decode_invalid_numbers(false) return c.decode('-inf')", "ERR:user_script:1: Expected value but found invalid number at character 1"),
            ("local c = cjson.new() c.decode_invalid_numbers(false) return c.decode('nan')", "ERR:user_script:1: Expected value but found invalid token at character 1"),
            ("local c = cjson.new() c.decode_invalid_numbers(false) return c.decode('[1, NaN]')", "ERR:user_script:1: Expected value but found invalid token at character 5"),
            ("local c = cjson.new() c.decode_invalid_numbers(false) return c.decode('1e5')", "100000"),
            ("local c = cjson.new() return c.decode_invalid_numbers('null')", "ERR:user_script:1: bad argument #1 to 'decode_invalid_numbers' (invalid option 'null')"),
            ("local c = cjson.new() local d = c.new() c.encode_number_precision(2) return c.encode(1/3) .. ' ' .. d.encode(1/3) .. ' ' .. cjson.encode(1/3)", "0.33 0.33333333333333 0.33333333333333"),
            ("local c = cjson.new() return c._NAME .. ' ' .. c._VERSION .. ' ' .. tostring(c.null == cjson.null)", "cjson 2.1.0 true"),
            ("local c = cjson.new() return tostring(c.encode == cjson.encode)", "false"),
            ("local c = cjson.new() local r = {} for k in pairs(c) do r[#r+1] = k end return table.concat(r, ',')", "_NAME,encode,decode_max_depth,_VERSION,decode_invalid_numbers,encode_keep_buffer,null,encode_number_precision,new,encode_max_depth,encode_invalid_numbers,decode,encode_sparse_array"),
            ("return cjson.new(1, 2, 3)._NAME", "cjson"),
            ("return cjson.encode_max_depth() .. cjson.decode_max_depth() .. cjson.encode_number_precision()", "1000100014"),
        ]);
    }
}
