//! Catalog administration: an admin creates and edits products, restocks
//! them and splits a hot product's stock over more shards. The rules of a
//! product live in `domain::catalog`; this reads what a change depends on,
//! writes it, and says why a write was refused.

use super::ports::{CatalogStore, Clock, Restocked, StoreError};
use crate::domain::{
    total_stock, validate_restock_delta, DomainError, Product, ProductDraft, ProductId, ProductPatch, StockLevels,
    StockShards,
};

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error("product {0} not found")]
    NotFound(ProductId),
    #[error("product {0} already exists")]
    AlreadyExists(ProductId),
    #[error("cannot remove {removing} units: only {available} available")]
    NotEnoughStock { removing: i64, available: i64 },
    #[error("this Idempotency-Key was used for a different request (a restock of {first}); use a new key")]
    KeyUsedForAnother { first: i64 },
    #[error("product {0}'s stock was resharded meanwhile; read it and retry")]
    ReshardedMeanwhile(ProductId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A restock's result: the product's stock after it, and whether this was
/// a retry of one already applied (nothing changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestockDone {
    pub stock: StockLevels,
    pub replayed: bool,
}

/// A reshard's result: the new split and each shard's counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReshardDone {
    pub shards: StockShards,
    pub shard_stocks: Vec<StockLevels>,
}

/// Adds a product (`id`, or a new UUID) with its initial stock.
pub async fn create_product<S: CatalogStore, C: Clock>(
    store: &S,
    clock: &C,
    id: Option<ProductId>,
    draft: ProductDraft,
) -> Result<(Product, i64), CatalogError> {
    let id = match id {
        Some(id) => id,
        None => ProductId::parse(&uuid::Uuid::new_v4().to_string())?,
    };
    let (product, initial_stock) = draft.into_product(id.clone(), &crate::clock::rfc3339(clock.now()))?;
    match store.create_product(&product, initial_stock).await {
        Ok(()) => Ok((product, initial_stock)),
        Err(StoreError::Conflict) => Err(CatalogError::AlreadyExists(id)),
        Err(e) => Err(e.into()),
    }
}

/// Changes the fields the patch holds, in one conditional write (no read
/// first), and answers the product as it now is.
pub async fn edit_product<S: CatalogStore, C: Clock>(
    store: &S,
    clock: &C,
    id: &ProductId,
    patch: ProductPatch,
) -> Result<Product, CatalogError> {
    let patch = patch.checked()?;
    let modified = crate::clock::rfc3339(clock.now());
    store.edit_product(id, &patch, &modified).await?.ok_or_else(|| CatalogError::NotFound(id.clone()))
}

async fn product_of<S: CatalogStore>(store: &S, id: &ProductId) -> Result<Product, CatalogError> {
    store.product(id).await?.ok_or_else(|| CatalogError::NotFound(id.clone()))
}

/// Adds `delta` units (or removes them, never more than are available).
/// The product is read first: how its stock is split decides which items
/// the change writes.
pub async fn restock<S: CatalogStore>(
    store: &S,
    id: &ProductId,
    delta: i64,
    idempotency_key: Option<&str>,
) -> Result<RestockDone, CatalogError> {
    let delta = validate_restock_delta(delta)?;
    let shards = product_of(store, id).await?.stock_shards;
    match store.restock(id, shards, delta, idempotency_key).await {
        Ok(Restocked::Applied(stock)) => Ok(RestockDone { stock, replayed: false }),
        Ok(Restocked::Replayed(stock)) => Ok(RestockDone { stock, replayed: true }),
        Ok(Restocked::KeyUsedForAnother { delta: first }) => Err(CatalogError::KeyUsedForAnother { first }),
        Err(StoreError::Conflict) => {
            let available = total_stock(&store.shard_stocks(id, shards).await?).available;
            Err(CatalogError::NotEnoughStock { removing: -delta, available })
        }
        Err(e) => Err(e.into()),
    }
}

/// Splits a product's stock into `shards` (more for a hot product, fewer
/// after the rush): safe during a sale, no unit lost or invented.
pub async fn reshard<S: CatalogStore>(store: &S, id: &ProductId, shards: u32) -> Result<ReshardDone, CatalogError> {
    let from = product_of(store, id).await?.stock_shards;
    let to = from.resharded(shards)?;
    match store.reshard(id, from, to).await {
        Ok(shard_stocks) => Ok(ReshardDone { shards: to, shard_stocks }),
        Err(StoreError::Conflict) => Err(CatalogError::ReshardedMeanwhile(id.clone())),
        Err(e) => Err(e.into()),
    }
}
