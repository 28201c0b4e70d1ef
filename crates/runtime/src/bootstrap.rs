//! The bundled runtimes and how each kind of function is started.
//!
//! `python3.*` and `nodejs*.x` run Ponte's own standard-library-only bootstraps (embedded here,
//! written under `<work_dir>/runtime/` at start) on the host's interpreter; `provided*` runs the
//! package's own executable `bootstrap`, as Lambda does.
//!
//! Divergence: Lambda runs each `python3.x` on exactly that Python. Ponte prefers a host
//! `python3.x` of the same minor version when one works and falls back to `python3`; every
//! `nodejs*.x` runs on the host's `node`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use parking_lot::Mutex;

/// The python bootstrap (stdlib only).
const PYTHON_BOOTSTRAP: &str = include_str!("../bootstraps/python/bootstrap.py");
/// The node bootstrap (CommonJS, stdlib only; `.cjs` so a `"type": "module"` package.json
/// above the work dir cannot turn it into an ES module).
const NODE_BOOTSTRAP: &str = include_str!("../bootstraps/node/bootstrap.cjs");

/// What starts a function's instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Python,
    Node,
    Provided,
}

impl Kind {
    /// The kind of a supported runtime identifier.
    pub(crate) fn of(runtime: &str) -> Option<Kind> {
        if !crate::SUPPORTED_RUNTIMES.contains(&runtime) {
            return None;
        }
        Some(if runtime.starts_with("python") {
            Kind::Python
        } else if runtime.starts_with("nodejs") {
            Kind::Node
        } else {
            Kind::Provided
        })
    }
}

/// Where the bundled bootstraps were written.
#[derive(Debug, Clone)]
pub(crate) struct Installed {
    pub python_dir: PathBuf,
    pub node_dir: PathBuf,
}

impl Installed {
    pub(crate) fn python_script(&self) -> PathBuf {
        self.python_dir.join("bootstrap.py")
    }

    pub(crate) fn node_script(&self) -> PathBuf {
        self.node_dir.join("bootstrap.cjs")
    }
}

/// Writes the bootstraps under `work_dir/runtime` (rewriting only what changed).
pub(crate) fn install(work_dir: &Path) -> std::io::Result<Installed> {
    let root = work_dir.join("runtime");
    let python_dir = root.join("python");
    let node_dir = root.join("node");
    for d in [&python_dir, &node_dir] {
        std::fs::create_dir_all(d)?;
    }
    write_if_changed(&python_dir.join("bootstrap.py"), PYTHON_BOOTSTRAP)?;
    write_if_changed(&node_dir.join("bootstrap.cjs"), NODE_BOOTSTRAP)?;
    Ok(Installed {
        python_dir,
        node_dir,
    })
}

fn write_if_changed(path: &Path, text: &str) -> std::io::Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == text.as_bytes()) {
        return Ok(());
    }
    // Write then rename so a concurrently starting instance never reads half a file.
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

/// Finds `name` on the server's `PATH`.
fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

/// True for a regular file with an execute bit.
pub(crate) fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Resolved interpreters, per runtime identifier. Resolution asks the interpreter for its real
/// path once: version-manager shims (pyenv) cost ~100 ms per start, the binary behind them ~0.
#[derive(Debug, Default)]
pub(crate) struct Interpreters {
    cache: Mutex<HashMap<String, PathBuf>>,
}

impl Interpreters {
    /// The interpreter for `runtime` (python or node kinds), or why there is none.
    pub(crate) async fn resolve(&self, runtime: &str, kind: Kind) -> Result<PathBuf, String> {
        if let Some(p) = self.cache.lock().get(runtime) {
            return Ok(p.clone());
        }
        let (candidates, probe): (Vec<String>, &[&str]) = match kind {
            Kind::Python => {
                let minor = runtime.trim_start_matches("python");
                (
                    vec![format!("python{minor}"), "python3".to_string()],
                    &["-c", "import sys; print(sys.executable)"],
                )
            }
            Kind::Node => (
                vec!["node".to_string()],
                &["-e", "console.log(process.execPath)"],
            ),
            Kind::Provided => return Err("provided runtimes have no interpreter".into()),
        };
        for name in &candidates {
            let Some(path) = which(name) else { continue };
            let out = tokio::process::Command::new(&path)
                .args(probe)
                .stdin(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .output()
                .await;
            let Ok(out) = out else { continue };
            if !out.status.success() {
                continue;
            }
            let real = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            let resolved = if is_executable(&real) { real } else { path };
            self.cache
                .lock()
                .insert(runtime.to_string(), resolved.clone());
            return Ok(resolved);
        }
        Err(format!(
            "no working {} on PATH for runtime {runtime}",
            candidates.join(" or ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(Kind::of("python3.12"), Some(Kind::Python));
        assert_eq!(Kind::of("nodejs20.x"), Some(Kind::Node));
        assert_eq!(Kind::of("provided.al2023"), Some(Kind::Provided));
        assert_eq!(Kind::of("java21"), None);
        assert_eq!(Kind::of("python2.7"), None);
    }

    #[test]
    fn install_writes_bootstraps_once() {
        let dir = tempfile::tempdir().unwrap();
        let a = install(dir.path()).unwrap();
        let text = std::fs::read_to_string(a.python_script()).unwrap();
        assert!(text.contains("/invocation/next"));
        assert!(
            std::fs::read_to_string(a.node_script())
                .unwrap()
                .contains("/invocation/next")
        );
        install(dir.path()).unwrap();
    }
}
