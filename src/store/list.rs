//! List values (LPUSH, LRANGE, ...): Redis 7.0 reports every list as `quicklist`.
//!
//! Placeholder shape: the family's implementation replaces the internals. It must keep
//! the type at most 24 bytes so [`super::Value`] stays 32.

pub struct List {
    items: Vec<Box<[u8]>>,
}

impl List {
    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// A deep copy (COPY).
    pub fn duplicate(&self) -> List {
        List {
            items: self.items.clone(),
        }
    }
}
