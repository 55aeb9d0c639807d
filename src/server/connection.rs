//! One client connection: owns the socket and its buffers, nothing else.
//!
//! Each read decodes *every* complete request in the buffer, executes them in order with
//! their replies appended to one output buffer, and writes that buffer once. That batching
//! is what makes pipelining fast. A protocol error is answered and closes the connection;
//! a query buffer over `client-query-buffer-limit` closes it without a reply, as Redis does.
//!
//! Frames other clients push to this one (pub/sub messages, ...) wait in its mailbox
//! (`ClientInfo::mailbox`); the task waits for the socket and the mailbox together, so
//! they go out promptly even when the client sends nothing. Frames already waiting when a
//! batch of requests is read go out before that batch's replies. Writes are abandoned
//! when the client is killed (CLIENT KILL, output buffer limits), so a client that does
//! not read cannot hold its task.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::commands::blocking::Waiter;
use crate::commands::clients::ClientInfo;
use crate::commands::{execute, Args, Ctx, Session, Shared};
use crate::protocol::{Decoded, Limits, ReplyBuf, Request, RequestDecoder};

const READ_CHUNK: usize = 16 * 1024;
/// Buffers larger than this are released when they empty, so idle clients stay small.
const KEEP_BUF: usize = 256 * 1024;

/// Serves one client until it quits, errs, is killed, or the server stops.
pub async fn serve(shared: Arc<Shared>, mut stream: TcpStream, info: Arc<ClientInfo>) {
    let _ = stream.set_nodelay(true);
    let authenticated = shared.config.read().requirepass.is_none();
    let mut session = Session::new(info.clone(), authenticated);
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let mut decoder = RequestDecoder::new();
    let mut req = Request::default();
    let mut out = ReplyBuf::new();
    // Requests already buffered when a blocked command returned: run them before reading.
    let mut pending = false;

    'conn: loop {
        if buf.capacity() - buf.len() < READ_CHUNK / 4 {
            buf.reserve(READ_CHUNK);
        }
        let (query_limit, max_bulk) = {
            let c = shared.config.read();
            (c.client_query_buffer_limit, c.proto_max_bulk_len)
        };
        let mut input = pending;
        // Frames pushed while this task was busy (their wake-up may have been taken by a
        // write that was waiting) go out without waiting for the socket.
        if !pending && !info.has_pushed() {
            // Idle clients (`timeout`) are closed by the server's cron through the kill
            // switch, which also wakes the mailbox (one waiter fewer per read).
            let n = tokio::select! {
                r = stream.read_buf(&mut buf) => match r {
                    Ok(0) | Err(_) => break 'conn,
                    Ok(n) => n,
                },
                _ = info.mailbox.notify.notified() => 0,
            };
            if info.is_killed() {
                break;
            }
            if n > 0 {
                count_read(&shared, n);
                info.touch();
                input = true;
            }
        }
        pending = false;
        if !input {
            // Woken for pushed frames only. Let the tasks that are ready run first (the
            // publishers among them add more frames), so one write carries many frames,
            // as Redis writes each client once per event-loop pass.
            tokio::task::yield_now().await;
        }
        // Frames pushed before these requests were read precede their replies.
        info.take_pushed(&mut out.buf);
        if !input {
            if !out.buf.is_empty() {
                if !write_out(&shared, &mut stream, &mut out.buf, &info).await {
                    break;
                }
                // Redis counts a write to the client as interaction too (CLIENT LIST idle).
                info.touch();
            }
            continue;
        }

        let mut consumed = 0;
        let mut close = false;
        let mut executed = 0u64;
        loop {
            let limits = Limits {
                proto_max_bulk_len: max_bulk,
                authenticated: session.authenticated,
            };
            match decoder.decode(&buf[consumed..], &mut req, limits) {
                Ok(Decoded::Request(used)) => {
                    out.resp3 = session.resp == 3;
                    if shared.control.pause.is_active() {
                        // CLIENT PAUSE: replies so far go out, then this command waits.
                        let args = Args::new(&buf[consumed..], &req);
                        if let Ok(spec) = shared.commands.resolve(&args) {
                            while let Some(left) = shared.control.pause.wait_for(spec) {
                                if !out.buf.is_empty() {
                                    if stream.write_all(&out.buf).await.is_err() {
                                        break 'conn;
                                    }
                                    out.buf.clear();
                                }
                                tokio::select! {
                                    _ = tokio::time::sleep(left) => {}
                                    _ = shared.control.pause.notify.notified() => {}
                                    _ = info.kill_notify.notified() => break 'conn,
                                }
                            }
                        }
                    }
                    // CLIENT REPLY OFF / SKIP: the command runs, its reply is dropped.
                    let reply_mark = out.buf.len();
                    let skip_reply = std::mem::take(&mut session.reply_skip_next);
                    let ran = {
                        let args = Args::new(&buf[consumed..], &req);
                        let mut ctx = Ctx::new(&shared, &mut session, &mut out);
                        // A bug in a handler must cost this client its connection, never
                        // the server: parking_lot locks are released on unwind, unpoisoned.
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            execute(&mut ctx, &args)
                        }))
                    };
                    if ran.is_err() {
                        tracing::error!(
                            client = info.id,
                            "command handler panicked; closing the client"
                        );
                        out.error("ERR internal error: the command failed unexpectedly; closing the connection");
                        close = true;
                        break;
                    }
                    if skip_reply || session.reply_off {
                        out.buf.truncate(reply_mark);
                    }
                    executed += 1;
                    consumed += used;
                    if let Some(pause) = session.sleep_after_reply.take() {
                        // DEBUG SLEEP: this client waits (its reply with it); others don't.
                        tokio::select! {
                            _ = tokio::time::sleep(pause) => {}
                            _ = info.kill_notify.notified() => break 'conn,
                        }
                        info.touch();
                    }
                    if session.close_after_reply || info.is_killed() {
                        close = true;
                        break;
                    }
                    if session.blocked.is_some() {
                        // Nothing more runs for this client until it is unblocked.
                        break;
                    }
                }
                Ok(Decoded::Empty(used)) => consumed += used,
                Ok(Decoded::Incomplete { hint }) => {
                    let have = buf.len() - consumed;
                    if hint > have {
                        // Grow toward a large argument gradually: a header alone must not
                        // make us allocate what the client claims it will send.
                        let want = (hint - have).min(have.max(64 * 1024));
                        buf.reserve(want);
                    }
                    break;
                }
                Err(e) => {
                    shared.count_error("ERR");
                    out.error_bytes(&e.reply());
                    tracing::debug!(client = info.id, "protocol error: {}", e.0);
                    close = true;
                    break;
                }
            }
        }
        buf.advance(consumed);
        if executed > 0 {
            shared
                .stats
                .total_commands_processed
                .fetch_add(executed, Ordering::Relaxed);
        }
        if buf.len() > query_limit {
            tracing::info!(
                client = info.id,
                "closing client that exceeded the query buffer limit"
            );
            break;
        }
        if buf.is_empty() && buf.capacity() > KEEP_BUF {
            buf = BytesMut::with_capacity(READ_CHUNK);
        }
        info.query_buf.store(buf.len(), Ordering::Relaxed);
        info.query_buf_free
            .store(buf.capacity() - buf.len(), Ordering::Relaxed);
        if !out.buf.is_empty() && !write_out(&shared, &mut stream, &mut out.buf, &info).await {
            break;
        }
        if close {
            break;
        }
        if let Some(w) = session.blocked.take() {
            let alive = wait_blocked(
                &shared,
                &w,
                &mut stream,
                &mut buf,
                &info,
                query_limit,
                &mut out.buf,
            )
            .await;
            if !alive {
                break;
            }
            out.resp3 = session.resp == 3;
            info.take_pushed(&mut out.buf);
            match w.take_reply() {
                Some(reply) => out.raw(&reply),
                None => crate::commands::blocking::timeout_reply(&mut out, w.on_timeout),
            }
            if !write_out(&shared, &mut stream, &mut out.buf, &info).await {
                break;
            }
            info.touch();
            pending = !buf.is_empty();
        }
    }
    // Subscriptions end with the connection, before it leaves the registry.
    crate::commands::pubsub::unsubscribe_everything(&shared, &mut session);
    crate::commands::tracking::disable(&shared, &mut session);
    crate::commands::transactions::end_transaction(&shared, &mut session);
    crate::commands::control::forget(&shared, &info);
    // Out of the registry before the peer sees the close, so a client that reacts to
    // the close never finds this one in CLIENT LIST.
    shared.clients.unregister(info.id);
    let _ = stream.shutdown().await;
}

/// Writes `out` to the socket and clears it. Returns false if the connection must close:
/// a write error, or the client was killed meanwhile (CLIENT KILL, or pushes took it over
/// its output buffer limit while it was not reading). Bytes the kernel has not taken yet
/// count toward the client's output buffer (`omem`), and a client stuck over its soft
/// limit is checked again when the soft limit's time runs out even if nothing more is
/// pushed to it, as Redis's clientsCron does.
async fn write_out(
    shared: &Shared,
    stream: &mut TcpStream,
    out: &mut Vec<u8>,
    info: &ClientInfo,
) -> bool {
    let stats = &shared.stats;
    stats
        .net_output_bytes
        .fetch_add(out.len() as u64, Ordering::Relaxed);
    stats.total_writes_processed.fetch_add(1, Ordering::Relaxed);
    let mut pos = 0;
    while pos < out.len() {
        match stream.try_write(&out[pos..]) {
            Ok(0) => return false,
            Ok(n) => {
                pos += n;
                continue;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => return false,
        }
        // The kernel's buffer is full: the client is not reading (fast enough).
        info.set_inflight(out.len() - pos);
        let limits = &shared.clients.obuf_limits;
        let recheck = info
            .soft_limit_deadline_ms(limits)
            .map(|at| tokio::time::Duration::from_millis(at.saturating_sub(crate::util::now_ms())));
        tokio::select! {
            r = stream.writable() => {
                if r.is_err() {
                    return false;
                }
            }
            _ = info.kill_notify.notified() => return false,
            // New pushes, or the soft limit newly exceeded: look at the deadline again.
            _ = info.mailbox.notify.notified() => {}
            _ = sleep_for(recheck) => {
                if info.check_output_limit(limits) {
                    return false;
                }
            }
        }
        if info.is_killed() {
            return false;
        }
    }
    info.set_inflight(0);
    out.clear();
    if out.capacity() > KEEP_BUF {
        *out = Vec::new();
    }
    true
}

async fn sleep_for(d: Option<tokio::time::Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

fn count_read(shared: &Shared, n: usize) {
    shared
        .stats
        .net_input_bytes
        .fetch_add(n as u64, Ordering::Relaxed);
    shared
        .stats
        .total_reads_processed
        .fetch_add(1, Ordering::Relaxed);
}

/// Parks a blocked client until it is served, its timeout passes (the waiter is then
/// cancelled and `take_reply` finds nothing), or it goes away. Bytes it sends meanwhile
/// are buffered, not run, as in Redis; frames pushed to it (RESP3 pub/sub) are written
/// as they come. Returns false if the connection must close.
async fn wait_blocked(
    shared: &Shared,
    w: &Arc<Waiter>,
    stream: &mut TcpStream,
    buf: &mut BytesMut,
    info: &ClientInfo,
    query_limit: usize,
    out: &mut Vec<u8>,
) -> bool {
    let deadline = w.timeout.map(|d| tokio::time::Instant::now() + d);
    loop {
        if info.has_pushed() {
            info.take_pushed(out);
            if !write_out(shared, stream, out, info).await {
                shared.blocking.cancel(w);
                return false;
            }
        }
        // Served (or cancelled by CLIENT UNBLOCK) while we were not looking.
        if !w.is_waiting() {
            return true;
        }
        if info.is_killed() {
            shared.blocking.cancel(w);
            return false;
        }
        tokio::select! {
            _ = w.notify.notified() => {}
            _ = sleep_until(deadline) => {
                // If a writer served us in the meantime, its reply wins.
                shared.blocking.cancel(w);
                return true;
            }
            r = stream.read_buf(buf) => match r {
                Ok(0) | Err(_) => {
                    shared.blocking.cancel(w);
                    return false;
                }
                Ok(n) => {
                    count_read(shared, n);
                    if buf.len() > query_limit {
                        shared.blocking.cancel(w);
                        return false;
                    }
                    if buf.capacity() - buf.len() < READ_CHUNK / 4 {
                        buf.reserve(READ_CHUNK);
                    }
                }
            },
            _ = info.kill_notify.notified() => {
                shared.blocking.cancel(w);
                return false;
            }
            // Pushed frames: written at the top of the loop.
            _ = info.mailbox.notify.notified() => {}
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
