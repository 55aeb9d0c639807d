//! Property tests of the request decoder (`protocol::decode::RequestDecoder`).
//!
//! The decoder is hand-written for speed, so it is checked against an independent oracle:
//! `redis-protocol`'s RESP2 decoder must read the same multibulk bytes as the same arguments.
//! The other properties are the ones a connection relies on: input split into arbitrary
//! reads decodes exactly as it does in one piece, a truncated frame only ever waits for
//! more bytes, hostile bytes never panic and end in one of Redis's protocol error texts,
//! and Redis's size limits are enforced with Redis's words (checked against a real
//! redis-server at the end).

mod common;

use std::time::Duration;

use proptest::prelude::*;
use redis_protocol::resp2::decode::decode as oracle_decode;
use redis_protocol::resp2::types::OwnedFrame;
use rust_cache_server::protocol::decode::{
    Decoded, Limits, ProtocolError, Request, RequestDecoder,
};

type Args = Vec<Vec<u8>>;

/// What decoding a stream produced: the requests in order, and either the bytes still
/// waiting (Ok) or the protocol error that ended the stream.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    requests: Vec<Args>,
    end: Result<usize, ProtocolError>,
}

fn encode(args: &[Vec<u8>]) -> Vec<u8> {
    let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
    common::encode_command(&refs)
}

/// Feeds `input` to one decoder in reads of the given sizes (cycled), the way a connection
/// does: append what was read, decode every complete request, drop the bytes used.
fn feed(input: &[u8], chunk_sizes: &[usize], limits: Limits) -> Outcome {
    let mut d = RequestDecoder::new();
    let mut req = Request::default();
    let mut buf: Vec<u8> = Vec::new();
    let mut requests = Vec::new();
    let mut at = 0;
    let mut sizes = chunk_sizes.iter().copied().cycle();
    while at < input.len() {
        let n = sizes.next().unwrap_or(input.len()).max(1);
        let end = (at + n).min(input.len());
        buf.extend_from_slice(&input[at..end]);
        at = end;
        loop {
            match d.decode(&buf, &mut req, limits) {
                Ok(Decoded::Request(used)) => {
                    assert!(
                        used > 0 && used <= buf.len(),
                        "used {used} of {}",
                        buf.len()
                    );
                    requests.push((0..req.len()).map(|i| req.arg(&buf, i).to_vec()).collect());
                    buf.drain(..used);
                }
                Ok(Decoded::Empty(used)) => {
                    assert!(
                        used > 0 && used <= buf.len(),
                        "used {used} of {}",
                        buf.len()
                    );
                    buf.drain(..used);
                }
                Ok(Decoded::Incomplete { hint }) => {
                    assert!(
                        hint == 0 || hint > buf.len(),
                        "hint {hint} must ask for more than the {} bytes held",
                        buf.len()
                    );
                    break;
                }
                Err(e) => {
                    return Outcome {
                        requests,
                        end: Err(e),
                    }
                }
            }
        }
    }
    Outcome {
        requests,
        end: Ok(buf.len()),
    }
}

fn feed_whole(input: &[u8]) -> Outcome {
    feed(input, &[input.len().max(1)], Limits::default())
}

/// Decodes a pipeline of multibulks with `redis-protocol`, each frame as its argument list.
fn oracle(input: &[u8]) -> Vec<Args> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < input.len() {
        let (frame, used) = oracle_decode(&input[at..])
            .expect("redis-protocol rejects a valid multibulk")
            .expect("redis-protocol finds the multibulk incomplete");
        let OwnedFrame::Array(items) = frame else {
            panic!("redis-protocol decoded a non-array: {frame:?}");
        };
        out.push(
            items
                .into_iter()
                .map(|f| match f {
                    OwnedFrame::BulkString(b) => b,
                    other => panic!("redis-protocol decoded a non-bulk argument: {other:?}"),
                })
                .collect(),
        );
        at += used;
    }
    out
}

/// Every text the decoder may put after `ERR Protocol error: `, as in Redis's networking.c.
fn is_redis_protocol_error(e: &ProtocolError) -> bool {
    matches!(
        e.0.as_str(),
        "invalid multibulk length"
            | "invalid bulk length"
            | "unbalanced quotes in request"
            | "too big mbulk count string"
            | "too big bulk count string"
            | "too big inline request"
            | "unauthenticated multibulk length"
            | "unauthenticated bulk length"
    ) || (e.0.starts_with("expected '$', got '") && e.0.ends_with('\''))
}

/// A byte biased towards the ones that matter to framing (CR, LF, '$', '*', digits).
fn framing_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        4 => any::<u8>(),
        1 => Just(b'\r'),
        1 => Just(b'\n'),
        1 => Just(b'$'),
        1 => Just(b'*'),
        1 => b'0'..=b'9',
    ]
}

/// One argument: usually short, sometimes long enough to span many reads.
fn arg() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => prop::collection::vec(framing_byte(), 0..24),
        // Long payloads come from a seed: a per-byte strategy this long makes each case slow.
        1 => (100usize..3000, any::<u8>()).prop_map(|(n, seed)| {
            (0..n)
                .map(|i| match i % 97 {
                    95 => b'\r',
                    96 => b'\n',
                    _ => (i as u8).wrapping_mul(31).wrapping_add(seed),
                })
                .collect()
        }),
    ]
}

fn command() -> impl Strategy<Value = Args> {
    prop::collection::vec(arg(), 1..8)
}

fn pipeline() -> impl Strategy<Value = Vec<Args>> {
    prop::collection::vec(command(), 1..12)
}

fn chunk_sizes() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(
        prop_oneof![3 => 1usize..8, 2 => 8usize..64, 1 => 64usize..4096],
        1..32,
    )
}

/// Inline words that need no quoting.
fn inline_word() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop::sample::select(b"abcxyzABC0123456789-_.:".to_vec()),
        1..10,
    )
}

/// Tokens that assemble into almost-valid requests, to reach the decoder's deeper states.
fn token() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"*".to_vec()),
        Just(b"$".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"-".to_vec()),
        Just(b"+".to_vec()),
        Just(b" ".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"'".to_vec()),
        Just(b"\\x4".to_vec()),
        Just(b"0".to_vec()),
        Just(b"9223372036854775808".to_vec()),
        Just(b"-9223372036854775808".to_vec()),
        Just(b"2147483648".to_vec()),
        (0u32..20).prop_map(|n| n.to_string().into_bytes()),
        prop::collection::vec(any::<u8>(), 1..6),
        inline_word(),
    ]
}

fn garbage() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        prop::collection::vec(token(), 0..40).prop_map(|t| t.concat()),
        (
            prop::sample::select(vec![b'*', b'$']),
            prop::collection::vec(token(), 0..40)
        )
            .prop_map(|(first, t)| {
                let mut v = vec![first];
                v.extend(t.concat());
                v
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// (a) A pipeline of random multibulks, split into random reads, decodes to exactly the
    /// original arguments, and `redis-protocol` reads the same bytes the same way.
    #[test]
    fn pipelined_multibulks_decode_to_original_args(cmds in pipeline(), sizes in chunk_sizes()) {
        let input: Vec<u8> = cmds.iter().flat_map(|c| encode(c)).collect();
        let got = feed(&input, &sizes, Limits::default());
        prop_assert_eq!(&got, &Outcome { requests: cmds.clone(), end: Ok(0) });
        prop_assert_eq!(oracle(&input), cmds);
        // One read holding everything gives the same result as many small ones.
        prop_assert_eq!(feed_whole(&input), got);
    }

    /// (a) Inline requests, empty lines and `*0`/`*-1` mixed into a multibulk pipeline.
    #[test]
    fn mixed_inline_and_multibulk(
        parts in prop::collection::vec(
            prop_oneof![
                command().prop_map(|c| (encode(&c), Some(c))),
                prop::collection::vec(inline_word(), 1..5).prop_map(|w| {
                    let mut line = w.join(&b' ');
                    line.extend_from_slice(b"\r\n");
                    (line, Some(w))
                }),
                prop::collection::vec(inline_word(), 1..5).prop_map(|w| {
                    // LF alone ends an inline request too, and extra spaces separate nothing.
                    let mut line = b"  ".to_vec();
                    line.extend(w.join(&b"   "[..]));
                    line.extend_from_slice(b" \n");
                    (line, Some(w))
                }),
                Just((b"\r\n".to_vec(), None)),
                Just((b"*0\r\n".to_vec(), None)),
                Just((b"*-1\r\n".to_vec(), None)),
            ],
            1..16,
        ),
        sizes in chunk_sizes(),
    ) {
        let input: Vec<u8> = parts.iter().flat_map(|(bytes, _)| bytes.clone()).collect();
        let want: Vec<Args> = parts.into_iter().filter_map(|(_, args)| args).collect();
        prop_assert_eq!(
            feed(&input, &sizes, Limits::default()),
            Outcome { requests: want, end: Ok(0) }
        );
    }

    /// (b) Any strict prefix of a valid frame is Incomplete (never an error, never a
    /// request), whether it is the first thing a decoder sees or arrives byte by byte.
    #[test]
    fn truncated_frame_is_incomplete(cmd in command(), cut in any::<prop::sample::Index>()) {
        let frame = encode(&cmd);
        let k = cut.index(frame.len());
        let mut d = RequestDecoder::new();
        let mut req = Request::default();
        let r = d.decode(&frame[..k], &mut req, Limits::default());
        prop_assert!(
            matches!(r, Ok(Decoded::Incomplete { .. })),
            "prefix of {} bytes of {:?} gave {:?}", k, common::show(&frame), r
        );
        // The same decoder, now given the whole frame, resumes and finishes it.
        let r = d.decode(&frame, &mut req, Limits::default());
        prop_assert_eq!(r, Ok(Decoded::Request(frame.len())));
        let args: Args = (0..req.len()).map(|i| req.arg(&frame, i).to_vec()).collect();
        prop_assert_eq!(args, cmd.clone());
        // Byte by byte: every intermediate state is Incomplete, and the result is the same.
        prop_assert_eq!(
            feed(&frame, &[1], Limits::default()),
            Outcome { requests: vec![cmd], end: Ok(0) }
        );
    }

    /// (c) Garbage never panics; it decodes to requests, waits for more, or fails with one
    /// of Redis's protocol error texts, and the outcome does not depend on how it was read.
    #[test]
    fn garbage_never_panics(input in garbage(), sizes in chunk_sizes()) {
        let whole = feed_whole(&input);
        if let Err(e) = &whole.end {
            prop_assert!(is_redis_protocol_error(e), "unexpected error text {:?}", e.0);
        }
        let chunked = feed(&input, &sizes, Limits::default());
        prop_assert_eq!(&chunked, &whole, "input {:?}", common::show(&input));
        // With the unauthenticated limits the texts are Redis's too.
        let unauth = Limits { authenticated: false, ..Limits::default() };
        if let Err(e) = feed(&input, &sizes, unauth).end {
            prop_assert!(is_redis_protocol_error(&e), "unexpected error text {:?}", e.0);
        }
    }

    /// (d) A bulk longer than proto-max-bulk-len, or a negative bulk length, is refused as
    /// soon as its header is read, before any payload is buffered.
    #[test]
    fn bulk_length_limits(max in 1i64..1_000_000, over in 1i64..1_000_000, neg in 1i64..i64::MAX) {
        let limits = Limits { proto_max_bulk_len: max, authenticated: true };
        let at_limit = format!("*1\r\n${max}\r\n");
        prop_assert!(feed(at_limit.as_bytes(), &[7], limits).end.is_ok());
        let too_long = format!("*2\r\n$3\r\nGET\r\n${}\r\n", max + over);
        prop_assert_eq!(
            feed(too_long.as_bytes(), &[5], limits).end,
            Err(ProtocolError::new("invalid bulk length"))
        );
        let negative = format!("*1\r\n$-{neg}\r\n");
        prop_assert_eq!(
            feed(negative.as_bytes(), &[3], limits).end,
            Err(ProtocolError::new("invalid bulk length"))
        );
    }

    /// (d) Before AUTH Redis caps a multibulk at 1M arguments and a bulk at 16 KB.
    #[test]
    fn unauthenticated_limits(extra_args in 1i64..1_000_000, extra_len in 1i64..1_000_000) {
        let unauth = Limits { authenticated: false, ..Limits::default() };
        let many = format!("*{}\r\n", 1024 * 1024 + extra_args);
        prop_assert_eq!(
            feed(many.as_bytes(), &[4], unauth).end,
            Err(ProtocolError::new("unauthenticated multibulk length"))
        );
        prop_assert!(feed(many.as_bytes(), &[4], Limits::default()).end.is_ok());
        let long = format!("*1\r\n${}\r\n", 16384 + extra_len);
        prop_assert_eq!(
            feed(long.as_bytes(), &[4], unauth).end,
            Err(ProtocolError::new("unauthenticated bulk length"))
        );
        prop_assert!(feed(long.as_bytes(), &[4], Limits::default()).end.is_ok());
    }
}

#[test]
fn multibulk_length_limits() {
    let cases: &[(&[u8], &str)] = &[
        (b"*2147483648\r\n", "invalid multibulk length"),
        (b"*9223372036854775808\r\n", "invalid multibulk length"),
        (b"*1x\r\n", "invalid multibulk length"),
        (b"*+1\r\n", "invalid multibulk length"),
        (b"*\r\n", "invalid multibulk length"),
        (b"*1\r\n$\r\n", "invalid bulk length"),
        (b"*1\r\n$01\r\n", "invalid bulk length"),
        (b"*1\r\n:1\r\n", "expected '$', got ':'"),
        (b"*1\r\n\r\n", "expected '$', got '\r'"),
    ];
    for (input, text) in cases {
        assert_eq!(
            feed_whole(input).end.map_err(|e| e.0),
            Err(text.to_string()),
            "input {:?}",
            common::show(input)
        );
    }
    // Zero and negative counts are empty requests, not errors, as in Redis.
    for input in [&b"*0\r\n"[..], b"*-1\r\n", b"*-9223372036854775808\r\n"] {
        assert_eq!(
            feed_whole(input),
            Outcome {
                requests: vec![],
                end: Ok(0)
            }
        );
    }
    // The largest count Redis accepts waits for its arguments.
    assert_eq!(feed_whole(b"*2147483647\r\n").end, Ok(13));
}

#[test]
fn header_lines_longer_than_64k_are_refused() {
    let limit = rust_cache_server::protocol::decode::PROTO_INLINE_MAX_SIZE;
    let mut mbulk = b"*".to_vec();
    mbulk.resize(limit + 2, b'1');
    assert_eq!(
        feed_whole(&mbulk).end,
        Err(ProtocolError::new("too big mbulk count string"))
    );
    let mut bulk = b"*1\r\n$".to_vec();
    bulk.resize(limit + 10, b'1');
    assert_eq!(
        feed_whole(&bulk).end,
        Err(ProtocolError::new("too big bulk count string"))
    );
    let inline = vec![b'a'; limit + 1];
    assert_eq!(
        feed_whole(&inline).end,
        Err(ProtocolError::new("too big inline request"))
    );
    // A large bulk payload is not a header: it only waits for the rest.
    let mut big = format!("*1\r\n${}\r\n", 10 * limit).into_bytes();
    big.resize(big.len() + 2 * limit, b'x');
    assert_eq!(feed(&big, &[4096], Limits::default()).end, Ok(big.len()));
}

/// Redis finds an inline request's end with strchr and splits it with sdssplitargs, both
/// of which stop at a NUL. (A NUL once sent the splitter into an endless loop that
/// allocated until the server was killed.)
#[test]
fn nul_bytes_in_inline_requests() {
    use rust_cache_server::protocol::decode::split_args;
    assert_eq!(
        split_args(b"ECHO a\0b c"),
        Some(vec![b"ECHO".to_vec(), b"a".to_vec()])
    );
    assert_eq!(split_args(b"\0ECHO"), Some(vec![]));
    assert_eq!(split_args(b"ECHO \"a\0\""), None);
    for input in [&b"PING\0\r\n"[..], b"\0\n", b"ECHO a\0b\r\nPING\r\n"] {
        assert_eq!(
            feed_whole(input),
            Outcome {
                requests: vec![],
                end: Ok(input.len())
            },
            "input {:?}",
            common::show(input)
        );
    }
    // A NUL after the line end does not hide the line.
    assert_eq!(
        feed_whole(b"PING\r\n\0"),
        Outcome {
            requests: vec![vec![b"PING".to_vec()]],
            end: Ok(1)
        }
    );
}

/// The decoder's texts are the ones a real redis-server sends before closing the client.
#[test]
fn protocol_error_replies_match_redis() {
    let mut nul_then_64k = b"PING\0\r\n".to_vec();
    nul_then_64k.resize(70_000, b'x');
    let cases: &[&[u8]] = &[
        &nul_then_64k,
        b"*1\r\n$-5\r\n",
        b"*1\r\n$2000000\r\n",
        b"*abc\r\n",
        b"*3000000000\r\n",
        b"*1\r\n+x\r\n",
        b"SET \"a\r\n",
    ];
    let p = common::Pair::with(
        |c| c.proto_max_bulk_len = 1024 * 1024,
        &["--proto-max-bulk-len", "1048576"],
    );
    for input in cases {
        let mut ours = common::Raw::connect(p.ours.addr());
        let mut redis = common::Raw::connect(p.redis.addr());
        ours.send_raw(input);
        redis.send_raw(input);
        let (a, a_closed) = ours.read_until_close(Duration::from_secs(5));
        let (b, b_closed) = redis.read_until_close(Duration::from_secs(5));
        assert!(
            common::show(&b).starts_with("-ERR Protocol error: "),
            "redis-server replied {:?} to {:?}",
            common::show(&b),
            common::show(input)
        );
        assert_eq!(
            common::show(&a),
            common::show(&b),
            "reply to {:?} (left: ours, right: redis-server)",
            common::show(input)
        );
        assert!(a_closed && b_closed, "both close the connection");
    }
}
