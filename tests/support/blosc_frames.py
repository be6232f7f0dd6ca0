"""Writes chunks as c-blosc stores them (through h5py and hdf5plugin's blosc filter) to
fixtures/blosc/NAME.blosc, for txt2h5's decoder tests: frames of another writer, with its
block sizes, split streams, copies and flags. Run from the repository: python3
tests/support/blosc_frames.py. The bytes of every chunk are sample(len) below, which the
Rust tests compute the same way.

Each file name says the codec, the type size, the shuffle and the chunk size in bytes."""

import os
import tempfile

import h5py
import hdf5plugin
import numpy as np


def sample(length):
    i = np.arange(length, dtype=np.int64)
    return ((i * 31 % 7 + i // 26 % 3) % 256).astype(np.uint8)


SHUFFLES = {"shuffle": hdf5plugin.Blosc.SHUFFLE, "noshuffle": hdf5plugin.Blosc.NOSHUFFLE,
            "bitshuffle": hdf5plugin.Blosc.BITSHUFFLE}

CASES = [
    # (codec, typesize, shuffle, chunk bytes)
    ("lz4", 4, "shuffle", 65536),      # c-blosc splits lz4 blocks of small types
    ("lz4", 26, "shuffle", 520000),    # several blocks and a leftover one
    ("zstd", 26, "shuffle", 520000),
    ("zstd", 4, "noshuffle", 65536),
    ("lz4", 4, "bitshuffle", 65536),   # refused: bit shuffle
    ("blosclz", 26, "shuffle", 52000), # refused: a codec txt2h5 does not decode
]


def main():
    out = os.path.join("fixtures", "blosc")
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "frames.h5")
        with h5py.File(path, "w") as f:
            for codec, typesize, shuffle, size in CASES:
                name = f"{codec}-t{typesize}-{shuffle}-{size}"
                data = sample(size).view(np.dtype(f"V{typesize}"))
                ds = f.create_dataset(name, data=data, chunks=(len(data),),
                                      **hdf5plugin.Blosc(cname=codec, clevel=5,
                                                         shuffle=SHUFFLES[shuffle]))
                _, frame = ds.id.read_direct_chunk((0,))
                with open(os.path.join(out, name + ".blosc"), "wb") as file:
                    file.write(frame)
                print(name, len(frame))


main()
