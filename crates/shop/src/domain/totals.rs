//! Exact per-product cart totals from stream records delivered at least once:
//! a record says what its cart line counts now (a state, not a delta), and it
//! moves the total only if it is newer than the one the line last took.

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

#[cfg(test)]
mod tests {
    use super::*;

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
