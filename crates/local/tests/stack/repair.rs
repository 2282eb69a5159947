//! `reconcile --repair` on a live table: a checkout that lands while it
//! looks is never repaired away, and repairing in a loop through a flash sale
//! leaves every order payable or ended and nothing oversold.
//!
//! On a stack of its own: a repairing run reads the whole table, and the
//! shared stack's tests drift their own products on purpose.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::StatusCode;
use serde_json::{json, Value};
use shop::domain::{ProductId, StockLevels};
use shop::outbound::dynamodb::reconcile::{reconcile, reconcile_pausing, RepairStep};
use shop_local::stack::{emulator_sdk, spawn_child_stack, store_at, ChildStack};

use crate::support::{http, now, workspace_root};

struct Shop {
    _child: ChildStack,
    api: String,
    coordinates: Value,
    store: shop::outbound::dynamodb::Store,
    admin: String,
}

impl Shop {
    async fn start() -> Self {
        let child = spawn_child_stack(
            Path::new(env!("CARGO_BIN_EXE_shop-local")),
            &workspace_root(),
            &[("SHOP_SCHEDULE_SECONDS", "1")],
        )
        .expect("a stack");
        let coordinates = child.coordinates().unwrap();
        let field = |name: &str| coordinates[name].as_str().unwrap().to_owned();
        let store = store_at(
            &field("emulatorEndpoint"),
            &field("tableName"),
            shop_local::stack::index_partitions_of(&coordinates),
        )
        .await;
        let admin = shop_local::stack::demo_id_token(&coordinates, "admin").await.unwrap();
        Self { api: field("apiUrl"), store, admin, coordinates, _child: child }
    }

    async fn send(&self, method: reqwest::Method, path: &str, token: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = http().request(method, format!("{}{path}", self.api)).header("Authorization", token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let reply = request.send().await.unwrap();
        let status = reply.status();
        (status, reply.json().await.unwrap_or(Value::Null))
    }

    async fn product(&self, units: i64) -> String {
        let body = json!({ "name": format!("repair {}", uuid::Uuid::new_v4().simple()), "category": "repair",
                           "price": 300, "initialStock": units });
        let (status, created) = self.send(reqwest::Method::POST, "/product", &self.admin.clone(), Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        created["product"]["productId"].as_str().unwrap().to_owned()
    }

    async fn buyer(&self, tag: &str) -> String {
        let field = |name: &str| self.coordinates[name].as_str().unwrap().to_owned();
        let cognito = aws_sdk_cognitoidentityprovider::Client::new(&emulator_sdk(&field("emulatorEndpoint")).await);
        let username = format!("{tag}-{}", uuid::Uuid::new_v4().simple());
        shop_local::resources::sign_up(&cognito, &field("userPoolId"), &field("clientId"), &username, "Shopper-Pass1")
            .await
            .unwrap()
    }

    /// The buyer's cart holds `units` of the product, then a checkout: the order id.
    async fn check_out(&self, buyer: &str, product: &str, units: i64) -> Option<String> {
        let line = json!({ "productId": product, "quantity": units });
        let (status, _) = self.send(reqwest::Method::POST, "/cart", buyer, Some(line)).await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = self.send(reqwest::Method::POST, "/cart/checkout", buyer, None).await;
        match status {
            StatusCode::CREATED => Some(body["order"]["orderId"].as_str().unwrap().to_owned()),
            StatusCode::CONFLICT => None, // sold out
            other => panic!("checkout: {other} {body}"),
        }
    }

    async fn stock(&self, product: &str) -> StockLevels {
        self.store.stock(&ProductId::parse(product).unwrap()).await.unwrap().unwrap()
    }

    /// A reservation no order holds, as a crashed writer or a hand edit
    /// leaves one: the drift every repair below sees.
    async fn phantom_reservation(&self, product: &str) {
        let table = self.coordinates["tableName"].as_str().unwrap();
        aws_sdk_dynamodb::Client::new(&emulator_sdk(self.coordinates["emulatorEndpoint"].as_str().unwrap()).await)
            .update_item()
            .table_name(table)
            .key("pk", AttributeValue::S(format!("product#{product}")))
            .key("sk", AttributeValue::S("stock".into()))
            .update_expression("SET available = available - :one, reserved = reserved + :one")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .send()
            .await
            .unwrap();
    }
}

fn levels(available: i64, reserved: i64, sold: i64, added: i64) -> StockLevels {
    StockLevels { available, reserved, sold, added }
}

#[tokio::test]
async fn reconcile_repair_on_a_live_table() {
    let shop = Shop::start().await;

    // 1. A checkout lands after the drifted shard was read, and (the order a
    //    scan meets items in on DynamoDB) after the orders were read: the
    //    shard moved between its two reads, so it is left alone.
    for step in [RepairStep::ShardsRead, RepairStep::OrdersRead] {
        let product = shop.product(10).await;
        shop.phantom_reservation(&product).await;
        let buyer = shop.buyer("racer").await;
        let landed = Arc::new(AtomicBool::new(false));
        let order = Arc::new(tokio::sync::Mutex::new(None));
        let report = reconcile_pausing(&shop.store, now(), true, |at| {
            let (shop, buyer, product, landed, order) =
                (&shop, buyer.clone(), product.clone(), landed.clone(), order.clone());
            async move {
                if at == step && !landed.swap(true, Ordering::SeqCst) {
                    *order.lock().await = shop.check_out(&buyer, &product, 2).await;
                }
            }
        })
        .await
        .unwrap();
        assert!(landed.load(Ordering::SeqCst));
        assert!(report.repair_conflicts.contains(&product), "{step:?}: {report:?}");
        assert_eq!(shop.stock(&product).await, levels(7, 3, 0, 10), "{step:?}: the checkout's 2 units stay reserved");
        // The order is payable (a wrong repair left it 409 forever).
        let order_id = order.lock().await.clone().expect("the racing checkout made an order");
        let (status, paid) = shop
            .send(
                reqwest::Method::POST,
                &format!("/orders/{order_id}/payment"),
                &buyer,
                Some(json!({ "cardToken": "tok_visa" })),
            )
            .await;
        assert_eq!((status, paid["order"]["status"].as_str()), (StatusCode::OK, Some("PAID")), "{paid}");
        // The next run, with nobody writing, repairs only the phantom.
        let report = reconcile(&shop.store, now(), true).await.unwrap();
        assert!(report.repaired.contains(&product), "{report:?}");
        assert_eq!(shop.stock(&product).await, levels(8, 0, 2, 10));
    }

    // 2. Repairing in a loop through a flash sale: 16 buyers for 6 units,
    //    paying, cancelling and abandoning (the sweeper expires those).
    let product = shop.product(6).await;
    shop.phantom_reservation(&product).await;
    let sale_over = Arc::new(AtomicBool::new(false));
    let repairs = {
        let (store, sale_over) = (shop.store.clone(), sale_over.clone());
        tokio::spawn(async move {
            let mut runs = 0;
            while !sale_over.load(Ordering::SeqCst) {
                reconcile(&store, now(), true).await.unwrap();
                runs += 1;
            }
            runs
        })
    };
    let mut buyers = Vec::new();
    for i in 0..16 {
        buyers.push(shop.buyer(&format!("sale{i}")).await);
    }
    let sales = buyers.iter().enumerate().map(|(i, buyer)| {
        let (shop, product) = (&shop, product.clone());
        async move {
            let order_id = shop.check_out(buyer, &product, 1).await?;
            let path = format!("/orders/{order_id}");
            match i % 3 {
                0 => {
                    let card = Some(json!({ "cardToken": "tok_visa" }));
                    let (status, body) =
                        shop.send(reqwest::Method::POST, &format!("{path}/payment"), buyer, card).await;
                    assert_eq!(status, StatusCode::OK, "payment during repairs: {body}");
                }
                1 => {
                    let (status, body) = shop.send(reqwest::Method::POST, &format!("{path}/cancel"), buyer, None).await;
                    assert_eq!(status, StatusCode::OK, "cancel during repairs: {body}");
                }
                _ => {} // abandoned: the sweeper expires it once its hold ends (set below)
            }
            Some((i, buyer.clone(), order_id))
        }
    });
    let outcomes: Vec<(usize, String, String)> = futures::future::join_all(sales).await.into_iter().flatten().collect();
    let paid = outcomes.iter().filter(|(i, _, _)| i % 3 == 0).count() as i64;
    let orders: Vec<(String, String)> = outcomes.into_iter().map(|(_, buyer, order)| (buyer, order)).collect();
    // Abandoned orders' holds end now; the sweeper (every second here) expires them.
    for (buyer, order_id) in &orders {
        let (_, body) = shop.send(reqwest::Method::GET, &format!("/orders/{order_id}"), buyer, None).await;
        if body["order"]["status"] == "PENDING_PAYMENT" {
            let sub = crate::cart::sub_of(buyer);
            aws_sdk_dynamodb::Client::new(&emulator_sdk(shop.coordinates["emulatorEndpoint"].as_str().unwrap()).await)
                .update_item()
                .table_name(shop.coordinates["tableName"].as_str().unwrap())
                .key("pk", AttributeValue::S(format!("user#{sub}")))
                .key("sk", AttributeValue::S(format!("order#{order_id}")))
                .update_expression("SET expiresAt = :t")
                .expression_attribute_values(":t", AttributeValue::N((now() - 1).to_string()))
                .send()
                .await
                .unwrap();
        }
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let mut statuses = Vec::new();
        for (buyer, order_id) in &orders {
            let (_, body) = shop.send(reqwest::Method::GET, &format!("/orders/{order_id}"), buyer, None).await;
            statuses.push(body["order"]["status"].as_str().unwrap_or_default().to_owned());
        }
        if statuses.iter().all(|s| s != "PENDING_PAYMENT") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "orders still awaiting payment: {statuses:?}");
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    sale_over.store(true, Ordering::SeqCst);
    let runs = repairs.await.unwrap();
    assert!(runs >= 2, "the repair ran through the sale ({runs} runs)");

    // Every order ended; nothing oversold; after one quiet repair, no drift at all.
    reconcile(&shop.store, now(), true).await.unwrap();
    let final_report = reconcile(&shop.store, now(), false).await.unwrap();
    let drift: Vec<_> = final_report.drift.iter().filter(|d| d.product_id == product).collect();
    assert!(drift.is_empty(), "{drift:?}");
    let stock = shop.stock(&product).await;
    assert_eq!(stock.sold, paid, "{stock:?}: every payment sold one unit ({} orders)", orders.len());
    assert!(stock.sold <= 6, "oversold: {stock:?}");
    assert_eq!(stock, levels(6 - stock.sold, 0, stock.sold, 6));
}
