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

use std::sync::{Condvar, Mutex};

use memmap2::MmapMut;
use ndarray::ArrayView2;

/// A fixed-capacity run of packed records in an anonymous memory map.
pub struct RecordBuffer {
    map: MmapMut,
    record_size: usize,
    rows: usize,
}

impl RecordBuffer {
    /// Maps room for `capacity` records of `record_size` bytes.
    pub fn new(record_size: usize, capacity: usize) -> std::io::Result<Self> {
        let map = MmapMut::map_anon(record_size * capacity)?;
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

    /// The filled records as an ndarray view: one row per record, one column per byte.
    pub fn view(&self) -> ArrayView2<'_, u8> {
        ArrayView2::from_shape((self.rows, self.record_size), self.as_bytes())
            .expect("the filled bytes are rows * record_size")
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
            // Every change that can let a waiter through (release, head change, cancel)
            // notifies under the lock, so an untimed wait cannot miss it.
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
        state: &mut std::sync::MutexGuard<'_, PoolState>,
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
        assert_eq!(buffer.view().shape(), &[2, 4]);
        assert_eq!(buffer.view()[[1, 0]], 5);
        assert_eq!(buffer.spare_mut().len(), 4);
        assert!(!buffer.is_full());
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
}
