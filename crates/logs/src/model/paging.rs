//! GetLogEvents paging over one stream's events, and the opaque tokens of the list operations.
//!
//! Every event has a position `(timestamp << 64) | seq` (see [`position`]); a stream's events
//! are sorted by it. GetLogEvents tokens are `f/<56 digits>` and `b/<56 digits>`, AWS's shape,
//! holding a position: `f/P` continues with the events after `P`, `b/P` with those before `P`.
//! When a direction is exhausted the same token comes back, which is how `aws logs tail`-style
//! pollers notice they are at the end.

use std::ops::Range;

/// Where an event sorts: timestamp first, then arrival (`seq`), so equal timestamps keep their
/// ingestion order.
pub fn position(timestamp: u64, seq: u64) -> u128 {
    ((timestamp as u128) << 64) | seq as u128
}

/// A GetLogEvents token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// Events after this position.
    Forward(u128),
    /// Events before this position.
    Backward(u128),
}

impl Token {
    /// The wire form.
    pub fn encode(&self) -> String {
        match self {
            Token::Forward(p) => format!("f/{p:056}"),
            Token::Backward(p) => format!("b/{p:056}"),
        }
    }

    /// Parses the wire form; `None` for anything else.
    pub fn decode(s: &str) -> Option<Self> {
        let (dir, digits) = s.split_at_checked(2)?;
        if digits.len() != 56 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let p: u128 = digits.parse().ok()?;
        match dir {
            "f/" => Some(Token::Forward(p)),
            "b/" => Some(Token::Backward(p)),
            _ => None,
        }
    }
}

/// One GetLogEvents answer: which events (indexes into the stream) and the two tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Indexes of the returned events, ascending.
    pub events: Range<usize>,
    /// `nextForwardToken`.
    pub forward: Token,
    /// `nextBackwardToken`.
    pub backward: Token,
}

/// Per-event overhead AWS counts towards the 1 MB response cap.
pub const EVENT_OVERHEAD: usize = 26;
/// GetLogEvents / FilterLogEvents response cap in bytes.
pub const RESPONSE_BYTES: usize = 1_048_576;

/// Chooses GetLogEvents' page. `positions[i]` and `sizes[i]` (message bytes) describe the
/// stream's events in order; `window` is the `[startTime, endTime)` range already turned into
/// an index range. Returns at most `limit` events and at most [`RESPONSE_BYTES`].
pub fn page(
    positions: &[u128],
    sizes: &dyn Fn(usize) -> usize,
    window: Range<usize>,
    window_start: u128,
    token: Option<Token>,
    limit: usize,
    from_head: bool,
) -> Page {
    // Forward reads take from the front of the candidate range, backward reads from its back.
    let (candidates, forward) = match token {
        None if from_head => (window.clone(), true),
        None => (window.clone(), false),
        Some(Token::Forward(p)) => {
            let from = positions[window.clone()].partition_point(|&x| x <= p) + window.start;
            (from..window.end, true)
        }
        Some(Token::Backward(p)) => {
            let to = positions[window.clone()].partition_point(|&x| x < p) + window.start;
            (window.start..to, false)
        }
    };
    let mut bytes = 0;
    let mut taken = 0;
    let fits = |i: usize, bytes: &mut usize, taken: &mut usize| {
        let size = sizes(i) + EVENT_OVERHEAD;
        if *taken >= limit || (*taken > 0 && *bytes + size > RESPONSE_BYTES) {
            return false;
        }
        *bytes += size;
        *taken += 1;
        true
    };
    let events = if forward {
        let mut end = candidates.start;
        while end < candidates.end && fits(end, &mut bytes, &mut taken) {
            end += 1;
        }
        candidates.start..end
    } else {
        let mut start = candidates.end;
        while start > candidates.start && fits(start - 1, &mut bytes, &mut taken) {
            start -= 1;
        }
        start..candidates.end
    };
    if events.is_empty() {
        // Nothing in this direction: hand back the token we were given (AWS: "If you have
        // reached the end of the stream, it returns the same token you passed in"), and for the
        // other direction a token that resumes from the same point.
        let (forward, backward) = match token {
            Some(Token::Forward(p)) => (Token::Forward(p), Token::Backward(p.saturating_add(1))),
            Some(Token::Backward(p)) => (Token::Forward(p.saturating_sub(1)), Token::Backward(p)),
            None => {
                let before = window_start.saturating_sub(1);
                (Token::Forward(before), Token::Backward(window_start))
            }
        };
        return Page {
            events,
            forward,
            backward,
        };
    }
    Page {
        forward: Token::Forward(positions[events.end - 1]),
        backward: Token::Backward(positions[events.start]),
        events,
    }
}

/// Lowercase hex of `s`, for tokens that carry a name.
pub fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Inverse of [`hex`].
pub fn unhex(s: &str) -> Option<String> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(
        positions: &[u128],
        token: Option<Token>,
        limit: usize,
        from_head: bool,
    ) -> (Vec<u128>, Token, Token) {
        let p = page(
            positions,
            &|_| 10,
            0..positions.len(),
            0,
            token,
            limit,
            from_head,
        );
        (positions[p.events.clone()].to_vec(), p.forward, p.backward)
    }

    #[test]
    fn tokens_round_trip() {
        for t in [
            Token::Forward(0),
            Token::Backward(position(1_700_000_000_000, 42)),
        ] {
            let s = t.encode();
            assert_eq!(s.len(), 58);
            assert_eq!(Token::decode(&s), Some(t));
        }
        assert_eq!(Token::decode("invalid-token"), None);
        assert_eq!(
            Token::decode("x/00000000000000000000000000000000000000000000000000000000"),
            None
        );
        assert_eq!(Token::decode("f/12"), None);
        assert_eq!(unhex(&hex("a/b:c é")).as_deref(), Some("a/b:c é"));
        assert_eq!(unhex("zz"), None);
    }

    #[test]
    fn forward_paging_reaches_the_end_and_repeats_the_token() {
        let pos: Vec<u128> = (1..=5).map(|i| position(i, i)).collect();
        let (got, f, b) = run(&pos, None, 2, true);
        assert_eq!(got, pos[0..2]);
        assert_eq!(b, Token::Backward(pos[0]));
        let (got, f2, _) = run(&pos, Some(f), 2, true);
        assert_eq!(got, pos[2..4]);
        let (got, f3, _) = run(&pos, Some(f2), 2, true);
        assert_eq!(got, pos[4..5]);
        let (got, f4, b4) = run(&pos, Some(f3), 2, true);
        assert!(got.is_empty());
        assert_eq!(f4, f3, "the end returns the same forward token");
        // Going back from the end sees the last event again.
        let (got, _, _) = run(&pos, Some(b4), 2, true);
        assert_eq!(got, pos[3..5]);
    }

    #[test]
    fn default_reads_the_tail_and_pages_backwards() {
        let pos: Vec<u128> = (1..=5).map(|i| position(i, i)).collect();
        let (got, f, b) = run(&pos, None, 2, false);
        assert_eq!(got, pos[3..5]);
        // A forward poll from the tail sees nothing new until more arrives.
        let (got, f2, _) = run(&pos, Some(f), 2, false);
        assert!(got.is_empty());
        assert_eq!(f2, f);
        let (got, _, b2) = run(&pos, Some(b), 2, false);
        assert_eq!(got, pos[1..3]);
        let (got, _, b3) = run(&pos, Some(b2), 2, false);
        assert_eq!(got, pos[0..1]);
        let (got, _, b4) = run(&pos, Some(b3), 2, false);
        assert!(got.is_empty());
        assert_eq!(b4, b3, "the start returns the same backward token");
        // New events after the tail token appear on the next forward poll.
        let mut more = pos.clone();
        more.push(position(6, 6));
        let (got, _, _) = run(&more, Some(f), 10, true);
        assert_eq!(got, vec![position(6, 6)]);
    }

    #[test]
    fn empty_stream_tokens_resume_from_the_window_start() {
        let p = page(&[], &|_| 0, 0..0, position(100, 0), None, 10, true);
        assert!(p.events.is_empty());
        // A later poll with the forward token sees events at the window start.
        let later = [position(100, 1)];
        let q = page(&later, &|_| 0, 0..1, 0, Some(p.forward), 10, true);
        assert_eq!(q.events, 0..1);
    }

    #[test]
    fn response_size_cap() {
        let pos: Vec<u128> = (1..=3).map(|i| position(i, i)).collect();
        let p = page(&pos, &|_| 600_000, 0..3, 0, None, 10, true);
        assert_eq!(p.events, 0..1);
        // One oversized event still comes back alone rather than never.
        let p = page(&pos, &|_| 2_000_000, 0..3, 0, None, 10, true);
        assert_eq!(p.events, 0..1);
    }
}
