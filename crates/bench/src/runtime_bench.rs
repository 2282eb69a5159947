//! Runs a function's real binary as Lambda does: a Lambda Runtime API on
//! loopback hands it events and takes its answers. AWS is a stub on loopback
//! that answers every call at once, so what is timed is the function itself:
//! start-up (process start to first answer), then warm invocations one after
//! another, and the process's peak RSS. The stub holds what the functions'
//! events ask about, as the table stores it: the seeded catalog (products,
//! stock, cart totals), the events' anonymous cart, and the bench shopper's
//! cart and orders (one awaiting payment, one past its hold, two paid). So
//! every function takes the path a real request takes: the cart is full,
//! checkout has lines to reserve, the order to pay is pending. Writes succeed
//! without changing anything (`{}`), so every warm invocation repeats the
//! first one's path.

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

use shop::outbound::dynamodb::{
    IndexPartitions, BESTSELLER_INDEX, CATALOG_INDEX, CATEGORY_INDEX, ORDERS_INDEX, PENDING_INDEX,
};

use shop_local::LocalError;

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
    /// Of the resident set at the end: the heap and stacks (anonymous), and
    /// the binary's pages the run touched (file-backed).
    pub rss_anon_kib: u64,
    pub rss_file_kib: u64,
    /// CPU time (every thread's) the process took for each warm invocation:
    /// its own work, apart from waiting, from one answer to the next, so the
    /// runtime's own work between events (acknowledging the answer, asking
    /// for the next event) counts too, as it does on Lambda.
    pub warm_cpu_each_us: Vec<f64>,
    /// Answers that were errors (`/error`), to tell a broken run from a fast one.
    pub errors: usize,
    /// How many answers had each HTTP status (API functions): which path the
    /// function took, a 4xx being a refusal.
    pub statuses: std::collections::BTreeMap<u16, usize>,
}

/// An answer: request id, when, whether it was an answer (not an `/error`),
/// and the HTTP status an API Gateway answer carries.
type Answer = (String, Instant, bool, Option<u16>);

#[derive(Default)]
struct RuntimeState {
    events: Mutex<VecDeque<(String, Value)>>,
    /// When each event was handed out, by request id.
    handed_out: Mutex<Vec<(String, Instant)>>,
    answered: Mutex<Vec<Answer>>,
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

fn record_answer(state: &RuntimeState, id: String, ok: bool, answer: &[u8]) -> StatusCode {
    let at = Instant::now();
    // Only API Gateway answers have a status; a worker's answer has none.
    let status = serde_json::from_slice::<Value>(answer)
        .ok()
        .and_then(|a| a["statusCode"].as_u64())
        .and_then(|s| u16::try_from(s).ok());
    if let Ok(mut answered) = state.answered.lock() {
        answered.push((id, at, ok, status));
    }
    if let Some(sender) = state.answer_sender.lock().ok().and_then(|s| s.clone()) {
        let _ = sender.send(());
    }
    StatusCode::ACCEPTED
}

/// `/response` and `/error`: the function's answer or its error. Reads the
/// body before answering, as Lambda does: a server that answers first and
/// closes the connection on the unread body breaks a runtime client that keeps
/// its connection (Python's http.client).
async fn invocation_outcome(
    State(state): State<Arc<RuntimeState>>,
    UrlPath((id, outcome)): UrlPath<(String, String)>,
    body: axum::body::Bytes,
) -> StatusCode {
    match outcome.as_str() {
        "response" => record_answer(&state, id, true, &body),
        "error" => record_answer(&state, id, false, &body),
        _ => StatusCode::NOT_FOUND,
    }
}

/// The bench shopper (the `sub` of [`signed_in`]'s tokens), the anonymous
/// cart of the events' `cartId` cookie and the order the order events name.
const BENCH_SUB: &str = "bench-user-0001";
const BENCH_CART_ID: &str = "0b5f1c7e-2f0a-4d51-9a43-6a4c0c5a1d2e";
const BENCH_ORDER_ID: &str = "019a9f3e-7c2a-7d2e-8f3b-2c1d4e5f6a7b";
/// A pending order whose hold has ended, for the expiry sweeper.
const BENCH_EXPIRED_ORDER_ID: &str = "019a9f3e-0000-7000-8000-00000000e1d0";
const BENCH_PAID_ORDER_IDS: [&str; 2] =
    ["019a9f3d-0000-7000-8000-000000000001", "019a9f3d-0000-7000-8000-000000000002"];
/// Lines in each of the canned carts and orders.
const BENCH_LINES: usize = 3;

/// The string value a Query's key condition gives `attribute` with
/// `operator` (`=` or `begins_with`), however the caller wrote it: with or
/// without `#name` placeholders and parentheses (boto3 writes
/// `(#n0 = :v0 AND begins_with(#n1, :v1))`, the Rust functions `pk = :pk AND
/// begins_with(sk, :line)`).
fn key_condition<'a>(request: &'a Value, attribute: &str, operator: &str) -> Option<&'a Value> {
    let names = &request["ExpressionAttributeNames"];
    let resolve = |name: &str| {
        let name = name.trim();
        if name.starts_with('#') {
            names[name].as_str().unwrap_or_default().to_owned()
        } else {
            name.to_owned()
        }
    };
    let condition = request["KeyConditionExpression"].as_str()?;
    condition.split(" AND ").find_map(|term| {
        let term = term.trim().trim_start_matches('(').trim_end_matches(')');
        let (name, placeholder) = match term.strip_prefix("begins_with(") {
            Some(args) if operator == "begins_with" => args.split_once(',')?,
            None if operator == "=" => term.split_once(" = ")?,
            _ => return None,
        };
        (resolve(name) == attribute).then(|| &request["ExpressionAttributeValues"][placeholder.trim()]["S"])
    })
}

/// `value` as the table stores it, in DynamoDB's JSON.
fn to_wire(value: impl serde::Serialize) -> Result<Value, String> {
    let item: serde_dynamo::Item = serde_dynamo::to_item(value).map_err(|e| e.to_string())?;
    serde_json::to_value(item).map_err(|e| e.to_string())
}

/// What the functions' events ask about, as the table stores it, in
/// DynamoDB's JSON (see the module's comment).
struct StubTable {
    /// Each product's item and its stock item.
    products: Vec<(String, Value, Value)>,
    /// The stock items, most sold first (the best-seller index's order).
    by_sold: Vec<Value>,
    /// Cart lines and orders, by partition and sort key.
    records: Vec<Value>,
    /// How long the stub takes to answer a DynamoDB or SQS call (0: at once).
    latency: Duration,
    /// Orders a transaction settled since the expiry sweeper last found none
    /// due: the one piece of state, so that each sweep expires the overdue
    /// order once and then finds nothing left, as a real sweep does.
    settled_orders: Mutex<std::collections::HashSet<String>>,
}

impl StubTable {
    fn seeded() -> Result<Self, LocalError> {
        let setup = |e: &dyn std::fmt::Display| LocalError::Setup(format!("stub catalog: {e}"));
        let seeds = shop_local::resources::parse_seed_catalog(shop_local::stack::SEED_CATALOG)?;
        let mut products = Vec::new();
        let mut catalog = Vec::new();
        let mut ranked = Vec::new();
        for (i, seed) in seeds.into_iter().enumerate() {
            let id = seed.product.product_id.clone();
            catalog.push(seed.product.clone());
            // Some units sold, so the best-seller index has an order; the
            // counters keep their invariant (available + reserved + sold = added).
            let sold = (i as i64 * 7) % 50;
            let levels = shop::domain::StockLevels {
                available: seed.initial_stock,
                reserved: 0,
                sold,
                added: seed.initial_stock + sold,
            };
            let product_id = shop::domain::ProductId::parse(&id).map_err(|e| setup(&e))?;
            let stock = shop::outbound::dynamodb::items::StockItem::new(&product_id, levels, IndexPartitions::DEFAULT);
            let product = shop::outbound::dynamodb::items::ProductItem::new(&product_id, &seed.product);
            let product = to_wire(product).map_err(|e| setup(&e))?;
            let stock_item = to_wire(stock).map_err(|e| setup(&e))?;
            ranked.push((levels.sold, stock_item.clone()));
            products.push((id, product, stock_item));
        }
        ranked.sort_by_key(|(units, _)| std::cmp::Reverse(*units));
        let records = Self::shoppers(&catalog).map_err(|e| setup(&e))?;
        let by_sold = ranked.into_iter().map(|(_, item)| item).collect();
        Ok(Self { products, by_sold, records, latency: Duration::ZERO, settled_orders: Mutex::default() })
    }

    /// The events' anonymous cart, and the bench shopper's cart and orders.
    fn shoppers(products: &[shop::domain::Product]) -> Result<Vec<Value>, String> {
        let now = shop::clock::now_epoch_secs();
        let user_pk = format!("user#{BENCH_SUB}");
        let mut records = Vec::new();
        let line = |pk: &str, product: &shop::domain::Product, quantity: i64, ttl: i64| {
            shop::outbound::dynamodb::items::CartLineItem {
                pk: pk.to_owned(),
                sk: format!("product#{}", product.product_id),
                product_id: product.product_id.clone(),
                quantity,
                product_detail: product.clone(),
                expiration_time: now + ttl,
                version: 3,
                migrated_to: None,
                checkout_order: None,
                recent_requests: Vec::new(),
            }
        };
        // The anonymous cart holds the events' product (the catalog's first);
        // the shopper's cart overlaps it by one product, so a migration merges
        // one line and moves the others.
        for product in products.iter().take(BENCH_LINES) {
            let pk = format!("cart#{BENCH_CART_ID}");
            records.push(to_wire(line(&pk, product, 2, shop::domain::ANONYMOUS_CART_TTL_SECS))?);
        }
        for product in products.iter().skip(BENCH_LINES - 1).take(BENCH_LINES) {
            records.push(to_wire(line(&user_pk, product, 1, shop::domain::USER_CART_TTL_SECS))?);
        }
        let order = |id: &str, status: shop::domain::OrderStatus, expires_at: i64| {
            let lines: Vec<shop::domain::OrderLine> = products
                .iter()
                .skip(BENCH_LINES - 1)
                .take(BENCH_LINES)
                .map(|p| shop::domain::OrderLine {
                    product_id: p.product_id.clone(),
                    name: p.name.clone(),
                    quantity: 1,
                    unit_price: p.price,
                    taken: Vec::new(),
                })
                .collect();
            shop::domain::Order {
                order_id: shop::domain::OrderId::parse(id).expect("a fixture order id is a UUID"),
                owner: BENCH_SUB.to_owned(),
                status,
                total: shop::domain::order_total(&lines),
                lines,
                created_at: expires_at - shop::domain::DEFAULT_RESERVATION_HOLD_SECS,
                updated_at: expires_at - shop::domain::DEFAULT_RESERVATION_HOLD_SECS,
                expires_at,
                idempotency_key: None,
                charge_id: None,
                failure_reason: None,
                counts_pending: true,
                refund_due: false,
                renew_after: None,
            }
        };
        use shop::domain::OrderStatus::{Paid, PendingPayment};
        let item = |order: &shop::domain::Order| {
            to_wire(shop::outbound::dynamodb::items::OrderItem::new(order, IndexPartitions::DEFAULT))
        };
        records.push(item(&order(BENCH_ORDER_ID, PendingPayment, now + shop::domain::DEFAULT_RESERVATION_HOLD_SECS))?);
        records.push(item(&order(BENCH_EXPIRED_ORDER_ID, PendingPayment, now - 60))?);
        for (i, id) in BENCH_PAID_ORDER_IDS.iter().enumerate() {
            records.push(item(&order(id, Paid, now - 86_400 * (i as i64 + 1)))?);
        }
        Ok(records)
    }

    /// The stored item under `key`: a canned cart line or order, or a
    /// product's item, stock or cart total. An unknown product id gets the
    /// first product's items under that id, so events naming any product find
    /// one.
    fn item(&self, key: &Value) -> Option<Value> {
        let (pk, sk) = (key["pk"]["S"].as_str()?, key["sk"]["S"].as_str()?);
        if let Some(record) = self.records.iter().find(|r| r["pk"]["S"] == pk && r["sk"]["S"] == sk) {
            return Some(record.clone());
        }
        let id = pk.strip_prefix("product#")?;
        let (_, product, stock) = self.products.iter().find(|(p, _, _)| p == id).or_else(|| self.products.first())?;
        let mut item = match sk {
            shop::outbound::dynamodb::keys::PRODUCT_META_SK => product.clone(),
            shop::outbound::dynamodb::keys::STOCK_SK => stock.clone(),
            // Units in carts, as the stream consumer keeps them.
            shop::outbound::dynamodb::keys::TOTAL_QUANTITY_SK => {
                serde_json::json!({ "sk": { "S": sk }, "quantity": { "N": "7" } })
            }
            _ => return None,
        };
        item["pk"] = serde_json::json!({ "S": pk });
        item["productId"] = serde_json::json!({ "S": id });
        Some(item)
    }

    /// A Query of the table (`pk = :pk`, optionally `begins_with(sk, :x)`) or
    /// of the order indexes, over the canned carts and orders.
    fn query_records(&self, request: &Value) -> Vec<Value> {
        let values = &request["ExpressionAttributeValues"];
        let mut found: Vec<Value> = match request["IndexName"].as_str() {
            Some(ORDERS_INDEX) => self
                .records
                .iter()
                .filter(|r| r.get("orderList").is_some_and(|list| *list == values[":o"]))
                .filter(|r| values.get(":id").is_none_or(|id| r["orderId"] == *id))
                .cloned()
                .collect(),
            Some(PENDING_INDEX) => {
                let now: i64 = values[":now"]["N"].as_str().and_then(|n| n.parse().ok()).unwrap_or(0);
                let due = |r: &&Value| {
                    r["expiresAt"]["N"].as_str().and_then(|n| n.parse::<i64>().ok()).is_some_and(|at| at <= now)
                };
                let Ok(mut settled) = self.settled_orders.lock() else { return Vec::new() };
                let unsettled = |r: &&Value| r["sk"]["S"].as_str().is_some_and(|sk| !settled.contains(sk));
                let found: Vec<Value> = self
                    .records
                    .iter()
                    .filter(|r| r.get("pendingList").is_some_and(|list| *list == values[":p"]))
                    .filter(due)
                    .filter(unsettled)
                    .cloned()
                    .collect();
                if found.is_empty() {
                    settled.clear();
                }
                found
            }
            Some(_) => Vec::new(),
            None => {
                let pk = key_condition(request, "pk", "=");
                let prefix = key_condition(request, "sk", "begins_with").and_then(Value::as_str).unwrap_or_default();
                self.records
                    .iter()
                    .filter(|r| pk.is_some_and(|pk| r["pk"]["S"] == *pk))
                    .filter(|r| r["sk"]["S"].as_str().is_some_and(|sk| sk.starts_with(prefix)))
                    .cloned()
                    .collect()
            }
        };
        found.sort_by(|a, b| a["sk"]["S"].as_str().cmp(&b["sk"]["S"].as_str()));
        if request["ScanIndexForward"] == Value::Bool(false) {
            found.reverse();
        }
        if let Some(limit) = request["Limit"].as_u64() {
            found.truncate(limit as usize);
        }
        found
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
                    let partition = &request["ExpressionAttributeValues"][":b"];
                    let ranked: Vec<&Value> =
                        self.by_sold.iter().filter(|s| s["bestsellerList"] == *partition).collect();
                    let n = limit(ranked.len());
                    serde_json::json!({ "Items": ranked[..n], "Count": n })
                }
                _ => {
                    let items = self.query_records(request);
                    serde_json::json!({ "Count": items.len(), "Items": items })
                }
            },
            "TransactWriteItems" => {
                if let Ok(mut settled) = self.settled_orders.lock() {
                    let keys = request["TransactItems"].as_array().into_iter().flatten().filter_map(|w| {
                        w["Update"]["Key"]["sk"]["S"]
                            .as_str()
                            .filter(|sk| sk.starts_with(shop::outbound::dynamodb::keys::ORDER_PREFIX))
                    });
                    settled.extend(keys.map(str::to_owned));
                }
                serde_json::json!({})
            }
            // SQS accepts every message of a batch.
            "AmazonSQS.SendMessageBatch" => {
                let sent: Vec<Value> = request["Entries"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .enumerate()
                    .map(|(i, entry)| serde_json::json!({ "Id": entry["Id"], "MessageId": format!("bench-{i}") }))
                    .collect();
                serde_json::json!({ "Successful": sent, "Failed": [] })
            }
            _ => serde_json::json!({}),
        }
    }
}

/// Every AWS call answered at once, from the stub catalog (see the module's
/// comment); DynamoDB names the operation in `X-Amz-Target`.
async fn stub_aws(State(catalog): State<Arc<StubTable>>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let operation = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(|t| t.strip_prefix("DynamoDB_20120810.").unwrap_or(t))
        .unwrap_or("");
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if !catalog.latency.is_zero() {
        tokio::time::sleep(catalog.latency).await;
    }
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
    let now = shop::clock::now_epoch_secs();
    let claims = serde_json::json!({
        "sub": BENCH_SUB, "aud": BENCH_CLIENT_ID, "iss": BENCH_ISSUER, "token_use": "id",
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
/// catalog, and the pool's keys at `/jwks.json`, answering at once.
pub fn aws_stub() -> Result<Router, LocalError> {
    aws_stub_answering_after(Duration::ZERO)
}

/// The stubbed AWS answering each DynamoDB and SQS call after `latency`, as
/// the services do over a network: the function then sits idle between its
/// calls, as on Lambda, instead of resuming within microseconds.
pub fn aws_stub_answering_after(latency: Duration) -> Result<Router, LocalError> {
    let catalog = Arc::new(StubTable { latency, ..StubTable::seeded()? });
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

/// The CPU time a process's threads have taken so far, to the nanosecond:
/// the first field of each thread's `schedstat` (time spent running).
fn cpu_time(pid: u32) -> Duration {
    let Ok(threads) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return Duration::ZERO };
    let nanos: u64 = threads
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(nanos)
}

/// A `/proc/<pid>/status` figure in KiB (`VmHWM:`, `RssAnon:`, ...).
fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
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
    /// Lambda's `_HANDLER`: the function's `Handler` (the shop's binaries run
    /// the endpoint or worker it names).
    pub handler: Option<String>,
}

impl FunctionProcess {
    /// A function that is its own program, as a Rust function's binary is.
    pub fn binary(path: impl Into<PathBuf>) -> Self {
        Self { program: path.into(), args: Vec::new(), handler: None }
    }

    /// The shop's binary running the function whose `Handler` is `handler`.
    pub fn handler(path: impl Into<PathBuf>, handler: &str) -> Self {
        Self { program: path.into(), args: Vec::new(), handler: Some(handler.to_owned()) }
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
    let latency = Duration::from_micros(shop_local::stack::env_or("STUB_LATENCY_US", 0));
    let aws = serve(aws_stub_answering_after(latency)?).await?;
    let mut run = FunctionRun {
        cold_starts_ms: Vec::new(),
        warm_us: Vec::new(),
        peak_rss_kib: 0,
        rss_anon_kib: 0,
        rss_file_kib: 0,
        warm_cpu_each_us: Vec::new(),
        errors: 0,
        statuses: Default::default(),
    };
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
                .route("/2018-06-01/runtime/invocation/{id}/{outcome}", post(invocation_outcome))
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
        let first = state.answered.lock().ok().and_then(|a| a.first().map(|(_, at, _, _)| *at)).unwrap_or(started);
        run.cold_starts_ms.push(first.duration_since(started).as_secs_f64() * 1000.0);
        let mut cpu_at_answer = cpu_time(pid);
        for i in 1..invocations {
            if let Ok(mut events) = state.events.lock() {
                events.push_back((format!("warm-{i}"), event.clone()));
            }
            state.event_ready.notify_one();
            tokio::time::timeout(deadline, answers.recv())
                .await
                .map_err(|_| LocalError::Setup(format!("{} stopped answering", function.display())))?;
            let cpu_now = cpu_time(pid);
            run.warm_cpu_each_us.push(cpu_now.saturating_sub(cpu_at_answer).as_secs_f64() * 1e6);
            cpu_at_answer = cpu_now;
        }
        if last {
            run.peak_rss_kib = status_kib(pid, "VmHWM:");
            run.rss_anon_kib = status_kib(pid, "RssAnon:");
            run.rss_file_kib = status_kib(pid, "RssFile:");
        }
        let handed = state.handed_out.lock().map(|h| h.clone()).unwrap_or_default();
        let answered = state.answered.lock().map(|a| a.clone()).unwrap_or_default();
        run.errors += answered.iter().filter(|(_, _, ok, _)| !ok).count();
        for status in answered.iter().filter_map(|(_, _, _, status)| *status) {
            *run.statuses.entry(status).or_default() += 1;
        }
        for (id, at, _, _) in answered.iter().filter(|(id, _, _, _)| id.starts_with("warm-")) {
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
        .env("_HANDLER", function.handler.as_deref().unwrap_or("bootstrap"))
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

    use super::StubTable;
    use shop::outbound::dynamodb::IndexPartitions;

    #[test]
    fn the_stub_serves_the_seeded_catalog_as_the_table_stores_it() {
        let catalog = StubTable::seeded().expect("seed catalog");
        let page = catalog.answer("Query", &json!({ "IndexName": "catalog-index", "Limit": 20 }));
        let items: Vec<serde_dynamo::Item> = serde_json::from_value(page["Items"].clone()).expect("items");
        let products: Vec<shop::domain::Product> =
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
        let stock: shop::outbound::dynamodb::items::StockItem =
            serde_dynamo::from_item(serde_json::from_value::<serde_dynamo::Item>(found[1].clone()).expect("item"))
                .expect("stock item");
        assert_eq!(stock.levels.violation(), None);

        let mut everywhere = 0;
        for partition in IndexPartitions::DEFAULT.all("stock") {
            let query = json!({ "IndexName": "bestseller-index", "Limit": 5, "ExpressionAttributeValues": { ":b": { "S": partition } } });
            let best = catalog.answer("Query", &query);
            let sold: Vec<i64> = best["Items"]
                .as_array()
                .expect("items")
                .iter()
                .filter_map(|i| i["sold"]["N"].as_str()?.parse().ok())
                .collect();
            assert!(sold.len() <= 5 && sold.windows(2).all(|w| w[0] >= w[1]), "most sold first: {sold:?}");
            everywhere += sold.len();
        }
        assert!(everywhere > 5, "the stock items spread over the index partitions: {everywhere}");

        assert_eq!(catalog.answer("TransactWriteItems", &json!({})), json!({}));
    }

    /// Items in DynamoDB's JSON, read as the store reads them.
    fn stored<T: serde::de::DeserializeOwned>(items: &serde_json::Value) -> Vec<T> {
        let items: Vec<serde_dynamo::Item> = serde_json::from_value(items.clone()).expect("items");
        items.into_iter().map(|i| serde_dynamo::from_item(i).expect("stored item")).collect()
    }

    fn event(name: &str) -> serde_json::Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events").join(format!("{name}.json"));
        serde_json::from_str(&std::fs::read_to_string(path).expect("event")).expect("event json")
    }

    #[test]
    fn the_stub_holds_the_carts_and_orders_the_events_name() {
        let catalog = StubTable::seeded().expect("seed catalog");
        let cookie = event("get-cart")["headers"]["Cookie"].as_str().expect("cookie").to_owned();
        assert_eq!(cookie, format!("cartId={}", super::BENCH_CART_ID));
        for name in ["get-order", "pay-order", "cancel-order"] {
            assert_eq!(event(name)["pathParameters"]["order_id"], super::BENCH_ORDER_ID, "{name}");
        }

        // The anonymous cart, asked as the Rust functions and as boto3 ask.
        let anonymous = json!({ "S": format!("cart#{}", super::BENCH_CART_ID) });
        let rust = catalog.answer(
            "Query",
            &json!({ "KeyConditionExpression": "pk = :pk AND begins_with(sk, :line)",
                     "ExpressionAttributeValues": { ":pk": anonymous, ":line": { "S": "product#" } } }),
        );
        let boto3 = catalog.answer(
            "Query",
            &json!({ "KeyConditionExpression": "(#n0 = :v0 AND begins_with(#n1, :v1))",
                     "ExpressionAttributeNames": { "#n0": "pk", "#n1": "sk" },
                     "ExpressionAttributeValues": { ":v0": anonymous, ":v1": { "S": "product#" } } }),
        );
        assert_eq!(rust, boto3);
        let lines: Vec<shop::outbound::dynamodb::items::CartLineItem> = stored(&rust["Items"]);
        assert_eq!(lines.len(), super::BENCH_LINES);
        let now = shop::clock::now_epoch_secs();
        assert!(lines.iter().all(|l| l.expiration_time > now && l.quantity > 0));
        let asked = event("add-to-cart")["body"]
            .as_str()
            .and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok())
            .and_then(|b| b["productId"].as_str().map(str::to_owned))
            .expect("product id");
        assert!(lines.iter().any(|l| l.product_id == asked), "the cart holds the events' product");

        // The shopper's orders, newest first; the one to pay is pending.
        let user = json!({ "S": format!("user#{}", super::BENCH_SUB) });
        let orders = catalog.answer(
            "Query",
            &json!({ "KeyConditionExpression": "pk = :pk AND begins_with(sk, :o)", "ScanIndexForward": false,
                     "ExpressionAttributeValues": { ":pk": user, ":o": { "S": "order#" } }, "Limit": 3 }),
        );
        let orders: Vec<shop::domain::Order> = stored(&orders["Items"]);
        assert_eq!(orders.len(), 3);
        assert!(orders.windows(2).all(|w| w[0].order_id > w[1].order_id), "newest first");
        let key = json!({ "pk": user, "sk": { "S": format!("order#{}", super::BENCH_ORDER_ID) } });
        let pending = catalog.answer("GetItem", &json!({ "Key": key }));
        let pending: shop::domain::Order = serde_dynamo::from_item(
            serde_json::from_value::<serde_dynamo::Item>(pending["Item"].clone()).expect("item"),
        )
        .expect("order");
        assert_eq!(pending.status, shop::domain::OrderStatus::PendingPayment);
        assert!(pending.expires_at > now && !pending.lines.is_empty());

        // The sweeper finds only the order past its hold.
        let partition = IndexPartitions::DEFAULT.of("pending", super::BENCH_EXPIRED_ORDER_ID);
        let sweep = json!({ "IndexName": "pending-index", "ExpressionAttributeValues": { ":now": { "N": now.to_string() }, ":p": { "S": partition } } });
        let due = catalog.answer("Query", &sweep);
        let due = due["Items"].as_array().expect("items");
        assert_eq!(due.len(), 1);
        assert_eq!(due[0]["orderId"]["S"], super::BENCH_EXPIRED_ORDER_ID);
        // Once settled it is no longer due; after a sweep that found nothing, it is due again.
        let settle = json!({ "TransactItems": [{ "Update": { "Key": { "pk": user, "sk": due[0]["sk"] } } }] });
        assert_eq!(catalog.answer("TransactWriteItems", &settle), json!({}));
        assert_eq!(catalog.answer("Query", &sweep)["Items"], json!([]));
        assert_eq!(catalog.answer("Query", &sweep)["Items"].as_array().map(Vec::len), Some(1));

        let sent = catalog.answer(
            "AmazonSQS.SendMessageBatch",
            &json!({ "Entries": [{ "Id": "0", "MessageBody": "{}" }, { "Id": "1", "MessageBody": "{}" }] }),
        );
        assert_eq!(sent["Successful"].as_array().map(Vec::len), Some(2));
    }
}
