//! The shop-wide index lists (every order, the orders awaiting payment, best
//! sellers) spread over `IndexPartitions` key values, on a stack of their own
//! whose emulator limits index partitions as DynamoDB does: what each
//! operation writes to the indexes, a checkout refused by an index partition,
//! and every listing still exact across the partitions.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use shop_local::stack::{demo_id_token, spawn_child_stack, ChildStack};

use crate::support::*;

struct Shop {
    api: String,
    emulator: String,
    invoke: String,
    table: String,
    customer: String,
    admin: String,
    _child: ChildStack,
}

impl Shop {
    async fn start() -> Self {
        let child = spawn_child_stack(
            Path::new(env!("CARGO_BIN_EXE_shop-local")),
            &workspace_root(),
            &[
                ("SHOP_PARAMETER_OVERRIDES", "IndexPartitions=4 RenewalCooldownSeconds=0"),
                ("SHOP_MAX_PENDING_ORDERS", "20"),
                // No sweep unless the test invokes it.
                ("SHOP_SCHEDULE_SECONDS", "100000"),
                // The sandbox provider, which stays available by configuration,
                // pays here (the shared stack pays with Stripe on localstripe).
                ("SHOP_PAYMENT_PROVIDER", "sandbox"),
            ],
        )
        .expect("a stack");
        let coordinates = child.coordinates().expect("coordinates");
        assert_eq!(coordinates["indexPartitions"], 4);
        let field = |name: &str| coordinates[name].as_str().unwrap().to_owned();
        Self {
            api: field("apiUrl"),
            emulator: field("emulatorEndpoint"),
            invoke: field("invokeUrl"),
            table: field("tableName"),
            customer: demo_id_token(&coordinates, "customer").await.expect("customer"),
            admin: demo_id_token(&coordinates, "admin").await.expect("admin"),
            _child: child,
        }
    }

    async fn send(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = http().request(method, format!("{}{path}", self.api)).header("Authorization", token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let reply = request.send().await.expect("request");
        (reply.status(), reply.json().await.unwrap_or(Value::Null))
    }

    async fn contention(&self, body: Value) -> Value {
        let reply = http().post(format!("{}/_shop/contention", self.emulator)).json(&body).send().await.unwrap();
        assert!(reply.status().is_success());
        reply.json().await.unwrap()
    }

    /// Index items written (put or deleted) per index while `operation` ran.
    async fn index_writes<F: std::future::Future<Output = T>, T>(&self, operation: F) -> (T, BTreeMap<String, u64>) {
        self.contention(json!({ "resetCounts": true })).await;
        let out = operation.await;
        let counts: Value =
            http().get(format!("{}/_shop/contention", self.emulator)).send().await.unwrap().json().await.unwrap();
        let writes = counts["indexWrites"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(index, n)| (index.clone(), n.as_u64().unwrap()))
            .filter(|(_, n)| *n > 0)
            .collect();
        (out, writes)
    }

    async fn order_one(&self, product: &str) -> String {
        let (status, body) = self
            .send(Method::POST, "/cart", &self.customer, Some(json!({ "productId": product, "quantity": 1 })))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = self.send(Method::POST, "/cart/checkout", &self.customer, None).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["order"]["orderId"].as_str().unwrap().to_owned()
    }

    async fn pay(&self, order: &str) {
        let (status, body) = self
            .send(
                Method::POST,
                &format!("/orders/{order}/payment"),
                &self.customer,
                Some(json!({ "cardToken": "tok_visa" })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    async fn sweep(&self) -> Value {
        let reply = http()
            .post(format!("{}/2015-03-31/functions/OrderExpiryFunction/invocations", self.invoke))
            .body(std::fs::read_to_string(workspace_root().join("events/order-expiry.json")).unwrap())
            .send()
            .await
            .expect("invoke");
        assert_eq!(reply.status(), StatusCode::OK);
        assert!(reply.headers().get("x-amz-function-error").is_none());
        reply.json().await.unwrap_or(Value::Null)
    }

    async fn expire_now(&self, order: &str) {
        let sub = crate::cart::sub_of(&self.customer);
        let dynamodb = aws_sdk_dynamodb::Client::new(&shop_local::stack::emulator_sdk(&self.emulator).await);
        dynamodb
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(format!("user#{sub}")))
            .key("sk", AttributeValue::S(format!("order#{order}")))
            .update_expression("SET expiresAt = :t")
            .expression_attribute_values(":t", AttributeValue::N((now() - 60).to_string()))
            .send()
            .await
            .expect("expiry set");
    }

    /// Each order's `orderList` value, read from the table.
    async fn order_lists(&self, orders: &[String]) -> BTreeMap<String, String> {
        let sub = crate::cart::sub_of(&self.customer);
        let dynamodb = aws_sdk_dynamodb::Client::new(&shop_local::stack::emulator_sdk(&self.emulator).await);
        let mut lists = BTreeMap::new();
        for order in orders {
            let item = dynamodb
                .get_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(format!("user#{sub}")))
                .key("sk", AttributeValue::S(format!("order#{order}")))
                .send()
                .await
                .unwrap()
                .item
                .unwrap();
            lists.insert(order.clone(), item["orderList"].as_s().unwrap().clone());
        }
        lists
    }

    async fn status_of(&self, order: &str) -> String {
        let (status, body) = self.send(Method::GET, &format!("/orders/{order}"), &self.admin, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["order"]["status"].as_str().unwrap().to_owned()
    }
}

fn writes(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(index, n)| ((*index).to_owned(), *n)).collect()
}

#[tokio::test]
async fn orders_spread_over_index_partitions_that_limit_writes_as_dynamodb_does() {
    let shop = Shop::start().await;
    let products: Vec<String> = seeded_product_ids().into_iter().take(12).collect();

    // A checkout whose order would land on index partitions without units
    // left: refused as DynamoDB refuses it, nothing reserved, nothing ordered.
    let (status, _) = shop
        .send(Method::POST, "/cart", &shop.customer, Some(json!({ "productId": products[0], "quantity": 1 })))
        .await;
    assert_eq!(status, StatusCode::OK);
    let before = shop.contention(json!({ "prefix": "pending-index/", "wcu": 0.5 })).await;
    let (status, body) = shop.send(Method::POST, "/cart/checkout", &shop.customer, None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body["message"].as_str().unwrap().contains("nothing was changed"), "{body}");
    let after = shop.contention(json!({ "prefix": "pending-index/", "wcu": 0 })).await;
    assert!(after["indexThrottled"].as_u64() > before["indexThrottled"].as_u64(), "{after}");
    let (_, listed) = shop.send(Method::GET, "/orders", &shop.customer, None).await;
    assert_eq!(listed["orders"], json!([]));

    // What each operation writes to the indexes (one line, a product of one
    // stock shard): the order's item in the orders and pending lists, the
    // stock item in the best sellers (twice when `sold`, its sort key, moves).
    let (order, at_checkout) = shop
        .index_writes(async {
            let (status, body) = shop.send(Method::POST, "/cart/checkout", &shop.customer, None).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            body["order"]["orderId"].as_str().unwrap().to_owned()
        })
        .await;
    assert_eq!(at_checkout, writes(&[("bestseller-index", 1), ("orders-index", 1), ("pending-index", 1)]));
    let (_, at_payment) = shop.index_writes(shop.pay(&order)).await;
    assert_eq!(at_payment, writes(&[("bestseller-index", 2), ("orders-index", 1), ("pending-index", 1)]));
    let unpaid = shop.order_one(&products[1]).await;
    shop.expire_now(&unpaid).await;
    // An unpaid end writes the order twice: ended with its refund check due
    // (so a charge that slipped through is refunded), then the check done.
    let (_, at_expiry) = shop.index_writes(shop.sweep()).await;
    assert_eq!(at_expiry, writes(&[("bestseller-index", 1), ("orders-index", 2), ("pending-index", 2)]));
    assert_eq!(shop.status_of(&unpaid).await, "EXPIRED");

    // Orders land on every partition of the orders list, and the admin's
    // listing, paged, is still every order exactly once, newest first.
    // Order ids are random: orders are placed until every partition holds
    // one (12 leave one empty about one time in eight; 40 about once in
    // 25,000 runs).
    let every_partition: BTreeSet<String> = ["order", "order#1", "order#2", "order#3"].map(String::from).into();
    let mut orders = vec![order, unpaid];
    let mut lists = BTreeSet::new();
    for product in products[2..].iter().cycle().take(38) {
        let placed = shop.order_one(product).await;
        shop.pay(&placed).await;
        orders.push(placed);
        if orders.len() >= 12 {
            lists = shop.order_lists(&orders).await.into_values().collect();
            if lists == every_partition {
                break;
            }
        }
    }
    assert_eq!(lists, every_partition, "{} orders over 4 partitions", orders.len());
    let mut listed = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/orders?all=true&limit=5&cursor={c}"),
            None => "/orders?all=true&limit=5".to_owned(),
        };
        let (status, page) = shop.send(Method::GET, &path, &shop.admin, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let ids: Vec<String> =
            page["orders"].as_array().unwrap().iter().map(|o| o["orderId"].as_str().unwrap().to_owned()).collect();
        assert!(ids.len() <= 5 && !ids.is_empty(), "{page}");
        listed.extend(ids);
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let mut newest_first = orders.clone();
    newest_first.sort();
    newest_first.reverse();
    assert_eq!(listed, newest_first, "every order once, newest first, over pages of 5");
    // A forged cursor is refused, not passed to DynamoDB.
    let (status, _) = shop.send(Method::GET, "/orders?all=true&cursor=eyJiZWZvcmUiOiJ4In0", &shop.admin, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The sweep goes through every pending partition.
    let mut unpaid = Vec::new();
    for product in &products[..8] {
        let placed = shop.order_one(product).await;
        shop.expire_now(&placed).await;
        unpaid.push(placed);
    }
    let pending_lists: BTreeSet<String> = unpaid.iter().map(|o| pending_list_of(o)).collect();
    assert!(pending_lists.len() > 1, "{pending_lists:?}");
    shop.sweep().await;
    for order in &unpaid {
        assert_eq!(shop.status_of(order).await, "EXPIRED", "{order}");
    }

    // Best sellers merge every partition: the products sold, most first.
    let (status, best) = shop.send(Method::GET, "/bestsellers?limit=20", &shop.customer, None).await;
    assert_eq!(status, StatusCode::OK, "{best}");
    let sold: Vec<i64> =
        best["products"].as_array().unwrap().iter().map(|p| p["unitsSold"].as_i64().unwrap()).collect();
    assert!(sold.windows(2).all(|w| w[0] >= w[1]), "most sold first: {sold:?}");
    assert!(sold.iter().filter(|n| **n > 0).count() >= 10, "{best}");
}

/// The pending list an order id picks on a 4-partition stack.
fn pending_list_of(order: &str) -> String {
    shop::outbound::dynamodb::IndexPartitions::new(4)
        .unwrap()
        .of(shop::outbound::dynamodb::keys::PENDING_PARTITION, order)
}
