#!/usr/bin/env python3
"""The reading side's reference: what `inspect`, `export` and `/index` should say about an
output, worked out with numpy from /data and /sources alone (never from /index).

  readback.py index OUT.h5...          /index/runs and /index/anchors equal the runs and chunk
                                       starts recomputed from /data, /sources and the storage
                                       (a virtual dataset's anchors: each part's chunk starts)
  readback.py regions OUT.h5 SEED N    prints N or more --region texts chosen from the data: at
                                       chunk starts and ±1 (also inside plateaus of one pos),
                                       between neighbouring positions, past a chromosome's
                                       end, random; commas, open ends
  readback.py bed OUT.h5 SEED N        prints a BED file of N intervals whose edges fall on,
                                       before and after positions at chunk starts
  readback.py select OUT.h5 CASES.json each case {"args": [export flags], "output": FILE}: FILE
                                       parsed back holds exactly the rows of /data a numpy mask
                                       for those flags selects, in row order, each field equal
                                       (pct as float32 bits, written as the shortest decimal)
  readback.py inspect OUT.h5 REPORT    REPORT (inspect --json) agrees with /data and /sources
  readback.py data A.h5 B.h5           the record datasets of A and B are equal bit for bit
  readback.py drop-index OUT.h5        deletes /index, as in an output of an older txt2h5
  readback.py foreign A.h5 B.h5        writes HDF5 files txt2h5 did not: A empty, B with a
                                       /data of txt2h5's record type but nothing else

Prints what differs and exits 1 on any difference.
"""
import csv, fnmatch, gzip, io, json, os, re, sys

import h5py, numpy as np
import hdf5plugin  # noqa: F401  (the zstd and lz4 filters)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from h5check import same_records  # noqa: E402  (the tests' reference client)

TEXT_FIELDS = ["chr", "pos", "pct", "c", "t", "strand", "context"]


def records(f):
    return f[f.attrs.get("dataset", "data")]


def text(value):
    """A variable-length string field, which h5py gives as bytes."""
    return value.decode() if isinstance(value, bytes) else value


def source_of_rows(sources, rows):
    """The row of /sources each row of /data came from; /sources must tile /data."""
    first = sources["first_row"].astype(np.int64)
    counts = sources["rows"].astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]) if len(counts) else counts
    if not np.array_equal(first, starts) or counts.sum() != rows:
        raise ValueError(f"/sources first_row {first.tolist()} rows {counts.tolist()} do not tile {rows} rows")
    return np.repeat(np.arange(len(sources)), counts)


def parts(path, d):
    """(first_row, rows, part file, dataset) of each mapping of a virtual dataset, in row order."""
    out = []
    for m in d.virtual_sources():
        (lo,), (hi,) = m.vspace.get_select_bounds()
        name = m.file_name
        part = path if name == "." else os.path.join(os.path.dirname(path), name)
        out.append((lo, hi - lo + 1, part, m.dset_name))
    return sorted(out)


def chunk_starts(path, d):
    """Rows of the dataset that start a stored chunk: its own, or each part's, shifted."""
    if not d.is_virtual:
        return np.arange(0, d.shape[0], d.chunks[0], dtype=np.int64)
    starts = []
    for first, rows, part, name in parts(path, d):
        with h5py.File(part, "r") as p:
            starts.append(first + np.arange(0, rows, p[name].chunks[0], dtype=np.int64))
    return np.concatenate(starts) if starts else np.empty(0, np.int64)


def expected_runs(data, src):
    """Maximal runs of one source and one chr, by a plain loop over rows."""
    runs = []
    chrs, pos = data["chr"], data["pos"].astype(np.int64)
    for row in range(len(data)):
        same = runs and runs[-1]["source"] == src[row] and runs[-1]["chr"] == chrs[row]
        if same:
            run = runs[-1]
            run["sorted"] &= bool(pos[row] >= pos[row - 1])
            run["rows"] += 1
            run["min_pos"] = min(run["min_pos"], pos[row])
            run["max_pos"] = max(run["max_pos"], pos[row])
        else:
            runs.append(dict(source=int(src[row]), chr=chrs[row], first_row=row, rows=1,
                             min_pos=int(pos[row]), max_pos=int(pos[row]), sorted=True))
    return runs


def check_index(path):
    problems = []
    with h5py.File(path, "r") as f:
        d = records(f)
        data, sources = d[:], f["sources"][:]
        if "index" not in f:
            return [f"{path}: no /index"], (0, 0), 0
        g = f["index"]
        if g.attrs.get("version") != 1:
            problems.append(f"{path}: /index version {g.attrs.get('version')!r}")
        runs, anchors = g["runs"][:], g["anchors"][:]
        width = data.dtype["chr"].itemsize
        want_types = {"source": "<u4", "chr": f"|S{width}", "first_row": "<u8", "rows": "<u8",
                      "min_pos": "<i8", "max_pos": "<i8", "sorted": "|b1"}
        got_types = {n: runs.dtype[n].str for n in runs.dtype.names}
        if got_types != want_types or list(runs.dtype.names) != list(want_types):
            problems.append(f"{path}: runs dtype {got_types} != {want_types}")
        if {n: anchors.dtype[n].str for n in anchors.dtype.names} != {"row": "<u8", "pos": "<i8"}:
            problems.append(f"{path}: anchors dtype {anchors.dtype}")
        want = expected_runs(data, source_of_rows(sources, len(data)))
        got = [dict(source=int(r["source"]), chr=bytes(r["chr"]), first_row=int(r["first_row"]),
                    rows=int(r["rows"]), min_pos=int(r["min_pos"]), max_pos=int(r["max_pos"]),
                    sorted=bool(r["sorted"])) for r in runs]
        if got != want:
            at = next((k for k, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
            problems.append(f"{path}: {len(got)} runs, expected {len(want)}; first difference at run {at}: "
                            f"{got[at] if at < len(got) else None} vs expected {want[at] if at < len(want) else None}")
        rows = chunk_starts(path, d)
        want_anchors = [(int(r), int(data["pos"][r])) for r in rows]
        got_anchors = [(int(a["row"]), int(a["pos"])) for a in anchors]
        if got_anchors != want_anchors:
            problems.append(f"{path}: anchors {got_anchors[:8]}... ({len(got_anchors)}) != expected "
                            f"{want_anchors[:8]}... ({len(want_anchors)})")
        return problems, (len(want), sum(not r["sorted"] for r in want)), len(want_anchors)


def chunk_edges(path):
    with h5py.File(path, "r") as f:
        d = records(f)
        return d[:], chunk_starts(path, d)


def region_texts(path, seed, count):
    """Region texts that probe the data where an index could go wrong."""
    data, starts = chunk_edges(path)
    rng = np.random.default_rng(seed)
    chrs, pos = data["chr"], data["pos"].astype(np.int64)
    names = list(dict.fromkeys(chrs.tolist()))
    top = {c: int(pos[chrs == c].max()) for c in names}
    texts = []

    def add(c, start, end=None, commas=False):
        start = max(int(start), 1)
        number = (lambda v: f"{v:,}") if commas else str
        if end is None:
            texts.append(f"{c.decode()}:{number(start)}-")
        else:
            texts.append(f"{c.decode()}:{number(start)}-{number(max(int(end), start))}")

    for row in rng.choice(starts, size=min(len(starts), count // 3), replace=False):
        c, p = chrs[row], pos[row]
        kind = rng.integers(6)
        if kind == 0:
            texts.append(f"{c.decode()}:{p}")
        elif kind == 1:
            add(c, p - 1, p + 1)
        elif kind == 2:
            add(c, p, p + rng.integers(1, 2000), commas=True)
        elif kind == 3:
            add(c, p - rng.integers(1, 2000), p - 1)
        elif kind == 4:
            add(c, p + 1, p + rng.integers(1, 5000))
        else:
            add(c, p - rng.integers(0, 3000), p)
    # A chunk that starts inside a plateau of one position.
    inside = [r for r in starts if r > 0 and chrs[r] == chrs[r - 1] and pos[r] == pos[r - 1]]
    for row in rng.choice(inside, size=min(len(inside), 4), replace=False):
        c, p = chrs[row], pos[row]
        texts.append(f"{c.decode()}:{p}")
        add(c, p - 1, p)
        add(c, p, p + 1)
    # Between two neighbouring positions of one run: nothing there, or only other sources' rows.
    gaps = np.flatnonzero((chrs[1:] == chrs[:-1]) & (pos[1:] - pos[:-1] >= 2))
    for row in rng.choice(gaps, size=min(len(gaps), count // 6), replace=False):
        add(chrs[row], pos[row] + 1, pos[row + 1] - 1)
    for c in names[: max(1, count // 10)]:
        add(c, top[c] + 1, top[c] + 1000)
        add(c, top[c] + 1)
        add(c, top[c] - 3, top[c])
    for _ in range(max(count - len(texts), count // 4)):
        c = names[rng.integers(len(names))]
        start = rng.integers(1, top[c] + 100)
        add(c, start, start + rng.integers(0, 20_000), commas=bool(rng.integers(2)))
    return texts


def bed_text(path, seed, count):
    """BED lines (0-based, end excluded) whose edges fall on, just before and just after
    positions at chunk starts; with a track line, a comment, CRLF, spaces, empty intervals."""
    data, starts = chunk_edges(path)
    rng = np.random.default_rng(seed)
    chrs, pos = data["chr"], data["pos"].astype(np.int64)
    lines = ["track name=edges", "# from readback.py"]
    for row in rng.choice(starts, size=min(len(starts), count), replace=False):
        c, p = chrs[row].decode(), int(pos[row])
        start, end = [(p - 1, p), (p, p + 1), (p - 20, p - 1), (p, p + 20), (p - 1, p - 1),
                      (p - 5, p + 5), (p - 1, p + 200)][rng.integers(7)]
        sep = "\t" if rng.integers(3) else " "
        lines.append(sep.join([c, str(max(start, 0)), str(max(end, 0))]) + ("\r" if rng.integers(5) == 0 else ""))
    return "\n".join(lines) + "\n"


def parse_region(text):
    """CHR, CHR:POS, CHR:START-END, CHR:START- (1-based inclusive) -> (chr, start, end)."""
    m = re.fullmatch(r"(.+):([0-9,]+)(?:-([0-9,]*))?", text)
    if m is None:
        return text.encode(), None, None  # the whole chromosome
    start = int(m[2].replace(",", ""))
    if m[3] is None:
        return m[1].encode(), start, start
    return m[1].encode(), start, int(m[3].replace(",", "")) if m[3] else None


def read_bed(path):
    """BED (0-based, end excluded) as 1-based inclusive regions; empty intervals dropped."""
    out = []
    with open(path, "rb") as f:
        for line in f:
            fields = line.split()
            if not fields or fields[0].startswith(b"#") or fields[0] in (b"track", b"browser"):
                continue
            start, end = int(fields[1]), int(fields[2])
            if end > start:
                out.append((fields[0], start + 1, end))
    return out


def parse_args(args):
    opts = dict(regions=[], globs=[], indices=[], with_source=False, source_name="path", format="tsv")
    it = iter(args)
    for arg in it:
        if arg == "--region":
            opts["regions"].append(parse_region(next(it)))
        elif arg == "--regions":
            opts["regions"] += read_bed(next(it))
        elif arg == "--source":
            opts["globs"].append(next(it))
        elif arg == "--source-index":
            opts["indices"].append(int(next(it)))
        elif arg == "--with-source":
            opts["with_source"] = True
        elif arg == "--source-name":
            opts["source_name"] = next(it)
        elif arg == "--format":
            opts["format"] = next(it)
        elif arg in ("-q", "--quiet", "-f", "--force"):
            pass
        elif arg in ("-j", "--threads", "-o", "--output"):
            next(it)
        else:
            raise ValueError(f"readback.py does not know the export flag {arg!r}")
    return opts


def selected(data, paths, src, opts):
    """The mask of the rows the flags select."""
    mask = np.ones(len(data), bool)
    if opts["globs"] or opts["indices"]:
        chosen = set(opts["indices"])
        for glob in opts["globs"]:
            chosen |= {k for k, p in enumerate(paths) if fnmatch.fnmatchcase(p, glob)
                       or ("/" not in glob and fnmatch.fnmatchcase(os.path.basename(p), glob))}
        mask &= np.isin(src, sorted(chosen))
    if opts["regions"]:
        chrs, pos = data["chr"], data["pos"].astype(np.int64)
        inside = np.zeros(len(data), bool)
        for c, start, end in opts["regions"]:
            here = chrs == c
            if start is not None:
                here &= pos >= start
            if end is not None:
                here &= pos <= end
            inside |= here
        mask &= inside
    return mask


def significant_digits(text):
    mantissa = text.lstrip("+-").lower().split("e")[0].replace(".", "")
    return len(mantissa.strip("0")) or 1


def read_output(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8")


def check_case(data, paths, src, case):
    opts = parse_args(case["args"])
    names = [n for n in TEXT_FIELDS if n in data.dtype.names]
    written = read_output(case["output"])
    if opts["format"] == "csv":
        lines = list(csv.reader(io.StringIO(written, newline="")))
        header = (["source"] if opts["with_source"] else []) + names
        if not lines or lines[0] != header:
            return [f"header {lines[:1]} != {header}"], 0
        lines = lines[1:]
    else:
        if written and not written.endswith("\n"):
            return ["the output does not end with a line break"], 0
        lines = [line.split("\t") for line in written.split("\n")[:-1]]
    rows = np.flatnonzero(selected(data, paths, src, opts))
    problems = []
    check_lines(data, paths, src, opts, names, lines, rows, problems)
    return problems, len(rows)


def check_lines(data, paths, src, opts, names, lines, rows, problems):
    """Each parsed line against its row of /data."""
    if len(lines) != len(rows):
        problems.append(f"{len(lines)} rows written, {len(rows)} selected")
    for line, row in zip(lines, rows):
        r = data[row]
        want = [r["chr"].decode(), str(r["pos"]), None, str(r["c"]), str(r["t"])]
        want += [(r[n].decode() or ".") for n in names[5:]]
        if opts["with_source"]:
            path = paths[src[row]]
            want.insert(0, path if opts["source_name"] == "path" else os.path.basename(path))
        at = 3 if opts["with_source"] else 2
        got = list(line)
        if len(got) != len(want):
            problems.append(f"row {row}: {len(got)} fields {got}, expected {len(want)}")
            break
        pct = got[at]
        want[at] = got[at] = None
        value = np.float32(float(pct))  # read as a double, then rounded, as numpy loads text
        bits, want_bits = value.view(np.uint32), r["pct"].view(np.uint32)
        if got != want or bits != want_bits:
            problems.append(f"row {row}: {line} != {want} with pct {r['pct']!r} (bits {want_bits:08x}, "
                            f"written {pct!r}, reads back as {bits:08x})")
        elif np.isfinite(r["pct"]):
            shortest = np.format_float_scientific(r["pct"], unique=True)
            if np.float32(float(shortest)) == r["pct"] and significant_digits(pct) != significant_digits(shortest):
                problems.append(f"row {row}: pct {pct!r} is not the shortest text ({shortest!r})")
        if len(problems) > 5:
            break


def check_select(path, cases_path):
    with h5py.File(path, "r") as f:
        data, sources = records(f)[:], f["sources"][:]
    paths = [text(p) for p in sources["path"]]
    src = source_of_rows(sources, len(data))
    with open(cases_path) as f:
        cases = json.load(f)
    problems, rows, empty = [], 0, 0
    for case in cases:
        found, selected_rows = check_case(data, paths, src, case)
        problems += [f"{case['output']} {case['args']}: {p}" for p in found]
        rows += selected_rows
        empty += selected_rows == 0
    return problems, f"equal cases={len(cases)} rows={rows} empty={empty}"


def check_inspect(path, report_path):
    with open(report_path) as f:
        report = json.load(f)
    problems = []

    def same(what, got, want):
        if got != want:
            problems.append(f"{what}: {got!r} != expected {want!r}")

    with h5py.File(path, "r") as f:
        d = records(f)
        data, sources = d[:], f["sources"][:]
        src = source_of_rows(sources, len(data))
        same("file", report["file"], path)
        same("rows", report["rows"], len(data))
        same("dataset", report["dataset"], d.name.lstrip("/"))
        same("record_bytes", report["record_bytes"], d.dtype.itemsize)
        same("file_bytes", report["file_bytes"], os.path.getsize(path))
        same("fields", [tuple(x) for x in report["fields"]],
             [(n, d.dtype[n].str.lstrip("|")) for n in d.dtype.names])
        storage = report["storage"]
        if d.is_virtual:
            same("layout", storage["layout"], "virtual")
            want_parts = [dict(first_row=first, rows=rows, present=os.path.exists(part))
                          for first, rows, part, _ in parts(path, d)]
            got_parts = [dict(first_row=p["first_row"], rows=p["rows"], present=p["present"]) for p in storage["parts"]]
            same("parts", got_parts, want_parts)
            for p, (_, _, part, name) in zip(storage["parts"], parts(path, d)):
                same("part file", os.path.join(os.path.dirname(path), p["file"]), part)
                same("part dataset", p["dataset"].lstrip("/"), name.lstrip("/"))
                same(f"part {p['file']} problem set", p["problem"] is not None, not os.path.exists(part))
        else:
            same("layout", storage["layout"], "chunked")
            same("chunk_rows", storage["chunk_rows"], d.chunks[0])
            same("chunks", storage["chunks"], -(-len(data) // d.chunks[0]))
            same("compression", storage["compression"],
                 f"gzip:{d.compression_opts}" if d.compression == "gzip" else "none")
            same("stored_bytes", storage["stored_bytes"], d.id.get_storage_size())
        same("storage record_bytes", storage["record_bytes"], d.dtype.itemsize * len(data))
        for key in ("tool_version", "created", "command_line", "shard", "input_set"):
            same(f"provenance {key}", report["provenance"][key], text(f.attrs.get(key)))
        want_sources = []
        for k, s in enumerate(sources):
            row = dict(index=k, path=text(s["path"]), first_row=int(s["first_row"]), rows=int(s["rows"]))
            if "format" in s.dtype.names:
                row["format"] = text(s["format"])
            if "skipped" in s.dtype.names:
                row["skipped"] = {n: int(s["skipped"][n]) for n in s["skipped"].dtype.names}
            want_sources.append(row)
        same("sources", [{k: v for k, v in s.items() if k in want} for s, want in zip(report["sources"], want_sources)],
             want_sources)
        same("source count", len(report["sources"]), len(want_sources))
        has_index = "index" in f
        same("index.present", report["index"]["present"], has_index)
        if has_index:
            chrs = data["chr"]
            order = list(dict.fromkeys(chrs.tolist()))
            want = [dict(chr=c.decode(), rows=int((chrs == c).sum()), sources=len(set(src[chrs == c].tolist())))
                    for c in order]
            same("chromosomes", report["chromosomes"], want)
            runs = expected_runs(data, src)
            same("index.runs", report["index"]["runs"], len(runs))
            same("index.sorted_runs", report["index"]["sorted_runs"], sum(r["sorted"] for r in runs))
            same("index.anchors", report["index"]["anchors"], len(chunk_starts(path, d)))
        else:
            same("chromosomes", report["chromosomes"], None)
    return problems, report["rows"]


def check_data(a, b):
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        x, y = records(fa)[:], records(fb)[:]
    return same_records(x, y), len(x)


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "index":
        problems, runs, unsorted, anchors = [], 0, 0, 0
        for path in args:
            found, (file_runs, file_unsorted), file_anchors = check_index(path)
            problems += found
            runs, unsorted, anchors = runs + file_runs, unsorted + file_unsorted, anchors + file_anchors
        for problem in problems:
            print(problem)
        if not problems:
            print(f"equal runs={runs} unsorted={unsorted} anchors={anchors}")
        sys.exit(1 if problems else 0)
    if command == "regions":
        print("\n".join(region_texts(args[0], int(args[1]), int(args[2]))))
        return
    if command == "bed":
        sys.stdout.write(bed_text(args[0], int(args[1]), int(args[2])))
        return
    if command == "foreign":
        with h5py.File(args[0], "w"):
            pass
        with h5py.File(args[1], "w") as f:
            rows = np.array([(b"chr1", 5, 50.0, 1, 1)], dtype=[("chr", "S10"), ("pos", "<i4"), ("pct", "<f4"),
                                                                ("c", "<i4"), ("t", "<i4")])
            f.create_dataset("data", data=rows, chunks=(64,), maxshape=(None,))
        return
    if command == "drop-index":
        with h5py.File(args[0], "r+") as f:
            del f["index"]
        return
    if command == "select":
        problems, summary = check_select(args[0], args[1])
    elif command == "inspect":
        problems, rows = check_inspect(args[0], args[1])
        summary = f"equal rows={rows}"
    elif command == "data":
        problems, rows = check_data(args[0], args[1])
        summary = f"equal rows={rows}"
    else:
        sys.exit(f"unknown command {command}")
    for problem in problems:
        print(problem)
    if not problems:
        print(summary)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
