//! Deployment packages: checking a `ZipFile`, its digest, and unpacking it where the runtime
//! reads it (`<code_dir>/<account>/<region>/<function>/<sha256 hex>/`).
//!
//! The zip bytes themselves are durable in the store (`lambda_code`, keyed by digest); the
//! unpacked directory is a cache rebuilt on demand, so `--ephemeral` servers and lost temp
//! directories are fine.
//!
//! Guards: every entry must stay inside the target directory (no absolute paths, no `..`,
//! symlinks only to targets inside it), the declared uncompressed total must stay under AWS's
//! 250 MB limit, and each entry is read at most to its declared size (a lying header cannot
//! inflate further). Unix modes from the archive are kept, so `bootstrap` stays executable.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// AWS's limit on the unzipped size of a function package.
pub const UNZIPPED_LIMIT: u64 = 262_144_000;
/// AWS's limit on a zipped package uploaded directly.
pub const ZIPPED_LIMIT: usize = 52_428_800;
/// Entries per package Ponte accepts (a guard against archives of millions of empty files).
pub const MAX_ENTRIES: usize = 100_000;

const BAD_ZIP: &str = "Could not unzip uploaded file. Please check your file, then try to upload \
                       again.";

/// A checked package.
#[derive(Debug, Clone)]
pub struct Package {
    /// The zip.
    pub bytes: Vec<u8>,
    /// Base64 SHA-256 (`CodeSha256`).
    pub sha256: String,
    /// Hex SHA-256 (store key and directory name).
    pub hex: String,
}

/// Decodes and checks a base64 `ZipFile`.
pub fn from_base64(b64: &str) -> Result<Package> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| {
            Error::InvalidRequestContent(
                "Could not parse request body into json: Could not decode ZipFile as base64."
                    .into(),
            )
        })?;
    from_bytes(bytes)
}

/// Checks a zip and computes its digests.
pub fn from_bytes(bytes: Vec<u8>) -> Result<Package> {
    if bytes.len() > ZIPPED_LIMIT {
        return Err(Error::RequestTooLarge(format!(
            "Zipped size must be smaller than {ZIPPED_LIMIT} bytes"
        )));
    }
    inspect(&bytes)?;
    let digest = Sha256::digest(&bytes);
    Ok(Package {
        sha256: base64::engine::general_purpose::STANDARD.encode(digest),
        hex: hex::encode(digest),
        bytes,
    })
}

/// Reads the central directory: every name safe, total size within limits.
fn inspect(bytes: &[u8]) -> Result<()> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|_| Error::InvalidParameterValue(BAD_ZIP.into()))?;
    if zip.len() > MAX_ENTRIES {
        return Err(Error::InvalidParameterValue(BAD_ZIP.into()));
    }
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .map_err(|_| Error::InvalidParameterValue(BAD_ZIP.into()))?;
        if entry.enclosed_name().is_none() {
            return Err(Error::InvalidParameterValue(BAD_ZIP.into()));
        }
        total = total.saturating_add(entry.size());
        if total > UNZIPPED_LIMIT {
            return Err(Error::InvalidParameterValue(format!(
                "Unzipped size must be smaller than {UNZIPPED_LIMIT} bytes"
            )));
        }
    }
    Ok(())
}

/// Where a package of a function is unpacked.
pub fn dir_for(root: &Path, account: &str, region: &str, function: &str, hex: &str) -> PathBuf {
    root.join(account).join(region).join(function).join(hex)
}

/// Marker written last, so a directory is used only when complete.
const DONE: &str = ".ponte-unpacked";

/// True when `dir` holds a complete unpacked package.
pub fn is_unpacked(dir: &Path) -> bool {
    dir.join(DONE).exists()
}

/// Unpacks `bytes` into `dir` (blocking I/O: call from a blocking task). Unpacks into a sibling
/// temporary directory and renames it into place, so concurrent callers and crashes never
/// leave a half-written package in use.
pub fn unpack(bytes: &[u8], dir: &Path) -> Result<()> {
    if is_unpacked(dir) {
        return Ok(());
    }
    let io = |e: std::io::Error| Error::Service(format!("Could not unpack the function code: {e}"));
    let parent = dir
        .parent()
        .ok_or_else(|| Error::Service("bad code directory".into()))?;
    std::fs::create_dir_all(parent).map_err(io)?;
    let tmp = parent.join(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
    let result = unpack_into(bytes, &tmp);
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    std::fs::write(tmp.join(DONE), b"").map_err(io)?;
    match std::fs::rename(&tmp, dir) {
        Ok(()) => Ok(()),
        // Another caller finished first; theirs is identical.
        Err(_) if is_unpacked(dir) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Err(io(e))
        }
    }
}

fn unpack_into(bytes: &[u8], root: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let io = |e: std::io::Error| Error::Service(format!("Could not unpack the function code: {e}"));
    std::fs::create_dir_all(root).map_err(io)?;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|_| Error::InvalidZipFile(BAD_ZIP.into()))?;
    let mut written: u64 = 0;
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|_| Error::InvalidZipFile(BAD_ZIP.into()))?;
        let Some(rel) = entry.enclosed_name() else {
            return Err(Error::InvalidZipFile(BAD_ZIP.into()));
        };
        let path = root.join(&rel);
        let mode = entry.unix_mode();
        if entry.is_dir() {
            std::fs::create_dir_all(&path).map_err(io)?;
            continue;
        }
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(io)?;
        }
        let is_link = mode.is_some_and(|m| m & 0o170000 == 0o120000);
        let declared = entry.size();
        let mut data = Vec::with_capacity(declared.min(1 << 20) as usize);
        (&mut entry)
            .take(declared)
            .read_to_end(&mut data)
            .map_err(|_| Error::InvalidZipFile(BAD_ZIP.into()))?;
        written = written.saturating_add(data.len() as u64);
        if written > UNZIPPED_LIMIT {
            return Err(Error::InvalidParameterValue(format!(
                "Unzipped size must be smaller than {UNZIPPED_LIMIT} bytes"
            )));
        }
        if is_link {
            let target = String::from_utf8_lossy(&data).into_owned();
            if link_stays_inside(&rel, Path::new(&target)) {
                std::os::unix::fs::symlink(&target, &path).map_err(io)?;
            }
            continue;
        }
        std::fs::write(&path, &data).map_err(io)?;
        let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let perm = match mode {
            Some(m) if m & 0o777 != 0 => m & 0o777,
            // Archives made without Unix modes: Lambda's `bootstrap` must still run.
            _ if name == "bootstrap" => 0o755,
            _ => 0o644,
        };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(perm | 0o400))
            .map_err(io)?;
    }
    Ok(())
}

/// A relative symlink target that, resolved from the link's directory, stays inside the package.
fn link_stays_inside(link: &Path, target: &Path) -> bool {
    if target.is_absolute() {
        return false;
    }
    let mut depth: i64 = link.components().count() as i64 - 1;
    for c in target.components() {
        match c {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            _ => return false,
        }
        if depth < 0 {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    pub(crate) fn make_zip(files: &[(&str, &[u8], u32)]) -> Vec<u8> {
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut buf);
            for (name, data, mode) in files {
                let opts = zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Stored)
                    .unix_permissions(*mode);
                w.start_file(*name, opts).unwrap();
                w.write_all(data).unwrap();
            }
            w.finish().unwrap();
        }
        buf.into_inner()
    }

    #[test]
    fn unpacks_with_modes_and_refuses_traversal() {
        let zip = make_zip(&[
            ("bootstrap", b"#!/bin/sh\necho hi\n", 0o755),
            ("lib/app.py", b"x = 1\n", 0o644),
        ]);
        let p = from_bytes(zip).unwrap();
        assert_eq!(p.hex.len(), 64);
        let tmp = tempfile::tempdir().unwrap();
        let dir = dir_for(tmp.path(), "000000000000", "us-east-1", "f", &p.hex);
        unpack(&p.bytes, &dir).unwrap();
        assert!(is_unpacked(&dir));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("bootstrap"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
        assert_eq!(std::fs::read(dir.join("lib/app.py")).unwrap(), b"x = 1\n");
        // Unpacking again is a no-op.
        unpack(&p.bytes, &dir).unwrap();

        let evil = make_zip(&[("../../etc/evil", b"x", 0o644)]);
        assert!(matches!(
            from_bytes(evil),
            Err(Error::InvalidParameterValue(_))
        ));
        assert!(matches!(
            from_bytes(b"not a zip".to_vec()),
            Err(Error::InvalidParameterValue(_))
        ));
        assert!(from_base64("!!!").is_err());
        assert!(link_stays_inside(Path::new("a/b"), Path::new("../c")));
        assert!(!link_stays_inside(Path::new("a"), Path::new("../../c")));
        assert!(!link_stays_inside(Path::new("a"), Path::new("/etc/passwd")));
    }
}
