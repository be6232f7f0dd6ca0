#!/usr/bin/env python3
"""Runs the README's h5py region example against an output and checks it with a mask.

  readme_region.py OUT.h5 CHR:START-END...

Takes the `region` function from the README's code block (so the documented snippet is the
code under test), calls it for each region and compares with a boolean mask over all of
/data: same rows, same order. Prints "ok N regions, M rows" or the difference (exit 1).
"""
import re, sys
from pathlib import Path

import h5py, numpy as np

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_region():
    text = README.read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    block = next(b for b in blocks if "def region(f, chr_, start, end)" in b)
    code = block.split("\nwith h5py.File")[0]  # the function, not the usage lines
    scope = {}
    exec(code, scope)
    return scope["region"]


def main():
    region = readme_region()
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
                print(f"{spec}: README region() gave {len(got)} rows, the mask {len(want)}")
                sys.exit(1)
            total += len(got)
    print(f"ok {len(specs)} regions, {total} rows")


if __name__ == "__main__":
    main()
