//! One execution environment: a process (in its own process group) speaking the Runtime API on
//! its own loopback listener, with its output captured line by line.
//!
//! **Output capture.** The process's stdout and stderr are the write end of ONE pipe (so their
//! lines keep their relative order), and Ponte keeps a copy of that write end. To know that
//! every byte the function wrote before answering has been read — so a `print` just before
//! `return` is attributed to its invocation — the invoker writes a unique marker line into the
//! same pipe and waits until the reader reaches it ([`LogPipe::drain`]): pipes are FIFO, so
//! everything before the marker has then been read.
//!
//! **Stopping.** Dropping an [`Instance`] kills its process group (the runtime and anything it
//! started), stops its listener and reader, and removes its scratch directory (`TMPDIR`).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use ponte_types::{Millis, SharedClock};
use tokio::io::AsyncReadExt as _;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::AbortHandle;

use crate::api::{ApiEvent, ApiShared, Assignment};
use crate::bootstrap::{Installed, Kind, is_executable};
use crate::logfmt::{self, MAX_EVENT_BYTES};
use crate::{FunctionSpec, Options};

/// How the process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ExitInfo {
    pub code: Option<i32>,
    pub signal: Option<i32>,
}

impl ExitInfo {
    pub(crate) fn reason(&self) -> String {
        logfmt::exit_reason(self.code, self.signal)
    }
}

/// Why an instance could not be started.
#[derive(Debug)]
pub(crate) enum SpawnError {
    /// Ponte's side: no interpreter, no socket, no scratch dir (not the function's fault).
    Host(String),
    /// The package's entry point is missing or cannot be executed (`Runtime.InvalidEntrypoint`).
    Entrypoint(String),
}

/// Everything needed to start instances, shared by all of them.
pub(crate) struct SpawnCtx<'a> {
    pub clock: &'a SharedClock,
    pub options: &'a Options,
    pub installed: &'a Installed,
    pub interpreter: Option<PathBuf>,
}

/// A running execution environment.
pub(crate) struct Instance {
    pub id: u64,
    pub revision: String,
    pub stream: String,
    pub spawned: Instant,
    pub api: Arc<ApiShared>,
    pub next_tx: mpsc::Sender<Assignment>,
    /// Held by the one invoker using the instance.
    pub events: tokio::sync::Mutex<mpsc::UnboundedReceiver<ApiEvent>>,
    pub exit: watch::Receiver<Option<ExitInfo>>,
    pub logs: Arc<LogPipe>,
    /// Set by `retire`: the instance finishes what it runs and is then stopped.
    pub retired: AtomicBool,
    /// `Some(since)` while idle in the pool; watched by the instance's reaper.
    pub idle: watch::Sender<Option<Millis>>,
    pid: u32,
    max_memory_mb: AtomicU32,
    tasks: Vec<AbortHandle>,
    scratch: PathBuf,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance")
            .field("id", &self.id)
            .field("pid", &self.pid)
            .field("stream", &self.stream)
            .finish_non_exhaustive()
    }
}

impl Instance {
    /// Starts the process of `spec` and its Runtime API listener. Returns once the process is
    /// running; init is awaited by the caller (first `/next`).
    pub(crate) async fn spawn(
        id: u64,
        spec: &FunctionSpec,
        kind: Kind,
        ctx: SpawnCtx<'_>,
    ) -> Result<Arc<Instance>, SpawnError> {
        let host = |what: &str, e: std::io::Error| SpawnError::Host(format!("{what}: {e}"));
        let (program, args): (PathBuf, Vec<PathBuf>) = match kind {
            Kind::Python => (
                ctx.interpreter.clone().unwrap_or_else(|| "python3".into()),
                vec!["-u".into(), ctx.installed.python_script()],
            ),
            Kind::Node => (
                ctx.interpreter.clone().unwrap_or_else(|| "node".into()),
                vec![ctx.installed.node_script()],
            ),
            Kind::Provided => {
                let b = spec.code_dir.join("bootstrap");
                if !b.exists() {
                    return Err(SpawnError::Entrypoint(format!(
                        "Couldn't find valid bootstrap(s): [{}]",
                        b.display()
                    )));
                }
                if !is_executable(&b) {
                    return Err(SpawnError::Entrypoint(format!(
                        "fork/exec {}: permission denied",
                        b.display()
                    )));
                }
                (b, Vec::new())
            }
        };

        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| host("runtime API listener", e))?;
        let port = listener
            .local_addr()
            .map_err(|e| host("runtime API listener", e))?
            .port();
        let hex = uuid::Uuid::new_v4().simple().to_string();
        let stream = logfmt::stream_name(ctx.clock.now(), &spec.version, &hex);
        let scratch = ctx
            .options
            .work_dir
            .join("instances")
            .join(format!("{id}-{}", &hex[..8]));
        std::fs::create_dir_all(&scratch).map_err(|e| host("scratch dir", e))?;

        let env = environment(
            spec,
            kind,
            port,
            &stream,
            &scratch,
            ctx.installed,
            ctx.options,
        );

        // One pipe for stdout and stderr; Ponte keeps a writer for drain markers.
        let (reader, writer) = std::io::pipe().map_err(|e| host("pipe", e))?;
        let writer_err = writer.try_clone().map_err(|e| host("pipe", e))?;
        let marker_writer = File::from(std::os::fd::OwnedFd::from(
            writer.try_clone().map_err(|e| host("pipe", e))?,
        ));
        let reader =
            tokio::net::unix::pipe::Receiver::from_owned_fd(std::os::fd::OwnedFd::from(reader))
                .map_err(|e| host("pipe", e))?;

        let mut cmd = tokio::process::Command::new(&program);
        cmd.args(&args)
            .env_clear()
            .envs(&env)
            .current_dir(&spec.code_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::from(writer))
            .stderr(Stdio::from(writer_err))
            .kill_on_drop(true)
            // Its own process group, so a timeout or retire kills what the function started too.
            .process_group(0);
        let spawned = Instant::now();
        let child = cmd.spawn();
        // The command owns the child's pipe ends; close ours now.
        drop(cmd);
        let mut child = match child {
            Ok(c) => c,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&scratch);
                return Err(match kind {
                    Kind::Provided => {
                        SpawnError::Entrypoint(format!("fork/exec {}: {e}", program.display()))
                    }
                    _ => SpawnError::Host(format!("cannot start {}: {e}", program.display())),
                });
            }
        };
        let pid = child.id().unwrap_or(0);

        let ends = ApiShared::channels();
        let logs = Arc::new(LogPipe::new(marker_writer));
        let (exit_tx, exit_rx) = watch::channel(None);
        let (idle_tx, _) = watch::channel(None);

        let server = tokio::spawn(crate::api::serve(listener, ends.shared.clone())).abort_handle();
        let reader_task =
            tokio::spawn(read_output(reader, logs.clone(), ctx.clock.clone())).abort_handle();
        let waiter = tokio::spawn(async move {
            let status = child.wait().await;
            // The runtime is gone: whatever it started goes with it, as the whole sandbox
            // does on Lambda. Done at once, while the group id cannot have been reused.
            kill_group(pid);
            let info = match status {
                Ok(s) => {
                    use std::os::unix::process::ExitStatusExt;
                    ExitInfo {
                        code: s.code(),
                        signal: s.signal(),
                    }
                }
                Err(_) => ExitInfo {
                    code: None,
                    signal: None,
                },
            };
            let _ = exit_tx.send(Some(info));
        })
        .abort_handle();

        Ok(Arc::new(Instance {
            id,
            revision: spec.revision.clone(),
            stream,
            spawned,
            api: ends.shared,
            next_tx: ends.next_tx,
            events: tokio::sync::Mutex::new(ends.events),
            exit: exit_rx,
            logs,
            retired: AtomicBool::new(false),
            idle: idle_tx,
            pid,
            max_memory_mb: AtomicU32::new(0),
            tasks: vec![server, reader_task, waiter],
            scratch,
        }))
    }

    /// How the process ended, if it has.
    pub(crate) fn exited(&self) -> Option<ExitInfo> {
        *self.exit.borrow()
    }

    /// Kills the process group now (the exit is observed through [`Instance::exit`]).
    pub(crate) fn kill(&self) {
        if self.exited().is_none() {
            kill_group(self.pid);
        }
    }

    /// Peak resident memory of the instance's processes, MB, remembered across calls (Lambda
    /// reports the environment's peak, and a dead process can no longer be asked).
    pub(crate) fn max_memory_mb(&self) -> u32 {
        if self.exited().is_none()
            && let Some(kb) = tree_hwm_kb(self.pid)
        {
            let mb = kb.div_ceil(1024) as u32;
            self.max_memory_mb.fetch_max(mb, Ordering::Relaxed);
        }
        self.max_memory_mb.load(Ordering::Relaxed)
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
        for t in &self.tasks {
            t.abort();
        }
        let scratch = std::mem::take(&mut self.scratch);
        if scratch.as_os_str().is_empty() {
            return;
        }
        // A function may leave a lot in /tmp: remove it off the async workers when possible.
        match tokio::runtime::Handle::try_current() {
            Ok(h) => {
                h.spawn_blocking(move || {
                    let _ = std::fs::remove_dir_all(scratch);
                });
            }
            Err(_) => {
                let _ = std::fs::remove_dir_all(scratch);
            }
        }
    }
}

fn kill_group(pid: u32) {
    if let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        // ESRCH (already gone) is the expected failure.
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}

/// Sum of `VmHWM` over the process and its descendants, kB.
fn tree_hwm_kb(pid: u32) -> Option<u64> {
    fn hwm(pid: u32) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }
    let mut total = hwm(pid)?;
    let mut stack = vec![pid];
    let mut seen = 0;
    while let Some(p) = stack.pop() {
        seen += 1;
        if seen > 256 {
            break;
        }
        let Ok(children) = std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")) else {
            continue;
        };
        for c in children.split_whitespace().filter_map(|c| c.parse().ok()) {
            total += hwm(c).unwrap_or(0);
            stack.push(c);
        }
    }
    Some(total)
}

/// The environment Lambda gives a function, then the function's own variables on top.
fn environment(
    spec: &FunctionSpec,
    kind: Kind,
    port: u16,
    stream: &str,
    scratch: &Path,
    installed: &Installed,
    options: &Options,
) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    let mut set = |k: &str, v: String| {
        env.insert(k.to_string(), v);
    };
    let code = spec.code_dir.display().to_string();
    set("AWS_LAMBDA_FUNCTION_NAME", spec.name.clone());
    set("AWS_LAMBDA_FUNCTION_VERSION", spec.version.clone());
    set(
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        spec.memory_mb.to_string(),
    );
    set("AWS_LAMBDA_LOG_GROUP_NAME", spec.log_group.clone());
    set("AWS_LAMBDA_LOG_STREAM_NAME", stream.to_string());
    set("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"));
    set("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into());
    set("AWS_REGION", spec.region.clone());
    set("AWS_DEFAULT_REGION", spec.region.clone());
    set("AWS_ENDPOINT_URL", options.endpoint_url.clone());
    // Ponte maps a 12-digit access key to that account, so SDK calls made by the function act
    // in the function's own account.
    let key = if spec.account == ponte_types::DEFAULT_ACCOUNT
        || spec.account.len() != 12
        || !spec.account.bytes().all(|b| b.is_ascii_digit())
    {
        "test".to_string()
    } else {
        spec.account.clone()
    };
    set("AWS_ACCESS_KEY_ID", key);
    set("AWS_SECRET_ACCESS_KEY", "test".into());
    set("AWS_SESSION_TOKEN", "test".into());
    set("AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR".into());
    set("LAMBDA_TASK_ROOT", code.clone());
    set("_HANDLER", spec.handler.clone());
    set("TZ", ":UTC".into());
    set("LANG", "en_US.UTF-8".into());
    set("TMPDIR", scratch.display().to_string());
    set(
        "PATH",
        std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into()),
    );
    set("LD_LIBRARY_PATH", format!("{code}/lib"));
    match kind {
        Kind::Python => {
            set("AWS_EXECUTION_ENV", format!("AWS_Lambda_{}", spec.runtime));
            set(
                "LAMBDA_RUNTIME_DIR",
                installed.python_dir.display().to_string(),
            );
            // The code dir is read-only to functions, as /var/task is on Lambda. (A
            // PYTHONPYCACHEPREFIX would keep bytecode elsewhere, but it also moves the cache of
            // every site-packages module and made cold starts ~4x slower.)
            set("PYTHONDONTWRITEBYTECODE", "1".into());
        }
        Kind::Node => {
            set("AWS_EXECUTION_ENV", format!("AWS_Lambda_{}", spec.runtime));
            set(
                "LAMBDA_RUNTIME_DIR",
                installed.node_dir.display().to_string(),
            );
            set("NODE_PATH", format!("{code}:{code}/node_modules"));
        }
        Kind::Provided => {
            // Lambda sets no AWS_EXECUTION_ENV for OS-only runtimes.
            set("LAMBDA_RUNTIME_DIR", code.clone());
        }
    }
    for (k, v) in &spec.environment {
        set(k, v.clone());
    }
    env
}

/// Captured output lines of one instance, and the drain handshake.
#[derive(Debug)]
pub(crate) struct LogPipe {
    state: Mutex<LogState>,
    notify: Notify,
    writer: Arc<File>,
    /// `\0ponte-drain-<random>:`; a marker line is this plus a sequence number.
    marker: Vec<u8>,
}

#[derive(Debug, Default)]
struct LogState {
    lines: Vec<(Millis, String)>,
    /// Highest marker the reader has reached.
    drained: u64,
    /// Highest marker written.
    written: u64,
    /// The reader stopped (pipe error).
    closed: bool,
}

impl LogPipe {
    fn new(writer: File) -> Self {
        let marker = format!("\0ponte-drain-{}:", uuid::Uuid::new_v4().simple()).into_bytes();
        LogPipe {
            state: Mutex::new(LogState::default()),
            notify: Notify::new(),
            writer: Arc::new(writer),
            marker,
        }
    }

    /// Takes the lines captured so far.
    pub(crate) fn take(&self) -> Vec<(Millis, String)> {
        std::mem::take(&mut self.state.lock().lines)
    }

    /// Returns once everything written to the pipe before this call has been captured (or
    /// after `limit`, if the reader is stuck).
    pub(crate) async fn drain(&self, limit: Duration) {
        let seq = {
            let mut st = self.state.lock();
            if st.closed {
                return;
            }
            st.written += 1;
            st.written
        };
        let mut line = self.marker.clone();
        line.extend_from_slice(seq.to_string().as_bytes());
        line.push(b'\n');
        let w = self.writer.clone();
        // A pipe write blocks only while the pipe is full; the reader is emptying it.
        let wrote = tokio::task::spawn_blocking(move || (&*w).write_all(&line)).await;
        if !matches!(wrote, Ok(Ok(()))) {
            return;
        }
        let wait = async {
            loop {
                let notified = self.notify.notified();
                {
                    let st = self.state.lock();
                    if st.drained >= seq || st.closed {
                        return;
                    }
                }
                notified.await;
            }
        };
        let _ = tokio::time::timeout(limit, wait).await;
    }

    /// One raw line from the pipe (without its `\n`).
    fn on_line(&self, raw: &[u8], at: Millis, out: &mut Vec<(Millis, String)>, drained: &mut u64) {
        if raw.contains(&0)
            && let Some(pos) = find(raw, &self.marker)
        {
            let seq = std::str::from_utf8(&raw[pos + self.marker.len()..])
                .ok()
                .and_then(|s| s.parse::<u64>().ok());
            if let Some(seq) = seq {
                *drained = (*drained).max(seq);
                // Text the function wrote without a newline before the marker is its own line.
                if pos > 0 {
                    out.push((at, logfmt::line_text(&raw[..pos])));
                }
                return;
            }
        }
        out.push((at, logfmt::line_text(raw)));
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Reads the instance's output until the pipe fails or the task is aborted.
async fn read_output(
    mut rx: tokio::net::unix::pipe::Receiver,
    pipe: Arc<LogPipe>,
    clock: SharedClock,
) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut partial: Vec<u8> = Vec::new();
    loop {
        let n = match rx.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let at = clock.now();
        let mut out = Vec::new();
        let mut drained = 0;
        let mut rest = &buf[..n];
        while let Some(i) = rest.iter().position(|&b| b == b'\n') {
            if partial.is_empty() {
                pipe.on_line(&rest[..i], at, &mut out, &mut drained);
            } else {
                partial.extend_from_slice(&rest[..i]);
                pipe.on_line(&partial, at, &mut out, &mut drained);
                partial.clear();
            }
            rest = &rest[i + 1..];
        }
        partial.extend_from_slice(rest);
        while partial.len() > MAX_EVENT_BYTES {
            let tail = partial.split_off(MAX_EVENT_BYTES);
            out.push((at, logfmt::line_text(&partial)));
            partial = tail;
        }
        if !out.is_empty() || drained > 0 {
            let mut st = pipe.state.lock();
            st.lines.extend(out);
            st.drained = st.drained.max(drained);
        }
        if drained > 0 {
            pipe.notify.notify_waiters();
        }
    }
    let mut st = pipe.state.lock();
    if !partial.is_empty() {
        st.lines.push((clock.now(), logfmt::line_text(&partial)));
    }
    st.closed = true;
    drop(st);
    pipe.notify.notify_waiters();
}
