//! Results that finish in any order, handed on in the order they were started.
//!
//! Work runs on many threads and finishes out of order, but every stage that uses it (the
//! load's writer, the chunker's compression, the readers' inflation) must hand its results
//! on in order, so that the output does not depend on timing. Each result carries the key
//! it was started with; the consumer holds early arrivals here until their turn. Memory is
//! bounded by the caller, which limits the results in flight. A leaf module: the pipeline,
//! the output and the query stages all use it, and it depends on none of them.

use std::collections::BTreeMap;
use std::fmt::Debug;

/// Results waiting for their turn, by key.
pub struct Reorder<K, T> {
    waiting: BTreeMap<K, T>,
}

impl<K, T> Default for Reorder<K, T> {
    fn default() -> Self {
        Self {
            waiting: BTreeMap::new(),
        }
    }
}

impl<K: Ord + Copy + Debug, T> Reorder<K, T> {
    /// Holds `item` until [`Reorder::take`] asks for `key`. A key may arrive only once: a
    /// second arrival is a bug in the producer.
    pub fn insert(&mut self, key: K, item: T) {
        let previous = self.waiting.insert(key, item);
        assert!(previous.is_none(), "result {key:?} arrived twice");
    }

    /// Takes the item with `key` if it has arrived.
    pub fn take(&mut self, key: K) -> Option<T> {
        self.waiting.remove(&key)
    }

    /// Takes the first held item, in key order, that `wanted` accepts. The load's writer
    /// uses it when the workers have stopped: a failure can be held behind units that never
    /// started (a file's checksum unit runs before its pieces but is consumed after them).
    pub fn take_first(&mut self, wanted: impl Fn(&T) -> bool) -> Option<T> {
        let key = *self.waiting.iter().find(|(_, item)| wanted(item))?.0;
        self.waiting.remove(&key)
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }
}

/// Results numbered 0, 1, 2, ... as they were started, handed on in that order.
pub struct Sequence<T> {
    waiting: Reorder<u64, T>,
    next: u64,
}

impl<T> Default for Sequence<T> {
    fn default() -> Self {
        Self {
            waiting: Reorder::default(),
            next: 0,
        }
    }
}

impl<T> Sequence<T> {
    /// Holds result number `number` until its turn.
    pub fn insert(&mut self, number: u64, item: T) {
        self.waiting.insert(number, item);
    }

    /// The next result in order, if it has arrived.
    pub fn pop_next(&mut self) -> Option<T> {
        let item = self.waiting.take(self.next)?;
        self.next += 1;
        Some(item)
    }

    /// The number of the result [`Sequence::pop_next`] waits for.
    pub fn next_number(&self) -> u64 {
        self.next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yields_in_key_order_whatever_the_arrival_order() {
        let mut reorder = Reorder::default();
        let arrivals = [
            ((1, 0), "b0"),
            ((0, 1), "a1"),
            ((2, 0), "c0"),
            ((0, 0), "a0"),
            ((1, 1), "b1"),
        ];
        let expected = [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0)];
        let mut taken = Vec::new();
        let mut next = 0;
        for (key, item) in arrivals {
            reorder.insert(key, item);
            while next < expected.len() {
                match reorder.take(expected[next]) {
                    Some(item) => {
                        taken.push(item);
                        next += 1;
                    }
                    None => break,
                }
            }
        }
        assert_eq!(taken, ["a0", "a1", "b0", "b1", "c0"]);
        assert!(reorder.is_empty());
    }

    #[test]
    fn take_first_finds_the_earliest_match_in_key_order() {
        let mut reorder = Reorder::default();
        reorder.insert((5, 0), "failed late");
        reorder.insert((3, 2), "rows");
        reorder.insert((3, 7), "failed early");
        let failed = |item: &&str| item.starts_with("failed");
        assert_eq!(reorder.take_first(failed), Some("failed early"));
        assert_eq!(reorder.take_first(failed), Some("failed late"));
        assert_eq!(reorder.take_first(failed), None);
        assert_eq!(reorder.take((3, 2)), Some("rows"));
    }

    #[test]
    #[should_panic(expected = "arrived twice")]
    fn a_key_that_arrives_twice_is_a_bug() {
        let mut reorder = Reorder::default();
        reorder.insert(1u64, "first");
        reorder.insert(1u64, "again");
    }

    #[test]
    fn a_sequence_hands_results_on_by_number_and_waits_at_gaps() {
        let mut sequence = Sequence::default();
        sequence.insert(2, 'c');
        sequence.insert(1, 'b');
        assert_eq!(sequence.pop_next(), None);
        assert_eq!(sequence.next_number(), 0);
        sequence.insert(0, 'a');
        let drained: Vec<char> = std::iter::from_fn(|| sequence.pop_next()).collect();
        assert_eq!(drained, ['a', 'b', 'c']);
        assert_eq!(sequence.next_number(), 3);
        sequence.insert(4, 'e');
        assert_eq!(sequence.pop_next(), None);
    }
}
