//! nodejs*.x functions on the host's node.

use ponte_runtime::FunctionError;

use crate::{env, json, request, spec};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_commonjs_esm_and_callback_handlers() {
    let e = env().await;
    let code = e.code(
        "node",
        &[
            (
                "index.js",
                r#"
let count = 0;
exports.handler = async (event, context) => {
  count += 1;
  console.log("hello", { n: count });
  if (event.fail) throw new TypeError("bad " + event.fail);
  return {
    count,
    requestId: context.awsRequestId,
    arn: context.invokedFunctionArn,
    name: context.functionName,
    memory: context.memoryLimitInMB,
    remaining: context.getRemainingTimeInMillis(),
    trace: process.env._X_AMZN_TRACE_ID,
    endpoint: process.env.AWS_ENDPOINT_URL,
    env: process.env.AWS_EXECUTION_ENV,
  };
};
"#,
            ),
            (
                "esm.mjs",
                "export const handler = async (event) => ({ esm: true, got: event });\n",
            ),
            (
                "cb.js",
                r#"
exports.handler = (event, context, callback) => {
  setTimeout(() => callback(null, { callback: event.v }), 20);
};
exports.fails = (event, context, callback) => callback(new Error("cb failed"));
exports.sync = (event) => { return "ignored"; };
exports.nowait = (event, context, callback) => {
  context.callbackWaitsForEmptyEventLoop = false;
  setTimeout(() => {}, 60000);
  callback(null, "early");
};
exports.crash = async () => {
  setTimeout(() => { throw new RangeError("late"); }, 10);
  return new Promise(() => {});
};
"#,
            ),
            ("mod/package.json", r#"{"type":"module"}"#),
            (
                "mod/app.js",
                "export async function run(e) { return 'module-js'; }\n",
            ),
        ],
    );

    let s = spec("node", "nodejs20.x", "index.handler", &code);
    let r = e.rt.invoke(&s, request("n-1", r#"{"a":1}"#)).await.unwrap();
    assert_eq!(
        r.function_error,
        None,
        "{}",
        String::from_utf8_lossy(&r.payload)
    );
    let v = json(&r);
    assert_eq!(v["count"], 1);
    assert_eq!(v["requestId"], "n-1");
    assert_eq!(v["arn"], s.arn.as_str());
    assert_eq!(v["name"], "node");
    assert_eq!(v["memory"], "128");
    assert_eq!(v["endpoint"], "http://127.0.0.1:4566");
    assert_eq!(v["env"], "AWS_Lambda_nodejs20.x");
    assert!(v["trace"].as_str().unwrap().contains("Lineage=n-1"));
    assert!(v["remaining"].as_u64().unwrap() > 5000);
    let logs = e.sink.invocation("n-1");
    assert!(logs[1].ends_with("\tn-1\tINFO\thello { n: 1 }"), "{logs:?}");
    assert!(logs[1].as_bytes()[23] == b'Z');

    let r =
        e.rt.invoke(&s, request("n-2", r#"{"fail":"x"}"#))
            .await
            .unwrap();
    assert_eq!(r.function_error, Some(FunctionError::Unhandled));
    let v = json(&r);
    assert_eq!(v["errorType"], "TypeError");
    assert_eq!(v["errorMessage"], "bad x");
    assert_eq!(v["trace"][0], "TypeError: bad x");
    assert!(v["trace"][1].as_str().unwrap().contains("index.js"));
    let logs = e.sink.invocation("n-2");
    assert!(
        logs.iter()
            .any(|l| l.contains("\tERROR\tInvoke Error \t{\"errorType\":\"TypeError\"")),
        "{logs:?}"
    );
    assert_eq!(e.rt.stats(&s.arn).cold_starts, 1);

    let s = spec("esm", "nodejs22.x", "esm.handler", &code);
    let v = json(&e.rt.invoke(&s, request("n-3", r#"{"b":2}"#)).await.unwrap());
    assert_eq!(v["esm"], true);
    assert_eq!(v["got"]["b"], 2);

    let s = spec("modjs", "nodejs18.x", "mod/app.run", &code);
    assert_eq!(
        json(&e.rt.invoke(&s, request("n-4", "{}")).await.unwrap()),
        "module-js"
    );

    let s = spec("cb", "nodejs20.x", "cb.handler", &code);
    let v = json(&e.rt.invoke(&s, request("n-5", r#"{"v":5}"#)).await.unwrap());
    assert_eq!(v["callback"], 5);
    let s = spec("cbf", "nodejs20.x", "cb.fails", &code);
    let r = e.rt.invoke(&s, request("n-6", "{}")).await.unwrap();
    assert_eq!(json(&r)["errorMessage"], "cb failed");
    // A non-async handler that never calls back: null once the event loop is empty, as AWS.
    let s = spec("sync", "nodejs20.x", "cb.sync", &code);
    let r = e.rt.invoke(&s, request("n-7", "{}")).await.unwrap();
    assert_eq!(r.function_error, None);
    assert_eq!(r.payload, b"null");

    // callbackWaitsForEmptyEventLoop = false: answered although a timer is pending.
    let s = spec("nowait", "nodejs20.x", "cb.nowait", &code);
    let r = e.rt.invoke(&s, request("n-8", "{}")).await.unwrap();
    assert_eq!(json(&r), "early");

    // An uncaught exception fails the invocation with that error and ends the instance.
    let s = spec("crash", "nodejs20.x", "cb.crash", &code);
    let r = e.rt.invoke(&s, request("n-9", "{}")).await.unwrap();
    assert_eq!(r.function_error, Some(FunctionError::Unhandled));
    assert_eq!(json(&r)["errorType"], "RangeError");
    assert_eq!(json(&r)["errorMessage"], "late");
    crate::eventually("crashed instance gone", || {
        e.rt.stats(&s.arn).instances == 0
    })
    .await;

    for (i, (handler, error_type)) in [
        ("nothere.handler", "Runtime.ImportModuleError"),
        ("index.missing", "Runtime.HandlerNotFound"),
        ("index", "Runtime.MalformedHandlerName"),
    ]
    .iter()
    .enumerate()
    {
        let s = spec(&format!("nbad{i}"), "nodejs20.x", handler, &code);
        let r =
            e.rt.invoke(&s, request(&format!("nb-{i}"), "{}"))
                .await
                .unwrap();
        assert_eq!(json(&r)["errorType"], *error_type, "{handler}");
    }
}
