//! Values stored under keys, with the encodings `OBJECT ENCODING` reports.
//!
//! Strings that are canonical decimal integers are kept as `i64` (Redis's `int` encoding),
//! which both saves memory and makes INCR a plain addition. Other strings keep their
//! bytes and remember whether Redis would report them as `embstr` or `raw`.

/// Longest string Redis stores as `embstr` (OBJ_ENCODING_EMBSTR_SIZE_LIMIT).
pub const EMBSTR_LIMIT: usize = 44;

pub enum Value {
    /// A string holding a canonical i64 (`int` encoding).
    Int(i64),
    /// Any other string. `raw` is set once the string was modified in place (APPEND,
    /// SETRANGE, SETBIT) or created longer than the embstr limit.
    Str { data: Vec<u8>, raw: bool },
}

impl Value {
    /// A string value encoded as Redis's `tryObjectEncoding` would encode a new string.
    pub fn string(data: &[u8]) -> Value {
        if data.len() <= 20 {
            if let Some(i) = crate::util::parse_i64(data) {
                return Value::Int(i);
            }
        }
        Value::Str {
            raw: data.len() > EMBSTR_LIMIT,
            data: data.to_vec(),
        }
    }

    /// The name TYPE replies with.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) | Value::Str { .. } => "string",
        }
    }

    /// The name OBJECT ENCODING replies with.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Str { raw: false, .. } => "embstr",
            Value::Str { raw: true, .. } => "raw",
        }
    }

    pub fn is_string(&self) -> bool {
        matches!(self, Value::Int(_) | Value::Str { .. })
    }

    /// The bytes of a string value (formatting an integer), or None for other types.
    pub fn string_bytes(&self) -> Option<std::borrow::Cow<'_, [u8]>> {
        match self {
            Value::Int(i) => Some(std::borrow::Cow::Owned(
                itoa::Buffer::new().format(*i).as_bytes().to_vec(),
            )),
            Value::Str { data, .. } => Some(std::borrow::Cow::Borrowed(data)),
        }
    }

    /// Makes a string value's bytes mutable in place (APPEND, SETRANGE, SETBIT), turning it
    /// into the `raw` encoding as Redis does. None for other types.
    pub fn string_mut(&mut self) -> Option<&mut Vec<u8>> {
        if let Value::Int(i) = *self {
            *self = Value::Str {
                data: itoa::Buffer::new().format(i).as_bytes().to_vec(),
                raw: true,
            };
        }
        match self {
            Value::Str { data, raw } => {
                *raw = true;
                Some(data)
            }
            Value::Int(_) => None,
        }
    }

    /// Length in bytes of a string value.
    pub fn string_len(&self) -> Option<usize> {
        match self {
            Value::Int(i) => Some(itoa::Buffer::new().format(*i).len()),
            Value::Str { data, .. } => Some(data.len()),
        }
    }

    /// A deep copy (COPY).
    pub fn duplicate(&self) -> Value {
        match self {
            Value::Int(i) => Value::Int(*i),
            Value::Str { data, raw } => Value::Str {
                data: data.clone(),
                raw: *raw,
            },
        }
    }
}
