//! The SNS engine end to end over the memory store, a manual clock and the real outbox, with
//! fake SQS and Lambda targets that record what they receive.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use ponte_delivery::{BoxFuture, Job, Outbox, Outcome, Target};
use ponte_sns::Sns;
use ponte_store::{MemoryStore, SharedStore};
use ponte_types::{ManualClock, RequestContext, SharedClock};
use serde_json::{Value, json};
use tokio::sync::watch;

const T0: u64 = 1_700_000_000_000;

#[derive(Default)]
struct Capture {
    jobs: Mutex<Vec<Job>>,
}

impl Target for Capture {
    fn deliver<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, Outcome> {
        self.jobs.lock().push(job.clone());
        Box::pin(async {
            Outcome::Delivered {
                status_code: 200,
                response: None,
                executed_version: None,
            }
        })
    }
}

impl Capture {
    fn take(&self) -> Vec<Job> {
        std::mem::take(&mut *self.jobs.lock())
    }
}

struct World {
    sns: Sns,
    outbox: Outbox,
    clock: Arc<ManualClock>,
    store: SharedStore,
    sqs: Arc<Capture>,
    lambda: Arc<Capture>,
    _shutdown: watch::Sender<bool>,
    ctx: RequestContext,
}

fn open(store: SharedStore, clock: Arc<ManualClock>) -> World {
    let shared: SharedClock = clock.clone();
    let outbox = Outbox::open(store.clone(), shared.clone()).unwrap();
    let sqs = Arc::new(Capture::default());
    let lambda = Arc::new(Capture::default());
    outbox.register("sqs", sqs.clone());
    outbox.register("lambda", lambda.clone());
    let sns = Sns::open(store.clone(), shared, outbox.clone()).unwrap();
    let (tx, rx) = watch::channel(false);
    outbox.start(rx);
    World {
        sns,
        outbox,
        clock,
        store,
        sqs,
        lambda,
        _shutdown: tx,
        ctx: RequestContext::internal("http://127.0.0.1:4566"),
    }
}

fn world() -> World {
    open(Arc::new(MemoryStore::new()), ManualClock::new(T0))
}

impl World {
    async fn call(&self, op: &str, input: Value) -> Value {
        self.sns
            .call(&self.ctx, op, input)
            .await
            .unwrap_or_else(|e| panic!("{op}: {e}"))
    }

    async fn err(&self, op: &str, input: Value) -> (String, String) {
        let e = self.sns.call(&self.ctx, op, input).await.unwrap_err();
        (e.code, e.message)
    }

    async fn topic(&self, name: &str, attrs: Value) -> String {
        let out = self
            .call("CreateTopic", json!({"Name": name, "Attributes": attrs}))
            .await;
        out["TopicArn"].as_str().unwrap().to_owned()
    }

    async fn subscribe(&self, topic: &str, protocol: &str, endpoint: &str, attrs: Value) -> String {
        let out = self
            .call(
                "Subscribe",
                json!({"TopicArn": topic, "Protocol": protocol, "Endpoint": endpoint,
                       "Attributes": attrs, "ReturnSubscriptionArn": true}),
            )
            .await;
        out["SubscriptionArn"].as_str().unwrap().to_owned()
    }

    async fn settle(&self) {
        self.outbox.settled().await;
    }
}

fn queue(name: &str) -> String {
    format!("arn:aws:sqs:us-east-1:000000000000:{name}")
}

#[tokio::test]
async fn fan_out_with_filter_policies_raw_delivery_and_lambda_events() {
    let w = world();
    let topic = w.topic("orders", json!({})).await;
    w.subscribe(&topic, "sqs", &queue("all"), json!({})).await;
    w.subscribe(
        &topic,
        "sqs",
        &queue("red"),
        json!({"FilterPolicy": r#"{"color": ["red"]}"#, "RawMessageDelivery": "true"}),
    )
    .await;
    w.subscribe(
        &topic,
        "sqs",
        &queue("orders"),
        json!({"FilterPolicy": r#"{"kind": ["order"]}"#, "FilterPolicyScope": "MessageBody"}),
    )
    .await;
    let fn_sub = w
        .subscribe(
            &topic,
            "lambda",
            "arn:aws:lambda:us-east-1:000000000000:function:f",
            json!({}),
        )
        .await;

    let blue = json!({"color": {"DataType": "String", "StringValue": "blue"}});
    let out = w
        .call(
            "Publish",
            json!({"TopicArn": topic, "Message": r#"{"kind": "order"}"#, "Subject": "s",
                   "MessageAttributes": blue}),
        )
        .await;
    let id = out["MessageId"].as_str().unwrap().to_owned();
    w.settle().await;
    let mut got: Vec<(String, String)> = w
        .sqs
        .take()
        .into_iter()
        .map(|j| (j.target, j.message.body))
        .collect();
    got.sort();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].0, queue("all"));
    assert_eq!(got[1].0, queue("orders"));
    let env: Value = serde_json::from_str(&got[0].1).unwrap();
    assert_eq!(env["Type"], "Notification");
    assert_eq!(env["MessageId"], id.as_str());
    assert_eq!(env["Subject"], "s");
    assert_eq!(env["TopicArn"], topic.as_str());
    assert_eq!(env["MessageAttributes"]["color"]["Value"], "blue");
    assert!(
        env["SigningCertURL"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:4566/_ponte/sns/SimpleNotificationService-")
    );
    assert!(!env["Signature"].as_str().unwrap().is_empty());
    let lambda = w.lambda.take();
    assert_eq!(lambda.len(), 1);
    assert_eq!(lambda[0].context, json!({"invocationType": "Event"}));
    let event: Value = serde_json::from_str(&lambda[0].message.body).unwrap();
    assert_eq!(event["Records"][0]["EventSubscriptionArn"], fn_sub.as_str());
    assert_eq!(event["Records"][0]["Sns"]["MessageId"], id.as_str());

    let red = json!({"color": {"DataType": "String", "StringValue": "red"}});
    w.call(
        "Publish",
        json!({"TopicArn": topic, "Message": "plain", "MessageAttributes": red}),
    )
    .await;
    w.settle().await;
    let mut got = w.sqs.take();
    got.sort_by(|a, b| a.target.cmp(&b.target));
    let targets: Vec<&str> = got.iter().map(|j| j.target.as_str()).collect();
    assert_eq!(targets, [queue("all"), queue("red")]);
    assert_eq!(got[1].message.body, "plain");
    assert_eq!(
        got[1].message.attributes["color"].string_value.as_deref(),
        Some("red")
    );
    let meter = w.sns.meter();
    assert_eq!(meter.publishes, 2);
    assert_eq!(meter.filtered_out, 2);
    assert_eq!(meter.notifications["sqs"], 4);
    assert_eq!(meter.notifications["lambda"], 2);
}

#[tokio::test]
async fn fifo_deduplication_window_and_group_ordering() {
    let w = world();
    let topic = w
        .topic(
            "events.fifo",
            json!({"FifoTopic": "true", "ContentBasedDeduplication": "true"}),
        )
        .await;
    let sub = w
        .subscribe(&topic, "sqs", &queue("events.fifo"), json!({}))
        .await;
    let publish = |body: &str| json!({"TopicArn": topic, "Message": body, "MessageGroupId": "g1"});
    let first = w.call("Publish", publish("one")).await;
    let again = w.call("Publish", publish("one")).await;
    assert_eq!(
        first, again,
        "a duplicate gets the original id and sequence number"
    );
    let second = w.call("Publish", publish("two")).await;
    assert!(second["SequenceNumber"].as_str().unwrap() > first["SequenceNumber"].as_str().unwrap());
    w.settle().await;
    let jobs = w.sqs.take();
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0].message.group_id.as_deref(), Some("g1"));
    assert!(jobs[0].message.dedup_id.is_some());
    assert_eq!(jobs[0].ordering_key, Some(format!("{sub}\ng1")));
    // After the 5-minute window the same content is a new message.
    w.clock.advance(Duration::from_secs(301));
    let later = w.call("Publish", publish("one")).await;
    assert_ne!(later["MessageId"], first["MessageId"]);

    let (code, message) = w
        .err("Publish", json!({"TopicArn": topic, "Message": "x"}))
        .await;
    assert_eq!(code, "InvalidParameter");
    assert_eq!(
        message,
        "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"
    );
}

#[tokio::test]
async fn errors_change_nothing_and_use_aws_messages() {
    let w = world();
    let topic = w.topic("t", json!({"DisplayName": "T"})).await;
    assert_eq!(
        w.topic("t", json!({"DisplayName": "T"})).await,
        topic,
        "CreateTopic is idempotent"
    );
    assert_eq!(
        w.err(
            "CreateTopic",
            json!({"Name": "t", "Attributes": {"DisplayName": "U"}})
        )
        .await,
        (
            "InvalidParameter".into(),
            "Invalid parameter: Attributes Reason: Topic already exists with different attributes"
                .into()
        )
    );
    let missing = "arn:aws:sns:us-east-1:000000000000:missing";
    assert_eq!(
        w.err("Publish", json!({"TopicArn": missing, "Message": "m"}))
            .await,
        ("NotFound".into(), "Topic does not exist".into())
    );
    assert_eq!(
        w.err("GetTopicAttributes", json!({"TopicArn": "nope"}))
            .await,
        (
            "InvalidParameter".into(),
            "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1"
                .into()
        )
    );
    let (code, message) = w
        .err(
            "Subscribe",
            json!({"TopicArn": topic, "Protocol": "sqs", "Endpoint": queue("q"),
                   "Attributes": {"FilterPolicy": r#"{"a": []}"#}}),
        )
        .await;
    assert_eq!(code, "InvalidParameter");
    assert!(message.starts_with("Invalid parameter: Attributes Reason: FilterPolicy: "));
    let subs = w
        .call("ListSubscriptionsByTopic", json!({"TopicArn": topic}))
        .await;
    assert_eq!(subs["Subscriptions"], json!([]));
    let attrs = w
        .call("GetTopicAttributes", json!({"TopicArn": topic}))
        .await;
    assert_eq!(attrs["Attributes"]["DisplayName"], "T");
    assert_eq!(attrs["Attributes"]["SubscriptionsConfirmed"], "0");
}

#[tokio::test]
async fn email_is_recorded_after_confirmation_and_state_survives_reopening() {
    let store: SharedStore = Arc::new(MemoryStore::new());
    let clock = ManualClock::new(T0);
    let w = open(store.clone(), clock.clone());
    let topic = w.topic("mail", json!({})).await;
    let pending = w
        .call(
            "Subscribe",
            json!({"TopicArn": topic, "Protocol": "email", "Endpoint": "dev@example.com"}),
        )
        .await;
    assert_eq!(pending["SubscriptionArn"], "pending confirmation");
    w.settle().await;
    let sent = w.sns.sent_messages(Some("dev@example.com"));
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind, "SubscriptionConfirmation");
    let confirmation: Value = serde_json::from_str(&sent[0].body).unwrap();
    let token = confirmation["Token"].as_str().unwrap();
    let confirmed = w
        .call(
            "ConfirmSubscription",
            json!({"TopicArn": topic, "Token": token}),
        )
        .await;
    let sub = confirmed["SubscriptionArn"].as_str().unwrap().to_owned();
    w.call("Publish", json!({"TopicArn": topic, "Message": "hello"}))
        .await;
    w.settle().await;
    let sent = w.sns.sent_messages(Some("dev@example.com"));
    assert_eq!(sent.len(), 2);
    assert!(sent[1].body.starts_with("hello\n"));
    assert_eq!(sent[1].subject.as_deref(), Some("AWS Notification Message"));
    let cert = w.sns.signing_cert().unwrap();
    drop(w);

    let again = open(store, clock);
    assert_eq!(again.sns.signing_cert().unwrap(), cert, "the key survives");
    assert_eq!(again.sns.sent_messages(None).len(), 2);
    let attrs = again
        .call("GetSubscriptionAttributes", json!({"SubscriptionArn": sub}))
        .await;
    assert_eq!(attrs["Attributes"]["PendingConfirmation"], "false");
    assert_eq!(attrs["Attributes"]["Protocol"], "email");
    let _ = &again.store;
}
