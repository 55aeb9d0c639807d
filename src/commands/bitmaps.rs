//! Bitmap commands on string values: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD.

use super::CommandTable;

pub fn register(_t: &mut CommandTable) {}
