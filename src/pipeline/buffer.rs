//! Record buffers and the fixed pool that recycles them.
//!
//! A [`RecordBuffer`] is an anonymous memory map holding up to `capacity` packed records;
//! parsers fill it in place and the writer hands its bytes to HDF5 unchanged. Maps are
//! made lazily, at most `max_buffers` of them, and come back to the [`BufferPool`] after
//! the writer is done, so memory stays bounded by `max_buffers * capacity * record_size`
//! whatever the input size. The maps are private to this process (threads share them), which
//! is all a single-process pipeline needs.
//!
//! The pool also prevents the deadlock an ordered writer invites: if later work units could
//! take every buffer, the unit the writer waits for could never get one. So the last free
//! buffer is reserved for the *head* unit, the one the writer needs next; the head always
//! progresses because the writer returns its buffers at once. A unit ahead of the head
//! that finds no buffer free waits for one while the writer is busy: spilling then would
//! only write the records twice where the writer is the slowest stage. When the writer has
//! waited a while for the head unit (it is *starved*: parsing is the slowest stage, or the
//! head unit is not started yet), waiting units spill their full buffer to a temporary file
//! instead and go on (see [`crate::pipeline::spill`]), so every core keeps working.
//!
//! The pool is also where the writer's chunk compression jobs wait for a worker (it is the
//! chunker's [`Executor`] in a load): workers run queued jobs before they parse another
//! buffer, while they wait for one, and after their last unit until the writer is done. So
//! `-j N` means N threads of work, parsing and compressing, beside the writer.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::error::Error;
use crate::ordered::{Executor, Job};

use memmap2::MmapMut;

/// A fixed-capacity run of packed records in an anonymous memory map.
pub struct RecordBuffer {
    map: MmapMut,
    record_size: usize,
    rows: usize,
}

impl RecordBuffer {
    /// Maps room for `capacity` records of `record_size` bytes.
    pub fn new(record_size: usize, capacity: usize) -> std::io::Result<Self> {
        let bytes = record_size
            .checked_mul(capacity)
            .ok_or(std::io::ErrorKind::OutOfMemory)?;
        let map = MmapMut::map_anon(bytes)?;
        Ok(Self {
            map,
            record_size,
            rows: 0,
        })
    }

    pub fn capacity(&self) -> usize {
        self.map.len() / self.record_size
    }

    /// Records filled so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn is_full(&self) -> bool {
        self.rows == self.capacity()
    }

    /// The unfilled slots, for a parser to write into; see [`RecordBuffer::commit`].
    pub fn spare_mut(&mut self) -> &mut [u8] {
        &mut self.map[self.rows * self.record_size..]
    }

    /// Marks `rows` more records, written into the front of [`RecordBuffer::spare_mut`], as filled.
    pub fn commit(&mut self, rows: usize) {
        assert!(self.rows + rows <= self.capacity());
        self.rows += rows;
    }

    /// The filled records as packed bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.map[..self.rows * self.record_size]
    }

    /// Empties the buffer for reuse.
    pub fn clear(&mut self) {
        self.rows = 0;
    }
}

struct PoolState {
    free: Vec<RecordBuffer>,
    mapped: usize,
    head: usize,
    cancelled: bool,
    /// Threads blocked in [`BufferPool::acquire`] (lets tests see a waiter is waiting).
    waiting: usize,
    /// The writer has waited for the head unit for a while: units ahead of it should spill
    /// rather than wait.
    writer_starved: bool,
    /// Spill whenever no buffer is free, starved writer or not (tests, measurements).
    always_spill: bool,
    /// Chunk compression jobs from the writer, oldest first.
    jobs: VecDeque<Job<'static>>,
    /// The writer needs no more jobs run: serving workers may leave.
    jobs_closed: bool,
    /// Workers that have not returned yet (see [`WorkerGuard`]).
    live_workers: usize,
}

/// A bounded, recycling set of [`RecordBuffer`]s with the head-unit reservation.
pub struct BufferPool {
    record_size: usize,
    capacity: usize,
    max_buffers: usize,
    state: Mutex<PoolState>,
    returned: Condvar,
}

impl BufferPool {
    /// A pool of at most `max_buffers` (at least 1) buffers of `capacity` records each.
    pub fn new(record_size: usize, capacity: usize, max_buffers: usize) -> Self {
        Self {
            record_size,
            capacity,
            max_buffers: max_buffers.max(1),
            state: Mutex::new(PoolState {
                free: Vec::new(),
                mapped: 0,
                head: 0,
                cancelled: false,
                waiting: 0,
                writer_starved: false,
                always_spill: false,
                jobs: VecDeque::new(),
                jobs_closed: false,
                live_workers: 0,
            }),
            returned: Condvar::new(),
        }
    }

    /// Takes an empty buffer for work unit `unit`, waiting while none may be had.
    ///
    /// A unit other than the head may not take the last available buffer.
    pub fn acquire(&self, unit: usize) -> Result<RecordBuffer, AcquireError> {
        let mut state = self.state.lock().expect("buffer pool lock");
        loop {
            if state.cancelled {
                return Err(AcquireError::Cancelled);
            }
            if let Some(taken) = self.take(&mut state, unit) {
                drop(state);
                return taken;
            }
            let ran;
            (state, ran) = self.run_queued_job(state);
            if ran {
                continue;
            }
            // Every change that can let a waiter through (release, head change, cancel, a
            // job) notifies under the lock, so an untimed wait cannot miss it.
            state.waiting += 1;
            state = self.returned.wait(state).expect("buffer pool lock");
            state.waiting -= 1;
        }
    }

    /// Takes an empty buffer for `unit`, waiting while none may be had and the writer is
    /// not starved; `None` when the writer is starved (or with [`BufferPool::always_spill`])
    /// and no buffer is free: then the caller spills.
    pub fn acquire_unless_starved(
        &self,
        unit: usize,
    ) -> Option<Result<RecordBuffer, AcquireError>> {
        let mut state = self.state.lock().expect("buffer pool lock");
        loop {
            if state.cancelled {
                return Some(Err(AcquireError::Cancelled));
            }
            if let Some(taken) = self.take(&mut state, unit) {
                return Some(taken);
            }
            let ran;
            (state, ran) = self.run_queued_job(state);
            if ran {
                continue;
            }
            if state.writer_starved || state.always_spill {
                return None;
            }
            state.waiting += 1;
            state = self.returned.wait(state).expect("buffer pool lock");
            state.waiting -= 1;
        }
    }

    /// Tells the pool whether the writer is starved (see the module documentation).
    pub fn set_writer_starved(&self, starved: bool) {
        let mut state = self.state.lock().expect("buffer pool lock");
        if state.writer_starved != starved {
            state.writer_starved = starved;
            drop(state);
            self.returned.notify_all();
        }
    }

    /// Units spill whenever no buffer is free, as before the starved-writer rule (the
    /// hidden `--spill always`, for tests and measurements).
    pub fn always_spill(&self) {
        self.state.lock().expect("buffer pool lock").always_spill = true;
    }

    /// The reservation rule; maps a new buffer (outside the lock's critical work) if needed.
    fn take(
        &self,
        state: &mut MutexGuard<'_, PoolState>,
        unit: usize,
    ) -> Option<Result<RecordBuffer, AcquireError>> {
        let available = state.free.len() + (self.max_buffers - state.mapped);
        let needed = if unit == state.head { 1 } else { 2 };
        if available < needed {
            return None;
        }
        if let Some(buffer) = state.free.pop() {
            return Some(Ok(buffer));
        }
        state.mapped += 1;
        Some(
            RecordBuffer::new(self.record_size, self.capacity).map_err(|error| {
                state.mapped -= 1;
                AcquireError::Map(error)
            }),
        )
    }

    /// The run's error for a buffer that could not be mapped ([`AcquireError::Map`]).
    pub fn map_error(&self, error: std::io::Error) -> Error {
        if error.kind() == std::io::ErrorKind::OutOfMemory {
            Error::OutOfMemory {
                what: "a record buffer",
                bytes: self.record_size.saturating_mul(self.capacity),
            }
        } else {
            Error::Resource {
                what: "map a record buffer",
                source: error,
            }
        }
    }

    /// Returns a buffer for reuse.
    pub fn release(&self, mut buffer: RecordBuffer) {
        buffer.clear();
        self.state
            .lock()
            .expect("buffer pool lock")
            .free
            .push(buffer);
        self.returned.notify_all();
    }

    /// Tells the pool which unit the writer needs next.
    pub fn set_head(&self, unit: usize) {
        self.state.lock().expect("buffer pool lock").head = unit;
        self.returned.notify_all();
    }

    /// Wakes every waiter with [`AcquireError::Cancelled`], now and from now on.
    pub fn cancel(&self) {
        self.state.lock().expect("buffer pool lock").cancelled = true;
        self.returned.notify_all();
    }

    /// Runs queued jobs until none is left (a worker, before it parses another buffer).
    pub fn run_jobs(&self) {
        loop {
            let job = self
                .state
                .lock()
                .expect("buffer pool lock")
                .jobs
                .pop_front();
            match job {
                Some(job) => job(),
                None => return,
            }
        }
    }

    /// Runs one queued job, or waits up to `timeout` for one (a worker whose parts the
    /// writer cannot take yet).
    pub fn run_job_or_wait(&self, timeout: Duration) {
        let mut state = self.state.lock().expect("buffer pool lock");
        if state.jobs.is_empty() && !state.cancelled {
            state = self
                .returned
                .wait_timeout(state, timeout)
                .expect("buffer pool lock")
                .0;
        }
        if let Some(job) = state.jobs.pop_front() {
            drop(state);
            job();
        }
    }

    /// Runs jobs as they come until the writer closes the queue or the run is cancelled (a
    /// worker after its last unit).
    pub fn serve_jobs(&self) {
        let mut state = self.state.lock().expect("buffer pool lock");
        loop {
            let ran;
            (state, ran) = self.run_queued_job(state);
            if ran {
                continue;
            }
            if state.jobs_closed || state.cancelled {
                return;
            }
            state = self.returned.wait(state).expect("buffer pool lock");
        }
    }

    /// Runs the oldest queued job, if any, outside the lock; returns the lock again and
    /// whether a job ran.
    fn run_queued_job<'p>(
        &'p self,
        mut state: MutexGuard<'p, PoolState>,
    ) -> (MutexGuard<'p, PoolState>, bool) {
        let Some(job) = state.jobs.pop_front() else {
            return (state, false);
        };
        drop(state);
        job();
        (self.state.lock().expect("buffer pool lock"), true)
    }

    /// The writer is done with jobs: serving workers leave.
    pub fn close_jobs(&self) {
        self.state.lock().expect("buffer pool lock").jobs_closed = true;
        self.returned.notify_all();
    }

    /// Counts the calling worker as live until the guard drops.
    pub fn worker_guard(&self) -> WorkerGuard<'_> {
        self.state.lock().expect("buffer pool lock").live_workers += 1;
        WorkerGuard { pool: self }
    }
}

/// A live worker: one that will still run queued jobs.
pub struct WorkerGuard<'p> {
    pool: &'p BufferPool,
}

impl Drop for WorkerGuard<'_> {
    fn drop(&mut self) {
        self.pool
            .state
            .lock()
            .expect("buffer pool lock")
            .live_workers -= 1;
    }
}

impl Executor<'static> for BufferPool {
    fn execute(&self, job: Job<'static>) {
        self.state
            .lock()
            .expect("buffer pool lock")
            .jobs
            .push_back(job);
        self.returned.notify_all();
    }

    /// Runs a queued job on the writer's thread only when no worker is left to run it
    /// (they stopped early): otherwise the writer stays free to write.
    fn help(&self) -> bool {
        let mut state = self.state.lock().expect("buffer pool lock");
        if state.live_workers > 0 {
            return false;
        }
        match state.jobs.pop_front() {
            Some(job) => {
                drop(state);
                job();
                true
            }
            None => false,
        }
    }
}

/// Why no buffer was handed out.
#[derive(Debug)]
pub enum AcquireError {
    Cancelled,
    Map(std::io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    #[test]
    fn buffer_fills_and_views_rows() {
        let mut buffer = RecordBuffer::new(4, 3).unwrap();
        assert_eq!(buffer.capacity(), 3);
        buffer.spare_mut()[..8].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        buffer.commit(2);
        assert_eq!(buffer.as_bytes(), &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(buffer.spare_mut().len(), 4);
        assert!(!buffer.is_full());
    }

    /// A buffer the address space cannot hold is an error that says so (exit 1 with a
    /// hint), never an abort.
    #[test]
    fn a_buffer_too_big_to_map_is_an_out_of_memory_error() {
        let pool = BufferPool::new(1 << 20, 1 << 40, 2);
        let Err(AcquireError::Map(error)) = pool.acquire(0) else {
            panic!("a buffer of 2^60 bytes was mapped");
        };
        let error = pool.map_error(error);
        assert!(
            matches!(
                error,
                Error::OutOfMemory {
                    what: "a record buffer",
                    ..
                }
            ),
            "{error}"
        );
        assert!(error
            .to_string()
            .starts_with("cannot allocate 1099511627776.0 MiB for a record buffer"));
        assert_eq!(pool.state.lock().unwrap().mapped, 0);
    }

    #[test]
    fn pool_never_maps_more_than_its_bound_and_reuses_buffers() {
        let pool = BufferPool::new(8, 16, 2);
        let a = pool.acquire(0).unwrap();
        let b = pool.acquire(0).unwrap();
        assert_eq!(pool.state.lock().unwrap().mapped, 2);
        pool.release(a);
        let c = pool.acquire(0).unwrap();
        assert_eq!(pool.state.lock().unwrap().mapped, 2);
        assert_eq!(c.rows(), 0);
        pool.release(b);
        pool.release(c);
    }

    /// Waits (without sleeping a guessed time) until `count` threads block in `acquire`.
    fn wait_for_waiters(pool: &BufferPool, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while pool.state.lock().unwrap().waiting != count {
            assert!(Instant::now() < deadline, "no thread blocked in acquire");
            std::thread::yield_now();
        }
    }

    /// Joins `thread`, failing instead of hanging if it does not finish in time.
    fn join_within<T>(thread: std::thread::JoinHandle<T>, what: &str) -> T {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !thread.is_finished() {
            assert!(Instant::now() < deadline, "{what}");
            std::thread::yield_now();
        }
        thread.join().unwrap()
    }

    #[test]
    fn last_buffer_is_reserved_for_the_head_unit() {
        let pool = Arc::new(BufferPool::new(8, 16, 2));
        let later = pool.acquire(5).unwrap();
        // Unit 5 is not the head and only one buffer is left: it blocks...
        let waiter = {
            let pool = Arc::clone(&pool);
            std::thread::spawn(move || pool.acquire(5).map(|_| ()).is_ok())
        };
        wait_for_waiters(&pool, 1);
        // ...while the head unit gets the last one at once.
        let head = pool.acquire_unless_starved(0).unwrap().unwrap();
        assert!(!waiter.is_finished());
        pool.release(head);
        pool.release(later);
        assert!(join_within(waiter, "a release did not wake the waiter"));
    }

    #[test]
    fn always_spill_applies_the_reservation_without_waiting() {
        let pool = BufferPool::new(8, 16, 2);
        pool.always_spill();
        let held = pool.acquire_unless_starved(3).unwrap().unwrap();
        assert!(pool.acquire_unless_starved(3).is_none());
        let head = pool.acquire_unless_starved(0).unwrap().unwrap();
        assert!(pool.acquire_unless_starved(0).is_none());
        pool.release(held);
        pool.release(head);
    }

    /// A unit ahead of the head waits for a buffer while the writer is busy, and is told
    /// to spill (gets `None`) as soon as the writer is starved; a release while it waits
    /// hands it the buffer instead.
    #[test]
    fn units_ahead_wait_until_the_writer_is_starved() {
        let pool = Arc::new(BufferPool::new(8, 16, 2));
        let held = pool.acquire(0).unwrap();
        let waiter = |pool: &Arc<BufferPool>| {
            let pool = Arc::clone(pool);
            std::thread::spawn(move || pool.acquire_unless_starved(4).map(|got| got.is_ok()))
        };
        let first = waiter(&pool);
        wait_for_waiters(&pool, 1);
        pool.set_writer_starved(true);
        assert_eq!(join_within(first, "starving did not wake the waiter"), None);
        pool.set_writer_starved(false);
        let second = waiter(&pool);
        wait_for_waiters(&pool, 1);
        pool.release(held);
        assert_eq!(
            join_within(second, "a release did not wake the waiter"),
            Some(true)
        );
    }

    #[test]
    fn cancel_wakes_waiters() {
        let pool = Arc::new(BufferPool::new(8, 16, 1));
        let held = pool.acquire(0).unwrap();
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let pool = Arc::clone(&pool);
                std::thread::spawn(move || matches!(pool.acquire(0), Err(AcquireError::Cancelled)))
            })
            .collect();
        wait_for_waiters(&pool, 2);
        pool.cancel();
        for waiter in waiters {
            assert!(join_within(waiter, "cancel did not wake a waiter"));
        }
        drop(held);
    }

    /// A job queued while a worker waits for a buffer runs on that worker at once.
    #[test]
    fn a_worker_waiting_for_a_buffer_runs_queued_jobs() {
        let pool = Arc::new(BufferPool::new(8, 16, 1));
        let held = pool.acquire(0).unwrap();
        let waiter = {
            let pool = Arc::clone(&pool);
            std::thread::spawn(move || pool.acquire(0).map(|_| ()).is_ok())
        };
        wait_for_waiters(&pool, 1);
        let (sender, receiver) = std::sync::mpsc::channel();
        pool.execute(Box::new(move || {
            sender.send(std::thread::current().id()).unwrap()
        }));
        let ran_on = receiver.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(ran_on, waiter.thread().id());
        pool.release(held);
        assert!(join_within(
            waiter,
            "the waiter did not get the released buffer"
        ));
    }

    /// Workers past their last unit serve jobs until the writer closes the queue; the
    /// writer runs jobs itself only when no worker is live.
    #[test]
    fn serving_workers_run_jobs_until_closed_and_the_writer_helps_only_alone() {
        use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
        let pool = Arc::new(BufferPool::new(8, 16, 1));
        let counter = Arc::new(AtomicUsize::new(0));
        let job = || -> Job<'static> {
            let counter = Arc::clone(&counter);
            Box::new(move || {
                counter.fetch_add(1, SeqCst);
            })
        };
        // A live worker busy elsewhere (parsing): the writer leaves the job queued.
        let busy = pool.worker_guard();
        pool.execute(job());
        assert!(!pool.help());
        assert_eq!(pool.state.lock().unwrap().jobs.len(), 1);
        // No live worker: the writer runs it itself.
        drop(busy);
        assert!(pool.help());
        assert_eq!(counter.load(SeqCst), 1);
        assert!(!pool.help());

        let server = {
            let pool = Arc::clone(&pool);
            std::thread::spawn(move || {
                let _live = pool.worker_guard();
                pool.serve_jobs();
            })
        };
        pool.execute(job());
        let deadline = Instant::now() + Duration::from_secs(10);
        while counter.load(SeqCst) != 2 {
            assert!(Instant::now() < deadline, "the serving worker ran no job");
            std::thread::yield_now();
        }
        assert!(!server.is_finished());
        pool.close_jobs();
        join_within(server, "close_jobs did not release the serving worker");
    }
}
