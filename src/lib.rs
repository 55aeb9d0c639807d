//! rust-cache-server: a Redis-protocol-compatible, multi-threaded cache server.
//!
//! The path of a request: `server` (sockets, buffers) -> `protocol` (decode) -> `commands`
//! (table, dispatch, one file per family) -> `store` (sharded keyspace, expiry), and the
//! reply back through `protocol::ReplyBuf`. Imports run one way: server -> commands ->
//! store and protocol. See `../shared/DESIGN.md` for the architecture this follows.

pub mod alloc;
pub mod commands;
pub mod config;
pub mod memory;
pub mod protocol;
pub mod scripting;
pub mod server;
pub mod store;
pub mod util;

pub use config::Config;
pub use server::{spawn, ServerHandle};

/// jemalloc for the whole process (tests included): `used_memory` and fragmentation come
/// from its statistics, as in Redis, and it holds up better than the system allocator
/// under many threads allocating small values. Built with Redis's 8-byte quantum
/// (`alloc.rs`).
#[global_allocator]
static GLOBAL: alloc::Allocator = alloc::Allocator;

/// The Redis release whose behaviour this server matches (INFO redis_version, HELLO).
pub const REDIS_VERSION: &str = "7.0.15";
