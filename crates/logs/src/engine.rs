//! The Logs engine: groups, streams and events in memory, every change written through the
//! store.
//!
//! # State
//! One `RwLock` guards an index region → account → group name → [`Group`] (nested so lookups by
//! `&str` allocate nothing and listings come out sorted by name). A group holds its streams by
//! name; a stream holds its events as two parallel vectors sorted by position
//! `(timestamp << 64) | seq` ([`paging::position`]): `seq` is a global arrival counter, so
//! equal timestamps keep their ingestion order and every event has a unique position (its
//! `eventId`). A time range is two binary searches; appending in time order is a push.
//!
//! # Concurrency and durability
//! As in SQS: an operation validates, mutates memory and stages one [`WriteBatch`] under the
//! write lock, submits it (fixing its place in the store's order), releases the lock, and only
//! then awaits the commit and answers. [`Logs::append`] (function output) submits the same way
//! but does not await: the store still applies it in order, it is just not acknowledged to
//! anyone. Reads take the read lock and may see a change whose caller is not answered yet.
//!
//! # Time
//! `ingestionTime` and the PutLogEvents age limits use [`Clock::now`](ponte_types::Clock::now).
//! Retention is an AWS wait: a group's cutoff is `now - scaled(retentionInDays)`, so
//! `--time-scale` shortens it; a background sweep deletes expired events every second of clock
//! time, PutLogEvents rejects events already past the cutoff (`expiredLogEventEndIndex`), and
//! reads skip expired events the sweeper has not reached yet. The server starts the sweeper
//! with [`Logs::start_background`].

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use ponte_store::{Commit, SharedStore, WriteBatch};
use ponte_types::{Millis, SharedClock};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::error::{Error, GROUP_EXISTS, GROUP_NOT_FOUND, Result, STREAM_EXISTS, STREAM_NOT_FOUND};
use crate::model::batch::{self, Rejected};
use crate::model::paging::{self, Page, Token, position};
use crate::model::pattern::FilterPattern;
use crate::store::{self as keys, StoredEvent, encode};

/// Log group classes (`logGroupClass`).
pub const CLASSES: &[&str] = &["STANDARD", "INFREQUENT_ACCESS", "DELIVERY"];

/// The retention values PutRetentionPolicy accepts (the model's `Days` documentation).
pub const RETENTION_DAYS: &[i64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// The largest message [`Logs::append`] stores; longer output is cut at a character boundary.
pub const APPEND_MAX_MESSAGE: usize = batch::MAX_BATCH_BYTES - batch::EVENT_OVERHEAD;

/// Persisted description of a log group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupMeta {
    /// Internal id (key prefix of its rows).
    pub id: u64,
    /// Region.
    pub region: String,
    /// Owning account.
    pub account: String,
    /// Name.
    pub name: String,
    /// Epoch ms.
    pub created: Millis,
    /// `retentionInDays`; `None` = never expire.
    #[serde(default)]
    pub retention_days: Option<u32>,
    /// `logGroupClass`.
    pub class: String,
    /// `kmsKeyId` (recorded, nothing is encrypted).
    #[serde(default)]
    pub kms_key_id: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// `deletionProtectionEnabled`.
    #[serde(default)]
    pub deletion_protection: bool,
}

impl GroupMeta {
    /// `arn:aws:logs:<region>:<account>:log-group:<name>` (TagResource's form, `logGroupArn`).
    pub fn arn(&self) -> String {
        group_arn(&self.region, &self.account, &self.name)
    }
}

/// A log group's ARN without the trailing `:*`.
pub fn group_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:logs:{region}:{account}:log-group:{name}")
}

/// Persisted description of a log stream.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StreamMeta {
    /// Internal id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Epoch ms.
    pub created: Millis,
    /// Earliest event timestamp ever stored.
    #[serde(default)]
    pub first_event: Option<u64>,
    /// Latest event timestamp ever stored.
    #[serde(default)]
    pub last_event: Option<u64>,
    /// Last ingestion time.
    #[serde(default)]
    pub last_ingestion: Option<Millis>,
    /// Number of uploads (PutLogEvents calls and appends that stored something); the sequence
    /// token is derived from it.
    #[serde(default)]
    pub uploads: u64,
}

impl StreamMeta {
    /// `uploadSequenceToken` / `nextSequenceToken`.
    pub fn sequence_token(&self) -> String {
        format!("{:056}", self.uploads)
    }
}

/// Where a group lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Region.
    pub region: String,
    /// Account.
    pub account: String,
    /// Group name.
    pub name: String,
}

#[derive(Debug, Clone)]
struct EventData {
    ingestion: Millis,
    message: Arc<str>,
}

struct Stream {
    meta: StreamMeta,
    positions: Vec<u128>,
    data: Vec<EventData>,
}

impl Stream {
    fn new(meta: StreamMeta) -> Self {
        Self {
            meta,
            positions: Vec::new(),
            data: Vec::new(),
        }
    }

    /// Inserts in position order; a push when events arrive in time order.
    fn insert(&mut self, pos: u128, data: EventData) {
        if self.positions.last().is_none_or(|&last| last < pos) {
            self.positions.push(pos);
            self.data.push(data);
        } else {
            let at = self.positions.partition_point(|&p| p < pos);
            self.positions.insert(at, pos);
            self.data.insert(at, data);
        }
    }

    /// Index range of events with `start <= timestamp < end`.
    fn window(&self, start: u64, end: u64) -> Range<usize> {
        let lo = self.positions.partition_point(|&p| p < position(start, 0));
        let hi = self.positions.partition_point(|&p| p < position(end, 0));
        lo..hi.max(lo)
    }
}

struct Group {
    meta: GroupMeta,
    streams: BTreeMap<String, Stream>,
    stored_bytes: u64,
}

#[derive(Default)]
struct State {
    groups: BTreeMap<String, BTreeMap<String, BTreeMap<String, Group>>>,
    next_group: u64,
    next_stream: u64,
    next_seq: u64,
}

impl State {
    fn group(&self, t: &Target) -> Result<&Group> {
        self.groups
            .get(&t.region)
            .and_then(|a| a.get(&t.account))
            .and_then(|g| g.get(&t.name))
            .ok_or_else(|| Error::ResourceNotFound(GROUP_NOT_FOUND.into()))
    }

    fn group_mut(&mut self, t: &Target) -> Result<&mut Group> {
        self.groups
            .get_mut(&t.region)
            .and_then(|a| a.get_mut(&t.account))
            .and_then(|g| g.get_mut(&t.name))
            .ok_or_else(|| Error::ResourceNotFound(GROUP_NOT_FOUND.into()))
    }

    fn groups_of(&self, region: &str, account: &str) -> Option<&BTreeMap<String, Group>> {
        self.groups.get(region).and_then(|a| a.get(account))
    }

    fn new_group(&mut self, meta_of: impl FnOnce(u64) -> GroupMeta) -> &mut Group {
        self.next_group += 1;
        let meta = meta_of(self.next_group);
        let (region, account, name) =
            (meta.region.clone(), meta.account.clone(), meta.name.clone());
        self.groups
            .entry(region)
            .or_default()
            .entry(account)
            .or_default()
            .entry(name)
            .or_insert(Group {
                meta,
                streams: BTreeMap::new(),
                stored_bytes: 0,
            })
    }
}

/// Options of CreateLogGroup.
#[derive(Debug, Clone, Default)]
pub struct NewGroup {
    /// `tags`.
    pub tags: BTreeMap<String, String>,
    /// `logGroupClass` (default STANDARD).
    pub class: Option<String>,
    /// `kmsKeyId`.
    pub kms_key_id: Option<String>,
    /// `deletionProtectionEnabled`.
    pub deletion_protection: bool,
}

/// A group as DescribeLogGroups shows it.
#[derive(Debug, Clone)]
pub struct GroupInfo {
    /// Its metadata.
    pub meta: GroupMeta,
    /// Sum of stored message bytes.
    pub stored_bytes: u64,
}

/// A stream as DescribeLogStreams shows it.
#[derive(Debug, Clone)]
pub struct StreamInfo {
    /// Its metadata.
    pub meta: StreamMeta,
    /// Its ARN.
    pub arn: String,
}

/// A DescribeLogStreams sort key: (last event time, or 0 when ordering by name; name).
pub type StreamCursor = (u64, String);

/// DescribeLogStreams' query.
#[derive(Debug, Clone, Default)]
pub struct StreamQuery {
    /// `logStreamNamePrefix`.
    pub prefix: Option<String>,
    /// `orderBy = LastEventTime`.
    pub by_last_event: bool,
    /// `descending`.
    pub descending: bool,
    /// `limit`.
    pub limit: usize,
    /// Decoded `nextToken`: the sort key of the last stream already returned.
    pub after: Option<StreamCursor>,
}

/// What PutLogEvents answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutResult {
    /// `nextSequenceToken`.
    pub next_sequence_token: String,
    /// `rejectedLogEventsInfo`.
    pub rejected: Rejected,
}

/// GetLogEvents' query.
#[derive(Debug, Clone)]
pub struct GetQuery {
    /// `startTime` (inclusive).
    pub start: Option<u64>,
    /// `endTime` (exclusive).
    pub end: Option<u64>,
    /// Decoded `nextToken`.
    pub token: Option<Token>,
    /// `limit` (default 10,000).
    pub limit: usize,
    /// `startFromHead`.
    pub from_head: bool,
}

/// One returned event.
#[derive(Debug, Clone)]
pub struct EventOut {
    /// Stream name (FilterLogEvents).
    pub stream: String,
    /// Event timestamp.
    pub timestamp: u64,
    /// Ingestion time.
    pub ingestion: Millis,
    /// Message.
    pub message: Arc<str>,
    /// Unique id (56 digits of its position).
    pub event_id: String,
}

/// GetLogEvents' answer.
#[derive(Debug, Clone)]
pub struct GetResult {
    /// The events, oldest first.
    pub events: Vec<EventOut>,
    /// `nextForwardToken`.
    pub forward: String,
    /// `nextBackwardToken`.
    pub backward: String,
}

/// FilterLogEvents' query.
#[derive(Debug, Clone)]
pub struct FilterQuery {
    /// `logStreamNames`.
    pub names: Option<Vec<String>>,
    /// `logStreamNamePrefix`.
    pub prefix: Option<String>,
    /// `startTime` (inclusive).
    pub start: Option<u64>,
    /// `endTime` (inclusive).
    pub end: Option<u64>,
    /// The parsed `filterPattern`.
    pub pattern: FilterPattern,
    /// `limit` (default 10,000).
    pub limit: usize,
    /// Decoded `nextToken`: the position of the last event already returned.
    pub after: Option<u128>,
}

/// FilterLogEvents' answer.
#[derive(Debug, Clone)]
pub struct FilterResult {
    /// Matching events in (timestamp, arrival) order across streams.
    pub events: Vec<EventOut>,
    /// Names of the searched streams.
    pub searched: Vec<String>,
    /// Position of the last returned event when more matches remain.
    pub next: Option<u128>,
}

fn event_id(pos: u128) -> String {
    format!("{pos:056}")
}

fn timestamp_of(pos: u128) -> u64 {
    (pos >> 64) as u64
}

struct Inner {
    store: SharedStore,
    clock: SharedClock,
    state: RwLock<State>,
}

/// The CloudWatch Logs engine. Cheap to clone.
#[derive(Clone)]
pub struct Logs {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Logs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logs").finish_non_exhaustive()
    }
}

async fn shutdown_signalled(rx: &mut watch::Receiver<bool>) {
    loop {
        if *rx.borrow() {
            return;
        }
        if rx.changed().await.is_err() {
            return;
        }
    }
}

impl Logs {
    /// Loads every log group, stream and event from `store`.
    pub fn open(store: SharedStore, clock: SharedClock) -> Result<Self, String> {
        let mut st = State::default();
        let mut by_id: HashMap<u64, Target> = HashMap::new();
        for (k, v) in store.scan(keys::GROUPS, &[]).map_err(|e| e.to_string())? {
            let meta: GroupMeta = serde_json::from_slice(&v)
                .map_err(|e| format!("corrupt log group row {k:?}: {e}"))?;
            st.next_group = st.next_group.max(meta.id);
            by_id.insert(
                meta.id,
                Target {
                    region: meta.region.clone(),
                    account: meta.account.clone(),
                    name: meta.name.clone(),
                },
            );
            st.new_group(|_| meta);
        }
        // `new_group` bumped the counter once per group; the maximum loaded id is what counts.
        st.next_group = by_id.keys().copied().max().unwrap_or(0);
        let mut stream_names: HashMap<(u64, u64), String> = HashMap::new();
        for (k, v) in store.scan(keys::STREAMS, &[]).map_err(|e| e.to_string())? {
            let [gid, sid] = keys::split_key::<2>(&k).ok_or("corrupt log stream key")?;
            let meta: StreamMeta = serde_json::from_slice(&v)
                .map_err(|e| format!("corrupt log stream row {k:?}: {e}"))?;
            st.next_stream = st.next_stream.max(sid);
            let Some(t) = by_id.get(&gid) else { continue };
            let Ok(g) = st.group_mut(t) else { continue };
            stream_names.insert((gid, sid), meta.name.clone());
            g.streams.insert(meta.name.clone(), Stream::new(meta));
        }
        for (k, v) in store.scan(keys::EVENTS, &[]).map_err(|e| e.to_string())? {
            let [gid, sid, seq] = keys::split_key::<3>(&k).ok_or("corrupt log event key")?;
            st.next_seq = st.next_seq.max(seq);
            let ev: StoredEvent = serde_json::from_slice(&v)
                .map_err(|e| format!("corrupt log event row {k:?}: {e}"))?;
            let (Some(t), Some(sname)) = (by_id.get(&gid), stream_names.get(&(gid, sid))) else {
                continue;
            };
            let Ok(g) = st.group_mut(t) else { continue };
            if let Some(s) = g.streams.get_mut(sname) {
                g.stored_bytes += ev.message.len() as u64;
                // Rows come in seq order; sorted by position below.
                s.positions.push(position(ev.timestamp, seq));
                s.data.push(EventData {
                    ingestion: ev.ingestion,
                    message: ev.message.into(),
                });
            }
        }
        for accounts in st.groups.values_mut() {
            for groups in accounts.values_mut() {
                for g in groups.values_mut() {
                    for s in g.streams.values_mut() {
                        if s.positions.windows(2).any(|w| w[0] > w[1]) {
                            let mut both: Vec<(u128, EventData)> =
                                s.positions.drain(..).zip(s.data.drain(..)).collect();
                            both.sort_by_key(|(p, _)| *p);
                            (s.positions, s.data) = both.into_iter().unzip();
                        }
                    }
                }
            }
        }
        Ok(Logs {
            inner: Arc::new(Inner {
                store,
                clock,
                state: RwLock::new(st),
            }),
        })
    }

    /// Starts the retention sweeper (every second of clock time) until `shutdown` turns true.
    pub fn start_background(&self, shutdown: watch::Receiver<bool>) {
        let me = self.clone();
        let mut sd = shutdown;
        tokio::spawn(async move {
            loop {
                let next = me.now() + 1_000;
                tokio::select! {
                    _ = me.inner.clock.sleep_until(next) => {}
                    _ = shutdown_signalled(&mut sd) => return,
                }
                if let Err(e) = me.sweep().await {
                    tracing::warn!(error = %e, "logs retention sweep failed");
                }
            }
        });
    }

    fn now(&self) -> Millis {
        self.inner.clock.now()
    }

    /// The retention cutoff of a group: events before it are expired.
    fn cutoff(&self, meta: &GroupMeta, now: Millis) -> Option<u64> {
        let days = meta.retention_days?;
        let wait = self
            .inner
            .clock
            .scaled(Duration::from_secs(u64::from(days) * 86_400));
        Some(now.saturating_sub(wait.as_millis() as u64))
    }

    /// Runs `f` on the state under the write lock with a fresh batch and submits the batch
    /// before releasing the lock. On error nothing is submitted, so `f` must validate before
    /// it mutates.
    fn locked<T>(
        &self,
        f: impl FnOnce(&mut State, &mut WriteBatch, Millis) -> Result<T>,
    ) -> Result<(T, Commit)> {
        let mut st = self.inner.state.write();
        let mut b = WriteBatch::new();
        let out = f(&mut st, &mut b, self.now())?;
        Ok((out, self.inner.store.commit(b)))
    }

    /// [`Self::locked`], then awaits durability outside the lock.
    async fn write<T>(
        &self,
        f: impl FnOnce(&mut State, &mut WriteBatch, Millis) -> Result<T>,
    ) -> Result<T> {
        let (out, commit) = self.locked(f)?;
        commit.await?;
        Ok(out)
    }

    // ----- function output ----------------------------------------------------------------

    /// Appends events (epoch ms, message) to `group`/`stream`, creating both when missing.
    /// Returns without waiting for durability (function output is not an acknowledged write);
    /// the batch is still applied in order. Empty messages are skipped and messages over 1 MB
    /// are cut, as AWS would refuse them.
    pub fn append(
        &self,
        account: &str,
        region: &str,
        group: &str,
        stream: &str,
        events: Vec<(u64, String)>,
    ) {
        let t = Target {
            region: region.to_owned(),
            account: account.to_owned(),
            name: group.to_owned(),
        };
        let result = self.locked(|st, b, now| {
            if st.group(&t).is_err() {
                let g = st.new_group(|id| GroupMeta {
                    id,
                    region: t.region.clone(),
                    account: t.account.clone(),
                    name: t.name.clone(),
                    created: now,
                    retention_days: None,
                    class: "STANDARD".into(),
                    kms_key_id: None,
                    tags: BTreeMap::new(),
                    deletion_protection: false,
                });
                b.put(keys::GROUPS, keys::group_key(g.meta.id), encode(&g.meta));
            }
            let State {
                groups,
                next_stream,
                next_seq,
                ..
            } = st;
            let g = groups
                .get_mut(&t.region)
                .and_then(|a| a.get_mut(&t.account))
                .and_then(|g| g.get_mut(&t.name))
                .ok_or_else(|| Error::ResourceNotFound(GROUP_NOT_FOUND.into()))?;
            let gid = g.meta.id;
            let s = g.streams.entry(stream.to_owned()).or_insert_with(|| {
                *next_stream += 1;
                Stream::new(StreamMeta {
                    id: *next_stream,
                    name: stream.to_owned(),
                    created: now,
                    first_event: None,
                    last_event: None,
                    last_ingestion: None,
                    uploads: 0,
                })
            });
            let mut stored = 0u64;
            let mut any = false;
            for (ts, mut msg) in events {
                if msg.is_empty() {
                    continue;
                }
                if msg.len() > APPEND_MAX_MESSAGE {
                    let mut cut = APPEND_MAX_MESSAGE;
                    while !msg.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    msg.truncate(cut);
                }
                *next_seq += 1;
                stored += msg.len() as u64;
                store_event(b, gid, s, *next_seq, ts, now, msg);
                any = true;
            }
            if any {
                s.meta.uploads += 1;
            }
            b.put(
                keys::STREAMS,
                keys::stream_key(gid, s.meta.id),
                encode(&s.meta),
            );
            g.stored_bytes += stored;
            Ok(())
        });
        match result {
            // Dropping the commit does not cancel it; nobody waits for function output.
            Ok(((), commit)) => drop(commit),
            Err(e) => tracing::warn!(error = %e, group, stream, "logs append failed"),
        }
    }

    // ----- groups -------------------------------------------------------------------------

    /// CreateLogGroup.
    pub async fn create_log_group(&self, t: &Target, opts: NewGroup) -> Result<()> {
        self.write(|st, b, now| {
            if st.group(t).is_ok() {
                return Err(Error::ResourceAlreadyExists(GROUP_EXISTS.into()));
            }
            let class = opts.class.unwrap_or_else(|| "STANDARD".into());
            // Delivery-class groups keep events for one day (logGroupClass documentation).
            let retention_days = (class == "DELIVERY").then_some(1);
            let g = st.new_group(|id| GroupMeta {
                id,
                region: t.region.clone(),
                account: t.account.clone(),
                name: t.name.clone(),
                created: now,
                retention_days,
                class,
                kms_key_id: opts.kms_key_id,
                tags: opts.tags,
                deletion_protection: opts.deletion_protection,
            });
            b.put(keys::GROUPS, keys::group_key(g.meta.id), encode(&g.meta));
            Ok(())
        })
        .await
    }

    /// DeleteLogGroup: the group, its streams and their events.
    pub async fn delete_log_group(&self, t: &Target) -> Result<()> {
        self.write(|st, b, _| {
            let g = st.group(t)?;
            if g.meta.deletion_protection {
                return Err(Error::Validation(
                    "Deletion protection is enabled for this log group. Disable deletion \
                     protection before deleting it."
                        .into(),
                ));
            }
            keys::delete_group(b, g.meta.id);
            if let Some(groups) = st
                .groups
                .get_mut(&t.region)
                .and_then(|a| a.get_mut(&t.account))
            {
                groups.remove(&t.name);
            }
            Ok(())
        })
        .await
    }

    /// Changes a group's metadata through `f` (retention, tags, deletion protection) and
    /// persists it. `f` validates before it changes anything.
    pub async fn update_group(
        &self,
        t: &Target,
        f: impl FnOnce(&mut GroupMeta) -> Result<()>,
    ) -> Result<()> {
        self.write(|st, b, _| {
            let g = st.group_mut(t)?;
            f(&mut g.meta)?;
            b.put(keys::GROUPS, keys::group_key(g.meta.id), encode(&g.meta));
            Ok(())
        })
        .await
    }

    /// One group.
    pub fn group_info(&self, t: &Target) -> Result<GroupInfo> {
        let st = self.inner.state.read();
        let g = st.group(t)?;
        Ok(GroupInfo {
            meta: g.meta.clone(),
            stored_bytes: g.stored_bytes,
        })
    }

    /// Groups of one account and region in name order, strictly after `after`, that pass
    /// `keep`; at most `limit`, and whether more follow.
    pub fn list_groups(
        &self,
        region: &str,
        account: &str,
        after: Option<&str>,
        limit: usize,
        keep: impl Fn(&GroupMeta) -> bool,
    ) -> (Vec<GroupInfo>, bool) {
        let st = self.inner.state.read();
        let Some(groups) = st.groups_of(region, account) else {
            return (Vec::new(), false);
        };
        let range = match after {
            Some(a) => {
                groups.range::<str, _>((std::ops::Bound::Excluded(a), std::ops::Bound::Unbounded))
            }
            None => groups.range::<str, _>(..),
        };
        let mut out = Vec::new();
        for g in range.map(|(_, g)| g).filter(|g| keep(&g.meta)) {
            if out.len() == limit {
                return (out, true);
            }
            out.push(GroupInfo {
                meta: g.meta.clone(),
                stored_bytes: g.stored_bytes,
            });
        }
        (out, false)
    }

    // ----- streams ------------------------------------------------------------------------

    /// CreateLogStream.
    pub async fn create_log_stream(&self, t: &Target, name: &str) -> Result<()> {
        self.write(|st, b, now| {
            let next = st.next_stream + 1;
            let g = st.group_mut(t)?;
            if g.streams.contains_key(name) {
                return Err(Error::ResourceAlreadyExists(STREAM_EXISTS.into()));
            }
            let meta = StreamMeta {
                id: next,
                name: name.to_owned(),
                created: now,
                first_event: None,
                last_event: None,
                last_ingestion: None,
                uploads: 0,
            };
            b.put(
                keys::STREAMS,
                keys::stream_key(g.meta.id, next),
                encode(&meta),
            );
            g.streams.insert(name.to_owned(), Stream::new(meta));
            st.next_stream = next;
            Ok(())
        })
        .await
    }

    /// DeleteLogStream: the stream and its events.
    pub async fn delete_log_stream(&self, t: &Target, name: &str) -> Result<()> {
        self.write(|st, b, _| {
            let g = st.group_mut(t)?;
            if g.meta.deletion_protection {
                return Err(Error::Validation(
                    "Deletion protection is enabled for this log group. Disable deletion \
                     protection before deleting its log streams."
                        .into(),
                ));
            }
            let s = g
                .streams
                .remove(name)
                .ok_or_else(|| Error::ResourceNotFound(STREAM_NOT_FOUND.into()))?;
            g.stored_bytes -= s.data.iter().map(|d| d.message.len() as u64).sum::<u64>();
            keys::delete_stream(b, g.meta.id, s.meta.id);
            Ok(())
        })
        .await
    }

    /// DescribeLogStreams: streams in the chosen order after the cursor; the cursor of the last
    /// returned stream when more follow.
    pub fn describe_streams(
        &self,
        t: &Target,
        q: &StreamQuery,
    ) -> Result<(Vec<StreamInfo>, Option<StreamCursor>)> {
        let st = self.inner.state.read();
        let g = st.group(t)?;
        let key = |s: &Stream| -> (u64, String) {
            let time = if q.by_last_event {
                s.meta.last_event.unwrap_or(0)
            } else {
                0
            };
            (time, s.meta.name.clone())
        };
        let mut all: Vec<(u64, String, &Stream)> = g
            .streams
            .values()
            .filter(|s| {
                q.prefix
                    .as_deref()
                    .is_none_or(|p| s.meta.name.starts_with(p))
            })
            .map(|s| {
                let (time, name) = key(s);
                (time, name, s)
            })
            .collect();
        if q.by_last_event {
            all.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        }
        if q.descending {
            all.reverse();
        }
        // Everything up to and including the cursor was returned already.
        let start = match &q.after {
            None => 0,
            Some((time, name)) => all.partition_point(|(t2, n2, _)| {
                let ord = (*t2, n2).cmp(&(*time, name));
                if q.descending {
                    ord.is_ge()
                } else {
                    ord.is_le()
                }
            }),
        };
        let page: Vec<&(u64, String, &Stream)> = all.iter().skip(start).take(q.limit).collect();
        let more = start + page.len() < all.len();
        let next = if more {
            page.last().map(|(time, name, _)| (*time, name.clone()))
        } else {
            None
        };
        let out = page
            .into_iter()
            .map(|(_, _, s)| StreamInfo {
                meta: s.meta.clone(),
                arn: format!("{}:log-stream:{}", g.meta.arn(), s.meta.name),
            })
            .collect();
        Ok((out, next))
    }

    // ----- events -------------------------------------------------------------------------

    /// PutLogEvents: checks the batch, stores the accepted events, answers once durable.
    pub async fn put_log_events(
        &self,
        t: &Target,
        stream: &str,
        events: Vec<(u64, String)>,
    ) -> Result<PutResult> {
        let sizes: Vec<(u64, usize)> = events.iter().map(|(t, m)| (*t, m.len())).collect();
        self.write(|st, b, now| {
            let next_seq = st.next_seq;
            let g = st.group_mut(t)?;
            let gid = g.meta.id;
            let cutoff = self.cutoff(&g.meta, now);
            let s = g
                .streams
                .get_mut(stream)
                .ok_or_else(|| Error::ResourceNotFound(STREAM_NOT_FOUND.into()))?;
            let rejected = batch::check(&sizes, now, cutoff).map_err(Error::InvalidParameter)?;
            let accepted = rejected.accepted(events.len());
            let mut seq = next_seq;
            let mut stored = 0;
            for (ts, msg) in events.into_iter().skip(accepted.start).take(accepted.len()) {
                seq += 1;
                stored += msg.len() as u64;
                store_event(b, gid, s, seq, ts, now, msg);
            }
            s.meta.uploads += 1;
            b.put(
                keys::STREAMS,
                keys::stream_key(gid, s.meta.id),
                encode(&s.meta),
            );
            let token = s.meta.sequence_token();
            g.stored_bytes += stored;
            st.next_seq = seq;
            Ok(PutResult {
                next_sequence_token: token,
                rejected,
            })
        })
        .await
    }

    /// GetLogEvents.
    pub fn get_log_events(&self, t: &Target, stream: &str, q: &GetQuery) -> Result<GetResult> {
        let st = self.inner.state.read();
        let g = st.group(t)?;
        let s = g
            .streams
            .get(stream)
            .ok_or_else(|| Error::ResourceNotFound(STREAM_NOT_FOUND.into()))?;
        // Expired events are invisible even before the sweeper deletes them.
        let start = q
            .start
            .unwrap_or(0)
            .max(self.cutoff(&g.meta, self.now()).unwrap_or(0));
        let window = s.window(start, q.end.unwrap_or(u64::MAX));
        let Page {
            events,
            forward,
            backward,
        } = paging::page(
            &s.positions,
            &|i| s.data[i].message.len(),
            window,
            position(start, 0),
            q.token,
            q.limit,
            q.from_head,
        );
        let events = events
            .map(|i| EventOut {
                stream: String::new(),
                timestamp: timestamp_of(s.positions[i]),
                ingestion: s.data[i].ingestion,
                message: s.data[i].message.clone(),
                event_id: event_id(s.positions[i]),
            })
            .collect();
        Ok(GetResult {
            events,
            forward: forward.encode(),
            backward: backward.encode(),
        })
    }

    /// FilterLogEvents: events of the selected streams merged in (timestamp, arrival) order,
    /// filtered by time and pattern, paged by the position of the last returned event.
    pub fn filter_log_events(&self, t: &Target, q: &FilterQuery) -> Result<FilterResult> {
        let st = self.inner.state.read();
        let g = st.group(t)?;
        let streams: Vec<&Stream> = g
            .streams
            .values()
            .filter(|s| match (&q.names, &q.prefix) {
                (Some(names), _) => names.contains(&s.meta.name),
                (None, Some(p)) => s.meta.name.starts_with(p.as_str()),
                (None, None) => true,
            })
            .collect();
        let start = q
            .start
            .unwrap_or(0)
            .max(self.cutoff(&g.meta, self.now()).unwrap_or(0));
        let end = q.end.map_or(u64::MAX, |e| e.saturating_add(1));
        // One cursor per stream, merged through a min-heap of positions.
        let mut cursors: Vec<Range<usize>> = Vec::with_capacity(streams.len());
        let mut heap = BinaryHeap::new();
        for (i, s) in streams.iter().enumerate() {
            let mut w = s.window(start, end);
            if let Some(after) = q.after {
                w.start = w.start.max(s.positions.partition_point(|&p| p <= after));
            }
            if w.start < w.end {
                heap.push(Reverse((s.positions[w.start], i)));
            }
            cursors.push(w);
        }
        let mut out = Vec::new();
        let mut bytes = 0usize;
        let mut next = None;
        while let Some(Reverse((pos, i))) = heap.pop() {
            let s = streams[i];
            let idx = cursors[i].start;
            cursors[i].start += 1;
            if cursors[i].start < cursors[i].end {
                heap.push(Reverse((s.positions[cursors[i].start], i)));
            }
            let d = &s.data[idx];
            if !q.pattern.matches(&d.message) {
                continue;
            }
            let size = d.message.len() + paging::EVENT_OVERHEAD;
            if out.len() >= q.limit || (!out.is_empty() && bytes + size > paging::RESPONSE_BYTES) {
                // Another match exists: the page ends at the last returned event.
                next = out.last().map(|e: &(u128, EventOut)| e.0);
                break;
            }
            bytes += size;
            out.push((
                pos,
                EventOut {
                    stream: s.meta.name.clone(),
                    timestamp: timestamp_of(pos),
                    ingestion: d.ingestion,
                    message: d.message.clone(),
                    event_id: event_id(pos),
                },
            ));
        }
        Ok(FilterResult {
            events: out.into_iter().map(|(_, e)| e).collect(),
            searched: streams.iter().map(|s| s.meta.name.clone()).collect(),
            next,
        })
    }

    // ----- retention ----------------------------------------------------------------------

    /// Deletes every event older than its group's retention. Returns how many went.
    pub async fn sweep(&self) -> Result<u64> {
        let (removed, commit) = self.locked(|st, b, now| {
            let mut removed = 0u64;
            for accounts in st.groups.values_mut() {
                for groups in accounts.values_mut() {
                    for g in groups.values_mut() {
                        let Some(cut) = self.cutoff(&g.meta, now) else {
                            continue;
                        };
                        let gid = g.meta.id;
                        let mut freed = 0u64;
                        for s in g.streams.values_mut() {
                            let n = s.positions.partition_point(|&p| p < position(cut, 0));
                            if n == 0 {
                                continue;
                            }
                            for (p, d) in s.positions.drain(..n).zip(s.data.drain(..n)) {
                                b.delete(keys::EVENTS, keys::event_key(gid, s.meta.id, p as u64));
                                freed += d.message.len() as u64;
                                removed += 1;
                            }
                        }
                        g.stored_bytes -= freed;
                    }
                }
            }
            Ok(removed)
        })?;
        if removed > 0 {
            commit.await?;
        } else {
            drop(commit);
        }
        Ok(removed)
    }
}

/// Stores one event in `s` and stages its row and the stream's new times.
fn store_event(
    b: &mut WriteBatch,
    gid: u64,
    s: &mut Stream,
    seq: u64,
    ts: u64,
    now: Millis,
    msg: String,
) {
    let row = StoredEvent {
        timestamp: ts,
        ingestion: now,
        message: msg,
    };
    b.put(
        keys::EVENTS,
        keys::event_key(gid, s.meta.id, seq),
        encode(&row),
    );
    s.meta.first_event = Some(s.meta.first_event.map_or(ts, |f| f.min(ts)));
    s.meta.last_event = Some(s.meta.last_event.map_or(ts, |l| l.max(ts)));
    s.meta.last_ingestion = Some(now);
    s.insert(
        position(ts, seq),
        EventData {
            ingestion: now,
            message: row.message.into(),
        },
    );
}
