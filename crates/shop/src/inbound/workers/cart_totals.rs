//! The DynamoDB Streams consumer that keeps exact per-product cart totals:
//! each record says what its cart line now counts; the store applies it once
//! however often Lambda delivers it, and the batch reports the earliest
//! record it must retry from.

use aws_lambda_events::event::dynamodb::{Event as StreamEvent, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};

use super::WorkerError;
use crate::domain::{newest_per_line, BatchRecord, ProductRecords};
use crate::outbound::dynamodb::items::CartLineImage;
use crate::outbound::dynamodb::keys::{is_cart_pk, product_of_key};
use crate::outbound::dynamodb::{LineCount, SequenceNumber, Store};

/// Keeps `product#<id>` / `totalquantity` equal to the units of the product in
/// all carts, exactly once per change however often Lambda delivers a record
/// (see `outbound::dynamodb::totals`). Only the newest record of each cart
/// line in the batch matters (`domain::newest_per_line`). A record that cannot be read,
/// or whose product could not be written, is reported; Lambda retries from the
/// earliest one reported, and records already applied are recognised and
/// skipped.
pub async fn apply_cart_totals(store: &Store, event: StreamEvent, now: i64) -> DynamoDbEventResponse {
    let mut first_failure: Option<usize> = None;
    let mut fail = |index: usize| first_failure = Some(first_failure.map_or(index, |f| f.min(index)));
    let mut counts = Vec::new();
    for (index, record) in event.records.iter().enumerate() {
        match line_count(record) {
            Ok(Some(count)) => counts.push(BatchRecord {
                index,
                product: count.product.clone(),
                line: count.cart_pk.clone(),
                record: count,
            }),
            Ok(None) => {}
            Err(e) => {
                tracing::error!(event_id = %record.event_id, error = %e, "stream record unreadable");
                fail(index);
            }
        }
    }
    let groups = newest_per_line(counts);
    // Every counted line the batch touches, in one read.
    let all: Vec<LineCount> = groups.iter().flat_map(|g| g.newest.iter().cloned()).collect();
    let read = if all.is_empty() { Ok(Default::default()) } else { store.counted_lines(&all).await };
    let read = match read {
        Ok(read) => read,
        Err(e) => {
            tracing::error!(error = %e, "counted lines unreadable");
            groups.iter().map(|g| g.first_index).min().into_iter().for_each(&mut fail);
            return failure_response(&event, first_failure);
        }
    };
    for ProductRecords { first_index: first, newest: counts } in groups {
        let Some(product) = counts.first().map(|c| c.product.clone()) else { continue };
        match store.apply_line_counts(&product, &counts, &read, now).await {
            Ok(done) => {
                tracing::info!(
                    product = %product.as_str(),
                    applied = done.applied,
                    replayed = done.replayed,
                    unchanged = done.unchanged,
                    "cart totals"
                )
            }
            Err(e) => {
                tracing::error!(product = %product.as_str(), error = %e, "cart total not applied");
                fail(first);
            }
        }
    }
    failure_response(&event, first_failure)
}

/// Lambda's answer: the earliest record it must retry from, if any.
fn failure_response(event: &StreamEvent, first_failure: Option<usize>) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    if let Some(index) = first_failure {
        let mut failure = DynamoDbBatchItemFailure::default();
        failure.item_identifier = event.records[index].change.sequence_number.clone();
        response.batch_item_failures.push(failure);
    }
    response
}

/// What a record says its cart line now counts, if it is a cart-line record.
/// Tolerates the emulator: a keys-only image counts 0 (its full INSERT follows).
pub fn line_count(record: &EventRecord) -> Result<Option<LineCount>, WorkerError> {
    let keys: KeyImage = serde_dynamo::from_item(record.change.keys.clone())
        .map_err(|e| WorkerError::Malformed(format!("keys: {e}")))?;
    if !is_cart_pk(&keys.pk) {
        return Ok(None);
    }
    let Some(product) = product_of_key(&keys.sk) else {
        return Ok(None);
    };
    let raw_sequence = record.change.sequence_number.as_deref().unwrap_or_default();
    let sequence = SequenceNumber::parse(raw_sequence)
        .ok_or_else(|| WorkerError::Malformed(format!("sequence number {raw_sequence:?}")))?;
    let image = &record.change.new_image;
    let counted = if image.is_empty() {
        0
    } else {
        let line: CartLineImage =
            serde_dynamo::from_item(image.clone()).map_err(|e| WorkerError::Malformed(e.to_string()))?;
        line.state().counted_units()
    };
    Ok(Some(LineCount { product, cart_pk: keys.pk, sequence, counted }))
}

#[derive(serde::Deserialize)]
struct KeyImage {
    pk: String,
    sk: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SequenceNumber;
    use serde_json::{json, Value};

    fn record(old: Option<Value>, new: Option<Value>) -> EventRecord {
        let mut dynamodb = json!({
            "Keys": { "pk": { "S": "cart#6f1c7b1e-9f0a-4c51-9a43-6a4c0c5a1d2e" }, "sk": { "S": "product#p1" } },
            "SequenceNumber": "100", "SizeBytes": 10, "StreamViewType": "NEW_AND_OLD_IMAGES",
            "ApproximateCreationDateTime": 1767225600,
        });
        if let Some(o) = old {
            dynamodb["OldImage"] = o;
        }
        if let Some(n) = new {
            dynamodb["NewImage"] = n;
        }
        serde_json::from_value(json!({
            "eventID": "1", "eventName": "MODIFY", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
            "dynamodb": dynamodb,
        }))
        .unwrap()
    }

    fn line(quantity: i64, migrated: bool) -> Value {
        let mut image = json!({
            "pk": { "S": "cart#6f1c7b1e-9f0a-4c51-9a43-6a4c0c5a1d2e" }, "sk": { "S": "product#p1" },
            "quantity": { "N": quantity.to_string() }, "expirationTime": { "N": "1767312000" }, "version": { "N": "1" },
        });
        if migrated {
            image["migratedTo"] = json!({ "S": "user#u1" });
        }
        image
    }

    fn counted(old: Option<Value>, new: Option<Value>) -> i64 {
        let count = line_count(&record(old, new)).unwrap().unwrap();
        assert_eq!(
            (count.product.as_str(), count.cart_pk.as_str()),
            ("p1", "cart#6f1c7b1e-9f0a-4c51-9a43-6a4c0c5a1d2e")
        );
        assert_eq!(count.sequence, SequenceNumber::parse("100").unwrap());
        count.counted
    }

    #[test]
    fn stream_records_become_line_counts() {
        assert_eq!(counted(None, Some(line(3, false))), 3);
        assert_eq!(counted(Some(line(3, false)), Some(line(1, false))), 1);
        assert_eq!(counted(Some(line(2, false)), None), 0);
        assert_eq!(counted(Some(line(2, false)), Some(line(2, true))), 0);
        // The emulator's keys-only INSERT counts nothing; its full INSERT follows.
        let keys_only =
            json!({ "pk": { "S": "cart#6f1c7b1e-9f0a-4c51-9a43-6a4c0c5a1d2e" }, "sk": { "S": "product#p1" } });
        assert_eq!(counted(None, Some(keys_only)), 0);
    }

    #[test]
    fn records_of_other_items_are_ignored_and_broken_ones_reported() {
        let mut other = record(None, Some(line(1, false)));
        other.change.keys =
            serde_json::from_value(json!({ "pk": { "S": "product#p1" }, "sk": { "S": "meta" } })).unwrap();
        assert!(line_count(&other).unwrap().is_none());
        let mut broken = line(1, false);
        broken["quantity"] = json!({ "S": "many" });
        assert!(line_count(&record(None, Some(broken))).is_err());
        let mut unordered = record(None, Some(line(1, false)));
        unordered.change.sequence_number = Some("not-a-number".into());
        assert!(line_count(&unordered).is_err());
    }
}
