//! DynamoDB adapter: the single table behind the use cases' ports. Its key
//! formats are in `keys`, its item shapes in `items`; one file per thing it
//! stores: `carts`, `catalog` (products and categories), `stock` (the
//! counters and their shards), `bestsellers`, `orders`, `charges` (the
//! sandbox provider's ledger), `reviews`, `cart_totals` (the stream
//! consumer's exact totals) and `snapshot` (the whole table, read for
//! reconciliation). This file holds the `Store`, how DynamoDB's errors become
//! `StoreError`, and the reads every part shares.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use aws_sdk_dynamodb::Client;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_dynamo::{from_items, to_item};
use std::collections::HashMap;

pub(crate) type Item = HashMap<String, AttributeValue>;

mod bestsellers;
mod cart_totals;
mod carts;
mod catalog;
mod charges;
pub mod cursor;
pub mod items;
pub mod keys;
mod orders;
pub mod reconcile;
mod reviews;
mod snapshot;
mod stock;

pub use bestsellers::BESTSELLER_INDEX;
pub use cart_totals::{CountedLine, LineCount, ProductView, SequenceNumber, TotalsApplied};
pub use catalog::{product_page_start, CategoryPage, PageKey, CATALOG_INDEX, CATEGORY_INDEX};
pub use charges::LedgerEntry;
pub use keys::IndexPartitions;
pub use orders::{order_page_start, Holdings, OrderPageStart, SweepPosition, ORDERS_INDEX, PENDING_INDEX};
pub use reviews::{review_page_start, ReviewerStanding};
pub use snapshot::TableSnapshot;
pub use stock::StockRead;

pub use crate::use_cases::StoreError;

impl From<serde_dynamo::Error> for StoreError {
    fn from(err: serde_dynamo::Error) -> Self {
        Self::Malformed(err.to_string())
    }
}

impl<E: std::fmt::Debug, R: std::fmt::Debug> From<SdkError<E, R>> for StoreError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    fn from(err: SdkError<E, R>) -> Self {
        if let Some(service) = err.as_service_error() {
            let message = service.message().unwrap_or_default();
            match service.code() {
                // What the SDK's own retries did not get through: a hot
                // partition, or an item another transaction holds.
                Some(code) if CONTENDED_CODES.contains(&code) => return Self::Contended,
                Some("TransactionCanceledException") if CONTENDED_REASONS.iter().any(|r| message.contains(r)) => {
                    return Self::Contended
                }
                Some("ConditionalCheckFailedException") => return Self::Conflict,
                Some("TransactionCanceledException")
                    if service.message().is_some_and(|m| m.contains("ConditionalCheckFailed")) =>
                {
                    return Self::Conflict
                }
                _ => {}
            }
        }
        Self::Backend(format!("{err:?}"))
    }
}

/// DynamoDB's answers to a write that a moment later may pass.
const CONTENDED_CODES: [&str; 4] = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "TransactionConflictException",
    "RequestLimitExceeded",
];
/// A transaction's cancellation reasons that say the same of one item.
const CONTENDED_REASONS: [&str; 3] = ["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"];

/// Which items' conditions cancelled a transaction (one flag per item), or the
/// error itself when it was not a condition. Contention comes first: a
/// transaction cancelled for it says nothing sure about its conditions.
pub(crate) fn transact_error(
    err: SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError>,
) -> Result<Vec<bool>, StoreError> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    if let Some(TransactWriteItemsError::TransactionCanceledException(e)) = err.as_service_error() {
        if e.cancellation_reasons().iter().any(|r| r.code().is_some_and(|c| CONTENDED_REASONS.contains(&c))) {
            return Err(StoreError::Contended);
        }
        let failed: Vec<bool> =
            e.cancellation_reasons().iter().map(|r| r.code() == Some("ConditionalCheckFailed")).collect();
        if failed.iter().any(|f| *f) {
            return Ok(failed);
        }
    }
    Err(err.into())
}

pub(crate) fn build_error(err: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("request: {err}"))
}

#[derive(Clone)]
pub struct Store {
    pub(crate) client: Client,
    pub(crate) table: String,
    /// How the shop-wide index lists are spread (the template's `IndexPartitions`).
    pub(crate) partitions: IndexPartitions,
}

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// BatchGetItem reads at most 100 keys per request.
const BATCH_GET_LIMIT: usize = 100;

/// An item's `pk` and `sk` strings (empty when absent), for sorting and lookups.
pub(crate) fn item_key(item: &Item) -> (&str, &str) {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str).unwrap_or_default();
    (text("pk"), text("sk"))
}

/// A page's last key as the opaque cursor of the next page (string keys).
pub(crate) fn key_cursor(key: Item) -> String {
    let key: HashMap<String, String> =
        key.into_iter().filter_map(|(k, v)| v.as_s().ok().map(|s| (k, s.clone()))).collect();
    crate::outbound::dynamodb::cursor::encode(&key)
}

pub(crate) fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

pub(crate) fn item_of<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    Ok(to_item(value)?)
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>, partitions: IndexPartitions) -> Self {
        Self { client, table: table.into(), partitions }
    }

    /// Items by key, strongly consistent (missing keys are simply absent).
    pub(crate) async fn batch_get_keys(&self, mut wanted: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        wanted.sort_by(|a, b| item_key(a).cmp(&item_key(b)));
        wanted.dedup();
        let mut found = Vec::new();
        for chunk in wanted.chunks(BATCH_GET_LIMIT) {
            let mut keys = chunk.to_vec();
            // Unprocessed keys come back under throttling: ask again for them.
            for _attempt in 0..5 {
                if keys.is_empty() {
                    break;
                }
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .consistent_read(true)
                    .build()
                    .map_err(build_error)?;
                let out = self.client.batch_get_item().request_items(&self.table, request).send().await?;
                found.extend(out.responses.and_then(|mut r| r.remove(&self.table)).unwrap_or_default());
                keys = out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).map(|k| k.keys).unwrap_or_default();
            }
            if !keys.is_empty() {
                return Err(StoreError::Backend(format!("{} keys left unprocessed", keys.len())));
            }
        }
        Ok(found)
    }

    /// One item by key; `consistent` for a caller that must read its own writes.
    pub(crate) async fn get(
        &self,
        pk: impl Into<String>,
        sk: impl Into<String>,
        consistent: bool,
    ) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .consistent_read(consistent)
            .set_key(Some(key(pk, sk)))
            .send()
            .await?;
        Ok(out.item)
    }

    /// One page of a query. It asks for one item more than `limit`, so the
    /// returned cursor (the last item's `key_attributes`) is absent exactly
    /// when nothing follows, not one empty page later.
    pub(crate) async fn page(
        &self,
        query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        limit: i32,
        key_attributes: &[&str],
        start: Option<Item>,
    ) -> Result<(Vec<Item>, Option<Item>), StoreError> {
        let out = query.limit(limit + 1).set_exclusive_start_key(start).send().await?;
        let mut items = out.items.unwrap_or_default();
        let more = items.len() > limit as usize || out.last_evaluated_key.is_some_and(|k| !k.is_empty());
        items.truncate(limit as usize);
        let next = match items.last() {
            Some(last) if more => Some(
                key_attributes
                    .iter()
                    .filter_map(|name| last.get(*name).map(|v| ((*name).to_owned(), v.clone())))
                    .collect(),
            ),
            _ => None,
        };
        Ok((items, next))
    }

    /// Up to `limit` items from each of `list`'s index partitions, asked at
    /// once (`build` makes the query of one partition's key value); the caller
    /// merges them in its own order.
    pub(crate) async fn query_every_partition<F>(
        &self,
        list: &str,
        limit: usize,
        build: F,
    ) -> Result<Vec<Item>, StoreError>
    where
        F: Fn(
            aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
            String,
        ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    {
        let build = &build;
        let queries = self.partitions.all(list).map(|partition| async move {
            let mut items: Vec<Item> = Vec::new();
            let mut start = None;
            // A query answers at most 1 MB: go on until the partition gave `limit`.
            while items.len() < limit {
                let wanted = i32::try_from(limit - items.len()).unwrap_or(i32::MAX);
                let out = build(self.client.query().table_name(&self.table), partition.clone())
                    .limit(wanted)
                    .set_exclusive_start_key(start)
                    .send()
                    .await?;
                items.extend(out.items.unwrap_or_default());
                start = out.last_evaluated_key.filter(|k| !k.is_empty());
                if start.is_none() {
                    break;
                }
            }
            Ok::<_, StoreError>(items)
        });
        Ok(futures::future::try_join_all(queries).await?.into_iter().flatten().collect())
    }

    pub(crate) async fn query_all<T, F>(&self, build: F) -> Result<Vec<T>, StoreError>
    where
        T: DeserializeOwned,
        F: Fn(
            aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    {
        Ok(from_items::<_, T>(self.query_all_items(build).await?)?)
    }

    /// Every item a query matches, page after page.
    pub(crate) async fn query_all_items<F>(&self, build: F) -> Result<Vec<Item>, StoreError>
    where
        F: Fn(
            aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page =
                build(self.client.query().table_name(&self.table)).set_exclusive_start_key(start.take()).send().await?;
            out.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }
}
