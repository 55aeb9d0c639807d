//! Differential tests of client-side caching: the same commands sent to this server and to
//! a real redis-server 7.0 over raw connections (a tracking client, a writer and, where
//! needed, a REDIRECT target on each side), and every reply and invalidation frame compared
//! byte for byte: RESP3 push frames on the tracking connection, RESP2 `__redis__:invalidate`
//! messages through REDIRECT, BCAST prefixes, OPTIN/OPTOUT with CLIENT CACHING, NOLOOP,
//! the null invalidation of flushes, broken redirections, every CLIENT TRACKING error,
//! CLIENT TRACKINGINFO / GETREDIR, CLIENT LIST flags and the INFO figures.
//!
//! Writes go through SET and DEL (and FLUSHALL/FLUSHDB), the commands that signal their
//! changes on every branch. "Nothing more was sent" is checked by a PING whose reply must
//! be the next frame on both sides: anything pushed before it would come first.

mod common;

use common::{field, show, Both, Pair};

/// Compares INFO's tracking figures of both servers.
fn check_info(w: &mut Both, what: &str) {
    let ours = String::from_utf8_lossy(&w.ours.cmd("INFO")).into_owned();
    let redis = String::from_utf8_lossy(&w.redis.cmd("INFO")).into_owned();
    for name in [
        "tracking_clients",
        "tracking_total_keys",
        "tracking_total_items",
        "tracking_total_prefixes",
    ] {
        assert_eq!(
            field(&ours, name),
            field(&redis, name),
            "INFO {name} after {what} (left: ours)"
        );
    }
}

#[test]
fn resp3_invalidations_arrive_on_the_tracking_connection() {
    let p = Pair::new();
    let mut t = Both::resp3(&p);
    let mut w = Both::new(&p);
    t.check("CLIENT TRACKING ON");
    t.check("GET k");
    w.check("SET k 1");
    t.expect(1, "SET k after GET k");
    // One-shot: the key must be read again to hear of the next change.
    w.check("SET k 2");
    t.quiet("a second SET without a re-read");
    t.check("GET k");
    w.check("DEL k");
    t.expect(1, "DEL k");
    w.check("DEL k");
    t.quiet("DEL of a missing key");
    // Its own change: the reply first, then the push.
    t.check("GET k");
    t.cmd("SET k 3", 2);
    // Every key of a multi-key read; a read that fails (WRONGTYPE) is remembered too.
    t.check("MGET a b");
    w.check("SET b 1");
    t.expect(1, "SET b");
    w.check("SET a 1");
    t.expect(1, "SET a");
    w.check("RPUSH l x");
    t.check("GET l");
    w.check("DEL l");
    t.expect(1, "DEL of a list read by a failed GET");
    // Keys are the same in every database.
    t.check("GET g");
    w.script("SELECT 1\nSET g 1\nSELECT 0");
    t.expect(1, "SET g in another database");
    // Inside EXEC: reads are remembered, the own change's push follows EXEC's reply.
    t.script("MULTI\nGET x\nSET x 1\nGET x");
    t.cmd("EXEC", 2);
    w.check("SET x 2");
    t.expect(1, "SET x after EXEC");
    // Writes are not reads: nothing is remembered for SET.
    t.check("SET y 1");
    w.check("SET y 2");
    t.quiet("a write does not track");
    t.check("CLIENT TRACKING OFF");
    t.check("GET k");
    w.check("SET k 4");
    t.quiet("tracking off");
}

#[test]
fn a_pipeline_gets_each_own_invalidation_after_the_reply_that_caused_it() {
    let p = Pair::new();
    let mut t = Both::resp3(&p);
    t.check("CLIENT TRACKING ON");
    let batch = b"GET p\r\nSET p 1\r\nGET p\r\nSET p 2\r\nSET p 3\r\nGET p\r\nPING\r\n";
    t.ours.send_raw(batch);
    t.redis.send_raw(batch);
    let frames = t.expect(9, "a pipelined batch");
    assert_eq!(frames.last().map(Vec::as_slice), Some(&b"+PONG\r\n"[..]));
    let mut w = Both::new(&p);
    w.check("DEL p");
    t.expect(1, "DEL p after the batch's last read");
}

#[test]
fn resp2_invalidations_go_through_redirect_to_a_subscriber() {
    let p = Pair::new();
    let mut s = Both::new(&p);
    let sid = s.id();
    s.check("SUBSCRIBE __redis__:invalidate");
    let mut t = Both::new(&p);
    let mut w = Both::new(&p);
    t.check_with_id("CLIENT TRACKING ON REDIRECT {}", sid, 1);
    t.check_with_id("CLIENT GETREDIR", sid, 1);
    t.check_with_id("CLIENT TRACKINGINFO", sid, 1);
    t.check("GET k1");
    t.check("MGET k1 k2 k3");
    w.check("SET k1 1");
    s.expect(1, "SET k1");
    w.check("SET k2 1");
    s.expect(1, "SET k2");
    w.check("DEL k9");
    s.quiet("DEL of a missing key");
    // A flush: a null in the tracking client's protocol ($-1 for RESP2).
    w.check("FLUSHALL");
    s.expect(1, "FLUSHALL");
    t.check("FLUSHDB");
    s.expect(1, "FLUSHDB by the tracking client");
    // Redirected to a RESP2 client that is not subscribed: nothing can be sent.
    let mut n = Both::new(&p);
    let nid = n.id();
    t.check_with_id("CLIENT TRACKING ON REDIRECT {}", nid, 1);
    t.check("GET z");
    w.check("SET z 1");
    n.quiet("redirect to an unsubscribed RESP2 client");
    // RESP2 without redirection: nothing either.
    t.check("CLIENT TRACKING OFF");
    t.check("CLIENT TRACKING ON");
    t.check("GET z");
    w.check("SET z 2");
    t.quiet("RESP2 tracking without redirect");
    s.quiet("the old redirect target");
    // A RESP3 client may redirect too; the target gets its own protocol's frame.
    let mut r3 = Both::resp3(&p);
    let r3id = r3.id();
    let mut t3 = Both::resp3(&p);
    t3.check_with_id("CLIENT TRACKING ON REDIRECT {}", r3id, 1);
    t3.check("GET q");
    w.check("SET q 1");
    r3.expect(1, "SET q, redirected to a RESP3 client");
    w.check("FLUSHALL");
    r3.expect(1, "FLUSHALL, redirected to a RESP3 client");
    t3.quiet("redirected frames do not reach the tracking client");
}

#[test]
fn a_redirect_target_that_left_breaks_the_redirection() {
    let p = Pair::new();
    let mut c = Both::new(&p);
    let cid = c.id();
    let mut t = Both::resp3(&p);
    let mut w = Both::new(&p);
    t.check_with_id("CLIENT TRACKING ON REDIRECT {}", cid, 1);
    t.check("GET r");
    drop(c);
    w.wait_gone(cid);
    w.check("SET r 1");
    t.expect_ids(1, "SET r with the redirect target gone", cid);
    t.check_with_id("CLIENT TRACKINGINFO", cid, 1);
    t.check_with_id("CLIENT GETREDIR", cid, 1);
    let (a, b) = t.info_field("flags");
    assert_eq!((a.as_str(), b.as_str()), ("tR", "tR"));
    // Its own change: reply, then the broken-redirect push.
    t.check("GET r");
    t.check_with_id("SET r 2", cid, 2);
    t.check_with_id("FLUSHDB", cid, 2);
    // Re-enabling with a live target clears the flag.
    let mut c2 = Both::new(&p);
    let c2id = c2.id();
    t.check_with_id("CLIENT TRACKING ON REDIRECT {}", c2id, 1);
    t.check_with_id("CLIENT TRACKINGINFO", c2id, 1);
    c2.quiet("new target");
    // A RESP2 tracking client is only flagged: it cannot be told.
    let mut g = Both::new(&p);
    let gid = g.id();
    let mut t2 = Both::new(&p);
    t2.check_with_id("CLIENT TRACKING ON REDIRECT {}", gid, 1);
    t2.check("GET r2");
    drop(g);
    w.wait_gone(gid);
    w.check("SET r2 1");
    t2.quiet("broken redirect of a RESP2 client");
    t2.check_with_id("CLIENT TRACKINGINFO", gid, 1);
}

#[test]
fn bcast_sends_every_change_under_the_prefixes() {
    let p = Pair::new();
    let mut a = Both::resp3(&p);
    let mut b = Both::resp3(&p);
    let mut w = Both::new(&p);
    a.check("CLIENT TRACKING ON BCAST PREFIX a PREFIX b");
    b.check("CLIENT TRACKING ON BCAST NOLOOP");
    check_info(&mut w, "two BCAST clients");
    w.check("SET b1 1");
    a.expect(1, "SET b1 (prefix b)");
    b.expect(1, "SET b1 (empty prefix)");
    w.check("SET c 1");
    a.quiet("SET c, under no prefix of a");
    b.expect(1, "SET c");
    // One message per prefix for a transaction, its keys in byte order.
    w.script("MULTI\nSET a2 1\nSET a1 1\nSET b9 1\nDEL a2");
    w.check("EXEC");
    a.expect(2, "EXEC (prefixes a and b)");
    b.expect(1, "EXEC");
    // NOLOOP: its own changes are not sent back.
    b.check("SET a3 1");
    b.quiet("own change with NOLOOP");
    a.expect(1, "SET a3 by the NOLOOP client");
    // Without NOLOOP the push follows the reply.
    a.cmd("SET a4 1", 2);
    b.expect(1, "SET a4");
    // Nothing is remembered in BCAST mode: reads send nothing later.
    a.check("GET zz");
    w.check("SET zz 1");
    a.quiet("a read in BCAST mode");
    b.expect(1, "SET zz");
    a.check("CLIENT TRACKINGINFO");
    b.check("CLIENT TRACKINGINFO");
    let (x, y) = a.info_field("flags");
    assert_eq!((x.as_str(), y.as_str()), ("tB", "tB"));
    assert_eq!(a.info_field("redir"), ("0".into(), "0".into()));
    // More prefixes may be added while on; overlapping ones are refused.
    a.check("CLIENT TRACKING ON BCAST PREFIX c");
    a.check("CLIENT TRACKING ON BCAST PREFIX b2");
    a.check("CLIENT TRACKINGINFO");
    check_info(&mut w, "three prefixes");
    a.check("CLIENT TRACKING OFF");
    check_info(&mut w, "a left BCAST");
    w.check("SET a5 1");
    a.quiet("tracking off");
    b.expect(1, "SET a5");
}

#[test]
fn optin_and_optout_follow_client_caching() {
    let p = Pair::new();
    let mut t = Both::resp3(&p);
    let mut w = Both::new(&p);
    t.check("CLIENT TRACKING ON OPTIN");
    t.check("GET o1");
    // CACHING YES covers the next command; CLIENT commands in between do not use it up.
    t.script("CLIENT CACHING YES\nCLIENT TRACKINGINFO\nCLIENT GETREDIR\nGET o2\nGET o3");
    w.check("SET o1 1");
    t.quiet("OPTIN read without CACHING YES");
    w.check("SET o2 1");
    t.expect(1, "OPTIN read after CACHING YES");
    w.check("SET o3 1");
    t.quiet("the read after that");
    // ... or a whole transaction.
    t.script("CLIENT CACHING YES\nMULTI\nGET o1\nGET o3\nEXEC\nGET o2");
    w.check("SET o1 2");
    t.expect(1, "SET o1 read in EXEC");
    w.check("SET o3 2");
    t.expect(1, "SET o3 read in EXEC");
    w.check("SET o2 2");
    t.quiet("read after EXEC");
    // A refused command uses it up as well.
    t.script("CLIENT CACHING YES\nNOSUCHCOMMAND\nGET o2");
    t.script("CLIENT CACHING YES\nGET\nGET o2");
    t.script("CLIENT CACHING YES\nCLIENT NOSUCH\nGET o2");
    w.check("SET o2 3");
    t.quiet("CACHING YES used up by refused commands");
    t.check("CLIENT TRACKING OFF");
    t.check("CLIENT TRACKING ON OPTOUT");
    t.script("GET o1\nCLIENT CACHING NO\nCLIENT TRACKINGINFO\nGET o2\nGET o3");
    w.check("SET o1 4");
    t.expect(1, "OPTOUT read");
    w.check("SET o2 4");
    t.quiet("OPTOUT read after CACHING NO");
    w.check("SET o3 4");
    t.expect(1, "OPTOUT read after that");
}

#[test]
fn noloop_skips_the_clients_own_changes() {
    let p = Pair::new();
    let mut t = Both::resp3(&p);
    let mut w = Both::new(&p);
    t.check("CLIENT TRACKING ON NOLOOP");
    t.check("GET n");
    t.check("SET n 1");
    t.quiet("own change with NOLOOP");
    // The entry went with that change, as in Redis: nothing for the next one either.
    w.check("SET n 2");
    t.quiet("change after an own change");
    t.check("GET n");
    w.check("SET n 3");
    t.expect(1, "another client's change");
    // Flushes ignore NOLOOP.
    t.check("GET n");
    t.cmd("FLUSHDB", 2);
}

#[test]
fn flushes_send_a_null_to_every_tracking_client() {
    let p = Pair::new();
    let mut t1 = Both::resp3(&p);
    let mut t2 = Both::resp3(&p);
    let mut w = Both::new(&p);
    t1.check("CLIENT TRACKING ON");
    t2.check("CLIENT TRACKING ON BCAST");
    t1.check("GET f");
    w.check("FLUSHALL");
    t1.expect(1, "FLUSHALL");
    t2.expect(1, "FLUSHALL (BCAST client)");
    check_info(&mut w, "FLUSHALL");
    w.check("FLUSHDB ASYNC");
    t1.expect(1, "FLUSHDB ASYNC");
    t2.expect(1, "FLUSHDB ASYNC (BCAST client)");
    // The table went with the flush: the old read is forgotten.
    w.check("SET f 1");
    t1.quiet("SET after a flush");
    t2.expect(1, "SET f (BCAST)");
    w.check("SWAPDB 0 1");
    t1.quiet("SWAPDB");
    t2.quiet("SWAPDB");
    // Its own flush: reply then null; one null per flush in a transaction.
    t1.cmd("FLUSHALL", 2);
    t2.expect(1, "FLUSHALL by the other client");
    t1.script("MULTI\nFLUSHALL\nFLUSHDB");
    t1.cmd("EXEC", 3);
    t2.expect(2, "two flushes in EXEC");
    // RESP2 clients are told nothing (no redirect), and a client that does not track
    // gets nothing.
    let mut r2 = Both::new(&p);
    r2.check("CLIENT TRACKING ON");
    w.check("FLUSHALL");
    r2.quiet("FLUSHALL to a RESP2 tracking client");
    t1.expect(1, "FLUSHALL");
    t2.expect(1, "FLUSHALL");
    w.quiet("FLUSHALL by a client that does not track");
}

#[test]
fn every_client_tracking_error() {
    let p = Pair::new();
    let mut t = Both::new(&p);
    let own = t.id();
    t.script(
        "CLIENT TRACKING
         CLIENT TRACKING maybe
         CLIENT TRACKING ON foo
         CLIENT TRACKING ON REDIRECT
         CLIENT TRACKING ON PREFIX
         CLIENT TRACKING ON REDIRECT abc
         CLIENT TRACKING ON REDIRECT 99999
         CLIENT TRACKING ON REDIRECT -1
         CLIENT TRACKING ON REDIRECT 0
         CLIENT TRACKING OFF REDIRECT 99999
         CLIENT TRACKING maybe BCAST
         CLIENT TRACKING ON PREFIX a
         CLIENT TRACKING ON BCAST OPTIN
         CLIENT TRACKING ON BCAST OPTOUT
         CLIENT TRACKING ON OPTIN OPTOUT
         CLIENT TRACKING ON BCAST NOLOOP OPTIN OPTIN
         CLIENT TRACKING ON BCAST PREFIX a PREFIX ab
         CLIENT TRACKING ON BCAST PREFIX x PREFIX x
         CLIENT TRACKING ON BCAST PREFIX abc PREFIX a
         CLIENT TRACKING ON BCAST PREFIX \"\" PREFIX a
         CLIENT TRACKING ON BCAST PREFIX \"a\\x00b\" PREFIX \"a\\x00b\"
         CLIENT TRACKINGINFO
         CLIENT TRACKING ON BCAST PREFIX \"a\\x00b\" PREFIX \"a\\x00c\"
         CLIENT TRACKINGINFO
         CLIENT TRACKING ON BCAST PREFIX a
         CLIENT TRACKING ON BCAST PREFIX \"a\\x00bc\"
         CLIENT TRACKING ON
         CLIENT TRACKING ON OPTIN
         CLIENT TRACKING OFF
         CLIENT TRACKING ON OPTIN
         CLIENT TRACKING ON OPTOUT
         CLIENT TRACKING ON OPTIN NOLOOP
         CLIENT TRACKING ON BCAST
         CLIENT TRACKING OFF
         CLIENT TRACKING ON OPTOUT
         CLIENT TRACKING ON OPTIN
         CLIENT TRACKING OFF
         CLIENT TRACKING OFF
         CLIENT CACHING
         CLIENT CACHING YES X
         CLIENT CACHING YES
         CLIENT CACHING NO
         CLIENT CACHING MAYBE
         CLIENT TRACKING ON
         CLIENT CACHING YES
         CLIENT CACHING NO
         CLIENT CACHING MAYBE
         CLIENT TRACKING OFF
         CLIENT TRACKING ON OPTIN
         CLIENT CACHING NO
         CLIENT CACHING yes
         CLIENT TRACKING OFF
         CLIENT TRACKING ON OPTOUT
         CLIENT CACHING YES
         CLIENT CACHING no
         CLIENT TRACKING OFF
         CLIENT GETREDIR x
         CLIENT TRACKINGINFO x",
    );
    // Redirect to itself is allowed; a second REDIRECT is not.
    t.check_with_id("CLIENT TRACKING ON REDIRECT {} REDIRECT {}", own, 1);
    t.check_with_id("CLIENT TRACKING ON REDIRECT {}", own, 1);
    t.check_with_id("CLIENT GETREDIR", own, 1);
    t.check("CLIENT TRACKING OFF");
    t.check("CLIENT GETREDIR");
    // Redis's quirk: an overlap among the new prefixes found past the first one is
    // replied as an error, and tracking is enabled anyway, with a second reply +OK.
    t.cmd("CLIENT TRACKING ON BCAST PREFIX a PREFIX b PREFIX bc", 2);
    t.check("CLIENT TRACKINGINFO");
    t.check("CLIENT TRACKING ON BCAST PREFIX b");
    t.check("CLIENT TRACKING OFF");
    // The same on a RESP3 connection (error replies do not change, TRACKINGINFO does).
    let mut t3 = Both::resp3(&p);
    t3.script(
        "CLIENT TRACKING ON PREFIX a
         CLIENT TRACKING ON BCAST OPTIN
         CLIENT CACHING YES
         CLIENT TRACKING ON BCAST PREFIX a PREFIX ab",
    );
    t3.cmd("CLIENT TRACKING ON BCAST PREFIX a PREFIX b PREFIX bc", 2);
    t3.check("CLIENT TRACKINGINFO");
    // Refused commands are counted as Redis counts them.
    let (x, y) = (
        t.ours.cmd("INFO errorstats"),
        t.redis.cmd("INFO errorstats"),
    );
    assert_eq!(show(&x), show(&y), "INFO errorstats");
}

#[test]
fn trackinginfo_and_getredir_in_every_mode() {
    let p = Pair::new();
    for resp3 in [false, true] {
        let mut t = if resp3 {
            Both::resp3(&p)
        } else {
            Both::new(&p)
        };
        let mut r = Both::new(&p);
        let rid = r.id();
        t.script(
            "CLIENT TRACKINGINFO
             CLIENT GETREDIR
             CLIENT TRACKING ON
             CLIENT TRACKINGINFO
             CLIENT GETREDIR
             CLIENT TRACKING ON NOLOOP
             CLIENT TRACKINGINFO
             CLIENT TRACKING ON OPTIN NOLOOP
             CLIENT TRACKINGINFO
             CLIENT CACHING YES
             CLIENT TRACKINGINFO
             GET k
             CLIENT TRACKINGINFO
             CLIENT TRACKING OFF
             CLIENT TRACKINGINFO
             CLIENT TRACKING ON OPTOUT
             CLIENT CACHING NO
             CLIENT TRACKINGINFO
             CLIENT TRACKING OFF
             CLIENT TRACKING ON BCAST PREFIX z PREFIX y PREFIX \"\"
             CLIENT TRACKINGINFO
             CLIENT TRACKING ON BCAST
             CLIENT TRACKINGINFO
             CLIENT TRACKING OFF
             CLIENT TRACKING ON BCAST NOLOOP
             CLIENT TRACKINGINFO
             CLIENT TRACKING OFF
             CLIENT TRACKINGINFO
             CLIENT GETREDIR",
        );
        t.check_with_id("CLIENT TRACKING ON REDIRECT {} OPTIN", rid, 1);
        t.check_with_id("CLIENT TRACKINGINFO", rid, 1);
        t.check_with_id("CLIENT GETREDIR", rid, 1);
        assert_eq!(
            t.info_field("redir"),
            (rid.0.to_string(), rid.1.to_string())
        );
        let (a, b) = t.info_field("flags");
        assert_eq!((a.as_str(), b.as_str()), ("t", "t"));
        // RESET ends tracking.
        t.check("RESET");
        t.check("CLIENT TRACKINGINFO");
        assert_eq!(t.info_field("redir"), ("-1".into(), "-1".into()));
        let (a, b) = t.info_field("flags");
        assert_eq!((a.as_str(), b.as_str()), ("N", "N"));
    }
}

#[test]
fn info_counts_tracking_clients_keys_items_and_prefixes() {
    let p = Pair::new();
    let mut w = Both::new(&p);
    check_info(&mut w, "start");
    let mut t1 = Both::resp3(&p);
    let mut t2 = Both::new(&p);
    let mut b = Both::resp3(&p);
    t1.check("CLIENT TRACKING ON");
    t2.check("CLIENT TRACKING ON");
    b.check("CLIENT TRACKING ON BCAST PREFIX p PREFIX q");
    check_info(&mut w, "three tracking clients");
    t1.script("GET a\nMGET a b c\nGET a");
    t2.script("GET a\nGET d");
    check_info(&mut w, "reads");
    w.check("SET a 1");
    t1.expect(1, "SET a");
    check_info(&mut w, "SET a");
    w.check("DEL b");
    check_info(&mut w, "DEL of a missing key");
    // A departed client's ids stay until their keys change, as in Redis.
    let t2id = t2.id();
    drop(t2);
    w.wait_gone(t2id);
    check_info(&mut w, "a tracking client left");
    w.check("SET d 1");
    check_info(&mut w, "SET d read by the departed client");
    b.check("CLIENT TRACKING OFF");
    check_info(&mut w, "BCAST client off");
    w.check("FLUSHALL");
    t1.expect(1, "FLUSHALL");
    check_info(&mut w, "FLUSHALL");
}

#[test]
fn command_info_of_the_tracking_subcommands() {
    let mut p = Pair::new();
    p.check("COMMAND INFO client|tracking client|caching client|getredir client|trackinginfo");
    p.check("COMMAND GETKEYS CLIENT TRACKING ON");
}
