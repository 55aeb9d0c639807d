//! Differential tests of the connection and server command families: the same commands
//! sent to this server and to a real redis-server 7.0, replies compared byte for byte
//! where they must match, field by field where ids, timings or our parameter set differ.

mod common;

use common::{elements, show, Pair};

/// Replaces the value after `id` in a HELLO reply (connection ids differ between servers).
fn without_id(reply: &[u8]) -> Vec<Vec<u8>> {
    let mut e = elements(reply);
    for i in 0..e.len().saturating_sub(1) {
        if e[i] == b"$2\r\nid\r\n" {
            e[i + 1] = b":<id>\r\n".to_vec();
        }
    }
    e
}

#[test]
fn ping_echo_select_quit() {
    let mut p = Pair::new();
    p.script(
        r#"
        PING
        PING hello
        PING a b
        ECHO "x y"
        ECHO
        ECHO a b
        SELECT 1
        SELECT 15
        SELECT 16
        SELECT -1
        SELECT abc
        SELECT 99999999999
        SELECT -99999999999
        SELECT 1.5
        SELECT
        SELECT 0
        "#,
    );
    p.check("QUIT");
}

#[test]
fn auth_without_password() {
    let mut p = Pair::new();
    p.script(
        r#"
        AUTH x
        AUTH a b
        AUTH default anything
        AUTH a b c
        AUTH
        "#,
    );
}

#[test]
fn auth_with_password() {
    let mut p = Pair::with(
        |c| c.requirepass = Some("s3cret".into()),
        &["--requirepass", "s3cret"],
    );
    p.script(
        r#"
        PING
        GET k
        CLIENT ID
        AUTH wrong
        AUTH default wrong
        HELLO 2 AUTH default wrong
        HELLO 3
        HELLO
        AUTH s3cret
        PING
        SET k v
        GET k
        AUTH default s3cret
        "#,
    );
}

#[test]
fn hello_replies() {
    let mut p = Pair::new();
    for line in ["HELLO", "HELLO 2", "HELLO 2 SETNAME abc"] {
        let (a, b) = p.both(line);
        assert_eq!(without_id(&a), without_id(&b), "{}", line);
    }
    p.script(
        r#"
        CLIENT GETNAME
        HELLO 4
        HELLO 1
        HELLO abc
        HELLO 3 SETNAME "a b"
        HELLO 3 foo
        HELLO 3 AUTH default
        HELLO 3 AUTH a b
        CLIENT GETNAME
        "#,
    );
    let (a, b) = p.both("HELLO 3 AUTH default x");
    assert!(a.starts_with(b"%7\r\n"), "{}", show(&a));
    assert_eq!(without_id(&a), without_id(&b));
    // Now in RESP3: maps, nulls and verbatim strings.
    p.script(
        r#"
        CONFIG GET maxmemory
        CLIENT SETNAME ""
        CLIENT GETNAME
        INFO nosuch
        "#,
    );
    let (a, b) = p.both("HELLO 2 SETNAME z");
    assert_eq!(without_id(&a), without_id(&b));
    p.check("CONFIG GET maxmemory");
    p.check("CLIENT GETNAME");
}

#[test]
fn reset_restores_connection_state() {
    let mut p = Pair::new();
    p.script(
        r#"
        SELECT 3
        SET k v
        CLIENT SETNAME named
        "#,
    );
    let (a, b) = p.both("HELLO 3");
    assert_eq!(without_id(&a), without_id(&b));
    p.script(
        r#"
        RESET
        CLIENT GETNAME
        GET k
        CONFIG GET timeout
        SELECT 3
        GET k
        RESET x
        "#,
    );
}

#[test]
fn client_subcommands_errors() {
    let mut p = Pair::new();
    p.script(
        r#"
        CLIENT GETNAME
        CLIENT SETNAME "a b"
        CLIENT SETNAME "a\nb"
        CLIENT SETNAME ok-name
        CLIENT GETNAME
        CLIENT SETNAME ""
        CLIENT GETNAME
        CLIENT SETNAME
        CLIENT ID x
        CLIENT
        CLIENT foo
        CLIENT HELLO
        CLIENT KILL 1.2.3.4:5
        CLIENT KILL ADDR 1.2.3.4:5
        CLIENT KILL LADDR 1.2.3.4:5
        CLIENT KILL ID abc
        CLIENT KILL ID 0
        CLIENT KILL ID 999999
        CLIENT KILL TYPE foo
        CLIENT KILL TYPE master
        CLIENT KILL USER nosuch
        CLIENT KILL SKIPME maybe
        CLIENT KILL SKIPME yes
        CLIENT KILL ADDR
        CLIENT KILL foo bar
        CLIENT LIST TYPE foo
        CLIENT LIST ID abc
        CLIENT LIST ID 999999
        CLIENT LIST foo
        CLIENT LIST TYPE pubsub
        CLIENT LIST TYPE master
        "#,
    );
}

#[test]
fn client_list_and_info_fields() {
    let mut p = Pair::new();
    p.check("CLIENT SETNAME me");
    let (a, b) = p.both("CLIENT INFO");
    let fields = |r: &[u8]| -> Vec<String> {
        let s = String::from_utf8_lossy(r).to_string();
        let body = s.split("\r\n").nth(1).unwrap_or("").to_string();
        body.split(' ')
            .map(|kv| kv.split('=').next().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(fields(&a), fields(&b), "CLIENT INFO field names");
    let s = String::from_utf8_lossy(&a);
    assert!(s.contains(" name=me "), "{}", s);
    assert!(s.contains(" cmd=client|info "), "{}", s);
    let (a, _) = p.both("CLIENT LIST");
    assert!(String::from_utf8_lossy(&a).contains("name=me"));
}

#[test]
fn config_get() {
    let mut p = Pair::new();
    p.script(
        r#"
        CONFIG GET maxmemory
        CONFIG GET MAXMEMORY
        CONFIG GET maxmemory maxmemory
        CONFIG GET save
        CONFIG GET appendonly
        CONFIG GET timeout
        CONFIG GET databases
        CONFIG GET maxclients
        CONFIG GET requirepass
        CONFIG GET maxmemory-policy
        CONFIG GET maxmemory-samples
        CONFIG GET proto-max-bulk-len
        CONFIG GET client-query-buffer-limit
        CONFIG GET slowlog-log-slower-than
        CONFIG GET slowlog-max-len
        CONFIG GET hz
        CONFIG GET tcp-keepalive
        CONFIG GET dbfilename
        CONFIG GET loglevel
        CONFIG GET nosuch
        CONFIG GET
        CONFIG
        CONFIG foo
        "#,
    );
    p.check_unordered("CONFIG GET maxmemory timeout");
    p.check_unordered("CONFIG GET maxmemory-policy maxmemory-samples");
    // Globs: Redis has more parameters, so ours must be a subset of its matches.
    let (a, b) = p.both("CONFIG GET maxmemory*");
    let (ea, eb) = (elements(&a), elements(&b));
    assert!(ea.len() >= 6, "{}", show(&a));
    for pair in ea.chunks(2) {
        let pos = eb.chunks(2).position(|q| q == pair);
        assert!(pos.is_some(), "{} not in redis reply", show(&pair.concat()));
    }
}

#[test]
fn config_set() {
    let mut p = Pair::new();
    p.script(
        r#"
        CONFIG SET databases 1
        CONFIG SET foo 1
        CONFIG SET foo 1 maxmemory 1
        CONFIG SET maxmemory abc
        CONFIG SET maxmemory 10mb
        CONFIG GET maxmemory
        CONFIG SET maxmemory 1mb maxmemory 2mb
        CONFIG SET maxmemory 1mb timeout x
        CONFIG GET maxmemory
        CONFIG GET timeout
        CONFIG SET maxmemory 1mb timeout 7
        CONFIG GET maxmemory
        CONFIG GET timeout
        CONFIG SET timeout
        CONFIG SET timeout 1 2
        CONFIG SET maxclients 0
        CONFIG SET hz abc
        CONFIG SET loglevel x
        CONFIG SET loglevel WARNING
        CONFIG GET loglevel
        CONFIG SET maxmemory-policy x
        CONFIG SET maxmemory-policy ALLKEYS-LRU
        CONFIG GET maxmemory-policy
        CONFIG SET appendonly maybe
        CONFIG SET slowlog-log-slower-than x
        CONFIG SET slowlog-log-slower-than -2
        CONFIG SET slowlog-max-len -1
        CONFIG SET proto-max-bulk-len 100
        CONFIG SET client-query-buffer-limit 10
        CONFIG SET timeout -1
        CONFIG SET maxmemory-samples 0
        CONFIG SET maxmemory-samples 10
        CONFIG SET MaxMemory-Samples 7
        CONFIG GET maxmemory-samples
        CONFIG SET requirepass a b
        CONFIG SET maxmemory -1
        CONFIG SET proto-max-bulk-len -1
        CONFIG SET client-query-buffer-limit -5mb
        CONFIG SET maxmemory 0
        CONFIG SET tcp-keepalive 60
        CONFIG GET tcp-keepalive
        CONFIG REWRITE
        CONFIG REWRITE x
        CONFIG HELP
        CONFIG RESETSTAT
        CONFIG RESETSTAT x
        "#,
    );
}

/// The fields of COMMAND INFO that describe a command the same way in both servers:
/// name, arity, flags, first, last, step, ACL categories.
fn info_fields(reply: &[u8]) -> Vec<String> {
    let outer = elements(reply);
    assert_eq!(outer.len(), 1, "{}", show(reply));
    let fields = elements(&outer[0]);
    assert_eq!(fields.len(), 10, "{}", show(&outer[0]));
    fields[..7].iter().map(|f| show(f)).collect()
}

#[test]
fn command_info_and_getkeys() {
    let mut p = Pair::new();
    for name in [
        "get",
        "set",
        "mget",
        "mset",
        "incr",
        "del",
        "exists",
        "ping",
        "echo",
        "select",
        "hello",
        "reset",
        "client|kill",
        "client|list",
        "client|setname",
        "config|get",
        "config|set",
        "slowlog|get",
        "dbsize",
        "shutdown",
        "time",
        "lastsave",
        "debug",
    ] {
        let (a, b) = p.both(&format!("COMMAND INFO {}", name));
        assert_eq!(info_fields(&a), info_fields(&b), "COMMAND INFO {}", name);
    }
    p.script(
        r#"
        COMMAND INFO nosuch
        COMMAND GETKEYS get
        COMMAND GETKEYS ping x
        COMMAND GETKEYS nosuch x
        COMMAND GETKEYS get a b
        COMMAND GETKEYS get a
        COMMAND GETKEYS set a b
        COMMAND GETKEYS set a b EX 10
        COMMAND GETKEYS mset a 1 b 2
        COMMAND GETKEYS mget a b c
        COMMAND GETKEYS del a b
        COMMAND GETKEYS config get x
        COMMAND GETKEYS client nosuch x
        COMMAND GETKEYS
        COMMAND foo
        COMMAND COUNT x
        COMMAND LIST FILTERBY
        COMMAND LIST FILTERBY foo bar
        COMMAND LIST FILTERBY MODULE nosuch
        COMMAND DOCS nosuch
        "#,
    );
    // The subcommands of a container, in the same (sorted-by-us) shape.
    let (a, _) = p.both("COMMAND INFO config");
    let fields = elements(&elements(&a)[0]);
    let subs = elements(&fields[9]);
    assert_eq!(subs.len(), 5, "{}", show(&fields[9]));
    let (a, _) = p.both("COMMAND LIST FILTERBY PATTERN client*");
    let names = elements(&a);
    assert!(names.contains(&b"$11\r\nclient|kill\r\n".to_vec()));
}

#[test]
fn info_sections() {
    let mut p = Pair::new();
    let headers = |r: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(r)
            .split("\r\n")
            .filter(|l| l.starts_with('#'))
            .map(String::from)
            .collect()
    };
    for line in [
        "INFO",
        "INFO default",
        "INFO server clients",
        "INFO CLIENTS server",
        "INFO commandstats keyspace",
        "INFO keyspace nosuch",
        "INFO default commandstats",
    ] {
        let (a, b) = p.both(line);
        assert_eq!(headers(&a), headers(&b), "{}", line);
    }
    p.check("INFO nosuch");
    // Every field we report carries Redis's name (ours are prefixed rcs_).
    let (a, b) = p.both("INFO everything");
    let names = |r: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(r)
            .split("\r\n")
            .filter(|l| l.contains(':') && !l.starts_with('#') && !l.starts_with('$'))
            .map(|l| l.split(':').next().unwrap_or("").to_string())
            .collect()
    };
    let theirs = names(&b);
    for n in names(&a) {
        if n.starts_with("rcs_") || n.starts_with("cmdstat_") || n.starts_with("errorstat_") {
            continue;
        }
        assert!(
            theirs.contains(&n),
            "INFO field {} is not one of Redis's",
            n
        );
    }
    let text = String::from_utf8_lossy(&a);
    assert!(text.contains("redis_version:7.0.15\r\n"));
    assert!(text.contains("rcs_version:"));
    assert!(text.contains("mem_allocator:jemalloc-"));
}

#[test]
fn info_keyspace_and_stats_after_resetstat() {
    let mut p = Pair::new();
    p.script(
        r#"
        SET a 1
        SET b 2 EX 100
        SELECT 2
        SET c 3
        SELECT 0
        INFO keyspace
        CONFIG RESETSTAT
        PING a b
        INFO errorstats
        GET a
        GET nosuch
        NOSUCHCOMMAND
        "#,
    );
    let norm = |r: &[u8]| -> Vec<String> {
        let mut lines: Vec<String> = String::from_utf8_lossy(r)
            .split("\r\n")
            .filter(|l| l.starts_with("cmdstat_"))
            .map(|l| {
                // Timings differ: keep calls, rejected_calls, failed_calls.
                l.split(',')
                    .filter(|kv| !kv.starts_with("usec"))
                    .map(|kv| kv.split(":usec=").next().unwrap_or(kv))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect();
        lines.sort();
        lines
    };
    let (a, b) = p.both("INFO commandstats");
    assert_eq!(norm(&a), norm(&b));
    assert!(norm(&a)
        .iter()
        .any(|l| l.starts_with("cmdstat_get:calls=2")));
    p.check("INFO errorstats");
    let (a, b) = p.both("INFO stats");
    let stat = |r: &[u8], name: &str| -> String {
        String::from_utf8_lossy(r)
            .split("\r\n")
            .find_map(|l| l.strip_prefix(&format!("{}:", name)).map(String::from))
            .unwrap_or_default()
    };
    for f in ["keyspace_hits", "keyspace_misses", "total_error_replies"] {
        assert_eq!(stat(&a, f), stat(&b, f), "{}", f);
    }
}

#[test]
fn slowlog_time_lastsave_shutdown_errors() {
    let mut p = Pair::new();
    p.script(
        r#"
        SLOWLOG RESET
        SLOWLOG GET abc
        SLOWLOG GET -2
        SLOWLOG GET 1 2
        SLOWLOG LEN x
        SLOWLOG HELP
        SLOWLOG foo
        SLOWLOG
        TIME x
        LASTSAVE x
        SHUTDOWN ABORT
        SHUTDOWN foo
        SHUTDOWN SAVE NOSAVE
        SHUTDOWN NOSAVE ABORT
        "#,
    );
    let (a, b) = p.both("TIME");
    assert_eq!(elements(&a).len(), 2);
    assert_eq!(&a[..4], &b[..4]);
    let (a, b) = p.both("LASTSAVE");
    assert_eq!(a[0], b':');
    assert_eq!(b[0], b':');
    // Entries of the slow log: same shape as Redis's.
    p.check("CONFIG SET slowlog-log-slower-than 0");
    p.check("SET x y");
    let (a, b) = p.both("SLOWLOG GET 1");
    let (ea, eb) = (elements(&a), elements(&b));
    let (fa, fb) = (elements(&ea[0]), elements(&eb[0]));
    assert_eq!(fa.len(), 6);
    assert_eq!(fb.len(), 6);
    assert_eq!(fa[3], fb[3], "logged arguments");
    assert_eq!(fa[5], fb[5], "client name");
}
