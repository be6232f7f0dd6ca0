//! The one place that knows the record type: records written here and read back
//! through [`Fields`].
//!
//! A record is packed exactly like numpy's structured dtype
//! `[('chr','S<W>'),('pos','<i4'),('pct','<f4'),('c','<i4'),('t','<i4')]`: no padding,
//! little-endian, `W + 16` bytes. Two options widen it: `--wide-pos` stores `pos` as `<i8`,
//! and `--extra strand,context` appends `('strand','S1')` and `('context','S3')`, always in
//! that order. The parser writes these bytes straight into the record buffers and the
//! writer hands the same bytes to HDF5 with a compound type built here, so the file type,
//! the memory type and the buffered records can never drift apart.

use hdf5::types::{CompoundField, CompoundType, FloatSize, IntSize, TypeDescriptor};

mod offsets;

pub use offsets::{pos_at, trim_nul, Fields};

/// The widest `chr` field accepted; HDF5 allows more, but no reference name is this long.
pub const MAX_CHR_WIDTH: usize = 255;

/// Names of the five fields, in column order.
pub const FIELD_NAMES: [&str; 5] = ["chr", "pos", "pct", "c", "t"];

/// What each field means, written into the output so a reader needs no other document.
pub const FIELD_DESCRIPTIONS: [&str; 5] = [
    "chromosome or contig name, ASCII, NUL-padded to the field width",
    "position on the chromosome, as given in the input (the tool does not change its base)",
    "methylation level in percent (0 to 100), float32 rounded from the double numpy parses",
    "count of reads calling the position methylated",
    "count of reads calling the position unmethylated",
];

/// The same, for files read through a format preset other than `native`.
const POS_DESCRIPTION_PRESET: &str =
    "1-based position on the chromosome (0-based starts of BED-like inputs are converted)";
const PCT_DESCRIPTION_PRESET: &str = "methylation level in percent (0 to 100), float32: the \
     input's percent as written, or (c / (c + t)) * 100 computed in double precision where the \
     input has none";
const STRAND_DESCRIPTION: &str = "strand of the cytosine: + or -, '.' where the input has none";
const CONTEXT_DESCRIPTION: &str =
    "sequence context of the cytosine: CG, CHG or CHH, empty where the input has none";

/// A `chr` width outside `1..=MAX_CHR_WIDTH`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a chr field of {chr_width} bytes is outside the supported 1 to {MAX_CHR_WIDTH}")]
pub struct ChrWidthError {
    pub chr_width: usize,
}

/// The optional parts of the record: `pos` width and the extra fields.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shape {
    /// `pos` as `<i8` instead of `<i4`.
    pub wide_pos: bool,
    /// A `strand` field (`S1`).
    pub strand: bool,
    /// A `context` field (`S3`).
    pub context: bool,
}

/// Bytes of the `context` field.
pub const CONTEXT_WIDTH: usize = 3;

/// The type of one packed record: its fields and their offsets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schema {
    chr_width: usize,
    shape: Shape,
}

impl Schema {
    /// The default record (`pos` as `<i4`, no extra fields) whose `chr` field holds
    /// `chr_width` bytes (1..=[`MAX_CHR_WIDTH`]). A width comes from a flag or from a file's
    /// type, so one out of range is an error, not a panic.
    pub fn new(chr_width: usize) -> Result<Self, ChrWidthError> {
        Self::with_shape(chr_width, Shape::default())
    }

    pub fn with_shape(chr_width: usize, shape: Shape) -> Result<Self, ChrWidthError> {
        if (1..=MAX_CHR_WIDTH).contains(&chr_width) {
            Ok(Self { chr_width, shape })
        } else {
            Err(ChrWidthError { chr_width })
        }
    }

    pub fn chr_width(&self) -> usize {
        self.chr_width
    }

    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// Whether this is the seed's record: `pos` `<i4` and no extra fields.
    pub fn is_plain(&self) -> bool {
        self.shape == Shape::default()
    }

    fn pos_size(&self) -> usize {
        if self.shape.wide_pos {
            8
        } else {
            4
        }
    }

    /// Bytes per record.
    pub fn record_size(&self) -> usize {
        self.chr_width
            + self.pos_size()
            + 12
            + usize::from(self.shape.strand)
            + if self.shape.context { CONTEXT_WIDTH } else { 0 }
    }

    pub fn pos_offset(&self) -> usize {
        self.chr_width
    }

    pub fn pct_offset(&self) -> usize {
        self.chr_width + self.pos_size()
    }

    pub fn c_offset(&self) -> usize {
        self.pct_offset() + 4
    }

    pub fn t_offset(&self) -> usize {
        self.pct_offset() + 8
    }

    fn extras_offset(&self) -> usize {
        self.pct_offset() + 12
    }

    /// The HDF5 compound type, packed, little-endian; h5py maps it to the numpy dtype above.
    pub fn type_descriptor(&self) -> TypeDescriptor {
        let int = || TypeDescriptor::Integer(IntSize::U4);
        let pos = if self.shape.wide_pos {
            TypeDescriptor::Integer(IntSize::U8)
        } else {
            int()
        };
        let mut fields = vec![
            (
                FIELD_NAMES[0],
                TypeDescriptor::FixedAscii(self.chr_width),
                0,
            ),
            (FIELD_NAMES[1], pos, self.pos_offset()),
            (
                FIELD_NAMES[2],
                TypeDescriptor::Float(FloatSize::U4),
                self.pct_offset(),
            ),
            (FIELD_NAMES[3], int(), self.c_offset()),
            (FIELD_NAMES[4], int(), self.t_offset()),
        ];
        let mut offset = self.extras_offset();
        if self.shape.strand {
            fields.push(("strand", TypeDescriptor::FixedAscii(1), offset));
            offset += 1;
        }
        if self.shape.context {
            fields.push(("context", TypeDescriptor::FixedAscii(CONTEXT_WIDTH), offset));
        }
        TypeDescriptor::Compound(CompoundType {
            fields: fields
                .into_iter()
                .enumerate()
                .map(|(index, (name, ty, offset))| CompoundField {
                    name: name.to_string(),
                    ty,
                    offset,
                    index,
                })
                .collect(),
            size: self.record_size(),
        })
    }

    /// The schema whose type is `descriptor`, if it is one txt2h5 writes.
    pub fn from_descriptor(descriptor: &TypeDescriptor) -> Result<Self, String> {
        let TypeDescriptor::Compound(compound) = descriptor else {
            return Err("the dataset is not a compound dataset".to_string());
        };
        let chr_width = match compound.fields.first().map(|field| &field.ty) {
            Some(TypeDescriptor::FixedAscii(width)) => *width,
            _ => return Err("the first field is not a fixed-width string".to_string()),
        };
        let has = |name: &str| compound.fields.iter().any(|field| field.name == name);
        let wide_pos = compound
            .fields
            .iter()
            .any(|field| field.name == "pos" && field.ty == TypeDescriptor::Integer(IntSize::U8));
        let shape = Shape {
            wide_pos,
            strand: has("strand"),
            context: has("context"),
        };
        let schema = Schema::with_shape(chr_width, shape)
            .map_err(|error| format!("its first field: {error}"))?;
        if *descriptor != schema.type_descriptor() {
            return Err("the record type differs from txt2h5's".to_string());
        }
        Ok(schema)
    }

    /// A short name of the record type for messages: `chr S10, pos <i4` plus any extras.
    pub fn summary(&self) -> String {
        let mut text = format!(
            "chr S{}, pos <i{}",
            self.chr_width,
            if self.shape.wide_pos { 8 } else { 4 }
        );
        if self.shape.strand {
            text.push_str(", strand");
        }
        if self.shape.context {
            text.push_str(", context");
        }
        text
    }

    /// A human-readable description of the record type, stored as an attribute of the output.
    /// `presets` says whether any input was read through a preset other than `native`
    /// (their `pos` is always 1-based and their `pct` may be derived).
    pub fn describe(&self, presets: bool) -> String {
        let pos_type = if self.shape.wide_pos { "<i8" } else { "<i4" };
        let mut fields = vec![
            (
                FIELD_NAMES[0],
                format!("S{} (fixed ASCII)", self.chr_width),
                FIELD_DESCRIPTIONS[0],
            ),
            (
                FIELD_NAMES[1],
                pos_type.to_string(),
                if presets {
                    POS_DESCRIPTION_PRESET
                } else {
                    FIELD_DESCRIPTIONS[1]
                },
            ),
            (
                FIELD_NAMES[2],
                "<f4".to_string(),
                if presets {
                    PCT_DESCRIPTION_PRESET
                } else {
                    FIELD_DESCRIPTIONS[2]
                },
            ),
            (FIELD_NAMES[3], "<i4".to_string(), FIELD_DESCRIPTIONS[3]),
            (FIELD_NAMES[4], "<i4".to_string(), FIELD_DESCRIPTIONS[4]),
        ];
        if self.shape.strand {
            fields.push(("strand", "S1".to_string(), STRAND_DESCRIPTION));
        }
        if self.shape.context {
            fields.push(("context", "S3".to_string(), CONTEXT_DESCRIPTION));
        }
        let mut text = format!(
            "one row per input line, packed {} bytes a row; fields:",
            self.record_size()
        );
        for (name, ty, meaning) in fields {
            text.push_str(&format!("\n  {name} ({ty}): {meaning}"));
        }
        text
    }

    /// Writes one record of the seed shape into `slot` (exactly [`Schema::record_size`]
    /// bytes; the schema must be [`Schema::is_plain`]).
    ///
    /// `chr` must already be checked to fit; the rest of the field is zero-filled as numpy
    /// does for `S` fields.
    #[inline]
    pub fn write_record(&self, slot: &mut [u8], chr: &[u8], pos: i32, pct: f32, c: i32, t: i32) {
        let w = self.chr_width;
        let (name, numbers) = slot.split_at_mut(w);
        write_name(name, chr);
        write_numbers(numbers, pos, pct, c, t);
    }

    /// Writes only the four numbers of a seed-shape record whose name the caller has
    /// written; the fast parser writes names its own way (see `parse::fast`).
    #[inline]
    pub fn write_numbers(&self, slot: &mut [u8], pos: i32, pct: f32, c: i32, t: i32) {
        write_numbers(&mut slot[self.chr_width..], pos, pct, c, t);
    }

    /// Writes a record of any shape. `strand` is one byte; `context` up to three, NUL-padded.
    #[inline]
    pub fn write_full(&self, slot: &mut [u8], record: &FullRecord<'_>) {
        let w = self.chr_width;
        write_name(&mut slot[..w], record.chr);
        let mut at = w;
        if self.shape.wide_pos {
            slot[at..at + 8].copy_from_slice(&record.pos.to_le_bytes());
            at += 8;
        } else {
            slot[at..at + 4].copy_from_slice(&(record.pos as i32).to_le_bytes());
            at += 4;
        }
        slot[at..at + 4].copy_from_slice(&record.pct.to_le_bytes());
        slot[at + 4..at + 8].copy_from_slice(&record.c.to_le_bytes());
        slot[at + 8..at + 12].copy_from_slice(&record.t.to_le_bytes());
        at += 12;
        if self.shape.strand {
            slot[at] = record.strand;
            at += 1;
        }
        if self.shape.context {
            write_name(&mut slot[at..at + CONTEXT_WIDTH], record.context);
        }
    }
}

/// One record's values, for [`Schema::write_full`]. `pos` must fit the schema's field.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FullRecord<'a> {
    pub chr: &'a [u8],
    pub pos: i64,
    pub pct: f32,
    pub c: i32,
    pub t: i32,
    pub strand: u8,
    pub context: &'a [u8],
}

/// A NUL-padded fixed-width string field.
#[inline(always)]
fn write_name(field: &mut [u8], name: &[u8]) {
    // A byte loop, not copy_from_slice + fill: those become calls to memcpy and memset,
    // which cost more than the copy itself for names of a few bytes.
    for (k, byte) in field.iter_mut().enumerate() {
        *byte = name.get(k).copied().unwrap_or(0);
    }
}

/// The 16 bytes after the name: pos, pct, c, t, little-endian, at the schema's offsets.
#[inline(always)]
fn write_numbers(numbers: &mut [u8], pos: i32, pct: f32, c: i32, t: i32) {
    let numbers: &mut [u8; 16] = (&mut numbers[..16]).try_into().expect("16 bytes");
    numbers[0..4].copy_from_slice(&pos.to_le_bytes());
    numbers[4..8].copy_from_slice(&pct.to_le_bytes());
    numbers[8..12].copy_from_slice(&c.to_le_bytes());
    numbers[12..16].copy_from_slice(&t.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_record_is_26_bytes_with_numpy_offsets() {
        let schema = Schema::new(crate::defaults::CHR_WIDTH).unwrap();
        assert_eq!(schema.record_size(), 26);
        assert_eq!(
            [
                schema.pos_offset(),
                schema.pct_offset(),
                schema.c_offset(),
                schema.t_offset()
            ],
            [10, 14, 18, 22]
        );
        assert_eq!(schema.type_descriptor().size(), 26);
    }

    #[test]
    fn write_record_pads_chr_and_writes_little_endian() {
        let schema = Schema::new(6).unwrap();
        let mut slot = vec![0xAA; schema.record_size()];
        schema.write_record(&mut slot, b"chr1", -2, 1.5, 7, 256);
        assert_eq!(&slot[..6], b"chr1\0\0");
        assert_eq!(&slot[6..10], &(-2i32).to_le_bytes());
        assert_eq!(&slot[10..14], &1.5f32.to_le_bytes());
        assert_eq!(&slot[14..18], &[7, 0, 0, 0]);
        assert_eq!(&slot[18..22], &[0, 1, 0, 0]);
    }

    #[test]
    fn wide_pos_and_extras_follow_the_five_fields() {
        let shape = Shape {
            wide_pos: true,
            strand: true,
            context: true,
        };
        let schema = Schema::with_shape(4, shape).unwrap();
        assert_eq!(schema.record_size(), 4 + 8 + 12 + 1 + 3);
        let mut slot = vec![0xAA; schema.record_size()];
        let record = FullRecord {
            chr: b"c1",
            pos: 1 << 33,
            pct: 2.5,
            c: 3,
            t: -4,
            strand: b'-',
            context: b"CG",
        };
        schema.write_full(&mut slot, &record);
        assert_eq!(&slot[..4], b"c1\0\0");
        assert_eq!(&slot[4..12], &(1i64 << 33).to_le_bytes());
        assert_eq!(&slot[12..16], &2.5f32.to_le_bytes());
        assert_eq!(&slot[20..24], &(-4i32).to_le_bytes());
        assert_eq!(&slot[24..], b"-CG\0");
        assert_eq!(
            Schema::from_descriptor(&schema.type_descriptor()),
            Ok(schema)
        );
        let plain = Schema::new(10).unwrap();
        assert_eq!(Schema::from_descriptor(&plain.type_descriptor()), Ok(plain));
    }
}
