//! `--shard K/N`: one of N independent tasks loads a contiguous, byte-balanced slice of
//! the sorted inputs, so that concatenating the N parts in shard order gives exactly what
//! one load of all the inputs gives.
//!
//! An input goes to the shard its byte midpoint falls in: with `before` the bytes of the
//! inputs ahead of it, shard `floor((before + size / 2) * N / total)`. That index never
//! decreases along the sorted list, so every shard is a contiguous run, and each holds
//! about `total / N` bytes. Every task computes the same assignment from the same sorted
//! list without talking to the others. `--shard slurm` reads K and N from a Slurm array
//! job's environment.

use crate::error::{Error, Result};
use crate::input::discover::Input;

/// Shard `index` (1-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Parses `K/N` (1 <= K <= N), or `slurm` with `lookup` reading the environment.
    pub fn parse(spec: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        if spec == "slurm" {
            return Self::from_slurm(lookup);
        }
        let invalid = || {
            Error::usage(format!(
                "--shard {spec:?}: expected K/N with 1 <= K <= N (e.g. 2/8), or slurm"
            ))
        };
        let (k, n) = spec.split_once('/').ok_or_else(invalid)?;
        let (index, count) = (
            k.parse().map_err(|_| invalid())?,
            n.parse().map_err(|_| invalid())?,
        );
        if index == 0 || index > count {
            return Err(invalid());
        }
        Ok(Self { index, count })
    }

    fn from_slurm(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let number = |name: &str| -> Result<Option<usize>> {
            match lookup(name) {
                None => Ok(None),
                Some(value) => value.trim().parse().map(Some).map_err(|_| {
                    Error::usage(format!(
                        "--shard slurm: {name}={value:?} is not a whole number"
                    ))
                }),
            }
        };
        let id = number("SLURM_ARRAY_TASK_ID")?.ok_or_else(|| {
            Error::usage(
                "--shard slurm: SLURM_ARRAY_TASK_ID is not set; run inside a Slurm array job \
                 (sbatch --array) or give --shard K/N",
            )
        })?;
        let min = number("SLURM_ARRAY_TASK_MIN")?;
        let max = number("SLURM_ARRAY_TASK_MAX")?;
        let count = number("SLURM_ARRAY_TASK_COUNT")?;
        let (first, count) = match (min, max, count) {
            (Some(min), Some(max), _) if max >= min => (min, max - min + 1),
            (min, _, Some(count)) => (min.unwrap_or(0), count),
            _ => {
                return Err(Error::usage(
                    "--shard slurm: need SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_MAX, or \
                     SLURM_ARRAY_TASK_COUNT, to know the number of shards",
                ))
            }
        };
        // Task ids must be first, first + 1, ...: `--array=0-15` or `--array=1-16`, not steps.
        if id < first || id - first >= count {
            return Err(Error::usage(format!(
                "--shard slurm: task {id} is outside the array {first}..{}; use a contiguous \
                 --array range such as 1-{count}",
                first + count - 1
            )));
        }
        Ok(Self {
            index: id - first + 1,
            count,
        })
    }

    /// The inputs this shard loads, in order.
    pub fn select(&self, inputs: Vec<Input>) -> Vec<Input> {
        let total: u64 = inputs.iter().map(|input| input.size).sum();
        let files = inputs.len() as u128;
        let mut before = 0u64;
        let mut chosen = Vec::new();
        for (position, input) in inputs.into_iter().enumerate() {
            let shard = if total == 0 {
                // Nothing to balance: spread by count.
                position as u128 * self.count as u128 / files
            } else {
                (2 * before as u128 + input.size as u128) * self.count as u128 / (2 * total as u128)
            };
            before += input.size;
            if shard as usize + 1 == self.index {
                chosen.push(input);
            }
        }
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn parses_k_of_n() {
        let none = |_: &str| None;
        assert_eq!(
            Shard::parse("2/3", none).unwrap(),
            Shard { index: 2, count: 3 }
        );
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", ""] {
            assert!(Shard::parse(bad, none).is_err(), "{bad}");
        }
    }

    #[test]
    fn slurm_environment() {
        let env = |pairs: &[(&str, &str)]| {
            let map: HashMap<String, String> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            move |name: &str| map.get(name).cloned()
        };
        let shard = Shard::parse(
            "slurm",
            env(&[
                ("SLURM_ARRAY_TASK_ID", "0"),
                ("SLURM_ARRAY_TASK_MIN", "0"),
                ("SLURM_ARRAY_TASK_MAX", "3"),
            ]),
        );
        assert_eq!(shard.unwrap(), Shard { index: 1, count: 4 });
        let shard = Shard::parse(
            "slurm",
            env(&[
                ("SLURM_ARRAY_TASK_ID", "5"),
                ("SLURM_ARRAY_TASK_MIN", "1"),
                ("SLURM_ARRAY_TASK_MAX", "8"),
            ]),
        );
        assert_eq!(shard.unwrap(), Shard { index: 5, count: 8 });
        let shard = Shard::parse(
            "slurm",
            env(&[
                ("SLURM_ARRAY_TASK_ID", "2"),
                ("SLURM_ARRAY_TASK_COUNT", "3"),
            ]),
        );
        assert_eq!(shard.unwrap(), Shard { index: 3, count: 3 });
        let error = Shard::parse("slurm", env(&[])).unwrap_err();
        assert!(
            error.to_string().contains("SLURM_ARRAY_TASK_ID is not set"),
            "{error}"
        );
        let error = Shard::parse("slurm", env(&[("SLURM_ARRAY_TASK_ID", "2")])).unwrap_err();
        assert!(
            error.to_string().contains("SLURM_ARRAY_TASK_COUNT"),
            "{error}"
        );
        let error = Shard::parse(
            "slurm",
            env(&[
                ("SLURM_ARRAY_TASK_ID", "9"),
                ("SLURM_ARRAY_TASK_MIN", "1"),
                ("SLURM_ARRAY_TASK_MAX", "8"),
            ]),
        )
        .unwrap_err();
        assert!(error.to_string().contains("outside the array"), "{error}");
    }

    fn inputs(sizes: &[u64]) -> (tempfile::TempDir, Vec<Input>) {
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<_> = sizes
            .iter()
            .enumerate()
            .map(|(i, &size)| {
                let path = dir.path().join(format!("{i:03}"));
                std::fs::write(&path, vec![b'x'; size as usize]).unwrap();
                path
            })
            .collect();
        let inputs = crate::input::discover::discover(&paths, &Default::default()).unwrap();
        (dir, inputs)
    }

    #[test]
    fn shards_are_contiguous_complete_and_balanced_by_bytes() {
        let sizes = [50, 10, 10, 10, 10, 10, 40, 5, 5, 60, 0, 1];
        let (_dir, all) = inputs(&sizes);
        for count in 1..=6 {
            let mut joined = Vec::new();
            for index in 1..=count {
                let part = Shard { index, count }.select(all.clone());
                let bytes: u64 = part.iter().map(|input| input.size).sum();
                // Each shard is within one file of its fair share.
                assert!(
                    bytes.abs_diff(211 / count as u64) <= 60,
                    "{index}/{count}: {bytes}"
                );
                joined.extend(part.into_iter().map(|input| input.path));
            }
            let expected: Vec<_> = all.iter().map(|input| input.path.clone()).collect();
            assert_eq!(
                joined, expected,
                "shards of {count} in order make the whole list"
            );
        }
        let (_dir, empty) = inputs(&[0, 0, 0, 0]);
        let counts: Vec<usize> = (1..=2)
            .map(|index| Shard { index, count: 2 }.select(empty.clone()).len())
            .collect();
        assert_eq!(counts, [2, 2]);
    }
}
