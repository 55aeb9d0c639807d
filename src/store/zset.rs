//! Sorted set values: a compact packed form up to zset-max-listpack-entries/-value
//! (`listpack`), an order-statistic tree plus a member index past them (`skiplist`).
//!
//! Both forms keep the elements ordered by (score, member bytes), as Redis does, and answer
//! the same questions: score of a member, rank of a member, the element at a rank, how
//! many elements lie before a boundary (so score and lex ranges become rank ranges), and
//! walks over a rank range in either direction. The compact form is one byte buffer and
//! answers by scanning it (it is small by construction); the large form answers rank and
//! range questions in O(log n) through subtree sizes.
//!
//! The compact form stores a score the way Redis's listpack does (as the text `d2string`
//! writes, read back by `strtod` or as an integer), so -0 becomes 0 there, exactly as it
//! does in Redis, while the large form keeps the double unchanged.

use hashbrown::HashTable;
use std::hash::BuildHasher;

/// The thresholds deciding between the two forms (CONFIG zset-max-listpack-entries/-value).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub entries: usize,
    pub value: usize,
}

/// Whether (s1, m1) sorts before (s2, m2): by score, ties by member bytes.
#[inline]
fn before(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> bool {
    s1 < s2 || (s1 == s2 && m1 < m2)
}

pub enum ZSet {
    /// Entries `[varint member length][member][score]` in order; see [`put_score`].
    Pack(Vec<u8>),
    Tree(Box<Tree>),
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::Pack(Vec::new())
    }
}

// ---- compact form encoding ----

fn put_varint(out: &mut Vec<u8>, mut v: usize) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(buf: &[u8], mut pos: usize) -> (usize, usize) {
    let mut v = 0usize;
    let mut shift = 0;
    loop {
        let b = buf[pos];
        pos += 1;
        v |= ((b & 0x7f) as usize) << shift;
        if b < 0x80 {
            return (v, pos);
        }
        shift += 7;
    }
}

/// The integer Redis's `d2string` would print a score as, if it prints one (so the
/// listpack keeps it as an integer): integral values within +-LLONG_MAX/2 (`double2ll`).
pub fn as_listpack_int(s: f64) -> Option<i64> {
    const LIM: f64 = (i64::MAX / 2) as f64;
    if (-LIM..=LIM).contains(&s) && s == (s as i64) as f64 {
        Some(s as i64)
    } else {
        None
    }
}

/// A score: tag byte 0..=8 = zigzag integer of that many bytes, 0xFF = raw f64 bits.
fn put_score(out: &mut Vec<u8>, s: f64) {
    match as_listpack_int(s) {
        Some(i) => {
            let z = ((i << 1) ^ (i >> 63)) as u64;
            let n = (8 - z.leading_zeros() as usize / 8).min(8);
            out.push(n as u8);
            out.extend_from_slice(&z.to_le_bytes()[..n]);
        }
        None => {
            out.push(0xFF);
            out.extend_from_slice(&s.to_le_bytes());
        }
    }
}

fn get_score(buf: &[u8], pos: usize) -> (f64, usize) {
    let tag = buf[pos];
    if tag == 0xFF {
        let mut b = [0u8; 8];
        b.copy_from_slice(&buf[pos + 1..pos + 9]);
        return (f64::from_le_bytes(b), pos + 9);
    }
    let n = tag as usize;
    let mut b = [0u8; 8];
    b[..n].copy_from_slice(&buf[pos + 1..pos + 1 + n]);
    let z = u64::from_le_bytes(b);
    let i = ((z >> 1) as i64) ^ -((z & 1) as i64);
    (i as f64, pos + 1 + n)
}

fn encoded_len(m: &[u8], s: f64) -> usize {
    let mut v = Vec::with_capacity(16);
    put_varint(&mut v, m.len());
    put_score(&mut v, s);
    v.len() + m.len()
}

/// One decoded entry of the compact form.
struct PackEntry<'a> {
    member: &'a [u8],
    score: f64,
    start: usize,
    end: usize,
}

fn pack_at(buf: &[u8], start: usize) -> PackEntry<'_> {
    let (len, p) = get_varint(buf, start);
    let member = &buf[p..p + len];
    let (score, end) = get_score(buf, p + len);
    PackEntry {
        member,
        score,
        start,
        end,
    }
}

fn pack_iter(buf: &[u8]) -> impl Iterator<Item = PackEntry<'_>> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= buf.len() {
            return None;
        }
        let e = pack_at(buf, pos);
        pos = e.end;
        Some(e)
    })
}

fn pack_find<'a>(buf: &'a [u8], m: &[u8]) -> Option<(usize, PackEntry<'a>)> {
    pack_iter(buf).enumerate().find(|(_, e)| e.member == m)
}

fn pack_insert(buf: &mut Vec<u8>, m: &[u8], s: f64) {
    let pos = pack_iter(buf)
        .find(|e| before(s, m, e.score, e.member))
        .map_or(buf.len(), |e| e.start);
    let mut enc = Vec::with_capacity(m.len() + 12);
    put_varint(&mut enc, m.len());
    enc.extend_from_slice(m);
    put_score(&mut enc, s);
    // Exact growth: the buffer is the whole cost of a small sorted set.
    buf.reserve_exact(enc.len());
    buf.splice(pos..pos, enc);
}

// ---- large form: a treap with subtree sizes in an arena, plus a member index ----

const NIL: u32 = u32::MAX;

#[derive(Clone)]
struct Node {
    member: Box<[u8]>,
    score: f64,
    left: u32,
    right: u32,
    size: u32,
    prio: u32,
}

/// The large form: an order-statistic treap over (score, member) whose nodes live in one
/// arena `Vec` linked by u32 indices, and a hash index member -> node.
#[derive(Clone)]
pub struct Tree {
    nodes: Vec<Node>,
    /// Free arena slots, linked through `left`.
    free: u32,
    root: u32,
    index: HashTable<u32>,
    hasher: hashbrown::DefaultHashBuilder,
    rng: u64,
    /// Bumped whenever the index may move entries between buckets (ZSCAN cursors).
    epoch: u32,
}

impl Tree {
    fn new() -> Tree {
        Tree {
            nodes: Vec::new(),
            free: NIL,
            root: NIL,
            index: HashTable::new(),
            hasher: hashbrown::DefaultHashBuilder::default(),
            rng: 0x9E37_79B9_7F4A_7C15,
            epoch: 0,
        }
    }

    fn len(&self) -> usize {
        self.index.len()
    }

    #[inline]
    fn size(&self, t: u32) -> usize {
        if t == NIL {
            0
        } else {
            self.nodes[t as usize].size as usize
        }
    }

    /// Whether node `a` sorts before node `b`.
    #[inline]
    fn node_before(&self, a: u32, b: u32) -> bool {
        let (x, y) = (&self.nodes[a as usize], &self.nodes[b as usize]);
        before(x.score, &x.member, y.score, &y.member)
    }

    /// Joins two subtrees where every node of `a` sorts before every node of `b`. Sizes
    /// are adjusted on the way down rather than recomputed from both children, which
    /// would read two more nodes (two more cache misses) per level.
    fn merge(&mut self, a: u32, b: u32) -> u32 {
        if a == NIL {
            return b;
        }
        if b == NIL {
            return a;
        }
        if self.nodes[a as usize].prio > self.nodes[b as usize].prio {
            let sb = self.nodes[b as usize].size;
            self.nodes[a as usize].size += sb;
            let r = self.merge(self.nodes[a as usize].right, b);
            self.nodes[a as usize].right = r;
            a
        } else {
            let sa = self.nodes[a as usize].size;
            self.nodes[b as usize].size += sa;
            let l = self.merge(a, self.nodes[b as usize].left);
            self.nodes[b as usize].left = l;
            b
        }
    }

    /// Unlinks node `k` from subtree `t` (which holds it); returns the new subtree root.
    fn unlink(&mut self, t: u32, k: u32) -> u32 {
        if t == k {
            let (l, r) = (self.nodes[t as usize].left, self.nodes[t as usize].right);
            return self.merge(l, r);
        }
        self.nodes[t as usize].size -= 1;
        if self.node_before(t, k) {
            let r = self.unlink(self.nodes[t as usize].right, k);
            self.nodes[t as usize].right = r;
        } else {
            let l = self.unlink(self.nodes[t as usize].left, k);
            self.nodes[t as usize].left = l;
        }
        t
    }

    /// Inserts node `k` into subtree `t` as a leaf and rotates it up while its priority
    /// beats its parent's: one root-to-leaf path and about two rotations, where a
    /// split and two merges walk three paths.
    fn insert_at(&mut self, t: u32, k: u32) -> u32 {
        if t == NIL {
            return k;
        }
        self.nodes[t as usize].size += 1;
        if self.node_before(k, t) {
            let l = self.insert_at(self.nodes[t as usize].left, k);
            self.nodes[t as usize].left = l;
            if self.nodes[l as usize].prio > self.nodes[t as usize].prio {
                return self.rotate_right(t);
            }
        } else {
            let r = self.insert_at(self.nodes[t as usize].right, k);
            self.nodes[t as usize].right = r;
            if self.nodes[r as usize].prio > self.nodes[t as usize].prio {
                return self.rotate_left(t);
            }
        }
        t
    }

    /// Lifts the left child of `t` above it.
    fn rotate_right(&mut self, t: u32) -> u32 {
        let l = self.nodes[t as usize].left;
        let lr = self.nodes[l as usize].right;
        let total = self.nodes[t as usize].size;
        let t_size = total - self.nodes[l as usize].size + self.size(lr) as u32;
        self.nodes[t as usize].left = lr;
        self.nodes[t as usize].size = t_size;
        self.nodes[l as usize].right = t;
        self.nodes[l as usize].size = total;
        l
    }

    /// Lifts the right child of `t` above it.
    fn rotate_left(&mut self, t: u32) -> u32 {
        let r = self.nodes[t as usize].right;
        let rl = self.nodes[r as usize].left;
        let total = self.nodes[t as usize].size;
        let t_size = total - self.nodes[r as usize].size + self.size(rl) as u32;
        self.nodes[t as usize].right = rl;
        self.nodes[t as usize].size = t_size;
        self.nodes[r as usize].left = t;
        self.nodes[r as usize].size = total;
        r
    }

    fn link(&mut self, k: u32) {
        {
            let n = &mut self.nodes[k as usize];
            n.left = NIL;
            n.right = NIL;
            n.size = 1;
        }
        self.root = self.insert_at(self.root, k);
    }

    fn next_prio(&mut self) -> u32 {
        // xorshift64*: priorities only need to be independent of the keys.
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as u32
    }

    fn find(&self, m: &[u8]) -> Option<u32> {
        let h = self.hasher.hash_one(m);
        self.index
            .find(h, |&i| *self.nodes[i as usize].member == *m)
            .copied()
    }

    fn insert(&mut self, m: &[u8], s: f64) {
        let prio = self.next_prio();
        let node = Node {
            member: m.into(),
            score: s,
            left: NIL,
            right: NIL,
            size: 1,
            prio,
        };
        let k = if self.free != NIL {
            let k = self.free;
            self.free = self.nodes[k as usize].left;
            self.nodes[k as usize] = node;
            k
        } else {
            self.nodes.push(node);
            (self.nodes.len() - 1) as u32
        };
        if self.index.len() == self.index.capacity() {
            self.epoch = self.epoch.wrapping_add(1);
        }
        let h = self.hasher.hash_one(m);
        let Tree {
            index,
            nodes,
            hasher,
            ..
        } = self;
        index.insert_unique(h, k, |&i| hasher.hash_one(&*nodes[i as usize].member));
        self.link(k);
    }

    fn remove(&mut self, m: &[u8]) -> Option<f64> {
        let h = self.hasher.hash_one(m);
        let nodes = &self.nodes;
        let k = match self
            .index
            .find_entry(h, |&i| *nodes[i as usize].member == *m)
        {
            Ok(e) => e.remove().0,
            Err(_) => return None,
        };
        self.root = self.unlink(self.root, k);
        let n = &mut self.nodes[k as usize];
        let s = n.score;
        n.member = Box::default();
        n.left = self.free;
        self.free = k;
        Some(s)
    }

    /// Detaches the first (or last) node of subtree `t` in one walk down its spine
    /// (sizes adjusted on the way): (new subtree root, detached node).
    fn unlink_end(&mut self, t: u32, last: bool) -> (u32, u32) {
        let n = &self.nodes[t as usize];
        let (next, other) = if last {
            (n.right, n.left)
        } else {
            (n.left, n.right)
        };
        if next == NIL {
            return (other, t);
        }
        self.nodes[t as usize].size -= 1;
        let (sub, k) = self.unlink_end(next, last);
        if last {
            self.nodes[t as usize].right = sub;
        } else {
            self.nodes[t as usize].left = sub;
        }
        (t, k)
    }

    /// Removes and returns the first (or last) element: one spine walk, where a member
    /// lookup plus a search from the root would walk twice (ZPOPMIN/ZPOPMAX,
    /// ZREMRANGEBYRANK at an end).
    fn pop_end(&mut self, last: bool) -> Option<(Box<[u8]>, f64)> {
        if self.root == NIL {
            return None;
        }
        let (root, k) = self.unlink_end(self.root, last);
        self.root = root;
        let h = self.hasher.hash_one(&*self.nodes[k as usize].member);
        if let Ok(e) = self.index.find_entry(h, |&i| i == k) {
            e.remove();
        }
        let n = &mut self.nodes[k as usize];
        let member = std::mem::take(&mut n.member);
        n.left = self.free;
        self.free = k;
        Some((member, n.score))
    }

    fn update(&mut self, k: u32, s: f64) {
        self.root = self.unlink(self.root, k);
        self.nodes[k as usize].score = s;
        self.link(k);
    }

    /// Number of nodes for which `pred` holds; `pred` must hold for a prefix of the order.
    fn count_prefix(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        let mut t = self.root;
        let mut c = 0;
        while t != NIL {
            let n = &self.nodes[t as usize];
            if pred(n.score, &n.member) {
                c += self.size(n.left) + 1;
                t = n.right;
            } else {
                t = n.left;
            }
        }
        c
    }

    /// The path stack to rank `r`, positioned for a forward (or backward) walk.
    fn path_to(&self, mut r: usize, rev: bool) -> Vec<u32> {
        let mut stack = Vec::with_capacity(48);
        let mut t = self.root;
        while t != NIL {
            let n = &self.nodes[t as usize];
            let ls = self.size(n.left);
            if r < ls {
                if !rev {
                    stack.push(t);
                }
                t = n.left;
            } else if r == ls {
                stack.push(t);
                break;
            } else {
                if rev {
                    stack.push(t);
                }
                r -= ls + 1;
                t = n.right;
            }
        }
        stack
    }

    fn visit(&self, from: usize, mut n: usize, rev: bool, f: &mut dyn FnMut(&[u8], f64)) {
        let mut stack = self.path_to(from, rev);
        while n > 0 {
            let Some(t) = stack.pop() else { break };
            let node = &self.nodes[t as usize];
            f(&node.member, node.score);
            n -= 1;
            let mut c = if rev { node.left } else { node.right };
            while c != NIL {
                stack.push(c);
                let cn = &self.nodes[c as usize];
                c = if rev { cn.right } else { cn.left };
            }
        }
    }
}

impl ZSet {
    pub fn new() -> ZSet {
        ZSet::default()
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            ZSet::Pack(_) => "listpack",
            ZSet::Tree(_) => "skiplist",
        }
    }

    pub fn len(&self) -> usize {
        match self {
            ZSet::Pack(b) => pack_iter(b).count(),
            ZSet::Tree(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            ZSet::Pack(b) => b.is_empty(),
            ZSet::Tree(t) => t.len() == 0,
        }
    }

    /// A deep copy (COPY), in the same encoding.
    pub fn duplicate(&self) -> ZSet {
        match self {
            ZSet::Pack(b) => ZSet::Pack(b.clone()),
            ZSet::Tree(t) => ZSet::Tree(t.clone()),
        }
    }

    /// A set made from distinct members, in the encoding Redis gives a freshly built
    /// result (ZUNIONSTORE, ZRANGESTORE, ...): compact when it fits the limits.
    pub fn from_entries(mut items: Vec<(Vec<u8>, f64)>, limits: Limits) -> ZSet {
        let compact =
            items.len() <= limits.entries && items.iter().all(|(m, _)| m.len() <= limits.value);
        if compact {
            items.sort_by(|a, b| {
                if before(a.1, &a.0, b.1, &b.0) {
                    std::cmp::Ordering::Less
                } else {
                    std::cmp::Ordering::Greater
                }
            });
            let total: usize = items.iter().map(|(m, s)| encoded_len(m, *s)).sum();
            let mut buf = Vec::with_capacity(total);
            for (m, s) in &items {
                put_varint(&mut buf, m.len());
                buf.extend_from_slice(m);
                put_score(&mut buf, *s);
            }
            ZSet::Pack(buf)
        } else {
            let mut t = Tree::new();
            for (m, s) in &items {
                t.insert(m, *s);
            }
            ZSet::Tree(Box::new(t))
        }
    }

    pub fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            ZSet::Pack(b) => pack_find(b, m).map(|(_, e)| e.score),
            ZSet::Tree(t) => t.find(m).map(|k| t.nodes[k as usize].score),
        }
    }

    /// The ascending rank (0-based) and score of a member.
    pub fn rank(&self, m: &[u8]) -> Option<(usize, f64)> {
        match self {
            ZSet::Pack(b) => pack_find(b, m).map(|(i, e)| (i, e.score)),
            ZSet::Tree(t) => {
                let k = t.find(m)?;
                let n = &t.nodes[k as usize];
                let r = t.count_prefix(|s, mm| before(s, mm, n.score, &n.member));
                Some((r, n.score))
            }
        }
    }

    /// How many elements satisfy `pred`, which must hold for a prefix of the order (e.g.
    /// "score below the range's minimum").
    pub fn count_prefix(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        match self {
            ZSet::Pack(b) => pack_iter(b).take_while(|e| pred(e.score, e.member)).count(),
            ZSet::Tree(t) => t.count_prefix(pred),
        }
    }

    /// Calls `f` on up to `n` elements from ascending rank `from`, walking towards higher
    /// ranks, or towards lower ranks when `rev`.
    pub fn visit(&self, from: usize, n: usize, rev: bool, mut f: impl FnMut(&[u8], f64)) {
        match self {
            ZSet::Pack(b) => {
                if !rev {
                    for e in pack_iter(b).skip(from).take(n) {
                        f(e.member, e.score);
                    }
                } else {
                    let starts: Vec<usize> = pack_iter(b).take(from + 1).map(|e| e.start).collect();
                    if starts.len() == from + 1 {
                        for &s in starts.iter().rev().take(n) {
                            let e = pack_at(b, s);
                            f(e.member, e.score);
                        }
                    }
                }
            }
            ZSet::Tree(t) => {
                if from < t.len() {
                    t.visit(from, n, rev, &mut f)
                }
            }
        }
    }

    /// The elements of ascending ranks `from..from+n` (or downwards when `rev`), copied.
    /// Removes and returns up to `n` elements from the low end (or the high end when
    /// `max`), in the order they are popped.
    pub fn pop(&mut self, n: usize, max: bool) -> Vec<(Vec<u8>, f64)> {
        match self {
            ZSet::Tree(t) => {
                let mut out = Vec::with_capacity(n.min(t.len()).min(1024));
                for _ in 0..n {
                    match t.pop_end(max) {
                        Some((m, s)) => out.push((m.into_vec(), s)),
                        None => break,
                    }
                }
                out
            }
            ZSet::Pack(_) => {
                let len = self.len();
                let n = n.min(len);
                let from = if max { len - n } else { 0 };
                let items = if max {
                    self.collect(len - 1, n, true)
                } else {
                    self.collect(0, n, false)
                };
                self.remove_ranks(from, n);
                items
            }
        }
    }

    pub fn collect(&self, from: usize, n: usize, rev: bool) -> Vec<(Vec<u8>, f64)> {
        let mut out = Vec::with_capacity(n.min(1024));
        self.visit(from, n, rev, |m, s| out.push((m.to_vec(), s)));
        out
    }

    /// Adds a member known to be absent, converting to the large form first when the
    /// compact one would pass the limits (as Redis's `zsetAdd`).
    pub fn insert(&mut self, m: &[u8], s: f64, limits: Limits) {
        if let ZSet::Pack(b) = self {
            let n = pack_iter(b).count();
            if n + 1 > limits.entries || m.len() > limits.value {
                self.convert();
            }
        }
        match self {
            ZSet::Pack(b) => pack_insert(b, m, s),
            ZSet::Tree(t) => t.insert(m, s),
        }
    }

    /// Changes the score of a present member.
    pub fn set_score(&mut self, m: &[u8], s: f64) {
        match self {
            ZSet::Pack(b) => {
                if let Some((_, e)) = pack_find(b, m) {
                    let (start, end) = (e.start, e.end);
                    let m = m.to_vec();
                    b.drain(start..end);
                    pack_insert(b, &m, s);
                }
            }
            ZSet::Tree(t) => {
                if let Some(k) = t.find(m) {
                    t.update(k, s);
                }
            }
        }
    }

    pub fn remove(&mut self, m: &[u8]) -> Option<f64> {
        match self {
            ZSet::Pack(b) => {
                let (start, end, s) = pack_find(b, m).map(|(_, e)| (e.start, e.end, e.score))?;
                b.drain(start..end);
                b.shrink_to_fit();
                Some(s)
            }
            ZSet::Tree(t) => t.remove(m),
        }
    }

    /// Removes the elements of ascending ranks `from..from+n`; returns how many.
    pub fn remove_ranks(&mut self, from: usize, n: usize) -> usize {
        match self {
            ZSet::Pack(b) => {
                let mut range: Option<(usize, usize)> = None;
                let mut count = 0;
                for e in pack_iter(b).skip(from).take(n) {
                    range = Some((range.map_or(e.start, |r| r.0), e.end));
                    count += 1;
                }
                if let Some((s, e)) = range {
                    b.drain(s..e);
                    b.shrink_to_fit();
                }
                count
            }
            ZSet::Tree(t) if from == 0 || from.saturating_add(n) >= t.len() => {
                let n = n.min(t.len().saturating_sub(from));
                let last = from != 0;
                for _ in 0..n {
                    t.pop_end(last);
                }
                n
            }
            ZSet::Tree(t) => {
                let mut members = Vec::with_capacity(n.min(1024));
                t.visit(from, n, false, &mut |m, _| members.push(m.to_vec()));
                for m in &members {
                    t.remove(m);
                }
                members.len()
            }
        }
    }

    /// Switches the compact form to the large one (never back, as in Redis).
    fn convert(&mut self) {
        if let ZSet::Pack(b) = self {
            let mut t = Tree::new();
            for e in pack_iter(b) {
                t.insert(e.member, e.score);
            }
            *self = ZSet::Tree(Box::new(t));
        }
    }

    /// One ZSCAN step: calls `f` for the elements of the walked part and returns the next
    /// cursor (0 when done). The compact form is walked whole in one call.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], f64)) -> u64 {
        match self {
            ZSet::Pack(b) => {
                for e in pack_iter(b) {
                    f(e.member, e.score);
                }
                0
            }
            ZSet::Tree(t) => {
                // Cursor: low 36 bits bucket, high bits the index epoch. A cursor from an
                // older layout restarts at bucket 0: elements may come twice, never not
                // at all.
                const BITS: u32 = 36;
                let mut bucket = (cursor & ((1 << BITS) - 1)) as usize;
                let epoch = (cursor >> BITS) as u32 & 0x0FFF_FFFF;
                let current = t.epoch & 0x0FFF_FFFF;
                if epoch != current {
                    bucket = 0;
                }
                let buckets = t.index.num_buckets();
                let max_visits = count.saturating_mul(10).max(1);
                let (mut found, mut visited) = (0, 0);
                while bucket < buckets && found < count && visited < max_visits {
                    if let Some(&k) = t.index.get_bucket(bucket) {
                        let n = &t.nodes[k as usize];
                        f(&n.member, n.score);
                        found += 1;
                    }
                    bucket += 1;
                    visited += 1;
                }
                if bucket >= buckets {
                    0
                } else {
                    bucket as u64 | ((current as u64) << BITS)
                }
            }
        }
    }
}

// MEMORY USAGE: the bytes a value holds on the heap, in jemalloc size classes.
impl ZSet {
    /// Heap bytes: the packed buffer, or the tree's arena and index with the members
    /// estimated from the first `samples` of them (average times the count).
    pub fn heap_bytes(&self, samples: usize) -> usize {
        use crate::memory::alloc_size;
        match self {
            ZSet::Pack(v) => alloc_size(v.capacity()),
            ZSet::Tree(t) => {
                let n = t.index.len();
                let k = samples.clamp(1, n.max(1));
                let sampled: usize = t
                    .index
                    .iter()
                    .take(k)
                    .map(|&i| alloc_size(t.nodes[i as usize].member.len()))
                    .sum();
                alloc_size(std::mem::size_of::<Tree>())
                    + alloc_size(t.nodes.capacity() * std::mem::size_of::<Node>())
                    + t.index.allocation_size()
                    + (sampled as f64 / k as f64 * n as f64) as usize
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Limits = Limits {
        entries: 128,
        value: 64,
    };
    const NONE: Limits = Limits {
        entries: 0,
        value: 64,
    };

    fn all(z: &ZSet) -> Vec<(Vec<u8>, f64)> {
        z.collect(0, usize::MAX, false)
    }

    #[test]
    fn both_forms_agree_with_a_sorted_vec() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for limits in [SMALL, NONE] {
            let mut z = ZSet::new();
            let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
            for _ in 0..3000 {
                let m = format!("m{}", rng.random_range(0..200)).into_bytes();
                let s = rng.random_range(-20..20) as f64 / 2.0;
                match rng.random_range(0..3) {
                    0 | 1 => {
                        if z.score(&m).is_some() {
                            z.set_score(&m, s);
                            model.retain(|(_, mm)| *mm != m);
                        } else {
                            z.insert(&m, s, limits);
                        }
                        model.push((s, m));
                    }
                    _ => {
                        let had = model.iter().any(|(_, mm)| *mm == m);
                        assert_eq!(z.remove(&m).is_some(), had);
                        model.retain(|(_, mm)| *mm != m);
                    }
                }
            }
            model.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap().then(a.1.cmp(&b.1)));
            let expect: Vec<(Vec<u8>, f64)> = model.iter().map(|(s, m)| (m.clone(), *s)).collect();
            assert_eq!(all(&z), expect);
            assert_eq!(z.len(), expect.len());
            for (i, (m, s)) in expect.iter().enumerate() {
                assert_eq!(z.rank(m), Some((i, *s)));
                let mut got = Vec::new();
                z.visit(i, 3, true, |m, _| got.push(m.to_vec()));
                let want: Vec<Vec<u8>> = expect[..=i]
                    .iter()
                    .rev()
                    .take(3)
                    .map(|e| e.0.clone())
                    .collect();
                assert_eq!(got, want);
            }
            assert_eq!(
                z.count_prefix(|s, _| s < 0.0),
                expect.iter().filter(|e| e.1 < 0.0).count()
            );
            let n = z.remove_ranks(2, 5);
            assert_eq!(n, 5.min(expect.len().saturating_sub(2)));
        }
    }

    #[test]
    fn compact_scores_round_trip_like_a_listpack() {
        let mut z = ZSet::new();
        for (i, s) in [
            0.1,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            4503599627370496.0,
            -7.0,
            1e17,
            4611686018427387904.0,
            9e18,
        ]
        .into_iter()
        .enumerate()
        {
            z.insert(format!("{i}").as_bytes(), s, SMALL);
        }
        assert_eq!(z.score(b"0"), Some(0.1));
        assert_eq!(z.score(b"1"), Some(1e300));
        assert_eq!(z.score(b"2"), Some(f64::INFINITY));
        assert!(z.score(b"4").unwrap().is_sign_positive());
        assert_eq!(z.score(b"5"), Some(4503599627370496.0));
        assert_eq!(z.score(b"6"), Some(-7.0));
        assert_eq!(z.encoding(), "listpack");
    }

    #[test]
    fn scan_of_the_large_form_sees_every_element() {
        let mut z = ZSet::new();
        for i in 0..1000 {
            z.insert(format!("m{i}").as_bytes(), i as f64, NONE);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        for _ in 0..10_000 {
            cursor = z.scan(cursor, 10, |m, _| {
                seen.insert(m.to_vec());
            });
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 1000);
    }
}
