//! Property test of the list commands: random LPUSH/RPUSH/LPOP/RPOP/LINSERT/LREM/LTRIM/
//! LSET/LRANGE/LINDEX/LPOS sequences run against this server and against a `VecDeque`
//! model, every reply compared byte for byte with the reply the model predicts. Small
//! chunk budgets (`list-max-listpack-size`) are mixed in so chunk boundaries, splits and
//! merges are crossed with few elements. Bounded: a fixed number of cases and operations.

mod common;

use std::collections::VecDeque;

use common::{show, Raw};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

#[derive(Clone, Debug)]
enum Op {
    Push {
        left: bool,
        vals: Vec<Vec<u8>>,
    },
    Pop {
        left: bool,
        count: Option<u8>,
    },
    Insert {
        after: bool,
        pivot: Vec<u8>,
        val: Vec<u8>,
    },
    Rem {
        count: i8,
        val: Vec<u8>,
    },
    Trim {
        start: i16,
        stop: i16,
    },
    Set {
        index: i16,
        val: Vec<u8>,
    },
    Range {
        start: i16,
        stop: i16,
    },
    Index {
        index: i16,
    },
    Pos {
        val: Vec<u8>,
        rank: Option<i8>,
        count: Option<u8>,
        maxlen: Option<u8>,
    },
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => prop::sample::select(vec!["a", "b", "c", "1", "-7", "300", "70000", "007", ""])
            .prop_map(|s| s.as_bytes().to_vec()),
        2 => (0u8..3, 1usize..400).prop_map(|(c, n)| vec![b'x' + c; n]),
        1 => any::<i64>().prop_map(|i| i.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..12),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let idx = -12i16..12;
    prop_oneof![
        6 => (any::<bool>(), prop::collection::vec(value(), 1..6))
            .prop_map(|(left, vals)| Op::Push { left, vals }),
        3 => (any::<bool>(), prop::option::of(0u8..6))
            .prop_map(|(left, count)| Op::Pop { left, count }),
        2 => (any::<bool>(), value(), value())
            .prop_map(|(after, pivot, val)| Op::Insert { after, pivot, val }),
        2 => (-3i8..4, value()).prop_map(|(count, val)| Op::Rem { count, val }),
        1 => (idx.clone(), idx.clone()).prop_map(|(start, stop)| Op::Trim { start, stop }),
        2 => (idx.clone(), value()).prop_map(|(index, val)| Op::Set { index, val }),
        2 => (idx.clone(), idx.clone()).prop_map(|(start, stop)| Op::Range { start, stop }),
        2 => idx.prop_map(|index| Op::Index { index }),
        2 => (
            value(),
            prop::option::of((-3i8..4).prop_filter("rank 0 is an error", |r| *r != 0)),
            prop::option::of(0u8..4),
            prop::option::of(0u8..8),
        )
            .prop_map(|(val, rank, count, maxlen)| Op::Pos { val, rank, count, maxlen }),
    ]
}

fn int(n: i64) -> Vec<u8> {
    format!(":{n}\r\n").into_bytes()
}

fn bulk(v: &[u8]) -> Vec<u8> {
    let mut o = format!("${}\r\n", v.len()).into_bytes();
    o.extend_from_slice(v);
    o.extend_from_slice(b"\r\n");
    o
}

fn array<'a>(items: impl IntoIterator<Item = &'a Vec<u8>>) -> Vec<u8> {
    let items: Vec<&Vec<u8>> = items.into_iter().collect();
    let mut o = format!("*{}\r\n", items.len()).into_bytes();
    for i in items {
        o.extend_from_slice(&bulk(i));
    }
    o
}

fn int_array(items: &[i64]) -> Vec<u8> {
    let mut o = format!("*{}\r\n", items.len()).into_bytes();
    for &i in items {
        o.extend_from_slice(&int(i));
    }
    o
}

/// Redis's start/stop normalisation for LRANGE/LTRIM: Some((start, stop)) inclusive.
fn range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let (mut s, mut e) = (start, stop);
    if s < 0 {
        s += len;
    }
    if e < 0 {
        e += len;
    }
    if s < 0 {
        s = 0;
    }
    if s > e || s >= len {
        return None;
    }
    if e >= len {
        e = len - 1;
    }
    Some((s as usize, e as usize))
}

fn index(i: i64, len: usize) -> Option<usize> {
    let i = if i < 0 { i + len as i64 } else { i };
    (0..len as i64).contains(&i).then_some(i as usize)
}

/// Applies `op` to the model and returns (command arguments, expected reply).
fn apply(m: &mut VecDeque<Vec<u8>>, op: &Op) -> (Vec<Vec<u8>>, Vec<u8>) {
    let key = b"k".to_vec();
    let num = |n: i64| n.to_string().into_bytes();
    match op {
        Op::Push { left, vals } => {
            let mut args = vec![
                if *left {
                    b"LPUSH".to_vec()
                } else {
                    b"RPUSH".to_vec()
                },
                key,
            ];
            for v in vals {
                if *left {
                    m.push_front(v.clone());
                } else {
                    m.push_back(v.clone());
                }
                args.push(v.clone());
            }
            (args, int(m.len() as i64))
        }
        Op::Pop { left, count } => {
            let mut args = vec![
                if *left {
                    b"LPOP".to_vec()
                } else {
                    b"RPOP".to_vec()
                },
                key,
            ];
            let take = |m: &mut VecDeque<Vec<u8>>| {
                if *left {
                    m.pop_front()
                } else {
                    m.pop_back()
                }
            };
            let reply = match count {
                None => match take(m) {
                    Some(v) => bulk(&v),
                    None => b"$-1\r\n".to_vec(),
                },
                Some(c) => {
                    args.push(num(*c as i64));
                    if m.is_empty() {
                        b"*-1\r\n".to_vec()
                    } else {
                        let got: Vec<Vec<u8>> = (0..*c).filter_map(|_| take(m)).collect();
                        array(&got)
                    }
                }
            };
            (args, reply)
        }
        Op::Insert { after, pivot, val } => {
            let args = vec![
                b"LINSERT".to_vec(),
                key,
                if *after {
                    b"AFTER".to_vec()
                } else {
                    b"BEFORE".to_vec()
                },
                pivot.clone(),
                val.clone(),
            ];
            let reply = if m.is_empty() {
                int(0)
            } else if let Some(p) = m.iter().position(|x| x == pivot) {
                m.insert(if *after { p + 1 } else { p }, val.clone());
                int(m.len() as i64)
            } else {
                int(-1)
            };
            (args, reply)
        }
        Op::Rem { count, val } => {
            let args = vec![b"LREM".to_vec(), key, num(*count as i64), val.clone()];
            let max = if *count == 0 {
                usize::MAX
            } else {
                count.unsigned_abs() as usize
            };
            let mut removed = 0;
            if *count >= 0 {
                let mut i = 0;
                while i < m.len() && removed < max {
                    if m[i] == *val {
                        m.remove(i);
                        removed += 1;
                    } else {
                        i += 1;
                    }
                }
            } else {
                let mut i = m.len();
                while i > 0 && removed < max {
                    i -= 1;
                    if m[i] == *val {
                        m.remove(i);
                        removed += 1;
                    }
                }
            }
            (args, int(removed as i64))
        }
        Op::Trim { start, stop } => {
            let args = vec![
                b"LTRIM".to_vec(),
                key,
                num(*start as i64),
                num(*stop as i64),
            ];
            match range(*start as i64, *stop as i64, m.len()) {
                Some((s, e)) => {
                    m.truncate(e + 1);
                    m.drain(..s);
                }
                None => m.clear(),
            }
            (args, b"+OK\r\n".to_vec())
        }
        Op::Set { index: i, val } => {
            let args = vec![b"LSET".to_vec(), key, num(*i as i64), val.clone()];
            let reply = if m.is_empty() {
                b"-ERR no such key\r\n".to_vec()
            } else if let Some(p) = index(*i as i64, m.len()) {
                m[p] = val.clone();
                b"+OK\r\n".to_vec()
            } else {
                b"-ERR index out of range\r\n".to_vec()
            };
            (args, reply)
        }
        Op::Range { start, stop } => {
            let args = vec![
                b"LRANGE".to_vec(),
                key,
                num(*start as i64),
                num(*stop as i64),
            ];
            let reply = match range(*start as i64, *stop as i64, m.len()) {
                Some((s, e)) => array(m.range(s..=e)),
                None => b"*0\r\n".to_vec(),
            };
            (args, reply)
        }
        Op::Index { index: i } => {
            let args = vec![b"LINDEX".to_vec(), key, num(*i as i64)];
            let reply = match index(*i as i64, m.len()) {
                Some(p) => bulk(&m[p]),
                None => b"$-1\r\n".to_vec(),
            };
            (args, reply)
        }
        Op::Pos {
            val,
            rank,
            count,
            maxlen,
        } => {
            let mut args = vec![b"LPOS".to_vec(), key, val.clone()];
            if let Some(r) = rank {
                args.extend([b"RANK".to_vec(), num(*r as i64)]);
            }
            if let Some(c) = count {
                args.extend([b"COUNT".to_vec(), num(*c as i64)]);
            }
            if let Some(l) = maxlen {
                args.extend([b"MAXLEN".to_vec(), num(*l as i64)]);
            }
            let r = rank.unwrap_or(1) as i64;
            let scan = if maxlen.unwrap_or(0) == 0 {
                m.len()
            } else {
                (maxlen.unwrap() as usize).min(m.len())
            };
            let positions: Vec<i64> = (0..scan)
                .map(|k| if r < 0 { m.len() - 1 - k } else { k })
                .filter(|&p| m[p] == *val)
                .map(|p| p as i64)
                .skip(r.unsigned_abs() as usize - 1)
                .collect();
            let reply = match count {
                None => match positions.first() {
                    Some(&p) => int(p),
                    None => b"$-1\r\n".to_vec(),
                },
                Some(0) => int_array(&positions),
                Some(c) => int_array(&positions[..positions.len().min(*c as usize)]),
            };
            (args, reply)
        }
    }
}

#[test]
fn random_operations_match_a_deque_model() {
    let server = common::ours();
    let con = std::cell::RefCell::new(Raw::connect(server.addr()));
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        prop::sample::select(vec![-2i64, -1, 1, 2, 3, 5]),
        prop::collection::vec(op(), 1..150),
    );
    runner
        .run(&strategy, |(fill, ops)| {
            let mut con = con.borrow_mut();
            let set = con.cmd(&format!("CONFIG SET list-max-listpack-size {fill}"));
            prop_assert_eq!(show(&set), "+OK\\r\\n");
            con.cmd("DEL k");
            let mut model: VecDeque<Vec<u8>> = VecDeque::new();
            for (i, op) in ops.iter().enumerate() {
                let (args, want) = apply(&mut model, op);
                let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
                let got = con.cmd_args(&refs);
                prop_assert_eq!(show(&got), show(&want), "op {} {:?}", i, op);
                let exists = con.cmd("EXISTS k");
                prop_assert_eq!(show(&exists), show(&int(!model.is_empty() as i64)));
                if i % 10 == 9 {
                    let all = con.cmd("LRANGE k 0 -1");
                    prop_assert_eq!(show(&all), show(&array(model.iter())));
                    let len = con.cmd("LLEN k");
                    prop_assert_eq!(show(&len), show(&int(model.len() as i64)));
                }
            }
            let all = con.cmd("LRANGE k 0 -1");
            prop_assert_eq!(show(&all), show(&array(model.iter())));
            Ok(())
        })
        .unwrap();
}
