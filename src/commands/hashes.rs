//! Hash commands (HSET, HGET, HGETALL, HSCAN, ...).

use super::CommandTable;

pub fn register(_t: &mut CommandTable) {}
