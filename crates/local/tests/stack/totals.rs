//! Per-product cart totals stay exact under the deliveries Lambda really makes:
//! a batch twice, a crash half-way through a batch, a batch split and retried,
//! a poison record retried and parked, stale batches redelivered late.
//!
//! Real stream records come from cart activity on a table of this test's own
//! (so the stack's own poller never sees them); each delivery pattern feeds
//! them to the totals worker over a fresh sink table, and every product's total
//! is then compared with the true sum over the source table's cart lines.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use serde_json::{json, Value};
use shop::outbound::dynamodb::items::CartLineImage;
use shop::outbound::dynamodb::Store;

use crate::support::*;

const PRODUCTS: [&str; 4] = ["totals-a", "totals-b", "totals-c", "totals-d"];

async fn new_table(tag: &str) -> (String, String) {
    let template = shop_local::template::Template::load(&workspace_root().join("template.yaml")).expect("template");
    let name = format!("totals-{tag}-{}", uuid::Uuid::new_v4().simple());
    shop_local::resources::create_table(&dynamodb().await, &template, &name).await.expect("table")
}

/// A small deterministic generator (xorshift), so a failure replays.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % sides
    }
}

/// Shoppers adding, changing, removing and migrating lines, written the ways
/// the shop writes them (puts, upserting updates, deletes, migration marks),
/// plus writes to other items and one line the worker cannot read until it
/// is overwritten.
async fn cart_activity(table: &str) -> String {
    let db = dynamodb().await;
    let carts: Vec<String> = (0..6)
        .map(|i| {
            if i % 2 == 0 {
                format!("cart#{}", uuid::Uuid::new_v4())
            } else {
                format!("user#{}", uuid::Uuid::new_v4())
            }
        })
        .collect();
    let expires = AttributeValue::N((now() + 86_400).to_string());
    let mut dice = Dice(0x5eed_cafe);
    let poison = (carts[0].clone(), format!("product#{}", PRODUCTS[3]));
    for step in 0..140u64 {
        let cart = carts[dice.roll(carts.len() as u64) as usize].clone();
        let product = format!("product#{}", PRODUCTS[dice.roll(PRODUCTS.len() as u64) as usize]);
        if (cart.as_str(), product.as_str()) == (poison.0.as_str(), poison.1.as_str()) && (60..100).contains(&step) {
            continue;
        }
        let quantity = AttributeValue::N((1 + dice.roll(5)).to_string());
        let version = AttributeValue::N(step.to_string());
        let key = |u: aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder| {
            u.table_name(table).key("pk", AttributeValue::S(cart.clone())).key("sk", AttributeValue::S(product.clone()))
        };
        match dice.roll(10) {
            0..=3 => {
                db.put_item()
                    .table_name(table)
                    .item("pk", AttributeValue::S(cart.clone()))
                    .item("sk", AttributeValue::S(product.clone()))
                    .item("quantity", quantity)
                    .item("expirationTime", expires.clone())
                    .item("version", version)
                    .send()
                    .await
                    .unwrap();
            }
            4..=6 => {
                key(db.update_item())
                    .update_expression("SET quantity = :q, expirationTime = :e, version = :v REMOVE migratedTo")
                    .expression_attribute_values(":q", quantity)
                    .expression_attribute_values(":e", expires.clone())
                    .expression_attribute_values(":v", version)
                    .send()
                    .await
                    .unwrap();
            }
            7 | 8 => {
                db.delete_item()
                    .table_name(table)
                    .key("pk", AttributeValue::S(cart.clone()))
                    .key("sk", AttributeValue::S(product.clone()))
                    .send()
                    .await
                    .unwrap();
            }
            _ => {
                // Migration marks a line moved; it stops counting.
                let _ = key(db.update_item())
                    .update_expression("SET migratedTo = :to")
                    .condition_expression("attribute_exists(pk)")
                    .expression_attribute_values(":to", AttributeValue::S(carts[1].clone()))
                    .send()
                    .await;
            }
        }
        if step % 17 == 0 {
            db.put_item()
                .table_name(table)
                .item("pk", AttributeValue::S(format!("product#{}", PRODUCTS[0])))
                .item("sk", AttributeValue::S("meta".into()))
                .item("name", AttributeValue::S(format!("edit {step}")))
                .send()
                .await
                .unwrap();
        }
        if step == 60 || step == 100 {
            let quantity = if step == 60 { AttributeValue::S("many".into()) } else { AttributeValue::N("2".into()) };
            db.put_item()
                .table_name(table)
                .item("pk", AttributeValue::S(poison.0.clone()))
                .item("sk", AttributeValue::S(poison.1.clone()))
                .item("quantity", quantity)
                .item("expirationTime", expires.clone())
                .send()
                .await
                .unwrap();
        }
    }
    format!("{}/{}", poison.0, poison.1)
}

async fn stream_records(stream_arn: &str) -> Vec<Value> {
    let streams = aws_sdk_dynamodbstreams::Client::new(&shop_local::stack::emulator_sdk(&stack().emulator).await);
    let description = streams.describe_stream().stream_arn(stream_arn).send().await.unwrap().stream_description;
    let shard = description.and_then(|d| d.shards).and_then(|s| s.into_iter().next()).and_then(|s| s.shard_id);
    let mut iterator = streams
        .get_shard_iterator()
        .stream_arn(stream_arn)
        .shard_id(shard.expect("shard"))
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap()
        .shard_iterator;
    let mut records = Vec::new();
    while let Some(it) = iterator.take() {
        let out = streams.get_records().shard_iterator(it).limit(1000).send().await.unwrap();
        let page = out.records.unwrap_or_default();
        if page.is_empty() {
            break;
        }
        records.extend(page.iter().map(|r| shop_local::pollers::stream_record(r, stream_arn)));
        iterator = out.next_shard_iterator;
    }
    records
}

/// What the carts in `table` truly hold, per product.
async fn true_totals(table: &str) -> BTreeMap<String, i64> {
    let items = dynamodb().await.scan().table_name(table).consistent_read(true).send().await.unwrap();
    let mut totals: BTreeMap<String, i64> = PRODUCTS.iter().map(|p| (p.to_string(), 0)).collect();
    for item in items.items.unwrap_or_default() {
        let Ok(line) = serde_dynamo::from_item::<_, CartLineImage>(item) else { continue };
        if let Some(product) = line.sk.strip_prefix("product#").filter(|_| !line.pk.starts_with("product#")) {
            *totals.entry(product.to_owned()).or_default() += line.state().counted_units();
        }
    }
    totals
}

async fn totals_in(store: &Store) -> BTreeMap<String, i64> {
    let mut totals = BTreeMap::new();
    for p in PRODUCTS {
        let id = shop::domain::ProductId::parse(p).unwrap();
        totals.insert(p.to_owned(), store.cart_total(&id).await.unwrap());
    }
    totals
}

/// One invocation of the worker; the batch position Lambda would resume from.
async fn deliver(store: &Store, batch: &[Value]) -> Option<usize> {
    let event = serde_json::from_value(json!({ "Records": batch })).expect("stream event");
    let response = shop::inbound::workers::apply_cart_totals(store, event, now()).await;
    let failed = response.batch_item_failures.first()?.item_identifier.clone()?;
    Some(batch.iter().position(|r| r["dynamodb"]["SequenceNumber"] == failed.as_str()).expect("reported record"))
}

/// Lambda's stream loop: batches of `size`, a reported failure retried from
/// that record, parked after `retries` attempts; `twice` delivers every batch
/// that succeeded a second time.
async fn lambda_loop(store: &Store, records: &[Value], size: usize, retries: usize, twice: bool) -> Vec<String> {
    let (mut position, mut attempts, mut parked) = (0, 0, Vec::new());
    while position < records.len() {
        let batch = &records[position..(position + size).min(records.len())];
        match deliver(store, batch).await {
            None => {
                if twice {
                    assert_eq!(deliver(store, batch).await, None);
                }
                position += batch.len();
                attempts = 0;
            }
            Some(failed) => {
                position += failed;
                attempts += 1;
                if attempts > retries {
                    let record = &records[position];
                    parked.push(format!(
                        "{}/{}",
                        record["dynamodb"]["Keys"]["pk"]["S"].as_str().unwrap(),
                        record["dynamodb"]["Keys"]["sk"]["S"].as_str().unwrap()
                    ));
                    position += 1;
                    attempts = 0;
                }
            }
        }
    }
    parked
}

#[tokio::test]
async fn cart_totals_stay_exact_under_redelivery_crashes_splits_and_poison() {
    let (source, stream_arn) = new_table("source").await;
    let poison = vec![cart_activity(&source).await];
    let records = stream_records(&stream_arn).await;
    assert!(records.len() > 100, "{} records", records.len());
    let truth = true_totals(&source).await;
    assert!(truth.values().any(|t| *t > 0), "{truth:?}");

    let sink = |tag: &'static str| async move {
        let (table, _) = new_table(tag).await;
        shop_local::stack::store_at(&stack().emulator, &table, stack().index_partitions).await
    };

    // Every batch delivered twice, then the first batches again, late.
    let twice = sink("twice").await;
    assert_eq!(lambda_loop(&twice, &records, 10, 3, true).await, poison);
    let early: Vec<Value> = records.iter().take(40).filter(|r| !r.to_string().contains("\"many\"")).cloned().collect();
    lambda_loop(&twice, &early, 10, 0, false).await;
    assert_eq!(totals_in(&twice).await, truth, "delivered twice");

    // A crash half-way: the first half of each batch applied, then the whole
    // batch again (the invocation failed, Lambda retries it).
    let crashed = sink("crash").await;
    for batch in records.chunks(12) {
        deliver(&crashed, &batch[..batch.len() / 2]).await;
    }
    assert_eq!(lambda_loop(&crashed, &records, 12, 3, false).await, poison);
    assert_eq!(totals_in(&crashed).await, truth, "crash half-way");

    // A timeout after applying everything: the batch is bisected and each
    // half retried, then the whole batch delivered again.
    let split = sink("split").await;
    for batch in records.chunks(16) {
        let (left, right) = batch.split_at(batch.len() / 2);
        deliver(&split, batch).await;
        deliver(&split, left).await;
        deliver(&split, right).await;
    }
    assert_eq!(lambda_loop(&split, &records, 16, 3, false).await, poison);
    assert_eq!(totals_in(&split).await, truth, "split and retried");

    // The stack's own path: one delivery of everything.
    let once = sink("once").await;
    assert_eq!(lambda_loop(&once, &records, 100, 3, false).await, poison);
    assert_eq!(totals_in(&once).await, truth, "delivered once");
}
