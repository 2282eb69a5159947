//! Reviews by verified buyers: who may write, edit and delete them, what
//! they show, and a rating summary that stays exact under concurrent
//! writes, retries and the reconciliation's checks.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::cart::sub_of;
use crate::support::*;

/// Buys one unit of `product` as `token`: add, check out, pay.
pub async fn buy(token: &str, product: &str) {
    assert_eq!(add_as(token, product, 1).await.status, StatusCode::OK);
    let checkout = checkout_as(token, None).await;
    assert_eq!(checkout.status, StatusCode::CREATED, "{:?}", checkout.body);
    let order = checkout.body["order"]["orderId"].as_str().unwrap().to_owned();
    let paid = pay(token, &order, "tok_visa").await;
    assert_eq!(paid.status, StatusCode::OK, "{:?}", paid.body);
}

fn reviews_path(product: &str) -> String {
    format!("/product/{product}/reviews")
}

async fn write(token: &str, product: &str, body: Value) -> Reply {
    call(Method::POST, &reviews_path(product)).token(token).json(body).send().await
}

async fn edit(token: &str, product: &str, review_id: &str, body: Value) -> Reply {
    call(Method::PUT, &format!("{}/{review_id}", reviews_path(product))).token(token).json(body).send().await
}

async fn remove(token: &str, product: &str, review_id: &str) -> Reply {
    call(Method::DELETE, &format!("{}/{review_id}", reviews_path(product))).token(token).send().await
}

/// The rating a product page shows.
async fn rating_of(product: &str) -> Value {
    let reply = call(Method::GET, &format!("/product/{product}")).send().await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.body["product"]["rating"].clone()
}

/// Every review of a product, page by page (as anyone reads them).
async fn all_reviews(product: &str) -> Vec<Value> {
    let mut found = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("{}?limit=3&cursor={c}", reviews_path(product)),
            None => format!("{}?limit=3", reviews_path(product)),
        };
        let page = call(Method::GET, &path).send().await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        found.extend(page.body["reviews"].as_array().unwrap().iter().cloned());
        match page.body["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return found,
        }
    }
}

/// The summary a scan of the reviews gives.
fn summary_of(reviews: &[Value]) -> (i64, [i64; 5]) {
    let mut histogram = [0; 5];
    for review in reviews {
        histogram[review["rating"].as_i64().unwrap() as usize - 1] += 1;
    }
    (histogram.iter().sum(), histogram)
}

fn histogram(rating: &Value) -> Vec<i64> {
    rating["histogram"].as_array().unwrap().iter().map(|c| c.as_i64().unwrap()).collect()
}

#[tokio::test]
async fn the_reviews_of_a_product_that_does_not_exist_are_not_found() {
    let missing = format!("no-such-{}", uuid::Uuid::new_v4().simple());
    let listed = call(Method::GET, &reviews_path(&missing)).send().await;
    assert_eq!(listed.status, StatusCode::NOT_FOUND, "{:?}", listed.body);
    assert_eq!(listed.body["message"], format!("product {missing} not found"));
    let shopper = new_user_token("reader").await;
    let written = write(&shopper, &missing, json!({ "rating": 5, "title": "Great" })).await;
    assert_eq!(written.status, StatusCode::NOT_FOUND, "{:?}", written.body);
    // A product with no review yet is found, with an empty page.
    let product = new_product(1, 100).await;
    let empty = call(Method::GET, &reviews_path(&product)).send().await;
    assert_eq!((empty.status, empty.body["reviews"].clone()), (StatusCode::OK, json!([])));
}

#[tokio::test]
async fn only_buyers_review_once_and_only_the_author_or_an_admin_changes_it() {
    let product = new_product(10, 250).await;
    let (buyer, stranger, admin) =
        (new_user_token("reviewer").await, new_user_token("stranger").await, admin_token().await);
    buy(&buyer, &product).await;

    let refused = write(&stranger, &product, json!({ "rating": 5, "title": "Great" })).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{:?}", refused.body);
    assert!(refused.body["message"].as_str().unwrap().contains("paid orders"), "{:?}", refused.body);
    let anonymous = call(Method::POST, &reviews_path(&product)).json(json!({ "rating": 5, "title": "x" })).send().await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    let standing = call(Method::GET, &reviews_path(&product)).token(&buyer).send().await;
    assert_eq!((standing.body["canReview"].clone(), standing.body.get("yourReview")), (json!(true), None));
    let stranger_standing = call(Method::GET, &reviews_path(&product)).token(&stranger).send().await;
    assert_eq!(stranger_standing.body["canReview"], false);

    let written = write(&buyer, &product, json!({ "rating": 4, "title": " Crisp ", "body": "Arrived fresh." })).await;
    assert_eq!(written.status, StatusCode::CREATED, "{:?}", written.body);
    let review = &written.body["review"];
    let review_id = review["reviewId"].as_str().unwrap().to_owned();
    assert_eq!(review["title"], "Crisp");
    assert_eq!(review["displayName"], "Anonymous");
    assert_eq!(review["verifiedPurchase"], true);
    // Nothing of the author's account: no sub, no email, anywhere in the answer.
    let text = written.body.to_string();
    assert!(!text.contains(&sub_of(&buyer)) && !text.contains("@example.com"), "{text}");

    let again = write(&buyer, &product, json!({ "rating": 1, "title": "Changed my mind" })).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{:?}", again.body);
    assert_eq!(again.body["reviewId"], review_id.as_str());
    let rating = rating_of(&product).await;
    assert_eq!((rating["average"].as_f64(), rating["count"].as_i64()), (Some(4.0), Some(1)));
    assert_eq!(histogram(&rating), [0, 0, 0, 1, 0]);

    // Someone else's review does not exist for them, admin or not (but for deleting).
    for token in [&stranger, &admin] {
        let hijack = edit(token, &product, &review_id, json!({ "rating": 1, "title": "Hijacked" })).await;
        assert_eq!(hijack.status, StatusCode::NOT_FOUND, "{:?}", hijack.body);
    }
    assert_eq!(remove(&stranger, &product, &review_id).await.status, StatusCode::NOT_FOUND);

    let edited =
        edit(&buyer, &product, &review_id, json!({ "rating": 2, "title": "Went stale", "displayName": "Kim" })).await;
    assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.body);
    assert_eq!(
        (edited.body["review"]["displayName"].clone(), edited.body["review"]["editedAt"].is_i64()),
        (json!("Kim"), true)
    );
    assert_eq!(histogram(&rating_of(&product).await), [0, 1, 0, 0, 0]);
    let listed = call(Method::GET, &reviews_path(&product)).token(&buyer).send().await;
    assert_eq!(listed.body["yourReview"]["reviewId"], review_id.as_str());
    assert_eq!(listed.body["canReview"], false, "one review each");

    // The product lists carry the rating too.
    let listing = call(Method::GET, "/product?category=test-goods&limit=100").send().await;
    let entry = listing.body["products"].as_array().unwrap().iter().find(|p| p["productId"] == product.as_str());
    if let Some(entry) = entry {
        assert_eq!(histogram(&entry["rating"]), [0, 1, 0, 0, 0]);
    }

    // Moderation: an admin deletes it, and it sticks: the author cannot post
    // the same review again at once, and the page no longer offers to.
    let deleted = remove(&admin, &product, &review_id).await;
    assert_eq!(deleted.status, StatusCode::OK, "{:?}", deleted.body);
    assert_eq!(remove(&buyer, &product, &review_id).await.status, StatusCode::NOT_FOUND);
    let rating = rating_of(&product).await;
    assert_eq!((rating["average"].clone(), rating["count"].clone()), (Value::Null, json!(0)));
    let again = write(&buyer, &product, json!({ "rating": 3, "title": "Second try" })).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{:?}", again.body);
    assert!(again.body["message"].as_str().unwrap().contains("a moderator removed your review"), "{:?}", again.body);
    let page = call(Method::GET, &format!("/product/{product}/reviews")).token(&buyer).send().await;
    assert_eq!(page.body["canReview"], false, "{:?}", page.body);
    assert_eq!(rating_of(&product).await["count"], 0);
}

#[tokio::test]
async fn an_author_who_deletes_their_own_review_may_write_again() {
    let product = new_product(10, 250).await;
    let buyer = new_user_token("second-thoughts").await;
    buy(&buyer, &product).await;
    let first = write(&buyer, &product, json!({ "rating": 2, "title": "First go" })).await;
    let review_id = first.body["review"]["reviewId"].as_str().unwrap().to_owned();
    assert_eq!(remove(&buyer, &product, &review_id).await.status, StatusCode::OK);
    let again = write(&buyer, &product, json!({ "rating": 4, "title": "Second go" })).await;
    assert_eq!(again.status, StatusCode::CREATED, "{:?}", again.body);
}

#[tokio::test]
async fn review_text_is_kept_as_given_and_bad_input_is_refused_writing_nothing() {
    let product = new_product(10, 250).await;
    let buyer = new_user_token("markup").await;
    buy(&buyer, &product).await;
    let long = |n: usize| "x".repeat(n);
    for (what, body) in [
        ("no rating", json!({ "title": "t" })),
        ("zero stars", json!({ "rating": 0, "title": "t" })),
        ("six stars", json!({ "rating": 6, "title": "t" })),
        ("half a star", json!({ "rating": 4.5, "title": "t" })),
        ("stars as text", json!({ "rating": "five", "title": "t" })),
        ("blank title", json!({ "rating": 3, "title": "   " })),
        ("long title", json!({ "rating": 3, "title": long(121) })),
        ("long body", json!({ "rating": 3, "title": "t", "body": long(4_001) })),
        ("an email as the name", json!({ "rating": 3, "title": "t", "displayName": "kim@example.com" })),
        ("a control character", json!({ "rating": 3, "title": "t\u{7}" })),
        ("an unknown field", json!({ "rating": 3, "title": "t", "verifiedPurchase": true })),
    ] {
        let refused = write(&buyer, &product, body).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{what}: {:?}", refused.body);
        assert!(refused.body["message"].is_string(), "{what}");
    }
    assert_eq!(all_reviews(&product).await.len(), 0, "nothing written");
    assert_eq!(rating_of(&product).await["count"], 0);
    let bad_id = call(Method::PUT, &format!("{}/not-a-uuid", reviews_path(&product)))
        .token(&buyer)
        .json(json!({ "rating": 3, "title": "t" }))
        .send()
        .await;
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST);

    // Markup is text: stored and answered exactly as written.
    let markup = r#"<script>alert(1)</script><img src=x onerror="alert(2)">"#;
    let at_the_limit = "é".repeat(120);
    let written = write(&buyer, &product, json!({ "rating": 5, "title": at_the_limit, "body": markup })).await;
    assert_eq!(written.status, StatusCode::CREATED, "{:?}", written.body);
    let listed = all_reviews(&product).await;
    assert_eq!((listed[0]["body"].as_str(), listed[0]["title"].as_str()), (Some(markup), Some(at_the_limit.as_str())));
}

#[tokio::test]
async fn reviews_page_newest_first_behind_checked_cursors() {
    let product = new_product(10, 250).await;
    let mut titles = Vec::new();
    for i in 0..4 {
        let buyer = new_user_token("pager").await;
        buy(&buyer, &product).await;
        let title = format!("review {i}");
        assert_eq!(
            write(&buyer, &product, json!({ "rating": 1 + i, "title": title })).await.status,
            StatusCode::CREATED
        );
        titles.push(title);
    }
    let listed: Vec<String> =
        all_reviews(&product).await.iter().map(|r| r["title"].as_str().unwrap().to_owned()).collect();
    titles.reverse();
    assert_eq!(listed, titles, "newest first, every review once across pages");

    // A cursor of another product's reviews, or a made-up one, is refused.
    let other = new_product(1, 100).await;
    let first = call(Method::GET, &format!("{}?limit=1", reviews_path(&product))).send().await;
    let cursor = first.body["nextCursor"].as_str().unwrap();
    let misused = call(Method::GET, &format!("{}?cursor={cursor}", reviews_path(&other))).send().await;
    assert_eq!(misused.status, StatusCode::BAD_REQUEST);
    let forged = call(Method::GET, &format!("{}?cursor=eyJwayI6InVzZXIjeCJ9", reviews_path(&product))).send().await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn concurrent_reviews_edits_retries_and_deletes_keep_the_summary_exact() {
    let product = new_product(20, 250).await;
    let mut buyers = Vec::new();
    for _ in 0..6 {
        let buyer = new_user_token("rush").await;
        buy(&buyer, &product).await;
        buyers.push(buyer);
    }
    // Each buyer's review sent twice at once (a double click): one is written.
    let posts = buyers.iter().enumerate().flat_map(|(i, token)| {
        let body = json!({ "rating": 1 + (i % 5), "title": format!("buyer {i}") });
        [write(token, &product, body.clone()), write(token, &product, body)]
    });
    let answers: Vec<StatusCode> = futures::future::join_all(posts).await.into_iter().map(|r| r.status).collect();
    assert_eq!(answers.iter().filter(|s| **s == StatusCode::CREATED).count(), buyers.len(), "{answers:?}");
    assert_eq!(answers.iter().filter(|s| **s == StatusCode::CONFLICT).count(), buyers.len(), "{answers:?}");

    // Then, all at once: every author edits twice, half of them also delete.
    let own_ids: Vec<String> = {
        let mut ids = Vec::new();
        for token in &buyers {
            let standing = call(Method::GET, &reviews_path(&product)).token(token).send().await;
            ids.push(standing.body["yourReview"]["reviewId"].as_str().unwrap().to_owned());
        }
        ids
    };
    let mut writes = Vec::new();
    for (i, (token, id)) in buyers.iter().zip(&own_ids).enumerate() {
        for stars in [5, 2] {
            writes.push(Box::pin(edit(token, &product, id, json!({ "rating": stars, "title": "edited" })))
                as std::pin::Pin<Box<dyn std::future::Future<Output = Reply>>>);
        }
        if i % 2 == 0 {
            writes.push(Box::pin(remove(token, &product, id)));
        }
    }
    for reply in futures::future::join_all(writes).await {
        // An edit that lands after its review was deleted finds nothing.
        assert!([StatusCode::OK, StatusCode::NOT_FOUND].contains(&reply.status), "{:?} {:?}", reply.status, reply.body);
    }
    let reviews = all_reviews(&product).await;
    assert_eq!(reviews.len(), buyers.len() / 2);
    let (count, scanned) = summary_of(&reviews);
    let rating = rating_of(&product).await;
    assert_eq!(
        (rating["count"].as_i64(), histogram(&rating)),
        (Some(count), scanned.to_vec()),
        "the summary is the scan"
    );
    let total: i64 = scanned.iter().zip(1..).map(|(n, stars)| n * stars).sum();
    assert_eq!(rating["average"].as_f64(), Some(total as f64 / count as f64));
    assert_eq!(crate::admin::reconcile(&product, false).0, Vec::<String>::new());
}

#[tokio::test]
async fn reconcile_backfills_purchase_marks_and_repairs_a_drifted_summary() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let product = new_product(10, 250).await;
    let buyer = new_user_token("backfill").await;
    buy(&buyer, &product).await;
    // The purchase mark is an item of its own per product, not one growing set.
    let db = dynamodb().await;
    let mark = db
        .get_item()
        .table_name(&stack().table)
        .key("pk", AttributeValue::S(format!("user#{}", sub_of(&buyer))))
        .key("sk", AttributeValue::S(format!("bought#{product}")))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    assert!(mark.item.is_some(), "paying put the mark bought#<product>");
    // As an order paid before reviews existed: no purchase mark.
    db.delete_item()
        .table_name(&stack().table)
        .key("pk", AttributeValue::S(format!("user#{}", sub_of(&buyer))))
        .key("sk", AttributeValue::S(format!("bought#{product}")))
        .send()
        .await
        .unwrap();
    let refused = write(&buyer, &product, json!({ "rating": 5, "title": "Lovely" })).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let (drift, _) = crate::admin::reconcile(&product, false);
    assert!(drift.iter().any(|d| d.contains("no purchase mark")), "{drift:?}");
    crate::admin::reconcile(&product, true);
    let written = write(&buyer, &product, json!({ "rating": 5, "title": "Lovely" })).await;
    assert_eq!(written.status, StatusCode::CREATED, "{:?}", written.body);

    // A summary that drifted (a lost write, a hand edit) is found and rewritten.
    db.update_item()
        .table_name(&stack().table)
        .key("pk", AttributeValue::S(format!("product#{product}")))
        .key("sk", AttributeValue::S("meta".into()))
        .update_expression("SET stars5 = :n, stars1 = :n")
        .expression_attribute_values(":n", AttributeValue::N("7".into()))
        .send()
        .await
        .unwrap();
    let (drift, _) = crate::admin::reconcile(&product, false);
    assert_eq!(drift, ["rating histogram [7, 0, 0, 0, 7] but its reviews give [0, 0, 0, 0, 1]"]);
    crate::admin::reconcile(&product, true);
    assert_eq!(crate::admin::reconcile(&product, false).0, Vec::<String>::new());
    assert_eq!(histogram(&rating_of(&product).await), [0, 0, 0, 0, 1]);
}
