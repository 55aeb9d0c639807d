//! `maxmemory` before eviction exists: a server over its budget refuses writes that may
//! grow memory with Redis's OOM error (the `noeviction` behaviour), and still serves reads
//! and deletes.

mod common;
use common::Pair;

#[test]
fn over_budget_refuses_denyoom_writes_like_redis_noeviction() {
    let mut p = Pair::with(
        |c| {
            c.maxmemory = 1;
            c.maxmemory_policy = "noeviction".into();
        },
        &["--maxmemory", "1", "--maxmemory-policy", "noeviction"],
    );
    // Our server samples the allocator every 100 ms; wait for the first sample.
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(
        p.check("SET k v"),
        b"-OOM command not allowed when used memory > 'maxmemory'.\r\n"
    );
    p.script(
        "
        INCR n
        MSET a 1 b 2
        APPEND k x
        GET k
        DEL k
        EXISTS k
        PING
        CONFIG SET maxmemory 0
        SET k v
        GET k
        ",
    );
}
