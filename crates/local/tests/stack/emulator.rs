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

/// The wrapper answers an index query from the index's own partition, kept up
/// to date after every write: each kind of write must move items in and out.
#[tokio::test]
async fn an_index_query_sees_every_kind_of_write() {
    use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
    let db = dynamodb().await;
    let table = stack().table.clone();
    let run = uuid::Uuid::new_v4().simple().to_string();
    let (here, there) = (format!("probe-{}", &run[..12]), format!("probe-{}", &run[12..24]));
    let s = |v: &str| AttributeValue::S(v.to_owned());
    let pk = |i: u32| s(&format!("probe#{run}#{i}"));
    let item = |i: u32, category: &str| {
        Put::builder()
            .table_name(&table)
            .item("pk", pk(i))
            .item("sk", s("meta"))
            .item("category", s(category))
            .item("productId", s(&format!("p{i}")))
            .build()
            .unwrap()
    };
    let in_category = |category: String| {
        let db = db.clone();
        let table = table.clone();
        async move {
            let out = db
                .query()
                .table_name(&table)
                .index_name("category-index")
                .key_condition_expression("category = :c")
                .expression_attribute_values(":c", AttributeValue::S(category))
                .send()
                .await
                .unwrap();
            out.items().iter().map(|i| i["productId"].as_s().unwrap().clone()).collect::<Vec<_>>()
        }
    };
    for i in 0..4 {
        let put = item(i, &here);
        db.put_item().table_name(&table).set_item(Some(put.item().clone())).send().await.unwrap();
    }
    assert_eq!(in_category(here.clone()).await, ["p0", "p1", "p2", "p3"]);

    // An update moves p0 to the other partition; a delete and a batch delete remove p1 and p2.
    db.update_item()
        .table_name(&table)
        .key("pk", pk(0))
        .key("sk", s("meta"))
        .update_expression("SET category = :c")
        .expression_attribute_values(":c", s(&there))
        .send()
        .await
        .unwrap();
    db.delete_item().table_name(&table).key("pk", pk(1)).key("sk", s("meta")).send().await.unwrap();
    let delete = DeleteRequest::builder().key("pk", pk(2)).key("sk", s("meta")).build().unwrap();
    db.batch_write_item()
        .request_items(&table, vec![WriteRequest::builder().delete_request(delete).build()])
        .send()
        .await
        .unwrap();
    assert_eq!(in_category(here.clone()).await, ["p3"]);
    assert_eq!(in_category(there.clone()).await, ["p0"]);

    // A committed transaction adds p4; a cancelled one (its condition fails) adds nothing.
    db.transact_write_items()
        .transact_items(TransactWriteItem::builder().put(item(4, &here)).build())
        .send()
        .await
        .unwrap();
    let fails = Update::builder()
        .table_name(&table)
        .key("pk", pk(3))
        .key("sk", s("meta"))
        .update_expression("SET category = :c")
        .condition_expression("attribute_not_exists(pk)")
        .expression_attribute_values(":c", s(&there))
        .build()
        .unwrap();
    let cancelled = db
        .transact_write_items()
        .transact_items(TransactWriteItem::builder().put(item(5, &here)).build())
        .transact_items(TransactWriteItem::builder().update(fails).build())
        .send()
        .await;
    assert!(cancelled.is_err(), "the condition fails");
    assert_eq!(in_category(here).await, ["p3", "p4"]);
    assert_eq!(in_category(there).await, ["p0"]);
}
