#!/usr/bin/env python3
"""Chunk codecs and threads, for bench/run.py (cases `codecs` and `threads`).

`codecs`: the same text files loaded with each `--compression` (none, gzip:1, gzip:4, zstd:1,
zstd:3, lz4, blosc:zstd:1, blosc:zstd:2, blosc:lz4), each output checked against the seed
pipeline's uncompressed one, then the whole of /data read by h5py (one thread, through
hdf5plugin's filters); the report gives each codec's load time, read time and size against
gzip:1's (the default) and none's. h5eq.py reads the plugins' codecs through hdf5plugin's
filters (HDF5_PLUGIN_PATH, set by run.py).
`threads`: one big file at default options with -j 1 and -j 2.
"""

CODECS = ["none", "gzip:1", "gzip:4", "zstd:1", "zstd:3", "lz4", "blosc:zstd:1", "blosc:zstd:2", "blosc:lz4"]
CASE = "codecs: text -> each --compression"
READ = "codecs: h5py reads /data"
READER = "import sys, h5py, hdf5plugin; h5py.File(sys.argv[1], 'r')['data'][...]"
THREADS = "threads: one big file, default options"


def name(codec):
    return f"codec-{codec.replace(':', '')}.h5"


def plan_codecs(add, tool_bin, texts, out, seed_none, python):
    for codec in CODECS:
        output = out / name(codec)
        add(CASE, f"txt2h5 --compression {codec}",
            [tool_bin, "load", "--force", "--quiet", "-o", str(output), "--compression", codec] + texts,
            output, seed_none)
    for codec in CODECS:
        add(READ, f"h5py reads {codec}", [python, "-c", READER, str(out / name(codec))], None, None)


def plan_threads(add, tool_bin, big, out):
    for threads in (1, 2):
        output = out / f"threads-j{threads}.h5"
        add(THREADS, f"txt2h5 -j {threads}",
            [tool_bin, "load", "--force", "--quiet", "-o", str(output), "-j", str(threads), big], output, None)


def report(best, out):
    import os
    wall = {name: times[0] for (case, name), times in best.items() if case == CASE}
    read = {name: times[0] for (case, name), times in best.items() if case == READ}
    if wall:
        print("\n| --compression | load s | load / gzip:1 | load / none | h5py read s | read / gzip:1 | "
              "output MB | size / gzip:1 |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        size = {c: os.path.getsize(out / name(c)) / 1e6 for c in CODECS}
        for codec in CODECS:
            w = wall[f"txt2h5 --compression {codec}"]
            r = read[f"h5py reads {codec}"]
            print(f"| {codec} | {w:.2f} | {w / wall['txt2h5 --compression gzip:1']:.2f} | "
                  f"{w / wall['txt2h5 --compression none']:.2f} | {r:.2f} | {r / read['h5py reads gzip:1']:.2f} | "
                  f"{size[codec]:.1f} | {size[codec] / size['gzip:1']:.2f} |")
    threads = {name: times[0] for (case, name), times in best.items() if case == THREADS}
    if threads:
        print(f"\none big file, default options: -j 1 {threads['txt2h5 -j 1']:.2f} s, -j 2 {threads['txt2h5 -j 2']:.2f} s, "
              f"speed-up {threads['txt2h5 -j 1'] / threads['txt2h5 -j 2']:.2f}x")
