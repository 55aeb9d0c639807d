//! Hash values: a compact packed form up to hash-max-listpack-entries/-value (`listpack`), a hash table past them (`hashtable`).
//!
//! Placeholder shape: the family's implementation replaces the internals. It must keep
//! the type at most 24 bytes so [`super::Value`] stays 32.

pub struct Hash {
    items: Vec<Box<[u8]>>,
}

impl Hash {
    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "listpack"
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// A deep copy (COPY).
    pub fn duplicate(&self) -> Hash {
        Hash {
            items: self.items.clone(),
        }
    }
}
