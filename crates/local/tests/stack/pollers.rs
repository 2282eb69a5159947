//! The local event source mappings honour the workers' partial-failure answers.

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

async fn sqs() -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(&shop_local::stack::emulator_sdk(&stack().emulator).await)
}

#[tokio::test]
async fn a_poison_stream_record_is_retried_then_parked_and_never_blocks_the_rest() {
    // A cart line the totals worker cannot read: it fails on every delivery.
    let poison_cart = format!("cart#{}", uuid::Uuid::new_v4());
    let product = product_for(41).await;
    dynamodb()
        .await
        .put_item()
        .table_name(&stack().table)
        .item("pk", AttributeValue::S(poison_cart.clone()))
        .item("sk", AttributeValue::S(format!("product#{product}")))
        .item("quantity", AttributeValue::S("many".into()))
        .send()
        .await
        .unwrap();

    // Records after it still reach the worker: this cart's total moves.
    let later = product.clone();
    let reply = call(Method::POST, "/cart").json(json!({ "productId": later, "quantity": 2 })).send().await;
    assert_eq!(reply.status, reqwest::StatusCode::OK);
    let admin = admin_token().await;
    let path = format!("/cart/{later}/total");
    eventually(
        "the total after a poison record",
        || call(Method::GET, &path).token(&admin).send(),
        |r| r.body["quantity"] == 2,
    )
    .await;

    // The poison record's batch went to the on-failure queue, with where to replay it from.
    let url = stack_queue_url("CartTotalsFailureQueue");
    let sqs = sqs().await;
    let message: Value = eventually(
        "an on-failure message",
        || async {
            let out = sqs.receive_message().queue_url(&url).max_number_of_messages(10).send().await.unwrap();
            out.messages
                .unwrap_or_default()
                .into_iter()
                .filter_map(|m| serde_json::from_str::<Value>(m.body.as_deref().unwrap_or("")).ok())
                .find(|b| b.to_string().contains(&poison_cart))
        },
        Option::is_some,
    )
    .await
    .unwrap();
    assert!(message["DDBStreamBatchInfo"]["startSequenceNumber"].is_string());
    assert_eq!(message["requestContext"]["condition"], "RetryAttemptsExhausted");
}

fn stack_queue_url(logical_id: &str) -> String {
    stack().queue_urls[logical_id].as_str().expect("queue url").to_owned()
}
