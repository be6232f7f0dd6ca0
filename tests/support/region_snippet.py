#!/usr/bin/env python3
"""Runs the user guide's h5py region example against an output and checks it with a mask.

  region_snippet.py OUT.h5 CHR:START-END...

Takes the `region` function from the code block after `<!-- snippet-region-python -->`, a
marker that must occur exactly once in README.md and docs/*.md (the rule of the tests'
`doc_snippet`), so the documented snippet is the code under test; calls it for each region
and compares with a boolean mask over all of /data: same rows, same order. Prints "ok N
regions, M rows" or the difference (exit 1).
"""
import sys
from pathlib import Path

import h5py, numpy as np

ROOT = Path(__file__).resolve().parents[2]
MARKER = "<!-- snippet-region-python -->"


def doc_snippet(marker):
    """The fenced code block after `marker`, which must occur once across the documentation."""
    files = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
    found = [(f, part) for f in files for part in f.read_text().split(marker)[1:]]
    if len(found) != 1:
        names = ", ".join(str(f.relative_to(ROOT)) for f, _ in found)
        sys.exit(f"{marker} occurs {len(found)} times in README.md and docs/*.md ({names}); it must occur once")
    after = found[0][1]
    body = after.split("```", 1)[1].split("\n", 1)[1]
    return body.split("```", 1)[0]


def region_function():
    code = doc_snippet(MARKER).split("\nwith h5py.File")[0]  # the function, not the usage lines
    scope = {}
    exec(code, scope)
    return scope["region"]


def main():
    region = region_function()
    out, specs = sys.argv[1], sys.argv[2:]
    total = 0
    with h5py.File(out, "r") as f:
        data = f["data"][:]
        for spec in specs:
            chr_, span = spec.rsplit(":", 1)
            start, end = (int(x) for x in span.split("-"))
            got = region(f, chr_, start, end)
            want = data[(data["chr"] == chr_.encode()) & (data["pos"] >= start) & (data["pos"] <= end)]
            if got.tobytes() != want.tobytes():
                print(f"{spec}: the guide's region() gave {len(got)} rows, the mask {len(want)}")
                sys.exit(1)
            total += len(got)
    print(f"ok {len(specs)} regions, {total} rows")


if __name__ == "__main__":
    main()
