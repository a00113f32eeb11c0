#!/usr/bin/env python3
"""The README's reproduction table from the committed results (benchmarks/results/reproduction).

Each variant folder holds one sub-folder per seed with the run's test.json (written by
`ulmfit train-classifier` at the end of training, the only time the run reads the test split).
Prints, per variant, mean and sample standard deviation over the seeds of every metric the
reference reports (accuracy, false positives and false negatives as fractions of all test
examples, recall, precision, specificity, MCC) and the ROC AUC, plus the reference's rows.

    python3 benchmarks/reproduction/table.py [RESULTS_FOLDER]
"""
import json
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "results", "reproduction")

# (folder, label): the rows in table order.
VARIANTS = [
    ("human-scratch", "human, from scratch"),
    ("human-pretrained", "human, pretrained LM"),
    ("human-finetuned", "human, pretrained + fine-tuned LM"),
    ("ecoli-scratch", "E. coli, from scratch"),
    ("ecoli-finetuned", "E. coli, E. coli-genome LM + fine-tuned"),
    ("ecoli-finetuned-lm5e-3", "E. coli, the same with the LM at lr 5e-3 (3.32 nats)"),
    # benchmarks/results/transfer (issue 21): the 128/512 model, its LM trained 3 epochs.
    ("ecoli-scratch-small", "E. coli, from scratch (128/512)"),
    ("ecoli-pretrained-small", "E. coli, E. coli-genome LM (128/512)"),
    ("ecoli-finetuned-small", "E. coli, E. coli-genome LM + fine-tuned (128/512)"),
]
# Orderings whose gaps the table reports (mean difference and 2 standard errors of it).
GAPS = [("scratch", "pretrained"), ("pretrained", "finetuned"), ("scratch", "finetuned")]
METRICS = [("accuracy", "accuracy"), ("false_positives", "FP"), ("false_negatives", "FN"), ("recall", "recall"),
           ("precision", "precision"), ("specificity", "specificity"), ("mcc", "MCC"), ("auc", "AUC")]
# The reference's rows as issue 14 quotes them (Genomic ULMFiT, human non-TATA, full set, test 7,025)
# and the E. coli rows of kheyer/Genomic-ULMFiT Bacteria/E. Coli (another E. coli data set).
REFERENCE = [
    ("reference: from scratch", {"accuracy": 0.870, "mcc": 0.736}),
    ("reference: pretrained", {"accuracy": 0.917, "mcc": 0.831}),
    ("reference: pretrained + fine-tuned", {"accuracy": 0.974, "mcc": 0.946}),
    ("reference: E. coli genome pretraining", {"accuracy": 0.919, "precision": 0.941, "recall": 0.893, "mcc": 0.839}),
    # Genomic ULMFiT's multi-genome bacterial LM on this very set (CNNProm E. coli, issue 21).
    ("reference: E. coli, multi-genome LM (this set)", {"accuracy": 0.956, "specificity": 0.977, "mcc": 0.871}),
]


def runs(folder):
    path = os.path.join(RESULTS, folder)
    if not os.path.isdir(path):
        return []
    out = []
    for seed in sorted(os.listdir(path)):
        test = os.path.join(path, seed, "test.json")
        if os.path.exists(test):
            with open(test) as f:
                out.append(json.load(f)["binary"])
    return out


def cell(values):
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def main():
    header = "| variant | seeds | " + " | ".join(name for _, name in METRICS) + " |"
    print(header)
    print("|" + "---|" * (len(METRICS) + 2))
    for folder, label in VARIANTS:
        rows = runs(folder)
        if not rows:
            continue
        cells = [cell([r[key] for r in rows if r.get(key) is not None]) for key, _ in METRICS]
        print(f"| {label} | {len(rows)} | " + " | ".join(cells) + " |")
    for label, values in REFERENCE:
        cells = [f"{values[key]:.3f}" if key in values else "" for key, _ in METRICS]
        print(f"| {label} | | " + " | ".join(cells) + " |")
    gaps()


def gaps():
    """Each ordering step of a task whose variants are here: the mean difference of accuracy, MCC
    and AUC and twice its standard error (unpaired: sqrt(s1^2/n1 + s2^2/n2))."""
    lines = []
    folders = [folder for folder, _ in VARIANTS]
    for folder in folders:
        for low, high in GAPS:
            if f"-{low}" not in folder:
                continue
            other = folder.replace(f"-{low}", f"-{high}")
            a, b = runs(folder), runs(other)
            if len(a) < 2 or len(b) < 2:
                continue
            parts = []
            for key in ("accuracy", "mcc", "auc"):
                x, y = [r[key] for r in a], [r[key] for r in b]
                diff = statistics.mean(y) - statistics.mean(x)
                se = (statistics.variance(x) / len(x) + statistics.variance(y) / len(y)) ** 0.5
                parts.append(f"{key} {diff:+.3f} (2 SE {2 * se:.3f}{', holds' if diff > 2 * se else ''})")
            lines.append(f"- {other} - {folder}: " + ", ".join(parts))
    if lines:
        print()
        print("\n".join(lines))


if __name__ == "__main__":
    main()
