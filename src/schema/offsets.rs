//! Records read back: where each field of a [`Schema`]'s record lies, and its value. The
//! writing side is [`Schema::write_full`] and its kin; everything that reads packed records
//! (the index scan, the chunker, export, matrix) reads them through [`Fields`].

use super::{Schema, CONTEXT_WIDTH};

/// The offsets of one schema's fields, copied out of it for the hot loops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fields {
    pub record_size: usize,
    pub chr_width: usize,
    pub pos_offset: usize,
    pub wide_pos: bool,
    pub pct_offset: usize,
    pub c_offset: usize,
    pub t_offset: usize,
    /// Where `strand` lies, if the record has it.
    pub strand_offset: Option<usize>,
    /// Where `context` lies, if the record has it.
    pub context_offset: Option<usize>,
}

impl Fields {
    pub fn of(schema: &Schema) -> Self {
        let shape = schema.shape();
        let extras = schema.t_offset() + 4;
        Self {
            record_size: schema.record_size(),
            chr_width: schema.chr_width(),
            pos_offset: schema.pos_offset(),
            wide_pos: shape.wide_pos,
            pct_offset: schema.pct_offset(),
            c_offset: schema.c_offset(),
            t_offset: schema.t_offset(),
            strand_offset: shape.strand.then_some(extras),
            context_offset: shape.context.then_some(extras + usize::from(shape.strand)),
        }
    }

    /// The `chr` of `record` without its NUL padding.
    #[inline]
    pub fn chr<'r>(&self, record: &'r [u8]) -> &'r [u8] {
        trim_nul(&record[..self.chr_width])
    }

    /// The `pos` of `record`.
    #[inline]
    pub fn pos(&self, record: &[u8]) -> i64 {
        if self.wide_pos {
            pos_at::<true>(record, self.pos_offset)
        } else {
            pos_at::<false>(record, self.pos_offset)
        }
    }

    /// The `pct` of `record`.
    #[inline]
    pub fn pct(&self, record: &[u8]) -> f32 {
        f32::from_le_bytes(bytes_at(record, self.pct_offset))
    }

    /// The `c` (methylated count) of `record`.
    #[inline]
    pub fn c(&self, record: &[u8]) -> i32 {
        i32::from_le_bytes(bytes_at(record, self.c_offset))
    }

    /// The `t` (unmethylated count) of `record`.
    #[inline]
    pub fn t(&self, record: &[u8]) -> i32 {
        i32::from_le_bytes(bytes_at(record, self.t_offset))
    }

    /// The `strand` of `record` (`+` or `-`; empty where the input had none), if the
    /// record has the field.
    #[inline]
    pub fn strand<'r>(&self, record: &'r [u8]) -> Option<&'r [u8]> {
        self.strand_offset.map(|at| trim_nul(&record[at..at + 1]))
    }

    /// The `context` of `record` without its NUL padding, if the record has the field.
    #[inline]
    pub fn context<'r>(&self, record: &'r [u8]) -> Option<&'r [u8]> {
        self.context_offset
            .map(|at| trim_nul(&record[at..at + CONTEXT_WIDTH]))
    }
}

/// The `pos` stored at `at`, `<i8` if `WIDE` else `<i4`: for loops monomorphized on the
/// width.
#[inline(always)]
pub fn pos_at<const WIDE: bool>(record: &[u8], at: usize) -> i64 {
    if WIDE {
        i64::from_le_bytes(bytes_at(record, at))
    } else {
        i64::from(i32::from_le_bytes(bytes_at(record, at)))
    }
}

#[inline(always)]
fn bytes_at<const N: usize>(record: &[u8], at: usize) -> [u8; N] {
    record[at..at + N]
        .try_into()
        .expect("a field inside the record")
}

/// A fixed-width string field without its NUL padding.
#[inline]
pub fn trim_nul(field: &[u8]) -> &[u8] {
    let len = field
        .iter()
        .rposition(|&b| b != 0)
        .map_or(0, |last| last + 1);
    &field[..len]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{FullRecord, Shape};

    #[test]
    fn every_field_reads_back_what_was_written() {
        for (wide_pos, strand, context) in [
            (false, false, false),
            (true, false, false),
            (false, true, false),
            (false, false, true),
            (true, true, true),
        ] {
            let shape = Shape {
                wide_pos,
                strand,
                context,
            };
            let schema = Schema::with_shape(12, shape).unwrap();
            let record = FullRecord {
                chr: b"chrUn_KI2703",
                pos: if wide_pos { 3_000_000_000 } else { -7 },
                pct: 12.5,
                c: 3,
                t: i32::MAX,
                strand: b'-',
                context: b"CG",
            };
            let mut slot = vec![0u8; schema.record_size()];
            schema.write_full(&mut slot, &record);
            let fields = Fields::of(&schema);
            assert_eq!(fields.chr(&slot), record.chr);
            assert_eq!(fields.pos(&slot), record.pos);
            assert_eq!(fields.pct(&slot).to_bits(), record.pct.to_bits());
            assert_eq!((fields.c(&slot), fields.t(&slot)), (3, i32::MAX));
            assert_eq!(fields.strand(&slot), strand.then_some(&b"-"[..]));
            assert_eq!(fields.context(&slot), context.then_some(&b"CG"[..]));
        }
    }

    #[test]
    fn padding_is_trimmed() {
        assert_eq!(trim_nul(b"chr1\0\0"), b"chr1");
        assert_eq!(trim_nul(b"\0\0"), b"");
        assert_eq!(trim_nul(b"a\0b\0"), b"a\0b");
    }
}
