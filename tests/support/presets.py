#!/usr/bin/env python3
"""Reference implementation of txt2h5's format presets (docs/input-formats.md): plain numpy,
one row at a time, written to be obviously right rather than fast.

  presets.py expect INPUT --format NAME [--columns SPEC] [--skip-lines N] [--context C]
             [--mod-code LIST|all] [--extra strand,context] [--wide-pos] [--chr-width W]
      JSON {"rows": N, "skipped": {"zero_coverage": a, "context": b, "mod_code": c}, "format": F}
  presets.py compare OUT.h5 DATASET --inputs-json FILE
      FILE is {"options": {...}, "inputs": [{"path": P, "format": NAME}, ...]}; options use the
      flag names above without dashes ("context", "mod-code", "extra", "wide-pos", "chr-width",
      "columns", "skip-lines"; "_" for "-" also accepted). An input's format may also be
      "columns:SPEC". /DATASET must equal the inputs' expected records concatenated, bit for
      bit, with the exact dtype; /sources must name each input in order (path, format, rows,
      first_row, skipped). Prints each difference, exits 1 on any, else prints "ok N rows".
  presets.py generate OUTDIR --rows N --seed S
      writes <preset>_<k>.<ext> files of every preset (plain, gzip, BGZF; some CRLF) plus
      columns_<k>.txt files whose format is "columns:SPEC" (load those with --columns SPEC),
      and prints the JSON list [{"path": ..., "format": ...}]. Same seed, same bytes.

Rules: lines split on \\n, one trailing \\r dropped, `#` starts a comment, fields split on runs
of ASCII whitespace, empty lines skipped; gzip/BGZF by magic 1f 8b; only line 1 may be a header.
Filters in order: mod code (bedmethyl), context (formats with a context column), zero coverage
(derived pct with c + t == 0). A bad line raises ValueError naming file and line.
"""
import gzip, json, os, random, re, sys

import h5py, numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fuzz import bgzf  # noqa: E402  (BGZF as bgzip writes it)
from h5check import same_records  # noqa: E402  (the tests' reference client)

WS = re.compile(rb"[\t\n\x0b\x0c\r\x1c-\x1f ]+")
INT = re.compile(rb"[+-]?[0-9]+")
I32, I64 = (-2**31, 2**31 - 1), (-2**63, 2**63 - 1)
REASONS = ("zero_coverage", "context", "mod_code")

# name -> allowed field counts, columns (1-based), header names (line 1 skipped when equal)
PRESETS = {
    "native": ((5,), dict(chr=1, pos=2, pct=3, c=4, t=5), None),
    "bismark-cov": ((6,), dict(chr=1, pos=2, pct=4, c=5, t=6), None),
    "bismark-report": ((7, 9), dict(chr=1, pos=2, strand=3, c=4, t=5, context=6), None),
    "methylkit": ((7,), dict(chr=1, pos=2, strand=4, c=6, t=7), None),  # flat/tabix format
    "methylkit-text": ((7,), dict(chr=2, pos=3, strand=4, cov=5, pct=6),
                       b"chrBase chr base strand coverage freqC freqT"),
    "bedmethyl": ((18,), dict(chr=1, start=2, mod=4, strand=6, pct=11, c=12, t=13), None),
    "allc": ((7, 9), dict(chr=1, pos=2, strand=3, context=4, c=5, cov=6),
             b"chr pos strand mc_class mc_count total methylated"),
    "methyldackel": ((6,), dict(chr=1, start=2, pct=4, c=5, t=6), b"track"),
    "bsmap": ((12,), dict(chr=1, pos=2, strand=3, context=4, c=7, cov=8),
              b"chr pos strand context ratio eff_CT_count C_count CT_count rev_G_count rev_GA_count CI_lower CI_upper"),
}
SPEC_NAMES = ("chr", "pos", "start", "pct", "beta", "c", "t", "cov", "strand", "context")
STRANDS = {b"+": b"+", b"-": b"-", b".": b".", b"F": b"+", b"R": b"-"}


def parse_spec(spec):
    """--columns SPEC -> {name: column}; checks that chr, a position, c and t can be had."""
    cols = {}
    for item in spec.split(","):
        name, _, col = item.partition("=")
        if name not in SPEC_NAMES or name in cols or not col.isdigit() or int(col) < 1:
            raise ValueError(f"bad --columns item {item!r}")
        cols[name] = int(col)
    ok = ("chr" in cols and ("pos" in cols) != ("start" in cols) and not ("pct" in cols and "beta" in cols)
          and ("c" in cols or "cov" in cols and ("pct" in cols or "beta" in cols))
          and ("t" in cols or "cov" in cols))
    if not ok:
        raise ValueError(f"--columns {spec!r}: needs chr, pos or start, c (or cov with pct/beta), t (or cov)")
    return cols


def dtype(width=10, wide_pos=False, extra=()):
    fields = [("chr", f"S{width}"), ("pos", "<i8" if wide_pos else "<i4"), ("pct", "<f4"), ("c", "<i4"), ("t", "<i4")]
    fields += [(name, {"strand": "S1", "context": "S3"}[name]) for name in ("strand", "context") if name in extra]
    return np.dtype(fields)


def text_lines(path):
    """The file's lines as bytes (gunzipped when it starts with 1f 8b), without \\n or a final \\r."""
    with open(path, "rb") as f:
        raw = f.read()
    data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [line[:-1] if line.endswith(b"\r") else line for line in lines]


def fields_of(line):
    return [f for f in WS.split(line.split(b"#", 1)[0]) if f]


def classify(text):
    """Context class of a context field: b"CG", b"CHG", b"CHH", or b"" when unknown."""
    s = text.upper()
    if s in (b"CG", b"CHG", b"CHH"):
        return s
    if len(s) >= 3 and s[0:1] == b"C":
        if s[1:2] == b"G":
            return b"CG"
        if s[1:2] in (b"A", b"C", b"T"):
            return b"CHG" if s[2:3] == b"G" else b"CHH" if s[2:3] in (b"A", b"C", b"T") else b""
    return b""


def parse_int(text, bounds=I32):
    if not INT.fullmatch(text):
        raise ValueError(f"not an integer: {text!r}")
    v = int(text)
    if not bounds[0] <= v <= bounds[1]:
        raise ValueError(f"out of range: {text!r}")
    return v


def parse_float(text):
    """float64 as Python/numpy parse it (the nearest double)."""
    if b"_" in text or any(b > 0x7E for b in text):
        raise ValueError(f"not a number: {text!r}")
    return float(text.decode("ascii"))


def rint32(x):
    """Round half to even of a float64, as an int32."""
    if not np.isfinite(x):
        raise ValueError(f"cannot round {x}")
    return parse_int(str(int(np.rint(x))).encode())


def format_for(fmt, lines, options):
    """(counts, columns, header, format name) for one input."""
    spec = options.get("columns")
    if fmt.startswith("columns:"):
        spec = fmt[len("columns:"):]
    if spec:
        cols = parse_spec(spec)
        return None, cols, None, f"columns:{spec}"
    if fmt == "methylkit":  # the text format when line 1 is its header, else flat/tabix
        head = PRESETS["methylkit-text"][2].split()
        if lines and fields_of(lines[0]) == head:
            counts, cols, header = PRESETS["methylkit-text"]
            return counts, cols, header, fmt
    if fmt not in PRESETS or fmt == "methylkit-text":
        raise ValueError(f"unknown format {fmt!r}")
    counts, cols, header = PRESETS[fmt]
    return counts, cols, header, fmt


def option(options, name, default=None):
    return options.get(name, options.get(name.replace("-", "_"), default))


def extras(options):
    """--extra as a list in the fixed field order (strand, then context)."""
    given = option(options, "extra", "") or ""
    given = {e for e in (given.split(",") if isinstance(given, str) else given) if e}
    if given - {"strand", "context"}:
        raise ValueError(f"unknown --extra {sorted(given)}")
    return [e for e in ("strand", "context") if e in given]


def expected(path, fmt, options):
    """(records, skipped counts dict, format name) for one input under the given options."""
    width = int(option(options, "chr-width", 10))
    wide = bool(option(options, "wide-pos", False))
    extra = extras(options)
    context_opt = (option(options, "context", "CG") or "CG").upper()
    keep_ctx = {"CG": {b"CG"}, "CHG": {b"CHG"}, "CHH": {b"CHH"}, "CH": {b"CHG", b"CHH"}, "ALL": None}[context_opt]
    mods = option(options, "mod-code", "m,C") or "m,C"
    mods = None if mods == "all" else set(mods.encode().split(b","))
    lines = text_lines(path)
    counts, cols, header, name = format_for(fmt, lines, options)
    skip = int(option(options, "skip-lines", 0) or 0)
    if skip and not name.startswith("columns:"):
        raise ValueError("--skip-lines needs --columns")
    need = max(cols.values())
    rows, skipped = [], dict.fromkeys(REASONS, 0)
    for number, line in enumerate(lines[skip:], skip + 1):
        f = fields_of(line)
        if not f:
            continue
        if number == 1 and header is not None:
            if (f[0] == b"track") if header == b"track" else (f == header.split()):
                continue
        where = f"{path}:{number}"
        if (len(f) not in counts) if counts else len(f) < need:
            raise ValueError(f"{where}: {len(f)} fields")
        col = lambda key: f[cols[key] - 1]
        if "mod" in cols and mods is not None and col("mod").split(b",")[0] not in mods:
            skipped["mod_code"] += 1
            continue
        ctx = classify(col("context")) if "context" in cols else b""
        if "context" in cols and keep_ctx is not None and ctx not in keep_ctx:
            skipped["context"] += 1
            continue
        try:
            chrom = col("chr")
            if len(chrom) > width or any(b < 0x21 or b > 0x7E for b in chrom):
                raise ValueError(f"chr {chrom!r} (width {width})")
            bounds = I64 if wide else I32
            pos = parse_int(col("pos"), bounds) if "pos" in cols else parse_int(col("start"), bounds) + 1
            if not bounds[0] <= pos <= bounds[1]:
                raise ValueError(f"position {pos} out of range")
            pct64 = parse_float(col("pct")) if "pct" in cols else None
            cov = parse_int(col("cov")) if "cov" in cols else None
            if "c" in cols:
                c = parse_int(col("c"))
            elif pct64 is not None:
                c = rint32((np.float64(cov) * pct64) / 100)
            else:
                c = rint32(np.float64(cov) * parse_float(col("beta")))
            t = parse_int(col("t")) if "t" in cols else parse_int(str(cov - c).encode())
            if pct64 is not None:
                pct = np.float32(pct64)
            elif c + t == 0:
                skipped["zero_coverage"] += 1
                continue
            else:
                pct = np.float32((np.float64(c) / (np.float64(c) + np.float64(t))) * 100)
            strand = STRANDS[col("strand")] if "strand" in cols else b"."
        except (ValueError, KeyError) as e:
            raise ValueError(f"{where}: {e}") from None
        rows.append((chrom, pos, pct, c, t) + tuple({"strand": strand, "context": ctx}[e] for e in extra))
    with np.errstate(all="ignore"):
        out = np.array(rows, dtype=dtype(width, wide, extra))
    return out, skipped, name

# --------------------------------------------------------------------------------- compare

def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def compare(out, dataset, inputs_json):
    with open(inputs_json) as f:
        spec = json.load(f)
    options, inputs = spec.get("options", {}), spec["inputs"]
    parts = [expected(i["path"], i["format"], options) for i in inputs]
    width, extra = int(option(options, "chr-width", 10)), extras(options)
    want = (np.concatenate([p[0] for p in parts]) if parts else
            np.empty(0, dtype(width, bool(option(options, "wide-pos", False)), extra)))
    problems = []
    with h5py.File(out, "r") as h:
        problems += same_records(h[dataset][:], want)
        sources = h["sources"][:]
    if len(sources) != len(inputs):
        problems.append(f"{len(sources)} /sources rows for {len(inputs)} inputs")
    names = sources.dtype.names or ()
    first = 0
    for k, (row, inp, (recs, skipped, name)) in enumerate(zip(sources, inputs, parts)):
        if "skipped" in names:
            got_skipped = {r: int(row["skipped"][r]) for r in REASONS}
        else:  # flat columns skipped_<reason> (docs/formats-design.md)
            got_skipped = {r: int(row[f"skipped_{r}"]) for r in REASONS if f"skipped_{r}" in names}
        got = dict(path=text(row["path"]), format=text(row["format"]) if "format" in names else None,
                   rows=int(row["rows"]), first_row=int(row["first_row"]), skipped=got_skipped)
        exp = dict(path=inp["path"], format=name, rows=len(recs), first_row=first, skipped=skipped)
        for key in exp:
            if got[key] != exp[key]:
                problems.append(f"sources row {k} {key}: {got[key]!r} != expected {exp[key]!r}")
        first += len(recs)
    for p in problems:
        print(p)
    if not problems:
        print(f"ok {len(want)} rows")
    return 1 if problems else 0

# -------------------------------------------------------------------------------- generate

CHROMS = [b"chr1", b"chr2", b"chr10", b"chrX", b"chrM", b"chrUn_KI27"]  # <= 10 bytes
BASES = b"ACGT"


def sites(rng, n):
    """n (chr, pos) pairs, sorted within each chromosome."""
    chroms = rng.sample(CHROMS, rng.randint(1, len(CHROMS)))
    out, k = [], 0
    for i, chrom in enumerate(chroms):
        m = n - k if i == len(chroms) - 1 else rng.randint(0, n - k)
        pos = rng.randint(1, 50000)
        for _ in range(m):
            pos += rng.randint(1, 60)
            out.append((chrom, pos))
        k += m
    return out


def counts(rng, zero=0.0):
    if rng.random() < zero:
        return 0, 0
    n = rng.choice([rng.randint(1, 12), rng.randint(1, 60), rng.randint(1, 2000)])
    c = rng.choice([0, n, rng.randint(0, n)])
    return c, n - c


def g15(c, t):
    return b"%.15g" % ((c / (c + t)) * 100)


def trinuc(rng, cls):
    third = lambda: bytes([rng.choice(b"ACGTN" if rng.random() < 0.05 else b"ACGT")])
    h = lambda: bytes([rng.choice(b"ACT")])
    return b"C" + {b"CG": lambda: b"G" + third(), b"CHG": lambda: h() + b"G",
                   b"CHH": lambda: h() + bytes([rng.choice(b"ACTN" if rng.random() < 0.05 else b"ACT")])}[cls]()


def gen_native(rng, n, k):
    lines = []
    for chrom, pos in sites(rng, n):
        c, t = counts(rng)
        pct = rng.choice([g15(c, t) if c + t else b"0", b"%.2f" % (rng.uniform(0, 100)), b"%d" % rng.randint(0, 100)])
        sep = rng.choice([b"\t", b" "])
        lines.append(sep.join([chrom, b"%d" % pos, pct, b"%d" % c, b"%d" % t]))
    return lines


def gen_bismark_cov(rng, n, k):
    lines = []
    for chrom, pos in sites(rng, n):
        c, t = counts(rng)
        if c + t == 0:
            c = 1
        if rng.random() < 0.02:
            c, t = 1, 9999999  # %.15g gives 1e-05
        lines.append(b"\t".join([chrom, b"%d" % pos, b"%d" % pos, g15(c, t), b"%d" % c, b"%d" % t]))
    return lines


def gen_bismark_report(rng, n, k):
    cx, ff = k != 0 or rng.random() < 0.5, k == 2 or rng.random() < 0.2
    lines = []
    for chrom, pos in sites(rng, n):
        cls = rng.choice([b"CG", b"CHG", b"CHH", b"CHH"]) if cx else b"CG"
        c, t = counts(rng, zero=0.3)
        tri = trinuc(rng, cls)
        row = [chrom, b"%d" % pos, rng.choice([b"+", b"-"]), b"%d" % c, b"%d" % t, cls, tri]
        if ff:
            row += [tri + bytes([rng.choice(BASES)]), tri + bytes([rng.choice(BASES), rng.choice(BASES)])]
        lines.append(b"\t".join(row))
    return lines


def gen_methylkit(rng, n, k):
    if k == 1 or k == 2 and rng.random() < 0.5:  # flat/tabix DB
        lines = [b"#Date:2024-05-01 10:00:00", b"#SI:test1", b"#AS:hg38", b"#DT:tabix"] if rng.random() < 0.7 else []
        for chrom, pos in sites(rng, n):
            c, t = counts(rng)
            if c + t == 0:
                t = 1
            other = rng.choice([0, 0, 0, 1])
            lines.append(b"\t".join([chrom, b"%d" % pos, b"%d" % pos, rng.choice([b"+", b"-"]),
                                     b"%d" % (c + t + other), b"%d" % c, b"%d" % t]))
        return lines
    dackel = k == 2 or rng.random() < 0.3  # MethylDackel --methylKit: %6.2f
    fmt = b"%6.2f" if dackel else b"%.2f"
    lines = [b"chrBase\tchr\tbase\tstrand\tcoverage\tfreqC\tfreqT"]
    for chrom, pos in sites(rng, n):
        cov = rng.randint(1, 300)
        if rng.random() < 0.15:  # quarter percents: cov * pct / 100 often an exact .5 tie
            fc = rng.choice([12.5, 25.0, 37.5, 62.5, 75.0, 87.5])
        else:
            fc = 100 * rng.randint(0, cov) / cov
        lines.append(b"\t".join([chrom + b".%d" % pos, chrom, b"%d" % pos, rng.choice([b"F", b"R"]), b"%d" % cov,
                                 fmt % fc, fmt % (100 - fc)]))
    return lines


def gen_bedmethyl(rng, n, k):
    old, header, combine = k == 1, k == 0 or rng.random() < 0.3, k == 2 or rng.random() < 0.2
    lines = [b"\t".join(b"#chrom chromStart chromEnd name score strand thickStart thickEnd color valid_coverage "
                        b"percent_modified count_modified count_canonical count_other_mod count_delete count_fail "
                        b"count_diff count_nocall".split())] if header and not old else []
    for chrom, pos in sites(rng, max(n // 2, 1)):
        strand = b"." if combine else rng.choice([b"+", b"-"])
        codes = rng.choice([[b"h", b"m"], [b"m"], [b"C"], [b"a"], [b"m,CG,0"], [b"17596", b"m"]])
        valid = rng.randint(1, 200)
        split = sorted(rng.randint(0, valid) for _ in codes)
        mods = [b - a for a, b in zip([0] + split, split)]
        canon = valid - sum(mods)
        for code, nmod in zip(codes, mods):
            other = sum(mods) - nmod
            pct = b"%.2f" % float(np.float32(nmod) / np.float32(valid) * np.float32(100))
            f = [chrom, b"%d" % (pos - 1), b"%d" % pos, code, b"%d" % valid, strand, b"%d" % (pos - 1), b"%d" % pos,
                 b"255,0,0", b"%d" % valid, pct, b"%d" % nmod, b"%d" % canon, b"%d" % other,
                 b"%d" % rng.randint(0, 3), b"%d" % rng.randint(0, 3), b"%d" % rng.randint(0, 2), b"0"]
            lines.append(b"\t".join(f[:10]) + b" " + b" ".join(f[10:]) if old else b"\t".join(f))
    return lines


def gen_allc(rng, n, k):
    methylpy, snp = k == 2 or rng.random() < 0.3, k == 1 or rng.random() < 0.2
    lines = [b"chr\tpos\tstrand\tmc_class\tmc_count\ttotal\tmethylated"] if rng.random() < 0.15 else []
    for chrom, pos in sites(rng, n):
        if methylpy and chrom.startswith(b"chr"):
            chrom = chrom[3:]
        ctx = trinuc(rng, rng.choice([b"CG", b"CHG", b"CHH", b"CHH"]))
        c, t = counts(rng)
        if c + t == 0:
            t = 1
        row = [chrom, b"%d" % pos, rng.choice([b"+", b"-"]), ctx, b"%d" % c, b"%d" % (c + t), rng.choice([b"1", b"0"])]
        if snp:
            row += [b"%d,%d,%d" % (c + t, 0, rng.randint(0, 2)), b"%d,%d,%d" % (rng.randint(0, 2), 0, 0)]
        lines.append(b"\t".join(row))
    return lines


def gen_methyldackel(rng, n, k):
    ctx = rng.choice(["CpG", "CHG", "CHH"])
    lines = [b'track type="bedGraph" description="sample %s methylation levels"' % ctx.encode()]
    for chrom, pos in sites(rng, n):
        c, t = counts(rng)
        if c + t == 0:
            c = 1
        lines.append(b"\t".join([chrom, b"%d" % (pos - 1), b"%d" % pos, b"%d" % int(100.0 * c / (c + t)),
                                 b"%d" % c, b"%d" % t]))
    return lines


def wilson(m, d):
    z = 1.96
    ratio = min(m, d) / d
    pmid = ratio + z * z / (2.0 * d)
    sd = z * ((ratio * (1.0 - ratio) / d + z * z / (4.0 * d * d)) ** 0.5)
    den = 1 + z * z / d
    return ratio, (pmid - sd) / den, (pmid + sd) / den


def gen_bsmap(rng, n, k):
    full = k == 2 or rng.random() < 0.2  # BSMAPz -f: trinucleotide contexts
    lines = [PRESETS["bsmap"][2].replace(b" ", b"\t")] if k != 1 else []  # -n: no header
    for chrom, pos in sites(rng, n):
        cls = rng.choice([b"CG", b"CHG", b"CHH"])
        c, t = counts(rng)
        if c + t == 0:
            t = 1
        dd = c + t
        if rng.random() < 0.2:
            m1, d1 = b"NA", b"NA"
            eff = float(dd)
        else:
            d1 = rng.randint(1, 40)
            m1 = d1 if rng.random() < 0.8 else rng.randint(1, d1)
            eff = float(dd) * m1 / d1
            m1, d1 = b"%d" % m1, b"%d" % d1
        ratio, lo, hi = wilson(c, eff)
        lines.append(b"\t".join([chrom, b"%d" % pos, rng.choice([b"+", b"-"]), trinuc(rng, cls) if full else cls,
                                 b"%.3f" % ratio, b"%.2f" % eff, b"%d" % c, b"%d" % dd, m1, d1,
                                 b"%.3f" % lo, b"%.3f" % hi]))
    return lines


COLUMNS_SPEC = "chr=1,start=2,beta=4,cov=5"


def gen_columns(rng, n, k):
    lines = []
    for chrom, pos in sites(rng, n):
        cov = rng.choice([0, rng.randint(1, 10), rng.randint(1, 200)]) if rng.random() < 0.1 else rng.randint(1, 200)
        beta = rng.choice([0.125, 0.25, 0.375, 0.5, 0.75]) if rng.random() < 0.2 else rng.random()
        lines.append(b"\t".join([chrom, b"%d" % (pos - 1), b"%d" % pos, b"%.4f" % beta, b"%d" % cov]))
    return lines


GENERATORS = {"native": (gen_native, "txt"), "bismark-cov": (gen_bismark_cov, "bismark.cov"),
              "bismark-report": (gen_bismark_report, "CX_report.txt"), "methylkit": (gen_methylkit, "txt"),
              "bedmethyl": (gen_bedmethyl, "bed"), "allc": (gen_allc, "tsv"),
              "methyldackel": (gen_methyldackel, "bedGraph"), "bsmap": (gen_bsmap, "txt"),
              "columns": (gen_columns, "txt")}


def generate(outdir, rows, seed):
    os.makedirs(outdir, exist_ok=True)
    listing = []
    for preset, (gen, ext) in GENERATORS.items():
        for k, codec in enumerate(["plain", "gzip", "bgzf"]):
            rng = random.Random(f"{seed}:{preset}:{k}")
            lines = gen(rng, rows, k)  # k picks variants: every format appears for any seed
            crlf = k == 2 or rng.random() < 0.3
            text = b"".join(line + (b"\r\n" if crlf else b"\n") for line in lines)
            data = {"plain": text, "gzip": gzip.compress(text, mtime=0), "bgzf": bgzf(text, rng.choice([512, 65280]))}[codec]
            path = os.path.join(outdir, f"{preset}_{k}.{ext}" + {"plain": "", "gzip": ".gz", "bgzf": ".bgz"}[codec])
            with open(path, "wb") as f:
                f.write(data)
            listing.append({"path": path, "format": f"columns:{COLUMNS_SPEC}" if preset == "columns" else preset})
    print(json.dumps(listing))

# ------------------------------------------------------------------------------------ main

def flags(args):
    """--name VALUE / --name (boolean) pairs -> options dict, plus the positional arguments."""
    options, rest, i = {}, [], 0
    while i < len(args):
        a = args[i]
        if a.startswith("--"):
            name, eq, value = a[2:].partition("=")
            if name == "wide-pos":
                options[name] = True
            elif eq:
                options[name] = value
            else:
                options[name], i = args[i + 1], i + 1
        else:
            rest.append(a)
        i += 1
    return options, rest


def main():
    command, (options, rest) = sys.argv[1], flags(sys.argv[2:])
    if command == "expect":
        fmt = options.pop("format", "native")
        recs, skipped, name = expected(rest[0], fmt, options)
        print(json.dumps({"rows": len(recs), "skipped": skipped, "format": name}))
    elif command == "compare":
        sys.exit(compare(rest[0], rest[1], options["inputs-json"]))
    elif command == "generate":
        generate(rest[0], int(options.get("rows", 100)), int(options.get("seed", 0)))
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
