#!/usr/bin/env python3
"""The matrix reference: generated Bismark files and the site x sample counts numpy makes of
them, compared with what `txt2h5 matrix` wrote.

  matrix_ref.py make DIR                 cov/ (4 coverage files, one shuffled) and rep/ (3 CpG reports)
  matrix_ref.py check MATRIX.h5 FILE... [--collapse] [--samples TSV] [--min-samples N]
                [--tile BP] [--regions BED] [--beta] [--region CHR:START-END]
"""
import argparse, collections, gzip, os, sys
import h5py, numpy as np

# In karyotypic order, as GRCh38 lists them (and as read.bismark sorts seqlevels).
CHROMS = ["chr1", "chr2", "chrX", "chrUn_KI270302v1"]


def make(out):
    rng = np.random.default_rng(7)
    sites = [(c, np.cumsum(rng.geometric(1 / 40.0, size=n) + 1) + 1000) for c, n in zip(CHROMS, [1500, 900, 600, 40])]
    os.makedirs(f"{out}/cov", exist_ok=True); os.makedirs(f"{out}/rep", exist_ok=True)
    for i in range(4):
        lines = []
        for c, pos in sites:
            for p in pos[rng.random(len(pos)) < 0.85].tolist():
                m, u = int(rng.integers(0, 20)), int(rng.integers(0, 20))
                if m + u == 0:
                    u = 1
                lines.append(f"{c}\t{p}\t{p}\t{'%.15g' % (100.0 * m / (m + u))}\t{m}\t{u}\n")
        if i == 3:  # one file not sorted by position
            rng.shuffle(lines)
        with gzip.open(f"{out}/cov/S{i + 1}.bismark.cov.gz", "wt") as fh:
            fh.write("".join(lines))
    for i in range(3):
        lines = []
        for c, pos in sites:
            for p in pos.tolist():
                for q, s in ((p, "+"), (p + 1, "-")):
                    m, u = (int(rng.integers(0, 9)), int(rng.integers(0, 9))) if rng.random() < 0.8 else (0, 0)
                    lines.append(f"{c}\t{q}\t{s}\t{m}\t{u}\tCG\tCGA\n")
        with gzip.open(f"{out}/rep/R{i + 1}.CpG_report.txt.gz", "wt") as fh:
            fh.write("".join(lines))


def rows_of(path, collapse, region=None):
    """(chr, pos, m, u) of each row; with `region` (chr, start, end), only rows whose pos as
    the file gives it (before the strand shift) is in it."""
    for line in gzip.open(path, "rt"):
        x = line.rstrip("\n").split("\t")
        if region and not (x[0] == region[0] and region[1] <= int(x[1]) <= region[2]):
            continue
        if collapse:
            c, p, strand, m, u = x[0], int(x[1]), x[2], int(x[3]), int(x[4])
            if m + u == 0:
                continue  # load leaves 0/0 rows out
            yield c, p - (strand == "-"), m, u
        else:
            yield x[0], int(x[1]), int(x[4]), int(x[5])


def check(a):
    names = [os.path.basename(f).split(".")[0] for f in a.files]
    sample_of = {f: n for f, n in zip(a.files, names)}
    if a.samples:
        sample_of = {}
        for line in open(a.samples):
            src, name = line.rstrip("\n").split("\t")
            for f in a.files:
                if os.path.basename(f) == src:
                    sample_of[f] = name
        names = list(dict.fromkeys(sample_of[f] for f in a.files if f in sample_of))
    order, counts = [], collections.defaultdict(lambda: np.zeros((len(names), 2), np.int64))
    for f in a.files:
        if f not in sample_of:
            continue
        s = names.index(sample_of[f])
        region = None
        if a.region:
            chr_, span = a.region.split(":")
            region = (chr_,) + tuple(int(v) for v in span.split("-"))
        for c, p, m, u in rows_of(f, a.collapse, region):
            if c not in order:
                order.append(c)
            key = (order.index(c), (p - 1) // a.tile if a.tile else p)
            counts[key][s] += (m, m + u)
    if a.regions:
        regions = [l.split("\t")[:3] for l in open(a.regions)]
        keys = [(c, int(s) + 1, int(e)) for c, s, e in regions]
        sums = []
        for c, s, e in keys:
            tot = np.zeros((len(names), 2), np.int64)
            for (ci, p), v in counts.items():
                if order[ci] == c and s <= p <= e:
                    tot += v
            sums.append(tot)
        labels = keys
    else:
        ks = sorted(counts)
        sums = [counts[k] for k in ks]
        span = (lambda k: (k * a.tile + 1, (k + 1) * a.tile)) if a.tile else (lambda k: (k, k))
        labels = [(order[ci],) + span(k) for ci, k in ks]
    keep = [i for i, v in enumerate(sums) if (v[:, 1] > 0).sum() >= a.min_samples]
    f = h5py.File(a.matrix, "r")
    M, C = f["M"][...], f["Cov"][...]
    want_m = np.array([sums[i][:, 0] for i in keep], np.int64).reshape(-1, len(names)).T
    want_c = np.array([sums[i][:, 1] for i in keep], np.int64).reshape(-1, len(names)).T
    assert M.dtype == np.int32 and M.shape == want_m.shape, (M.dtype, M.shape, want_m.shape)
    assert np.array_equal(M, want_m), "M differs"
    assert np.array_equal(C, want_c), "Cov differs"
    assert [n.decode() for n in f["samples/name"][...]] == names, f["samples/name"][...]
    got = list(zip([c.decode() for c in f["rows/chr"][...]], f["rows/start"][...].tolist(), f["rows/end"][...].tolist()))
    assert got == [labels[i] for i in keep], (got[:5], [labels[i] for i in keep][:5])
    if a.beta:
        with np.errstate(invalid="ignore", divide="ignore"):
            want = (want_m / want_c).astype(np.float32)
        assert np.array_equal(f["beta"][...], want, equal_nan=True), "beta differs"
    print(f"matrix equal: {M.shape[1]} rows x {M.shape[0]} samples")


def main():
    if sys.argv[1] == "make":
        return make(sys.argv[2])
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd"); ap.add_argument("matrix"); ap.add_argument("files", nargs="+")
    ap.add_argument("--collapse", action="store_true"); ap.add_argument("--samples")
    ap.add_argument("--min-samples", type=int, default=0); ap.add_argument("--tile", type=int)
    ap.add_argument("--regions"); ap.add_argument("--beta", action="store_true"); ap.add_argument("--region")
    check(ap.parse_args())


if __name__ == "__main__":
    main()
