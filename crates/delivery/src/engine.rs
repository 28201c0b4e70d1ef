//! The outbox's machinery: the in-memory schedule, the dispatcher task and the attempts.
//!
//! # State
//! One `parking_lot::Mutex` guards:
//! - `jobs`: every released delivery by sequence number, with its stored [`Row`] and whether an
//!   attempt is running;
//! - `ready`: `(next_at, seq)` of the deliveries the dispatcher may start, earliest first. A
//!   running delivery, and one waiting behind an earlier delivery with the same ordering key, is
//!   not in it;
//! - `lanes`: per ordering key, the staged sequence numbers in order, each marked released or
//!   not. Only the first of a lane may be ready, so a later delivery waits until the earlier one
//!   is delivered or given up, even when it was released first. A staged delivery that is never
//!   released (its batch failed) leaves its lane when its [`Staged`] is dropped.
//!
//! # Attempts
//! The dispatcher takes a permit (at most [`MAX_CONCURRENT_ATTEMPTS`] attempts run at once),
//! pops the earliest due delivery and spawns its attempt; with nothing due it sleeps until the
//! earliest `next_at` through the clock, or until a release wakes it. An attempt calls the target
//! registered for the ARN's service, then commits its result: the updated row (retry), or the
//! row's deletion together with the follow-ups (done). Memory changes only once that commit
//! resolved, so nothing is reported delivered or given up before it is durable. A commit that
//! fails leaves the delivery scheduled: retried as decided, or, when it had ended, attempted
//! again later (at-least-once).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use ponte_store::{SharedStore, WriteBatch};
use ponte_types::{Arn, Millis, SharedClock};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};

use crate::format::{self, Condition};
use crate::{Error, Failure, FailureKind, Job, NewJob, Outcome, Result, Stats, Target};

/// The store table of pending deliveries.
pub const TABLE: &str = "delivery_job";
/// At most this many attempts run at the same time.
pub const MAX_CONCURRENT_ATTEMPTS: usize = 256;
/// A delivery whose final commit failed is attempted again after this (AWS time).
const COMMIT_RETRY: Duration = Duration::from_secs(5);
/// How late past its maximum age a delivery may still start. A retry is only ever scheduled
/// within the age, so this absorbs dispatch latency; a delivery later than this was held up by
/// a backlog or a stopped server and is discarded, as AWS discards events that aged out.
const LATE_GRACE_MS: Millis = 1_000;

/// One stored delivery: the value of its row in [`TABLE`], keyed by `seq` (u64 big-endian).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Row {
    /// Staging order; also the key.
    pub seq: u64,
    /// When the next attempt may start (epoch ms).
    pub next_at: Millis,
    /// No attempt starts after this (epoch ms): `created_at` + the scaled `max_age`.
    pub expires_at: Millis,
    /// The delivery and its counters.
    pub job: Job,
}

impl Row {
    pub(crate) fn key(&self) -> [u8; 8] {
        self.seq.to_be_bytes()
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        // A Row is plain data (strings, numbers, JSON values); encoding cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

struct Slot {
    row: Row,
    running: bool,
}

#[derive(Default)]
struct State {
    jobs: HashMap<u64, Slot>,
    ready: BTreeSet<(Millis, u64)>,
    /// Ordering key → seq → released.
    lanes: HashMap<String, BTreeMap<u64, bool>>,
    running: usize,
}

impl State {
    /// Adds a released delivery and makes it ready unless an earlier one of its lane is pending.
    fn schedule(&mut self, row: Row) {
        let seq = row.seq;
        let key = row.job.ordering_key.clone();
        self.jobs.insert(
            seq,
            Slot {
                row,
                running: false,
            },
        );
        match key {
            Some(key) => {
                self.lanes.entry(key.clone()).or_default().insert(seq, true);
                self.promote(&key);
            }
            None => self.make_ready(seq),
        }
    }

    fn make_ready(&mut self, seq: u64) {
        if let Some(slot) = self.jobs.get(&seq)
            && !slot.running
        {
            self.ready.insert((slot.row.next_at, seq));
        }
    }

    /// Makes the first delivery of a lane ready, if it is released.
    fn promote(&mut self, key: &str) {
        let Some(lane) = self.lanes.get(key) else {
            return;
        };
        match lane.first_key_value() {
            Some((&seq, &true)) => self.make_ready(seq),
            Some(_) => {}
            None => {
                self.lanes.remove(key);
            }
        }
    }

    /// Removes `seq` from its lane and lets the next one go.
    fn leave_lane(&mut self, key: &str, seq: u64) {
        if let Some(lane) = self.lanes.get_mut(key) {
            lane.remove(&seq);
        }
        self.promote(key);
    }

    /// The earliest ready delivery if it is due, marked running; else when to look again.
    fn pop_due(&mut self, now: Millis) -> Result<Row, Option<Millis>> {
        let Some(&(at, seq)) = self.ready.first() else {
            return Err(None);
        };
        if at > now {
            return Err(Some(at));
        }
        self.ready.pop_first();
        match self.jobs.get_mut(&seq) {
            Some(slot) => {
                slot.running = true;
                self.running += 1;
                Ok(slot.row.clone())
            }
            // Unreachable by construction; look again at once.
            None => Err(Some(now)),
        }
    }

    fn has_due(&self, now: Millis) -> bool {
        self.ready.first().is_some_and(|&(at, _)| at <= now)
    }
}

/// What an attempt led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Try again at this time.
    Retry(Millis),
    /// The delivery ended.
    Done(Condition),
}

/// Applies one attempt's outcome to `row` (counters, last failure) and decides what follows.
/// Pure: `scaled` turns an AWS wait into a real one (the clock's time scale).
pub(crate) fn decide(
    row: &mut Row,
    outcome: &Outcome,
    now: Millis,
    scaled: impl Fn(Duration) -> Duration,
) -> Decision {
    let job = &mut row.job;
    job.attempts = job.attempts.saturating_add(1);
    let failure = match outcome {
        Outcome::Delivered { .. } => return Decision::Done(Condition::Success),
        Outcome::Failed(f) => f,
    };
    job.last_failure = Some(failure.clone());
    let delay = match failure.kind {
        FailureKind::Permanent => return Decision::Done(Condition::NotRetryable),
        FailureKind::Error => {
            job.error_attempts = job.error_attempts.saturating_add(1);
            if job.error_attempts > job.policy.max_retries {
                return Decision::Done(Condition::RetriesExhausted);
            }
            job.policy.error_backoff.delay(job.error_attempts)
        }
        FailureKind::Throttled | FailureKind::Unavailable => {
            // Throttle retries do not count against max_retries; their backoff grows with the
            // number of such failures so far.
            let n = job.attempts.saturating_sub(job.error_attempts);
            job.policy.throttle_backoff.delay(n)
        }
    };
    let next_at = now.saturating_add(millis(scaled(delay)));
    if next_at > row.expires_at {
        return Decision::Done(Condition::EventAgeExceeded);
    }
    row.next_at = next_at;
    Decision::Retry(next_at)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Everything an [`crate::Outbox`] handle shares.
pub(crate) struct Inner {
    pub store: SharedStore,
    pub clock: SharedClock,
    targets: RwLock<HashMap<&'static str, Arc<dyn Target>>>,
    state: Mutex<State>,
    next_seq: AtomicU64,
    wake: Notify,
    progress: watch::Sender<u64>,
    started: AtomicBool,
    stopped: AtomicBool,
    permits: Arc<Semaphore>,
    attempts: AtomicU64,
    delivered: AtomicU64,
    failed: AtomicU64,
}

/// A staged delivery's private part (see [`crate::Staged`]).
pub(crate) struct StagedInner {
    pub row: Option<Row>,
    /// Set while the delivery holds a place in an ordering lane that release has not taken.
    pub lane: Option<Arc<Inner>>,
}

impl Drop for StagedInner {
    fn drop(&mut self) {
        if let (Some(inner), Some(row)) = (self.lane.take(), self.row.as_ref())
            && let Some(key) = &row.job.ordering_key
        {
            // Never released: its batch failed (or the caller gave up), so it must not hold
            // up the rest of its lane.
            inner.state.lock().leave_lane(key, row.seq);
            inner.wake.notify_one();
        }
    }
}

impl Inner {
    /// Loads every stored delivery.
    pub fn open(store: SharedStore, clock: SharedClock) -> Result<Arc<Self>> {
        let rows = store.scan(TABLE, b"")?;
        let mut state = State::default();
        let mut max_seq = 0;
        for (key, value) in rows {
            let corrupt = |message: String| Error::Corrupt {
                key: key.iter().map(|b| format!("{b:02x}")).collect(),
                message,
            };
            let seq = <[u8; 8]>::try_from(key.as_slice())
                .map(u64::from_be_bytes)
                .map_err(|_| corrupt("key is not 8 bytes".into()))?;
            let mut row: Row =
                serde_json::from_slice(&value).map_err(|e| corrupt(e.to_string()))?;
            row.seq = seq;
            max_seq = max_seq.max(seq);
            state.schedule(row);
        }
        let (progress, _) = watch::channel(0);
        Ok(Arc::new(Inner {
            store,
            clock,
            targets: RwLock::new(HashMap::new()),
            state: Mutex::new(state),
            next_seq: AtomicU64::new(max_seq + 1),
            wake: Notify::new(),
            progress,
            started: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            permits: Arc::new(Semaphore::new(MAX_CONCURRENT_ATTEMPTS)),
            attempts: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        }))
    }

    pub fn register(&self, service: &'static str, target: Arc<dyn Target>) {
        self.targets.write().insert(service, target);
    }

    /// Builds the row of a new delivery, writes it into `batch` and reserves its lane place.
    pub fn stage(self: &Arc<Self>, batch: &mut WriteBatch, job: NewJob) -> StagedInner {
        let now = self.clock.now();
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        let expires_at = now.saturating_add(millis(self.clock.scaled(job.policy.max_age)));
        let row = Row {
            seq,
            next_at: now,
            expires_at,
            job: Job {
                id: job.id.unwrap_or_else(ponte_types::ids::uuid),
                target: job.target,
                message: job.message,
                policy: job.policy,
                trace_header: job.trace_header,
                source: job.source,
                ordering_key: job.ordering_key,
                context: job.context,
                created_at: now,
                attempts: 0,
                error_attempts: 0,
                last_failure: None,
            },
        };
        batch.put(TABLE, row.key(), row.encode());
        let lane = row.job.ordering_key.as_ref().map(|key| {
            self.state
                .lock()
                .lanes
                .entry(key.clone())
                .or_default()
                .insert(seq, false);
            self.clone()
        });
        StagedInner {
            row: Some(row),
            lane,
        }
    }

    /// Schedules staged deliveries whose batch committed.
    pub fn release(&self, staged: impl IntoIterator<Item = StagedInner>) {
        let mut any = false;
        {
            let mut st = self.state.lock();
            for mut s in staged {
                // Taking the lane first keeps Drop from removing the place we now fill.
                s.lane = None;
                if let Some(row) = s.row.take() {
                    st.schedule(row);
                    any = true;
                }
            }
        }
        if any {
            self.wake.notify_one();
            self.bump();
        }
    }

    fn bump(&self) {
        self.progress.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub fn stats(&self) -> Stats {
        let pending = self.state.lock().jobs.len() as u64;
        Stats {
            pending,
            attempts: self.attempts.load(Ordering::Relaxed),
            delivered: self.delivered.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
        }
    }

    pub fn pending(&self) -> Vec<Job> {
        let st = self.state.lock();
        let mut rows: Vec<&Row> = st.jobs.values().map(|s| &s.row).collect();
        rows.sort_by_key(|r| r.seq);
        rows.into_iter().map(|r| r.job.clone()).collect()
    }

    pub fn next_attempt_at(&self, id: &str) -> Option<Millis> {
        let st = self.state.lock();
        st.jobs
            .values()
            .find(|s| s.row.job.id == id)
            .map(|s| s.row.next_at)
    }

    /// Starts the dispatcher once; later calls do nothing.
    pub fn start(self: &Arc<Self>, shutdown: watch::Receiver<bool>) {
        if self.started.swap(true, Ordering::SeqCst) {
            tracing::warn!("delivery outbox already started");
            return;
        }
        tokio::spawn(dispatch(self.clone(), shutdown));
    }

    /// Resolves once no attempt runs and none is due (or the dispatcher is not running).
    pub async fn settled(&self) {
        let mut rx = self.progress.subscribe();
        loop {
            rx.borrow_and_update();
            if !self.started.load(Ordering::SeqCst) || self.stopped.load(Ordering::SeqCst) {
                return;
            }
            {
                let st = self.state.lock();
                if st.running == 0 && !st.has_due(self.clock.now()) {
                    return;
                }
            }
            // A due delivery whose wake-up is still on its way is caught by the next bump; the
            // timeout only bounds a wait across a clock that moved without one.
            let _ = tokio::time::timeout(Duration::from_millis(50), rx.changed()).await;
        }
    }

    /// Finds the target for `job` and makes one attempt. A target that panics counts as
    /// unavailable rather than taking the outbox down.
    async fn deliver(&self, job: &Job) -> Outcome {
        let service = Arn::parse(&job.target).map(|a| a.service);
        let target = service
            .as_deref()
            .and_then(|s| self.targets.read().get(s).cloned());
        let Some(target) = target else {
            let message = match service {
                Some(s) => format!(
                    "No delivery target is registered for service '{s}': {}",
                    job.target
                ),
                None => format!("Invalid target ARN: {}", job.target),
            };
            return Outcome::Failed(Failure {
                kind: FailureKind::Permanent,
                status_code: 404,
                code: "ResourceNotFoundException".into(),
                message,
                response: None,
                executed_version: None,
            });
        };
        let owned = job.clone();
        match tokio::spawn(async move { target.deliver(&owned).await }).await {
            Ok(outcome) => outcome,
            Err(e) => Outcome::Failed(Failure {
                kind: FailureKind::Unavailable,
                status_code: 500,
                code: "ServiceException".into(),
                message: format!("The delivery target failed: {e}"),
                response: None,
                executed_version: None,
            }),
        }
    }
}

/// Resolves when `rx` turns true; never when its sender is gone without having said so.
async fn until_true(mut rx: watch::Receiver<bool>) {
    loop {
        if *rx.borrow_and_update() {
            return;
        }
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

async fn dispatch(inner: Arc<Inner>, shutdown: watch::Receiver<bool>) {
    let stop = until_true(shutdown);
    tokio::pin!(stop);
    loop {
        let permit = tokio::select! {
            biased;
            _ = &mut stop => break,
            p = inner.permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let now = inner.clock.now();
        let next = inner.state.lock().pop_due(now);
        match next {
            Ok(row) => {
                inner.bump();
                tokio::spawn(attempt(inner.clone(), row, permit));
            }
            Err(wake_at) => {
                drop(permit);
                let clock = inner.clock.clone();
                let sleep = async move {
                    match wake_at {
                        Some(at) => clock.sleep_until(at).await,
                        None => std::future::pending::<()>().await,
                    }
                };
                tokio::select! {
                    biased;
                    _ = &mut stop => break,
                    _ = inner.wake.notified() => {}
                    _ = sleep => {}
                }
            }
        }
    }
    inner.stopped.store(true, Ordering::SeqCst);
    inner.bump();
}

/// One attempt of `row`'s delivery, then its durable result.
async fn attempt(inner: Arc<Inner>, mut row: Row, permit: OwnedSemaphorePermit) {
    let start = inner.clock.now();
    let decision;
    let last: Option<Outcome>;
    if start > row.expires_at.saturating_add(LATE_GRACE_MS) {
        // Its turn came too late (a backlog, or the server was down): AWS discards such events
        // without another try.
        last = row.job.last_failure.clone().map(Outcome::Failed);
        decision = Decision::Done(Condition::EventAgeExceeded);
    } else {
        inner.attempts.fetch_add(1, Ordering::Relaxed);
        let outcome = inner.deliver(&row.job).await;
        let clock = inner.clock.clone();
        decision = decide(&mut row, &outcome, clock.now(), |d| clock.scaled(d));
        last = Some(outcome);
    }
    let mut batch = WriteBatch::new();
    let mut follow_ups = Vec::new();
    match decision {
        Decision::Retry(at) => {
            tracing::debug!(
                target_arn = %row.job.target,
                id = %row.job.id,
                attempts = row.job.attempts,
                retry_in_ms = at.saturating_sub(inner.clock.now()),
                "delivery attempt failed; retrying"
            );
            batch.put(TABLE, row.key(), row.encode());
        }
        Decision::Done(condition) => {
            batch.delete(TABLE, row.key());
            let policy = &row.job.policy;
            let list = if condition == Condition::Success {
                &policy.on_success
            } else {
                &policy.on_failure
            };
            let now = inner.clock.now();
            for fu in list {
                let job = format::follow_up_job(&row.job, last.as_ref(), condition, fu, now);
                follow_ups.push(inner.stage(&mut batch, job));
            }
        }
    }
    let committed = inner.store.commit(batch).await;
    {
        let mut st = inner.state.lock();
        st.running -= 1;
        match (&committed, decision) {
            (Ok(()), Decision::Done(condition)) => {
                st.jobs.remove(&row.seq);
                if let Some(key) = &row.job.ordering_key {
                    st.leave_lane(key, row.seq);
                }
                if condition == Condition::Success {
                    inner.delivered.fetch_add(1, Ordering::Relaxed);
                } else {
                    inner.failed.fetch_add(1, Ordering::Relaxed);
                    give_up_warning(&row.job, condition);
                }
            }
            (Err(e), Decision::Done(_)) => {
                tracing::error!(
                    target_arn = %row.job.target,
                    id = %row.job.id,
                    error = %e,
                    "delivery result not committed; the delivery will be attempted again"
                );
                if let Some(slot) = st.jobs.get_mut(&row.seq) {
                    slot.running = false;
                    slot.row.next_at = inner.clock.deadline_after(COMMIT_RETRY);
                }
                st.make_ready(row.seq);
            }
            (result, Decision::Retry(_)) => {
                if let Err(e) = result {
                    tracing::error!(
                        target_arn = %row.job.target,
                        id = %row.job.id,
                        error = %e,
                        "delivery retry state not committed; retrying as scheduled"
                    );
                }
                let seq = row.seq;
                if let Some(slot) = st.jobs.get_mut(&seq) {
                    slot.running = false;
                    slot.row = row;
                }
                st.make_ready(seq);
            }
        }
    }
    drop(permit);
    if committed.is_ok() {
        inner.release(follow_ups);
    }
    // Dropping unreleased follow-ups frees their lane places.
    inner.wake.notify_one();
    inner.bump();
}

fn give_up_warning(job: &Job, condition: Condition) {
    let failure = job.last_failure.as_ref();
    tracing::warn!(
        target_arn = %job.target,
        id = %job.id,
        condition = ?condition,
        attempts = job.attempts,
        error_code = failure.map_or("", |f| f.code.as_str()),
        error = failure.map_or("", |f| f.message.as_str()),
        "delivery gave up"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Backoff, Message, Policy};

    fn row(policy: Policy) -> Row {
        Row {
            seq: 1,
            next_at: 0,
            expires_at: millis(policy.max_age),
            job: Job {
                id: "id".into(),
                target: "arn:aws:sqs:us-east-1:000000000000:q".into(),
                message: Message::default(),
                policy,
                trace_header: None,
                source: None,
                ordering_key: None,
                context: serde_json::Value::Null,
                created_at: 0,
                attempts: 0,
                error_attempts: 0,
                last_failure: None,
            },
        }
    }

    fn fail(kind: FailureKind) -> Outcome {
        Outcome::Failed(Failure {
            kind,
            status_code: 500,
            code: "X".into(),
            message: "x".into(),
            response: None,
            executed_version: None,
        })
    }

    #[test]
    fn lambda_error_retries_then_exhausts() {
        let mut r = row(Policy::lambda_async());
        let id = |d| d;
        assert_eq!(
            decide(&mut r, &fail(FailureKind::Error), 0, id),
            Decision::Retry(60_000)
        );
        assert_eq!(
            decide(&mut r, &fail(FailureKind::Error), 60_000, id),
            Decision::Retry(180_000)
        );
        assert_eq!(
            decide(&mut r, &fail(FailureKind::Error), 180_000, id),
            Decision::Done(Condition::RetriesExhausted)
        );
        assert_eq!((r.job.attempts, r.job.error_attempts), (3, 3));
    }

    #[test]
    fn throttles_do_not_count_and_age_out() {
        let mut p = Policy::lambda_async();
        p.max_age = Duration::from_secs(10);
        let mut r = row(p);
        let id = |d| d;
        // Throttle backoff 1 s, 2 s, 4 s; the fourth retry (8 s later, at 15 s) is too late.
        let mut now = 0;
        for expect in [1_000, 3_000, 7_000] {
            match decide(&mut r, &fail(FailureKind::Throttled), now, id) {
                Decision::Retry(at) => {
                    assert_eq!(at, expect);
                    now = at;
                }
                d => panic!("unexpected {d:?}"),
            }
        }
        // An error in between counts against max_retries only.
        assert_eq!(
            decide(&mut r, &fail(FailureKind::Error), now, id),
            Decision::Done(Condition::EventAgeExceeded)
        );
        assert_eq!((r.job.attempts, r.job.error_attempts), (4, 1));
    }

    #[test]
    fn permanent_and_success_end_at_once() {
        let mut r = row(Policy::lambda_async());
        assert_eq!(
            decide(&mut r, &fail(FailureKind::Permanent), 0, |d| d),
            Decision::Done(Condition::NotRetryable)
        );
        let mut r = row(Policy::lambda_async());
        let ok = Outcome::Delivered {
            status_code: 200,
            response: None,
            executed_version: None,
        };
        assert_eq!(
            decide(&mut r, &ok, 0, |d| d),
            Decision::Done(Condition::Success)
        );
        assert_eq!(r.job.attempts, 1);
    }

    #[test]
    fn scaled_delays() {
        let mut p = Policy::lambda_async();
        p.error_backoff = Backoff::Fixed(vec![60_000]);
        let mut r = row(p);
        assert_eq!(
            decide(&mut r, &fail(FailureKind::Error), 5, |d| d / 60),
            Decision::Retry(1_005)
        );
    }

    #[test]
    fn lanes_release_in_order() {
        let mut st = State::default();
        let mk = |seq, key: &str| {
            let mut r = row(Policy::lambda_async());
            r.seq = seq;
            r.job.ordering_key = Some(key.into());
            r
        };
        st.lanes.entry("k".into()).or_default().insert(1, false);
        st.lanes.entry("k".into()).or_default().insert(2, false);
        st.schedule(mk(2, "k"));
        assert!(st.ready.is_empty(), "2 waits for 1");
        st.schedule(mk(1, "k"));
        assert_eq!(st.pop_due(0), Ok(mk(1, "k")));
        assert!(st.ready.is_empty());
        st.jobs.remove(&1);
        st.leave_lane("k", 1);
        assert_eq!(st.pop_due(0).map(|r| r.seq), Ok(2));
        st.jobs.remove(&2);
        st.leave_lane("k", 2);
        assert!(st.lanes.is_empty());
    }
}
