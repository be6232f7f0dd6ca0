#!/usr/bin/env python3
"""Stored chunks of an HDF5 file, through h5py: damage one, read through the checksum, or
write a file as txt2h5 wrote them before the checksum.

  chunks.py flip FILE DATASET INDEX     flips one byte in the middle of chunk INDEX (h5py's
                                        get_chunk_info gives where it lies in the file);
                                        prints "offset SIZE" of the flipped byte
  chunks.py read FILE DATASET...        reads each dataset whole: prints "NAME read" or
                                        "NAME refused: MESSAGE"
  chunks.py unchecked IN OUT SPEC       OUT: IN with /data rewritten by h5py through the
                                        filters txt2h5 wrote for --compression SPEC before
                                        it added Fletcher32 (shuffle + codec, no checksum)
"""
import sys
import h5py
import hdf5plugin


def fletcher32(data):
    """HDF5's Fletcher32 sum (H5_checksum_fletcher32): big-endian 16-bit words, 32-bit
    sums folded after every 360 words and twice at the end."""
    fold = lambda s: (s & 0xFFFF) + (s >> 16)
    s1 = s2 = 0
    words, i = len(data) // 2, 0
    while words:
        n = min(words, 360)
        words -= n
        for _ in range(n):
            s1 = (s1 + (data[i] << 8 | data[i + 1])) & 0xFFFFFFFF
            s2 = (s2 + s1) & 0xFFFFFFFF
            i += 2
        s1, s2 = fold(s1), fold(s2)
    if len(data) % 2:
        s1 = (s1 + (data[i] << 8)) & 0xFFFFFFFF
        s2 = (s2 + s1) & 0xFFFFFFFF
        s1, s2 = fold(s1), fold(s2)
    return fold(s2) << 16 | fold(s1)


def checked(dataset):
    """Whether the chunks of `dataset` end with the Fletcher32 checksum."""
    plist = dataset.id.get_create_plist()
    n = plist.get_nfilters()
    return n > 0 and plist.get_filter(n - 1)[0] == h5py.h5z.FILTER_FLETCHER32


def rewrite(dataset, offset, change):
    """Replaces the stored chunk at `offset` with `change(bytes)`, the bytes as the codec
    left them: where the dataset has the checksum it is taken off first and a right one
    put back, so that the change reaches the codec, as a crafted file's would."""
    mask, stored = dataset.id.read_direct_chunk(offset)
    signed = checked(dataset)
    body = stored[:-4] if signed else stored
    body = change(body)
    if signed:
        body += fletcher32(body).to_bytes(4, "little")
    dataset.id.write_direct_chunk(offset, body, mask)


def flip(path, name, index):
    with h5py.File(path, "r") as f:
        info = f[name].id.get_chunk_info(int(index))
    at = info.byte_offset + info.size // 2
    with open(path, "r+b") as f:
        f.seek(at)
        byte = f.read(1)[0]
        f.seek(at)
        f.write(bytes([byte ^ 0x5A]))
    print(f"offset {at} {info.size}")


def read(path, names):
    with h5py.File(path, "r") as f:
        for name in names:
            try:
                f[name][...]
                print(f"{name} read")
            except Exception as error:  # h5py raises OSError for a failed filter
                print(f"{name} refused: {error}")


def unchecked(source, out, spec):
    kind, _, level = spec.partition(":")
    shuffle = True
    if kind == "none":
        codec, shuffle = {}, False
    elif kind == "gzip":
        codec = {"compression": "gzip", "compression_opts": int(level or 4)}
    elif kind == "zstd":
        codec = dict(hdf5plugin.Zstd(clevel=int(level or 3)))
    elif kind == "lz4":
        codec = dict(hdf5plugin.LZ4(nbytes=0))
    elif kind == "blosc":
        cname, _, clevel = level.partition(":")
        # txt2h5 writes blosc:lz4 at blosc's level 9.
        clevel = int(clevel or (9 if cname == "lz4" else 5))
        codec = dict(hdf5plugin.Blosc(cname=cname, clevel=clevel, shuffle=hdf5plugin.Blosc.SHUFFLE))
        shuffle = False
    else:
        sys.exit(f"unknown spec {spec}")
    with h5py.File(source, "r") as f, h5py.File(out, "w") as g:
        for key, value in f.attrs.items():
            g.attrs[key] = value
        for key in f.keys():
            if key != "data":
                f.copy(f[key], g, name=key)
        d = f["data"]
        e = g.create_dataset("data", data=d[:], chunks=d.chunks, maxshape=(None,), shuffle=shuffle, **codec)
        for key, value in d.attrs.items():
            e.attrs[key] = value


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "flip":
        flip(*args)
    elif command == "read":
        read(args[0], args[1:])
    elif command == "unchecked":
        unchecked(*args)
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
