//! Records in load order become HDF5 chunks: assembled here, compressed in parallel,
//! stored in order.
//!
//! The writer pushes each record buffer it takes in order; full chunks (`chunk_rows`
//! records) are cut from that stream, compressed by an [`Executor`] (see
//! [`crate::output::compress`]): a load's workers, which parse too, or merge's own pool.
//! They are stored with `H5Dwrite_chunk` in chunk order, so the file's layout, like its
//! content, does not depend on timing. Without compression the chunks are stored directly
//! from this thread. At most `2 * threads` chunks are in flight, which bounds memory at
//! about `4 * threads` chunk sizes. The last chunk is zero-padded, as
//! HDF5 stores every chunk whole; the dataset extent hides the padding. The pos of each
//! chunk's first row is noted as an anchor of the position index ([`crate::index`]).

use std::cell::RefCell;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use crate::index::scan::Fields;
use crate::index::Anchor;
use crate::output::compress::ChunkCompressor;
use crate::output::h5::{Compression, OutputWriter, WriterOptions};
use crate::pipeline::reorder::Reorder;

/// A chunk index with its raw buffer (to recycle) and its stored bytes.
type Compressed = (u64, Vec<u8>, Vec<u8>);

/// A chunk compression job.
pub type Job = Box<dyn FnOnce() + Send + 'static>;

/// Runs the chunker's compression jobs on other threads.
pub trait Executor: Sync {
    /// Queues `job`.
    fn execute(&self, job: Job);

    /// Runs a queued job on the calling thread (the writer, waiting for a compressed
    /// chunk) if it must, because nobody else will; whether it ran one.
    fn help(&self) -> bool;
}

/// A pool of compression threads of its own (merge, which has no workers).
struct OwnPool(rayon::ThreadPool);

impl Executor for OwnPool {
    fn execute(&self, job: Job) {
        self.0.spawn(job);
    }

    fn help(&self) -> bool {
        false
    }
}

/// Where compression jobs run.
enum Compressors<'w> {
    Own(OwnPool),
    Shared(&'w dyn Executor),
}

impl Compressors<'_> {
    fn executor(&self) -> &dyn Executor {
        match self {
            Compressors::Own(pool) => pool,
            Compressors::Shared(executor) => *executor,
        }
    }
}

/// How long the writer blocks at a time for a compressed chunk before it checks whether it
/// must run a job itself.
const RESULT_WAIT: Duration = Duration::from_millis(1);

pub struct Chunker<'w> {
    writer: &'w mut OutputWriter,
    fields: Fields,
    current: Vec<u8>,
    filled: usize,
    rows: u64,
    next_index: u64,
    parallel: Option<Parallel<'w>>,
    anchors: Vec<Anchor>,
}

struct Parallel<'w> {
    compressors: Compressors<'w>,
    compression: Compression,
    sender: Sender<Compressed>,
    receiver: Receiver<Compressed>,
    spare_raw: Vec<Vec<u8>>,
    spare_stored: Vec<Vec<u8>>,
    in_flight: usize,
    max_in_flight: usize,
    waiting: Reorder<Vec<u8>>,
    next_to_store: u64,
}

thread_local! {
    static COMPRESSOR: RefCell<Option<ChunkCompressor>> = const { RefCell::new(None) };
}

impl<'w> Chunker<'w> {
    /// A chunker for a dataset laid out as `layout`, compressing on a pool of `threads`
    /// threads of its own.
    pub fn for_layout(
        writer: &'w mut OutputWriter,
        layout: &WriterOptions,
        threads: usize,
    ) -> std::io::Result<Self> {
        // Raw chunks need no compression threads.
        let pool = (layout.compression != Compression::None)
            .then(|| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .thread_name(|index| format!("txt2h5-compress-{index}"))
                    .build()
                    .map_err(std::io::Error::other)
            })
            .transpose()?;
        Ok(Self::new(
            writer,
            Fields::of(&layout.schema),
            layout.chunk_rows,
            layout.compression,
            pool.map(|pool| Compressors::Own(OwnPool(pool))),
            threads,
        ))
    }

    /// A chunker for a dataset laid out as `layout` whose chunks `executor` compresses,
    /// on `threads` threads.
    pub fn on_executor(
        writer: &'w mut OutputWriter,
        layout: &WriterOptions,
        executor: &'w dyn Executor,
        threads: usize,
    ) -> Self {
        Self::new(
            writer,
            Fields::of(&layout.schema),
            layout.chunk_rows,
            layout.compression,
            Some(Compressors::Shared(executor)),
            threads,
        )
    }

    /// Chunks are shuffled and compressed by `compressors`, or stored raw with
    /// `Compression::None`.
    fn new(
        writer: &'w mut OutputWriter,
        fields: Fields,
        chunk_rows: usize,
        compression: Compression,
        compressors: Option<Compressors<'w>>,
        threads: usize,
    ) -> Self {
        let parallel = compressors
            .filter(|_| compression != Compression::None)
            .map(|compressors| {
                let (sender, receiver) = channel();
                Parallel {
                    compressors,
                    compression,
                    sender,
                    receiver,
                    spare_raw: Vec::new(),
                    spare_stored: Vec::new(),
                    in_flight: 0,
                    max_in_flight: 2 * threads.max(1),
                    waiting: Reorder::default(),
                    next_to_store: 0,
                }
            });
        Self {
            writer,
            current: vec![0; chunk_rows * fields.record_size],
            fields,
            filled: 0,
            rows: 0,
            next_index: 0,
            parallel,
            anchors: Vec::new(),
        }
    }

    /// A chunker storing raw chunks (tests).
    #[cfg(test)]
    pub fn uncompressed(writer: &'w mut OutputWriter, fields: Fields, chunk_rows: usize) -> Self {
        Self::new(writer, fields, chunk_rows, Compression::None, None, 1)
    }

    pub fn chunk_rows(&self) -> usize {
        self.current.len() / self.fields.record_size
    }

    pub fn record_size(&self) -> usize {
        self.fields.record_size
    }

    /// Rows pushed so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Appends whole records.
    pub fn push(&mut self, mut records: &[u8]) -> hdf5::Result<()> {
        debug_assert_eq!(records.len() % self.record_size(), 0);
        self.rows += (records.len() / self.record_size()) as u64;
        while !records.is_empty() {
            let chunk_bytes = self.current.len();
            if self.parallel.is_none() && self.filled == 0 && records.len() >= chunk_bytes {
                // A whole raw chunk in the caller's buffer: stored from there, not copied.
                let (chunk, rest) = records.split_at(chunk_bytes);
                let index = self.note_chunk(chunk);
                self.writer.set_extent(self.rows)?;
                self.writer.write_chunk(index, chunk)?;
                records = rest;
                continue;
            }
            let take = (self.current.len() - self.filled).min(records.len());
            self.current[self.filled..self.filled + take].copy_from_slice(&records[..take]);
            self.filled += take;
            records = &records[take..];
            if self.filled == self.current.len() {
                self.emit()?;
            }
        }
        Ok(())
    }

    /// Whether the next record starts a chunk, so that a stored chunk may be pushed.
    pub fn at_chunk_boundary(&self) -> bool {
        self.filled == 0
    }

    /// Appends a full chunk already in stored form (filtered like this dataset's chunks),
    /// as merge copies it from a part without inflating and deflating it again; `first_pos`
    /// is the pos of its first row. Only at a chunk boundary.
    pub fn push_stored(&mut self, stored: Vec<u8>, first_pos: i64) -> hdf5::Result<()> {
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
            return self.writer.write_chunk(index, &stored);
        };
        while parallel.in_flight >= parallel.max_in_flight {
            parallel.receive_one(self.writer, self.rows)?;
        }
        parallel.in_flight += 1;
        parallel.waiting.insert(index as usize, 0, stored);
        parallel.store_ready(self.writer, self.rows)
    }

    /// Stores the last, partial chunk and everything still in flight; sets the final extent.
    /// Returns the anchors: the pos of every chunk's first row.
    pub fn finish(mut self) -> hdf5::Result<Vec<Anchor>> {
        if self.filled > 0 {
            self.current[self.filled..].fill(0);
            self.emit()?;
        }
        if let Some(parallel) = &mut self.parallel {
            while parallel.in_flight > 0 {
                parallel.receive_one(self.writer, self.rows)?;
            }
        }
        self.writer.set_extent(self.rows)?;
        Ok(self.anchors)
    }

    /// Numbers the next chunk, whose records are `chunk` (a whole chunk), and notes its
    /// anchor.
    fn note_chunk(&mut self, chunk: &[u8]) -> u64 {
        let index = self.next_index;
        self.anchors.push(Anchor {
            row: index * (chunk.len() / self.fields.record_size) as u64,
            pos: self.fields.pos(chunk),
        });
        self.next_index += 1;
        index
    }

    fn emit(&mut self) -> hdf5::Result<()> {
        let current = std::mem::take(&mut self.current);
        let index = self.note_chunk(&current);
        self.current = current;
        self.filled = 0;
        let Some(parallel) = &mut self.parallel else {
            self.writer.set_extent(self.rows)?;
            return self.writer.write_chunk(index, &self.current);
        };
        while parallel.in_flight >= parallel.max_in_flight {
            parallel.receive_one(self.writer, self.rows)?;
        }
        let fresh = parallel
            .spare_raw
            .pop()
            .unwrap_or_else(|| vec![0; self.current.len()]);
        let raw = std::mem::replace(&mut self.current, fresh);
        let mut stored = parallel.spare_stored.pop().unwrap_or_default();
        let sender = parallel.sender.clone();
        let (compression, record_size) = (parallel.compression, self.fields.record_size);
        parallel.in_flight += 1;
        parallel.compressors.executor().execute(Box::new(move || {
            COMPRESSOR.with(|cell| {
                cell.borrow_mut()
                    .get_or_insert_with(|| {
                        ChunkCompressor::new(compression, record_size).expect("a compressed layout")
                    })
                    .compress(&raw, &mut stored);
            });
            // The writer may have stopped on an error; then nobody needs the result.
            let _ = sender.send((index, raw, stored));
        }));
        Ok(())
    }
}

impl Parallel<'_> {
    /// Waits for one compressed chunk and stores every chunk now ready, in order.
    fn receive_one(&mut self, writer: &mut OutputWriter, rows: u64) -> hdf5::Result<()> {
        let (index, raw, stored) = loop {
            match self.receiver.recv_timeout(RESULT_WAIT) {
                Ok(compressed) => break compressed,
                Err(RecvTimeoutError::Timeout) => {
                    self.compressors.executor().help();
                }
                Err(RecvTimeoutError::Disconnected) => {
                    unreachable!("the sender lives in self, so the channel cannot close")
                }
            }
        };
        self.spare_raw.push(raw);
        self.waiting.insert(index as usize, 0, stored);
        self.store_ready(writer, rows)
    }

    /// Stores every chunk that is next in order.
    fn store_ready(&mut self, writer: &mut OutputWriter, rows: u64) -> hdf5::Result<()> {
        while let Some(stored) = self.waiting.take(self.next_to_store as usize, 0) {
            writer.set_extent(rows)?;
            writer.write_chunk(self.next_to_store, &stored)?;
            self.spare_stored.push(stored);
            self.next_to_store += 1;
            self.in_flight -= 1;
        }
        Ok(())
    }
}
