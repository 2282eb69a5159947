//! The cart-cleanup SQS consumer: deletes the anonymous lines a merge moved
//! into a user's cart, and reports each message that failed so that only it
//! is retried (and, past the queue's `maxReceiveCount`, lands in the DLQ).

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};

use super::WorkerError;
use crate::outbound::dynamodb::Store;
use crate::outbound::sqs::CleanupMessage;

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
