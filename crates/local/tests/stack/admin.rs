//! The admin's catalog: create, edit, restock; categories and paging.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::*;

#[tokio::test]
async fn admins_create_and_edit_products_and_others_cannot() {
    let admin = admin_token().await;
    let customer = customer_token().await;
    let body = json!({ "name": "gift box", "category": "gifts", "price": 1999, "initialStock": 7, "tags": ["new"] });
    assert_eq!(
        call(Method::POST, "/product").token(&customer).json(body.clone()).send().await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(call(Method::POST, "/product").json(body.clone()).send().await.status, StatusCode::UNAUTHORIZED);

    let created = call(Method::POST, "/product").token(&admin).json(body).send().await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let id = created.body["product"]["productId"].as_str().unwrap().to_owned();
    let page = call(Method::GET, &format!("/product/{id}")).send().await;
    assert_eq!(page.body["product"]["name"], "gift box");
    assert_eq!(page.body["product"]["stock"], json!({ "available": 7 }), "a shopper sees what can be bought");
    let as_customer = call(Method::GET, &format!("/product/{id}")).token(&customer).send().await;
    assert_eq!(as_customer.body["product"]["stock"], json!({ "available": 7 }));
    let as_admin = call(Method::GET, &format!("/product/{id}")).token(&admin).send().await;
    assert_eq!(
        as_admin.body["product"]["stock"],
        json!({ "available": 7, "reserved": 0, "sold": 0, "added": 7 }),
        "an admin sees every counter"
    );
    let categories = call(Method::GET, "/categories").send().await;
    assert!(categories.body["categories"].as_array().unwrap().contains(&json!("gifts")));

    let path = format!("/product/{id}");
    let edited = call(Method::PUT, &path).token(&admin).json(json!({ "price": 1499 })).send().await;
    assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.body);
    assert_eq!(call(Method::GET, &path).send().await.body["product"]["price"], 1499);
    assert_eq!(
        call(Method::PUT, &path).token(&customer).json(json!({ "price": 1 })).send().await.status,
        StatusCode::FORBIDDEN
    );

    let duplicate = json!({ "productId": id, "name": "again", "category": "gifts", "price": 5 });
    assert_eq!(call(Method::POST, "/product").token(&admin).json(duplicate).send().await.status, StatusCode::CONFLICT);
    for bad in [
        json!({ "name": "", "category": "gifts", "price": 5 }),
        json!({ "name": "x", "category": "Not A Slug", "price": 5 }),
        json!({ "name": "x", "category": "gifts", "price": 0 }),
        json!({ "name": "x", "category": "gifts", "price": -5 }),
        json!({ "name": "x", "category": "gifts", "price": 5, "initialStock": -1 }),
        json!({ "name": "x", "category": "gifts", "price": 5, "color": "red" }),
        json!({ "name": "x", "category": "gifts" }),
    ] {
        let reply = call(Method::POST, "/product").token(&admin).json(bad.clone()).send().await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}: {:?}", reply.body);
    }
    let unknown = call(Method::PUT, "/product/no-such-product").token(&admin).json(json!({ "price": 5 })).send().await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn restocking_moves_available_and_never_below_zero() {
    let admin = admin_token().await;
    let product = new_product(5, 100).await;
    let path = format!("/product/{product}/stock");
    let reply = call(Method::POST, &path).token(&admin).json(json!({ "delta": 10 })).send().await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["stock"], json!({ "available": 15, "reserved": 0, "sold": 0, "added": 15 }));
    let reply = call(Method::POST, &path).token(&admin).json(json!({ "delta": -4 })).send().await;
    assert_eq!(reply.body["stock"]["available"], 11);
    let reply = call(Method::POST, &path).token(&admin).json(json!({ "delta": -12 })).send().await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.body["available"], 11);
    for bad in [json!({ "delta": 0 }), json!({ "delta": 1.5 }), json!({ "delta": "5" }), json!({})] {
        assert_eq!(call(Method::POST, &path).token(&admin).json(bad).send().await.status, StatusCode::BAD_REQUEST);
    }
    let customer = customer_token().await;
    assert_eq!(
        call(Method::POST, &path).token(&customer).json(json!({ "delta": 1 })).send().await.status,
        StatusCode::FORBIDDEN
    );
    let missing =
        call(Method::POST, "/product/no-such-product/stock").token(&admin).json(json!({ "delta": 1 })).send().await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(stock_of(&product).await, (11, 0, 0, 11));

    // A retried restock with the same Idempotency-Key adds once.
    let key = uuid::Uuid::new_v4().to_string();
    for replayed in [false, true] {
        let reply = call(Method::POST, &path)
            .token(&admin)
            .header("Idempotency-Key", &key)
            .json(json!({ "delta": 4 }))
            .send()
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        assert_eq!(reply.body["replayed"], replayed);
        assert_eq!(reply.body["stock"]["available"], 15);
    }
    // The same key with another delta is another request: refused, nothing changed.
    let reused = call(Method::POST, &path)
        .token(&admin)
        .header("Idempotency-Key", &key)
        .json(json!({ "delta": 9 }))
        .send()
        .await;
    assert_eq!(reused.status, StatusCode::CONFLICT, "{:?}", reused.body);
    assert!(reused.body["message"].as_str().unwrap().contains("different request"), "{:?}", reused.body);
    assert_eq!(stock_of(&product).await, (15, 0, 0, 15));
    let reply = call(Method::POST, &path).token(&admin).json(json!({ "delta": -4 })).send().await;
    assert_eq!(reply.body["stock"]["available"], 11);

    // Concurrent removals never take more than there is.
    let takes = futures::future::join_all(
        (0..6).map(|_| call(Method::POST, &path).token(&admin).json(json!({ "delta": -3 })).send()),
    )
    .await;
    let taken = takes.iter().filter(|r| r.status == StatusCode::OK).count() as i64;
    assert_eq!(taken, 3, "11 units allow three removals of 3");
    assert_eq!(stock_of(&product).await, (2, 0, 0, 2));
}

#[tokio::test]
async fn a_category_pages_with_a_stable_cursor() {
    let all = catalog().await;
    let sweet: Vec<String> =
        all.iter().filter(|p| p["category"] == "sweet").map(|p| p["productId"].as_str().unwrap().to_owned()).collect();
    assert!(sweet.len() >= 5);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/product?category=sweet&limit=3&cursor={c}"),
            None => "/product?category=sweet&limit=3".to_owned(),
        };
        let page = call(Method::GET, &path).send().await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        let products = page.body["products"].as_array().unwrap();
        assert!(products.len() <= 3);
        assert!(products.iter().all(|p| p["category"] == "sweet"));
        seen.extend(products.iter().map(|p| p["productId"].as_str().unwrap().to_owned()));
        pages += 1;
        match page.body["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(pages < 10);
    }
    let mut expected = sweet.clone();
    expected.sort();
    assert_eq!(seen, expected, "every product of the category once, in order");

    // When the last page is full, it still carries no cursor.
    let half = call(Method::GET, &format!("/product?category=sweet&limit={}", sweet.len() / 2)).send().await;
    let c = half.body["nextCursor"].as_str().expect("a first page of two").to_owned();
    let rest = call(Method::GET, &format!("/product?category=sweet&limit={}&cursor={c}", sweet.len() / 2)).send().await;
    assert_eq!(rest.body["products"].as_array().unwrap().len(), sweet.len() / 2);
    assert!(rest.body.get("nextCursor").is_none(), "{:?}", rest.body);

    // A cursor is checked: garbage, another category's, a bad limit.
    let first = call(Method::GET, "/product?category=sweet&limit=2").send().await;
    let c = first.body["nextCursor"].as_str().unwrap();
    let other = call(Method::GET, &format!("/product?category=salty&limit=2&cursor={c}")).send().await;
    assert_eq!(other.status, StatusCode::BAD_REQUEST);
    for bad in
        ["/product?category=sweet&cursor=abc", "/product?limit=0", "/product?limit=x", "/product?category=Bad%20One"]
    {
        let reply = call(Method::GET, bad).send().await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(reply.body["message"].is_string());
    }
}

/// The reconcile command's findings for one product (the shared table may
/// hold other tests' totals in flight).
pub fn reconcile(product: &str, repair: bool) -> (Vec<String>, Value) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_reconcile"));
    command.env("SHOP_STACK_FILE", &stack().file).arg("--json");
    if repair {
        command.arg("--repair");
    }
    let out = command.output().expect("reconcile");
    assert!(out.status.code().is_some_and(|c| c < 2), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).expect("report json");
    let drift = report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["productId"] == product)
        .map(|d| d["problem"].as_str().unwrap().to_owned())
        .collect();
    (drift, report)
}

#[tokio::test]
async fn reconcile_reports_drifted_totals_and_stock_and_repairs_them() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let product = new_product(5, 100).await;
    let cart = call(Method::POST, "/cart").json(json!({ "productId": product, "quantity": 2 })).send().await;
    assert_eq!(cart.status, StatusCode::OK);
    let admin = admin_token().await;
    let total_path = format!("/cart/{product}/total");
    let total = || async { call(Method::GET, &total_path).token(&admin).send().await.body["quantity"].clone() };
    eventually("the cart total", total, |q| *q == 2).await;
    assert_eq!(reconcile(&product, false).0, Vec::<String>::new());

    // Drift as a lost or doubled write would leave it.
    let db = dynamodb().await;
    let set = |sk: &'static str, field: &'static str, value: i64| {
        db.update_item()
            .table_name(&stack().table)
            .key("pk", AttributeValue::S(format!("product#{product}")))
            .key("sk", AttributeValue::S(sk.into()))
            .update_expression("SET #f = :v")
            .expression_attribute_names("#f", field)
            .expression_attribute_values(":v", AttributeValue::N(value.to_string()))
            .send()
    };
    set("stock", "available", 9).await.unwrap();
    set("totalquantity", "quantity", 7).await.unwrap();
    let (drift, _) = reconcile(&product, false);
    assert!(drift.contains(&"cart total 7 but live cart lines hold 2".to_owned()), "{drift:?}");
    assert!(drift.iter().any(|d| d.contains("available 9 + reserved 0 + sold 0 != added 5")), "{drift:?}");

    let (_, report) = reconcile(&product, true);
    // The table is shared: another test's repairing run may have mended this
    // product first (then this run found nothing to repair). Either way it is mended.
    let repaired_here = report["repaired"].as_array().unwrap().iter().any(|p| p == product.as_str());
    assert!(repaired_here || report["drift"].as_array().unwrap().iter().all(|d| d["productId"] != product.as_str()));
    assert_eq!(reconcile(&product, false).0, Vec::<String>::new());
    assert_eq!(total().await, 2);
    assert_eq!(stock_of(&product).await, (5, 0, 0, 5));
    // The stream keeps counting on top of the repaired total.
    let more = call(Method::POST, "/cart").json(json!({ "productId": product, "quantity": 1 })).send().await;
    assert_eq!(more.status, StatusCode::OK);
    eventually("the cart total after a repair", total, |q| *q == 3).await;
}

#[tokio::test]
async fn reconcile_repairs_a_drifted_count_of_orders_awaiting_payment() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let product = new_product(5, 100).await;
    let buyer = new_user_token("pending-count").await;
    assert_eq!(add_as(&buyer, &product, 1).await.status, StatusCode::OK);
    assert_eq!(checkout_as(&buyer, None).await.status, StatusCode::CREATED);
    let sub = crate::cart::sub_of(&buyer);
    // As a lost write would leave it: the cap would refuse this user's next checkout.
    let counter = || dynamodb_key(&format!("user#{sub}"), "pending");
    let db = dynamodb().await;
    db.update_item()
        .table_name(&stack().table)
        .set_key(Some(counter()))
        .update_expression("SET orders = :n")
        .expression_attribute_values(":n", AttributeValue::N("5".into()))
        .send()
        .await
        .unwrap();
    let (_, report) = reconcile(&product, false);
    let expected = format!("user {sub} counted with 5 orders awaiting payment but has 1");
    assert!(report["drift"].as_array().unwrap().iter().any(|d| d["problem"] == expected.as_str()), "{report}");
    let (_, report) = reconcile(&product, true);
    assert!(report["repaired"].as_array().unwrap().iter().any(|r| r == format!("user#{sub}").as_str()), "{report}");
    let stored = db.get_item().table_name(&stack().table).set_key(Some(counter())).consistent_read(true).send().await;
    assert_eq!(stored.unwrap().item.unwrap()["orders"].as_n().unwrap(), "1");
}

#[tokio::test]
async fn an_order_from_before_the_pending_cap_never_takes_the_count_below_zero() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let product = new_product(5, 100).await;
    let buyer = new_user_token("before-cap").await;
    assert_eq!(add_as(&buyer, &product, 1).await.status, StatusCode::OK);
    let checkout = checkout_as(&buyer, None).await;
    let order_id = checkout.body["order"]["orderId"].as_str().unwrap().to_owned();
    let sub = crate::cart::sub_of(&buyer);
    // As an order made before the cap existed: it never added one to the count.
    let db = dynamodb().await;
    db.update_item()
        .table_name(&stack().table)
        .set_key(Some(dynamodb_key(&format!("user#{sub}"), &format!("order#{order_id}"))))
        .update_expression("REMOVE countsPending")
        .send()
        .await
        .unwrap();
    db.update_item()
        .table_name(&stack().table)
        .set_key(Some(dynamodb_key(&format!("user#{sub}"), "pending")))
        .update_expression("SET orders = :zero REMOVE #held")
        .expression_attribute_names("#held", format!("held#{product}"))
        .expression_attribute_values(":zero", AttributeValue::N("0".into()))
        .send()
        .await
        .unwrap();
    let cancelled = call(Method::POST, &format!("/orders/{order_id}/cancel")).token(&buyer).send().await;
    assert_eq!(cancelled.status, StatusCode::OK, "{:?}", cancelled.body);
    let stored = stored_item(&format!("user#{sub}"), "pending").await.unwrap();
    assert_eq!(stored["orders"].as_n().unwrap(), "0", "not -1: the cap stays whole");
    let (_, report) = reconcile(&product, false);
    assert!(
        !report["drift"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["kind"] == "pendingCount" && d["problem"].as_str().unwrap().contains(sub.as_str())),
        "{report}"
    );
}

#[tokio::test]
async fn reconcile_finds_an_unrefunded_charge_of_an_ended_order_and_the_sweeper_refunds_it() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let product = new_product(5, 100).await;
    let buyer = new_user_token("charged").await;
    assert_eq!(add_as(&buyer, &product, 1).await.status, StatusCode::OK);
    let order_id = checkout_as(&buyer, None).await.body["order"]["orderId"].as_str().unwrap().to_owned();
    assert_eq!(pay(&buyer, &order_id, "tok_visa").await.status, StatusCode::OK);
    // As a lost race left it before refunds were recorded: the order ended, its charge kept.
    let sub = crate::cart::sub_of(&buyer);
    let db = dynamodb().await;
    db.update_item()
        .table_name(&stack().table)
        .set_key(Some(dynamodb_key(&format!("user#{sub}"), &format!("order#{order_id}"))))
        .update_expression("SET #s = :cancelled")
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":cancelled", AttributeValue::S("CANCELLED".into()))
        .send()
        .await
        .unwrap();
    let charge_problem = |report: &Value| {
        report["drift"].as_array().unwrap().iter().any(|d| {
            d["kind"] == "charge" && d["problem"].as_str().unwrap().contains(&format!("order {order_id} is CANCELLED"))
        })
    };
    let (_, report) = reconcile(&product, false);
    assert!(charge_problem(&report), "{report}");
    reconcile(&product, true);
    // The repair records the refund as due; the sweeper (every second here) refunds it.
    let refunded = || async {
        let item = stored_item(&format!("charge#{order_id}"), "charge").await.unwrap();
        item.get("refunded").and_then(|v| v.as_bool().ok()).copied().unwrap_or(false)
    };
    eventually("the charge refunded", refunded, |r| *r).await;
    let order = order_of(&buyer, &order_id).await;
    assert_eq!(order.body["order"]["status"], "CANCELLED");
    let (_, report) = reconcile(&product, false);
    assert!(!charge_problem(&report), "{report}");
}

fn dynamodb_key(pk: &str, sk: &str) -> std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
    use aws_sdk_dynamodb::types::AttributeValue;
    std::collections::HashMap::from([
        ("pk".to_owned(), AttributeValue::S(pk.to_owned())),
        ("sk".to_owned(), AttributeValue::S(sk.to_owned())),
    ])
}

#[tokio::test]
async fn reconcile_repairs_a_drifted_count_of_units_held() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let product = new_product(20, 100).await;
    let buyer = new_user_token("held-count").await;
    assert_eq!(add_as(&buyer, &product, 3).await.status, StatusCode::OK);
    assert_eq!(checkout_as(&buyer, None).await.status, StatusCode::CREATED);
    let sub = crate::cart::sub_of(&buyer);
    // As a lost write would leave it: the cap would refuse this buyer too early.
    let db = dynamodb().await;
    db.update_item()
        .table_name(&stack().table)
        .set_key(Some(dynamodb_key(&format!("user#{sub}"), "pending")))
        .update_expression("SET #held = :n")
        .expression_attribute_names("#held", format!("held#{product}"))
        .expression_attribute_values(":n", AttributeValue::N("9".into()))
        .send()
        .await
        .unwrap();
    let expected = format!("user {sub} counted as holding 9 units but their orders hold 3");
    let (drift, _) = reconcile(&product, false);
    assert!(drift.contains(&expected), "{drift:?}");
    let (_, report) = reconcile(&product, true);
    assert!(report["repaired"].as_array().unwrap().iter().any(|r| r == format!("user#{sub}").as_str()), "{report}");
    let stored = stored_item(&format!("user#{sub}"), "pending").await.unwrap();
    assert_eq!(stored[&format!("held#{product}")].as_n().unwrap(), "3");
}
