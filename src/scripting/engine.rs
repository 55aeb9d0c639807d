//! One Lua state as scripts see it: the sandbox (read-only globals, no `os`/`io`/
//! `loadfile`/`dofile`/`print`), the `redis` API and Redis's libraries, and running one
//! script or function with `redis.call` reaching the command table.
//!
//! The sandbox itself is Lua (`prelude.lua`); Rust gives it a few primitives, and
//! `redis.call`/`redis.pcall` (`call.rs`), which reach the calling client through a slot
//! filled for the length of one run only, so no pointer to a client outlives its command.

use std::ffi::c_int;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Arc;

use mlua::{
    ffi, Function, HookTriggers, Lua, LuaOptions, MultiValue, StdLib, Table, Value, VmState,
};

use super::call::{CallCtx, Current};
use super::convert::{self, ToResp};
use super::RunInfo;
use crate::commands::{Args, Ctx, Lookup};
use crate::protocol::{ReplyBuf, Request};

/// Instructions between two checks for SCRIPT KILL, shutdown and the busy threshold
/// (Redis uses the same count).
const HOOK_EVERY: u32 = 100_000;

/// Globals of Lua's own libraries that scripts keep (Redis 7.0's allow list, less what
/// the oracle shows removed: getfenv, setfenv, newproxy, print).
const BUILTINS: &[&str] = &[
    "assert",
    "collectgarbage",
    "error",
    "gcinfo",
    "getmetatable",
    "ipairs",
    "load",
    "loadstring",
    "next",
    "pairs",
    "pcall",
    "rawequal",
    "rawget",
    "rawset",
    "select",
    "setmetatable",
    "tonumber",
    "tostring",
    "type",
    "unpack",
    "xpcall",
    "_VERSION",
    "string",
    "math",
    "table",
    "coroutine",
];

/// Library tables made read-only for scripts.
const PROTECTED: &[&str] = &[
    "string",
    "math",
    "table",
    "coroutine",
    "redis",
    "cjson",
    "bit",
    "struct",
    "cmsgpack",
];

pub struct Engine {
    pub lua: Lua,
    /// The globals scripts see (a read-only view of `real`).
    pub env: Table,
    /// The globals behind `env`; KEYS and ARGV are set here for each EVAL.
    real: Table,
    /// The `redis` table behind its read-only view: `call` and `pcall` are set per run.
    redis: Table,
    /// run(f [, keys, args]): calls f under the error handler.
    runner: Function,
    /// The running script's [`CallCtx`] (null between runs), which redis.call reads.
    current: Arc<AtomicPtr<()>>,
    /// redis.call's buffers, kept from run to run so a warm run allocates nothing for them.
    buffers: std::cell::RefCell<(Vec<u8>, Vec<u8>, Request)>,
}

/// How a script run ends, before it becomes a reply.
pub enum Outcome {
    /// The script's return value.
    Value(Value),
    /// An error reply; `counted` when the error was already counted in INFO errorstats
    /// (an error reply of a command the script called).
    Error { text: Vec<u8>, counted: bool },
    /// A command the script called panicked (caught in call.rs so it does not unwind
    /// through Lua): the caller ends the run, then resumes the panic, which closes the
    /// client as any command's panic does.
    Panicked(Box<dyn std::any::Any + Send>),
}

/// What a run may do (EVAL_RO, FCALL_RO and `no-writes` scripts may not write).
#[derive(Clone, Copy, Default)]
pub struct RunMode {
    pub read_only: bool,
    /// Memory was over maxmemory when the script started: its first write that may grow
    /// memory is refused (Redis's script_oom).
    pub oom: bool,
    pub allow_oom: bool,
}

/// An error Redis raises as a table `{err="CODE msg"}` (luaPushError + lua_error); the
/// prelude turns it back into that table wherever Lua code can see it.
#[derive(Debug)]
pub struct ScriptError {
    pub text: Vec<u8>,
    /// The error came from a command's reply, already counted in INFO errorstats.
    pub counted: bool,
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.text))
    }
}

impl std::error::Error for ScriptError {}

/// Raises `{err="ERR <msg>"}` (luaPushError of a message without a code).
pub fn raise(msg: &str) -> mlua::Error {
    mlua::Error::external(ScriptError {
        text: format!("ERR {msg}").into_bytes(),
        counted: false,
    })
}

/// Raises a string error as luaL_error does: prefixed with the caller's position.
pub fn lua_error(lua: &Lua, msg: &str) -> mlua::Error {
    mlua::Error::RuntimeError(format!("{}{}", where_(lua), msg))
}

/// luaL_where(L, 1): "chunk:line: " of the Lua function that called the running Rust
/// function, or "" when that is not a Lua function.
fn where_(lua: &Lua) -> String {
    lua.inspect_stack(1, |d| match d.current_line() {
        Some(line) if line > 0 => {
            let src = d.source();
            format!("{}:{}: ", src.short_src.unwrap_or_default(), line)
        }
        _ => String::new(),
    })
    .unwrap_or_default()
}

/// The message and kind of an error raised by a Rust function: (text, is_table, counted).
fn unwrap_error(e: &mlua::Error) -> (Vec<u8>, bool, bool) {
    match e {
        mlua::Error::ExternalError(inner) => match inner.downcast_ref::<ScriptError>() {
            Some(se) => (se.text.clone(), true, se.counted),
            None => (inner.to_string().into_bytes(), false, false),
        },
        mlua::Error::CallbackError { cause, .. } => unwrap_error(cause),
        mlua::Error::WithContext { cause, .. } => unwrap_error(cause),
        mlua::Error::RuntimeError(m) => (m.clone().into_bytes(), false, false),
        mlua::Error::MemoryError(m) => (m.clone().into_bytes(), false, false),
        other => (other.to_string().into_bytes(), false, false),
    }
}

/// `lua_tonumber`: numbers and numeric strings.
fn to_number(lua: &Lua, v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => Some(*n),
        Value::Integer(i) => Some(*i as f64),
        Value::String(_) => lua.coerce_number(v.clone()).ok().flatten(),
        _ => None,
    }
}

/// `lua_tolstring`: strings, and numbers as Lua prints them (%.14g).
fn to_lstring(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Number(n) => Some(lua_number_string(*n)),
        Value::Integer(i) => Some(lua_number_string(*i as f64)),
        _ => None,
    }
}

fn lua_number_string(n: f64) -> Vec<u8> {
    if n.is_nan() {
        return if n.is_sign_negative() {
            b"-nan".to_vec()
        } else {
            b"nan".to_vec()
        };
    }
    if n.is_infinite() {
        return if n > 0.0 {
            b"inf".to_vec()
        } else {
            b"-inf".to_vec()
        };
    }
    crate::util::format_g(n, 14).into_bytes()
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "nil",
        Value::Boolean(_) => "boolean",
        Value::LightUserData(_) | Value::UserData(_) | Value::Error(_) => "userdata",
        Value::Integer(_) | Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Table(_) => "table",
        Value::Function(_) => "function",
        Value::Thread(_) => "thread",
        _ => "userdata",
    }
}

/// luaL_checkint for argument `n` (1-based) of function `name`.
fn check_int(lua: &Lua, args: &MultiValue, n: usize, name: &str) -> mlua::Result<i32> {
    let v = args.get(n - 1);
    match v.and_then(|v| to_number(lua, v)) {
        Some(x) => Ok(x as i64 as i32),
        None => {
            let got = v.map(type_name).unwrap_or("no value");
            Err(lua_error(
                lua,
                &format!("bad argument #{n} to '{name}' (number expected, got {got})"),
            ))
        }
    }
}

impl Engine {
    pub fn new(run: Arc<RunInfo>) -> mlua::Result<Engine> {
        let lua = Lua::new_with(
            StdLib::TABLE | StdLib::STRING | StdLib::MATH,
            LuaOptions::new(),
        )?;
        let g = lua.globals();
        let real = lua.create_table()?;
        for name in BUILTINS {
            real.raw_set(*name, g.raw_get::<Value>(*name)?)?;
        }
        super::libs::open(&lua, &real)?;
        let redis = redis_api(&lua)?;
        let current = Arc::new(AtomicPtr::new(std::ptr::null_mut()));
        let (call, pcall) = super::call::make(&lua, &current)?;
        redis.raw_set("call", call)?;
        redis.raw_set("pcall", pcall)?;
        real.raw_set("redis", redis.clone())?;
        let math: Table = real.raw_get("math")?;
        let r = run.clone();
        math.raw_set(
            "random",
            lua.create_function(move |lua, args: MultiValue| {
                let v = r.rand.lock().next_value();
                let x = (v % convert::LRAND48_MAX) as f64 / convert::LRAND48_MAX as f64;
                match args.len() {
                    0 => Ok(x),
                    1 => {
                        let u = check_int(lua, &args, 1, "random")?;
                        if u < 1 {
                            return Err(lua_error(
                                lua,
                                "bad argument #1 to 'random' (interval is empty)",
                            ));
                        }
                        Ok((x * u as f64).floor() + 1.0)
                    }
                    2 => {
                        let l = check_int(lua, &args, 1, "random")?;
                        let u = check_int(lua, &args, 2, "random")?;
                        if l > u {
                            return Err(lua_error(
                                lua,
                                "bad argument #2 to 'random' (interval is empty)",
                            ));
                        }
                        // `u - l + 1` in C int arithmetic, as Lua 5.1 computes it (the
                        // full int range wraps to 0).
                        let span = u.wrapping_sub(l).wrapping_add(1);
                        Ok((x * span as f64).floor() + l as f64)
                    }
                    _ => Err(lua_error(lua, "wrong number of arguments")),
                }
            })?,
        )?;
        let r = run.clone();
        math.raw_set(
            "randomseed",
            lua.create_function(move |lua, args: MultiValue| {
                let seed = check_int(lua, &args, 1, "randomseed")?;
                *r.rand.lock() = convert::Lrand48::new(seed);
                Ok(())
            })?,
        )?;
        let r = run.clone();
        redis.raw_set(
            "setresp",
            lua.create_function(move |lua, args: MultiValue| {
                if args.len() != 1 {
                    return Err(raise("redis.setresp() requires one argument."));
                }
                let v = to_number(lua, &args[0]).unwrap_or(0.0) as i64;
                if v != 2 && v != 3 {
                    return Err(raise("RESP version must be 2 or 3."));
                }
                r.resp3.store(v == 3, Ordering::Relaxed);
                Ok(())
            })?,
        )?;
        let p = lua.create_table()?;
        let r = run.clone();
        p.raw_set(
            "shutdown",
            lua.create_function(move |_, ()| Ok(r.shutting_down()))?,
        )?;
        p.raw_set(
            "unwrap",
            lua.create_function(|lua, v: Value| match v {
                Value::Error(e) => {
                    let (text, is_table, counted) = unwrap_error(&e);
                    Ok((
                        Value::String(lua.create_string(&text)?),
                        Value::Boolean(is_table),
                        Value::Boolean(counted),
                    ))
                }
                _ => Ok((Value::Nil, Value::Nil, Value::Nil)),
            })?,
        )?;
        p.raw_set(
            "getinfo",
            lua.create_function(|lua, level: usize| {
                let found = lua.inspect_stack(level, |d| {
                    let src = d.source();
                    let line = d.current_line().map(|l| l as i64).unwrap_or(-1);
                    (
                        src.what.to_string(),
                        src.source.map(|s| s.into_owned()).unwrap_or_default(),
                        line,
                    )
                });
                Ok(match found {
                    Some((w, s, l)) => (Some(w), Some(s), Some(l)),
                    None => (None, None, None),
                })
            })?,
        )?;
        p.raw_set("libs", lua.create_sequence_from(PROTECTED.iter().copied())?)?;
        let (env, runner): (Table, Function) = lua
            .load(include_str!("prelude.lua"))
            .set_name("=?")
            .call((real.clone(), p))?;
        let r = run.clone();
        lua.set_hook(
            HookTriggers::new().every_nth_instruction(HOOK_EVERY),
            move |_, _| {
                if r.should_stop() {
                    return Err(raise("Script killed by user with SCRIPT KILL..."));
                }
                r.check_busy();
                Ok(VmState::Continue)
            },
        )?;
        // Lua's collector waits for the heap to grow 4x (Lua's default: 2x) before a cycle:
        // a script's garbage is small and short-lived, and a Lua heap is a few hundred KB,
        // so this halves collection work per script for little memory.
        lua.gc_set_pause(400);
        Ok(Engine {
            lua,
            env,
            real,
            redis,
            runner,
            current,
            buffers: Default::default(),
        })
    }

    /// Compiles a script body (chunk name as Redis: `@user_script`).
    pub fn compile(&self, body: &[u8], chunk: &str) -> Result<Function, String> {
        self.lua
            .load(body)
            .set_name(chunk)
            .set_environment(self.env.clone())
            .into_function()
            .map_err(|e| match e {
                mlua::Error::SyntaxError { message, .. } => message,
                other => other.to_string(),
            })
    }

    /// Runs `f` for the client of `ctx`: as EVAL (KEYS and ARGV globals) when `fcall` is
    /// false, else as FCALL (the two tables as arguments). Writes nothing to `ctx.out`
    /// but the push frames the script's commands caused.
    #[allow(clippy::too_many_arguments)]
    pub fn run(
        &self,
        ctx: &mut Ctx,
        run: &RunInfo,
        f: &Function,
        keys: &[&[u8]],
        argv: &[&[u8]],
        fcall: bool,
        mode: RunMode,
    ) -> Outcome {
        match self.run_inner(ctx, run, f, keys, argv, fcall, mode) {
            Ok(o) => o,
            Err(e) => Outcome::Error {
                text: format!("ERR Error running script: {e}").into_bytes(),
                counted: false,
            },
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn run_inner(
        &self,
        ctx: &mut Ctx,
        run: &RunInfo,
        f: &Function,
        keys: &[&[u8]],
        argv: &[&[u8]],
        fcall: bool,
        mode: RunMode,
    ) -> mlua::Result<Outcome> {
        // The client's state the script's commands must not disturb, or must see as a
        // script client: RESP2 until redis.setresp, no blocking, the exec gate already held,
        // one "now" for the whole script (as Redis's snapshot time).
        let saved_db = ctx.session.db;
        let saved_resp = ctx.session.resp;
        let saved_exec = std::mem::replace(&mut ctx.session.in_exec, true);
        let saved_block = std::mem::replace(&mut ctx.session.no_block, true);
        ctx.session.in_script = true;
        ctx.session.frozen_now = crate::util::now_ms();
        let (scratch, argbuf, req) = std::mem::take(&mut *self.buffers.borrow_mut());
        let result = {
            let mut cx = CallCtx {
                ctx: &mut *ctx,
                run,
                mode,
                pushed: Vec::new(),
                scratch,
                argbuf,
                req,
                error: Vec::new(),
                panic: None,
            };
            let _current = Current::set(&self.current, &mut cx);
            // KEYS and ARGV are built here as Redis builds them (tables filled one element
            // at a time, so any number of arguments fits: the Lua stack holds 8000), and the
            // runner gets them with the function.
            // SAFETY: the closure runs in a protected call with the runner and `f` on the
            // stack (pushed by exec_raw); it pushes two tables of strings and a boolean and
            // calls the runner, which catches the script's errors itself and leaves two
            // results for exec_raw to take. It owns nothing that needs dropping, so a Lua
            // error (out of memory) may unwind through it.
            let r = unsafe {
                self.lua.exec_raw::<(bool, Value)>((&self.runner, f), |l| {
                    for list in [keys, argv] {
                        ffi::lua_createtable(l, list.len().min(1 << 24) as c_int, 0);
                        for (i, s) in list.iter().enumerate() {
                            ffi::lua_pushlstring_(l, s.as_ptr().cast(), s.len());
                            ffi::lua_rawseti_(l, -2, (i + 1) as c_int);
                        }
                    }
                    ffi::lua_pushboolean(l, fcall as c_int);
                    ffi::lua_call(l, 4, 2);
                })
            };
            drop(_current);
            // Big buffers go back to the allocator; ordinary ones are kept for the next run.
            if cx.scratch.capacity() <= 64 * 1024 && cx.argbuf.capacity() <= 64 * 1024 {
                *self.buffers.borrow_mut() = (cx.scratch, cx.argbuf, cx.req);
            }
            (r, cx.pushed, cx.panic)
        };
        let (result, pushed, panic) = result;
        ctx.session.db = saved_db;
        ctx.session.resp = saved_resp;
        ctx.session.in_exec = saved_exec;
        ctx.session.no_block = saved_block;
        ctx.session.in_script = false;
        ctx.session.frozen_now = 0;
        if !pushed.is_empty() {
            ctx.out.raw(&pushed);
        }
        if let Some(payload) = panic {
            return Ok(Outcome::Panicked(payload));
        }
        let (ok, v) = result?;
        if ok {
            return Ok(Outcome::Value(v));
        }
        Ok(error_outcome(&v, run.funcname()))
    }

    /// Writes a script's return value as the reply, as luaReplyToRedisReply. Returns the
    /// error replies it wrote (for the statistics).
    pub fn reply(
        &self,
        out: &mut ReplyBuf,
        run: &RunInfo,
        v: &Value,
    ) -> Vec<convert::WrittenError> {
        let mut w = ToResp::new(run.resp3.load(Ordering::Relaxed));
        w.write(out, v);
        w.errors
    }

    /// Memory the Lua state holds (INFO used_memory_lua).
    pub fn used_memory(&self) -> usize {
        self.lua.used_memory()
    }

    /// The real globals table behind the read-only view scripts see.
    pub fn globals(&self) -> &Table {
        &self.real
    }

    /// The real `redis` table behind its read-only view (for API a caller adds, such as
    /// `redis.register_function` while a function library loads).
    pub fn redis_table(&self) -> &Table {
        &self.redis
    }
}

/// The `redis` table without call/pcall/setresp (set by the engine).
fn redis_api(lua: &Lua) -> mlua::Result<Table> {
    let redis = lua.create_table()?;
    redis.raw_set(
        "error_reply",
        lua.create_function(|lua, args: MultiValue| {
            let Some(Value::String(s)) = args.front().filter(|_| args.len() == 1) else {
                return convert::error_table(lua, b"ERR wrong number or type of arguments", false);
            };
            let bytes = s.as_bytes();
            let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
            let mut text = Vec::with_capacity(end + 1);
            if bytes.first() != Some(&b'-') {
                text.push(b'-');
            }
            text.extend_from_slice(&bytes[..end]);
            convert::error_table(lua, &text, false)
        })?,
    )?;
    redis.raw_set(
        "status_reply",
        lua.create_function(|lua, args: MultiValue| {
            let Some(Value::String(s)) = args.front().filter(|_| args.len() == 1) else {
                return convert::error_table(lua, b"ERR wrong number or type of arguments", false);
            };
            let t = lua.create_table_with_capacity(0, 1)?;
            t.raw_set("ok", s.clone())?;
            Ok(t)
        })?,
    )?;
    redis.raw_set(
        "sha1hex",
        lua.create_function(|_, args: MultiValue| {
            if args.len() != 1 {
                return Err(raise("wrong number of arguments"));
            }
            let s = to_lstring(&args[0]).unwrap_or_default();
            Ok(super::sha1_hex(&s))
        })?,
    )?;
    redis.raw_set(
        "log",
        lua.create_function(|lua, args: MultiValue| {
            if args.len() < 2 {
                return Err(raise("redis.log() requires two arguments or more."));
            }
            let Some(level) = to_number(lua, &args[0]) else {
                return Err(raise("First argument must be a number (log level)."));
            };
            let level = level as i64;
            if !(0..=3).contains(&level) {
                return Err(raise("Invalid debug level."));
            }
            let mut msg = Vec::new();
            for (j, v) in args.iter().enumerate().skip(1) {
                if let Some(s) = to_lstring(v) {
                    if j != 1 {
                        msg.push(b' ');
                    }
                    msg.extend_from_slice(&s);
                }
            }
            let msg = String::from_utf8_lossy(&msg);
            match level {
                0 => tracing::debug!(target: "lua", "{msg}"),
                1 | 2 => tracing::info!(target: "lua", "{msg}"),
                _ => tracing::warn!(target: "lua", "{msg}"),
            }
            Ok(())
        })?,
    )?;
    for (name, v) in [
        ("LOG_DEBUG", 0),
        ("LOG_VERBOSE", 1),
        ("LOG_NOTICE", 2),
        ("LOG_WARNING", 3),
    ] {
        redis.raw_set(name, v as f64)?;
    }
    redis.raw_set(
        "set_repl",
        lua.create_function(|lua, args: MultiValue| {
            if args.len() != 1 {
                return Err(raise("redis.set_repl() requires two arguments."));
            }
            let flags = to_number(lua, &args[0]).unwrap_or(0.0) as i64 as i32;
            if flags & !3 != 0 {
                return Err(raise(
                    "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
                ));
            }
            Ok(())
        })?,
    )?;
    for (name, v) in [
        ("REPL_NONE", 0),
        ("REPL_AOF", 1),
        ("REPL_SLAVE", 2),
        ("REPL_REPLICA", 2),
        ("REPL_ALL", 3),
    ] {
        redis.raw_set(name, v as f64)?;
    }
    redis.raw_set(
        "replicate_commands",
        lua.create_function(|_, _: MultiValue| Ok(true))?,
    )?;
    redis.raw_set(
        "breakpoint",
        lua.create_function(|_, _: MultiValue| Ok(false))?,
    )?;
    redis.raw_set("debug", lua.create_function(|_, _: MultiValue| Ok(()))?)?;
    redis.raw_set(
        "acl_check_cmd",
        lua.create_function(|_, args: MultiValue| {
            if args.is_empty() {
                return Err(raise(
                    "Please specify at least one argument for this redis lib call",
                ));
            }
            let Some(argv) = lua_args(&args) else {
                return Err(raise(
                    "Lua redis lib command arguments must be strings or integers",
                ));
            };
            // The table is data only; a copy of it answers lookups without a client.
            static TABLE: std::sync::OnceLock<crate::commands::CommandTable> =
                std::sync::OnceLock::new();
            let table = TABLE.get_or_init(crate::commands::CommandTable::new);
            let req = Request::from_owned(argv);
            match table.lookup(&Args::new(&[], &req)) {
                Lookup::Unknown => Err(raise("Invalid command passed to redis.acl_check_cmd()")),
                _ => Ok(true),
            }
        })?,
    )?;
    redis.raw_set("REDIS_VERSION", crate::REDIS_VERSION)?;
    redis.raw_set("REDIS_VERSION_NUM", version_num(crate::REDIS_VERSION))?;
    Ok(redis)
}

/// The error table of a failed run as Redis's reply: "-<err> script: <name>, on <source>:<line>."
fn error_outcome(v: &Value, funcname: String) -> Outcome {
    let Value::Table(t) = v else {
        let msg = match v {
            Value::String(s) => s.to_string_lossy(),
            _ => "execution failure".to_string(),
        };
        return Outcome::Error {
            text: format!("ERR Error running script {funcname}, {msg:.100}").into_bytes(),
            counted: false,
        };
    };
    let field = |name: &str| -> Option<Vec<u8>> {
        match t.raw_get::<Value>(name).ok()? {
            Value::String(s) => Some(s.as_bytes().to_vec()),
            Value::Number(n) => Some(crate::util::format_g(n, 14).into_bytes()),
            Value::Integer(i) => Some(i.to_string().into_bytes()),
            _ => None,
        }
    };
    let mut text = field("err").unwrap_or_default();
    if let (Some(source), Some(line)) = (field("source"), field("line")) {
        text.extend_from_slice(b" script: ");
        text.extend_from_slice(funcname.as_bytes());
        text.extend_from_slice(b", on ");
        text.extend_from_slice(&source);
        text.push(b':');
        text.extend_from_slice(&line);
        text.push(b'.');
    }
    let counted = matches!(
        t.raw_get::<Value>("ignore_error_stats_update"),
        Ok(Value::Boolean(true))
    );
    Outcome::Error { text, counted }
}

/// Lua arguments of redis.call as command arguments: strings as they are, numbers as
/// `%.17g`; None if one is neither.
fn lua_args(args: &MultiValue) -> Option<Vec<Vec<u8>>> {
    args.iter()
        .map(|v| match v {
            Value::String(s) => Some(s.as_bytes().to_vec()),
            Value::Number(n) => Some(convert::number_arg(*n)),
            Value::Integer(i) => Some(convert::number_arg(*i as f64)),
            _ => None,
        })
        .collect()
}

/// REDIS_VERSION_NUM: 0x00MMmmpp.
fn version_num(v: &str) -> f64 {
    let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (a, b, c) = (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    );
    ((a << 16) | (b << 8) | c) as f64
}
