//! The one place that knows the record layout.
//!
//! A record is packed exactly like numpy's structured dtype
//! `[('chr','S<W>'),('pos','<i4'),('pct','<f4'),('c','<i4'),('t','<i4')]`: no padding,
//! little-endian, `W + 16` bytes. The parser writes these bytes straight into the record
//! buffers and the writer hands the same bytes to HDF5 with a compound type built here, so
//! the file type, the memory type and the buffer layout can never drift apart.

use hdf5::types::{CompoundField, CompoundType, FloatSize, IntSize, TypeDescriptor};

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

/// A `chr` width outside `1..=MAX_CHR_WIDTH`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a chr field of {chr_width} bytes is outside the supported 1 to {MAX_CHR_WIDTH}")]
pub struct ChrWidthError {
    pub chr_width: usize,
}

/// Layout of one packed record for a given `chr` width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schema {
    chr_width: usize,
}

impl Schema {
    /// A schema whose `chr` field holds `chr_width` bytes (1..=[`MAX_CHR_WIDTH`]). A width
    /// comes from a flag or from a file's type, so one out of range is an error, not a panic.
    pub fn new(chr_width: usize) -> Result<Self, ChrWidthError> {
        if (1..=MAX_CHR_WIDTH).contains(&chr_width) {
            Ok(Self { chr_width })
        } else {
            Err(ChrWidthError { chr_width })
        }
    }

    pub fn chr_width(&self) -> usize {
        self.chr_width
    }

    /// Bytes per record: the chr field plus four 4-byte numbers.
    pub fn record_size(&self) -> usize {
        self.chr_width + 16
    }

    pub fn pos_offset(&self) -> usize {
        self.chr_width
    }

    pub fn pct_offset(&self) -> usize {
        self.chr_width + 4
    }

    pub fn c_offset(&self) -> usize {
        self.chr_width + 8
    }

    pub fn t_offset(&self) -> usize {
        self.chr_width + 12
    }

    /// The HDF5 compound type, packed, little-endian; h5py maps it to the numpy dtype above.
    pub fn type_descriptor(&self) -> TypeDescriptor {
        let int = || TypeDescriptor::Integer(IntSize::U4);
        let fields = vec![
            (
                FIELD_NAMES[0],
                TypeDescriptor::FixedAscii(self.chr_width),
                0,
            ),
            (FIELD_NAMES[1], int(), self.pos_offset()),
            (
                FIELD_NAMES[2],
                TypeDescriptor::Float(FloatSize::U4),
                self.pct_offset(),
            ),
            (FIELD_NAMES[3], int(), self.c_offset()),
            (FIELD_NAMES[4], int(), self.t_offset()),
        ];
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

    /// A human-readable description of the layout, stored as an attribute of the output.
    pub fn describe(&self) -> String {
        let types = [
            format!("S{} (fixed ASCII)", self.chr_width),
            "<i4".to_string(),
            "<f4".to_string(),
            "<i4".to_string(),
            "<i4".to_string(),
        ];
        let mut text = format!(
            "one row per input line, packed {} bytes a row; fields:",
            self.record_size()
        );
        for ((name, ty), meaning) in FIELD_NAMES.iter().zip(&types).zip(FIELD_DESCRIPTIONS) {
            text.push_str(&format!("\n  {name} ({ty}): {meaning}"));
        }
        text
    }

    /// Writes one record into `slot` (exactly [`Schema::record_size`] bytes).
    ///
    /// `chr` must already be checked to fit; the rest of the field is zero-filled as numpy
    /// does for `S` fields.
    #[inline]
    pub fn write_record(&self, slot: &mut [u8], chr: &[u8], pos: i32, pct: f32, c: i32, t: i32) {
        let w = self.chr_width;
        let (name, numbers) = slot.split_at_mut(w);
        // A byte loop, not copy_from_slice + fill: those become calls to memcpy and memset,
        // which cost more than the copy itself for names of a few bytes.
        for (k, byte) in name.iter_mut().enumerate() {
            *byte = chr.get(k).copied().unwrap_or(0);
        }
        write_numbers(numbers, pos, pct, c, t);
    }

    /// Writes only the four numbers of a record whose name the caller has written; the
    /// fast parser writes names its own way (see `parse::fast`).
    #[inline]
    pub fn write_numbers(&self, slot: &mut [u8], pos: i32, pct: f32, c: i32, t: i32) {
        write_numbers(&mut slot[self.chr_width..], pos, pct, c, t);
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
}
