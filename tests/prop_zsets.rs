//! Property test of the sorted set commands: random ZADD/ZREM/ZINCRBY/range queries run
//! against this server and against a sorted `Vec` model, every reply checked against what
//! the model predicts. Small `zset-max-listpack-entries` values are mixed in so both
//! encodings and the conversion between them are crossed. Bounded: a fixed number of
//! cases and operations per case.

mod common;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

#[derive(Clone, Debug)]
enum Op {
    Add(Vec<(i8, u8)>),
    Rem(Vec<u8>),
    Incr(i8, u8),
    RangeByRank(i8, i8, bool),
    RangeByScore(i8, i8, bool, Option<(u8, i8)>),
    Rank(u8),
    Count(i8, i8),
    RemRangeByRank(i8, i8),
    PopMin(u8),
}

fn member(i: u8) -> String {
    format!("m{}", i % 40)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => prop::collection::vec((any::<i8>(), any::<u8>()), 1..6).prop_map(Op::Add),
        2 => prop::collection::vec(any::<u8>(), 1..4).prop_map(Op::Rem),
        2 => (any::<i8>(), any::<u8>()).prop_map(|(a, b)| Op::Incr(a, b)),
        2 => (any::<i8>(), any::<i8>(), any::<bool>()).prop_map(|(a, b, r)| Op::RangeByRank(a % 50, b % 50, r)),
        2 => (any::<i8>(), any::<i8>(), any::<bool>(), prop::option::of((any::<u8>(), any::<i8>())))
            .prop_map(|(a, b, r, l)| Op::RangeByScore(a, b, r, l.map(|(o, c)| (o % 20, c % 10)))),
        1 => any::<u8>().prop_map(Op::Rank),
        1 => (any::<i8>(), any::<i8>()).prop_map(|(a, b)| Op::Count(a, b)),
        1 => (any::<i8>(), any::<i8>()).prop_map(|(a, b)| Op::RemRangeByRank(a % 50, b % 50)),
        1 => any::<u8>().prop_map(|n| Op::PopMin(n % 5)),
    ]
}

/// The model: (score, member) kept sorted as Redis orders them.
#[derive(Default)]
struct Model(Vec<(f64, String)>);

impl Model {
    fn sort(&mut self) {
        self.0
            .sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap().then(a.1.cmp(&b.1)));
    }
    fn score(&self, m: &str) -> Option<f64> {
        self.0.iter().find(|e| e.1 == m).map(|e| e.0)
    }
    fn set(&mut self, m: &str, s: f64) {
        self.0.retain(|e| e.1 != m);
        self.0.push((s, m.to_string()));
        self.sort();
    }
    fn rank_range(&self, a: i64, b: i64) -> Vec<(f64, String)> {
        let n = self.0.len() as i64;
        let mut s = if a < 0 { n + a } else { a };
        let e = if b < 0 { n + b } else { b };
        if s < 0 {
            s = 0;
        }
        if s > e || s >= n {
            return Vec::new();
        }
        let e = e.min(n - 1);
        self.0[s as usize..=e as usize].to_vec()
    }
}

fn fmt(s: f64) -> String {
    // Every score here is an integer.
    format!("{}", s as i64)
}

fn run(c: &mut redis::Connection, ops: &[Op], entries: u8) -> Result<(), TestCaseError> {
    let _: () = redis::cmd("FLUSHALL").query(c).unwrap();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("zset-max-listpack-entries")
        .arg(entries)
        .query(c)
        .unwrap();
    let mut model = Model::default();
    for op in ops {
        match op {
            Op::Add(pairs) => {
                let mut cmd = redis::cmd("ZADD");
                cmd.arg("z");
                let mut added = 0;
                let mut seen = std::collections::HashSet::new();
                for (s, m) in pairs {
                    let m = member(*m);
                    cmd.arg(*s as i64).arg(&m);
                    if model.score(&m).is_none() && seen.insert(m.clone()) {
                        added += 1;
                    }
                    model.set(&m, *s as f64);
                }
                let got: i64 = cmd.query(c).unwrap();
                prop_assert_eq!(got, added);
            }
            Op::Rem(ms) => {
                let mut cmd = redis::cmd("ZREM");
                cmd.arg("z");
                let mut removed = 0;
                for m in ms {
                    let m = member(*m);
                    cmd.arg(&m);
                    if model.score(&m).is_some() {
                        removed += 1;
                        model.0.retain(|e| e.1 != m);
                    }
                }
                let got: i64 = cmd.query(c).unwrap();
                prop_assert_eq!(got, removed);
            }
            Op::Incr(by, m) => {
                let m = member(*m);
                let new = model.score(&m).unwrap_or(0.0) + *by as f64;
                model.set(&m, new);
                let got: String = redis::cmd("ZINCRBY")
                    .arg("z")
                    .arg(*by as i64)
                    .arg(&m)
                    .query(c)
                    .unwrap();
                prop_assert_eq!(got, fmt(new));
            }
            Op::RangeByRank(a, b, rev) => {
                let mut want = if *rev {
                    let mut all = model.0.clone();
                    all.reverse();
                    Model(all).rank_range(*a as i64, *b as i64)
                } else {
                    model.rank_range(*a as i64, *b as i64)
                };
                let mut cmd = redis::cmd("ZRANGE");
                cmd.arg("z").arg(*a as i64).arg(*b as i64);
                if *rev {
                    cmd.arg("REV");
                }
                let got: Vec<String> = cmd.arg("WITHSCORES").query(c).unwrap();
                let want: Vec<String> = want.drain(..).flat_map(|(s, m)| [m, fmt(s)]).collect();
                prop_assert_eq!(got, want);
            }
            Op::RangeByScore(a, b, rev, limit) => {
                let (lo, hi) = (*a as f64, *b as f64);
                let mut want: Vec<(f64, String)> = model
                    .0
                    .iter()
                    .filter(|e| e.0 >= lo && e.0 <= hi)
                    .cloned()
                    .collect();
                if *rev {
                    want.reverse();
                }
                let mut cmd = redis::cmd("ZRANGE");
                cmd.arg("z");
                if *rev {
                    cmd.arg(*b as i64).arg(*a as i64).arg("BYSCORE").arg("REV");
                } else {
                    cmd.arg(*a as i64).arg(*b as i64).arg("BYSCORE");
                }
                if let Some((off, cnt)) = limit {
                    cmd.arg("LIMIT").arg(*off).arg(*cnt as i64);
                    let skipped: Vec<_> = want.into_iter().skip(*off as usize).collect();
                    want = if *cnt < 0 {
                        skipped
                    } else {
                        skipped.into_iter().take(*cnt as usize).collect()
                    };
                }
                let got: Vec<String> = cmd.query(c).unwrap();
                let want: Vec<String> = want.into_iter().map(|e| e.1).collect();
                prop_assert_eq!(got, want);
            }
            Op::Rank(m) => {
                let m = member(*m);
                let want = model.0.iter().position(|e| e.1 == m).map(|r| r as i64);
                let got: Option<i64> = redis::cmd("ZRANK").arg("z").arg(&m).query(c).unwrap();
                prop_assert_eq!(got, want);
                let want_rev = want.map(|r| model.0.len() as i64 - 1 - r);
                let got: Option<i64> = redis::cmd("ZREVRANK").arg("z").arg(&m).query(c).unwrap();
                prop_assert_eq!(got, want_rev);
            }
            Op::Count(a, b) => {
                let want = model
                    .0
                    .iter()
                    .filter(|e| e.0 > *a as f64 && e.0 <= *b as f64)
                    .count() as i64;
                let got: i64 = redis::cmd("ZCOUNT")
                    .arg("z")
                    .arg(format!("({}", a))
                    .arg(*b as i64)
                    .query(c)
                    .unwrap();
                prop_assert_eq!(got, want);
            }
            Op::RemRangeByRank(a, b) => {
                let gone = model.rank_range(*a as i64, *b as i64);
                model.0.retain(|e| !gone.contains(e));
                let got: i64 = redis::cmd("ZREMRANGEBYRANK")
                    .arg("z")
                    .arg(*a as i64)
                    .arg(*b as i64)
                    .query(c)
                    .unwrap();
                prop_assert_eq!(got, gone.len() as i64);
            }
            Op::PopMin(n) => {
                let k = (*n as usize).min(model.0.len());
                let want: Vec<String> = model.0.drain(..k).flat_map(|(s, m)| [m, fmt(s)]).collect();
                let got: Vec<String> = redis::cmd("ZPOPMIN").arg("z").arg(*n).query(c).unwrap();
                prop_assert_eq!(got, want);
            }
        }
        let card: i64 = redis::cmd("ZCARD").arg("z").query(c).unwrap();
        prop_assert_eq!(card, model.0.len() as i64);
        let exists: i64 = redis::cmd("EXISTS").arg("z").query(c).unwrap();
        prop_assert_eq!(exists, !model.0.is_empty() as i64);
    }
    let all: Vec<String> = redis::cmd("ZRANGE")
        .arg("z")
        .arg(0)
        .arg(-1)
        .arg("WITHSCORES")
        .query(c)
        .unwrap();
    let want: Vec<String> = model
        .0
        .iter()
        .flat_map(|(s, m)| [m.clone(), fmt(*s)])
        .collect();
    prop_assert_eq!(all, want);
    Ok(())
}

#[test]
fn sorted_set_matches_a_sorted_vec() {
    let server = common::ours();
    let c = std::cell::RefCell::new(common::client(server.addr()));
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        prop::collection::vec(op(), 1..60),
        prop::sample::select(vec![0u8, 2, 8, 128]),
    );
    runner
        .run(&strategy, |(ops, entries)| {
            run(&mut c.borrow_mut(), &ops, entries)
        })
        .unwrap();
}
