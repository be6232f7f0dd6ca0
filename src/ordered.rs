//! Ordered, bounded parallel work: keyed jobs in, results out in key order.
//!
//! Every parallel stage of txt2h5 has the same shape: the caller submits jobs in a given
//! order, a pool runs them and they finish in any order, and the caller takes the results
//! in the order it submitted them, so that the output (and the error reported) does not
//! depend on timing or thread count. This module is that shape, written once:
//!
//! - results come out in submission order ([`Ordered::wait_next`]), early arrivals held until
//!   their turn ([`Sequence`]);
//! - at most a lane's bound of jobs are started and not yet taken, which bounds the memory
//!   of their results; jobs submitted beyond it wait, unstarted;
//! - a panic in a job (a bug) becomes an [`Error::Internal`] that names the stage ("the
//!   chunk reader panicked: ..."), so that its result still arrives and nobody waits for it
//!   forever (rayon would abort the process on a panic escaping a spawned job);
//! - the first error in key order is the one reported, whatever finished first; once a job
//!   fails, the jobs after it that have not started are skipped, and when the caller stops
//!   (an error, or it has what it wants) every job not started is skipped;
//! - an interrupt ([`Interrupt`]) ends the wait with [`Error::Interrupted`].
//!
//! A stage may have several *lanes*, each with its own order and bound: the matrix decodes
//! chunks, merges windows and compresses row blocks, and one [`Ordered::wait_next`] returns the
//! next in-order result of whichever lane has one. Jobs run on an [`Executor`]: a rayon
//! scope (jobs that borrow the caller's data), a rayon pool, or the load's buffer pool,
//! whose workers compress chunks between the buffers they parse.
//!
//! [`thread_pool`] is the one place the command's threads are built; each command builds
//! its pool once and hands it to its stages. A leaf module: it depends on the error and
//! signal types only.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::{Debug, Display};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::Duration;

use crate::error::{panic_message, Error, Result};
use crate::signals::Interrupt;

/// Builds a pool of `threads` threads named `txt2h5-{name}-{index}`: the one place txt2h5
/// starts threads for its parallel work.
pub fn thread_pool(threads: usize, name: &'static str) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .thread_name(move |index| format!("txt2h5-{name}-{index}"))
        .build()
        .map_err(|error| Error::Resource {
            what: "start the worker threads",
            source: std::io::Error::other(error),
        })
}

/// Runs `work`, a panic in it (a bug) turned into an [`Error::Internal`] naming `stage`:
/// "the {stage} panicked: {message}".
pub fn catch_panic<R>(stage: impl Display, work: impl FnOnce() -> R) -> Result<R> {
    std::panic::catch_unwind(AssertUnwindSafe(work)).map_err(|panic| {
        Error::internal(format!("the {stage} panicked: {}", panic_message(&*panic)))
    })
}

/// Which keyed jobs are still needed: those before the first key that failed. A lane's
/// jobs share one; so do the load's workers, which take their units by key in an order of
/// their own (a file's checksum unit before its pieces) and so may start a key after a
/// later one has failed: it still runs, and the error reported is the first in key order.
#[derive(Debug)]
pub struct Cutoff {
    /// Jobs with this key or a later one are skipped.
    skip_from: AtomicU64,
}

impl Default for Cutoff {
    fn default() -> Self {
        Self {
            skip_from: AtomicU64::new(u64::MAX),
        }
    }
}

impl Cutoff {
    /// Job `key` failed: the jobs after it are not needed.
    pub fn failed(&self, key: u64) {
        self.skip_from.fetch_min(key + 1, Ordering::Relaxed);
    }

    /// The caller stopped: no job not started yet is needed.
    pub fn stop(&self) {
        self.skip_from.store(0, Ordering::Relaxed);
    }

    /// Whether job `key` should not start.
    pub fn skips(&self, key: u64) -> bool {
        key >= self.skip_from.load(Ordering::Relaxed)
    }
}

/// A job handed to an [`Executor`].
pub type Job<'s> = Box<dyn FnOnce() + Send + 's>;

/// Runs jobs on other threads.
pub trait Executor<'s>: Sync {
    /// Queues `job`; it runs once, on some thread.
    fn execute(&self, job: Job<'s>);

    /// Runs a queued job on the calling thread (a caller waiting for a result) if it must,
    /// because nobody else will; whether it ran one.
    fn help(&self) -> bool {
        false
    }
}

/// Jobs that borrow from the caller's stack, on a scope's pool.
impl<'s> Executor<'s> for rayon::Scope<'s> {
    fn execute(&self, job: Job<'s>) {
        self.spawn(move |_| job());
    }
}

/// Jobs that own their data, on a pool (merge's compression).
impl Executor<'static> for rayon::ThreadPool {
    fn execute(&self, job: Job<'static>) {
        self.spawn(job);
    }
}

/// One lane of ordered work: what its jobs do (named in a panic's error) and how many may
/// be started and not yet taken.
#[derive(Clone, Copy, Debug)]
pub struct Lane {
    /// The stage, as an error names it: "chunk reader" gives "the chunk reader panicked".
    pub stage: &'static str,
    pub bound: usize,
}

/// The work of a job: a result or the error that stops the run.
type Work<'s, T> = Box<dyn FnOnce() -> Result<T> + Send + 's>;

/// What a job sent back.
enum Outcome<T> {
    Done(Result<T>),
    /// Not run: an earlier job failed, or the caller stopped.
    Skipped,
}

struct Answer<T> {
    lane: usize,
    key: u64,
    outcome: Outcome<T>,
}

struct LaneState<'s, T> {
    lane: Lane,
    /// The key the next submitted job gets.
    next_key: u64,
    /// Jobs started (or results given) and not yet taken.
    in_flight: usize,
    /// Jobs submitted beyond the bound, not started.
    queued: VecDeque<(u64, Work<'s, T>)>,
    /// Results that arrived before their turn.
    arrived: Sequence<Outcome<T>>,
    /// The jobs not to start (after a failure, or once the caller left).
    cutoff: Arc<Cutoff>,
}

/// How long [`Ordered::wait_next`] blocks at a time before it checks for an interrupt and asks
/// the executor for help.
const WAIT: Duration = Duration::from_millis(1);

/// Jobs in flight on an executor, their results taken in key order, lane by lane.
pub struct Ordered<'e, 's, T> {
    executor: &'e dyn Executor<'s>,
    interrupt: Option<&'e Interrupt>,
    lanes: Vec<LaneState<'s, T>>,
    sender: Sender<Answer<T>>,
    receiver: Receiver<Answer<T>>,
}

impl<'e, 's, T: Send + 's> Ordered<'e, 's, T> {
    /// Ordered work on `executor` in `lanes` (numbered as given).
    pub fn new(executor: &'e dyn Executor<'s>, lanes: &[Lane]) -> Self {
        let (sender, receiver) = channel();
        Self {
            executor,
            interrupt: None,
            lanes: lanes
                .iter()
                .map(|&lane| {
                    assert!(lane.bound > 0, "the {} lane has no room", lane.stage);
                    LaneState {
                        lane,
                        next_key: 0,
                        in_flight: 0,
                        queued: VecDeque::new(),
                        arrived: Sequence::default(),
                        cutoff: Arc::default(),
                    }
                })
                .collect(),
            sender,
            receiver,
        }
    }

    /// [`Ordered::wait_next`] fails with [`Error::Interrupted`] once `interrupt` has a signal.
    pub fn interrupted_by(mut self, interrupt: &'e Interrupt) -> Self {
        self.interrupt = Some(interrupt);
        self
    }

    /// Whether a job submitted to `lane` now would start at once.
    pub fn has_room(&self, lane: usize) -> bool {
        let state = &self.lanes[lane];
        state.queued.is_empty() && state.in_flight < state.lane.bound
    }

    /// Jobs of `lane` started or queued and not yet taken.
    pub fn pending(&self, lane: usize) -> usize {
        let state = &self.lanes[lane];
        state.in_flight + state.queued.len()
    }

    /// Whether no job of any lane is pending: [`Ordered::wait_next`] would return `None`.
    pub fn is_idle(&self) -> bool {
        (0..self.lanes.len()).all(|lane| self.pending(lane) == 0)
    }

    /// Submits `work` to `lane`, after every job submitted to it before; it starts now if
    /// the lane has room, else when a result of the lane is taken. Returns its key.
    pub fn submit(&mut self, lane: usize, work: impl FnOnce() -> Result<T> + Send + 's) -> u64 {
        let state = &mut self.lanes[lane];
        let key = state.next_key;
        state.next_key += 1;
        state.queued.push_back((key, Box::new(work)));
        self.start_queued(lane);
        key
    }

    /// Puts `value`, already made, in `lane`'s order after every job submitted before it
    /// (merge's chunks copied as stored). It counts in flight until taken.
    pub fn submit_done(&mut self, lane: usize, value: T) -> u64 {
        let state = &mut self.lanes[lane];
        assert!(state.queued.is_empty(), "a result ahead of queued jobs");
        let key = state.next_key;
        state.next_key += 1;
        state.in_flight += 1;
        state.arrived.insert(key, Outcome::Done(Ok(value)));
        key
    }

    /// Starts queued jobs of `lane` while it has room.
    fn start_queued(&mut self, lane: usize) {
        let state = &mut self.lanes[lane];
        while state.in_flight < state.lane.bound {
            let Some((key, work)) = state.queued.pop_front() else {
                return;
            };
            state.in_flight += 1;
            let cutoff = Arc::clone(&state.cutoff);
            let stage = state.lane.stage;
            let sender = self.sender.clone();
            self.executor.execute(Box::new(move || {
                let outcome = if cutoff.skips(key) {
                    Outcome::Skipped
                } else {
                    let result = catch_panic(stage, work).and_then(|result| result);
                    if result.is_err() {
                        // Jobs after this one are not needed: the run reports this failure
                        // or an earlier one.
                        cutoff.failed(key);
                    }
                    Outcome::Done(result)
                };
                // The caller may have stopped; then nobody needs the answer.
                let _ = sender.send(Answer { lane, key, outcome });
            }));
        }
    }

    /// The next result in order of a lane that has one ready, without waiting.
    pub fn try_next(&mut self) -> Result<Option<(usize, T)>> {
        self.take_arrivals();
        for lane in 0..self.lanes.len() {
            let Some(outcome) = self.lanes[lane].arrived.pop_next() else {
                continue;
            };
            self.lanes[lane].in_flight -= 1;
            self.start_queued(lane);
            return match outcome {
                Outcome::Done(Ok(value)) => Ok(Some((lane, value))),
                Outcome::Done(Err(error)) => {
                    self.stop();
                    Err(error)
                }
                Outcome::Skipped => {
                    self.stop();
                    Err(Error::internal(format!(
                        "a job of the {} was skipped before any failed",
                        self.lanes[lane].lane.stage
                    )))
                }
            };
        }
        Ok(None)
    }

    /// The next result in order of any lane, waiting for one; `None` when no job is
    /// pending. The first error in a lane's order ends its results (and the caller's run).
    pub fn wait_next(&mut self) -> Result<Option<(usize, T)>> {
        loop {
            if let Some(signal) = self.interrupt.and_then(Interrupt::received) {
                self.stop();
                return Err(Error::Interrupted { signal });
            }
            if let Some(result) = self.try_next()? {
                return Ok(Some(result));
            }
            if self.is_idle() {
                return Ok(None);
            }
            match self.receiver.recv_timeout(WAIT) {
                Ok(answer) => self.hold(answer),
                Err(RecvTimeoutError::Timeout) => {
                    self.executor.help();
                }
                Err(RecvTimeoutError::Disconnected) => {
                    unreachable!("the sender lives in self, so the channel cannot close")
                }
            }
        }
    }

    /// Holds every answer that has arrived.
    fn take_arrivals(&mut self) {
        while let Ok(answer) = self.receiver.try_recv() {
            self.hold(answer);
        }
    }

    fn hold(&mut self, answer: Answer<T>) {
        self.lanes[answer.lane]
            .arrived
            .insert(answer.key, answer.outcome);
    }

    /// Skips every job not started yet, in every lane.
    pub fn stop(&mut self) {
        for state in &mut self.lanes {
            state.cutoff.stop();
            state.queued.clear();
        }
    }
}

impl<T> Drop for Ordered<'_, '_, T> {
    /// The caller is done: jobs not started are not needed.
    fn drop(&mut self) {
        for state in &self.lanes {
            state.cutoff.stop();
        }
    }
}

/// Runs `body` with ordered work in `lanes` on `pool`, whose jobs may borrow what outlives
/// the call; returns when every job started has finished.
pub fn in_scope<'env, T: Send + 'env, R>(
    pool: &rayon::ThreadPool,
    lanes: &[Lane],
    interrupt: &Interrupt,
    body: impl for<'e> FnOnce(&mut Ordered<'e, 'env, T>) -> Result<R>,
) -> Result<R> {
    pool.in_place_scope(|scope| {
        let mut ordered = Ordered::new(scope, lanes).interrupted_by(interrupt);
        body(&mut ordered)
    })
}

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
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::Mutex;
    use std::time::Instant;

    use super::*;

    const READER: Lane = Lane {
        stage: "chunk reader",
        bound: 4,
    };

    /// An executor that runs nothing until asked, last queued first: the finishing order is
    /// the reverse of the submission order, and the test decides when jobs run.
    #[derive(Default)]
    struct Backwards<'s> {
        jobs: Mutex<Vec<Job<'s>>>,
    }

    impl<'s> Executor<'s> for Backwards<'s> {
        fn execute(&self, job: Job<'s>) {
            self.jobs.lock().unwrap().push(job);
        }

        fn help(&self) -> bool {
            let job = self.jobs.lock().unwrap().pop();
            job.map(|job| job()).is_some()
        }
    }

    /// Takes every result of a single lane, in order, until the first error.
    fn drain<'s, T: Send + 's>(ordered: &mut Ordered<'_, 's, T>) -> (Vec<T>, Option<Error>) {
        let mut taken = Vec::new();
        loop {
            match ordered.wait_next() {
                Ok(Some((_, value))) => taken.push(value),
                Ok(None) => return (taken, None),
                Err(error) => return (taken, Some(error)),
            }
        }
    }

    #[test]
    fn results_come_out_in_key_order_whatever_the_finishing_order() {
        // Backwards: every job finishes after the ones submitted after it.
        let executor = Backwards::default();
        let mut ordered = Ordered::new(&executor, &[READER]);
        for number in 0..10u32 {
            ordered.submit(0, move || Ok(number));
        }
        assert_eq!(drain(&mut ordered).0, (0..10).collect::<Vec<_>>());

        // A real pool, the early jobs slowest.
        let pool = thread_pool(4, "test").unwrap();
        let taken = in_scope(&pool, &[READER], &Interrupt::never(), |ordered| {
            for number in 0..40u64 {
                ordered.submit(0, move || {
                    std::thread::sleep(Duration::from_micros(400 * (40 - number) % 3000));
                    Ok(number)
                });
            }
            let (taken, error) = drain(ordered);
            assert!(error.is_none());
            Ok(taken)
        })
        .unwrap();
        assert_eq!(taken, (0..40).collect::<Vec<_>>());
    }

    #[test]
    fn never_more_than_the_bound_is_in_flight() {
        let pool = thread_pool(6, "test").unwrap();
        let (running, high_water) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let lane = Lane {
            stage: "test",
            bound: 3,
        };
        let (running, high_water) = (&running, &high_water);
        let taken = in_scope(&pool, &[lane], &Interrupt::never(), |ordered| {
            let mut taken = Vec::new();
            for number in 0..60u32 {
                ordered.submit(0, move || {
                    let now = running.fetch_add(1, SeqCst) + 1;
                    high_water.fetch_max(now, SeqCst);
                    std::thread::sleep(Duration::from_micros(300));
                    running.fetch_sub(1, SeqCst);
                    Ok(number)
                });
                // Take a result now and then, so that held results count too.
                if number % 7 == 0 {
                    taken.extend(ordered.wait_next()?.map(|(_, value)| value));
                }
            }
            taken.extend(drain(ordered).0);
            Ok(taken)
        })
        .unwrap();
        assert_eq!(taken, (0..60).collect::<Vec<_>>());
        let high_water = high_water.load(SeqCst);
        assert!((1..=3).contains(&high_water), "{high_water} jobs at once");
    }

    #[test]
    fn a_held_result_counts_in_flight_until_taken() {
        let executor = Backwards::default();
        let lane = Lane {
            stage: "test",
            bound: 2,
        };
        let mut ordered = Ordered::new(&executor, &[lane]);
        ordered.submit_done(0, 'a');
        ordered.submit(0, || Ok('b'));
        assert!(!ordered.has_room(0));
        ordered.submit(0, || Ok('c'));
        // 'c' waits unstarted: only 'b' reached the executor.
        assert_eq!(executor.jobs.lock().unwrap().len(), 1);
        assert_eq!(drain(&mut ordered).0, ['a', 'b', 'c']);
        assert!(ordered.is_idle());
    }

    #[test]
    fn a_panic_becomes_an_error_that_names_the_stage() {
        let pool = thread_pool(2, "test").unwrap();
        let (taken, error) = in_scope(&pool, &[READER], &Interrupt::never(), |ordered| {
            for number in 0..8u32 {
                ordered.submit(0, move || {
                    if number == 3 {
                        panic!("a test job panics");
                    }
                    Ok(number)
                });
            }
            Ok(drain(ordered))
        })
        .unwrap();
        assert_eq!(taken, [0, 1, 2]);
        let error = error.expect("the panic is an error");
        assert!(matches!(error, Error::Internal { .. }), "{error}");
        let message = error.to_string();
        assert!(
            message.contains("the chunk reader panicked: a test job panics"),
            "{message}"
        );
    }

    /// Jobs 1 and 3 fail, job 3 first (the executor runs the last queued first): the error
    /// reported is job 1's, and the jobs after a failure that had not started never run.
    #[test]
    fn the_first_error_in_key_order_wins_and_later_jobs_are_skipped() {
        let ran = AtomicUsize::new(0);
        let ran = &ran;
        let executor = Backwards::default();
        let mut ordered = Ordered::new(&executor, &[READER]);
        for number in 0..10u32 {
            ordered.submit(0, move || {
                ran.fetch_add(1, SeqCst);
                match number {
                    1 | 3 => Err(Error::internal(format!("job {number} failed"))),
                    _ => Ok(number),
                }
            });
        }
        let (taken, error) = drain(&mut ordered);
        assert_eq!(taken, [0]);
        assert_eq!(
            error.unwrap().to_string(),
            Error::internal("job 1 failed").to_string()
        );
        // 3, 2, 1 and 0 ran; 4 and later were started after job 1 failed, and skipped.
        while executor.help() {}
        assert_eq!(ran.load(SeqCst), 4);
    }

    #[test]
    fn a_cutoff_skips_the_keys_after_the_first_failure() {
        let cutoff = Cutoff::default();
        assert!(!cutoff.skips(u64::MAX - 1));
        cutoff.failed(7);
        cutoff.failed(9);
        assert!(!cutoff.skips(7) && cutoff.skips(8));
        cutoff.failed(3);
        assert!(!cutoff.skips(3) && cutoff.skips(4) && cutoff.skips(8));
        cutoff.stop();
        assert!(cutoff.skips(0));
    }

    #[test]
    fn lanes_keep_their_own_order_and_bound() {
        let executor = Backwards::default();
        let lanes = [
            Lane {
                stage: "decoder",
                bound: 2,
            },
            Lane {
                stage: "merger",
                bound: 1,
            },
        ];
        let mut ordered = Ordered::new(&executor, &lanes);
        for number in 0..3u32 {
            ordered.submit(0, move || Ok(number));
            ordered.submit(1, move || Ok(100 + number));
        }
        assert_eq!(executor.jobs.lock().unwrap().len(), 3);
        let mut by_lane = [Vec::new(), Vec::new()];
        while let Some((lane, value)) = ordered.wait_next().unwrap() {
            by_lane[lane].push(value);
        }
        assert_eq!(by_lane, [vec![0, 1, 2], vec![100, 101, 102]]);
    }

    /// A job that never finishes does not hold the caller once a signal arrives.
    #[test]
    fn an_interrupt_stops_the_wait() {
        let interrupt = Interrupt::install().unwrap();
        let pool = thread_pool(1, "test").unwrap();
        let release = std::sync::atomic::AtomicBool::new(false);
        let release = &release;
        let started = Instant::now();
        let error = in_scope(&pool, &[READER], &interrupt, |ordered| {
            ordered.submit(0, move || {
                while !release.load(SeqCst) {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Ok(())
            });
            signal_hook::low_level::raise(signal_hook::consts::SIGHUP).unwrap();
            let result = ordered.wait_next();
            release.store(true, SeqCst);
            result
        })
        .unwrap_err();
        assert!(
            matches!(error, Error::Interrupted { signal } if signal == signal_hook::consts::SIGHUP),
            "{error}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_reorder_yields_in_key_order_whatever_the_arrival_order() {
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
