//! MEMORY USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE and HELP, with Redis 7.0's syntax,
//! errors and reply shapes, and the memory breakdown INFO's memory section shares.
//!
//! The figures are this server's own, not imitations of Redis's: MEMORY USAGE adds up the
//! jemalloc size classes of a key's allocations (its entry, holding key, deadline and a
//! short value, plus the value's heap parts); the overhead of MEMORY STATS is the shard
//! tables' bucket arrays, the expiry wheels and the clients' query buffers.

use std::sync::atomic::Ordering;

use super::clients::help_reply;
use super::{cmd, container, err, Args, CmdError, CmdResult, CommandTable, Ctx};
use crate::store::Value;

pub fn register(t: &mut CommandTable) {
    t.add(
        cmd("memory", -2, "", &[], (0, 0, 0), container).with_subcommands(vec![
            cmd("memory|doctor", 2, "", &[], (0, 0, 0), memory_doctor),
            cmd(
                "memory|help",
                2,
                "loading stale",
                &[],
                (0, 0, 0),
                memory_help,
            ),
            cmd(
                "memory|malloc-stats",
                2,
                "",
                &[],
                (0, 0, 0),
                memory_malloc_stats,
            ),
            cmd("memory|purge", 2, "", &[], (0, 0, 0), memory_purge),
            cmd("memory|stats", 2, "", &[], (0, 0, 0), memory_stats),
            cmd("memory|usage", -3, "readonly", &[], (2, 2, 1), memory_usage),
        ]),
    );
}

/// Redis's OBJ_COMPUTE_SIZE_DEF_SAMPLES.
const DEFAULT_SAMPLES: usize = 5;

fn memory_usage(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let mut samples = DEFAULT_SAMPLES;
    let mut i = 3;
    while i < args.len() {
        if args.is(i, "samples") && i + 1 < args.len() {
            let n = args.int(i + 1)?;
            if n < 0 {
                return Err(CmdError::new(err::SYNTAX));
            }
            samples = if n == 0 { usize::MAX } else { n as usize };
            i += 2;
        } else {
            return Err(CmdError::new(err::SYNTAX));
        }
    }
    let key = args.get(2);
    let store = ctx.store();
    let h = store.hash(key);
    let mut shard = store.lock(ctx.db(), h);
    // A plain lookup, as Redis's dictFind: no hit/miss counting, no access time; an
    // expired key is gone (deleted here), never measured.
    let usage = shard
        .get_mut(h, key, ctx.now())
        .map(|e| e.alloc_bytes() + value_heap_bytes(&e.value(), samples));
    drop(shard);
    match usage {
        Some(n) => ctx.out.int(n as i64),
        None => ctx.out.null(),
    }
    Ok(())
}

/// Bytes a value holds outside its entry, in jemalloc size classes; collections with an
/// allocation per element are estimated from `samples` of them, as Redis does.
pub fn value_heap_bytes(v: &Value, samples: usize) -> usize {
    use crate::memory::alloc_size;
    use std::mem::size_of_val;
    match v {
        Value::Int(_) | Value::OwnInt(_) | Value::Small { .. } => 0,
        Value::Str { data, .. } => alloc_size(data.alloc_request()),
        Value::Raw(data) => alloc_size(size_of_val(&**data)) + alloc_size(data.capacity()),
        // Each collection also has its box.
        Value::List(l) => alloc_size(size_of_val(&**l)) + l.heap_bytes(samples),
        Value::Hash(h) => alloc_size(size_of_val(&**h)) + h.heap_bytes(samples),
        Value::Set(s) => alloc_size(size_of_val(&**s)) + s.heap_bytes(),
        Value::ZSet(z) => alloc_size(size_of_val(&**z)) + z.heap_bytes(samples),
    }
}

/// Overhead of one database: what its keys cost beyond themselves.
pub struct DbOverhead {
    pub db: usize,
    pub keys: usize,
    /// The shard tables' bucket arrays.
    pub main: usize,
    /// The expiry wheels.
    pub expires: usize,
}

/// The breakdown of `used_memory` that INFO memory and MEMORY STATS report, as Redis's
/// `getMemoryOverheadData`.
pub struct Overhead {
    pub mem: crate::memory::MemoryStats,
    pub startup: u64,
    pub clients: u64,
    pub client_count: u64,
    /// Databases holding keys.
    pub dbs: Vec<DbOverhead>,
    pub total: u64,
    pub keys: u64,
    pub dataset: u64,
}

impl Overhead {
    pub fn collect(ctx: &Ctx) -> Overhead {
        let mem = crate::memory::sample();
        let startup = crate::memory::startup_allocated();
        let all = ctx.shared.clients.all();
        let clients: u64 = all
            .iter()
            .map(|c| {
                (c.query_buf.load(Ordering::Relaxed) + c.query_buf_free.load(Ordering::Relaxed))
                    as u64
            })
            .sum();
        let mut dbs = Vec::new();
        for (i, db) in ctx.store().dbs.iter().enumerate() {
            let mut o = DbOverhead {
                db: i,
                keys: 0,
                main: 0,
                expires: 0,
            };
            for s in db.shards.iter() {
                let s = s.lock();
                o.keys += s.len();
                o.main += s.table.allocation_size();
                o.expires += s.wheel_bytes();
            }
            if o.keys > 0 {
                dbs.push(o);
            }
        }
        let total =
            startup + clients + dbs.iter().map(|d| (d.main + d.expires) as u64).sum::<u64>();
        let keys = dbs.iter().map(|d| d.keys as u64).sum();
        Overhead {
            dataset: mem.used.saturating_sub(total),
            mem,
            startup,
            clients,
            client_count: all.len() as u64,
            dbs,
            total,
            keys,
        }
    }

    /// Allocated bytes beyond the startup figure (at least 1, as Redis keeps it).
    fn net(&self) -> u64 {
        self.mem.used.saturating_sub(self.startup).max(1)
    }

    /// Redis computes these percentages and ratios as C floats.
    pub fn dataset_perc(&self) -> f64 {
        (self.dataset as f32 * 100.0 / self.net() as f32) as f64
    }

    pub fn peak_perc(&self) -> f64 {
        (self.mem.used as f32 * 100.0 / self.mem.peak.max(1) as f32) as f64
    }

    pub fn bytes_per_key(&self) -> u64 {
        self.net().checked_div(self.keys).unwrap_or(0)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    (a as f32 / b.max(1) as f32) as f64
}

fn memory_stats(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    let o = Overhead::collect(ctx);
    let m = o.mem;
    let out = &mut *ctx.out;
    out.map(27 + o.dbs.len());
    let int = |out: &mut crate::protocol::ReplyBuf, name: &str, v: i64| {
        out.bulk(name.as_bytes());
        out.int(v);
    };
    let dbl = |out: &mut crate::protocol::ReplyBuf, name: &str, v: f64| {
        out.bulk(name.as_bytes());
        out.double(v);
    };
    int(out, "peak.allocated", m.peak as i64);
    int(out, "total.allocated", m.used as i64);
    int(out, "startup.allocated", o.startup as i64);
    int(out, "replication.backlog", 0);
    int(out, "clients.slaves", 0);
    int(out, "clients.normal", o.clients as i64);
    int(out, "cluster.links", 0);
    int(out, "aof.buffer", 0);
    int(out, "lua.caches", 0);
    int(out, "functions.caches", 0);
    for d in &o.dbs {
        out.bulk(format!("db.{}", d.db).as_bytes());
        out.map(3);
        int(out, "overhead.hashtable.main", d.main as i64);
        int(out, "overhead.hashtable.expires", d.expires as i64);
        int(out, "overhead.hashtable.slot-to-keys", 0);
    }
    int(out, "overhead.total", o.total as i64);
    int(out, "keys.count", o.keys as i64);
    int(out, "keys.bytes-per-key", o.bytes_per_key() as i64);
    int(out, "dataset.bytes", o.dataset as i64);
    dbl(out, "dataset.percentage", o.dataset_perc());
    dbl(out, "peak.percentage", o.peak_perc());
    int(out, "allocator.allocated", m.used as i64);
    int(out, "allocator.active", m.active as i64);
    int(out, "allocator.resident", m.resident as i64);
    dbl(
        out,
        "allocator-fragmentation.ratio",
        ratio(m.active, m.used),
    );
    int(
        out,
        "allocator-fragmentation.bytes",
        m.active as i64 - m.used as i64,
    );
    dbl(out, "allocator-rss.ratio", ratio(m.resident, m.active));
    int(
        out,
        "allocator-rss.bytes",
        m.resident as i64 - m.active as i64,
    );
    dbl(out, "rss-overhead.ratio", ratio(m.rss, m.resident));
    int(out, "rss-overhead.bytes", m.rss as i64 - m.resident as i64);
    dbl(out, "fragmentation", ratio(m.rss, m.used));
    int(out, "fragmentation.bytes", m.rss as i64 - m.used as i64);
    Ok(())
}

const DOCTOR_EMPTY: &str = "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n";
const DOCTOR_FINE: &str = "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n";

/// Redis's `getMemoryDoctorReport`, on this server's figures (no replicas or scripts).
pub fn doctor_report(o: &Overhead) -> String {
    let m = &o.mem;
    if m.used < 5 << 20 {
        return DOCTOR_EMPTY.to_string();
    }
    let over = |a: u64, b: u64, r: f64| ratio(a, b) > r && a.saturating_sub(b) > 10 << 20;
    let clients = o.client_count;
    let mut issues: Vec<String> = Vec::new();
    if ratio(m.peak, m.used) > 1.5 {
        issues.push(" * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n".into());
    }
    if over(m.rss, m.used, 1.4) {
        issues.push(format!(" * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"{}\".\n\n", crate::memory::allocator_name()));
    }
    if over(m.active, m.used, 1.1) {
        issues.push(" * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n".into());
    }
    if over(m.resident, m.active, 1.1) {
        issues.push(" * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n".into());
    }
    if over(m.rss, m.resident, 1.1) {
        issues.push(" * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to Lua scripts or Modules.\n\n".into());
    }
    if clients > 0 && o.clients / clients > 200 * 1024 {
        issues.push(" * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n".into());
    }
    if issues.is_empty() {
        return DOCTOR_FINE.to_string();
    }
    let mut s =
        String::from("Sam, I detected a few issues in this Redis instance memory implants:\n\n");
    for i in issues {
        s.push_str(&i);
    }
    s.push_str("I'm here to keep you safe, Sam. I want to help you.\n");
    s
}

fn memory_doctor(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    let o = Overhead::collect(ctx);
    ctx.out.verbatim(doctor_report(&o).as_bytes());
    Ok(())
}

fn memory_malloc_stats(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    ctx.out.verbatim(&crate::memory::malloc_stats());
    Ok(())
}

fn memory_purge(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    if !crate::memory::purge() {
        return Err(CmdError::new("ERR Error purging dirty pages"));
    }
    ctx.out.ok();
    Ok(())
}

fn memory_help(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    help_reply(
        ctx,
        "MEMORY",
        &[
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryStats;

    fn overhead(used: u64, peak: u64, active: u64, resident: u64, rss: u64) -> Overhead {
        Overhead {
            mem: MemoryStats {
                used,
                allocated: used,
                active,
                resident,
                rss,
                peak,
            },
            startup: 1 << 20,
            clients: 0,
            client_count: 1,
            dbs: Vec::new(),
            total: 1 << 20,
            keys: 0,
            dataset: used - (1 << 20),
        }
    }

    #[test]
    fn doctor_reports_what_redis_would() {
        const MB: u64 = 1 << 20;
        assert_eq!(
            doctor_report(&overhead(2 * MB, 2 * MB, 2 * MB, 3 * MB, 4 * MB)),
            DOCTOR_EMPTY
        );
        assert_eq!(
            doctor_report(&overhead(100 * MB, 120 * MB, 105 * MB, 108 * MB, 110 * MB)),
            DOCTOR_FINE
        );
        let r = doctor_report(&overhead(100 * MB, 400 * MB, 130 * MB, 140 * MB, 300 * MB));
        assert!(r.starts_with("Sam, I detected a few issues"), "{r}");
        for issue in [
            "Peak memory",
            "High total RSS",
            "High allocator fragmentation",
            "High process RSS overhead",
        ] {
            assert!(r.contains(issue), "{issue} missing: {r}");
        }
        assert!(!r.contains("High allocator RSS"), "{r}");
        assert!(r.ends_with("I'm here to keep you safe, Sam. I want to help you.\n"));
    }
}
