#!/usr/bin/env python3
"""Runs the PyTorch peer the way benchmarks/PEER.md reports it: FMA peak first
(benchmarks/peer/fma_peak.c, built here with gcc), then every configuration
`--repeats` times, interleaved (run 1 of every configuration, then run 2, ...)
so that a neighbour's load spreads over all of them, then a Markdown table of
the median [min-max] over repeats of each run's tokens/s, as a fraction of
the FMA peak for the cores it used.

Needs torch only in the interpreter given by --python (default: this one);
it imports nothing from torch itself.

  python3 benchmarks/peer/run_peer.py --python /root/torchenv/bin/python \
      --presets tiny small --configs threads:1 threads:2 ddp:2 --repeats 3
  ... --presets paper --configs threads:2 --steps 3 --repeats 1
Every raw JSON line is also appended to --log (default: runs/peer.jsonl).
"""

import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "..", "pytorch_reference.py")


def fma_peak(workers):
    """GFLOP/s of `workers` pinned threads (sum), from fma_peak.c."""
    build = os.path.join(tempfile.gettempdir(), "ulmfit_fma_peak")
    subprocess.run(["gcc", "-O2", "-mavx2", "-mfma", "-pthread", "-o", build,
                    os.path.join(HERE, "fma_peak.c")], check=True)
    out = subprocess.run([build, str(workers)], check=True, capture_output=True, text=True).stdout
    match = re.search(r"total: ([0-9.]+) GFLOP/s", out)
    if not match:
        sys.exit(f"fma_peak printed no total:\n{out}")
    return float(match.group(1))


def run_one(python, preset, config, args):
    mode, n = config.split(":")
    cmd = [python, REFERENCE, "--preset", preset, "--mode", mode,
           "--warmup", str(args.warmup), "--steps", str(args.steps), "--json"]
    cmd += ["--threads", n] if mode == "threads" else ["--procs", n]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    record = json.loads(done.stdout.strip().splitlines()[-1])
    record["preset"], record["command"] = preset, " ".join(cmd[1:])
    record["date"] = datetime.datetime.now().isoformat(timespec="seconds")
    return record


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--python", default=sys.executable)
    p.add_argument("--presets", nargs="+", default=["tiny", "small"])
    p.add_argument("--configs", nargs="+", default=["threads:1", "threads:2", "ddp:2"])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--log", default="runs/peer.jsonl")
    args = p.parse_args()

    workers = sorted({int(c.split(":")[1]) for c in args.configs})
    before = {w: fma_peak(w) for w in workers}
    print("FMA peak before, GFLOP/s: " + ", ".join(f"{w} core(s) {g:.1f}" for w, g in before.items()))

    os.makedirs(os.path.dirname(args.log) or ".", exist_ok=True)
    results = {}
    for r in range(args.repeats):
        for preset in args.presets:
            for config in args.configs:
                record = run_one(args.python, preset, config, args)
                record["fma_peak_gflops_before"] = before[record["workers"]]
                with open(args.log, "a") as log:
                    log.write(json.dumps(record) + "\n")
                results.setdefault((preset, config), []).append(record)
                print(f"run {r + 1}: {preset:5s} {config:10s} {record['tokens_per_s']:10,.0f} tokens/s",
                      flush=True)

    after = {w: fma_peak(w) for w in workers}
    print("FMA peak after, GFLOP/s: " + ", ".join(f"{w} core(s) {g:.1f}" for w, g in after.items()))
    # The larger of the two: a busy machine only lowers a measurement of the peak.
    peak = {w: max(before[w], after[w]) for w in workers}

    print("\n| preset | config | tokens/s median [min-max] | GFLOP/s | % of FMA peak | peak RSS MB (all procs) | LSTM backend |")
    print("|---|---|---|---|---|---|---|")
    for (preset, config), records in results.items():
        tps = [x["tokens_per_s"] for x in records]
        med = statistics.median(tps)
        gflops = med * records[0]["flops_per_token"] / 1e9
        pct = 100 * gflops / peak[records[0]["workers"]]
        rss = max(x["peak_rss_mb_total"] for x in records)
        backend = "oneDNN" if "oneDNN" in records[0]["lstm_backend"] else records[0]["lstm_backend"]
        print(f"| {preset} | {config} | {med:,.0f} [{min(tps):,.0f}-{max(tps):,.0f}] | {gflops:.1f} "
              f"| {pct:.0f}% | {rss:,.0f} | {backend} |")


if __name__ == "__main__":
    main()
