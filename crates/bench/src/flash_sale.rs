//! The flash-sale benchmark: many buyers, one product, little stock, all at
//! once, through the local stack's real HTTP API and Cognito sign-in.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::Semaphore;

use shop_local::resources::{setup_error, sign_up};
use shop_local::stack::emulator_sdk;
use shop_local::LocalError;

pub struct FlashSale {
    pub buyers: usize,
    pub units: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlashSaleReport {
    pub buyers: usize,
    pub units: i64,
    pub orders_created: usize,
    pub orders_paid: usize,
    pub refused_short: usize,
    pub errors: usize,
    pub units_sold: i64,
    pub oversold: i64,
    pub stock_invariant_holds: bool,
    pub elapsed_secs: f64,
    pub orders_per_sec: f64,
    pub checkouts_per_sec: f64,
    pub checkout_p50_ms: f64,
    pub checkout_p99_ms: f64,
}

/// `count` new users (signed up and in, 16 at a time), each with one unit of
/// `product` in their cart: a sale's buyers, ready. Their ID tokens.
#[allow(clippy::too_many_arguments)]
pub async fn buyers_with_one_unit(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    http: &reqwest::Client,
    pool: &str,
    client_id: &str,
    api: &str,
    product: &str,
    count: usize,
    tag: &str,
) -> Result<Vec<String>, LocalError> {
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let limit = Arc::new(Semaphore::new(16));
    let mut setups = Vec::new();
    for i in 0..count {
        let (cognito, http, pool, client_id, limit) =
            (cognito.clone(), http.clone(), pool.to_owned(), client_id.to_owned(), limit.clone());
        let (cart, body) = (format!("{api}/cart"), json!({ "productId": product, "quantity": 1 }));
        let username = format!("{tag}-{}-{i}", &run_id[..8]);
        setups.push(tokio::spawn(async move {
            let _permit = limit.acquire().await;
            let token = sign_up(&cognito, &pool, &client_id, &username, "Buyer-Pass1").await?;
            let added = http
                .post(cart)
                .header("Authorization", &token)
                .json(&body)
                .send()
                .await
                .map_err(|e| setup_error("add to cart")(e.to_string()))?;
            if !added.status().is_success() {
                return Err(LocalError::Setup(format!("add to cart: {}", added.status())));
            }
            Ok::<_, LocalError>(token)
        }));
    }
    let mut tokens = Vec::new();
    for setup in setups {
        tokens.push(setup.await.map_err(|e| LocalError::Setup(e.to_string()))??);
    }
    Ok(tokens)
}

/// The `p` quantile of sorted latencies, in milliseconds.
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

pub async fn run(coordinates: &Value, sale: &FlashSale) -> Result<FlashSaleReport, LocalError> {
    let field = |name: &str| coordinates[name].as_str().unwrap_or_default().to_owned();
    let (api, endpoint, pool, client_id) =
        (field("apiUrl"), field("emulatorEndpoint"), field("userPoolId"), field("clientId"));
    let sdk = emulator_sdk(&endpoint).await;
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|e| setup_error("http")(e.to_string()))?;

    let admin = shop_local::stack::demo_id_token(coordinates, "admin").await?;
    let created: Value = http
        .post(format!("{api}/product"))
        .header("Authorization", &admin)
        .json(
            &json!({ "name": "flash sale item", "category": "flash-sale", "price": 4999, "initialStock": sale.units }),
        )
        .send()
        .await
        .map_err(|e| setup_error("create product")(e.to_string()))?
        .json()
        .await
        .map_err(|e| setup_error("create product")(e.to_string()))?;
    let product =
        created["product"]["productId"].as_str().ok_or_else(|| LocalError::Setup(format!("{created}")))?.to_owned();

    // Set-up, not measured: buyers sign up, sign in, and put one unit in their cart.
    let tokens = buyers_with_one_unit(&cognito, &http, &pool, &client_id, &api, &product, sale.buyers, "buyer").await?;

    // The sale: every buyer checks out at once and pays if they got stock.
    let started = Instant::now();
    let mut buyers = Vec::new();
    for token in tokens {
        let (http, api) = (http.clone(), api.clone());
        buyers.push(tokio::spawn(async move {
            let t0 = Instant::now();
            let checkout = http.post(format!("{api}/cart/checkout")).header("Authorization", &token).send().await;
            let latency = t0.elapsed();
            let Ok(checkout) = checkout else { return (latency, 0u16, false) };
            let status = checkout.status().as_u16();
            if status != 201 {
                return (latency, status, false);
            }
            let body: Value = checkout.json().await.unwrap_or_default();
            let order = body["order"]["orderId"].as_str().unwrap_or_default().to_owned();
            let paid = http
                .post(format!("{api}/orders/{order}/payment"))
                .header("Authorization", &token)
                .json(&json!({ "cardToken": "tok_visa" }))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            (latency, status, paid)
        }));
    }
    let mut latencies = Vec::new();
    let (mut created_orders, mut paid, mut short, mut errors) = (0, 0, 0, 0);
    for buyer in buyers {
        let (latency, status, was_paid) = buyer.await.map_err(|e| LocalError::Setup(e.to_string()))?;
        latencies.push(latency);
        match status {
            201 => created_orders += 1,
            409 => short += 1,
            _ => errors += 1,
        }
        paid += usize::from(was_paid);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();

    let store = shop_local::stack::store_at(
        &endpoint,
        &field("tableName"),
        shop_local::stack::index_partitions_of(coordinates),
    )
    .await;
    let id = shop::domain::ProductId::parse(&product).map_err(|e| LocalError::Setup(e.to_string()))?;
    let levels = store.stock(&id).await.map_err(|e| LocalError::Setup(e.to_string()))?.unwrap_or_default();
    let reconciled = shop::outbound::dynamodb::reconcile::reconcile(&store, shop::clock::now_epoch_secs(), false)
        .await
        .map_err(|e| LocalError::Setup(e.to_string()))?;
    let stock_drift =
        reconciled.drift.iter().filter(|d| d.kind == shop::outbound::dynamodb::reconcile::DriftKind::Stock).count();
    Ok(FlashSaleReport {
        buyers: sale.buyers,
        units: sale.units,
        orders_created: created_orders,
        orders_paid: paid,
        refused_short: short,
        errors,
        units_sold: levels.sold,
        oversold: (levels.sold - sale.units).max(0) + (paid as i64 - sale.units).max(0),
        stock_invariant_holds: stock_drift == 0 && levels.violation().is_none(),
        elapsed_secs: elapsed,
        orders_per_sec: paid as f64 / elapsed,
        checkouts_per_sec: sale.buyers as f64 / elapsed,
        checkout_p50_ms: percentile(&latencies, 0.50),
        checkout_p99_ms: percentile(&latencies, 0.99),
    })
}
