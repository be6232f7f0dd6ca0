#!/usr/bin/env python3
"""Scale benchmark: many small parts and many sources, where per-file costs add up.

  merge   N parts of ROWS rows each (loaded one file per part), merged into one file; and
          the same parts with --virtual
  append  one file appended to an output that already holds N sources; and the resume
          re-run (`load DIR --append` with all N inputs recorded: nothing to do)

Each case reports wall time and peak memory (anonymous + shared, ../shared/bench/peak_mem.py),
next to one load of the same rows from text in the same run, so the figures read as ratios.

Usage: bench/scale.py [--parts 1000] [--rows 1000] [--data bench-data/scale]
Run through `scripts/bench --scale` or directly after `cargo build --release`.
"""
import argparse, os, re, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = (ROOT / ".." / "shared" / "bench").resolve()
TXT2H5 = str(ROOT / "target" / "release" / "txt2h5")
PY = sys.executable


def measured(cmd, cwd):
    """Runs cmd under peak_mem.py; returns (peak MiB, wall s), failing on a non-zero exit."""
    out = subprocess.run([PY, str(SHARED / "peak_mem.py")] + cmd, cwd=cwd, check=True,
                         capture_output=True, text=True).stdout
    match = re.search(r"peak_anon_mib=([\d.]+) wall_s=([\d.]+) rc=(-?\d+)", out)
    if not match or match.group(3) != "0":
        sys.exit(f"{cmd[:3]}... failed: {out}")
    return float(match.group(1)), float(match.group(2))


def make_inputs(data, parts, rows):
    inputs = data / "inputs"
    if not (inputs / f"sample_{parts - 1:05d}.txt").exists():
        shutil.rmtree(inputs, ignore_errors=True)
        inputs.mkdir(parents=True)
        # One generated file cut into N, so every input holds realistic lines.
        subprocess.run([PY, str(SHARED / "gen_methyl.py"), str(data / "gen"), "1", str(parts * rows)],
                       check=True)
        lines = next((data / "gen").glob("*.txt")).read_bytes().splitlines(keepends=True)
        for k in range(parts):
            (inputs / f"sample_{k:05d}.txt").write_bytes(b"".join(lines[k * rows:(k + 1) * rows]))
    return inputs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--parts", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--data", default=str(ROOT / "bench-data" / "scale"))
    args = parser.parse_args()
    data = Path(args.data).resolve()
    inputs = make_inputs(data, args.parts, args.rows)
    work = data / "work"
    shutil.rmtree(work, ignore_errors=True)
    (work / "parts").mkdir(parents=True)
    names = sorted(p.name for p in inputs.iterdir())
    for name in names:
        subprocess.run([TXT2H5, "load", str(inputs / name), "-o", str(work / "parts" / (name + ".h5")),
                        "--quiet"], check=True)
    parts = [str(work / "parts" / (name + ".h5")) for name in names]
    rows = []
    mem, wall = measured([TXT2H5, "load", str(inputs), "-o", "all.h5", "--quiet"], work)
    rows.append((f"load {args.parts} files from text (reference)", wall, mem))
    mem, wall = measured([TXT2H5, "merge", *parts, "-o", "merged.h5", "--quiet"], work)
    rows.append((f"merge {args.parts} parts", wall, mem))
    mem, wall = measured([TXT2H5, "merge", *parts, "-o", "virtual.h5", "--virtual", "--quiet"], work)
    rows.append((f"merge --virtual {args.parts} parts", wall, mem))
    extra = work / "extra.txt"
    shutil.copy(inputs / names[0], extra)
    with open(extra, "ab") as f:
        f.write(b"chrY 1 50 1 1\n")
    shutil.copy(work / "all.h5", work / "append.h5")
    mem, wall = measured([TXT2H5, "load", str(extra), "-o", "append.h5", "--append", "--quiet"], work)
    rows.append((f"append 1 file to {args.parts} sources", wall, mem))
    mem, wall = measured([TXT2H5, "load", str(inputs), "-o", "all.h5", "--append", "--quiet"], work)
    rows.append((f"append re-run, all {args.parts} inputs recorded", wall, mem))
    total_rows = args.parts * args.rows
    print(f"\n{args.parts} files x {args.rows} rows ({total_rows:,} rows), {os.cpu_count()} CPUs\n")
    print("| case | wall s | peak MiB |\n| --- | --- | --- |")
    for name, wall, mem in rows:
        print(f"| {name} | {wall:.2f} | {mem:.1f} |")


if __name__ == "__main__":
    main()
