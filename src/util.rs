//! Small conversions shared by the protocol and the command families, each matching the
//! Redis function named in its doc so that numbers and patterns are read exactly as Redis
//! reads them.

/// Parses an i64 as Redis's `string2ll`: optional '-', digits, no leading zeros (except "0"),
/// no spaces or '+', and no overflow.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s.len() == 1 && s[0] == b'0' {
        return Some(0);
    }
    let (neg, digits) = if s[0] == b'-' {
        (true, &s[1..])
    } else {
        (false, s)
    };
    if digits.is_empty() || digits[0] == b'0' {
        return None;
    }
    let v = parse_digits(digits)?;
    if neg {
        if v > (i64::MAX as u64) + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        if v > i64::MAX as u64 {
            return None;
        }
        Some(v as i64)
    }
}

/// The value of a non-empty run of ASCII digits, or None on any other byte or on u64
/// overflow. Sign and leading-zero rules are the callers' (string2ll vs strtoul).
pub fn parse_digits(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some(v)
}

/// Parses a double as Redis's `string2d`/`getDoubleFromObject`: the whole string must be a
/// number (strtod syntax, "inf"/"-inf" allowed), no spaces, and never NaN.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    if s.is_empty() || s[0].is_ascii_whitespace() || s[s.len() - 1].is_ascii_whitespace() {
        return None;
    }
    let st = std::str::from_utf8(s).ok()?;
    let lower = st.to_ascii_lowercase();
    let v: f64 = match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ => {
            // strtod accepts hex floats and forms Rust's parser does not; Rust accepts
            // "nan"/"infinity" variants handled above. Reject what strtod would reject.
            if lower.contains("nan") {
                return None;
            }
            st.parse().ok()?
        }
    };
    if v.is_nan() {
        return None;
    }
    Some(v)
}

/// Redis's start/stop arithmetic (LRANGE, LTRIM, ZRANGE, ZREMRANGEBYRANK): negative
/// indexes count from the end, `stop` is inclusive and clamped to the last element.
/// Returns the positions as [start, end), or None when the range selects nothing.
pub fn index_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let llen = len as i64;
    let start = if start < 0 {
        (llen + start).max(0)
    } else {
        start
    };
    let stop = if stop < 0 { llen + stop } else { stop };
    if start > stop || start >= llen {
        return None;
    }
    Some((start as usize, stop.min(llen - 1) as usize + 1))
}

/// Formats a double as Redis 7.0 replies with it (`%.17g`, with `inf`/`-inf`).
pub fn format_double(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    // Whole numbers below 1e17 print as plain integers under %.17g; scores usually are
    // such numbers, and the exact %e/%f formatting below costs ~20x more.
    if v != 0.0 && v.fract() == 0.0 && v.abs() < 1e17 {
        return itoa::Buffer::new().format(v as i64).to_string();
    }
    format_g(v, 17)
}

#[cfg(test)]
mod format_double_tests {
    #[test]
    fn whole_numbers_take_the_fast_path_with_the_same_text() {
        for v in [
            1.0,
            -1.0,
            12345.0,
            -7e15,
            1e16,
            99999999999999984.0,
            1e17,
            1e18,
            -0.0,
            0.0,
        ] {
            assert_eq!(super::format_double(v), super::format_g(v, 17), "{v}");
        }
    }
}

/// C's `%.<prec>g` for a finite double.
pub fn format_g(v: f64, prec: usize) -> String {
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let prec = prec.max(1);
    // Exponent as %e would print it after rounding to `prec` significant digits.
    let e_form = format!("{:.*e}", prec - 1, v);
    let (mantissa, exp) = e_form.split_once('e').unwrap_or((&e_form, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= prec as i32 {
        let m = strip_trailing_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{}{:02}", m, sign, exp.abs())
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        strip_trailing_zeros(&format!("{:.*}", decimals, v)).to_string()
    }
}

fn strip_trailing_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Milliseconds since the unix epoch, from the fast clock (see [`clock`]).
#[inline]
pub fn now_ms() -> u64 {
    clock::unix_ms_at(quanta::Instant::now())
}

/// Microseconds since the unix epoch, from the fast clock.
pub fn now_us() -> u64 {
    clock::unix_us_at(quanta::Instant::now())
}

/// The wall clock read through the CPU's time-stamp counter.
///
/// Every command needs "now" (expiry) and its own duration (INFO commandstats, SLOWLOG).
/// Reading `clock_gettime` for those cost about a third of an in-memory GET on this
/// machine's VM (benches/dispatch.rs under perf: 36% in `__vdso_clock_gettime`), so the
/// per-command path reads `quanta`'s TSC-based instant instead and turns it into unix time
/// with an offset. The offset is re-read from the system clock by [`clock::resync`], which
/// the expiry task calls every tick, so wall-clock steps are followed within a tick and
/// the drift between the two clocks never accumulates.
pub mod clock {
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::OnceLock;
    use std::time::{SystemTime, UNIX_EPOCH};

    static ORIGIN: OnceLock<quanta::Instant> = OnceLock::new();
    /// unix µs minus µs elapsed since ORIGIN, as of the latest resync.
    static OFFSET_US: AtomicI64 = AtomicI64::new(0);

    fn origin() -> quanta::Instant {
        *ORIGIN.get_or_init(|| {
            let o = quanta::Instant::now();
            OFFSET_US.store(wall_us(), Ordering::Relaxed);
            o
        })
    }

    fn wall_us() -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0)
    }

    /// Re-reads the system clock so derived times follow it.
    pub fn resync() {
        let o = origin();
        let q = quanta::Instant::now();
        let wall = wall_us();
        let elapsed = q.saturating_duration_since(o).as_micros() as i64;
        OFFSET_US.store(wall - elapsed, Ordering::Relaxed);
    }

    /// Unix µs at instant `t`.
    #[inline]
    pub fn unix_us_at(t: quanta::Instant) -> u64 {
        let o = origin();
        let elapsed = t.saturating_duration_since(o).as_micros() as i64;
        (elapsed + OFFSET_US.load(Ordering::Relaxed)).max(0) as u64
    }

    /// Unix ms at instant `t`.
    #[inline]
    pub fn unix_ms_at(t: quanta::Instant) -> u64 {
        unix_us_at(t) / 1000
    }
}

/// Glob-style matching exactly as Redis's `stringmatchlen` (`*`, `?`, `[...]` with ranges
/// and `^`, `\` escapes), used by KEYS, SCAN MATCH, CONFIG GET and pub/sub patterns.
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    glob_impl(pattern, string, nocase, &mut skip_longer, 0)
}

fn glob_impl(
    mut p: &[u8],
    mut s: &[u8],
    nocase: bool,
    skip_longer: &mut bool,
    nesting: usize,
) -> bool {
    // Redis bounds recursion the same way to keep hostile patterns cheap.
    if nesting > 1000 {
        return false;
    }
    let eq = |a: u8, b: u8| {
        if nocase {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    while !p.is_empty() && !s.is_empty() {
        match p[0] {
            b'*' => {
                while p.len() > 1 && p[1] == b'*' {
                    p = &p[1..];
                }
                if p.len() == 1 {
                    return true;
                }
                while !s.is_empty() {
                    if glob_impl(&p[1..], s, nocase, skip_longer, nesting + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    s = &s[1..];
                }
                *skip_longer = true;
                return false;
            }
            b'?' => {
                s = &s[1..];
            }
            b'[' => {
                p = &p[1..];
                let not = !p.is_empty() && p[0] == b'^';
                if not {
                    p = &p[1..];
                }
                let mut matched = false;
                loop {
                    if p.is_empty() {
                        break;
                    }
                    if p[0] == b'\\' && p.len() >= 2 {
                        p = &p[1..];
                        if p[0] == s[0] {
                            matched = true;
                        }
                    } else if p[0] == b']' {
                        break;
                    } else if p.len() >= 3 && p[1] == b'-' {
                        let (mut start, mut end) = (p[0], p[2]);
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        let c = s[0];
                        let (start, end, c) = if nocase {
                            (
                                start.to_ascii_lowercase(),
                                end.to_ascii_lowercase(),
                                c.to_ascii_lowercase(),
                            )
                        } else {
                            (start, end, c)
                        };
                        p = &p[2..];
                        if c >= start && c <= end {
                            matched = true;
                        }
                    } else if eq(p[0], s[0]) {
                        matched = true;
                    }
                    p = &p[1..];
                }
                // Redis leaves the pattern on the ']' (or past the end) here.
                let matched = if not { !matched } else { matched };
                if !matched {
                    return false;
                }
                s = &s[1..];
                if p.is_empty() {
                    // Unterminated class: Redis steps back so the loop ends cleanly.
                    return s.is_empty();
                }
            }
            b'\\' if p.len() >= 2 => {
                p = &p[1..];
                if !eq(p[0], s[0]) {
                    return false;
                }
                s = &s[1..];
            }
            c => {
                if !eq(c, s[0]) {
                    return false;
                }
                s = &s[1..];
            }
        }
        p = &p[1..];
        if s.is_empty() {
            while !p.is_empty() && p[0] == b'*' {
                p = &p[1..];
            }
            break;
        }
    }
    p.is_empty() && s.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"01"), None);
        assert_eq!(parse_i64(b"+1"), None);
        assert_eq!(parse_i64(b" 1"), None);
        assert_eq!(parse_i64(b"-0"), None);
    }

    #[test]
    fn doubles() {
        assert_eq!(format_double(1.5), "1.5");
        assert_eq!(format_double(1.1), "1.1000000000000001");
        assert_eq!(format_double(1e20), "1e+20");
        assert_eq!(format_double(100.0), "100");
        assert_eq!(format_double(f64::NEG_INFINITY), "-inf");
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b"1e3"), Some(1000.0));
    }

    #[test]
    fn globs() {
        assert!(glob_match(b"*", b"anything", false));
        assert!(glob_match(b"h?llo", b"hello", false));
        assert!(glob_match(b"h[ae]llo", b"hallo", false));
        assert!(!glob_match(b"h[^e]llo", b"hello", false));
        assert!(glob_match(b"h[a-b]llo", b"hbllo", false));
        assert!(glob_match(b"h\\*llo", b"h*llo", false));
        assert!(!glob_match(b"a*b", b"acd", false));
        assert!(glob_match(b"*a*b*", b"xxaxxbxx", false));
        assert!(glob_match(b"HELLO", b"hello", true));
    }
}

/// x87 80-bit `long double` arithmetic as Redis's INCRBYFLOAT and HINCRBYFLOAT use it
/// (`string2ld`, `+`, `ld2string(.., LD_STR_HUMAN)`), emulated exactly in software.
///
/// Rust has no 80-bit float, and `f64` gives different digits (Redis prints 17 decimals
/// of a 64-bit-mantissa value), so values are kept as `mantissa * 2^exp` with a 64-bit
/// mantissa, parsed and printed with exact big-integer arithmetic and rounded to nearest,
/// ties to even, as glibc's `strtold`/`printf` and the x87 FPU do.
pub mod long_double {
    use std::cmp::Ordering;

    /// Exponent of the smallest subnormal: 2^-16445 is the least positive value.
    const MIN_EXP: i64 = -16445;
    /// Largest exponent of a normalized mantissa (2^63 <= m < 2^64): below 2^16384.
    const MAX_EXP: i64 = 16384 - 64;
    /// `MAX_LONG_DOUBLE_CHARS`: longer inputs are refused by `string2ld`.
    const MAX_CHARS: usize = 5 * 1024;

    /// A finite or infinite long double (NaN is never kept: every producer reports it).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum LongDouble {
        /// `(-1)^neg * mant * 2^exp`; normalized (`mant >= 2^63`) unless subnormal or zero.
        Finite {
            neg: bool,
            mant: u64,
            exp: i64,
        },
        Inf {
            neg: bool,
        },
        Nan,
    }

    impl LongDouble {
        pub const ZERO: LongDouble = LongDouble::Finite {
            neg: false,
            mant: 0,
            exp: 0,
        };

        /// Exact conversion, as C's `(long double)(long)x`.
        pub fn from_i64(v: i64) -> LongDouble {
            round(v < 0, v.unsigned_abs() as u128, 0, false)
        }

        pub fn is_finite(&self) -> bool {
            matches!(self, LongDouble::Finite { .. })
        }

        /// Redis's `string2ld`: the whole input must be a `strtold` number (decimal or hex,
        /// `inf`/`infinity`), no leading space, not NaN, and not out of range (overflow to
        /// infinity or underflow to zero are refused, as `strtold`'s ERANGE is).
        pub fn parse(s: &[u8]) -> Option<LongDouble> {
            if s.is_empty() || s.len() >= MAX_CHARS || is_c_space(s[0]) {
                return None;
            }
            let (neg, body) = match s[0] {
                b'-' => (true, &s[1..]),
                b'+' => (false, &s[1..]),
                _ => (false, s),
            };
            if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
                return Some(LongDouble::Inf { neg });
            }
            let hex = body.len() > 2
                && body[0] == b'0'
                && (body[1] | 0x20) == b'x'
                && (body[2].is_ascii_hexdigit()
                    || (body[2] == b'.' && body.get(3).is_some_and(|c| c.is_ascii_hexdigit())));
            let (v, nonzero) = if hex {
                parse_hex(neg, &body[2..])?
            } else {
                parse_decimal(neg, body)?
            };
            match v {
                LongDouble::Inf { .. } => None,
                LongDouble::Finite { mant: 0, .. } if nonzero => None,
                v => Some(v),
            }
        }

        /// `ld2string(.., LD_STR_HUMAN)`: `%.17Lf`, trailing zeros and a trailing '.'
        /// removed, and "-0" written "0". None for NaN or infinity.
        pub fn to_human_string(&self) -> Option<String> {
            let LongDouble::Finite { neg, mant, exp } = *self else {
                return None;
            };
            // N = round(|value| * 10^17), ties to even.
            let mut n = BigUint::from_u128(mant as u128);
            n.mul_pow10(17);
            if exp >= 0 {
                n.shl(exp as u64);
            } else {
                let s = (-exp) as u64;
                let (q, guard, rest) = n.shr_round_bits(s);
                n = q;
                if guard && (rest || n.is_odd()) {
                    n.add_small(1);
                }
            }
            let digits = n.to_decimal();
            let mut s = String::with_capacity(digits.len() + 3);
            if neg {
                s.push('-');
            }
            if digits.len() <= 17 {
                s.push_str("0.");
                s.extend(std::iter::repeat_n('0', 17 - digits.len()));
                s.push_str(&digits);
            } else {
                let (int, frac) = digits.split_at(digits.len() - 17);
                s.push_str(int);
                s.push('.');
                s.push_str(frac);
            }
            let trimmed = s.trim_end_matches('0').trim_end_matches('.');
            if trimmed == "-0" {
                return Some("0".into());
            }
            Some(trimmed.to_string())
        }
    }

    /// The sum, rounded to nearest even as the x87 FPU does in extended precision.
    impl std::ops::Add for LongDouble {
        type Output = LongDouble;

        fn add(self, other: LongDouble) -> LongDouble {
            use LongDouble::*;
            match (self, other) {
                (Nan, _) | (_, Nan) => Nan,
                (Inf { neg: a }, Inf { neg: b }) => {
                    if a == b {
                        Inf { neg: a }
                    } else {
                        Nan
                    }
                }
                (Inf { neg }, _) | (_, Inf { neg }) => Inf { neg },
                (
                    Finite {
                        neg: na,
                        mant: ma,
                        exp: ea,
                    },
                    Finite {
                        neg: nb,
                        mant: mb,
                        exp: eb,
                    },
                ) => {
                    if ma == 0 && mb == 0 {
                        return Finite {
                            neg: na && nb,
                            mant: 0,
                            exp: 0,
                        };
                    }
                    if mb == 0 {
                        return self;
                    }
                    if ma == 0 {
                        return other;
                    }
                    // Align on the larger exponent with 62 guard bits; bits shifted out of
                    // the smaller operand survive as a sticky 1, enough for exact rounding.
                    let ((na, ma, ea), (nb, mb, eb)) = if ea >= eb {
                        ((na, ma, ea), (nb, mb, eb))
                    } else {
                        ((nb, mb, eb), (na, ma, ea))
                    };
                    let a = (ma as u128) << 62;
                    let d = (ea - eb) as u64;
                    let wide = (mb as u128) << 62;
                    let b = if d >= 127 {
                        (wide != 0) as u128
                    } else {
                        let shifted = wide >> d;
                        shifted | ((shifted << d) != wide) as u128
                    };
                    let e = ea - 62;
                    if na == nb {
                        round(na, a + b, e, false)
                    } else {
                        match a.cmp(&b) {
                            Ordering::Equal => LongDouble::ZERO,
                            Ordering::Greater => round(na, a - b, e, false),
                            Ordering::Less => round(nb, b - a, e, false),
                        }
                    }
                }
            }
        }
    }

    fn is_c_space(c: u8) -> bool {
        matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
    }

    /// Rounds `(m + sticky fraction) * 2^e` to a long double. Callers pass at least 66
    /// significant bits in `m` whenever `sticky` is set, so rounding is exact.
    fn round(neg: bool, m: u128, e: i64, sticky: bool) -> LongDouble {
        if m == 0 {
            return LongDouble::Finite {
                neg,
                mant: 0,
                exp: 0,
            };
        }
        let bits = 128 - m.leading_zeros() as i64;
        let mut shift = bits - 64;
        if e + shift < MIN_EXP {
            shift = MIN_EXP - e;
        }
        let (mut q, mut exp) = if shift <= 0 {
            ((m << (-shift) as u32) as u64 as u128, e + shift)
        } else if shift > 128 {
            (0, e + shift)
        } else {
            let q = if shift == 128 { 0 } else { m >> shift };
            let guard = (m >> (shift - 1)) & 1 == 1;
            let rest = sticky || (m & ((1u128 << (shift - 1)) - 1)) != 0;
            let mut q = q;
            if guard && (rest || q & 1 == 1) {
                q += 1;
            }
            (q, e + shift)
        };
        if q == 1u128 << 64 {
            q >>= 1;
            exp += 1;
        }
        if exp > MAX_EXP {
            return LongDouble::Inf { neg };
        }
        LongDouble::Finite {
            neg,
            mant: q as u64,
            exp,
        }
    }

    /// Exponent digits after 'e'/'p': optional sign and at least one digit, saturated
    /// far beyond any exponent that can matter.
    fn parse_exponent(s: &[u8]) -> Option<i64> {
        let (neg, digits) = match s.first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let mut v: i64 = 0;
        for &c in digits {
            v = (v * 10 + (c - b'0') as i64).min(1 << 40);
        }
        Some(if neg { -v } else { v })
    }

    /// Splits `digits[.digits][<exp_char>exp]`; returns (mantissa digits without the
    /// point, digits after the point, exponent). At least one mantissa digit is required.
    fn split_number(
        s: &[u8],
        is_digit: fn(&u8) -> bool,
        exp_char: u8,
    ) -> Option<(Vec<u8>, i64, i64)> {
        let mut i = 0;
        let mut digits = Vec::new();
        while i < s.len() && is_digit(&s[i]) {
            digits.push(s[i]);
            i += 1;
        }
        let mut frac = 0i64;
        if i < s.len() && s[i] == b'.' {
            i += 1;
            while i < s.len() && is_digit(&s[i]) {
                digits.push(s[i]);
                frac += 1;
                i += 1;
            }
        }
        if digits.is_empty() {
            return None;
        }
        let mut exp = 0;
        if i < s.len() {
            if (s[i] | 0x20) != exp_char {
                return None;
            }
            exp = parse_exponent(&s[i + 1..])?;
        }
        Some((digits, frac, exp))
    }

    /// A decimal `strtold` number; the flag says whether any digit was non-zero.
    fn parse_decimal(neg: bool, s: &[u8]) -> Option<(LongDouble, bool)> {
        let (digits, frac, exp) = split_number(s, u8::is_ascii_digit, b'e')?;
        let first = digits.iter().position(|&c| c != b'0');
        let Some(first) = first else {
            return Some((round(neg, 0, 0, false), false));
        };
        let digits = &digits[first..];
        let dec_exp = exp - frac;
        let nd = digits.len() as i64;
        // Far outside the range: 10^4933 overflows, below 10^-4952 rounds to zero.
        if nd - 1 + dec_exp > 4933 {
            return Some((LongDouble::Inf { neg }, true));
        }
        if nd + dec_exp < -4952 {
            return Some((round(neg, 0, 0, false), true));
        }
        let mut d = BigUint::from_decimal(digits);
        if dec_exp >= 0 {
            d.mul_pow10(dec_exp as u64);
            let (m, e, sticky) = d.top_bits(128);
            Some((round(neg, m, e, sticky), true))
        } else {
            let mut p = BigUint::from_u128(1);
            p.mul_pow10((-dec_exp) as u64);
            // Scale the dividend (or the divisor) by a power of two so that the
            // quotient has about 68 bits: D / P = (D * 2^k / P) * 2^-k.
            let k = 68 + p.bit_len() as i64 - d.bit_len() as i64;
            if k >= 0 {
                d.shl(k as u64);
            } else {
                p.shl((-k) as u64);
            }
            let (q, rem_nonzero) = d.div_small_quotient(&p, 72);
            Some((round(neg, q, -k, rem_nonzero), true))
        }
    }

    /// A hexadecimal `strtold` number (after "0x"): hex digits, optional '.', optional
    /// binary exponent `p[+-]digits`.
    fn parse_hex(neg: bool, s: &[u8]) -> Option<(LongDouble, bool)> {
        let (digits, frac, exp) = split_number(s, u8::is_ascii_hexdigit, b'p')?;
        let first = digits.iter().position(|&c| c != b'0');
        let Some(first) = first else {
            return Some((round(neg, 0, 0, false), false));
        };
        let digits = &digits[first..];
        let bin_exp = exp - 4 * frac;
        let top = 4 * digits.len() as i64 + bin_exp;
        if top > 16384 + 8 {
            return Some((LongDouble::Inf { neg }, true));
        }
        if top < MIN_EXP - 8 {
            return Some((round(neg, 0, 0, false), true));
        }
        let mut h = BigUint::default();
        for &c in digits {
            let v = (c as char).to_digit(16).unwrap_or(0);
            h.mul_small(16);
            h.add_small(v);
        }
        let (m, e, sticky) = h.top_bits(128);
        Some((round(neg, m, e + bin_exp, sticky), true))
    }

    /// Just enough unsigned big-integer arithmetic for exact conversions.
    #[derive(Clone, Default, Debug)]
    struct BigUint {
        /// Little-endian 32-bit limbs, no trailing zero limbs.
        limbs: Vec<u32>,
    }

    impl BigUint {
        fn from_u128(mut v: u128) -> Self {
            let mut limbs = Vec::new();
            while v != 0 {
                limbs.push(v as u32);
                v >>= 32;
            }
            BigUint { limbs }
        }

        fn from_decimal(digits: &[u8]) -> Self {
            let mut n = BigUint::default();
            for chunk in digits.chunks(9) {
                let mut v = 0u32;
                for &c in chunk {
                    v = v * 10 + (c - b'0') as u32;
                }
                n.mul_small(10u32.pow(chunk.len() as u32));
                n.add_small(v);
            }
            n
        }

        fn trim(&mut self) {
            while self.limbs.last() == Some(&0) {
                self.limbs.pop();
            }
        }

        fn is_odd(&self) -> bool {
            self.limbs.first().is_some_and(|l| l & 1 == 1)
        }

        fn bit_len(&self) -> u64 {
            match self.limbs.last() {
                None => 0,
                Some(&top) => self.limbs.len() as u64 * 32 - top.leading_zeros() as u64,
            }
        }

        fn bit(&self, i: u64) -> bool {
            let limb = (i / 32) as usize;
            limb < self.limbs.len() && (self.limbs[limb] >> (i % 32)) & 1 == 1
        }

        /// True if any bit below `i` is set.
        fn any_below(&self, i: u64) -> bool {
            let full = ((i / 32) as usize).min(self.limbs.len());
            if self.limbs[..full].iter().any(|&l| l != 0) {
                return true;
            }
            let part = i % 32;
            full < self.limbs.len() && part > 0 && self.limbs[full] & ((1u32 << part) - 1) != 0
        }

        fn mul_small(&mut self, m: u32) {
            let mut carry = 0u64;
            for l in self.limbs.iter_mut() {
                let v = *l as u64 * m as u64 + carry;
                *l = v as u32;
                carry = v >> 32;
            }
            if carry != 0 {
                self.limbs.push(carry as u32);
            }
            self.trim();
        }

        fn add_small(&mut self, a: u32) {
            let mut carry = a as u64;
            for l in self.limbs.iter_mut() {
                if carry == 0 {
                    return;
                }
                let v = *l as u64 + carry;
                *l = v as u32;
                carry = v >> 32;
            }
            if carry != 0 {
                self.limbs.push(carry as u32);
            }
        }

        fn mul_pow10(&mut self, mut n: u64) {
            while n >= 9 {
                self.mul_small(1_000_000_000);
                n -= 9;
            }
            if n > 0 {
                self.mul_small(10u32.pow(n as u32));
            }
        }

        fn shl(&mut self, n: u64) {
            if self.limbs.is_empty() || n == 0 {
                return;
            }
            let (limbs, bits) = ((n / 32) as usize, (n % 32) as u32);
            let mut out = vec![0u32; limbs];
            if bits == 0 {
                out.extend_from_slice(&self.limbs);
            } else {
                let mut carry = 0u32;
                for &l in &self.limbs {
                    out.push((l << bits) | carry);
                    carry = l >> (32 - bits);
                }
                if carry != 0 {
                    out.push(carry);
                }
            }
            self.limbs = out;
        }

        fn shr(&self, n: u64) -> BigUint {
            let (limbs, bits) = ((n / 32) as usize, (n % 32) as u32);
            if limbs >= self.limbs.len() {
                return BigUint::default();
            }
            let src = &self.limbs[limbs..];
            let mut out = Vec::with_capacity(src.len());
            for i in 0..src.len() {
                let lo = src[i] as u64;
                let hi = src.get(i + 1).copied().unwrap_or(0) as u64;
                out.push((((hi << 32) | lo) >> bits) as u32);
            }
            let mut r = BigUint { limbs: out };
            r.trim();
            r
        }

        /// (self >> n, the bit just below the cut, whether any lower bit is set).
        fn shr_round_bits(&self, n: u64) -> (BigUint, bool, bool) {
            if n == 0 {
                return (self.clone(), false, false);
            }
            (self.shr(n), self.bit(n - 1), self.any_below(n - 1))
        }

        /// The top `width` bits as (value, exponent of its lowest bit, lower bits set).
        fn top_bits(&self, width: u64) -> (u128, i64, bool) {
            let len = self.bit_len();
            if len <= width {
                return (self.low_u128(), 0, false);
            }
            let cut = len - width;
            (self.shr(cut).low_u128(), cut as i64, self.any_below(cut))
        }

        fn low_u128(&self) -> u128 {
            self.limbs
                .iter()
                .take(4)
                .enumerate()
                .fold(0u128, |acc, (i, &l)| acc | (l as u128) << (32 * i))
        }

        fn cmp(&self, other: &BigUint) -> Ordering {
            self.limbs
                .len()
                .cmp(&other.limbs.len())
                .then_with(|| self.limbs.iter().rev().cmp(other.limbs.iter().rev()))
        }

        /// self -= other, with self >= other.
        fn sub_assign(&mut self, other: &BigUint) {
            let mut borrow = 0i64;
            for i in 0..self.limbs.len() {
                let o = other.limbs.get(i).copied().unwrap_or(0) as i64;
                let mut v = self.limbs[i] as i64 - o - borrow;
                borrow = 0;
                if v < 0 {
                    v += 1 << 32;
                    borrow = 1;
                }
                self.limbs[i] = v as u32;
            }
            self.trim();
        }

        /// floor(self / d) for a quotient known to fit in `qbits` bits, and whether the
        /// remainder is non-zero. Binary long division: the quotient is short.
        fn div_small_quotient(&self, d: &BigUint, qbits: u64) -> (u128, bool) {
            let mut rem = self.clone();
            let mut q = 0u128;
            let mut shifted = d.clone();
            shifted.shl(qbits);
            for i in (0..=qbits).rev() {
                if rem.cmp(&shifted) != Ordering::Less {
                    rem.sub_assign(&shifted);
                    q |= 1u128 << i;
                }
                shifted = shifted.shr(1);
            }
            (q, !rem.limbs.is_empty())
        }

        fn div_rem_small(&mut self, d: u32) -> u32 {
            let mut rem = 0u64;
            for l in self.limbs.iter_mut().rev() {
                let v = (rem << 32) | *l as u64;
                *l = (v / d as u64) as u32;
                rem = v % d as u64;
            }
            self.trim();
            rem as u32
        }

        fn to_decimal(&self) -> String {
            if self.limbs.is_empty() {
                return "0".into();
            }
            let mut n = self.clone();
            let mut chunks = Vec::new();
            while !n.limbs.is_empty() {
                chunks.push(n.div_rem_small(1_000_000_000));
            }
            let mut s = chunks.pop().map(|c| c.to_string()).unwrap_or_default();
            for c in chunks.iter().rev() {
                s.push_str(&format!("{:09}", c));
            }
            s
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn incr(a: &str, b: &str) -> Option<String> {
            let x = LongDouble::parse(a.as_bytes())?;
            let y = LongDouble::parse(b.as_bytes())?;
            (x + y).to_human_string()
        }

        #[test]
        fn matches_redis_outputs() {
            assert_eq!(incr("10.5", "0.1").as_deref(), Some("10.6"));
            assert_eq!(incr("0", "3.0e3").as_deref(), Some("3000"));
            assert_eq!(incr("0", "0x10").as_deref(), Some("16"));
            assert_eq!(
                incr("0", "0.000003814697265625").as_deref(),
                Some("0.00000381469726562")
            );
            assert_eq!(
                incr("0", "0.000011444091796875").as_deref(),
                Some("0.00001144409179688")
            );
            assert_eq!(incr("0", "1.5e-20").as_deref(), Some("0"));
            assert_eq!(incr("0", "-1.5e-20").as_deref(), Some("0"));
            assert_eq!(incr("0", "1e-4940").as_deref(), Some("0"));
            let big = incr("0", "1e300").unwrap();
            assert!(big.starts_with("1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849152083750497"));
            assert_eq!(big.len(), 301);
            assert_eq!(LongDouble::parse(b"1e-5000"), None);
            assert_eq!(LongDouble::parse(b"1.2e4932"), None);
            assert!(LongDouble::parse(b"1.1e4932").is_some());
            assert_eq!(LongDouble::parse(b" 1"), None);
            assert_eq!(LongDouble::parse(b"1 "), None);
            assert_eq!(LongDouble::parse(b"nan"), None);
            assert_eq!(LongDouble::parse(b"1e"), None);
            assert_eq!(LongDouble::parse(b"."), None);
            assert_eq!(LongDouble::parse(b"0x"), None);
            assert_eq!(
                LongDouble::parse(b"-inf"),
                Some(LongDouble::Inf { neg: true })
            );
            assert_eq!(incr("1.1e4932", "1.1e4932"), None);
            assert_eq!(incr("1", "-1").as_deref(), Some("0"));
            assert_eq!(
                incr("0", "99999999999999999999999999999999999999999.5").as_deref(),
                Some("99999999999999999996656269301985151287296")
            );
            assert_eq!(
                LongDouble::from_i64(i64::MIN).to_human_string().as_deref(),
                Some("-9223372036854775808")
            );
        }
    }
}
