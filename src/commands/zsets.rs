//! Sorted set commands (ZADD, ZRANGE, ZUNIONSTORE, ZSCAN, BZPOPMIN, ...).

use super::CommandTable;

pub fn register(_t: &mut CommandTable) {}
