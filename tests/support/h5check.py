#!/usr/bin/env python3
"""The tests' reference client: read txt2h5 output with h5py/numpy and check it.

  h5check.py loadtxt OUT.h5 CHR_WIDTH INPUT...   /data equals np.loadtxt of the inputs,
                                                  concatenated, bit for bit; /sources agrees
  h5check.py same A.h5 B.h5                       /data and /sources of two files are equal
  h5check.py describe OUT.h5                      JSON: dtype, shape, chunks, filters, attrs, sources
  h5check.py recompress IN.h5 OUT.h5 FILTER       OUT: IN with /data rewritten by h5py through
                                                  hdf5plugin's filter (zstd:LEVEL or lz4:BLOCK)

Prints what differs and exits 1 on any difference.
"""
import gzip, json, os, sys
import h5py, numpy as np, xxhash
import hdf5plugin  # noqa: F401  (registers the zstd and lz4 filters with h5py's HDF5)


def dtype(width):
    return np.dtype([("chr", f"S{width}"), ("pos", "<i4"), ("pct", "<f4"), ("c", "<i4"), ("t", "<i4")])


def open_text(path):
    """The file as numpy reads text, UTF-8; bytes that are not UTF-8 survive as surrogates,
    so a comment holding them is skipped as txt2h5 skips it (docs/guide.md, What it reads)."""
    with open(path, "rb") as f:
        magic = f.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open
    return opener(path, "rt", encoding="utf-8", errors="surrogateescape")


def loadtxt(path, width):
    with open_text(path) as f:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data" for empty files
            return np.loadtxt(f, dtype=dtype(width), ndmin=1)


def same_records(a, b):
    """Problems between two record arrays (field names, types, offsets, then values); floats
    compared by bit pattern so NaNs and -0.0 count."""
    problems = []
    fa = [(n, a.dtype.fields[n][0].str, a.dtype.fields[n][1]) for n in a.dtype.names]
    fb = [(n, b.dtype.fields[n][0].str, b.dtype.fields[n][1]) for n in b.dtype.names]
    if fa != fb or a.dtype.itemsize != b.dtype.itemsize:
        return [f"dtype {fa} (itemsize {a.dtype.itemsize}) != expected {fb} (itemsize {b.dtype.itemsize})"]
    if a.shape != b.shape:
        problems.append(f"shape {a.shape} != expected {b.shape}")
        return problems
    for name in a.dtype.names:
        x, y = a[name], b[name]
        if x.dtype.kind == "f":
            x, y = x.view(f"u{x.dtype.itemsize}"), y.view(f"u{y.dtype.itemsize}")
        if not np.array_equal(x, y):
            rows = np.nonzero(x != y)[0]
            for r in rows[:10].tolist():
                problems.append(f"row {r} field {name}: {a[name][r]!r} != expected {b[name][r]!r}")
            if len(rows) > 10:
                problems.append(f"field {name}: {len(rows)} rows differ in all")
    return problems


def check_loadtxt(out, width, inputs):
    problems = []
    with h5py.File(out, "r") as f:
        data = f["data"][:]
        sources = f["sources"][:]
    parts = [loadtxt(p, width) for p in inputs]
    expected = np.concatenate(parts) if parts else np.empty(0, dtype(width))
    problems += same_records(data, expected)
    if len(sources) != len(inputs):
        problems.append(f"{len(sources)} sources for {len(inputs)} inputs")
    first = 0
    for row, path, part in zip(sources, inputs, parts):
        with open(path, "rb") as fh:
            content = fh.read()
        want = (path, len(content), xxhash.xxh3_128_hexdigest(content), first, len(part))
        got = (row["path"].decode(), int(row["size"]), row["xxh3_128"].decode(), int(row["first_row"]), int(row["rows"]))
        if want != got:
            problems.append(f"sources row {got} != expected {want}")
        stat = os.stat(path)
        mtime = (int(row["mtime_s"]), int(row["mtime_nsec"]))
        if mtime != (int(stat.st_mtime), stat.st_mtime_ns % 10**9) or mtime[0] * 10**9 + mtime[1] != stat.st_mtime_ns:
            problems.append(f"{path}: mtime {mtime} != {stat.st_mtime_ns} ns")
        first += len(part)
    return problems, len(expected)


def check_same(a, b):
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        problems = same_records(fa["data"][:], fb["data"][:])
        if fa["sources"][:].tolist() != fb["sources"][:].tolist():
            problems.append("sources differ")
        return problems, fa["data"].shape[0]


def source_row(r):
    """One /sources row as JSON; `format` and `skipped` only in outputs that have them, and
    `mtime_s`/`mtime_nsec` or (outputs of earlier releases) `mtime_ns` as the file has it."""
    row = {"path": r["path"].decode(), "size": int(r["size"]), "first_row": int(r["first_row"]), "rows": int(r["rows"]),
           "xxh3_128": r["xxh3_128"].decode()}
    names = r.dtype.names
    for name in ("mtime_s", "mtime_nsec", "mtime_ns"):
        if name in names:
            row[name] = int(r[name])
    if "skipped_zero_coverage" in names:
        row["skipped"] = {k: int(r[f"skipped_{k}"]) for k in ("zero_coverage", "context", "mod_code")}
    if "format" in names:
        value = r["format"]
        row["format"] = value.decode() if isinstance(value, bytes) else value
    if "skipped" in names:
        row["skipped"] = {k: int(r["skipped"][k]) for k in r["skipped"].dtype.names}
    return row


def filters(d):
    """The filter pipeline as [id, client values] pairs, in order."""
    plist = d.id.get_create_plist()
    return [[plist.get_filter(i)[0], list(plist.get_filter(i)[2])] for i in range(plist.get_nfilters())]


def recompress(source, out, spec):
    """A copy of a txt2h5 output whose /data chunks HDF5's own plugins wrote (h5py's write
    path through hdf5plugin), to check that txt2h5 reads what other writers store."""
    name, value = spec.split(":", 1)
    shuffle = True
    if name == "blosc":
        # blosc:CNAME:SHUFFLE, e.g. blosc:lz4:noshuffle: the filter alone, shuffling inside.
        cname, mode = value.split(":")
        modes = {"shuffle": hdf5plugin.Blosc.SHUFFLE, "noshuffle": hdf5plugin.Blosc.NOSHUFFLE}
        codec, shuffle = hdf5plugin.Blosc(cname=cname, clevel=5, shuffle=modes[mode]), False
    elif name == "zstd":
        codec = hdf5plugin.Zstd(clevel=int(value))
    else:
        codec = hdf5plugin.LZ4(nbytes=int(value))
    with h5py.File(source, "r") as f, h5py.File(out, "w") as g:
        data = f.attrs.get("dataset", "data")
        for key, value in f.attrs.items():
            g.attrs[key] = value
        for key in f.keys():
            if key != data:
                f.copy(f[key], g, name=key)
        d = f[data]
        e = g.create_dataset(data, data=d[:], chunks=d.chunks, maxshape=(None,), shuffle=shuffle, **codec)
        for key, value in d.attrs.items():
            e.attrs[key] = value
    return [], None


def describe(out):
    with h5py.File(out, "r") as f:
        d = f["data"] if "data" in f else None
        report = {"datasets": sorted(k for k in f.keys()), "attrs": {k: str(v) for k, v in f.attrs.items()}}
        name = f.attrs.get("dataset", "data")
        d = f[name]
        report.update(
            # Field types without h5py's metadata (which h5py adds to its own S fields too).
            dtype=str([(n, d.dtype.fields[n][0].str) for n in d.dtype.names]),
            offsets=[d.dtype.fields[n][1] for n in d.dtype.names],
            equals_numpy_dtype=bool(d.dtype == dtype(d.dtype["chr"].itemsize)), itemsize=d.dtype.itemsize, shape=list(d.shape), maxshape=[m if m is not None else -1 for m in d.maxshape],
            chunks=list(d.chunks or []), compression=d.compression, compression_opts=d.compression_opts, shuffle=d.shuffle,
            filters=filters(d),
            data_attrs={k: str(v) for k, v in d.attrs.items()},
            sources=[source_row(r) for r in f["sources"][:]],
            chr=[c.decode() for c in d["chr"][:50]],
        )
    print(json.dumps(report))
    return [], None


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "loadtxt":
        problems, rows = check_loadtxt(args[0], int(args[1]), args[2:])
    elif command == "same":
        problems, rows = check_same(args[0], args[1])
    elif command == "describe":
        problems, rows = describe(args[0])
    elif command == "recompress":
        problems, rows = recompress(*args)
    else:
        sys.exit(f"unknown command {command}")
    for problem in problems:
        print(problem)
    if rows is not None and not problems:
        print(f"equal rows={rows}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
