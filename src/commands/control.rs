//! Client controls that change how the server treats a connection as a whole: CLIENT
//! REPLY, CLIENT NO-EVICT, CLIENT PAUSE / UNPAUSE, and MONITOR.
//!
//! PAUSE is a server-wide state the connection loop consults before each command (one
//! relaxed load while nothing is paused); REPLY is applied by the connection loop, which
//! drops the replies a client asked not to get; MONITOR clients receive every command
//! other clients run, formatted as Redis's replicationFeedMonitors does.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};

use super::clients::ClientInfo;
use super::{cmd, flags, Args, CmdError, CmdResult, CommandSpec, CommandTable, Ctx, Shared};

pub fn register(t: &mut CommandTable) {
    t.add(cmd(
        "monitor",
        1,
        "admin noscript loading stale",
        &[],
        (0, 0, 0),
        monitor,
    ));
}

/// The CLIENT subcommands of this module, for the CLIENT container in clients.rs.
pub fn client_subcommands() -> Vec<CommandSpec> {
    const CAT: &[&str] = &["connection"];
    const ADMIN: &str = "admin noscript loading stale";
    vec![
        cmd(
            "client|reply",
            3,
            "noscript loading stale",
            CAT,
            (0, 0, 0),
            client_reply,
        ),
        cmd("client|no-evict", 3, ADMIN, CAT, (0, 0, 0), client_no_evict),
        cmd("client|pause", -3, ADMIN, CAT, (0, 0, 0), client_pause),
        cmd("client|unpause", 2, ADMIN, CAT, (0, 0, 0), client_unpause),
    ]
}

fn client_reply(ctx: &mut Ctx, args: &Args) -> CmdResult {
    if args.is(2, "on") {
        ctx.session.reply_off = false;
        ctx.out.ok();
    } else if args.is(2, "off") {
        ctx.session.reply_off = true;
    } else if args.is(2, "skip") {
        if !ctx.session.reply_off {
            ctx.session.reply_skip_next = true;
        }
    } else {
        return Err(CmdError::new(super::err::SYNTAX));
    }
    Ok(())
}

fn client_no_evict(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let on = if args.is(2, "on") {
        true
    } else if args.is(2, "off") {
        false
    } else {
        return Err(CmdError::new(super::err::SYNTAX));
    };
    // No client eviction (maxmemory-clients) exists here to exempt the client from;
    // the flag is kept so CLIENT LIST shows it as Redis does.
    ctx.session.info.no_evict.store(on, Ordering::Relaxed);
    ctx.out.ok();
    Ok(())
}

/// CLIENT PAUSE state: until when, and whether only writes wait.
#[derive(Default)]
pub struct Pause {
    /// Fast check for the connection loop.
    active: AtomicBool,
    state: Mutex<Option<(Instant, bool)>>,
    /// Wakes paused connections on UNPAUSE.
    pub notify: tokio::sync::Notify,
}

impl Pause {
    #[inline]
    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    /// How long a client must still wait before running this command (None: run it).
    /// WRITE pauses hold back writes and commands that may publish or replicate.
    pub fn wait_for(&self, spec: &CommandSpec) -> Option<Duration> {
        if !self.active.load(Ordering::Relaxed) {
            return None;
        }
        let mut state = self.state.lock();
        let (until, all) = (*state)?;
        let now = Instant::now();
        if now >= until {
            *state = None;
            self.active.store(false, Ordering::Relaxed);
            return None;
        }
        let held = all || spec.has(flags::WRITE) || matches!(spec.name, "publish" | "spublish");
        held.then(|| until - now)
    }
}

fn client_pause(ctx: &mut Ctx, args: &Args) -> CmdResult {
    if args.len() > 4 {
        return Err(CmdError::new(
            "ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP.",
        ));
    }
    let ms = crate::util::parse_i64(args.get(2)).ok_or(CmdError::new(
        "ERR timeout is not an integer or out of range",
    ))?;
    if ms < 0 {
        return Err(CmdError::new("ERR timeout is negative"));
    }
    let all = if args.len() == 4 {
        if args.is(3, "write") {
            false
        } else if args.is(3, "all") {
            true
        } else {
            return Err(CmdError::new("ERR CLIENT PAUSE mode must be WRITE or ALL"));
        }
    } else {
        true
    };
    let until = Instant::now() + Duration::from_millis(ms as u64);
    let pause = &ctx.shared.control.pause;
    let mut state = pause.state.lock();
    // As Redis: a longer pause or a stricter mode wins over the one in force.
    let merged = match *state {
        Some((u, a)) => (u.max(until), a || all),
        None => (until, all),
    };
    *state = Some(merged);
    pause.active.store(true, Ordering::Relaxed);
    drop(state);
    ctx.out.ok();
    Ok(())
}

fn client_unpause(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    let pause = &ctx.shared.control.pause;
    *pause.state.lock() = None;
    pause.active.store(false, Ordering::Relaxed);
    pause.notify.notify_waiters();
    ctx.out.ok();
    Ok(())
}

/// Clients in MONITOR mode.
#[derive(Default)]
pub struct Monitors {
    count: AtomicUsize,
    list: RwLock<Vec<Arc<ClientInfo>>>,
}

/// Everything of this module kept in `Shared`.
#[derive(Default)]
pub struct Control {
    pub pause: Pause,
    pub monitors: Monitors,
}

fn monitor(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    // Redis ignores MONITOR from a client already monitoring.
    if ctx.session.info.monitor.swap(true, Ordering::Relaxed) {
        return Ok(());
    }
    let m = &ctx.shared.control.monitors;
    m.list.write().push(ctx.session.info.clone());
    m.count.fetch_add(1, Ordering::Relaxed);
    ctx.out.ok();
    Ok(())
}

/// Drops a disconnecting client from the monitors.
pub fn forget(shared: &Shared, info: &ClientInfo) {
    if !info.monitor.load(Ordering::Relaxed) {
        return;
    }
    let m = &shared.control.monitors;
    let mut list = m.list.write();
    let before = list.len();
    list.retain(|c| c.id != info.id);
    m.count.fetch_sub(before - list.len(), Ordering::Relaxed);
}

/// Sends a command that just ran to every monitor, as Redis's call() does after the
/// command (admin and skip_monitor commands are not shown). One relaxed load when
/// nobody monitors.
#[inline]
pub fn feed(ctx: &Ctx, spec: &CommandSpec, args: &Args) {
    if spec.has(flags::ADMIN) || spec.has(flags::SKIP_MONITOR) {
        return;
    }
    feed_line(ctx, args);
}

/// Shows a command to MONITOR clients now: EVAL and FCALL (flagged skip_monitor) are shown
/// as they start, before the commands they run, as Redis shows them.
pub fn feed_line(ctx: &Ctx, args: &Args) {
    let m = &ctx.shared.control.monitors;
    if m.count.load(Ordering::Relaxed) == 0 {
        return;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let info = &ctx.session.info;
    // A script's commands come from Redis's "lua" client.
    let who = if ctx.session.in_script {
        "lua"
    } else {
        info.addr.as_str()
    };
    let mut line = format!(
        "+{}.{:06} [{} {}]",
        now.as_secs(),
        now.subsec_micros(),
        ctx.session.db,
        who
    )
    .into_bytes();
    for i in 0..args.len() {
        line.push(b' ');
        repr(&mut line, args.get(i));
    }
    line.extend_from_slice(b"\r\n");
    let limits = &ctx.shared.clients.obuf_limits;
    for c in m.list.read().iter() {
        c.deliver_raw(&line, limits);
    }
}

/// Redis's sdscatrepr: a quoted string with C escapes.
fn repr(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &b in s {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(format!("\\x{:02x}", b).as_bytes()),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    #[test]
    fn repr_escapes_like_sdscatrepr() {
        let mut v = Vec::new();
        super::repr(&mut v, b"a\"b\\c\n\r\t\x07\x08\x00\xff ");
        assert_eq!(v, b"\"a\\\"b\\\\c\\n\\r\\t\\a\\b\\x00\\xff \"".to_vec());
    }
}
