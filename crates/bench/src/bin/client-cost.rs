//! `client-cost`: what a DynamoDB call costs in CPU on the client side, the
//! official SDK against a lean path (the request body with `serde_json`,
//! SigV4 with `aws-sigv4`, HTTP with hyper, items with `serde_dynamo`), both
//! against the function bench's stub on loopback, which answers at once from
//! the seeded catalog (one product, or all 48 for a catalog query). It informs one decision: what replacing the SDK would
//! buy on the routes whose p99 misses 1 ms (docs/benchmarks.md, "Where our code's time
//! goes"). The lean path is the least a client does: no retries, timeouts,
//! error parsing or credential refresh, which a real one would add.
//! N (3000) calls each, on one thread (a current-thread runtime, so the thread's
//! CPU clock covers the connection's work too), after as many to warm up.
//! IDLE_US (0) has the thread sleep that long before each measured call, as a
//! function idles while AWS answers over a network; the last row is the machine's
//! own part in that: a random walk over 1 MiB, which touches memory and little code.

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use serde::Deserialize;
use serde_json::{json, Value};
use shop::domain::Product;
use shop_local::aws_costs::Spread;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("client-cost: {e}");
            ExitCode::from(2)
        }
    }
}

/// Serves the function bench's stubbed AWS (the seeded catalog) on a thread
/// of its own, so that its work stays off the measured thread's CPU clock.
fn spawn_stub() -> Result<String, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let stub = shop_bench::runtime_bench::aws_stub().map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        runtime.block_on(async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
            let _ = axum::serve(listener, stub).await;
        });
    });
    Ok(format!("http://{address}/"))
}

/// The lean path: one signed POST of the JSON protocol.
struct LeanClient {
    http: Client<HttpConnector, Full<Bytes>>,
    endpoint: String,
    identity: Identity,
}

impl LeanClient {
    async fn call(&self, operation: &str, body: Value) -> Result<Bytes, String> {
        let body = serde_json::to_vec(&body).map_err(|e| e.to_string())?;
        let mut request = http::Request::post(&self.endpoint)
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", format!("DynamoDB_20120810.{operation}"))
            .body(())
            .map_err(|e| e.to_string())?;
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region("us-east-1")
            .name("dynamodb")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| e.to_string())?
            .into();
        let headers = request.headers().iter().filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)));
        let signable = SignableRequest::new("POST", &self.endpoint, headers, SignableBody::Bytes(&body))
            .map_err(|e| e.to_string())?;
        let (instructions, _) = sign(signable, &params).map_err(|e| e.to_string())?.into_parts();
        instructions.apply_to_request_http1x(&mut request);
        let response =
            self.http.request(request.map(|()| Full::new(Bytes::from(body)))).await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("{operation}: HTTP {}", response.status()));
        }
        Ok(response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes())
    }
}

type Item = HashMap<String, serde_dynamo::AttributeValue>;

#[derive(Deserialize)]
struct GetItemOutput {
    #[serde(rename = "Item")]
    item: Option<Item>,
}

#[derive(Deserialize)]
struct QueryOutput {
    #[serde(rename = "Items")]
    items: Vec<Item>,
}

/// CPU time (µs) of `n` runs of `call`, after `n` to warm up, each measured
/// run after the thread idled for `idle` (a blocking sleep: the thread, not a
/// task, waits, as a function's one thread does while its call is on the wire).
async fn cpu_per_call<F: std::future::Future<Output = Result<(), String>>>(
    n: usize,
    idle: Duration,
    mut call: impl FnMut() -> F,
) -> Result<Spread, String> {
    for _ in 0..n {
        call().await?;
    }
    let mut spent = Vec::with_capacity(n);
    for _ in 0..n {
        if !idle.is_zero() {
            std::thread::sleep(idle);
        }
        let started = cpu_time::ThreadTime::now();
        call().await?;
        spent.push(started.elapsed().as_micros() as u64);
    }
    Ok(Spread::of(spent))
}

fn run() -> Result<(), String> {
    let n = shop_local::stack::env_or("N", 3000);
    let idle = Duration::from_micros(shop_local::stack::env_or("IDLE_US", 0));
    let endpoint = spawn_stub()?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let credentials = Credentials::new("AKIDEXAMPLE", "secret", Some("session".into()), None, "client-cost");
        let sdk = aws_sdk_dynamodb::Client::new(
            &aws_config::defaults(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new("us-east-1"))
                .endpoint_url(&endpoint)
                .credentials_provider(credentials.clone())
                .load()
                .await,
        );
        let lean = LeanClient {
            http: Client::builder(hyper_util::rt::TokioExecutor::new()).build_http(),
            endpoint: endpoint.clone(),
            identity: Identity::from(credentials),
        };
        let key = json!({ "pk": { "S": "product#00000001" }, "sk": { "S": "meta" } });
        let query = json!({
            "TableName": "shop", "IndexName": "catalog-index", "KeyConditionExpression": "catalog = :c",
            "ExpressionAttributeValues": { ":c": { "S": "product" } }, "Limit": 50,
        });
        let s = |v: &str| AttributeValue::S(v.to_owned());
        let rows = [
            (
                "GetItem, one product",
                cpu_per_call(n, idle, || async {
                    let out = sdk
                        .get_item()
                        .table_name("shop")
                        .key("pk", s("product#00000001"))
                        .key("sk", s("meta"))
                        .send()
                        .await;
                    let item = out.map_err(|e| format!("{e:?}"))?.item.ok_or("no item")?;
                    serde_dynamo::from_item::<_, Product>(item).map(drop).map_err(|e| e.to_string())
                })
                .await?,
                cpu_per_call(n, idle, || async {
                    let bytes = lean.call("GetItem", json!({ "TableName": "shop", "Key": key })).await?;
                    let out: GetItemOutput = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
                    serde_dynamo::from_item::<_, Product>(out.item.ok_or("no item")?)
                        .map(drop)
                        .map_err(|e| e.to_string())
                })
                .await?,
            ),
            (
                "Query, the seeded catalog (48 products)",
                cpu_per_call(n / 4, idle, || async {
                    let out = sdk
                        .query()
                        .table_name("shop")
                        .index_name("catalog-index")
                        .key_condition_expression("catalog = :c")
                        .expression_attribute_values(":c", s("product"))
                        .limit(50)
                        .send()
                        .await;
                    let items = out.map_err(|e| format!("{e:?}"))?.items.unwrap_or_default();
                    serde_dynamo::from_items::<_, Product>(items).map(drop).map_err(|e| e.to_string())
                })
                .await?,
                cpu_per_call(n / 4, idle, || async {
                    let bytes = lean.call("Query", query.clone()).await?;
                    let out: QueryOutput = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
                    serde_dynamo::from_items::<_, Product>(out.items).map(drop).map_err(|e| e.to_string())
                })
                .await?,
            ),
        ];
        println!("| call | SDK p50 / p99 (µs) | lean p50 / p99 (µs) | SDK / lean at p50 |\n|---|---|---|---|");
        for (call, sdk, lean) in rows {
            let ratio = sdk.p50 as f64 / lean.p50.max(1) as f64;
            println!("| {call} | {} / {} | {} / {} | {ratio:.1} |", sdk.p50, sdk.p99, lean.p50, lean.p99);
        }
        let mut memory = shop_bench::machine::MemoryWalk::new();
        let walk = cpu_per_call(n / 4, idle, || {
            memory.run();
            async { Ok(()) }
        })
        .await?;
        println!("\n20,000 steps of a random walk over 1 MiB: p50 / p99 {} / {} µs", walk.p50, walk.p99);
        Ok(())
    })
}
