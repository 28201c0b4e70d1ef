//! X-Ray trace headers (`X-Amzn-Trace-Id`), the carrier of trace context through every hop, and
//! of Lambda's recursion counter.
//!
//! Format: `Root=1-<8 hex epoch seconds>-<24 hex>;Parent=<16 hex>;Sampled=<0|1>` with optional
//! further `key=value` fields. Lambda's recursive-loop detection adds `Lineage=<8 hex>:<count>`
//! (the count of function invocations in one chain); Ponte increments it on each invocation and
//! stops the chain at [`RECURSION_LIMIT`].

use std::fmt;

/// Lambda stops a recursive loop once a chain reaches this many invocations (aws-facts §1).
pub const RECURSION_LIMIT: u32 = 16;

/// A parsed trace header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceHeader {
    /// `1-5759e988-bd862e3fe1be46a994272793`.
    pub root: String,
    /// Parent segment id (16 hex), if any.
    pub parent: Option<String>,
    /// `Some(true)` = `Sampled=1`.
    pub sampled: Option<bool>,
    /// `Lineage=<hash>:<count>`.
    pub lineage: Option<(String, u32)>,
    /// Any other fields, in order, as written.
    pub extra: Vec<(String, String)>,
}

impl TraceHeader {
    /// Parses a header; `None` when it has no `Root`.
    pub fn parse(text: &str) -> Option<Self> {
        let mut h = TraceHeader {
            root: String::new(),
            parent: None,
            sampled: None,
            lineage: None,
            extra: Vec::new(),
        };
        for field in text.split(';') {
            let field = field.trim();
            let Some((k, v)) = field.split_once('=') else {
                continue;
            };
            match k {
                "Root" => h.root = v.to_owned(),
                "Parent" => h.parent = Some(v.to_owned()),
                "Sampled" => h.sampled = Some(v == "1"),
                "Lineage" => {
                    // Several lineages may be listed (`a:1|b:2`); the first is ours.
                    let first = v.split('|').next().unwrap_or("");
                    if let Some((hash, n)) = first.split_once(':') {
                        h.lineage = Some((hash.to_owned(), n.parse().unwrap_or(0)));
                    }
                }
                _ => h.extra.push((k.to_owned(), v.to_owned())),
            }
        }
        (!h.root.is_empty()).then_some(h)
    }

    /// A new trace rooted now (`now_ms` epoch milliseconds), sampled.
    pub fn new_root(now_ms: u64) -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        TraceHeader {
            root: format!("1-{:08x}-{}", now_ms / 1000, &id[..24]),
            parent: Some(new_segment_id()),
            sampled: Some(true),
            lineage: None,
            extra: Vec::new(),
        }
    }

    /// The header of `text`, or a new root when it is absent or unparsable.
    pub fn parse_or_new(text: Option<&str>, now_ms: u64) -> Self {
        text.and_then(Self::parse)
            .unwrap_or_else(|| Self::new_root(now_ms))
    }

    /// The same trace with a new parent segment (one more hop).
    pub fn child(&self) -> Self {
        TraceHeader {
            parent: Some(new_segment_id()),
            ..self.clone()
        }
    }

    /// Invocations so far in this chain (0 when no lineage).
    pub fn lineage_count(&self) -> u32 {
        self.lineage.as_ref().map_or(0, |(_, n)| *n)
    }

    /// The header of one more function invocation in the chain, for `function_arn`.
    pub fn invoked(&self, function_arn: &str) -> Self {
        let hash = self
            .lineage
            .as_ref()
            .map(|(h, _)| h.clone())
            .unwrap_or_else(|| short_hash(function_arn));
        TraceHeader {
            lineage: Some((hash, self.lineage_count() + 1)),
            ..self.child()
        }
    }
}

impl fmt::Display for TraceHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Root={}", self.root)?;
        if let Some(p) = &self.parent {
            write!(f, ";Parent={p}")?;
        }
        if let Some(s) = self.sampled {
            write!(f, ";Sampled={}", u8::from(s))?;
        }
        if let Some((h, n)) = &self.lineage {
            write!(f, ";Lineage={h}:{n}")?;
        }
        for (k, v) in &self.extra {
            write!(f, ";{k}={v}")?;
        }
        Ok(())
    }
}

fn new_segment_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..16].to_owned()
}

/// FNV-1a of `s`, 8 hex digits.
fn short_hash(s: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{h:08x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_lineage() {
        let t = TraceHeader::parse(
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        )
        .unwrap();
        assert_eq!(t.root, "1-5759e988-bd862e3fe1be46a994272793");
        assert_eq!(t.lineage_count(), 0);
        let once = t.invoked("arn:aws:lambda:us-east-1:000000000000:function:f");
        assert_eq!(once.lineage_count(), 1);
        let twice = TraceHeader::parse(&once.invoked("x").to_string()).unwrap();
        assert_eq!(twice.lineage_count(), 2);
        assert_eq!(twice.root, t.root);
        assert!(TraceHeader::parse("Self=1").is_none());
        let fresh = TraceHeader::new_root(1_700_000_000_000);
        assert!(fresh.root.starts_with("1-6553f100-"));
        assert_eq!(fresh.root.len(), 35);
    }
}
