#!/usr/bin/env python3
"""The I/O floor and the spill rule, for bench/run.py (cases `floor` and `spill`).

`floor`: `cat` of the inputs, and `dd` of as many bytes as the uncompressed output into the
output's directory, in the same run as the uncompressed load, so that its ratio to the floor
can be quoted. `spill`: loads with the default rule (spill only while the writer is starved)
and the old one (`--spill always`), on plain, gzip and mixed inputs, with the bytes spilled.
"""
import json
import subprocess


def plan_floor(add, tool_bin, texts, out, rows):
    case = "floor: text -> uncompressed"
    add(case, "cat the inputs", ["sh", "-c", 'cat "$@" > /dev/null', "sh"] + texts, None, None)
    # Every row's 26 bytes: the uncompressed output's size.
    size_mib = len(texts) * rows * 26 // 2**20
    add(case, "dd the output's size", ["dd", "if=/dev/zero", f"of={out / 'floor-dd.bin'}", "bs=1M",
                                        f"count={size_mib}", "status=none"], out / "floor-dd.bin", None)
    add(case, "txt2h5 --compression none", [tool_bin, "load", "--force", "--quiet", "-o", str(out / "floor-t.h5"),
                                            "--compression", "none"] + texts, out / "floor-t.h5", None)


SPILL_CASES = []


def plan_spill(add, tool_bin, texts, gzs, out):
    inputs = {"text": texts, "gz": gzs, "mixed": gzs[: len(gzs) // 2] + texts[len(texts) // 2:]}
    for name, files in inputs.items():
        for compression in ("none", "gzip:1"):
            case = f"spill: {name} -> {compression}"
            for rule in ("always", "auto"):
                output = out / f"spill-{name}-{compression.replace(':', '')}-{rule}.h5"
                command = [tool_bin, "load", "--force", "--quiet", "-o", str(output), "--compression",
                           compression, "--spill", rule] + files
                add(case, f"--spill {rule}", command, output, None)
                SPILL_CASES.append((case, rule, command))


def report_floor(best):
    wall = {name: times[0] for (case, name), times in best.items() if case.startswith("floor")}
    if not wall:
        return
    floor = wall["cat the inputs"] + wall["dd the output's size"]
    print(f"\n| floor (cat + dd) | txt2h5 --compression none | ratio |\n| ---: | ---: | ---: |\n"
          f"| {floor:.2f} s | {wall['txt2h5 --compression none']:.2f} s | "
          f"{wall['txt2h5 --compression none'] / floor:.2f} |")


def report_spill(best):
    if not SPILL_CASES:
        return
    print("\n| inputs -> output | rule | wall s (best) | MB spilled |\n| --- | --- | ---: | ---: |")
    for case, rule, command in SPILL_CASES:
        # One more run with --json for the bytes spilled (not timed).
        summary = json.loads(subprocess.run(command + ["--json"], check=True, capture_output=True,
                                            text=True).stdout)
        print(f"| {case[len('spill: '):]} | {rule} | {best[(case, f'--spill {rule}')][0]:.2f} | "
              f"{summary['spilled_bytes'] / 1e6:.0f} |")
