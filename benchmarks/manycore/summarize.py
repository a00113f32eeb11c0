#!/usr/bin/env python3
"""Summary of a run.sh folder: parallel efficiency at N workers (compact and scatter), and
ulmfit against the faster PyTorch mode at N cores for the LM step, the classifier step and
inference, as Markdown on stdout. Standard library only.

  summarize.py DIR --workers N
"""
import argparse
import glob
import json
import os
import re
import sys

# schedule_ratio.py: beside this file in the bundle, one folder up in a checkout.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]
from schedule_ratio import EPOCHS, STAGES, schedule_seconds  # noqa: E402


def get(record, *keys):
    """The first of `keys` present (the Swift reports use camelCase or snake_case)."""
    for k in keys:
        if k in record:
            return record[k]
    raise KeyError(keys[0])


def load(path):
    try:
        with open(path) as f:
            text = f.read().strip()
        if path.endswith(".json") and "\n{" in text:
            text = text[text.rindex("\n{") + 1:]   # the last JSON line of a command's output
        return json.loads(text)
    except (OSError, ValueError):
        return None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dir")
    p.add_argument("--workers", type=int, required=True)
    args = p.parse_args()
    d, N = args.dir, args.workers
    out = [f"# Many-core run: {os.path.basename(os.path.abspath(d))}, N = {N} workers", ""]
    peak = load(os.path.join(d, f"peak-{N}.json"))
    peak1 = load(os.path.join(d, "peak-1.json"))
    if peak and peak1:
        out += [f"FMA peak: 1 core {get(peak1, 'gflopsTotal', 'gflops_total'):.1f} GFLOP/s, "
                f"{N} threads {get(peak, 'gflopsTotal', 'gflops_total'):.1f} GFLOP/s", ""]

    out += ["## Parallel efficiency of the LM step (`bench scaling`; target >= 85% at 16 workers)", "",
            "| preset | placement | workers | tokens/s | speedup | efficiency | vs peak | % of FMA peak | idle % |",
            "|---|---|---|---|---|---|---|---|---|"]
    for path in sorted(glob.glob(os.path.join(d, "scaling-*-*", "scaling.json"))):
        report = load(path)
        if not report:
            continue
        preset, policy = re.match(r"scaling-(\w+)-(\w+)", os.path.basename(os.path.dirname(path))).groups()
        for row in report["rows"]:
            rec = row["record"]
            split = get(rec, "timeSplitPct", "time_split_pct")
            out.append(f"| {preset} | {policy} | {row['workers']} | {get(row, 'tokensPerS', 'tokens_per_s'):,.0f} "
                       f"| {row['speedup']:.2f} | {100 * row['efficiency']:.1f}% "
                       f"| {100 * get(row, 'peakNormalizedEfficiency', 'peak_normalized_efficiency'):.1f}% "
                       f"| {100 * get(rec, 'fractionOfPeak', 'fraction_of_peak'):.1f}% | {split['idle']:.1f} |")
    out.append("")

    out += [f"## ulmfit against PyTorch at {N} cores (target >= 1.5x the faster mode)", "",
            "| task | preset | ulmfit | PyTorch threads | PyTorch DDP / procs | ulmfit / faster PyTorch |",
            "|---|---|---|---|---|---|"]
    for task, unit, key in [("lm", "tokens/s", "tokens_per_s"), ("classifier", "sequences/s", "sequences_per_s"),
                            ("predict", "sequences/s", "sequences_per_s")]:
        for preset in sorted({m.group(1) for f in os.listdir(d) for m in [re.match(rf"{task}-(\w+)-", f)] if m}
                             | {m.group(1) for f in os.listdir(d) for m in [re.match(r"scaling-(\w+)-compact", f)] if m}):
            if task == "lm":
                report = load(os.path.join(d, f"scaling-{preset}-compact", "scaling.json"))
                row = next((r for r in (report or {}).get("rows", []) if r["workers"] == N), None)
                ours = get(row, "tokensPerS", "tokens_per_s") if row else None
                threads = load(os.path.join(d, f"lm-{preset}-torch-threads.json"))
                ddp = load(os.path.join(d, f"lm-{preset}-torch-ddp.json"))
            else:
                rec = load(os.path.join(d, f"{task}-{preset}-ulmfit.json"))
                ours = rec.get(key) if rec else None
                threads = load(os.path.join(d, f"{task}-{preset}-torch-threads.json"))
                ddp = load(os.path.join(d, f"{task}-{preset}-torch-{'procs' if task == 'predict' else 'ddp'}.json"))
            peers = [x[key] for x in (threads, ddp) if x and key in x]
            cell = lambda v: f"{v:,.1f} {unit}" if v is not None else "not run"
            ratio = f"**{ours / max(peers):.2f}x**" if ours and peers else "-"
            out.append(f"| {task} | {preset} | {cell(ours)} | {cell(threads.get(key) if threads else None)} "
                       f"| {cell(ddp.get(key) if ddp else None)} | {ratio} |")
    out += stage_rows(d, N)
    print("\n".join(out))


def stage_rows(d, N):
    """run.sh --stages: the classifier step in each stage of gradual unfreezing, and the whole
    schedule (schedule_ratio.py's stages, epochs and weighing), against the faster peer mode of
    each stage."""
    presets = sorted({m.group(1) for f in os.listdir(d) for m in [re.match(r"classifier-(\w+)-freeze-1-ulmfit", f)] if m})
    if not presets:
        return []
    key = "sequences_per_s"
    rows = ["", f"## Gradual unfreezing at {N} cores (classifier step per stage; run.sh --stages)", "",
            "| preset | stage | ulmfit | faster PyTorch mode | ulmfit / it |", "|---|---|---|---|---|"]
    for preset in presets:
        ours, theirs = [], []
        for (stage, suffix), epochs in zip(STAGES, EPOCHS):
            rec = load(os.path.join(d, f"classifier-{preset}{suffix}-ulmfit.json"))
            mine = rec.get(key) if rec else None
            peers = [x[key] for x in (load(os.path.join(d, f"classifier-{preset}{suffix}-torch-{mode}.json"))
                                      for mode in ("threads", "ddp")) if x and key in x]
            if mine and peers:
                ours.append(mine)
                theirs.append(max(peers))
                rows.append(f"| {preset} | {stage} | {mine:,.1f} | {max(peers):,.1f} | **{mine / max(peers):.2f}x** |")
            else:
                rows.append(f"| {preset} | {stage} | {mine or 'not run'} | {max(peers) if peers else 'not run'} | - |")
        if len(ours) == len(STAGES):
            rows.append(f"| {preset} | **whole schedule** ({'+'.join(map(str, EPOCHS))} epochs) | | | "
                        f"**{schedule_seconds(theirs) / schedule_seconds(ours):.2f}x** |")
    return rows


if __name__ == "__main__":
    main()
