//! SQS adapter: hands migrated cart lines to the cleanup worker.

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use aws_sdk_sqs::Client;
use serde::{Deserialize, Serialize};

use crate::outbound::dynamodb::keys::{cart_pk, line_sk, owner_of_cart_pk, product_of_key};
use crate::use_cases::ports::{LineCleanup, MovedLine};

/// The cleanup worker's order, as the queue carries it: delete this migrated
/// line if it is still the version that was migrated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CleanupMessage {
    pub pk: String,
    pub sk: String,
    pub version: u64,
}

impl From<&MovedLine> for CleanupMessage {
    fn from(moved: &MovedLine) -> Self {
        Self { pk: cart_pk(&moved.cart), sk: line_sk(&moved.product_id), version: moved.version }
    }
}

impl CleanupMessage {
    /// The line it names, if it names a cart line.
    pub fn moved_line(&self) -> Option<MovedLine> {
        Some(MovedLine {
            cart: owner_of_cart_pk(&self.pk)?,
            product_id: product_of_key(&self.sk)?,
            version: self.version,
        })
    }
}

impl LineCleanup for CleanupQueue {
    async fn hand_over(&self, moved: &[MovedLine]) -> Result<(), String> {
        let messages: Vec<CleanupMessage> = moved.iter().map(CleanupMessage::from).collect();
        self.send(&messages).await.map_err(|e| e.to_string())
    }
}

/// SQS takes at most ten messages per batch.
const SQS_BATCH_LIMIT: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("sqs: {0}")]
    Sqs(String),
    #[error("{failed} of {total} cleanup messages were not sent")]
    PartlySent { failed: usize, total: usize },
}

#[derive(Clone)]
pub struct CleanupQueue {
    client: Client,
    url: String,
}

impl CleanupQueue {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self { client, url: url.into() }
    }

    /// Sends one message per line, ten per request. Messages that SQS refuses
    /// are retried once; what still fails is reported (the lines stay hidden as
    /// migrated and their TTL removes them).
    pub async fn send(&self, messages: &[CleanupMessage]) -> Result<(), QueueError> {
        let mut failed = 0;
        for chunk in messages.chunks(SQS_BATCH_LIMIT) {
            let mut pending: Vec<(String, String)> = chunk
                .iter()
                .enumerate()
                .map(|(i, m)| serde_json::to_string(m).map(|body| (i.to_string(), body)))
                .collect::<Result<_, _>>()
                .map_err(|e| QueueError::Sqs(e.to_string()))?;
            for _attempt in 0..2 {
                if pending.is_empty() {
                    break;
                }
                let entries = pending
                    .iter()
                    .map(|(id, body)| SendMessageBatchRequestEntry::builder().id(id).message_body(body).build())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| QueueError::Sqs(e.to_string()))?;
                let out = self
                    .client
                    .send_message_batch()
                    .queue_url(&self.url)
                    .set_entries(Some(entries))
                    .send()
                    .await
                    .map_err(|e| QueueError::Sqs(format!("{e:?}")))?;
                let refused: Vec<String> = out.failed.into_iter().map(|f| f.id).collect();
                pending.retain(|(id, _)| refused.contains(id));
            }
            failed += pending.len();
        }
        if failed > 0 {
            return Err(QueueError::PartlySent { failed, total: messages.len() });
        }
        Ok(())
    }
}
