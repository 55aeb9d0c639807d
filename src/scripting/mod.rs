//! Lua scripting: EVAL/EVALSHA/SCRIPT and FUNCTION/FCALL on an embedded Lua 5.1 (mlua,
//! vendored), sandboxed and converted to and from RESP as Redis 7.0 does.

pub mod libs;
