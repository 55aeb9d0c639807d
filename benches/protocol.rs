//! Request decoding cost: our `RequestDecoder` against `redis-protocol`'s RESP2 decoder on
//! the same pipelined batch of 16 GET/SET requests.
//!
//! This is the measurement behind decoding requests ourselves (see the module comment of
//! `src/protocol/decode.rs`): the crate builds a frame tree per request and copies or
//! refcounts each argument, where ours records byte ranges into the read buffer.

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

use rust_cache_server::protocol::{Decoded, Limits, Request, RequestDecoder};

/// 16 requests alternating `SET key:N value` (a 64-byte value) and `GET key:N`, as a
/// pipelining client sends them in one write.
fn batch() -> Vec<u8> {
    let value = vec![b'v'; 64];
    let mut out = Vec::new();
    for i in 0..16 {
        let key = format!("key:{:08}", i * 7919);
        let args: Vec<&[u8]> = if i % 2 == 0 {
            vec![b"SET", key.as_bytes(), &value]
        } else {
            vec![b"GET", key.as_bytes()]
        };
        out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

fn decode_batch(c: &mut Criterion) {
    let input = batch();
    let mut g = c.benchmark_group("decode_16_get_set");
    g.throughput(Throughput::Elements(16));

    g.bench_function("rcs_request_decoder", |b| {
        let mut d = RequestDecoder::new();
        let mut req = Request::default();
        b.iter(|| {
            let buf = black_box(&input[..]);
            let mut at = 0;
            let mut args = 0;
            while let Ok(Decoded::Request(used)) = d.decode(&buf[at..], &mut req, Limits::default())
            {
                // Touch each argument as dispatch would.
                for i in 0..req.len() {
                    args += req.arg(&buf[at..], i).len();
                }
                at += used;
            }
            assert_eq!(at, buf.len());
            black_box(args)
        })
    });

    // The crate's zero-copy path: frames are `Bytes` slices of the split-off buffer. The
    // copy of the input into a fresh BytesMut stands for the read a connection does anyway.
    g.bench_function("redis_protocol_decode_bytes_mut", |b| {
        b.iter(|| {
            let mut buf = BytesMut::from(black_box(&input[..]));
            let mut args = 0;
            while let Ok(Some((frame, _used, _bytes))) =
                redis_protocol::resp2::decode::decode_bytes_mut(&mut buf)
            {
                if let redis_protocol::resp2::types::BytesFrame::Array(items) = frame {
                    for f in items {
                        if let redis_protocol::resp2::types::BytesFrame::BulkString(b) = f {
                            args += b.len();
                        }
                    }
                }
            }
            assert!(buf.is_empty());
            black_box(args)
        })
    });

    // The crate's borrowed path (ranges, no refcounts), for the fairest comparison.
    g.bench_function("redis_protocol_decode_range", |b| {
        b.iter(|| {
            let buf = black_box(&input[..]);
            let mut at = 0;
            let mut frames = 0;
            while let Ok(Some((frame, used))) =
                redis_protocol::resp2::decode::decode_range(&buf[at..])
            {
                black_box(&frame);
                frames += 1;
                at += used;
            }
            assert_eq!(at, buf.len());
            black_box(frames)
        })
    });

    // The copying path a naive server would use.
    g.bench_function("redis_protocol_decode_owned", |b| {
        b.iter(|| {
            let buf = black_box(&input[..]);
            let mut at = 0;
            while let Ok(Some((frame, used))) = redis_protocol::resp2::decode::decode(&buf[at..]) {
                black_box(frame);
                at += used;
            }
            assert_eq!(at, buf.len());
        })
    });
    g.finish();
}

criterion_group!(benches, decode_batch);
criterion_main!(benches);
