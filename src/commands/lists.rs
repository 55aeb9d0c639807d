//! List commands (LPUSH, LRANGE, LMOVE, ...) and the blocking pops BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP.

use super::CommandTable;

pub fn register(_t: &mut CommandTable) {}
