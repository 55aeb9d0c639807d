//! Reply encoding straight into the connection's output buffer.
//!
//! Handlers call these methods instead of building frames: `+OK` or an integer is a few
//! bytes appended to a `Vec<u8>`, no allocation. The writer knows the client's protocol
//! version, so RESP3 types (maps, sets, doubles, nulls, booleans, push) fall back to their
//! RESP2 forms for RESP2 clients exactly as Redis's `addReply*` functions do.

/// The output buffer of one connection plus its protocol version.
#[derive(Debug, Default)]
pub struct ReplyBuf {
    pub buf: Vec<u8>,
    pub resp3: bool,
}

#[inline]
fn push_int(buf: &mut Vec<u8>, v: i64) {
    let mut b = itoa::Buffer::new();
    buf.extend_from_slice(b.format(v).as_bytes());
}

impl ReplyBuf {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// `+OK`
    #[inline]
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// A status reply; `s` must not contain CR or LF.
    #[inline]
    pub fn simple(&mut self, s: &str) {
        self.buf.push(b'+');
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An error reply. `msg` is the full text, e.g. `ERR syntax error`. As Redis's
    /// `addReplyErrorFormat` does, CR and LF are trimmed from both ends and replaced by
    /// spaces inside, so an error that echoes client bytes cannot break the protocol.
    pub fn error(&mut self, msg: &str) {
        self.error_bytes(msg.as_bytes());
    }

    /// An error reply whose text need not be UTF-8 (errors that echo client arguments).
    pub fn error_bytes(&mut self, msg: &[u8]) {
        let newline = |b: &u8| *b == b'\r' || *b == b'\n';
        let start = msg.iter().position(|b| !newline(b)).unwrap_or(msg.len());
        let end = msg
            .iter()
            .rposition(|b| !newline(b))
            .map_or(start, |i| i + 1);
        let msg = &msg[start..end];
        self.buf.push(b'-');
        for &b in msg {
            self.buf
                .push(if b == b'\r' || b == b'\n' { b' ' } else { b });
        }
        self.buf.extend_from_slice(b"\r\n");
    }

    #[inline]
    pub fn int(&mut self, v: i64) {
        self.buf.push(b':');
        push_int(&mut self.buf, v);
        self.buf.extend_from_slice(b"\r\n");
    }

    #[inline]
    pub fn bulk(&mut self, v: &[u8]) {
        self.buf.push(b'$');
        push_int(&mut self.buf, v.len() as i64);
        self.buf.extend_from_slice(b"\r\n");
        self.buf.extend_from_slice(v);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// A bulk string holding the decimal form of an integer (e.g. INCRBYFLOAT-free GET of int).
    #[inline]
    pub fn bulk_int(&mut self, v: i64) {
        let mut b = itoa::Buffer::new();
        self.bulk(b.format(v).as_bytes());
    }

    /// The null bulk string (`$-1` in RESP2, `_` in RESP3).
    #[inline]
    pub fn null(&mut self) {
        if self.resp3 {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"$-1\r\n");
        }
    }

    /// The null array (`*-1` in RESP2, `_` in RESP3), e.g. a failed EXEC.
    pub fn null_array(&mut self) {
        if self.resp3 {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"*-1\r\n");
        }
    }

    #[inline]
    pub fn array(&mut self, len: usize) {
        self.aggregate(b'*', len);
    }

    /// A map of `len` key/value pairs (a flat array of 2*len in RESP2).
    pub fn map(&mut self, len: usize) {
        if self.resp3 {
            self.aggregate(b'%', len);
        } else {
            self.aggregate(b'*', len * 2);
        }
    }

    /// A set (an array in RESP2).
    pub fn set(&mut self, len: usize) {
        self.aggregate(if self.resp3 { b'~' } else { b'*' }, len);
    }

    /// A push frame (RESP3) or an array (RESP2), as pub/sub messages are sent.
    pub fn push(&mut self, len: usize) {
        self.aggregate(if self.resp3 { b'>' } else { b'*' }, len);
    }

    fn aggregate(&mut self, kind: u8, len: usize) {
        self.buf.push(kind);
        push_int(&mut self.buf, len as i64);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// A double: `,` in RESP3, a bulk string in RESP2, formatted as Redis formats doubles.
    pub fn double(&mut self, v: f64) {
        let s = crate::util::format_double(v);
        if self.resp3 {
            self.buf.push(b',');
            self.buf.extend_from_slice(s.as_bytes());
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(s.as_bytes());
        }
    }

    /// A boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
    pub fn boolean(&mut self, v: bool) {
        if self.resp3 {
            self.buf
                .extend_from_slice(if v { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(v as i64);
        }
    }

    /// A verbatim string (`=` with a `txt:` prefix in RESP3, bulk in RESP2), as INFO uses.
    pub fn verbatim(&mut self, v: &[u8]) {
        if self.resp3 {
            self.buf.push(b'=');
            push_int(&mut self.buf, v.len() as i64 + 4);
            self.buf.extend_from_slice(b"\r\ntxt:");
            self.buf.extend_from_slice(v);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(v);
        }
    }

    /// Appends bytes that are already encoded RESP.
    pub fn raw(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resp2_and_resp3_forms() {
        let mut r = ReplyBuf::new();
        r.ok();
        r.int(-3);
        r.bulk(b"hi");
        r.null();
        r.map(1);
        r.error("ERR a\r\nb");
        assert_eq!(
            r.buf,
            b"+OK\r\n:-3\r\n$2\r\nhi\r\n$-1\r\n*2\r\n-ERR a  b\r\n"
        );
        let mut r = ReplyBuf {
            resp3: true,
            ..Default::default()
        };
        r.null();
        r.map(1);
        r.boolean(true);
        r.double(1.5);
        assert_eq!(r.buf, b"_\r\n%1\r\n#t\r\n,1.5\r\n");
    }
}
