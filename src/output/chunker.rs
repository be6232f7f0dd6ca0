//! Records in load order become HDF5 chunks: assembled here, compressed in parallel,
//! stored in order.
//!
//! The writer pushes each record buffer it takes in order; full chunks (`chunk_rows`
//! records) are cut from that stream, compressed by an [`Executor`] (see
//! [`crate::codec::chunk`]): a load's workers, which parse too, or merge's own pool.
//! They are stored with `H5Dwrite_chunk` in chunk order, so the file's layout, like its
//! content, does not depend on timing. Every chunk leaves with its Fletcher32 checksum
//! ([`crate::codec::checksum`]), made on the executor too, so that the writing thread
//! neither copies nor sums the bytes it stores: a compression job appends it to its output;
//! without compression, a job only sums the chunk's records and seals them in place, in the
//! four bytes of room the raw chunk buffer has after them (the sum took a fifth of the
//! writing thread's time in a load without compression, the busiest thread there); a chunk
//! pushed as stored comes with it. At most `2 * threads` chunks are in flight, which bounds
//! memory at about `4 * threads` chunk sizes. The last chunk is zero-padded, as HDF5 stores
//! every chunk whole; the dataset extent hides the padding. The pos of each chunk's first
//! row is noted as an anchor of the position index ([`crate::index`]).
//!
//! The jobs, their order, their bound and their failures are [`crate::ordered`]'s: a job
//! that panics or cannot get memory for its output answers with that failure instead of a
//! chunk, so the chunker never waits for a chunk that will not come, and the run fails with
//! the reason.

use std::cell::RefCell;
use std::path::Path;

use crate::codec::{seal, ChunkCompressor, Compression, CHECKSUM_BYTES};
use crate::error::Error;
use crate::h5::{OutputWriter, WriterOptions};
use crate::index::Anchor;
use crate::memory::zeroed;
use crate::ordered::{Executor, Lane, Ordered};
use crate::schema::Fields;

/// Why the chunker stopped.
#[derive(Debug)]
pub enum ChunkError {
    /// Storing a chunk failed.
    Hdf5(hdf5::Error),
    /// A compression job failed (it could not get memory, or panicked: a bug).
    Job(Error),
}

impl From<hdf5::Error> for ChunkError {
    fn from(error: hdf5::Error) -> Self {
        ChunkError::Hdf5(error)
    }
}

impl ChunkError {
    /// The run's error; HDF5 failures name `output`.
    pub fn into_error(self, output: &Path) -> Error {
        match self {
            ChunkError::Hdf5(error) => Error::hdf5(output, error),
            ChunkError::Job(error) => error,
        }
    }
}

/// A job's answer: a chunk as the file stores it, checksum included, in the buffers that
/// are recycled once it is stored.
enum Sealed {
    /// Compressed from the raw chunk buffer `raw` into `stored`.
    Compressed { raw: Vec<u8>, stored: Vec<u8> },
    /// The records as they are, sealed in their raw chunk buffer.
    Raw(Vec<u8>),
    /// A chunk pushed as stored.
    Copied(Vec<u8>),
}

impl Sealed {
    /// The bytes to store.
    fn stored(&self) -> &[u8] {
        match self {
            Sealed::Compressed { stored, .. } | Sealed::Copied(stored) => stored,
            Sealed::Raw(raw) => raw,
        }
    }
}

/// Shuffles and compresses a raw chunk into `stored`, checksum last: the job's work,
/// replaceable in tests.
type Encode = fn(Compression, usize, &[u8], &mut Vec<u8>) -> Result<(), Error>;

pub struct Chunker<'w> {
    writer: &'w mut OutputWriter,
    fields: Fields,
    /// Bytes of a chunk's records.
    chunk_bytes: usize,
    /// The chunk being filled: its records, then room for the checksum.
    current: Vec<u8>,
    filled: usize,
    rows: u64,
    next_index: u64,
    parallel: Option<Parallel<'w>>,
    anchors: Vec<Anchor>,
}

struct Parallel<'w> {
    /// Compression (or checksum) jobs in flight, their chunks taken in chunk order.
    ordered: Ordered<'w, 'static, Sealed>,
    compression: Compression,
    encode: Encode,
    spare_raw: Vec<Vec<u8>>,
    spare_stored: Vec<Vec<u8>>,
    /// The most buffers each spare list keeps: as many as there can be jobs in flight.
    spares: usize,
    /// The index of the next chunk to store.
    next_stored: u64,
}

thread_local! {
    static COMPRESSOR: RefCell<Option<ChunkCompressor>> = const { RefCell::new(None) };
}

/// The job's work: shuffle and compress with this thread's compressor, which appends the
/// checksum.
fn encode_chunk(
    compression: Compression,
    record_size: usize,
    raw: &[u8],
    stored: &mut Vec<u8>,
) -> Result<(), Error> {
    COMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        let compressor = match &mut *cell {
            Some(compressor) => compressor,
            None => cell.insert(
                ChunkCompressor::new(compression, record_size)
                    .ok_or_else(|| Error::internal("a compression job for raw chunks"))?,
            ),
        };
        compressor.compress(raw, stored)
    })
}

impl<'w> Chunker<'w> {
    /// A chunker for a dataset stored as `storage` says (chunk rows, compression),
    /// compressing on `pool` (merge's).
    pub fn for_storage(
        writer: &'w mut OutputWriter,
        storage: &WriterOptions,
        pool: &'w rayon::ThreadPool,
    ) -> Result<Self, Error> {
        Self::on_executor(writer, storage, pool, pool.current_num_threads())
    }

    /// A chunker for a dataset stored as `storage` says whose chunks `executor`
    /// compresses, on `threads` threads.
    pub fn on_executor(
        writer: &'w mut OutputWriter,
        storage: &WriterOptions,
        executor: &'w dyn Executor<'static>,
        threads: usize,
    ) -> Result<Self, Error> {
        Self::new(
            writer,
            Fields::of(&storage.schema),
            storage.chunk_rows,
            storage.compression,
            Some(executor),
            threads,
        )
    }

    /// Chunks are shuffled and compressed on `executor`, or stored raw with
    /// `Compression::None`, their checksum summed on `executor` (on this thread without one:
    /// tests).
    fn new(
        writer: &'w mut OutputWriter,
        fields: Fields,
        chunk_rows: usize,
        compression: Compression,
        executor: Option<&'w dyn Executor<'static>>,
        threads: usize,
    ) -> Result<Self, Error> {
        let lane = Lane {
            stage: "chunk compressor",
            bound: 2 * threads.max(1),
        };
        let parallel = executor.map(|executor| Parallel {
            ordered: Ordered::new(executor, &[lane]),
            compression,
            encode: encode_chunk,
            spare_raw: Vec::new(),
            spare_stored: Vec::new(),
            spares: lane.bound,
            next_stored: 0,
        });
        let chunk_bytes = chunk_rows * fields.record_size;
        Ok(Self {
            writer,
            current: chunk_buffer(chunk_bytes)?,
            chunk_bytes,
            fields,
            filled: 0,
            rows: 0,
            next_index: 0,
            parallel,
            anchors: Vec::new(),
        })
    }

    /// A chunker storing raw chunks (tests).
    #[cfg(test)]
    pub fn uncompressed(writer: &'w mut OutputWriter, fields: Fields, chunk_rows: usize) -> Self {
        Self::new(writer, fields, chunk_rows, Compression::None, None, 1).unwrap()
    }

    pub fn chunk_rows(&self) -> usize {
        self.chunk_bytes / self.fields.record_size
    }

    pub fn record_size(&self) -> usize {
        self.fields.record_size
    }

    /// Rows pushed so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Appends whole records.
    pub fn push(&mut self, mut records: &[u8]) -> Result<(), ChunkError> {
        debug_assert_eq!(records.len() % self.record_size(), 0);
        self.rows += (records.len() / self.record_size()) as u64;
        // Raw chunks too are copied into the chunk buffer, even a whole one in the caller's
        // buffer: the checksum needs four bytes of room after the records, which only the
        // chunk buffer has (storing from the caller's buffer cost the same copy, made to
        // append the checksum).
        while !records.is_empty() {
            let take = (self.chunk_bytes - self.filled).min(records.len());
            self.current[self.filled..self.filled + take].copy_from_slice(&records[..take]);
            self.filled += take;
            records = &records[take..];
            if self.filled == self.chunk_bytes {
                self.emit()?;
            }
        }
        Ok(())
    }

    /// Whether the next record starts a chunk, so that a stored chunk may be pushed.
    pub fn at_chunk_boundary(&self) -> bool {
        self.filled == 0
    }

    /// Appends a full chunk already in stored form (filtered like this dataset's chunks,
    /// checksum included), as merge copies it from a part without inflating and deflating
    /// it again; `first_pos` is the pos of its first row. Only at a chunk boundary.
    pub fn push_stored(&mut self, stored: Vec<u8>, first_pos: i64) -> Result<(), ChunkError> {
        assert!(self.at_chunk_boundary());
        self.anchors.push(Anchor {
            row: self.rows,
            pos: first_pos,
        });
        self.rows += self.chunk_rows() as u64;
        let index = self.next_index;
        self.next_index += 1;
        let Some(parallel) = &mut self.parallel else {
            self.writer.set_extent(self.rows)?;
            return Ok(self.writer.write_chunk(index, &stored)?);
        };
        while !parallel.ordered.has_room(0) {
            parallel.store_next(self.writer, self.rows)?;
        }
        let key = parallel.ordered.submit_done(0, Sealed::Copied(stored));
        debug_assert_eq!(key, index);
        parallel.store_ready(self.writer, self.rows)
    }

    /// Stores the last, partial chunk and everything still in flight; sets the final extent.
    /// Returns the anchors: the pos of every chunk's first row.
    pub fn finish(mut self) -> Result<Vec<Anchor>, ChunkError> {
        if self.filled > 0 {
            self.current[self.filled..self.chunk_bytes].fill(0);
            self.emit()?;
        }
        if let Some(parallel) = &mut self.parallel {
            while !parallel.ordered.is_idle() {
                parallel.store_next(self.writer, self.rows)?;
            }
        }
        self.writer.set_extent(self.rows)?;
        Ok(self.anchors)
    }

    /// Hands on the chunk filled in `current`, numbered next, and notes its anchor.
    fn emit(&mut self) -> Result<(), ChunkError> {
        let index = self.next_index;
        self.next_index += 1;
        let anchor = Anchor {
            row: index * self.chunk_rows() as u64,
            pos: self.fields.pos(&self.current),
        };
        self.anchors.push(anchor);
        self.filled = 0;
        let Some(parallel) = &mut self.parallel else {
            seal(&mut self.current);
            self.writer.set_extent(self.rows)?;
            return Ok(self.writer.write_chunk(index, &self.current)?);
        };
        while !parallel.ordered.has_room(0) {
            parallel.store_next(self.writer, self.rows)?;
        }
        let fresh = match parallel.spare_raw.pop() {
            Some(spare) => spare,
            None => chunk_buffer(self.chunk_bytes).map_err(ChunkError::Job)?,
        };
        let mut raw = std::mem::replace(&mut self.current, fresh);
        let key = if parallel.compression == Compression::None {
            parallel.ordered.submit(0, move || {
                seal(&mut raw);
                Ok(Sealed::Raw(raw))
            })
        } else {
            let mut stored = parallel.spare_stored.pop().unwrap_or_default();
            let (compression, record_size) = (parallel.compression, self.fields.record_size);
            let (encode, chunk_bytes) = (parallel.encode, self.chunk_bytes);
            parallel.ordered.submit(0, move || {
                encode(compression, record_size, &raw[..chunk_bytes], &mut stored)?;
                Ok(Sealed::Compressed { raw, stored })
            })
        };
        debug_assert_eq!(key, index);
        parallel.store_ready(self.writer, self.rows)
    }
}

/// A zeroed buffer for one raw chunk of `bytes` bytes of records and room for its checksum,
/// or the error that says it could not be had.
fn chunk_buffer(bytes: usize) -> Result<Vec<u8>, Error> {
    zeroed(bytes + CHECKSUM_BYTES, "a chunk of the output")
}

impl Parallel<'_> {
    /// Waits for the next compressed chunk in order and stores it.
    fn store_next(&mut self, writer: &mut OutputWriter, rows: u64) -> Result<(), ChunkError> {
        match self.ordered.wait_next().map_err(ChunkError::Job)? {
            Some((_, sealed)) => self.store(writer, rows, sealed),
            None => Ok(()),
        }
    }

    /// Stores every chunk that is next in order and compressed.
    fn store_ready(&mut self, writer: &mut OutputWriter, rows: u64) -> Result<(), ChunkError> {
        while let Some((_, sealed)) = self.ordered.try_next().map_err(ChunkError::Job)? {
            self.store(writer, rows, sealed)?;
        }
        Ok(())
    }

    /// Stores `sealed` and keeps its buffers for the next jobs (no more than can be in
    /// flight: chunks pushed as stored bring buffers of their own, which no job takes).
    fn store(
        &mut self,
        writer: &mut OutputWriter,
        rows: u64,
        sealed: Sealed,
    ) -> Result<(), ChunkError> {
        writer.set_extent(rows)?;
        writer.write_chunk(self.next_stored, sealed.stored())?;
        self.next_stored += 1;
        let (raw, stored) = match sealed {
            Sealed::Compressed { raw, stored } => (Some(raw), Some(stored)),
            Sealed::Raw(raw) => (Some(raw), None),
            Sealed::Copied(stored) => (None, Some(stored)),
        };
        for (spares, buffer) in [(&mut self.spare_raw, raw), (&mut self.spare_stored, stored)] {
            if let Some(buffer) = buffer.filter(|_| spares.len() < self.spares) {
                spares.push(buffer);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::{sync_channel, SyncSender};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use super::*;
    use crate::codec::append_checksum;
    use crate::h5::RowReader;
    use crate::ordered::{thread_pool, Job};
    use crate::schema::Schema;

    /// Compression threads like a load's workers: a job that panics ends its thread, the
    /// others go on serving.
    struct Workers {
        jobs: Mutex<Option<SyncSender<Job<'static>>>>,
    }

    impl Workers {
        fn start(threads: usize) -> Self {
            let (sender, receiver) = sync_channel::<Job<'static>>(64);
            let receiver = Arc::new(Mutex::new(receiver));
            for _ in 0..threads {
                let receiver = Arc::clone(&receiver);
                std::thread::spawn(move || loop {
                    let job = receiver.lock().unwrap().recv();
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                });
            }
            Self {
                jobs: Mutex::new(Some(sender)),
            }
        }
    }

    impl Executor<'static> for Workers {
        fn execute(&self, job: Job<'static>) {
            let _ = self.jobs.lock().unwrap().as_ref().unwrap().send(job);
        }
    }

    fn storage() -> WriterOptions {
        WriterOptions {
            dataset: "data".to_string(),
            schema: Schema::new(10).unwrap(),
            chunk_rows: 16,
            compression: Compression::Gzip(1),
        }
    }

    /// Pushes 10 chunks of records through a chunker whose third chunk's job panics.
    fn push_through_a_panicking_job(make: fn(&mut OutputWriter) -> Chunker<'_>) -> ChunkError {
        fn encode(
            compression: Compression,
            size: usize,
            raw: &[u8],
            stored: &mut Vec<u8>,
        ) -> Result<(), Error> {
            if raw[0] == 2 {
                panic!("a test job panics");
            }
            encode_chunk(compression, size, raw, stored)
        }
        let dir = tempfile::tempdir().unwrap();
        let mut output = OutputWriter::create(&dir.path().join("out.h5"), &storage()).unwrap();
        let mut chunker = make(&mut output);
        chunker.parallel.as_mut().unwrap().encode = encode;
        let record_size = chunker.record_size();
        let result = (0..10u8).try_for_each(|chunk| chunker.push(&vec![chunk; 16 * record_size]));
        match result {
            Err(error) => error,
            Ok(()) => chunker.finish().unwrap_err(),
        }
    }

    /// Runs `test` on a thread of its own, failing instead of hanging past a deadline.
    fn within_deadline<T: Send + 'static>(test: impl FnOnce() -> T + Send + 'static) -> T {
        let thread = std::thread::spawn(test);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !thread.is_finished() {
            assert!(Instant::now() < deadline, "the chunker waits forever");
            std::thread::sleep(Duration::from_millis(5));
        }
        thread.join().unwrap()
    }

    /// Without compression the chunks are sealed by checksum jobs on the pool, and chunks
    /// pushed as stored go through the same lane: every stored chunk verifies (ours and
    /// HDF5's reads) and reads back as the records pushed, and the spare buffers kept stay
    /// within the jobs in flight however many chunks are copied.
    #[test]
    fn raw_chunks_are_sealed_on_the_pool_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.h5");
        let storage = WriterOptions {
            compression: Compression::None,
            ..storage()
        };
        let pool = thread_pool(2, "test").unwrap();
        let mut output = OutputWriter::create(&path, &storage).unwrap();
        let mut chunker = Chunker::for_storage(&mut output, &storage, &pool).unwrap();
        let chunk_bytes = 16 * chunker.record_size();
        let noise = |chunks: usize, seed| crate::test_support::noise(chunks * chunk_bytes, seed);
        let (pushed, copied) = (noise(5, 0x9e37_79b9), noise(20, 0x2545_f491));
        let tail = &noise(1, 0x4f6c_dd1d)[..chunk_bytes / 2];
        for piece in pushed.chunks(5 * chunk_bytes / 16) {
            chunker.push(piece).unwrap();
        }
        for chunk in copied.chunks(chunk_bytes) {
            let mut stored = chunk.to_vec();
            append_checksum(&mut stored);
            chunker.push_stored(stored, 1).unwrap();
        }
        chunker.push(tail).unwrap();
        let parallel = chunker.parallel.as_ref().unwrap();
        assert!(parallel.spare_stored.len() <= parallel.spares);
        assert!(parallel.spare_raw.len() <= parallel.spares);
        chunker.finish().unwrap();
        drop(output);
        let expected = [&pushed[..], &copied[..], tail].concat();
        let reader = RowReader::open(&path, "data", &storage.schema, 16, Compression::None)
            .expect("the file opens");
        assert!(reader.has_checksum());
        let mut stored = Vec::new();
        for (index, chunk) in expected.chunks(chunk_bytes).enumerate() {
            assert!(reader
                .read_stored_chunk(index as u64, 16, &mut stored)
                .unwrap());
            assert_eq!(&stored[..chunk.len()], chunk, "chunk {index}");
        }
        let rows = (expected.len() / (chunk_bytes / 16)) as u64;
        let mut back = Vec::new();
        reader.read_rows(0, rows, &mut back).unwrap();
        assert!(back == expected);
    }

    /// Regression: a compression job that panicked never answered, and the chunker waited
    /// for its chunk forever (a load hung with its workers serving nothing).
    #[test]
    fn a_panicking_compression_job_fails_the_run_instead_of_hanging() {
        let error = within_deadline(|| {
            push_through_a_panicking_job(|output| {
                let workers: &'static Workers = Box::leak(Box::new(Workers::start(2)));
                Chunker::on_executor(output, &storage(), workers, 2).unwrap()
            })
            .into_error(Path::new("out.h5"))
        });
        assert!(matches!(error, Error::Internal { .. }), "{error}");
        let message = error.to_string();
        assert!(
            message.contains("the chunk compressor panicked: a test job panics"),
            "{message}"
        );
        assert!(message.contains("a bug in txt2h5"), "{message}");
    }

    /// Merge's compression pool: a panicking job is an error too, not an abort of the
    /// process (rayon aborts on a panic that escapes a spawned job).
    #[test]
    fn a_panicking_job_on_a_rayon_pool_is_an_error() {
        let error = within_deadline(|| {
            push_through_a_panicking_job(|output| {
                let pool: &'static rayon::ThreadPool =
                    Box::leak(Box::new(thread_pool(2, "test").unwrap()));
                Chunker::for_storage(output, &storage(), pool).unwrap()
            })
            .into_error(Path::new("out.h5"))
        });
        assert!(matches!(error, Error::Internal { .. }), "{error}");
    }
}
