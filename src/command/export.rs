//! `txt2h5 export`: rows of an output back as text, all of them or a selection.
//!
//! The selection becomes row ranges through the position index ([`crate::query::select`]);
//! only the chunks holding them are read, and they are decompressed, filtered, formatted
//! (and, for a `.gz` output, compressed) on all cores, then written in row order
//! ([`crate::query::chunks`]). The output holds the selected rows in dataset order: by
//! source in load order, then as in each file.

mod selection;
mod sink;
mod text;

use std::cell::RefCell;
use std::time::Instant;

use crate::cli::{ExportArgs, ExportFormat, SourceName};
use crate::error::{Error, Result};
use crate::index::scan::Fields;
use crate::output::h5::Study;
use crate::progress::{group_thousands, Progress};
use crate::query::chunks::{chunk_tasks, run_in_order, ChunkTask, Flow, Span};
use crate::query::region::Regions;
use crate::query::select::{plan, Selection};
use crate::settings::resolve_threads;
use crate::signals::Interrupt;
use sink::{bgzf_compress, compressor, Sink, Written};
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
    args: &ExportArgs,
    interrupt: &Interrupt,
    note: &dyn Fn(&str),
) -> Result<ExportReport> {
    let started = Instant::now();
    let threads = resolve_threads(args.threads)?;
    let study = Study::open(&args.file).map_err(|error| error.into_error(&args.file, "export"))?;
    let selection = selection::selection(args, &study)?;
    let plan = plan(&study, &selection);
    for line in &plan.notes {
        note(line);
    }
    let segments = study
        .segments()
        .map_err(|(path, error)| error.into_error(&path, "read"))?;
    let spans: Vec<Span> = segments.iter().map(Span::from).collect();
    let tasks = chunk_tasks(&spans, &plan.ranges);
    let names = source_names(args, &study, &selection)?;
    let style = TextStyle {
        format: args.format,
        schema: study.schema,
        with_source: args.with_source,
    };
    let mut sink = Sink::open(args.output.as_deref(), args.force)?;
    let bgzf = sink.bgzf();
    let whole = selection.sources.is_none() && selection.regions.is_none();
    let progress = Progress::rows(!args.quiet && whole, study.rows);
    let mut closed_early = false;
    if let Some(header) = style.header() {
        closed_early = matches!(sink.write(&compressed(header, bgzf))?, Written::Closed);
    }
    let fields = Fields::of(&study.schema);
    let rows_of = RowFilter {
        ranges: &plan.ranges,
        regions: selection.regions.as_ref(),
        fields,
        source_ends: study
            .sources
            .iter()
            .map(|source| source.first_row + source.rows)
            .collect(),
    };
    let work = |task: &ChunkTask, records: &[u8]| -> Result<(Vec<u8>, u64)> {
        let mut lines = style.lines((task.to - task.from) as usize);
        rows_of.each(task, records, |record, source| {
            lines.push(record, names.get(source).map_or(b"", Vec::as_slice));
        });
        let rows = lines.rows();
        Ok((compressed(lines.into_bytes(), bgzf), rows))
    };
    let mut rows = 0u64;
    if !closed_early {
        run_in_order(
            &segments,
            &tasks,
            fields.record_size,
            threads,
            interrupt,
            &work,
            |(bytes, chunk_rows)| {
                progress.add_rows(chunk_rows);
                match sink.write(&bytes)? {
                    Written::Ok => {
                        rows += chunk_rows;
                        Ok(Flow::Continue)
                    }
                    Written::Closed => {
                        closed_early = true;
                        Ok(Flow::Stop)
                    }
                }
            },
        )?;
    }
    progress.finish();
    let output = match &args.output {
        Some(path) => path.to_string_lossy().into_owned(),
        None => "-".to_string(),
    };
    sink.finish()?;
    Ok(ExportReport {
        output,
        rows,
        chunks_read: tasks.len(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// `text`, BGZF-compressed if `bgzf`.
fn compressed(text: Vec<u8>, bgzf: bool) -> Vec<u8> {
    if !bgzf {
        return text;
    }
    COMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        let compressor = cell.get_or_insert_with(compressor);
        let mut out = Vec::with_capacity(text.len() / 3);
        bgzf_compress(compressor, &text, &mut out);
        out
    })
}

/// The name of each source for `--with-source` (empty without it). In TSV a name with a
/// tab or line break would shift columns, so a selected source with one is refused.
fn source_names(args: &ExportArgs, study: &Study, selection: &Selection) -> Result<Vec<Vec<u8>>> {
    if !args.with_source {
        return Ok(Vec::new());
    }
    study
        .sources
        .iter()
        .enumerate()
        .map(|(number, source)| {
            let path = source.path.as_str();
            let name = match args.source_name {
                SourceName::Path => path,
                SourceName::Basename => path.rsplit_once('/').map_or(path, |(_, name)| name),
            };
            let selected = selection.has_source(number) && source.rows > 0;
            if selected && args.format == ExportFormat::Tsv && name.contains(['\t', '\n', '\r']) {
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

impl RowFilter<'_> {
    /// Calls `row` with each selected record of `task` (`records` holds its rows
    /// `from..to`) and its source, in row order.
    fn each(&self, task: &ChunkTask, records: &[u8], mut row: impl FnMut(&[u8], usize)) {
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
                row(record, source);
            }
        }
    }
}
