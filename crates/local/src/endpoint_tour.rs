//! A walk over every endpoint the way the frontend and an admin use them:
//! browse, an anonymous cart, sign-in and migration, checkout and payment,
//! checkout and cancel, and the admin's product work. `aws-calls` counts what
//! it costs; tests check its calls against the template's policies and each
//! route's against its design minimum.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::{json, Value};

use crate::gateway::{LOCAL_AWS_CALLS_HEADER, LOCAL_ROUTE_HEADER};

/// The call that checks an admin's authenticator app (`outbound/cognito/authenticators.rs`):
/// made by any route an admin calls, at most once a minute per admin and
/// container, so counted apart from each route's own minimum.
pub const ADMIN_CHECK_CALL: &str = "Cognito Identity Provider.AdminGetUser";

/// The calls of a request that count toward its route's design minimum: all
/// but the admin check.
pub fn route_calls<S: AsRef<str>>(calls: &[S]) -> usize {
    calls.iter().filter(|c| c.as_ref() != ADMIN_CHECK_CALL).count()
}

/// The fewest AWS calls each route needs for the request this walk makes, and
/// why (not counting the admin check, [`ADMIN_CHECK_CALL`]). Reads of items
/// whose keys are known up front count as one `BatchGetItem`.
pub const DESIGN_MINIMUM: &[(&str, usize, &str)] = &[
    ("GET /product", 1, "one Query of the catalog index"),
    ("GET /product/{product_id}", 1, "product, stock, cart total and own line: one BatchGetItem"),
    ("POST /product", 1, "product, stock and category list: one transaction"),
    ("PUT /product/{product_id}", 1, "one conditional update"),
    (
        "POST /product/{product_id}/stock",
        3,
        "the product (how its stock is split), one transaction (the shards' changes and the key's record), one BatchGetItem of the counters; without a key on one stock item, one update instead of the last two",
    ),
    (
        "PUT /product/{product_id}/stock/shards",
        5,
        "the product, one transaction (the split and the new shard items), one BatchGetItem of the shards, a transaction per move that evens them out (one here: 1 to 2 shards), the shards again",
    ),
    ("GET /categories", 1, "one GetItem"),
    (
        "GET /bestsellers",
        shop::outbound::dynamodb::IndexPartitions::DEFAULT.count() as usize + 1,
        "one Query of each best-seller index partition (the template's IndexPartitions, asked at once), one BatchGetItem of the products",
    ),
    ("GET /cart", 1, "one Query of the cart"),
    ("POST /cart", 2, "product, stock and line: one BatchGetItem; one conditional put"),
    ("PUT /cart/{product_id}", 2, "product, stock and line: one BatchGetItem; one conditional put"),
    (
        "POST /cart/migrate",
        4,
        "Query of both carts, one transaction for the merged lines (per 49), SQS SendMessageBatch for the cleanup",
    ),
    ("GET /cart/{product_id}/total", 1, "product and total: one BatchGetItem"),
    ("POST /cart/checkout", 3, "Query of the cart, BatchGetItem of today's prices, one transaction (one GetItem more with an Idempotency-Key)"),
    ("GET /orders", 1, "one Query"),
    ("GET /orders/{order_id}", 1, "one GetItem"),
    (
        "POST /orders/{order_id}/payment",
        6,
        "order, the ledger's line, the order's PaymentIntent recorded before Stripe confirms it, the outcome recorded, \
         Query of the cart (bought units leave it), one transaction (the sandbox provider: 4)",
    ),
    (
        "POST /orders/{order_id}/payment/intent",
        3,
        "order, the ledger's line, the new PaymentIntent recorded (Stripe creates it in between)",
    ),
    (
        "POST /stripe/webhook",
        7,
        "the event's mark, the order, the ledger's line, the outcome recorded, Query of the cart, one transaction, \
         the event marked processed",
    ),
    (
        "POST /orders/{order_id}/refund",
        shop::outbound::dynamodb::IndexPartitions::DEFAULT.count() as usize + 5,
        "the order by id (a Query of each orders-index partition, then the order itself), one transaction \
         (the order refunded, its units back), the ledger's line, the refund recorded, the refund due cleared",
    ),
    (
        "POST /orders/{order_id}/cancel",
        4,
        "order, one transaction that ends it and records any refund as due, the refund, clearing the record",
    ),
    (
        "GET /product/{product_id}/reviews",
        2,
        "one Query of the product's reviews; signed in, one BatchGetItem of the purchase mark and the reader's review mark (one GetItem more when their review is not on the page)",
    ),
    (
        "POST /product/{product_id}/reviews",
        1,
        "one transaction: the review, the author's mark, the rating summary and the purchase check",
    ),
    ("PUT /product/{product_id}/reviews/{review_id}", 2, "GetItem of the review, one transaction (review and summary)"),
    (
        "DELETE /product/{product_id}/reviews/{review_id}",
        2,
        "GetItem of the review, one transaction (review, mark and summary)",
    ),
];

/// The API of a running stack, over HTTP. It keeps, per route, the AWS calls
/// of the costliest request it made there (from the local API's headers), so
/// that what one client's requests cost can be read on a stack other clients
/// share.
pub struct Client {
    pub http: reqwest::Client,
    pub api: String,
    costliest: Mutex<BTreeMap<String, Vec<String>>>,
    /// Signs the tour's Stripe event as Stripe would (the stack's
    /// `stripeWebhookSecret`); without it the event goes unsigned (refused).
    webhook_secret: Option<String>,
}

impl Client {
    pub fn new(http: reqwest::Client, api: impl Into<String>) -> Self {
        Self { http, api: api.into(), costliest: Mutex::default(), webhook_secret: None }
    }

    pub fn with_webhook_secret(mut self, secret: Option<String>) -> Self {
        self.webhook_secret = secret;
        self
    }

    /// Stripe's event that the order's payment succeeded, delivered to the
    /// shop's webhook (signed when the client has the secret).
    async fn deliver_payment_event(&self, order: &str, buyer_token: &str) -> Result<(), String> {
        let event = json!({
            "id": format!("evt_tour_{order}"),
            "type": "payment_intent.succeeded",
            "data": { "object": {
                "id": format!("pi_tour_{order}"), "status": "succeeded", "amount": 0, "currency": "usd",
                "metadata": { "order_id": order, "buyer": sub_of(buyer_token) },
            } },
        });
        let body = event.to_string();
        let signature = match &self.webhook_secret {
            Some(secret) => shop::outbound::payments::stripe::webhook::signature_header(
                secret,
                body.as_bytes(),
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64),
            ),
            None => String::new(),
        };
        let headers = [("Content-Type", "application/json"), ("Stripe-Signature", signature.as_str())];
        self.send(reqwest::Method::POST, "/stripe/webhook", &headers, Some(body)).await.map(|_| ())
    }

    /// Per route (`POST /cart`), the calls of the costliest request this
    /// client made there.
    pub fn costliest_calls(&self) -> BTreeMap<String, Vec<String>> {
        self.costliest.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// A call with a JSON body, if any; an answer of 400 or more is an error.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Result<(u16, Value, Option<String>), String> {
        let mut all = headers.to_vec();
        if body.is_some() {
            all.push(("Content-Type", "application/json"));
        }
        self.send(method, path, &all, body.map(|b| b.to_string())).await
    }

    /// A call with a raw body; answers the status, the JSON body (null if
    /// none) and the cookie set (`name=value`), if any.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Result<(u16, Value, Option<String>), String> {
        let mut request = self.http.request(method.clone(), format!("{}{path}", self.api));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.map_err(|e| format!("{method} {path}: {e}"))?;
        let status = response.status().as_u16();
        self.note_calls(response.headers());
        let cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|c| c.split(';').next())
            .map(str::to_owned);
        let body = response.json().await.unwrap_or(Value::Null);
        if status >= 400 {
            return Err(format!("{method} {path}: {status} {body}"));
        }
        Ok((status, body, cookie))
    }

    fn note_calls(&self, headers: &reqwest::header::HeaderMap) {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let Some(route) = text(LOCAL_ROUTE_HEADER) else { return };
        let calls: Vec<String> = text(LOCAL_AWS_CALLS_HEADER)
            .unwrap_or("")
            .split(", ")
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect();
        if let Ok(mut costliest) = self.costliest.lock() {
            let seen = costliest.entry(route.to_owned()).or_default();
            if calls.len() > seen.len() {
                *seen = calls;
            }
        }
    }
}

/// Walks every endpoint once (some twice) as `customer` and `admin` (ID
/// tokens), buying `products` (two seeded products' ids); fails on the first
/// answer that is not a success.
pub async fn every_endpoint(
    client: &Client,
    customer: &str,
    admin: &str,
    products: (&str, &str),
) -> Result<(), String> {
    let as_customer = [("Authorization", customer)];
    let as_admin = [("Authorization", admin)];
    use reqwest::Method as M;

    // Browse, as anyone.
    let (a, b) = products;
    client.call(M::GET, "/product", &[], None).await?;
    client.call(M::GET, "/product?category=sweet&limit=5", &[], None).await?;
    client.call(M::GET, &format!("/product/{a}"), &[], None).await?;
    client.call(M::GET, "/categories", &[], None).await?;

    // An anonymous cart, then sign in and migrate.
    let (_, _, cookie) = client.call(M::POST, "/cart", &[], Some(json!({ "productId": a, "quantity": 2 }))).await?;
    let cookie = cookie.ok_or("no cart cookie")?;
    let with_cookie = [("Cookie", cookie.as_str())];
    client.call(M::POST, "/cart", &with_cookie, Some(json!({ "productId": b, "quantity": 1 }))).await?;
    client.call(M::PUT, &format!("/cart/{b}"), &with_cookie, Some(json!({ "quantity": 2 }))).await?;
    client.call(M::GET, "/cart", &with_cookie, None).await?;
    let signed_in_with_cookie = [("Authorization", customer), ("Cookie", cookie.as_str())];
    client.call(M::POST, "/cart/migrate", &signed_in_with_cookie, None).await?;
    client.call(M::GET, "/cart", &as_customer, None).await?;

    // Check out and pay; check out again and cancel.
    let (_, checkout, _) = client.call(M::POST, "/cart/checkout", &as_customer, None).await?;
    let order = checkout["order"]["orderId"].as_str().ok_or("no order")?.to_owned();
    client.call(M::GET, "/orders", &as_customer, None).await?;
    client.call(M::GET, &format!("/orders/{order}"), &as_customer, None).await?;
    // The card form's intent first (Stripe), then paying with a token reuses it.
    client.call(M::POST, &format!("/orders/{order}/payment/intent"), &as_customer, None).await?;
    let card = Some(json!({ "cardToken": "tok_visa" }));
    client.call(M::POST, &format!("/orders/{order}/payment"), &as_customer, card).await?;
    client.deliver_payment_event(&order, customer).await?;
    client.call(M::POST, "/cart", &as_customer, Some(json!({ "productId": a, "quantity": 1 }))).await?;
    let (_, checkout, _) = client.call(M::POST, "/cart/checkout", &as_customer, None).await?;
    let second = checkout["order"]["orderId"].as_str().ok_or("no order")?.to_owned();
    client.call(M::POST, &format!("/orders/{second}/cancel"), &as_customer, None).await?;
    client.call(M::GET, "/bestsellers?limit=5", &[], None).await?;

    // Review what was bought: write, read (anyone, then the author), edit,
    // delete; an admin removes another review.
    let review = Some(json!({ "rating": 4, "title": "Good", "body": "As described." }));
    let (_, written, _) = client.call(M::POST, &format!("/product/{a}/reviews"), &as_customer, review).await?;
    let review_id = written["review"]["reviewId"].as_str().ok_or("no review")?.to_owned();
    client.call(M::GET, &format!("/product/{a}/reviews"), &[], None).await?;
    client.call(M::GET, &format!("/product/{a}/reviews?limit=5"), &as_customer, None).await?;
    let edit = Some(json!({ "rating": 5, "title": "Very good" }));
    client.call(M::PUT, &format!("/product/{a}/reviews/{review_id}"), &as_customer, edit).await?;
    client.call(M::DELETE, &format!("/product/{a}/reviews/{review_id}"), &as_customer, None).await?;
    let review = Some(json!({ "rating": 1, "title": "Spam" }));
    let (_, written, _) = client.call(M::POST, &format!("/product/{b}/reviews"), &as_customer, review).await?;
    let review_id = written["review"]["reviewId"].as_str().ok_or("no review")?.to_owned();
    client.call(M::DELETE, &format!("/product/{b}/reviews/{review_id}"), &as_admin, None).await?;

    // The admin's side.
    let new = json!({ "name": "bench product", "category": "bench", "price": 100, "initialStock": 5 });
    let (_, created, _) = client.call(M::POST, "/product", &as_admin, Some(new)).await?;
    let created = created["product"]["productId"].as_str().ok_or("no product")?.to_owned();
    client.call(M::PUT, &format!("/product/{created}"), &as_admin, Some(json!({ "price": 120 }))).await?;
    let restock = [("Authorization", admin), ("Idempotency-Key", "bench-restock-1")];
    client.call(M::POST, &format!("/product/{created}/stock"), &restock, Some(json!({ "delta": 5 }))).await?;
    client.call(M::PUT, &format!("/product/{created}/stock/shards"), &as_admin, Some(json!({ "shards": 2 }))).await?;
    client.call(M::GET, &format!("/cart/{a}/total"), &as_admin, None).await?;
    // Last, as it puts the customer's units back on sale: the admin refunds the paid order.
    client.call(M::POST, &format!("/orders/{order}/refund"), &as_admin, None).await?;

    Ok(())
}

/// The `sub` an ID token names (its payload read, not verified: the shop
/// verifies; the tour only needs the name).
fn sub_of(token: &str) -> String {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap_or_default();
    serde_json::from_slice::<Value>(&bytes).ok().and_then(|c| c["sub"].as_str().map(str::to_owned)).unwrap_or_default()
}
