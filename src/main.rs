//! Command line: flags in Redis's spelling, an optional redis.conf-style file, then run.

use clap::Parser;
use rust_cache_server::Config;

/// A Redis-protocol-compatible, multi-threaded cache server.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    /// A redis.conf-style file (`port 7000`, `bind 127.0.0.1`, ...); flags override it.
    config_file: Option<std::path::PathBuf>,
    /// TCP port to listen on (0: any free port).
    #[arg(long)]
    port: Option<u16>,
    /// Addresses to listen on.
    #[arg(long, num_args = 1..)]
    bind: Option<Vec<String>>,
    /// Number of databases (SELECT 0..N-1).
    #[arg(long)]
    databases: Option<usize>,
    /// Most clients connected at once.
    #[arg(long)]
    maxclients: Option<usize>,
    /// Password clients must AUTH with.
    #[arg(long)]
    requirepass: Option<String>,
    /// debug, verbose, notice or warning.
    #[arg(long)]
    loglevel: Option<String>,
    /// Memory budget, e.g. 100mb: over it, keys are evicted by --maxmemory-policy.
    #[arg(long)]
    maxmemory: Option<String>,
    /// noeviction, allkeys-lru, allkeys-lfu, allkeys-random, volatile-lru, volatile-lfu,
    /// volatile-random, volatile-ttl, or this server's allkeys-tinylfu.
    #[arg(long)]
    maxmemory_policy: Option<String>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Shards per database, rounded up to a power of two.
    #[arg(long)]
    shards: Option<usize>,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let mut config = Config::default();
    let mut warnings = Vec::new();
    if let Some(path) = &cli.config_file {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("cannot read {}: {}", path.display(), e);
                return std::process::ExitCode::FAILURE;
            }
        };
        config.config_file = Some(
            std::fs::canonicalize(path)
                .unwrap_or_else(|_| path.clone())
                .display()
                .to_string(),
        );
        match config.load_file(&text) {
            Ok(w) => warnings = w,
            Err(e) => {
                eprintln!("{}: {}", path.display(), e);
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    let mut overrides: Vec<(&str, String)> = Vec::new();
    if let Some(v) = cli.port {
        overrides.push(("port", v.to_string()));
    }
    if let Some(v) = &cli.bind {
        overrides.push(("bind", v.join(" ")));
    }
    if let Some(v) = cli.databases {
        overrides.push(("databases", v.to_string()));
    }
    if let Some(v) = cli.maxclients {
        overrides.push(("maxclients", v.to_string()));
    }
    if let Some(v) = &cli.requirepass {
        overrides.push(("requirepass", v.clone()));
    }
    if let Some(v) = &cli.loglevel {
        overrides.push(("loglevel", v.clone()));
    }
    if let Some(v) = &cli.maxmemory {
        overrides.push(("maxmemory", v.clone()));
    }
    if let Some(v) = &cli.maxmemory_policy {
        overrides.push(("maxmemory-policy", v.clone()));
    }
    if let Some(v) = cli.threads {
        overrides.push(("threads", v.to_string()));
    }
    if let Some(v) = cli.shards {
        overrides.push(("shards", v.to_string()));
    }
    for (name, value) in overrides {
        if let Err(e) = config.apply(name, &[value]) {
            eprintln!("--{}", e.trim_start_matches('\''));
            return std::process::ExitCode::FAILURE;
        }
    }
    use tracing_subscriber::prelude::*;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(rust_cache_server::config::tracing_filter(
            &config.loglevel,
        ))
    });
    let (filter, reload) = tracing_subscriber::reload::Layer::new(filter);
    tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer().with_target(false))
        .init();
    let _ = rust_cache_server::config::LOG_LEVEL_HOOK.set(Box::new(move |level: &str| {
        let level = rust_cache_server::config::tracing_filter(level);
        let _ = reload.modify(|f| *f = tracing_subscriber::EnvFilter::new(level));
    }));
    for w in warnings {
        tracing::warn!("config file: {}", w);
    }
    let rt = match rust_cache_server::server::runtime(&config) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start runtime: {}", e);
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(rust_cache_server::server::run(config)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{}", e);
            std::process::ExitCode::FAILURE
        }
    }
}
