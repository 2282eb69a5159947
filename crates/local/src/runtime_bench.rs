//! Runs a function's real binary as Lambda does: a Lambda Runtime API on
//! loopback hands it events and takes its answers. AWS is a stub on loopback
//! that answers every call at once, so what is timed is the function itself:
//! start-up (process start to first answer), then warm invocations one after
//! another, and the process's peak RSS. The stub holds the seeded catalog
//! (products and their stock, as the table stores them), so catalog reads
//! find what they ask for and the product pages and lists are full; every
//! other call gets an empty success (`{}`: no cart line, no order, write done).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;
use tokio::sync::{mpsc, Notify};

use shop::store::{BESTSELLER_INDEX, CATALOG_INDEX, CATEGORY_INDEX};

use crate::LocalError;

/// One function's figures.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionRun {
    /// Process start to the first answer, per cold start.
    pub cold_starts_ms: Vec<f64>,
    /// Time from handing out an event to its answer, per warm invocation.
    pub warm_us: Vec<f64>,
    /// Peak resident set (VmHWM) after the cold start and the warm invocations.
    pub peak_rss_kib: u64,
    /// CPU time (user and system, all threads) the process took per warm
    /// invocation, on average: the function's own work, apart from waiting.
    pub warm_cpu_us: f64,
    /// Answers that were errors (`/error`), to tell a broken run from a fast one.
    pub errors: usize,
}

#[derive(Default)]
struct RuntimeState {
    events: Mutex<VecDeque<(String, Value)>>,
    /// When each event was handed out, by request id.
    handed_out: Mutex<Vec<(String, Instant)>>,
    answered: Mutex<Vec<(String, Instant, bool)>>,
    event_ready: Notify,
    answer_sender: Mutex<Option<mpsc::UnboundedSender<()>>>,
}

async fn next_invocation(State(state): State<Arc<RuntimeState>>) -> Response {
    loop {
        let next = state.events.lock().ok().and_then(|mut q| q.pop_front());
        if let Some((id, event)) = next {
            if let Ok(mut handed) = state.handed_out.lock() {
                handed.push((id.clone(), Instant::now()));
            }
            let mut headers = HeaderMap::new();
            let deadline = (std::time::SystemTime::now() + Duration::from_secs(30))
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis();
            for (name, value) in [
                ("lambda-runtime-aws-request-id", id),
                ("lambda-runtime-deadline-ms", deadline.to_string()),
                ("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:000000000000:function:bench".into()),
                ("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000;Sampled=0".into()),
            ] {
                if let Ok(v) = HeaderValue::from_str(&value) {
                    headers.insert(name, v);
                }
            }
            return (StatusCode::OK, headers, axum::Json(event)).into_response();
        }
        state.event_ready.notified().await;
    }
}

fn record_answer(state: &RuntimeState, id: String, ok: bool) -> StatusCode {
    if let Ok(mut answered) = state.answered.lock() {
        answered.push((id, Instant::now(), ok));
    }
    if let Some(sender) = state.answer_sender.lock().ok().and_then(|s| s.clone()) {
        let _ = sender.send(());
    }
    StatusCode::ACCEPTED
}

// Both read the answer's body before answering, as Lambda does: a server that
// answers first and closes the connection on the unread body breaks a runtime
// client that keeps its connection (Python's http.client).
async fn invocation_response(
    State(state): State<Arc<RuntimeState>>,
    UrlPath(id): UrlPath<String>,
    _answer: axum::body::Bytes,
) -> StatusCode {
    record_answer(&state, id, true)
}

async fn invocation_error(
    State(state): State<Arc<RuntimeState>>,
    UrlPath(id): UrlPath<String>,
    _error: axum::body::Bytes,
) -> StatusCode {
    record_answer(&state, id, false)
}

/// The seeded catalog as the table stores it: each product's item and its
/// stock item, in DynamoDB's JSON.
struct StubCatalog {
    products: Vec<(String, Value, Value)>,
    /// The stock items, most sold first (the best-seller index's order).
    by_sold: Vec<Value>,
}

impl StubCatalog {
    fn seeded() -> Result<Self, LocalError> {
        let setup = |e: &dyn std::fmt::Display| LocalError::Setup(format!("stub catalog: {e}"));
        let seeds = crate::resources::parse_seed_catalog(crate::stack::SEED_CATALOG)?;
        let wire = |item: serde_dynamo::Item| serde_json::to_value(item).map_err(|e| setup(&e));
        let mut products = Vec::new();
        let mut ranked = Vec::new();
        for (i, seed) in seeds.into_iter().enumerate() {
            let id = seed.product.product_id.clone();
            // Some units sold, so the best-seller index has an order; the
            // counters keep their invariant (available + reserved + sold = added).
            let sold = (i as i64 * 7) % 50;
            let levels = shop::domain::StockLevels {
                available: seed.initial_stock,
                reserved: 0,
                sold,
                added: seed.initial_stock + sold,
            };
            let stock = shop::model::StockItem {
                pk: format!("product#{id}"),
                sk: shop::model::STOCK_SK.to_owned(),
                product_id: id.clone(),
                bestseller_list: shop::model::BESTSELLER_PARTITION.to_owned(),
                levels,
            };
            let product = shop::model::ProductItem::new(seed.product).map_err(|e| setup(&e))?;
            let product = wire(serde_dynamo::to_item(product).map_err(|e| setup(&e))?)?;
            let stock_item = wire(serde_dynamo::to_item(stock).map_err(|e| setup(&e))?)?;
            ranked.push((levels.sold, stock_item.clone()));
            products.push((id, product, stock_item));
        }
        ranked.sort_by_key(|(units, _)| std::cmp::Reverse(*units));
        Ok(Self { products, by_sold: ranked.into_iter().map(|(_, item)| item).collect() })
    }

    /// The stored item under `key`, if it is a product's or its stock's; an
    /// unknown product id gets the first product's items under that id, so
    /// events naming any product find one.
    fn item(&self, key: &Value) -> Option<Value> {
        let id = key["pk"]["S"].as_str()?.strip_prefix("product#")?;
        let sk = key["sk"]["S"].as_str()?;
        let (_, product, stock) = self.products.iter().find(|(p, _, _)| p == id).or_else(|| self.products.first())?;
        let mut item = match sk {
            shop::model::PRODUCT_META_SK => product.clone(),
            shop::model::STOCK_SK => stock.clone(),
            _ => return None,
        };
        item["pk"] = serde_json::json!({ "S": format!("product#{id}") });
        item["productId"] = serde_json::json!({ "S": id });
        Some(item)
    }

    fn answer(&self, operation: &str, request: &Value) -> Value {
        let limit = |all: usize| request["Limit"].as_u64().map_or(all, |l| (l as usize).min(all));
        match operation {
            "GetItem" => {
                self.item(&request["Key"]).map_or_else(|| serde_json::json!({}), |i| serde_json::json!({ "Item": i }))
            }
            // Writes that return the item get the stored one back.
            "UpdateItem" | "PutItem" if request["ReturnValues"].as_str().is_some_and(|r| r != "NONE") => {
                let key = if operation == "PutItem" { &request["Item"] } else { &request["Key"] };
                self.item(key).map_or_else(|| serde_json::json!({}), |i| serde_json::json!({ "Attributes": i }))
            }
            "BatchGetItem" => {
                let mut responses = serde_json::Map::new();
                for (table, asked) in request["RequestItems"].as_object().into_iter().flatten() {
                    let found: Vec<Value> =
                        asked["Keys"].as_array().into_iter().flatten().filter_map(|k| self.item(k)).collect();
                    responses.insert(table.clone(), Value::Array(found));
                }
                serde_json::json!({ "Responses": responses, "UnprocessedKeys": {} })
            }
            "Query" => match request["IndexName"].as_str() {
                Some(index) if index == CATALOG_INDEX || index == CATEGORY_INDEX => {
                    let n = limit(self.products.len());
                    let items: Vec<&Value> = self.products[..n].iter().map(|(_, product, _)| product).collect();
                    serde_json::json!({ "Items": items, "Count": n })
                }
                Some(BESTSELLER_INDEX) => {
                    let n = limit(self.by_sold.len());
                    serde_json::json!({ "Items": self.by_sold[..n], "Count": n })
                }
                _ => serde_json::json!({}),
            },
            _ => serde_json::json!({}),
        }
    }
}

/// Every AWS call answered at once, from the stub catalog (see the module's
/// comment); DynamoDB names the operation in `X-Amz-Target`.
async fn stub_aws(State(catalog): State<Arc<StubCatalog>>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let operation = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.strip_prefix("DynamoDB_20120810."))
        .unwrap_or("");
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let answer = catalog.answer(operation, &request).to_string();
    ([(axum::http::header::CONTENT_TYPE, "application/x-amz-json-1.0")], answer).into_response()
}

/// The pool's keys, as Cognito serves them: the repository's test key, which
/// signs the bench's tokens (see [`signed_in`]).
async fn stub_jwks() -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], BENCH_JWKS).into_response()
}

const BENCH_JWKS: &str = include_str!("../../shop/testdata/jwks.json");
const BENCH_SIGNING_KEY: &[u8] = include_bytes!("../../shop/testdata/token-signing-key.pem");
const BENCH_ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_bench";
const BENCH_CLIENT_ID: &str = "bench";

/// `event` with a valid ID token (signed with the test key, in the `admin`
/// group) wherever it carries an `Authorization` header, so signed-in
/// functions run past the token check as a real request does.
pub fn signed_in(event: &Value) -> Result<Value, LocalError> {
    let now = shop::now_epoch_secs();
    let claims = serde_json::json!({
        "sub": "bench-user-0001", "aud": BENCH_CLIENT_ID, "iss": BENCH_ISSUER, "token_use": "id",
        "cognito:username": "bench", "cognito:groups": ["admin"], "iat": now, "exp": now + 3600,
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("test-key-1".into());
    let key =
        jsonwebtoken::EncodingKey::from_rsa_pem(BENCH_SIGNING_KEY).map_err(|e| LocalError::Setup(e.to_string()))?;
    let token = jsonwebtoken::encode(&header, &claims, &key).map_err(|e| LocalError::Setup(e.to_string()))?;
    let mut event = event.clone();
    for (section, value) in [("headers", Value::from(token.clone())), ("multiValueHeaders", Value::from(vec![token]))] {
        if let Some(headers) = event.get_mut(section).and_then(Value::as_object_mut) {
            if let Some(name) = headers.keys().find(|k| k.eq_ignore_ascii_case("authorization")).cloned() {
                headers.insert(name, value);
            }
        }
    }
    Ok(event)
}

/// The stubbed AWS (see the module's comment): DynamoDB from the seeded
/// catalog, and the pool's keys at `/jwks.json`.
pub fn aws_stub() -> Result<Router, LocalError> {
    let catalog = Arc::new(StubCatalog::seeded()?);
    Ok(Router::new().route("/jwks.json", get(stub_jwks)).fallback(stub_aws).with_state(catalog))
}

async fn serve(router: Router) -> Result<SocketAddr, LocalError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(address)
}

/// The CPU time a process has taken so far (`utime` + `stime`, in clock ticks
/// of 10 ms: over a thousand invocations, fine enough for a mean).
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are the 14th and 15th fields; `fields` starts at the 3rd.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// How a function is started: its program (a Rust function's `bootstrap`, or
/// an interpreter) and the arguments it takes.
#[derive(Debug, Clone)]
pub struct FunctionProcess {
    pub program: PathBuf,
    pub args: Vec<String>,
}

impl FunctionProcess {
    /// A function that is its own program, as a Rust function's binary is.
    pub fn binary(path: impl Into<PathBuf>) -> Self {
        Self { program: path.into(), args: Vec::new() }
    }

    fn display(&self) -> String {
        std::iter::once(self.program.display().to_string())
            .chain(self.args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Runs `function` `cold_starts` times from scratch (one event each), then once
/// more for `warm` invocations in a row, all with `event`.
pub async fn run_function(
    function: &FunctionProcess,
    event: &Value,
    cold_starts: usize,
    warm: usize,
) -> Result<FunctionRun, LocalError> {
    let aws = serve(aws_stub()?).await?;
    let mut run =
        FunctionRun { cold_starts_ms: Vec::new(), warm_us: Vec::new(), peak_rss_kib: 0, warm_cpu_us: 0.0, errors: 0 };
    for round in 0..cold_starts.max(1) {
        let last = round + 1 == cold_starts.max(1);
        let invocations = if last { 1 + warm } else { 1 };
        let state = Arc::new(RuntimeState::default());
        let (tx, mut answers) = mpsc::unbounded_channel();
        if let Ok(mut sender) = state.answer_sender.lock() {
            *sender = Some(tx);
        }
        let runtime = serve(
            Router::new()
                .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
                .route("/2018-06-01/runtime/invocation/{id}/response", post(invocation_response))
                .route("/2018-06-01/runtime/invocation/{id}/error", post(invocation_error))
                .with_state(state.clone()),
        )
        .await?;
        if let Ok(mut events) = state.events.lock() {
            events.push_back(("cold-0".into(), event.clone()));
        }
        let started = Instant::now();
        let mut child = function_command(function, runtime, aws).spawn()?;
        let pid = child.id().unwrap_or(0);
        state.event_ready.notify_one();
        let deadline = Duration::from_secs(20);
        tokio::time::timeout(deadline, answers.recv())
            .await
            .map_err(|_| LocalError::Setup(format!("{} did not answer its first event", function.display())))?;
        let first = state.answered.lock().ok().and_then(|a| a.first().map(|(_, at, _)| *at)).unwrap_or(started);
        run.cold_starts_ms.push(first.duration_since(started).as_secs_f64() * 1000.0);
        let cpu_before_warm = cpu_time(pid);
        for i in 1..invocations {
            if let Ok(mut events) = state.events.lock() {
                events.push_back((format!("warm-{i}"), event.clone()));
            }
            state.event_ready.notify_one();
            tokio::time::timeout(deadline, answers.recv())
                .await
                .map_err(|_| LocalError::Setup(format!("{} stopped answering", function.display())))?;
        }
        if last {
            run.peak_rss_kib = peak_rss_kib(pid);
            if warm > 0 {
                run.warm_cpu_us = cpu_time(pid).saturating_sub(cpu_before_warm).as_secs_f64() * 1e6 / warm as f64;
            }
        }
        let handed = state.handed_out.lock().map(|h| h.clone()).unwrap_or_default();
        let answered = state.answered.lock().map(|a| a.clone()).unwrap_or_default();
        run.errors += answered.iter().filter(|(_, _, ok)| !ok).count();
        for (id, at, _) in answered.iter().filter(|(id, _, _)| id.starts_with("warm-")) {
            if let Some((_, out)) = handed.iter().find(|(h, _)| h == id) {
                run.warm_us.push(at.duration_since(*out).as_secs_f64() * 1_000_000.0);
            }
        }
        let _ = child.kill().await;
    }
    Ok(run)
}

fn function_command(function: &FunctionProcess, runtime: SocketAddr, aws: SocketAddr) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(&function.program);
    command
        .args(&function.args)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", runtime.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_ENDPOINT_URL", format!("http://{aws}"))
        .env("TABLE_NAME", "bench")
        .env("CLEANUP_QUEUE_URL", format!("http://{aws}/000000000000/cleanup"))
        .env("COGNITO_ISSUER", BENCH_ISSUER)
        .env("COGNITO_JWKS_URL", format!("http://{aws}/jwks.json"))
        .env("COGNITO_CLIENT_ID", BENCH_CLIENT_ID)
        .env("RUST_LOG", "warn")
        .env("POWERTOOLS_LOG_LEVEL", "WARNING")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    command
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::StubCatalog;

    #[test]
    fn the_stub_serves_the_seeded_catalog_as_the_table_stores_it() {
        let catalog = StubCatalog::seeded().expect("seed catalog");
        let page = catalog.answer("Query", &json!({ "IndexName": "catalog-index", "Limit": 20 }));
        let items: Vec<serde_dynamo::Item> = serde_json::from_value(page["Items"].clone()).expect("items");
        let products: Vec<shop::model::Product> =
            items.into_iter().map(|i| serde_dynamo::from_item(i).expect("product")).collect();
        assert_eq!(products.len(), 20);

        let id = products[0].product_id.clone();
        let key = |sk: &str| json!({ "pk": { "S": format!("product#{id}") }, "sk": { "S": sk } });
        let batch = catalog.answer(
            "BatchGetItem",
            &json!({ "RequestItems": { "shop": { "Keys": [key("meta"), key("stock"), key("cartline")] } } }),
        );
        let found = batch["Responses"]["shop"].as_array().expect("responses");
        assert_eq!(found.len(), 2, "a product and its stock; no cart line");
        let stock: shop::model::StockItem =
            serde_dynamo::from_item(serde_json::from_value::<serde_dynamo::Item>(found[1].clone()).expect("item"))
                .expect("stock item");
        assert_eq!(stock.levels.violation(), None);

        let best = catalog.answer("Query", &json!({ "IndexName": "bestseller-index", "Limit": 5 }));
        let sold: Vec<i64> = best["Items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|i| i["sold"]["N"].as_str()?.parse().ok())
            .collect();
        assert!(sold.len() == 5 && sold.windows(2).all(|w| w[0] >= w[1]), "most sold first: {sold:?}");

        assert_eq!(catalog.answer("Query", &json!({ "KeyConditionExpression": "pk = :pk" })), json!({}));
        assert_eq!(catalog.answer("TransactWriteItems", &json!({})), json!({}));
    }
}
