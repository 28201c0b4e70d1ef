//! Background work: the scheduler, replays, archive retention, and the `events` delivery
//! target (event bus → event bus).
//!
//! - Scheduler: one task. It fires every due scheduled rule (`Events::fire_due_schedules`),
//!   records each firing durably (so a restart neither repeats it nor makes up missed ones),
//!   then sleeps on the clock until the next one is due, at most one minute, or until a rule
//!   changes.
//! - Replays: one task per running replay; replays cut short by a restart run again from their
//!   window's start (delivery is at least once, as on AWS).
//! - Retention: a sweep every hour of AWS time (scaled, at least every second of real time).

use std::sync::Arc;
use std::time::Duration;

use ponte_delivery::{BoxFuture, Job, Outcome, Target};
use tokio::sync::watch;

use crate::engine::{Events, Key3};

/// The outbox target for ARN service `events`: puts forwarded events on the named bus.
#[derive(Debug, Clone)]
pub struct BusTarget {
    events: Events,
}

impl Target for BusTarget {
    fn deliver<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, Outcome> {
        Box::pin(self.events.deliver_to_bus(job))
    }
}

impl Events {
    /// The delivery target for event bus ARNs; [`Events::open`] registers it with the outbox.
    pub fn bus_target(&self) -> Arc<dyn Target> {
        Arc::new(BusTarget {
            events: self.clone(),
        })
    }

    /// Starts the scheduler, the retention sweeper and unfinished replays (once; later calls
    /// only add `shutdown` as another way to stop them). [`Events::open`] already calls this
    /// with a signal of its own when it runs inside a tokio runtime, so a server that never
    /// calls it still gets schedules and replays; calling it hands over the server's shutdown.
    pub fn start_background(&self, shutdown: watch::Receiver<bool>) {
        let stop_tx = self.inner.stop.clone();
        let mut external = shutdown;
        tokio::spawn(async move {
            loop {
                if *external.borrow() {
                    let _ = stop_tx.send(true);
                    return;
                }
                if external.changed().await.is_err() {
                    return;
                }
            }
        });
        self.start_once();
    }

    pub(crate) fn start_once(&self) {
        {
            let mut bg = self.inner.background.lock();
            if bg.is_some() {
                return;
            }
            *bg = Some(self.inner.stop.subscribe());
        }
        let me = self.clone();
        let mut stop = self.inner.stop.subscribe();
        tokio::spawn(async move {
            loop {
                let now = me.now();
                let next = match me.fire_due_schedules(now).await {
                    Ok(n) => n,
                    Err(e) => {
                        tracing::warn!(error = %e, "events: scheduled rules not fired");
                        None
                    }
                };
                let wake = next
                    .map_or(now + 60_000, |n| n.min(now + 60_000))
                    .max(now + 1);
                tokio::select! {
                    _ = me.inner.clock.sleep_until(wake) => {}
                    _ = me.inner.schedules_changed.notified() => {}
                    _ = stop.changed() => return,
                }
                if *stop.borrow() {
                    return;
                }
            }
        });
        let me = self.clone();
        let mut stop = self.inner.stop.subscribe();
        tokio::spawn(async move {
            loop {
                let tick = me
                    .inner
                    .clock
                    .scaled(Duration::from_secs(3600))
                    .max(Duration::from_secs(1));
                let wake = me.now() + tick.as_millis() as u64;
                tokio::select! {
                    _ = me.inner.clock.sleep_until(wake) => {}
                    _ = stop.changed() => return,
                }
                if *stop.borrow() {
                    return;
                }
                if let Err(e) = me.sweep_archives(me.now()).await {
                    tracing::warn!(error = %e, "events: archive retention sweep failed");
                }
            }
        });
        for key in self.unfinished_replays() {
            self.spawn_replay(key);
        }
    }

    /// Runs a replay in a task of its own, once background work has started (until then the
    /// replay waits in `STARTING`; [`Events::start_background`] picks it up).
    pub(crate) fn spawn_replay(&self, key: Key3) {
        if self.inner.background.lock().is_none() {
            return;
        }
        if !self.inner.running_replays.lock().insert(key.clone()) {
            return;
        }
        let me = self.clone();
        tokio::spawn(async move {
            if let Err(e) = me.run_replay(&key).await {
                tracing::warn!(replay = %key.2, error = %e, "events: replay stopped");
            }
            me.inner.running_replays.lock().remove(&key);
        });
    }
}
