"""The benchmark's preset inputs: the generated native files rewritten, row for row, in the
formats of Bismark coverage files and modkit bedMethyl files.

Same rows, so a load of each does the same work downstream of the parser; the files differ
in size (bedMethyl lines are about twice as long), so the benchmark compares time per MiB
of text (the issue's measure) as well as per row.
"""
from pathlib import Path


def bismark_cov(line):
    chr_, pos, pct, c, t = line.split()
    return f"{chr_}\t{pos}\t{pos}\t{pct}\t{c}\t{t}\n"


def bedmethyl(line):
    chr_, pos, pct, c, t = line.split()
    start, end = int(pos) - 1, pos
    cov = int(c) + int(t)
    percent = f"{100 * int(c) / cov:.2f}" if cov else "NaN"
    return (f"{chr_}\t{start}\t{end}\tm\t{cov}\t+\t{start}\t{end}\t255,0,0\t{cov}\t{percent}"
            f"\t{c}\t{t}\t0\t0\t0\t0\t0\n")


CONVERTERS = {"bismark-cov": (bismark_cov, ".bismark.cov"), "bedmethyl": (bedmethyl, ".bed")}


def ensure(data, texts, preset):
    """The native `texts` rewritten as `preset` files under data/<preset>/, made once."""
    convert, suffix = CONVERTERS[preset]
    folder = Path(data) / f"{Path(texts[0]).parent.name}-{preset}"
    folder.mkdir(parents=True, exist_ok=True)
    outputs = []
    for text in texts:
        target = folder / (Path(text).stem + suffix)
        if not target.exists():
            partial = target.with_suffix(".partial")
            with open(text) as src, open(partial, "w") as out:
                out.writelines(convert(line) for line in src if line.strip())
            partial.rename(target)
        outputs.append(str(target))
    return outputs
