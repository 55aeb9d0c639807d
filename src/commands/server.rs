//! Server commands: INFO, CONFIG, COMMAND, DBSIZE, FLUSHALL, TIME, LASTSAVE, SHUTDOWN,
//! DEBUG SLEEP and SLOWLOG, with Redis 7.0's replies and error texts.
//!
//! INFO's text is parsed by many client libraries and tools, so its `# Section` headers and
//! `field:value\r\n` lines use Redis's names; figures this server does not have (RDB, AOF,
//! replication) show the values a Redis with those features off shows.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::clients::help_reply;
use super::{cmd, container, err, Args, CmdError, CmdResult, CommandSpec, CommandTable, Ctx};

pub fn register(t: &mut CommandTable) {
    const ADMIN: &str = "admin noscript loading stale";
    t.add(
        cmd("config", -2, "", &[], (0, 0, 0), container).with_subcommands(vec![
            cmd("config|get", -3, ADMIN, &[], (0, 0, 0), config_get),
            cmd("config|set", -4, ADMIN, &[], (0, 0, 0), config_set),
            cmd(
                "config|resetstat",
                2,
                ADMIN,
                &[],
                (0, 0, 0),
                config_resetstat,
            ),
            cmd("config|rewrite", 2, ADMIN, &[], (0, 0, 0), config_rewrite),
            cmd(
                "config|help",
                2,
                "loading stale",
                &[],
                (0, 0, 0),
                config_help,
            ),
        ]),
    );
    t.add(cmd(
        "info",
        -1,
        "loading stale",
        &["dangerous"],
        (0, 0, 0),
        info,
    ));
    const CMD: &str = "loading stale";
    const CONN: &[&str] = &["connection"];
    t.add(
        cmd("command", -1, CMD, CONN, (0, 0, 0), command).with_subcommands(vec![
            cmd("command|count", 2, CMD, CONN, (0, 0, 0), command_count),
            cmd("command|info", -2, CMD, CONN, (0, 0, 0), command_info),
            cmd("command|docs", -2, CMD, CONN, (0, 0, 0), command_docs),
            cmd("command|getkeys", -4, CMD, CONN, (0, 0, 0), command_getkeys),
            cmd("command|list", -2, CMD, CONN, (0, 0, 0), command_list),
            cmd("command|help", 2, CMD, CONN, (0, 0, 0), command_help),
        ]),
    );
    t.add(cmd("time", 1, "loading stale fast", &[], (0, 0, 0), time));
    t.add(cmd(
        "lastsave",
        1,
        "loading stale fast",
        &["admin", "dangerous"],
        (0, 0, 0),
        lastsave,
    ));
    t.add(cmd(
        "shutdown",
        -1,
        "admin noscript loading stale no_multi allow_busy",
        &[],
        (0, 0, 0),
        shutdown,
    ));
    t.add(cmd("debug", -2, ADMIN, &[], (0, 0, 0), debug));
    t.add(
        cmd("slowlog", -2, "", &[], (0, 0, 0), container).with_subcommands(vec![
            cmd(
                "slowlog|get",
                -2,
                "admin loading stale",
                &[],
                (0, 0, 0),
                slowlog_get,
            ),
            cmd(
                "slowlog|len",
                2,
                "admin loading stale",
                &[],
                (0, 0, 0),
                slowlog_len,
            ),
            cmd(
                "slowlog|reset",
                2,
                "admin loading stale",
                &[],
                (0, 0, 0),
                slowlog_reset,
            ),
            cmd(
                "slowlog|help",
                2,
                "loading stale",
                &[],
                (0, 0, 0),
                slowlog_help,
            ),
        ]),
    );
}

// ---------------------------------------------------------------------------------------
// CONFIG

fn has_glob(p: &[u8]) -> bool {
    p.iter().any(|b| matches!(b, b'*' | b'?' | b'['))
}

fn config_get(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let cfg = ctx.shared.config.read().clone();
    let mut found: Vec<(String, &'static str, String)> = Vec::new();
    for pat in args.iter_from(2) {
        if !has_glob(pat) {
            // An exact name is answered under the spelling the client used, as Redis does.
            let name = String::from_utf8_lossy(pat);
            if let Some(p) = crate::config::param(&name) {
                if !found.iter().any(|(_, n, _)| *n == p.name) {
                    found.push((name.into_owned(), p.name, (p.get)(&cfg)));
                }
            }
            continue;
        }
        for p in crate::config::PARAMS {
            if crate::util::glob_match(pat, p.name.as_bytes(), true)
                && !found.iter().any(|(_, n, _)| *n == p.name)
            {
                found.push((p.name.to_string(), p.name, (p.get)(&cfg)));
            }
        }
    }
    ctx.out.map(found.len());
    for (shown, _, v) in found {
        ctx.out.bulk(shown.as_bytes());
        ctx.out.bulk(v.as_bytes());
    }
    Ok(())
}

/// CONFIG SET name value [name value ...]: all or nothing, with Redis 7.0's checks in its
/// order (unknown names first, then immutable and duplicate ones, then values).
fn config_set(ctx: &mut Ctx, args: &Args) -> CmdResult {
    if args.len() % 2 == 1 {
        return Err(CmdError::new(err::SYNTAX));
    }
    let pairs: Vec<(String, String)> = (2..args.len())
        .step_by(2)
        .map(|i| {
            (
                String::from_utf8_lossy(args.get(i)).into_owned(),
                String::from_utf8_lossy(args.get(i + 1)).into_owned(),
            )
        })
        .collect();
    let failed = |name: &str, why: &str| {
        CmdError::from(format!(
            "ERR CONFIG SET failed (possibly related to argument '{}') - {}",
            name, why
        ))
    };
    let mut params = Vec::with_capacity(pairs.len());
    let mut unknown = None;
    let mut problem = None;
    for (name, _) in &pairs {
        let Some(p) = crate::config::param(name) else {
            unknown.get_or_insert(name.clone());
            continue;
        };
        if problem.is_none() {
            if p.immutable || p.set.is_none() {
                problem = Some((name.clone(), "can't set immutable config"));
            } else if params
                .iter()
                .any(|q: &&crate::config::Param| q.name == p.name)
            {
                problem = Some((name.clone(), "duplicate parameter"));
            }
        }
        params.push(p);
    }
    if let Some(name) = unknown {
        return Err(CmdError::from(format!(
            "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
            name
        )));
    }
    if let Some((name, why)) = problem {
        return Err(failed(&name, why));
    }
    // Apply to a copy and publish it only if every value is accepted.
    let mut cfg = ctx.shared.config.write();
    let mut next = cfg.clone();
    for (p, (name, value)) in params.iter().zip(&pairs) {
        if let Some(set) = p.set {
            set(&mut next, value).map_err(|why| failed(name, &why))?;
        }
    }
    if next.loglevel != cfg.loglevel {
        if let Some(hook) = crate::config::LOG_LEVEL_HOOK.get() {
            hook(&next.loglevel);
        }
    }
    *cfg = next;
    ctx.shared
        .slowlog_threshold
        .store(cfg.slowlog_log_slower_than, Ordering::Relaxed);
    ctx.shared.maxmemory.store(cfg.maxmemory, Ordering::Relaxed);
    ctx.shared.limits.refresh(&cfg);
    ctx.shared
        .keyspace
        .notify
        .store(cfg.notify_keyspace_events, Ordering::Relaxed);
    super::keyspace::refresh_deletion_log(ctx.shared);
    ctx.shared.clients.obuf_limits.refresh(&cfg);
    let evict_cfg = cfg.clone();
    drop(cfg);
    ctx.shared.store.configure_eviction(&evict_cfg);
    ctx.out.ok();
    Ok(())
}

fn config_resetstat(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    ctx.shared.reset_stats();
    ctx.out.ok();
    Ok(())
}

fn config_rewrite(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    if ctx.shared.config.read().config_file.is_none() {
        return Err(CmdError::new(
            "ERR The server is running without a config file",
        ));
    }
    Err(CmdError::new(
        "ERR CONFIG REWRITE is not supported by this server: edit the config file instead",
    ))
}

fn config_help(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    help_reply(
        ctx,
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// INFO

/// Sections left out of a bare INFO (and `INFO default`), as in Redis.
const NOT_DEFAULT: &[&str] = &["commandstats"];
/// Every section, in the order INFO prints them.
const ALL_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "cluster",
    "keyspace",
];

fn info(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let mut wanted: Vec<&str> = Vec::new();
    let defaults = ALL_SECTIONS.iter().filter(|s| !NOT_DEFAULT.contains(s));
    if args.len() == 1 {
        wanted.extend(defaults.clone());
    }
    for a in args.iter_from(1) {
        let a = a.to_ascii_lowercase();
        match a.as_slice() {
            b"default" => wanted.extend(defaults.clone()),
            b"all" | b"everything" => wanted.extend_from_slice(ALL_SECTIONS),
            other => {
                if let Some(s) = ALL_SECTIONS.iter().find(|s| s.as_bytes() == other) {
                    wanted.push(s);
                }
            }
        }
    }
    let text = info_text(ctx, &wanted);
    ctx.out.verbatim(text.as_bytes());
    Ok(())
}

/// The INFO text for the given sections (printed in Redis's order, each once).
pub fn info_text(ctx: &Ctx, wanted: &[&str]) -> String {
    let mut out = String::new();
    let mut first = true;
    for section in ALL_SECTIONS.iter().filter(|s| wanted.contains(s)) {
        if !first {
            out.push_str("\r\n");
        }
        first = false;
        write_section(ctx, section, &mut out);
    }
    out
}

macro_rules! field {
    ($out:expr, $name:expr, $($val:tt)*) => {{
        let _ = write!($out, "{}:", $name);
        let _ = write!($out, $($val)*);
        $out.push_str("\r\n");
    }};
}

fn write_section(ctx: &Ctx, section: &str, o: &mut String) {
    let shared = ctx.shared;
    match section {
        "server" => {
            o.push_str("# Server\r\n");
            let cfg = shared.config.read();
            let uptime = shared.started.elapsed().as_secs();
            field!(o, "redis_version", "{}", crate::REDIS_VERSION);
            field!(o, "rcs_version", "{}", env!("CARGO_PKG_VERSION"));
            field!(o, "redis_git_sha1", "00000000");
            field!(o, "redis_git_dirty", "0");
            field!(o, "redis_mode", "standalone");
            field!(o, "os", "{}", os_name());
            field!(o, "arch_bits", "{}", usize::BITS);
            field!(o, "multiplexing_api", "epoll");
            field!(o, "process_id", "{}", std::process::id());
            field!(o, "process_supervised", "no");
            field!(o, "run_id", "{}", shared.run_id);
            field!(o, "tcp_port", "{}", shared.port.load(Ordering::Relaxed));
            field!(o, "server_time_usec", "{}", now_usec());
            field!(o, "uptime_in_seconds", "{}", uptime);
            field!(o, "uptime_in_days", "{}", uptime / 86400);
            field!(o, "hz", "{}", cfg.hz);
            field!(o, "configured_hz", "{}", cfg.hz);
            field!(o, "lru_clock", "{}", shared.store.lru_clock());
            field!(o, "executable", "{}", shared.executable);
            field!(
                o,
                "config_file",
                "{}",
                cfg.config_file.as_deref().unwrap_or("")
            );
            field!(o, "rcs_worker_threads", "{}", worker_threads(&cfg));
            field!(o, "rcs_shards_per_db", "{}", shared.store.shards_per_db());
        }
        "clients" => {
            o.push_str("# Clients\r\n");
            let clients = shared.clients.all();
            let max_in = clients
                .iter()
                .map(|c| c.query_buf.load(Ordering::Relaxed))
                .max()
                .unwrap_or(0);
            field!(o, "connected_clients", "{}", clients.len());
            field!(o, "cluster_connections", "0");
            field!(o, "maxclients", "{}", shared.config.read().maxclients);
            field!(o, "client_recent_max_input_buffer", "{}", max_in);
            field!(o, "client_recent_max_output_buffer", "0");
            field!(
                o,
                "blocked_clients",
                "{}",
                ctx.shared.blocking.blocked_clients()
            );
            field!(o, "tracking_clients", "{}", shared.tracking.clients());
            field!(o, "clients_in_timeout_table", "0");
        }
        "memory" => {
            o.push_str("# Memory\r\n");
            // The same breakdown as MEMORY STATS; there is no replication and no AOF here,
            // so their figures are 0.
            let ov = super::memory::Overhead::collect(ctx);
            let m = ov.mem;
            let (maxmemory, policy) = {
                let c = shared.config.read();
                (c.maxmemory, c.maxmemory_policy.clone())
            };
            let human = crate::memory::bytes_to_human;
            let total = crate::memory::total_system_memory();
            let ratio = |a: u64, b: u64| a as f64 / b.max(1) as f64;
            field!(o, "used_memory", "{}", m.used);
            field!(o, "used_memory_human", "{}", human(m.used));
            field!(o, "used_memory_rss", "{}", m.rss);
            field!(o, "used_memory_rss_human", "{}", human(m.rss));
            field!(o, "used_memory_peak", "{}", m.peak);
            field!(o, "used_memory_peak_human", "{}", human(m.peak));
            field!(o, "used_memory_peak_perc", "{:.2}%", ov.peak_perc());
            field!(o, "used_memory_overhead", "{}", ov.total);
            field!(o, "used_memory_startup", "{}", ov.startup);
            field!(o, "used_memory_dataset", "{}", ov.dataset);
            field!(o, "used_memory_dataset_perc", "{:.2}%", ov.dataset_perc());
            field!(o, "allocator_allocated", "{}", m.allocated);
            field!(o, "allocator_active", "{}", m.active);
            field!(o, "allocator_resident", "{}", m.resident);
            field!(o, "total_system_memory", "{}", total);
            field!(o, "total_system_memory_human", "{}", human(total));
            // The EVAL Lua state (0 before the first script, as nothing is allocated).
            let lua = shared.scripting.eval_memory.load(Ordering::Relaxed);
            for name in ["used_memory_lua", "used_memory_vm_eval"] {
                field!(o, name, "{}", lua);
            }
            field!(o, "used_memory_lua_human", "{}", human(lua));
            let cached = shared.scripting.cached_scripts.load(Ordering::Relaxed);
            field!(o, "used_memory_scripts_eval", "0");
            field!(o, "number_of_cached_scripts", "{}", cached);
            let fns = &shared.scripting.functions;
            field!(o, "number_of_functions", "{}", fns.number_of_functions());
            field!(o, "number_of_libraries", "{}", fns.number_of_libraries());
            field!(o, "used_memory_vm_functions", "{}", fns.vm_memory());
            let vm_total = lua + fns.vm_memory();
            field!(o, "used_memory_vm_total", "{}", vm_total);
            field!(o, "used_memory_vm_total_human", "{}", human(vm_total));
            field!(o, "used_memory_functions", "0");
            field!(o, "used_memory_scripts", "0");
            field!(o, "used_memory_scripts_human", "0B");
            field!(o, "maxmemory", "{}", maxmemory);
            field!(o, "maxmemory_human", "{}", human(maxmemory));
            field!(o, "maxmemory_policy", "{}", policy);
            field!(o, "allocator_frag_ratio", "{:.2}", ratio(m.active, m.used));
            field!(
                o,
                "allocator_frag_bytes",
                "{}",
                m.active as i64 - m.used as i64
            );
            field!(
                o,
                "allocator_rss_ratio",
                "{:.2}",
                ratio(m.resident, m.active)
            );
            field!(
                o,
                "allocator_rss_bytes",
                "{}",
                m.resident as i64 - m.active as i64
            );
            field!(o, "rss_overhead_ratio", "{:.2}", ratio(m.rss, m.resident));
            field!(
                o,
                "rss_overhead_bytes",
                "{}",
                m.rss as i64 - m.resident as i64
            );
            field!(
                o,
                "mem_fragmentation_ratio",
                "{:.2}",
                m.fragmentation_ratio()
            );
            field!(
                o,
                "mem_fragmentation_bytes",
                "{}",
                m.rss as i64 - m.used as i64
            );
            for name in [
                "mem_not_counted_for_evict",
                "mem_replication_backlog",
                "mem_total_replication_buffers",
                "mem_clients_slaves",
            ] {
                field!(o, name, "0");
            }
            field!(o, "mem_clients_normal", "{}", ov.clients);
            field!(o, "mem_cluster_links", "0");
            field!(o, "mem_aof_buffer", "0");
            field!(o, "mem_allocator", "{}", crate::memory::allocator_name());
            field!(o, "active_defrag_running", "0");
            field!(o, "lazyfree_pending_objects", "0");
            field!(o, "lazyfreed_objects", "0");
        }
        "persistence" => {
            o.push_str("# Persistence\r\n");
            field!(o, "loading", "0");
            field!(o, "async_loading", "0");
            field!(o, "rdb_bgsave_in_progress", "0");
            field!(o, "rdb_last_save_time", "{}", shared.lastsave());
            field!(o, "rdb_last_bgsave_status", "ok");
            field!(o, "rdb_last_bgsave_time_sec", "-1");
            field!(o, "rdb_current_bgsave_time_sec", "-1");
            field!(o, "rdb_saves", "0");
            field!(o, "aof_enabled", "0");
            field!(o, "aof_rewrite_in_progress", "0");
            field!(o, "aof_rewrite_scheduled", "0");
            field!(o, "aof_last_rewrite_time_sec", "-1");
            field!(o, "aof_current_rewrite_time_sec", "-1");
            field!(o, "aof_last_bgrewrite_status", "ok");
            field!(o, "aof_rewrites", "0");
            field!(o, "aof_last_write_status", "ok");
        }
        "stats" => {
            o.push_str("# Stats\r\n");
            let s = &shared.stats;
            let store = shared.store.stats();
            let ld = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
            let inst = &shared.instantaneous;
            field!(
                o,
                "total_connections_received",
                "{}",
                ld(&s.total_connections_received)
            );
            field!(
                o,
                "total_commands_processed",
                "{}",
                ld(&s.total_commands_processed)
            );
            field!(o, "instantaneous_ops_per_sec", "{}", ld(&inst.ops_per_sec));
            field!(o, "total_net_input_bytes", "{}", ld(&s.net_input_bytes));
            field!(o, "total_net_output_bytes", "{}", ld(&s.net_output_bytes));
            field!(
                o,
                "instantaneous_input_kbps",
                "{:.2}",
                ld(&inst.input_kbps_x100) as f64 / 100.0
            );
            field!(
                o,
                "instantaneous_output_kbps",
                "{:.2}",
                ld(&inst.output_kbps_x100) as f64 / 100.0
            );
            field!(o, "rejected_connections", "{}", ld(&s.rejected_connections));
            field!(o, "sync_full", "0");
            field!(o, "sync_partial_ok", "0");
            field!(o, "sync_partial_err", "0");
            field!(o, "expired_keys", "{}", store.expired_keys);
            field!(o, "evicted_keys", "{}", store.evicted_keys);
            field!(o, "keyspace_hits", "{}", store.keyspace_hits);
            field!(o, "keyspace_misses", "{}", store.keyspace_misses);
            field!(o, "pubsub_channels", "{}", shared.pubsub.channel_count());
            field!(o, "pubsub_patterns", "{}", shared.pubsub.pattern_count());
            field!(
                o,
                "pubsubshard_channels",
                "{}",
                shared.pubsub.shard_channel_count()
            );
            field!(o, "latest_fork_usec", "0");
            field!(o, "total_forks", "0");
            let (keys, items, prefixes) = shared.tracking.totals();
            field!(o, "tracking_total_keys", "{}", keys);
            field!(o, "tracking_total_items", "{}", items);
            field!(o, "tracking_total_prefixes", "{}", prefixes);
            field!(o, "unexpected_error_replies", "0");
            field!(o, "total_error_replies", "{}", ld(&s.total_error_replies));
            field!(
                o,
                "total_reads_processed",
                "{}",
                ld(&s.total_reads_processed)
            );
            field!(
                o,
                "total_writes_processed",
                "{}",
                ld(&s.total_writes_processed)
            );
        }
        "replication" => {
            o.push_str("# Replication\r\n");
            field!(o, "role", "master");
            field!(o, "connected_slaves", "0");
            field!(o, "master_failover_state", "no-failover");
            field!(o, "master_replid", "{}", shared.run_id);
            field!(o, "master_replid2", "{}", "0".repeat(40));
            field!(o, "master_repl_offset", "0");
            field!(o, "second_repl_offset", "-1");
            field!(o, "repl_backlog_active", "0");
            field!(o, "repl_backlog_first_byte_offset", "0");
            field!(o, "repl_backlog_histlen", "0");
        }
        "cpu" => {
            o.push_str("# CPU\r\n");
            let c = cpu_times();
            field!(o, "used_cpu_sys", "{:.6}", c[1]);
            field!(o, "used_cpu_user", "{:.6}", c[0]);
            field!(o, "used_cpu_sys_children", "{:.6}", c[3]);
            field!(o, "used_cpu_user_children", "{:.6}", c[2]);
        }
        "modules" => o.push_str("# Modules\r\n"),
        "commandstats" => {
            o.push_str("# Commandstats\r\n");
            let mut specs: Vec<&CommandSpec> = Vec::new();
            for spec in shared.commands.iter() {
                specs.push(spec);
                specs.extend(spec.subcommands.iter());
            }
            specs.sort_by_key(|s| s.name);
            for s in specs {
                let calls = s.stats.calls.load(Ordering::Relaxed);
                let usec = s.stats.usec.load(Ordering::Relaxed);
                let rejected = s.stats.rejected.load(Ordering::Relaxed);
                let failed = s.stats.failed.load(Ordering::Relaxed);
                if calls == 0 && rejected == 0 && failed == 0 {
                    continue;
                }
                let per = if calls > 0 {
                    usec as f64 / calls as f64
                } else {
                    0.0
                };
                field!(
                    o,
                    format!("cmdstat_{}", s.name),
                    "calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}",
                    calls,
                    usec,
                    per,
                    rejected,
                    failed
                );
            }
        }
        "errorstats" => {
            o.push_str("# Errorstats\r\n");
            for (code, n) in shared.error_stats.lock().iter() {
                field!(o, format!("errorstat_{}", code), "count={}", n);
            }
        }
        "cluster" => {
            o.push_str("# Cluster\r\n");
            field!(o, "cluster_enabled", "0");
        }
        "keyspace" => {
            o.push_str("# Keyspace\r\n");
            for db in 0..shared.store.dbs.len() {
                let (keys, expires) = shared.store.db_counts(db);
                if keys > 0 {
                    field!(
                        o,
                        format!("db{}", db),
                        "keys={},expires={},avg_ttl=0",
                        keys,
                        expires
                    );
                }
            }
        }
        _ => {}
    }
}

fn worker_threads(cfg: &crate::config::Config) -> usize {
    if cfg.threads > 0 {
        cfg.threads
    } else {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    }
}

fn now_usec() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0)
}

/// `Linux 6.1.0 x86_64`, as Redis prints uname's sysname, release and machine.
fn os_name() -> String {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    format!(
        "{} {} {}",
        read("/proc/sys/kernel/ostype"),
        read("/proc/sys/kernel/osrelease"),
        std::env::consts::ARCH
    )
}

/// [user, sys, children user, children sys] CPU seconds from /proc/self/stat.
fn cpu_times() -> [f64; 4] {
    // Linux reports these in clock ticks, USER_HZ, which is 100 on every mainstream ABI.
    const TICKS: f64 = 100.0;
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return [0.0; 4];
    };
    // The command name (field 2) may contain spaces; fields after it follow its ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After ')': state is index 0, so utime (field 14) is index 11.
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / TICKS;
    [get(11), get(12), get(13), get(14)]
}

// ---------------------------------------------------------------------------------------
// COMMAND

/// ACL categories in the order Redis lists them.
const CATEGORY_ORDER: &[&str] = &[
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// A command's ACL categories: the declared ones plus those Redis implies from its flags.
fn categories(spec: &CommandSpec) -> Vec<&'static str> {
    use super::flags;
    let mut cats: Vec<&'static str> = spec.categories.to_vec();
    if spec.has(flags::WRITE) {
        cats.push("write");
    }
    if spec.has(flags::READONLY) && !cats.contains(&"scripting") {
        cats.push("read");
    }
    if spec.has(flags::ADMIN) {
        cats.push("admin");
        cats.push("dangerous");
    }
    if spec.has(flags::PUBSUB) {
        cats.push("pubsub");
    }
    if spec.has(flags::FAST) {
        cats.push("fast");
    }
    if spec.has(flags::BLOCKING) {
        cats.push("blocking");
    }
    if !cats.contains(&"fast") {
        cats.push("slow");
    }
    let mut ordered: Vec<&'static str> = CATEGORY_ORDER
        .iter()
        .copied()
        .filter(|c| cats.contains(c))
        .collect();
    // Categories unknown to the order table (a later family's own) go last.
    for c in cats {
        if !ordered.contains(&c) {
            ordered.push(c);
        }
    }
    ordered
}

fn write_command_info(ctx: &mut Ctx, spec: &CommandSpec) {
    let out = &mut *ctx.out;
    out.array(10);
    out.bulk(spec.name.as_bytes());
    out.int(spec.arity as i64);
    let flag_names: Vec<&str> = super::flags::NAMES
        .iter()
        .filter(|(f, _)| spec.has(*f))
        .map(|(_, n)| *n)
        .collect();
    out.set(flag_names.len());
    for f in flag_names {
        out.simple(f);
    }
    out.int(spec.first_key as i64);
    out.int(spec.last_key as i64);
    out.int(spec.step as i64);
    let cats = categories(spec);
    out.set(cats.len());
    for c in cats {
        out.simple(&format!("@{}", c));
    }
    // Tips: this table carries none.
    out.set(0);
    // One range key spec derived from (first, last, step), as Redis derives legacy ranges.
    if spec.first_key > 0 {
        let lastkey = if spec.last_key < 0 {
            spec.last_key
        } else {
            spec.last_key - spec.first_key
        };
        let (access, op) = if spec.has(super::flags::WRITE) {
            ("RW", "update")
        } else {
            ("RO", "access")
        };
        out.array(1);
        out.map(3);
        out.bulk(b"flags");
        out.set(2);
        out.simple(access);
        out.simple(op);
        out.bulk(b"begin_search");
        out.map(2);
        out.bulk(b"type");
        out.bulk(b"index");
        out.bulk(b"spec");
        out.map(1);
        out.bulk(b"index");
        out.int(spec.first_key as i64);
        out.bulk(b"find_keys");
        out.map(2);
        out.bulk(b"type");
        out.bulk(b"range");
        out.bulk(b"spec");
        out.map(3);
        out.bulk(b"lastkey");
        out.int(lastkey as i64);
        out.bulk(b"keystep");
        out.int(spec.step as i64);
        out.bulk(b"limit");
        out.int(0);
    } else {
        out.array(0);
    }
    let mut subs: Vec<&CommandSpec> = spec.subcommands.iter().collect();
    subs.sort_by_key(|s| s.name);
    ctx.out.array(subs.len());
    for s in subs {
        write_command_info(ctx, s);
    }
}

/// Finds a command or a `container|sub` subcommand by name, ignoring case.
fn lookup<'t>(table: &'t CommandTable, name: &[u8]) -> Option<&'t CommandSpec> {
    let name = name.to_ascii_lowercase();
    match name.iter().position(|&b| b == b'|') {
        None => table.get(&name),
        Some(i) => table
            .get(&name[..i])?
            .subcommands
            .iter()
            .find(|s| s.name.as_bytes() == name.as_slice()),
    }
}

fn sorted_commands(table: &CommandTable) -> Vec<&CommandSpec> {
    let mut v: Vec<&CommandSpec> = table.iter().collect();
    v.sort_by_key(|s| s.name);
    v
}

fn command(ctx: &mut Ctx, args: &Args) -> CmdResult {
    if args.len() > 1 {
        // Dispatch resolves known subcommands; anything else lands here.
        return super::container(ctx, args);
    }
    all_command_info(ctx)
}

fn command_count(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    ctx.out.int(ctx.shared.commands.len() as i64);
    Ok(())
}

fn command_info(ctx: &mut Ctx, args: &Args) -> CmdResult {
    if args.len() == 2 {
        return all_command_info(ctx);
    }
    let shared = ctx.shared;
    ctx.out.array(args.len() - 2);
    for name in args.iter_from(2) {
        match lookup(&shared.commands, name) {
            Some(spec) => write_command_info(ctx, spec),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

fn all_command_info(ctx: &mut Ctx) -> CmdResult {
    let shared = ctx.shared;
    let all = sorted_commands(&shared.commands);
    ctx.out.array(all.len());
    for spec in all {
        write_command_info(ctx, spec);
    }
    Ok(())
}

/// The documentation group a command belongs to, from its declared category.
fn doc_group(spec: &CommandSpec) -> &'static str {
    match spec.categories.first().copied() {
        Some("keyspace") => "generic",
        Some("sortedset") => "sorted-set",
        Some("transaction") => "transactions",
        Some(c) => c,
        None => "server",
    }
}

/// COMMAND DOCS: this table carries no summaries or argument docs, so each entry holds
/// only what is known (the group, and subcommands), which redis-cli accepts.
fn write_docs(ctx: &mut Ctx, spec: &CommandSpec) {
    let has_subs = !spec.subcommands.is_empty();
    ctx.out.map(if has_subs { 2 } else { 1 });
    ctx.out.bulk(b"group");
    ctx.out.bulk(doc_group(spec).as_bytes());
    if has_subs {
        ctx.out.bulk(b"subcommands");
        let mut subs: Vec<&CommandSpec> = spec.subcommands.iter().collect();
        subs.sort_by_key(|s| s.name);
        ctx.out.map(subs.len());
        for s in subs {
            ctx.out.bulk(s.name.as_bytes());
            write_docs(ctx, s);
        }
    }
}

fn command_docs(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let shared = ctx.shared;
    let specs: Vec<&CommandSpec> = if args.len() == 2 {
        sorted_commands(&shared.commands)
    } else {
        args.iter_from(2)
            .filter_map(|n| lookup(&shared.commands, n))
            .collect()
    };
    ctx.out.map(specs.len());
    for s in specs {
        ctx.out.bulk(s.name.as_bytes());
        write_docs(ctx, s);
    }
    Ok(())
}

fn command_getkeys(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let table = &ctx.shared.commands;
    let mut spec = table.get(args.get(2));
    if let Some(s) = spec {
        if !s.subcommands.is_empty() {
            spec = if args.len() > 3 {
                let sub = args.get(3);
                s.subcommands.iter().find(|c| {
                    c.name
                        .split('|')
                        .nth(1)
                        .is_some_and(|n| n.as_bytes().eq_ignore_ascii_case(sub))
                })
            } else {
                None
            };
        }
    }
    let Some(spec) = spec else {
        return Err(CmdError::new("ERR Invalid command specified"));
    };
    // Pub/sub shard channels have key specs (for cluster routing) but are not keys.
    if (spec.first_key <= 0 && spec.numkeys_at.is_none()) || spec.has(super::flags::PUBSUB) {
        return Err(CmdError::new("ERR The command has no key arguments"));
    }
    let argc = args.len() - 2;
    if !spec.arity_ok(argc) {
        return Err(CmdError::new(
            "ERR Invalid number of arguments specified for command",
        ));
    }
    // The request under examination, as its own argument list.
    let inner: Vec<Vec<u8>> = args.iter_from(2).map(|a| a.to_vec()).collect();
    let req = crate::protocol::Request::from_owned(inner);
    let inner = Args::new(&[], &req);
    let keys = spec.all_key_positions(&inner).unwrap_or_default();
    if keys.is_empty() {
        return Err(CmdError::new("ERR Invalid arguments specified for command"));
    }
    ctx.out.array(keys.len());
    for k in keys {
        ctx.out.bulk(inner.get(k));
    }
    Ok(())
}

fn command_list(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let shared = ctx.shared;
    let mut names: Vec<&'static str> = Vec::new();
    let filter: Option<(Vec<u8>, Vec<u8>)> = match args.len() {
        2 => None,
        5 if args.is(2, "filterby") => {
            Some((args.get(3).to_ascii_lowercase(), args.get(4).to_vec()))
        }
        _ => return Err(CmdError::new(err::SYNTAX)),
    };
    for spec in sorted_commands(&shared.commands) {
        for s in std::iter::once(spec).chain(spec.subcommands.iter()) {
            let keep = match &filter {
                None => true,
                Some((kind, value)) => match kind.as_slice() {
                    b"aclcat" => categories(s)
                        .iter()
                        .any(|c| c.as_bytes().eq_ignore_ascii_case(value)),
                    b"pattern" => crate::util::glob_match(value, s.name.as_bytes(), true),
                    // No modules are loaded.
                    b"module" => false,
                    _ => return Err(CmdError::new(err::SYNTAX)),
                },
            };
            if keep {
                names.push(s.name);
            }
        }
    }
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(n.as_bytes());
    }
    Ok(())
}

fn command_help(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    help_reply(
        ctx,
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
        ],
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// TIME, LASTSAVE, SHUTDOWN, DEBUG, SLOWLOG

fn time(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    let us = now_usec();
    ctx.out.array(2);
    ctx.out.bulk_int((us / 1_000_000) as i64);
    ctx.out.bulk_int((us % 1_000_000) as i64);
    Ok(())
}

fn lastsave(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    ctx.out.int(ctx.shared.lastsave() as i64);
    Ok(())
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]. There is nothing to save, so a plain
/// SHUTDOWN or NOSAVE stops the server at once; the client gets no reply, as in Redis.
fn shutdown(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let (mut save, mut nosave, mut abort) = (false, false, false);
    let mut other = false;
    for i in 1..args.len() {
        if args.is(i, "nosave") {
            nosave = true;
        } else if args.is(i, "save") {
            save = true;
        } else if args.is(i, "now") || args.is(i, "force") {
            other = true;
        } else if args.is(i, "abort") {
            abort = true;
        } else {
            return Err(CmdError::new(err::SYNTAX));
        }
    }
    if (save && nosave) || (abort && (save || nosave || other)) {
        return Err(CmdError::new(err::SYNTAX));
    }
    if abort {
        return Err(CmdError::new("ERR No shutdown in progress."));
    }
    if save {
        // Refusing is the honest answer: the caller asked for data to be persisted.
        tracing::warn!("SHUTDOWN SAVE refused: this server keeps no snapshots");
        return Err(CmdError::new("ERR Errors trying to SHUTDOWN. Check logs."));
    }
    tracing::info!(
        client = ctx.session.info.id,
        "SHUTDOWN requested by a client"
    );
    ctx.shared.request_shutdown();
    ctx.session.close_after_reply = true;
    Ok(())
}

fn debug(ctx: &mut Ctx, args: &Args) -> CmdResult {
    if args.is(1, "sleep") && args.len() == 3 {
        let secs = crate::util::parse_f64(args.get(2))
            .filter(|s| s.is_finite())
            .ok_or(CmdError::new(err::NOT_FLOAT))?;
        // Redis sleeps for (long long)(secs * 1e6) microseconds; negative means none.
        let usec = (secs * 1e6).clamp(0.0, u64::MAX as f64) as u64;
        ctx.session.sleep_after_reply = Some(Duration::from_micros(usec));
        ctx.out.ok();
        return Ok(());
    }
    if args.is(1, "panic") && args.len() == 2 {
        // Redis's DEBUG PANIC crashes the server. Here a panic in a handler costs only the
        // calling connection, which is what this subcommand lets tests prove.
        panic!("DEBUG PANIC requested by client {}", ctx.session.info.id);
    }
    if args.is(1, "help") && args.len() == 2 {
        help_reply(
            ctx,
            "DEBUG",
            &[
                "SLEEP <seconds>",
                "    Stop the server for <seconds>. Decimals allowed.",
                "PANIC",
                "    Panic in the command handler: the calling connection is closed, the",
                "    server and other clients carry on.",
            ],
        );
        return Ok(());
    }
    Err(CmdError::from(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
        String::from_utf8_lossy(args.get(1))
    )))
}

fn slowlog_get(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let count = if args.len() == 3 {
        let n = args.int(2).ok().filter(|&n| n >= -1).ok_or(CmdError::new(
            "ERR count should be greater than or equal to -1",
        ))?;
        if n == -1 {
            usize::MAX
        } else {
            n as usize
        }
    } else if args.len() == 2 {
        10
    } else {
        return Err(CmdError::from(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try SLOWLOG HELP.",
            String::from_utf8_lossy(args.get(1))
        )));
    };
    let entries: Vec<_> = ctx
        .shared
        .slowlog
        .lock()
        .entries
        .iter()
        .take(count)
        .cloned()
        .collect();
    let out = &mut *ctx.out;
    out.array(entries.len());
    for e in entries {
        out.array(6);
        out.int(e.id as i64);
        out.int(e.timestamp as i64);
        out.int(e.usec as i64);
        out.array(e.args.len());
        for a in &e.args {
            out.bulk(a);
        }
        out.bulk(e.addr.as_bytes());
        out.bulk(e.name.as_bytes());
    }
    Ok(())
}

fn slowlog_len(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    let n = ctx.shared.slowlog.lock().entries.len();
    ctx.out.int(n as i64);
    Ok(())
}

fn slowlog_reset(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    ctx.shared.slowlog.lock().entries.clear();
    ctx.out.ok();
    Ok(())
}

fn slowlog_help(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    help_reply(
        ctx,
        "SLOWLOG",
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    );
    Ok(())
}
