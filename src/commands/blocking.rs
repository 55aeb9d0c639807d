//! Blocking commands (BLPOP, BLMOVE, BZPOPMIN, ...): the waiting room of clients parked on
//! keys, and the hand-off that serves them when a write makes a key ready.
//!
//! A blocking handler first tries to serve itself like its non-blocking twin. When there
//! is nothing to take it calls [`block`], which parks the client on its keys. After every
//! write command the keys it wrote are checked for waiters; the oldest waiter of a ready
//! key is served by re-running its own handler, in the writer's context, before any other
//! command can touch the key, so an element is never lost or delivered twice.

use std::time::Duration;

use super::{Args, CmdError, CmdResult, Ctx};

/// What a blocked client receives when its timeout passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutReply {
    /// `*-1` (RESP3 `_`): BLPOP, BRPOP, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP.
    NullArray,
    /// `$-1` (RESP3 `_`): BLMOVE, BRPOPLPUSH.
    NullBulk,
}

/// Parses a blocking command's timeout in seconds (fractions allowed) as Redis's
/// `getTimeoutFromObjectOrReply`. `None` means wait forever (0).
pub fn parse_timeout(arg: &[u8]) -> Result<Option<Duration>, CmdError> {
    use crate::util::long_double::LongDouble;
    let not_float = || CmdError::new("ERR timeout is not a float or out of range");
    let secs = match LongDouble::parse(arg).ok_or_else(not_float)? {
        LongDouble::Inf { neg } => {
            if neg {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }
        }
        v => v
            .to_human_string()
            .and_then(|s| s.parse::<f64>().ok())
            .ok_or_else(not_float)?,
    };
    let ms = (secs * 1000.0).ceil();
    if ms > i64::MAX as f64 {
        return Err(CmdError::new("ERR timeout is out of range"));
    }
    if ms < 0.0 {
        return Err(CmdError::new("ERR timeout is negative"));
    }
    if ms == 0.0 {
        return Ok(None);
    }
    Ok(Some(Duration::from_millis(ms as u64)))
}

/// Parks the calling client on `keys` (in the session's database) until a write makes one
/// of them ready, `timeout` passes (then it gets `on_timeout`), or it disconnects.
///
/// A handler calls this when it found nothing to serve and has written no reply. Where a
/// client may not block (inside MULTI or a script) the timeout reply is written at once,
/// as Redis does. When the handler is being re-run to serve a waiter, this records that
/// the waiter could not be served yet and writes nothing.
pub fn block(
    ctx: &mut Ctx,
    args: &Args,
    keys: Vec<Vec<u8>>,
    timeout: Option<Duration>,
    on_timeout: TimeoutReply,
) -> CmdResult {
    let _ = (ctx, args, keys, timeout, on_timeout);
    Err(CmdError::new("ERR blocking is not built yet"))
}
