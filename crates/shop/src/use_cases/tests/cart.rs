//! Cart changes and the merge at sign-in.

use crate::domain::cart::tests::cart_line;
use crate::domain::{LineChange, USER_CART_TTL_SECS};
use crate::use_cases::cart::{change_line, merge_carts, migrate_cart, CartError};
use crate::use_cases::ports::*;
use crate::use_cases::WRITE_ATTEMPTS;

use super::fake::*;

#[test]
fn a_lost_race_is_read_again_and_retried() {
    let store = FakeStore::with(|s| {
        s.add_product("p1", 100, 10);
        s.put_line(&user(), cart_line("p1", 2, NOW + 100));
        s.conflicts = 2;
    });
    // A target is written on the version read (an addition is not: see below).
    let set = block_on(change_line(&store, &FixedClock(NOW), &user(), &id("p1"), LineChange::To(5)));
    assert_eq!(set.unwrap(), 5);
    let state = store.state();
    assert_eq!(state.line_reads, 3, "read again after each lost race");
    let line = state.line(&user(), "p1").unwrap();
    assert_eq!((line.quantity, line.version, line.expires_at), (5, 2, NOW + USER_CART_TTL_SECS));
}

#[test]
fn additions_to_a_live_line_count_however_many_writers_race() {
    // `conflicts` stands for other writers bumping the version: an addition
    // does not read it, so it counts on the first try.
    let store = FakeStore::with(|s| {
        s.add_product("p1", 100, 50);
        s.put_line(&user(), cart_line("p1", 2, NOW + 100));
        s.conflicts = WRITE_ATTEMPTS;
    });
    let clock = FixedClock(NOW);
    for (n, key) in [(3, Some("k1")), (6, None), (9, Some("k2"))] {
        let add = LineChange::By { delta: 3, request: key };
        assert_eq!(block_on(change_line(&store, &clock, &user(), &id("p1"), add)).unwrap(), n + 2);
    }
    // A retried request is recognised by the line and adds nothing.
    let retry = LineChange::By { delta: 3, request: Some("k1") };
    assert_eq!(block_on(change_line(&store, &clock, &user(), &id("p1"), retry)).unwrap(), 11);
    // The same key with another delta is another request: refused, nothing added.
    let reused = LineChange::By { delta: 1, request: Some("k2") };
    let refused = block_on(change_line(&store, &clock, &user(), &id("p1"), reused));
    assert!(matches!(refused, Err(CartError::KeyUsedForAnother { delta: 3 })), "{refused:?}");
    let state = store.state();
    assert_eq!((state.additions, state.line_reads), (3, 5));
    let line = state.line(&user(), "p1").unwrap();
    assert_eq!(
        (line.quantity, line.recent_requests.as_slice()),
        (11, ["k1:3".to_owned(), "k2:3".to_owned()].as_slice())
    );
}

#[test]
fn an_addition_past_the_stock_or_onto_a_migrated_line_is_decided_afresh() {
    let store = FakeStore::with(|s| {
        s.add_product("p1", 100, 5);
        s.put_line(&anonymous(), cart_line("p1", 4, NOW + 100));
    });
    let clock = FixedClock(NOW);
    let add = |delta| LineChange::By { delta, request: None };
    assert!(matches!(
        block_on(change_line(&store, &clock, &anonymous(), &id("p1"), add(2))),
        Err(CartError::NotEnoughStock { available: 5, .. })
    ));
    assert_eq!(block_on(change_line(&store, &clock, &anonymous(), &id("p1"), add(1))).unwrap(), 5);
    // Migrated meanwhile: the line reads as empty, and writing revives it
    // with just the new units.
    store.state().carts.get_mut(&anonymous()).unwrap().get_mut(&id("p1")).unwrap().migrated_to = Some(user());
    assert_eq!(block_on(change_line(&store, &clock, &anonymous(), &id("p1"), add(1))).unwrap(), 1);
}

#[test]
fn a_line_that_keeps_losing_is_busy_and_unchanged() {
    let store = FakeStore::with(|s| {
        s.add_product("p1", 100, 10);
        s.conflicts = WRITE_ATTEMPTS;
    });
    let result = block_on(change_line(&store, &FixedClock(NOW), &user(), &id("p1"), LineChange::To(1)));
    assert!(matches!(result, Err(CartError::Busy)), "{result:?}");
    assert!(store.state().line(&user(), "p1").is_none());
}

#[test]
fn a_line_never_asks_for_more_than_is_available_but_may_shrink() {
    let store = FakeStore::with(|s| {
        s.add_product("p1", 100, 3);
        s.put_line(&user(), cart_line("p1", 5, NOW + 100));
    });
    let clock = FixedClock(NOW);
    let more = block_on(change_line(&store, &clock, &user(), &id("p1"), LineChange::By { delta: 1, request: None }));
    assert!(matches!(more, Err(CartError::NotEnoughStock { available: 3, .. })), "{more:?}");
    let less = block_on(change_line(&store, &clock, &user(), &id("p1"), LineChange::To(4)));
    assert_eq!(less.unwrap(), 4);
    let gone = block_on(change_line(&store, &clock, &user(), &id("p1"), LineChange::To(0)));
    assert_eq!(gone.unwrap(), 0);
    assert!(store.state().line(&user(), "p1").is_none(), "0 deletes the line");
    let missing = block_on(change_line(&store, &clock, &user(), &id("nope"), LineChange::To(1)));
    assert!(matches!(missing, Err(CartError::ProductNotFound(_))));
}

#[test]
fn a_retried_request_changes_the_line_once() {
    let store = FakeStore::with(|s| s.add_product("p1", 100, 10));
    let change = LineChange::By { delta: 2, request: Some("req-1") };
    for _ in 0..3 {
        assert_eq!(block_on(change_line(&store, &FixedClock(NOW), &anonymous(), &id("p1"), change)).unwrap(), 2);
    }
    assert_eq!(store.state().line(&anonymous(), "p1").unwrap().version, 1);
}

// ---- merge ----

#[test]
fn merging_adds_the_anonymous_lines_and_hands_them_over_for_cleanup() {
    let store = FakeStore::with(|s| {
        s.put_line(&anonymous(), cart_line("p1", 2, NOW + 100));
        s.put_line(&anonymous(), cart_line("p2", 1, NOW + 100));
        s.put_line(&anonymous(), cart_line("old", 1, NOW - 1));
        s.put_line(&user(), cart_line("p1", 3, NOW + 100));
        s.conflicts = 1;
    });
    let cleanup = FakeCleanup::default();
    let cart = block_on(migrate_cart(&store, &FixedClock(NOW), Some(&cleanup), &anonymous(), &user())).unwrap();
    let quantities: Vec<(&str, i64)> = cart.iter().map(|l| (l.product_id.as_str(), l.quantity)).collect();
    assert_eq!(quantities, [("p1", 5), ("p2", 1)]);
    let handed = cleanup.handed.lock().unwrap();
    let handed: Vec<(&str, u64)> = handed.iter().map(|m| (m.product_id.as_str(), m.version)).collect();
    assert_eq!(handed, [("p1", 2), ("p2", 2)], "the versions the migration wrote");
    let state = store.state();
    assert!(state.line(&anonymous(), "p1").unwrap().migrated_to == Some(user()));
    assert!(state.line(&anonymous(), "old").unwrap().migrated_to.is_none(), "expired lines stay behind");
}

#[test]
fn a_second_merge_moves_nothing_twice_and_hands_the_moved_lines_over_again() {
    let store = FakeStore::with(|s| {
        s.put_line(&anonymous(), cart_line("p1", 2, NOW + 100));
        s.put_line(&user(), cart_line("p1", 3, NOW + 100));
    });
    let clock = FixedClock(NOW);
    block_on(merge_carts(&store, &clock, &anonymous(), &user())).unwrap();
    let again = block_on(merge_carts(&store, &clock, &anonymous(), &user())).unwrap();
    assert_eq!(again.cart.iter().map(|l| l.quantity).collect::<Vec<_>>(), [5]);
    let moved: Vec<(&str, u64)> = again.moved.iter().map(|m| (m.product_id.as_str(), m.version)).collect();
    assert_eq!(moved, [("p1", 2)], "still stored, so the cleanup gets it again");
}

#[test]
fn a_merge_stands_when_the_cleanup_cannot_be_told() {
    let store = FakeStore::with(|s| s.put_line(&anonymous(), cart_line("p1", 2, NOW + 100)));
    let cleanup = FakeCleanup { fail: true, ..Default::default() };
    let cart = block_on(migrate_cart(&store, &FixedClock(NOW), Some(&cleanup), &anonymous(), &user())).unwrap();
    assert_eq!(cart.len(), 1);
    assert!(store.state().line(&anonymous(), "p1").unwrap().migrated_to.is_some());
}
