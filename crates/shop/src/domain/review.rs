//! Reviews: what a verified buyer may write about a product, and the rating
//! summary kept beside the product. The summary is a histogram (reviews per
//! star); the count and the average follow from it, so there is one set of
//! counters to keep exact.

use serde::{Deserialize, Serialize};

use super::DomainError;

pub const MAX_TITLE_CHARS: usize = 120;
pub const MAX_BODY_CHARS: usize = 4_000;
pub const MAX_DISPLAY_NAME_CHARS: usize = 40;
/// What a review is signed with when its author gives no name.
pub const DEFAULT_DISPLAY_NAME: &str = "Anonymous";

/// A rating: 1 to 5 stars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Stars(u8);

impl Stars {
    pub fn new(stars: i64) -> Result<Self, DomainError> {
        u8::try_from(stars).ok().filter(|s| (1..=5).contains(s)).map(Self).ok_or(DomainError::InvalidRating)
    }

    pub fn get(self) -> u8 {
        self.0
    }

    /// Every rating, one star first.
    pub fn all() -> impl Iterator<Item = Stars> {
        (1..=5).map(Stars)
    }
}

impl TryFrom<i64> for Stars {
    type Error = DomainError;
    fn try_from(stars: i64) -> Result<Self, DomainError> {
        Self::new(stars)
    }
}

impl From<Stars> for i64 {
    fn from(stars: Stars) -> i64 {
        i64::from(stars.0)
    }
}

/// What the author wrote, checked: the title and the name trimmed and not
/// empty, the body trimmed (it may be empty), each within its length in
/// characters. Plain text: stored as given, never read as markup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewText {
    pub rating: Stars,
    pub title: String,
    pub body: String,
    pub display_name: String,
}

impl ReviewText {
    pub fn new(rating: Stars, title: &str, body: &str, display_name: Option<&str>) -> Result<Self, DomainError> {
        let title = title.trim();
        if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
            return Err(DomainError::InvalidReviewTitle);
        }
        let body = body.trim();
        if body.chars().count() > MAX_BODY_CHARS {
            return Err(DomainError::InvalidReviewBody);
        }
        let display_name = match display_name.map(str::trim) {
            None => DEFAULT_DISPLAY_NAME,
            Some(name) if name.is_empty() || name.chars().count() > MAX_DISPLAY_NAME_CHARS => {
                return Err(DomainError::InvalidDisplayName)
            }
            // A public name is never an address: it would publish the author's.
            Some(name) if name.contains('@') => return Err(DomainError::InvalidDisplayName),
            Some(name) => name,
        };
        if [title, body, display_name].iter().any(|t| t.chars().any(is_hidden_control)) {
            return Err(DomainError::ControlCharacters);
        }
        Ok(Self { rating, title: title.to_owned(), body: body.to_owned(), display_name: display_name.to_owned() })
    }
}

/// Control characters other than line breaks and tabs have no place in text
/// a person reads.
fn is_hidden_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\n' | '\r' | '\t')
}

/// A review as stored: `author` is the writer's `sub`, kept to find their
/// own review and never shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Review {
    pub review_id: String,
    pub product_id: String,
    pub author: String,
    pub display_name: String,
    pub rating: Stars,
    pub title: String,
    pub body: String,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<i64>,
    /// Bumped by every edit: an edit or delete applies to the version read.
    pub version: u64,
}

impl Review {
    pub fn new(review_id: String, product_id: &str, author: &str, text: ReviewText, now: i64) -> Self {
        Self {
            review_id,
            product_id: product_id.to_owned(),
            author: author.to_owned(),
            display_name: text.display_name,
            rating: text.rating,
            title: text.title,
            body: text.body,
            created_at: now,
            edited_at: None,
            version: 1,
        }
    }

    /// This review with the author's new text, edited at `now`.
    pub fn edited(&self, text: ReviewText, now: i64) -> Self {
        Self {
            display_name: text.display_name,
            rating: text.rating,
            title: text.title,
            body: text.body,
            edited_at: Some(now),
            version: self.version + 1,
            ..self.clone()
        }
    }
}

/// A product's reviews per star: `histogram[0]` one-star reviews, ...,
/// `histogram[4]` five-star ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct RatingSummary {
    pub histogram: [i64; 5],
}

impl RatingSummary {
    pub fn count(&self) -> i64 {
        self.histogram.iter().sum()
    }

    /// The sum of all ratings.
    pub fn total_stars(&self) -> i64 {
        self.histogram.iter().zip(1..).map(|(reviews, stars)| reviews * stars).sum()
    }

    /// The mean rating, `None` before the first review.
    pub fn average(&self) -> Option<f64> {
        let count = self.count();
        (count > 0).then(|| self.total_stars() as f64 / count as f64)
    }

    pub fn add(&mut self, stars: Stars) {
        self.histogram[usize::from(stars.get() - 1)] += 1;
    }
}

/// A product with its rating summary, as the catalog shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct RatedProduct {
    pub product: super::Product,
    pub rating: RatingSummary,
}

/// How one review write moves its product's histogram: a new review adds a
/// star, a deleted one removes one, an edit may move one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatingChange {
    pub removed: Option<Stars>,
    pub added: Option<Stars>,
}

impl RatingChange {
    pub fn created(stars: Stars) -> Self {
        Self { removed: None, added: Some(stars) }
    }

    pub fn deleted(stars: Stars) -> Self {
        Self { removed: Some(stars), added: None }
    }

    /// An edit: nothing moves when the rating stays.
    pub fn edited(from: Stars, to: Stars) -> Self {
        if from == to {
            Self { removed: None, added: None }
        } else {
            Self { removed: Some(from), added: Some(to) }
        }
    }

    /// The change per star (index 0: one star), non-zero entries only.
    pub fn deltas(&self) -> Vec<(Stars, i64)> {
        self.removed.map(|s| (s, -1)).into_iter().chain(self.added.map(|s| (s, 1))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_are_one_to_five_stars() {
        assert!(Stars::new(1).is_ok() && Stars::new(5).is_ok());
        for bad in [0, 6, -1, 256 + 3] {
            assert_eq!(Stars::new(bad), Err(DomainError::InvalidRating), "{bad}");
        }
        assert_eq!(serde_json::from_str::<Stars>("4").unwrap().get(), 4);
        assert!(serde_json::from_str::<Stars>("7").is_err());
    }

    #[test]
    fn review_text_is_trimmed_and_bounded_in_characters() {
        let five = Stars::new(5).unwrap();
        let text = ReviewText::new(five, "  Lovely  ", "\n Tasty. \n", None).unwrap();
        assert_eq!((text.title.as_str(), text.body.as_str()), ("Lovely", "Tasty."));
        assert_eq!(text.display_name, DEFAULT_DISPLAY_NAME);
        assert_eq!(ReviewText::new(five, "   ", "", None), Err(DomainError::InvalidReviewTitle));
        assert!(ReviewText::new(five, &"é".repeat(MAX_TITLE_CHARS), &"ü".repeat(MAX_BODY_CHARS), None).is_ok());
        assert_eq!(ReviewText::new(five, &"t".repeat(121), "", None), Err(DomainError::InvalidReviewTitle));
        assert_eq!(ReviewText::new(five, "t", &"b".repeat(4_001), None), Err(DomainError::InvalidReviewBody));
        assert_eq!(ReviewText::new(five, "t", "", Some("ann@example.com")), Err(DomainError::InvalidDisplayName));
        assert_eq!(ReviewText::new(five, "t", "", Some(" ")), Err(DomainError::InvalidDisplayName));
        assert_eq!(ReviewText::new(five, "t\u{0}", "", None), Err(DomainError::ControlCharacters));
        let markup = "<script>alert(1)</script>";
        assert_eq!(ReviewText::new(five, markup, markup, Some("Ann")).unwrap().body, markup, "stored as given");
    }

    #[test]
    fn the_summary_follows_from_the_histogram() {
        let mut summary = RatingSummary::default();
        assert_eq!((summary.count(), summary.average()), (0, None));
        for stars in [5, 4, 4] {
            summary.add(Stars::new(stars).unwrap());
        }
        assert_eq!(summary.histogram, [0, 0, 0, 2, 1]);
        assert_eq!((summary.count(), summary.total_stars()), (3, 13));
        assert_eq!(summary.average(), Some(13.0 / 3.0));
    }

    #[test]
    fn an_edit_moves_a_star_only_when_the_rating_changes() {
        let (two, four) = (Stars::new(2).unwrap(), Stars::new(4).unwrap());
        assert_eq!(RatingChange::edited(four, four).deltas(), []);
        assert_eq!(RatingChange::edited(two, four).deltas(), [(two, -1), (four, 1)]);
        assert_eq!(RatingChange::created(two).deltas(), [(two, 1)]);
        assert_eq!(RatingChange::deleted(four).deltas(), [(four, -1)]);
    }
}
