//! Randomized differential test: seeded random command sequences over a small key space
//! (so operations collide) are sent to this server and to a real redis-server 7.0.15, and
//! every reply must be byte-identical.
//!
//! Covers the string, bitmap and keyspace families with random option combinations,
//! invalid arguments, wrong arity and wrong-case command names, sent as multibulk,
//! inline and pipelined requests; a second test sends random malformed request streams. Replies that depend on the
//! clock (TTL, PTTL, EXPIRETIME, PEXPIRETIME) are compared with a small tolerance, and KEYS
//! is compared unordered. Relative TTLs are unique per step and large, so no key can
//! expire mid-test and no NX/XX/GT/LT comparison depends on which millisecond a command
//! ran in.
//!
//! CI runs a fixed set of seeds. To run more locally:
//! `RCS_FUZZ_SEED=1000 RCS_FUZZ_CASES=500 cargo test --test diff_random -- --nocapture`
//! (`RCS_FUZZ_STEPS` sets the commands per sequence, `RCS_FUZZ_SECS` the time budget,
//! `RCS_FUZZ_TRACE=1` prints every command with our reply, `RCS_FUZZ_FOCUS=LCS,SET`
//! generates mostly the commands named).
//! A failure prints the seed, the step and the previous commands; the printed lines can be
//! pasted into `Pair::script` as they are.

mod common;
use common::{elements, Pair};
use std::time::{Duration, Instant};

/// xorshift64*: tiny, deterministic across platforms, good enough to pick commands.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // Spread small seeds so seeds 1, 2, 3 do not start with similar streams.
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
        if s == 0 {
            s = 1;
        }
        let mut r = Rng(s);
        for _ in 0..4 {
            r.next();
        }
        r
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `pct` percent.
    fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }

    fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len())]
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo + 1) as u64)) as i64
    }
}

const KEYS: &[&[u8]] = &[
    b"a",
    b"b",
    b"c",
    b"k:1",
    b"{t}x",
    b"",
    b"\xff\x00bin",
    b"num",
];

const INT_EDGES: &[&str] = &[
    "0",
    "1",
    "-1",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775806",
    "-9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "007",
    "-007",
    "+1",
    " 1",
    "1 ",
    "-0",
    "00",
    "10000",
    "9999",
    "-",
    "18446744073709551615",
    "99999999999999999999",
    "1e3",
    "0x10",
    "12345678901234567890123",
];

const FLOAT_EDGES: &[&str] = &[
    "1.5",
    "-1.5",
    "0.1",
    "-0.0",
    "1e10",
    "1E10",
    "1e308",
    "-1e308",
    "1.7976931348623157e308",
    "1e309",
    "1e-320",
    "inf",
    "-inf",
    "+inf",
    "nan",
    "Infinity",
    ".5",
    "5.",
    "3.0",
    "1.0e3",
    "0.30000000000000004",
    "123456789.123456789",
    "abc",
    "",
    " 1.5",
    "1.5 ",
    "1,5",
    "0x1p3",
];

/// How a reply must match.
#[derive(Clone, Copy)]
enum Cmp {
    Exact,
    /// Aggregate whose element order Redis leaves unspecified.
    Unordered,
    /// Integer that depends on the clock: equal sign class, values within the tolerance.
    Clock(i64),
    /// A SCAN call: errors must match; otherwise both full iterations from this call on
    /// must return the same set of keys (cursors are implementation details).
    Scan,
    /// Only the reply's kind must match (RANDOMKEY: nil or some key).
    Kind,
}

struct Gen {
    rng: Rng,
    step: usize,
    /// Upper-case command names to restrict generation to (`RCS_FUZZ_FOCUS`), or empty.
    focus: Vec<Vec<u8>>,
}

impl Gen {
    fn key(&mut self) -> Vec<u8> {
        if self.rng.chance(2) {
            return b"nokey".to_vec();
        }
        self.rng.pick(KEYS).to_vec()
    }

    fn value(&mut self) -> Vec<u8> {
        let r = &mut self.rng;
        match r.below(12) {
            0 | 1 => r.pick(INT_EDGES).as_bytes().to_vec(),
            2 => r.range(-1000, 20000).to_string().into_bytes(),
            3 => (r.next() as i64).to_string().into_bytes(),
            4 if r.chance(50) => r.pick(FLOAT_EDGES).as_bytes().to_vec(),
            4 => {
                // Random decimal and exponent forms, so INCRBYFLOAT's long double sums and
                // their %.17Lg formatting see many digit patterns.
                let mant = (r.next() % 100_000_000) as i64 - 50_000_000;
                let frac = r.next() % 1_000_000;
                match r.below(4) {
                    0 => format!("{}.{:06}", mant, frac),
                    1 => format!("{}e{}", mant, r.range(-30, 30)),
                    2 => format!("{}.{}E+{}", mant % 100, frac, r.range(0, 20)),
                    _ => format!("0.{:06}", frac),
                }
                .into_bytes()
            }
            5 => Vec::new(),
            6 => {
                let n = r.below(20);
                (0..n).map(|_| r.next() as u8).collect()
            }
            7 => {
                // Around the 44-byte embstr limit and longer.
                let n = match r.below(3) {
                    0 => r.range(40, 48) as usize,
                    1 => r.range(100, 400) as usize,
                    _ => r.range(1000, 3000) as usize,
                };
                (0..n).map(|i| b"abcxyz"[(i + r.below(2)) % 6]).collect()
            }
            8 => {
                // Bit patterns for the bitmap commands, some with long runs of zero or
                // one bytes so word-at-a-time scans are exercised.
                if r.chance(50) {
                    let n = r.below(6);
                    (0..n)
                        .map(|_| *r.pick(&[&0u8, &0xff, &0x0f, &0xf0, &0x80, &0x01, &0x55]))
                        .collect()
                } else {
                    let mut v = Vec::new();
                    for _ in 0..r.below(4) {
                        let fill = *r.pick(&[&0u8, &0xff, &0x10, &0xfe]);
                        v.extend(std::iter::repeat_n(fill, r.below(20)));
                    }
                    v
                }
            }
            _ => {
                let n = r.below(12);
                (0..n).map(|_| b"abcab"[r.below(5)]).collect()
            }
        }
    }

    /// An integer argument: mostly in `lo..=hi`, sometimes an edge or a malformed one.
    fn int(&mut self, lo: i64, hi: i64) -> Vec<u8> {
        if self.rng.chance(8) {
            return self.rng.pick(INT_EDGES).as_bytes().to_vec();
        }
        self.rng.range(lo, hi).to_string().into_bytes()
    }

    /// A relative TTL in seconds: large and unique per step, or an edge value.
    fn rel_secs(&mut self) -> Vec<u8> {
        let base = 100_000 + 7 * self.step as i64;
        match self.rng.below(12) {
            0 => self.rng.pick(&["0", "-1", "-100"]).as_bytes().to_vec(),
            1 => self
                .rng
                .pick(&[
                    "9223372036854775807",
                    "-9223372036854775808",
                    "9223372036854775",
                    "9223372036854776",
                    "9223372036854775808",
                    "abc",
                    "",
                    "1.5",
                    "+5",
                    " 5",
                ])
                .as_bytes()
                .to_vec(),
            2 => (9_000_000_000 + self.step as i64).to_string().into_bytes(),
            _ => base.to_string().into_bytes(),
        }
    }

    fn rel_ms(&mut self) -> Vec<u8> {
        let base = (100_000 + 7 * self.step as i64) * 1000;
        match self.rng.below(12) {
            0 => self.rng.pick(&["0", "-1", "-100"]).as_bytes().to_vec(),
            1 => self
                .rng
                .pick(&[
                    "9223372036854775807",
                    "-9223372036854775808",
                    "9223372036854775806",
                    "9223372036854775808",
                    "abc",
                    "1.5",
                ])
                .as_bytes()
                .to_vec(),
            2 => (9_000_000_000_000 + self.step as i64)
                .to_string()
                .into_bytes(),
            _ => (base + self.rng.range(0, 999)).to_string().into_bytes(),
        }
    }

    /// An absolute unix time in seconds: fixed far-future values, and past or invalid ones
    /// unless `future` (SET keeps a key with a past deadline until active expiry reclaims
    /// it, so DBSIZE would race).
    fn abs_secs(&mut self, future: bool) -> Vec<u8> {
        match self.rng.below(8) {
            0 if !future => self
                .rng
                .pick(&["0", "1", "1000000000", "-1", "9223372036854775807", "x"])
                .as_bytes()
                .to_vec(),
            1 => "9223372036854775".as_bytes().to_vec(),
            _ => (4_102_444_800 + 1000 * self.rng.range(0, 5))
                .to_string()
                .into_bytes(),
        }
    }

    fn abs_ms(&mut self, future: bool) -> Vec<u8> {
        match self.rng.below(8) {
            0 if !future => self
                .rng
                .pick(&["0", "1", "1000000000000", "-1", "9223372036854775807", "x"])
                .as_bytes()
                .to_vec(),
            _ => (4_102_444_800_000 + 1000 * self.rng.range(0, 5) + self.rng.range(0, 999))
                .to_string()
                .into_bytes(),
        }
    }

    /// One expiry option with its argument (SET and GETEX style).
    fn ttl_opt(&mut self, out: &mut Vec<Vec<u8>>, future: bool) {
        match self.rng.below(4) {
            0 => {
                out.push(b"EX".to_vec());
                let v = self.rel_secs();
                out.push(v);
            }
            1 => {
                out.push(b"PX".to_vec());
                let v = self.rel_ms();
                out.push(v);
            }
            2 => {
                out.push(b"EXAT".to_vec());
                let v = self.abs_secs(future);
                out.push(v);
            }
            _ => {
                out.push(b"PXAT".to_vec());
                let v = self.abs_ms(future);
                out.push(v);
            }
        }
    }

    fn keys(&mut self, min: usize, max: usize) -> Vec<Vec<u8>> {
        let n = min + self.rng.below(max - min + 1);
        (0..n).map(|_| self.key()).collect()
    }

    fn db(&mut self) -> Vec<u8> {
        if self.rng.chance(10) {
            return self
                .rng
                .pick(&[
                    "-1",
                    "16",
                    "3",
                    "abc",
                    "",
                    "1.0",
                    "9223372036854775808",
                    "2147483647",
                    "2147483648",
                    "-2147483649",
                    "-5899154122476417576",
                ])
                .as_bytes()
                .to_vec();
        }
        self.rng.range(0, 2).to_string().into_bytes()
    }

    fn bit_offset(&mut self, write: bool) -> Vec<u8> {
        match self.rng.below(10) {
            0 => self
                .rng
                .pick(&["-1", "4294967296", "abc", "1.5", "9223372036854775807"])
                .as_bytes()
                .to_vec(),
            1 if !write => self
                .rng
                .pick(&["4294967295", "4294967288", "100000"])
                .as_bytes()
                .to_vec(),
            _ => self.rng.range(0, 80).to_string().into_bytes(),
        }
    }

    fn bitfield_type(&mut self) -> Vec<u8> {
        let t = self.rng.pick(&[
            "i1", "i5", "i8", "i16", "i63", "i64", "u1", "u3", "u8", "u16", "u63", "u64", "i65",
            "i0", "u0", "x8", "I8", "U8", "i", "i-1", "i 8",
        ]);
        t.as_bytes().to_vec()
    }

    fn bitfield_offset(&mut self, write: bool) -> Vec<u8> {
        match self.rng.below(10) {
            0 => self
                .rng
                .pick(&["#-1", "-1", "abc", "#", "4294967296", "#4294967296", "##1"])
                .as_bytes()
                .to_vec(),
            1 if !write => self
                .rng
                .pick(&["4294967232", "#67108863"])
                .as_bytes()
                .to_vec(),
            2..=4 => format!("#{}", self.rng.range(0, 6)).into_bytes(),
            _ => self.rng.range(0, 70).to_string().into_bytes(),
        }
    }

    fn glob(&mut self) -> Vec<u8> {
        self.rng
            .pick(&[
                "*", "?", "a*", "[a-c]", "*:*", "{t}*", "\\{*", "[^a]", "[!a]*", "*\\x*", "", "[",
                "[a-", "**", "???", "k?1", "*b*", "[\\]]", "\\", "nokey", "[c-a]", "*[",
            ])
            .as_bytes()
            .to_vec()
    }

    /// Builds one command and how its reply is compared, within the focus if one is set
    /// (other commands still come through now and then, to vary the state).
    fn command(&mut self) -> (Vec<Vec<u8>>, Cmp) {
        for _ in 0..1000 {
            let c = self.any_command();
            let name = c.0[0].to_ascii_uppercase();
            if self.focus.is_empty() || self.focus.contains(&name) || self.rng.chance(1) {
                return c;
            }
        }
        self.any_command()
    }

    fn any_command(&mut self) -> (Vec<Vec<u8>>, Cmp) {
        let mut a: Vec<Vec<u8>> = Vec::new();
        let mut cmp = Cmp::Exact;
        macro_rules! push {
            ($($e:expr),*) => {{ $( let v: Vec<u8> = $e; a.push(v); )* }};
        }
        let w = |s: &str| s.as_bytes().to_vec();
        match self.rng.below(72 + 48) {
            72.. => {
                let (c, how) = self.collection_command();
                a = c;
                cmp = how;
            }
            0..=3 => push!(w("GET"), self.key()),
            4..=8 => {
                push!(w("SET"), self.key(), self.value());
                let n = self.rng.below(4);
                for _ in 0..n {
                    match self.rng.below(9) {
                        0 => push!(w("NX")),
                        1 => push!(w("XX")),
                        2 => push!(w("GET")),
                        3 => push!(w("KEEPTTL")),
                        4..=6 => self.ttl_opt(&mut a, true),
                        7 => push!(w(self.rng.pick(&["EX", "PX", "EXAT", "PXAT"]))),
                        _ => push!(w(self.rng.pick(&["FOO", "PERSIST", "nx ", "G"]))),
                    }
                }
            }
            9 => {
                push!(w("GETEX"), self.key());
                let n = self.rng.below(3);
                for _ in 0..n {
                    match self.rng.below(5) {
                        0 => push!(w("PERSIST")),
                        1 => push!(w(self.rng.pick(&["FOO", "KEEPTTL", "NX", "EX"]))),
                        _ => self.ttl_opt(&mut a, false),
                    }
                }
            }
            10 => push!(w("GETDEL"), self.key()),
            11 => push!(w("GETSET"), self.key(), self.value()),
            12 => push!(w("SETNX"), self.key(), self.value()),
            13 => push!(w("SETEX"), self.key(), self.rel_secs(), self.value()),
            14 => push!(w("PSETEX"), self.key(), self.rel_ms(), self.value()),
            15 => {
                push!(w("MGET"));
                a.extend(self.keys(1, 5));
            }
            16 | 17 => {
                push!(w(self.rng.pick(&["MSET", "MSETNX"])));
                let n = 1 + self.rng.below(3);
                for _ in 0..n {
                    push!(self.key(), self.value());
                }
                if self.rng.chance(5) {
                    push!(self.key());
                }
            }
            18 | 19 => push!(w("APPEND"), self.key(), self.value()),
            20 => push!(w("STRLEN"), self.key()),
            21 => push!(
                w(self.rng.pick(&["GETRANGE", "SUBSTR"])),
                self.key(),
                self.int(-20, 20),
                self.int(-20, 20)
            ),
            22 => {
                let v = self.value();
                let off = if self.rng.chance(10) {
                    if v.is_empty() {
                        w(self
                            .rng
                            .pick(&["536870911", "536870912", "9223372036854775807"]))
                    } else {
                        w(self.rng.pick(&["536870912", "-1", "9223372036854775807"]))
                    }
                } else {
                    self.int(0, 60)
                };
                push!(w("SETRANGE"), self.key(), off, v);
            }
            23..=25 => {
                push!(w(self.rng.pick(&["INCR", "DECR"])), self.key());
            }
            26 | 27 => {
                let by = if self.rng.chance(50) {
                    self.int(-100, 100)
                } else {
                    self.value()
                };
                push!(w(self.rng.pick(&["INCRBY", "DECRBY"])), self.key(), by);
            }
            28 | 29 => {
                let by = if self.rng.chance(50) {
                    w(self.rng.pick(FLOAT_EDGES))
                } else {
                    self.value()
                };
                push!(w("INCRBYFLOAT"), self.key(), by);
            }
            30 => {
                push!(w("LCS"), self.key(), self.key());
                let n = self.rng.below(4);
                for _ in 0..n {
                    match self.rng.below(6) {
                        0 => push!(w("LEN")),
                        1 | 2 => push!(w("IDX")),
                        3 => push!(w("MINMATCHLEN"), self.int(0, 4)),
                        4 => push!(w("WITHMATCHLEN")),
                        _ => push!(w(self.rng.pick(&["FOO", "MINMATCHLEN"]))),
                    }
                }
            }
            31 | 32 => {
                let v = w(self
                    .rng
                    .pick(&["0", "1", "1", "0", "2", "-1", "", "01", "abc"]));
                push!(w("SETBIT"), self.key(), self.bit_offset(true), v);
            }
            33 => push!(w("GETBIT"), self.key(), self.bit_offset(false)),
            34 => {
                push!(w("BITCOUNT"), self.key());
                if self.rng.chance(70) {
                    push!(self.int(-10, 10), self.int(-10, 10));
                    if self.rng.chance(50) {
                        push!(w(self.rng.pick(&["BIT", "BYTE", "bit", "WORD"])));
                    }
                } else if self.rng.chance(20) {
                    push!(self.int(-10, 10));
                }
            }
            35 => {
                let bit = w(self.rng.pick(&["0", "1", "1", "0", "2", "x"]));
                push!(w("BITPOS"), self.key(), bit);
                let n = self.rng.below(4);
                if n >= 1 {
                    push!(self.int(-10, 10));
                }
                if n >= 2 {
                    push!(self.int(-10, 10));
                }
                if n >= 3 {
                    push!(w(self.rng.pick(&["BIT", "BYTE", "bit", "WORD"])));
                }
            }
            36 => {
                let op = self
                    .rng
                    .pick(&["AND", "OR", "XOR", "NOT", "and", "not", "NAND"]);
                push!(w("BITOP"), w(op), self.key());
                a.extend(self.keys(1, 3));
            }
            37 | 38 => {
                let ro = self.rng.chance(20);
                push!(w(if ro { "BITFIELD_RO" } else { "BITFIELD" }), self.key());
                let n = self.rng.below(4);
                for _ in 0..n {
                    match self.rng.below(8) {
                        0..=2 => push!(w("GET"), self.bitfield_type(), self.bitfield_offset(false)),
                        3 | 4 => push!(
                            w("SET"),
                            self.bitfield_type(),
                            self.bitfield_offset(true),
                            self.int(-300, 300)
                        ),
                        5 => push!(
                            w("INCRBY"),
                            self.bitfield_type(),
                            self.bitfield_offset(true),
                            self.int(-300, 300)
                        ),
                        6 => push!(
                            w("OVERFLOW"),
                            w(self.rng.pick(&["WRAP", "SAT", "FAIL", "sat", "BAD"]))
                        ),
                        _ => push!(w(self.rng.pick(&["GET", "FOO", "SET", "INCRBY"]))),
                    }
                }
            }
            39 | 40 => {
                push!(w(self.rng.pick(&["DEL", "UNLINK", "EXISTS", "TOUCH"])));
                a.extend(self.keys(1, 4));
            }
            41 => push!(w("TYPE"), self.key()),
            42 | 43 => push!(
                w(self.rng.pick(&["RENAME", "RENAMENX"])),
                self.key(),
                self.key()
            ),
            44 | 45 => {
                push!(w("COPY"), self.key(), self.key());
                let n = self.rng.below(3);
                for _ in 0..n {
                    match self.rng.below(4) {
                        0 | 1 => push!(w("DB"), self.db()),
                        2 => push!(w("REPLACE")),
                        _ => push!(w(self.rng.pick(&["DB", "FOO"]))),
                    }
                }
            }
            46 => {
                push!(w("KEYS"), self.glob());
                cmp = Cmp::Unordered;
            }
            47..=51 => {
                let (name, t) = match self.rng.below(4) {
                    0 => ("EXPIRE", self.rel_secs()),
                    1 => ("PEXPIRE", self.rel_ms()),
                    2 => ("EXPIREAT", self.abs_secs(false)),
                    _ => ("PEXPIREAT", self.abs_ms(false)),
                };
                push!(w(name), self.key(), t);
                let n = self.rng.below(3);
                for _ in 0..n {
                    push!(w(self.rng.pick(&["NX", "XX", "GT", "LT", "gt", "FOO"])));
                }
            }
            52 | 53 => {
                let name = self.rng.pick(&["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"]);
                cmp = Cmp::Clock(if name.starts_with('P') { 3000 } else { 3 });
                push!(w(name), self.key());
            }
            54 => push!(w("PERSIST"), self.key()),
            55 => {
                let sub = self.rng.pick(&[
                    "ENCODING", "ENCODING", "REFCOUNT", "FREQ", "encoding", "NOPE",
                ]);
                push!(w("OBJECT"), w(sub), self.key());
            }
            56 | 57 => push!(w("SELECT"), self.db()),
            58 => push!(w("MOVE"), self.key(), self.db()),
            59 => push!(w("SWAPDB"), self.db(), self.db()),
            60 => {
                if self.rng.chance(25) {
                    push!(w(self.rng.pick(&["FLUSHDB", "FLUSHALL"])));
                    if self.rng.chance(30) {
                        push!(w(self.rng.pick(&["SYNC", "ASYNC", "FOO"])));
                    }
                } else {
                    push!(w("DBSIZE"));
                }
            }
            61 => {
                let r = self.rng.below(10);
                if r < 6 {
                    cmp = Cmp::Scan;
                    let cursor = if self.rng.chance(90) {
                        w("0")
                    } else {
                        w(self.rng.pick(&["-1", "abc", "18446744073709551616", "1.5"]))
                    };
                    push!(w("SCAN"), cursor);
                    let n = self.rng.below(4);
                    for _ in 0..n {
                        match self.rng.below(7) {
                            0 | 1 => push!(w("MATCH"), self.glob()),
                            2 | 3 => push!(w("COUNT"), self.int(1, 20)),
                            4 => push!(
                                w("TYPE"),
                                w(self.rng.pick(&["string", "STRING", "list", "hash", "x"]))
                            ),
                            _ => push!(w(self.rng.pick(&["MATCH", "COUNT", "TYPE", "FOO"]))),
                        }
                    }
                } else if r < 8 {
                    cmp = Cmp::Kind;
                    push!(w("RANDOMKEY"));
                } else if r < 9 {
                    push!(w("OBJECT"), w(self.rng.pick(&["HELP", "help", "IDLETIME"])));
                    if a[1] == b"IDLETIME" {
                        cmp = Cmp::Clock(2);
                        push!(self.key());
                    }
                } else {
                    push!(w("DBSIZE"));
                }
            }
            62 => {
                // An unknown command, possibly with arguments echoed in the error.
                push!(w(self.rng.pick(&[
                    "GETT",
                    "SETT",
                    "BITCOUNTS",
                    "EXPIRES",
                    "FOO"
                ])));
                let n = self.rng.below(3);
                for _ in 0..n {
                    push!(self.value());
                }
            }
            63 => {
                // A known command with no arguments at all.
                push!(w(self.rng.pick(&[
                    "GET",
                    "SET",
                    "GETEX",
                    "MGET",
                    "MSET",
                    "INCR",
                    "BITOP",
                    "BITFIELD",
                    "LCS",
                    "COPY",
                    "EXPIRE",
                    "OBJECT",
                    "SELECT",
                    "SWAPDB",
                    "KEYS",
                    "DEL",
                    "SETRANGE",
                    "GETRANGE",
                    "BITPOS",
                    "BITCOUNT",
                    "SETBIT",
                    "INCRBYFLOAT",
                    "TTL",
                    "TYPE",
                ])));
            }
            _ => {
                push!(w("GET"), self.key());
            }
        }
        // Random mutations: wrong arity and wrong-case names.
        if self.rng.chance(4) && a.len() > 1 {
            a.pop();
        } else if self.rng.chance(3) {
            let v = self.value();
            a.push(v);
        }
        if self.rng.chance(30) {
            for b in a[0].iter_mut() {
                if self.rng.chance(50) {
                    b.make_ascii_lowercase();
                }
            }
        }
        (a, cmp)
    }
}

/// Members of collections: small integers (intset), short strings, binary, a 70-byte
/// string (past the listpack value limit) and numbers in other spellings.
const MEMBERS: &[&[u8]] = &[
    b"0",
    b"1",
    b"2",
    b"3",
    b"7",
    b"-5",
    b"100",
    b"a",
    b"b",
    b"c",
    b"m1",
    b"x\x00y",
    b"",
    b"01",
    b"1.5",
    b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
];

const SCORES: &[&str] = &[
    "0", "1", "-1", "2.5", "1e3", "-inf", "+inf", "inf", "0.1", "3", "nan", "x", "1e400",
];

impl Gen {
    fn member(&mut self) -> Vec<u8> {
        if self.rng.chance(5) {
            return self.value();
        }
        self.rng.pick(MEMBERS).to_vec()
    }

    /// A member that keeps hashes and zsets in their compact (ordered) form, so replies
    /// listing them compare exactly.
    fn small_member(&mut self) -> Vec<u8> {
        self.rng.pick(&MEMBERS[..15]).to_vec()
    }

    fn score(&mut self) -> Vec<u8> {
        if self.rng.chance(70) {
            return self.rng.range(-3, 12).to_string().into_bytes();
        }
        self.rng.pick(SCORES).as_bytes().to_vec()
    }

    fn score_bound(&mut self) -> Vec<u8> {
        let b = self.score();
        if self.rng.chance(30) {
            let mut x = b"(".to_vec();
            x.extend(b);
            return x;
        }
        b
    }

    fn lex_bound(&mut self) -> Vec<u8> {
        match self.rng.below(6) {
            0 => b"-".to_vec(),
            1 => b"+".to_vec(),
            2 => b"a".to_vec(),
            3 => {
                let mut x = b"(".to_vec();
                x.extend(self.small_member());
                x
            }
            _ => {
                let mut x = b"[".to_vec();
                x.extend(self.small_member());
                x
            }
        }
    }

    fn index(&mut self) -> Vec<u8> {
        match self.rng.below(8) {
            0 => self
                .rng
                .pick(&["x", "1.5", "9223372036854775808", "-9223372036854775808"])
                .as_bytes()
                .to_vec(),
            _ => self.rng.range(-8, 8).to_string().into_bytes(),
        }
    }

    fn side(&mut self) -> Vec<u8> {
        self.rng
            .pick(&["LEFT", "RIGHT", "left", "MIDDLE"])
            .as_bytes()
            .to_vec()
    }

    /// Commands of the collection types (lists, hashes, sets, sorted sets, HyperLogLog)
    /// over the same keys as the string commands, so type errors come up naturally.
    /// Random replies (SPOP, SRANDMEMBER, HRANDFIELD, ZRANDMEMBER) and blocking forms are
    /// left to the family tests.
    fn collection_command(&mut self) -> (Vec<Vec<u8>>, Cmp) {
        let mut a: Vec<Vec<u8>> = Vec::new();
        let mut cmp = Cmp::Exact;
        macro_rules! push {
            ($($e:expr),*) => {{ $( let v: Vec<u8> = $e; a.push(v); )* }};
        }
        let w = |s: &str| s.as_bytes().to_vec();
        match self.rng.below(48) {
            0..=2 => {
                push!(
                    w(self.rng.pick(&["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"])),
                    self.key()
                );
                for _ in 0..self.rng.range(1, 4) {
                    push!(self.member());
                }
            }
            3 | 4 => {
                push!(w(self.rng.pick(&["LPOP", "RPOP"])), self.key());
                if self.rng.chance(50) {
                    push!(self.index());
                }
            }
            5 => push!(w("LRANGE"), self.key(), self.index(), self.index()),
            6 => push!(
                w(self.rng.pick(&["LLEN", "LINDEX"])),
                self.key(),
                self.index()
            ),
            7 => push!(w("LSET"), self.key(), self.index(), self.member()),
            8 => push!(
                w("LINSERT"),
                self.key(),
                w(self.rng.pick(&["BEFORE", "AFTER", "after", "X"])),
                self.member(),
                self.member()
            ),
            9 => push!(w("LREM"), self.key(), self.index(), self.member()),
            10 => push!(w("LTRIM"), self.key(), self.index(), self.index()),
            11 => {
                push!(w("LPOS"), self.key(), self.member());
                for _ in 0..self.rng.below(3) {
                    push!(
                        w(self.rng.pick(&["RANK", "COUNT", "MAXLEN", "FOO"])),
                        self.index()
                    );
                }
            }
            12 => push!(w("LMOVE"), self.key(), self.key(), self.side(), self.side()),
            13 => push!(w("RPOPLPUSH"), self.key(), self.key()),
            14 => {
                let n = self.rng.range(1, 3);
                push!(w("LMPOP"), n.to_string().into_bytes());
                for _ in 0..n {
                    push!(self.key());
                }
                push!(self.side());
                if self.rng.chance(40) {
                    push!(w("COUNT"), self.index());
                }
            }
            15..=17 => {
                push!(
                    w(self.rng.pick(&["HSET", "HSET", "HMSET", "HSETNX"])),
                    self.key()
                );
                for _ in 0..self.rng.range(1, 3) {
                    push!(self.small_member(), self.small_member());
                }
            }
            18 => push!(
                w(self.rng.pick(&["HGET", "HEXISTS", "HSTRLEN"])),
                self.key(),
                self.small_member()
            ),
            19 => {
                push!(w(self.rng.pick(&["HMGET", "HDEL"])), self.key());
                for _ in 0..self.rng.range(1, 3) {
                    push!(self.small_member());
                }
            }
            20 => push!(
                w(self.rng.pick(&["HGETALL", "HKEYS", "HVALS", "HLEN"])),
                self.key()
            ),
            21 => push!(w("HINCRBY"), self.key(), self.small_member(), self.index()),
            22 => push!(
                w("HINCRBYFLOAT"),
                self.key(),
                self.small_member(),
                self.score()
            ),
            23 | 24 => {
                push!(w(self.rng.pick(&["SADD", "SADD", "SREM"])), self.key());
                for _ in 0..self.rng.range(1, 4) {
                    push!(self.member());
                }
            }
            25 => {
                push!(w(self.rng.pick(&["SMEMBERS", "SCARD"])), self.key());
                cmp = Cmp::Unordered;
            }
            26 => {
                push!(
                    w(self.rng.pick(&["SISMEMBER", "SMISMEMBER"])),
                    self.key(),
                    self.member()
                );
            }
            27 => push!(w("SMOVE"), self.key(), self.key(), self.member()),
            28 => {
                push!(w(self.rng.pick(&["SINTER", "SUNION", "SDIFF"])));
                for _ in 0..self.rng.range(1, 3) {
                    push!(self.key());
                }
                cmp = Cmp::Unordered;
            }
            29 => {
                push!(w(self.rng.pick(&[
                    "SINTERSTORE",
                    "SUNIONSTORE",
                    "SDIFFSTORE"
                ])));
                for _ in 0..self.rng.range(2, 4) {
                    push!(self.key());
                }
            }
            30 => {
                let n = self.rng.range(1, 3);
                push!(
                    w(self.rng.pick(&["SINTERCARD", "ZINTERCARD"])),
                    n.to_string().into_bytes()
                );
                for _ in 0..n {
                    push!(self.key());
                }
                if self.rng.chance(40) {
                    push!(w("LIMIT"), self.index());
                }
            }
            31..=33 => {
                push!(w("ZADD"), self.key());
                if self.rng.chance(30) {
                    push!(w(self.rng.pick(&["NX", "XX", "GT", "LT", "CH", "INCR"])));
                }
                for _ in 0..self.rng.range(1, 3) {
                    push!(self.score(), self.small_member());
                }
            }
            34 => push!(w("ZINCRBY"), self.key(), self.score(), self.small_member()),
            35 => {
                push!(w(self.rng.pick(&["ZREM", "ZMSCORE"])), self.key());
                for _ in 0..self.rng.range(1, 3) {
                    push!(self.small_member());
                }
            }
            36 => push!(
                w(self.rng.pick(&["ZSCORE", "ZRANK", "ZREVRANK"])),
                self.key(),
                self.small_member()
            ),
            37 => push!(w(self.rng.pick(&["ZCARD", "TYPE", "OBJECT"])), self.key()),
            38 => push!(
                w("ZCOUNT"),
                self.key(),
                self.score_bound(),
                self.score_bound()
            ),
            39 => push!(
                w(self.rng.pick(&[
                    "ZLEXCOUNT",
                    "ZRANGEBYLEX",
                    "ZREVRANGEBYLEX",
                    "ZREMRANGEBYLEX"
                ])),
                self.key(),
                self.lex_bound(),
                self.lex_bound()
            ),
            40 => {
                push!(w("ZRANGE"), self.key());
                match self.rng.below(3) {
                    0 => push!(self.index(), self.index()),
                    1 => push!(self.score_bound(), self.score_bound(), w("BYSCORE")),
                    _ => push!(self.lex_bound(), self.lex_bound(), w("BYLEX")),
                }
                if self.rng.chance(40) {
                    push!(w("REV"));
                }
                if self.rng.chance(30) {
                    push!(w("LIMIT"), self.index(), self.index());
                }
                if self.rng.chance(40) {
                    push!(w("WITHSCORES"));
                }
            }
            41 => {
                push!(
                    w(self
                        .rng
                        .pick(&["ZRANGEBYSCORE", "ZREVRANGEBYSCORE", "ZREMRANGEBYSCORE"])),
                    self.key(),
                    self.score_bound(),
                    self.score_bound()
                );
                if self.rng.chance(40) {
                    push!(w("WITHSCORES"));
                }
            }
            42 => push!(
                w(self
                    .rng
                    .pick(&["ZREMRANGEBYRANK", "ZREVRANGE", "ZRANGESTORE"])),
                self.key(),
                self.index(),
                self.index()
            ),
            43 => {
                push!(w(self.rng.pick(&["ZPOPMIN", "ZPOPMAX"])), self.key());
                if self.rng.chance(50) {
                    push!(self.index());
                }
            }
            44 => {
                let store = self.rng.chance(50);
                let name = self.rng.pick(&["ZUNION", "ZINTER", "ZDIFF"]);
                if store {
                    push!(format!("{name}STORE").into_bytes(), self.key());
                } else {
                    push!(w(name));
                }
                let n = self.rng.range(1, 3);
                push!(n.to_string().into_bytes());
                for _ in 0..n {
                    push!(self.key());
                }
                if self.rng.chance(30) && name != "ZDIFF" {
                    push!(w("WEIGHTS"));
                    for _ in 0..n {
                        push!(self.score());
                    }
                }
                if self.rng.chance(30) && name != "ZDIFF" {
                    push!(
                        w("AGGREGATE"),
                        w(self.rng.pick(&["SUM", "MIN", "MAX", "AVG"]))
                    );
                }
                if !store && self.rng.chance(50) {
                    push!(w("WITHSCORES"));
                }
            }
            45 => {
                let n = self.rng.range(1, 2);
                push!(w("ZMPOP"), n.to_string().into_bytes());
                for _ in 0..n {
                    push!(self.key());
                }
                push!(w(self.rng.pick(&["MIN", "MAX", "LEFT"])));
                if self.rng.chance(40) {
                    push!(w("COUNT"), self.index());
                }
            }
            46 => {
                push!(w("PFADD"), self.key());
                for _ in 0..self.rng.below(4) {
                    push!(self.member());
                }
            }
            _ => {
                push!(w(self.rng.pick(&["PFCOUNT", "PFMERGE"])));
                for _ in 0..self.rng.range(1, 3) {
                    push!(self.key());
                }
            }
        }
        if a[0] == b"OBJECT" {
            a.insert(1, w("ENCODING"));
        }
        (a, cmp)
    }
}

/// Formats arguments as one redis-cli style line that `Pair::script` splits back.
fn line(args: &[Vec<u8>]) -> String {
    let mut s = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let plain = !a.is_empty()
            && a.iter()
                .all(|&b| b.is_ascii_graphic() && b != b'"' && b != b'\'' && b != b'\\');
        if plain {
            s.push_str(std::str::from_utf8(a).unwrap_or_default());
            continue;
        }
        s.push('"');
        for &b in a {
            match b {
                b'"' => s.push_str("\\\""),
                b'\\' => s.push_str("\\\\"),
                b'\n' => s.push_str("\\n"),
                b'\r' => s.push_str("\\r"),
                b'\t' => s.push_str("\\t"),
                0x20..=0x7e => s.push(b as char),
                _ => s.push_str(&format!("\\x{:02x}", b)),
            }
        }
        s.push('"');
    }
    s
}

fn int_reply(r: &[u8]) -> Option<i64> {
    let t = r.strip_prefix(b":")?.strip_suffix(b"\r\n")?;
    std::str::from_utf8(t).ok()?.parse().ok()
}

/// Whether two replies agree under the comparison rule.
fn same(cmp: Cmp, x: &[u8], y: &[u8]) -> bool {
    match cmp {
        Cmp::Exact => x == y,
        Cmp::Unordered => {
            let (mut ex, mut ey) = (elements(x), elements(y));
            ex.sort();
            ey.sort();
            ex == ey && x.first() == y.first()
        }
        Cmp::Clock(tol) => match (int_reply(x), int_reply(y)) {
            (Some(a), Some(b)) if a >= 0 && b >= 0 => (a - b).abs() <= tol,
            _ => x == y,
        },
        // The iteration itself is compared by `scan_all`; here only errors must match.
        Cmp::Scan => x.first() == y.first() && (x.first() != Some(&b'-') || x == y),
        Cmp::Kind => match (x.first(), y.first()) {
            (Some(b'$'), Some(b'$')) => (x == b"$-1\r\n") == (y == b"$-1\r\n"),
            _ => x == y,
        },
    }
}

/// Shows a reply for the failure message, shortened if long.
fn brief(r: &[u8]) -> String {
    // Escaped rather than lossy, so differences in binary bytes stay visible.
    let s: String = r
        .iter()
        .flat_map(|&b| std::ascii::escape_default(b))
        .map(char::from)
        .collect();
    if s.len() > 300 {
        format!("{}... ({} bytes)", &s[..300], r.len())
    } else {
        s
    }
}

/// Runs one seeded sequence against both servers, panicking with a replayable report on
/// the first difference.
fn run_sequence(p: &mut Pair, seed: u64, steps: usize) {
    for l in ["FLUSHALL", "SELECT 0"] {
        p.both(l);
    }
    let focus = std::env::var("RCS_FUZZ_FOCUS").unwrap_or_default();
    let mut g = Gen {
        rng: Rng::new(seed),
        step: 0,
        focus: focus
            .split(',')
            .filter(|f| !f.is_empty())
            .map(|f| f.trim().to_ascii_uppercase().into_bytes())
            .collect(),
    };
    let mut history: Vec<String> = Vec::new();
    let trace = std::env::var_os("RCS_FUZZ_TRACE").is_some();
    let fail = |history: &[String], step: usize, what: String| -> ! {
        let from = history.len().saturating_sub(15);
        panic!(
            "seed {} step {}: {}\nprevious commands (replay with RCS_FUZZ_SEED={} RCS_FUZZ_CASES=1, \
             or paste into Pair::script after FLUSHALL):\n{}",
            seed,
            step,
            what,
            seed,
            history[from..].join("\n")
        )
    };
    let mut step = 0;
    while step < steps {
        // Most commands go alone as multibulk requests; some as inline commands, and some
        // in pipelined batches written at once, so request framing is exercised too.
        let mode = g.rng.below(20);
        let batch = if mode == 0 { 2 + g.rng.below(4) } else { 1 };
        let mut cmds = Vec::new();
        for k in 0..batch.min(steps - step) {
            g.step = step + k;
            let c = g.command();
            let scan = matches!(c.1, Cmp::Scan);
            cmds.push(c);
            if scan {
                // A SCAN iteration is finished after the batch, and commands run between
                // its calls could legitimately change what it returns.
                break;
            }
        }
        let inline = mode == 1 && cmds.len() == 1;
        let mut wire = Vec::new();
        for (args, _) in &cmds {
            if inline {
                wire.extend_from_slice(line(args).as_bytes());
                wire.extend_from_slice(b"\r\n");
            } else {
                let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
                wire.extend_from_slice(&common::encode_command(&refs));
            }
        }
        let replies = match exchange(p, &wire, cmds.len()) {
            Ok(r) => r,
            Err(e) => fail(&history, step, format!("`{}`: {}", line(&cmds[0].0), e)),
        };
        for ((args, cmp), (x, y)) in cmds.iter().zip(replies) {
            let l = line(args);
            let shown = if l.len() > 300 {
                // `line` output is ASCII, so any byte index is a char boundary.
                format!("{}... ({} chars)", &l[..300], l.len())
            } else {
                l.clone()
            };
            let how = match (inline, batch) {
                (true, _) => " (inline)",
                (_, 1) => "",
                _ => " (pipelined)",
            };
            if trace {
                eprintln!("{} {}{}  ->  {}", step, l, how, brief(&x));
            }
            history.push(format!("{}    # ours {}{}", shown, brief(&x), how));
            if !same(*cmp, &x, &y) {
                fail(
                    &history,
                    step,
                    format!(
                        "reply differs for `{}`{}\n  ours:  {}\n  redis: {}",
                        l,
                        how,
                        brief(&x),
                        brief(&y)
                    ),
                );
            }
            // What a SCAN from any cursor but 0 returns depends on the hash table layout.
            if matches!(cmp, Cmp::Scan) && x.first() == Some(&b'*') && args[1] == b"0" {
                let ours = scan_all(&mut p.a, args, &x);
                let theirs = scan_all(&mut p.b, args, &y);
                if ours != theirs {
                    fail(
                        &history,
                        step,
                        format!(
                            "SCAN iterations differ for `{}`\n  ours:  {:?}\n  redis: {:?}",
                            l, ours, theirs
                        ),
                    );
                }
            }
            step += 1;
        }
    }
    // The whole keyspace must agree too, including values no command happened to read.
    for db in 0..3 {
        let sel = format!("SELECT {}", db);
        p.both(&sel);
        let (x, y) = p.both("KEYS *");
        if !same(Cmp::Unordered, &x, &y) {
            fail(
                &history,
                steps,
                format!(
                    "final KEYS differ in db {}\n  ours:  {}\n  redis: {}",
                    db,
                    brief(&x),
                    brief(&y)
                ),
            );
        }
        for k in KEYS {
            for c in ["GET", "OBJECT ENCODING", "TTL"] {
                let mut args: Vec<&[u8]> = c.split(' ').map(|s| s.as_bytes()).collect();
                args.push(k);
                let (x, y) = p.both_args(&args);
                let cmp = if c == "TTL" {
                    Cmp::Clock(3)
                } else {
                    Cmp::Exact
                };
                if !same(cmp, &x, &y) {
                    fail(
                        &history,
                        steps,
                        format!(
                            "final state differs in db {} for `{} {}`\n  ours:  {}\n  redis: {}",
                            db,
                            c,
                            line(&[k.to_vec()]),
                            brief(&x),
                            brief(&y)
                        ),
                    );
                }
            }
        }
    }
}

/// Our reply and redis-server's to the same command.
type ReplyPair = (Vec<u8>, Vec<u8>);

/// Writes the same request bytes to both servers and reads `n` replies from each; a
/// server that hangs or drops the connection becomes an error naming it instead of a bare
/// panic without context.
fn exchange(p: &mut Pair, wire: &[u8], n: usize) -> Result<Vec<ReplyPair>, String> {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let read = |raw: &mut common::Raw| {
        raw.send_raw(wire);
        (0..n).map(|_| raw.read_reply()).collect::<Vec<_>>()
    };
    let xs = catch_unwind(AssertUnwindSafe(|| read(&mut p.a)))
        .map_err(|_| "no reply from rust-cache-server".to_string())?;
    let ys = catch_unwind(AssertUnwindSafe(|| read(&mut p.b)))
        .map_err(|_| format!("no reply from redis-server (ours: {})", brief(&xs.concat())))?;
    Ok(xs.into_iter().zip(ys).collect())
}

/// Bulk string payload of a RESP2 bulk reply.
fn bulk_payload(r: &[u8]) -> Option<&[u8]> {
    let start = r.windows(2).position(|w| w == b"\r\n")? + 2;
    r.get(start..r.len().checked_sub(2)?)
}

/// Completes a SCAN iteration whose first reply was `first` and returns every key seen.
fn scan_all(raw: &mut common::Raw, args: &[Vec<u8>], first: &[u8]) -> Vec<Vec<u8>> {
    let mut keys = std::collections::BTreeSet::new();
    let mut reply = first.to_vec();
    // Bounded: 8 keys need far fewer calls even with COUNT 1.
    for _ in 0..10_000 {
        let parts = elements(&reply);
        assert_eq!(parts.len(), 2, "SCAN reply shape: {}", brief(&reply));
        for k in elements(&parts[1]) {
            keys.insert(bulk_payload(&k).unwrap_or_default().to_vec());
        }
        let cursor = bulk_payload(&parts[0]).unwrap_or_default().to_vec();
        if cursor == b"0" {
            return keys.into_iter().collect();
        }
        let mut next = args.to_vec();
        next[1] = cursor;
        let refs: Vec<&[u8]> = next.iter().map(|a| a.as_slice()).collect();
        reply = raw.cmd_args(&refs);
    }
    panic!("SCAN did not finish in 10000 calls: {}", line(args));
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

#[test]
fn random_command_sequences() {
    let first = env_u64("RCS_FUZZ_SEED").unwrap_or(1);
    let cases = env_u64("RCS_FUZZ_CASES").unwrap_or(20);
    let steps = env_u64("RCS_FUZZ_STEPS").unwrap_or(300) as usize;
    let budget = Duration::from_secs(env_u64("RCS_FUZZ_SECS").unwrap_or(600));
    let started = Instant::now();
    let mut p = Pair::new();
    let mut ran = 0;
    for seed in first..first + cases {
        if started.elapsed() > budget {
            eprintln!("time budget spent after {} sequences", ran);
            break;
        }
        run_sequence(&mut p, seed, steps);
        ran += 1;
    }
    eprintln!(
        "{} sequences of {} commands from seed {} agreed in {:?}",
        ran,
        steps,
        first,
        started.elapsed()
    );
}

#[test]
fn replay_lines_round_trip() {
    // The failure report is only useful if its lines split back into the same arguments.
    let args: Vec<Vec<u8>> = vec![
        b"SET".to_vec(),
        b"".to_vec(),
        b"\xff\x00bin".to_vec(),
        b"a\"b\\c d\r\n\t'".to_vec(),
    ];
    assert_eq!(common::split(&line(&args)), args);
}

/// Deterministic checks for every difference the random sequences found, one block per fix.
#[test]
fn regressions() {
    let mut p = Pair::new();
    // Unknown-command and unknown-subcommand errors echo arguments byte for byte (not
    // UTF-8-lossy), cut at a NUL and at 128 bytes as Redis's `%.*s` does.
    p.script(
        r#"
        gEtT "\xff\xff\xf0\x80\xf0" aabbbba
        "fo\x00o" "a\x00b" "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        OBJECT "f\x00oo\xff"
        OBJECT "\xff\xfe" k
        OBJECT "a\r\nb"
        "\xc3" "x\r\ny"
        "#,
    );
    // EXPIRE's unsupported-option error prints the option with %s: cut at a NUL, raw bytes.
    p.script(
        r#"
        SET k v
        PEXPIREAT k 4102444805218 "\x01\x0f\x00\x01\x01"
        EXPIRE k 100000 "\xff\xfeX"
        EXPIRE k 100000 NX "\x00"
        EXPIRE k 100000 "ab\n"
        EXPIRE k 100000 "a\r\nb\r\n\r"
        EXPIRE k 100000 "\n"
        "#,
    );
    // COPY gives a shared integer (0..9999) an object of its own: OBJECT REFCOUNT 1.
    p.script(
        r#"
        FLUSHALL
        SET n 1
        COPY n m
        OBJECT REFCOUNT n
        OBJECT REFCOUNT m
        OBJECT ENCODING m
        GET m
        COPY m m2
        OBJECT REFCOUNT m2
        RENAME m2 m3
        MOVE m3 1
        SELECT 1
        OBJECT REFCOUNT m3
        INCRBY m3 20000
        OBJECT REFCOUNT m3
        SELECT 0
        INCR m
        OBJECT REFCOUNT m
        SET big 20000
        COPY big big2
        OBJECT REFCOUNT big2
        APPEND m ""
        OBJECT REFCOUNT m
        OBJECT ENCODING m
        "#,
    );
    // Seconds of a deadline at i64::MAX ms round without overflowing (was a panic).
    p.script(
        r#"
        SET t 1
        PEXPIREAT t 9223372036854775807
        EXPIRETIME t
        PEXPIRETIME t
        GETEX t PXAT 9223372036854775806
        EXPIRETIME t
        SET t 1 PXAT 9223372036854775807
        EXPIRETIME t
        "#,
    );
}

/// Keys holding the same small integer share one object in Redis, and with it the access
/// time OBJECT IDLETIME reports; setting a key does not touch it, reading one does.
#[test]
fn shared_integer_idle_time() {
    let mut p = Pair::new();
    let idle = |p: &mut Pair, key: &str| -> (i64, i64) {
        let (x, y) = p.both(&format!("OBJECT IDLETIME {}", key));
        (int_reply(&x).unwrap_or(-100), int_reply(&y).unwrap_or(-200))
    };
    // Let the servers' LRU clocks (1 s resolution) move past their start.
    std::thread::sleep(Duration::from_millis(2500));
    p.script("SET k 3521\nSET big 20000\nSET s abc\nSET c 55\nCOPY c own");
    let (a, b) = idle(&mut p, "k");
    assert!(
        a >= 2 && b >= 2 && (a - b).abs() <= 1,
        "untouched shared 3521: {a} vs {b}"
    );
    for key in ["big", "s", "own"] {
        assert_eq!(idle(&mut p, key), (0, 0), "own object {key}");
    }
    p.script("GET k\nSET j 3521");
    assert_eq!(idle(&mut p, "j"), (0, 0), "3521 was just read through k");
    // COPY looks its source up for writing, which touches the shared 55 too.
    assert_eq!(idle(&mut p, "c"), (0, 0), "55 was touched by COPY");
    p.script("SET n 77\nINCR n");
    let (a, b) = idle(&mut p, "n");
    assert!(
        a >= 2 && b >= 2,
        "INCR gives the untouched shared 78: {a} vs {b}"
    );
}

/// Sends raw bytes on fresh connections to both servers and returns what each wrote back
/// before closing or going quiet for `quiet`, with whether it closed.
fn raw_both(p: &Pair, bytes: &[u8], quiet: Duration) -> ((Vec<u8>, bool), (Vec<u8>, bool)) {
    let mut a = common::Raw::connect(p.ours.addr());
    let mut b = common::Raw::connect(p.redis.addr());
    a.send_raw(bytes);
    b.send_raw(bytes);
    let theirs = b.read_until_close(quiet);
    let mut ours = a.read_until_close(quiet);
    // A debug build on a loaded machine can go quiet for longer than `quiet` mid-reply:
    // when ours is behind, give it more time before judging.
    if !ours.1 && ours.0.len() < theirs.0.len() {
        let (more, closed) = a.read_until_close(Duration::from_secs(3));
        ours.0.extend(more);
        ours.1 = closed;
    }
    (ours, theirs)
}

fn check_raw(p: &Pair, bytes: &[u8], quiet: Duration, what: &str) {
    let ((x, xc), (y, yc)) = raw_both(p, bytes, quiet);
    assert!(
        x == y && xc == yc,
        "{}: request {}\n  ours:  {} (closed: {})\n  redis: {} (closed: {})",
        what,
        brief(bytes),
        brief(&x),
        xc,
        brief(&y),
        yc
    );
}

/// Request framing edge cases, each on a fresh connection.
#[test]
fn protocol_regressions() {
    let p = Pair::new();
    let quiet = Duration::from_millis(200);
    // Inline requests split like sdssplitargs: vertical tab and form feed separate words
    // but do not end an unquoted one.
    for req in [
        &b"\x0bPING\x0b\r\n"[..],
        b"PING\x0bx\r\n",
        b"PING \"x\"\x0b\r\n",
        b"ECHO \x0cx\r\n",
        b"ECHO 'x'\x0c\r\n",
    ] {
        check_raw(&p, req, quiet, "inline whitespace");
    }
    // A NUL before the newline hides the newline from Redis's strchr: no reply, the
    // connection waits (this once made the inline splitter loop forever).
    check_raw(&p, b"ECHO a\x00b c\r\nPING\r\n", quiet, "inline NUL");
    check_raw(
        &p,
        b"PING\r\nECHO \"ab\"\x00x\r\nPING\r\n",
        quiet,
        "inline NUL",
    );
    let mut big = b"ECHO a\x00".to_vec();
    big.resize(70_000, b'x');
    big.extend_from_slice(b"\r\n");
    check_raw(&p, &big, Duration::from_secs(2), "inline NUL then too big");
    // The byte Redis quotes in "expected '$'" when it is ASCII (a newline becomes a space).
    check_raw(&p, b"*1\r\n\n\r\n", quiet, "expected '$'");
    check_raw(&p, b"*1\r\n\x01x\r\n", quiet, "expected '$'");

    // Before AUTH a multibulk may announce at most 10 arguments.
    let p = Pair::with(
        |c| c.requirepass = Some("pw".into()),
        &["--requirepass", "pw"],
    );
    for req in [
        &b"*11\r\n"[..],
        b"*10\r\n",
        b"*1\r\n$16385\r\n",
        b"*1\r\n$16384\r\n",
    ] {
        check_raw(&p, req, quiet, "unauthenticated limits");
    }
}

/// One random request stream: valid commands mixed with malformed multibulk headers,
/// bulk headers, inline lines with stray quotes and escapes, and raw bytes.
fn protocol_garbage(r: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..1 + r.below(6) {
        match r.below(7) {
            0 | 1 => {
                let v: Vec<u8> = (0..r.below(6))
                    .map(|_| b"ab\r\n\x00\xff\""[r.below(7)])
                    .collect();
                let cmd: Vec<&[u8]> = match r.below(4) {
                    0 => vec![b"PING"],
                    1 => vec![b"ECHO", &v],
                    2 => vec![b"SET", b"pk", &v],
                    _ => vec![b"GET", b"pk"],
                };
                out.extend_from_slice(&common::encode_command(&cmd));
            }
            2 => {
                let n = r.pick(&[
                    "0",
                    "-1",
                    "-5",
                    "1",
                    "2",
                    "abc",
                    "",
                    "+1",
                    " 1",
                    "2147483648",
                    "01",
                    "3",
                ]);
                out.extend_from_slice(format!("*{}\r\n", n).as_bytes());
            }
            3 => {
                let n = r.pick(&["0", "3", "-1", "abc", "", "536870913", "5", "4", " 4"]);
                out.extend_from_slice(format!("${}\r\n", n).as_bytes());
                for _ in 0..r.below(6) {
                    out.push(b"abc\r\n$*"[r.below(7)]);
                }
                out.extend_from_slice(b"\r\n");
            }
            4 => {
                let words = [
                    &b"PING"[..],
                    b"ECHO",
                    b"\"a\\x41b\"",
                    b"'x",
                    b"\"x\"y",
                    b"'it\\'s'",
                    b"\"\\x4\"",
                    b"\"tab\\tq\"",
                    b"  ",
                    b"\t",
                    b"x\x0by",
                    b"\"\"",
                    b"''",
                ];
                for _ in 0..1 + r.below(3) {
                    out.extend_from_slice(r.pick(&words));
                    out.push(b' ');
                }
                out.extend_from_slice(r.pick(&[&b"\r\n"[..], b"\n", b"\r\r\n"]));
            }
            5 => out.extend_from_slice(r.pick(&[&b"\r\n"[..], b"\n", b"\r", b"*", b"$"])),
            _ => {
                for _ in 0..1 + r.below(4) {
                    out.push(r.next() as u8);
                }
            }
        }
    }
    out
}

/// Random malformed request streams, each on fresh connections: both servers must write
/// back the same bytes and agree on closing the connection.
#[test]
fn random_protocol_streams() {
    let first = env_u64("RCS_FUZZ_SEED").unwrap_or(1);
    let cases = env_u64("RCS_FUZZ_PROTO_CASES").unwrap_or(25);
    let p = Pair::new();
    for seed in first..first + cases {
        let mut r = Rng::new(seed);
        let bytes = protocol_garbage(&mut r);
        check_raw(
            &p,
            &bytes,
            Duration::from_millis(150),
            &format!("protocol seed {}", seed),
        );
    }
}

/// Redis quotes the offending byte raw in `expected '$', got '%c'`, even a non-ASCII one.
#[test]
fn protocol_error_quotes_raw_byte() {
    let p = Pair::new();
    check_raw(
        &p,
        b"*1\r\n\xff\r\n",
        Duration::from_millis(200),
        "expected '$'",
    );
}
