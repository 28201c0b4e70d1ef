//! The SNS engine: topics and subscriptions in memory, every change written through the store,
//! every notification staged into the outbox in the same batch as the publish that causes it.
//!
//! # Concurrency and durability
//! All state sits behind one mutex ([`Sns::locked`]). An operation validates, mutates memory,
//! builds one [`WriteBatch`] (its own rows plus the outbox rows of its deliveries) and submits it
//! while holding the lock, then awaits the commit outside the lock and only then releases the
//! staged deliveries and answers. A publish is therefore acknowledged only when its deliveries
//! are durable, and a crash between "accepted" and "delivered" loses nothing.
//!
//! # Time
//! Timestamps shown to users come from [`Clock::now`](ponte_types::Clock::now); the FIFO
//! 5-minute deduplication window is an AWS wait and goes through `deadline_after`, so
//! `--time-scale` shortens it, as it shortens the delivery retries.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use ponte_delivery::{FollowUp, FollowUpFormat, Message, NewJob, Outbox, Policy, Staged};
use ponte_pattern::{Pattern, SnsScope};
use ponte_store::{SharedStore, WriteBatch};
use ponte_types::{Arn, Millis, RequestContext, SharedClock};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::error::{Error, Result, invalid, subscription_not_found, topic_not_found};
use crate::model::attributes::{self, MessageAttributes};
use crate::model::envelope::{self, Confirmation, Notice};
use crate::model::signing::{self, KeyMaterial, MessageSigner, SignatureVersion};
use crate::model::subscription as subs;
use crate::model::time::iso8601_ms;
use crate::model::topic;
use crate::store::{self as keys, encode};
use crate::target;

/// The FIFO deduplication window.
const DEDUP_WINDOW: Duration = Duration::from_secs(300);
/// Largest message (body plus attributes), bytes.
pub const MAX_MESSAGE_BYTES: usize = 262_144;
/// AWS bills publishes in 64 KB chunks.
const BILLING_CHUNK: usize = 65_536;
/// Most tags a topic may carry.
const MAX_TAGS: usize = 50;
/// Records (emails, SMS) kept; older ones are dropped.
const MAX_RECORDS: usize = 10_000;
/// Default base URL until a request shows the real one.
const DEFAULT_BASE_URL: &str = "http://127.0.0.1:4566";

/// Persisted description of a topic.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TopicMeta {
    /// ARN (the key).
    pub arn: String,
    /// Name.
    pub name: String,
    /// Region.
    pub region: String,
    /// Owning account.
    pub account: String,
    /// FIFO topic.
    pub fifo: bool,
    /// Attributes set by the caller (always includes `Policy`).
    pub attributes: BTreeMap<String, String>,
    /// Tags in insertion order.
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    /// Last FIFO sequence number handed out.
    #[serde(default)]
    pub sequence: u64,
    /// Epoch ms.
    pub created: Millis,
}

impl TopicMeta {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str)
    }

    fn signature_version(&self) -> SignatureVersion {
        self.attr("SignatureVersion")
            .and_then(SignatureVersion::parse)
            .unwrap_or(SignatureVersion::V1)
    }
}

/// Persisted description of a subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubMeta {
    /// ARN (the key): `<topic ARN>:<uuid>`.
    pub arn: String,
    /// Topic.
    pub topic_arn: String,
    /// Protocol.
    pub protocol: String,
    /// Endpoint.
    pub endpoint: String,
    /// Account that subscribed.
    pub owner: String,
    /// Settable attributes.
    pub attributes: BTreeMap<String, String>,
    /// Waiting for ConfirmSubscription.
    pub pending: bool,
    /// Confirmed by an authenticated call (or automatically).
    pub authenticated: bool,
    /// Confirmation token.
    #[serde(default)]
    pub token: Option<String>,
}

/// A FIFO deduplication record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dedup {
    /// When the window closes.
    pub expires_at: Millis,
    /// The original message id.
    pub message_id: String,
    /// Its sequence number.
    pub sequence_number: String,
}

/// An email, email-json or SMS message Ponte "sent" (recorded instead of sent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Order of recording.
    pub seq: u64,
    /// Epoch ms.
    pub timestamp: Millis,
    /// `email`, `email-json` or `sms`.
    pub protocol: String,
    /// Address or phone number.
    pub endpoint: String,
    /// `Notification` or `SubscriptionConfirmation`.
    pub kind: String,
    /// Subscription, if sent through one.
    pub subscription_arn: Option<String>,
    /// Topic, if any.
    pub topic_arn: Option<String>,
    /// SNS message id.
    pub message_id: String,
    /// Email subject.
    pub subject: Option<String>,
    /// Text (email), JSON (email-json, confirmations) or the SMS text.
    pub body: String,
}

/// Counters for the meter (AWS billing units) and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MeterSnapshot {
    /// Publish and PublishBatch entries accepted (duplicates included).
    pub publishes: u64,
    /// Billable publish requests: each started 64 KB of a message is one.
    pub publish_chunks: u64,
    /// Notifications staged for delivery, by protocol.
    pub notifications: BTreeMap<String, u64>,
    /// Notifications not sent because a filter policy did not match.
    pub filtered_out: u64,
    /// Notifications to protocols Ponte accepts but does not deliver (application, firehose).
    pub undeliverable: u64,
}

#[derive(Default)]
struct Meter {
    publishes: AtomicU64,
    publish_chunks: AtomicU64,
    filtered_out: AtomicU64,
    undeliverable: AtomicU64,
    notifications: Mutex<BTreeMap<String, u64>>,
}

struct Sub {
    meta: SubMeta,
    filter: Option<Pattern>,
}

#[derive(Default)]
struct State {
    topics: BTreeMap<String, TopicMeta>,
    subs: BTreeMap<String, Sub>,
    tokens: HashMap<String, String>,
    dedup: HashMap<String, Dedup>,
    dedup_inserts: u64,
    records: Vec<Record>,
    next_record: u64,
}

impl State {
    fn topic_subs<'a>(&'a self, topic_arn: &str) -> impl Iterator<Item = &'a Sub> + 'a {
        let prefix = format!("{topic_arn}:");
        self.subs
            .range(prefix.clone()..)
            .take_while(move |(k, _)| k.starts_with(&prefix))
            .map(|(_, s)| s)
    }
}

type SignerState = Option<std::result::Result<Arc<MessageSigner>, String>>;

pub(crate) struct EngineInner {
    store: SharedStore,
    clock: SharedClock,
    outbox: Outbox,
    state: Mutex<State>,
    signer: watch::Receiver<SignerState>,
    base_url: RwLock<String>,
    meter: Meter,
    pub(crate) http: target::HttpClient,
}

/// The SNS engine. Cheap to clone.
#[derive(Clone)]
pub struct Sns {
    inner: Arc<EngineInner>,
}

impl std::fmt::Debug for Sns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sns").finish_non_exhaustive()
    }
}

/// One message to publish, validated.
#[derive(Debug, Clone, Default)]
pub struct PublishInput {
    /// The `Message` parameter as sent.
    pub message: String,
    /// `MessageStructure=json`: the per-protocol messages.
    pub structured: Option<Map<String, Value>>,
    /// Subject.
    pub subject: Option<String>,
    /// Attributes.
    pub attributes: MessageAttributes,
    /// FIFO group.
    pub group_id: Option<String>,
    /// FIFO deduplication id.
    pub dedup_id: Option<String>,
}

impl PublishInput {
    /// Bytes counted against the 256 KB limit.
    pub fn size(&self) -> usize {
        self.message.len() + attributes::size(&self.attributes)
    }

    fn message_for(&self, protocol: &str) -> &str {
        match &self.structured {
            Some(m) => envelope::message_for_protocol(m, protocol),
            None => &self.message,
        }
    }
}

/// What a publish returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// Message id.
    pub message_id: String,
    /// FIFO sequence number.
    pub sequence_number: Option<String>,
}

struct Tx<'a> {
    batch: WriteBatch,
    staged: Vec<Staged>,
    outbox: &'a Outbox,
}

impl Tx<'_> {
    fn stage(&mut self, job: NewJob) {
        let staged = self.outbox.stage(&mut self.batch, job);
        self.staged.push(staged);
    }
}

/// Per-call data a publish needs besides the state.
struct PubCtx<'a> {
    signer: &'a MessageSigner,
    base_url: &'a str,
    now: Millis,
    trace: Option<String>,
}

fn corrupt(table: &str, e: impl std::fmt::Display) -> String {
    format!("sns: corrupt row in {table}: {e}")
}

impl Sns {
    /// Loads every topic, subscription, deduplication record and recorded email from `store`,
    /// registers the `sns` delivery target with `outbox`, and loads (or, at first start,
    /// generates in the background) the signing key.
    pub fn open(store: SharedStore, clock: SharedClock, outbox: Outbox) -> Result<Self, String> {
        let mut st = State::default();
        let now = clock.now();
        for (_, v) in store.scan(keys::TOPICS, b"").map_err(|e| e.to_string())? {
            let meta: TopicMeta =
                serde_json::from_slice(&v).map_err(|e| corrupt(keys::TOPICS, e))?;
            st.topics.insert(meta.arn.clone(), meta);
        }
        for (_, v) in store.scan(keys::SUBS, b"").map_err(|e| e.to_string())? {
            let meta: SubMeta = serde_json::from_slice(&v).map_err(|e| corrupt(keys::SUBS, e))?;
            let filter = meta.attributes.get("FilterPolicy").and_then(|p| {
                let scope =
                    subs::scope(meta.attributes.get("FilterPolicyScope").map(String::as_str));
                subs::compile_filter(p, scope, false).ok().flatten()
            });
            if let Some(t) = &meta.token {
                st.tokens.insert(t.clone(), meta.arn.clone());
            }
            st.subs.insert(meta.arn.clone(), Sub { meta, filter });
        }
        for (k, v) in store.scan(keys::DEDUP, b"").map_err(|e| e.to_string())? {
            let d: Dedup = serde_json::from_slice(&v).map_err(|e| corrupt(keys::DEDUP, e))?;
            if d.expires_at > now {
                st.dedup.insert(String::from_utf8_lossy(&k).into_owned(), d);
            }
        }
        for (_, v) in store.scan(keys::RECORDS, b"").map_err(|e| e.to_string())? {
            let r: Record = serde_json::from_slice(&v).map_err(|e| corrupt(keys::RECORDS, e))?;
            st.next_record = st.next_record.max(r.seq + 1);
            st.records.push(r);
        }
        let key = store
            .get(keys::KEYS, keys::SIGNING_KEY)
            .map_err(|e| e.to_string())?
            .map(|v| serde_json::from_slice::<KeyMaterial>(&v))
            .transpose()
            .map_err(|e| corrupt(keys::KEYS, e))?;
        let (signer_tx, signer_rx) = watch::channel(None);
        match key {
            Some(material) => {
                let signer = MessageSigner::from_material(material)?;
                signer_tx.send_replace(Some(Ok(Arc::new(signer))));
            }
            None => spawn_key_generation(store.clone(), clock.now(), signer_tx),
        }
        let inner = Arc::new(EngineInner {
            store,
            clock,
            outbox: outbox.clone(),
            state: Mutex::new(st),
            signer: signer_rx,
            base_url: RwLock::new(DEFAULT_BASE_URL.to_owned()),
            meter: Meter::default(),
            http: target::HttpClient::new(),
        });
        let weak: Weak<EngineInner> = Arc::downgrade(&inner);
        outbox.register("sns", Arc::new(target::SnsTarget::new(weak)));
        Ok(Sns { inner })
    }

    pub(crate) fn from_inner(inner: Arc<EngineInner>) -> Sns {
        Sns { inner }
    }

    /// One operation with its input decoded by the query codec (awsJson-shaped); the
    /// awsJson-shaped output (encoded to XML by the caller) or AWS's error.
    pub async fn call(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: serde_json::Value,
    ) -> Result<serde_json::Value, ponte_protocol::error::AwsError> {
        self.note_base_url(&ctx.base_url);
        crate::ops::call(self, ctx, operation, &input)
            .await
            .map_err(|e| {
                if matches!(e, Error::Internal(_)) {
                    tracing::error!(error = %e, "sns internal error");
                }
                e.to_aws()
            })
    }

    fn note_base_url(&self, base_url: &str) {
        if base_url.is_empty() {
            return;
        }
        if *self.inner.base_url.read() != base_url {
            *self.inner.base_url.write() = base_url.to_owned();
        }
    }

    /// The base URL notifications point back at (`SigningCertURL`, `UnsubscribeURL`): the one
    /// the latest request reached the server at.
    pub fn base_url(&self) -> String {
        self.inner.base_url.read().clone()
    }

    /// Sets the base URL before any request arrived (the server knows its address).
    pub fn set_base_url(&self, base_url: &str) {
        self.note_base_url(base_url);
    }

    /// The signing certificate (PEM) and its file name
    /// (`SimpleNotificationService-<id>.pem`), once the key exists.
    pub fn signing_cert(&self) -> Option<(String, String)> {
        match &*self.inner.signer.borrow() {
            Some(Ok(s)) => Some((signing::cert_file_name(s.id()), s.cert_pem().to_owned())),
            _ => None,
        }
    }

    /// The certificate PEM if `file_name` is its file name (what the server answers on
    /// `GET /_ponte/sns/<file_name>`).
    pub async fn signing_cert_pem(&self, file_name: &str) -> Option<String> {
        let signer = self.signer().await.ok()?;
        (signing::cert_file_name(signer.id()) == file_name).then(|| signer.cert_pem().to_owned())
    }

    /// Emails, email-json messages and SMS recorded so far (oldest first), optionally only
    /// those to `endpoint`.
    pub fn sent_messages(&self, endpoint: Option<&str>) -> Vec<Record> {
        let st = self.inner.state.lock();
        st.records
            .iter()
            .filter(|r| endpoint.is_none_or(|e| r.endpoint == e))
            .cloned()
            .collect()
    }

    /// Meter counters.
    pub fn meter(&self) -> MeterSnapshot {
        let m = &self.inner.meter;
        MeterSnapshot {
            publishes: m.publishes.load(Ordering::Relaxed),
            publish_chunks: m.publish_chunks.load(Ordering::Relaxed),
            notifications: m.notifications.lock().clone(),
            filtered_out: m.filtered_out.load(Ordering::Relaxed),
            undeliverable: m.undeliverable.load(Ordering::Relaxed),
        }
    }

    /// Waits for the signing key (only slow right after the first start of a data dir).
    pub(crate) async fn signer(&self) -> Result<Arc<MessageSigner>> {
        let mut rx = self.inner.signer.clone();
        let state = rx
            .wait_for(Option::is_some)
            .await
            .map_err(|_| Error::Internal("the signing key is not available".into()))?;
        match &*state {
            Some(Ok(s)) => Ok(s.clone()),
            Some(Err(e)) => Err(Error::Internal(format!("no signing key: {e}"))),
            None => Err(Error::Internal("the signing key is not available".into())),
        }
    }

    /// Validates, mutates and stages under the lock; commits outside it; releases the staged
    /// deliveries once durable.
    async fn locked<T>(&self, f: impl FnOnce(&mut State, &mut Tx<'_>) -> Result<T>) -> Result<T> {
        let (out, commit, staged) = {
            let mut st = self.inner.state.lock();
            let mut tx = Tx {
                batch: WriteBatch::new(),
                staged: Vec::new(),
                outbox: &self.inner.outbox,
            };
            let out = f(&mut st, &mut tx)?;
            let commit = (!tx.batch.is_empty()).then(|| self.inner.store.commit(tx.batch));
            (out, commit, tx.staged)
        };
        if let Some(c) = commit {
            c.await?;
        }
        if !staged.is_empty() {
            self.inner.outbox.release(staged);
        }
        Ok(out)
    }

    // ---------------------------------------------------------------------------- topics

    /// CreateTopic (idempotent for the same attributes and tags).
    pub async fn create_topic(
        &self,
        ctx: &RequestContext,
        name: &str,
        attrs: &[(String, String)],
        tags: &[(String, String)],
    ) -> Result<String> {
        let fifo_requested = attrs
            .iter()
            .any(|(k, v)| k == "FifoTopic" && v.eq_ignore_ascii_case("true"));
        topic::check_name(name, fifo_requested)?;
        let arn = Arn::new("sns", &ctx.region, &ctx.account, name).to_string();
        check_tags(tags)?;
        let mut set = BTreeMap::new();
        for (k, v) in attrs {
            if k == "FifoTopic" {
                if !v.eq_ignore_ascii_case("true") && !v.eq_ignore_ascii_case("false") {
                    return Err(invalid("Attributes Reason: FifoTopic"));
                }
                continue;
            }
            if !topic::SETTABLE.contains(&k.as_str()) && !topic::is_feedback_attribute(k) {
                return Err(invalid(format!("Attributes Reason: Unknown attribute {k}")));
            }
            topic::check_attribute(k, v, fifo_requested)?;
            set.insert(k.clone(), v.clone());
        }
        let now = self.inner.clock.now();
        let account = ctx.account.clone();
        let region = ctx.region.clone();
        let name = name.to_owned();
        let tags = tags.to_vec();
        self.locked(move |st, tx| {
            if let Some(existing) = st.topics.get(&arn) {
                for (k, v) in &set {
                    if existing.attr(k) != Some(v.as_str()) {
                        return Err(invalid(
                            "Attributes Reason: Topic already exists with different attributes",
                        ));
                    }
                }
                if existing.fifo != fifo_requested && attrs.iter().any(|(k, _)| k == "FifoTopic") {
                    return Err(invalid(
                        "Attributes Reason: Topic already exists with different attributes",
                    ));
                }
                if tags.iter().any(|t| !existing.tags.contains(t)) {
                    return Err(invalid(
                        "Tags Reason: Topic already exists with different tags",
                    ));
                }
                return Ok(arn);
            }
            set.entry("Policy".into())
                .or_insert_with(|| topic::default_policy(&arn, &account));
            let meta = TopicMeta {
                arn: arn.clone(),
                name,
                region,
                account,
                fifo: fifo_requested,
                attributes: set,
                tags,
                sequence: 0,
                created: now,
            };
            tx.batch
                .put(keys::TOPICS, arn.as_bytes().to_vec(), encode(&meta));
            st.topics.insert(arn.clone(), meta);
            Ok(arn)
        })
        .await
    }

    /// DeleteTopic: the topic and its subscriptions go (idempotent).
    pub async fn delete_topic(&self, ctx: &RequestContext, arn: &str) -> Result<()> {
        parse_topic_arn(arn, "TopicArn")?;
        check_region(ctx, arn)?;
        let arn = arn.to_owned();
        self.locked(move |st, tx| {
            if st.topics.remove(&arn).is_none() {
                return Ok(());
            }
            tx.batch.delete(keys::TOPICS, arn.as_bytes().to_vec());
            let prefix = format!("{arn}:");
            let gone: Vec<String> = st.topic_subs(&arn).map(|s| s.meta.arn.clone()).collect();
            for s in gone {
                if let Some(sub) = st.subs.remove(&s)
                    && let Some(t) = sub.meta.token
                {
                    st.tokens.remove(&t);
                }
            }
            tx.batch.delete_prefix(keys::SUBS, prefix.into_bytes());
            let dedup_prefix = format!("{arn}\n");
            st.dedup.retain(|k, _| !k.starts_with(&dedup_prefix));
            tx.batch
                .delete_prefix(keys::DEDUP, dedup_prefix.into_bytes());
            Ok(())
        })
        .await
    }

    /// Topic ARNs of the caller's account and region, in ARN order.
    pub fn list_topics(&self, ctx: &RequestContext) -> Vec<String> {
        let prefix = format!("arn:aws:sns:{}:{}:", ctx.region, ctx.account);
        let st = self.inner.state.lock();
        st.topics
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// GetTopicAttributes.
    pub fn get_topic_attributes(
        &self,
        ctx: &RequestContext,
        arn: &str,
    ) -> Result<BTreeMap<String, String>> {
        parse_topic_arn(arn, "TopicArn")?;
        check_region(ctx, arn)?;
        let st = self.inner.state.lock();
        let t = st.topics.get(arn).ok_or_else(topic_not_found)?;
        let mut out = BTreeMap::new();
        for (k, v) in &t.attributes {
            out.insert(k.clone(), v.clone());
        }
        out.entry("DisplayName".into()).or_insert_with(String::new);
        out.insert("Owner".into(), t.account.clone());
        out.insert("TopicArn".into(), t.arn.clone());
        let (mut confirmed, mut pending) = (0, 0);
        for s in st.topic_subs(arn) {
            if s.meta.pending {
                pending += 1;
            } else {
                confirmed += 1;
            }
        }
        out.insert("SubscriptionsConfirmed".into(), confirmed.to_string());
        out.insert("SubscriptionsPending".into(), pending.to_string());
        out.insert("SubscriptionsDeleted".into(), "0".into());
        out.insert(
            "EffectiveDeliveryPolicy".into(),
            topic::effective_topic_policy(t.attr("DeliveryPolicy")),
        );
        if t.fifo {
            out.insert("FifoTopic".into(), "true".into());
            out.entry("ContentBasedDeduplication".into())
                .or_insert_with(|| "false".into());
        }
        Ok(out)
    }

    /// SetTopicAttributes.
    pub async fn set_topic_attribute(
        &self,
        ctx: &RequestContext,
        arn: &str,
        name: &str,
        value: &str,
    ) -> Result<()> {
        parse_topic_arn(arn, "TopicArn")?;
        check_region(ctx, arn)?;
        if !topic::SETTABLE.contains(&name) && !topic::is_feedback_attribute(name) {
            return Err(invalid("AttributeName"));
        }
        let (arn, name, value) = (arn.to_owned(), name.to_owned(), value.to_owned());
        self.locked(move |st, tx| {
            let t = st.topics.get_mut(&arn).ok_or_else(topic_not_found)?;
            topic::check_attribute(&name, &value, t.fifo)?;
            let clears = value.is_empty()
                && matches!(
                    name.as_str(),
                    "DeliveryPolicy" | "KmsMasterKeyId" | "ArchivePolicy" | "DataProtectionPolicy"
                );
            if clears {
                t.attributes.remove(&name);
            } else if name == "Policy" && value.is_empty() {
                let default = topic::default_policy(&t.arn, &t.account);
                t.attributes.insert(name, default);
            } else {
                t.attributes.insert(name, value);
            }
            tx.batch
                .put(keys::TOPICS, arn.as_bytes().to_vec(), encode(&*t));
            Ok(())
        })
        .await
    }

    /// TagResource.
    pub async fn tag_resource(&self, arn: &str, tags: &[(String, String)]) -> Result<()> {
        check_tags(tags)?;
        let (arn, tags) = (arn.to_owned(), tags.to_vec());
        self.locked(move |st, tx| {
            let t = st.topics.get_mut(&arn).ok_or_else(resource_not_found)?;
            let mut merged = t.tags.clone();
            for (k, v) in tags {
                match merged.iter_mut().find(|(ek, _)| *ek == k) {
                    Some(slot) => slot.1 = v,
                    None => merged.push((k, v)),
                }
            }
            if merged.len() > MAX_TAGS {
                return Err(Error::TagLimitExceeded(
                    "Could not complete request: tag quota of per resource exceeded".into(),
                ));
            }
            t.tags = merged;
            tx.batch
                .put(keys::TOPICS, arn.as_bytes().to_vec(), encode(&*t));
            Ok(())
        })
        .await
    }

    /// UntagResource.
    pub async fn untag_resource(&self, arn: &str, keys_: &[String]) -> Result<()> {
        let (arn, keys_) = (arn.to_owned(), keys_.to_vec());
        self.locked(move |st, tx| {
            let t = st.topics.get_mut(&arn).ok_or_else(resource_not_found)?;
            t.tags.retain(|(k, _)| !keys_.contains(k));
            tx.batch
                .put(keys::TOPICS, arn.as_bytes().to_vec(), encode(&*t));
            Ok(())
        })
        .await
    }

    /// ListTagsForResource.
    pub fn list_tags(&self, arn: &str) -> Result<Vec<(String, String)>> {
        let st = self.inner.state.lock();
        let t = st.topics.get(arn).ok_or_else(resource_not_found)?;
        Ok(t.tags.clone())
    }

    /// AddPermission: a statement in the topic's `Policy` (stored, not enforced).
    pub async fn add_permission(
        &self,
        ctx: &RequestContext,
        arn: &str,
        label: &str,
        accounts: &[String],
        actions: &[String],
    ) -> Result<()> {
        parse_topic_arn(arn, "TopicArn")?;
        check_region(ctx, arn)?;
        if actions
            .iter()
            .any(|a| !topic::POLICY_ACTIONS.contains(&a.as_str()))
        {
            return Err(invalid("Policy statement action out of service scope!"));
        }
        let principals: Vec<String> = accounts
            .iter()
            .map(|a| format!("arn:aws:iam::{a}:root"))
            .collect();
        let actions: Vec<String> = actions.iter().map(|a| format!("SNS:{a}")).collect();
        let one_or_many = |v: Vec<String>| {
            if v.len() == 1 { json!(v[0]) } else { json!(v) }
        };
        let statement = json!({
            "Sid": label,
            "Effect": "Allow",
            "Principal": {"AWS": one_or_many(principals)},
            "Action": one_or_many(actions),
            "Resource": arn,
        });
        let (arn, label) = (arn.to_owned(), label.to_owned());
        self.locked(move |st, tx| {
            let t = st.topics.get_mut(&arn).ok_or_else(topic_not_found)?;
            let mut policy: Value = t
                .attr("Policy")
                .and_then(|p| serde_json::from_str(p).ok())
                .unwrap_or_else(|| json!({"Version": "2008-10-17", "Statement": []}));
            let statements = policy
                .get_mut("Statement")
                .and_then(Value::as_array_mut)
                .ok_or_else(|| invalid("Policy"))?;
            if statements.iter().any(|s| s["Sid"] == json!(label)) {
                return Err(invalid("Statement already exists"));
            }
            statements.push(statement);
            t.attributes.insert("Policy".into(), policy.to_string());
            tx.batch
                .put(keys::TOPICS, arn.as_bytes().to_vec(), encode(&*t));
            Ok(())
        })
        .await
    }

    /// RemovePermission.
    pub async fn remove_permission(
        &self,
        ctx: &RequestContext,
        arn: &str,
        label: &str,
    ) -> Result<()> {
        parse_topic_arn(arn, "TopicArn")?;
        check_region(ctx, arn)?;
        let (arn, label) = (arn.to_owned(), label.to_owned());
        self.locked(move |st, tx| {
            let t = st.topics.get_mut(&arn).ok_or_else(topic_not_found)?;
            let mut policy: Value = t
                .attr("Policy")
                .and_then(|p| serde_json::from_str(p).ok())
                .unwrap_or(Value::Null);
            if let Some(statements) = policy.get_mut("Statement").and_then(Value::as_array_mut) {
                statements.retain(|s| s["Sid"] != json!(label));
                t.attributes.insert("Policy".into(), policy.to_string());
                tx.batch
                    .put(keys::TOPICS, arn.as_bytes().to_vec(), encode(&*t));
            }
            Ok(())
        })
        .await
    }

    // ---------------------------------------------------------------------- subscriptions

    /// Subscribe. Returns the subscription ARN, or `pending confirmation` for subscriptions
    /// that wait for their endpoint's confirmation unless `return_arn`.
    pub async fn subscribe(
        &self,
        ctx: &RequestContext,
        topic_arn: &str,
        protocol: &str,
        endpoint: &str,
        attrs: &[(String, String)],
        return_arn: bool,
    ) -> Result<String> {
        parse_topic_arn(topic_arn, "TopicArn")?;
        check_region(ctx, topic_arn)?;
        let topic_fifo = {
            let st = self.inner.state.lock();
            st.topics.get(topic_arn).ok_or_else(topic_not_found)?.fifo
        };
        if endpoint.is_empty() {
            return Err(invalid("Endpoint"));
        }
        subs::check_endpoint(protocol, endpoint, topic_fifo)?;
        let mut set = BTreeMap::new();
        for (k, v) in attrs {
            let v = subs::check_attribute(k, v, protocol, topic_fifo, endpoint, true)?;
            set.insert(k.clone(), v);
        }
        let scope = subs::scope(set.get("FilterPolicyScope").map(String::as_str));
        let filter = match set.get("FilterPolicy") {
            Some(p) => subs::compile_filter(p, scope, true)?,
            None => None,
        };
        let pending = subs::needs_confirmation(protocol);
        let signer = if pending {
            Some(self.signer().await?)
        } else {
            None
        };
        let base_url = self.base_url();
        let now = self.inner.clock.now();
        let trace = Some(trace_of(ctx, self.inner.clock.now()));
        let owner = ctx.account.clone();
        let (topic_arn, protocol, endpoint) = (
            topic_arn.to_owned(),
            protocol.to_owned(),
            endpoint.to_owned(),
        );
        let meter = &self.inner.meter;
        self.locked(move |st, tx| {
            let t = st.topics.get(&topic_arn).ok_or_else(topic_not_found)?;
            let existing = st
                .topic_subs(&topic_arn)
                .find(|s| s.meta.protocol == protocol && s.meta.endpoint == endpoint);
            if let Some(s) = existing {
                for (k, v) in &set {
                    if s.meta.attributes.get(k) != Some(v) {
                        return Err(invalid(
                            "Attributes Reason: Subscription already exists with different \
                             attributes",
                        ));
                    }
                }
                return Ok(if s.meta.pending && !return_arn {
                    "pending confirmation".to_owned()
                } else {
                    s.meta.arn.clone()
                });
            }
            let arn = format!("{topic_arn}:{}", uuid::Uuid::new_v4());
            let token = pending.then(new_token);
            let meta = SubMeta {
                arn: arn.clone(),
                topic_arn: topic_arn.clone(),
                protocol: protocol.clone(),
                endpoint: endpoint.clone(),
                owner,
                attributes: set,
                pending,
                authenticated: !pending,
                token: token.clone(),
            };
            if let (Some(token), Some(signer)) = (&token, &signer) {
                let job = confirmation_job(t, &meta, token, signer, &base_url, now, trace);
                count(meter, &protocol);
                tx.stage(job);
            }
            tx.batch
                .put(keys::SUBS, arn.as_bytes().to_vec(), encode(&meta));
            if let Some(token) = token {
                st.tokens.insert(token, arn.clone());
            }
            st.subs.insert(arn.clone(), Sub { meta, filter });
            Ok(if pending && !return_arn {
                "pending confirmation".to_owned()
            } else {
                arn
            })
        })
        .await
    }

    /// ConfirmSubscription. `authenticated` = the call was signed.
    pub async fn confirm_subscription(
        &self,
        topic_arn: &str,
        token: &str,
        authenticated: bool,
    ) -> Result<String> {
        if Arn::parse(topic_arn).is_none() {
            return Err(invalid("Topic"));
        }
        let (topic_arn, token) = (topic_arn.to_owned(), token.to_owned());
        self.locked(move |st, tx| {
            if !st.topics.contains_key(&topic_arn) {
                return Err(topic_not_found());
            }
            let arn = st
                .tokens
                .get(&token)
                .cloned()
                .ok_or_else(|| invalid("Token"))?;
            let sub = st.subs.get_mut(&arn).ok_or_else(|| invalid("Token"))?;
            if sub.meta.topic_arn != topic_arn {
                return Err(invalid("Token"));
            }
            if sub.meta.pending {
                sub.meta.pending = false;
                sub.meta.authenticated = authenticated;
                tx.batch
                    .put(keys::SUBS, arn.as_bytes().to_vec(), encode(&sub.meta));
            }
            Ok(arn)
        })
        .await
    }

    /// Unsubscribe (idempotent).
    pub async fn unsubscribe(&self, arn: &str) -> Result<()> {
        parse_subscription_arn(arn)?;
        let arn = arn.to_owned();
        self.locked(move |st, tx| {
            if let Some(sub) = st.subs.remove(&arn) {
                if let Some(t) = sub.meta.token {
                    st.tokens.remove(&t);
                }
                tx.batch.delete(keys::SUBS, arn.as_bytes().to_vec());
            }
            Ok(())
        })
        .await
    }

    /// ListSubscriptions (caller's account and region) or ListSubscriptionsByTopic.
    pub fn list_subscriptions(
        &self,
        ctx: &RequestContext,
        topic_arn: Option<&str>,
    ) -> Result<Vec<SubMeta>> {
        let st = self.inner.state.lock();
        let prefix = match topic_arn {
            Some(t) => {
                parse_topic_arn(t, "TopicArn")?;
                check_region(ctx, t)?;
                if !st.topics.contains_key(t) {
                    return Err(topic_not_found());
                }
                format!("{t}:")
            }
            None => format!("arn:aws:sns:{}:{}:", ctx.region, ctx.account),
        };
        Ok(st
            .subs
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(_, s)| s.meta.clone())
            .collect())
    }

    /// GetSubscriptionAttributes.
    pub fn get_subscription_attributes(&self, arn: &str) -> Result<BTreeMap<String, String>> {
        parse_subscription_arn(arn)?;
        let st = self.inner.state.lock();
        let s = st.subs.get(arn).ok_or_else(subscription_not_found)?;
        let m = &s.meta;
        let mut out = m.attributes.clone();
        if out.get("FilterPolicy").is_none_or(|p| p.is_empty()) {
            out.remove("FilterPolicy");
            out.remove("FilterPolicyScope");
        } else {
            out.entry("FilterPolicyScope".into())
                .or_insert_with(|| "MessageAttributes".into());
        }
        out.insert("SubscriptionArn".into(), m.arn.clone());
        out.insert("TopicArn".into(), m.topic_arn.clone());
        out.insert("Protocol".into(), m.protocol.clone());
        out.insert("Endpoint".into(), m.endpoint.clone());
        out.insert("Owner".into(), m.owner.clone());
        out.insert("PendingConfirmation".into(), m.pending.to_string());
        out.insert(
            "ConfirmationWasAuthenticated".into(),
            m.authenticated.to_string(),
        );
        out.entry("RawMessageDelivery".into())
            .or_insert_with(|| "false".into());
        out.insert(
            "SubscriptionPrincipal".into(),
            format!("arn:aws:iam::{}:root", m.owner),
        );
        if matches!(m.protocol.as_str(), "http" | "https") {
            let topic_policy = st
                .topics
                .get(&m.topic_arn)
                .and_then(|t| t.attr("DeliveryPolicy"));
            out.insert(
                "EffectiveDeliveryPolicy".into(),
                topic::effective_subscription_policy(
                    topic_policy,
                    m.attributes.get("DeliveryPolicy").map(String::as_str),
                ),
            );
        }
        Ok(out)
    }

    /// SetSubscriptionAttributes.
    pub async fn set_subscription_attribute(
        &self,
        arn: &str,
        name: &str,
        value: &str,
    ) -> Result<()> {
        parse_subscription_arn(arn)?;
        let (arn, name, value) = (arn.to_owned(), name.to_owned(), value.to_owned());
        self.locked(move |st, tx| {
            let fifo = {
                let s = st.subs.get(&arn).ok_or_else(subscription_not_found)?;
                st.topics.get(&s.meta.topic_arn).is_some_and(|t| t.fifo)
            };
            let s = st.subs.get_mut(&arn).ok_or_else(subscription_not_found)?;
            let value = subs::check_attribute(
                &name,
                &value,
                &s.meta.protocol,
                fifo,
                &s.meta.endpoint,
                false,
            )?;
            let mut attributes = s.meta.attributes.clone();
            if value.is_empty() && name != "FilterPolicyScope" {
                attributes.remove(&name);
            } else {
                attributes.insert(name.clone(), value);
            }
            let scope = subs::scope(attributes.get("FilterPolicyScope").map(String::as_str));
            let filter = match attributes.get("FilterPolicy") {
                Some(p) => subs::compile_filter(p, scope, false)?,
                None => None,
            };
            s.meta.attributes = attributes;
            s.filter = filter;
            tx.batch
                .put(keys::SUBS, arn.as_bytes().to_vec(), encode(&s.meta));
            Ok(())
        })
        .await
    }

    // ---------------------------------------------------------------------------- publish

    /// Publish one message to a topic: every confirmed subscription whose filter policy
    /// matches gets one delivery, staged in the same commit.
    pub async fn publish(
        &self,
        ctx: &RequestContext,
        topic_arn: &str,
        input: PublishInput,
    ) -> Result<Published> {
        check_region(ctx, topic_arn)?;
        let signer = self.signer().await?;
        let base_url = self.base_url();
        let pc = PubCtx {
            signer: &signer,
            base_url: &base_url,
            now: self.inner.clock.now(),
            trace: Some(trace_of(ctx, self.inner.clock.now())),
        };
        let inner = &self.inner;
        let topic_arn = topic_arn.to_owned();
        self.locked(move |st, tx| publish_locked(inner, st, tx, &topic_arn, &input, &pc))
            .await
    }

    /// PublishBatch: entries already validated individually; `Err` entries are reported as
    /// failed, the rest are published in one commit.
    pub async fn publish_batch(
        &self,
        ctx: &RequestContext,
        topic_arn: &str,
        entries: Vec<(String, Result<PublishInput>)>,
    ) -> Result<Vec<(String, Result<Published>)>> {
        check_region(ctx, topic_arn)?;
        let signer = self.signer().await?;
        let base_url = self.base_url();
        let pc = PubCtx {
            signer: &signer,
            base_url: &base_url,
            now: self.inner.clock.now(),
            trace: Some(trace_of(ctx, self.inner.clock.now())),
        };
        let inner = &self.inner;
        let topic_arn = topic_arn.to_owned();
        self.locked(move |st, tx| {
            let fifo = st.topics.get(&topic_arn).ok_or_else(topic_not_found)?.fifo;
            if fifo {
                // AWS refuses the whole batch, before publishing anything.
                check_fifo_entries(st, &topic_arn, &entries)?;
            }
            let mut out = Vec::with_capacity(entries.len());
            for (id, entry) in entries {
                let r = match entry {
                    Ok(input) => publish_locked(inner, st, tx, &topic_arn, &input, &pc),
                    Err(e) => Err(e),
                };
                out.push((id, r));
            }
            Ok(out)
        })
        .await
    }

    /// Publishes a message handed over by the delivery mechanism (a Lambda destination, an
    /// EventBridge target) to the topic `topic_arn`.
    pub(crate) async fn publish_internal(
        &self,
        topic_arn: &str,
        message: &Message,
        trace: Option<String>,
    ) -> Result<Published> {
        if message.body.is_empty() {
            return Err(invalid("Empty message"));
        }
        let input = PublishInput {
            message: message.body.clone(),
            structured: None,
            subject: message.subject.clone(),
            attributes: attributes::from_delivery(&message.attributes),
            group_id: message.group_id.clone(),
            dedup_id: message.dedup_id.clone(),
        };
        if input.size() > MAX_MESSAGE_BYTES {
            return Err(invalid("Message too long"));
        }
        let signer = self.signer().await?;
        let base_url = self.base_url();
        let pc = PubCtx {
            signer: &signer,
            base_url: &base_url,
            now: self.inner.clock.now(),
            trace,
        };
        let inner = &self.inner;
        let topic_arn = topic_arn.to_owned();
        self.locked(move |st, tx| publish_locked(inner, st, tx, &topic_arn, &input, &pc))
            .await
    }

    /// Records an email, email-json or SMS message (the delivery target of those protocols,
    /// and Publish to a phone number).
    pub(crate) async fn record(&self, mut record: Record) -> Result<()> {
        record.timestamp = self.inner.clock.now();
        self.locked(move |st, tx| {
            record.seq = st.next_record;
            st.next_record += 1;
            tx.batch.put(
                keys::RECORDS,
                record.seq.to_be_bytes().to_vec(),
                encode(&record),
            );
            st.records.push(record);
            if st.records.len() > MAX_RECORDS {
                let drop = st.records.len() - MAX_RECORDS;
                for r in st.records.drain(..drop) {
                    tx.batch.delete(keys::RECORDS, r.seq.to_be_bytes().to_vec());
                }
            }
            Ok(())
        })
        .await
    }

    /// Publish to a phone number: validated and recorded (Ponte sends no SMS).
    pub async fn publish_sms(&self, phone: &str, input: &PublishInput) -> Result<Published> {
        let digits = phone.strip_prefix('+').unwrap_or(phone);
        if !phone.starts_with('+')
            || !(2..=15).contains(&digits.len())
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(invalid(format!(
                "PhoneNumber Reason: {phone} is not valid to publish to"
            )));
        }
        let message_id = uuid::Uuid::new_v4().to_string();
        self.count_publish(input.size());
        count(&self.inner.meter, "sms");
        self.record(Record {
            seq: 0,
            timestamp: 0,
            protocol: "sms".into(),
            endpoint: phone.to_owned(),
            kind: "Notification".into(),
            subscription_arn: None,
            topic_arn: None,
            message_id: message_id.clone(),
            subject: None,
            body: input.message_for("sms").to_owned(),
        })
        .await?;
        Ok(Published {
            message_id,
            sequence_number: None,
        })
    }

    fn count_publish(&self, size: usize) {
        count_publish(&self.inner.meter, size);
    }

    /// Whether a subscription exists (the HTTP target stops delivering to deleted ones).
    pub(crate) fn subscription_exists(&self, arn: &str) -> bool {
        self.inner.state.lock().subs.contains_key(arn)
    }
}

fn count_publish(meter: &Meter, size: usize) {
    meter.publishes.fetch_add(1, Ordering::Relaxed);
    let chunks = size.div_ceil(BILLING_CHUNK).max(1) as u64;
    meter.publish_chunks.fetch_add(chunks, Ordering::Relaxed);
}

fn count(meter: &Meter, protocol: &str) {
    *meter
        .notifications
        .lock()
        .entry(protocol.to_owned())
        .or_default() += 1;
}

/// The trace header deliveries carry: the caller's, or a new root (every request is traced).
fn trace_of(ctx: &RequestContext, now: Millis) -> String {
    ponte_types::TraceHeader::parse_or_new(ctx.trace_header.as_deref(), now).to_string()
}

fn resource_not_found() -> Error {
    Error::NotFound("Resource does not exist".into())
}

fn new_token() -> String {
    // AWS's tokens are long hex strings; 128 random hex digits.
    (0..4)
        .map(|_| uuid::Uuid::new_v4().simple().to_string())
        .collect()
}

fn check_tags(tags: &[(String, String)]) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for (k, _) in tags {
        if !seen.insert(k.as_str()) {
            return Err(invalid("Duplicated keys are not allowed."));
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(Error::TagLimitExceeded(
            "Could not complete request: tag quota of per resource exceeded".into(),
        ));
    }
    Ok(())
}

/// `Invalid parameter: {param} Reason: An ARN must have at least 6 elements, not N`.
pub fn parse_topic_arn(arn: &str, param: &str) -> Result<Arn> {
    let parts = arn.split(':').count();
    match Arn::parse(arn) {
        Some(a) if parts >= 6 => Ok(a),
        _ => Err(invalid(format!(
            "{param} Reason: An ARN must have at least 6 elements, not {parts}"
        ))),
    }
}

fn parse_subscription_arn(arn: &str) -> Result<Arn> {
    let parsed = parse_topic_arn(arn, "SubscriptionArn")?;
    if arn.split(':').count() < 7 {
        return Err(invalid("SubscriptionId"));
    }
    Ok(parsed)
}

/// SNS refuses a topic ARN of another region than the request's.
fn check_region(ctx: &RequestContext, arn: &str) -> Result<()> {
    match Arn::parse(arn) {
        Some(a) if a.region == ctx.region => Ok(()),
        Some(_) => Err(invalid("TopicArn")),
        None => Err(invalid("TopicArn")),
    }
}

fn check_fifo_entries(
    st: &State,
    topic_arn: &str,
    entries: &[(String, Result<PublishInput>)],
) -> Result<()> {
    let t = st.topics.get(topic_arn).ok_or_else(topic_not_found)?;
    let cbd = t.attr("ContentBasedDeduplication") == Some("true");
    for (_, e) in entries {
        if let Ok(input) = e {
            if input.group_id.is_none() {
                return Err(invalid(
                    "The MessageGroupId parameter is required for FIFO topics",
                ));
            }
            if input.dedup_id.is_none() && !cbd {
                return Err(invalid(
                    "The topic should either have ContentBasedDeduplication enabled or \
                     MessageDeduplicationId provided explicitly",
                ));
            }
        }
    }
    Ok(())
}

/// The deliveries of one publish, computed and staged under the lock.
fn publish_locked(
    inner: &EngineInner,
    st: &mut State,
    tx: &mut Tx<'_>,
    topic_arn: &str,
    input: &PublishInput,
    pc: &PubCtx<'_>,
) -> Result<Published> {
    let t = st.topics.get(topic_arn).ok_or_else(topic_not_found)?;
    let meter = &inner.meter;
    let mut sequence_number = None;
    let mut dedup_id = None;
    if t.fifo {
        let group = input
            .group_id
            .clone()
            .ok_or_else(|| invalid("The MessageGroupId parameter is required for FIFO topics"))?;
        let id = match &input.dedup_id {
            Some(id) => id.clone(),
            None if t.attr("ContentBasedDeduplication") == Some("true") => {
                hex::encode(Sha256::digest(input.message.as_bytes()))
            }
            None => {
                return Err(invalid(
                    "The topic should either have ContentBasedDeduplication enabled or \
                     MessageDeduplicationId provided explicitly",
                ));
            }
        };
        let scope_group = if t.attr("FifoThroughputScope") == Some("MessageGroup") {
            group.as_str()
        } else {
            ""
        };
        let key = keys::dedup_key(topic_arn, scope_group, &id);
        if let Some(d) = st.dedup.get(&key)
            && d.expires_at > pc.now
        {
            count_publish(meter, input.size());
            return Ok(Published {
                message_id: d.message_id.clone(),
                sequence_number: Some(d.sequence_number.clone()),
            });
        }
        dedup_id = Some((key, id));
    } else if input.dedup_id.is_some() {
        return Err(invalid(
            "MessageDeduplicationId Reason: The request includes MessageDeduplicationId \
             parameter that is not valid for this topic type",
        ));
    }
    let message_id = uuid::Uuid::new_v4().to_string();
    let t = st.topics.get_mut(topic_arn).ok_or_else(topic_not_found)?;
    if t.fifo {
        t.sequence += 1;
        sequence_number = Some(format!(
            "{:020}",
            10_000_000_000_000_000_000u128 + u128::from(t.sequence)
        ));
        tx.batch
            .put(keys::TOPICS, topic_arn.as_bytes().to_vec(), encode(&*t));
    }
    if let (Some((key, _)), Some(seq)) = (&dedup_id, &sequence_number) {
        let d = Dedup {
            expires_at: inner.clock.deadline_after(DEDUP_WINDOW),
            message_id: message_id.clone(),
            sequence_number: seq.clone(),
        };
        tx.batch
            .put(keys::DEDUP, key.as_bytes().to_vec(), encode(&d));
        st.dedup.insert(key.clone(), d);
        st.dedup_inserts += 1;
        if st.dedup_inserts.is_multiple_of(256) {
            let now = pc.now;
            let expired: Vec<String> = st
                .dedup
                .iter()
                .filter(|(_, d)| d.expires_at <= now)
                .map(|(k, _)| k.clone())
                .collect();
            for k in expired {
                st.dedup.remove(&k);
                tx.batch.delete(keys::DEDUP, k.into_bytes());
            }
        }
    }
    count_publish(meter, input.size());
    let t = &st.topics[topic_arn];
    let version = t.signature_version();
    let timestamp = iso8601_ms(pc.now);
    let cert_url = format!("{}{}", pc.base_url, signing::cert_path(pc.signer.id()));
    let mut signatures: HashMap<String, String> = HashMap::new();
    let group_id = if t.fifo { input.group_id.clone() } else { None };
    let sqs_dedup = dedup_id.as_ref().map(|(_, id)| id.clone());
    let topic_policy = t.attr("DeliveryPolicy").map(str::to_owned);
    let display_name = t.attr("DisplayName").map(str::to_owned);
    for sub in st.topic_subs(topic_arn) {
        let m = &sub.meta;
        if m.pending {
            continue;
        }
        if matches!(m.protocol.as_str(), "application" | "firehose") {
            meter.undeliverable.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let text = input.message_for(&m.protocol);
        if let Some(f) = &sub.filter {
            let matched =
                match subs::scope(m.attributes.get("FilterPolicyScope").map(String::as_str)) {
                    SnsScope::MessageAttributes => {
                        f.matches_attributes(&attributes::for_filter(&input.attributes))
                    }
                    SnsScope::MessageBody => f.matches_json(text).unwrap_or(false),
                };
            if !matched {
                meter.filtered_out.fetch_add(1, Ordering::Relaxed);
                continue;
            }
        }
        let raw = m.attributes.get("RawMessageDelivery").map(String::as_str) == Some("true");
        // RSA signing is the costly part of a publish: only envelopes carry a signature.
        let signed = match m.protocol.as_str() {
            "sqs" | "http" | "https" => !raw,
            "lambda" | "email-json" => true,
            _ => false,
        };
        let signature = if !signed {
            String::new()
        } else {
            signatures
                .entry(text.to_owned())
                .or_insert_with(|| {
                    pc.signer.sign(
                        version,
                        &signing::notification_string(
                            text,
                            &message_id,
                            input.subject.as_deref(),
                            &timestamp,
                            topic_arn,
                        ),
                    )
                })
                .clone()
        };
        let notice = Notice {
            message_id: &message_id,
            topic_arn,
            subject: input.subject.as_deref(),
            message: text,
            timestamp: &timestamp,
            signature_version: version.as_str(),
            signature: &signature,
            cert_url: &cert_url,
            sequence_number: sequence_number.as_deref(),
            attributes: &input.attributes,
        };
        let unsubscribe = envelope::unsubscribe_url(pc.base_url, &m.arn);
        let mut policy: Policy;
        let (target, message, context, ordering_key) = match m.protocol.as_str() {
            "sqs" => {
                policy = topic::managed_policy();
                let message = if raw {
                    Message {
                        body: text.to_owned(),
                        attributes: attributes::to_delivery(&input.attributes),
                        subject: None,
                        group_id: group_id.clone(),
                        dedup_id: sqs_dedup.clone(),
                    }
                } else {
                    Message {
                        body: envelope::notification(&notice, &unsubscribe),
                        group_id: group_id.clone(),
                        dedup_id: sqs_dedup.clone(),
                        ..Message::default()
                    }
                };
                let ordering = group_id.as_ref().map(|g| format!("{}\n{g}", m.arn));
                (m.endpoint.clone(), message, Value::Null, ordering)
            }
            "lambda" => {
                policy = topic::managed_policy();
                let body = envelope::lambda_event(&notice, &m.arn, &unsubscribe);
                let message = Message {
                    body,
                    ..Message::default()
                };
                (
                    m.endpoint.clone(),
                    message,
                    json!({"invocationType": "Event"}),
                    None,
                )
            }
            "http" | "https" => {
                let retry = topic::http_retry_policy(
                    topic_policy.as_deref(),
                    m.attributes.get("DeliveryPolicy").map(String::as_str),
                );
                policy = topic::http_policy(&retry);
                let body = if raw {
                    text.to_owned()
                } else {
                    envelope::notification(&notice, &unsubscribe)
                };
                let context = target::http_context(
                    &m.endpoint,
                    "Notification",
                    &message_id,
                    topic_arn,
                    Some(&m.arn),
                    raw,
                );
                let message = Message {
                    body,
                    ..Message::default()
                };
                (m.arn.clone(), message, context, None)
            }
            _ => {
                // email, email-json, sms: recorded by the sns target.
                policy = topic::managed_policy();
                let (body, subject) = match m.protocol.as_str() {
                    "email" => (
                        envelope::email_text(text, &unsubscribe),
                        Some(envelope::email_subject(
                            input.subject.as_deref(),
                            display_name.as_deref(),
                        )),
                    ),
                    "email-json" => (
                        envelope::notification(&notice, &unsubscribe),
                        Some(envelope::email_subject(
                            input.subject.as_deref(),
                            display_name.as_deref(),
                        )),
                    ),
                    _ => (text.to_owned(), None),
                };
                let context = target::record_context(m, "Notification", &message_id, subject);
                let message = Message {
                    body,
                    ..Message::default()
                };
                (m.arn.clone(), message, context, None)
            }
        };
        if let Some(dlq) = m
            .attributes
            .get("RedrivePolicy")
            .and_then(|p| serde_json::from_str::<Value>(p).ok())
            .and_then(|v| {
                v.get("deadLetterTargetArn")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
        {
            policy.on_failure.push(FollowUp {
                target: dlq,
                format: FollowUpFormat::Copy,
            });
        }
        count(meter, &m.protocol);
        tx.stage(NewJob {
            target,
            message,
            policy,
            trace_header: pc.trace.clone(),
            source: Some(m.arn.clone()),
            ordering_key,
            id: None,
            context,
        });
    }
    Ok(Published {
        message_id,
        sequence_number,
    })
}

/// The delivery of a `SubscriptionConfirmation`: an HTTP POST for http/https, a recorded email
/// for email/email-json.
fn confirmation_job(
    t: &TopicMeta,
    sub: &SubMeta,
    token: &str,
    signer: &MessageSigner,
    base_url: &str,
    now: Millis,
    trace: Option<String>,
) -> NewJob {
    let message_id = uuid::Uuid::new_v4().to_string();
    let timestamp = iso8601_ms(now);
    let text = envelope::confirmation_text(&t.arn);
    let url = envelope::subscribe_url(base_url, &t.arn, token);
    let kind = "SubscriptionConfirmation";
    let version = t.signature_version();
    let signature = signer.sign(
        version,
        &signing::confirmation_string(kind, &text, &message_id, &url, &timestamp, token, &t.arn),
    );
    let cert_url = format!("{base_url}{}", signing::cert_path(signer.id()));
    let body = envelope::confirmation(&Confirmation {
        kind,
        message_id: &message_id,
        token,
        topic_arn: &t.arn,
        message: &text,
        subscribe_url: &url,
        timestamp: &timestamp,
        signature_version: version.as_str(),
        signature: &signature,
        cert_url: &cert_url,
    });
    let (context, policy) = if matches!(sub.protocol.as_str(), "http" | "https") {
        let retry = topic::http_retry_policy(
            t.attr("DeliveryPolicy"),
            sub.attributes.get("DeliveryPolicy").map(String::as_str),
        );
        (
            target::http_context(
                &sub.endpoint,
                kind,
                &message_id,
                &t.arn,
                Some(&sub.arn),
                false,
            ),
            topic::http_policy(&retry),
        )
    } else {
        let subject = format!(
            "{} - Subscription Confirmation",
            envelope::email_subject(None, t.attr("DisplayName"))
        );
        (
            target::record_context(sub, kind, &message_id, Some(subject)),
            topic::managed_policy(),
        )
    };
    NewJob {
        target: sub.arn.clone(),
        message: Message {
            body,
            ..Message::default()
        },
        policy,
        trace_header: trace,
        source: Some(t.arn.clone()),
        ordering_key: None,
        id: None,
        context,
    }
}

/// Generates the signing key off the request path (RSA prime search takes a while), persists
/// it, and only then makes it available, so nothing is signed with a key a crash could lose.
fn spawn_key_generation(store: SharedStore, now: Millis, tx: watch::Sender<SignerState>) {
    let finish = move |generated: std::result::Result<KeyMaterial, String>| {
        let signer = generated.and_then(|m| {
            let mut batch = WriteBatch::new();
            batch.put(keys::KEYS, keys::SIGNING_KEY.to_vec(), encode(&m));
            Ok((MessageSigner::from_material(m)?, store.commit(batch)))
        });
        (signer, tx)
    };
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => {
            handle.spawn(async move {
                let generated = tokio::task::spawn_blocking(move || MessageSigner::generate(now))
                    .await
                    .unwrap_or_else(|e| Err(e.to_string()));
                let (signer, tx) = finish(generated);
                let result = match signer {
                    Ok((signer, commit)) => match commit.await {
                        Ok(()) => Ok(Arc::new(signer)),
                        Err(e) => Err(e.to_string()),
                    },
                    Err(e) => Err(e),
                };
                if let Err(e) = &result {
                    tracing::error!(error = %e, "sns: could not create the signing key");
                }
                tx.send_replace(Some(result));
            });
        }
        Err(_) => {
            // No runtime (a synchronous caller): generate here; the commit completes on its own.
            let (signer, tx) = finish(MessageSigner::generate(now));
            tx.send_replace(Some(signer.map(|(s, _commit)| Arc::new(s))));
        }
    }
}
