//! The control plane: every Lambda operation except invocation and event source mappings,
//! from its awsJson-shaped input to its awsJson-shaped output, with AWS's validation and
//! messages. Each mutation goes through [`Inner::mutate`] (committed before the answer).

use std::collections::BTreeMap;

use ponte_types::RequestContext;
use serde_json::{Map, Value, json};

use crate::Lambda;
use crate::code;
use crate::engine::{CODE, DEFAULT_ACCOUNT_CONCURRENCY, Inner, State, new_revision, not_found};
use crate::error::{Error, REVISION_MISMATCH, Result, validation};
use crate::model::{
    self, Alias, Config, EventInvokeConfig, Function, View, boolean, int_in, render_alias,
    render_config, render_invoke_config, s,
};
use crate::names::{self, FnRef, LATEST};

/// Length limit of `FunctionName` members (`FunctionName` shape).
pub const NAME_MAX: usize = 140;
/// Length limit of `NamespacedFunctionName` members.
pub const NAMESPACED_MAX: usize = 170;
/// The fewest unreserved concurrent executions an account keeps (AWS: 100).
pub const MIN_UNRESERVED: u64 = 100;

/// Lambda's default page size for list operations.
const PAGE: usize = 50;

fn required<'a>(input: &'a Value, key: &str, field: &str) -> Result<&'a str> {
    s(input, key).ok_or_else(|| {
        Error::Validation(format!(
            "1 validation error detected: Value null at '{field}' failed to satisfy constraint: \
             Member must not be null"
        ))
    })
}

fn fn_ref(ctx: &RequestContext, input: &Value, max: usize) -> Result<FnRef> {
    let name = required(input, "FunctionName", "functionName")?;
    names::resolve(ctx, name, s(input, "Qualifier"), max)
}

/// Pages `items` (already sorted by `key`) after `marker`, `MaxItems` at a time.
fn page<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> String,
    input: &Value,
) -> Result<(Vec<T>, Option<String>)> {
    let max = int_in(input, "MaxItems", "maxItems", 1, 10_000)?.unwrap_or(PAGE as i64) as usize;
    let start = match s(input, "Marker") {
        Some(m) if !m.is_empty() => items.iter().position(|i| key(i) == m).ok_or_else(|| {
            Error::InvalidParameterValue("Invalid marker: the pagination marker is invalid.".into())
        })?,
        _ => 0,
    };
    let mut rest: Vec<T> = items.into_iter().skip(start).collect();
    let next = (rest.len() > max).then(|| key(&rest[max]));
    rest.truncate(max);
    Ok((rest, next))
}

fn with_marker(mut out: Value, next: Option<String>) -> Value {
    if let Some(n) = next {
        out["NextMarker"] = n.into();
    }
    out
}

/// Looks a function up by reference, with AWS's not-found message (unqualified ARN).
pub(crate) fn find<'a>(st: &'a State, r: &FnRef) -> Result<&'a Function> {
    st.get(&r.account, &r.region, &r.name)
        .ok_or_else(|| not_found(&r.arn()))
}

pub(crate) fn find_mut<'a>(st: &'a mut State, r: &FnRef) -> Result<&'a mut Function> {
    let arn = r.arn();
    st.get_mut(&r.account, &r.region, &r.name)
        .ok_or_else(|| not_found(&arn))
}

/// Resolves an optional qualifier of `f` to (version, arn suffix): aliases to their primary
/// version, versions and `$LATEST` to themselves; unknown ones are not found.
pub(crate) fn resolve_version(
    f: &Function,
    qualifier: Option<&str>,
) -> Result<(String, Option<String>)> {
    let Some(q) = qualifier else {
        return Ok((LATEST.to_owned(), None));
    };
    if let Some(a) = f.aliases.get(q) {
        return Ok((a.function_version.clone(), Some(q.to_owned())));
    }
    if f.config(q).is_some() {
        return Ok((q.to_owned(), Some(q.to_owned())));
    }
    Err(not_found(&format!("{}:{q}", f.arn())))
}

/// Checks an optional qualifier names something of `f`, with Lambda's messages for aliases
/// ("Cannot find alias arn") and versions ("Function not found").
fn check_qualifier(f: &Function, q: &str) -> Result<()> {
    if f.has_qualifier(q) {
        return Ok(());
    }
    let arn = format!("{}:{q}", f.arn());
    if names::is_alias_name(q) {
        Err(Error::ResourceNotFound(format!(
            "Cannot find alias arn: {arn}"
        )))
    } else {
        Err(not_found(&arn))
    }
}

fn in_progress(mut v: Value) -> Value {
    v["LastUpdateStatus"] = "InProgress".into();
    v["LastUpdateStatusReason"] = "The function is being created.".into();
    v["LastUpdateStatusReasonCode"] = "Creating".into();
    v
}

/// Publishes `$LATEST` as a new version unless it is unchanged since the last publish (then
/// the last version is returned, as AWS does). Returns the version number.
fn publish(f: &mut Function, description: Option<&str>, now: u64) -> u64 {
    if let Some((n, last)) = f.versions.iter().next_back()
        && last.internal_revision == f.latest.internal_revision
        && *n + 1 == f.next_version
    {
        return *n;
    }
    let n = f.next_version;
    f.next_version += 1;
    let mut c = f.latest.clone();
    if let Some(d) = description {
        c.description = d.to_owned();
    }
    c.last_modified = now;
    c.revision_id = new_revision();
    f.versions.insert(n, c);
    // AWS gives $LATEST a new revision id when a version is published from it.
    f.latest.revision_id = new_revision();
    n
}

impl Lambda {
    fn inner(&self) -> &Inner {
        &self.inner
    }

    /// Stages the package's row and unpacks it for the runtime (outside the lock).
    async fn prepare_code(
        &self,
        account: &str,
        region: &str,
        name: &str,
        zip_b64: &str,
    ) -> Result<code::Package> {
        let b64 = zip_b64.to_owned();
        let root = self.inner().deps.code_dir.clone();
        let (account, region, name) = (account.to_owned(), region.to_owned(), name.to_owned());
        tokio::task::spawn_blocking(move || {
            let pkg = code::from_base64(&b64)?;
            let dir = code::dir_for(&root, &account, &region, &name, &pkg.hex);
            code::unpack(&pkg.bytes, &dir)?;
            Ok(pkg)
        })
        .await
        .map_err(|e| Error::Service(format!("unpacking failed: {e}")))?
    }

    // ----- functions ----------------------------------------------------------------------

    pub(crate) async fn create_function(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Result<Value> {
        let raw = required(&input, "FunctionName", "functionName")?;
        let r = names::resolve(ctx, raw, None, NAME_MAX)?;
        if r.qualifier.is_some() {
            return Err(validation(
                raw,
                "functionName",
                &format!(
                    "Member must satisfy regular expression pattern: {}",
                    names::FUNCTION_NAME_PATTERN
                ),
            ));
        }
        if r.name.len() > 64 {
            return Err(Error::InvalidParameterValue(format!(
                "1 validation error detected: Value '{}' at 'functionName' failed to satisfy \
                 constraint: Member must have length less than or equal to 64",
                r.name
            )));
        }
        if r.account != ctx.account {
            return Err(Error::InvalidParameterValue(format!(
                "Functions can only be created in the caller's account ({}).",
                ctx.account
            )));
        }
        required(&input, "Role", "role")?;
        match s(&input, "PackageType").unwrap_or("Zip") {
            "Zip" => {}
            "Image" => {
                return Err(Error::InvalidParameterValue(
                    "Ponte does not run container images (PackageType Image): deploy the function \
                     as a .zip package (Code.ZipFile)."
                        .into(),
                ));
            }
            other => {
                return Err(validation(
                    other,
                    "packageType",
                    "Member must satisfy enum value set: [Image, Zip]",
                ));
            }
        }
        let code_in = input.get("Code").cloned().unwrap_or(json!({}));
        if s(&code_in, "ImageUri").is_some() {
            return Err(Error::InvalidParameterValue(
                "Ponte does not run container images (Code.ImageUri): deploy the function as a \
                 .zip package (Code.ZipFile)."
                    .into(),
            ));
        }
        if s(&code_in, "S3Bucket").is_some() || s(&code_in, "S3Key").is_some() {
            return Err(Error::InvalidParameterValue(
                "Ponte has no S3: upload the function's .zip package in the request \
                 (Code.ZipFile) instead of Code.S3Bucket/S3Key."
                    .into(),
            ));
        }
        let now = self.inner().now();
        let mut c = Config {
            runtime: String::new(),
            handler: String::new(),
            role: String::new(),
            description: String::new(),
            timeout: model::DEFAULT_TIMEOUT,
            memory_size: model::DEFAULT_MEMORY,
            environment: None,
            architectures: vec!["x86_64".into()],
            dead_letter_arn: None,
            tracing_mode: "PassThrough".into(),
            ephemeral_storage: 512,
            logging: model::default_logging(&r.name),
            kms_key_arn: None,
            snap_start: "None".into(),
            code_sha256: String::new(),
            code_size: 0,
            last_modified: now,
            revision_id: new_revision(),
            internal_revision: new_revision(),
        };
        model::apply_config(&input, &mut c, true)?;
        let tags = match input.get("Tags").and_then(Value::as_object) {
            Some(t) => model::check_tags(t)?,
            None => BTreeMap::new(),
        };
        let Some(zip) = s(&code_in, "ZipFile") else {
            return Err(Error::InvalidParameterValue(
                "Please provide a source for function code.".into(),
            ));
        };
        // Cheap existence check before unpacking; the authoritative one is under the lock.
        if self
            .inner()
            .state
            .lock()
            .get(&r.account, &r.region, &r.name)
            .is_some()
        {
            return Err(Error::ResourceConflict(format!(
                "Function already exist: {}",
                r.name
            )));
        }
        let pkg = self
            .prepare_code(&r.account, &r.region, &r.name, zip)
            .await?;
        c.code_sha256 = pkg.sha256.clone();
        c.code_size = pkg.bytes.len() as u64;
        let publish_now = boolean(&input, "Publish");
        self.inner()
            .mutate(|st, b| {
                if st.get(&r.account, &r.region, &r.name).is_some() {
                    return Err(Error::ResourceConflict(format!(
                        "Function already exist: {}",
                        r.name
                    )));
                }
                let mut f = Function {
                    account: r.account.clone(),
                    region: r.region.clone(),
                    name: r.name.clone(),
                    latest: c,
                    versions: BTreeMap::new(),
                    next_version: 1,
                    aliases: BTreeMap::new(),
                    tags,
                    reserved_concurrency: None,
                    recursive_loop: "Terminate".into(),
                    invoke_configs: BTreeMap::new(),
                    policies: BTreeMap::new(),
                };
                let version = publish_now.then(|| publish(&mut f, None, now));
                b.put(CODE, pkg.hex.as_bytes().to_vec(), pkg.bytes.clone());
                State::put_fn(b, &f);
                let out = match version {
                    Some(n) => {
                        let v = n.to_string();
                        render_config(&f, &v, &f.versions[&n], None, View::Full, "Pending")
                    }
                    None => render_config(&f, LATEST, &f.latest, None, View::Full, "Pending"),
                };
                st.functions
                    .insert((f.account.clone(), f.region.clone(), f.name.clone()), f);
                Ok(out)
            })
            .await
            .map(|mut v| {
                if let Some(o) = v.as_object_mut() {
                    o.remove("LastUpdateStatus");
                }
                v
            })
    }

    pub(crate) fn get_function(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let r = fn_ref(ctx, input, NAMESPACED_MAX)?;
        let st = self.inner().state.lock();
        let f = st
            .get(&r.account, &r.region, &r.name)
            .ok_or_else(|| not_found(&r.arn_with_qualifier()))?;
        let (version, suffix) = match r.qualifier.as_deref() {
            Some(q) if names::is_alias_name(q) && !f.aliases.contains_key(q) => {
                return Err(not_found(&format!("{}:{q}", f.arn())));
            }
            q => resolve_version(f, q)?,
        };
        let c = f
            .config(&version)
            .ok_or_else(|| not_found(&r.arn_with_qualifier()))?;
        let mut out = json!({
            "Configuration": render_config(f, &version, c, suffix.as_deref(), View::Full, "Active"),
            "Code": {
                "RepositoryType": "S3",
                "Location": format!("{}/_ponte/lambda/code/{}.zip",
                    ctx.base_url.trim_end_matches('/'), code_hex(&c.code_sha256)),
            },
        });
        if !f.tags.is_empty() {
            out["Tags"] = json!(f.tags);
        }
        if let Some(rc) = f.reserved_concurrency {
            out["Concurrency"] = json!({ "ReservedConcurrentExecutions": rc });
        }
        Ok(out)
    }

    pub(crate) fn get_function_configuration(
        &self,
        ctx: &RequestContext,
        input: &Value,
    ) -> Result<Value> {
        let r = fn_ref(ctx, input, NAMESPACED_MAX)?;
        let st = self.inner().state.lock();
        let f = st
            .get(&r.account, &r.region, &r.name)
            .ok_or_else(|| not_found(&r.arn_with_qualifier()))?;
        let (version, suffix) = resolve_version(f, r.qualifier.as_deref())?;
        let c = f
            .config(&version)
            .ok_or_else(|| not_found(&r.arn_with_qualifier()))?;
        Ok(render_config(
            f,
            &version,
            c,
            suffix.as_deref(),
            View::Full,
            "Active",
        ))
    }

    pub(crate) fn list_functions(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let all = match s(input, "FunctionVersion") {
            None => false,
            Some("ALL") => true,
            Some(other) => {
                return Err(validation(
                    other,
                    "functionVersion",
                    "Member must satisfy enum value set: [ALL]",
                ));
            }
        };
        let st = self.inner().state.lock();
        let mut fns: Vec<&Function> = st
            .functions
            .values()
            .filter(|f| f.account == ctx.account && f.region == ctx.region)
            .collect();
        fns.sort_by(|a, b| a.name.cmp(&b.name));
        let mut items = Vec::new();
        for f in fns {
            if all {
                items.push(render_config(
                    f,
                    LATEST,
                    &f.latest,
                    Some(LATEST),
                    View::List,
                    "",
                ));
                for (n, c) in &f.versions {
                    let v = n.to_string();
                    items.push(render_config(f, &v, c, Some(&v), View::List, ""));
                }
            } else {
                items.push(render_config(f, LATEST, &f.latest, None, View::List, ""));
            }
        }
        let (items, next) = page(
            items,
            |v| v["FunctionArn"].as_str().unwrap_or("").to_owned(),
            input,
        )?;
        Ok(with_marker(json!({ "Functions": items }), next))
    }

    pub(crate) async fn update_function_code(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Result<Value> {
        let r = fn_ref(ctx, &input, NAME_MAX)?;
        if s(&input, "ImageUri").is_some() {
            return Err(Error::InvalidParameterValue(
                "Please don't provide ImageUri when updating a function with packageType Zip."
                    .into(),
            ));
        }
        if s(&input, "S3Bucket").is_some() || s(&input, "S3Key").is_some() {
            return Err(Error::InvalidParameterValue(
                "Ponte has no S3: send the new .zip package in the request (ZipFile) instead of \
                 S3Bucket/S3Key."
                    .into(),
            ));
        }
        let Some(zip) = s(&input, "ZipFile") else {
            return Err(Error::InvalidParameterValue(
                "Please provide a source for function code.".into(),
            ));
        };
        let new_arch = match input.get("Architectures") {
            Some(a) => {
                let mut probe = self.probe_config(&r)?;
                model::apply_config(&json!({ "Architectures": a }), &mut probe, false)?;
                Some(probe.architectures)
            }
            None => None,
        };
        let pkg = self
            .prepare_code(&r.account, &r.region, &r.name, zip)
            .await?;
        let now = self.inner().now();
        let publish_now = boolean(&input, "Publish");
        let dry_run = boolean(&input, "DryRun");
        let revision = s(&input, "RevisionId").map(str::to_owned);
        let out = self
            .inner()
            .mutate(|st, b| {
                let old_digests: Vec<String>;
                let out;
                {
                    let f = find_mut(st, &r)?;
                    if let Some(rev) = &revision
                        && *rev != f.latest.revision_id
                    {
                        return Err(Error::PreconditionFailed(REVISION_MISMATCH.into()));
                    }
                    if dry_run {
                        let mut c = f.latest.clone();
                        c.code_sha256 = pkg.sha256.clone();
                        c.code_size = pkg.bytes.len() as u64;
                        return Ok(render_config(f, LATEST, &c, None, View::Full, "Active"));
                    }
                    old_digests = f.code_digests().map(str::to_owned).collect();
                    let c = &mut f.latest;
                    c.code_sha256 = pkg.sha256.clone();
                    c.code_size = pkg.bytes.len() as u64;
                    if let Some(a) = &new_arch {
                        c.architectures = a.clone();
                    }
                    c.last_modified = now;
                    c.revision_id = new_revision();
                    c.internal_revision = new_revision();
                    out = if publish_now {
                        let n = publish(f, None, now);
                        let v = n.to_string();
                        render_config(f, &v, &f.versions[&n], Some(&v), View::Full, "Active")
                    } else {
                        in_progress(render_config(
                            f,
                            LATEST,
                            &f.latest,
                            None,
                            View::Full,
                            "Active",
                        ))
                    };
                    State::put_fn(b, f);
                }
                b.put(CODE, pkg.hex.as_bytes().to_vec(), pkg.bytes.clone());
                for d in old_digests {
                    if !st.code_in_use(&d) {
                        b.delete(CODE, code_hex(&d).into_bytes());
                    }
                }
                Ok(out)
            })
            .await?;
        self.inner().retire(&format!(
            "{}:$LATEST",
            names::function_arn(&r.region, &r.account, &r.name)
        ));
        Ok(out)
    }

    fn probe_config(&self, r: &FnRef) -> Result<Config> {
        let st = self.inner().state.lock();
        Ok(find(&st, r)?.latest.clone())
    }

    pub(crate) async fn update_function_configuration(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Result<Value> {
        let r = fn_ref(ctx, &input, NAME_MAX)?;
        let now = self.inner().now();
        let out = self
            .inner()
            .mutate(|st, b| {
                let f = find_mut(st, &r)?;
                if let Some(rev) = s(&input, "RevisionId")
                    && rev != f.latest.revision_id
                {
                    return Err(Error::PreconditionFailed(REVISION_MISMATCH.into()));
                }
                if s(&input, "Runtime").is_none() && s(&input, "Handler") == Some("") {
                    return Err(validation(
                        "",
                        "handler",
                        "Member must satisfy regular expression pattern: [^\\s]+",
                    ));
                }
                let mut c = f.latest.clone();
                model::apply_config(&input, &mut c, false)?;
                c.last_modified = now;
                c.revision_id = new_revision();
                c.internal_revision = new_revision();
                f.latest = c;
                State::put_fn(b, f);
                Ok(in_progress(render_config(
                    f,
                    LATEST,
                    &f.latest,
                    None,
                    View::Full,
                    "Active",
                )))
            })
            .await?;
        self.inner().retire(&format!(
            "{}:$LATEST",
            names::function_arn(&r.region, &r.account, &r.name)
        ));
        Ok(out)
    }

    pub(crate) async fn delete_function(
        &self,
        ctx: &RequestContext,
        input: &Value,
    ) -> Result<Value> {
        let r = fn_ref(ctx, input, NAMESPACED_MAX)?;
        if r.qualifier.as_deref() == Some(LATEST) {
            return Err(Error::InvalidParameterValue(
                "$LATEST version cannot be deleted without deleting the function.".into(),
            ));
        }
        let retire = self
            .inner()
            .mutate(|st, b| {
                let f = find(st, &r)?;
                match r.qualifier.as_deref() {
                    Some(q) => {
                        if names::is_alias_name(q) {
                            return Err(Error::InvalidParameterValue(format!(
                                "Deletion of aliases is not supported by DeleteFunction: use \
                                 DeleteAlias to delete {q}."
                            )));
                        }
                        let users: Vec<&str> = f
                            .aliases
                            .values()
                            .filter(|a| a.function_version == q || a.weights.contains_key(q))
                            .map(|a| a.name.as_str())
                            .collect();
                        if !users.is_empty() {
                            return Err(Error::ResourceConflict(format!(
                                "Unable to delete version because the following aliases \
                                 reference it: [{}]",
                                users.join(", ")
                            )));
                        }
                        let Ok(n) = q.parse::<u64>() else {
                            return Ok(None);
                        };
                        let f = find_mut(st, &r)?;
                        let Some(old) = f.versions.remove(&n) else {
                            // Deleting a version that is not there succeeds, as on AWS.
                            return Ok(None);
                        };
                        f.invoke_configs.remove(q);
                        f.policies.remove(q);
                        State::put_fn(b, f);
                        if !st.code_in_use(&old.code_sha256) {
                            b.delete(CODE, code_hex(&old.code_sha256).into_bytes());
                        }
                        Ok(Some(format!("{}:{q}", r.arn())))
                    }
                    None => {
                        let key = (r.account.clone(), r.region.clone(), r.name.clone());
                        let f = st
                            .functions
                            .remove(&key)
                            .ok_or_else(|| not_found(&r.arn()))?;
                        b.delete(
                            crate::engine::FUNCTIONS,
                            crate::engine::fn_key(&r.account, &r.region, &r.name),
                        );
                        for d in f.code_digests() {
                            if !st.code_in_use(d) {
                                b.delete(CODE, code_hex(d).into_bytes());
                            }
                        }
                        Ok(Some(format!("{}:", r.arn())))
                    }
                }
            })
            .await?;
        if let Some(prefix) = retire {
            self.inner().retire(&prefix);
            if r.qualifier.is_none() {
                let dir = self
                    .inner()
                    .deps
                    .code_dir
                    .join(&r.account)
                    .join(&r.region)
                    .join(&r.name);
                tokio::task::spawn_blocking(move || {
                    let _ = std::fs::remove_dir_all(dir);
                });
            }
        }
        Ok(json!({}))
    }

    // ----- versions and aliases -----------------------------------------------------------

    pub(crate) async fn publish_version(
        &self,
        ctx: &RequestContext,
        input: &Value,
    ) -> Result<Value> {
        let r = fn_ref(ctx, input, NAME_MAX)?;
        if let Some(d) = s(input, "Description")
            && d.chars().count() > 256
        {
            return Err(validation(
                d,
                "description",
                "Member must have length less than or equal to 256",
            ));
        }
        let now = self.inner().now();
        self.inner()
            .mutate(|st, b| {
                let f = find_mut(st, &r)?;
                if let Some(rev) = s(input, "RevisionId")
                    && rev != f.latest.revision_id
                {
                    return Err(Error::PreconditionFailed(REVISION_MISMATCH.into()));
                }
                if let Some(sha) = s(input, "CodeSha256")
                    && sha != f.latest.code_sha256
                {
                    return Err(Error::InvalidParameterValue(format!(
                        "CodeSHA256 ({sha}) is different from current CodeSHA256 in $LATEST ({}). \
                         Please try again with the CodeSHA256 in $LATEST.",
                        f.latest.code_sha256
                    )));
                }
                let before = f.next_version;
                let n = publish(f, s(input, "Description"), now);
                if f.next_version != before {
                    State::put_fn(b, f);
                }
                let v = n.to_string();
                let state = if f.next_version != before {
                    "Pending"
                } else {
                    "Active"
                };
                Ok(render_config(
                    f,
                    &v,
                    &f.versions[&n],
                    Some(&v),
                    View::Full,
                    state,
                ))
            })
            .await
    }

    pub(crate) fn list_versions(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let r = fn_ref(ctx, input, NAMESPACED_MAX)?;
        let st = self.inner().state.lock();
        let f = find(&st, &r)?;
        let mut items = vec![render_config(
            f,
            LATEST,
            &f.latest,
            Some(LATEST),
            View::List,
            "",
        )];
        for (n, c) in &f.versions {
            let v = n.to_string();
            items.push(render_config(f, &v, c, Some(&v), View::List, ""));
        }
        let (items, next) = page(
            items,
            |v| v["Version"].as_str().unwrap_or("").to_owned(),
            input,
        )?;
        Ok(with_marker(json!({ "Versions": items }), next))
    }

    fn alias_name(input: &Value) -> Result<String> {
        let name = required(input, "Name", "name")?;
        if name.len() > 128 {
            return Err(validation(
                name,
                "name",
                "Member must have length less than or equal to 128",
            ));
        }
        if !names::is_alias_name(name) {
            return Err(validation(
                name,
                "name",
                "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
            ));
        }
        Ok(name.to_owned())
    }

    pub(crate) async fn create_alias(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let name = Self::alias_name(input)?;
        let r = fn_ref(ctx, input, NAME_MAX)?;
        let version = required(input, "FunctionVersion", "functionVersion")?.to_owned();
        let description = s(input, "Description").unwrap_or("").to_owned();
        self.inner()
            .mutate(|st, b| {
                let f = find_mut(st, &r)?;
                if f.config(&version).is_none() {
                    return Err(not_found(&format!("{}:{version}", f.arn())));
                }
                if f.aliases.contains_key(&name) {
                    return Err(Error::ResourceConflict(format!(
                        "Alias already exists: {}:{name}",
                        f.arn()
                    )));
                }
                let weights = match input
                    .get("RoutingConfig")
                    .and_then(|rc| rc.get("AdditionalVersionWeights"))
                    .and_then(Value::as_object)
                {
                    Some(w) => model::check_weights(f, &version, w)?,
                    None => BTreeMap::new(),
                };
                let a = Alias {
                    name: name.clone(),
                    function_version: version.clone(),
                    description: description.clone(),
                    weights,
                    revision_id: new_revision(),
                };
                let out = render_alias(f, &a);
                f.aliases.insert(name.clone(), a);
                State::put_fn(b, f);
                Ok(out)
            })
            .await
    }

    pub(crate) fn get_alias(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let name = Self::alias_name(input)?;
        let r = fn_ref(ctx, input, NAME_MAX)?;
        let st = self.inner().state.lock();
        let f = find(&st, &r)?;
        let a = f.aliases.get(&name).ok_or_else(|| {
            Error::ResourceNotFound(format!("Cannot find alias arn: {}:{name}", f.arn()))
        })?;
        Ok(render_alias(f, a))
    }

    pub(crate) async fn update_alias(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let name = Self::alias_name(input)?;
        let r = fn_ref(ctx, input, NAME_MAX)?;
        self.inner()
            .mutate(|st, b| {
                let f = find_mut(st, &r)?;
                let arn = f.arn();
                let mut a = f.aliases.get(&name).cloned().ok_or_else(|| {
                    Error::ResourceNotFound(format!("Cannot find alias arn: {arn}:{name}"))
                })?;
                if let Some(rev) = s(input, "RevisionId")
                    && rev != a.revision_id
                {
                    return Err(Error::PreconditionFailed(REVISION_MISMATCH.into()));
                }
                if let Some(v) = s(input, "FunctionVersion") {
                    if f.config(v).is_none() {
                        return Err(not_found(&format!("{arn}:{v}")));
                    }
                    a.function_version = v.to_owned();
                }
                if let Some(d) = s(input, "Description") {
                    a.description = d.to_owned();
                }
                if let Some(rc) = input.get("RoutingConfig") {
                    a.weights = match rc
                        .get("AdditionalVersionWeights")
                        .and_then(Value::as_object)
                    {
                        Some(w) => model::check_weights(f, &a.function_version, w)?,
                        None => BTreeMap::new(),
                    };
                } else if !a.weights.is_empty() {
                    let w: Map<String, Value> = a
                        .weights
                        .iter()
                        .map(|(k, v)| (k.clone(), json!(v)))
                        .collect();
                    a.weights = model::check_weights(f, &a.function_version, &w)?;
                }
                a.revision_id = new_revision();
                let out = render_alias(f, &a);
                f.aliases.insert(name.clone(), a);
                State::put_fn(b, f);
                Ok(out)
            })
            .await
    }

    pub(crate) async fn delete_alias(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let name = Self::alias_name(input)?;
        let r = fn_ref(ctx, input, NAME_MAX)?;
        self.inner()
            .mutate(|st, b| {
                let f = find_mut(st, &r)?;
                if f.aliases.remove(&name).is_some() {
                    f.invoke_configs.remove(&name);
                    f.policies.remove(&name);
                    State::put_fn(b, f);
                }
                Ok(json!({}))
            })
            .await
    }

    pub(crate) fn list_aliases(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let r = fn_ref(ctx, input, NAME_MAX)?;
        let st = self.inner().state.lock();
        let f = find(&st, &r)?;
        let want = s(input, "FunctionVersion");
        let items: Vec<Value> = f
            .aliases
            .values()
            .filter(|a| want.is_none_or(|v| a.function_version == v))
            .map(|a| render_alias(f, a))
            .collect();
        let (items, next) = page(
            items,
            |v| v["AliasArn"].as_str().unwrap_or("").to_owned(),
            input,
        )?;
        Ok(with_marker(json!({ "Aliases": items }), next))
    }

    // ----- concurrency and recursion ------------------------------------------------------

    fn unqualified(ctx: &RequestContext, input: &Value) -> Result<FnRef> {
        let r = fn_ref(ctx, input, NAME_MAX)?;
        if r.qualifier.is_some() {
            return Err(Error::InvalidParameterValue(
                "This operation is permitted on Lambda functions only. Aliases and versions do not \
                 support this operation. Please specify either a function name or an unqualified \
                 function ARN."
                    .into(),
            ));
        }
        Ok(r)
    }

    pub(crate) async fn put_concurrency(
        &self,
        ctx: &RequestContext,
        input: &Value,
    ) -> Result<Value> {
        let r = Self::unqualified(ctx, input)?;
        let Some(n) = int_in(
            input,
            "ReservedConcurrentExecutions",
            "reservedConcurrentExecutions",
            0,
            i64::MAX,
        )?
        else {
            return Err(Error::Validation(
                "1 validation error detected: Value null at 'reservedConcurrentExecutions' failed \
                 to satisfy constraint: Member must not be null"
                    .into(),
            ));
        };
        let n = n as u64;
        let limit = self.account_concurrency_limit();
        self.inner()
            .mutate(|st, b| {
                let others = st.reserved_sum(&r.account, &r.region)
                    - find(st, &r)?.reserved_concurrency.unwrap_or(0);
                let floor = MIN_UNRESERVED.min(limit);
                if limit.saturating_sub(others).saturating_sub(n) < floor || others + n > limit {
                    return Err(Error::InvalidParameterValue(format!(
                        "Specified ReservedConcurrentExecutions for function decreases account's \
                         UnreservedConcurrentExecution below its minimum value of [{floor}]."
                    )));
                }
                let f = find_mut(st, &r)?;
                f.reserved_concurrency = Some(n);
                State::put_fn(b, f);
                Ok(json!({ "ReservedConcurrentExecutions": n }))
            })
            .await
    }

    pub(crate) fn get_concurrency(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let r = Self::unqualified(ctx, input)?;
        let st = self.inner().state.lock();
        let f = find(&st, &r)?;
        Ok(match f.reserved_concurrency {
            Some(n) => json!({ "ReservedConcurrentExecutions": n }),
            None => json!({}),
        })
    }

    pub(crate) async fn delete_concurrency(
        &self,
        ctx: &RequestContext,
        input: &Value,
    ) -> Result<Value> {
        let r = Self::unqualified(ctx, input)?;
        self.inner()
            .mutate(|st, b| {
                let f = find_mut(st, &r)?;
                if f.reserved_concurrency.take().is_some() {
                    State::put_fn(b, f);
                }
                Ok(json!({}))
            })
            .await
    }

    pub(crate) async fn put_recursion(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let r = fn_ref(ctx, input, NAME_MAX)?;
        if r.qualifier.is_some() {
            return Err(validation(
                s(input, "FunctionName").unwrap_or(""),
                "functionName",
                "Member must satisfy regular expression pattern: \
                 (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)",
            ));
        }
        let mode = required(input, "RecursiveLoop", "recursiveLoop")?.to_owned();
        if !matches!(mode.as_str(), "Allow" | "Terminate") {
            return Err(validation(
                mode,
                "recursiveLoop",
                "Member must satisfy enum value set: [Allow, Terminate]",
            ));
        }
        self.inner()
            .mutate(|st, b| {
                let f = find_mut(st, &r)?;
                f.recursive_loop = mode.clone();
                State::put_fn(b, f);
                Ok(json!({ "RecursiveLoop": mode }))
            })
            .await
    }

    pub(crate) fn get_recursion(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let r = fn_ref(ctx, input, NAME_MAX)?;
        let st = self.inner().state.lock();
        let f = find(&st, &r)?;
        Ok(json!({ "RecursiveLoop": f.recursive_loop }))
    }

    pub(crate) fn get_account_settings(&self, ctx: &RequestContext) -> Value {
        let limit = self.account_concurrency_limit();
        let st = self.inner().state.lock();
        let mine: Vec<&Function> = st
            .functions
            .values()
            .filter(|f| f.account == ctx.account && f.region == ctx.region)
            .collect();
        let code: u64 = mine
            .iter()
            .map(|f| f.latest.code_size + f.versions.values().map(|c| c.code_size).sum::<u64>())
            .sum();
        json!({
            "AccountLimit": {
                "TotalCodeSize": 80_530_636_800u64,
                "CodeSizeUnzipped": code::UNZIPPED_LIMIT,
                "CodeSizeZipped": code::ZIPPED_LIMIT,
                "ConcurrentExecutions": limit,
                "UnreservedConcurrentExecutions":
                    limit.saturating_sub(st.reserved_sum(&ctx.account, &ctx.region)),
            },
            "AccountUsage": { "TotalCodeSize": code, "FunctionCount": mine.len() },
        })
    }

    /// The account concurrency limit per region (default 1000).
    pub fn account_concurrency_limit(&self) -> u64 {
        match self
            .inner
            .account_limit
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            0 => DEFAULT_ACCOUNT_CONCURRENCY,
            n => n,
        }
    }

    // ----- event invoke configs -----------------------------------------------------------

    fn eic_values(
        st: &State,
        f: &Function,
        input: &Value,
        existing: Option<&EventInvokeConfig>,
        now: u64,
    ) -> Result<EventInvokeConfig> {
        let retries = int_in(input, "MaximumRetryAttempts", "maximumRetryAttempts", 0, 2)?;
        let age = int_in(
            input,
            "MaximumEventAgeInSeconds",
            "maximumEventAgeInSeconds",
            60,
            21_600,
        )?;
        let mut c = existing.cloned().unwrap_or(EventInvokeConfig {
            max_retries: None,
            max_age: None,
            on_success: None,
            on_failure: None,
            last_modified: now,
        });
        c.last_modified = now;
        if let Some(r) = retries {
            c.max_retries = Some(r as u64);
        }
        if let Some(a) = age {
            c.max_age = Some(a as u64);
        }
        if let Some(dc) = input.get("DestinationConfig") {
            let success = dc
                .get("OnSuccess")
                .and_then(|d| s(d, "Destination"))
                .filter(|d| !d.is_empty());
            let failure = dc
                .get("OnFailure")
                .and_then(|d| s(d, "Destination"))
                .filter(|d| !d.is_empty());
            let exists = |name: &str| st.get(&f.account, &f.region, name).is_some();
            let mut bad = false;
            for d in [success, failure].into_iter().flatten() {
                bad |= !model::check_destination(d, &f.name, exists)?;
            }
            if bad {
                let part = |kind: &str, d: Option<&str>| match d {
                    Some(d) => format!("{kind}(destination={d})"),
                    None => "null".into(),
                };
                return Err(Error::InvalidParameterValue(format!(
                    "The provided destination config DestinationConfig(onSuccess={}, onFailure={}) \
                     is invalid.",
                    part("OnSuccess", success),
                    part("OnFailure", failure)
                )));
            }
            c.on_success = success.map(str::to_owned);
            c.on_failure = failure.map(str::to_owned);
        }
        Ok(c)
    }

    fn eic_target(ctx: &RequestContext, input: &Value) -> Result<(FnRef, String)> {
        let r = fn_ref(ctx, input, NAMESPACED_MAX)?;
        let q = r.qualifier.clone().unwrap_or_else(|| LATEST.to_owned());
        Ok((r, q))
    }

    pub(crate) async fn put_event_invoke_config(
        &self,
        ctx: &RequestContext,
        input: &Value,
        update: bool,
    ) -> Result<Value> {
        if input.get("MaximumRetryAttempts").is_none()
            && input.get("MaximumEventAgeInSeconds").is_none()
            && input.get("DestinationConfig").is_none()
        {
            return Err(Error::InvalidParameterValue(
                "You must specify at least one of error handling or destination setting.".into(),
            ));
        }
        let (r, q) = Self::eic_target(ctx, input)?;
        let now = self.inner().now();
        self.inner()
            .mutate(|st, b| {
                let f = st
                    .get(&r.account, &r.region, &r.name)
                    .filter(|f| f.has_qualifier(&q))
                    .ok_or_else(|| Error::ResourceNotFound("The function doesn't exist.".into()))?;
                let existing = f.invoke_configs.get(&q);
                if update && existing.is_none() {
                    return Err(Error::ResourceNotFound(format!(
                        "The function {}:{q} doesn't have an EventInvokeConfig",
                        f.arn()
                    )));
                }
                let c = Self::eic_values(st, f, input, if update { existing } else { None }, now)?;
                let f = find_mut(st, &r)?;
                let out = render_invoke_config(f, &q, &c);
                f.invoke_configs.insert(q.clone(), c);
                State::put_fn(b, f);
                Ok(out)
            })
            .await
    }

    pub(crate) fn get_event_invoke_config(
        &self,
        ctx: &RequestContext,
        input: &Value,
    ) -> Result<Value> {
        let (r, q) = Self::eic_target(ctx, input)?;
        let st = self.inner().state.lock();
        let missing = || {
            Error::ResourceNotFound(format!(
                "The function {}:{q} doesn't have an EventInvokeConfig",
                r.arn()
            ))
        };
        let f = st.get(&r.account, &r.region, &r.name).ok_or_else(missing)?;
        let c = f.invoke_configs.get(&q).ok_or_else(missing)?;
        Ok(render_invoke_config(f, &q, c))
    }

    pub(crate) async fn delete_event_invoke_config(
        &self,
        ctx: &RequestContext,
        input: &Value,
    ) -> Result<Value> {
        let (r, q) = Self::eic_target(ctx, input)?;
        self.inner()
            .mutate(|st, b| {
                let arn = r.arn_with_qualifier();
                let missing = || {
                    Error::ResourceNotFound(format!(
                        "The function {arn} doesn't have an EventInvokeConfig"
                    ))
                };
                let f = st
                    .get_mut(&r.account, &r.region, &r.name)
                    .ok_or_else(missing)?;
                f.invoke_configs.remove(&q).ok_or_else(missing)?;
                State::put_fn(b, f);
                Ok(json!({}))
            })
            .await
    }

    pub(crate) fn list_event_invoke_configs(
        &self,
        ctx: &RequestContext,
        input: &Value,
    ) -> Result<Value> {
        let r = fn_ref(ctx, input, NAMESPACED_MAX)?;
        let st = self.inner().state.lock();
        let f = st
            .get(&r.account, &r.region, &r.name)
            .ok_or_else(|| Error::ResourceNotFound("The function doesn't exist.".into()))?;
        let items: Vec<Value> = f
            .invoke_configs
            .iter()
            .map(|(q, c)| render_invoke_config(f, q, c))
            .collect();
        let max = int_in(input, "MaxItems", "maxItems", 1, 50)?;
        let mut input = input.clone();
        if let Some(m) = max {
            input["MaxItems"] = m.into();
        }
        let (items, next) = page(
            items,
            |v| v["FunctionArn"].as_str().unwrap_or("").to_owned(),
            &input,
        )?;
        Ok(with_marker(
            json!({ "FunctionEventInvokeConfigs": items }),
            next,
        ))
    }

    // ----- permissions --------------------------------------------------------------------

    pub(crate) async fn add_permission(
        &self,
        ctx: &RequestContext,
        input: &Value,
    ) -> Result<Value> {
        let r = fn_ref(ctx, input, NAMESPACED_MAX)?;
        if r.qualifier.as_deref() == Some(LATEST) {
            return Err(Error::InvalidParameterValue(
                "We currently do not support adding policies for $LATEST.".into(),
            ));
        }
        let sid = required(input, "StatementId", "statementId")?.to_owned();
        if sid.len() > 100
            || !sid
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
        {
            return Err(validation(
                &sid,
                "statementId",
                "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)",
            ));
        }
        let action = required(input, "Action", "action")?.to_owned();
        let action_ok = action == "*"
            || action == "lambda:*"
            || action
                .strip_prefix("lambda:")
                .is_some_and(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_alphabetic()));
        if !action_ok {
            return Err(validation(
                &action,
                "action",
                "Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])",
            ));
        }
        let principal = required(input, "Principal", "principal")?.to_owned();
        let principal_v = if principal == "*" {
            json!("*")
        } else if principal.ends_with(".amazonaws.com") {
            json!({ "Service": principal })
        } else if principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit()) {
            json!({ "AWS": format!("arn:aws:iam::{principal}:root") })
        } else if principal.starts_with("arn:aws") && principal.contains(":iam:") {
            json!({ "AWS": principal })
        } else {
            return Err(Error::InvalidParameterValue(
                "The provided principal was invalid. Please check the principal and try again."
                    .into(),
            ));
        };
        self.inner()
            .mutate(|st, b| {
                let f = find_mut(st, &r)?;
                let q = r.qualifier.clone().unwrap_or_else(|| LATEST.to_owned());
                if let Some(q) = &r.qualifier {
                    check_qualifier(f, q)?;
                }
                if let Some(rev) = s(input, "RevisionId")
                    && Some(rev) != f.revision_of(&q)
                {
                    return Err(Error::PreconditionFailed(REVISION_MISMATCH.into()));
                }
                let statements = f.policies.entry(q.clone()).or_default();
                if statements.iter().any(|st| st["Sid"] == sid.as_str()) {
                    return Err(Error::ResourceConflict(format!(
                        "The statement id ({sid}) provided already exists. Please provide a new \
                         statement id, or remove the existing statement."
                    )));
                }
                let resource = match &r.qualifier {
                    Some(q) => format!(
                        "{}:{q}",
                        names::function_arn(&r.region, &r.account, &r.name)
                    ),
                    None => names::function_arn(&r.region, &r.account, &r.name),
                };
                let mut statement = json!({
                    "Sid": sid, "Effect": "Allow", "Principal": principal_v,
                    "Action": action, "Resource": resource,
                });
                let mut cond = Map::new();
                let mut string_equals = Map::new();
                if let Some(a) = s(input, "SourceAccount") {
                    string_equals.insert("AWS:SourceAccount".into(), a.into());
                }
                if let Some(o) = s(input, "PrincipalOrgID") {
                    string_equals.insert("aws:PrincipalOrgID".into(), o.into());
                }
                if let Some(t) = s(input, "EventSourceToken") {
                    string_equals.insert("lambda:EventSourceToken".into(), t.into());
                }
                if let Some(t) = s(input, "FunctionUrlAuthType") {
                    string_equals.insert("lambda:FunctionUrlAuthType".into(), t.into());
                }
                if !string_equals.is_empty() {
                    cond.insert("StringEquals".into(), Value::Object(string_equals));
                }
                if let Some(a) = s(input, "SourceArn") {
                    cond.insert("ArnLike".into(), json!({ "AWS:SourceArn": a }));
                }
                if !cond.is_empty() {
                    statement["Condition"] = Value::Object(cond);
                }
                statements.push(statement.clone());
                bump_revision(f, &q);
                State::put_fn(b, f);
                Ok(json!({ "Statement": statement.to_string() }))
            })
            .await
    }

    pub(crate) async fn remove_permission(
        &self,
        ctx: &RequestContext,
        input: &Value,
    ) -> Result<Value> {
        let r = fn_ref(ctx, input, NAMESPACED_MAX)?;
        let sid = required(input, "StatementId", "statementId")?.to_owned();
        self.inner()
            .mutate(|st, b| {
                let f = st.get_mut(&r.account, &r.region, &r.name).ok_or_else(|| {
                    Error::ResourceNotFound(format!("No policy found for: {}", r.arn()))
                })?;
                let q = r.qualifier.clone().unwrap_or_else(|| LATEST.to_owned());
                check_qualifier(f, &q)?;
                let Some(statements) = f.policies.get_mut(&q) else {
                    return Err(Error::ResourceNotFound(
                        "No policy is associated with the given resource.".into(),
                    ));
                };
                let Some(pos) = statements.iter().position(|x| x["Sid"] == sid.as_str()) else {
                    return Err(Error::ResourceNotFound(format!(
                        "Statement {sid} is not found in resource policy."
                    )));
                };
                if let Some(rev) = s(input, "RevisionId")
                    && Some(rev) != f.revision_of(&q)
                {
                    return Err(Error::PreconditionFailed(REVISION_MISMATCH.into()));
                }
                let statements = f.policies.get_mut(&q).expect("checked above");
                statements.remove(pos);
                if statements.is_empty() {
                    f.policies.remove(&q);
                }
                bump_revision(f, &q);
                State::put_fn(b, f);
                Ok(json!({}))
            })
            .await
    }

    pub(crate) fn get_policy(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let r = fn_ref(ctx, input, NAMESPACED_MAX)?;
        let st = self.inner().state.lock();
        let f = find(&st, &r)?;
        let q = r.qualifier.clone().unwrap_or_else(|| LATEST.to_owned());
        let statements = f.policies.get(&q).ok_or_else(|| {
            Error::ResourceNotFound("The resource you requested does not exist.".into())
        })?;
        let policy = json!({ "Version": "2012-10-17", "Id": "default", "Statement": statements });
        Ok(json!({ "Policy": policy.to_string(), "RevisionId": f.revision_of(&q).unwrap_or("") }))
    }

    // ----- tags -------------------------------------------------------------------------------

    fn tag_target(ctx: &RequestContext, input: &Value) -> Result<FnRef> {
        let resource = required(input, "Resource", "resource")?;
        let pattern = "Member must satisfy regular expression pattern: \
             arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})";
        if !resource.starts_with("arn:") {
            return Err(validation(resource, "resource", pattern));
        }
        let r = names::resolve(ctx, resource, None, 256).map_err(|e| match e {
            Error::Validation(_) => validation(resource, "resource", pattern),
            e => e,
        })?;
        if r.qualifier.is_some() {
            return Err(Error::InvalidParameterValue(
                "Tags on function aliases and versions are not supported. Please specify a \
                 function ARN."
                    .into(),
            ));
        }
        Ok(r)
    }

    pub(crate) async fn tag_resource(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let r = Self::tag_target(ctx, input)?;
        let tags = input
            .get("Tags")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        if tags.is_empty() {
            return Err(Error::InvalidParameterValue(
                "An error occurred and the request cannot be processed.".into(),
            ));
        }
        self.inner()
            .mutate(|st, b| {
                let f = find_mut(st, &r)?;
                let mut merged: Map<String, Value> =
                    f.tags.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
                merged.extend(tags.clone());
                f.tags = model::check_tags(&merged)?;
                State::put_fn(b, f);
                Ok(json!({}))
            })
            .await
    }

    pub(crate) async fn untag_resource(
        &self,
        ctx: &RequestContext,
        input: &Value,
    ) -> Result<Value> {
        let r = Self::tag_target(ctx, input)?;
        let keys: Vec<String> = match input.get("TagKeys") {
            Some(Value::Array(a)) if !a.is_empty() => a
                .iter()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect(),
            _ => {
                return Err(Error::Validation(
                    "1 validation error detected: Value null at 'tagKeys' failed to satisfy \
                     constraint: Member must not be null"
                        .into(),
                ));
            }
        };
        self.inner()
            .mutate(|st, b| {
                let f = find_mut(st, &r)?;
                for k in &keys {
                    f.tags.remove(k);
                }
                State::put_fn(b, f);
                Ok(json!({}))
            })
            .await
    }

    pub(crate) fn list_tags(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let r = Self::tag_target(ctx, input)?;
        let st = self.inner().state.lock();
        Ok(json!({ "Tags": find(&st, &r)?.tags }))
    }
}

/// A new revision id for the qualifier a policy change touched.
fn bump_revision(f: &mut Function, q: &str) {
    if let Some(a) = f.aliases.get_mut(q) {
        a.revision_id = new_revision();
    } else if q == LATEST {
        f.latest.revision_id = new_revision();
    } else if let Some(c) = q.parse().ok().and_then(|n: u64| f.versions.get_mut(&n)) {
        c.revision_id = new_revision();
    }
}

/// Hex of a base64 SHA-256 (store key and URL of a package).
pub fn code_hex(sha256_b64: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(sha256_b64)
        .map(hex::encode)
        .unwrap_or_default()
}
