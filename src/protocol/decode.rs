//! Request decoding: the multibulk form every client library sends and the inline form that
//! telnet users and some tests type.
//!
//! The decoder walks the read buffer in place and records each argument as a byte range, so
//! a pipelined batch is decoded and executed without allocating per request. It keeps its
//! position across reads, so a very large multibulk arriving in many chunks is decoded in
//! linear time rather than re-scanned on every read. Limits and error texts follow Redis's
//! `networking.c` (`processMultibulkBuffer`, `processInlineBuffer`).
//!
//! Why not `redis-protocol`'s decoder for requests: it builds a frame tree per request
//! (a `Vec` of frames), restarts from the first byte when a frame is incomplete, and has no
//! notion of Redis's request limits (`proto-max-bulk-len`, unauthenticated sizes), which
//! this decoder must enforce before buffering. `benches/protocol.rs` measures both on the
//! same pipelined input; the crate is still the oracle for this decoder in the property
//! tests (`tests/resp_decoder.rs`).

use std::ops::Range;

/// Longest inline request or multibulk/bulk header line Redis accepts (PROTO_INLINE_MAX_SIZE).
pub const PROTO_INLINE_MAX_SIZE: usize = 64 * 1024;
/// Most arguments one multibulk may announce (Redis refuses > INT_MAX; 10 before AUTH).
const MAX_MULTIBULK_LEN: i64 = i32::MAX as i64;
const UNAUTH_MULTIBULK_LEN: i64 = 10;
const UNAUTH_BULK_LEN: i64 = 16384;

/// Size limits the decoder enforces, from the server configuration.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub proto_max_bulk_len: i64,
    /// When false the stricter unauthenticated limits apply.
    pub authenticated: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            proto_max_bulk_len: 512 * 1024 * 1024,
            authenticated: true,
        }
    }
}

/// A protocol error: the text after `-ERR Protocol error: `. The connection replies and closes.
/// `.0` is for logs; the reply is [`ProtocolError::reply`], which keeps a non-UTF-8 byte
/// the text quotes (`expected '$', got '\xff'`) as Redis writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub String, Option<u8>);

impl ProtocolError {
    pub fn new(s: impl Into<String>) -> Self {
        ProtocolError(s.into(), None)
    }

    /// `expected '$', got '%c'`: the byte goes into the reply as it is.
    fn expected_dollar(got: u8) -> Self {
        // `.0` can only hold the byte itself when it is ASCII; `reply` always does.
        let shown = match got.is_ascii() {
            true => (got as char).to_string(),
            false => got.escape_ascii().to_string(),
        };
        ProtocolError(format!("expected '$', got '{}'", shown), Some(got))
    }

    /// The full error reply text, `ERR Protocol error: ...`, byte-exact.
    pub fn reply(&self) -> Vec<u8> {
        let mut m = b"ERR Protocol error: ".to_vec();
        match self.1 {
            Some(got) => {
                m.extend_from_slice(b"expected '$', got '");
                m.push(got);
                m.push(b'\'');
            }
            None => m.extend_from_slice(self.0.as_bytes()),
        }
        m
    }
}

/// One decoded request: argument ranges into the buffer the decoder was given.
#[derive(Debug, Default)]
pub struct Request {
    pub args: Vec<Range<usize>>,
    /// Inline arguments that needed unquoting are owned, not ranges into the buffer.
    pub owned: Vec<Vec<u8>>,
}

/// Decoder state carried across reads for one connection.
#[derive(Debug, Default)]
pub struct RequestDecoder {
    /// Set while a multibulk is partly decoded: arguments still expected.
    pending: Option<i64>,
    /// Where decoding resumes, relative to the start of the current request.
    pos: usize,
    /// The length of the bulk whose `$len` header was already read, if any.
    bulk_len: Option<usize>,
}

/// What the decoder found at the start of the buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded {
    /// A complete request that used this many bytes; arguments are in the `Request`.
    Request(usize),
    /// An empty request (blank inline line, `*0`, `*-1`) that used this many bytes.
    Empty(usize),
    /// More bytes are needed. `hint` is the buffer size that would let decoding progress.
    Incomplete { hint: usize },
}

fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    // Redis looks for '\r' and expects '\n' after it; an inline request may end in '\n' alone.
    memchr_cr(&buf[from..]).map(|i| from + i)
}

#[inline]
fn memchr_cr(buf: &[u8]) -> Option<usize> {
    buf.iter().position(|&b| b == b'\r')
}

/// Parses a header number the way Redis's `string2ll` does (no spaces, no '+', no leading 0s).
fn parse_header_int(s: &[u8]) -> Option<i64> {
    crate::util::parse_i64(s)
}

impl RequestDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// True when a request is partly decoded (used to apply the query buffer limit).
    pub fn in_progress(&self) -> bool {
        self.pending.is_some()
    }

    /// Decodes the request at the start of `buf`, filling `req` (cleared first when a new
    /// request starts). On `Request`/`Empty` the caller drops the used bytes from the front
    /// of `buf` before the next call, or passes the rest of the buffer.
    pub fn decode(
        &mut self,
        buf: &[u8],
        req: &mut Request,
        limits: Limits,
    ) -> Result<Decoded, ProtocolError> {
        if self.pending.is_none() {
            req.args.clear();
            req.owned.clear();
            if buf.is_empty() {
                return Ok(Decoded::Incomplete { hint: 0 });
            }
            if buf[0] != b'*' {
                return decode_inline(buf, req);
            }
            // Multibulk header.
            let Some(cr) = find_crlf(buf, 1) else {
                if buf.len() > PROTO_INLINE_MAX_SIZE {
                    return Err(ProtocolError::new("too big mbulk count string"));
                }
                return Ok(Decoded::Incomplete { hint: 0 });
            };
            if cr > PROTO_INLINE_MAX_SIZE {
                return Err(ProtocolError::new("too big mbulk count string"));
            }
            if buf.len() < cr + 2 {
                return Ok(Decoded::Incomplete { hint: 0 });
            }
            let n = match parse_header_int(&buf[1..cr]) {
                Some(n) if n <= MAX_MULTIBULK_LEN => n,
                _ => return Err(ProtocolError::new("invalid multibulk length")),
            };
            if n > UNAUTH_MULTIBULK_LEN && !limits.authenticated {
                return Err(ProtocolError::new("unauthenticated multibulk length"));
            }
            if n <= 0 {
                return Ok(Decoded::Empty(cr + 2));
            }
            // Don't trust the announced count for the allocation: a hostile client could ask
            // for a billion slots with a dozen bytes.
            req.args.reserve((n as usize).min(1024));
            self.pending = Some(n);
            self.pos = cr + 2;
            self.bulk_len = None;
        }
        self.decode_bulks(buf, req, limits)
    }

    fn decode_bulks(
        &mut self,
        buf: &[u8],
        req: &mut Request,
        limits: Limits,
    ) -> Result<Decoded, ProtocolError> {
        let mut remaining = self.pending.unwrap_or(0);
        let mut pos = self.pos;
        while remaining > 0 {
            let len = match self.bulk_len {
                Some(len) => len,
                None => {
                    if pos >= buf.len() {
                        break;
                    }
                    let Some(cr) = find_crlf(buf, pos) else {
                        if buf.len() - pos > PROTO_INLINE_MAX_SIZE {
                            return Err(ProtocolError::new("too big bulk count string"));
                        }
                        break;
                    };
                    if cr - pos > PROTO_INLINE_MAX_SIZE {
                        return Err(ProtocolError::new("too big bulk count string"));
                    }
                    if buf.len() < cr + 2 {
                        break;
                    }
                    if buf[pos] != b'$' {
                        return Err(ProtocolError::expected_dollar(buf[pos]));
                    }
                    let len = match parse_header_int(&buf[pos + 1..cr]) {
                        Some(l) if (0..=limits.proto_max_bulk_len).contains(&l) => l,
                        _ => return Err(ProtocolError::new("invalid bulk length")),
                    };
                    if len > UNAUTH_BULK_LEN && !limits.authenticated {
                        return Err(ProtocolError::new("unauthenticated bulk length"));
                    }
                    pos = cr + 2;
                    self.bulk_len = Some(len as usize);
                    len as usize
                }
            };
            if buf.len() < pos + len + 2 {
                self.pos = pos;
                self.pending = Some(remaining);
                return Ok(Decoded::Incomplete {
                    hint: pos + len + 2,
                });
            }
            // Redis does not check the two bytes after the payload; neither do we.
            req.args.push(pos..pos + len);
            pos += len + 2;
            self.bulk_len = None;
            remaining -= 1;
        }
        if remaining > 0 {
            self.pos = pos;
            self.pending = Some(remaining);
            return Ok(Decoded::Incomplete { hint: 0 });
        }
        self.pending = None;
        self.pos = 0;
        Ok(Decoded::Request(pos))
    }
}

fn decode_inline(buf: &[u8], req: &mut Request) -> Result<Decoded, ProtocolError> {
    // Redis finds the end of an inline request with strchr, which stops at a NUL: with a
    // NUL before the newline the request stays incomplete until it is too big. One pass
    // that stops at the first of the two keeps a pipeline of inline requests linear.
    let Some(nl) = buf
        .iter()
        .position(|&b| b == b'\n' || b == 0)
        .filter(|&i| buf[i] == b'\n')
    else {
        if buf.len() > PROTO_INLINE_MAX_SIZE {
            return Err(ProtocolError::new("too big inline request"));
        }
        return Ok(Decoded::Incomplete { hint: 0 });
    };
    let mut end = nl;
    if end > 0 && buf[end - 1] == b'\r' {
        end -= 1;
    }
    let line = &buf[..end];
    let words =
        split_args(line).ok_or_else(|| ProtocolError::new("unbalanced quotes in request"))?;
    if words.is_empty() {
        return Ok(Decoded::Empty(nl + 1));
    }
    // Inline arguments are owned: quoting means they may not be byte ranges of the input.
    // Ranges then index into `owned` (marked by the high bit) so callers treat both alike.
    for w in words {
        let idx = req.owned.len();
        req.owned.push(w);
        req.args.push(INLINE_MARK + idx..INLINE_MARK + idx);
    }
    Ok(Decoded::Request(nl + 1))
}

/// Ranges at or above this index refer to `Request::owned` (inline requests).
pub const INLINE_MARK: usize = 1 << (usize::BITS - 1);

impl Request {
    /// A request over owned arguments (a blocked command kept to be re-run later);
    /// `arg` then ignores the buffer it is given.
    pub fn from_owned(args: Vec<Vec<u8>>) -> Request {
        Request {
            args: (0..args.len())
                .map(|i| INLINE_MARK + i..INLINE_MARK + i)
                .collect(),
            owned: args,
        }
    }

    /// The arguments of the request as byte slices of `buf`.
    pub fn arg<'a>(&'a self, buf: &'a [u8], i: usize) -> &'a [u8] {
        let r = &self.args[i];
        if r.start >= INLINE_MARK {
            &self.owned[r.start - INLINE_MARK]
        } else {
            &buf[r.clone()]
        }
    }

    pub fn len(&self) -> usize {
        self.args.len()
    }

    pub fn is_empty(&self) -> bool {
        self.args.is_empty()
    }
}

/// C's `isspace`: unlike `u8::is_ascii_whitespace` it includes vertical tab.
fn c_isspace(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Splits a line into arguments as Redis's `sdssplitargs` does: spaces separate words,
/// double quotes allow `\n`, `\xHH` and other escapes, single quotes only `\'`. A closing
/// quote must be followed by a space or the end. Returns None on unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    // `sdssplitargs` walks a C string: nothing after a NUL byte exists for it.
    let line = match line.iter().position(|&b| b == 0) {
        Some(nul) => &line[..nul],
        None => line,
    };
    let mut out = Vec::new();
    let mut i = 0;
    // sdssplitargs reads a C string: a NUL ends the line. (Without this a NUL outside
    // quotes ended a word without consuming it and the loop never ended.)
    let n = line.iter().position(|&b| b == 0).unwrap_or(line.len());
    loop {
        while i < n && c_isspace(line[i]) {
            i += 1;
        }
        if i >= n {
            return Some(out);
        }
        let mut cur = Vec::new();
        let mut inq = false;
        let mut insq = false;
        loop {
            if inq {
                if i >= n {
                    return None;
                }
                if line[i] == b'\\'
                    && i + 3 < n
                    && line[i + 1] == b'x'
                    && hex_val(line[i + 2]).is_some()
                    && hex_val(line[i + 3]).is_some()
                {
                    let b =
                        hex_val(line[i + 2]).unwrap_or(0) * 16 + hex_val(line[i + 3]).unwrap_or(0);
                    cur.push(b);
                    i += 3;
                } else if line[i] == b'\\' && i + 1 < n {
                    i += 1;
                    let c = match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    };
                    cur.push(c);
                } else if line[i] == b'"' {
                    if i + 1 < n && !c_isspace(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(line[i]);
                }
            } else if insq {
                if i >= n {
                    return None;
                }
                if line[i] == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if line[i] == b'\'' {
                    if i + 1 < n && !c_isspace(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(line[i]);
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        break;
                    }
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        out.push(cur);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, ProtocolError> {
        let mut d = RequestDecoder::new();
        let mut req = Request::default();
        let mut out = Vec::new();
        let mut buf = input;
        loop {
            match d.decode(buf, &mut req, Limits::default())? {
                Decoded::Request(n) => {
                    out.push((0..req.len()).map(|i| req.arg(buf, i).to_vec()).collect());
                    buf = &buf[n..];
                }
                Decoded::Empty(n) => buf = &buf[n..],
                Decoded::Incomplete { .. } => return Ok(out),
            }
        }
    }

    #[test]
    fn multibulk_and_inline() {
        let r = decode_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\nset \"a b\" 'c'\n").unwrap();
        assert_eq!(
            r,
            vec![
                vec![b"GET".to_vec(), b"k".to_vec()],
                vec![b"PING".to_vec()],
                vec![b"set".to_vec(), b"a b".to_vec(), b"c".to_vec()],
            ]
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            decode_all(b"*1\r\n+x\r\n").unwrap_err().0,
            "expected '$', got '+'"
        );
        assert_eq!(
            decode_all(b"*1\r\n\xff\r\n").unwrap_err().reply(),
            b"ERR Protocol error: expected '$', got '\xff'"
        );
        assert_eq!(
            decode_all(b"*abc\r\n").unwrap_err().0,
            "invalid multibulk length"
        );
        assert_eq!(
            decode_all(b"*1\r\n$-5\r\n").unwrap_err().0,
            "invalid bulk length"
        );
        assert_eq!(
            decode_all(b"set \"a\n").unwrap_err().0,
            "unbalanced quotes in request"
        );
    }

    #[test]
    fn split_args_like_sdssplitargs() {
        let v = |xs: &[&[u8]]| Some(xs.iter().map(|x| x.to_vec()).collect::<Vec<_>>());
        // A NUL ends the line (it once looped forever pushing empty words).
        assert_eq!(split_args(b"a\x00b c"), v(&[b"a"]));
        assert_eq!(split_args(b"\x00a"), v(&[]));
        assert_eq!(split_args(b"\"a\x00b\""), None);
        // Vertical tab and form feed separate words only between them, as isspace does.
        assert_eq!(split_args(b"\x0bPING\x0b x"), v(&[b"PING\x0b", b"x"]));
        assert_eq!(split_args(b"\x0cECHO\x0c"), v(&[b"ECHO\x0c"]));
        assert_eq!(split_args(b"\"x\"\x0b"), v(&[b"x"]));
        assert_eq!(split_args(b"'x'\x0cy"), v(&[b"x", b"y"]));
    }

    #[test]
    fn resumes_across_chunks() {
        let full = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
        let mut d = RequestDecoder::new();
        let mut req = Request::default();
        for cut in 0..full.len() {
            assert!(matches!(
                d.decode(&full[..cut], &mut req, Limits::default()).unwrap(),
                Decoded::Incomplete { .. }
            ));
        }
        assert_eq!(
            d.decode(full, &mut req, Limits::default()).unwrap(),
            Decoded::Request(full.len())
        );
        assert_eq!(req.arg(full, 2), b"value");
    }
}
