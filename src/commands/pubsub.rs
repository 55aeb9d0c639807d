//! Pub/Sub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, SSUBSCRIBE, SUNSUBSCRIBE,
//! PUBLISH, SPUBLISH and PUBSUB introspection, with Redis 7.0's frames and counts.
//!
//! The [`Registry`] maps each channel (and shard channel) to its subscribers in the order
//! they subscribed, as Redis 7.0's lists do, and each pattern to its subscribers. The
//! channel maps are split into a few `RwLock`ed shards by channel hash, so PUBLISH takes
//! one read lock: it encodes the message frame once and pushes it to every subscriber's
//! mailbox ([`ClientInfo::deliver`]), whose connection task writes it out. Frames for the
//! publishing client itself go straight into its reply, after anything already waiting in
//! its mailbox, so it sees them before the reply of the command that caused them, as in
//! Redis. Keyspace notifications and other server-generated messages use [`publish`] too.
//!
//! A client's own subscriptions live in its session ([`Subscriptions`]); the counts in
//! its [`ClientInfo`] feed CLIENT LIST and put it in the pubsub output-buffer class. In
//! RESP2 a subscribed client may only run the commands [`check_subscribed_mode`] lets
//! through; in RESP3 everything is allowed and frames arrive as push frames.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use hashbrown::{DefaultHashBuilder, HashMap, HashSet};
use parking_lot::RwLock;

use super::clients::{help_reply, ClientInfo};
use super::{cmd, container, Args, CmdError, CmdResult, CommandSpec, CommandTable, Ctx, Shared};
use crate::protocol::ReplyBuf;

const CAT: &[&str] = &["pubsub"];

pub fn register(t: &mut CommandTable) {
    const SUB: &str = "pubsub noscript loading stale";
    const PUB: &str = "pubsub loading stale fast";
    const INTRO: &str = "pubsub loading stale";
    t.add(cmd("subscribe", -2, SUB, CAT, (0, 0, 0), subscribe));
    t.add(cmd("unsubscribe", -1, SUB, CAT, (0, 0, 0), unsubscribe));
    t.add(cmd("psubscribe", -2, SUB, CAT, (0, 0, 0), psubscribe));
    t.add(cmd("punsubscribe", -1, SUB, CAT, (0, 0, 0), punsubscribe));
    // Redis gives the shard commands key specs (flagged not_key) for cluster routing;
    // COMMAND GETKEYS reports no keys for them.
    t.add(cmd("ssubscribe", -2, SUB, CAT, (1, -1, 1), ssubscribe));
    t.add(cmd("sunsubscribe", -1, SUB, CAT, (1, -1, 1), sunsubscribe));
    t.add(cmd("publish", 3, PUB, CAT, (0, 0, 0), publish_cmd));
    t.add(cmd("spublish", 3, PUB, CAT, (1, 1, 1), spublish));
    t.add(
        cmd("pubsub", -2, "", &[], (0, 0, 0), container).with_subcommands(vec![
            cmd(
                "pubsub|channels",
                -2,
                INTRO,
                CAT,
                (0, 0, 0),
                pubsub_channels,
            ),
            cmd("pubsub|numsub", -2, INTRO, CAT, (0, 0, 0), pubsub_numsub),
            cmd("pubsub|numpat", 2, INTRO, CAT, (0, 0, 0), pubsub_numpat),
            cmd(
                "pubsub|shardchannels",
                -2,
                INTRO,
                CAT,
                (0, 0, 0),
                pubsub_shardchannels,
            ),
            cmd(
                "pubsub|shardnumsub",
                -2,
                INTRO,
                CAT,
                (0, 0, 0),
                pubsub_shardnumsub,
            ),
            cmd(
                "pubsub|help",
                2,
                "loading stale",
                &[],
                (0, 0, 0),
                pubsub_help,
            ),
        ]),
    );
}

// ---------------------------------------------------------------------------------------
// The server-wide registry.

/// Subscribers of one channel or pattern, in subscription order.
type Subscribers = Vec<Arc<ClientInfo>>;

/// Names (channels or patterns) to their subscribers.
type NameMap = HashMap<Box<[u8]>, Subscribers>;

/// Shards of a channel map: enough that SUBSCRIBE/UNSUBSCRIBE traffic on different
/// channels rarely meets on a lock, few enough that PUBSUB CHANNELS stays cheap.
const CHANNEL_SHARDS: usize = 16;

/// Channel name -> subscribers, split into `RwLock`ed shards by the channel's hash.
struct ChannelMap {
    shards: Box<[RwLock<NameMap>]>,
    hasher: DefaultHashBuilder,
    /// Channels with at least one subscriber (INFO pubsub_channels).
    count: AtomicUsize,
}

impl ChannelMap {
    fn new() -> Self {
        ChannelMap {
            shards: (0..CHANNEL_SHARDS)
                .map(|_| RwLock::new(HashMap::new()))
                .collect(),
            hasher: DefaultHashBuilder::default(),
            count: AtomicUsize::new(0),
        }
    }

    fn shard(&self, channel: &[u8]) -> &RwLock<NameMap> {
        let h = self.hasher.hash_one(channel) as usize;
        &self.shards[h % CHANNEL_SHARDS]
    }

    fn add(&self, channel: &[u8], client: &Arc<ClientInfo>) {
        let mut map = self.shard(channel).write();
        match map.get_mut(channel) {
            Some(list) => list.push(client.clone()),
            None => {
                map.insert(channel.into(), vec![client.clone()]);
                self.count.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn remove(&self, channel: &[u8], id: u64) {
        let mut map = self.shard(channel).write();
        if let Some(list) = map.get_mut(channel) {
            list.retain(|c| c.id != id);
            if list.is_empty() {
                // Dropped with its last subscriber, so channels cannot pile up.
                map.remove(channel);
                self.count.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    fn subscribers(&self, channel: &[u8]) -> usize {
        self.shard(channel).read().get(channel).map_or(0, Vec::len)
    }

    /// Channels matching a glob pattern (all with None).
    fn names(&self, pattern: Option<&[u8]>) -> Vec<Box<[u8]>> {
        let mut out = Vec::new();
        for shard in self.shards.iter() {
            for name in shard.read().keys() {
                if pattern.is_none_or(|p| crate::util::glob_match(p, name, false)) {
                    out.push(name.clone());
                }
            }
        }
        out
    }
}

/// Every subscription on the server.
pub struct Registry {
    channels: ChannelMap,
    shard_channels: ChannelMap,
    patterns: RwLock<NameMap>,
    /// Distinct patterns (INFO pubsub_patterns, PUBSUB NUMPAT); PUBLISH skips the pattern
    /// lock when there are none.
    pattern_count: AtomicUsize,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            channels: ChannelMap::new(),
            shard_channels: ChannelMap::new(),
            patterns: RwLock::new(HashMap::new()),
            pattern_count: AtomicUsize::new(0),
        }
    }
}

impl Registry {
    /// Channels with subscribers (INFO stats pubsub_channels).
    pub fn channel_count(&self) -> usize {
        self.channels.count.load(Ordering::Relaxed)
    }

    /// Distinct subscribed patterns (INFO stats pubsub_patterns).
    pub fn pattern_count(&self) -> usize {
        self.pattern_count.load(Ordering::Relaxed)
    }

    /// Shard channels with subscribers (INFO stats pubsubshard_channels).
    pub fn shard_channel_count(&self) -> usize {
        self.shard_channels.count.load(Ordering::Relaxed)
    }

    fn add(&self, kind: Kind, name: &[u8], client: &Arc<ClientInfo>) {
        match kind {
            Kind::Channel => self.channels.add(name, client),
            Kind::Shard => self.shard_channels.add(name, client),
            Kind::Pattern => {
                let mut map = self.patterns.write();
                match map.get_mut(name) {
                    Some(list) => list.push(client.clone()),
                    None => {
                        map.insert(name.into(), vec![client.clone()]);
                        self.pattern_count.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
    }

    fn remove(&self, kind: Kind, name: &[u8], id: u64) {
        match kind {
            Kind::Channel => self.channels.remove(name, id),
            Kind::Shard => self.shard_channels.remove(name, id),
            Kind::Pattern => {
                let mut map = self.patterns.write();
                if let Some(list) = map.get_mut(name) {
                    list.retain(|c| c.id != id);
                    if list.is_empty() {
                        map.remove(name);
                        self.pattern_count.fetch_sub(1, Ordering::Relaxed);
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Delivery.

/// The publishing client, when there is one: frames for itself go into its reply.
pub struct Publisher<'a> {
    pub info: &'a ClientInfo,
    pub out: &'a mut ReplyBuf,
}

impl<'a> Publisher<'a> {
    /// The client running the current command.
    pub fn of(ctx: &'a mut Ctx) -> Publisher<'a> {
        Publisher {
            info: &ctx.session.info,
            out: &mut *ctx.out,
        }
    }

    /// Delivers a frame (RESP2 array form) to `target`: into this client's own reply if
    /// it is the target, to the target's mailbox otherwise. The way for server-generated
    /// frames (invalidations, MONITOR lines) to reach a client in order.
    pub fn deliver_to(&mut self, shared: &Shared, target: &ClientInfo, frame: &[u8]) {
        if target.id == self.info.id {
            self.push(frame);
        } else {
            target.deliver(frame, &shared.clients.obuf_limits);
        }
    }

    fn push(&mut self, frame: &[u8]) {
        // What others pushed to it earlier goes first, keeping the order Redis's single
        // output buffer would have.
        self.info.take_pushed(&mut self.out.buf);
        if self.out.resp3 {
            self.out.buf.push(b'>');
            self.out.buf.extend_from_slice(&frame[1..]);
        } else {
            self.out.buf.extend_from_slice(frame);
        }
    }
}

/// Encodes `*N` followed by each part as a bulk string: the RESP2 form of a message frame
/// (the RESP3 push form differs only in its first byte).
pub fn encode_frame(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = ReplyBuf::new();
    out.buf
        .reserve(16 + parts.iter().map(|p| p.len() + 16).sum::<usize>());
    out.array(parts.len());
    for p in parts {
        out.bulk(p);
    }
    out.buf
}

/// Sends one frame to each subscriber in `list`; returns how many there were.
fn send_all(
    shared: &Shared,
    list: &[Arc<ClientInfo>],
    frame: &[u8],
    me: &mut Option<Publisher<'_>>,
) -> usize {
    let limits = &shared.clients.obuf_limits;
    for c in list {
        match me {
            Some(p) if p.info.id == c.id => p.push(frame),
            _ => {
                c.deliver(frame, limits);
            }
        }
    }
    list.len()
}

/// PUBLISH: delivers `message` to the subscribers of `channel` and of every pattern that
/// matches it, and returns the number of deliveries (a client subscribed to the channel
/// and to two matching patterns counts three times, as in Redis). `me` is the publishing
/// client if it may be a subscriber itself (a command's own notifications); None for
/// messages the server sends on its own (expiry, eviction).
pub fn publish(
    shared: &Shared,
    channel: &[u8],
    message: &[u8],
    mut me: Option<Publisher<'_>>,
) -> usize {
    let reg = &shared.pubsub;
    let mut receivers = 0;
    {
        let map = reg.channels.shard(channel).read();
        if let Some(list) = map.get(channel) {
            let frame = encode_frame(&[b"message", channel, message]);
            receivers += send_all(shared, list, &frame, &mut me);
        }
    }
    if reg.pattern_count() > 0 {
        let map = reg.patterns.read();
        for (pattern, list) in map.iter() {
            if crate::util::glob_match(pattern, channel, false) {
                let frame = encode_frame(&[b"pmessage", pattern, channel, message]);
                receivers += send_all(shared, list, &frame, &mut me);
            }
        }
    }
    receivers
}

/// SPUBLISH: delivers to the subscribers of a shard channel (patterns do not apply).
pub fn spublish_message(
    shared: &Shared,
    channel: &[u8],
    message: &[u8],
    mut me: Option<Publisher<'_>>,
) -> usize {
    let map = shared.pubsub.shard_channels.shard(channel).read();
    match map.get(channel) {
        Some(list) => {
            let frame = encode_frame(&[b"smessage", channel, message]);
            send_all(shared, list, &frame, &mut me)
        }
        None => 0,
    }
}

// ---------------------------------------------------------------------------------------
// The client's side.

/// What a subscription is to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    fn subscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"subscribe",
            Kind::Pattern => b"psubscribe",
            Kind::Shard => b"ssubscribe",
        }
    }

    fn unsubscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"unsubscribe",
            Kind::Pattern => b"punsubscribe",
            Kind::Shard => b"sunsubscribe",
        }
    }
}

/// One client's subscriptions (part of its session).
#[derive(Default, Debug)]
pub struct Subscriptions {
    channels: HashSet<Box<[u8]>>,
    patterns: HashSet<Box<[u8]>>,
    shard: HashSet<Box<[u8]>>,
}

impl Subscriptions {
    /// True if subscribed to anything (Redis's CLIENT_PUBSUB flag).
    #[inline]
    pub fn any(&self) -> bool {
        !(self.channels.is_empty() && self.patterns.is_empty() && self.shard.is_empty())
    }

    fn set(&mut self, kind: Kind) -> &mut HashSet<Box<[u8]>> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }

    /// The count a (un)subscribe confirmation carries: channels plus patterns, or shard
    /// channels for the shard commands.
    fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Channel | Kind::Pattern => self.channels.len() + self.patterns.len(),
            Kind::Shard => self.shard.len(),
        }
    }
}

/// Mirrors the session's counts into the client's public info.
fn publish_counts(ctx: &Ctx) {
    let s = &ctx.session.subs;
    let info = &ctx.session.info;
    info.sub.store(s.channels.len(), Ordering::Relaxed);
    info.psub.store(s.patterns.len(), Ordering::Relaxed);
    info.ssub.store(s.shard.len(), Ordering::Relaxed);
}

/// A (un)subscribe confirmation: a push frame in RESP3, an array in RESP2.
fn confirm(out: &mut ReplyBuf, word: &[u8], name: Option<&[u8]>, count: usize) {
    out.push(3);
    out.bulk(word);
    match name {
        Some(n) => out.bulk(n),
        None => out.null(),
    }
    out.int(count as i64);
}

fn subscribe_all(ctx: &mut Ctx, args: &Args, kind: Kind) {
    for name in args.iter_from(1) {
        if ctx.session.subs.set(kind).insert(name.into()) {
            ctx.shared.pubsub.add(kind, name, &ctx.session.info);
        }
        let count = ctx.session.subs.count(kind);
        confirm(ctx.out, kind.subscribe_word(), Some(name), count);
    }
    publish_counts(ctx);
}

/// Drops one subscription; with `notify`, replies with the confirmation.
fn unsubscribe_one(ctx: &mut Ctx, kind: Kind, name: &[u8], notify: bool) {
    if ctx.session.subs.set(kind).remove(name) {
        ctx.shared.pubsub.remove(kind, name, ctx.session.info.id);
    }
    if notify {
        let count = ctx.session.subs.count(kind);
        confirm(ctx.out, kind.unsubscribe_word(), Some(name), count);
    }
}

/// Drops every subscription of a kind; with `notify`, one confirmation each, or one with
/// a null name when there were none.
fn unsubscribe_kind(ctx: &mut Ctx, kind: Kind, notify: bool) {
    let names: Vec<Box<[u8]>> = ctx.session.subs.set(kind).iter().cloned().collect();
    for name in &names {
        unsubscribe_one(ctx, kind, name, notify);
    }
    if notify && names.is_empty() {
        confirm(
            ctx.out,
            kind.unsubscribe_word(),
            None,
            ctx.session.subs.count(kind),
        );
    }
}

fn unsubscribe_args(ctx: &mut Ctx, args: &Args, kind: Kind) {
    if args.len() == 1 {
        unsubscribe_kind(ctx, kind, true);
    } else {
        for name in args.iter_from(1) {
            unsubscribe_one(ctx, kind, name, true);
        }
    }
    publish_counts(ctx);
}

/// Leaves every channel, pattern and shard channel without confirmations: RESET, and a
/// connection that goes away.
pub fn unsubscribe_everything(shared: &Shared, session: &mut super::Session) {
    if !session.subs.any() {
        return;
    }
    let subs = std::mem::take(&mut session.subs);
    let id = session.info.id;
    for (kind, set) in [
        (Kind::Channel, subs.channels),
        (Kind::Pattern, subs.patterns),
        (Kind::Shard, subs.shard),
    ] {
        for name in set {
            shared.pubsub.remove(kind, &name, id);
        }
    }
    for c in [&session.info.sub, &session.info.psub, &session.info.ssub] {
        c.store(0, Ordering::Relaxed);
    }
}

/// Commands a RESP2 client may send while subscribed (Redis's processCommand list).
const ALLOWED_WHILE_SUBSCRIBED: &[&str] = &[
    "ping",
    "subscribe",
    "ssubscribe",
    "unsubscribe",
    "sunsubscribe",
    "psubscribe",
    "punsubscribe",
    "quit",
    "reset",
];

/// The RESP2 subscribed-mode rule: a subscribed client may only run the subscribe family,
/// PING, QUIT and RESET; anything else is refused with Redis's error.
#[inline]
pub fn check_subscribed_mode(ctx: &Ctx, spec: &CommandSpec) -> Result<(), CmdError> {
    if ctx.session.resp != 2 || !ctx.session.subs.any() {
        return Ok(());
    }
    if ALLOWED_WHILE_SUBSCRIBED.contains(&spec.name) {
        return Ok(());
    }
    Err(CmdError::from(format!(
        "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
        spec.name
    )))
}

/// PING's reply in RESP2 subscribed mode, `*2 pong <arg or "">`, if that mode applies.
pub fn subscribed_ping(ctx: &mut Ctx, args: &Args) -> bool {
    if ctx.session.resp != 2 || !ctx.session.subs.any() {
        return false;
    }
    ctx.out.array(2);
    ctx.out.bulk(b"pong");
    ctx.out.bulk(if args.len() > 1 { args.get(1) } else { b"" });
    true
}

// ---------------------------------------------------------------------------------------
// Commands.

fn subscribe(ctx: &mut Ctx, args: &Args) -> CmdResult {
    subscribe_all(ctx, args, Kind::Channel);
    Ok(())
}

fn psubscribe(ctx: &mut Ctx, args: &Args) -> CmdResult {
    subscribe_all(ctx, args, Kind::Pattern);
    Ok(())
}

fn ssubscribe(ctx: &mut Ctx, args: &Args) -> CmdResult {
    // Redis refuses SSUBSCRIBE to a client that expects one reply per command (inside
    // MULTI or a script); SUBSCRIBE keeps its old leniency inside MULTI.
    if ctx.session.no_block {
        return Err(CmdError::new(
            "ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client",
        ));
    }
    subscribe_all(ctx, args, Kind::Shard);
    Ok(())
}

fn unsubscribe(ctx: &mut Ctx, args: &Args) -> CmdResult {
    unsubscribe_args(ctx, args, Kind::Channel);
    Ok(())
}

fn punsubscribe(ctx: &mut Ctx, args: &Args) -> CmdResult {
    unsubscribe_args(ctx, args, Kind::Pattern);
    Ok(())
}

fn sunsubscribe(ctx: &mut Ctx, args: &Args) -> CmdResult {
    unsubscribe_args(ctx, args, Kind::Shard);
    Ok(())
}

fn publish_cmd(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let shared = ctx.shared;
    let n = publish(shared, args.get(1), args.get(2), Some(Publisher::of(ctx)));
    ctx.out.int(n as i64);
    Ok(())
}

fn spublish(ctx: &mut Ctx, args: &Args) -> CmdResult {
    let shared = ctx.shared;
    let n = spublish_message(shared, args.get(1), args.get(2), Some(Publisher::of(ctx)));
    ctx.out.int(n as i64);
    Ok(())
}

/// Redis's addReplySubcommandSyntaxError, for PUBSUB CHANNELS with too many arguments.
fn subcommand_syntax_error(args: &Args) -> CmdError {
    let mut m = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
    m.extend_from_slice(super::c_arg(args.get(1), 128));
    m.extend_from_slice(b"'. Try PUBSUB HELP.");
    CmdError::from_bytes(m)
}

fn channel_list(ctx: &mut Ctx, args: &Args, map: &ChannelMap) -> CmdResult {
    if args.len() > 3 {
        return Err(subcommand_syntax_error(args));
    }
    let pattern = (args.len() == 3).then(|| args.get(2));
    let names = map.names(pattern);
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(&n);
    }
    Ok(())
}

fn numsub(ctx: &mut Ctx, args: &Args, map: &ChannelMap) {
    ctx.out.array((args.len() - 2) * 2);
    for name in args.iter_from(2) {
        ctx.out.bulk(name);
        ctx.out.int(map.subscribers(name) as i64);
    }
}

fn pubsub_channels(ctx: &mut Ctx, args: &Args) -> CmdResult {
    channel_list(ctx, args, &ctx.shared.pubsub.channels)
}

fn pubsub_shardchannels(ctx: &mut Ctx, args: &Args) -> CmdResult {
    channel_list(ctx, args, &ctx.shared.pubsub.shard_channels)
}

fn pubsub_numsub(ctx: &mut Ctx, args: &Args) -> CmdResult {
    numsub(ctx, args, &ctx.shared.pubsub.channels);
    Ok(())
}

fn pubsub_shardnumsub(ctx: &mut Ctx, args: &Args) -> CmdResult {
    numsub(ctx, args, &ctx.shared.pubsub.shard_channels);
    Ok(())
}

fn pubsub_numpat(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    ctx.out.int(ctx.shared.pubsub.pattern_count() as i64);
    Ok(())
}

fn pubsub_help(ctx: &mut Ctx, _args: &Args) -> CmdResult {
    help_reply(
        ctx,
        "PUBSUB",
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_resp2_arrays() {
        assert_eq!(
            encode_frame(&[b"message", b"ch", b""]),
            b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$0\r\n\r\n"
        );
    }
}
