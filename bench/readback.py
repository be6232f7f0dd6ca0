#!/usr/bin/env python3
"""The read-back benchmark: region queries and whole-file exports, against the ways people
do them today with h5py and pandas, and the load's cost of building the index.

Used by bench/run.py (case `readback`); its subcommands are the Python competitors:

  readback.py h5py-region STUDY.h5 CHR START END OUT.tsv   read /data whole, mask, write rows
  readback.py pandas-export STUDY.h5 OUT.tsv              DataFrame(/data).to_csv, tab-separated
  readback.py same-rows A.tsv B.tsv                       same rows, pct as float32 bits
"""
import sys

import numpy as np

# 10 kb on chr7 that every generated source covers (positions run from 10,000 with CpG-like
# gaps of about 90 bp, so chr7 reaches about 9.7 Mb in a 2-million-row file).
REGION = ("chr7", 5_000_001, 5_010_000)


REGION_COMMANDS = {}


def best_time(command, repeat):
    """The best wall time of `command` over `repeat` runs, by perf_counter."""
    import subprocess, time
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True)
        best = min(best, time.perf_counter() - start)
    return best


def plan(add, tool_bin, baseline_bin, texts, out, py, seed_cmd):
    """Adds the read-back entries to bench/run.py's plan."""
    study = out / "rb-study.h5"
    here = __file__
    load = [tool_bin, "load", "--force", "--quiet", "-o", str(study)] + texts
    for case, options, suffix in (("load, default options (index cost)", [], ""),
                                  ("load, --compression none (index cost)", ["--compression", "none"], "-none")):
        if baseline_bin:
            add(case, "txt2h5 before the index", [baseline_bin, "load", "--force", "--quiet", "-o",
                                                    str(out / f"rb-base{suffix}.h5")] + options + texts,
                out / f"rb-base{suffix}.h5", None)
        target = study if not suffix else out / "rb-study-none.h5"
        command = load if not suffix else [tool_bin, "load", "--force", "--quiet", "-o", str(target)] + options + texts
        add(case, "txt2h5 (with the index)", command, target, out / f"rb-base{suffix}.h5" if baseline_bin else None)
    chr_, start, end = REGION
    case = "10 kb region in every source"
    REGION_COMMANDS["h5py"] = [py, here, "h5py-region", str(study), chr_, str(start), str(end),
                               str(out / "rb-region-h5py.tsv")]
    REGION_COMMANDS["txt2h5"] = ["sh", "-c", f'"$0" export "$1" --region {chr_}:{start:,}-{end:,} > "$2"',
                                 tool_bin, str(study), str(out / "rb-region.tsv")]
    add(case, "h5py: read /data, mask", REGION_COMMANDS["h5py"], None, None)
    add(case, "txt2h5 export --region", REGION_COMMANDS["txt2h5"], None, None)
    case = "whole file -> TSV"
    add(case, "seed_pool.py (load of the text files)", seed_cmd + [str(out / "rb-seed.h5")] + texts,
        out / "rb-seed.h5", None)
    add(case, "pandas DataFrame.to_csv", [py, here, "pandas-export", str(study), str(out / "rb-pandas.tsv")],
        None, None)
    add(case, "txt2h5 export", ["sh", "-c", '"$0" export "$1" > "$2"', tool_bin, str(study),
                                str(out / "rb-all.tsv")], None, None)
    add(case, "cat of the export (write floor)", ["sh", "-c", 'cat "$0" > "$1"', str(out / "rb-all.tsv"),
                                                  str(out / "rb-copy.tsv")], None, None)


def report(best, out, baseline_bin, py):
    """Prints the ratios the issue asks for, from the best times of one session."""
    import subprocess
    wall = {name: times[0] for (case, name), times in best.items()}
    load_wall = {(case, name): times[0] for (case, name), times in best.items() if case.startswith("load")}
    region_same = subprocess.run([py, __file__, "same-rows", str(out / "rb-region-h5py.tsv"),
                                  str(out / "rb-region.tsv")], capture_output=True, text=True)
    print("\n| read-back measure | ratio | from |")
    print("| --- | ---: | --- |")
    if baseline_bin:
        for case in ("load, default options (index cost)", "load, --compression none (index cost)"):
            new, old = load_wall[(case, "txt2h5 (with the index)")], load_wall[(case, "txt2h5 before the index")]
            print(f"| {case}: with the index / before it | {new / old:.3f} | {new:.2f} s / {old:.2f} s |")
    # peak_mem.py polls every 5 ms and rounds to 10 ms, too coarse for a 20 ms command:
    # time both region commands again here, best of several, with a precise clock.
    h5py_s = best_time(REGION_COMMANDS["h5py"], 3)
    txt2h5_s = best_time(REGION_COMMANDS["txt2h5"], 20)
    print(f"| 10 kb region in every source: h5py / txt2h5 | {h5py_s / txt2h5_s:.0f}x | "
          f"{h5py_s:.2f} s / {txt2h5_s:.3f} s (best of 3 and 20, perf_counter); "
          f"same rows: {region_same.stdout.strip() or region_same.stderr.strip()} |")
    export = wall["txt2h5 export"]
    for name in ["seed_pool.py (load of the text files)", "pandas DataFrame.to_csv", "cat of the export (write floor)"]:
        print(f"| whole-file export: {name} / txt2h5 export | {wall[name] / export:.2f} | "
              f"{wall[name]:.2f} s / {export:.2f} s |")
    size = (out / "rb-study.h5").stat().st_size
    import h5py
    with h5py.File(out / "rb-study.h5") as f:
        index = f["index/runs"].id.get_storage_size() + f["index/anchors"].id.get_storage_size()
        data = f["data"].id.get_storage_size()
    print(f"| /index size / /data stored size | {index / data:.6f} | {index:,} B / {data:,} B (file {size:,} B) |")


def read_tsv(path):
    rows = np.loadtxt(path, dtype=[("chr", "S32"), ("pos", "<i8"), ("pct", "<f8"), ("c", "<i4"), ("t", "<i4")],
                      ndmin=1)
    return rows


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "h5py-region":
        import h5py
        study, chr_, start, end, out = args
        with h5py.File(study) as f:
            data = f["data"][:]
        mask = (data["chr"] == chr_.encode()) & (data["pos"] >= int(start)) & (data["pos"] <= int(end))
        rows = data[mask]
        with open(out, "w") as fh:
            for r in rows:
                fh.write(f"{r['chr'].decode()}\t{r['pos']}\t{repr(float(r['pct']))}\t{r['c']}\t{r['t']}\n")
    elif command == "pandas-export":
        import h5py
        import pandas as pd
        study, out = args
        with h5py.File(study) as f:
            frame = pd.DataFrame(f["data"][:])
        frame["chr"] = frame["chr"].str.decode("ascii")
        frame.to_csv(out, sep="\t", header=False, index=False)
    elif command == "same-rows":
        a, b = (read_tsv(path) for path in args)
        same = len(a) == len(b) and all(np.array_equal(a[k], b[k]) for k in ("chr", "pos", "c", "t")) and \
            np.array_equal(a["pct"].astype("<f4").view("<u4"), b["pct"].astype("<f4").view("<u4"))
        print(f"{'yes' if same else 'NO'} ({len(a)} and {len(b)} rows)")
        sys.exit(0 if same else 1)
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
