//! Stock counters: a product's, each shard's of a sharded one, read at the
//! version they were written (for a repair conditional on it).

use serde_dynamo::from_item;

use super::items::{StockItem, STOCK_WRITTEN};
use super::keys::{product_pk, stock_shard_pk, STOCK_SK};
use super::{key, n, Store, StoreError};
use crate::domain::{ProductId, StockLevels, StockShards};

impl Store {
    pub async fn stock(&self, id: &ProductId) -> Result<Option<StockLevels>, StoreError> {
        let item = self.get(product_pk(id), STOCK_SK, true).await?;
        Ok(item.map(from_item::<_, StockLevels>).transpose()?)
    }

    /// Each stock shard's counters (index: shard; a shard not found reads as
    /// empty), strongly consistent: one `BatchGetItem`.
    pub async fn shard_stocks(&self, id: &ProductId, shards: StockShards) -> Result<Vec<StockLevels>, StoreError> {
        self.shard_stocks_from(id, shards, 0).await
    }

    /// Shards `first` and up (index 0: shard `first`), one `BatchGetItem`.
    pub(crate) async fn shard_stocks_from(
        &self,
        id: &ProductId,
        shards: StockShards,
        first: u32,
    ) -> Result<Vec<StockLevels>, StoreError> {
        let count = shards.items.max(1);
        let keys = (first..count).map(|k| key(stock_shard_pk(id, k), STOCK_SK)).collect();
        let mut levels = vec![StockLevels::default(); count.saturating_sub(first) as usize];
        for item in self.batch_get_keys(keys).await? {
            let stock: StockItem = from_item(item)?;
            if let Some(slot) = stock.shard.checked_sub(first).and_then(|i| levels.get_mut(i as usize)) {
                *slot = stock.levels;
            }
        }
        Ok(levels)
    }

    /// Rewrites one stock shard's counters (reconciliation), conditional on
    /// the shard not having been written since it was read (its version).
    pub(crate) async fn repair_stock(&self, read: &StockRead, fixed: &StockLevels) -> Result<(), StoreError> {
        let id = ProductId::parse(&read.product_id).map_err(|e| StoreError::Malformed(e.to_string()))?;
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(stock_shard_pk(&id, read.shard), STOCK_SK)))
            .update_expression(format!("SET available = :a, reserved = :r, sold = :s{STOCK_WRITTEN}"))
            .expression_attribute_values(":a", n(fixed.available))
            .expression_attribute_values(":r", n(fixed.reserved))
            .expression_attribute_values(":s", n(fixed.sold))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":added", n(read.levels.added));
        update = if read.version == 0 {
            update.condition_expression("attribute_not_exists(version) AND added = :added")
        } else {
            update
                .condition_expression("version = :v AND added = :added")
                .expression_attribute_values(":v", n(read.version))
        };
        update.send().await?;
        Ok(())
    }

    /// Stock shards as they are now (strongly consistent), with the version
    /// each was read at; a shard that does not exist is left out.
    pub(crate) async fn stock_reads(&self, shards: &[(ProductId, u32)]) -> Result<Vec<StockRead>, StoreError> {
        let keys = shards.iter().map(|(id, shard)| key(stock_shard_pk(id, *shard), STOCK_SK)).collect();
        let items = self.batch_get_keys(keys).await?;
        items
            .into_iter()
            .map(|item| {
                let stock: StockItem = from_item(item)?;
                Ok(StockRead {
                    product_id: stock.product_id,
                    shard: stock.shard,
                    levels: stock.levels,
                    version: stock.version,
                })
            })
            .collect()
    }
}

/// One stock shard as read, and at which version (see `StockItem::version`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockRead {
    pub product_id: String,
    pub shard: u32,
    pub levels: StockLevels,
    pub version: i64,
}
