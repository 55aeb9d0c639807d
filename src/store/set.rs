//! Set values: integers-only sets up to set-max-intset-entries as `intset`, others `hashtable`.
//!
//! Placeholder shape: the family's implementation replaces the internals. It must keep
//! the type at most 24 bytes so [`super::Value`] stays 32.

pub struct Set {
    items: Vec<Box<[u8]>>,
}

impl Set {
    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "hashtable"
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// A deep copy (COPY).
    pub fn duplicate(&self) -> Set {
        Set {
            items: self.items.clone(),
        }
    }
}
