//! `txt2h5 export`: rows of an output back as text, all of them or a selection.
//!
//! The selection becomes row ranges through the position index ([`crate::query::select`]);
//! only the chunks holding them are read, and they are decompressed, filtered, formatted
//! (and, for a `.gz` output, compressed) on all cores, then written in row order
//! ([`crate::query::chunks`]). The output holds the selected rows in dataset order: by
//! source in load order, then as in each file.

mod sink;
mod text;

use std::cell::RefCell;
use std::time::Instant;

use crate::bgzf;
use crate::cli::{ExportFormat, SourceName};
use crate::error::{Error, Result};
use crate::h5::{Segment, Study};
use crate::ordered::thread_pool;
use crate::progress::{group_thousands, Progress};
use crate::query::chunks::{chunk_tasks, run_in_order, ChunkTask, Flow, Span};
use crate::query::claims::{escaped, Claims};
use crate::query::region::Regions;
use crate::query::select::{plan, Selection, SelectionFlags};
use crate::schema::Fields;
use crate::settings::ExportSettings;
use crate::signals::Interrupt;
use sink::{Sink, Written};
use text::TextStyle;

/// What an export did, for its summary line.
#[derive(Debug)]
pub struct ExportReport {
    /// The output file, or `-` for standard output.
    pub output: String,
    pub rows: u64,
    /// Chunks read.
    pub chunks_read: usize,
    pub seconds: f64,
}

impl ExportReport {
    pub fn summary_line(&self) -> String {
        format!(
            "exported {} rows in {:.2} s, reading {} chunk{} -> {}",
            group_thousands(self.rows),
            self.seconds,
            group_thousands(self.chunks_read as u64),
            if self.chunks_read == 1 { "" } else { "s" },
            self.output
        )
    }
}

thread_local! {
    static COMPRESSOR: RefCell<Option<libdeflater::Compressor>> = const { RefCell::new(None) };
}

/// Runs the export; `note` receives notes for people before any row is written.
pub fn export(
    settings: &ExportSettings,
    interrupt: &Interrupt,
    note: &dyn Fn(&str),
) -> Result<ExportReport> {
    let started = Instant::now();
    if let Some(output) = &settings.output {
        crate::output::pending::refuse_input_as_output(output, &settings.file)?;
    }
    let study =
        Study::open(&settings.file).map_err(|error| error.into_error(&settings.file, "export"))?;
    let selection = selection(settings, &study)?;
    let plan = plan(&study, &selection);
    for line in &plan.notes {
        note(line);
    }
    let segments = study
        .segments()
        .map_err(|(path, error)| error.into_error(&path, "read"))?;
    let spans: Vec<Span> = segments.iter().map(Span::from).collect();
    let tasks = chunk_tasks(&spans, &plan.ranges);
    let names = source_names(settings, &study, &selection)?;
    let style = TextStyle {
        format: settings.format,
        schema: study.schema,
        with_source: settings.source_column.is_some(),
    };
    let rows_of = RowFilter::new(&plan.ranges, &selection, &study);
    // Regions are found through the index: the rows read are checked against its claims.
    let claims = match (&selection.regions, &study.index) {
        (Some(_), Some(index)) => Some(Claims::new(&study.path, index, rows_of.fields)),
        _ => None,
    };
    let mut sink = Sink::open(settings.output.as_deref(), settings.force)?;
    let whole = selection.sources.is_none() && selection.regions.is_none();
    let progress = Progress::rows(!settings.quiet && whole, study.rows);
    let pool = thread_pool(settings.threads, "export")?;
    let rows = write_rows(
        Rows {
            segments: &segments,
            tasks: &tasks,
            style: &style,
            rows_of: &rows_of,
            names: &names,
            claims: claims.as_ref(),
            study: &study.path,
            pool: &pool,
        },
        &mut sink,
        &progress,
        interrupt,
    )?;
    progress.finish();
    sink.finish()?;
    Ok(ExportReport {
        output: settings
            .output
            .as_ref()
            .map_or("-".to_string(), |path| path.to_string_lossy().into_owned()),
        rows,
        chunks_read: tasks.len(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The rows the selection flags choose.
fn selection(settings: &ExportSettings, study: &Study) -> Result<Selection> {
    Selection::from_flags(
        &SelectionFlags {
            regions: &settings.regions,
            bed_files: &settings.bed_files,
            sources: &settings.sources,
            source_indices: &settings.source_indices,
        },
        study,
    )
}

/// What to write: the chunks to read and how their rows become text.
struct Rows<'a> {
    segments: &'a [Segment],
    tasks: &'a [ChunkTask],
    style: &'a TextStyle,
    rows_of: &'a RowFilter<'a>,
    names: &'a [Vec<u8>],
    /// The index's claims, where the rows were found through it.
    claims: Option<&'a Claims>,
    study: &'a std::path::Path,
    pool: &'a rayon::ThreadPool,
}

/// Writes the header and the selected rows to `sink`, formatted (and compressed) on
/// `rows.pool`, in row order; returns the rows written. A reader that closes
/// standard output early ends the export quietly.
fn write_rows(
    rows: Rows<'_>,
    sink: &mut Sink,
    progress: &Progress,
    interrupt: &Interrupt,
) -> Result<u64> {
    let bgzf = sink.bgzf();
    if let Some(header) = rows.style.header() {
        if matches!(sink.write(&compressed(header, bgzf))?, Written::Closed) {
            return Ok(0);
        }
    }
    let work = |task: &ChunkTask, records: &[u8]| -> Result<(Vec<u8>, u64)> {
        if let Some(claims) = rows.claims {
            claims.check(task.from, records)?;
        }
        let mut lines = rows.style.lines((task.to - task.from) as usize);
        rows.rows_of.each(task, records, |row, record, source| {
            let name = rows.names.get(source).map_or(&b""[..], Vec::as_slice);
            lines
                .push(record, name)
                .map_err(|unwritable| Error::BadInput {
                    path: rows.study.to_path_buf(),
                    message: format!(
                        "row {row}: its {} {} holds a tab or line break, which a TSV line cannot \
                     carry (no file txt2h5 loads has one: the file was edited or damaged)\n  \
                     hint: --format csv quotes it",
                        unwritable.field,
                        escaped(&unwritable.bytes)
                    ),
                })
        })?;
        let count = lines.rows();
        Ok((compressed(lines.into_bytes(), bgzf), count))
    };
    let mut written = 0u64;
    run_in_order(
        rows.pool,
        rows.segments,
        rows.tasks,
        rows.rows_of.fields.record_size,
        interrupt,
        &work,
        |(bytes, chunk_rows)| {
            progress.add_rows(chunk_rows);
            match sink.write(&bytes)? {
                Written::Ok => {
                    written += chunk_rows;
                    Ok(Flow::Continue)
                }
                Written::Closed => Ok(Flow::Stop),
            }
        },
    )?;
    Ok(written)
}

/// `text`, BGZF-compressed if `bgzf`.
fn compressed(text: Vec<u8>, bgzf: bool) -> Vec<u8> {
    if !bgzf {
        return text;
    }
    COMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        let compressor = cell.get_or_insert_with(bgzf::writer::compressor);
        let mut out = Vec::with_capacity(text.len() / 3);
        bgzf::writer::compress(compressor, &text, &mut out);
        out
    })
}

/// The name of each source for `--with-source` (empty without it). In TSV a name with a
/// tab or line break would shift columns, so a selected source with one is refused.
fn source_names(
    settings: &ExportSettings,
    study: &Study,
    selection: &Selection,
) -> Result<Vec<Vec<u8>>> {
    let Some(source_name) = settings.source_column else {
        return Ok(Vec::new());
    };
    study
        .sources
        .iter()
        .enumerate()
        .map(|(number, source)| {
            let path = source.path.as_str();
            let name = match source_name {
                SourceName::Path => path,
                SourceName::Basename => path.rsplit_once('/').map_or(path, |(_, name)| name),
            };
            let selected = selection.has_source(number) && source.rows > 0;
            if selected && settings.format == ExportFormat::Tsv && name.contains(['\t', '\n', '\r']) {
                return Err(Error::usage(format!(
                    "source {path:?} holds a tab or line break, which TSV cannot carry; use --format csv"
                )));
            }
            Ok(name.as_bytes().to_vec())
        })
        .collect()
}

/// Which rows of a chunk are selected.
struct RowFilter<'a> {
    ranges: &'a [(u64, u64)],
    regions: Option<&'a Regions>,
    fields: Fields,
    /// One past the last row of each source, in source order.
    source_ends: Vec<u64>,
}

impl<'a> RowFilter<'a> {
    /// The rows in `ranges` (the selection's, through the index) and its regions.
    fn new(ranges: &'a [(u64, u64)], selection: &'a Selection, study: &Study) -> Self {
        RowFilter {
            ranges,
            regions: selection.regions.as_ref(),
            fields: Fields::of(&study.schema),
            source_ends: study
                .sources
                .iter()
                .map(|source| source.first_row + source.rows)
                .collect(),
        }
    }

    /// Calls `row` with the number, record and source of each selected row of `task`
    /// (`records` holds its rows `from..to`), in row order, until it fails.
    fn each(
        &self,
        task: &ChunkTask,
        records: &[u8],
        mut row: impl FnMut(u64, &[u8], usize) -> Result<()>,
    ) -> Result<()> {
        let (first, end) = (task.from, task.to);
        let size = self.fields.record_size;
        let from = self.ranges.partition_point(|&(_, hi)| hi <= first);
        let mut source = self
            .source_ends
            .partition_point(|&source_end| source_end <= first);
        // The intervals of the chromosome of the last row: rows come in runs of one chr.
        let (mut last_chr, mut intervals): (Option<&[u8]>, &[(i64, i64)]) = (None, &[]);
        for &(lo, hi) in &self.ranges[from..] {
            if lo >= end {
                break;
            }
            for number in lo.max(first)..hi.min(end) {
                let record = &records[(number - first) as usize * size..][..size];
                if let Some(regions) = self.regions {
                    let chr = self.fields.chr(record);
                    if last_chr != Some(chr) {
                        (last_chr, intervals) = (Some(chr), regions.on(chr));
                    }
                    if !Regions::within(intervals, self.fields.pos(record)) {
                        continue;
                    }
                }
                while self.source_ends.get(source).is_some_and(|&e| e <= number) {
                    source += 1;
                }
                row(number, record, source)?;
            }
        }
        Ok(())
    }
}
