//! Command dispatch cost: GET and SET through `commands::execute` against an in-memory
//! `Shared`, with no sockets, so the figure is table lookup + arity/auth checks + handler +
//! store + reply encoding. Cases: GET and SET of 64-byte values (a pointer in the entry),
//! of 12-byte values (inline in the entry), the same with a TTL (SET ... PX), and INCR.

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

    // A keyspace of KEYS keys so lookups hit a populated table: 64-byte values (a
    // pointer in the entry), 12-byte ones (inline), and 12-byte ones with a TTL.
    let cmds = |f: &dyn Fn(usize) -> Vec<Vec<u8>>| -> Vec<(Vec<u8>, Request)> {
        (0..KEYS)
            .map(|i| {
                let a = f(i);
                let a: Vec<&[u8]> = a.iter().map(|x| &x[..]).collect();
                request(&a)
            })
            .collect()
    };
    let key = |p: &str, i: usize| format!("{p}:{i:06}").into_bytes();
    let short = |i: usize| format!("value:{i:06}").into_bytes();
    let sets = cmds(&|i| vec![b"SET".to_vec(), key("key", i), value.clone()]);
    let gets = cmds(&|i| vec![b"GET".to_vec(), key("key", i)]);
    let sets_short = cmds(&|i| vec![b"SET".to_vec(), key("sk", i), short(i)]);
    let gets_short = cmds(&|i| vec![b"GET".to_vec(), key("sk", i)]);
    let sets_px = cmds(&|i| {
        let px = b"3600000".to_vec();
        vec![b"SET".to_vec(), key("tk", i), short(i), b"PX".to_vec(), px]
    });
    let gets_px = cmds(&|i| vec![b"GET".to_vec(), key("tk", i)]);
    let incrs = cmds(&|i| vec![b"INCR".to_vec(), key("ik", i)]);
    for (buf, req) in sets.iter().chain(&sets_short).chain(&sets_px) {
        let mut ctx = Ctx::new(&shared, &mut session, &mut out);
        execute(&mut ctx, &Args::new(buf, req));
    }
    assert_eq!(&out.buf[..5], b"+OK\r\n");
    out.buf.clear();

    let mut g = c.benchmark_group("dispatch");
    g.throughput(Throughput::Elements(1));
    for (name, reqs) in [
        ("get_hit_64b", &gets),
        ("set_overwrite_64b", &sets),
        ("get_hit_12b", &gets_short),
        ("set_overwrite_12b", &sets_short),
        ("get_hit_12b_ttl", &gets_px),
        ("set_overwrite_12b_px", &sets_px),
        ("incr", &incrs),
    ] {
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
