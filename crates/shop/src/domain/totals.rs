//! Exact per-product cart totals from stream records delivered at least once:
//! a record says what its cart line counts now (a state, not a delta), and it
//! moves the total only if it is newer than the one the line last took.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A DynamoDB Streams sequence number, zero-padded so that its string order is
/// its numeric order (they are decimal strings of up to 40 digits).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SequenceNumber(String);

impl SequenceNumber {
    const WIDTH: usize = 40;

    pub fn parse(raw: &str) -> Option<Self> {
        let ok = !raw.is_empty() && raw.len() <= Self::WIDTH && raw.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| Self(format!("{raw:0>width$}", width = Self::WIDTH)))
    }

    /// The padded text, as stored: its string order is the numeric order.
    pub fn as_padded(&self) -> &str {
        &self.0
    }

    /// The number as it was before padding (what the stream calls it).
    pub fn as_stream_text(&self) -> &str {
        let trimmed = self.0.trim_start_matches('0');
        if trimmed.is_empty() {
            "0"
        } else {
            trimmed
        }
    }
}

/// What one record does to the counted line it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountDecision {
    /// Not newer than the record the line last took: applied already.
    Replayed,
    /// Newer, but the count stays as it is: nothing to write.
    Unchanged,
    /// The line takes the new count and the total moves by `delta`.
    Apply { delta: i64 },
}

/// `stored`: the line's last sequence number and count, if it was ever counted.
pub fn decide_count(stored: Option<(&SequenceNumber, i64)>, sequence: &SequenceNumber, counted: i64) -> CountDecision {
    if stored.is_some_and(|(last, _)| last >= sequence) {
        return CountDecision::Replayed;
    }
    // A change that leaves the count as it is (a checkout mark, a TTL refresh,
    // the emulator's keys-only INSERT) needs no write: the stored line already
    // says what this record says, and any older record is older than it too.
    let before = stored.map_or(0, |(_, c)| c);
    if counted == before {
        CountDecision::Unchanged
    } else {
        CountDecision::Apply { delta: counted - before }
    }
}

/// One record of a batch of stream records: where it stands in the batch,
/// the product and the cart line it counts, and the record itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRecord<P, L, R> {
    pub index: usize,
    pub product: P,
    pub line: L,
    pub record: R,
}

/// A product's part of a batch: the position of its earliest record (a
/// retry must start there if any of it fails) and the newest record of each
/// of its cart lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductRecords<R> {
    pub first_index: usize,
    pub newest: Vec<R>,
}

/// Of a batch's records, only the newest of each cart line matters (a count
/// is a state, not a delta: a later record of a line replaces an earlier
/// one), grouped per product. Records come in stream order, which is each
/// line's order.
pub fn newest_per_line<P: Ord, L: Ord, R>(
    records: impl IntoIterator<Item = BatchRecord<P, L, R>>,
) -> Vec<ProductRecords<R>> {
    let mut per_product: BTreeMap<P, (usize, BTreeMap<L, R>)> = BTreeMap::new();
    for BatchRecord { index, product, line, record } in records {
        let (first, lines) = per_product.entry(product).or_insert((index, BTreeMap::new()));
        *first = (*first).min(index);
        lines.insert(line, record);
    }
    per_product
        .into_values()
        .map(|(first_index, lines)| ProductRecords { first_index, newest: lines.into_values().collect() })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_newest_record_of_each_line_counts_and_a_retry_starts_at_a_products_first() {
        let record = |index, product, line, count| BatchRecord { index, product, line, record: (line, count) };
        let batch = vec![
            record(0, "p2", "cart-a", 1),
            record(1, "p1", "cart-a", 5),
            record(2, "p2", "cart-a", 3),
            record(3, "p1", "cart-b", 2),
            record(4, "p2", "cart-b", 7),
        ];
        assert_eq!(
            newest_per_line(batch),
            vec![
                ProductRecords { first_index: 1, newest: vec![("cart-a", 5), ("cart-b", 2)] },
                ProductRecords { first_index: 0, newest: vec![("cart-a", 3), ("cart-b", 7)] },
            ]
        );
    }

    #[test]
    fn sequence_numbers_order_numerically() {
        let a = SequenceNumber::parse("999").unwrap();
        let b = SequenceNumber::parse("1000").unwrap();
        assert!(a < b);
        assert_eq!(b.as_stream_text(), "1000");
        let long = "4".repeat(40);
        assert!(SequenceNumber::parse(&long).unwrap() > b);
        for bad in ["", "12a", "-1", &"1".repeat(41)] {
            assert!(SequenceNumber::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_record_moves_the_total_once_by_the_difference() {
        let seq = |n: &str| SequenceNumber::parse(n).unwrap();
        assert_eq!(decide_count(None, &seq("5"), 3), CountDecision::Apply { delta: 3 });
        assert_eq!(decide_count(Some((&seq("5"), 3)), &seq("9"), 1), CountDecision::Apply { delta: -2 });
        assert_eq!(decide_count(Some((&seq("5"), 3)), &seq("9"), 0), CountDecision::Apply { delta: -3 });
        // Redelivered, or older than what the line took: nothing twice.
        assert_eq!(decide_count(Some((&seq("9"), 1)), &seq("9"), 1), CountDecision::Replayed);
        assert_eq!(decide_count(Some((&seq("1000"), 1)), &seq("999"), 4), CountDecision::Replayed);
        assert_eq!(decide_count(Some((&seq("5"), 3)), &seq("6"), 3), CountDecision::Unchanged);
        assert_eq!(decide_count(None, &seq("6"), 0), CountDecision::Unchanged);
    }
}
