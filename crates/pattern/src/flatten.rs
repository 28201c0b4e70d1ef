//! Event flattening: one pass over the event JSON that keeps only the leaves patterns reference.
//!
//! The scanner walks the event and the path [`Trie`] together. A key that no referenced path
//! continues with is not parsed at all: its value goes to a skipper that only tracks strings and
//! the depth of its own bracket kind, 64 bytes at a time with SIMD bit masks (most event bytes in
//! practice sit in such unreferenced subtrees). An object whose path no referenced path extends
//! (no `.` continuation in the trie) is skipped whole. Referenced scalars become [`Leaf`]s (string
//! and number spellings point into the source; only strings with escapes are decoded, into a
//! reused arena).
//!
//! Array consistency: every array element entered gets an element context
//! `(parent context, array id, index)`; a leaf records the innermost one. Two leaves may be used
//! together only if they agree on the index of every array they both sit in (event-ruler's
//! `ArrayMembership`), which [`crate::eval`] checks by walking the context chains.
//!
//! Duplicate keys: the last occurrence wins (Jackson's tree model, which event-ruler flattens);
//! leaves from an earlier occurrence of the same key in the same object are marked dead.
//!
//! Invariants and limits: all state lives in a caller-provided [`Scratch`] that is cleared, never
//! shrunk, so steady-state matching does not allocate; nesting deeper than [`MAX_DEPTH`] is an
//! error, as in Jackson; skipped subtrees are checked only for terminated strings and balanced
//! brackets of their own kind, so malformed JSON *inside an unreferenced value* may go unnoticed (services validate
//! event JSON before matching; the matcher only promises no panics and correct results on valid
//! JSON).

use std::io::Write as _;

use serde_json::Value;
use wide::{u8x16, u8x64};

use crate::error::EventError;
use crate::lexer::MAX_DEPTH;
use crate::trie::{Cursor, Trie};

/// Path id of a leaf superseded by a later duplicate key.
pub(crate) const DEAD: u32 = u32::MAX;

/// Leaf value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Str,
    Num,
    True,
    False,
    Null,
}

/// One referenced scalar of the event.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Leaf {
    pub(crate) path: u32,
    pub(crate) ctx: u32,
    pub(crate) kind: Kind,
    /// The spelling lives in the scratch arena rather than the source.
    pub(crate) in_arena: bool,
    pub(crate) start: u32,
    pub(crate) end: u32,
    pub(crate) num: f64,
}

/// An array element: `index` of array `array`, inside context `parent`. Context 0 is the root.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx {
    pub(crate) parent: u32,
    pub(crate) array: u32,
    pub(crate) index: u32,
}

#[derive(Debug, Clone, Copy)]
struct Seen {
    cursor: Cursor,
    start: u32,
    end: u32,
}

/// Reusable buffers for flattening and evaluation.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    pub(crate) leaves: Vec<Leaf>,
    pub(crate) ctxs: Vec<Ctx>,
    pub(crate) arena: Vec<u8>,
    seen: Vec<Seen>,
    keybuf: Vec<u8>,
    next_array: u32,
    /// Leaves grouped by path: `order[starts[p]..starts[p + 1]]`.
    pub(crate) starts: Vec<u32>,
    pub(crate) order: Vec<u32>,
    pub(crate) fill: Vec<u32>,
    pub(crate) assign: Vec<(u32, u32)>,
    pub(crate) frames: Vec<crate::eval::Frame>,
}

impl Scratch {
    fn reset(&mut self) {
        self.leaves.clear();
        self.ctxs.clear();
        self.ctxs.push(Ctx {
            parent: 0,
            array: u32::MAX,
            index: 0,
        });
        self.arena.clear();
        self.seen.clear();
        self.next_array = 0;
    }

    /// Groups live leaves by path id (`paths` ids in all).
    pub(crate) fn group(&mut self, paths: usize) {
        self.starts.clear();
        self.starts.resize(paths + 1, 0);
        for l in &self.leaves {
            if let Some(slot) = self.starts.get_mut(l.path as usize + 1) {
                *slot += 1;
            }
        }
        for p in 0..paths {
            self.starts[p + 1] += self.starts[p];
        }
        self.fill.clear();
        self.fill.extend_from_slice(&self.starts[..paths]);
        self.order.clear();
        self.order.resize(self.starts[paths] as usize, 0);
        for (i, l) in self.leaves.iter().enumerate() {
            if let Some(pos) = self.fill.get_mut(l.path as usize) {
                self.order[*pos as usize] = i as u32;
                *pos += 1;
            }
        }
    }

    /// Indices of the leaves at `path`, in document order.
    pub(crate) fn at(&self, path: u32) -> &[u32] {
        let p = path as usize;
        match (self.starts.get(p), self.starts.get(p + 1)) {
            (Some(&a), Some(&b)) => &self.order[a as usize..b as usize],
            _ => &[],
        }
    }
}

type R<T> = Result<T, EventError>;

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// High bit set in each byte of `w` equal to `b`. Borrows can only set bits *above* a true match,
/// so the lowest set bit always marks the first match.
#[inline(always)]
fn eq_mask(w: u64, b: u8) -> u64 {
    let x = w ^ (LO * u64::from(b));
    x.wrapping_sub(LO) & !x & HI
}

#[inline(always)]
fn word(b: &[u8], i: usize) -> Option<u64> {
    b.get(i..)?
        .first_chunk::<8>()
        .map(|c| u64::from_le_bytes(*c))
}

/// Index of the first `"` or `\\` at or after `i` (or `b.len()`).
#[inline(always)]
fn find_quote_or_escape(b: &[u8], mut i: usize) -> usize {
    // 16 bytes per step with SIMD compares (most keys and values end within the first step);
    // the last few bytes of the event go eight at a time, then one at a time.
    let (quote, backslash) = (u8x16::splat(b'"'), u8x16::splat(b'\\'));
    while let Some(chunk) = b.get(i..).and_then(|r| r.first_chunk::<16>()) {
        let v = u8x16::new(*chunk);
        let m = (v.simd_eq(quote) | v.simd_eq(backslash)).to_bitmask();
        if m != 0 {
            return i + m.trailing_zeros() as usize;
        }
        i += 16;
    }
    while let Some(w) = word(b, i) {
        let m = eq_mask(w, b'"') | eq_mask(w, b'\\');
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' {
            return i;
        }
        i += 1;
    }
    b.len()
}

/// Flattens `src` into `s`, keeping leaves at the paths of `trie`.
pub(crate) fn flatten(src: &str, trie: &Trie, s: &mut Scratch) -> R<()> {
    s.reset();
    if src.len() >= u32::MAX as usize {
        return Err(EventError::new(0, &"event is too large"));
    }
    let mut sc = Scanner {
        src,
        b: src.as_bytes(),
        i: 0,
        trie,
        s,
        depth: 0,
    };
    sc.skip_ws();
    if sc.i >= sc.b.len() {
        return Err(EventError::new(0, &"empty input"));
    }
    sc.value(Some(trie.root()), true, 0)?;
    sc.skip_ws();
    if sc.i != sc.b.len() {
        return Err(sc.err(&"unexpected content after the JSON value"));
    }
    Ok(())
}

struct Scanner<'a, 's> {
    src: &'a str,
    b: &'a [u8],
    i: usize,
    trie: &'a Trie,
    s: &'s mut Scratch,
    depth: usize,
}

impl Scanner<'_, '_> {
    fn err(&self, what: &'static &'static str) -> EventError {
        EventError::new(self.i, what)
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    fn skip_ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if c > b' ' || !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                return;
            }
            self.i += 1;
        }
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(&"nesting is too deep"));
        }
        Ok(())
    }

    fn value(&mut self, cur: Option<Cursor>, at_root: bool, ctx: u32) -> R<()> {
        let Some(c) = cur else {
            return self.skip_value();
        };
        match self.peek() {
            Some(b'{') => self.object(c, at_root, ctx),
            Some(b'[') => self.array(c, at_root, ctx),
            Some(_) => match self.trie.terminal(c) {
                Some(path) if !at_root => self.leaf(path, ctx),
                _ => self.skip_value(),
            },
            None => Err(self.err(&"unexpected end of input")),
        }
    }

    fn object(&mut self, c: Cursor, at_root: bool, ctx: u32) -> R<()> {
        // Keys below the top level continue the path after a dot; if no referenced path does,
        // nothing in this object matters.
        let base = if at_root {
            c
        } else {
            match self.trie.step(c, b".") {
                Some(d) => d,
                None => return self.skip_container(),
            }
        };
        self.i += 1;
        self.enter()?;
        let frame = self.s.seen.len();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.err(&"expected a field name"));
            }
            let (ks, ke, escaped) = self.string_span()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.err(&"expected ':'"));
            }
            self.i += 1;
            self.skip_ws();
            match self.key_cursor(base, ks, ke, escaped)? {
                None => self.skip_value()?,
                Some(child) => {
                    let start = self.s.leaves.len() as u32;
                    self.value(Some(child), false, ctx)?;
                    let end = self.s.leaves.len() as u32;
                    self.note_key(frame, child, start, end);
                }
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    self.skip_ws();
                }
                Some(b'}') => {
                    self.i += 1;
                    break;
                }
                _ => return Err(self.err(&"expected ',' or '}'")),
            }
        }
        self.s.seen.truncate(frame);
        self.depth -= 1;
        Ok(())
    }

    #[inline]
    fn key_cursor(
        &mut self,
        base: Cursor,
        ks: usize,
        ke: usize,
        escaped: bool,
    ) -> R<Option<Cursor>> {
        if !escaped {
            return Ok(self.trie.step(base, &self.b[ks..ke]));
        }
        self.s.keybuf.clear();
        unescape(&self.b[ks..ke], &mut self.s.keybuf).map_err(|_| self.err(&"bad escape"))?;
        Ok(self.trie.step(base, &self.s.keybuf))
    }

    /// Last occurrence of a key wins: kill the leaves of an earlier one in this object.
    fn note_key(&mut self, frame: usize, cursor: Cursor, start: u32, end: u32) {
        let s = &mut *self.s;
        if let Some(e) = s.seen[frame..].iter_mut().find(|e| e.cursor == cursor) {
            for l in &mut s.leaves[e.start as usize..e.end as usize] {
                l.path = DEAD;
            }
            e.start = start;
            e.end = end;
            return;
        }
        s.seen.push(Seen { cursor, start, end });
    }

    fn array(&mut self, c: Cursor, at_root: bool, ctx: u32) -> R<()> {
        self.i += 1;
        self.enter()?;
        let id = self.s.next_array;
        self.s.next_array = id.wrapping_add(1);
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            self.depth -= 1;
            return Ok(());
        }
        let mut index = 0u32;
        loop {
            let element = self.s.ctxs.len() as u32;
            self.s.ctxs.push(Ctx {
                parent: ctx,
                array: id,
                index,
            });
            self.value(Some(c), at_root, element)?;
            index = index.wrapping_add(1);
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    self.skip_ws();
                }
                Some(b']') => {
                    self.i += 1;
                    break;
                }
                _ => return Err(self.err(&"expected ',' or ']'")),
            }
        }
        self.depth -= 1;
        Ok(())
    }

    fn push_leaf(&mut self, path: u32, ctx: u32, kind: Kind, span: (usize, usize), num: f64) {
        self.s.leaves.push(Leaf {
            path,
            ctx,
            kind,
            in_arena: false,
            start: span.0 as u32,
            end: span.1 as u32,
            num,
        });
    }

    fn leaf(&mut self, path: u32, ctx: u32) -> R<()> {
        match self.peek() {
            Some(b'"') => {
                let (start, end, escaped) = self.string_span()?;
                if !escaped {
                    self.push_leaf(path, ctx, Kind::Str, (start, end), 0.0);
                    return Ok(());
                }
                let a = self.s.arena.len();
                unescape(&self.b[start..end], &mut self.s.arena)
                    .map_err(|_| EventError::new(start, &"bad escape"))?;
                let b = self.s.arena.len();
                self.push_leaf(path, ctx, Kind::Str, (a, b), 0.0);
                if let Some(l) = self.s.leaves.last_mut() {
                    l.in_arena = true;
                }
                Ok(())
            }
            Some(b't') => self.literal(b"true", path, ctx, Kind::True),
            Some(b'f') => self.literal(b"false", path, ctx, Kind::False),
            Some(b'n') => self.literal(b"null", path, ctx, Kind::Null),
            Some(b'-' | b'0'..=b'9') => {
                let (start, end) = self.number_span()?;
                let v = self
                    .src
                    .get(start..end)
                    .and_then(|t| t.parse::<f64>().ok())
                    .unwrap_or(f64::NAN);
                self.push_leaf(path, ctx, Kind::Num, (start, end), v);
                Ok(())
            }
            _ => Err(self.err(&"expected a value")),
        }
    }

    fn literal(&mut self, word: &[u8], path: u32, ctx: u32, kind: Kind) -> R<()> {
        if self.b.get(self.i..self.i + word.len()) != Some(word) {
            return Err(self.err(&"invalid literal"));
        }
        let start = self.i;
        self.i += word.len();
        self.push_leaf(path, ctx, kind, (start, self.i), 0.0);
        Ok(())
    }

    fn number_span(&mut self) -> R<(usize, usize)> {
        let start = self.i;
        let b = self.b;
        let mut i = self.i;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        let digits = |i: &mut usize| {
            let s = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i - s
        };
        let int_start = i;
        let n = digits(&mut i);
        if n == 0 || (n > 1 && b[int_start] == b'0') {
            return Err(EventError::new(start, &"invalid number"));
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            if digits(&mut i) == 0 {
                return Err(EventError::new(start, &"invalid number"));
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if digits(&mut i) == 0 {
                return Err(EventError::new(start, &"invalid number"));
            }
        }
        self.i = i;
        Ok((start, i))
    }

    /// At an opening quote: returns the content span and whether it holds escapes.
    #[inline]
    fn string_span(&mut self) -> R<(usize, usize, bool)> {
        let start = self.i + 1;
        let mut i = start;
        let mut escaped = false;
        loop {
            i = find_quote_or_escape(self.b, i);
            match self.b.get(i) {
                Some(b'"') => {
                    self.i = i + 1;
                    return Ok((start, i, escaped));
                }
                Some(_) => {
                    escaped = true;
                    i += 2;
                }
                None => return Err(EventError::new(start, &"unterminated string")),
            }
        }
    }

    fn skip_value(&mut self) -> R<()> {
        match self.peek() {
            Some(b'"') => self.string_span().map(|_| ()),
            Some(b'{' | b'[') => self.skip_container(),
            Some(b'-' | b'0'..=b'9' | b't' | b'f' | b'n') => {
                while let Some(&c) = self.b.get(self.i) {
                    if matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.i += 1;
                }
                Ok(())
            }
            _ => Err(self.err(&"expected a value")),
        }
    }

    /// Skips an object or array (at its opening bracket).
    ///
    /// In valid JSON the brackets of the other kind nest inside balanced, so only this
    /// container's own bracket pair, outside strings, is counted. The event is read 64 bytes at a
    /// time: SIMD compares give one bit mask each for quotes, backslashes and the two brackets
    /// ([`Block`]); escaped quotes are removed, a prefix XOR of the quote mask marks the bytes
    /// inside strings, and brackets there are dropped. A block in which the container cannot close
    /// (fewer closing brackets than the current depth) only adds its bracket counts; otherwise its
    /// bracket bits are walked in order. The cost is a few dozen instructions per 64 bytes whatever
    /// the density of quotes (GeoJSON coordinates have one every ~7 bytes), with no data-dependent
    /// branch per quote.
    fn skip_container(&mut self) -> R<()> {
        let b = self.b;
        let start = self.i;
        let open = b[start];
        let mut depth = 1usize;
        // All ones when the next block starts inside a string.
        let mut in_str = 0u64;
        // 1 when the next block's first byte is escaped by a backslash ending this one.
        let mut esc_carry = 0u64;
        let mut i = start + 1;
        let mut pad = [b' '; 64];
        loop {
            let rest = b.get(i..).unwrap_or(&[]);
            // One classify call for both cases: two inlined copies merged by the optimiser
            // turned the masks into vectors of booleans and scalarised them (5x the code).
            let (chunk, last) = match rest.first_chunk::<64>() {
                Some(chunk) => (chunk, false),
                None => {
                    // The tail, padded with spaces (which are none of the bytes looked for).
                    pad[..rest.len()].copy_from_slice(rest);
                    (&pad, true)
                }
            };
            let blk = Block::classify(chunk, open);
            let quotes = if blk.backslash | esc_carry == 0 {
                blk.quote
            } else {
                blk.quote & !escaped(blk.backslash, &mut esc_carry)
            };
            let strings = prefix_xor(quotes) ^ in_str;
            in_str = ((strings as i64) >> 63) as u64;
            let opens = blk.open & !strings;
            let closes = blk.close & !strings;
            let (no, nc) = (opens.count_ones() as usize, closes.count_ones() as usize);
            if depth > nc && depth + no <= MAX_DEPTH {
                // Cannot close (or get too deep) inside this block.
                depth = depth + no - nc;
            } else {
                let mut m = opens | closes;
                while m != 0 {
                    let k = m.trailing_zeros();
                    m &= m - 1;
                    if opens >> k & 1 != 0 {
                        depth += 1;
                        if depth > MAX_DEPTH {
                            return Err(EventError::new(i + k as usize, &"nesting is too deep"));
                        }
                    } else {
                        depth -= 1;
                        if depth == 0 {
                            self.i = i + k as usize + 1;
                            return Ok(());
                        }
                    }
                }
            }
            if last {
                return Err(EventError::new(start, &"unterminated value"));
            }
            i += 64;
        }
    }
}

/// Bit masks of one 64-byte block of the event: bit `k` is set when byte `k` is that byte.
struct Block {
    quote: u64,
    backslash: u64,
    open: u64,
    close: u64,
}

impl Block {
    /// Classifies `chunk` for a container opened with `open` (`{` or `[`; the closing bracket is
    /// `open + 2`).
    ///
    /// `wide` does the byte compares and mask extraction with SIMD behind a safe API (SSE2
    /// `pcmpeqb`/`pmovmskb` on the x86-64 baseline, AVX-512 or NEON where compiled for them):
    /// the workspace forbids `unsafe`, and a SWAR or byte loop costs several times as many
    /// instructions on quote-dense JSON.
    #[inline(always)]
    fn classify(chunk: &[u8; 64], open: u8) -> Block {
        let v = u8x64::new(*chunk);
        let eq = |c: u8| v.simd_eq(u8x64::splat(c)).to_bitmask();
        Block {
            quote: eq(b'"'),
            backslash: eq(b'\\'),
            open: eq(open),
            close: eq(open + 2),
        }
    }
}

/// Bits of the bytes escaped by a backslash, given the block's backslashes and whether its first
/// byte is escaped (`carry`, updated for the next block). Backslashes are rare: a bit walk.
#[inline(never)]
fn escaped(backslash: u64, carry: &mut u64) -> u64 {
    let mut esc = *carry;
    *carry = 0;
    let mut m = backslash & !esc;
    while m != 0 {
        let k = m.trailing_zeros();
        m &= m - 1;
        if k == 63 {
            *carry = 1;
        } else {
            let next = 1u64 << (k + 1);
            esc |= next;
            m &= !next;
        }
    }
    esc
}

/// Bit `k` of the result is the XOR of bits `0..=k` of `x`: for a mask of (unescaped) quotes,
/// the bytes from an opening quote up to, not including, its closing quote.
#[inline(always)]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// Decodes JSON string escapes of `raw` (the text between the quotes) onto `out`.
pub(crate) fn unescape(raw: &[u8], out: &mut Vec<u8>) -> Result<(), ()> {
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let e = *raw.get(i + 1).ok_or(())?;
        i += 2;
        let ch = match e {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = hex4(raw, i)?;
                i += 4;
                let mut cp = first;
                if (0xD800..0xDC00).contains(&first)
                    && raw.get(i..i + 2) == Some(b"\\u")
                    && let Ok(second) = hex4(raw, i + 2)
                    && (0xDC00..0xE000).contains(&second)
                {
                    cp = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                    i += 6;
                }
                char::from_u32(cp).unwrap_or('\u{FFFD}')
            }
            _ => return Err(()),
        };
        let mut buf = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    }
    Ok(())
}

fn hex4(raw: &[u8], at: usize) -> Result<u32, ()> {
    let digits = raw.get(at..at + 4).ok_or(())?;
    let mut v = 0u32;
    for d in digits {
        v = v * 16 + (*d as char).to_digit(16).ok_or(())?;
    }
    Ok(v)
}

/// Flattens an already-parsed event; strings and number spellings are copied into the arena.
pub(crate) fn flatten_value(v: &Value, trie: &Trie, s: &mut Scratch) {
    s.reset();
    walk(v, Some(trie.root()), true, 0, trie, s, 0);
}

fn walk(
    v: &Value,
    cur: Option<Cursor>,
    at_root: bool,
    ctx: u32,
    trie: &Trie,
    s: &mut Scratch,
    depth: usize,
) {
    let Some(c) = cur else { return };
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let base = if at_root { Some(c) } else { trie.step(c, b".") };
                let next = base.and_then(|b| trie.step(b, k.as_bytes()));
                walk(child, next, false, ctx, trie, s, depth + 1);
            }
        }
        Value::Array(items) => {
            let id = s.next_array;
            s.next_array = id.wrapping_add(1);
            for (index, item) in items.iter().enumerate() {
                let element = s.ctxs.len() as u32;
                s.ctxs.push(Ctx {
                    parent: ctx,
                    array: id,
                    index: index as u32,
                });
                walk(item, Some(c), at_root, element, trie, s, depth + 1);
            }
        }
        scalar => {
            let Some(path) = trie.terminal(c).filter(|_| !at_root) else {
                return;
            };
            let start = s.arena.len();
            let (kind, num) = match scalar {
                Value::String(text) => {
                    s.arena.extend_from_slice(text.as_bytes());
                    (Kind::Str, 0.0)
                }
                Value::Number(n) => {
                    let _ = write!(s.arena, "{n}");
                    (Kind::Num, n.as_f64().unwrap_or(f64::NAN))
                }
                Value::Bool(true) => (Kind::True, 0.0),
                Value::Bool(false) => (Kind::False, 0.0),
                _ => (Kind::Null, 0.0),
            };
            s.leaves.push(Leaf {
                path,
                ctx,
                kind,
                in_arena: true,
                start: start as u32,
                end: s.arena.len() as u32,
                num,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(src: &str, paths: &[&str]) -> Result<Vec<(u32, String, u32)>, EventError> {
        let trie = Trie::new(paths);
        let mut s = Scratch::default();
        flatten(src, &trie, &mut s)?;
        Ok(s.leaves
            .iter()
            .filter(|l| l.path != DEAD)
            .map(|l| {
                let bytes = if l.in_arena { &s.arena } else { src.as_bytes() };
                let text = String::from_utf8_lossy(&bytes[l.start as usize..l.end as usize]);
                (l.path, text.into_owned(), l.ctx)
            })
            .collect())
    }

    #[test]
    fn keeps_only_referenced_leaves() {
        let src = r#"{"a": {"b": "x\"y", "c": [1, 2.5e1, {"d": true}]}, "skip": {"b": [1, "]}"]},
            "e": null}"#;
        let got = leaves(src, &["a.b", "a.c", "a.c.d", "e"]).expect("valid");
        let texts: Vec<&str> = got.iter().map(|g| g.1.as_str()).collect();
        assert_eq!(texts, ["x\"y", "1", "2.5e1", "true", "null"]);
        assert_eq!(got[0].2, 0);
        assert_ne!(got[1].2, got[2].2);
    }

    #[test]
    fn duplicate_keys_keep_the_last() {
        let got = leaves(r#"{"a": "first", "b": 1, "a": ["second"]}"#, &["a"]).expect("valid");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1, "second");
    }

    #[test]
    fn skipping_respects_strings_and_escapes_at_every_offset() {
        let tricky = ["}", "]", "{[", "\\", "\"", "\\\"}", "a\\\\\"]x", "é}"];
        for pad in 0..17 {
            for t in tricky {
                let s = serde_json::to_string(&format!("{}{t}", "p".repeat(pad))).expect("json");
                let event = format!(
                    r#"{{"skip": {{"a": [{s}, {{"b": {s}}}, [{s}]], "c": {s}}}, "k": "v", "arr": [{s}, "w"]}}"#
                );
                let got = leaves(&event, &["k", "arr"]).expect("valid");
                let texts: Vec<&str> = got.iter().map(|g| g.1.as_str()).collect();
                assert_eq!(texts.last(), Some(&"w"), "{event}");
                assert_eq!(texts.first(), Some(&"v"), "{event}");
                let cut = &event[..event.find("\"k\"").unwrap_or(0) - 3];
                assert!(leaves(cut, &["k"]).is_err(), "{cut}");
            }
        }
    }

    /// Byte-at-a-time reference for the block skipper: end of the container opened at `b[0]`.
    fn skip_reference(b: &[u8]) -> Option<usize> {
        let (open, close) = (b[0], b[0] + 2);
        let (mut depth, mut in_str, mut i) = (0usize, false, 0);
        while i < b.len() {
            let c = b[i];
            i += 1;
            if in_str {
                match c {
                    b'\\' => i += 1,
                    b'"' => in_str = false,
                    _ => {}
                }
            } else if c == b'"' {
                in_str = true;
            } else if c == open {
                depth += 1;
            } else if c == close {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
        }
        None
    }

    #[test]
    fn block_skipper_agrees_with_a_byte_walk() {
        // Deterministic pseudo-random texts over the bytes that matter, at every block offset;
        // runs of backslashes and quotes across 64-byte block boundaries included.
        let alphabet = b"{}[]\"\\\\ax,:";
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let trie = Trie::new(&["zz"]);
        for round in 0..20_000 {
            let len = 1 + (next() % 300) as usize;
            let mut text = vec![if round % 2 == 0 { b'{' } else { b'[' }];
            let mut in_str = false;
            while text.len() <= len {
                let mut c = alphabet[(next() % alphabet.len() as u64) as usize];
                if c == b'\\' && !in_str {
                    // Backslashes outside strings are not JSON: the skipper need only not panic.
                    c = if round % 3 == 0 { c } else { b'a' };
                }
                text.push(c);
                if c == b'"' {
                    in_str = !in_str;
                } else if c == b'\\' {
                    text.push(alphabet[(next() % alphabet.len() as u64) as usize]);
                }
            }
            let valid = !text[1..].contains(&b'\\') || round % 3 != 0;
            let want = skip_reference(&text);
            let src = String::from_utf8(text).expect("ascii");
            let mut s = Scratch::default();
            let mut sc = Scanner {
                src: &src,
                b: src.as_bytes(),
                i: 0,
                trie: &trie,
                s: &mut s,
                depth: 0,
            };
            let got = sc.skip_container().ok().map(|()| sc.i);
            if valid {
                assert_eq!(got, want, "{src}");
            }
        }
    }

    #[test]
    fn rejects_broken_structure() {
        for bad in [
            "",
            "{",
            r#"{"a": }"#,
            r#"{"a": "x"#,
            r#"{"a": [1, 2}"#,
            "{} x",
            r#"{"a":01}"#,
        ] {
            assert!(leaves(bad, &["a"]).is_err(), "{bad}");
        }
        let deep = "[".repeat(5000);
        assert!(leaves(&deep, &["a"]).is_err());
    }
}
