//! Command dispatch cost: GET and SET through `commands::execute` against an in-memory
//! `Shared`, with no sockets, so the figure is table lookup + arity/auth checks + handler +
//! store + reply encoding.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

use rust_cache_server::commands::{execute, Args, Ctx, Session, Shared};
use rust_cache_server::protocol::{Decoded, Limits, ReplyBuf, Request, RequestDecoder};
use rust_cache_server::Config;

/// Encodes one command and decodes it once, as the connection would, so `Args` indexes
/// into a real request buffer.
fn request(args: &[&[u8]]) -> (Vec<u8>, Request) {
    let mut buf = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        buf.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        buf.extend_from_slice(a);
        buf.extend_from_slice(b"\r\n");
    }
    let mut req = Request::default();
    let decoded = RequestDecoder::new()
        .decode(&buf, &mut req, Limits::default())
        .expect("valid request");
    assert_eq!(decoded, Decoded::Request(buf.len()));
    (buf, req)
}

const KEYS: usize = 10_000;

fn dispatch(c: &mut Criterion) {
    let shared = Shared::new(Config::default());
    let info = shared
        .clients
        .register("127.0.0.1:1".into(), "127.0.0.1:6379".into(), -1);
    let mut session = Session::new(info, true);
    let mut out = ReplyBuf::new();
    let value = vec![b'v'; 64];

    // A keyspace of KEYS keys so lookups hit a populated table.
    let sets: Vec<(Vec<u8>, Request)> = (0..KEYS)
        .map(|i| request(&[b"SET", format!("key:{i:08}").as_bytes(), &value]))
        .collect();
    let gets: Vec<(Vec<u8>, Request)> = (0..KEYS)
        .map(|i| request(&[b"GET", format!("key:{i:08}").as_bytes()]))
        .collect();
    for (buf, req) in &sets {
        let mut ctx = Ctx::new(&shared, &mut session, &mut out);
        execute(&mut ctx, &Args::new(buf, req));
    }
    assert_eq!(&out.buf[..5], b"+OK\r\n");
    out.buf.clear();

    let mut g = c.benchmark_group("dispatch");
    g.throughput(Throughput::Elements(1));
    for (name, reqs) in [("get_hit_64b", &gets), ("set_overwrite_64b", &sets)] {
        g.bench_function(name, |b| {
            let mut i = 0;
            b.iter(|| {
                let (buf, req) = &reqs[i % KEYS];
                i += 1;
                out.buf.clear();
                let mut ctx = Ctx::new(&shared, &mut session, &mut out);
                execute(&mut ctx, black_box(&Args::new(buf, req)));
                black_box(out.buf.len())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, dispatch);
criterion_main!(benches);
