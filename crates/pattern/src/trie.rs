//! Byte-level radix trie over the dotted paths a pattern (or pattern set) references.
//!
//! The event scanner walks it with each object key (preceded by `.` below the top level), so a
//! path is matched on its *joined* spelling: the pattern path `detail.state.status` is reached
//! both by `{"detail": {"state": {"status": …}}}` and by `{"detail": {"state.status": …}}`, which
//! is event-ruler's (documented) behaviour. A key that leaves the trie sends its whole value to the
//! fast skipper.
//!
//! Invariant: node 0 is the root with an empty label; a child's label is non-empty and children of
//! one node start with distinct bytes; `terminal` is the path id of the string ending at the node.

/// No path ends here.
const NONE: u32 = u32::MAX;

#[derive(Debug, Clone)]
struct Node {
    label: Box<[u8]>,
    children: Vec<u32>,
    /// First label byte of each child, parallel to `children` (one cache line, no pointer chase).
    firsts: Vec<u8>,
    terminal: u32,
}

/// A position in the trie: inside `node`'s label after `pos` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cursor {
    node: u32,
    pos: u32,
}

/// The trie of referenced paths.
#[derive(Debug, Clone)]
pub(crate) struct Trie {
    nodes: Vec<Node>,
}

impl Trie {
    /// Builds the trie; path `i` of `paths` gets id `i`.
    pub(crate) fn new<S: AsRef<str>>(paths: &[S]) -> Self {
        let mut trie = Trie {
            nodes: vec![Node {
                label: Box::new([]),
                children: Vec::new(),
                firsts: Vec::new(),
                terminal: NONE,
            }],
        };
        for (id, p) in paths.iter().enumerate() {
            trie.insert(p.as_ref().as_bytes(), id as u32);
        }
        trie
    }

    fn insert(&mut self, mut key: &[u8], id: u32) {
        let mut node = 0usize;
        loop {
            let Some(&first) = key.first() else {
                self.nodes[node].terminal = id;
                return;
            };
            let n = &self.nodes[node];
            let child = n
                .firsts
                .iter()
                .position(|f| *f == first)
                .map(|k| n.children[k]);
            let Some(child) = child else {
                let new = self.nodes.len() as u32;
                self.nodes.push(Node {
                    label: key.into(),
                    children: Vec::new(),
                    firsts: Vec::new(),
                    terminal: NONE,
                });
                self.nodes[node].children.push(new);
                self.nodes[node].firsts.push(first);
                self.nodes[new as usize].terminal = id;
                return;
            };
            let child = child as usize;
            let common = common_prefix(&self.nodes[child].label, key);
            if common < self.nodes[child].label.len() {
                self.split(child, common);
            }
            key = &key[common..];
            node = child;
        }
    }

    /// Splits `node`'s label at `at`, moving the tail (and its children) into a new child.
    fn split(&mut self, node: usize, at: usize) {
        let tail: Box<[u8]> = self.nodes[node].label[at..].into();
        let head: Box<[u8]> = self.nodes[node].label[..at].into();
        let first = tail[0];
        let moved = Node {
            label: tail,
            children: std::mem::take(&mut self.nodes[node].children),
            firsts: std::mem::take(&mut self.nodes[node].firsts),
            terminal: self.nodes[node].terminal,
        };
        let new = self.nodes.len() as u32;
        self.nodes.push(moved);
        let n = &mut self.nodes[node];
        n.label = head;
        n.children = vec![new];
        n.firsts = vec![first];
        n.terminal = NONE;
    }

    /// The root cursor (nothing consumed).
    pub(crate) fn root(&self) -> Cursor {
        Cursor { node: 0, pos: 0 }
    }

    /// Consumes `bytes` from `c`; `None` if no referenced path continues that way.
    #[inline]
    pub(crate) fn step(&self, c: Cursor, mut bytes: &[u8]) -> Option<Cursor> {
        let mut node = c.node as usize;
        let mut pos = c.pos as usize;
        loop {
            let n = self.nodes.get(node)?;
            let avail = n.label.get(pos..)?;
            if bytes.len() <= avail.len() {
                return same(&avail[..bytes.len()], bytes).then_some(Cursor {
                    node: node as u32,
                    pos: (pos + bytes.len()) as u32,
                });
            }
            let (head, rest) = bytes.split_at(avail.len());
            if !same(avail, head) {
                return None;
            }
            let first = *rest.first()?;
            let k = n.firsts.iter().position(|f| *f == first)?;
            node = *n.children.get(k)? as usize;
            pos = 0;
            bytes = rest;
        }
    }

    /// The path id ending exactly at `c`, if any.
    #[inline]
    pub(crate) fn terminal(&self, c: Cursor) -> Option<u32> {
        let n = self.nodes.get(c.node as usize)?;
        (c.pos as usize == n.label.len() && n.terminal != NONE).then_some(n.terminal)
    }
}

/// Byte equality of equal-length slices; keys are short, so a plain loop beats `memcmp` calls
/// (and, measured, word-at-a-time compares: most compares end at the first byte).
#[inline(always)]
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_joined_paths() {
        let t = Trie::new(&["detail.state.status", "detail.c.count", "source", "detail"]);
        let walk = |keys: &[&str]| {
            let mut c = t.root();
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    c = t.step(c, b".")?;
                }
                c = t.step(c, k.as_bytes())?;
            }
            t.terminal(c)
        };
        assert_eq!(walk(&["detail", "state", "status"]), Some(0));
        assert_eq!(walk(&["detail", "state.status"]), Some(0));
        assert_eq!(walk(&["detail.c", "count"]), Some(1));
        assert_eq!(walk(&["source"]), Some(2));
        assert_eq!(walk(&["detail"]), Some(3));
        assert_eq!(walk(&["detail", "state"]), None);
        assert_eq!(walk(&["sourcex"]), None);
        assert_eq!(walk(&["other"]), None);
        let empty = Trie::new(&[""]);
        assert_eq!(empty.terminal(empty.root()), Some(0));
    }
}
