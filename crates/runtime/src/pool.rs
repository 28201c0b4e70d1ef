//! Warm pools and the life of one invocation.
//!
//! A pool per qualified ARN holds that version's live instances; idle ones wait in a stack
//! (the most recently used is reused first, so the others age out). Invariants, all under the
//! one pools lock:
//! - an instance is in `live` from its spawn until it is stopped, and in `idle` only while no
//!   invocation holds it (its `idle` watch then says since when);
//! - `busy` counts invocations between lease and release, cold starts included;
//! - an instance of another revision than the pool's current one is never handed out, and is
//!   stopped instead of being returned to `idle`.
//!
//! Time: the function timeout and the init limit are real time (`tokio::time::timeout`), never
//! scaled; idle reaping and the periodic log flush go through the [`Clock`](ponte_types::Clock),
//! so tests drive them with a `ManualClock`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::Mutex;
use ponte_types::{Millis, SharedClock};
use tokio::sync::watch;

use crate::api::{ApiEvent, Assignment};
use crate::bootstrap::{Installed, Interpreters, Kind};
use crate::instance::{ExitInfo, Instance, SpawnCtx, SpawnError};
use crate::logfmt::{self, Report};
use crate::{
    Error, FunctionError, FunctionSpec, InvokeRequest, InvokeResult, LogSink, Options, PoolStats,
    Result,
};

/// Lambda gives on-demand init 10 s before it retries init inside the invoke (whose own
/// timeout then applies); Ponte allows the sum once.
const INIT_LIMIT: Duration = Duration::from_secs(10);
/// Output of a long invocation reaches the log sink at least this often (clock ms).
const FLUSH_EVERY_MS: Millis = 1000;
/// How long to wait for the output reader to catch up before giving up on the drain.
const DRAIN_LIMIT: Duration = Duration::from_secs(2);
const SHUTTING_DOWN: &str = "the function runtime is shutting down";

#[derive(Default)]
struct Pool {
    revision: String,
    idle: Vec<Arc<Instance>>,
    live: HashMap<u64, Arc<Instance>>,
    busy: u32,
    cold_starts: u64,
    init_ms_total: f64,
}

/// The engine behind [`crate::Runtime`].
pub(crate) struct Inner {
    me: Weak<Inner>,
    clock: SharedClock,
    options: Options,
    logs: Arc<dyn LogSink>,
    installed: Installed,
    interpreters: Interpreters,
    pools: Mutex<HashMap<String, Pool>>,
    next_id: AtomicU64,
    closed: AtomicBool,
}

/// How an invocation that reached the runtime ended.
enum Outcome {
    Response(Bytes),
    Error(Option<String>, Bytes),
    TooLarge,
    Exited(ExitInfo),
    TimedOut,
}

/// How init ended.
enum Init {
    Ready,
    Failed {
        error_type: String,
        payload: Vec<u8>,
        /// Lambda's own line about it (for crashes), logged after START.
        message: Option<String>,
    },
    TimedOut,
}

/// One invocation's hold on its pool: releases the slot (and the instance, healthy or not)
/// however the invocation ends, including by its future being dropped.
struct Lease<'a> {
    inner: &'a Inner,
    arn: String,
    inst: Option<Arc<Instance>>,
    healthy: bool,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let victim = self
            .inner
            .release(&self.arn, self.inst.take(), self.healthy);
        // Stopped (killed) here, outside the pools lock.
        drop(victim);
    }
}

/// Lines for the log sink, and a copy for the tail when the caller wants one.
struct LogOut {
    tail: Option<Vec<String>>,
    tail_bytes: usize,
}

impl LogOut {
    fn keep(&mut self, lines: &[(Millis, String)]) {
        let Some(t) = &mut self.tail else { return };
        for (_, l) in lines {
            self.tail_bytes += l.len() + 1;
            t.push(l.clone());
        }
        // Keep just enough lines to cover the tail.
        let mut cut = 0;
        while cut < t.len() && self.tail_bytes - (t[cut].len() + 1) >= logfmt::TAIL_BYTES {
            self.tail_bytes -= t[cut].len() + 1;
            cut += 1;
        }
        t.drain(..cut);
    }

    fn finish(self) -> Option<String> {
        self.tail.map(|t| logfmt::tail(&t))
    }
}

async fn wait_exit(exit: &mut watch::Receiver<Option<ExitInfo>>) -> ExitInfo {
    // Copy the value out at once: the watch guard must not live across an await (the invoke
    // future has to stay `Send`).
    let seen = exit.wait_for(Option::is_some).await.map(|info| *info);
    match seen {
        Ok(info) => info.unwrap_or(ExitInfo {
            code: None,
            signal: None,
        }),
        // The watcher only goes away with the instance, which the caller holds.
        Err(_) => std::future::pending().await,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The payload for an error the runtime reported: its body, or a minimal one if it sent none.
fn error_payload(error_type: Option<&str>, body: &[u8]) -> Vec<u8> {
    if body.iter().all(u8::is_ascii_whitespace) {
        logfmt::lambda_error(error_type.unwrap_or("Unhandled"), "")
    } else {
        body.to_vec()
    }
}

impl Inner {
    pub(crate) fn new(
        clock: SharedClock,
        options: Options,
        logs: Arc<dyn LogSink>,
        installed: Installed,
    ) -> Arc<Self> {
        Arc::new_cyclic(|me| Inner {
            me: me.clone(),
            clock,
            options,
            logs,
            installed,
            interpreters: Interpreters::default(),
            pools: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            closed: AtomicBool::new(false),
        })
    }

    pub(crate) async fn invoke(
        &self,
        spec: &FunctionSpec,
        request: InvokeRequest,
    ) -> Result<InvokeResult> {
        let kind = Kind::of(&spec.runtime)
            .ok_or_else(|| Error::UnsupportedRuntime(spec.runtime.clone()))?;
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Spawn(SHUTTING_DOWN.into()));
        }
        let out = LogOut {
            tail: request.want_log_tail.then(Vec::new),
            tail_bytes: 0,
        };
        let (mut lease, warm) = self.lease(spec);
        if let Some(inst) = warm {
            lease.inst = Some(inst.clone());
            let (result, healthy) = self.run(spec, &inst, &request, None, out).await;
            lease.healthy = healthy;
            return Ok(result);
        }

        // Cold start.
        let interpreter = match kind {
            Kind::Provided => None,
            _ => Some(
                self.interpreters
                    .resolve(&spec.runtime, kind)
                    .await
                    .map_err(Error::Spawn)?,
            ),
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let ctx = SpawnCtx {
            clock: &self.clock,
            options: &self.options,
            installed: &self.installed,
            interpreter,
        };
        let started = Instant::now();
        let inst = match Instance::spawn(id, spec, kind, ctx).await {
            Ok(i) => i,
            Err(SpawnError::Host(m)) => return Err(Error::Spawn(m)),
            Err(SpawnError::Entrypoint(m)) => {
                let hex = uuid::Uuid::new_v4().simple().to_string();
                let stream = logfmt::stream_name(self.clock.now(), &spec.version, &hex);
                let error_type = "Runtime.InvalidEntrypoint";
                let id = &request.request_id;
                let init = Init::Failed {
                    error_type: error_type.into(),
                    payload: logfmt::lambda_error(
                        error_type,
                        &format!("RequestId: {id} Error: {m}"),
                    ),
                    message: Some(format!("RequestId: {id} Error: {m}\n{error_type}")),
                };
                let init_ms = ms(started.elapsed());
                return Ok(self.init_failed(
                    spec,
                    &stream,
                    &request,
                    init_ms,
                    0,
                    Vec::new(),
                    init,
                    out,
                ));
            }
        };
        self.register(spec, &inst);
        lease.inst = Some(inst.clone());
        let init = self.wait_init(spec, &inst, &request.request_id).await;
        let init_ms = ms(inst.spawned.elapsed());
        match init {
            Init::Ready => {
                self.add_init(&spec.arn, init_ms);
                let (result, healthy) = self.run(spec, &inst, &request, Some(init_ms), out).await;
                lease.healthy = healthy;
                Ok(result)
            }
            failed => {
                let max_mem = inst.max_memory_mb();
                inst.kill();
                inst.logs.drain(DRAIN_LIMIT).await;
                let pre = inst.logs.take();
                Ok(self.init_failed(
                    spec,
                    &inst.stream,
                    &request,
                    init_ms,
                    max_mem,
                    pre,
                    failed,
                    out,
                ))
            }
        }
    }

    /// Waits for the first `/next` (init done), an init error, the process's exit or the limit.
    async fn wait_init(&self, spec: &FunctionSpec, inst: &Instance, request_id: &str) -> Init {
        let mut events = inst.events.lock().await;
        let mut exit = inst.exit.clone();
        let wait = async {
            loop {
                tokio::select! {
                    biased;
                    ev = events.recv() => match ev {
                        Some(ApiEvent::Next) => return Init::Ready,
                        Some(ApiEvent::InitError { error_type, body }) => {
                            let error_type = error_type
                                .or_else(|| {
                                    serde_json::from_slice::<serde_json::Value>(&body)
                                        .ok()?
                                        .get("errorType")?
                                        .as_str()
                                        .map(str::to_string)
                                })
                                .unwrap_or_else(|| "Runtime.Unknown".into());
                            let payload = error_payload(Some(&error_type), &body);
                            return Init::Failed { error_type, payload, message: None };
                        }
                        Some(_) => {}
                        None => return Init::TimedOut,
                    },
                    info = wait_exit(&mut exit) => {
                        let reason = info.reason();
                        return Init::Failed {
                            error_type: "Runtime.ExitError".into(),
                            payload: logfmt::exit_payload(request_id, &reason),
                            message: Some(format!(
                                "RequestId: {request_id} Error: Runtime exited with error: {reason}\nRuntime.ExitError"
                            )),
                        };
                    }
                }
            }
        };
        tokio::time::timeout(INIT_LIMIT + spec.timeout, wait)
            .await
            .unwrap_or(Init::TimedOut)
    }

    /// The result (and log lines) of an invocation whose instance never became ready.
    #[allow(clippy::too_many_arguments)]
    fn init_failed(
        &self,
        spec: &FunctionSpec,
        stream: &str,
        request: &InvokeRequest,
        init_ms: f64,
        max_memory_mb: u32,
        mut lines: Vec<(Millis, String)>,
        init: Init,
        mut out: LogOut,
    ) -> InvokeResult {
        let id = &request.request_id;
        let now = self.clock.now();
        let (error_type, payload, message, timed_out) = match init {
            Init::Failed {
                error_type,
                payload,
                message,
            } => (error_type, payload, message, false),
            Init::TimedOut | Init::Ready => (
                String::new(),
                logfmt::timeout_payload(id, spec.timeout),
                None,
                true,
            ),
        };
        let status = if timed_out {
            ("timeout", None)
        } else {
            ("error", Some(error_type.as_str()))
        };
        lines.push((now, logfmt::init_report_line(init_ms, status.0, status.1)));
        self.emit(spec, stream, lines, None);
        let mut lines = vec![(now, logfmt::start_line(id, &spec.version))];
        if let Some(m) = message {
            lines.push((now, m));
        }
        if timed_out {
            lines.push((now, logfmt::timeout_line(now, id, spec.timeout)));
        }
        lines.push((now, logfmt::end_line(id)));
        let billed_ms = logfmt::billed_ms(init_ms, None);
        lines.push((
            now,
            logfmt::report_line(&Report {
                request_id: id,
                duration_ms: init_ms,
                billed_ms,
                memory_mb: spec.memory_mb,
                max_memory_mb,
                init_ms: None,
                status: Some(status),
            }),
        ));
        self.emit(spec, stream, lines, Some(&mut out));
        InvokeResult {
            payload,
            function_error: Some(FunctionError::Unhandled),
            log_tail: out.finish(),
            duration_ms: init_ms,
            billed_ms,
            init_ms: None,
            max_memory_mb,
            timed_out,
        }
    }

    /// Runs one invocation on a ready instance. Returns the result and whether the instance
    /// may be reused.
    async fn run(
        &self,
        spec: &FunctionSpec,
        inst: &Arc<Instance>,
        request: &InvokeRequest,
        init_ms: Option<f64>,
        mut out: LogOut,
    ) -> (InvokeResult, bool) {
        let id = request.request_id.as_str();
        let mut events = inst.events.lock().await;
        // The `/next` that followed the previous answer, and anything else stale.
        while events.try_recv().is_ok() {}
        if init_ms.is_some() {
            // Init output belongs before START.
            inst.logs.drain(DRAIN_LIMIT).await;
        }
        let now = self.clock.now();
        self.emit(spec, &inst.stream, inst.logs.take(), None);
        self.emit(
            spec,
            &inst.stream,
            vec![(now, logfmt::start_line(id, &spec.version))],
            Some(&mut out),
        );

        inst.api.begin(id);
        let assigned = Instant::now();
        let assignment = Assignment {
            request_id: id.to_string(),
            payload: Bytes::from(request.payload.clone()),
            deadline_ms: now.saturating_add(spec.timeout.as_millis() as u64),
            function_arn: request
                .invoked_function_arn
                .clone()
                .unwrap_or_else(|| spec.arn.clone()),
            trace_header: request.trace_header.clone(),
            client_context: request.client_context.clone(),
            cognito_identity: request.cognito_identity.clone(),
        };
        let sent = inst.next_tx.try_send(assignment).is_ok();
        if !sent {
            // Only possible if the runtime never took an earlier assignment; it is unusable.
            inst.kill();
        }
        let mut exit = inst.exit.clone();
        let wait = async {
            loop {
                let tick = self.clock.sleep_until(self.clock.now() + FLUSH_EVERY_MS);
                tokio::select! {
                    biased;
                    ev = events.recv() => match ev {
                        Some(ApiEvent::Response { request_id, body }) if request_id == id => {
                            return Outcome::Response(body);
                        }
                        Some(ApiEvent::Error { request_id, error_type, body }) if request_id == id => {
                            return Outcome::Error(error_type, body);
                        }
                        Some(ApiEvent::TooLarge { request_id }) if request_id == id => {
                            return Outcome::TooLarge;
                        }
                        Some(_) => {}
                        None => return Outcome::Exited(ExitInfo { code: None, signal: None }),
                    },
                    info = wait_exit(&mut exit) => return Outcome::Exited(info),
                    () = tick => {
                        self.emit(spec, &inst.stream, inst.logs.take(), Some(&mut out));
                    }
                }
            }
        };
        let outcome = tokio::time::timeout(spec.timeout, wait)
            .await
            .unwrap_or(Outcome::TimedOut);
        let duration_ms = ms(assigned.elapsed());
        drop(events);

        let max_memory_mb = inst.max_memory_mb();
        let mut healthy = true;
        let mut timed_out = false;
        let mut function_error = Some(FunctionError::Unhandled);
        let mut status = None;
        let mut lambda_line = None;
        let payload = match outcome {
            Outcome::Response(body) => {
                function_error = None;
                body.to_vec()
            }
            Outcome::Error(error_type, body) => error_payload(error_type.as_deref(), &body),
            Outcome::TooLarge => logfmt::too_large_payload(),
            Outcome::Exited(info) => {
                inst.api.abandon();
                healthy = false;
                let reason = info.reason();
                status = Some(("error", Some("Runtime.ExitError")));
                lambda_line = Some(format!(
                    "RequestId: {id} Error: Runtime exited with error: {reason}\nRuntime.ExitError"
                ));
                logfmt::exit_payload(id, &reason)
            }
            Outcome::TimedOut => {
                inst.api.abandon();
                inst.kill();
                healthy = false;
                timed_out = true;
                status = Some(("timeout", None));
                lambda_line = Some(logfmt::timeout_line(self.clock.now(), id, spec.timeout));
                logfmt::timeout_payload(id, spec.timeout)
            }
        };
        // Everything the function wrote before it answered (or died) belongs to this
        // invocation.
        inst.logs.drain(DRAIN_LIMIT).await;
        let mut lines = inst.logs.take();
        let now = self.clock.now();
        if let Some(l) = lambda_line {
            lines.push((now, l));
        }
        lines.push((now, logfmt::end_line(id)));
        let billed_ms = logfmt::billed_ms(duration_ms, init_ms);
        lines.push((
            now,
            logfmt::report_line(&Report {
                request_id: id,
                duration_ms,
                billed_ms,
                memory_mb: spec.memory_mb,
                max_memory_mb,
                init_ms,
                status,
            }),
        ));
        self.emit(spec, &inst.stream, lines, Some(&mut out));
        let healthy = healthy && inst.exited().is_none();
        (
            InvokeResult {
                payload,
                function_error,
                log_tail: out.finish(),
                duration_ms,
                billed_ms,
                init_ms,
                max_memory_mb,
                timed_out,
            },
            healthy,
        )
    }

    fn emit(
        &self,
        spec: &FunctionSpec,
        stream: &str,
        lines: Vec<(Millis, String)>,
        out: Option<&mut LogOut>,
    ) {
        if lines.is_empty() {
            return;
        }
        if let Some(out) = out {
            out.keep(&lines);
        }
        self.logs
            .append(&spec.account, &spec.region, &spec.log_group, stream, lines);
    }

    /// Takes an idle instance of `spec`'s revision if there is one, and a busy slot either way.
    fn lease(&self, spec: &FunctionSpec) -> (Lease<'_>, Option<Arc<Instance>>) {
        let mut victims = Vec::new();
        let warm = {
            let mut pools = self.pools.lock();
            let pool = pools.entry(spec.arn.clone()).or_default();
            if pool.revision != spec.revision {
                pool.revision = spec.revision.clone();
                let (keep, old): (Vec<_>, Vec<_>) = pool
                    .idle
                    .drain(..)
                    .partition(|i| i.revision == spec.revision);
                pool.idle = keep;
                for i in old {
                    pool.live.remove(&i.id);
                    victims.push(i);
                }
            }
            let mut found = None;
            while let Some(i) = pool.idle.pop() {
                if i.exited().is_none() && !i.retired.load(Ordering::Acquire) {
                    i.idle.send_replace(None);
                    found = Some(i);
                    break;
                }
                pool.live.remove(&i.id);
                victims.push(i);
            }
            pool.busy += 1;
            found
        };
        drop(victims);
        let lease = Lease {
            inner: self,
            arn: spec.arn.clone(),
            inst: None,
            healthy: false,
        };
        (lease, warm)
    }

    fn register(&self, spec: &FunctionSpec, inst: &Arc<Instance>) {
        {
            let mut pools = self.pools.lock();
            let pool = pools.entry(spec.arn.clone()).or_default();
            pool.live.insert(inst.id, inst.clone());
            pool.cold_starts += 1;
        }
        if self.closed.load(Ordering::Acquire) {
            inst.kill();
        }
        self.spawn_reaper(spec.arn.clone(), inst);
    }

    fn add_init(&self, arn: &str, init_ms: f64) {
        if let Some(pool) = self.pools.lock().get_mut(arn) {
            pool.init_ms_total += init_ms;
        }
    }

    /// Ends a lease; returns the instance when it must be stopped.
    fn release(
        &self,
        arn: &str,
        inst: Option<Arc<Instance>>,
        healthy: bool,
    ) -> Option<Arc<Instance>> {
        let mut pools = self.pools.lock();
        let Some(pool) = pools.get_mut(arn) else {
            return inst;
        };
        pool.busy = pool.busy.saturating_sub(1);
        let inst = inst?;
        let keep = healthy
            && !self.closed.load(Ordering::Acquire)
            && !inst.retired.load(Ordering::Acquire)
            && inst.revision == pool.revision
            && inst.exited().is_none();
        if keep {
            inst.idle.send_replace(Some(self.clock.now()));
            pool.idle.push(inst);
            None
        } else {
            pool.live.remove(&inst.id);
            Some(inst)
        }
    }

    /// One task per instance: stops it once it has been idle for `idle_timeout`, and drops it
    /// from the pool as soon as its process dies while idle (a crash after answering).
    fn spawn_reaper(&self, arn: String, inst: &Arc<Instance>) {
        let mut idle = inst.idle.subscribe();
        let mut exit = inst.exit.clone();
        let weak = self.me.clone();
        let clock = self.clock.clone();
        let idle_ms = self.options.idle_timeout.as_millis() as Millis;
        let id = inst.id;
        tokio::spawn(async move {
            loop {
                let since = *idle.borrow_and_update();
                let expiry = async {
                    match since {
                        Some(t) => clock.sleep_until(t.saturating_add(idle_ms)).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = wait_exit(&mut exit) => {
                        // A busy instance is dropped by its invocation's release instead.
                        if let Some(inner) = weak.upgrade() {
                            inner.remove_idle(&arn, id, None);
                        }
                        return;
                    }
                    changed = idle.changed() => {
                        if changed.is_err() {
                            return;
                        }
                    }
                    () = expiry => {
                        let Some(inner) = weak.upgrade() else { return };
                        if inner.remove_idle(&arn, id, since) {
                            tracing::debug!(instance = id, arn, "reaped idle function instance");
                            return;
                        }
                        // Not reaped although still idle since then: it left the pool.
                        if *idle.borrow() == since {
                            return;
                        }
                    }
                }
            }
        });
    }

    /// Removes instance `id` from `arn`'s idle stack (if idle since `since`, when given) and
    /// stops it.
    fn remove_idle(&self, arn: &str, id: u64, since: Option<Millis>) -> bool {
        let victim = {
            let mut pools = self.pools.lock();
            let Some(pool) = pools.get_mut(arn) else {
                return false;
            };
            let Some(pos) = pool
                .idle
                .iter()
                .position(|i| i.id == id && (since.is_none() || *i.idle.borrow() == since))
            else {
                return false;
            };
            let inst = pool.idle.remove(pos);
            pool.live.remove(&id);
            inst
        };
        drop(victim);
        true
    }

    pub(crate) fn retire(&self, prefix: &str) {
        let mut victims = Vec::new();
        {
            let mut pools = self.pools.lock();
            for (_, pool) in pools.iter_mut().filter(|(arn, _)| arn.starts_with(prefix)) {
                for i in pool.idle.drain(..) {
                    pool.live.remove(&i.id);
                    victims.push(i);
                }
                for i in pool.live.values() {
                    i.retired.store(true, Ordering::Release);
                }
            }
        }
        drop(victims);
    }

    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        let victims: Vec<Arc<Instance>> = {
            let mut pools = self.pools.lock();
            pools
                .values_mut()
                .flat_map(|p| {
                    p.idle.clear();
                    p.live.drain().map(|(_, i)| i).collect::<Vec<_>>()
                })
                .collect()
        };
        // Busy instances are still held by their invocations: kill them now, those
        // invocations end with Runtime.ExitError.
        for v in &victims {
            v.kill();
        }
    }

    pub(crate) fn stats(&self, arn: &str) -> PoolStats {
        let pools = self.pools.lock();
        pools
            .get(arn)
            .map(|p| PoolStats {
                instances: p.live.len() as u32,
                busy: p.busy,
                cold_starts: p.cold_starts,
                init_ms_total: p.init_ms_total,
            })
            .unwrap_or_default()
    }
}
