//! `redis.call` and `redis.pcall` as Lua C functions: the command's arguments are read
//! straight from the Lua stack into one reused buffer, and its reply is pushed straight onto
//! the stack (`convert::push_reply`), with no mlua value in between.
//!
//! Measured reason: as mlua callbacks these two cost every call mlua's trampoline, a
//! reentrant lock per API call, one registry reference per argument and per reply value
//! (each moved to mlua's reference thread and back) and a `MultiValue`; that bookkeeping
//! was ~10% of the server's CPU on `EVALSHA` of `return redis.call('INCR', KEYS[1])`, the
//! benchmark where redis-server's direct C calls were ahead of us.
//!
//! Unwinding discipline, as in `libs/mod.rs`: a Lua error is a `longjmp` through these
//! frames, so it is raised only from [`enter`], after the work is done and nothing with a
//! destructor is alive; the buffers live in the run's [`CallCtx`], not in locals. A Rust
//! panic must not unwind through Lua's C frames: it is caught here, parked in the
//! [`CallCtx`], turned into a Lua error that ends the script, and resumed by the engine once
//! Lua has returned (so the connection's own panic handling closes the client).

use std::any::Any;
use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Arc;

use mlua::{ffi, Function, Lua};

use super::convert;
use super::engine::{RunMode, ScriptError};
use super::RunInfo;
use crate::commands::{count_rejected, execute_spec, flags, Args, CommandSpec, Ctx, Lookup};
use crate::protocol::{ReplyBuf, Request};

type State = *mut ffi::lua_State;

/// What redis.call needs from the running script, for the length of one run.
pub(super) struct CallCtx<'c, 'a> {
    pub ctx: &'c mut Ctx<'a>,
    pub run: &'c RunInfo,
    pub mode: RunMode,
    /// Push frames the script's commands wrote into their replies (tracking), for the
    /// caller.
    pub pushed: Vec<u8>,
    /// The reply buffer of the script's commands, reused from call to call.
    pub scratch: Vec<u8>,
    /// The arguments of the script's current command, one buffer reused from call to call.
    pub argbuf: Vec<u8>,
    pub req: Request,
    /// An error text being raised or returned (kept here, not in a local, see the module
    /// doc).
    pub error: Vec<u8>,
    /// A panic caught inside a command, resumed by the engine after the run.
    pub panic: Option<Box<dyn Any + Send>>,
}

/// Publishes a [`CallCtx`] to redis.call for one run and withdraws it when dropped (also
/// on unwinding), so the pointer never outlives the borrow it came from.
pub(super) struct Current<'s>(&'s AtomicPtr<()>);

impl<'s> Current<'s> {
    pub fn set(slot: &'s AtomicPtr<()>, cx: &mut CallCtx) -> Current<'s> {
        slot.store(cx as *mut CallCtx as *mut (), Ordering::Relaxed);
        Current(slot)
    }
}

impl Drop for Current<'_> {
    fn drop(&mut self) {
        self.0.store(std::ptr::null_mut(), Ordering::Relaxed);
    }
}

/// The slot's owner kept in the Lua state itself, so the slot lives as long as the
/// functions that read it.
struct SlotKeeper(#[allow(dead_code)] Arc<AtomicPtr<()>>);

/// redis.call and redis.pcall, reading the running script's [`CallCtx`] from `slot`.
pub(super) fn make(lua: &Lua, slot: &Arc<AtomicPtr<()>>) -> mlua::Result<(Function, Function)> {
    lua.set_app_data(SlotKeeper(slot.clone()));
    let p = Arc::as_ptr(slot) as *mut c_void;
    // SAFETY: only pushes two C closures (each with the slot's address as a light
    // userdata upvalue) on the state exec_raw gives, which takes them as the results.
    unsafe {
        lua.exec_raw((), |l| {
            ffi::lua_pushlightuserdata(l, p);
            ffi::lua_pushcclosure(l, call, 1);
            ffi::lua_pushlightuserdata(l, p);
            ffi::lua_pushcclosure(l, pcall, 1);
        })
    }
}

unsafe extern "C-unwind" fn call(l: State) -> c_int {
    enter(l, true)
}

unsafe extern "C-unwind" fn pcall(l: State) -> c_int {
    enter(l, false)
}

/// Runs the command for either function: an error (a refused call or an error reply) is
/// raised by redis.call and returned by redis.pcall as its `{err=...}` table.
unsafe fn enter(l: State, raise_errors: bool) -> c_int {
    // SAFETY: upvalue 1 is the slot's address (see `make`), kept alive by this state's
    // app data.
    let slot = &*(ffi::lua_touserdata(l, ffi::lua_upvalueindex(1)) as *const AtomicPtr<()>);
    // Taken out of the slot while the command runs: a nested call (impossible today:
    // scripts cannot run EVAL) would find null instead of a second &mut.
    let p = slot.swap(std::ptr::null_mut(), Ordering::Relaxed);
    if p.is_null() {
        push_error(
            l,
            b"ERR redis.call/pcall can only be called inside a script invocation",
            false,
        );
        ffi::lua_error(l);
    }
    // SAFETY: a non-null pointer was stored by `Current::set` from a `&mut CallCtx` that
    // lives, unused by anyone else, until `Current` is dropped in the engine's run, which
    // happens after the only Lua call that can reach this function returns. The slot is
    // emptied above, so no other reference to it exists while we hold this one, and it is
    // put back before returning.
    let cx = &mut *(p as *mut CallCtx<'_, '_>);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| command(l, cx)));
    slot.store(p, Ordering::Relaxed);
    let outcome = match r {
        Ok(o) => o,
        Err(payload) => {
            cx.panic = Some(payload);
            Outcome::Malformed
        }
    };
    match outcome {
        Outcome::Value => 1,
        Outcome::Error if raise_errors => ffi::lua_error(l),
        Outcome::Error => 1,
        Outcome::Malformed => {
            ffi::lua_pushstring(l, c"malformed reply".as_ptr());
            ffi::lua_error(l)
        }
    }
}

/// What [`command`] left on the stack.
enum Outcome {
    /// The reply as a Lua value.
    Value,
    /// An `{err=...}` table.
    Error,
    /// Nothing: the reply could not be read, or the command panicked.
    Malformed,
}

/// Reads the arguments, runs the command, pushes its reply or error table.
unsafe fn command(l: State, cx: &mut CallCtx) -> Outcome {
    let n = ffi::lua_gettop(l);
    if n == 0 {
        return fail(
            l,
            cx,
            "Please specify at least one argument for this redis lib call",
        );
    }
    cx.argbuf.clear();
    cx.req.args.clear();
    cx.req.owned.clear();
    for i in 1..=n {
        let start = cx.argbuf.len();
        match ffi::lua_type(l, i) {
            ffi::LUA_TSTRING => {
                let mut len = 0;
                let s = ffi::lua_tolstring(l, i, &mut len);
                // SAFETY: lua_tolstring gives `len` bytes that live while the string is on
                // the stack (it is an argument of this call).
                cx.argbuf
                    .extend_from_slice(std::slice::from_raw_parts(s as *const u8, len));
            }
            ffi::LUA_TNUMBER => cx
                .argbuf
                .extend_from_slice(&convert::number_arg(ffi::lua_tonumber(l, i))),
            _ => {
                return fail(
                    l,
                    cx,
                    "Lua redis lib command arguments must be strings or integers",
                )
            }
        }
        cx.req.args.push(start..cx.argbuf.len());
    }
    if let Err(e) = dispatch(cx) {
        cx.error = e.text;
        push_error(l, &cx.error, e.counted);
        return Outcome::Error;
    }
    let resp3 = cx.run.resp3.load(Ordering::Relaxed);
    match convert::push_reply(l, &cx.scratch, &mut cx.pushed, resp3) {
        Ok(None) => Outcome::Value,
        Ok(Some(line)) => {
            cx.error = convert::error_text(line);
            push_error(l, &cx.error, true);
            Outcome::Error
        }
        Err(convert::Malformed) => Outcome::Malformed,
    }
}

/// A call refused before it reached a command (not counted in the statistics).
unsafe fn fail(l: State, cx: &mut CallCtx, msg: &str) -> Outcome {
    cx.error = convert::error_text(msg.as_bytes());
    push_error(l, &cx.error, false);
    Outcome::Error
}

/// Pushes `{err=text}` (and `ignore_error_stats_update=true` when the error was already
/// counted), as Redis's luaPushError.
unsafe fn push_error(l: State, text: &[u8], counted: bool) {
    ffi::lua_createtable(l, 0, 2);
    ffi::lua_pushlstring_(l, text.as_ptr().cast(), text.len());
    ffi::lua_setfield(l, -2, c"err".as_ptr());
    if counted {
        ffi::lua_pushboolean(l, 1);
        ffi::lua_setfield(l, -2, c"ignore_error_stats_update".as_ptr());
    }
}

/// The checks of Redis's scriptCall, then the command through `execute_spec` as the
/// calling client; its reply is left in `cx.scratch`.
fn dispatch(cx: &mut CallCtx) -> Result<(), ScriptError> {
    let (ctx, run, mode) = (&mut *cx.ctx, cx.run, cx.mode);
    let cmd_args = Args::new(&cx.argbuf, &cx.req);
    // A command refused from here on is an error reply Redis counts at once (INFO
    // errorstats, and the command's rejected_calls), as if the command had answered it.
    let reject = |spec: Option<&CommandSpec>, msg: &str| {
        let text = convert::error_text(msg.as_bytes());
        ctx.shared.count_error(&convert::error_code(&text));
        count_rejected(ctx.shared, spec);
        Err(ScriptError {
            text,
            counted: true,
        })
    };
    let spec = match ctx.shared.commands.lookup(&cmd_args) {
        Lookup::Found(s) => s,
        Lookup::BadArity(s) => {
            return reject(
                Some(s),
                "Wrong number of args calling Redis command from script",
            )
        }
        Lookup::Unknown => return reject(None, "Unknown Redis command called from script"),
    };
    if spec.has(flags::NOSCRIPT) {
        return reject(Some(spec), "This Redis command is not allowed from script");
    }
    if mode.read_only && (spec.has(flags::WRITE) || may_replicate(spec)) {
        return reject(
            Some(spec),
            "Write commands are not allowed from read-only scripts.",
        );
    }
    if mode.oom && !mode.allow_oom && !run.wrote.load(Ordering::Relaxed) && spec.has(flags::DENYOOM)
    {
        return reject(Some(spec), &format!("-{}", crate::commands::err::OOM));
    }
    if spec.has(flags::WRITE) {
        run.wrote.store(true, Ordering::Relaxed);
    }
    let resp3 = run.resp3.load(Ordering::Relaxed);
    let mut out = ReplyBuf {
        buf: std::mem::take(&mut cx.scratch),
        resp3,
    };
    out.buf.clear();
    ctx.session.resp = if resp3 { 3 } else { 2 };
    {
        let mut inner = Ctx::new(ctx.shared, ctx.session, &mut out);
        execute_spec(&mut inner, &cmd_args, spec);
    }
    cx.scratch = out.buf;
    Ok(())
}

/// Whether Redis flags a command `may_replicate`, which read-only scripts may not call
/// either (PFCOUNT may rewrite its key, PUBLISH and SPUBLISH propagate). COMMAND does not
/// show that flag, so the command table does not carry it for these.
fn may_replicate(spec: &CommandSpec) -> bool {
    spec.has(flags::MAY_REPLICATE) || matches!(spec.name, "pfcount" | "publish" | "spublish")
}
