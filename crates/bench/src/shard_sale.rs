//! The hot-product sale: one product, B buyers, U units, against a local
//! table that contends as DynamoDB does (each stock shard's partition, and
//! each partition of the shop-wide indexes, takes `partition_wcu` write units
//! a second; a transaction holds its items `transaction_ms`), with the stock
//! split into 1, 2, 4 and 8 shards, and once more with contention off (the
//! emulator's own ceiling). Each buyer checks out once and, told to come back
//! (503), comes back after the `Retry-After` it was given, until they have an
//! order or were told the product is sold out.
//!
//! And the wide sale: the same buyers spread over many products, so no
//! product's partition binds and the shop-wide index partitions do: run on a
//! stack whose index lists are one key value each (the layout before
//! `IndexPartitions`) and on one with the template's spread, side by side.

use std::time::{Duration, Instant};

use crate::flash_sale::{buyers_with_one_unit, percentile};
use serde::Serialize;
use serde_json::{json, Value};
use shop_local::resources::setup_error;
use shop_local::stack::emulator_sdk;
use shop_local::LocalError;

pub struct ShardSale {
    pub buyers: usize,
    pub units: i64,
    pub partition_wcu: f64,
    pub transaction_ms: f64,
}

/// One sale's figures.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SaleRun {
    pub shards: u32,
    pub contended: bool,
    pub buyers: usize,
    pub units: i64,
    /// Units taken by checkouts (reserved for their orders): the sale.
    pub units_sold: i64,
    pub oversold: i64,
    /// Buyers told "sold out" while units remained unsold at the end.
    pub false_sold_outs: usize,
    pub sold_out_answers: usize,
    /// 503s answered (each followed by the buyer's retry).
    pub retry_laters: usize,
    pub errors: usize,
    /// What the emulator refused meanwhile: throttled writes (of which for
    /// an index partition), transaction conflicts.
    pub throttled: u64,
    pub index_throttled: u64,
    pub conflicts: u64,
    pub invariant_holds: bool,
    pub elapsed_secs: f64,
    /// Orders created per second, until the last buyer had their answer.
    pub checkouts_per_sec: f64,
    pub checkout_p50_ms: f64,
    pub checkout_p99_ms: f64,
}

struct Stack {
    api: String,
    emulator: String,
    pool: String,
    client_id: String,
    table: String,
    index_partitions: shop::outbound::dynamodb::IndexPartitions,
    http: reqwest::Client,
    cognito: aws_sdk_cognitoidentityprovider::Client,
    admin: String,
}

impl Stack {
    async fn call(&self, method: reqwest::Method, path: &str, token: &str, body: Value) -> Result<Value, LocalError> {
        let reply = self
            .http
            .request(method, format!("{}{path}", self.api))
            .header("Authorization", token)
            .json(&body)
            .send()
            .await
            .map_err(|e| setup_error(path)(e.to_string()))?;
        let status = reply.status();
        let body: Value = reply.json().await.unwrap_or_default();
        if !status.is_success() {
            return Err(LocalError::Setup(format!("{path}: {status} {body}")));
        }
        Ok(body)
    }

    /// What the emulator has refused so far: throttled writes, conflicts.
    async fn counts(&self) -> Result<Value, LocalError> {
        let reply = self
            .http
            .get(format!("{}/_shop/contention", self.emulator))
            .send()
            .await
            .map_err(|e| setup_error("contention")(e.to_string()))?;
        reply.json().await.map_err(|e| setup_error("contention")(e.to_string()))
    }

    /// Sets (or, with zeros, clears) the emulator's contention for a prefix.
    async fn contend(&self, prefix: &str, wcu: f64, transaction_ms: f64) -> Result<(), LocalError> {
        let reply = self
            .http
            .post(format!("{}/_shop/contention", self.emulator))
            .json(&json!({ "prefix": prefix, "wcu": wcu, "transactionMs": transaction_ms }))
            .send()
            .await
            .map_err(|e| setup_error("contention")(e.to_string()))?;
        if !reply.status().is_success() {
            return Err(LocalError::Setup(format!("contention: {}", reply.status())));
        }
        Ok(())
    }
}

pub async fn run(coordinates: &Value, sale: &ShardSale, plan: &[(u32, bool)]) -> Result<Vec<SaleRun>, LocalError> {
    let stack = stack_of(coordinates).await?;
    let mut runs = Vec::new();
    for (shards, contended) in plan {
        runs.push(one_sale(&stack, sale, *shards, *contended).await?);
    }
    Ok(runs)
}

async fn stack_of(coordinates: &Value) -> Result<Stack, LocalError> {
    let field = |name: &str| coordinates[name].as_str().unwrap_or_default().to_owned();
    let sdk = emulator_sdk(&field("emulatorEndpoint")).await;
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
    let client_id = field("clientId");
    let admin = shop_local::stack::demo_id_token(coordinates, "admin").await?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|e| setup_error("http")(e.to_string()))?;
    let stack = Stack {
        api: field("apiUrl"),
        emulator: field("emulatorEndpoint"),
        pool: field("userPoolId"),
        client_id,
        table: field("tableName"),
        index_partitions: shop_local::stack::index_partitions_of(coordinates),
        http,
        cognito,
        admin,
    };
    Ok(stack)
}

async fn one_sale(stack: &Stack, sale: &ShardSale, shards: u32, contended: bool) -> Result<SaleRun, LocalError> {
    use reqwest::Method;
    let name = format!("hot product {shards} shards");
    let created = stack
        .call(
            Method::POST,
            "/product",
            &stack.admin,
            json!({ "name": name, "category": "flash-sale", "price": 4999, "initialStock": sale.units }),
        )
        .await?;
    let product = created["product"]["productId"].as_str().unwrap_or_default().to_owned();
    stack
        .call(Method::PUT, &format!("/product/{product}/stock/shards"), &stack.admin, json!({ "shards": shards }))
        .await?;

    // Set-up, not measured: buyers sign up and put one unit in their cart.
    let tokens = buyers_with_one_unit(
        &stack.cognito,
        &stack.http,
        &stack.pool,
        &stack.client_id,
        &stack.api,
        &product,
        sale.buyers,
        "hot",
    )
    .await?;

    let prefix = format!("product#{product}");
    // The product's partitions, and the index partitions every sale writes.
    let mut prefixes = vec![prefix.as_str()];
    prefixes.extend(INDEX_PREFIXES);
    let checkouts = checkouts_under(stack, tokens, if contended { Some(sale) } else { None }, &prefixes).await?;

    let store = shop_local::stack::store_at(&stack.emulator, &stack.table, stack.index_partitions).await;
    let id = shop::domain::ProductId::parse(&product).map_err(|e| LocalError::Setup(e.to_string()))?;
    let split = store.product(&id).await.ok().flatten().map(|p| p.stock_shards).unwrap_or_default();
    let levels = store.shard_stocks(&id, split).await.map_err(|e| LocalError::Setup(e.to_string()))?;
    let total = shop::domain::total_stock(&levels);
    let taken = total.reserved + total.sold;
    let short = checkouts.sold_out;
    Ok(SaleRun {
        shards,
        contended,
        buyers: sale.buyers,
        units: sale.units,
        units_sold: taken,
        oversold: (taken - sale.units).max(0) + (checkouts.orders as i64 - sale.units).max(0),
        false_sold_outs: if total.available > 0 { short.min(total.available as usize) } else { 0 },
        sold_out_answers: short,
        retry_laters: checkouts.retry_laters,
        errors: checkouts.errors,
        throttled: checkouts.throttled,
        index_throttled: checkouts.index_throttled,
        conflicts: checkouts.conflicts,
        invariant_holds: levels.iter().all(|s| s.violation().is_none()) && total.added == sale.units,
        elapsed_secs: checkouts.elapsed_secs,
        checkouts_per_sec: checkouts.orders as f64 / checkouts.elapsed_secs,
        checkout_p50_ms: checkouts.p50_ms,
        checkout_p99_ms: checkouts.p99_ms,
    })
}

/// The partitions of the shop-wide index lists, in the emulator's settings.
const INDEX_PREFIXES: [&str; 3] = ["orders-index/", "pending-index/", "bestseller-index/"];

/// What a round of checkouts got.
struct Checkouts {
    orders: usize,
    sold_out: usize,
    errors: usize,
    retry_laters: usize,
    throttled: u64,
    index_throttled: u64,
    conflicts: u64,
    elapsed_secs: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// Every buyer checks out at once, and comes back when told to (503), with
/// the partitions under `prefixes` contending as `sale` says (None: not).
async fn checkouts_under(
    stack: &Stack,
    tokens: Vec<String>,
    sale: Option<&ShardSale>,
    prefixes: &[&str],
) -> Result<Checkouts, LocalError> {
    let before = stack.counts().await?;
    if let Some(sale) = sale {
        for prefix in prefixes {
            stack.contend(prefix, sale.partition_wcu, sale.transaction_ms).await?;
        }
    }
    let started = Instant::now();
    let mut buyers = Vec::new();
    for token in tokens {
        let (http, api) = (stack.http.clone(), stack.api.clone());
        buyers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut retry_laters = 0;
            loop {
                let t0 = Instant::now();
                let reply = http.post(format!("{api}/cart/checkout")).header("Authorization", &token).send().await;
                latencies.push(t0.elapsed());
                let Ok(reply) = reply else { return (latencies, 0u16, retry_laters) };
                let status = reply.status().as_u16();
                if status != 503 {
                    return (latencies, status, retry_laters);
                }
                retry_laters += 1;
                let after: f64 = reply
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1.0);
                // Back after what the shop asked, give or take, not all in step.
                tokio::time::sleep(Duration::from_secs_f64(after * (0.5 + fastrand::f64() * 0.5))).await;
            }
        }));
    }
    let mut latencies = Vec::new();
    let (mut created_orders, mut short, mut errors, mut retry_laters) = (0usize, 0usize, 0usize, 0usize);
    for buyer in buyers {
        let (mut attempts, status, retried) = buyer.await.map_err(|e| LocalError::Setup(e.to_string()))?;
        latencies.append(&mut attempts);
        retry_laters += retried;
        match status {
            201 => created_orders += 1,
            409 => short += 1,
            _ => errors += 1,
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    for prefix in prefixes {
        stack.contend(prefix, 0.0, 0.0).await?;
    }
    let after = stack.counts().await?;
    latencies.sort();
    let count = |k: &str| after[k].as_u64().unwrap_or(0) - before[k].as_u64().unwrap_or(0);
    Ok(Checkouts {
        orders: created_orders,
        sold_out: short,
        errors,
        retry_laters,
        throttled: count("throttled"),
        index_throttled: count("indexThrottled"),
        conflicts: count("conflicts"),
        elapsed_secs: elapsed,
        p50_ms: percentile(&latencies, 0.50),
        p99_ms: percentile(&latencies, 0.99),
    })
}

/// One wide sale's figures: many products, the index partitions binding.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WideRun {
    pub index_partitions: u32,
    pub products: usize,
    pub buyers: usize,
    pub orders: usize,
    pub errors: usize,
    pub retry_laters: usize,
    pub throttled: u64,
    pub index_throttled: u64,
    pub elapsed_secs: f64,
    pub checkouts_per_sec: f64,
    pub checkout_p50_ms: f64,
    pub checkout_p99_ms: f64,
}

/// `sale.buyers` buyers, each with one unit of one of `products` new
/// products (stock enough for all), check out at once, every product's
/// partitions and every index partition contending as `sale` says.
pub async fn wide_sale(coordinates: &Value, sale: &ShardSale, products: usize) -> Result<WideRun, LocalError> {
    use reqwest::Method;
    let stack = stack_of(coordinates).await?;
    let per_product = sale.buyers.div_ceil(products.max(1));
    let mut tokens = Vec::new();
    for i in 0..products {
        let created = stack
            .call(
                Method::POST,
                "/product",
                &stack.admin,
                json!({ "name": format!("wide sale {i}"), "category": "wide-sale", "price": 1999, "initialStock": per_product }),
            )
            .await?;
        let product = created["product"]["productId"].as_str().unwrap_or_default().to_owned();
        tokens.extend(
            buyers_with_one_unit(
                &stack.cognito,
                &stack.http,
                &stack.pool,
                &stack.client_id,
                &stack.api,
                &product,
                per_product,
                "wide",
            )
            .await?,
        );
    }
    let mut prefixes = vec!["product#"];
    prefixes.extend(INDEX_PREFIXES);
    let buyers = tokens.len();
    let checkouts = checkouts_under(&stack, tokens, Some(sale), &prefixes).await?;
    Ok(WideRun {
        index_partitions: stack.index_partitions.count(),
        products,
        buyers,
        orders: checkouts.orders,
        errors: checkouts.errors + checkouts.sold_out,
        retry_laters: checkouts.retry_laters,
        throttled: checkouts.throttled,
        index_throttled: checkouts.index_throttled,
        elapsed_secs: checkouts.elapsed_secs,
        checkouts_per_sec: checkouts.orders as f64 / checkouts.elapsed_secs,
        checkout_p50_ms: checkouts.p50_ms,
        checkout_p99_ms: checkouts.p99_ms,
    })
}
