//! Lambda's event source mappings, locally: an SQS poller and a DynamoDB
//! Streams poller that call the workers with real event shapes, the template's
//! batch sizes, and Lambda's partial-batch-failure semantics.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use serde_json::{json, Value};
use tokio::sync::watch;

use crate::functions::{Functions, Handler};
use crate::resources::REGION;
use crate::template::StreamSource;

/// How long an idle poller waits before it reads again: a stream's shard is
/// read four times a second, as Lambda reads it; every read takes the
/// emulator's DynamoDB lock, which the API's requests wait on.
const IDLE_WAIT: Duration = Duration::from_millis(250);

/// Identifiers the handler reported as failed, or None if it failed whole.
fn reported_failures(result: &Result<Value, crate::LocalError>) -> Option<Vec<String>> {
    let value = result.as_ref().ok()?;
    Some(
        value
            .get("batchItemFailures")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|f| f.get("itemIdentifier").and_then(Value::as_str).map(str::to_owned))
            .collect(),
    )
}

pub struct QueueSource {
    pub url: String,
    pub arn: String,
    pub batch_size: usize,
    pub report_batch_item_failures: bool,
}

/// Receives up to `batch_size` messages, invokes, deletes what succeeded.
/// Failed messages stay and reappear after the visibility timeout; the queue's
/// redrive policy moves them to the DLQ after `maxReceiveCount` receipts.
pub async fn poll_queue(
    functions: Arc<Functions>,
    sqs: aws_sdk_sqs::Client,
    handler: Handler,
    source: QueueSource,
    mut stop: watch::Receiver<bool>,
) {
    while !*stop.borrow() {
        let received = tokio::select! {
            r = sqs
                .receive_message()
                .queue_url(&source.url)
                .max_number_of_messages(source.batch_size.min(10) as i32)
                .wait_time_seconds(1)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .message_attribute_names("All")
                .send() => r,
            _ = stop.changed() => break,
        };
        let messages = match received {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(e) => {
                tracing::warn!(error = ?e, "sqs receive failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        let records: Vec<Value> = messages
            .iter()
            .map(|m| {
                let attributes: serde_json::Map<String, Value> =
                    m.attributes.iter().flatten().map(|(k, v)| (k.as_str().to_owned(), json!(v))).collect();
                json!({
                    "messageId": m.message_id,
                    "receiptHandle": m.receipt_handle,
                    "body": m.body,
                    "attributes": attributes,
                    "messageAttributes": {},
                    "md5OfBody": m.md5_of_body,
                    "eventSource": "aws:sqs",
                    "eventSourceARN": source.arn,
                    "awsRegion": REGION,
                })
            })
            .collect();
        let result = functions.invoke(handler, json!({ "Records": records }), None).await;
        let failed = match reported_failures(&result) {
            Some(ids) if source.report_batch_item_failures => ids,
            Some(_) => Vec::new(),
            None => {
                tracing::warn!(error = ?result.err(), "queue worker failed; the batch will be retried");
                continue;
            }
        };
        let done: Vec<DeleteMessageBatchRequestEntry> = messages
            .iter()
            .filter(|m| !m.message_id.as_ref().is_some_and(|id| failed.contains(id)))
            .enumerate()
            .filter_map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(m.receipt_handle.clone().unwrap_or_default())
                    .build()
                    .ok()
            })
            .collect();
        if !done.is_empty() {
            if let Err(e) = sqs.delete_message_batch().queue_url(&source.url).set_entries(Some(done)).send().await {
                tracing::warn!(error = ?e, "sqs delete failed; messages will be redelivered");
            }
        }
    }
}

/// A stream record as Lambda delivers it in a DynamoDB event.
pub fn stream_record(record: &Record, stream_arn: &str) -> Value {
    let change = record.dynamodb.as_ref();
    let image = |m: Option<&std::collections::HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>>| {
        m.map(|m| serde_json::to_value(serde_dynamo::Item::from(m.clone())).unwrap_or(Value::Null))
    };
    let mut dynamodb = json!({
        "ApproximateCreationDateTime": change.and_then(|c| c.approximate_creation_date_time).map(|t| t.secs()).unwrap_or(0),
        "Keys": image(change.and_then(|c| c.keys.as_ref())),
        "SequenceNumber": change.and_then(|c| c.sequence_number.clone()),
        "SizeBytes": change.and_then(|c| c.size_bytes).unwrap_or(0),
        "StreamViewType": change.and_then(|c| c.stream_view_type.as_ref()).map(|v| v.as_str().to_owned()),
    });
    if let Some(new) = image(change.and_then(|c| c.new_image.as_ref())) {
        dynamodb["NewImage"] = new;
    }
    if let Some(old) = image(change.and_then(|c| c.old_image.as_ref())) {
        dynamodb["OldImage"] = old;
    }
    json!({
        "eventID": record.event_id,
        "eventName": record.event_name.as_ref().map(|n| n.as_str().to_owned()),
        "eventVersion": record.event_version,
        "eventSource": "aws:dynamodb",
        "awsRegion": record.aws_region.clone().unwrap_or_else(|| REGION.into()),
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    })
}

fn sequence_of(record: &Value) -> Option<String> {
    record["dynamodb"]["SequenceNumber"].as_str().map(str::to_owned)
}

pub struct StreamTarget {
    pub stream_arn: String,
    pub source: StreamSource,
    /// URL of the on-failure destination queue.
    pub on_failure_url: Option<String>,
}

/// Reads the stream in order and invokes the worker with batches. A reported
/// failure retries the batch from the failed record; after
/// `MaximumRetryAttempts` the rest of the batch goes to the on-failure
/// destination, as Lambda does. A whole-function error halves the batch when
/// `BisectBatchOnFunctionError` is set.
pub async fn poll_stream(
    functions: Arc<Functions>,
    streams: aws_sdk_dynamodbstreams::Client,
    sqs: aws_sdk_sqs::Client,
    handler: Handler,
    target: StreamTarget,
    mut stop: watch::Receiver<bool>,
) {
    let source = &target.source;
    let mut pending: VecDeque<Value> = VecDeque::new();
    let mut last_read: Option<String> = None;
    let mut shard_id: Option<String> = None;
    let mut attempts: i64 = 0;
    let mut batch_limit = source.batch_size;
    while !*stop.borrow() {
        if pending.len() < source.batch_size {
            match read_more(
                &streams,
                &target.stream_arn,
                &mut shard_id,
                last_read.as_deref(),
                source,
                source.batch_size - pending.len(),
            )
            .await
            {
                Ok(records) => {
                    for r in records {
                        let value = stream_record(&r, &target.stream_arn);
                        last_read = sequence_of(&value).or(last_read);
                        // Lambda drops what the filters reject before any invocation.
                        if source.delivers(&value) {
                            pending.push_back(value);
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "stream read failed"),
            }
        }
        if pending.is_empty() {
            tokio::select! {
                _ = tokio::time::sleep(IDLE_WAIT) => {}
                _ = stop.changed() => break,
            }
            continue;
        }
        if let Some(max_age) = source.maximum_record_age_secs {
            let now = shop::clock::now_epoch_secs();
            let created = |r: &Value| r["dynamodb"]["ApproximateCreationDateTime"].as_i64().unwrap_or(now);
            let stale = pending.iter().take_while(|r| now - created(r) > max_age).count();
            if stale > 0 {
                let old: Vec<Value> = pending.drain(..stale).collect();
                send_to_on_failure(&sqs, &target, shard_id.as_deref(), &old, "RecordAgeExceeded", 0).await;
                attempts = 0;
                continue;
            }
        }
        let size = pending.len().min(batch_limit.max(1));
        let batch: Vec<Value> = pending.iter().take(size).cloned().collect();
        let result = functions.invoke(handler, json!({ "Records": batch }), None).await;
        let failed_from = match reported_failures(&result) {
            Some(ids) if ids.is_empty() || !source.report_batch_item_failures => None,
            Some(ids) => {
                // Lambda resumes from the lowest reported sequence number.
                let first = batch.iter().position(|r| sequence_of(r).is_some_and(|s| ids.contains(&s)));
                Some(first.unwrap_or(0))
            }
            None => {
                if source.bisect_on_error && size > 1 {
                    batch_limit = size / 2;
                }
                Some(0)
            }
        };
        match failed_from {
            None => {
                pending.drain(..size);
                attempts = 0;
                batch_limit = source.batch_size;
            }
            Some(position) => {
                pending.drain(..position);
                attempts += 1;
                // Bisecting narrows the retried batch down to the failing
                // record, so good records behind it are not parked with it.
                if source.bisect_on_error {
                    batch_limit = ((size - position) / 2).max(1);
                }
                let max = source.maximum_retry_attempts.unwrap_or(-1);
                if max >= 0 && attempts > max {
                    let parked = (size - position).min(batch_limit).min(pending.len());
                    let rest: Vec<Value> = pending.drain(..parked).collect();
                    let shard = shard_id.as_deref();
                    send_to_on_failure(&sqs, &target, shard, &rest, "RetryAttemptsExhausted", attempts).await;
                    attempts = 0;
                    batch_limit = source.batch_size;
                } else {
                    let backoff = Duration::from_millis((100 * attempts as u64).min(2000));
                    tokio::time::sleep(backoff).await;
                }
            }
        }
    }
}

/// Fresh iterator every read: the emulator swaps its shard object when a
/// transaction is cancelled, leaving older iterators reading nothing.
async fn read_more(
    streams: &aws_sdk_dynamodbstreams::Client,
    stream_arn: &str,
    shard_id: &mut Option<String>,
    after: Option<&str>,
    source: &StreamSource,
    limit: usize,
) -> Result<Vec<Record>, String> {
    if shard_id.is_none() {
        let description = streams
            .describe_stream()
            .stream_arn(stream_arn)
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?
            .stream_description;
        *shard_id = description.and_then(|d| d.shards).and_then(|s| s.into_iter().next()).and_then(|s| s.shard_id);
    }
    let Some(shard) = shard_id.as_deref() else {
        return Ok(Vec::new());
    };
    let mut request = streams.get_shard_iterator().stream_arn(stream_arn).shard_id(shard);
    request = match after {
        Some(seq) => request.shard_iterator_type(ShardIteratorType::AfterSequenceNumber).sequence_number(seq),
        None if source.trim_horizon => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
        None => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
    };
    let iterator = request.send().await.map_err(|e| format!("{e:?}"))?.shard_iterator;
    let Some(iterator) = iterator else {
        return Ok(Vec::new());
    };
    let out = streams
        .get_records()
        .shard_iterator(iterator)
        .limit(limit.max(1) as i32)
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    Ok(out.records.unwrap_or_default())
}

/// What Lambda sends to a stream's on-failure destination: where the records
/// are (the shard and the sequence range, to read them again while the stream
/// keeps them), not the records themselves.
async fn send_to_on_failure(
    sqs: &aws_sdk_sqs::Client,
    target: &StreamTarget,
    shard_id: Option<&str>,
    records: &[Value],
    condition: &str,
    invocations: i64,
) {
    let first = records.first().and_then(sequence_of);
    let last = records.last().and_then(sequence_of);
    tracing::error!(first = ?first, last = ?last, "stream records gave up on");
    let Some(url) = &target.on_failure_url else {
        return;
    };
    let arrival = |r: Option<&Value>| {
        r.and_then(|r| r["dynamodb"]["ApproximateCreationDateTime"].as_i64()).map(shop::clock::rfc3339)
    };
    let body = json!({
        "requestContext": {
            "requestId": uuid::Uuid::new_v4().to_string(),
            "condition": condition,
            "approximateInvokeCount": invocations,
        },
        "responseContext": { "statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled" },
        "version": "1.0",
        "timestamp": shop::clock::rfc3339(shop::clock::now_epoch_secs()),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": first,
            "endSequenceNumber": last,
            "approximateArrivalOfFirstRecord": arrival(records.first()),
            "approximateArrivalOfLastRecord": arrival(records.last()),
            "batchSize": records.len(),
            "streamArn": target.stream_arn,
        },
    });
    if let Err(e) = sqs.send_message().queue_url(url).message_body(body.to_string()).send().await {
        tracing::error!(error = ?e, "on-failure destination unreachable");
    }
}

/// An EventBridge schedule, locally: invokes the function every `every` with a
/// real "Scheduled Event".
pub async fn run_schedule(
    functions: Arc<Functions>,
    handler: Handler,
    rule: String,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => break,
        }
        let event = json!({
            "version": "0",
            "id": uuid::Uuid::new_v4().to_string(),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": shop::clock::rfc3339(shop::clock::now_epoch_secs()),
            "region": REGION,
            "resources": [format!("arn:aws:events:{REGION}:123456789012:rule/{rule}")],
            "detail": {},
        });
        if let Err(e) = functions.invoke(handler, event, None).await {
            tracing::warn!(error = %e, rule, "scheduled invocation failed");
        }
    }
}
