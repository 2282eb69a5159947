//! The event-driven workers: the cart-cleanup SQS consumer and the DynamoDB
//! Streams consumer that keeps per-product cart totals (both report partial
//! batch failures so Lambda retries only what failed), and the scheduled
//! expiry sweeper. [`Worker::serve`] is the one entry point the Lambda
//! binaries and the local stack share.

use aws_lambda_events::event::cloudwatch_events::CloudWatchEvent;
use aws_lambda_events::event::dynamodb::{Event as StreamEvent, EventRecord};
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};

use std::collections::BTreeMap;

use crate::domain::HoldPolicy;
use crate::payments::SandboxPayments;
use crate::queue::CleanupMessage;
use crate::store::items::CartLineImage;
use crate::store::keys::{is_cart_pk, product_of_key};
use crate::store::{LineCount, SequenceNumber, Store, StoreError};
use crate::use_cases::payment::{OrderError, Orders};
use crate::use_cases::ports::FixedClock;

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The invocation's event is not the shape this worker takes.
    #[error("event does not fit the worker: {0}")]
    BadEvent(String),
    #[error("malformed message: {0}")]
    Malformed(String),
    /// The worker's answer could not be written as JSON for the runtime.
    #[error("answer not serializable: {0}")]
    Answer(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Order(#[from] OrderError),
}

/// What the runtime reports for a failed invocation: a type to group by and
/// the message (the runtime examples' `basic-error-thiserror` pattern).
impl From<WorkerError> for lambda_runtime::Diagnostic {
    fn from(error: WorkerError) -> Self {
        let error_type = match &error {
            WorkerError::BadEvent(_) => "WorkerError::BadEvent",
            WorkerError::Malformed(_) => "WorkerError::Malformed",
            WorkerError::Answer(_) => "WorkerError::Answer",
            WorkerError::Store(_) => "WorkerError::Store",
            WorkerError::Order(_) => "WorkerError::Order",
        };
        Self { error_type: error_type.into(), error_message: error.to_string() }
    }
}

/// Deletes migrated anonymous lines. A message that fails (or cannot be read)
/// is reported, becomes visible again, and after the queue's
/// `maxReceiveCount` lands in the DLQ; the others are done.
pub async fn cleanup_migrated_lines(store: &Store, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for message in event.records {
        let id = message.message_id.clone().unwrap_or_default();
        let result = async {
            let body = message.body.as_deref().unwrap_or_default();
            let order: CleanupMessage =
                serde_json::from_str(body).map_err(|e| WorkerError::Malformed(e.to_string()))?;
            let Some(line) = order.moved_line() else {
                return Err(WorkerError::Malformed(format!("not a cart line: {}/{}", order.pk, order.sk)));
            };
            let deleted = store.delete_migrated_line(&line.cart, &line.product_id, line.version).await?;
            tracing::info!(pk = %order.pk, sk = %order.sk, deleted, "cleanup");
            Ok::<_, WorkerError>(())
        }
        .await;
        if let Err(e) = result {
            tracing::error!(message_id = %id, error = %e, "cleanup failed");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

/// Keeps `product#<id>` / `totalquantity` equal to the units of the product in
/// all carts, exactly once per change however often Lambda delivers a record
/// (see `store::totals`). Only the newest record of each cart line in the batch
/// matters: the count is a state, not a delta. A record that cannot be read,
/// or whose product could not be written, is reported; Lambda retries from the
/// earliest one reported, and records already applied are recognised and
/// skipped.
pub async fn apply_cart_totals(store: &Store, event: StreamEvent, now: i64) -> DynamoDbEventResponse {
    let mut first_failure: Option<usize> = None;
    let mut fail = |index: usize| first_failure = Some(first_failure.map_or(index, |f| f.min(index)));
    // Per product, per cart: the batch position of the line's first record and its newest count.
    let mut newest: BTreeMap<String, BTreeMap<String, (usize, LineCount)>> = BTreeMap::new();
    for (index, record) in event.records.iter().enumerate() {
        match line_count(record) {
            Ok(Some(count)) => {
                let lines = newest.entry(count.product.as_str().to_owned()).or_default();
                match lines.get_mut(&count.cart_pk) {
                    Some(entry) => entry.1 = count,
                    None => {
                        lines.insert(count.cart_pk.clone(), (index, count));
                    }
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(event_id = %record.event_id, error = %e, "stream record unreadable");
                fail(index);
            }
        }
    }
    let groups: Vec<(usize, Vec<LineCount>)> = newest
        .into_values()
        .map(|lines| {
            let first = lines.values().map(|(index, _)| *index).min().unwrap_or_default();
            (first, lines.into_values().map(|(_, count)| count).collect())
        })
        .collect();
    // Every counted line the batch touches, in one read.
    let all: Vec<LineCount> = groups.iter().flat_map(|(_, counts)| counts.iter().cloned()).collect();
    let read = if all.is_empty() { Ok(Default::default()) } else { store.counted_lines(&all).await };
    let read = match read {
        Ok(read) => read,
        Err(e) => {
            tracing::error!(error = %e, "counted lines unreadable");
            groups.iter().map(|(first, _)| *first).min().into_iter().for_each(&mut fail);
            return failure_response(&event, first_failure);
        }
    };
    for (first, counts) in groups {
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

/// What one sweep of the expiry worker did.
#[derive(Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ExpiryReport {
    pub expired: usize,
    /// Due orders another transition settled first (paid, cancelled) or that
    /// the index still listed after they left it.
    pub skipped: usize,
    /// Due orders whose items stayed contended past the retries (a hot
    /// product in a sale): left for the next sweep, which reaches them again.
    pub contended: usize,
    /// Ended orders whose refund was due and is now confirmed, and those the
    /// provider still did not confirm (retried by the next sweep).
    pub refunds_confirmed: usize,
    pub refunds_still_due: usize,
}

/// Pages of due orders one sweep works through; the next run takes the rest.
const EXPIRY_PAGES: usize = 20;
/// An order skipped this long after its hold ended has been skipped by many
/// sweeps (one a minute): logged as such, and alarmed on (`ExpiryStuckAlarm`).
const STUCK_AFTER_SECS: i64 = 600;

/// Expires every order whose hold has run out and releases its reservation.
/// Each expiry is conditional on the order still awaiting payment, so a
/// payment or cancel that wins the race is never undone, and a re-run (the
/// schedule fires again, Lambda retries) changes nothing twice. An order that
/// stays contended is skipped, and the sweep goes on past it (page by page,
/// from where the last page ended), so one hot product never stops the sweep
/// for the whole shop.
pub async fn expire_overdue_orders(
    store: &Store,
    payments: &SandboxPayments,
    holds: &HoldPolicy,
    now: i64,
) -> Result<ExpiryReport, WorkerError> {
    let orders =
        Orders { store, payments, clock: &FixedClock(now), renewal_cooldown_secs: holds.renewal_cooldown_secs };
    let mut report = ExpiryReport::default();
    let mut start = crate::store::SweepPosition::default();
    for _ in 0..EXPIRY_PAGES {
        let (due, next) = store.orders_due_for_expiry(now, 100, start).await?;
        for order in due {
            if order.status != crate::domain::OrderStatus::PendingPayment {
                // Ended without a sale, its refund not yet confirmed: ask again.
                if order.refund_due {
                    match orders.finish_refund(&order).await {
                        Ok(_) => report.refunds_confirmed += 1,
                        Err(_) => report.refunds_still_due += 1,
                    }
                } else {
                    report.skipped += 1;
                }
                continue;
            }
            match orders.expire(&order).await {
                Ok(true) => report.expired += 1,
                Ok(false) => report.skipped += 1,
                Err(OrderError::Store(StoreError::Contended)) => {
                    report.contended += 1;
                    let overdue_secs = now - order.expires_at;
                    let stuck = overdue_secs > STUCK_AFTER_SECS;
                    tracing::warn!(order = %order.order_id, overdue_secs, stuck, "order expiry skipped: contended");
                }
                Err(e) => return Err(e.into()),
            }
        }
        match next {
            Some(position) => start = position,
            None => break,
        }
    }
    if report.expired > 0 || report.contended > 0 || report.refunds_confirmed > 0 || report.refunds_still_due > 0 {
        tracing::info!(
            expired = report.expired,
            skipped = report.skipped,
            contended = report.contended,
            refunds_confirmed = report.refunds_confirmed,
            refunds_still_due = report.refunds_still_due,
            "orders expired"
        );
    }
    Ok(report)
}

/// The event-driven functions, by the `Handler` (in `template.yaml`) of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Worker {
    CartCleanup,
    CartTotals,
    OrderExpiry,
}

impl Worker {
    pub const ALL: [Worker; 3] = [Self::CartCleanup, Self::CartTotals, Self::OrderExpiry];

    pub fn handler_name(self) -> &'static str {
        match self {
            Self::CartCleanup => "cart-cleanup",
            Self::CartTotals => "cart-totals",
            Self::OrderExpiry => "order-expiry",
        }
    }

    pub fn from_handler_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.handler_name() == name)
    }

    /// Runs this worker on one event as Lambda hands it over (JSON) and
    /// answers what the runtime sends back: the partial batch failures, or the
    /// sweep's report.
    pub async fn serve(
        self,
        store: &Store,
        payments: &SandboxPayments,
        holds: &HoldPolicy,
        event: serde_json::Value,
    ) -> Result<serde_json::Value, WorkerError> {
        fn parse<T: serde::de::DeserializeOwned>(event: serde_json::Value) -> Result<T, WorkerError> {
            serde_json::from_value(event).map_err(|e| WorkerError::BadEvent(e.to_string()))
        }
        let now = crate::now_epoch_secs();
        let answer = match self {
            Self::CartCleanup => serde_json::to_value(cleanup_migrated_lines(store, parse(event)?).await),
            Self::CartTotals => serde_json::to_value(apply_cart_totals(store, parse(event)?, now).await),
            Self::OrderExpiry => {
                let _: CloudWatchEvent = parse(event)?;
                serde_json::to_value(expire_overdue_orders(store, payments, holds, now).await?)
            }
        };
        answer.map_err(|e| WorkerError::Answer(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
