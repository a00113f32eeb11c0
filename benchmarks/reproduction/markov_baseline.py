#!/usr/bin/env python3
"""How much a language model has learned, in the LM's own units: the cross-entropy (nats per
token) of order-m Markov chains on bases, for the tokens the LM predicts.

With 5-mers of stride 2, each next token shares 3 bases with the previous one, so predicting it
is predicting the 2 new bases given everything before. A chain of order m predicts them from the
previous m bases (add-one smoothing, fitted on the LM's training tokens). Order 0 is the base
composition alone; log(16) = 2.773 nats is a uniform guess. An LM validation loss near these
numbers has learned little beyond them.

Genomes (the pretraining corpus), on exactly the LM's split:

    python3 benchmarks/reproduction/markov_baseline.py --fasta G1.fa.gz [--fasta G2.fa.gz ...] \
        [--seed 42] [--valid-fraction 0.1] [--orders 0,1,2,4,6,8,10,11,12]

reproduces `ulmfit train-lm --fasta ...`'s corpus (LanguageModelCorpus.fromFasta): records split
at every symbol other than A/C/G/T (either case), segments under 100 bases dropped, cut into
chunks of 10,000 bases, each chunk held out with probability valid-fraction by the same
counter-based generator (SplitMix64 keyed by seed, purpose 1, 0x4C4D, chunk number). It prints
the train and held-out token counts, which must equal the ones `train-lm` logs ("N train / M
valid tokens"): that is the check that both score the same tokens.

A prepared dataset (fine-tuning corpus, `--lm-splits train+valid`):

    python3 benchmarks/reproduction/markov_baseline.py DATASET.csv [SEED] [HELD_OUT]

uses the train and valid sequences with a fraction HELD_OUT (default 0.1) held out, drawn with
Python's generator (seed SEED, default 42), not the LM's, so the held-out sequences differ but the
estimate is of the same quantity. Genome mode needs numpy; dataset mode only the standard library.
"""
import argparse
import csv
import gzip
import math
import random
import re
import sys
from collections import defaultdict

MASK = (1 << 64) - 1


# --- prepared datasets -----------------------------------------------------------------------

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


def dataset_main(argv):
    path = argv[0]
    seed = int(argv[1]) if len(argv) > 1 else 42
    held = float(argv[2]) if len(argv) > 2 else 0.1
    sequences = read(path)
    rng = random.Random(seed)
    chosen = [rng.random() < held for _ in sequences]
    test = [s for s, c in zip(sequences, chosen) if c]
    train = [s for s, c in zip(sequences, chosen) if not c]
    print(f"{len(train)} training and {len(test)} held-out sequences; uniform: {math.log(16):.4f} nats/token")
    for order in (0, 1, 2, 3, 4, 5, 6, 8):
        print(f"order {order}: {cross_entropy(train, test, order):.4f} nats/token")


# --- genomes, on the LM's own split ----------------------------------------------------------

def mix(x):
    """SplitMix64's finalizer (Sources/SeededRandom/CounterRandom.swift)."""
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def first_unit_float(seed, keys):
    """CounterRandom(seed:, keys...).nextUnitFloat(), exactly (a 24-bit float)."""
    h = mix((seed + 0x9E3779B97F4A7C15) & MASK)
    for k in keys:
        h = mix(h ^ mix((k + 0xD1B54A32D192ED03) & MASK))
    state = (h + 0x9E3779B97F4A7C15) & MASK
    return (mix(state) >> 40) / 16777216.0


def fasta_segments(path, min_length=100):
    """The pure-ACGT segments of every record, upper-cased, as FastaReader's splitAtNonACGT."""
    opener = gzip.open if path.endswith(".gz") else open
    table = bytes.maketrans(b"acgt", b"ACGT")

    def segments(sequence):
        for m in re.finditer(rb"[ACGT]+", sequence.translate(table)):
            if m.end() - m.start() >= min_length:
                yield m.group()

    with opener(path, "rb") as f:
        record = []
        for line in f:
            if line.startswith(b">"):
                if record:
                    yield from segments(b"".join(record))
                record = []
            else:
                record.append(line.strip())
        if record:
            yield from segments(b"".join(record))


def genome_split(paths, seed, valid_fraction, k=5, stride=2, chunk=10_000):
    """Train and held-out chunks (2-bit base arrays), as LanguageModelCorpus.fromFasta draws them."""
    import numpy as np
    lut = np.full(256, 255, dtype=np.uint8)
    for i, b in enumerate(b"ACGT"):
        lut[b] = i
    train, valid = [], []
    index = 0
    for path in paths:
        for segment in fasta_segments(path):
            codes = lut[np.frombuffer(segment, dtype=np.uint8)]
            for start in range(0, len(codes), chunk):
                piece = codes[start:start + chunk]
                r = first_unit_float(seed, [1, 0x4C4D, index])
                index += 1
                if len(piece) < k:
                    continue
                (valid if r < valid_fraction else train).append(piece)
    return train, valid


def tokens(piece, k=5, stride=2):
    return (len(piece) - k) // stride + 1


def samples(pieces, order, k=5, stride=2):
    """(context, pair) codes of every token the LM predicts inside a chunk: token j+1's 2 new
    bases at j*stride + k, given the `order` bases before them (positions before `order` skipped)."""
    import numpy as np
    contexts, pairs = [], []
    for p in pieces:
        n = tokens(p, k, stride)
        starts = np.arange(1, n) * stride + (k - stride)     # first new base of token j = 1..n-1
        starts = starts[starts >= order]
        if len(starts) == 0:
            continue
        x = p.astype(np.int64)
        pair = x[starts] * 4 + x[starts + 1]
        context = np.zeros(len(starts), dtype=np.int64)
        for d in range(order, 0, -1):
            context = context * 4 + x[starts - d]
        contexts.append(context)
        pairs.append(pair)
    return np.concatenate(contexts), np.concatenate(pairs)


def genome_cross_entropy(train, valid, order):
    import numpy as np
    c_train, p_train = samples(train, order)
    c_valid, p_valid = samples(valid, order)
    keys, counts = np.unique(c_train * 16 + p_train, return_counts=True)
    contexts, context_counts = np.unique(c_train, return_counts=True)

    def lookup(table, values, query):
        i = np.searchsorted(table, query)
        i = np.minimum(i, len(table) - 1)
        return np.where(table[i] == query, values[i], 0)

    joint = lookup(keys, counts, c_valid * 16 + p_valid)
    marginal = lookup(contexts, context_counts, c_valid)
    return float(-np.mean(np.log((joint + 1) / (marginal + 16)))), len(c_valid)


def genome_main(argv):
    parser = argparse.ArgumentParser(description="Markov baselines on the LM's genome split")
    parser.add_argument("--fasta", action="append", required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--valid-fraction", type=float, default=0.1)
    parser.add_argument("--orders", default="0,1,2,3,4,5,6,7,8,9,10,11,12")
    args = parser.parse_args(argv)
    train, valid = genome_split(args.fasta, args.seed, args.valid_fraction)
    print(f"{sum(map(tokens, train))} train / {sum(map(tokens, valid))} valid tokens "
          f"({len(train)} / {len(valid)} chunks); uniform: {math.log(16):.4f} nats/token")
    for order in (int(o) for o in args.orders.split(",")):
        h, n = genome_cross_entropy(train, valid, order)
        print(f"order {order}: {h:.4f} nats/token ({n} held-out predictions)", flush=True)


if __name__ == "__main__":
    if any(a.startswith("--") for a in sys.argv[1:]):
        genome_main(sys.argv[1:])
    else:
        dataset_main(sys.argv[1:])
