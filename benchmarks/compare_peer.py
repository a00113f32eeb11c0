#!/usr/bin/env python3
"""ulmfit against its PyTorch CPU peers, on the same machine, in the same run.

For one task, model preset and worker count W, runs `repeats` rounds of

  --task lm (default): the language-model training step, tokens/s
    ulmfit bench step --json                       (data-parallel, W pinned workers)
    pytorch_reference.py --mode threads --threads W
    pytorch_reference.py --mode ddp --procs W      (skipped for W = 1)
  --task classifier: the classifier training step (B = 64 sequences of --length tokens), sequences/s
    ulmfit bench step --task classifier --json
    pytorch_reference.py --task classifier --mode threads --threads W   (and --mode ddp --procs W)
    pytorch_reference.py --task classifier --model fastai --threads W   (fastai's own get_text_classifier)
  --task predict: inference (batches of --batch sequences, no dropout), sequences/s
    ulmfit bench predict --json                    (every worker on its own batches)
    pytorch_reference.py --task predict --threads T  for T = 1 .. W (inference_mode; the best T counts)
    pytorch_reference.py --task predict --mode procs --procs W   (W single-threaded processes)

alternating inside each round (so a change in machine load hits every mode alike),
measures the FMA peak of W threads before every round with `ulmfit bench peak`, and
reports per mode the median of the rounds [min-max], GFLOP/s, the fraction of the best
peak measured in this run, peak RSS, and the ratio ulmfit / faster PyTorch mode.

Hosts of one kind differ and the machine may be shared: only ratios measured in the
same run, and fractions of the peak measured in it, mean anything.

Needs: the release binary (swift build -c release --product ulmfit) and a python with
torch (and fastai for the classifier's second peer), named by $PYTHON (default: python3 on
the PATH). Standard library only.

  benchmarks/compare_peer.py --preset small --workers 2 --repeats 3 --out benchmarks/results
  benchmarks/compare_peer.py --task classifier --preset small --workers 2 --repeats 3 --warmup 1 --steps 3
  benchmarks/compare_peer.py --task predict --preset paper --workers 2 --repeats 3
"""

import argparse
import json
import os
import shutil
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
    p.add_argument("--task", choices=["lm", "classifier", "predict"], default="lm")
    p.add_argument("--preset", choices=["paper", "small", "tiny"], default="small")
    p.add_argument("--length", type=int, default=124, help="classifier tasks: tokens per sequence")
    p.add_argument("--batch", type=int, default=64, help="sequences per batch (predict)")
    p.add_argument("--sequences", type=int, default=1024, help="predict: sequences per timed pass")
    p.add_argument("--no-fastai", action="store_true", help="classifier: leave out fastai's get_text_classifier")
    p.add_argument("--peer-bf16", action="store_true",
                   help="predict: also run the peer under BF16 autocast (reported, not in the FP32 ratio)")
    p.add_argument("--freeze-to", type=int, default=0,
                   help="classifier: measure the stage after fastai's freeze_to(N) (-1 head only, -2 ..., 0 all)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--ulmfit", default=os.path.join(ROOT, ".build", "release", "ulmfit"))
    p.add_argument("--python", default=os.environ.get("PYTHON", "python3"),
                   help="python with torch (default: $PYTHON, else python3 on the PATH)")
    p.add_argument("--out", help="directory for compare-<preset>-w<W>.json and .md")
    args = p.parse_args()
    # A bare name ("python3") is looked up on the PATH, as the shell would.
    args.python = shutil.which(args.python) or args.python
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
    if args.task == "lm":
        metric, unit = "tokens_per_s", "tokens/s"
        modes = {
            "ulmfit": [args.ulmfit, "bench", "step", "--workers", str(W)] + common,
            "pytorch threads": [args.python, reference, "--mode", "threads", "--threads", str(W)] + common,
        }
        if W > 1:
            modes["pytorch ddp"] = [args.python, reference, "--mode", "ddp", "--procs", str(W)] + common
    elif args.task == "classifier":
        metric, unit = "sequences_per_s", "sequences/s"
        task = common + ["--task", "classifier", "--length", str(args.length), "--freeze-to", str(args.freeze_to)]
        modes = {
            "ulmfit": [args.ulmfit, "bench", "step", "--workers", str(W)] + task,
            "pytorch threads": [args.python, reference, "--mode", "threads", "--threads", str(W)] + task,
        }
        if W > 1:
            modes["pytorch ddp"] = [args.python, reference, "--mode", "ddp", "--procs", str(W)] + task
        if not args.no_fastai:
            modes["fastai threads"] = [args.python, reference, "--model", "fastai", "--threads", str(W)] + task
    else:
        metric, unit = "sequences_per_s", "sequences/s"
        # The same work per pass: ulmfit classifies --sequences per pass; the peer's timed
        # steps are batches of --batch sequences (per process in procs mode).
        batches = max(1, args.sequences // args.batch)
        shape = ["--preset", args.preset, "--batch", str(args.batch), "--length", str(args.length)]
        peer = shape + ["--task", "predict", "--vocab", "1026", "--warmup", "1", "--json"]
        modes = {"ulmfit": [args.ulmfit, "bench", "predict", "--workers", str(W), "--sequences", str(args.sequences),
                            "--repeats", str(args.steps), "--no-scan", "--json"] + shape}
        for t in range(1, W + 1):
            modes[f"pytorch threads {t}"] = [args.python, reference, "--mode", "threads", "--threads", str(t),
                                             "--steps", str(batches)] + peer
        if W > 1:
            modes["pytorch procs"] = [args.python, reference, "--mode", "procs", "--procs", str(W),
                                      "--steps", str(max(1, batches // W))] + peer
        if args.peer_bf16:
            # Lower precision: shown beside the FP32 modes, not counted in the FP32 ratio.
            modes["pytorch bf16 procs" if W > 1 else "pytorch bf16 threads 1"] = (
                [args.python, reference, "--mode", "procs", "--procs", str(W), "--steps", str(max(1, batches // W))]
                if W > 1 else [args.python, reference, "--mode", "threads", "--threads", "1", "--steps", str(batches)]
            ) + peer + ["--bf16"]

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
            print(f"round {r + 1}/{args.repeats}  {m:18s} {rec[metric]:10.1f} {unit}  "
                  f"(load {load_average():.2f})", file=sys.stderr)
        loads.append(load_average())
    os.remove(os.path.join(scratch, f"peak-{W}.json"))
    peak = max(peaks)

    summary = {}
    for m, recs in runs.items():
        values = [x[metric] for x in recs]
        med = statistics.median(values)
        # GFLOP/s from the tokens the metric stands for (tokens/s x FLOPs per token).
        gflops = statistics.median(x["tokens_per_s"] for x in recs) * recs[0]["flops_per_token"] / 1e9
        rss = [x.get("peak_rss_mb_total", x["peak_rss_mb"]) for x in recs]
        summary[m] = dict(median=med, min=min(values), max=max(values), metric=metric,
                          gflops=gflops, fraction_of_peak=gflops / peak, peak_rss_mb=max(rss), runs=recs)
        if m == "ulmfit" and "time_split_pct" in recs[0]:
            splits = [x["time_split_pct"] for x in recs]
            keys = ["prepare", "forward", "backward", "all_reduce", "optimizer", "idle", "other"]
            summary[m]["time_split_pct"] = {k: statistics.median(s[k] for s in splits) for k in keys}
    best_torch = max((m for m in summary if m != "ulmfit" and "bf16" not in m), key=lambda m: summary[m]["median"])
    ratio = summary["ulmfit"]["median"] / summary[best_torch]["median"]

    # predict ignores --warmup: ulmfit and the peer run one untimed batch (per worker / process).
    warm = "1 untimed batch" if args.task == "predict" else f"{args.warmup} warm-up"
    what = {"lm": "steps", "classifier": "steps", "predict": "passes"}[args.task]
    stage = f" after freeze_to({args.freeze_to})" if args.freeze_to else ""
    rows = [f"Task {args.task}{stage}, preset {args.preset}, W = {W}, {args.repeats} alternating rounds of {warm} + "
            f"{args.steps} timed {what}; FMA peak of {W} threads {peak:.1f} GFLOP/s (best of "
            f"{', '.join(f'{x:.1f}' for x in peaks)}); load average {', '.join(f'{x:.2f}' for x in loads)}",
            "",
            f"| mode | {unit}, median [min-max] | GFLOP/s | % of FMA peak | peak RSS MB | ulmfit / mode |",
            "|---|---|---|---|---|---|"]
    for m, s in summary.items():
        rows.append(f"| {m} | {s['median']:,.1f} [{s['min']:,.1f}-{s['max']:,.1f}] "
                    f"| {s['gflops']:.1f} | {100 * s['fraction_of_peak']:.0f}% | {s['peak_rss_mb']:.0f} "
                    f"| {summary['ulmfit']['median'] / s['median']:.2f} |")
    rows += ["", f"ulmfit / faster PyTorch FP32 mode ({best_torch}): {ratio:.2f}x"]
    for m in summary:
        if "bf16" in m:
            rows.append(f"{m} (BF16 autocast, lower precision): {summary[m]['median'] / summary[best_torch]['median']:.2f}x "
                        f"the FP32 peer, ulmfit (FP32) / it {summary['ulmfit']['median'] / summary[m]['median']:.2f}x")
    if "time_split_pct" in summary["ulmfit"]:
        rows.append("ulmfit time split (median of rounds, % of step): "
                    + ", ".join(f"{k} {v:.1f}" for k, v in summary["ulmfit"]["time_split_pct"].items()))
    table = "\n".join(rows)
    print(table)
    if args.out:
        prefix = "compare" if args.task == "lm" else f"compare-{args.task}"
        stage = f"-freeze{args.freeze_to}" if args.freeze_to else ""
        stem = os.path.join(args.out, f"{prefix}-{args.preset}{stage}-w{W}")
        with open(stem + ".json", "w") as f:
            json.dump(dict(task=args.task, preset=args.preset, workers=W, repeats=args.repeats, fma_peak_gflops=peak,
                           fma_peaks=peaks, load_average=loads, best_pytorch_mode=best_torch,
                           ulmfit_over_best_pytorch=ratio, modes=summary), f, indent=1, sort_keys=True)
        with open(stem + ".md", "w") as f:
            f.write(table + "\n")
        print(f"wrote {stem}.json and {stem}.md", file=sys.stderr)


if __name__ == "__main__":
    main()
