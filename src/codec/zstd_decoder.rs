//! One thread's zstd decoding context, made on first use: it serves zstd chunks
//! ([`super::frame`]) and the zstd streams inside blosc frames ([`super::blosc`]) alike,
//! so a thread holds one context, not one per codec.

use super::error::CodecError;

/// A zstd context, made on first use.
#[derive(Default)]
pub struct ZstdDecoder(Option<zstd::bulk::Decompressor<'static>>);

impl ZstdDecoder {
    /// Decodes the zstd frame `stored` into `out`; returns the decoded size.
    pub fn decode(&mut self, stored: &[u8], out: &mut [u8]) -> Result<usize, CodecError> {
        let decompressor = match &mut self.0 {
            Some(decompressor) => decompressor,
            None => self
                .0
                .insert(zstd::bulk::Decompressor::new().map_err(CodecError::Zstd)?),
        };
        decompressor
            .decompress_to_buffer(stored, out)
            .map_err(CodecError::Zstd)
    }
}
