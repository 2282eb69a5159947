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

#[tokio::test]
async fn a_poison_cleanup_message_ends_in_the_dlq_as_sent_and_never_blocks_the_rest() {
    let sqs = sqs().await;
    let poison =
        json!({ "pk": "cart#not-a-cart-line", "sk": "meta", "version": 1, "tag": uuid::Uuid::new_v4() }).to_string();
    sqs.send_message().queue_url(stack_queue_url("CartCleanupQueue")).message_body(&poison).send().await.unwrap();

    // A migration after it still gets its lines cleaned up.
    let product = product_for(42).await;
    let cart = call(Method::POST, "/cart").json(json!({ "productId": product, "quantity": 1 })).send().await;
    let cart_id = cart_id_from(&cart);
    let token = new_user_token("poison").await;
    let migrated = call(Method::POST, "/cart/migrate").cookie(&cart_id).token(&token).send().await;
    assert_eq!(migrated.status, reqwest::StatusCode::OK);
    let anonymous = format!("cart#{cart_id}");
    eventually("the migrated line deleted", || items_under(&anonymous), |n| *n == 0).await;

    // After maxReceiveCount failed receipts the message is in the DLQ, unchanged: replayable.
    let dlq = stack_queue_url("CartCleanupDeadLetterQueue");
    let parked = eventually(
        "the poison message in the DLQ",
        || async {
            let out = sqs.receive_message().queue_url(&dlq).max_number_of_messages(10).send().await.unwrap();
            out.messages.unwrap_or_default().into_iter().find(|m| m.body.as_deref() == Some(poison.as_str()))
        },
        Option::is_some,
    )
    .await;
    assert!(parked.is_some());
}
