//! Server configuration: defaults, the redis.conf-style file, and the parameter table that
//! `CONFIG GET`/`CONFIG SET` read and write.
//!
//! One table row per parameter gives its Redis name, how to print it and how to parse it,
//! so the config file, the command line and CONFIG SET all accept the same spellings
//! (`100mb`, `yes`/`no`, ...).

use std::fmt::Write as _;

/// Every setting of the server. Startup-only settings are read once; the rest may change
/// at run time through CONFIG SET.
#[derive(Clone, Debug)]
pub struct Config {
    pub port: u16,
    pub bind: Vec<String>,
    pub databases: usize,
    pub maxclients: usize,
    pub requirepass: Option<String>,
    pub loglevel: String,
    /// Worker threads of the runtime (0: one per core).
    pub threads: usize,
    /// Shards per database (a power of two).
    pub shards: usize,
    pub proto_max_bulk_len: i64,
    pub client_query_buffer_limit: usize,
    /// Idle seconds before a client is closed (0: never).
    pub timeout: u64,
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: usize,
    /// busy-reply-threshold (alias lua-time-limit), ms: past it other clients get BUSY.
    pub busy_reply_threshold: u64,
    /// Background task frequency (expiry ticks, client timeouts).
    pub hz: u32,
    pub tcp_keepalive: u64,
    /// Accepted for compatibility; this server keeps no snapshot.
    pub save: String,
    pub appendonly: bool,
    pub maxmemory: u64,
    pub maxmemory_policy: String,
    pub maxmemory_samples: u32,
    /// How long one command may spend evicting (0..100, Redis's scale; `evict.rs`).
    pub maxmemory_eviction_tenacity: u32,
    /// The LFU counter's logarithm base factor and its decay period in minutes.
    pub lfu_log_factor: u32,
    pub lfu_decay_time: u32,
    pub dir: String,
    pub dbfilename: String,
    /// Compact-encoding thresholds (Redis 7.0 names; the `ziplist` spellings are aliases).
    pub list_max_listpack_size: i64,
    pub list_compress_depth: i64,
    pub hash_max_listpack_entries: i64,
    pub hash_max_listpack_value: i64,
    pub set_max_intset_entries: i64,
    pub zset_max_listpack_entries: i64,
    pub zset_max_listpack_value: i64,
    pub hll_sparse_max_bytes: i64,
    /// `notify-keyspace-events` as class bits (commands/keyspace.rs).
    pub notify_keyspace_events: u32,
    /// `client-output-buffer-limit`, indexed by [`ObufClass`].
    pub client_output_buffer_limit: [ObufLimit; 3],
    /// The absolute path of the config file the server was started with, if any (INFO
    /// config_file; not a CONFIG parameter).
    pub config_file: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 6379,
            bind: vec!["127.0.0.1".into()],
            databases: 16,
            maxclients: 10000,
            requirepass: None,
            loglevel: "notice".into(),
            threads: 0,
            shards: 64,
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            timeout: 0,
            slowlog_log_slower_than: 10000,
            slowlog_max_len: 128,
            busy_reply_threshold: 5000,
            hz: 10,
            tcp_keepalive: 300,
            save: String::new(),
            appendonly: false,
            maxmemory: 0,
            maxmemory_policy: "noeviction".into(),
            maxmemory_samples: 5,
            maxmemory_eviction_tenacity: 10,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            dir: ".".into(),
            dbfilename: "dump.rdb".into(),
            list_max_listpack_size: -2,
            list_compress_depth: 0,
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            hll_sparse_max_bytes: 3000,
            notify_keyspace_events: 0,
            client_output_buffer_limit: ObufLimit::DEFAULTS,
            config_file: None,
        }
    }
}

type Getter = fn(&Config) -> String;
type Setter = fn(&mut Config, &str) -> Result<(), String>;

/// One CONFIG parameter.
pub struct Param {
    pub name: &'static str,
    pub get: Getter,
    /// None for parameters that can only be set at startup.
    pub set: Option<Setter>,
    /// Parameters that can be given at startup but not changed by CONFIG SET.
    pub immutable: bool,
}

fn yes_no(b: bool) -> String {
    if b {
        "yes".into()
    } else {
        "no".into()
    }
}

fn parse_yes_no(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

/// Parses an integer parameter as Redis's numeric configs do: `string2ll`, then a range.
fn int_in(v: &str, min: i64, max: i64) -> Result<i64, String> {
    let n = crate::util::parse_i64(v.as_bytes())
        .ok_or_else(|| "argument couldn't be parsed into an integer".to_string())?;
    check_range(n, min, max)
}

fn check_range(n: i64, min: i64, max: i64) -> Result<i64, String> {
    if n < min || n > max {
        return Err(format!(
            "argument must be between {} and {} inclusive",
            min, max
        ));
    }
    Ok(n)
}

/// Parses a memory parameter (`100mb`) and checks its range. Redis refuses a negative
/// memory value as "not a memory value" before any range check.
fn mem_in(v: &str, min: i64, max: i64) -> Result<i64, String> {
    let n = parse_memory(v)?;
    let n = i64::try_from(n).map_err(|_| "argument must be a memory value".to_string())?;
    check_range(n, min, max)
}

/// Parses a memory amount as Redis's `memtoll`: a number with an optional unit
/// (b, k, kb, m, mb, g, gb; k = 1000, kb = 1024), case-insensitive.
pub fn parse_memory(v: &str) -> Result<u64, String> {
    let lower = v.to_ascii_lowercase();
    let digits_end = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (num, unit) = lower.split_at(digits_end);
    let mul: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return Err("argument must be a memory value".into()),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| "argument must be a memory value".to_string())?;
    n.checked_mul(mul)
        .ok_or_else(|| "argument must be a memory value".into())
}

fn one_of(v: &str, allowed: &[&str]) -> Result<String, String> {
    let v = v.to_ascii_lowercase();
    if allowed.contains(&v.as_str()) {
        Ok(v)
    } else {
        Err(format!(
            "argument(s) must be one of the following: {}",
            allowed.join(", ")
        ))
    }
}

/// In Redis's order, which its error message lists. This server also accepts
/// [`EXTRA_POLICIES`], which the message leaves out so it reads exactly as Redis's.
pub const POLICIES: &[&str] = &[
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "noeviction",
];

/// `maxmemory-policy` values of this server's own (see `store/evict.rs`).
pub const EXTRA_POLICIES: &[&str] = &["allkeys-tinylfu"];

const LOGLEVELS: &[&str] = &["debug", "verbose", "notice", "warning"];

const INT_MAX: i64 = i32::MAX as i64;
const INT_MIN: i64 = i32::MIN as i64;

// Parameters that Redis also answers under their old `ziplist` name: one definition,
// two table rows.
const BUSY_REPLY_THRESHOLD: Param = Param {
    name: "busy-reply-threshold",
    get: |c| c.busy_reply_threshold.to_string(),
    set: Some(|c, v| {
        c.busy_reply_threshold = int_in(v, 0, i64::MAX)? as u64;
        Ok(())
    }),
    immutable: false,
};

const LIST_MAX_LISTPACK_SIZE: Param = Param {
    name: "list-max-listpack-size",
    get: |c| c.list_max_listpack_size.to_string(),
    set: Some(|c, v| {
        c.list_max_listpack_size = int_in(v, INT_MIN, INT_MAX)?;
        Ok(())
    }),
    immutable: false,
};

const HASH_MAX_LISTPACK_ENTRIES: Param = Param {
    name: "hash-max-listpack-entries",
    get: |c| c.hash_max_listpack_entries.to_string(),
    set: Some(|c, v| {
        c.hash_max_listpack_entries = int_in(v, 0, i64::MAX)?;
        Ok(())
    }),
    immutable: false,
};

const HASH_MAX_LISTPACK_VALUE: Param = Param {
    name: "hash-max-listpack-value",
    get: |c| c.hash_max_listpack_value.to_string(),
    set: Some(|c, v| {
        c.hash_max_listpack_value = int_in(v, 0, i64::MAX)?;
        Ok(())
    }),
    immutable: false,
};

const ZSET_MAX_LISTPACK_ENTRIES: Param = Param {
    name: "zset-max-listpack-entries",
    get: |c| c.zset_max_listpack_entries.to_string(),
    set: Some(|c, v| {
        c.zset_max_listpack_entries = int_in(v, 0, i64::MAX)?;
        Ok(())
    }),
    immutable: false,
};

const ZSET_MAX_LISTPACK_VALUE: Param = Param {
    name: "zset-max-listpack-value",
    get: |c| c.zset_max_listpack_value.to_string(),
    set: Some(|c, v| {
        c.zset_max_listpack_value = int_in(v, 0, i64::MAX)?;
        Ok(())
    }),
    immutable: false,
};

// ---------------------------------------------------------------------------------------
// client-output-buffer-limit

/// The client classes `client-output-buffer-limit` configures, in the order CONFIG GET
/// prints them (Redis's CLIENT_TYPE_NORMAL, SLAVE, PUBSUB).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObufClass {
    Normal = 0,
    Replica = 1,
    PubSub = 2,
}

/// One class's output buffer limit: disconnect at `hard` bytes at once, or once over
/// `soft` bytes for more than `soft_secs` seconds; 0 disables a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObufLimit {
    pub hard: u64,
    pub soft: u64,
    pub soft_secs: u32,
}

impl ObufLimit {
    /// Redis's defaults: "normal 0 0 0 slave 256mb 64mb 60 pubsub 32mb 8mb 60".
    pub const DEFAULTS: [ObufLimit; 3] = [
        ObufLimit {
            hard: 0,
            soft: 0,
            soft_secs: 0,
        },
        ObufLimit {
            hard: 256 << 20,
            soft: 64 << 20,
            soft_secs: 60,
        },
        ObufLimit {
            hard: 32 << 20,
            soft: 8 << 20,
            soft_secs: 60,
        },
    ];
}

const OBUF_ARGS: &str = "Wrong number of arguments in buffer limit configuration.";
const OBUF_CLASS: &str = "Invalid client class specified in buffer limit configuration.";
const OBUF_VALUE: &str =
    "Error in hard, soft or soft_seconds setting in buffer limit configuration.";

/// Parses a byte amount as Redis's `memtoull`: digits and an optional unit; a number too
/// large saturates (then wraps when multiplied by the unit), as `strtoull` does there.
fn memtoull(v: &str) -> Option<u64> {
    let digits = v.bytes().take_while(u8::is_ascii_digit).count();
    let mul: u64 = match v[digits..].to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    // Redis copies the digits into a 128-byte buffer first.
    if digits >= 128 {
        return None;
    }
    let n = v[..digits]
        .bytes()
        .try_fold(0u64, |n, d| {
            n.checked_mul(10)?.checked_add((d - b'0') as u64)
        })
        .unwrap_or(u64::MAX);
    Some(n.wrapping_mul(mul))
}

/// Parses soft seconds as Redis does: `strtoll` (leading whitespace, a sign, saturating),
/// nothing may follow, and the value stored in an `int` must not be negative.
fn soft_seconds(v: &str) -> Option<u32> {
    let t = v.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut n: i64 = 0;
    for d in digits.bytes() {
        let d = (d - b'0') as i64;
        n = if neg {
            n.saturating_mul(10).saturating_sub(d)
        } else {
            n.saturating_mul(10).saturating_add(d)
        };
    }
    let as_int = n as i32;
    (as_int >= 0).then_some(as_int as u32)
}

/// Applies a `client-output-buffer-limit` value: `<class> <hard> <soft> <seconds>` groups
/// split on single spaces, all checked before any is applied.
fn set_obuf_limits(c: &mut Config, v: &str) -> Result<(), String> {
    let words: Vec<&str> = if v.is_empty() {
        Vec::new()
    } else {
        v.split(' ').collect()
    };
    if !words.len().is_multiple_of(4) {
        return Err(OBUF_ARGS.into());
    }
    let mut next = c.client_output_buffer_limit;
    for g in words.chunks(4) {
        let class = match g[0].to_ascii_lowercase().as_str() {
            "normal" => ObufClass::Normal,
            "slave" | "replica" => ObufClass::Replica,
            "pubsub" => ObufClass::PubSub,
            _ => return Err(OBUF_CLASS.into()),
        };
        let (Some(hard), Some(soft), Some(soft_secs)) =
            (memtoull(g[1]), memtoull(g[2]), soft_seconds(g[3]))
        else {
            return Err(OBUF_VALUE.into());
        };
        next[class as usize] = ObufLimit {
            hard,
            soft,
            soft_secs,
        };
    }
    c.client_output_buffer_limit = next;
    Ok(())
}

fn get_obuf_limits(c: &Config) -> String {
    let l = &c.client_output_buffer_limit;
    let mut s = String::new();
    for (name, x) in ["normal", "slave", "pubsub"].iter().zip(l) {
        if !s.is_empty() {
            s.push(' ');
        }
        let _ = write!(s, "{} {} {} {}", name, x.hard, x.soft, x.soft_secs);
    }
    s
}

/// The parameter table, in the order CONFIG GET * lists them.
pub static PARAMS: &[Param] = &[
    Param {
        name: "port",
        get: |c| c.port.to_string(),
        set: Some(|c, v| {
            c.port = int_in(v, 0, 65535)? as u16;
            Ok(())
        }),
        immutable: true,
    },
    Param {
        name: "bind",
        get: |c| c.bind.join(" "),
        set: Some(|c, v| {
            c.bind = v.split_whitespace().map(String::from).collect();
            Ok(())
        }),
        immutable: true,
    },
    Param {
        name: "databases",
        get: |c| c.databases.to_string(),
        set: Some(|c, v| {
            c.databases = int_in(v, 1, INT_MAX)? as usize;
            Ok(())
        }),
        immutable: true,
    },
    Param {
        name: "maxclients",
        get: |c| c.maxclients.to_string(),
        set: Some(|c, v| {
            c.maxclients = int_in(v, 1, u32::MAX as i64)? as usize;
            Ok(())
        }),
        immutable: false,
    },
    Param {
        name: "requirepass",
        get: |c| c.requirepass.clone().unwrap_or_default(),
        set: Some(|c, v| {
            c.requirepass = if v.is_empty() {
                None
            } else {
                Some(v.to_string())
            };
            Ok(())
        }),
        immutable: false,
    },
    Param {
        name: "loglevel",
        get: |c| c.loglevel.clone(),
        set: Some(|c, v| {
            c.loglevel = one_of(v, LOGLEVELS)?;
            Ok(())
        }),
        immutable: false,
    },
    Param {
        name: "proto-max-bulk-len",
        get: |c| c.proto_max_bulk_len.to_string(),
        set: Some(|c, v| {
            let n = mem_in(v, 1024 * 1024, i64::MAX)?;
            // Redis allows more; a key's length is kept in 32 bits here.
            if n > u32::MAX as i64 {
                return Err(
                    "this server accepts at most 4294967295 (keys are kept below 4 GB)".into(),
                );
            }
            c.proto_max_bulk_len = n;
            Ok(())
        }),
        immutable: false,
    },
    Param {
        name: "client-query-buffer-limit",
        get: |c| c.client_query_buffer_limit.to_string(),
        set: Some(|c, v| {
            c.client_query_buffer_limit = mem_in(v, 1024 * 1024, i64::MAX)? as usize;
            Ok(())
        }),
        immutable: false,
    },
    Param {
        name: "timeout",
        get: |c| c.timeout.to_string(),
        set: Some(|c, v| {
            c.timeout = int_in(v, 0, INT_MAX)? as u64;
            Ok(())
        }),
        immutable: false,
    },
    Param {
        name: "slowlog-log-slower-than",
        get: |c| c.slowlog_log_slower_than.to_string(),
        set: Some(|c, v| {
            c.slowlog_log_slower_than = int_in(v, -1, i64::MAX)?;
            Ok(())
        }),
        immutable: false,
    },
    BUSY_REPLY_THRESHOLD,
    Param {
        name: "lua-time-limit",
        ..BUSY_REPLY_THRESHOLD
    },
    Param {
        name: "slowlog-max-len",
        get: |c| c.slowlog_max_len.to_string(),
        set: Some(|c, v| {
            c.slowlog_max_len = int_in(v, 0, i64::MAX)? as usize;
            Ok(())
        }),
        immutable: false,
    },
    Param {
        name: "notify-keyspace-events",
        get: |c| crate::commands::keyspace::format_classes(c.notify_keyspace_events),
        set: Some(|c, v| {
            c.notify_keyspace_events = crate::commands::keyspace::parse_classes(v)?;
            Ok(())
        }),
        immutable: false,
    },
    Param {
        name: "hz",
        get: |c| c.hz.to_string(),
        set: Some(|c, v| {
            // Redis accepts any non-negative int and runs at 1..500.
            c.hz = int_in(v, 0, INT_MAX)?.clamp(1, 500) as u32;
            Ok(())
        }),
        immutable: false,
    },
    Param {
        name: "tcp-keepalive",
        get: |c| c.tcp_keepalive.to_string(),
        set: Some(|c, v| {
            c.tcp_keepalive = int_in(v, 0, INT_MAX)? as u64;
            Ok(())
        }),
        immutable: false,
    },
    Param {
        name: "save",
        get: |c| c.save.clone(),
        set: Some(|c, v| {
            // No persistence: only the empty schedule (snapshots off) is honest.
            if !v.trim().is_empty() {
                return Err(
                    "this server keeps no snapshots; only an empty 'save' is accepted".into(),
                );
            }
            c.save = String::new();
            Ok(())
        }),
        immutable: false,
    },
    Param {
        name: "appendonly",
        get: |c| yes_no(c.appendonly),
        set: Some(|c, v| {
            if parse_yes_no(v)? {
                return Err("this server has no append-only file".into());
            }
            c.appendonly = false;
            Ok(())
        }),
        immutable: false,
    },
    Param {
        name: "maxmemory",
        get: |c| c.maxmemory.to_string(),
        set: Some(|c, v| {
            c.maxmemory = mem_in(v, 0, i64::MAX)? as u64;
            Ok(())
        }),
        immutable: false,
    },
    Param {
        name: "maxmemory-policy",
        get: |c| c.maxmemory_policy.clone(),
        set: Some(|c, v| {
            let lower = v.to_ascii_lowercase();
            c.maxmemory_policy = if EXTRA_POLICIES.contains(&lower.as_str()) {
                lower
            } else {
                one_of(v, POLICIES)?
            };
            Ok(())
        }),
        immutable: false,
    },
    Param {
        name: "maxmemory-samples",
        get: |c| c.maxmemory_samples.to_string(),
        set: Some(|c, v| {
            c.maxmemory_samples = int_in(v, 1, INT_MAX)? as u32;
            Ok(())
        }),
        immutable: false,
    },
    Param {
        name: "maxmemory-eviction-tenacity",
        get: |c| c.maxmemory_eviction_tenacity.to_string(),
        set: Some(|c, v| {
            c.maxmemory_eviction_tenacity = int_in(v, 0, 100)? as u32;
            Ok(())
        }),
        immutable: false,
    },
    Param {
        name: "maxmemory-clients",
        get: |_| "0".into(),
        set: Some(|_, v| {
            // Parsed as Redis does (a memory value or a percentage), but this server
            // does not evict clients, so only the default (off) is honest.
            let zero = match v.strip_suffix('%') {
                Some(p) => {
                    let n = crate::util::parse_i64(p.as_bytes())
                        .filter(|n| *n >= 0)
                        .ok_or("argument must be a memory or percent value")?;
                    if n > 100 {
                        return Err("percentage argument must be less or equal to 100".into());
                    }
                    n == 0
                }
                None => {
                    parse_memory(v).map_err(|_| "argument must be a memory or percent value")? == 0
                }
            };
            if !zero {
                return Err("this server does not evict clients; only 0 is accepted".into());
            }
            Ok(())
        }),
        immutable: false,
    },
    Param {
        name: "lfu-log-factor",
        get: |c| c.lfu_log_factor.to_string(),
        set: Some(|c, v| {
            c.lfu_log_factor = int_in(v, 0, INT_MAX)? as u32;
            Ok(())
        }),
        immutable: false,
    },
    Param {
        name: "lfu-decay-time",
        get: |c| c.lfu_decay_time.to_string(),
        set: Some(|c, v| {
            c.lfu_decay_time = int_in(v, 0, INT_MAX)? as u32;
            Ok(())
        }),
        immutable: false,
    },
    Param {
        name: "dir",
        get: |c| c.dir.clone(),
        set: Some(|c, v| {
            c.dir = v.to_string();
            Ok(())
        }),
        immutable: true,
    },
    Param {
        name: "dbfilename",
        get: |c| c.dbfilename.clone(),
        set: Some(|c, v| {
            if v.contains('/') || v.contains('\\') {
                return Err("dbfilename can't be a path, just a filename".into());
            }
            c.dbfilename = v.to_string();
            Ok(())
        }),
        immutable: false,
    },
    LIST_MAX_LISTPACK_SIZE,
    Param {
        name: "list-max-ziplist-size",
        ..LIST_MAX_LISTPACK_SIZE
    },
    Param {
        name: "list-compress-depth",
        get: |c| c.list_compress_depth.to_string(),
        set: Some(|c, v| {
            c.list_compress_depth = int_in(v, 0, INT_MAX)?;
            Ok(())
        }),
        immutable: false,
    },
    HASH_MAX_LISTPACK_ENTRIES,
    Param {
        name: "hash-max-ziplist-entries",
        ..HASH_MAX_LISTPACK_ENTRIES
    },
    HASH_MAX_LISTPACK_VALUE,
    Param {
        name: "hash-max-ziplist-value",
        ..HASH_MAX_LISTPACK_VALUE
    },
    Param {
        name: "set-max-intset-entries",
        get: |c| c.set_max_intset_entries.to_string(),
        set: Some(|c, v| {
            c.set_max_intset_entries = int_in(v, 0, i64::MAX)?;
            Ok(())
        }),
        immutable: false,
    },
    ZSET_MAX_LISTPACK_ENTRIES,
    Param {
        name: "zset-max-ziplist-entries",
        ..ZSET_MAX_LISTPACK_ENTRIES
    },
    ZSET_MAX_LISTPACK_VALUE,
    Param {
        name: "zset-max-ziplist-value",
        ..ZSET_MAX_LISTPACK_VALUE
    },
    Param {
        name: "hll-sparse-max-bytes",
        get: |c| c.hll_sparse_max_bytes.to_string(),
        set: Some(|c, v| {
            c.hll_sparse_max_bytes = mem_in(v, 0, i64::MAX)?;
            Ok(())
        }),
        immutable: false,
    },
    Param {
        name: "client-output-buffer-limit",
        get: get_obuf_limits,
        set: Some(set_obuf_limits),
        immutable: false,
    },
    Param {
        name: "threads",
        get: |c| c.threads.to_string(),
        set: Some(|c, v| {
            c.threads = int_in(v, 0, 1024)? as usize;
            Ok(())
        }),
        immutable: true,
    },
    Param {
        name: "shards",
        get: |c| c.shards.to_string(),
        set: Some(|c, v| {
            c.shards = int_in(v, 1, 65536)? as usize;
            Ok(())
        }),
        immutable: true,
    },
];

/// The `tracing` filter a Redis log level maps to.
pub fn tracing_filter(loglevel: &str) -> &'static str {
    match loglevel {
        "debug" => "debug",
        "verbose" => "info",
        "warning" => "warn",
        "nothing" => "off",
        _ => "info",
    }
}

/// Installed by the binary so `CONFIG SET loglevel` changes what is logged at once; the
/// library alone (tests, embedders) has no logger of its own to change.
pub static LOG_LEVEL_HOOK: std::sync::OnceLock<LogLevelHook> = std::sync::OnceLock::new();

/// Applies a Redis log level to the process's logger.
pub type LogLevelHook = Box<dyn Fn(&str) + Send + Sync>;

pub fn param(name: &str) -> Option<&'static Param> {
    PARAMS.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

impl Config {
    /// Applies one directive (`name value...`) from a config file or the command line.
    /// Unknown directives are reported to the caller, who warns and goes on.
    pub fn apply(&mut self, name: &str, values: &[String]) -> Result<(), String> {
        let p = param(name).ok_or_else(|| format!("unknown directive '{}'", name))?;
        let setter = p.set.ok_or_else(|| format!("'{}' cannot be set", name))?;
        setter(self, &values.join(" ")).map_err(|e| format!("'{}': {}", name, e))
    }

    /// Reads a redis.conf-style file: one directive per line, `#` comments, quoted values.
    /// Returns warnings for lines that were skipped; a malformed value is an error.
    pub fn load_file(&mut self, text: &str) -> Result<Vec<String>, String> {
        let mut warnings = Vec::new();
        for (no, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words = crate::protocol::decode::split_args(line.as_bytes())
                .ok_or_else(|| format!("line {}: unbalanced quotes", no + 1))?;
            let words: Vec<String> = words
                .into_iter()
                .map(|w| String::from_utf8_lossy(&w).into_owned())
                .collect();
            let Some((name, values)) = words.split_first() else {
                continue;
            };
            match param(name) {
                Some(_) => self
                    .apply(name, values)
                    .map_err(|e| format!("line {}: {}", no + 1, e))?,
                None => warnings.push(format!(
                    "line {}: unknown directive '{}' ignored",
                    no + 1,
                    name
                )),
            }
        }
        Ok(warnings)
    }

    /// `name value` lines for every parameter (CONFIG GET * order).
    pub fn dump(&self) -> String {
        let mut s = String::new();
        for p in PARAMS {
            let _ = writeln!(s, "{} {}", p.name, (p.get)(self));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_directives() {
        let mut c = Config::default();
        let w = c
            .load_file("# comment\nport 7000\nbind \"127.0.0.1\"\nfoo bar\nmaxmemory 100mb\n")
            .unwrap();
        assert_eq!(c.port, 7000);
        assert_eq!(c.bind, vec!["127.0.0.1".to_string()]);
        assert_eq!(c.maxmemory, 100 * 1024 * 1024);
        assert_eq!(w.len(), 1);
        assert!(c.load_file("port abc\n").is_err());
    }

    #[test]
    fn obuf_limits_parse_like_redis() {
        let mut c = Config::default();
        assert_eq!(
            get_obuf_limits(&c),
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
        );
        set_obuf_limits(&mut c, "PUBSUB 1kb 2k 5 replica 1 2 3").unwrap();
        assert_eq!(
            get_obuf_limits(&c),
            "normal 0 0 0 slave 1 2 3 pubsub 1024 2000 5"
        );
        // Empty words are values (0), seconds are cast to a C int.
        set_obuf_limits(&mut c, "pubsub  1 99999999999").unwrap();
        assert_eq!(
            c.client_output_buffer_limit[ObufClass::PubSub as usize],
            ObufLimit {
                hard: 0,
                soft: 1,
                soft_secs: 1215752191
            }
        );
        set_obuf_limits(&mut c, "pubsub 99999999999999999999999kb 0 -4294967296").unwrap();
        assert_eq!(
            c.client_output_buffer_limit[2].hard,
            u64::MAX.wrapping_mul(1024)
        );
        assert_eq!(
            set_obuf_limits(&mut c, "pubsub 1 2").unwrap_err(),
            OBUF_ARGS
        );
        assert_eq!(
            set_obuf_limits(&mut c, "master 1 2 3").unwrap_err(),
            OBUF_CLASS
        );
        for bad in [
            "pubsub +5 0 1",
            "pubsub 1 2 2147483648",
            "pubsub 1tb 0 1",
            "pubsub 1 2 0x1",
        ] {
            assert_eq!(
                set_obuf_limits(&mut c, bad).unwrap_err(),
                OBUF_VALUE,
                "{bad}"
            );
        }
        assert!(set_obuf_limits(&mut c, "").is_ok());
    }

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("1k").unwrap(), 1000);
        assert_eq!(parse_memory("1KB").unwrap(), 1024);
        assert_eq!(parse_memory("2gb").unwrap(), 2 << 30);
        assert!(parse_memory("12x").is_err());
    }
}
