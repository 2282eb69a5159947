use reqwest::{Method, StatusCode};

use crate::support::*;

#[tokio::test]
async fn the_catalog_is_seeded_data_in_several_categories() {
    let products = catalog().await;
    assert!(products.len() >= 40, "only {} products", products.len());
    let mut categories: Vec<&str> = products.iter().map(|p| p["category"].as_str().unwrap()).collect();
    categories.sort();
    categories.dedup();
    assert!(categories.len() >= 4, "categories: {categories:?}");
    for field in ["productId", "name", "description", "price", "category", "pictures", "package", "tags"] {
        assert!(products.iter().all(|p| !p[field].is_null()), "a product lacks {field}");
    }
}

#[tokio::test]
async fn a_product_is_served_by_id() {
    let products = catalog().await;
    let id = seeded_product_ids()[3].clone();
    let wanted = products.iter().find(|p| p["productId"] == id.as_str()).expect("a seeded product");
    let reply = call(Method::GET, &format!("/product/{id}")).send().await;
    assert_eq!(reply.status, StatusCode::OK);
    let served = reply.body["product"].as_object().unwrap();
    for (field, value) in wanted.as_object().unwrap() {
        assert_eq!(&served[field], value, "{field}");
    }
    // Live stock and units in other shoppers' carts come with the page.
    assert!(served["stock"]["available"].as_i64().unwrap() >= 20);
    assert!(served["inCarts"].as_i64().unwrap() >= 0);
}

#[tokio::test]
async fn an_unknown_product_is_404_and_a_malformed_id_is_400() {
    let reply = call(Method::GET, "/product/00000000-0000-0000-0000-000000000000").send().await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.body["message"].as_str().unwrap().contains("not found"));

    let too_long = "x".repeat(200);
    for bad in [too_long.as_str(), "a%23b", "%C3%A4"] {
        let reply = call(Method::GET, &format!("/product/{bad}")).send().await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(reply.body["message"].is_string());
    }
}

#[tokio::test]
async fn unknown_routes_answer_like_api_gateway() {
    let reply = call(Method::GET, "/nowhere").send().await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.body["message"], "Missing Authentication Token");
    let reply = call(Method::DELETE, "/cart").send().await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn cors_preflight_and_headers_allow_the_frontend_with_credentials() {
    let reply = call(Method::OPTIONS, "/cart").header("Origin", "http://localhost:8080").send().await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["access-control-allow-origin"], "http://localhost:8080");
    assert_eq!(reply.headers["access-control-allow-credentials"], "true");
    assert!(reply.headers["access-control-allow-headers"].to_str().unwrap().contains("Authorization"));
    let reply = call(Method::GET, "/product").send().await;
    assert_eq!(reply.headers["access-control-allow-origin"], "http://localhost:8080");
}

#[tokio::test]
async fn the_stack_serves_the_openapi_document() {
    let file = std::fs::read_to_string(workspace_root().join("openapi.yaml")).unwrap();
    let yaml = http().get(format!("{}/openapi.yaml", stack().api)).send().await.unwrap();
    assert_eq!(yaml.status(), StatusCode::OK);
    assert_eq!(yaml.text().await.unwrap(), file);
    let json: serde_json::Value =
        http().get(format!("{}/openapi.json", stack().api)).send().await.unwrap().json().await.unwrap();
    assert_eq!(json["openapi"], "3.0.3");
    assert_eq!(json["paths"].as_object().unwrap().len(), 20);
}

#[tokio::test]
async fn the_stack_counts_the_aws_calls_and_times_each_route() {
    assert_eq!(call(Method::GET, "/categories").send().await.status, StatusCode::OK);
    let counted = call(Method::GET, "/_local/aws-calls").send().await.body;
    let categories = &counted["routes"]["GET /categories"];
    assert!(categories["requests"].as_u64().unwrap() >= 1, "{counted}");
    assert_eq!(categories["most"], 1, "{counted}");
    assert_eq!(categories["costliest"], serde_json::json!(["DynamoDB.GetItem"]));
    assert_eq!(
        counted["functions"]["list-categories"]["permissions"],
        serde_json::json!([{ "action": "dynamodb:GetItem", "index": null }])
    );

    // Each request splits into our code and waiting on AWS: one GetItem is
    // some time on the wire, and never more than the handler took.
    let timings = call(Method::GET, "/_local/timings").send().await.body;
    let categories = &timings["GET /categories"];
    assert!(categories["requests"].as_u64().unwrap() >= 1, "{timings}");
    let (handler, waited) = (&categories["handlerUs"], &categories["awsWaitUs"]);
    assert!(waited["max"].as_u64().unwrap() > 0, "{categories}");
    assert!(waited["max"].as_u64().unwrap() <= handler["max"].as_u64().unwrap(), "{categories}");
    assert!((0.0..=1.0).contains(&categories["ownShare"].as_f64().unwrap()), "{categories}");
    // Our code splits in turn into the SDK's work on the GetItem and the rest.
    let (own, in_sdk) = (&categories["ownUs"], &categories["inSdkUs"]);
    assert!(in_sdk["max"].as_u64().unwrap() > 0, "{categories}");
    assert!(in_sdk["max"].as_u64().unwrap() <= own["max"].as_u64().unwrap(), "{categories}");
    assert!(categories["outsideSdkUs"]["p50"].is_u64(), "{categories}");
}
