#!/usr/bin/env python3
"""Differential fuzzer: `txt2h5 load` against np.loadtxt on generated, partly corrupted inputs.

  fuzz.py --binary PATH [--seed N] [--cases N] [--keep-failures DIR] [--verbose]
  fuzz.py --binary PATH --case-seed S [--minimize] [--keep-failures DIR]

Each case writes 1-4 files (plain, gzip, two-member gzip or BGZF) of `chr pos pct c t` rows in
the many spellings numpy accepts, some lines corrupted, runs `txt2h5 load` on them with varied
-j, --piece-bytes, --buffer-rows, --buffers, --chunk-rows and --compression, and judges it:

- every line good: exit 0, nothing printed (--quiet), /data equal to np.loadtxt of the files
  concatenated, bit for bit (pct by its uint32 pattern), /sources right (h5check.py's check);
- otherwise the first bad line in load order (one numpy rejects, or one the user guide,
  docs/guide.md, says txt2h5 rejects: see `documented`) stops the run with exit 3 and an error
  naming that file and 1-based line with a hint, leaving no output or temporary file behind.

numpy reads each file like tests/support/h5check.py: text mode (UTF-8, universal newlines),
through gzip.open when the content is gzip. Anything else is a finding, printed with its case
seed (replay it with --case-seed S, shrink it with --minimize). Exit 1 on any finding.
"""
import argparse, collections, contextlib, gzip, io, os, random, re, shutil, struct, subprocess, sys
import tempfile, warnings, zlib
from dataclasses import dataclass, field, replace
from decimal import Decimal

import h5py, numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from h5check import check_loadtxt, dtype, same_records  # noqa: E402  (the tests' reference client)

WIDTH, I32 = 10, (-2**31, 2**31 - 1)
DTYPE = dtype(WIDTH)

# ---------------------------------------------------------------------------------- inputs

@dataclass
class Input:
    name: str             # file name inside in/; names sort in load order (f00, f01, ...)
    text: bytes           # content before compression
    codec: str = "plain"  # plain, gzip, gzip2 (two members), bgzf, bgzf0 (BGZF with empty blocks)
    block: int = 65280    # BGZF block size, uncompressed bytes
    cut: int = 0          # bytes cut off the end of the compressed file (a truncated file)


@dataclass
class Case:
    seed: int
    inputs: list
    flags: list = field(default_factory=list)
    operands: str = "files"  # files (sorted), reversed (txt2h5 must sort them), dir (in/)


def bgzf(data, block=65280, empty_blocks=False):
    """BGZF as bgzip writes it: gzip members of at most `block` bytes carrying the BC extra
    subfield (member size - 1), then the standard 28-byte empty EOF member (generate.rs)."""
    chunks = [data[i:i + block] for i in range(0, len(data), block)]
    if empty_blocks:  # legal, unusual: empty members between the data members
        chunks = [c for chunk in chunks for c in (chunk, b"")]
    out = bytearray()
    for chunk in chunks + [b""]:
        deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
        body = deflate.compress(chunk) + deflate.flush()
        out += bytes([31, 139, 8, 4, 0, 0, 0, 0, 0, 255, 6, 0, 66, 67, 2, 0])
        out += struct.pack("<H", 18 + len(body) + 8 - 1) + body
        out += struct.pack("<II", zlib.crc32(chunk), len(chunk))
    return bytes(out)


def encode(inp):
    """The bytes stored on disk for an input."""
    t, half = inp.text, len(inp.text) // 2
    raw = {"plain": lambda: t, "gzip": lambda: gzip.compress(t, mtime=0),
           "gzip2": lambda: gzip.compress(t[:half], mtime=0) + gzip.compress(t[half:], mtime=0),
           "bgzf": lambda: bgzf(t, inp.block), "bgzf0": lambda: bgzf(t, inp.block, True)}[inp.codec]()
    return raw[:len(raw) - inp.cut]

# ------------------------------------------------------------------------------ generation

CHROMS = ["chr1", "chr2", "chr10", "chrX", "chrM", "chrUn_KI27", "1", "MT", "scaffold_9", "c"]
TOKEN = [chr(c) for c in range(33, 127) if chr(c) != "#"]
SEPS = [" ", "\t", "  ", " \t", "\t\t", "\v", "\f", " \v\f ", "\x1c", "\x1d", "\x1e", "\x1f", "   \t  "]
SPECIAL_FLOATS = ["3.4028235e38", "3.4028236e38", "3.40282357e38", "-3.4028235E+38", "1e39", "1e400",
                  "-1e400", "1e-45", "7e-46", "7.006e-46", "1e-50", "1.17549435e-38", "1.1754942e-38",
                  "4.9e-324", "1e-400", "0", "-0", "-0.0", "0e0", "5e1", "1E-3", "1.5e+05", "1e0005",
                  "1E+00", ".5", "5.", "+.5", "-5.", "100", "0.1", "57.1428571428571"]
BAD_INT = ["2147483648", "-2147483649", "99999999999999999999", "4294967296", "00002147483648", "12.0",
           "1e3", "nan", "++5", "+-5", "--1", "-+1", "1_000", "0x10", "5O", "", "+", "-", "1 2", "\uff11"]
BAD_PCT = ["5O.0", "1.2.3", "nan(1)", "infinit", "infinityy", "nana", "0x10", "1_0.5", "1,5", "e5", ".",
           "-.e1", "--1.5", "+-2", "1e", "1e+", "1d5", "5 0", "", "+", "0x1p3"]
BAD_CHR = ["chrUn_KI270302v1", "chr12345678", "chr\u00e9", "chr\x01", "\x00chr1", "chr\x7f", "\u4e2d",
           "\ufeffchr1", "ch\u2003r", "chr\x1b[0m"]
NON_ASCII = [b"\xe9", b"\xc3\xa9", b"\xff", b"\xc2\xa0", b"\xe2\x80\x83", b"\xef\xbb\xbf", b"\xc2\x85"]
NON_DATA = [b"# comment", b"#", b"", b"   ", b"\t# indented", b" \x0c ", b"\x1c", b"#chr1 1 2 3 4"]


def spell_int(rng):
    """An int32 as numpy accepts it: optional sign, leading zeros, limits."""
    v = rng.choice([0, 1, 7, rng.randint(0, 99), rng.randint(0, 10**6), rng.randint(*I32), *I32, -1])
    sign = "-" if v < 0 else rng.choice(["", "", "", "+", "-" if v == 0 else ""])
    return sign + "0" * rng.choice([0, 0, 0, 0, 1, 2, 25, 25, 2000]) + str(abs(v))


def float32_edge(rng, f):
    """The float32 `f` spelled exactly, or the tie halfway to the next float32 (which numpy, parsing
    a double and rounding it to float32, breaks to even), maybe nudged just above the tie."""
    if rng.random() < 0.3:
        return repr(float(f))
    mid = (float(f) + float(np.nextafter(f, np.float32(np.inf)))) / 2  # exact in a double
    if rng.random() < 0.5:
        return rng.choice([repr(mid), str(Decimal(mid))])
    return re.sub(r"(?=E|$)", "0000000001", str(Decimal(mid)), count=1)


def spell_float(rng):
    """A float as numpy accepts it, from ordinary percentages to nan, denormals and ties."""
    x = rng.uniform(0, 100)
    return rng.choice([
        lambda: repr(x),
        lambda: f"{x:.{rng.randint(0, 30)}f}",
        lambda: format(x, rng.choice(["e", "E", ".3e", ".0E", ".20e", ".15g", ".1f", ".2f", ".4g"])),
        lambda: rng.choice(["", "", "+", "-"]) + "".join(
            c.upper() if rng.random() < 0.5 else c for c in rng.choice(["nan", "inf", "infinity"])),
        lambda: rng.choice(SPECIAL_FLOATS),
        lambda: rng.choice(["", "+", "-"]) + "0" * rng.randint(1, 5) + f"{x:.3f}",
        lambda: float32_edge(rng, np.uint32(rng.randint(1, 0x7FFFFF)).view(np.float32)),  # subnormal
        lambda: float32_edge(rng, np.float32(x)),
        lambda: f"{rng.randint(0, 100)}." + "".join(rng.choices("0123456789", k=rng.choice([rng.randint(1, 40), 3000]))),
        lambda: str(rng.randint(0, 100)),
    ])()


def data_fields(rng):
    """The five fields of a good row, as text."""
    chrom = rng.choice(CHROMS) if rng.random() < 0.8 else "".join(rng.choices(TOKEN, k=rng.randint(1, WIDTH)))
    return [chrom, spell_int(rng), spell_float(rng), spell_int(rng), spell_int(rng)]


def join_fields(rng, fields):
    """A line (no ending): fields joined by runs of numpy whitespace, maybe indented, maybe with
    trailing whitespace and a comment."""
    out = rng.choice(["", " ", "\t", " \v", "\f ", "\x1f"]) if rng.random() < 0.1 else ""
    for i, f in enumerate(fields):
        out += ((rng.choice(SEPS) if rng.random() < 0.3 else rng.choice(" \t")) if i else "") + f
    if rng.random() < 0.1:
        out += rng.choice([" ", "\t", "  \x0c", "\x1e"])
    if rng.random() < 0.08:
        out += rng.choice([" # note", "#x", "\t# a # b", "#", " #\u00e9t\u00e9"])
    return out.encode()


def corrupt(rng, fields):
    """A line with one defect: a bad field, a missing or extra column, or damaged bytes."""
    r = rng.randrange(10)
    if r < 4:
        i = rng.randrange(5)
        fields[i] = rng.choice(BAD_CHR if i == 0 else BAD_PCT if i == 2 else BAD_INT)
    elif r == 4:
        fields.pop(rng.randrange(5)) if rng.random() < 0.5 else fields.append(spell_int(rng))
    elif r == 5:  # whitespace inside a number
        i = rng.randrange(1, 5)
        p = rng.randrange(1, len(fields[i])) if len(fields[i]) > 1 else 0
        fields[i] = fields[i][:p] + rng.choice(" \t") + fields[i][p:] if p else fields[i]
    line = bytearray(join_fields(rng, fields))
    if r < 6:
        return bytes(line)
    p = rng.randrange(len(line) + 1)
    if r == 6:
        line[p % len(line)] ^= 1 << rng.randrange(8)  # a bit flip
    else:
        line[p:p] = {7: b"\x00", 8: b"\r", 9: rng.choice(NON_ASCII)}[r]
    if rng.random() < 0.1:
        line += rng.choice([b" # caf\xe9", b"#\xff\xfe"])  # not UTF-8, in a comment
    return bytes(line)


def gen_text(rng, rate):
    """One file's text: data lines, comments and blanks; a share `rate` of lines corrupted."""
    n, crlf = rng.choice([0, 1, 2, 5, 20, 60, 200, 500]), rng.choice([0, 0, 0.1, 1])
    only_comments = rng.random() < 0.05
    lines = []
    for _ in range(n):
        r = rng.random()
        line = (rng.choice(NON_DATA) if r < 0.06 or only_comments else
                corrupt(rng, data_fields(rng)) if r < 0.06 + rate else join_fields(rng, data_fields(rng)))
        lines.append(line + (b"\r\n" if rng.random() < crlf else b"\n"))
    text = b"".join(lines)
    return text[:-1] if text and rng.random() < 0.2 else text  # no final \n (CRLF: leaves \r)


def gen_case(seed):
    """The case for `seed`: inputs, flags and operand order, all from random.Random(seed)."""
    rng = random.Random(seed)
    rate, inputs = rng.choice([0, 0, 0, 0.002, 0.01, 0.05]), []
    for i in range(rng.randint(1, 4)):
        codec = rng.choice(["plain", "plain", "plain", "gzip", "gzip2", "bgzf", "bgzf", "bgzf0"])
        ext = rng.choice({"plain": [".txt", ".cov"], "gzip": [".txt.gz", ".txt"]}.get(codec, [".bgz", ".gz"]))
        cut = rng.randint(1, 30) if codec != "plain" and rng.random() < 0.03 else 0
        text, block = gen_text(rng, rate), rng.choice([16, 100, 1000, 4096, 65280])
        block = max(block, len(text) // 2000)  # at most ~2000 members: Python inflates them slowly
        inputs.append(Input(f"f{i:02d}{ext}", text, codec, block, cut))
    flags = ["-j", rng.choice("1224")]
    for flag, share, value in [
            ("--piece-bytes", 0.8, lambda: rng.randint(64, 4096) if rng.random() < 0.9 else rng.randint(1, 63)),
            ("--buffer-rows", 0.7, lambda: rng.randint(3, 50) if rng.random() < 0.9 else rng.randint(1, 2)),
            ("--buffers", 0.2, lambda: rng.randint(1, 4)),
            ("--chunk-rows", 0.4, lambda: rng.randint(1, 100)),
            ("--compression", 0.4, lambda: rng.choice(["none", "gzip:1", "gzip"]))]:
        if rng.random() < share:
            flags += [flag, str(value())]
    return Case(seed, inputs, flags, rng.choice(["files", "files", "reversed", "dir"]))

# ------------------------------------------------------------------------------- reference

def np_load(stream):
    """np.loadtxt with the record dtype; no warning for empty files."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.loadtxt(stream, dtype=DTYPE, ndmin=1)


def documented(line):
    """(kind, why) if the user guide says txt2h5 rejects this line (no \\n) though numpy may read it."""
    if b"\r" in line[:-1]:
        # docs/guide.md, What it reads: a `\r` that does not end the line is refused (numpy's
        # universal newlines read it as a line break; a final `\r` is a CRLF ending cut short).
        return "lone-CR", "a lone CR (docs/guide.md: refused)"
    data = line.split(b"#", 1)[0]
    if any(b >= 0x80 for b in data):
        # docs/guide.md, What it reads: fields are ASCII; numpy, reading UTF-8, may split on
        # Unicode spaces or re-encode a name.
        return "non-ascii", "a non-ASCII byte outside a comment (docs/guide.md: refused)"
    tokens = data.decode("ascii").split()  # for ASCII, str.split() is numpy's whitespace
    chrom = tokens[0].encode() if len(tokens) == 5 else b""
    # docs/guide.md, What it reads: "Where numpy would silently change data, txt2h5 stops with
    # an error instead".
    if len(chrom) > WIDTH:
        return "chr-long", f"chr of {len(chrom)} bytes (docs/guide.md: longer than the field, numpy truncates)"
    if any(b < 0x20 or b > 0x7E for b in chrom):
        return "chr-byte", "chr with non-ASCII or control bytes (docs/guide.md: numpy re-encodes or drops them)"
    return None


def numpy_rejects(line):
    """("numpy", its error) for this line alone, read as a text file is; None if numpy reads it."""
    try:
        np_load(io.TextIOWrapper(io.BytesIO(line), encoding="utf-8", errors="surrogateescape"))
    except ValueError as e:  # UnicodeDecodeError included
        return "numpy", f"{type(e).__name__}: {e}"
    return None


@dataclass
class Expect:
    rows: object = None   # the records numpy reads, when every input is good
    bad: int = None       # else the index of the first bad input in load order,
    line: int = None      # its first bad line, 1-based (None for a damaged gzip stream),
    kind: str = "accept"  # why txt2h5 must stop there: numpy, lone-CR, non-ascii, chr-long, chr-byte, gzip
    why: str = ""
    text: bytes = b""     # and that line


def unpack(raw):
    """The text of a file as stored: gunzipped if it is gzip (Python reads every member)."""
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


def expect(paths):
    """What txt2h5 must do with these files, in load order, according to numpy and the user guide."""
    parts = []
    for i, path in enumerate(paths):
        with open(path, "rb") as f:
            raw = f.read()
        try:
            lines = unpack(raw).split(b"\n")
        except (OSError, EOFError, zlib.error) as e:
            return Expect(bad=i, kind="gzip", why=f"{type(e).__name__}: {e}")
        try:
            # surrogateescape: bytes that are not UTF-8 survive to numpy, so a comment holding
            # them is skipped as txt2h5 skips it (docs/guide.md, What it reads: comments are not
            # decoded), and data holding them fails as in txt2h5.
            opener = gzip.open if raw[:2] == b"\x1f\x8b" else open
            with opener(path, "rt", encoding="utf-8", errors="surrogateescape") as f:
                part, failure = np_load(f), None
        except ValueError as e:
            part, failure = None, e
        for n, line in enumerate(lines[:-1] if lines[-1] == b"" else lines, 1):
            verdict = documented(line) or (numpy_rejects(line) if failure else None)
            if verdict:
                return Expect(bad=i, line=n, kind=verdict[0], why=verdict[1], text=line)
        if failure:
            return Expect(bad=i, kind="reference", why=f"every line passes alone, the file fails: {failure}")
        parts.append(part)
    return Expect(rows=np.concatenate(parts) if parts else np.empty(0, DTYPE))

# --------------------------------------------------------------------------------- running

Result = collections.namedtuple("Result", "expect rc stderr findings")  # findings: (kind, detail)


def run_case(binary, case, keep=None, timeout=120):
    """Write the inputs to a fresh directory, run txt2h5 there and judge the outcome."""
    with tempfile.TemporaryDirectory(prefix="txt2h5-fuzz-") as tmp:
        os.mkdir(os.path.join(tmp, "in"))
        paths = [f"in/{inp.name}" for inp in case.inputs]
        for inp, path in zip(case.inputs, paths):
            with open(os.path.join(tmp, path), "wb") as f:
                f.write(encode(inp))
        exp = expect([os.path.join(tmp, p) for p in paths])
        operands = {"files": paths, "reversed": paths[::-1], "dir": ["in"]}[case.operands]
        cmd = [binary, "load", *operands, "-o", "out.h5", "--quiet", *case.flags]
        try:
            proc = subprocess.run(cmd, cwd=tmp, capture_output=True, timeout=timeout)
            rc, err = proc.returncode, proc.stderr
            findings = judge(tmp, paths, exp, rc, err)
        except subprocess.TimeoutExpired:
            rc, err, findings = None, b"", [("timeout", f"no exit after {timeout} s")]
        if findings and keep:
            dest = os.path.join(keep, f"case-{case.seed}")
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(os.path.join(tmp, "in"), os.path.join(dest, "in"))
            with open(os.path.join(dest, "command.txt"), "w") as f:
                f.write(f"cd {dest} && {' '.join(cmd)}\nexit {rc}\n{err.decode(errors='replace')}\n{findings}\n")
        return Result(exp, rc, err, findings)


def blamed(tmp, paths, err):
    """The (input index, line or 0) that txt2h5's error names (`PATH:LINE: ` or `PATH: `), and
    a description with that line's text."""
    m = re.search(rb"error: (.+?):(?:(\d+):)? ", err)
    path, n = (m.group(1).decode(errors="replace"), int(m.group(2) or 0)) if m else (None, 0)
    if path not in paths:
        return None, "no input named in the error"
    try:
        with open(os.path.join(tmp, path), "rb") as f:
            lines = unpack(f.read()).split(b"\n") if n else []
    except (OSError, EOFError, zlib.error):  # a damaged gzip file
        lines = []
    text = f":{n}: {lines[n - 1][:200] if n <= len(lines) else b''!r}" if n else " (no line)"
    return (paths.index(path), n), f"txt2h5 blamed {path}{text}"


def judge(tmp, paths, exp, rc, err):
    """Findings for one run, as (kind, detail) pairs; empty when txt2h5 did what it must."""
    partial = [n for n in os.listdir(tmp) if n.endswith(".txt2h5-partial")]
    found = [("partial-file-left", str(partial))] if partial else []
    if rc == 101 or b"panicked" in err:
        return found + [("panic", "")]
    if exp.kind == "reference":
        return found + [("reference", exp.why)]
    where, said = blamed(tmp, paths, err)
    if exp.rows is not None and rc != 0:
        kind = "rejected-good-line" if rc == 3 and where else f"rejected-good-input-exit-{rc}"
        return found + [(kind, f"{said}; numpy reads every file unchanged")]
    if exp.rows is not None:
        found += [("stderr-with-quiet", "")] if err.strip() else []
        with h5py.File(os.path.join(tmp, "out.h5"), "r") as f:
            found += [("data-mismatch", p) for p in same_records(f["data"][:], exp.rows)]
        with contextlib.chdir(tmp):  # the tests' own check: /data again, and /sources row by row
            return found + [("h5check", p) for p in check_loadtxt("out.h5", WIDTH, paths)[0]]
    if rc != 3:
        return found + [(f"accepted-{exp.kind}" if rc == 0 else f"exit-{rc}-not-3", exp.why)]
    found += [("output-left-after-error", "")] if os.path.exists(os.path.join(tmp, "out.h5")) else []
    want = f"expected {paths[exp.bad]}:{exp.line or '(its gzip stream)'}"
    if where is None or exp.line is None and where[0] == exp.bad:  # a damaged stream may be a line
        if exp.line is not None or paths[exp.bad].encode() not in err:
            found.append(("no-path-line" if exp.line else "wrong-file", want))
    elif where < (exp.bad, exp.line or 0):  # stopped before the first bad line
        found.append(("rejected-good-line", f"{said}, which numpy reads unchanged; {want}"))
    elif where > (exp.bad, exp.line or 0):  # read through the first bad line
        found.append((f"missed-{exp.kind}", f"{said}; {want}"))
    return found + ([] if b"hint:" in err or where != (exp.bad, exp.line) else [("no-hint", "")])

# ---------------------------------------------------------------------- reports, shrinking

def describe(case, res):
    """A finding's report: seed, flags, inputs, what numpy and txt2h5 did."""
    exp = res.expect
    lines = [f"FINDING case-seed={case.seed}: " + ", ".join(k for k, _ in res.findings),
             f"  flags: {' '.join(case.flags)}  operands: {case.operands}",
             "  inputs: " + ", ".join(f"{i.name} ({i.codec}{f' cut {i.cut}' if i.cut else ''}, "
                                      f"{len(i.text)} text bytes)" for i in case.inputs)]
    if exp.rows is not None:
        lines.append(f"  numpy: reads {len(exp.rows)} rows")
    else:
        where = f"line {exp.line}" if exp.line else "stream"
        lines.append(f"  expected reject: {case.inputs[exp.bad].name} {where}: {exp.kind}: {exp.why}")
        lines += [f"  line: {exp.text[:200]!r}"] if exp.line else []
    lines.append(f"  txt2h5: exit {res.rc}: {res.stderr.decode(errors='replace').strip()[:600]}")
    return "\n".join(lines + [f"  {kind}: {detail[:800]}" for kind, detail in res.findings if detail])


def minimize(binary, case, kind):
    """Shrink a case while it still shows finding `kind`: fewer inputs, plain text, fewer flags,
    fewer lines, fewer bytes. Greedy; returns the smallest case found."""
    def still(c):
        return bool(c.inputs) and any(k == kind for k, _ in run_case(binary, c).findings)

    def shrink(items, make):  # drop chunks of items, halving the chunk size (ddmin-like)
        size = max(len(items) // 2, 1)
        while size >= 1:
            i = 0
            while i < len(items):
                trial = items[:i] + items[i + size:]
                if still(make(trial)):
                    items = trial
                else:
                    i += size
            size //= 2
        return items

    def with_input(k, **change):
        return replace(case, inputs=case.inputs[:k] + [replace(case.inputs[k], **change)] + case.inputs[k + 1:])

    case.inputs = shrink(case.inputs, lambda ins: replace(case, inputs=ins)) if len(case.inputs) > 1 else case.inputs
    pairs = shrink([case.flags[i:i + 2] for i in range(0, len(case.flags), 2)],
                   lambda ps: replace(case, flags=[x for p in ps for x in p]))
    case.flags = [x for p in pairs for x in p]
    for k in range(len(case.inputs)):
        if case.inputs[k].codec != "plain" and not case.inputs[k].cut and still(with_input(k, codec="plain")):
            case = with_input(k, codec="plain")
        lines = shrink(re.split(b"(?<=\n)", case.inputs[k].text), lambda ls: with_input(k, text=b"".join(ls)))
        case = with_input(k, text=b"".join(lines))
        if len(case.inputs[k].text) <= 4000:
            case = with_input(k, text=bytes(shrink(list(case.inputs[k].text), lambda bs: with_input(k, text=bytes(bs)))))
    return case


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", required=True, help="the txt2h5 executable")
    ap.add_argument("--seed", type=int, default=0, help="master seed (default 0)")
    ap.add_argument("--cases", type=int, default=500, help="number of cases (default 500)")
    ap.add_argument("--case-seed", type=int, help="run only the case with this seed (from a report)")
    ap.add_argument("--minimize", action="store_true", help="shrink each failing case and print it")
    ap.add_argument("--keep-failures", metavar="DIR", help="copy failing inputs and command to DIR/case-SEED/")
    ap.add_argument("--verbose", action="store_true", help="one line per case")
    args = ap.parse_args()
    binary, master = os.path.abspath(args.binary), random.Random(args.seed)
    seeds = [args.case_seed] if args.case_seed is not None else [master.getrandbits(48) for _ in range(args.cases)]
    failed, outcomes = 0, collections.Counter()
    for number, seed in enumerate(seeds):
        case = gen_case(seed)
        res = run_case(binary, case, args.keep_failures)
        outcomes[res.expect.kind] += 1
        if args.verbose:
            print(f"case {number} seed {seed}: {res.expect.kind}, exit {res.rc}, {len(res.findings)} findings", flush=True)
        if res.findings:
            failed += 1
            print(describe(case, res), flush=True)
            if args.minimize:
                small = minimize(binary, case, res.findings[0][0])
                print(f"  minimized ({res.findings[0][0]}): flags {small.flags}, operands {small.operands}")
                for inp in small.inputs:
                    print(f"    {inp.name} {inp.codec}: {inp.text!r}")
    print("fuzz: expected outcomes: " + ", ".join(f"{k} {v}" for k, v in outcomes.most_common()))
    seed = args.seed if args.case_seed is None else args.case_seed
    print(f"fuzz: {len(seeds)} cases, seed {seed}: {len(seeds) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
