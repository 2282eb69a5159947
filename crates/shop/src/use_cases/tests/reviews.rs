//! Reviews: one per verified buyer, edits by the author, deletes by the
//! author or a moderator, and the rating summary that moves with each.

use super::fake::FakeStore;
use crate::domain::{DomainError, ProductId, Review};
use crate::use_cases::ports::FixedClock;
use crate::use_cases::reviews::{delete_review, edit_review, write_review, Actor, ReviewError, ReviewInput};

fn p1() -> ProductId {
    ProductId::parse("p1").unwrap()
}

fn input(rating: i64, title: &str) -> ReviewInput {
    ReviewInput { rating, title: title.into(), body: String::new(), display_name: None }
}

const ANN: Actor = Actor { sub: "ann", is_admin: false };
const BOB: Actor = Actor { sub: "bob", is_admin: false };
const ADMIN: Actor = Actor { sub: "root", is_admin: true };

async fn written(store: &FakeStore, who: &str, rating: i64) -> Review {
    write_review(store, &FixedClock(100), &p1(), who, &input(rating, "Fine")).await.unwrap()
}

#[tokio::test]
async fn a_buyer_reviews_once_and_the_star_counts() {
    let store = FakeStore::buyers_of_p1();
    let first = written(&store, "ann", 4).await;
    assert_eq!(store.rating_of_p1(), [0, 0, 0, 1, 0]);
    let again = write_review(&store, &FixedClock(101), &p1(), "ann", &input(5, "Again")).await;
    assert!(
        matches!(&again, Err(ReviewError::AlreadyReviewed { review_id }) if *review_id == first.review_id),
        "{again:?}"
    );
    let stranger = write_review(&store, &FixedClock(101), &p1(), "eve", &input(1, "Never bought it")).await;
    assert!(matches!(stranger, Err(ReviewError::NotABuyer)), "{stranger:?}");
    assert_eq!(store.rating_of_p1(), [0, 0, 0, 1, 0], "refusals change nothing");
}

#[tokio::test]
async fn bad_text_is_refused_before_anything_is_read() {
    let store = FakeStore::buyers_of_p1();
    for (rating, title) in [(0, "Zero"), (6, "Six"), (3, "  ")] {
        let refused = write_review(&store, &FixedClock(100), &p1(), "ann", &input(rating, title)).await;
        assert!(matches!(refused, Err(ReviewError::Invalid(_))), "{refused:?}");
    }
    let review = written(&store, "ann", 3).await;
    let refused = edit_review(&store, &FixedClock(100), &p1(), &review.review_id, ANN, &input(9, "x")).await;
    assert!(matches!(refused, Err(ReviewError::Invalid(DomainError::InvalidRating))), "{refused:?}");
    assert_eq!(store.state().review_reads, 0);
}

#[tokio::test]
async fn an_edit_moves_the_star_and_keeps_the_name_unless_given() {
    let store = FakeStore::buyers_of_p1();
    let mut first = input(2, "Meh");
    first.display_name = Some("Ann K.".into());
    let review = write_review(&store, &FixedClock(100), &p1(), "ann", &first).await.unwrap();
    let edited =
        edit_review(&store, &FixedClock(200), &p1(), &review.review_id, ANN, &input(5, "Grew on me")).await.unwrap();
    assert_eq!(store.rating_of_p1(), [0, 0, 0, 0, 1]);
    assert_eq!((edited.display_name.as_str(), edited.edited_at, edited.version), ("Ann K.", Some(200), 2));
    edit_review(&store, &FixedClock(300), &p1(), &review.review_id, ANN, &input(5, "Still great")).await.unwrap();
    assert_eq!(store.rating_of_p1(), [0, 0, 0, 0, 1], "the same rating moves nothing");
}

#[tokio::test]
async fn only_the_author_edits_and_an_admin_only_deletes() {
    let store = FakeStore::buyers_of_p1();
    let review = written(&store, "ann", 4).await;
    for actor in [BOB, ADMIN] {
        let refused = edit_review(&store, &FixedClock(200), &p1(), &review.review_id, actor, &input(1, "Hijack")).await;
        assert!(matches!(refused, Err(ReviewError::NotFound(_))), "{refused:?}");
    }
    let refused = delete_review(&store, &p1(), &review.review_id, BOB).await;
    assert!(matches!(refused, Err(ReviewError::NotFound(_))), "{refused:?}");
    assert_eq!(store.rating_of_p1(), [0, 0, 0, 1, 0]);
    delete_review(&store, &p1(), &review.review_id, ADMIN).await.unwrap();
    assert_eq!(store.rating_of_p1(), [0; 5]);
    // Moderation sticks: the author cannot post the same review again.
    let again = write_review(&store, &FixedClock(300), &p1(), "ann", &input(4, "Again")).await;
    assert!(matches!(again, Err(ReviewError::RemovedByModerator)), "{again:?}");
    assert!(again.unwrap_err().to_string().contains("a moderator removed your review"));
    assert_eq!(store.rating_of_p1(), [0; 5]);
}

#[tokio::test]
async fn an_author_who_deletes_their_own_review_may_write_again() {
    let store = FakeStore::buyers_of_p1();
    let review = written(&store, "bob", 4).await;
    delete_review(&store, &p1(), &review.review_id, BOB).await.unwrap();
    written(&store, "bob", 2).await;
    assert_eq!(store.rating_of_p1(), [0, 1, 0, 0, 0]);
}

#[tokio::test]
async fn a_lost_race_is_read_again_and_applied_once() {
    let store = FakeStore::buyers_of_p1();
    let review = written(&store, "ann", 1).await;
    store.state().conflicts = 2;
    edit_review(&store, &FixedClock(200), &p1(), &review.review_id, ANN, &input(3, "Better")).await.unwrap();
    assert_eq!(store.rating_of_p1(), [0, 0, 1, 0, 0]);
    store.state().conflicts = crate::use_cases::WRITE_ATTEMPTS;
    let busy = delete_review(&store, &p1(), &review.review_id, ANN).await;
    assert!(matches!(busy, Err(ReviewError::Busy)), "{busy:?}");
    assert_eq!(store.rating_of_p1(), [0, 0, 1, 0, 0], "a write that keeps losing changes nothing");
    delete_review(&store, &p1(), &review.review_id, ANN).await.unwrap();
    let gone = delete_review(&store, &p1(), &review.review_id, ANN).await;
    assert!(matches!(gone, Err(ReviewError::NotFound(_))), "a second delete finds nothing: {gone:?}");
    assert_eq!(store.rating_of_p1(), [0; 5]);
}

#[tokio::test]
async fn a_review_of_a_product_that_does_not_exist_is_not_found_whoever_writes_it() {
    let store = FakeStore::buyers_of_p1();
    let missing = ProductId::parse("gone").unwrap();
    for who in ["ann", "eve"] {
        let refused = write_review(&store, &FixedClock(100), &missing, who, &input(5, "Great")).await;
        assert!(matches!(&refused, Err(ReviewError::NoSuchProduct(id)) if id == "gone"), "{who}: {refused:?}");
    }
}
