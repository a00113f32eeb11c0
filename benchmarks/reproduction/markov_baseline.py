#!/usr/bin/env python3
"""How much a language model of the promoters has learned, in the LM's own units: the
cross-entropy (nats per token) of order-m Markov chains on bases, for the tokens the LM predicts.

With 5-mers of stride 2, each next token shares 3 bases with the previous one, so predicting it
is predicting the 2 new bases given everything before. A chain of order m predicts them from the
previous m bases (add-one smoothing, fitted on the LM's training sequences). Order 0 is the base
composition alone; log(16) = 2.773 nats is a uniform guess. An LM validation loss near these
numbers has learned little beyond them.

    python3 benchmarks/reproduction/markov_baseline.py DATASET.csv [SEED] [HELD_OUT]

DATASET.csv is a prepared dataset (sequence,label,split). As `train-lm --lm-splits train+valid`,
the train and valid sequences are used and a fraction HELD_OUT (default 0.1) is held out; the
split here is drawn with Python's generator (seed SEED, default 42), not the LM's, so the held-out
sequences differ but the estimate is of the same quantity. Only the standard library is used.
"""
import csv
import gzip
import math
import random
import sys
from collections import defaultdict


def read(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        return [r["sequence"] for r in csv.DictReader(f) if r["split"] in ("train", "valid")]


def cross_entropy(train, test, order, k=5, stride=2):
    counts = defaultdict(lambda: defaultdict(int))
    for s in train:
        for i in range(order, len(s) - 1):
            counts[s[i - order:i]][s[i:i + 2]] += 1
    total, n = 0.0, 0
    for s in test:
        # The LM predicts token j+1 (bases j*stride .. j*stride+k) after token j: 2 new bases at
        # positions j*stride + k .. + 1, given the bases before them.
        for j in range((len(s) - k) // stride):
            start = j * stride + k
            if start + 2 > len(s) or start < order:
                continue
            context, pair = s[start - order:start], s[start:start + 2]
            c = counts[context]
            total -= math.log((c[pair] + 1) / (sum(c.values()) + 16))
            n += 1
    return total / n


def main():
    path = sys.argv[1]
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 42
    held = float(sys.argv[3]) if len(sys.argv) > 3 else 0.1
    sequences = read(path)
    rng = random.Random(seed)
    chosen = [rng.random() < held for _ in sequences]
    test = [s for s, c in zip(sequences, chosen) if c]
    train = [s for s, c in zip(sequences, chosen) if not c]
    print(f"{len(train)} training and {len(test)} held-out sequences; uniform: {math.log(16):.4f} nats/token")
    for order in (0, 1, 2, 3, 4, 5, 6, 8):
        print(f"order {order}: {cross_entropy(train, test, order):.4f} nats/token")


if __name__ == "__main__":
    main()
