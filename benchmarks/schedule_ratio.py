#!/usr/bin/env python3
"""The whole gradual-unfreezing schedule, ulmfit against its peers, from compare_peer's files.

ULMFiT's classifier trains in stages: the head (freeze_to(-1)), then freeze_to(-2), freeze_to(-3),
then every group. Each stage's step rate differs (a frozen layer costs only its forward), so a
ratio measured with every group trainable is not the ratio a user sees over a whole run. This
reads one `compare_peer.py --task classifier` file per stage,

  DIR/compare-classifier-PRESET-freeze-1-wW.json   (--freeze-to -1)
  DIR/compare-classifier-PRESET-freeze-2-wW.json   (--freeze-to -2)
  DIR/compare-classifier-PRESET-freeze-3-wW.json   (--freeze-to -3)
  DIR/compare-classifier-PRESET-wW.json            (every group)

and weighs each stage's time per sequence (1 / median sequences/s) by its epochs (--epochs,
default ULMFiT's 1,1,1,2 = configs/pipeline.yaml's). "best PyTorch per stage" lets the peer
pick its fastest mode in every stage. Writes DIR/schedule-PRESET-wW.{md,json}.

  python3 benchmarks/schedule_ratio.py benchmarks/results/2026-11-30-freeze --preset small --workers 2
"""

import argparse
import json
import os
import sys

# (name, suffix of compare_peer's and manycore/run.sh's file names) per stage, and the epochs
# of each in configs/pipeline.yaml. manycore/summarize.py uses the same three.
STAGES = [("freeze_to(-1)", "-freeze-1"), ("freeze_to(-2)", "-freeze-2"), ("freeze_to(-3)", "-freeze-3"),
          ("all groups", "")]
EPOCHS = [1, 1, 1, 2]


def schedule_seconds(rates, epochs=EPOCHS):
    """Seconds per sequence of the data through the whole schedule: each stage's time per
    sequence (1 / sequences/s) weighed by its epochs."""
    return sum(e / r for e, r in zip(epochs, rates))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dir")
    p.add_argument("--preset", default="small")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--epochs", default=",".join(map(str, EPOCHS)), help="epochs of the four stages")
    args = p.parse_args()
    epochs = [float(x) for x in args.epochs.split(",")]
    if len(epochs) != len(STAGES) or any(e < 0 for e in epochs):
        sys.exit(f"schedule_ratio: --epochs needs {len(STAGES)} non-negative numbers, got {args.epochs}")

    stages = []
    for (name, suffix), e in zip(STAGES, epochs):
        path = os.path.join(args.dir, f"compare-classifier-{args.preset}{suffix}-w{args.workers}.json")
        try:
            with open(path) as f:
                modes = json.load(f)["modes"]
        except (OSError, ValueError, KeyError) as error:
            sys.exit(f"schedule_ratio: {path}: {error}")
        stages.append((name, e, {m: s["median"] for m, s in modes.items()}))

    names = [m for m in stages[0][2] if all(m in s[2] for s in stages)]
    seconds = {m: schedule_seconds([rates[m] for _, _, rates in stages], epochs) for m in names}
    peers = [m for m in names if m != "ulmfit"]
    seconds["best PyTorch per stage"] = schedule_seconds([max(rates[m] for m in peers) for _, _, rates in stages], epochs)

    rows = [f"Gradual unfreezing, preset {args.preset}, W = {args.workers}, epochs per stage "
            f"{', '.join(f'{n} {e:g}' for n, e, _ in stages)} (compare_peer medians, sequences/s)", "",
            "| mode | " + " | ".join(n for n, _, _ in stages) + " | schedule s per 1,000 sequences | ulmfit / mode |",
            "|---|" + "---|" * (len(stages) + 2)]
    for m in list(names) + ["best PyTorch per stage"]:
        cells = [f"{rates[m]:,.1f}" if m in rates else f"{max(rates[p] for p in peers):,.1f}" for _, _, rates in stages]
        rows.append(f"| {m} | " + " | ".join(cells)
                    + f" | {1000 * seconds[m]:,.1f} | {seconds[m] / seconds['ulmfit']:.2f}x |")
    table = "\n".join(rows)
    print(table)
    stem = os.path.join(args.dir, f"schedule-{args.preset}-w{args.workers}")
    with open(stem + ".md", "w") as f:
        f.write(table + "\n")
    with open(stem + ".json", "w") as f:
        json.dump(dict(preset=args.preset, workers=args.workers, epochs=epochs,
                       stages={n: rates for n, _, rates in stages},
                       schedule_seconds_per_sequence=seconds,
                       ulmfit_over={m: seconds[m] / seconds["ulmfit"] for m in seconds}), f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
