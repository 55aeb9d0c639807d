//! Lua scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT on an embedded Lua 5.1
//! (mlua, vendored), sandboxed and converted to and from RESP as Redis 7.0 does.
//!
//! Atomicity: a script holds the exec gate (commands/transactions.rs) for writing for its
//! whole run, so no other client's command runs in between, whatever keys the script
//! touches, declared in KEYS or not. DESIGN.md asks for the shards a script touches to be
//! locked in ascending order; a script's keys are not known before it runs (libraries
//! touch keys they did not declare), so it takes the gate every command holds for
//! reading instead. The cost: a script runs alone, as in Redis, while other commands run
//! in parallel with each other.
//!
//! A script that runs past `busy-reply-threshold` makes other clients' commands answer
//! BUSY instead of waiting (commands/mod.rs `read_gate`); SCRIPT KILL stops it if it has
//! not written, SHUTDOWN stops it in any case.

mod call;
pub mod convert;
pub mod engine;
pub mod function;
pub mod libs;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use hashbrown::HashMap;
use parking_lot::Mutex;

use crate::commands::{
    cmd, container, Args, CmdError, CmdResult, CommandSpec, CommandTable, Ctx, Handler, Lookup,
};
use engine::{Engine, Outcome, RunMode};

const CAT: &[&str] = &["scripting"];

pub const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
pub const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
const NOSCRIPT: &str = "NOSCRIPT No matching script. Please use EVAL.";

/// COMMAND flags of EVAL/EVALSHA/FCALL and of their read-only forms, as Redis 7.0 lists them.
pub const RUN_FLAGS: &str = "noscript stale skip_monitor no_mandatory_keys";
pub const RUN_RO_FLAGS: &str = "readonly noscript stale skip_monitor no_mandatory_keys";

/// A command that runs a script or function: `name numkeys-at-2 ...`, taking the exec gate
/// itself (EVAL, EVALSHA, FCALL and their read-only forms).
pub fn run_cmd(name: &'static str, flags: &'static str, handler: Handler) -> CommandSpec {
    cmd(name, -3, flags, CAT, (0, 0, 0), handler)
        .with_numkeys(2)
        .own_gate()
}

pub fn register(t: &mut CommandTable) {
    let (f, ro) = (RUN_FLAGS, RUN_RO_FLAGS);
    t.add(run_cmd("eval", f, eval));
    t.add(run_cmd("evalsha", f, evalsha));
    t.add(run_cmd("eval_ro", ro, eval_ro));
    t.add(run_cmd("evalsha_ro", ro, evalsha_ro));
    t.add(
        cmd("script", -2, "", &[], (0, 0, 0), container).with_subcommands(vec![
            cmd(
                "script|load",
                3,
                "noscript stale",
                CAT,
                (0, 0, 0),
                script_load,
            ),
            cmd("script|debug", 3, "noscript", CAT, (0, 0, 0), script_debug),
            cmd(
                "script|exists",
                -3,
                "noscript",
                CAT,
                (0, 0, 0),
                script_exists,
            ),
            cmd(
                "script|kill",
                2,
                "noscript allow_busy",
                CAT,
                (0, 0, 0),
                script_kill,
            ),
            cmd(
                "script|help",
                2,
                "loading stale",
                CAT,
                (0, 0, 0),
                script_help,
            ),
            cmd("script|flush", -2, "noscript", CAT, (0, 0, 0), script_flush),
        ]),
    );
    function::register(t);
}

/// SHA1 of a script body, as 40 lower-case hex digits.
pub fn sha1_hex(body: &[u8]) -> String {
    sha1_smol::Sha1::from(body).digest().to_string()
}

/// The state of the running script (if any), shared with the Lua hook, SCRIPT KILL and
/// other clients' BUSY checks.
pub struct RunInfo {
    running: AtomicBool,
    start: Mutex<Option<Instant>>,
    /// The script's name in error messages (its SHA1, or the function name).
    name: Mutex<String>,
    /// EVAL (SCRIPT KILL) rather than FCALL (FUNCTION KILL).
    eval: AtomicBool,
    killed: AtomicBool,
    /// SHUTDOWN: stop whatever the script did.
    aborted: AtomicBool,
    /// The script ran a write command (SCRIPT KILL refuses then).
    pub wrote: AtomicBool,
    /// redis.setresp(3) was called.
    pub resp3: AtomicBool,
    /// busy-reply-threshold in ms for this run (0: none).
    threshold_ms: AtomicU64,
    timed_out: AtomicBool,
    /// The run has handed its tokio worker's other duties to another thread.
    handed_off: AtomicBool,
    /// math.random's generator: one sequence for the server, as Redis has.
    pub rand: Mutex<convert::Lrand48>,
}

impl RunInfo {
    fn new() -> Self {
        RunInfo {
            running: AtomicBool::new(false),
            start: Mutex::new(None),
            name: Mutex::new(String::new()),
            eval: AtomicBool::new(true),
            killed: AtomicBool::new(false),
            aborted: AtomicBool::new(false),
            wrote: AtomicBool::new(false),
            resp3: AtomicBool::new(false),
            threshold_ms: AtomicU64::new(0),
            timed_out: AtomicBool::new(false),
            handed_off: AtomicBool::new(false),
            rand: Mutex::new(convert::Lrand48::INITIAL),
        }
    }

    pub fn begin(&self, name: &str, eval: bool, threshold_ms: u64) {
        {
            let mut n = self.name.lock();
            n.clear();
            n.push_str(name);
        }
        *self.start.lock() = Some(Instant::now());
        self.eval.store(eval, Ordering::Relaxed);
        self.killed.store(false, Ordering::Relaxed);
        self.wrote.store(false, Ordering::Relaxed);
        self.resp3.store(false, Ordering::Relaxed);
        self.timed_out.store(false, Ordering::Relaxed);
        self.handed_off.store(false, Ordering::Relaxed);
        self.threshold_ms.store(threshold_ms, Ordering::Relaxed);
        self.running.store(true, Ordering::Release);
    }

    pub fn end(&self) {
        self.running.store(false, Ordering::Release);
        *self.start.lock() = None;
        if self.timed_out.load(Ordering::Relaxed) {
            tracing::warn!("Slow script finished");
        }
    }

    pub fn funcname(&self) -> String {
        self.name.lock().clone()
    }

    pub fn should_stop(&self) -> bool {
        self.killed.load(Ordering::Relaxed) || self.aborted.load(Ordering::Relaxed)
    }

    /// SHUTDOWN stopped the script (no pcall may catch that).
    pub fn shutting_down(&self) -> bool {
        self.aborted.load(Ordering::Relaxed)
    }

    fn elapsed_ms(&self) -> Option<u64> {
        self.start.lock().map(|s| s.elapsed().as_millis() as u64)
    }

    /// Called by the Lua hook. A script that has run for a while hands its tokio worker's
    /// other duties (its queued tasks, polling the sockets) to another thread, so other
    /// clients are still read and answered (BUSY past the threshold) while it runs; past the
    /// threshold, log once, as Redis's scriptInterrupt.
    pub fn check_busy(&self) {
        if !self.handed_off.load(Ordering::Relaxed)
            && self.elapsed_ms().is_some_and(|ms| ms >= HAND_OFF_MS)
        {
            self.handed_off.store(true, Ordering::Relaxed);
            hand_off_worker();
        }
        let threshold = self.threshold_ms.load(Ordering::Relaxed);
        if threshold == 0 || self.timed_out.load(Ordering::Relaxed) {
            return;
        }
        if let Some(ms) = self.elapsed_ms() {
            if ms >= threshold {
                self.timed_out.store(true, Ordering::Relaxed);
                tracing::warn!(
                    "Slow script detected: still in execution after {} milliseconds. You can try killing the script using the {} command.",
                    ms,
                    if self.eval.load(Ordering::Relaxed) { "SCRIPT KILL" } else { "FUNCTION KILL" }
                );
            }
        }
    }
}

/// How long a script runs before its thread stops being a tokio worker (see
/// [`RunInfo::check_busy`]); short scripts never pay for the hand-off.
const HAND_OFF_MS: u64 = 10;

/// Moves the tokio worker running this thread to another thread for the rest of the
/// current task's poll: `block_in_place` hands the worker's core to a new thread, and we
/// wait (briefly, bounded) until a task spawned now has run, which proves another thread
/// is scheduling; the script then goes on here without a core. Without it a long script
/// stalls every socket: tokio's other workers sleep until the busy one, which last polled
/// the sockets, comes back (and with `--threads 1` there is no other worker at all).
fn hand_off_worker() {
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return;
    };
    if handle.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread {
        return;
    }
    tokio::task::block_in_place(|| {
        let ran = Arc::new(AtomicBool::new(false));
        let flag = ran.clone();
        handle.spawn(async move { flag.store(true, Ordering::Release) });
        let start = Instant::now();
        while !ran.load(Ordering::Acquire) && start.elapsed().as_millis() < 200 {
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
    });
}

/// Scripts cached by SHA1 and the Lua state they were compiled in.
struct EvalState {
    engine: Engine,
    scripts: HashMap<String, Cached>,
}

struct Cached {
    func: mlua::Function,
    #[allow(dead_code)]
    body: Vec<u8>,
    shebang: Option<Shebang>,
}

/// Flags of a `#!lua flags=...` first line.
#[derive(Clone, Copy, Default)]
pub struct Shebang {
    pub no_writes: bool,
    pub allow_oom: bool,
}

/// Everything scripting keeps for the server.
pub struct Scripting {
    pub run: Arc<RunInfo>,
    eval: Mutex<Option<EvalState>>,
    /// Memory of the EVAL Lua state and count of cached scripts, for INFO without the lock.
    pub eval_memory: AtomicU64,
    pub cached_scripts: AtomicU64,
    // --- FUNCTION (function.rs): libraries, their Lua state, INFO figures ---
    pub functions: function::Functions,
}

impl Default for Scripting {
    fn default() -> Self {
        Self::new()
    }
}

impl Scripting {
    pub fn new() -> Self {
        Scripting {
            run: Arc::new(RunInfo::new()),
            eval: Mutex::new(None),
            eval_memory: AtomicU64::new(0),
            cached_scripts: AtomicU64::new(0),
            functions: function::Functions::default(),
        }
    }

    /// The BUSY error other clients get while a script runs past the threshold.
    pub fn busy_error(&self) -> Option<&'static str> {
        let run = &self.run;
        if !run.running.load(Ordering::Acquire) {
            return None;
        }
        let threshold = run.threshold_ms.load(Ordering::Relaxed);
        if threshold == 0 || run.elapsed_ms()? < threshold {
            return None;
        }
        Some(if run.eval.load(Ordering::Relaxed) {
            BUSY_EVAL
        } else {
            BUSY_FUNCTION
        })
    }

    /// SHUTDOWN: a running script stops at its next check.
    pub fn abort(&self) {
        self.run.aborted.store(true, Ordering::Relaxed);
    }

    /// SCRIPT KILL / FUNCTION KILL.
    pub fn kill(&self, eval: bool) -> Result<(), CmdError> {
        let run = &self.run;
        if !run.running.load(Ordering::Acquire) {
            return Err(CmdError::new("NOTBUSY No scripts in execution right now."));
        }
        if run.wrote.load(Ordering::Relaxed) {
            return Err(CmdError::new(
                "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.",
            ));
        }
        let running_eval = run.eval.load(Ordering::Relaxed);
        if eval && !running_eval {
            return Err(CmdError::new(BUSY_FUNCTION));
        }
        if !eval && running_eval {
            return Err(CmdError::new(BUSY_EVAL));
        }
        run.killed.store(true, Ordering::Relaxed);
        Ok(())
    }
}

/// Parses a `#!` first line: its flags and the length to skip before compiling (the
/// newline stays, so line numbers are the user's). The line is split as Redis splits it
/// (sdssplitargs: quotes and escapes), the flags list on commas with empty items kept.
fn parse_shebang(body: &[u8]) -> Result<Option<(Shebang, usize)>, CmdError> {
    if !body.starts_with(b"#!") {
        return Ok(None);
    }
    let Some(len) = body.iter().position(|&b| b == b'\n') else {
        return Err(CmdError::new("ERR Invalid script shebang"));
    };
    let parts = match crate::protocol::decode::split_args(&body[..len]) {
        Some(p) if !p.is_empty() => p,
        _ => return Err(CmdError::new("ERR Invalid engine in script shebang")),
    };
    if parts[0] != b"#!lua" {
        let mut m = b"ERR Unexpected engine in script shebang: ".to_vec();
        m.extend_from_slice(&parts[0]);
        return Err(CmdError::from_bytes(m));
    }
    let mut sb = Shebang::default();
    for part in &parts[1..] {
        let Some(list) = part.strip_prefix(b"flags=") else {
            let mut m = b"ERR Unknown lua shebang option: ".to_vec();
            m.extend_from_slice(part);
            return Err(CmdError::from_bytes(m));
        };
        if list.is_empty() {
            continue;
        }
        for flag in list.split(|&b| b == b',') {
            match flag {
                b"no-writes" => sb.no_writes = true,
                b"allow-oom" => sb.allow_oom = true,
                b"allow-stale" | b"no-cluster" | b"allow-cross-slot-keys" => {}
                _ => {
                    let mut m = b"ERR Unexpected flag in script shebang: ".to_vec();
                    m.extend_from_slice(flag);
                    return Err(CmdError::from_bytes(m));
                }
            }
        }
    }
    Ok(Some((sb, len)))
}

/// The EVAL state, made on first use (and again after SCRIPT FLUSH).
fn state<'a>(
    s: &'a mut Option<EvalState>,
    run: &Arc<RunInfo>,
) -> Result<&'a mut EvalState, CmdError> {
    if s.is_none() {
        let engine = Engine::new(run.clone())
            .map_err(|e| CmdError::from(format!("ERR cannot start Lua: {e}")))?;
        *s = Some(EvalState {
            engine,
            scripts: HashMap::new(),
        });
    }
    s.as_mut()
        .ok_or_else(|| CmdError::new("ERR cannot start Lua"))
}

/// Compiles and caches a body under its SHA1 (EVAL, SCRIPT LOAD). Returns the SHA1.
fn load_script(st: &mut EvalState, body: &[u8]) -> Result<String, CmdError> {
    let sha = sha1_hex(body);
    if st.scripts.contains_key(&sha) {
        return Ok(sha);
    }
    let shebang = parse_shebang(body)?;
    let skip = shebang.map(|(_, n)| n).unwrap_or(0);
    let func = st
        .engine
        .compile(&body[skip..], "@user_script")
        .map_err(|m| CmdError::from(format!("ERR Error compiling script (new function): {m}")))?;
    st.scripts.insert(
        sha.clone(),
        Cached {
            func,
            body: body.to_vec(),
            shebang: shebang.map(|(s, _)| s),
        },
    );
    Ok(sha)
}

fn eval(ctx: &mut Ctx, args: &Args) -> CmdResult {
    eval_generic(ctx, args, false, false)
}

fn evalsha(ctx: &mut Ctx, args: &Args) -> CmdResult {
    eval_generic(ctx, args, true, false)
}

fn eval_ro(ctx: &mut Ctx, args: &Args) -> CmdResult {
    eval_generic(ctx, args, false, true)
}

fn evalsha_ro(ctx: &mut Ctx, args: &Args) -> CmdResult {
    eval_generic(ctx, args, true, true)
}

/// The `numkeys` argument of EVAL and FCALL, checked as Redis does.
pub fn numkeys(args: &Args) -> Result<usize, CmdError> {
    let n = args.int(2)?;
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

/// Whether memory is over maxmemory now (after eviction), as Redis's script_oom.
pub fn script_oom(ctx: &Ctx) -> bool {
    let max = ctx.shared.maxmemory.load(Ordering::Relaxed);
    max > 0 && ctx.shared.store.enforce_maxmemory(max) == crate::store::evict::Outcome::Fail
}

/// The exec gate for writing, for a script about to run. While another script holds it
/// past busy-reply-threshold this answers BUSY instead of waiting, as every other
/// command does (commands/mod.rs `read_gate`).
pub fn write_gate(
    shared: &crate::commands::Shared,
) -> Result<parking_lot::RwLockWriteGuard<'_, ()>, CmdError> {
    if let Some(g) = shared.exec_gate.try_write() {
        return Ok(g);
    }
    loop {
        if let Some(g) = shared
            .exec_gate
            .try_write_for(std::time::Duration::from_millis(2))
        {
            return Ok(g);
        }
        if let Some(busy) = shared.scripting.busy_error() {
            return Err(CmdError::new(busy));
        }
    }
}

/// The busy-reply-threshold now.
pub fn threshold_ms(ctx: &Ctx) -> u64 {
    ctx.shared.config.read().busy_reply_threshold
}

fn eval_generic(ctx: &mut Ctx, args: &Args, by_sha: bool, ro: bool) -> CmdResult {
    crate::commands::control::feed_line(ctx, args);
    let n = numkeys(args)?;
    let keys: Vec<&[u8]> = (3..3 + n).map(|i| args.get(i)).collect();
    let argv: Vec<&[u8]> = (3 + n..args.len()).map(|i| args.get(i)).collect();
    let shared = ctx.shared;
    let oom = script_oom(ctx);
    // Nothing else runs while the script does (see the module doc).
    let _gate = if ctx.session.in_exec {
        None
    } else {
        Some(write_gate(shared)?)
    };
    let scripting = &shared.scripting;
    let mut guard = scripting.eval.lock();
    let st = state(&mut guard, &scripting.run)?;
    let loaded;
    let mut hex = [0u8; 40];
    let sha: &str = if by_sha {
        let arg = args.get(1);
        if arg.len() != 40 {
            return Err(CmdError::new(NOSCRIPT));
        }
        for (d, s) in hex.iter_mut().zip(arg) {
            *d = s.to_ascii_lowercase();
        }
        std::str::from_utf8(&hex).map_err(|_| CmdError::new(NOSCRIPT))?
    } else {
        loaded = load_script(st, args.get(1))?;
        scripting
            .cached_scripts
            .store(st.scripts.len() as u64, Ordering::Relaxed);
        &loaded
    };
    let Some(script) = st.scripts.get(sha) else {
        return Err(CmdError::new(NOSCRIPT));
    };
    let mut mode = RunMode {
        read_only: ro,
        oom,
        allow_oom: false,
    };
    if let Some(sb) = script.shebang {
        // A script with flags is a command with flags: without allow-oom (which no-writes
        // implies) it may grow memory, and Redis refuses it before it runs as it refuses
        // any such command; its own check, with its own words, is left for EXEC.
        let allow_oom = sb.allow_oom || sb.no_writes;
        if oom && !allow_oom && !ctx.session.in_exec {
            return Err(CmdError::new(crate::commands::err::OOM));
        }
        if !sb.no_writes && ro {
            return Err(CmdError::new(
                "ERR Can not execute a script with write flag using *_ro command.",
            ));
        }
        if oom && !allow_oom {
            return Err(CmdError::new(
                "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'",
            ));
        }
        mode.read_only |= sb.no_writes;
        mode.allow_oom = allow_oom;
    }
    let func = &script.func;
    let run = &scripting.run;
    run.begin(sha, true, threshold_ms(ctx));
    let outcome = st.engine.run(ctx, run, func, &keys, &argv, false, mode);
    run.end();
    let result = finish(ctx, args, &st.engine, run, outcome);
    scripting
        .eval_memory
        .store(st.engine.used_memory() as u64, Ordering::Relaxed);
    result
}

/// Writes a run's outcome as the reply and keeps the statistics as Redis does. Every
/// error reply the script produced (its error, or error tables in its result) counts in
/// INFO errorstats, except one a command already counted (an error of `redis.call` the
/// script passed on). The script's command (`args`) counts as failed once for each such
/// passed-on error and once more if anything was counted here.
pub fn finish(
    ctx: &mut Ctx,
    args: &Args,
    engine: &Engine,
    run: &RunInfo,
    outcome: Outcome,
) -> CmdResult {
    let errors = match outcome {
        Outcome::Value(v) => engine.reply(ctx.out, run, &v),
        // Resumed once the run has ended (the script's state is cleared), so the client's
        // connection handles it as any command's panic.
        Outcome::Panicked(payload) => std::panic::resume_unwind(payload),
        Outcome::Error { text, counted } => {
            convert::write_error(ctx.out, &text);
            vec![convert::WrittenError { text, counted }]
        }
    };
    let mut failed = 0;
    let mut counted_here = false;
    for e in &errors {
        if e.counted {
            failed += 1;
        } else {
            ctx.shared.count_error(&convert::error_code(&e.text));
            counted_here = true;
        }
    }
    failed += counted_here as u64;
    if failed > 0 {
        if let Lookup::Found(spec) = ctx.shared.commands.lookup(args) {
            spec.stats.failed.fetch_add(failed, Ordering::Relaxed);
        }
        ctx.shared
            .stats
            .failed_calls
            .fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}

fn script_load(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let scripting = &ctx.shared.scripting;
    let mut guard = scripting.eval.lock();
    let st = state(&mut guard, &scripting.run)?;
    let sha = load_script(st, args.get(2))?;
    scripting
        .cached_scripts
        .store(st.scripts.len() as u64, Ordering::Relaxed);
    ctx.out.bulk(sha.as_bytes());
    Ok(())
}

fn script_exists(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let guard = ctx.shared.scripting.eval.lock();
    ctx.out.array(args.len() - 2);
    for a in args.iter_from(2) {
        let sha = a.to_ascii_lowercase();
        let found = guard
            .as_ref()
            .is_some_and(|st| std::str::from_utf8(&sha).is_ok_and(|s| st.scripts.contains_key(s)));
        ctx.out.int(found as i64);
    }
    Ok(())
}

fn script_flush(ctx: &mut Ctx, args: &Args) -> CmdResult {
    if args.len() > 3 || (args.len() == 3 && !args.is(2, "sync") && !args.is(2, "async")) {
        return Err(CmdError::new(
            "ERR SCRIPT FLUSH only support SYNC|ASYNC option",
        ));
    }
    let scripting = &ctx.shared.scripting;
    let old = scripting.eval.lock().take();
    drop(old);
    scripting.cached_scripts.store(0, Ordering::Relaxed);
    scripting.eval_memory.store(0, Ordering::Relaxed);
    ctx.out.ok();
    Ok(())
}

fn script_kill(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    ctx.shared.scripting.kill(true)?;
    ctx.out.ok();
    Ok(())
}

fn script_debug(ctx: &mut Ctx, args: &Args) -> CmdResult {
    if args.is(2, "no") {
        ctx.out.ok();
        return Ok(());
    }
    if args.is(2, "yes") || args.is(2, "sync") {
        return Err(CmdError::new(
            "ERR SCRIPT DEBUG is not supported by this server (no Lua debugger)",
        ));
    }
    Err(CmdError::new("ERR Use SCRIPT DEBUG YES/SYNC/NO"))
}

fn script_help(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    let lines: &[&str] = &[
        "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        "HELP",
        "    Prints this help.",
    ];
    ctx.out.array(lines.len());
    for l in lines {
        ctx.out.simple(l);
    }
    Ok(())
}
