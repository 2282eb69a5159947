//! The review rules without the emulator: a fake keeps reviews, marks,
//! purchases and each product's histogram in memory, checks versions as the
//! port promises and can be told to lose the next races.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use super::ports::{FixedClock, ReviewCreated, ReviewStore, StoreError};
use super::reviews::{delete_review, edit_review, write_review, Actor, ReviewError, ReviewInput};
use crate::domain::{DomainError, ProductId, RatingChange, RatingSummary, Review};

#[derive(Default)]
struct State {
    products: BTreeSet<String>,
    /// (sub, product) pairs of paid orders.
    bought: BTreeSet<(String, String)>,
    reviews: BTreeMap<String, Review>,
    /// (sub, product) → review id.
    /// The author's review of a product, or `None`: removed by a moderator.
    marks: HashMap<(String, String), Option<String>>,
    ratings: HashMap<String, RatingSummary>,
    conflicts: usize,
    reads: usize,
}

#[derive(Default)]
struct FakeReviews(Mutex<State>);

impl FakeReviews {
    fn shop() -> Self {
        let fake = Self::default();
        let mut state = fake.0.lock().unwrap();
        state.products.insert("p1".into());
        state.bought.insert(("ann".into(), "p1".into()));
        state.bought.insert(("bob".into(), "p1".into()));
        drop(state);
        fake
    }

    fn rating(&self) -> [i64; 5] {
        self.0.lock().unwrap().ratings.get("p1").copied().unwrap_or_default().histogram
    }
}

impl State {
    fn apply(&mut self, product: &str, change: RatingChange) {
        let summary = self.ratings.entry(product.to_owned()).or_default();
        for (stars, by) in change.deltas() {
            summary.histogram[usize::from(stars.get() - 1)] += by;
        }
    }

    fn still(&mut self, read: &Review) -> Result<(), StoreError> {
        if self.conflicts > 0 {
            self.conflicts -= 1;
            return Err(StoreError::Conflict);
        }
        match self.reviews.get(&read.review_id) {
            Some(stored) if stored.version == read.version => Ok(()),
            _ => Err(StoreError::Conflict),
        }
    }
}

impl ReviewStore for FakeReviews {
    async fn review(&self, _product: &ProductId, review_id: &str) -> Result<Option<Review>, StoreError> {
        let mut state = self.0.lock().unwrap();
        state.reads += 1;
        Ok(state.reviews.get(review_id).cloned())
    }

    async fn create_review(&self, review: &Review) -> Result<ReviewCreated, StoreError> {
        let mut state = self.0.lock().unwrap();
        let who = (review.author.clone(), review.product_id.clone());
        if !state.bought.contains(&who) {
            return Ok(ReviewCreated::NotABuyer);
        }
        if !state.products.contains(&review.product_id) {
            return Ok(ReviewCreated::NoSuchProduct);
        }
        match state.marks.get(&who) {
            Some(Some(id)) => return Ok(ReviewCreated::AlreadyReviewed { review_id: id.clone() }),
            Some(None) => return Ok(ReviewCreated::RemovedByModerator),
            None => {}
        }
        state.marks.insert(who, Some(review.review_id.clone()));
        state.reviews.insert(review.review_id.clone(), review.clone());
        state.apply(&review.product_id, RatingChange::created(review.rating));
        Ok(ReviewCreated::Created)
    }

    async fn replace_review(&self, read: &Review, edited: &Review) -> Result<(), StoreError> {
        let mut state = self.0.lock().unwrap();
        state.still(read)?;
        state.reviews.insert(edited.review_id.clone(), edited.clone());
        state.apply(&read.product_id, RatingChange::edited(read.rating, edited.rating));
        Ok(())
    }

    async fn delete_review(&self, read: &Review, moderated: bool) -> Result<(), StoreError> {
        let mut state = self.0.lock().unwrap();
        state.still(read)?;
        state.reviews.remove(&read.review_id);
        let mark = (read.author.clone(), read.product_id.clone());
        if moderated {
            state.marks.insert(mark, None);
        } else {
            state.marks.remove(&mark);
        }
        state.apply(&read.product_id, RatingChange::deleted(read.rating));
        Ok(())
    }
}

fn p1() -> ProductId {
    ProductId::parse("p1").unwrap()
}

fn input(rating: i64, title: &str) -> ReviewInput {
    ReviewInput { rating, title: title.into(), body: String::new(), display_name: None }
}

const ANN: Actor = Actor { sub: "ann", is_admin: false };
const BOB: Actor = Actor { sub: "bob", is_admin: false };
const ADMIN: Actor = Actor { sub: "root", is_admin: true };

async fn written(store: &FakeReviews, who: &str, rating: i64) -> Review {
    write_review(store, &FixedClock(100), &p1(), who, &input(rating, "Fine")).await.unwrap()
}

#[tokio::test]
async fn a_buyer_reviews_once_and_the_star_counts() {
    let store = FakeReviews::shop();
    let first = written(&store, "ann", 4).await;
    assert_eq!(store.rating(), [0, 0, 0, 1, 0]);
    let again = write_review(&store, &FixedClock(101), &p1(), "ann", &input(5, "Again")).await;
    assert!(
        matches!(&again, Err(ReviewError::AlreadyReviewed { review_id }) if *review_id == first.review_id),
        "{again:?}"
    );
    let stranger = write_review(&store, &FixedClock(101), &p1(), "eve", &input(1, "Never bought it")).await;
    assert!(matches!(stranger, Err(ReviewError::NotABuyer)), "{stranger:?}");
    assert_eq!(store.rating(), [0, 0, 0, 1, 0], "refusals change nothing");
}

#[tokio::test]
async fn bad_text_is_refused_before_anything_is_read() {
    let store = FakeReviews::shop();
    for (rating, title) in [(0, "Zero"), (6, "Six"), (3, "  ")] {
        let refused = write_review(&store, &FixedClock(100), &p1(), "ann", &input(rating, title)).await;
        assert!(matches!(refused, Err(ReviewError::Invalid(_))), "{refused:?}");
    }
    let review = written(&store, "ann", 3).await;
    let refused = edit_review(&store, &FixedClock(100), &p1(), &review.review_id, ANN, &input(9, "x")).await;
    assert!(matches!(refused, Err(ReviewError::Invalid(DomainError::InvalidRating))), "{refused:?}");
    assert_eq!(store.0.lock().unwrap().reads, 0);
}

#[tokio::test]
async fn an_edit_moves_the_star_and_keeps_the_name_unless_given() {
    let store = FakeReviews::shop();
    let mut first = input(2, "Meh");
    first.display_name = Some("Ann K.".into());
    let review = write_review(&store, &FixedClock(100), &p1(), "ann", &first).await.unwrap();
    let edited =
        edit_review(&store, &FixedClock(200), &p1(), &review.review_id, ANN, &input(5, "Grew on me")).await.unwrap();
    assert_eq!(store.rating(), [0, 0, 0, 0, 1]);
    assert_eq!((edited.display_name.as_str(), edited.edited_at, edited.version), ("Ann K.", Some(200), 2));
    edit_review(&store, &FixedClock(300), &p1(), &review.review_id, ANN, &input(5, "Still great")).await.unwrap();
    assert_eq!(store.rating(), [0, 0, 0, 0, 1], "the same rating moves nothing");
}

#[tokio::test]
async fn only_the_author_edits_and_an_admin_only_deletes() {
    let store = FakeReviews::shop();
    let review = written(&store, "ann", 4).await;
    for actor in [BOB, ADMIN] {
        let refused = edit_review(&store, &FixedClock(200), &p1(), &review.review_id, actor, &input(1, "Hijack")).await;
        assert!(matches!(refused, Err(ReviewError::NotFound(_))), "{refused:?}");
    }
    let refused = delete_review(&store, &p1(), &review.review_id, BOB).await;
    assert!(matches!(refused, Err(ReviewError::NotFound(_))), "{refused:?}");
    assert_eq!(store.rating(), [0, 0, 0, 1, 0]);
    delete_review(&store, &p1(), &review.review_id, ADMIN).await.unwrap();
    assert_eq!(store.rating(), [0; 5]);
    // Moderation sticks: the author cannot post the same review again.
    let again = write_review(&store, &FixedClock(300), &p1(), "ann", &input(4, "Again")).await;
    assert!(matches!(again, Err(ReviewError::RemovedByModerator)), "{again:?}");
    assert!(again.unwrap_err().to_string().contains("a moderator removed your review"));
    assert_eq!(store.rating(), [0; 5]);
}

#[tokio::test]
async fn an_author_who_deletes_their_own_review_may_write_again() {
    let store = FakeReviews::shop();
    let review = written(&store, "bob", 4).await;
    delete_review(&store, &p1(), &review.review_id, BOB).await.unwrap();
    written(&store, "bob", 2).await;
    assert_eq!(store.rating(), [0, 1, 0, 0, 0]);
}

#[tokio::test]
async fn a_lost_race_is_read_again_and_applied_once() {
    let store = FakeReviews::shop();
    let review = written(&store, "ann", 1).await;
    store.0.lock().unwrap().conflicts = 2;
    edit_review(&store, &FixedClock(200), &p1(), &review.review_id, ANN, &input(3, "Better")).await.unwrap();
    assert_eq!(store.rating(), [0, 0, 1, 0, 0]);
    store.0.lock().unwrap().conflicts = super::WRITE_ATTEMPTS;
    let busy = delete_review(&store, &p1(), &review.review_id, ANN).await;
    assert!(matches!(busy, Err(ReviewError::Busy)), "{busy:?}");
    assert_eq!(store.rating(), [0, 0, 1, 0, 0], "a write that keeps losing changes nothing");
    delete_review(&store, &p1(), &review.review_id, ANN).await.unwrap();
    let gone = delete_review(&store, &p1(), &review.review_id, ANN).await;
    assert!(matches!(gone, Err(ReviewError::NotFound(_))), "a second delete finds nothing: {gone:?}");
    assert_eq!(store.rating(), [0; 5]);
}
