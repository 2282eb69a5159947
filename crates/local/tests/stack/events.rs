//! Every file in `events/` invoked through its function with the local
//! Invoke API, as `sam local invoke -e` or `cargo lambda invoke` would.

use serde_json::{json, Value};

use crate::support::*;

async fn invoke(function: &str, event: &Value) -> (reqwest::StatusCode, Option<String>, Value) {
    let response = http()
        .post(format!("{}/2015-03-31/functions/{function}/invocations", stack().invoke))
        .json(event)
        .send()
        .await
        .expect("invoke");
    let status = response.status();
    let error = response.headers().get("x-amz-function-error").map(|v| v.to_str().unwrap().to_owned());
    (status, error, response.json().await.expect("json"))
}

fn event_file(name: &str) -> Value {
    let path = workspace_root().join("events").join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("event file")).expect("event json")
}

fn body_of(result: &Value) -> Value {
    serde_json::from_str(result["body"].as_str().expect("body")).expect("json body")
}

#[tokio::test]
async fn every_event_file_runs_through_its_function() {
    let mut names: Vec<String> = std::fs::read_dir(workspace_root().join("events"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().trim_end_matches(".json").to_owned())
        .collect();
    names.sort();
    let template = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
    let functions = template.matches("Type: AWS::Serverless::Function").count();
    assert_eq!(names.len(), functions, "one event per function: {names:?}");
    for name in names {
        // Functions are invoked by logical id, as `sam local invoke` does;
        // the binary name works too.
        let (status, error, result) = invoke(&name, &event_file(&name)).await;
        assert_eq!(status, 200, "{name}");
        assert_eq!(error, None, "{name}: {result}");
        match name.as_str() {
            "list-products" => {
                assert_eq!(result["statusCode"], 200);
                assert!(body_of(&result)["products"].as_array().unwrap().len() >= 40);
            }
            "get-product" => {
                assert_eq!(result["statusCode"], 200);
                assert_eq!(body_of(&result)["product"]["productId"], EVENTS_PRODUCT);
            }
            "get-cart" => assert_eq!(result["statusCode"], 200),
            "add-to-cart" => {
                assert_eq!(result["statusCode"], 200, "{result}");
                assert_eq!(body_of(&result)["productId"], EVENTS_PRODUCT);
            }
            "update-cart-line" => {
                assert_eq!(result["statusCode"], 200, "{result}");
                assert_eq!(body_of(&result)["quantity"], 1);
            }
            "list-categories" => assert!(body_of(&result)["categories"].as_array().unwrap().len() >= 4),
            "list-bestsellers" => assert!(body_of(&result)["products"].is_array()),
            "list-reviews" => {
                assert_eq!(result["statusCode"], 200, "{result}");
                assert!(body_of(&result)["reviews"].is_array());
                assert_eq!(body_of(&result)["canReview"], false);
            }
            // The files carry a placeholder token: the function refuses it.
            "migrate-cart" | "get-cart-total" | "create-product" | "update-product" | "restock-product"
            | "reshard-stock" | "checkout" | "list-orders" | "get-order" | "pay-order" | "start-payment"
            | "cancel-order" | "refund-order" | "create-review" | "update-review" | "delete-review" => {
                assert_eq!(result["statusCode"], 401, "{name}: {result}")
            }
            // The file's signature is a placeholder: the webhook refuses it.
            "stripe-webhook" => assert_eq!(result["statusCode"], 400, "{result}"),
            "order-expiry" => assert!(result["expired"].is_u64(), "{result}"),
            "cart-cleanup" | "cart-totals" => {
                assert_eq!(result, json!({ "batchItemFailures": [] }), "{name}")
            }
            other => panic!("no expectation for events/{other}.json"),
        }
    }
}

#[tokio::test]
async fn functions_are_found_by_logical_id_and_bad_events_are_function_errors() {
    let (status, error, result) = invoke("ListProductsFunction", &event_file("list-products")).await;
    assert_eq!((status.as_u16(), error), (200, None));
    assert_eq!(result["statusCode"], 200);

    let (status, _, _) = invoke("NoSuchFunction", &json!({})).await;
    assert_eq!(status, 404);

    let (status, error, result) = invoke("cart-cleanup", &json!({ "Records": "nope" })).await;
    assert_eq!(status, 200);
    assert_eq!(error.as_deref(), Some("Unhandled"));
    assert!(result["errorMessage"].is_string());
}

#[tokio::test]
async fn the_cleanup_worker_reports_only_the_messages_that_failed() {
    let mut event = event_file("cart-cleanup");
    let good = event["Records"][0].clone();
    let mut poison = good.clone();
    poison["messageId"] = json!("poison-1");
    poison["body"] = json!("{not json");
    let mut foreign = good.clone();
    foreign["messageId"] = json!("foreign-1");
    foreign["body"] = json!(json!({ "pk": "product#x", "sk": "meta", "version": 1 }).to_string());
    event["Records"] = json!([poison, good, foreign]);
    let (_, _, result) = invoke("cart-cleanup", &event).await;
    assert_eq!(
        result,
        json!({ "batchItemFailures": [{ "itemIdentifier": "poison-1" }, { "itemIdentifier": "foreign-1" }] })
    );
}

#[tokio::test]
async fn the_totals_worker_reports_its_first_bad_record_and_a_retry_from_it_applies_nothing_twice() {
    let mut event = event_file("cart-totals");
    let good = event["Records"][0].clone();
    let mut bad = good.clone();
    bad["dynamodb"]["SequenceNumber"] = json!("111100000000000000000002");
    bad["dynamodb"]["NewImage"]["quantity"] = json!({ "S": "lots" });
    // A line after the bad one, of a product nobody else counts.
    let product = format!("retried-{}", uuid::Uuid::new_v4().simple());
    let mut after = good.clone();
    after["dynamodb"]["SequenceNumber"] = json!("111100000000000000000003");
    after["dynamodb"]["Keys"]["sk"] = json!({ "S": format!("product#{product}") });
    after["dynamodb"]["NewImage"]["sk"] = json!({ "S": format!("product#{product}") });
    // Records of other items (products, totals) are not cart lines: skipped.
    let mut other = good.clone();
    other["dynamodb"]["Keys"] = json!({ "pk": { "S": "product#x" }, "sk": { "S": "meta" } });
    other["dynamodb"]["SequenceNumber"] = json!("111100000000000000000000");
    event["Records"] = json!([other, bad.clone(), after.clone()]);
    let failure = json!({ "batchItemFailures": [{ "itemIdentifier": "111100000000000000000002" }] });
    let (_, _, result) = invoke("cart-totals", &event).await;
    assert_eq!(result, failure);
    // Lambda retries from the reported record: the line after it counts once.
    event["Records"] = json!([bad, after]);
    let (_, _, result) = invoke("cart-totals", &event).await;
    assert_eq!(result, failure);
    let store = shop_local::stack::store_at(&stack().emulator, &stack().table, stack().index_partitions).await;
    let id = shop::domain::ProductId::parse(&product).unwrap();
    assert_eq!(store.cart_total(&id).await.unwrap(), 2);
}
