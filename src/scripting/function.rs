//! Redis 7.0 functions: `FUNCTION LOAD|DELETE|FLUSH|LIST|DUMP|RESTORE|STATS|KILL|HELP`,
//! `FCALL` and `FCALL_RO`, with `#!lua name=<lib>` libraries whose top-level code calls
//! `redis.register_function`.
//!
//! Functions live in their own Lua state, apart from EVAL's, as in Redis. Every library
//! chunk shares one environment table whose lookups go, while a library loads, to the
//! small load-time API (`redis.register_function`, `redis.log`, the version fields and
//! nothing else), and at run time to the sandboxed globals every script sees; writes are
//! refused in both cases. A library's code runs once at load, with a 500 ms limit.
//!
//! FUNCTION DUMP writes what Redis writes: per library an RDB function opcode and the
//! library code as an RDB string (LZF-compressed as Redis compresses it), then the RDB
//! version (10 in 7.0) and a CRC64 (Jones) of all that, so a payload moves both ways
//! between this server and redis-server.
//!
//! Redis keeps libraries and functions in hash tables seeded at random on every start,
//! so its FUNCTION LIST and DUMP order changes from one process to the next; here they
//! come sorted by name.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hashbrown::HashMap;
use mlua::{Function, HookTriggers, MultiValue, Table, Value, VmState};
use parking_lot::Mutex;

use super::engine::{raise, Engine, RunMode};
use super::{finish, script_oom, threshold_ms, RunInfo, BUSY_EVAL};
use crate::commands::clients::help_reply;
use crate::commands::{cmd, container, err, Args, CmdError, CmdResult, CommandTable, Ctx};

const CAT: &[&str] = &["scripting"];

/// The only engine Redis 7.0 has, as FUNCTION LIST and STATS name it.
const ENGINE_NAME: &str = "LUA";

/// How long a library's top-level code may run in FUNCTION LOAD.
const LOAD_TIMEOUT: Duration = Duration::from_millis(500);

/// Instructions between two runs of the hook. Redis checks every 100,000; checking more
/// often (at a cost well under 1%) lets a function that mostly calls commands, each a
/// few instructions of Lua, still be seen soon (HAND_OFF_AFTER, FUNCTION KILL).
const HOOK_EVERY: u32 = 10_000;

/// How long a load or run goes on before its worker thread is handed off.
const HAND_OFF_AFTER: Duration = Duration::from_millis(2);

/// RDB version Redis 7.0 writes at the end of a DUMP payload.
const RDB_VERSION: u16 = 10;
/// RDB opcodes of a function library: the 7.0 GA form (the code only) and the form of
/// the 7.0 release candidates (name, engine, description, body), still loaded.
const OPCODE_FUNCTION2: u8 = 245;
const OPCODE_FUNCTION_PRE_GA: u8 = 246;

const NAME_ERROR: &str = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

pub fn register(t: &mut CommandTable) {
    let (f, ro) = (super::RUN_FLAGS, super::RUN_RO_FLAGS);
    t.add(super::run_cmd("fcall", f, fcall));
    t.add(super::run_cmd("fcall_ro", ro, fcall_ro));
    t.add(
        cmd("function", -2, "", &[], (0, 0, 0), container).with_subcommands(vec![
            cmd(
                "function|load",
                -3,
                "write denyoom noscript",
                CAT,
                (0, 0, 0),
                function_load,
            ),
            cmd(
                "function|delete",
                3,
                "write noscript",
                CAT,
                (0, 0, 0),
                function_delete,
            ),
            cmd(
                "function|flush",
                -2,
                "write noscript",
                CAT,
                (0, 0, 0),
                function_flush,
            ),
            cmd(
                "function|list",
                -2,
                "noscript",
                CAT,
                (0, 0, 0),
                function_list,
            ),
            cmd(
                "function|dump",
                2,
                "noscript",
                CAT,
                (0, 0, 0),
                function_dump,
            ),
            cmd(
                "function|restore",
                -3,
                "write denyoom noscript",
                CAT,
                (0, 0, 0),
                function_restore,
            ),
            cmd(
                "function|stats",
                2,
                "noscript allow_busy",
                CAT,
                (0, 0, 0),
                function_stats,
            ),
            cmd(
                "function|kill",
                2,
                "noscript allow_busy",
                CAT,
                (0, 0, 0),
                function_kill,
            ),
            cmd(
                "function|help",
                2,
                "loading stale",
                CAT,
                (0, 0, 0),
                function_help,
            ),
        ]),
    );
}

/// Function flags, in the order Redis lists them (FUNCTION LIST, flag parsing).
const FLAG_NAMES: &[(u8, &str)] = &[
    (NO_WRITES, "no-writes"),
    (ALLOW_OOM, "allow-oom"),
    (ALLOW_STALE, "allow-stale"),
    (NO_CLUSTER, "no-cluster"),
    (ALLOW_CROSS_SLOT, "allow-cross-slot-keys"),
];
const NO_WRITES: u8 = 1;
const ALLOW_OOM: u8 = 2;
const ALLOW_STALE: u8 = 4;
const NO_CLUSTER: u8 = 8;
const ALLOW_CROSS_SLOT: u8 = 16;

/// One registered function.
struct FunctionInfo {
    name: Vec<u8>,
    callback: Function,
    description: Option<Vec<u8>>,
    flags: u8,
}

struct Library {
    /// The whole code as loaded, shebang included (FUNCTION LIST WITHCODE, DUMP).
    code: Vec<u8>,
    /// By exact name (names are unique within a library as Redis compares them: with
    /// case).
    functions: BTreeMap<Vec<u8>, Arc<FunctionInfo>>,
}

/// A set of libraries and the functions they register (Redis's functionsLibCtx): the
/// live one, or one a RESTORE builds before joining it.
#[derive(Default)]
struct LibSet {
    libraries: BTreeMap<Vec<u8>, Library>,
    /// By lower-case name: FCALL finds a function whatever the case, as Redis does.
    functions: HashMap<Vec<u8>, Arc<FunctionInfo>>,
}

impl LibSet {
    fn function_count(&self) -> usize {
        self.libraries.values().map(|l| l.functions.len()).sum()
    }

    fn unlink(&mut self, name: &[u8]) -> Option<Library> {
        let lib = self.libraries.remove(name)?;
        for f in lib.functions.values() {
            let key = f.name.to_ascii_lowercase();
            if self.functions.get(&key).is_some_and(|g| Arc::ptr_eq(g, f)) {
                self.functions.remove(&key);
            }
        }
        Some(lib)
    }

    fn link(&mut self, name: Vec<u8>, lib: Library) {
        for f in lib.functions.values() {
            self.functions
                .entry(f.name.to_ascii_lowercase())
                .or_insert_with(|| f.clone());
        }
        self.libraries.insert(name, lib);
    }

    /// The first function of `lib` whose name another library already uses.
    fn collision<'a>(&self, lib: &'a Library) -> Option<&'a [u8]> {
        lib.functions
            .values()
            .find(|f| self.functions.contains_key(&f.name.to_ascii_lowercase()))
            .map(|f| f.name.as_slice())
    }
}

/// A function `redis.register_function` collected while its library loads.
struct Registered {
    name: Vec<u8>,
    callback: Function,
    description: Option<Vec<u8>>,
    flags: u8,
}

/// What the Lua side needs while a library's top-level code runs.
struct Loading {
    start: Instant,
    /// None when the code may run as long as it likes (RESTORE).
    timeout: Option<Duration>,
    functions: Vec<Registered>,
}

type LoadSlot = Arc<Mutex<Option<Loading>>>;

/// The functions' Lua state and the libraries loaded in it.
struct FnState {
    // Declared before `engine`, so the Lua values they hold go before the state.
    libs: LibSet,
    loading: LoadSlot,
    /// The environment of every library chunk (see the module doc).
    lib_env: Table,
    /// Runs a library chunk in load mode; returns nil or the error message.
    load_chunk: Function,
    engine: Engine,
}

/// Everything FUNCTION keeps for the server; one field of `Scripting`.
#[derive(Default)]
pub struct Functions {
    state: Mutex<Option<FnState>>,
    /// The running FCALL's arguments, for FUNCTION STATS while it runs.
    command: Mutex<Vec<Vec<u8>>>,
    /// Figures read without the state lock (INFO, FUNCTION STATS during a run).
    libraries: AtomicU64,
    /// Functions FCALL can reach (INFO number_of_functions).
    functions: AtomicU64,
    /// Functions the libraries registered (FUNCTION STATS functions_count).
    registered: AtomicU64,
    vm_memory: AtomicU64,
}

impl Functions {
    /// INFO memory number_of_functions.
    pub fn number_of_functions(&self) -> u64 {
        self.functions.load(Ordering::Relaxed)
    }

    /// INFO memory number_of_libraries.
    pub fn number_of_libraries(&self) -> u64 {
        self.libraries.load(Ordering::Relaxed)
    }

    /// INFO memory used_memory_vm_functions: memory of the functions' Lua state.
    pub fn vm_memory(&self) -> u64 {
        self.vm_memory.load(Ordering::Relaxed)
    }

    fn publish(&self, st: &FnState) {
        let libs = &st.libs;
        self.libraries
            .store(libs.libraries.len() as u64, Ordering::Relaxed);
        self.functions
            .store(libs.functions.len() as u64, Ordering::Relaxed);
        self.registered
            .store(libs.function_count() as u64, Ordering::Relaxed);
        self.vm_memory
            .store(st.engine.used_memory() as u64, Ordering::Relaxed);
    }

    fn clear(&self) {
        let old = self.state.lock().take();
        drop(old);
        for a in [
            &self.libraries,
            &self.functions,
            &self.registered,
            &self.vm_memory,
        ] {
            a.store(0, Ordering::Relaxed);
        }
    }
}

/// The Lua side of library loading (module doc). Chunk name "=?" so the error handler
/// skips its frames as it skips the prelude's.
const LIB_LUA: &str = r#"
local G, api_redis, handler = ...
local error, tostring, rawget, setmetatable, xpcall, type =
  error, tostring, rawget, setmetatable, xpcall, type
local function readonly() error("Attempt to modify a readonly table", 2) end
local function lookup(t)
  return function(_, k)
    local v = rawget(t, k)
    if v == nil then
      error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
    end
    return v
  end
end
local redis_view = setmetatable({}, { __index = lookup(api_redis), __newindex = readonly, __metatable = false })
local load_index = lookup({ redis = redis_view })
local meta = { __index = G, __newindex = readonly, __metatable = false }
local env = setmetatable({}, meta)
-- As Redis reports a load error: a string as "ERR <text>", a table by its err field.
local function load(chunk)
  meta.__index = load_index
  local ok, e = xpcall(chunk, handler)
  meta.__index = G
  if ok then return nil end
  if type(e) == "table" then
    local m = e.err
    if type(m) == "string" or type(m) == "number" then return tostring(m) end
    return "(null)"
  end
  return "ERR " .. tostring(e)
end
return env, load
"#;

/// `lua_isstring` + `lua_tolstring`: strings, and numbers as Lua prints them.
fn lua_string(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Number(n) => Some(crate::util::format_g(*n, 14).into_bytes()),
        Value::Integer(i) => Some(i.to_string().into_bytes()),
        _ => None,
    }
}

/// Bytes up to the first NUL, as C string functions see them.
fn c_str(b: &[u8]) -> &[u8] {
    &b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())]
}

/// `[a-zA-Z0-9_]+`, Redis's rule for library and function names.
fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Reads the flags table of register_function's named form.
fn read_flags(t: &Table) -> mlua::Result<Option<u8>> {
    let mut flags = 0;
    for j in 1.. {
        let v: Value = t.get(j)?;
        if v.is_nil() {
            break;
        }
        let Some(s) = lua_string(&v) else {
            return Ok(None);
        };
        let s = c_str(&s);
        match FLAG_NAMES
            .iter()
            .find(|(_, n)| s.eq_ignore_ascii_case(n.as_bytes()))
        {
            Some((bit, _)) => flags |= bit,
            None => return Ok(None),
        }
    }
    Ok(Some(flags))
}

/// redis.register_function's arguments, checked as Redis checks them.
fn register_args(args: MultiValue) -> mlua::Result<Registered> {
    if args.is_empty() || args.len() > 2 {
        return Err(raise(
            "wrong number of arguments to redis.register_function",
        ));
    }
    if args.len() == 2 {
        let Some(name) = lua_string(&args[0]) else {
            return Err(raise(
                "first argument to redis.register_function must be a string",
            ));
        };
        let Value::Function(callback) = &args[1] else {
            return Err(raise(
                "second argument to redis.register_function must be a function",
            ));
        };
        return Ok(Registered {
            name,
            callback: callback.clone(),
            description: None,
            flags: 0,
        });
    }
    let Value::Table(t) = &args[0] else {
        return Err(raise("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments)."));
    };
    let (mut name, mut description, mut callback, mut flags) = (None, None, None, 0);
    for pair in t.pairs::<Value, Value>() {
        let (k, v) = pair?;
        let Some(key) = lua_string(&k) else {
            return Err(raise(
                "named argument key given to redis.register_function is not a string",
            ));
        };
        let key = c_str(&key);
        if key.eq_ignore_ascii_case(b"function_name") {
            let Some(s) = lua_string(&v) else {
                return Err(raise(
                    "function_name argument given to redis.register_function must be a string",
                ));
            };
            name = Some(s);
        } else if key.eq_ignore_ascii_case(b"description") {
            let Some(s) = lua_string(&v) else {
                return Err(raise(
                    "description argument given to redis.register_function must be a string",
                ));
            };
            description = Some(s);
        } else if key.eq_ignore_ascii_case(b"callback") {
            let Value::Function(f) = v else {
                return Err(raise(
                    "callback argument given to redis.register_function must be a function",
                ));
            };
            callback = Some(f);
        } else if key.eq_ignore_ascii_case(b"flags") {
            let Value::Table(ft) = v else {
                return Err(raise("flags argument to redis.register_function must be a table representing function flags"));
            };
            match read_flags(&ft)? {
                Some(f) => flags = f,
                None => return Err(raise("unknown flag given")),
            }
        } else {
            return Err(raise("unknown argument given to redis.register_function"));
        }
    }
    let Some(name) = name else {
        return Err(raise(
            "redis.register_function must get a function name argument",
        ));
    };
    let Some(callback) = callback else {
        return Err(raise(
            "redis.register_function must get a callback argument",
        ));
    };
    Ok(Registered {
        name,
        callback,
        description,
        flags,
    })
}

/// A new functions state: its engine, the load-time API and the hook that enforces the
/// load timeout besides FUNCTION KILL and the busy threshold.
fn new_state(run: &Arc<RunInfo>) -> mlua::Result<FnState> {
    let engine = Engine::new(run.clone())?;
    let lua = &engine.lua;
    let loading: LoadSlot = Arc::new(Mutex::new(None));
    let api = lua.create_table()?;
    let slot = loading.clone();
    api.raw_set(
        "register_function",
        lua.create_function(move |_, args: MultiValue| {
            if slot.lock().is_none() {
                return Err(raise(
                    "redis.register_function can only be called on FUNCTION LOAD command",
                ));
            }
            let reg = register_args(args)?;
            if !valid_name(&reg.name) {
                return Err(raise(NAME_ERROR));
            }
            let mut guard = slot.lock();
            let Some(l) = guard.as_mut() else {
                return Err(raise(
                    "redis.register_function can only be called on FUNCTION LOAD command",
                ));
            };
            if l.functions.iter().any(|f| f.name == reg.name) {
                return Err(raise("Function already exists in the library"));
            }
            l.functions.push(reg);
            Ok(())
        })?,
    )?;
    let redis = engine.redis_table();
    for name in [
        "log",
        "LOG_DEBUG",
        "LOG_VERBOSE",
        "LOG_NOTICE",
        "LOG_WARNING",
        "REDIS_VERSION",
        "REDIS_VERSION_NUM",
    ] {
        api.raw_set(name, redis.raw_get::<Value>(name)?)?;
    }
    let handler: Function = engine.globals().raw_get("__redis__err__handler")?;
    let (lib_env, load_chunk): (Table, Function) =
        lua.load(LIB_LUA)
            .set_name("=?")
            .call((engine.env.clone(), api, handler))?;
    let r = run.clone();
    let slot = loading.clone();
    lua.set_hook(
        HookTriggers::new().every_nth_instruction(HOOK_EVERY),
        move |_, _| {
            let load = slot.lock().as_ref().map(|l| (l.start.elapsed(), l.timeout));
            if let Some((elapsed, timeout)) = load {
                if elapsed >= HAND_OFF_AFTER {
                    hand_off_worker();
                }
                if timeout.is_some_and(|limit| elapsed > limit) {
                    return Err(raise("FUNCTION LOAD timeout"));
                }
                return Ok(VmState::Continue);
            }
            if r.elapsed_ms().unwrap_or(0) >= HAND_OFF_AFTER.as_millis() as u64 {
                hand_off_worker();
            }
            if r.should_stop() {
                return Err(raise("Script killed by user with SCRIPT KILL..."));
            }
            r.check_busy();
            Ok(VmState::Continue)
        },
    )?;
    Ok(FnState {
        libs: LibSet::default(),
        loading,
        lib_env,
        load_chunk,
        engine,
    })
}

/// A load or run past HAND_OFF_AFTER gives its tokio worker's queue and I/O driver to
/// another thread, so other clients are still read and answered
/// (BUSY, FUNCTION KILL, SHUTDOWN NOSAVE) while the function runs on here. Without it a
/// long function could leave every new request unread: seen with 2 workers, the other
/// one stayed parked (gdb) and nothing answered. After the first hand-off this thread
/// has no core left and the call costs nothing.
fn hand_off_worker() {
    use tokio::runtime::{Handle, RuntimeFlavor};
    if Handle::try_current().is_ok_and(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread) {
        tokio::task::block_in_place(|| {});
    }
}

/// The functions state, made on first use (and again after FUNCTION FLUSH).
fn state<'a>(s: &'a mut Option<FnState>, run: &Arc<RunInfo>) -> Result<&'a mut FnState, CmdError> {
    if s.is_none() {
        *s =
            Some(new_state(run).map_err(|e| CmdError::from(format!("ERR cannot start Lua: {e}")))?);
    }
    s.as_mut()
        .ok_or_else(|| CmdError::new("ERR cannot start Lua"))
}

/// A library's `#!<engine> name=<name>` first line.
struct Metadata {
    engine: Vec<u8>,
    name: Vec<u8>,
    /// Where the code after the first line starts (at its newline, so line numbers
    /// are the user's).
    body_at: usize,
}

fn metadata(code: &[u8]) -> Result<Metadata, Vec<u8>> {
    if !code.starts_with(b"#!") {
        return Err(b"Missing library metadata".to_vec());
    }
    // Redis looks for the newline in a C string: a NUL before it ends the search.
    let end = match code.iter().position(|&c| c == b'\n' || c == 0) {
        Some(i) if code[i] == b'\n' => i,
        _ => return Err(b"Invalid library metadata".to_vec()),
    };
    let parts = match crate::protocol::decode::split_args(&code[..end]) {
        Some(p) if !p.is_empty() => p,
        _ => return Err(b"Invalid library metadata".to_vec()),
    };
    let engine = parts[0].get(2..).unwrap_or_default().to_vec();
    let mut name = None;
    for part in &parts[1..] {
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(
                    b"Invalid metadata value, name argument was given multiple times".to_vec(),
                );
            }
            name = Some(c_str(&part[5..]).to_vec());
            continue;
        }
        let mut m = b"Invalid metadata value given: ".to_vec();
        m.extend_from_slice(c_str(part));
        return Err(m);
    }
    let Some(name) = name else {
        return Err(b"Library name was not given".to_vec());
    };
    Ok(Metadata {
        engine,
        name,
        body_at: end,
    })
}

fn err_msg(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Compiles and runs a library's code and adds it to `set` (Redis's
/// functionsCreateWithLibraryCtx). Returns the library name, or the error text without
/// its "ERR " prefix.
fn create_library(
    st: &FnState,
    set: &mut LibSet,
    code: &[u8],
    replace: bool,
    timeout: Option<Duration>,
) -> Result<Vec<u8>, Vec<u8>> {
    let md = metadata(code)?;
    if !valid_name(&md.name) {
        return Err(NAME_ERROR.as_bytes().to_vec());
    }
    if !md.engine.eq_ignore_ascii_case(b"lua") {
        return Err(err_msg(&[b"Engine '", &md.engine, b"' not found"]));
    }
    if !replace && set.libraries.contains_key(&md.name) {
        return Err(err_msg(&[b"Library '", &md.name, b"' already exists"]));
    }
    let chunk = st
        .engine
        .lua
        .load(&code[md.body_at..])
        .set_name("@user_function")
        .set_environment(st.lib_env.clone())
        .into_function()
        .map_err(|e| {
            let m = match e {
                mlua::Error::SyntaxError { message, .. } => message,
                other => other.to_string(),
            };
            format!("Error compiling function: {m}").into_bytes()
        })?;
    *st.loading.lock() = Some(Loading {
        start: Instant::now(),
        timeout,
        functions: Vec::new(),
    });
    let outcome = st.load_chunk.call::<Option<mlua::String>>(chunk);
    let loaded = st.loading.lock().take();
    match outcome {
        Ok(None) => {}
        Ok(Some(m)) => return Err(err_msg(&[b"Error registering functions: ", &m.as_bytes()])),
        Err(e) => return Err(format!("Error registering functions: ERR {e}").into_bytes()),
    }
    let registered = loaded.map(|l| l.functions).unwrap_or_default();
    if registered.is_empty() {
        return Err(b"No functions registered".to_vec());
    }
    let lib = Library {
        code: code.to_vec(),
        functions: registered
            .into_iter()
            .map(|r| {
                let info = FunctionInfo {
                    name: r.name.clone(),
                    callback: r.callback,
                    description: r.description,
                    flags: r.flags,
                };
                (r.name, Arc::new(info))
            })
            .collect(),
    };
    // The old library of the same name (REPLACE) goes first, so its functions do not
    // collide with their new versions; it comes back if the new one cannot go in.
    let old = set.unlink(&md.name);
    if let Some(name) = set.collision(&lib) {
        let m = err_msg(&[b"Function ", name, b" already exists"]);
        if let Some(old) = old {
            set.link(md.name.clone(), old);
        }
        return Err(m);
    }
    set.link(md.name.clone(), lib);
    Ok(md.name)
}

/// Adds the libraries of `src` to `dst` (Redis's libraryJoin): on a name clash, fails
/// unless `replace`, then replaces; fails on a function name clash, leaving `dst` as it
/// was.
fn join(dst: &mut LibSet, src: LibSet, replace: bool) -> Result<(), Vec<u8>> {
    let mut replaced = Vec::new();
    for name in src.libraries.keys() {
        if dst.libraries.contains_key(name) {
            if !replace {
                return Err(err_msg(&[b"Library ", name, b" already exists"]));
            }
            if let Some(old) = dst.unlink(name) {
                replaced.push((name.clone(), old));
            }
        }
    }
    let clash = src
        .libraries
        .values()
        .find_map(|lib| dst.collision(lib).map(|n| n.to_vec()));
    if let Some(name) = clash {
        for (n, old) in replaced {
            dst.link(n, old);
        }
        return Err(err_msg(&[b"Function ", &name, b" already exists"]));
    }
    for (name, lib) in src.libraries {
        dst.link(name, lib);
    }
    Ok(())
}

fn function_load(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let mut replace = false;
    let mut at = 2;
    while at < args.len() - 1 {
        let a = args.get(at);
        at += 1;
        if a.eq_ignore_ascii_case(b"replace") {
            replace = true;
            continue;
        }
        let mut m = b"ERR Unknown option given: ".to_vec();
        m.extend_from_slice(c_str(a));
        return Err(CmdError::from_bytes(m));
    }
    let code = args.get(at);
    let scripting = &ctx.shared.scripting;
    let fns = &scripting.functions;
    let mut guard = fns.state.lock();
    let st = state(&mut guard, &scripting.run)?;
    let mut libs = std::mem::take(&mut st.libs);
    let result = create_library(st, &mut libs, code, replace, Some(LOAD_TIMEOUT));
    st.libs = libs;
    fns.publish(st);
    match result {
        Ok(name) => {
            ctx.out.bulk(&name);
            Ok(())
        }
        Err(m) => Err(CmdError::from_bytes(err_msg(&[b"ERR ", &m]))),
    }
}

fn function_delete(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let fns = &ctx.shared.scripting.functions;
    let mut guard = fns.state.lock();
    let Some(st) = guard.as_mut() else {
        return Err(CmdError::new("ERR Library not found"));
    };
    if st.libs.unlink(args.get(2)).is_none() {
        return Err(CmdError::new("ERR Library not found"));
    }
    fns.publish(st);
    ctx.out.ok();
    Ok(())
}

fn function_flush(ctx: &mut Ctx, args: &Args) -> CmdResult {
    if args.len() > 3 {
        return Err(subcommand_syntax(args));
    }
    if args.len() == 3 && !args.is(2, "sync") && !args.is(2, "async") {
        return Err(CmdError::new(
            "ERR FUNCTION FLUSH only supports SYNC|ASYNC option",
        ));
    }
    // A new Lua state next time, as Redis starts its engines again.
    ctx.shared.scripting.functions.clear();
    ctx.out.ok();
    Ok(())
}

/// Redis's addReplySubcommandSyntaxError.
fn subcommand_syntax(args: &Args) -> CmdError {
    let mut m = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
    m.extend_from_slice(c_str(args.get(1)));
    m.extend_from_slice(b"'. Try FUNCTION HELP.");
    CmdError::from_bytes(m)
}

fn function_list(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let mut with_code = false;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 2;
    while i < args.len() {
        let a = args.get(i);
        if !with_code && a.eq_ignore_ascii_case(b"withcode") {
            with_code = true;
        } else if pattern.is_none() && a.eq_ignore_ascii_case(b"libraryname") {
            if i >= args.len() - 1 {
                return Err(CmdError::new("ERR library name argument was not given"));
            }
            i += 1;
            pattern = Some(args.get(i));
        } else {
            let mut m = b"ERR Unknown argument ".to_vec();
            m.extend_from_slice(c_str(a));
            return Err(CmdError::from_bytes(m));
        }
        i += 1;
    }
    let guard = ctx.shared.scripting.functions.state.lock();
    let libs: Vec<(&Vec<u8>, &Library)> = match guard.as_ref() {
        Some(st) => st
            .libs
            .libraries
            .iter()
            .filter(|(name, _)| pattern.is_none_or(|p| crate::util::glob_match(p, name, true)))
            .collect(),
        None => Vec::new(),
    };
    let out = &mut *ctx.out;
    out.array(libs.len());
    for (name, lib) in libs {
        out.map(if with_code { 4 } else { 3 });
        out.bulk(b"library_name");
        out.bulk(name);
        out.bulk(b"engine");
        out.bulk(ENGINE_NAME.as_bytes());
        out.bulk(b"functions");
        out.array(lib.functions.len());
        for f in lib.functions.values() {
            out.map(3);
            out.bulk(b"name");
            out.bulk(&f.name);
            out.bulk(b"description");
            match &f.description {
                Some(d) => out.bulk(d),
                None => out.null(),
            }
            out.bulk(b"flags");
            let set: Vec<&str> = FLAG_NAMES
                .iter()
                .filter(|(bit, _)| f.flags & bit != 0)
                .map(|(_, n)| *n)
                .collect();
            out.set(set.len());
            for n in set {
                out.simple(n);
            }
        }
        if with_code {
            out.bulk(b"library_code");
            out.bulk(&lib.code);
        }
    }
    Ok(())
}

fn function_dump(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    let guard = ctx.shared.scripting.functions.state.lock();
    let mut payload = Vec::new();
    if let Some(st) = guard.as_ref() {
        for lib in st.libs.libraries.values() {
            payload.push(OPCODE_FUNCTION2);
            rdb::write_string(&mut payload, &lib.code);
        }
    }
    drop(guard);
    rdb::seal(&mut payload, RDB_VERSION);
    ctx.out.bulk(&payload);
    Ok(())
}

/// Reads one library of a RESTORE payload: its code, rebuilt from the pre-GA fields for
/// that opcode.
fn read_library(r: &mut rdb::Reader, opcode: u8) -> Result<Vec<u8>, &'static str> {
    if opcode == OPCODE_FUNCTION2 {
        return r.string().ok_or("Failed loading library payload");
    }
    let name = r.string().ok_or("Failed loading library name")?;
    let engine = r.string().ok_or("Failed loading engine name")?;
    let has_desc = r
        .length()
        .ok_or("Failed loading library description indicator")?;
    if has_desc != 0 {
        r.string().ok_or("Failed loading library description")?;
    }
    let blob = r.string().ok_or("Failed loading library blob")?;
    Ok([b"#!".as_slice(), &engine, b" name=", &name, b"\n", &blob].concat())
}

fn function_restore(ctx: &mut Ctx, args: &Args) -> CmdResult {
    if args.len() > 4 {
        return Err(subcommand_syntax(args));
    }
    #[derive(PartialEq)]
    enum Policy {
        Flush,
        Append,
        Replace,
    }
    let policy = if args.len() == 4 {
        if args.is(3, "append") {
            Policy::Append
        } else if args.is(3, "replace") {
            Policy::Replace
        } else if args.is(3, "flush") {
            Policy::Flush
        } else {
            return Err(CmdError::new(
                "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
            ));
        }
    } else {
        Policy::Append
    };
    let data = args.get(2);
    if !rdb::verify(data, RDB_VERSION) {
        return Err(CmdError::new(
            "ERR DUMP payload version or checksum are wrong",
        ));
    }
    let scripting = &ctx.shared.scripting;
    let fns = &scripting.functions;
    let mut guard = fns.state.lock();
    let st = state(&mut guard, &scripting.run)?;
    let mut fresh = LibSet::default();
    let mut r = rdb::Reader::new(data);
    let mut failure: Option<Vec<u8>> = None;
    while data.len() - r.pos() > 10 {
        let Some(opcode) = r.byte() else {
            failure = Some(b"can not read data type".to_vec());
            break;
        };
        if opcode != OPCODE_FUNCTION2 && opcode != OPCODE_FUNCTION_PRE_GA {
            failure = Some(b"given type is not a function".to_vec());
            break;
        }
        let code = match read_library(&mut r, opcode) {
            Ok(c) => c,
            Err(m) => {
                failure = Some(m.as_bytes().to_vec());
                break;
            }
        };
        if let Err(m) = create_library(st, &mut fresh, &code, false, None) {
            failure = Some(m);
            break;
        }
    }
    if failure.is_none() {
        if policy == Policy::Flush {
            st.libs = fresh;
        } else if let Err(m) = join(&mut st.libs, fresh, policy == Policy::Replace) {
            failure = Some(m);
        }
    }
    fns.publish(st);
    match failure {
        Some(m) => Err(CmdError::from_bytes(err_msg(&[b"ERR ", &m]))),
        None => {
            ctx.out.ok();
            Ok(())
        }
    }
}

fn function_stats(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    let scripting = &ctx.shared.scripting;
    let run = &scripting.run;
    let running = run.running.load(Ordering::Acquire);
    if running && run.eval.load(Ordering::Relaxed) {
        return Err(CmdError::new(BUSY_EVAL));
    }
    let fns = &scripting.functions;
    let out = &mut *ctx.out;
    out.map(2);
    out.bulk(b"running_script");
    if running {
        let command = fns.command.lock().clone();
        out.map(3);
        out.bulk(b"name");
        out.bulk(run.funcname().as_bytes());
        out.bulk(b"command");
        out.array(command.len());
        for a in &command {
            out.bulk(a);
        }
        out.bulk(b"duration_ms");
        out.int(run.elapsed_ms().unwrap_or(0) as i64);
    } else {
        out.null();
    }
    out.bulk(b"engines");
    out.map(1);
    out.bulk(ENGINE_NAME.as_bytes());
    out.map(2);
    out.bulk(b"libraries_count");
    out.int(fns.libraries.load(Ordering::Relaxed) as i64);
    out.bulk(b"functions_count");
    out.int(fns.registered.load(Ordering::Relaxed) as i64);
    Ok(())
}

fn function_kill(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    ctx.shared.scripting.kill(false)?;
    ctx.out.ok();
    Ok(())
}

fn function_help(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    help_reply(
        ctx,
        "FUNCTION",
        &[
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
        ],
    );
    Ok(())
}

fn fcall(ctx: &mut Ctx, args: &Args) -> CmdResult {
    fcall_generic(ctx, args, false)
}

fn fcall_ro(ctx: &mut Ctx, args: &Args) -> CmdResult {
    fcall_generic(ctx, args, true)
}

/// FCALL's numkeys, with the messages of Redis's fcallCommandGeneric.
fn fcall_numkeys(args: &Args) -> Result<usize, CmdError> {
    let Some(n) = crate::util::parse_i64(args.get(2)) else {
        return Err(CmdError::new("ERR Bad number of keys provided"));
    };
    if n > args.len() as i64 - 3 {
        return Err(CmdError::new(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    if n < 0 {
        return Err(CmdError::new("ERR Number of keys can't be negative"));
    }
    Ok(n as usize)
}

fn fcall_generic(ctx: &mut Ctx, args: &Args, ro: bool) -> CmdResult {
    let shared = ctx.shared;
    // Nothing else runs while the function does (scripting/mod.rs).
    let _gate = if ctx.session.in_exec {
        None
    } else {
        Some(super::write_gate(shared)?)
    };
    let oom = script_oom(ctx);
    let scripting = &shared.scripting;
    let fns = &scripting.functions;
    let mut guard = fns.state.lock();
    let found = guard
        .as_ref()
        .and_then(|st| st.libs.functions.get(&args.get(1).to_ascii_lowercase()))
        .cloned();
    let Some(f) = found else {
        return Err(CmdError::new("ERR Function not found"));
    };
    let no_writes = f.flags & NO_WRITES != 0;
    let allow_oom = f.flags & ALLOW_OOM != 0;
    // Redis gives FCALL the flags of the function it names before running it: one that
    // may write without allow-oom is refused over maxmemory like any command that may
    // grow memory, before its arguments are looked at.
    let denyoom = oom && !allow_oom && !no_writes;
    if denyoom && !ctx.session.in_exec {
        return Err(CmdError::new(err::OOM));
    }
    let n = fcall_numkeys(args)?;
    // The checks of Redis's scriptPrepareForRun, in its order.
    if !no_writes && ro {
        return Err(CmdError::new(
            "ERR Can not execute a script with write flag using *_ro command.",
        ));
    }
    if denyoom {
        return Err(CmdError::new(
            "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'",
        ));
    }
    let Some(st) = guard.as_mut() else {
        return Err(CmdError::new("ERR Function not found"));
    };
    let keys: Vec<&[u8]> = (3..3 + n).map(|i| args.get(i)).collect();
    let argv: Vec<&[u8]> = (3 + n..args.len()).map(|i| args.get(i)).collect();
    let mode = RunMode {
        read_only: ro || no_writes,
        oom,
        allow_oom,
    };
    *fns.command.lock() = args.to_vec();
    let run = scripting.run.clone();
    run.begin(&String::from_utf8_lossy(&f.name), false, threshold_ms(ctx));
    let outcome = st
        .engine
        .run(ctx, &run, &f.callback, &keys, &argv, true, mode);
    run.end();
    fns.command.lock().clear();
    let result = finish(ctx, args, &st.engine, &run, outcome);
    fns.vm_memory
        .store(st.engine.used_memory() as u64, Ordering::Relaxed);
    result
}

/// The parts of Redis's RDB format a function payload uses: lengths, strings (plain,
/// integer-encoded, LZF-compressed), the version and CRC64 trailer of DUMP payloads.
pub mod rdb {
    /// CRC-64/Jones as Redis's crc64.c computes it (reflected, polynomial
    /// 0xad93d23594c935a9, no final xor).
    pub fn crc64(mut crc: u64, data: &[u8]) -> u64 {
        for &b in data {
            crc = CRC_TABLE[((crc ^ b as u64) & 0xff) as usize] ^ (crc >> 8);
        }
        crc
    }

    const CRC_TABLE: [u64; 256] = {
        // The reflected form of 0xad93d23594c935a9.
        const POLY: u64 = 0x95ac_9329_ac4b_c9b5;
        let mut t = [0u64; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u64;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
                k += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    };

    /// Appends the DUMP trailer: RDB version (2 bytes) and the CRC64 of everything
    /// before it, both little-endian.
    pub fn seal(payload: &mut Vec<u8>, version: u16) {
        payload.extend_from_slice(&version.to_le_bytes());
        let crc = crc64(0, payload);
        payload.extend_from_slice(&crc.to_le_bytes());
    }

    /// Redis's verifyDumpPayload: a version this server can read and a matching CRC.
    pub fn verify(payload: &[u8], version: u16) -> bool {
        if payload.len() < 10 {
            return false;
        }
        let footer = &payload[payload.len() - 10..];
        let ver = u16::from_le_bytes([footer[0], footer[1]]);
        if ver > version {
            return false;
        }
        let mut crc = [0u8; 8];
        crc.copy_from_slice(&footer[2..]);
        crc64(0, &payload[..payload.len() - 8]) == u64::from_le_bytes(crc)
    }

    pub fn write_len(out: &mut Vec<u8>, n: u64) {
        if n < 1 << 6 {
            out.push(n as u8);
        } else if n < 1 << 14 {
            out.push(0x40 | (n >> 8) as u8);
            out.push(n as u8);
        } else if n <= u32::MAX as u64 {
            out.push(0x80);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0x81);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }

    /// Writes a string as Redis's rdbSaveRawString does with rdbcompression on: LZF
    /// when it saves at least 4 bytes of a string over 20, else as it is. (Redis first
    /// tries an integer encoding for strings of up to 11 bytes that are canonical
    /// integers; library code starts with "#!", so it never applies here.)
    pub fn write_string(out: &mut Vec<u8>, s: &[u8]) {
        if s.len() > 20 {
            if let Some(c) = lzf_compress(s, s.len() - 4) {
                out.push(0xc3);
                write_len(out, c.len() as u64);
                write_len(out, s.len() as u64);
                out.extend_from_slice(&c);
                return;
            }
        }
        write_len(out, s.len() as u64);
        out.extend_from_slice(s);
    }

    /// Reads RDB values from a payload, never past its end (the trailer included, as
    /// Redis's buffer reader).
    pub struct Reader<'a> {
        data: &'a [u8],
        pos: usize,
    }

    impl<'a> Reader<'a> {
        pub fn new(data: &'a [u8]) -> Self {
            Reader { data, pos: 0 }
        }

        pub fn pos(&self) -> usize {
            self.pos
        }

        pub fn byte(&mut self) -> Option<u8> {
            let b = *self.data.get(self.pos)?;
            self.pos += 1;
            Some(b)
        }

        fn take(&mut self, n: u64) -> Option<&'a [u8]> {
            let n = usize::try_from(n).ok()?;
            let end = self.pos.checked_add(n)?;
            let s = self.data.get(self.pos..end)?;
            self.pos = end;
            Some(s)
        }

        /// A length and whether it is an encoding tag rather than a length.
        fn len_enc(&mut self) -> Option<(u64, bool)> {
            let b = self.byte()?;
            Some(match b >> 6 {
                0 => ((b & 0x3f) as u64, false),
                1 => ((((b & 0x3f) as u64) << 8) | self.byte()? as u64, false),
                3 => ((b & 0x3f) as u64, true),
                _ => match b {
                    0x80 => {
                        let s = self.take(4)?;
                        (u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as u64, false)
                    }
                    0x81 => {
                        let mut a = [0u8; 8];
                        a.copy_from_slice(self.take(8)?);
                        (u64::from_be_bytes(a), false)
                    }
                    _ => return None,
                },
            })
        }

        pub fn length(&mut self) -> Option<u64> {
            match self.len_enc()? {
                (n, false) => Some(n),
                _ => None,
            }
        }

        pub fn string(&mut self) -> Option<Vec<u8>> {
            let (n, encoded) = self.len_enc()?;
            if !encoded {
                return self.take(n).map(|s| s.to_vec());
            }
            match n {
                0 => Some((self.byte()? as i8).to_string().into_bytes()),
                1 => {
                    let s = self.take(2)?;
                    Some(i16::from_le_bytes([s[0], s[1]]).to_string().into_bytes())
                }
                2 => {
                    let s = self.take(4)?;
                    Some(
                        i32::from_le_bytes([s[0], s[1], s[2], s[3]])
                            .to_string()
                            .into_bytes(),
                    )
                }
                3 => {
                    let clen = self.length()?;
                    let len = self.length()?;
                    let c = self.take(clen)?;
                    lzf_decompress(c, len)
                }
                _ => None,
            }
        }
    }

    const HLOG: u32 = 16;
    const HSIZE: usize = 1 << HLOG;
    const MAX_LIT: usize = 1 << 5;
    const MAX_OFF: usize = 1 << 13;
    const MAX_REF: usize = (1 << 8) + (1 << 3);

    /// The hash slot of the 3 bytes in `h` (liblzf's "very fast" IDX).
    fn idx(h: u32) -> usize {
        ((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1)
    }

    /// LZF compression as Redis's lzf_c.c (HLOG 16, VERY_FAST) produces it, byte for
    /// byte, so a DUMP here equals redis-server's. None when the result would not fit in
    /// `out_len` bytes (Redis then stores the string as it is). Redis leaves its hash
    /// table uninitialised; a stale slot can only matter if it happens to point inside
    /// the current input at a position this run did not hash itself, so an empty table
    /// gives Redis's output (checked against redis-server on thousands of inputs).
    /// Appends one literal byte to the run being built; a full run (MAX_LIT) gets its
    /// length byte and a new run starts, as liblzf does.
    fn literal(out: &mut [u8], op: &mut usize, lit: &mut usize, byte: u8) {
        *lit += 1;
        out[*op] = byte;
        *op += 1;
        if *lit == MAX_LIT {
            out[*op - *lit - 1] = (*lit - 1) as u8;
            *lit = 0;
            *op += 1;
        }
    }

    pub fn lzf_compress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
        let in_len = input.len();
        if in_len == 0 || out_len == 0 {
            return None;
        }
        // Positions; 0 means none (position 0 is never a back reference in liblzf).
        let mut htab = vec![0usize; HSIZE];
        let mut out = vec![0u8; out_len + 2];
        let mut op = 1; // the first literal run's length byte is at 0
        let mut lit = 0usize;
        let mut ip = 0usize;
        let frst = |p: usize| ((input[p] as u32) << 8) | input[p + 1] as u32;
        let next = |v: u32, p: usize| (v << 8) | input[p + 2] as u32;
        let mut hval = if in_len >= 2 { frst(0) } else { 0 };
        while ip + 2 < in_len {
            hval = next(hval, ip);
            let slot = idx(hval);
            let r = htab[slot];
            htab[slot] = ip;
            let matched = r > 0
                && r < ip
                && ip - r - 1 < MAX_OFF
                && ip + 4 < in_len
                && input[r..r + 3] == input[ip..ip + 3];
            if matched {
                let off = ip - r - 1;
                let mut len = 2usize;
                let maxlen = (in_len - ip - len).min(MAX_REF);
                // Close the literal run (or drop its unused length byte).
                out[op - lit - 1] = (lit as u8).wrapping_sub(1);
                if lit == 0 {
                    op -= 1;
                }
                if op + 3 + 1 >= out_len {
                    return None;
                }
                // liblzf compares 16 bytes unchecked first when more than 16 may
                // match; keep its exact stopping points.
                let mut done = false;
                if maxlen > 16 {
                    for _ in 0..16 {
                        len += 1;
                        if input[r + len] != input[ip + len] {
                            done = true;
                            break;
                        }
                    }
                }
                if !done {
                    loop {
                        len += 1;
                        if !(len < maxlen && input[r + len] == input[ip + len]) {
                            break;
                        }
                    }
                }
                len -= 2;
                ip += 1;
                if len < 7 {
                    out[op] = ((off >> 8) + (len << 5)) as u8;
                    op += 1;
                } else {
                    out[op] = ((off >> 8) + (7 << 5)) as u8;
                    out[op + 1] = (len - 7) as u8;
                    op += 2;
                }
                out[op] = off as u8;
                op += 1;
                lit = 0;
                op += 1;
                ip += len + 1;
                if ip + 2 >= in_len {
                    break;
                }
                ip -= 2;
                hval = frst(ip);
                hval = next(hval, ip);
                htab[idx(hval)] = ip;
                ip += 1;
                hval = next(hval, ip);
                htab[idx(hval)] = ip;
                ip += 1;
            } else {
                if op >= out_len {
                    return None;
                }
                literal(&mut out, &mut op, &mut lit, input[ip]);
                ip += 1;
            }
        }
        if op + 3 > out_len {
            return None;
        }
        while ip < in_len {
            literal(&mut out, &mut op, &mut lit, input[ip]);
            ip += 1;
        }
        out[op - lit - 1] = (lit as u8).wrapping_sub(1);
        if lit == 0 {
            op -= 1;
        }
        out.truncate(op);
        Some(out)
    }

    /// LZF decompression with liblzf's input checks; None unless the data decodes to
    /// exactly `len` bytes. The output grows with what the input really holds, so a
    /// forged length allocates nothing.
    pub fn lzf_decompress(input: &[u8], len: u64) -> Option<Vec<u8>> {
        let len = usize::try_from(len).ok()?;
        let mut out: Vec<u8> = Vec::new();
        let mut ip = 0;
        while ip < input.len() {
            let ctrl = input[ip] as usize;
            ip += 1;
            if ctrl < 32 {
                let n = ctrl + 1;
                if out.len() + n > len {
                    return None;
                }
                out.extend_from_slice(input.get(ip..ip + n)?);
                ip += n;
            } else {
                let mut n = ctrl >> 5;
                let mut back = (ctrl & 0x1f) << 8;
                if n == 7 {
                    n += *input.get(ip)? as usize;
                    ip += 1;
                }
                back += *input.get(ip)? as usize;
                ip += 1;
                if out.len() + n + 2 > len {
                    return None;
                }
                let start = out.len().checked_sub(back + 1)?;
                for k in 0..n + 2 {
                    let b = out[start + k];
                    out.push(b);
                }
            }
        }
        (out.len() == len).then_some(out)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn crc64_check_value() {
            assert_eq!(crc64(0, b"123456789"), 0xe9c6d914c4b8d9ca);
        }

        #[test]
        fn lzf_round_trip() {
            let samples: Vec<Vec<u8>> = vec![
                b"#!lua name=mylib\nredis.register_function('f1', function(keys, args) return keys[1] end)\nredis.register_function('f2', function(keys, args) return keys[2] end)\n".to_vec(),
                vec![b'a'; 1000],
                (0..5000u32).map(|i| (i * 7 % 251) as u8).collect(),
                b"abcabcabcabcabcabcabcabcabcabcabcabcabcabcabc".to_vec(),
            ];
            for s in samples {
                let c = lzf_compress(&s, s.len() - 4)
                    .unwrap_or_else(|| panic!("not compressed: {}", s.len()));
                assert_eq!(lzf_decompress(&c, s.len() as u64).as_deref(), Some(&s[..]));
            }
            let noise: Vec<u8> = (0..64u32)
                .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
                .collect();
            assert!(lzf_compress(&noise, noise.len() - 4).is_none());
        }

        #[test]
        fn lzf_rejects_bad_input() {
            assert!(lzf_decompress(b"\x05abc", 6).is_none());
            assert!(lzf_decompress(b"\x00a\x20\x05", 4).is_none());
            assert!(lzf_decompress(b"\x02abc", 2).is_none());
        }

        #[test]
        fn lengths_round_trip() {
            for n in [
                0u64,
                63,
                64,
                16383,
                16384,
                u32::MAX as u64,
                u32::MAX as u64 + 1,
            ] {
                let mut v = Vec::new();
                write_len(&mut v, n);
                assert_eq!(Reader::new(&v).length(), Some(n));
            }
        }
    }
}
