//! The Lambda engine: functions and event source mappings in memory, every change written
//! through the store before it is acknowledged.
//!
//! # Concurrency and durability
//! One mutex guards [`State`]. A mutating operation validates, changes memory and stages its
//! rows into one [`WriteBatch`] under the lock, submits the batch (fixing its place in the
//! store's order) and releases the lock; it answers only after the commit resolves
//! ([`Lambda::locked`], the same pattern as the SQS engine). Slow work (unzipping packages,
//! running functions) happens outside the lock.
//!
//! # Store layout (values are JSON)
//! | table | key | value |
//! |---|---|---|
//! | `lambda_function` | `account/region/name` | [`Function`]: `$LATEST`, versions, aliases, tags, concurrency, recursion, event invoke configs, policies |
//! | `lambda_code` | SHA-256 hex of the zip | the zip bytes (shared by every version using them) |
//! | `lambda_esm` | mapping UUID | [`crate::esm::Esm`] |
//! | `lambda_meter` | epoch ms (16 hex) `/` request id | one invocation's [`crate::invoke::MeterRecord`] |
//!
//! A code row is deleted in the same batch as the last function row that referenced it.
//! Unpacked packages under `code_dir` are a cache, rebuilt from `lambda_code` on demand.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use ponte_store::{Commit, WriteBatch};
use ponte_types::Millis;
use tokio::sync::watch;

use crate::Deps;
use crate::error::{Error, Result};
use crate::esm::Esm;
use crate::model::Function;

/// Table of functions.
pub const FUNCTIONS: &str = "lambda_function";
/// Table of deployment packages.
pub const CODE: &str = "lambda_code";
/// Table of event source mappings.
pub const ESMS: &str = "lambda_esm";
/// Table of invocation meter records.
pub const METER: &str = "lambda_meter";

/// The account-wide concurrency limit per region when none is configured (aws-facts §1).
pub const DEFAULT_ACCOUNT_CONCURRENCY: u64 = 1000;

/// `(account, region, name)`.
pub type FnKey = (String, String, String);

/// Store key of a function row.
pub fn fn_key(account: &str, region: &str, name: &str) -> Vec<u8> {
    format!("{account}/{region}/{name}").into_bytes()
}

/// Everything behind the engine lock.
#[derive(Default)]
pub struct State {
    /// Functions.
    pub functions: HashMap<FnKey, Function>,
    /// Event source mappings by UUID.
    pub esms: BTreeMap<String, Esm>,
}

impl State {
    /// A function by key.
    pub fn get(&self, account: &str, region: &str, name: &str) -> Option<&Function> {
        self.functions
            .get(&(account.to_owned(), region.to_owned(), name.to_owned()))
    }

    /// A function by key, mutably.
    pub fn get_mut(&mut self, account: &str, region: &str, name: &str) -> Option<&mut Function> {
        self.functions
            .get_mut(&(account.to_owned(), region.to_owned(), name.to_owned()))
    }

    /// Stages the row of `f`.
    pub fn put_fn(b: &mut WriteBatch, f: &Function) {
        b.put(
            FUNCTIONS,
            fn_key(&f.account, &f.region, &f.name),
            serde_json::to_vec(f).unwrap_or_default(),
        );
    }

    /// True when any function still uses the package `hex` (other than `except`).
    pub fn code_in_use(&self, sha256_b64: &str) -> bool {
        self.functions
            .values()
            .any(|f| f.code_digests().any(|d| d == sha256_b64))
    }

    /// Sum of reserved concurrency of a region's functions.
    pub fn reserved_sum(&self, account: &str, region: &str) -> u64 {
        self.functions
            .values()
            .filter(|f| f.account == account && f.region == region)
            .filter_map(|f| f.reserved_concurrency)
            .sum()
    }
}

/// Counters for tests and health output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Invocations that ran (sync, async attempts and event source batches).
    pub invocations: u64,
    /// Of those, function errors (including timeouts).
    pub function_errors: u64,
    /// Invocations refused for concurrency.
    pub throttles: u64,
    /// Invocations stopped as recursive loops.
    pub recursion_stops: u64,
    /// Cold starts seen.
    pub cold_starts: u64,
    /// Async invocations accepted (202).
    pub async_accepted: u64,
    /// Messages event source mappings handed to functions.
    pub esm_messages: u64,
    /// Messages event source mappings deleted because no filter matched.
    pub esm_filtered: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub invocations: AtomicU64,
    pub function_errors: AtomicU64,
    pub throttles: AtomicU64,
    pub recursion_stops: AtomicU64,
    pub cold_starts: AtomicU64,
    pub async_accepted: AtomicU64,
    pub esm_messages: AtomicU64,
    pub esm_filtered: AtomicU64,
}

impl Counters {
    pub fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// In-flight invocations: per function and, for functions without reserved concurrency, per
/// account and region (the unreserved pool).
#[derive(Default)]
pub(crate) struct InFlight {
    pub per_function: HashMap<FnKey, u64>,
    pub unreserved: HashMap<(String, String), u64>,
}

pub(crate) struct Inner {
    pub state: Mutex<State>,
    pub deps: Deps,
    pub in_flight: Mutex<InFlight>,
    pub account_limit: AtomicU64,
    pub counters: Counters,
    pub rng: Mutex<u64>,
    /// Stops pollers: set on [`crate::Lambda::start`]'s shutdown, and per mapping.
    pub shutdown: watch::Sender<bool>,
    /// Running pollers by mapping UUID: a generation (so an exiting poller never unregisters
    /// its successor) and its stop switch.
    pub pollers: Mutex<HashMap<String, (u64, watch::Sender<bool>)>>,
    /// The next poller generation.
    pub poller_gen: AtomicU64,
}

impl Inner {
    /// Submits `f`'s batch under the lock; the caller awaits the commit outside it.
    pub fn locked<T>(
        &self,
        f: impl FnOnce(&mut State, &mut WriteBatch) -> Result<T>,
    ) -> Result<(T, Commit)> {
        let mut st = self.state.lock();
        let mut b = WriteBatch::new();
        let out = f(&mut st, &mut b)?;
        Ok((out, self.deps.store.commit(b)))
    }

    /// Runs `f` under the lock, commits its batch, and waits for durability.
    pub async fn mutate<T>(
        &self,
        f: impl FnOnce(&mut State, &mut WriteBatch) -> Result<T>,
    ) -> Result<T> {
        let (out, commit) = self.locked(f)?;
        commit.await?;
        Ok(out)
    }

    pub fn now(&self) -> Millis {
        self.deps.clock.now()
    }

    /// A uniform draw in `[0, 1)` (xorshift64*, seeded at start).
    pub fn draw(&self) -> f64 {
        let mut s = self.rng.lock();
        let mut x = *s;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *s = x;
        let v = x.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (v >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Loads functions and mappings from the store.
pub(crate) fn load(deps: &Deps) -> Result<State> {
    let mut st = State::default();
    for (k, v) in deps.store.scan(FUNCTIONS, b"")? {
        match serde_json::from_slice::<Function>(&v) {
            Ok(f) => {
                st.functions
                    .insert((f.account.clone(), f.region.clone(), f.name.clone()), f);
            }
            Err(e) => tracing::warn!(key = ?String::from_utf8_lossy(&k), error = %e,
                "lambda: skipping unreadable function record"),
        }
    }
    for (k, v) in deps.store.scan(ESMS, b"")? {
        match serde_json::from_slice::<Esm>(&v) {
            Ok(m) => {
                st.esms.insert(m.uuid.clone(), m);
            }
            Err(e) => tracing::warn!(key = ?String::from_utf8_lossy(&k), error = %e,
                "lambda: skipping unreadable event source mapping"),
        }
    }
    Ok(st)
}

/// A fresh revision id.
pub fn new_revision() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A not-found error naming `arn`.
pub fn not_found(arn: &str) -> Error {
    Error::ResourceNotFound(format!("Function not found: {arn}"))
}
