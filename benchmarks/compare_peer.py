#!/usr/bin/env python3
"""ulmfit against its PyTorch CPU peers, on the same machine, in the same run.

For one model preset and worker count W, runs `repeats` rounds of

    ulmfit bench step --json                       (data-parallel, W pinned workers)
    pytorch_reference.py --mode threads --threads W
    pytorch_reference.py --mode ddp --procs W      (skipped for W = 1)

alternating inside each round (so a change in machine load hits every mode alike),
measures the FMA peak of W threads before every round with `ulmfit bench peak`, and
reports per mode the median tokens/s of the rounds [min-max], GFLOP/s, the fraction of
the best peak measured in this run, peak RSS, and the ratio ulmfit / best PyTorch mode.

Hosts of one kind differ and the machine may be shared: only ratios measured in the
same run, and fractions of the peak measured in it, mean anything.

Needs: the release binary (swift build -c release --product ulmfit) and a python with
torch, named by $PYTHON (default /root/torchenv/bin/python). Standard library only.

  benchmarks/compare_peer.py --preset small --workers 2 --repeats 3 --out benchmarks/results
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run_json(cmd):
    """Runs cmd, returns the last stdout line parsed as JSON; exits naming the command on failure."""
    started = time.time()
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.exit(f"compare_peer: `{' '.join(cmd)}` failed with status {proc.returncode}:\n{proc.stderr[-2000:]}")
    lines = [l for l in proc.stdout.splitlines() if l.strip().startswith("{")]
    if not lines:
        sys.exit(f"compare_peer: `{' '.join(cmd)}` printed no JSON line; stdout was:\n{proc.stdout[-2000:]}")
    record = json.loads(lines[-1])
    record["_elapsed_s"] = time.time() - started
    return record


def fma_peak(ulmfit, threads, scratch):
    """Total FP32 FMA peak of `threads` concurrent threads, GFLOP/s (ulmfit bench peak)."""
    path = os.path.join(scratch, f"peak-{threads}.json")
    subprocess.run([ulmfit, "bench", "peak", "--threads", str(threads), "--json", path],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    with open(path) as f:
        return json.load(f)["gflopsTotal"]   # BenchPeakCommand.Result, camelCase keys


def load_average():
    try:
        return os.getloadavg()[0]
    except OSError:
        return -1.0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=["paper", "small", "tiny"], default="small")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--ulmfit", default=os.path.join(ROOT, ".build", "release", "ulmfit"))
    p.add_argument("--python", default=os.environ.get("PYTHON", "/root/torchenv/bin/python"))
    p.add_argument("--out", help="directory for compare-<preset>-w<W>.json and .md")
    args = p.parse_args()
    if args.workers < 1 or args.repeats < 1 or args.steps < 1 or args.warmup < 0:
        sys.exit("compare_peer: --workers, --repeats and --steps must be >= 1, --warmup >= 0")
    for path, what in [(args.ulmfit, "ulmfit release binary (swift build -c release --product ulmfit)"),
                       (args.python, "python with torch ($PYTHON)")]:
        if not os.access(path, os.X_OK):
            sys.exit(f"compare_peer: {what} not found at {path}")
    reference = os.path.join(HERE, "pytorch_reference.py")
    if not os.path.exists(reference):
        sys.exit(f"compare_peer: {reference} is missing (it comes with branch peer)")

    W = args.workers
    common = ["--preset", args.preset, "--warmup", str(args.warmup), "--steps", str(args.steps), "--json"]
    modes = {
        "ulmfit": [args.ulmfit, "bench", "step", "--workers", str(W)] + common,
        "pytorch threads": [args.python, reference, "--mode", "threads", "--threads", str(W)] + common,
    }
    if W > 1:
        modes["pytorch ddp"] = [args.python, reference, "--mode", "ddp", "--procs", str(W)] + common

    scratch = args.out or "/tmp"
    os.makedirs(scratch, exist_ok=True)
    runs = {m: [] for m in modes}
    peaks, loads = [], [load_average()]
    for r in range(args.repeats):
        peaks.append(fma_peak(args.ulmfit, W, scratch))
        order = list(modes)
        if r % 2 == 1:
            order.reverse()   # alternate which mode runs first (caches, turbo, neighbours)
        for m in order:
            rec = run_json(modes[m])
            runs[m].append(rec)
            print(f"round {r + 1}/{args.repeats}  {m:16s} {rec['tokens_per_s']:10.0f} tokens/s  "
                  f"(load {load_average():.2f})", file=sys.stderr)
        loads.append(load_average())
    os.remove(os.path.join(scratch, f"peak-{W}.json"))
    peak = max(peaks)

    summary = {}
    for m, recs in runs.items():
        tps = [x["tokens_per_s"] for x in recs]
        med = statistics.median(tps)
        fpt = recs[0]["flops_per_token"]
        rss = [x.get("peak_rss_mb_total", x["peak_rss_mb"]) for x in recs]
        summary[m] = dict(tokens_per_s_median=med, tokens_per_s_min=min(tps), tokens_per_s_max=max(tps),
                          gflops=med * fpt / 1e9, fraction_of_peak=med * fpt / 1e9 / peak,
                          peak_rss_mb=max(rss), runs=recs)
        if m == "ulmfit":
            splits = [x["time_split_pct"] for x in recs]
            keys = ["prepare", "forward", "backward", "all_reduce", "optimizer", "idle", "other"]
            summary[m]["time_split_pct"] = {k: statistics.median(s[k] for s in splits) for k in keys}
    best_torch = max((m for m in summary if m != "ulmfit"), key=lambda m: summary[m]["tokens_per_s_median"])
    ratio = summary["ulmfit"]["tokens_per_s_median"] / summary[best_torch]["tokens_per_s_median"]

    rows = [f"Preset {args.preset}, W = {W}, {args.repeats} alternating rounds of {args.warmup} warm-up + "
            f"{args.steps} timed steps; FMA peak of {W} threads {peak:.1f} GFLOP/s (best of "
            f"{', '.join(f'{x:.1f}' for x in peaks)}); load average {', '.join(f'{x:.2f}' for x in loads)}",
            "",
            "| mode | tokens/s, median [min-max] | GFLOP/s | % of FMA peak | peak RSS MB | ulmfit / mode |",
            "|---|---|---|---|---|---|"]
    for m, s in summary.items():
        rows.append(f"| {m} | {s['tokens_per_s_median']:,.0f} [{s['tokens_per_s_min']:,.0f}-{s['tokens_per_s_max']:,.0f}] "
                    f"| {s['gflops']:.1f} | {100 * s['fraction_of_peak']:.0f}% | {s['peak_rss_mb']:.0f} "
                    f"| {summary['ulmfit']['tokens_per_s_median'] / s['tokens_per_s_median']:.2f} |")
    split = summary["ulmfit"]["time_split_pct"]
    rows += ["", f"ulmfit / best PyTorch mode ({best_torch}): {ratio:.2f}x",
             "ulmfit time split (median of rounds, % of step): "
             + ", ".join(f"{k} {v:.1f}" for k, v in split.items())]
    table = "\n".join(rows)
    print(table)
    if args.out:
        stem = os.path.join(args.out, f"compare-{args.preset}-w{W}")
        with open(stem + ".json", "w") as f:
            json.dump(dict(preset=args.preset, workers=W, repeats=args.repeats, fma_peak_gflops=peak,
                           fma_peaks=peaks, load_average=loads, best_pytorch_mode=best_torch,
                           ulmfit_over_best_pytorch=ratio, modes=summary), f, indent=1, sort_keys=True)
        with open(stem + ".md", "w") as f:
            f.write(table + "\n")
        print(f"wrote {stem}.json and {stem}.md", file=sys.stderr)


if __name__ == "__main__":
    main()
