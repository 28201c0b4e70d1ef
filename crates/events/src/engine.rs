//! The EventBridge engine: buses, rules, targets, archives and replays in memory, every change
//! written through the store, every delivery staged through the outbox.
//!
//! # Concurrency and durability
//! All state sits behind one mutex (`Events::locked`, the pattern of the SQS engine). An
//! operation validates, mutates memory and builds one [`WriteBatch`] under the lock; deliveries
//! it causes are staged into that same batch ([`Outbox::stage`]); it submits the batch, which
//! fixes its place in the store's order, and releases the lock. Only then does it await the
//! commit, release the staged deliveries to the outbox's workers, and answer. So PutEvents
//! answers only once its events' deliveries (and archive copies) are durable, and a crash after
//! the answer loses none of them.
//!
//! # Matching
//! Each rule's pattern is compiled once ([`ponte_pattern::Pattern`]) when it is put or loaded.
//! An event is serialised once and matched against the enabled rules of its bus.
//!
//! # Time
//! Event times and timestamps are wall-clock (`Clock::now`); the `rate(...)` interval and
//! archive retention are AWS waits and go through `Clock::scaled`.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use ponte_delivery::{Failure, FailureKind, Job, NewJob, Outbox, Outcome, Staged};
use ponte_pattern::Pattern;
use ponte_store::{Commit, SharedStore, WriteBatch};
use ponte_types::{Millis, RequestContext, SharedClock};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::error::{Error, Result};
use crate::jobs::{self, RuleRef};
use crate::model::envelope::{self, EntryError, EntryIn, NewEvent};
use crate::model::names::{self, DEFAULT_BUS};
use crate::model::policy;
use crate::model::schedule::Schedule;
use crate::store::{self as keys, encode};

/// Rules per bus (AWS quota, adjustable there).
pub const MAX_RULES_PER_BUS: usize = 300;
/// Targets per rule.
pub const MAX_TARGETS_PER_RULE: usize = 5;
/// Bus-to-bus forwards one event may take; a loop of rules between buses stops there.
pub const MAX_BUS_HOPS: u32 = 16;
/// AWS's message for both limits.
pub const LIMIT_MESSAGE: &str = "The requested resource exceeds the maximum number allowed.";

/// (region, account, name).
pub type Key3 = (String, String, String);

fn k3(region: &str, account: &str, name: &str) -> Key3 {
    (region.to_owned(), account.to_owned(), name.to_owned())
}

/// A persisted event bus.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BusMeta {
    /// Name.
    pub name: String,
    /// Region.
    pub region: String,
    /// Owner.
    pub account: String,
    /// Epoch ms.
    pub created: Millis,
    /// Epoch ms.
    pub modified: Millis,
    /// `Description`.
    #[serde(default)]
    pub description: Option<String>,
    /// `KmsKeyIdentifier` (recorded only).
    #[serde(default)]
    pub kms_key: Option<String>,
    /// `DeadLetterConfig` (recorded only).
    #[serde(default)]
    pub dead_letter: Option<Value>,
    /// `LogConfig` (recorded only).
    #[serde(default)]
    pub log_config: Option<Value>,
    /// Resource policy document.
    #[serde(default)]
    pub policy: Option<Value>,
    /// `EventSourceName` of a partner bus.
    #[serde(default)]
    pub event_source: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl BusMeta {
    /// The bus ARN.
    pub fn arn(&self) -> String {
        names::bus_arn(&self.region, &self.account, &self.name)
    }
}

/// A persisted rule with its targets.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RuleMeta {
    /// Name.
    pub name: String,
    /// Bus name.
    pub bus: String,
    /// Region.
    pub region: String,
    /// Owner.
    pub account: String,
    /// `EventPattern` as given.
    #[serde(default)]
    pub event_pattern: Option<String>,
    /// `ScheduleExpression` as given.
    #[serde(default)]
    pub schedule: Option<String>,
    /// `ENABLED`, `DISABLED` or `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS`.
    pub state: String,
    /// `Description`.
    #[serde(default)]
    pub description: Option<String>,
    /// `RoleArn`.
    #[serde(default)]
    pub role_arn: Option<String>,
    /// `CreatedBy` (the creating account).
    pub created_by: String,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Targets as given to PutTargets, in insertion order.
    #[serde(default)]
    pub targets: Vec<Value>,
    /// When the schedule was (re)armed: put, changed or enabled (epoch ms).
    #[serde(default)]
    pub schedule_since: Millis,
}

impl RuleMeta {
    /// The rule ARN.
    pub fn arn(&self) -> String {
        names::rule_arn(&self.region, &self.account, &self.bus, &self.name)
    }

    /// `DISABLED` rules match nothing and fire never.
    pub fn enabled(&self) -> bool {
        self.state != "DISABLED"
    }
}

/// A persisted archive with its counters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArchiveMeta {
    /// Internal id (key prefix of its events).
    pub id: u64,
    /// Name.
    pub name: String,
    /// Region.
    pub region: String,
    /// Owner.
    pub account: String,
    /// The archived bus.
    pub source_arn: String,
    /// `Description`.
    #[serde(default)]
    pub description: Option<String>,
    /// `EventPattern`; `None` archives every event.
    #[serde(default)]
    pub event_pattern: Option<String>,
    /// 0 = forever.
    #[serde(default)]
    pub retention_days: u64,
    /// `KmsKeyIdentifier` (recorded only).
    #[serde(default)]
    pub kms_key: Option<String>,
    /// Epoch ms.
    pub created: Millis,
    /// Sum of archived event sizes.
    #[serde(default)]
    pub size_bytes: u64,
    /// Archived events.
    #[serde(default)]
    pub event_count: u64,
}

impl ArchiveMeta {
    /// The archive ARN.
    pub fn arn(&self) -> String {
        names::archive_arn(&self.region, &self.account, &self.name)
    }
}

/// One archived event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Archived {
    /// The event's `time` (epoch ms): what replay windows select on.
    pub time: Millis,
    /// The event.
    pub event: Value,
}

/// A persisted replay.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReplayMeta {
    /// Name.
    pub name: String,
    /// Region.
    pub region: String,
    /// Owner.
    pub account: String,
    /// `Description`.
    #[serde(default)]
    pub description: Option<String>,
    /// The archive ARN.
    pub source_arn: String,
    /// `Destination` as given (`Arn`, `FilterArns`).
    pub destination: Value,
    /// Window start (epoch ms, inclusive).
    pub event_start: Millis,
    /// Window end (epoch ms, exclusive).
    pub event_end: Millis,
    /// `STARTING`, `RUNNING`, `CANCELLING`, `COMPLETED`, `CANCELLED`, `FAILED`.
    pub state: String,
    /// Why it failed.
    #[serde(default)]
    pub state_reason: Option<String>,
    /// Epoch ms.
    pub replay_start: Millis,
    /// Epoch ms.
    #[serde(default)]
    pub replay_end: Option<Millis>,
    /// Time of the last event replayed (epoch ms).
    #[serde(default)]
    pub last_replayed: Option<Millis>,
}

impl ReplayMeta {
    /// The replay ARN.
    pub fn arn(&self) -> String {
        names::replay_arn(&self.region, &self.account, &self.name)
    }

    fn filter_arns(&self) -> Vec<String> {
        self.destination
            .get("FilterArns")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

struct Rule {
    meta: RuleMeta,
    pattern: Option<Pattern>,
    schedule: Option<Schedule>,
    last_fire: Option<Millis>,
}

impl Rule {
    fn new(meta: RuleMeta) -> Rule {
        let pattern = meta
            .event_pattern
            .as_deref()
            .and_then(|p| Pattern::compile_eventbridge(p).ok());
        let schedule = meta
            .schedule
            .as_deref()
            .and_then(|s| Schedule::parse(s).ok());
        Rule {
            meta,
            pattern,
            schedule,
            last_fire: None,
        }
    }
}

struct Bus {
    meta: BusMeta,
    rules: BTreeMap<String, Rule>,
}

struct Archive {
    meta: ArchiveMeta,
    pattern: Option<Pattern>,
}

/// Counters for the meter (AWS billing units) and tests, since start. Counted when the change
/// is staged, so a failed commit may leave them slightly high.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MeterSnapshot {
    /// PutEvents entries accepted.
    pub events_published: u64,
    /// Billable PutEvents units: each started 64 KB of an entry is one.
    pub event_chunks: u64,
    /// Events put on a bus by another bus's rule.
    pub events_forwarded_in: u64,
    /// Scheduled-rule firings.
    pub scheduled_firings: u64,
    /// Events replayed from archives.
    pub events_replayed: u64,
    /// Events written to archives.
    pub events_archived: u64,
    /// (event, rule) matches.
    pub rule_matches: u64,
    /// Deliveries staged, by target service (`sqs`, `lambda`, `sns`, `events`, ...).
    pub deliveries: BTreeMap<String, u64>,
}

impl MeterSnapshot {
    fn delivery(&mut self, target: &str) {
        let service = names::arn_service(target).unwrap_or("unknown");
        *self.deliveries.entry(service.to_owned()).or_default() += 1;
    }
}

#[derive(Default)]
pub(crate) struct State {
    meter: MeterSnapshot,
    buses: BTreeMap<Key3, Bus>,
    archives: BTreeMap<Key3, Archive>,
    replays: BTreeMap<Key3, ReplayMeta>,
    next_archive_id: u64,
    seq: u64,
}

/// One transaction under the lock: the batch and the deliveries staged into it.
pub(crate) struct Tx<'a> {
    batch: WriteBatch,
    staged: Vec<Staged>,
    outbox: &'a Outbox,
}

impl Tx<'_> {
    fn stage(&mut self, job: NewJob) {
        let s = self.outbox.stage(&mut self.batch, job);
        self.staged.push(s);
    }
}

/// A submitted transaction: await it, then the deliveries go out.
#[must_use = "await the commit before answering"]
pub(crate) struct Pending {
    commit: Commit,
    staged: Vec<Staged>,
}

impl Pending {
    async fn done(self, outbox: &Outbox) -> Result<()> {
        self.commit.await?;
        if !self.staged.is_empty() {
            outbox.release(self.staged);
        }
        Ok(())
    }
}

pub(crate) struct Inner {
    pub(crate) store: SharedStore,
    pub(crate) clock: SharedClock,
    pub(crate) outbox: Outbox,
    state: Mutex<State>,
    /// Wakes the scheduler when a schedule changes.
    pub(crate) schedules_changed: Notify,
    /// Replays whose task is running in this process.
    pub(crate) running_replays: Mutex<HashSet<Key3>>,
    /// Set once background tasks run, so new replays are started at once.
    pub(crate) background: Mutex<Option<tokio::sync::watch::Receiver<bool>>>,
    /// Stops the background tasks.
    pub(crate) stop: tokio::sync::watch::Sender<bool>,
}

/// The EventBridge engine. Cheap to clone.
#[derive(Clone)]
pub struct Events {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").finish_non_exhaustive()
    }
}

fn decode<T: for<'de> Deserialize<'de>>(table: &str, k: &[u8], v: &[u8]) -> Result<T> {
    serde_json::from_slice(v).map_err(|e| {
        Error::Internal(format!(
            "corrupt {table} row {:?}: {e}",
            String::from_utf8_lossy(k)
        ))
    })
}

/// What PutEvents and the bus target hand to [`Events::ingest`].
struct Incoming<'a> {
    event: &'a Value,
    text: &'a str,
    time: Millis,
    ingested: Millis,
    trace: Option<&'a str>,
    /// How many buses forwarded the event here (0 for PutEvents).
    hops: u32,
    /// A replay: its name has been added to the event; only these rules (all when empty), and
    /// the event is not archived again.
    replay: Option<&'a [String]>,
}

impl Events {
    /// Loads every bus, rule, target, archive and replay from `store`, registers the `events`
    /// delivery target (event bus ARNs) with `outbox`, and, inside a tokio runtime, starts the
    /// scheduler, the retention sweeper and unfinished replays
    /// ([`Events::start_background`] hands them the server's shutdown signal).
    pub fn open(store: SharedStore, clock: SharedClock, outbox: Outbox) -> Result<Self> {
        let mut st = State::default();
        for (k, v) in store.scan(keys::BUSES, b"")? {
            let meta: BusMeta = decode(keys::BUSES, &k, &v)?;
            st.buses.insert(
                k3(&meta.region, &meta.account, &meta.name),
                Bus {
                    meta,
                    rules: BTreeMap::new(),
                },
            );
        }
        for (k, v) in store.scan(keys::RULES, b"")? {
            let meta: RuleMeta = decode(keys::RULES, &k, &v)?;
            let bk = k3(&meta.region, &meta.account, &meta.bus);
            let bus = st.buses.entry(bk).or_insert_with(|| Bus {
                // A rule on the implicit default bus.
                meta: default_bus(&meta.region, &meta.account, 0),
                rules: BTreeMap::new(),
            });
            bus.rules.insert(meta.name.clone(), Rule::new(meta));
        }
        for (k, v) in store.scan(keys::SCHEDULES, b"")? {
            let parts = keys::split(&k);
            let last: Millis = decode(keys::SCHEDULES, &k, &v)?;
            if let [region, account, bus, rule] = parts.as_slice()
                && let Some(r) = st
                    .buses
                    .get_mut(&k3(region, account, bus))
                    .and_then(|b| b.rules.get_mut(rule))
            {
                r.last_fire = Some(last);
            }
        }
        for (k, v) in store.scan(keys::ARCHIVES, b"")? {
            let meta: ArchiveMeta = decode(keys::ARCHIVES, &k, &v)?;
            st.next_archive_id = st.next_archive_id.max(meta.id + 1);
            let pattern = meta
                .event_pattern
                .as_deref()
                .and_then(|p| Pattern::compile_eventbridge(p).ok());
            st.archives.insert(
                k3(&meta.region, &meta.account, &meta.name),
                Archive { meta, pattern },
            );
        }
        for (k, v) in store.scan(keys::REPLAYS, b"")? {
            let meta: ReplayMeta = decode(keys::REPLAYS, &k, &v)?;
            st.replays
                .insert(k3(&meta.region, &meta.account, &meta.name), meta);
        }
        st.next_archive_id = st.next_archive_id.max(1);
        let events = Events {
            inner: Arc::new(Inner {
                store,
                clock,
                outbox,
                state: Mutex::new(st),
                schedules_changed: Notify::new(),
                running_replays: Mutex::new(HashSet::new()),
                background: Mutex::new(None),
                stop: tokio::sync::watch::channel(false).0,
            }),
        };
        events.inner.outbox.register("events", events.bus_target());
        if tokio::runtime::Handle::try_current().is_ok() {
            events.start_once();
        }
        Ok(events)
    }

    pub(crate) fn now(&self) -> Millis {
        self.inner.clock.now()
    }

    /// Validates and mutates under the lock, stages deliveries into the same batch, submits.
    pub(crate) fn locked<T>(
        &self,
        f: impl FnOnce(&mut State, &mut Tx<'_>) -> Result<T>,
    ) -> Result<(T, Pending)> {
        let mut st = self.inner.state.lock();
        let mut tx = Tx {
            batch: WriteBatch::new(),
            staged: Vec::new(),
            outbox: &self.inner.outbox,
        };
        let out = f(&mut st, &mut tx)?;
        let commit = self.inner.store.commit(tx.batch);
        Ok((
            out,
            Pending {
                commit,
                staged: tx.staged,
            },
        ))
    }

    /// [`Self::locked`], then await the commit and release the deliveries.
    pub(crate) async fn apply<T>(
        &self,
        f: impl FnOnce(&mut State, &mut Tx<'_>) -> Result<T>,
    ) -> Result<T> {
        let (out, pending) = self.locked(f)?;
        pending.done(&self.inner.outbox).await?;
        Ok(out)
    }

    pub(crate) fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&self.inner.state.lock())
    }

    /// The meter's counters since start.
    pub fn meter(&self) -> MeterSnapshot {
        self.read(|st| st.meter.clone())
    }

    // ----- buses -------------------------------------------------------------------------

    /// The (region, account, name) a request's `EventBusName` (name or ARN) means.
    pub fn bus_key(ctx: &RequestContext, name_or_arn: Option<&str>) -> Key3 {
        match name_or_arn {
            None => k3(&ctx.region, &ctx.account, DEFAULT_BUS),
            Some(s) => match names::parse_bus_arn(s) {
                Some((r, a, n)) => (r, a, n),
                None => k3(&ctx.region, &ctx.account, s),
            },
        }
    }

    /// CreateEventBus.
    pub async fn create_bus(&self, ctx: &RequestContext, mut meta: BusMeta) -> Result<BusMeta> {
        let now = self.now();
        meta.region.clone_from(&ctx.region);
        meta.account.clone_from(&ctx.account);
        meta.created = now;
        meta.modified = now;
        let key = k3(&ctx.region, &ctx.account, &meta.name);
        self.apply(|st, tx| {
            if meta.name == DEFAULT_BUS || st.buses.contains_key(&key) {
                return Err(Error::AlreadyExists(format!(
                    "Event bus {} already exists.",
                    meta.name
                )));
            }
            put_bus(&mut tx.batch, &meta);
            st.buses.insert(
                key,
                Bus {
                    meta: meta.clone(),
                    rules: BTreeMap::new(),
                },
            );
            Ok(meta)
        })
        .await
    }

    /// DeleteEventBus: removes the bus with its rules; an unknown bus is not an error.
    pub async fn delete_bus(&self, ctx: &RequestContext, name: &str) -> Result<()> {
        if name == DEFAULT_BUS {
            return Err(Error::Validation("Cannot delete event bus default.".into()));
        }
        let key = k3(&ctx.region, &ctx.account, name);
        self.apply(|st, tx| {
            if let Some(bus) = st.buses.remove(&key) {
                let b = &mut tx.batch;
                b.delete(keys::BUSES, keys::key(&[&key.0, &key.1, &key.2]));
                let prefix = {
                    let mut p = keys::key(&[&key.0, &key.1, &key.2]);
                    p.push(0);
                    p
                };
                b.delete_prefix(keys::RULES, prefix.clone());
                b.delete_prefix(keys::SCHEDULES, prefix);
                drop(bus);
            }
            Ok(())
        })
        .await
    }

    /// DescribeEventBus (the default bus always exists).
    pub fn describe_bus(&self, key: &Key3) -> Result<BusMeta> {
        let now = self.now();
        self.read(|st| {
            st.buses
                .get(key)
                .map(|b| b.meta.clone())
                .or_else(|| (key.2 == DEFAULT_BUS).then(|| default_bus(&key.0, &key.1, now)))
                .ok_or_else(|| Error::bus_not_found(&key.2))
        })
    }

    /// ListEventBuses: the caller's buses in its region, by name, the default bus included.
    pub fn list_buses(&self, ctx: &RequestContext) -> Vec<BusMeta> {
        let now = self.now();
        self.read(|st| {
            let mut out: Vec<BusMeta> = st
                .buses
                .iter()
                .filter(|((r, a, _), _)| *r == ctx.region && *a == ctx.account)
                .map(|(_, b)| b.meta.clone())
                .collect();
            if !out.iter().any(|b| b.name == DEFAULT_BUS) {
                out.push(default_bus(&ctx.region, &ctx.account, now));
            }
            out.sort_by(|a, b| a.name.cmp(&b.name));
            out
        })
    }

    /// Changes a bus under the lock (UpdateEventBus, PutPermission, RemovePermission, tags).
    pub async fn update_bus(
        &self,
        key: &Key3,
        f: impl FnOnce(&mut BusMeta) -> Result<()>,
    ) -> Result<BusMeta> {
        let now = self.now();
        self.apply(|st, tx| {
            let bus = bus_entry(st, key, now)?;
            let mut meta = bus.meta.clone();
            f(&mut meta)?;
            meta.modified = now;
            put_bus(&mut tx.batch, &meta);
            bus.meta = meta.clone();
            Ok(meta)
        })
        .await
    }

    // ----- rules -------------------------------------------------------------------------

    /// PutRule: creates or replaces a rule (its targets are kept).
    pub async fn put_rule(&self, key: &Key3, mut meta: RuleMeta) -> Result<String> {
        let pattern = match meta.event_pattern.as_deref() {
            Some(p) => Some(Pattern::compile_eventbridge(p)?),
            None => None,
        };
        let schedule = match meta.schedule.as_deref() {
            Some(s) => Some(Schedule::parse(s).map_err(Error::Validation)?),
            None => None,
        };
        if schedule.is_some() && key.2 != DEFAULT_BUS {
            return Err(Error::Validation(
                "ScheduleExpression is supported only on the default event bus.".into(),
            ));
        }
        let now = self.now();
        let arn = self
            .apply(|st, tx| {
                if key.2 == DEFAULT_BUS && !st.buses.contains_key(key) {
                    // The implicit default bus gets its row with its first rule, so its
                    // creation time survives a restart.
                    put_bus(&mut tx.batch, &default_bus(&key.0, &key.1, now));
                }
                let bus = bus_entry(st, key, now)?;
                let previous = bus.rules.get(&meta.name);
                if previous.is_none() && bus.rules.len() >= MAX_RULES_PER_BUS {
                    return Err(Error::LimitExceeded(LIMIT_MESSAGE.into()));
                }
                meta.region.clone_from(&key.0);
                meta.account.clone_from(&key.1);
                meta.bus.clone_from(&key.2);
                let mut last_fire = None;
                if let Some(prev) = previous {
                    meta.targets.clone_from(&prev.meta.targets);
                    meta.created_by.clone_from(&prev.meta.created_by);
                    let mut tags = prev.meta.tags.clone();
                    tags.extend(std::mem::take(&mut meta.tags));
                    meta.tags = tags;
                    let rearm = prev.meta.schedule != meta.schedule
                        || (!prev.meta.enabled() && meta.enabled());
                    if rearm {
                        meta.schedule_since = now;
                    } else {
                        meta.schedule_since = prev.meta.schedule_since;
                        last_fire = prev.last_fire;
                    }
                } else {
                    meta.schedule_since = now;
                }
                let rk = rule_key(&meta);
                tx.batch.put(keys::RULES, rk.clone(), encode(&meta));
                if last_fire.is_none() {
                    tx.batch.delete(keys::SCHEDULES, rk);
                }
                let arn = meta.arn();
                bus.rules.insert(
                    meta.name.clone(),
                    Rule {
                        meta,
                        pattern,
                        schedule,
                        last_fire,
                    },
                );
                Ok(arn)
            })
            .await?;
        self.inner.schedules_changed.notify_one();
        Ok(arn)
    }

    /// A copy of a rule.
    pub fn rule(&self, key: &Key3, name: &str) -> Result<RuleMeta> {
        self.read(|st| {
            st.buses
                .get(key)
                .and_then(|b| b.rules.get(name))
                .map(|r| r.meta.clone())
                .ok_or_else(|| Error::rule_not_found(name, &key.2))
        })
    }

    /// The rules of a bus, by name.
    pub fn rules(&self, key: &Key3) -> Result<Vec<RuleMeta>> {
        self.read(|st| match st.buses.get(key) {
            Some(b) => Ok(b.rules.values().map(|r| r.meta.clone()).collect()),
            None if key.2 == DEFAULT_BUS => Ok(Vec::new()),
            None => Err(Error::bus_not_found(&key.2)),
        })
    }

    /// DeleteRule: fails while the rule has targets; an unknown rule is not an error.
    pub async fn delete_rule(&self, key: &Key3, name: &str) -> Result<()> {
        self.apply(|st, tx| {
            let Some(bus) = st.buses.get_mut(key) else {
                return if key.2 == DEFAULT_BUS {
                    Ok(())
                } else {
                    Err(Error::bus_not_found(&key.2))
                };
            };
            let Some(rule) = bus.rules.get(name) else {
                return Ok(());
            };
            if !rule.meta.targets.is_empty() {
                return Err(Error::Validation(
                    "Rule can't be deleted since it has targets.".into(),
                ));
            }
            let rk = rule_key(&rule.meta);
            tx.batch.delete(keys::RULES, rk.clone());
            tx.batch.delete(keys::SCHEDULES, rk);
            bus.rules.remove(name);
            Ok(())
        })
        .await
    }

    /// Changes a rule under the lock (EnableRule, DisableRule, targets, tags).
    pub async fn update_rule<T>(
        &self,
        key: &Key3,
        name: &str,
        f: impl FnOnce(&mut RuleMeta) -> Result<T>,
    ) -> Result<T> {
        let now = self.now();
        let out = self
            .apply(|st, tx| {
                let rule = st
                    .buses
                    .get_mut(key)
                    .and_then(|b| b.rules.get_mut(name))
                    .ok_or_else(|| Error::rule_not_found(name, &key.2))?;
                let mut meta = rule.meta.clone();
                let out = f(&mut meta)?;
                let rk = rule_key(&meta);
                if !rule.meta.enabled() && meta.enabled() {
                    // Re-enabling re-arms the schedule from now.
                    meta.schedule_since = now;
                    rule.last_fire = None;
                    tx.batch.delete(keys::SCHEDULES, rk.clone());
                }
                tx.batch.put(keys::RULES, rk, encode(&meta));
                rule.meta = meta;
                Ok(out)
            })
            .await?;
        self.inner.schedules_changed.notify_one();
        Ok(out)
    }

    /// Rule names of a bus with a target of `arn`.
    pub fn rule_names_by_target(&self, key: &Key3, arn: &str) -> Result<Vec<String>> {
        Ok(self
            .rules(key)?
            .into_iter()
            .filter(|r| {
                r.targets
                    .iter()
                    .any(|t| t.get("Arn").and_then(Value::as_str) == Some(arn))
            })
            .map(|r| r.name)
            .collect())
    }

    // ----- archives ------------------------------------------------------------------------

    /// CreateArchive.
    pub async fn create_archive(&self, mut meta: ArchiveMeta) -> Result<ArchiveMeta> {
        let pattern = match meta.event_pattern.as_deref() {
            Some(p) => Some(Pattern::compile_eventbridge(p)?),
            None => None,
        };
        let now = self.now();
        meta.created = now;
        self.apply(|st, tx| {
            let key = k3(&meta.region, &meta.account, &meta.name);
            if st.archives.contains_key(&key) {
                return Err(Error::AlreadyExists(format!(
                    "Archive {} already exists.",
                    meta.name
                )));
            }
            let (region, account, bus) = names::parse_bus_arn(&meta.source_arn)
                .ok_or_else(|| Error::bus_not_found(&meta.source_arn))?;
            if !(bus == DEFAULT_BUS || st.buses.contains_key(&k3(&region, &account, &bus))) {
                return Err(Error::bus_not_found(&bus));
            }
            meta.id = st.next_archive_id;
            st.next_archive_id += 1;
            tx.batch
                .put(keys::ARCHIVES, archive_key(&meta), encode(&meta));
            st.archives.insert(
                key,
                Archive {
                    meta: meta.clone(),
                    pattern,
                },
            );
            Ok(meta)
        })
        .await
    }

    /// An archive.
    pub fn archive(&self, key: &Key3) -> Result<ArchiveMeta> {
        self.read(|st| {
            st.archives
                .get(key)
                .map(|a| a.meta.clone())
                .ok_or_else(|| Error::NotFound(format!("Archive {} does not exist.", key.2)))
        })
    }

    /// The archives of an account and region, by name.
    pub fn archives(&self, ctx: &RequestContext) -> Vec<ArchiveMeta> {
        self.read(|st| {
            st.archives
                .iter()
                .filter(|((r, a, _), _)| *r == ctx.region && *a == ctx.account)
                .map(|(_, a)| a.meta.clone())
                .collect()
        })
    }

    /// UpdateArchive.
    pub async fn update_archive(
        &self,
        key: &Key3,
        description: Option<String>,
        event_pattern: Option<String>,
        retention_days: Option<u64>,
        kms_key: Option<String>,
    ) -> Result<ArchiveMeta> {
        let pattern = match event_pattern.as_deref() {
            Some(p) => Some(Pattern::compile_eventbridge(p)?),
            None => None,
        };
        self.apply(|st, tx| {
            // AWS answers an unknown archive here with an InternalException (recorded in
            // LocalStack's aws.validated snapshot test_update_archive_error_unknown_archive).
            let a = st.archives.get_mut(key).ok_or_else(|| {
                Error::Internal("Service encountered unexpected problem. Please try again.".into())
            })?;
            if let Some(d) = description {
                a.meta.description = Some(d);
            }
            if let Some(p) = event_pattern {
                a.meta.event_pattern = Some(p);
                a.pattern = pattern;
            }
            if let Some(r) = retention_days {
                a.meta.retention_days = r;
            }
            if let Some(k) = kms_key {
                a.meta.kms_key = Some(k);
            }
            tx.batch
                .put(keys::ARCHIVES, archive_key(&a.meta), encode(&a.meta));
            Ok(a.meta.clone())
        })
        .await
    }

    /// DeleteArchive: the archive and its events.
    pub async fn delete_archive(&self, key: &Key3) -> Result<()> {
        self.apply(|st, tx| {
            let a = st
                .archives
                .remove(key)
                .ok_or_else(|| Error::NotFound(format!("Archive {} does not exist.", key.2)))?;
            tx.batch.delete(keys::ARCHIVES, archive_key(&a.meta));
            tx.batch
                .delete_prefix(keys::ARCHIVED, a.meta.id.to_be_bytes().to_vec());
            Ok(())
        })
        .await
    }

    // ----- replays ---------------------------------------------------------------------------

    /// StartReplay: records the replay; a background task replays it.
    pub async fn start_replay(&self, mut meta: ReplayMeta) -> Result<ReplayMeta> {
        let now = self.now();
        meta.replay_start = now;
        meta.state = "STARTING".into();
        let key = k3(&meta.region, &meta.account, &meta.name);
        let out = self
            .apply(|st, tx| {
                if st.replays.contains_key(&key) {
                    return Err(Error::AlreadyExists(format!(
                        "Replay {} already exists.",
                        meta.name
                    )));
                }
                let (region, account, archive) = names::parse_archive_arn(&meta.source_arn)
                    .ok_or_else(|| {
                        Error::Validation(format!(
                            "Parameter EventSourceArn is not valid. Reason: {} is not a valid \
                             archive ARN.",
                            meta.source_arn
                        ))
                    })?;
                let a = st
                    .archives
                    .get(&k3(&region, &account, &archive))
                    .ok_or_else(|| {
                        Error::Validation(format!(
                            "Parameter EventSourceArn is not valid. Reason: Archive {archive} does \
                         not exist."
                        ))
                    })?;
                let dest = meta
                    .destination
                    .get("Arn")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if let Some(dk) = names::parse_bus_arn(dest)
                    && dk.2 != DEFAULT_BUS
                    && !st.buses.contains_key(&dk)
                {
                    return Err(Error::bus_not_found(&dk.2));
                }
                if dest != a.meta.source_arn {
                    return Err(Error::Validation(
                        "Parameter Destination.Arn is not valid. Reason: Cross event bus replay \
                         is not permitted."
                            .into(),
                    ));
                }
                tx.batch
                    .put(keys::REPLAYS, replay_key(&meta), encode(&meta));
                st.replays.insert(key.clone(), meta.clone());
                Ok(meta)
            })
            .await?;
        self.spawn_replay(key);
        Ok(out)
    }

    /// A replay.
    pub fn replay(&self, key: &Key3) -> Result<ReplayMeta> {
        self.read(|st| {
            st.replays
                .get(key)
                .cloned()
                .ok_or_else(|| Error::NotFound(format!("Replay {} does not exist.", key.2)))
        })
    }

    /// The replays of an account and region, by name.
    pub fn replays(&self, ctx: &RequestContext) -> Vec<ReplayMeta> {
        self.read(|st| {
            st.replays
                .iter()
                .filter(|((r, a, _), _)| *r == ctx.region && *a == ctx.account)
                .map(|(_, m)| m.clone())
                .collect()
        })
    }

    /// CancelReplay: a starting or running replay becomes `CANCELLING`; its task stops it.
    pub async fn cancel_replay(&self, key: &Key3) -> Result<ReplayMeta> {
        self.apply(|st, tx| {
            let r = st
                .replays
                .get_mut(key)
                .ok_or_else(|| Error::NotFound(format!("Replay {} does not exist.", key.2)))?;
            if r.state != "STARTING" && r.state != "RUNNING" {
                return Err(Error::IllegalStatus(format!(
                    "Replay {} is not in a valid state for this operation.",
                    key.2
                )));
            }
            r.state = "CANCELLING".into();
            tx.batch.put(keys::REPLAYS, replay_key(r), encode(&*r));
            Ok(r.clone())
        })
        .await
    }

    // ----- tags ----------------------------------------------------------------------------

    /// The tags of a rule or bus ARN.
    pub fn tags(&self, arn: &str) -> Result<BTreeMap<String, String>> {
        if let Some((r, a, bus, rule)) = names::parse_rule_arn(arn) {
            return Ok(self.rule(&(r, a, bus), &rule)?.tags);
        }
        if let Some(key) = names::parse_bus_arn(arn) {
            return Ok(self.describe_bus(&key)?.tags);
        }
        Err(Error::NotFound(format!("Resource {arn} not found.")))
    }

    /// Changes the tags of a rule or bus ARN.
    pub async fn retag(
        &self,
        arn: &str,
        f: impl FnOnce(&mut BTreeMap<String, String>) -> Result<()>,
    ) -> Result<()> {
        if let Some((r, a, bus, rule)) = names::parse_rule_arn(arn) {
            return self
                .update_rule(&(r, a, bus), &rule, |m| f(&mut m.tags))
                .await;
        }
        if let Some(key) = names::parse_bus_arn(arn) {
            return self.update_bus(&key, |m| f(&mut m.tags)).await.map(|_| ());
        }
        Err(Error::NotFound(format!("Resource {arn} not found.")))
    }

    // ----- events ------------------------------------------------------------------------

    /// PutEvents: per entry the event id or the entry's error. Answers after the events'
    /// deliveries and archive copies are committed.
    pub async fn put_events(
        &self,
        ctx: &RequestContext,
        entries: &[EntryIn],
    ) -> Result<Vec<std::result::Result<String, EntryError>>> {
        let now = self.now();
        let ingestion_iso = envelope::iso_seconds(now);
        let _ = &ingestion_iso;
        let results = self
            .apply(|st, tx| {
                let mut out = Vec::with_capacity(entries.len());
                for e in entries {
                    let detail = match envelope::check_entry(e) {
                        Ok(d) => d,
                        Err(err) => {
                            out.push(Err(err));
                            continue;
                        }
                    };
                    let key = Self::bus_key(ctx, e.event_bus_name.as_deref());
                    if key.1 != ctx.account {
                        let policy = st.buses.get(&key).and_then(|b| b.meta.policy.as_ref());
                        if !policy::allows_put_events(policy, &ctx.account) {
                            out.push(Err((
                                "AccessDeniedException",
                                format!(
                                    "User: arn:aws:iam::{}:root is not authorized to perform: \
                                     events:PutEvents on resource: {} because no resource-based \
                                     policy allows the events:PutEvents action",
                                    ctx.account,
                                    names::bus_arn(&key.0, &key.1, &key.2)
                                ),
                            )));
                            continue;
                        }
                    }
                    let id = uuid::Uuid::new_v4().to_string();
                    let time = e.time.unwrap_or(now);
                    let event = envelope::build(NewEvent {
                        id: &id,
                        detail_type: e.detail_type.as_deref().unwrap_or_default(),
                        source: e.source.as_deref().unwrap_or_default(),
                        account: &ctx.account,
                        time,
                        region: &key.0,
                        resources: &e.resources,
                        detail,
                    });
                    let text = event.to_string();
                    let trace = e.trace_header.as_deref().or(ctx.trace_header.as_deref());
                    ingest(
                        st,
                        tx,
                        &key,
                        Incoming {
                            event: &event,
                            text: &text,
                            time,
                            ingested: now,
                            trace,
                            hops: 0,
                            replay: None,
                        },
                    );
                    st.meter.events_published += 1;
                    st.meter.event_chunks +=
                        envelope::entry_size(e).div_ceil(64 * 1024).max(1) as u64;
                    out.push(Ok(id));
                }
                Ok(out)
            })
            .await?;
        Ok(results)
    }

    /// The `events` delivery target: put a forwarded event (or a payload to wrap into one) on
    /// the bus the job names.
    pub async fn deliver_to_bus(&self, job: &Job) -> Outcome {
        let Some(key) = names::parse_bus_arn(&job.target) else {
            return failed(
                FailureKind::Permanent,
                "ValidationException",
                format!("{} is not an event bus ARN.", job.target),
            );
        };
        let now = self.now();
        let body: Value = serde_json::from_str(&job.message.body).unwrap_or(Value::Null);
        let event = if envelope::is_event(&body) {
            body
        } else {
            // A payload from a Lambda destination or similar: wrap it as the detail.
            let ctx = &job.context;
            let account = job
                .source
                .as_deref()
                .and_then(names::arn_account)
                .filter(|a| !a.is_empty())
                .unwrap_or(&key.1)
                .to_owned();
            let detail = match body {
                v @ Value::Object(_) => v,
                Value::Null => json!({}),
                other => json!({"payload": other}),
            };
            let resources: Vec<String> = ctx
                .get("resources")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            envelope::build(NewEvent {
                id: &uuid::Uuid::new_v4().to_string(),
                detail_type: ctx
                    .get("detailType")
                    .and_then(Value::as_str)
                    .unwrap_or("Event"),
                source: ctx.get("source").and_then(Value::as_str).unwrap_or("ponte"),
                account: &account,
                time: now,
                region: &key.0,
                resources: &resources,
                detail,
            })
        };
        let sender = event
            .get("account")
            .and_then(Value::as_str)
            .unwrap_or(&key.1)
            .to_owned();
        let time = event
            .get("time")
            .and_then(Value::as_str)
            .and_then(envelope::parse_iso)
            .unwrap_or(now);
        let text = event.to_string();
        let hops = job
            .context
            .get("hops")
            .and_then(Value::as_u64)
            .map_or(1, |h| h.min(u64::from(MAX_BUS_HOPS)) as u32);
        let res = self
            .apply(|st, tx| {
                let Some(bus) =
                    st.buses.get(&key).map(|b| &b.meta).cloned().or_else(|| {
                        (key.2 == DEFAULT_BUS).then(|| default_bus(&key.0, &key.1, now))
                    })
                else {
                    return Err(Error::bus_not_found(&key.2));
                };
                if sender != key.1 && !policy::allows_put_events(bus.policy.as_ref(), &sender) {
                    return Err(Error::Validation(format!(
                        "Account {sender} is not authorized to put events on {}.",
                        bus.arn()
                    )));
                }
                ingest(
                    st,
                    tx,
                    &key,
                    Incoming {
                        event: &event,
                        text: &text,
                        time,
                        ingested: now,
                        trace: job.trace_header.as_deref(),
                        hops,
                        replay: None,
                    },
                );
                Ok(())
            })
            .await;
        match res {
            Ok(()) => Outcome::Delivered {
                status_code: 200,
                response: None,
                executed_version: None,
            },
            Err(Error::NotFound(m)) => {
                failed(FailureKind::Permanent, "ResourceNotFoundException", m)
            }
            Err(Error::Validation(m)) => failed(FailureKind::Permanent, "AccessDeniedException", m),
            Err(e) => failed(FailureKind::Unavailable, "InternalException", e.to_string()),
        }
    }

    // ----- schedules ---------------------------------------------------------------------------

    /// Fires every scheduled rule that is due at `now`; returns when the next one is due.
    pub(crate) async fn fire_due_schedules(&self, now: Millis) -> Result<Option<Millis>> {
        let clock = self.inner.clock.clone();
        let (next, pending) = self.locked(|st, tx| {
            let mut next_due: Option<Millis> = None;
            let mut meter = std::mem::take(&mut st.meter);
            let ingestion_iso = envelope::iso_seconds(now);
            for bus in st.buses.values_mut() {
                for rule in bus.rules.values_mut() {
                    let Some(schedule) = &rule.schedule else {
                        continue;
                    };
                    if !rule.meta.enabled() {
                        continue;
                    }
                    let interval = match schedule {
                        Schedule::Rate(d) => clock.scaled(*d),
                        Schedule::Cron(_) => Duration::ZERO,
                    };
                    let base = rule.last_fire.unwrap_or(rule.meta.schedule_since);
                    let Some(due) = schedule.next_after(base, interval) else {
                        continue;
                    };
                    let mut upcoming = due;
                    if due <= now {
                        fire_schedule(tx, &mut meter, &rule.meta, now, &ingestion_iso);
                        let last = match schedule {
                            // Missed firings (the server was down) are not made up.
                            Schedule::Rate(_)
                                if now.saturating_sub(due) < interval.as_millis() as Millis =>
                            {
                                due
                            }
                            _ => now,
                        };
                        rule.last_fire = Some(last);
                        tx.batch
                            .put(keys::SCHEDULES, rule_key(&rule.meta), encode(&last));
                        match schedule.next_after(last, interval) {
                            Some(n) => upcoming = n,
                            None => continue,
                        }
                    }
                    next_due = Some(next_due.map_or(upcoming, |n| n.min(upcoming)));
                }
            }
            st.meter = meter;
            Ok(next_due)
        })?;
        pending.done(&self.inner.outbox).await?;
        Ok(next)
    }

    // ----- replays and retention (background) ------------------------------------------------

    /// Runs one replay to its end (called from its task).
    pub(crate) async fn run_replay(&self, key: &Key3) -> Result<()> {
        let (archive_id, start, end, name) = self
            .apply(|st, tx| {
                let r = st
                    .replays
                    .get_mut(key)
                    .ok_or_else(|| Error::NotFound(key.2.clone()))?;
                let archive = names::parse_archive_arn(&r.source_arn)
                    .and_then(|(ar, aa, an)| st.archives.get(&k3(&ar, &aa, &an)));
                let Some(archive) = archive else {
                    r.state = "FAILED".into();
                    r.state_reason = Some("The archive was deleted.".into());
                    tx.batch.put(keys::REPLAYS, replay_key(r), encode(&*r));
                    return Ok(None);
                };
                if r.state == "STARTING" {
                    r.state = "RUNNING".into();
                    tx.batch.put(keys::REPLAYS, replay_key(r), encode(&*r));
                }
                Ok(Some((
                    archive.meta.id,
                    r.event_start,
                    r.event_end,
                    r.name.clone(),
                )))
            })
            .await?
            .map_or((0, 0, 0, String::new()), |v| v);
        if name.is_empty() {
            return Ok(());
        }
        let rows = self
            .inner
            .store
            .scan(keys::ARCHIVED, &archive_id.to_be_bytes())?;
        let mut events = Vec::new();
        for (k, v) in rows {
            let a: Archived = decode(keys::ARCHIVED, &k, &v)?;
            if a.time >= start && a.time < end {
                events.push(a);
            }
        }
        events.sort_by_key(|a| a.time);
        let mut chunks = events.chunks(100).peekable();
        loop {
            let chunk = chunks.next();
            let now = self.now();
            let stop = self
                .apply(|st, tx| {
                    let Some(r) = st.replays.get(key).cloned() else {
                        return Ok(true);
                    };
                    if r.state == "CANCELLING" {
                        let r = st.replays.get_mut(key).map(|r| {
                            r.state = "CANCELLED".into();
                            r.replay_end = Some(now);
                            r.clone()
                        });
                        if let Some(r) = r {
                            tx.batch.put(keys::REPLAYS, replay_key(&r), encode(&r));
                        }
                        return Ok(true);
                    }
                    let dest = r
                        .destination
                        .get("Arn")
                        .and_then(Value::as_str)
                        .and_then(names::parse_bus_arn);
                    let filter = r.filter_arns();
                    let mut last = r.last_replayed;
                    if let (Some(dest), Some(chunk)) = (dest, chunk) {
                        for a in chunk {
                            let ev = with_replay_name(&a.event, &name);
                            let text = ev.to_string();
                            ingest(
                                st,
                                tx,
                                &dest,
                                Incoming {
                                    event: &ev,
                                    text: &text,
                                    time: a.time,
                                    ingested: now,
                                    trace: None,
                                    hops: 0,
                                    replay: Some(&filter),
                                },
                            );
                            last = Some(last.map_or(a.time, |l: Millis| l.max(a.time)));
                        }
                    }
                    let done = chunk.is_none();
                    if let Some(r) = st.replays.get_mut(key) {
                        r.last_replayed = last;
                        if done {
                            r.state = "COMPLETED".into();
                            r.replay_end = Some(now);
                        }
                        tx.batch.put(keys::REPLAYS, replay_key(r), encode(&*r));
                    }
                    Ok(done)
                })
                .await?;
            if stop {
                return Ok(());
            }
        }
    }

    /// Deletes archived events older than their archive's retention.
    pub(crate) async fn sweep_archives(&self, now: Millis) -> Result<()> {
        let archives: Vec<ArchiveMeta> = self.read(|st| {
            st.archives
                .values()
                .filter(|a| a.meta.retention_days > 0)
                .map(|a| a.meta.clone())
                .collect()
        });
        for meta in archives {
            let keep = self.inner.clock.scaled(Duration::from_secs(
                meta.retention_days.saturating_mul(86_400),
            ));
            let cutoff = now.saturating_sub(keep.as_millis() as Millis);
            let rows = self
                .inner
                .store
                .scan(keys::ARCHIVED, &meta.id.to_be_bytes())?;
            let expired: Vec<(Vec<u8>, u64)> = rows
                .into_iter()
                .filter_map(|(k, v)| {
                    let (_, ingested, _) = keys::split_archived_key(&k)?;
                    let size = archived_size(&v);
                    (ingested < cutoff).then_some((k, size))
                })
                .collect();
            if expired.is_empty() {
                continue;
            }
            let key = k3(&meta.region, &meta.account, &meta.name);
            self.apply(|st, tx| {
                let Some(a) = st.archives.get_mut(&key).filter(|a| a.meta.id == meta.id) else {
                    return Ok(());
                };
                for (k, size) in &expired {
                    tx.batch.delete(keys::ARCHIVED, k.clone());
                    a.meta.event_count = a.meta.event_count.saturating_sub(1);
                    a.meta.size_bytes = a.meta.size_bytes.saturating_sub(*size);
                }
                tx.batch
                    .put(keys::ARCHIVES, archive_key(&a.meta), encode(&a.meta));
                Ok(())
            })
            .await?;
        }
        Ok(())
    }

    /// Replays that were running when the process stopped.
    pub(crate) fn unfinished_replays(&self) -> Vec<Key3> {
        self.read(|st| {
            st.replays
                .iter()
                .filter(|(_, r)| matches!(r.state.as_str(), "STARTING" | "RUNNING" | "CANCELLING"))
                .map(|(k, _)| k.clone())
                .collect()
        })
    }
}

/// The event with `replay-name` after `region`, where AWS puts it.
fn with_replay_name(event: &Value, name: &str) -> Value {
    let Value::Object(src) = event else {
        return event.clone();
    };
    let mut out = serde_json::Map::new();
    for (k, v) in src {
        if k == "replay-name" {
            continue;
        }
        out.insert(k.clone(), v.clone());
        if k == "region" {
            out.insert("replay-name".into(), json!(name));
        }
    }
    if !out.contains_key("replay-name") {
        out.insert("replay-name".into(), json!(name));
    }
    Value::Object(out)
}

fn failed(kind: FailureKind, code: &str, message: String) -> Outcome {
    Outcome::Failed(Failure {
        kind,
        status_code: if kind == FailureKind::Permanent {
            400
        } else {
            500
        },
        code: code.to_owned(),
        message,
        response: None,
        executed_version: None,
    })
}

/// The size an archived event counts for (`SizeBytes`): its JSON text.
fn archived_size(row: &[u8]) -> u64 {
    serde_json::from_slice::<Archived>(row)
        .map(|a| a.event.to_string().len() as u64)
        .unwrap_or(row.len() as u64)
}

fn default_bus(region: &str, account: &str, now: Millis) -> BusMeta {
    BusMeta {
        name: DEFAULT_BUS.into(),
        region: region.into(),
        account: account.into(),
        created: now,
        modified: now,
        description: None,
        kms_key: None,
        dead_letter: None,
        log_config: None,
        policy: None,
        event_source: None,
        tags: BTreeMap::new(),
    }
}

fn bus_entry_default<'a>(st: &'a mut State, key: &Key3, now: Millis) -> &'a mut Bus {
    st.buses.entry(key.clone()).or_insert_with(|| Bus {
        meta: default_bus(&key.0, &key.1, now),
        rules: BTreeMap::new(),
    })
}

fn bus_entry<'a>(st: &'a mut State, key: &Key3, now: Millis) -> Result<&'a mut Bus> {
    if key.2 == DEFAULT_BUS {
        return Ok(bus_entry_default(st, key, now));
    }
    st.buses
        .get_mut(key)
        .ok_or_else(|| Error::bus_not_found(&key.2))
}

fn put_bus(b: &mut WriteBatch, meta: &BusMeta) {
    b.put(
        keys::BUSES,
        keys::key(&[&meta.region, &meta.account, &meta.name]),
        encode(meta),
    );
}

fn rule_key(meta: &RuleMeta) -> Vec<u8> {
    keys::key(&[&meta.region, &meta.account, &meta.bus, &meta.name])
}

fn archive_key(meta: &ArchiveMeta) -> Vec<u8> {
    keys::key(&[&meta.region, &meta.account, &meta.name])
}

fn replay_key(meta: &ReplayMeta) -> Vec<u8> {
    keys::key(&[&meta.region, &meta.account, &meta.name])
}

/// Puts one event on a bus: stages a delivery per target of each matching enabled rule, and
/// (unless replayed) archives it in every archive of the bus whose pattern it matches. A bus
/// that does not exist swallows the event, as AWS's PutEvents does.
fn ingest(st: &mut State, tx: &mut Tx<'_>, key: &Key3, inc: Incoming<'_>) {
    let State {
        buses,
        archives,
        seq,
        meter,
        ..
    } = st;
    if inc.replay.is_some() {
        meter.events_replayed += 1;
    } else if inc.hops > 0 {
        meter.events_forwarded_in += 1;
    }
    let bus = buses.get(key);
    if bus.is_none() && key.2 != DEFAULT_BUS {
        return;
    }
    let ingestion_iso = envelope::iso_seconds(inc.ingested);
    for rule in bus.iter().flat_map(|b| b.rules.values()) {
        if !rule.meta.enabled() || rule.meta.targets.is_empty() {
            continue;
        }
        let Some(pattern) = &rule.pattern else {
            continue;
        };
        let arn = rule.meta.arn();
        if let Some(filter) = inc.replay
            && !filter.is_empty()
            && !filter.contains(&arn)
        {
            continue;
        }
        if !pattern.matches_json(inc.text).unwrap_or(false) {
            continue;
        }
        meter.rule_matches += 1;
        let rr = RuleRef {
            arn: &arn,
            name: &rule.meta.name,
        };
        for target in &rule.meta.targets {
            let mut job = jobs::job_for(target, rr, inc.event, inc.text, &ingestion_iso, inc.trace);
            if names::arn_service(&job.target) == Some("events") {
                // Bus-to-bus loops end here rather than circulating forever.
                if inc.hops >= MAX_BUS_HOPS {
                    tracing::warn!(rule = %arn, target = %job.target, "events: event forwarded too many times, not forwarded again");
                    continue;
                }
                job.context["hops"] = json!(inc.hops + 1);
            }
            meter.delivery(&job.target);
            tx.stage(job);
        }
    }
    if inc.replay.is_some() {
        return;
    }
    let bus_arn = names::bus_arn(&key.0, &key.1, &key.2);
    for a in archives.values_mut() {
        if a.meta.source_arn != bus_arn {
            continue;
        }
        if let Some(p) = &a.pattern
            && !p.matches_json(inc.text).unwrap_or(false)
        {
            continue;
        }
        *seq += 1;
        meter.events_archived += 1;
        let row = Archived {
            time: inc.time,
            event: inc.event.clone(),
        };
        tx.batch.put(
            keys::ARCHIVED,
            keys::archived_key(a.meta.id, inc.ingested, *seq),
            encode(&row),
        );
        a.meta.event_count += 1;
        a.meta.size_bytes += inc.text.len() as u64;
        tx.batch
            .put(keys::ARCHIVES, archive_key(&a.meta), encode(&a.meta));
    }
}

/// Stages the scheduled event for each target of `rule`.
fn fire_schedule(
    tx: &mut Tx<'_>,
    meter: &mut MeterSnapshot,
    rule: &RuleMeta,
    now: Millis,
    ingestion_iso: &str,
) {
    let arn = rule.arn();
    let id = uuid::Uuid::new_v4().to_string();
    let event = envelope::build(NewEvent {
        id: &id,
        detail_type: "Scheduled Event",
        source: "aws.events",
        account: &rule.account,
        time: now,
        region: &rule.region,
        resources: std::slice::from_ref(&arn),
        detail: json!({}),
    });
    let text = event.to_string();
    let rr = RuleRef {
        arn: &arn,
        name: &rule.name,
    };
    meter.scheduled_firings += 1;
    for target in &rule.targets {
        let job = jobs::job_for(target, rr, &event, &text, ingestion_iso, None);
        meter.delivery(&job.target);
        tx.stage(job);
    }
}
