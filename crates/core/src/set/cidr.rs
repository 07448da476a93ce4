//! A table of CIDR networks answering "every network that contains this
//! address" in one binary search plus a walk up the nesting chain.
//!
//! CIDR networks never partly overlap: two are either disjoint or one
//! contains the other. So the address space splits into at most `2n + 1`
//! segments, each of which has one innermost network (or none), and each
//! network has one parent. A lookup finds the segment and walks from its
//! innermost network to the root. A 65,536-entry index on the top 16 bits
//! narrows the search, which keeps a million networks fast.

use super::ids::IdList;
use crate::indicator::IndicatorId;

const NONE: u32 = u32::MAX;

/// An address type the table can hold: `u32` for IPv4, `u128` for IPv6.
pub(crate) trait RangeKey: Copy + Ord + std::fmt::Debug {
    /// The top 16 bits, for the bucket index.
    fn top16(self) -> usize;
    /// The last address of the `prefix`-bit network starting here.
    fn last(self, prefix: u8) -> Self;
    /// The next address, or `None` after the last one.
    fn succ(self) -> Option<Self>;
}

impl RangeKey for u32 {
    fn top16(self) -> usize {
        (self >> 16) as usize
    }
    fn last(self, prefix: u8) -> Self {
        self | !crate::value::ip::mask32(prefix)
    }
    fn succ(self) -> Option<Self> {
        self.checked_add(1)
    }
}

impl RangeKey for u128 {
    fn top16(self) -> usize {
        (self >> 112) as usize
    }
    fn last(self, prefix: u8) -> Self {
        self | !crate::value::ip::mask128(prefix)
    }
    fn succ(self) -> Option<Self> {
        self.checked_add(1)
    }
}

#[derive(Clone, Debug)]
struct Node<K> {
    start: K,
    prefix: u8,
    ids: IdList,
    parent: u32,
}

/// The compiled table.
#[derive(Clone, Debug)]
pub(crate) struct CidrTable<K> {
    nodes: Vec<Node<K>>,
    /// Segment `i` runs from `seg_start[i]` to just before
    /// `seg_start[i + 1]`; its innermost network is `seg_node[i]`.
    seg_start: Vec<K>,
    seg_node: Vec<u32>,
    /// `bucket[b]` is the first segment whose start has top bits `>= b`.
    bucket: Vec<u32>,
}

impl<K: RangeKey> CidrTable<K> {
    /// Builds the table from `(network, prefix, id)` triples. Networks
    /// must have their host bits cleared.
    pub(crate) fn build(mut entries: Vec<(K, u8, IndicatorId)>) -> Self {
        entries
            .sort_unstable_by_key(|&(start, prefix, id)| (start, prefix, id));
        let mut nodes: Vec<Node<K>> = Vec::new();
        for (start, prefix, id) in entries {
            match nodes.last_mut() {
                Some(n) if n.start == start && n.prefix == prefix => {
                    n.ids.push(id)
                }
                _ => nodes.push(Node {
                    start,
                    prefix,
                    ids: IdList::One(id),
                    parent: NONE,
                }),
            }
        }
        let mut table = CidrTable {
            nodes,
            seg_start: Vec::new(),
            seg_node: Vec::new(),
            bucket: Vec::new(),
        };
        table.link();
        table.index();
        table
    }

    /// Sweeps the sorted networks with a stack of open ones, recording
    /// parents and segment boundaries.
    fn link(&mut self) {
        let mut stack: Vec<u32> = Vec::new();
        for i in 0..self.nodes.len() {
            let start = self.nodes[i].start;
            while let Some(&top) = stack.last() {
                let top_last = self.last(top);
                if top_last >= start {
                    break;
                }
                stack.pop();
                self.close(top_last, stack.last().copied());
            }
            self.nodes[i].parent = stack.last().copied().unwrap_or(NONE);
            self.open(start, i as u32);
            stack.push(i as u32);
        }
        while let Some(top) = stack.pop() {
            let top_last = self.last(top);
            self.close(top_last, stack.last().copied());
        }
    }

    fn last(&self, node: u32) -> K {
        let n = &self.nodes[node as usize];
        n.start.last(n.prefix)
    }

    fn open(&mut self, start: K, node: u32) {
        if self.seg_start.last() == Some(&start) {
            *self.seg_node.last_mut().unwrap() = node;
        } else {
            self.seg_start.push(start);
            self.seg_node.push(node);
        }
    }

    fn close(&mut self, last: K, parent: Option<u32>) {
        if let Some(next) = last.succ() {
            self.open(next, parent.unwrap_or(NONE));
        }
    }

    fn index(&mut self) {
        let mut bucket = vec![0u32; 65537];
        for s in &self.seg_start {
            bucket[s.top16() + 1] += 1;
        }
        for b in 1..bucket.len() {
            bucket[b] += bucket[b - 1];
        }
        self.bucket = bucket;
    }

    /// Calls `f` with the ids and prefix length of every network that
    /// contains `addr`, innermost first.
    #[inline]
    pub(crate) fn for_each_containing(
        &self,
        addr: K,
        mut f: impl FnMut(&[IndicatorId], u8),
    ) {
        if self.seg_start.is_empty() {
            return;
        }
        let b = addr.top16();
        let (lo, hi) = (self.bucket[b] as usize, self.bucket[b + 1] as usize);
        let idx = lo + self.seg_start[lo..hi].partition_point(|&s| s <= addr);
        if idx == 0 {
            return;
        }
        let mut node = self.seg_node[idx - 1];
        while node != NONE {
            let n = &self.nodes[node as usize];
            f(n.ids.as_slice(), n.prefix);
            node = n.parent;
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }
}
