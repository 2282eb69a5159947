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

    // The poison record's batch went to the on-failure queue as AWS sends it:
    // where the records are, not the records. Reading the stream by that
    // shard and sequence range finds the poison record (the replay path).
    let url = stack_queue_url("CartTotalsFailureQueue");
    let sqs = sqs().await;
    let streams = aws_sdk_dynamodbstreams::Client::new(&shop_local::stack::emulator_sdk(&stack().emulator).await);
    let mut seen: Vec<Value> = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let message = 'found: loop {
        let out = sqs.receive_message().queue_url(&url).max_number_of_messages(10).send().await.unwrap();
        seen.extend(
            out.messages
                .unwrap_or_default()
                .into_iter()
                .filter_map(|m| serde_json::from_str::<Value>(m.body.as_deref().unwrap_or("")).ok()),
        );
        for message in &seen {
            if holds_record_of(&streams, &message["DDBStreamBatchInfo"], &poison_cart).await {
                break 'found Some(message.clone());
            }
        }
        assert!(std::time::Instant::now() < deadline, "no on-failure message names the poison record: {seen:?}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let message = message.unwrap();
    assert_eq!(message["requestContext"]["condition"], "RetryAttemptsExhausted");
    assert!(message.get("records").is_none() && !message.to_string().contains(&poison_cart), "metadata only");
}

/// Whether the stream, read by a failure message's shard and sequence range,
/// holds a record of the cart `pk`.
async fn holds_record_of(streams: &aws_sdk_dynamodbstreams::Client, info: &Value, pk: &str) -> bool {
    use aws_sdk_dynamodbstreams::types::ShardIteratorType;
    let (Some(shard), Some(start), Some(end)) =
        (info["shardId"].as_str(), info["startSequenceNumber"].as_str(), info["endSequenceNumber"].as_str())
    else {
        return false;
    };
    let Ok(iterator) = streams
        .get_shard_iterator()
        .stream_arn(info["streamArn"].as_str().unwrap_or_default())
        .shard_id(shard)
        .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
        .sequence_number(start)
        .send()
        .await
    else {
        return false;
    };
    let Ok(out) = streams.get_records().set_shard_iterator(iterator.shard_iterator).limit(1000).send().await else {
        return false;
    };
    let end: u128 = end.parse().unwrap_or(0);
    out.records.unwrap_or_default().iter().filter_map(|r| r.dynamodb.as_ref()).any(|r| {
        let in_range = r.sequence_number.as_deref().and_then(|s| s.parse::<u128>().ok()).is_some_and(|s| s <= end);
        let key = r.keys.as_ref().and_then(|k| k.get("pk")).and_then(|v| v.as_s().ok());
        in_range && key.is_some_and(|k| k == pk)
    })
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
