//! provided.* functions: the package's own executable `bootstrap` (a shell script with curl).

use std::os::unix::fs::PermissionsExt;

use ponte_runtime::FunctionError;

use crate::{env, json, request, spec};

/// A custom runtime in the style of AWS's tutorial: curl against the Runtime API.
const BOOTSTRAP: &str = r#"#!/bin/sh
set -eu
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
echo "init from sh"
while true; do
  HEADERS="$(mktemp)"
  EVENT=$(curl -sS -LD "$HEADERS" "$API/invocation/next")
  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  case "$EVENT" in
    *crash*) echo "crashing"; exit 7 ;;
    *fail*) curl -sS -X POST "$API/invocation/$ID/error" -H "Lambda-Runtime-Function-Error-Type: Custom.Failure" -d '{"errorMessage":"it failed","errorType":"Custom.Failure"}' >/dev/null ;;
    *) echo "handling $ID"; curl -sS -X POST "$API/invocation/$ID/response" -d "{\"echo\":$EVENT,\"handler\":\"$_HANDLER\"}" >/dev/null ;;
  esac
  rm -f "$HEADERS"
done
"#;

fn write_bootstrap(dir: &std::path::Path, text: &str, mode: u32) {
    let p = dir.join("bootstrap");
    std::fs::write(&p, text).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provided_bootstrap_with_curl() {
    let e = env().await;
    let code = e.code("sh", &[]);
    write_bootstrap(&code, BOOTSTRAP, 0o755);
    let s = spec("sh", "provided.al2023", "function.handler", &code);

    let r = e.rt.invoke(&s, request("p-1", r#"{"k":1}"#)).await.unwrap();
    assert_eq!(
        r.function_error,
        None,
        "{}",
        String::from_utf8_lossy(&r.payload)
    );
    let v = json(&r);
    assert_eq!(v["echo"]["k"], 1);
    assert_eq!(v["handler"], "function.handler");
    let logs = e.sink.invocation("p-1");
    assert_eq!(logs[1], "handling p-1");
    let all: Vec<String> = e.sink.events.lock().iter().map(|x| x.2.clone()).collect();
    assert_eq!(all[0], "init from sh");

    let r = e.rt.invoke(&s, request("p-2", r#""fail""#)).await.unwrap();
    assert_eq!(r.function_error, Some(FunctionError::Unhandled));
    assert_eq!(json(&r)["errorType"], "Custom.Failure");
    assert_eq!(e.rt.stats(&s.arn).cold_starts, 1);

    let r = e.rt.invoke(&s, request("p-3", r#""crash""#)).await.unwrap();
    assert_eq!(
        String::from_utf8(r.payload).unwrap(),
        r#"{"errorType":"Runtime.ExitError","errorMessage":"RequestId: p-3 Error: Runtime exited with error: exit status 7"}"#
    );
    assert!(e.sink.invocation("p-3").contains(&"crashing".to_string()));
    assert_eq!(e.rt.stats(&s.arn).instances, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provided_entrypoint_and_init_failures() {
    let e = env().await;
    // No bootstrap at all.
    let code = e.code("none", &[]);
    let s = spec("none", "provided.al2", "h", &code);
    let r = e.rt.invoke(&s, request("e-1", "{}")).await.unwrap();
    let v = json(&r);
    assert_eq!(v["errorType"], "Runtime.InvalidEntrypoint");
    assert_eq!(
        v["errorMessage"],
        format!(
            "RequestId: e-1 Error: Couldn't find valid bootstrap(s): [{}/bootstrap]",
            code.display()
        )
    );
    let logs = e.sink.invocation("e-1");
    assert!(
        logs.last()
            .unwrap()
            .ends_with("Status: error\tError Type: Runtime.InvalidEntrypoint\t")
    );

    // Not executable.
    let code = e.code("noexec", &[]);
    write_bootstrap(&code, BOOTSTRAP, 0o644);
    let s = spec("noexec", "provided", "h", &code);
    let v = json(&e.rt.invoke(&s, request("e-2", "{}")).await.unwrap());
    assert_eq!(v["errorType"], "Runtime.InvalidEntrypoint");
    assert!(
        v["errorMessage"]
            .as_str()
            .unwrap()
            .ends_with("/bootstrap: permission denied")
    );

    // Exits during init.
    let code = e.code("dies", &[]);
    write_bootstrap(&code, "#!/bin/sh\necho 'cannot start' >&2\nexit 2\n", 0o755);
    let s = spec("dies", "provided.al2023", "h", &code);
    let r = e.rt.invoke(&s, request("e-3", "{}")).await.unwrap();
    assert_eq!(
        String::from_utf8(r.payload).unwrap(),
        r#"{"errorType":"Runtime.ExitError","errorMessage":"RequestId: e-3 Error: Runtime exited with error: exit status 2"}"#
    );
    let all: Vec<String> = e.sink.events.lock().iter().map(|x| x.2.clone()).collect();
    assert!(all.contains(&"cannot start".to_string()), "{all:?}");

    // Reports an init error through the API.
    let code = e.code("initerr", &[]);
    write_bootstrap(
        &code,
        "#!/bin/sh\ncurl -sS -X POST \"http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/init/error\" -H 'Lambda-Runtime-Function-Error-Type: Custom.Init' -d '{\"errorMessage\":\"no config\",\"errorType\":\"Custom.Init\"}'\nexit 1\n",
        0o755,
    );
    let s = spec("initerr", "provided.al2023", "h", &code);
    let r = e.rt.invoke(&s, request("e-4", "{}")).await.unwrap();
    assert_eq!(r.function_error, Some(FunctionError::Unhandled));
    assert_eq!(json(&r)["errorMessage"], "no config");
    assert_eq!(json(&r)["errorType"], "Custom.Init");
}
