//! Set commands (SADD, SINTER, SPOP, SSCAN, ...).

use super::CommandTable;

pub fn register(_t: &mut CommandTable) {}
