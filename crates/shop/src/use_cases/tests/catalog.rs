//! Catalog administration: new products and edits checked by the domain's
//! rules, restocks that never take more than is there and apply once per
//! key, reshards that lose a race say so.

use super::fake::*;
use crate::domain::{DomainError, ProductDraft, ProductPatch, StockShards};
use crate::use_cases::catalog::{create_product, edit_product, reshard, restock, CatalogError, RestockDone};
use crate::use_cases::ports::FixedClock;

fn draft(name: &str, initial_stock: i64) -> ProductDraft {
    ProductDraft {
        name: name.into(),
        category: "sweet".into(),
        description: String::new(),
        price: 250,
        package: None,
        pictures: vec![],
        tags: vec![],
        initial_stock,
    }
}

#[tokio::test]
async fn a_new_product_starts_with_its_stock_and_its_id_is_taken_once() {
    let store = FakeStore::default();
    let (product, stock) =
        create_product(&store, &FixedClock(NOW), Some(id("cocoa")), draft("Cocoa", 7)).await.unwrap();
    assert_eq!((product.product_id.as_str(), stock), ("cocoa", 7));
    assert_eq!(product.created_date, crate::clock::rfc3339(NOW));
    assert_eq!(store.state().stock["cocoa"].available, 7);
    let again = create_product(&store, &FixedClock(NOW), Some(id("cocoa")), draft("Other", 1)).await;
    assert!(matches!(&again, Err(CatalogError::AlreadyExists(taken)) if *taken == id("cocoa")), "{again:?}");
    assert_eq!(store.state().products["cocoa"].name, "Cocoa", "the first product stands");
    let (unnamed, _) = create_product(&store, &FixedClock(NOW), None, draft("Tea", 0)).await.unwrap();
    assert!(uuid::Uuid::parse_str(&unnamed.product_id).is_ok(), "{}", unnamed.product_id);
}

#[tokio::test]
async fn a_product_that_breaks_a_rule_is_never_written() {
    let store = FakeStore::default();
    let refused = create_product(&store, &FixedClock(NOW), Some(id("x")), draft(" ", 1)).await;
    assert!(matches!(refused, Err(CatalogError::Invalid(DomainError::InvalidProductName))), "{refused:?}");
    let refused = create_product(&store, &FixedClock(NOW), Some(id("x")), draft("X", -1)).await;
    assert!(matches!(refused, Err(CatalogError::Invalid(DomainError::InvalidInitialStock))), "{refused:?}");
    assert!(store.state().products.is_empty());
}

#[tokio::test]
async fn an_edit_changes_only_what_it_sends_and_dates_it() {
    let store = FakeStore::with(|s| s.add_product("p1", 100, 3));
    let patch = ProductPatch { price: Some(120), ..Default::default() };
    let edited = edit_product(&store, &FixedClock(NOW), &id("p1"), patch).await.unwrap();
    assert_eq!((edited.price, edited.modified_date.clone()), (120, crate::clock::rfc3339(NOW)));
    assert_eq!(edited.name, store.state().products["p1"].name);
    let bad = ProductPatch { price: Some(0), ..Default::default() };
    let refused = edit_product(&store, &FixedClock(NOW), &id("p1"), bad).await;
    assert!(matches!(refused, Err(CatalogError::Invalid(DomainError::InvalidPrice))), "{refused:?}");
    assert_eq!(store.state().products["p1"].price, 120);
    let missing = edit_product(&store, &FixedClock(NOW), &id("nope"), ProductPatch::default()).await;
    assert!(matches!(missing, Err(CatalogError::NotFound(_))), "{missing:?}");
}

#[tokio::test]
async fn a_restock_applies_once_per_key_and_never_takes_more_than_is_there() {
    let store = FakeStore::with(|s| s.add_product("p1", 100, 3));
    let done = restock(&store, &id("p1"), 5, Some("k1")).await.unwrap();
    assert_eq!((done.stock.available, done.replayed), (8, false));
    let retried = restock(&store, &id("p1"), 5, Some("k1")).await.unwrap();
    assert!(matches!(retried, RestockDone { replayed: true, .. }) && retried.stock.available == 8);
    let reused = restock(&store, &id("p1"), 2, Some("k1")).await;
    assert!(matches!(reused, Err(CatalogError::KeyUsedForAnother { first: 5 })), "{reused:?}");
    let short = restock(&store, &id("p1"), -9, None).await;
    assert!(matches!(short, Err(CatalogError::NotEnoughStock { removing: 9, available: 8 })), "{short:?}");
    assert_eq!(store.state().stock["p1"].available, 8, "refusals change nothing");
    let zero = restock(&store, &id("p1"), 0, None).await;
    assert!(matches!(zero, Err(CatalogError::Invalid(DomainError::InvalidRestockDelta))), "{zero:?}");
    let missing = restock(&store, &id("nope"), 1, None).await;
    assert!(matches!(missing, Err(CatalogError::NotFound(_))), "{missing:?}");
}

#[tokio::test]
async fn a_reshard_that_lost_the_race_says_so_and_a_bad_count_is_refused() {
    let store = FakeStore::with(|s| s.add_product("p1", 100, 8));
    let done = reshard(&store, &id("p1"), 4).await.unwrap();
    assert_eq!(done.shards, StockShards { active: 4, items: 4 });
    assert_eq!(store.state().products["p1"].stock_shards, done.shards);
    store.state().conflicts = 1;
    let lost = reshard(&store, &id("p1"), 2).await;
    assert!(matches!(lost, Err(CatalogError::ReshardedMeanwhile(_))), "{lost:?}");
    let bad = reshard(&store, &id("p1"), 0).await;
    assert!(matches!(bad, Err(CatalogError::Invalid(DomainError::InvalidShardCount))), "{bad:?}");
}
