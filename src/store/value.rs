//! Values stored under keys, with the encodings `OBJECT ENCODING` reports.
//!
//! Strings that are canonical decimal integers are kept as `i64` (Redis's `int` encoding),
//! which both saves memory and makes INCR a plain addition. Other strings keep their
//! bytes and remember whether Redis would report them as `embstr` or `raw`.

/// Longest string Redis stores as `embstr` (OBJ_ENCODING_EMBSTR_SIZE_LIMIT).
pub const EMBSTR_LIMIT: usize = 44;

/// Strings up to this length live inside the value itself (no allocation of their own):
/// the most a 32-byte `Value` can hold beside its tag and a length byte.
pub const SMALL_MAX: usize = 30;

/// Redis keeps one shared object for each of the integers 0..9999 (OBJ_SHARED_INTEGERS).
pub const SHARED_INTEGERS: i64 = 10_000;

/// `Value` is part of every entry: keep it at 32 bytes (collections hold their data
/// behind one pointer or an inline compact form of at most 24 bytes).
const _: () = assert!(std::mem::size_of::<Value>() <= 32);

pub enum Value {
    /// A string holding a canonical i64 (`int` encoding). In the shared-integer range it
    /// stands for Redis's shared object (OBJECT REFCOUNT 2147483647).
    Int(i64),
    /// An `int`-encoded string in the shared-integer range that Redis nevertheless holds as
    /// an object of its own, because COPY duplicated it (OBJECT REFCOUNT 1).
    OwnInt(i64),
    /// Any other string. `raw` is set once the string was modified in place (APPEND,
    /// SETRANGE, SETBIT) or created longer than the embstr limit.
    Str {
        data: Vec<u8>,
        raw: bool,
    },
    /// A short string kept inline (Redis reports it as `embstr`, which it also is in
    /// Redis: one allocation with its object). Saves an allocation and a cache miss on
    /// every GET and SET of a small value.
    Small {
        len: u8,
        data: [u8; SMALL_MAX],
    },
    List(super::list::List),
    Hash(super::hash::Hash),
    Set(super::set::Set),
    ZSet(super::zset::ZSet),
}

impl Value {
    /// A string value encoded as Redis's `tryObjectEncoding` would encode a new string.
    pub fn string(data: &[u8]) -> Value {
        if data.len() <= 20 {
            if let Some(i) = crate::util::parse_i64(data) {
                return Value::Int(i);
            }
        }
        if data.len() <= SMALL_MAX {
            let mut inline = [0u8; SMALL_MAX];
            inline[..data.len()].copy_from_slice(data);
            return Value::Small {
                len: data.len() as u8,
                data: inline,
            };
        }
        Value::Str {
            raw: data.len() > EMBSTR_LIMIT,
            data: data.to_vec(),
        }
    }

    /// The bytes of a string that is not int-encoded (None for integers and other types).
    pub fn str_slice(&self) -> Option<&[u8]> {
        match self {
            Value::Str { data, .. } => Some(data),
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
            Value::Int(_) | Value::OwnInt(_) | Value::Str { .. } | Value::Small { .. } => "string",
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
            Value::Str { raw: true, .. } => "raw",
            Value::List(v) => v.encoding(),
            Value::Hash(v) => v.encoding(),
            Value::Set(v) => v.encoding(),
            Value::ZSet(v) => v.encoding(),
        }
    }

    pub fn is_string(&self) -> bool {
        matches!(
            self,
            Value::Int(_) | Value::OwnInt(_) | Value::Str { .. } | Value::Small { .. }
        )
    }

    /// The bytes of a string value (formatting an integer), or None for other types.
    pub fn string_bytes(&self) -> Option<std::borrow::Cow<'_, [u8]>> {
        match self {
            Value::Int(i) | Value::OwnInt(i) => Some(std::borrow::Cow::Owned(
                itoa::Buffer::new().format(*i).as_bytes().to_vec(),
            )),
            Value::Str { data, .. } => Some(std::borrow::Cow::Borrowed(data)),
            Value::Small { len, data } => Some(std::borrow::Cow::Borrowed(&data[..*len as usize])),
            _ => None,
        }
    }

    /// Makes a string value's bytes mutable in place (APPEND, SETRANGE, SETBIT), turning it
    /// into the `raw` encoding as Redis does. None for other types.
    pub fn string_mut(&mut self) -> Option<&mut Vec<u8>> {
        if let Some(i) = self.as_int() {
            *self = Value::Str {
                data: itoa::Buffer::new().format(i).as_bytes().to_vec(),
                raw: true,
            };
        }
        if let Value::Small { len, data } = self {
            *self = Value::Str {
                data: data[..*len as usize].to_vec(),
                raw: true,
            };
        }
        match self {
            Value::Str { data, raw } => {
                *raw = true;
                Some(data)
            }
            _ => None,
        }
    }

    /// Length in bytes of a string value.
    pub fn string_len(&self) -> Option<usize> {
        match self {
            Value::Int(i) | Value::OwnInt(i) => Some(itoa::Buffer::new().format(*i).len()),
            Value::Str { data, .. } => Some(data.len()),
            Value::Small { len, .. } => Some(*len as usize),
            _ => None,
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
            Value::Small { len, data } => Value::Small {
                len: *len,
                data: *data,
            },
            Value::List(v) => Value::List(v.duplicate()),
            Value::Hash(v) => Value::Hash(v.duplicate()),
            Value::Set(v) => Value::Set(v.duplicate()),
            Value::ZSet(v) => Value::ZSet(v.duplicate()),
        }
    }
}
