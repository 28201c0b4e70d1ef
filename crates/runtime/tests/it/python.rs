//! python3.x functions on the host's python.

use std::sync::Arc;
use std::time::Duration;

use ponte_runtime::FunctionError;
use ponte_types::ManualClock;

use crate::{env, env_with, eventually, json, request, spec};

const APP: &str = r#"
import json, os, sys, time, logging

COUNTER = {"n": 0}
logger = logging.getLogger()
logger.setLevel(logging.INFO)
print("init line")

def handler(event, context):
    COUNTER["n"] += 1
    op = event.get("op")
    if op == "env":
        keys = ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_LOG_GROUP_NAME",
                "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_LAMBDA_RUNTIME_API", "AWS_REGION",
                "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV", "AWS_ENDPOINT_URL",
                "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                "LAMBDA_TASK_ROOT", "_HANDLER", "TZ", "_X_AMZN_TRACE_ID", "TMPDIR",
                "AWS_LAMBDA_INITIALIZATION_TYPE", "MY_VAR"]
        return {
            "env": {k: os.environ.get(k) for k in keys},
            "cwd": os.getcwd(),
            "context": {
                "function_name": context.function_name,
                "function_version": context.function_version,
                "invoked_function_arn": context.invoked_function_arn,
                "memory_limit_in_mb": context.memory_limit_in_mb,
                "aws_request_id": context.aws_request_id,
                "log_group_name": context.log_group_name,
                "log_stream_name": context.log_stream_name,
                "remaining": context.get_remaining_time_in_millis(),
                "client_custom": context.client_context.custom if context.client_context else None,
                "identity_id": context.identity.cognito_identity_id,
            },
            "count": COUNTER["n"],
        }
    if op == "raise":
        raise ValueError("boom " + str(event.get("n")))
    if op == "print":
        print("hello from print")
        sys.stderr.write("to stderr\n")
        logger.info("multi\nline")
        sys.stdout.write("no newline at the end")
        return "printed"
    if op == "sleep":
        time.sleep(event["s"])
        return "slept"
    if op == "spawn":
        import subprocess
        child = subprocess.Popen(["sleep", "60"])
        print("child pid", child.pid)
        time.sleep(60)
    if op == "exit":
        sys.stdout.write("bye\n")
        os._exit(3)
    if op == "big":
        return "x" * (7 * 1024 * 1024)
    if op == "unserializable":
        return {1, 2}
    return event
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_function_end_to_end() {
    let e = env().await;
    let code = e.code("py", &[("app.py", APP)]);
    let mut s = spec("py", "python3.12", "app.handler", &code);
    s.environment.insert("MY_VAR".into(), "mine".into());

    // Cold start: the env Lambda sets, the context, the trace id.
    let mut req = request("req-1", r#"{"op":"env"}"#);
    req.client_context = Some(r#"{"custom":{"k":"v"}}"#.into());
    req.cognito_identity =
        Some(r#"{"cognitoIdentityId":"id-1","cognitoIdentityPoolId":"p"}"#.into());
    let r = e.rt.invoke(&s, req).await.unwrap();
    assert_eq!(
        r.function_error,
        None,
        "{:?}",
        String::from_utf8_lossy(&r.payload)
    );
    let v = json(&r);
    let env = &v["env"];
    assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "py");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "128");
    assert_eq!(env["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/py");
    assert_eq!(env["AWS_REGION"], "us-east-1");
    assert_eq!(env["AWS_DEFAULT_REGION"], "us-east-1");
    assert_eq!(env["AWS_EXECUTION_ENV"], "AWS_Lambda_python3.12");
    assert_eq!(env["AWS_ENDPOINT_URL"], "http://127.0.0.1:4566");
    assert_eq!(env["AWS_ACCESS_KEY_ID"], "test");
    assert_eq!(env["AWS_LAMBDA_INITIALIZATION_TYPE"], "on-demand");
    assert_eq!(env["TZ"], ":UTC");
    assert_eq!(env["_HANDLER"], "app.handler");
    assert_eq!(env["MY_VAR"], "mine");
    assert_eq!(env["LAMBDA_TASK_ROOT"], code.display().to_string());
    assert_eq!(v["cwd"], code.display().to_string());
    assert!(
        env["AWS_LAMBDA_RUNTIME_API"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:")
    );
    assert!(
        env["_X_AMZN_TRACE_ID"]
            .as_str()
            .unwrap()
            .contains("Lineage=req-1")
    );
    let tmp = env["TMPDIR"].as_str().unwrap().to_string();
    assert!(std::path::Path::new(&tmp).is_dir());
    let stream = env["AWS_LAMBDA_LOG_STREAM_NAME"].as_str().unwrap();
    assert!(
        stream.contains("/[$LATEST]") && stream.len() == 11 + 9 + 32,
        "{stream}"
    );
    let c = &v["context"];
    assert_eq!(c["function_name"], "py");
    assert_eq!(c["invoked_function_arn"], s.arn.as_str());
    assert_eq!(c["memory_limit_in_mb"], "128");
    assert_eq!(c["aws_request_id"], "req-1");
    assert_eq!(c["log_stream_name"], stream);
    assert_eq!(c["client_custom"]["k"], "v");
    assert_eq!(c["identity_id"], "id-1");
    let remaining = c["remaining"].as_u64().unwrap();
    assert!(remaining > 5_000 && remaining <= 10_000, "{remaining}");
    assert!(r.init_ms.is_some());
    assert!(r.max_memory_mb > 0);
    assert!(r.billed_ms as f64 >= r.duration_ms + r.init_ms.unwrap());

    // Logs of the cold start: init output before START, REPORT with Init Duration.
    let logs = e.sink.invocation("req-1");
    assert_eq!(logs[0], "START RequestId: req-1 Version: $LATEST");
    assert!(
        logs.last().unwrap().contains("\tInit Duration: "),
        "{logs:?}"
    );
    let all: Vec<String> = e.sink.events.lock().iter().map(|x| x.2.clone()).collect();
    assert_eq!(all[0], "init line");
    assert!(
        e.sink
            .events
            .lock()
            .iter()
            .all(|x| x.0 == "/aws/lambda/py" && x.1 == stream)
    );

    // Warm: same instance, no init, module state kept.
    let r =
        e.rt.invoke(&s, request("req-2", r#"{"op":"env"}"#))
            .await
            .unwrap();
    assert_eq!(json(&r)["count"], 2);
    assert!(
        json(&r)["env"]["_X_AMZN_TRACE_ID"]
            .as_str()
            .unwrap()
            .contains("Lineage=req-2")
    );
    assert!(r.init_ms.is_none());
    let st = e.rt.stats(&s.arn);
    assert_eq!((st.instances, st.busy, st.cold_starts), (1, 0, 1));
    assert!(st.init_ms_total > 0.0);

    // Output just before return belongs to the invocation, in order, stderr included.
    let r =
        e.rt.invoke(&s, request("req-3", r#"{"op":"print"}"#))
            .await
            .unwrap();
    assert_eq!(json(&r), "printed");
    let logs = e.sink.invocation("req-3");
    assert_eq!(logs[1], "hello from print");
    assert_eq!(logs[2], "to stderr");
    assert!(
        logs[3].starts_with("[INFO]\t") && logs[3].ends_with("\treq-3\tmulti\nline"),
        "{:?}",
        logs[3]
    );
    assert_eq!(logs[4], "no newline at the end");
    assert_eq!(logs[5], "END RequestId: req-3");
    let report = &logs[6];
    assert!(
        report.starts_with("REPORT RequestId: req-3\tDuration: "),
        "{report}"
    );
    assert!(
        report.contains(" ms\tBilled Duration: ")
            && report.contains("\tMemory Size: 128 MB\tMax Memory Used: ")
    );
    assert!(report.ends_with(" MB\t"), "{report:?}");
    let tail = r.log_tail.unwrap();
    assert!(tail.starts_with("START RequestId: req-3") && tail.contains("hello from print\n"));

    // A raised exception: the AWS python error shape, logged as one event.
    let r =
        e.rt.invoke(&s, request("req-4", r#"{"op":"raise","n":4}"#))
            .await
            .unwrap();
    assert_eq!(r.function_error, Some(FunctionError::Unhandled));
    let v = json(&r);
    assert_eq!(v["errorMessage"], "boom 4");
    assert_eq!(v["errorType"], "ValueError");
    assert_eq!(v["requestId"], "req-4");
    let trace = v["stackTrace"].as_array().unwrap();
    assert!(
        trace[0].as_str().unwrap().contains("app.py\", line "),
        "{trace:?}"
    );
    assert!(
        !trace
            .iter()
            .any(|t| t.as_str().unwrap().contains("bootstrap.py"))
    );
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["errorMessage", "errorType", "requestId", "stackTrace"]
    );
    let logs = e.sink.invocation("req-4");
    assert!(
        logs[1]
            .starts_with("[ERROR] ValueError: boom 4\nTraceback (most recent call last):\n  File "),
        "{:?}",
        logs[1]
    );
    // Still the same warm instance.
    assert_eq!(e.rt.stats(&s.arn).cold_starts, 1);

    // A result that is not JSON-serialisable.
    let r =
        e.rt.invoke(&s, request("req-5", r#"{"op":"unserializable"}"#))
            .await
            .unwrap();
    assert_eq!(json(&r)["errorType"], "Runtime.MarshalError");

    // Over 6 MB: Lambda's error, and the instance stays usable.
    let r =
        e.rt.invoke(&s, request("req-6", r#"{"op":"big"}"#))
            .await
            .unwrap();
    assert_eq!(r.function_error, Some(FunctionError::Unhandled));
    assert_eq!(
        String::from_utf8(r.payload.clone()).unwrap(),
        r#"{"errorMessage":"Response payload size exceeded maximum allowed payload size (6291556 bytes).","errorType":"Function.ResponseSizeTooLarge"}"#
    );
    let r =
        e.rt.invoke(&s, request("req-7", r#"{"echo":1}"#))
            .await
            .unwrap();
    assert_eq!(json(&r)["echo"], 1, "{:?}", e.sink.invocation("req-7"));
    assert_eq!(e.rt.stats(&s.arn).cold_starts, 1);

    // The process exiting mid-invocation: Runtime.ExitError, instance discarded.
    let r =
        e.rt.invoke(&s, request("req-8", r#"{"op":"exit"}"#))
            .await
            .unwrap();
    assert_eq!(
        String::from_utf8(r.payload.clone()).unwrap(),
        r#"{"errorType":"Runtime.ExitError","errorMessage":"RequestId: req-8 Error: Runtime exited with error: exit status 3"}"#
    );
    let logs = e.sink.invocation("req-8");
    assert!(logs.contains(&"bye".to_string()), "{logs:?}");
    assert!(
        logs.last()
            .unwrap()
            .ends_with("Status: error\tError Type: Runtime.ExitError\t")
    );
    assert_eq!(e.rt.stats(&s.arn).instances, 0);
    eventually("scratch dir removed", || {
        !std::path::Path::new(&tmp).exists()
    })
    .await;

    // Next invoke is a new cold start.
    let r =
        e.rt.invoke(&s, request("req-9", r#"{"op":"env"}"#))
            .await
            .unwrap();
    assert_eq!(json(&r)["count"], 1);
    assert_eq!(e.rt.stats(&s.arn).cold_starts, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_init_errors() {
    let e = env().await;
    let code = e.code(
        "bad",
        &[
            ("ok.py", "def handler(e, c):\n    return 1\n"),
            ("syntax.py", "def handler(e, c)\n    return 1\n"),
            ("needs.py", "import not_a_module_anywhere\n"),
            ("pkg/__init__.py", ""),
            ("pkg/mod.py", "def handler(e, c):\n    return 'nested'\n"),
            ("boom.py", "raise RuntimeError('at import')\n"),
        ],
    );
    let cases = [
        (
            "missing.handler",
            "Runtime.ImportModuleError",
            "Unable to import module 'missing': No module named 'missing'",
        ),
        (
            "needs.handler",
            "Runtime.ImportModuleError",
            "Unable to import module 'needs': No module named 'not_a_module_anywhere'",
        ),
        (
            "ok.nothere",
            "Runtime.HandlerNotFound",
            "Handler 'nothere' missing on module 'ok'",
        ),
        (
            "nodot",
            "Runtime.MalformedHandlerName",
            "Bad handler 'nodot': not enough values to unpack (expected 2, got 1)",
        ),
        ("boom.handler", "RuntimeError", "at import"),
    ];
    for (i, (handler, error_type, message)) in cases.iter().enumerate() {
        let s = spec(&format!("bad{i}"), "python3.11", handler, &code);
        let id = format!("init-{i}");
        let r = e.rt.invoke(&s, request(&id, "{}")).await.unwrap();
        assert_eq!(
            r.function_error,
            Some(FunctionError::Unhandled),
            "{handler}"
        );
        let v = json(&r);
        assert_eq!(v["errorType"], *error_type, "{handler}: {v}");
        assert_eq!(v["errorMessage"], *message, "{handler}");
        assert_eq!(v["requestId"], "");
        let logs = e.sink.invocation(&id);
        assert!(
            logs.last()
                .unwrap()
                .contains(&format!("Status: error\tError Type: {error_type}\t")),
            "{logs:?}"
        );
        assert_eq!(e.rt.stats(&s.arn).instances, 0);
    }
    let s = spec("syn", "python3.11", "syntax.handler", &code);
    let v = json(&e.rt.invoke(&s, request("syn", "{}")).await.unwrap());
    assert_eq!(v["errorType"], "Runtime.UserCodeSyntaxError");
    assert!(
        v["errorMessage"]
            .as_str()
            .unwrap()
            .starts_with("Syntax error in module 'syntax': ")
    );

    // Packages: `dir/mod.handler`.
    let s = spec("nested", "python3.11", "pkg/mod.handler", &code);
    assert_eq!(
        json(&e.rt.invoke(&s, request("n", "{}")).await.unwrap()),
        "nested"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_timeout_kills_the_instance() {
    let e = env().await;
    let code = e.code("slow", &[("app.py", APP)]);
    let mut s = spec("slow", "python3.12", "app.handler", &code);
    s.timeout = Duration::from_millis(1500);
    // Warm it first so the timeout applies to the handler alone.
    e.rt.invoke(&s, request("w", "{}")).await.unwrap();
    // The handler starts a child process and hangs: the timeout kills both.
    let r =
        e.rt.invoke(&s, request("t-1", r#"{"op":"spawn"}"#))
            .await
            .unwrap();
    assert!(r.timed_out);
    assert_eq!(r.function_error, Some(FunctionError::Unhandled));
    assert_eq!(
        String::from_utf8(r.payload.clone()).unwrap(),
        r#"{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: t-1 Error: Task timed out after 1.50 seconds"}"#
    );
    assert!(r.duration_ms >= 1500.0);
    let logs = e.sink.invocation("t-1");
    let n = logs.len();
    assert!(
        logs[n - 3].ends_with(" t-1 Task timed out after 1.50 seconds"),
        "{logs:?}"
    );
    assert!(logs[n - 3].starts_with("20") && logs[n - 3].as_bytes()[23] == b'Z');
    assert!(logs[n - 1].ends_with("Status: timeout\t"));
    let pid: u32 = logs
        .iter()
        .find_map(|l| l.strip_prefix("child pid "))
        .expect("child pid logged")
        .parse()
        .unwrap();
    eventually("the function's child is killed too", || {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|st| st.contains(") Z "))
            .unwrap_or(true)
    })
    .await;
    assert_eq!(e.rt.stats(&s.arn).instances, 0);
    let r = e.rt.invoke(&s, request("t-2", r#"{"x":1}"#)).await.unwrap();
    assert_eq!(json(&r)["x"], 1);
    assert_eq!(e.rt.stats(&s.arn).cold_starts, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_invokes_start_two_instances_and_retire_stops_them() {
    let e = env().await;
    let code = e.code("conc", &[("app.py", APP)]);
    let s = spec("conc", "python3.12", "app.handler", &code);
    let (a, b) = tokio::join!(
        e.rt.invoke(&s, request("c-1", r#"{"op":"sleep","s":0.4}"#)),
        e.rt.invoke(&s, request("c-2", r#"{"op":"sleep","s":0.4}"#)),
    );
    assert_eq!(json(&a.unwrap()), "slept");
    assert_eq!(json(&b.unwrap()), "slept");
    let st = e.rt.stats(&s.arn);
    assert_eq!((st.instances, st.busy, st.cold_starts), (2, 0, 2));
    assert_eq!(e.sink.streams().len(), 2);

    // A new revision never reuses the old instances.
    let mut s2 = s.clone();
    s2.revision = "r2".into();
    e.rt.invoke(&s2, request("c-3", "{}")).await.unwrap();
    let st = e.rt.stats(&s.arn);
    assert_eq!((st.instances, st.cold_starts), (1, 3));

    // Retire: idle instances stop at once; a busy one when its invocation ends.
    let slow = e.rt.clone();
    let s3 = s2.clone();
    let busy = tokio::spawn(async move {
        slow.invoke(&s3, request("c-4", r#"{"op":"sleep","s":0.5}"#))
            .await
    });
    eventually("busy", || e.rt.stats(&s.arn).busy == 1).await;
    e.rt.retire("arn:aws:lambda:us-east-1:000000000000:function:conc:");
    assert_eq!(json(&busy.await.unwrap().unwrap()), "slept");
    assert_eq!(e.rt.stats(&s.arn).instances, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_instances_are_reaped_on_the_clock() {
    let clock = ManualClock::new(1_767_225_600_000);
    let e = env_with(clock.clone(), Duration::from_secs(60)).await;
    let code = e.code(
        "reap",
        &[("app.py", "def handler(e, c):\n    return 'ok'\n")],
    );
    let s = spec("reap", "python3.12", "app.handler", &code);
    e.rt.invoke(&s, request("i-1", "{}")).await.unwrap();
    assert_eq!(e.rt.stats(&s.arn).instances, 1);
    clock.advance(Duration::from_secs(59));
    e.rt.invoke(&s, request("i-2", "{}")).await.unwrap();
    clock.advance(Duration::from_secs(59));
    // Used 59 s ago: still there.
    assert_eq!(e.rt.stats(&s.arn).instances, 1);
    clock.advance(Duration::from_secs(2));
    eventually("reaped", || e.rt.stats(&s.arn).instances == 0).await;
    let st = e.rt.stats(&s.arn);
    assert_eq!(st.cold_starts, 1);
    // The stream carries the clock's date.
    assert!(e.sink.streams()[0].starts_with("2026/01/01/[$LATEST]"));
    let _ = Arc::clone(&clock);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_output_is_attributed_to_its_own_invocation() {
    let e = env().await;
    let code = e.code(
        "attr",
        &[(
            "app.py",
            "import sys\ndef handler(event, context):\n    for i in range(20):\n        print(context.aws_request_id, i)\n    sys.stdout.write('last ' + context.aws_request_id)\n    return event['n']\n",
        )],
    );
    let s = spec("attr", "python3.12", "app.handler", &code);
    for round in 0..4 {
        let calls = (0..6).map(|i| {
            let rt = e.rt.clone();
            let s = s.clone();
            tokio::spawn(async move {
                let id = format!("a-{round}-{i}");
                let r = rt
                    .invoke(&s, request(&id, &format!("{{\"n\":{i}}}")))
                    .await
                    .unwrap();
                (id, i, r)
            })
        });
        for call in calls.collect::<Vec<_>>() {
            let (id, i, r) = call.await.unwrap();
            assert_eq!(json(&r), i);
            let logs = e.sink.invocation(&id);
            // START, 20 prints, the unterminated last write, END, REPORT: all its own.
            assert_eq!(logs.len(), 24, "{logs:?}");
            for (k, line) in logs[1..21].iter().enumerate() {
                assert_eq!(*line, format!("{id} {k}"));
            }
            assert_eq!(logs[21], format!("last {id}"));
            let tail = r.log_tail.unwrap();
            assert!(tail.contains(&format!("last {id}\nEND RequestId: {id}\n")));
        }
    }
    let st = e.rt.stats(&s.arn);
    assert!(st.instances >= 2 && st.instances <= 6, "{st:?}");
    assert_eq!(st.busy, 0);
}
