//! Pure Lambda logic: the persisted shapes of functions, versions, aliases and event invoke
//! configs; configuration validation with AWS's messages; output rendering; alias routing.
//! No I/O, no clock, no locks: callers pass times and random draws in.

use std::collections::BTreeMap;

use ponte_types::Millis;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::{Error, Result, validation};
use crate::names::{self, LATEST};

/// Default function timeout, seconds.
pub const DEFAULT_TIMEOUT: u64 = 3;
/// Default memory, MB.
pub const DEFAULT_MEMORY: u64 = 128;
/// Largest total size of environment variables, as Lambda measures it (compact JSON).
pub const ENV_LIMIT: usize = 4096;
/// Most tags per function.
pub const TAG_LIMIT: usize = 50;

/// Environment variables Lambda sets itself and refuses from users.
pub const RESERVED_ENV: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// Runtimes Lambda no longer accepts for new or updated functions, with the runtime AWS
/// recommends instead.
const DEPRECATED: &[(&str, &str)] = &[
    ("nodejs", "nodejs22.x"),
    ("nodejs4.3", "nodejs22.x"),
    ("nodejs4.3-edge", "nodejs22.x"),
    ("nodejs6.10", "nodejs22.x"),
    ("nodejs8.10", "nodejs22.x"),
    ("nodejs10.x", "nodejs22.x"),
    ("nodejs12.x", "nodejs22.x"),
    ("nodejs14.x", "nodejs22.x"),
    ("nodejs16.x", "nodejs22.x"),
    ("python2.7", "python3.13"),
    ("python3.6", "python3.13"),
    ("python3.7", "python3.13"),
    ("python3.8", "python3.13"),
    ("java8", "java21"),
    ("dotnetcore1.0", "dotnet8"),
    ("dotnetcore2.0", "dotnet8"),
    ("dotnetcore2.1", "dotnet8"),
    ("dotnetcore3.1", "dotnet8"),
    ("dotnet6", "dotnet8"),
    ("go1.x", "provided.al2023"),
    ("ruby2.5", "ruby3.3"),
    ("ruby2.7", "ruby3.3"),
];

/// Every runtime value of the Lambda model's `Runtime` enum.
const MODEL_RUNTIMES: &[&str] = &[
    "nodejs",
    "nodejs4.3",
    "nodejs6.10",
    "nodejs8.10",
    "nodejs10.x",
    "nodejs12.x",
    "nodejs14.x",
    "nodejs16.x",
    "java8",
    "java8.al2",
    "java11",
    "python2.7",
    "python3.6",
    "python3.7",
    "python3.8",
    "python3.9",
    "dotnetcore1.0",
    "dotnetcore2.0",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "dotnet6",
    "dotnet8",
    "nodejs4.3-edge",
    "go1.x",
    "ruby2.5",
    "ruby2.7",
    "provided",
    "provided.al2",
    "nodejs18.x",
    "python3.10",
    "java17",
    "ruby3.2",
    "ruby3.3",
    "ruby3.4",
    "python3.11",
    "nodejs20.x",
    "provided.al2023",
    "python3.12",
    "java21",
    "python3.13",
    "nodejs22.x",
    "nodejs24.x",
    "python3.14",
    "java25",
    "dotnet10",
    "ruby4.0",
];

/// The configuration of `$LATEST` or of one published version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// `python3.12`, …
    pub runtime: String,
    /// Handler.
    pub handler: String,
    /// Execution role ARN (not assumed).
    pub role: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Seconds, 1–900.
    pub timeout: u64,
    /// MB, 128–10240.
    pub memory_size: u64,
    /// Environment variables; `None` when never set (AWS then omits `Environment`).
    #[serde(default)]
    pub environment: Option<BTreeMap<String, String>>,
    /// `x86_64` or `arm64` (recorded; the host runs everything).
    pub architectures: Vec<String>,
    /// Function DLQ.
    #[serde(default)]
    pub dead_letter_arn: Option<String>,
    /// `PassThrough` / `Active`.
    pub tracing_mode: String,
    /// MB of /tmp (recorded).
    pub ephemeral_storage: u64,
    /// `LoggingConfig` as AWS returns it.
    pub logging: Value,
    /// `KMSKeyArn` (recorded).
    #[serde(default)]
    pub kms_key_arn: Option<String>,
    /// `SnapStart.ApplyOn`.
    #[serde(default = "snap_none")]
    pub snap_start: String,
    /// Base64 SHA-256 of the package.
    pub code_sha256: String,
    /// Bytes of the package.
    pub code_size: u64,
    /// Epoch ms.
    pub last_modified: Millis,
    /// Changes on every change (user-visible).
    pub revision_id: String,
    /// Changes when code or configuration changes (not on tags or policies): publishing skips a
    /// version when it matches the last published one, and running instances of an older
    /// revision are never reused.
    pub internal_revision: String,
}

fn snap_none() -> String {
    "None".into()
}

/// An alias.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alias {
    /// Name.
    pub name: String,
    /// `$LATEST` or a version number.
    pub function_version: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// `AdditionalVersionWeights`: at most one further version with its weight (0–1).
    #[serde(default)]
    pub weights: BTreeMap<String, f64>,
    /// Revision id.
    pub revision_id: String,
}

impl Alias {
    /// The version an invocation runs, given a uniform draw in `[0, 1)`: the additional version
    /// with its weight's probability, else the primary one.
    pub fn pick(&self, draw: f64) -> &str {
        let mut acc = 0.0;
        for (v, w) in &self.weights {
            acc += w;
            if draw < acc {
                return v;
            }
        }
        &self.function_version
    }
}

/// `FunctionEventInvokeConfig` of one qualifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventInvokeConfig {
    /// 0–2.
    #[serde(default)]
    pub max_retries: Option<u64>,
    /// 60–21600 s.
    #[serde(default)]
    pub max_age: Option<u64>,
    /// On-success destination ARN.
    #[serde(default)]
    pub on_success: Option<String>,
    /// On-failure destination ARN.
    #[serde(default)]
    pub on_failure: Option<String>,
    /// Epoch ms.
    pub last_modified: Millis,
}

/// A function with its versions, aliases and per-function settings: one store row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Function {
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Name.
    pub name: String,
    /// `$LATEST`.
    pub latest: Config,
    /// Published versions by number.
    #[serde(default)]
    pub versions: BTreeMap<u64, Config>,
    /// The number the next published version gets (numbers are never reused).
    pub next_version: u64,
    /// Aliases by name.
    #[serde(default)]
    pub aliases: BTreeMap<String, Alias>,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Reserved concurrency.
    #[serde(default)]
    pub reserved_concurrency: Option<u64>,
    /// `Terminate` (default) or `Allow`.
    #[serde(default = "terminate")]
    pub recursive_loop: String,
    /// Event invoke configs by qualifier (`$LATEST`, version, alias).
    #[serde(default)]
    pub invoke_configs: BTreeMap<String, EventInvokeConfig>,
    /// Resource policy statements by qualifier.
    #[serde(default)]
    pub policies: BTreeMap<String, Vec<Value>>,
}

fn terminate() -> String {
    "Terminate".into()
}

impl Function {
    /// Unqualified ARN.
    pub fn arn(&self) -> String {
        names::function_arn(&self.region, &self.account, &self.name)
    }

    /// The configuration of `$LATEST` or a published version.
    pub fn config(&self, version: &str) -> Option<&Config> {
        if version == LATEST {
            Some(&self.latest)
        } else {
            version
                .parse()
                .ok()
                .and_then(|n: u64| self.versions.get(&n))
        }
    }

    /// True when `qualifier` names `$LATEST`, an existing version or an existing alias.
    pub fn has_qualifier(&self, qualifier: &str) -> bool {
        self.config(qualifier).is_some() || self.aliases.contains_key(qualifier)
    }

    /// The revision id of a qualifier (alias or version).
    pub fn revision_of(&self, qualifier: &str) -> Option<&str> {
        match self.aliases.get(qualifier) {
            Some(a) => Some(&a.revision_id),
            None => self.config(qualifier).map(|c| c.revision_id.as_str()),
        }
    }

    /// Every code digest any version of this function uses.
    pub fn code_digests(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.latest.code_sha256.as_str())
            .chain(self.versions.values().map(|c| c.code_sha256.as_str()))
    }
}

// ----- input helpers ---------------------------------------------------------------------------

/// A string member, if present and a string.
pub fn s<'a>(input: &'a Value, key: &str) -> Option<&'a str> {
    input.get(key).and_then(Value::as_str)
}

/// An integer member, if present; a non-integer is a validation error.
pub fn int(input: &Value, key: &str, field: &str) -> Result<Option<i64>> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| validation(v, field, "Member must be an integer")),
    }
}

/// An integer member checked against `[min, max]` with AWS's validation messages.
pub fn int_in(input: &Value, key: &str, field: &str, min: i64, max: i64) -> Result<Option<i64>> {
    let Some(v) = int(input, key, field)? else {
        return Ok(None);
    };
    if v < min {
        return Err(validation(
            v,
            field,
            &format!("Member must have value greater than or equal to {min}"),
        ));
    }
    if v > max {
        return Err(validation(
            v,
            field,
            &format!("Member must have value less than or equal to {max}"),
        ));
    }
    Ok(Some(v))
}

/// A boolean member.
pub fn boolean(input: &Value, key: &str) -> bool {
    input.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// Checks the execution role's format.
pub fn check_role(role: &str) -> Result<()> {
    let ok = (|| {
        let rest = role.strip_prefix("arn:")?;
        let (partition, rest) = rest.split_once(':')?;
        if !partition.starts_with("aws") {
            return None;
        }
        let rest = rest.strip_prefix("iam::")?;
        let (account, rest) = rest.split_once(':')?;
        let name = rest.strip_prefix("role")?;
        let name = name.strip_prefix('/').unwrap_or(name);
        let valid = account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-/".contains(&b));
        valid.then_some(())
    })();
    ok.ok_or_else(|| {
        validation(
            role,
            "role",
            "Member must satisfy regular expression pattern: \
             arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
        )
    })
}

/// Checks a runtime: in the model, not deprecated, runnable by Ponte.
pub fn check_runtime(runtime: &str) -> Result<()> {
    if !MODEL_RUNTIMES.contains(&runtime) {
        let valid: Vec<&str> = MODEL_RUNTIMES
            .iter()
            .copied()
            .filter(|r| !DEPRECATED.iter().any(|(d, _)| d == r))
            .collect();
        return Err(Error::InvalidParameterValue(format!(
            "Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum \
             value set: [{}] or be a valid ARN",
            valid.join(", ")
        )));
    }
    if let Some((_, instead)) = DEPRECATED.iter().find(|(d, _)| *d == runtime) {
        return Err(Error::InvalidParameterValue(format!(
            "The runtime parameter of {runtime} is no longer supported for creating or updating \
             AWS Lambda functions. We recommend you use the new runtime ({instead}) while creating \
             or updating functions."
        )));
    }
    if !ponte_runtime::SUPPORTED_RUNTIMES.contains(&runtime) {
        return Err(Error::InvalidParameterValue(format!(
            "Ponte cannot run the runtime {runtime}: functions run as host processes, and the \
             supported runtimes are {}.",
            ponte_runtime::SUPPORTED_RUNTIMES.join(", ")
        )));
    }
    Ok(())
}

/// Applies the configuration members of a CreateFunction / UpdateFunctionConfiguration input to
/// `config`, validating each as Lambda does. Nothing is applied when an error is returned
/// (the caller works on a copy).
pub fn apply_config(input: &Value, config: &mut Config, creating: bool) -> Result<()> {
    if let Some(r) = s(input, "Runtime") {
        check_runtime(r)?;
        config.runtime = r.to_owned();
    }
    if let Some(h) = s(input, "Handler") {
        if h.len() > 128 {
            return Err(validation(
                h,
                "handler",
                "Member must have length less than or equal to 128",
            ));
        }
        if h.is_empty() || h.chars().any(char::is_whitespace) {
            return Err(validation(
                h,
                "handler",
                "Member must satisfy regular expression pattern: [^\\s]+",
            ));
        }
        config.handler = h.to_owned();
    }
    if creating && (config.runtime.is_empty() || config.handler.is_empty()) {
        return Err(Error::InvalidParameterValue(
            "Runtime and Handler are mandatory parameters for functions created with deployment \
             packages."
                .into(),
        ));
    }
    if let Some(role) = s(input, "Role") {
        check_role(role)?;
        config.role = role.to_owned();
    }
    if let Some(d) = s(input, "Description") {
        if d.chars().count() > 256 {
            return Err(validation(
                d,
                "description",
                "Member must have length less than or equal to 256",
            ));
        }
        config.description = d.to_owned();
    }
    if let Some(t) = int_in(input, "Timeout", "timeout", 1, 900)? {
        config.timeout = t as u64;
    }
    if let Some(m) = int_in(input, "MemorySize", "memorySize", 128, 10240)? {
        config.memory_size = m as u64;
    }
    if let Some(env) = input.get("Environment") {
        let vars = env.get("Variables").cloned().unwrap_or(json!({}));
        let Some(map) = vars.as_object() else {
            return Err(Error::InvalidRequestContent(
                "Could not parse request body into json: Environment.Variables must be a map."
                    .into(),
            ));
        };
        let mut out = BTreeMap::new();
        for (k, v) in map {
            let v = v.as_str().ok_or_else(|| {
                Error::InvalidRequestContent(format!(
                    "Could not parse request body into json: value of {k} is not a string."
                ))
            })?;
            out.insert(k.clone(), v.to_owned());
        }
        check_environment(map)?;
        config.environment = Some(out);
    }
    if let Some(arch) = input.get("Architectures") {
        let list: Vec<String> = arch
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let shown = format!("[{}]", list.join(", "));
        if list.len() != 1 {
            return Err(validation(
                shown,
                "architectures",
                "Member must have length less than or equal to 1",
            ));
        }
        if !matches!(list[0].as_str(), "x86_64" | "arm64") {
            return Err(validation(
                shown,
                "architectures",
                "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, \
                 arm64], Member must not be null]",
            ));
        }
        config.architectures = list;
    }
    if let Some(dlc) = input.get("DeadLetterConfig") {
        match s(dlc, "TargetArn").filter(|t| !t.is_empty()) {
            None => config.dead_letter_arn = None,
            Some(t) => {
                let service = ponte_types::Arn::parse(t).map(|a| a.service);
                if !matches!(service.as_deref(), Some("sqs" | "sns")) {
                    return Err(Error::InvalidParameterValue(format!(
                        "The provided target arn is invalid: {t}. The dead-letter target must be \
                         an SQS queue or an SNS topic."
                    )));
                }
                config.dead_letter_arn = Some(t.to_owned());
            }
        }
    }
    if let Some(tc) = input.get("TracingConfig")
        && let Some(mode) = s(tc, "Mode")
    {
        if !matches!(mode, "Active" | "PassThrough") {
            return Err(validation(
                mode,
                "tracingConfig.mode",
                "Member must satisfy enum value set: [Active, PassThrough]",
            ));
        }
        config.tracing_mode = mode.to_owned();
    }
    if let Some(es) = input.get("EphemeralStorage")
        && let Some(size) = int_in(es, "Size", "ephemeralStorage.size", 512, 10240)?
    {
        config.ephemeral_storage = size as u64;
    }
    if let Some(k) = s(input, "KMSKeyArn") {
        config.kms_key_arn = (!k.is_empty()).then(|| k.to_owned());
    }
    if let Some(lc) = input.get("LoggingConfig").and_then(Value::as_object) {
        let mut logging = config.logging.as_object().cloned().unwrap_or_default();
        if let Some(f) = lc.get("LogFormat").and_then(Value::as_str) {
            if !matches!(f, "Text" | "JSON") {
                return Err(validation(
                    f,
                    "loggingConfig.logFormat",
                    "Member must satisfy enum value set: [Text, JSON]",
                ));
            }
            if f == "JSON" {
                logging
                    .entry("ApplicationLogLevel")
                    .or_insert_with(|| "INFO".into());
                logging
                    .entry("SystemLogLevel")
                    .or_insert_with(|| "INFO".into());
            } else {
                logging.remove("ApplicationLogLevel");
                logging.remove("SystemLogLevel");
            }
            logging.insert("LogFormat".into(), f.into());
        }
        for k in ["ApplicationLogLevel", "SystemLogLevel", "LogGroup"] {
            if let Some(v) = lc.get(k).and_then(Value::as_str) {
                logging.insert(k.into(), v.into());
            }
        }
        config.logging = Value::Object(logging);
    }
    if let Some(ss) = input.get("SnapStart")
        && let Some(apply) = s(ss, "ApplyOn")
    {
        if !matches!(apply, "PublishedVersions" | "None") {
            return Err(validation(
                apply,
                "snapStart.applyOn",
                "Member must satisfy enum value set: [PublishedVersions, None]",
            ));
        }
        if apply == "PublishedVersions" && !config.runtime.starts_with("java") {
            return Err(Error::InvalidParameterValue(format!(
                "{} is not supported for SnapStart enabled functions.",
                config.runtime
            )));
        }
        config.snap_start = apply.to_owned();
    }
    if let Some(layers) = input.get("Layers").and_then(Value::as_array)
        && !layers.is_empty()
    {
        return Err(Error::InvalidParameterValue(
            "Ponte does not support Lambda layers: include the layer's files in the function's \
             deployment package."
                .into(),
        ));
    }
    Ok(())
}

/// Lambda's environment rules: reserved keys, and 4 KB measured as compact JSON.
pub fn check_environment(vars: &Map<String, Value>) -> Result<()> {
    let reserved: Vec<&str> = vars
        .keys()
        .map(String::as_str)
        .filter(|k| RESERVED_ENV.contains(k))
        .collect();
    if !reserved.is_empty() {
        return Err(Error::InvalidParameterValue(format!(
            "Lambda was unable to configure your environment variables because the environment \
             variables you have provided contains reserved keys that are currently not supported \
             for modification. Reserved keys used in this request: {}",
            reserved.join(", ")
        )));
    }
    let measured = serde_json::to_string(vars).unwrap_or_default();
    if measured.len() > ENV_LIMIT {
        return Err(Error::InvalidParameterValue(format!(
            "Lambda was unable to configure your environment variables because the environment \
             variables you have provided exceeded the 4KB limit. String measured: {measured}"
        )));
    }
    Ok(())
}

/// Validates a tag map (count and key/value lengths).
pub fn check_tags(tags: &Map<String, Value>) -> Result<BTreeMap<String, String>> {
    if tags.len() > TAG_LIMIT {
        return Err(Error::InvalidParameterValue(
            "Number of tags exceeds resource tag limit.".into(),
        ));
    }
    let mut out = BTreeMap::new();
    for (k, v) in tags {
        let v = v.as_str().unwrap_or_default();
        if k.is_empty() || k.chars().count() > 128 || k.starts_with("aws:") {
            return Err(Error::InvalidParameterValue(format!(
                "The tag key '{k}' is invalid: keys are 1–128 characters and must not start with \
                 'aws:'."
            )));
        }
        if v.chars().count() > 256 {
            return Err(Error::InvalidParameterValue(format!(
                "The value of tag '{k}' is longer than 256 characters."
            )));
        }
        out.insert(k.clone(), v.to_owned());
    }
    Ok(out)
}

// ----- rendering -------------------------------------------------------------------------------

/// What `FunctionConfiguration` to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Get/Update/Create: with state and update status.
    Full,
    /// ListFunctions / ListVersionsByFunction: without them, as AWS.
    List,
}

/// `FunctionConfiguration` of `version` (`$LATEST` or a number). `arn_suffix` is what the
/// `FunctionArn` ends with (`None` = unqualified; an alias name when resolved through one).
pub fn render_config(
    f: &Function,
    version: &str,
    c: &Config,
    arn_suffix: Option<&str>,
    view: View,
    state: &str,
) -> Value {
    let arn = match arn_suffix {
        Some(q) => format!("{}:{q}", f.arn()),
        None => f.arn(),
    };
    let mut o = Map::new();
    o.insert("FunctionName".into(), f.name.clone().into());
    o.insert("FunctionArn".into(), arn.into());
    o.insert("Runtime".into(), c.runtime.clone().into());
    o.insert("Role".into(), c.role.clone().into());
    o.insert("Handler".into(), c.handler.clone().into());
    o.insert("CodeSize".into(), c.code_size.into());
    o.insert("Description".into(), c.description.clone().into());
    o.insert("Timeout".into(), c.timeout.into());
    o.insert("MemorySize".into(), c.memory_size.into());
    o.insert(
        "LastModified".into(),
        names::lambda_date(c.last_modified).into(),
    );
    o.insert("CodeSha256".into(), c.code_sha256.clone().into());
    o.insert("Version".into(), version.into());
    if let Some(env) = &c.environment {
        o.insert("Environment".into(), json!({ "Variables": env }));
    }
    if let Some(dlq) = &c.dead_letter_arn {
        o.insert("DeadLetterConfig".into(), json!({ "TargetArn": dlq }));
    }
    if let Some(k) = &c.kms_key_arn {
        o.insert("KMSKeyArn".into(), k.clone().into());
    }
    o.insert("TracingConfig".into(), json!({ "Mode": c.tracing_mode }));
    o.insert("RevisionId".into(), c.revision_id.clone().into());
    if view == View::Full {
        o.insert("State".into(), state.into());
        if state == "Pending" {
            o.insert(
                "StateReason".into(),
                "The function is being created.".into(),
            );
            o.insert("StateReasonCode".into(), "Creating".into());
        }
        o.insert("LastUpdateStatus".into(), "Successful".into());
    }
    o.insert("PackageType".into(), "Zip".into());
    o.insert("Architectures".into(), json!(c.architectures));
    o.insert(
        "EphemeralStorage".into(),
        json!({ "Size": c.ephemeral_storage }),
    );
    let optimization = if c.snap_start == "PublishedVersions" && version != LATEST {
        "On"
    } else {
        "Off"
    };
    o.insert(
        "SnapStart".into(),
        json!({ "ApplyOn": c.snap_start, "OptimizationStatus": optimization }),
    );
    if view == View::Full {
        o.insert(
            "RuntimeVersionConfig".into(),
            json!({ "RuntimeVersionArn": runtime_version_arn(&f.region, &c.runtime) }),
        );
    }
    o.insert("LoggingConfig".into(), c.logging.clone());
    Value::Object(o)
}

/// A stable runtime version ARN per runtime (AWS names the image build).
fn runtime_version_arn(region: &str, runtime: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(runtime.as_bytes());
    format!("arn:aws:lambda:{region}::runtime:{}", hex::encode(digest))
}

/// The default `LoggingConfig` of a function.
pub fn default_logging(name: &str) -> Value {
    json!({ "LogFormat": "Text", "LogGroup": format!("/aws/lambda/{name}") })
}

/// `AliasConfiguration`.
pub fn render_alias(f: &Function, a: &Alias) -> Value {
    let mut o = json!({
        "AliasArn": format!("{}:{}", f.arn(), a.name),
        "Name": a.name,
        "FunctionVersion": a.function_version,
        "Description": a.description,
        "RevisionId": a.revision_id,
    });
    if !a.weights.is_empty() {
        o["RoutingConfig"] = json!({ "AdditionalVersionWeights": a.weights });
    }
    o
}

/// `FunctionEventInvokeConfig`.
pub fn render_invoke_config(f: &Function, qualifier: &str, c: &EventInvokeConfig) -> Value {
    let dest = |d: &Option<String>| match d {
        Some(d) => json!({ "Destination": d }),
        None => json!({}),
    };
    let mut o = json!({
        "LastModified": c.last_modified as f64 / 1000.0,
        "FunctionArn": format!("{}:{qualifier}", f.arn()),
        "DestinationConfig": { "OnSuccess": dest(&c.on_success), "OnFailure": dest(&c.on_failure) },
    });
    if let Some(r) = c.max_retries {
        o["MaximumRetryAttempts"] = r.into();
    }
    if let Some(a) = c.max_age {
        o["MaximumEventAgeInSeconds"] = a.into();
    }
    o
}

/// Validates an alias's `RoutingConfig.AdditionalVersionWeights` against the function: at most
/// one entry, a published version other than the primary, weight in [0, 1).
pub fn check_weights(
    f: &Function,
    primary: &str,
    weights: &Map<String, Value>,
) -> Result<BTreeMap<String, f64>> {
    if weights.len() > 1 {
        return Err(Error::InvalidParameterValue(
            "Number of items in AdditionalVersionWeights cannot be greater than 1".into(),
        ));
    }
    let mut out = BTreeMap::new();
    for (k, v) in weights {
        let w = v.as_f64().unwrap_or(-1.0);
        if !(0.0..=1.0).contains(&w) {
            return Err(validation(
                format!("{{{k}={v}}}"),
                "routingConfig.additionalVersionWeights",
                "Map value must satisfy constraint: [Member must have value less than or equal \
                 to 1.0, Member must have value greater than or equal to 0.0, Member must not be \
                 null]",
            ));
        }
        if !names::is_version(k) {
            return Err(validation(
                format!("{{{k}={v}}}"),
                "routingConfig.additionalVersionWeights",
                "Map keys must satisfy constraint: [Member must have length less than or equal to \
                 1024, Member must have length greater than or equal to 1, Member must satisfy \
                 regular expression pattern: [0-9]+, Member must not be null]",
            ));
        }
        if k == primary {
            return Err(Error::InvalidParameterValue(format!(
                "Invalid function version {primary}. Function version {primary} is already \
                 included in routing configuration."
            )));
        }
        if primary == LATEST {
            return Err(Error::InvalidParameterValue(
                "$LATEST is not supported for an alias pointing to more than 1 version".into(),
            ));
        }
        if f.config(k).is_none() {
            return Err(Error::ResourceNotFound(format!(
                "Function not found: {}:{k}",
                f.arn()
            )));
        }
        out.insert(k.clone(), w);
    }
    Ok(out)
}

/// Checks a destination ARN of an event invoke config; `function` is the configured function's
/// name (a function may not be its own destination).
pub fn check_destination(arn: &str, function: &str, exists: impl Fn(&str) -> bool) -> Result<bool> {
    let Some(parsed) = ponte_types::Arn::parse(arn) else {
        return Err(validation(
            arn,
            "destinationConfig.onFailure.destination",
            "Member must satisfy regular expression pattern: \
             ^$|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)",
        ));
    };
    match parsed.service.as_str() {
        "lambda" => {
            let name = names::split(arn).map(|p| p.name.to_owned());
            match name {
                Some(n) if n == function => Err(Error::InvalidParameterValue(
                    "You can't specify the function as a destination for itself.".into(),
                )),
                Some(n) if exists(&n) => Ok(true),
                _ => Err(Error::InvalidParameterValue(format!(
                    "The destination ARN {arn} is invalid."
                ))),
            }
        }
        "sqs" | "sns" | "events" => Ok(true),
        _ => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config {
            runtime: String::new(),
            handler: String::new(),
            role: String::new(),
            description: String::new(),
            timeout: DEFAULT_TIMEOUT,
            memory_size: DEFAULT_MEMORY,
            environment: None,
            architectures: vec!["x86_64".into()],
            dead_letter_arn: None,
            tracing_mode: "PassThrough".into(),
            ephemeral_storage: 512,
            logging: default_logging("f"),
            kms_key_arn: None,
            snap_start: "None".into(),
            code_sha256: String::new(),
            code_size: 0,
            last_modified: 0,
            revision_id: String::new(),
            internal_revision: String::new(),
        }
    }

    #[test]
    fn create_validation_follows_aws() {
        let mut c = config();
        let ok = json!({"Runtime": "python3.12", "Handler": "app.handler",
            "Role": "arn:aws:iam::000000000000:role/lambda-role", "Timeout": 30, "MemorySize": 256,
            "Environment": {"Variables": {"A": "1"}}});
        apply_config(&ok, &mut c, true).unwrap();
        assert_eq!((c.timeout, c.memory_size), (30, 256));
        assert_eq!(c.environment.as_ref().unwrap()["A"], "1");

        let err = |v: Value| apply_config(&v, &mut config(), true).unwrap_err();
        let e = err(json!({"Runtime": "python3.99", "Handler": "h"}));
        assert!(
            e.to_string()
                .starts_with("Value python3.99 at 'runtime' failed")
        );
        let e = err(json!({"Runtime": "python3.7", "Handler": "h"}));
        assert!(
            e.to_string()
                .contains("We recommend you use the new runtime (python3.13)")
        );
        assert!(matches!(
            err(json!({"Runtime": "java21", "Handler": "h"})),
            Error::InvalidParameterValue(_)
        ));
        assert!(
            err(json!({"Runtime": "python3.12"}))
                .to_string()
                .contains("mandatory")
        );
        let e = err(json!({"Runtime": "python3.12", "Handler": "h", "Timeout": 901}));
        assert_eq!(
            e.to_string(),
            "1 validation error detected: Value '901' at 'timeout' failed \
            to satisfy constraint: Member must have value less than or equal to 900"
        );
        let e = err(json!({"Runtime": "python3.12", "Handler": "h", "MemorySize": 64}));
        assert!(e.to_string().contains("greater than or equal to 128"));
        let e = err(json!({"Runtime": "python3.12", "Handler": "h", "Role": "nope"}));
        assert!(matches!(e, Error::Validation(_)));
        let e = err(json!({"Runtime": "python3.12", "Handler": "h",
            "Environment": {"Variables": {"AWS_REGION": "x"}}}));
        assert!(
            e.to_string()
                .ends_with("Reserved keys used in this request: AWS_REGION")
        );
        let e = err(json!({"Runtime": "python3.12", "Handler": "h",
            "Environment": {"Variables": {"BIG": "x".repeat(4100)}}}));
        assert!(e.to_string().contains("exceeded the 4KB limit"));
        let e = err(json!({"Runtime": "python3.12", "Handler": "h", "Architectures": ["x", "y"]}));
        assert!(e.to_string().contains("length less than or equal to 1"));
        let e = err(json!({"Runtime": "python3.12", "Handler": "h", "Layers": ["arn:x"]}));
        assert!(e.to_string().contains("layers"));
    }

    #[test]
    fn alias_weights_route_by_draw() {
        let a = Alias {
            name: "live".into(),
            function_version: "1".into(),
            description: String::new(),
            weights: BTreeMap::from([("2".into(), 0.3)]),
            revision_id: String::new(),
        };
        assert_eq!(a.pick(0.0), "2");
        assert_eq!(a.pick(0.29), "2");
        assert_eq!(a.pick(0.3), "1");
        assert_eq!(a.pick(0.99), "1");
        // A deterministic sweep over the unit interval gives the weight's share.
        let share = (0..1000)
            .filter(|i| a.pick(f64::from(*i) / 1000.0) == "2")
            .count();
        assert_eq!(share, 300);
    }

    #[test]
    fn destinations_and_roles() {
        assert!(check_role("arn:aws:iam::123456789012:role/service-role/x").is_ok());
        assert!(check_role("arn:aws:iam::123:role/x").is_err());
        let exists = |n: &str| n == "other";
        assert!(check_destination("arn:aws:sqs:us-east-1:000000000000:q", "f", exists).unwrap());
        assert!(!check_destination("arn:aws:s3:::bucket", "f", exists).unwrap());
        assert!(
            check_destination(
                "arn:aws:lambda:us-east-1:000000000000:function:f",
                "f",
                exists
            )
            .unwrap_err()
            .to_string()
            .contains("for itself")
        );
        assert!(
            check_destination(
                "arn:aws:lambda:us-east-1:000000000000:function:other",
                "f",
                exists
            )
            .unwrap()
        );
        assert!(check_destination("nope", "f", exists).is_err());
    }
}
