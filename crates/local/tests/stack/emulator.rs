//! The emulator wrapper behaves as DynamoDB does where moto does not.

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};

use crate::support::*;

#[tokio::test]
async fn reserved_words_and_unused_placeholders_are_refused_as_dynamodb_does() {
    let db = dynamodb().await;
    let bare = db
        .query()
        .table_name(&stack().table)
        .index_name("catalog-index")
        .key_condition_expression("catalog = :c")
        .expression_attribute_values(":c", AttributeValue::S("product".into()))
        .send()
        .await;
    let message = format!("{:?}", bare.expect_err("a bare reserved word"));
    assert!(message.contains("reserved keyword: catalog"), "{message}");
    let unused = db
        .get_item()
        .table_name(&stack().table)
        .key("pk", AttributeValue::S("x".into()))
        .key("sk", AttributeValue::S("y".into()))
        .projection_expression("pk")
        .expression_attribute_names("#unused", "sk")
        .send()
        .await;
    assert!(format!("{:?}", unused.expect_err("an unused name")).contains("unused"));
}

#[tokio::test]
async fn a_cancelled_transaction_leaves_nothing_behind() {
    let db = dynamodb().await;
    let pk = format!("probe#{}", uuid::Uuid::new_v4());
    let table = stack().table.clone();
    let put = Put::builder()
        .table_name(&table)
        .item("pk", AttributeValue::S(pk.clone()))
        .item("sk", AttributeValue::S("new".into()))
        .build()
        .unwrap();
    let existing = |sk: &str| {
        db.put_item()
            .table_name(&table)
            .item("pk", AttributeValue::S(pk.clone()))
            .item("sk", AttributeValue::S(sk.into()))
            .item("n", AttributeValue::N("1".into()))
    };
    existing("kept").send().await.unwrap();
    let bump = Update::builder()
        .table_name(&table)
        .key("pk", AttributeValue::S(pk.clone()))
        .key("sk", AttributeValue::S("kept".into()))
        .update_expression("SET n = n + :one")
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .build()
        .unwrap();
    let failing = Update::builder()
        .table_name(&table)
        .key("pk", AttributeValue::S(pk.clone()))
        .key("sk", AttributeValue::S("missing".into()))
        .update_expression("SET n = :one")
        .condition_expression("attribute_exists(pk)")
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .build()
        .unwrap();
    let result = db
        .transact_write_items()
        .transact_items(TransactWriteItem::builder().put(put).build())
        .transact_items(TransactWriteItem::builder().update(bump).build())
        .transact_items(TransactWriteItem::builder().update(failing).build())
        .send()
        .await;
    assert!(result.is_err(), "the condition fails, so the transaction is cancelled");
    assert_eq!(items_under(&pk).await, 1, "the put was rolled back");
    let kept = db
        .get_item()
        .table_name(&table)
        .key("pk", AttributeValue::S(pk.clone()))
        .key("sk", AttributeValue::S("kept".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(kept["n"], AttributeValue::N("1".into()), "the update was rolled back");
}
