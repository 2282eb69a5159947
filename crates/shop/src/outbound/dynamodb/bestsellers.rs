//! Best sellers: the stock items' sparse index by units sold, spread over
//! index partitions; the top of each partition, merged.

use std::collections::HashMap;

use super::items::StockItem;
use super::keys::{BESTSELLER_PARTITION, PRODUCT_META_SK};
use super::{s, Store, StoreError};
use crate::domain::{ProductId, RatedProduct};

/// GSI over stock items (sparse), sorted by units sold.
pub const BESTSELLER_INDEX: &str = "bestseller-index";

impl Store {
    /// Products by units sold, most first: the top of each best-seller
    /// index partition, merged.
    pub async fn bestsellers(&self, limit: i32) -> Result<Vec<(RatedProduct, i64)>, StoreError> {
        let limit = usize::try_from(limit).unwrap_or(0);
        let items = self
            .query_every_partition(BESTSELLER_PARTITION, limit, |query, partition| {
                query
                    .index_name(BESTSELLER_INDEX)
                    .key_condition_expression("bestsellerList = :b")
                    .expression_attribute_values(":b", s(partition))
                    .scan_index_forward(false)
            })
            .await?;
        let mut stocks: Vec<StockItem> = serde_dynamo::from_items(items)?;
        stocks.sort_by(|a, b| b.levels.sold.cmp(&a.levels.sold).then_with(|| a.product_id.cmp(&b.product_id)));
        stocks.truncate(limit);
        let ids: Vec<ProductId> = stocks.iter().filter_map(|s| ProductId::parse(&s.product_id).ok()).collect();
        let mut products: HashMap<String, RatedProduct> = self
            .batch_get(&ids, PRODUCT_META_SK)
            .await?
            .into_iter()
            .map(|i| super::reviews::rated_product(i).map(|p| (p.product.product_id.clone(), p)))
            .collect::<Result<_, _>>()?;
        Ok(stocks.into_iter().filter_map(|s| products.remove(&s.product_id).map(|p| (p, s.levels.sold))).collect())
    }
}
