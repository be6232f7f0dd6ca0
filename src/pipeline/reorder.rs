//! Puts parts that arrive in any order back into load order.
//!
//! Workers finish units out of order; every part they send carries a sequence key
//! `(unit, part)`. The writer asks for the next key it needs and holds the others. Memory is
//! bounded by the buffer pool: a held part owns one of its buffers (or none).

use std::collections::BTreeMap;

/// Parts waiting for their turn, keyed by `(unit, part)`.
pub struct Reorder<T> {
    waiting: BTreeMap<(usize, u32), T>,
}

impl<T> Default for Reorder<T> {
    fn default() -> Self {
        Self {
            waiting: BTreeMap::new(),
        }
    }
}

impl<T> Reorder<T> {
    pub fn insert(&mut self, unit: usize, part: u32, item: T) {
        let previous = self.waiting.insert((unit, part), item);
        assert!(previous.is_none(), "part ({unit}, {part}) sent twice");
    }

    /// Takes the item with key `(unit, part)` if it has arrived.
    pub fn take(&mut self, unit: usize, part: u32) -> Option<T> {
        self.waiting.remove(&(unit, part))
    }

    /// Takes the first held item, in key order, that `wanted` accepts. The writer uses it
    /// when the workers have stopped: a failure can be held behind units that never started
    /// (a file's checksum unit runs before its pieces but is consumed after them).
    pub fn take_first(&mut self, wanted: impl Fn(&T) -> bool) -> Option<T> {
        let key = *self.waiting.iter().find(|(_, item)| wanted(item))?.0;
        self.waiting.remove(&key)
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yields_in_key_order_whatever_the_arrival_order() {
        let mut reorder = Reorder::default();
        let arrivals = [
            (1, 0, "b0"),
            (0, 1, "a1"),
            (2, 0, "c0"),
            (0, 0, "a0"),
            (1, 1, "b1"),
        ];
        let expected = [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0)];
        let mut taken = Vec::new();
        let mut next = 0;
        for (unit, part, item) in arrivals {
            reorder.insert(unit, part, item);
            while next < expected.len() {
                let (unit, part) = expected[next];
                match reorder.take(unit, part) {
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
        reorder.insert(5, 0, "failed late");
        reorder.insert(3, 2, "rows");
        reorder.insert(3, 7, "failed early");
        let failed = |item: &&str| item.starts_with("failed");
        assert_eq!(reorder.take_first(failed), Some("failed early"));
        assert_eq!(reorder.take_first(failed), Some("failed late"));
        assert_eq!(reorder.take_first(failed), None);
        assert_eq!(reorder.take(3, 2), Some("rows"));
    }
}
