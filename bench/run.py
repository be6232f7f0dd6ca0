#!/usr/bin/env python3
"""Side-by-side benchmark: txt2h5 against the reference Python pipelines in ../shared/bench.

Generates (or reuses) the data, runs every pipeline on the same files in one session,
interleaved and repeated, checks that every output equals the seed pipeline's (h5eq.py),
and prints a Markdown table of wall times, ratios to the seed pipeline, peak memory
(anonymous + shared, whole process tree) and output sizes. Ratios, not seconds, are the
result: the machine is shared and absolute times drift. Each command writes its output
afresh (the previous round's is deleted first) after `sync`, so no run pays for the dirty
pages or the freed blocks of another.

Usage: bench/run.py [--files 16] [--rows 2000000] [--repeat 3] [--cases ...] [--anchors]
       bench/run.py --cases matrix [--samples 8] [--sites 2000000]   (needs R with bsseq)
                   [--baseline OLD-TXT2H5]
Run through scripts/bench, which builds txt2h5 and installs the Python requirements.
"""
import argparse, os, re, shutil, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = (ROOT / ".." / "shared" / "bench").resolve()
PY = sys.executable
TXT2H5 = str(ROOT / "target" / "release" / "txt2h5")
CASES = ["floor", "text-none", "text-gzip4", "codecs", "gz-inputs", "one-file", "threads", "memory", "presets", "spill",
         "readback"]


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def ensure_data(data, files, rows, big_files=True):
    text = data / f"{files}x{rows}"
    if not (text / f"sample_{files - 1:03d}.txt").exists():
        print(f"generating {files} x {rows} rows in {text}", file=sys.stderr)
        sh([PY, str(SHARED / "gen_methyl.py"), str(text), str(files), str(rows)])
    gz = data / f"{files}x{rows}-gz"
    if not (gz / f"sample_{files - 1:03d}.txt.gz").exists():
        gz.mkdir(parents=True, exist_ok=True)
        tool = ["pigz", "-6", "-c"] if shutil.which("pigz") else ["gzip", "-6", "-c"]
        for f in sorted(text.glob("*.txt")):
            with open(gz / (f.name + ".gz"), "wb") as out:
                sh(tool + [str(f)], stdout=out)
    big = data / f"one-{files}x{rows}.txt"
    big4 = data / f"one-4x-{files}x{rows}.txt"
    for target, copies in ((big, 1), (big4, 4)):
        if big_files and not target.exists():
            with open(target, "wb") as out:
                for _ in range(copies):
                    for f in sorted(text.glob("*.txt")):
                        with open(f, "rb") as src:
                            shutil.copyfileobj(src, out, 1 << 24)
    return sorted(map(str, text.glob("*.txt"))), sorted(map(str, gz.glob("*.txt.gz"))), str(big), str(big4)


def warm(paths):
    for p in paths:
        with open(p, "rb") as f:
            while f.read(1 << 24):
                pass


def measure(cmd):
    out = subprocess.run([PY, str(SHARED / "peak_mem.py")] + cmd, check=True, capture_output=True, text=True).stdout
    m = re.search(r"peak_anon_mib=([\d.]+) wall_s=([\d.]+) rc=(-?\d+)", out)
    if int(m.group(3)) != 0:
        raise SystemExit(f"command failed: {' '.join(cmd)}")
    return float(m.group(2)), float(m.group(1))


def equal(a, b):
    # h5eq.py does not import hdf5plugin: HDF5 loads the zstd and lz4 filters from its folder.
    import hdf5plugin
    env = dict(os.environ, HDF5_PLUGIN_PATH=hdf5plugin.PLUGIN_PATH)
    return subprocess.run([PY, str(SHARED / "anchors" / "h5eq.py"), a, b], capture_output=True,
                          env=env).returncode == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=16)
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--anchors", action="store_true", help="also run the polars and pandas pipelines")
    ap.add_argument("--data", default=str(ROOT / "bench-data"))
    ap.add_argument("--out", default=None, help="scratch directory for outputs")
    ap.add_argument("--samples", type=int, default=8, help="matrix case: samples")
    ap.add_argument("--sites", type=int, default=2_000_000, help="matrix case: CpG sites")
    ap.add_argument("--baseline", default=None,
                    help="another txt2h5 binary (an earlier build) to compare load times with (readback case)")
    a = ap.parse_args()
    data = Path(a.data)
    out = Path(a.out or data / "out")
    out.mkdir(parents=True, exist_ok=True)
    cases = a.cases.split(",")
    if cases == ["matrix"]:
        # Needs R with bsseq (scripts/setup-r); not in the default cases.
        sys.path.insert(0, str(ROOT / "bench"))
        import matrix_case
        return matrix_case.run(TXT2H5, SHARED, data, out, PY, a.samples, a.sites, a.repeat)
    texts, gzs, big, big4 = ensure_data(data, a.files, a.rows, big_files=bool({"one-file", "threads", "memory"} & set(cases)))
    seed = [PY, str(SHARED / "anchors" / "seed_pool.py")]
    tool = [TXT2H5, "load", "--force", "--quiet"]

    # (case, name, command, output, reference output)
    plan = []
    def add(case, name, cmd, output, ref):
        plan.append((case, name, cmd, str(output), str(ref) if ref else None))
    sys.path.insert(0, str(ROOT / "bench"))
    import spill
    # First in each round: right after the seed pipeline the next large write of any program
    # is slow on this kind of machine (dd too), so the floor runs before it.
    if "floor" in cases:
        spill.plan_floor(add, TXT2H5, texts, out, a.rows)
    if "text-none" in cases:
        add("text -> uncompressed", "seed_pool.py", seed + [str(out / "seed-none.h5")] + texts, out / "seed-none.h5", None)
        add("text -> uncompressed", "txt2h5 --compression none", tool + ["-o", str(out / "t-none.h5"), "--compression", "none"] + texts, out / "t-none.h5", out / "seed-none.h5")
        if a.anchors:
            add("text -> uncompressed", "polars_h5py.py", [PY, str(SHARED / "anchors" / "polars_h5py.py"), str(out / "polars.h5")] + texts, out / "polars.h5", out / "seed-none.h5")
            add("text -> uncompressed", "pandas_h5py.py", [PY, str(SHARED / "anchors" / "pandas_h5py.py"), str(out / "pandas.h5")] + texts, out / "pandas.h5", out / "seed-none.h5")
    if "text-gzip4" in cases:
        add("text -> gzip:4 + shuffle", "seed_pool.py --gzip 4", seed + [str(out / "seed-gz4.h5"), "--gzip", "4"] + texts, out / "seed-gz4.h5", None)
        add("text -> gzip:4 + shuffle", "txt2h5 --compression gzip:4", tool + ["-o", str(out / "t-gz4.h5"), "--compression", "gzip:4"] + texts, out / "t-gz4.h5", out / "seed-gz4.h5")
        add("text -> gzip:4 + shuffle", "txt2h5 (default: gzip:1)", tool + ["-o", str(out / "t-default.h5")] + texts, out / "t-default.h5", out / "seed-gz4.h5")
    if "gz-inputs" in cases:
        add(".gz inputs -> uncompressed", "seed_pool.py", seed + [str(out / "seed-fromgz.h5")] + gzs, out / "seed-fromgz.h5", None)
        add(".gz inputs -> uncompressed", "txt2h5 --compression none", tool + ["-o", str(out / "t-fromgz.h5"), "--compression", "none"] + gzs, out / "t-fromgz.h5", out / "seed-fromgz.h5")
    if "one-file" in cases:
        add("one 865 MB file -> uncompressed", "seed_pool.py", seed + [str(out / "seed-one.h5"), big], out / "seed-one.h5", None)
        add("one 865 MB file -> uncompressed", "txt2h5 -j 1", tool + ["-o", str(out / "t-one-j1.h5"), "--compression", "none", "-j", "1", big], out / "t-one-j1.h5", out / "seed-one.h5")
        add("one 865 MB file -> uncompressed", "txt2h5 -j 2", tool + ["-o", str(out / "t-one-j2.h5"), "--compression", "none", "-j", "2", big], out / "t-one-j2.h5", out / "seed-one.h5")
    preset_inputs = {}
    if "presets" in cases:
        sys.path.insert(0, str(ROOT / "bench"))
        import presets
        preset_inputs = {"native": texts}
        for preset in presets.CONVERTERS:
            preset_inputs[preset] = presets.ensure(data, texts, preset)
        for preset, files in preset_inputs.items():
            add("presets, I/O floor", f"cat {preset} files", ["sh", "-c", 'cat "$@" > /dev/null', "sh"] + files,
                None, None)
            add("presets, per MiB of text", f"txt2h5 --format {preset}",
                tool + ["-o", str(out / f"t-{preset}.h5"), "--compression", "none", "--format", preset] + files,
                out / f"t-{preset}.h5", out / "t-native.h5" if preset == "bismark-cov" else None)
    if "memory" in cases:
        add("memory, default options", "txt2h5, one file (1x)", tool + ["-o", str(out / "t-mem1.h5"), big], out / "t-mem1.h5", None)
        add("memory, default options", "txt2h5, one file (4x)", tool + ["-o", str(out / "t-mem4.h5"), big4], out / "t-mem4.h5", None)
        add("memory, default options", "txt2h5, 16 files", tool + ["-o", str(out / "t-mem16.h5")] + texts, out / "t-mem16.h5", None)

    sys.path.insert(0, str(ROOT / "bench"))
    import codecs_case as codecs
    if "codecs" in cases:
        if "text-none" not in cases:
            add("text -> uncompressed", "seed_pool.py", seed + [str(out / "seed-none.h5")] + texts,
                out / "seed-none.h5", None)
        codecs.plan_codecs(add, TXT2H5, texts, out, out / "seed-none.h5", PY)
    if "threads" in cases:
        codecs.plan_threads(add, TXT2H5, big, out)
    if "spill" in cases:
        spill.plan_spill(add, TXT2H5, texts, gzs, out)
    if "readback" in cases:
        import readback
        readback.plan(add, TXT2H5, a.baseline, texts, out, PY, seed)

    best = {}
    for round_ in range(a.repeat):
        for case, name, cmd, output, ref in plan:
            inputs = [p for p in cmd if p.endswith((".txt", ".gz", ".cov", ".bed", ".h5"))
                      and os.path.exists(p)]
            warm(inputs)
            # Every command writes a new file (replacing one costs the file system the old
            # file's blocks) and starts with no dirty pages left by the one before.
            if output != "None" and os.path.exists(output):
                os.remove(output)
            os.sync()
            wall, peak = measure(cmd)
            w, p = best.get((case, name), (float("inf"), 0.0))
            best[(case, name)] = (min(w, wall), max(p, peak))
            print(f"round {round_ + 1}: {case} | {name}: {wall:.2f} s, {peak:.0f} MiB", file=sys.stderr)

    print(f"\n{len(texts)} files x {a.rows:,} rows ({sum(os.path.getsize(t) for t in texts) / 2**20:.0f} MiB of text), "
          f"best of {a.repeat} interleaved runs, page cache warm\n")
    print("| case | pipeline | wall s | ratio to seed | peak MiB | output MB | equal to seed |")
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    seed_wall = {}
    for case, name, cmd, output, ref in plan:
        wall, peak = best[(case, name)]
        if name.startswith("seed"):
            seed_wall[case] = wall
        ratio = f"{wall / seed_wall[case]:.2f}" if case in seed_wall else ""
        same = "" if ref is None else ("yes" if equal(ref, output) else "**NO**")
        size = f"{os.path.getsize(output) / 1e6:.1f}" if output != "None" else ""
        print(f"| {case} | {name} | {wall:.2f} | {ratio} | {peak:.0f} | {size} | {same} |")
    if preset_inputs:
        mib = {preset: sum(os.path.getsize(f) for f in files) / 2**20 for preset, files in preset_inputs.items()}
        per_mib = {preset: best[("presets, per MiB of text", f"txt2h5 --format {preset}")][0] / mib[preset]
                   for preset in preset_inputs}
        print("\n| preset | MiB of text | cat s | wall s | s per MiB | ratio to native per MiB | ratio to native per row |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for preset in preset_inputs:
            wall = best[("presets, per MiB of text", f"txt2h5 --format {preset}")][0]
            native_wall = best[("presets, per MiB of text", "txt2h5 --format native")][0]
            floor = best[("presets, I/O floor", f"cat {preset} files")][0]
            print(f"| {preset} | {mib[preset]:.0f} | {floor:.2f} | {wall:.2f} | {per_mib[preset]:.4f} | "
                  f"{per_mib[preset] / per_mib['native']:.2f} | {wall / native_wall:.2f} |")


    codecs.report(best, out)
    spill.report_floor(best)
    spill.report_spill(best)
    if "readback" in cases:
        readback.report(best, out, a.baseline, PY)


if __name__ == "__main__":
    main()
