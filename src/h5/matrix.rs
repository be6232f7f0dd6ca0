//! A site x sample matrix file (`txt2h5 matrix`): `M` and `Cov` (and `beta`) of HDF5 shape
//! (samples, rows), the row labels under `/rows`, the samples under `/samples` and the
//! sources that make them under `/sources`. Every dataset is flat (integers, floats and
//! fixed-width strings), so rhdf5's default `h5read` returns each with no NA.
//!
//! The matrices are chunked (1, R): one sample's R consecutive rows. A column of one sample
//! (a column in R) reads N / R whole chunks and no other sample's bytes; a block of rows of
//! every sample reads one chunk per sample. Chunks arrive compressed from the pool and are
//! stored whole (`H5Dwrite_chunk`) with their Fletcher32 checksum, as `/data`'s are.

use std::path::{Path, PathBuf};

use hdf5::plist::file_access::LibraryVersion;
use hdf5::types::TypeDescriptor;
use hdf5::{Dataset, Datatype, File, Group};

use super::attributes::write_string_attr;
use super::ffi::{write_all, GridDataset};
use super::open::string_attr;
use super::plugins::register_plugins;
use crate::codec::Compression;

/// The value of the root's `kind` attribute in a matrix file.
pub const MATRIX_KIND: &str = "txt2h5 matrix";

/// The datasets of a matrix file that hold one chunk per sample and row block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Matrix {
    M,
    Cov,
    Beta,
}

/// The row label datasets, one chunk per row block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Label {
    Chr,
    Start,
    End,
}

/// How a matrix file is stored: its samples, chunks, label widths and codec. The matrix
/// pipeline's assembler and compressor fill chunks to it, and the writer creates the
/// datasets from it: one value, so the two cannot disagree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatrixStorage {
    pub samples: usize,
    pub chunk_rows: usize,
    pub chr_width: usize,
    /// `start` and `end` as `<i8` instead of `<i4`.
    pub wide_pos: bool,
    pub compression: Compression,
    pub beta: bool,
}

/// What the file records about its samples and where it came from.
#[derive(Clone, Debug)]
pub struct MatrixFacts {
    pub sample_names: Vec<String>,
    /// `(recorded path, sample name)` of each source that makes a sample, in study order.
    pub sources: Vec<(String, String)>,
    pub study: String,
    pub rows_kind: String,
    pub options: String,
    pub command_line: String,
}

/// A matrix file being written by one thread.
pub struct MatrixWriter {
    /// The output as the user named it (the file itself is its temporary file), for
    /// messages.
    output: PathBuf,
    file: File,
    m: GridDataset,
    cov: GridDataset,
    beta: Option<GridDataset>,
    chr: GridDataset,
    start: GridDataset,
    end: GridDataset,
    samples: u64,
    chunk_rows: u64,
}

impl MatrixWriter {
    /// Creates (truncating) the file at `path`, the temporary file of `output`, with
    /// empty, resizable datasets.
    pub fn create(path: &Path, output: &Path, storage: &MatrixStorage) -> hdf5::Result<Self> {
        register_plugins();
        // HDF5 1.10's file format: a dataset with one unlimited dimension then indexes its
        // chunks with an extensible array, which appends in constant time and memory; the
        // 1.8 format's B-tree grows with the (samples x row blocks) chunks.
        //
        // No sieve buffer: HDF5 would keep the bytes of the small contiguous datasets
        // (`/samples/name`, `/sources/*`) in it and write them only when the dataset is
        // closed. A write that fails there (a full disk) fails the close, which a dropped
        // handle cannot report, and leaves a dataset ID without its dataset; the next
        // `H5Fflush` walks the open datasets and dereferences it (a segfault). Written
        // through, a failed write is an error of the write itself.
        let file = File::with_options()
            .with_fapl(|fapl| {
                fapl.libver_bounds(LibraryVersion::V110, LibraryVersion::V110)
                    .sieve_buf_size(0)
            })
            .create(path)?;
        let rows = file.create_group("rows")?;
        let filters = |ty: &TypeDescriptor| {
            storage
                .compression
                .filters(ty.size(), ty.size() * storage.chunk_rows)
        };
        let samples = storage.samples;
        let matrix = |name: &str, ty: TypeDescriptor| -> hdf5::Result<GridDataset> {
            let datatype = Datatype::from_descriptor(&ty)?;
            let data = file
                .new_dataset_builder()
                .chunk((1, storage.chunk_rows))
                .set_filters(&filters(&ty))
                .empty_as(&datatype)
                .shape((samples, 0..))
                .create(name)?;
            Ok(GridDataset::new(data))
        };
        let label = |name: &str, ty: TypeDescriptor| -> hdf5::Result<GridDataset> {
            let datatype = Datatype::from_descriptor(&ty)?;
            let data = rows
                .new_dataset_builder()
                .chunk(storage.chunk_rows)
                .set_filters(&filters(&ty))
                .empty_as(&datatype)
                .shape(0..)
                .create(name)?;
            Ok(GridDataset::new(data))
        };
        let int = TypeDescriptor::Integer(hdf5::types::IntSize::U4);
        let pos = TypeDescriptor::Integer(if storage.wide_pos {
            hdf5::types::IntSize::U8
        } else {
            hdf5::types::IntSize::U4
        });
        let float = TypeDescriptor::Float(hdf5::types::FloatSize::U4);
        Ok(Self {
            m: matrix("M", int.clone())?,
            cov: matrix("Cov", int)?,
            beta: storage.beta.then(|| matrix("beta", float)).transpose()?,
            chr: label("chr", TypeDescriptor::FixedAscii(storage.chr_width))?,
            start: label("start", pos.clone())?,
            end: label("end", pos)?,
            samples: samples as u64,
            chunk_rows: storage.chunk_rows as u64,
            output: output.to_path_buf(),
            file,
        })
    }

    /// The output this file becomes, as the user named it: what its errors name.
    pub fn output(&self) -> &Path {
        &self.output
    }

    /// Grows every dataset to `rows` rows.
    pub fn set_rows(&mut self, rows: u64) -> hdf5::Result<()> {
        for matrix in [Some(&self.m), Some(&self.cov), self.beta.as_ref()]
            .into_iter()
            .flatten()
        {
            matrix.set_extent(&[self.samples, rows])?;
        }
        for label in [&self.chr, &self.start, &self.end] {
            label.set_extent(&[rows])?;
        }
        Ok(())
    }

    /// Stores the chunk of `sample` at row block `block` of a matrix, already compressed
    /// (or raw), its checksum appended (see [`crate::matrix::assemble::compress`]).
    pub fn write_matrix_chunk(
        &self,
        matrix: Matrix,
        sample: usize,
        block: u64,
        stored: &[u8],
    ) -> hdf5::Result<()> {
        let data = match matrix {
            Matrix::M => &self.m,
            Matrix::Cov => &self.cov,
            Matrix::Beta => self.beta.as_ref().expect("created with --beta"),
        };
        let offset = [sample as u64, block * self.chunk_rows];
        data.write_chunk(&offset, stored)
    }

    /// Stores the chunk of row block `block` of a label dataset, already compressed (or
    /// raw), its checksum appended.
    pub fn write_label_chunk(&self, label: Label, block: u64, stored: &[u8]) -> hdf5::Result<()> {
        let data = match label {
            Label::Chr => &self.chr,
            Label::Start => &self.start,
            Label::End => &self.end,
        };
        let offset = [block * self.chunk_rows];
        data.write_chunk(&offset, stored)
    }

    /// Writes `/samples`, `/sources`, the descriptions and attributes (`created` is now:
    /// when the matrix was finished), then closes.
    pub fn finish(self, facts: &MatrixFacts) -> hdf5::Result<()> {
        let created = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        let file = &self.file;
        let samples = file.create_group("samples")?;
        write_strings(&samples, "name", &facts.sample_names)?;
        let sources = file.create_group("sources")?;
        let (paths, names): (Vec<String>, Vec<String>) = facts.sources.iter().cloned().unzip();
        write_strings(&sources, "path", &paths)?;
        write_strings(&sources, "sample", &names)?;
        let describe = |data: &Dataset, text: &str| write_string_attr(data, "description", text);
        describe(
            self.m.dataset(),
            "methylated counts (c), HDF5 shape (samples, rows): rows x samples in R",
        )?;
        describe(
            self.cov.dataset(),
            "total counts (c + t), HDF5 shape (samples, rows): rows x samples in R",
        )?;
        if let Some(beta) = &self.beta {
            describe(beta.dataset(), "M / Cov as float32, NaN where Cov is 0")?;
        }
        describe(self.chr.dataset(), "chromosome of each row")?;
        describe(
            self.start.dataset(),
            "first position of each row, 1-based (start = end for single sites)",
        )?;
        describe(
            self.end.dataset(),
            "last position of each row, 1-based, inclusive",
        )?;
        for (name, value) in [
            ("kind", MATRIX_KIND),
            ("tool", "txt2h5"),
            ("tool_version", env!("CARGO_PKG_VERSION")),
            ("study", facts.study.as_str()),
            ("rows_kind", facts.rows_kind.as_str()),
            ("options", facts.options.as_str()),
            ("command_line", facts.command_line.as_str()),
            ("created", created.as_str()),
        ] {
            write_string_attr(file, name, value)?;
        }
        file.flush()?;
        drop(self.m);
        drop(self.cov);
        drop(self.beta);
        drop(self.chr);
        drop(self.start);
        drop(self.end);
        self.file.close()
    }
}

/// A one-dimensional dataset of fixed-width strings, as wide as the longest (at least 1).
fn write_strings(group: &Group, name: &str, values: &[String]) -> hdf5::Result<()> {
    let width = values.iter().map(String::len).max().unwrap_or(0).max(1);
    let datatype = Datatype::from_descriptor(&TypeDescriptor::FixedAscii(width))?;
    let data = group
        .new_dataset_builder()
        .empty_as(&datatype)
        .shape(values.len())
        .create(name)?;
    let mut bytes = Vec::with_capacity(values.len() * width);
    for value in values {
        bytes.extend_from_slice(value.as_bytes());
        bytes.resize(bytes.len() + width - value.len(), 0);
    }
    write_all(&data, &datatype, &bytes)
}

/// What `inspect` shows of a matrix file (as text by `command::inspect`).
#[derive(Clone, Debug, serde::Serialize)]
pub struct MatrixSummary {
    pub samples: Vec<String>,
    pub rows: u64,
    pub rows_kind: String,
    pub beta: bool,
    pub study: Option<String>,
    pub options: Option<String>,
    pub command_line: Option<String>,
    pub created: Option<String>,
    pub tool_version: Option<String>,
}

/// The summary of the matrix file `path`, or `None` if it is not one (no `kind` attribute
/// naming it).
pub fn matrix_summary(path: &Path) -> hdf5::Result<Option<MatrixSummary>> {
    // Opening a FIFO would block; what is not a regular file is refused by the study
    // opener, which says why.
    if super::open::check_regular(path).is_err() {
        return Ok(None);
    }
    register_plugins();
    let file = File::open(path)?;
    if string_attr(&file, "kind").as_deref() != Some(MATRIX_KIND) {
        return Ok(None);
    }
    let names = file.dataset("samples/name")?;
    let width = names.dtype()?.size();
    let datatype = Datatype::from_descriptor(&TypeDescriptor::FixedAscii(width))?;
    let bytes = super::ffi::read_all(&names, &datatype)?;
    let samples = bytes
        .chunks_exact(width)
        .map(|name| String::from_utf8_lossy(crate::schema::trim_nul(name)).into_owned())
        .collect();
    let m = file.dataset("M")?;
    let rows = m.shape().get(1).copied().unwrap_or(0) as u64;
    Ok(Some(MatrixSummary {
        samples,
        rows,
        rows_kind: string_attr(&file, "rows_kind").unwrap_or_default(),
        beta: file.link_exists("beta"),
        study: string_attr(&file, "study"),
        options: string_attr(&file, "options"),
        command_line: string_attr(&file, "command_line"),
        created: string_attr(&file, "created"),
        tool_version: string_attr(&file, "tool_version"),
    }))
}
