//! Values stored under keys, with the encodings `OBJECT ENCODING` reports.
//!
//! Strings that are canonical decimal integers are kept as `i64` (Redis's `int` encoding),
//! which both saves memory and makes INCR a plain addition. Other strings keep their
//! bytes and remember whether Redis would report them as `embstr` or `raw`.

/// Longest string Redis stores as `embstr` (OBJ_ENCODING_EMBSTR_SIZE_LIMIT).
pub const EMBSTR_LIMIT: usize = 44;

/// Strings up to this length live inside the value itself (no allocation of their own,
/// and in an entry inline after the key): the most a 16-byte `Value` holds beside its tag
/// and a length byte.
pub const SMALL_MAX: usize = 14;

/// Redis keeps one shared object for each of the integers 0..9999 (OBJ_SHARED_INTEGERS).
pub const SHARED_INTEGERS: i64 = 10_000;

/// `Value` is what an entry's bytes decode to (see `entry.rs`, which stores it in fewer:
/// an inline string's own length, an integer's significant bytes, a pointer): keep it at
/// 16 bytes, a tag and one word, so decoding one is a copy of two registers. Longer
/// strings sit behind one thin pointer and collections behind a `Box`, which costs a
/// collection one small allocation (16-24 bytes) more than holding it inline would.
const _: () = assert!(std::mem::size_of::<Value>() == 16);

pub enum Value {
    /// A string holding a canonical i64 (`int` encoding). In the shared-integer range it
    /// stands for Redis's shared object (OBJECT REFCOUNT 2147483647).
    Int(i64),
    /// An `int`-encoded string in the shared-integer range that Redis nevertheless holds as
    /// an object of its own, because COPY duplicated it (OBJECT REFCOUNT 1).
    OwnInt(i64),
    /// A string too long to be `Small`, as it was set: one exactly-sized allocation. `raw`
    /// when created longer than the embstr limit (or by a command that makes `raw`
    /// strings, such as INCRBYFLOAT's long results).
    Str {
        data: ThinBytes,
        raw: bool,
    },
    /// A string modified in place (APPEND, SETRANGE, SETBIT, PFADD, ...): a growable
    /// buffer, always `raw` as in Redis. Boxed so the value stays one word.
    Raw(Box<Vec<u8>>),
    /// A short string kept inline (Redis reports it as `embstr`, which it also is in
    /// Redis: one allocation with its object). Saves an allocation and a cache miss on
    /// every GET and SET of a small value.
    Small {
        len: u8,
        data: [u8; SMALL_MAX],
    },
    List(Box<super::list::List>),
    Hash(Box<super::hash::Hash>),
    Set(Box<super::set::Set>),
    ZSet(Box<super::zset::ZSet>),
}

/// An immutable byte string behind a thin pointer: one allocation holding a 4-byte length
/// and the bytes, sized exactly. Against `Box<[u8]>` (a 16-byte fat pointer, which would
/// make `Value` 24 bytes) or a `Box<Vec<u8>>` (two allocations, 24 bytes more), a 20-byte
/// value costs one 24-byte allocation.
pub struct ThinBytes {
    ptr: std::ptr::NonNull<u8>,
}

// SAFETY: a ThinBytes owns its allocation exclusively and never mutates it after `new`,
// like a Box<[u8]>.
unsafe impl Send for ThinBytes {}
// SAFETY: shared access only reads, as for a Box<[u8]>.
unsafe impl Sync for ThinBytes {}

const THIN_HEADER: usize = 4;

impl ThinBytes {
    /// A copy of `data`, which must be shorter than 4 GiB (see [`ThinBytes::fits`]).
    pub fn new(data: &[u8]) -> ThinBytes {
        assert!(Self::fits(data.len()), "ThinBytes holds under 4 GiB");
        let layout = Self::layout(data.len());
        // SAFETY: the layout is non-zero-sized (it has the header) and valid; the header
        // and every byte of `data` are written before anything reads them.
        unsafe {
            let raw = std::alloc::alloc(layout);
            let Some(ptr) = std::ptr::NonNull::new(raw) else {
                std::alloc::handle_alloc_error(layout);
            };
            (raw as *mut u32).write(data.len() as u32);
            std::ptr::copy_nonoverlapping(data.as_ptr(), raw.add(THIN_HEADER), data.len());
            ThinBytes { ptr }
        }
    }

    /// Whether a string of `len` bytes can be held.
    pub fn fits(len: usize) -> bool {
        len <= u32::MAX as usize
    }

    fn layout(len: usize) -> std::alloc::Layout {
        match std::alloc::Layout::from_size_align(THIN_HEADER + len, 4) {
            Ok(l) => l,
            // Not reached: the length is below 4 GiB (checked in `new`).
            Err(_) => panic!("ThinBytes layout overflow"),
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        // SAFETY: the header was written at the start of the (4-aligned) allocation.
        unsafe { (self.ptr.as_ptr() as *const u32).read() as usize }
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `len` bytes were written after the header in `new` and live, unchanged,
        // as long as `self`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().add(THIN_HEADER), self.len()) }
    }

    /// Gives up the allocation as its pointer (an entry stores it in its payload bytes).
    pub(super) fn into_raw(self) -> std::ptr::NonNull<u8> {
        std::mem::ManuallyDrop::new(self).ptr
    }

    /// Takes an allocation given up by [`ThinBytes::into_raw`] back.
    ///
    /// # Safety
    /// `ptr` came from `into_raw` and no other `ThinBytes` owns it (unless the one made
    /// here is never dropped).
    pub(super) unsafe fn from_raw(ptr: std::ptr::NonNull<u8>) -> ThinBytes {
        ThinBytes { ptr }
    }

    /// Bytes requested from the allocator (MEMORY USAGE rounds it to the size class).
    pub fn alloc_request(&self) -> usize {
        THIN_HEADER + self.len()
    }
}

impl Clone for ThinBytes {
    fn clone(&self) -> Self {
        ThinBytes::new(self.as_slice())
    }
}

impl std::ops::Deref for ThinBytes {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Drop for ThinBytes {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with the layout of this same length.
        unsafe { std::alloc::dealloc(self.ptr.as_ptr(), Self::layout(self.len())) }
    }
}

impl Value {
    /// A string value encoded as Redis's `tryObjectEncoding` would encode a new string.
    pub fn string(data: &[u8]) -> Value {
        if data.len() <= 20 {
            if let Some(i) = crate::util::parse_i64(data) {
                return Value::Int(i);
            }
        }
        Value::str_of(data, data.len() > EMBSTR_LIMIT)
    }

    /// A string kept as these bytes whatever they hold (never int-encoded), with the
    /// encoding given: `raw`, or `embstr` (inline when short).
    pub fn str_of(data: &[u8], raw: bool) -> Value {
        if !raw && data.len() <= SMALL_MAX {
            let mut inline = [0u8; SMALL_MAX];
            inline[..data.len()].copy_from_slice(data);
            return Value::Small {
                len: data.len() as u8,
                data: inline,
            };
        }
        if !ThinBytes::fits(data.len()) {
            return Value::Raw(Box::new(data.to_vec()));
        }
        Value::Str {
            data: ThinBytes::new(data),
            raw,
        }
    }

    /// A `raw` string that owns `data` as its growable buffer (a string built by a
    /// command that modifies strings in place: SETRANGE, BITOP, PFADD, ...).
    pub fn raw(data: Vec<u8>) -> Value {
        Value::Raw(Box::new(data))
    }

    /// The bytes of a string that is not int-encoded (None for integers and other types).
    pub fn str_slice(&self) -> Option<&[u8]> {
        match self {
            Value::Str { data, .. } => Some(data),
            Value::Raw(data) => Some(data),
            Value::Small { len, data } => Some(&data[..*len as usize]),
            _ => None,
        }
    }

    /// The integer of an `int`-encoded string.
    #[inline]
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) | Value::OwnInt(i) => Some(*i),
            _ => None,
        }
    }

    /// Whether Redis would hold this value as one of its shared integer objects.
    pub fn is_shared_int(&self) -> bool {
        matches!(self, Value::Int(i) if (0..SHARED_INTEGERS).contains(i))
    }

    /// The name TYPE replies with.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_)
            | Value::OwnInt(_)
            | Value::Str { .. }
            | Value::Raw(_)
            | Value::Small { .. } => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
        }
    }

    /// The name OBJECT ENCODING replies with.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Int(_) | Value::OwnInt(_) => "int",
            Value::Str { raw: false, .. } | Value::Small { .. } => "embstr",
            Value::Str { raw: true, .. } | Value::Raw(_) => "raw",
            Value::List(v) => v.encoding(),
            Value::Hash(v) => v.encoding(),
            Value::Set(v) => v.encoding(),
            Value::ZSet(v) => v.encoding(),
        }
    }

    pub fn is_string(&self) -> bool {
        matches!(
            self,
            Value::Int(_)
                | Value::OwnInt(_)
                | Value::Str { .. }
                | Value::Raw(_)
                | Value::Small { .. }
        )
    }

    /// The bytes of a string value (formatting an integer), or None for other types.
    pub fn string_bytes(&self) -> Option<std::borrow::Cow<'_, [u8]>> {
        match self {
            Value::Int(i) | Value::OwnInt(i) => Some(std::borrow::Cow::Owned(
                itoa::Buffer::new().format(*i).as_bytes().to_vec(),
            )),
            _ => self.str_slice().map(std::borrow::Cow::Borrowed),
        }
    }

    /// Makes a string value's bytes mutable in place (APPEND, SETRANGE, SETBIT), turning it
    /// into the `raw` encoding as Redis does. None for other types.
    pub fn string_mut(&mut self) -> Option<&mut Vec<u8>> {
        if !matches!(self, Value::Raw(_)) {
            let bytes = self.string_bytes()?.into_owned();
            *self = Value::raw(bytes);
        }
        match self {
            Value::Raw(data) => Some(data),
            _ => None,
        }
    }

    /// Length in bytes of a string value.
    pub fn string_len(&self) -> Option<usize> {
        match self {
            Value::Int(i) | Value::OwnInt(i) => Some(itoa::Buffer::new().format(*i).len()),
            _ => self.str_slice().map(<[u8]>::len),
        }
    }

    /// A deep copy (COPY). Redis's `dupStringObject` gives even a shared integer an
    /// object of its own.
    pub fn duplicate(&self) -> Value {
        match self {
            Value::Int(i) if !(0..SHARED_INTEGERS).contains(i) => Value::Int(*i),
            Value::Int(i) | Value::OwnInt(i) => Value::OwnInt(*i),
            Value::Str { data, raw } => Value::Str {
                data: data.clone(),
                raw: *raw,
            },
            Value::Raw(data) => Value::Raw(data.clone()),
            Value::Small { len, data } => Value::Small {
                len: *len,
                data: *data,
            },
            Value::List(v) => Value::List(Box::new(v.duplicate())),
            Value::Hash(v) => Value::Hash(Box::new(v.duplicate())),
            Value::Set(v) => Value::Set(Box::new(v.duplicate())),
            Value::ZSet(v) => Value::ZSet(Box::new(v.duplicate())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_keep_bytes_and_encoding_in_every_form() {
        for len in [0usize, 1, 13, 14, 15, 20, 44, 45, 100, 70_000] {
            let s: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            let mut v = Value::string(&s);
            let enc = if len > EMBSTR_LIMIT { "raw" } else { "embstr" };
            assert_eq!((v.encoding(), v.string_len()), (enc, Some(len)));
            assert_eq!(v.str_slice(), Some(&s[..]));
            let copy = v.duplicate();
            assert_eq!(copy.str_slice(), Some(&s[..]));
            v.string_mut().unwrap().extend_from_slice(b"xy");
            assert_eq!(v.encoding(), "raw");
            assert_eq!(v.string_len(), Some(len + 2));
            assert_eq!(&v.str_slice().unwrap()[..len], &s[..]);
            assert_eq!(copy.string_len(), Some(len));
        }
        assert_eq!(Value::str_of(b"12", false).encoding(), "embstr");
        assert_eq!(Value::str_of(b"12", true).encoding(), "raw");
        assert_eq!(Value::string(b"12").encoding(), "int");
        let mut i = Value::string(b"-7");
        i.string_mut().unwrap().push(b'0');
        assert_eq!(i.string_bytes().as_deref(), Some(&b"-70"[..]));
    }
}
