#!/usr/bin/env python3
"""Loads an `ulmfit export` into fastai 2's own models and checks it computes what ulmfit does.

What it does
------------
1. Builds fastai's own model from the export's metadata: `get_language_model(AWD_LSTM, ...)`
   or `get_text_classifier(AWD_LSTM, ...)` (pad_idx 0: ulmfit's vocabulary puts xxpad first;
   max_len=None: ulmfit pools over the whole sequence), loads the safetensors file with
   `load_state_dict(strict=True)`, switches to eval mode.
2. With X.sample.json (from `ulmfit export --sample N`): runs every sample sequence and compares
   with ulmfit's outputs: LM log-probabilities of every position, classifier probabilities
   (computed by evaluate's code path). Each sequence runs alone (batch of 1, no padding).
3. With --run and --dataset (classifiers): runs `ulmfit evaluate` on the dataset's test split,
   tokenizes the first --rows sequences with `ulmfit tokenize --ids`, and compares fastai's
   probabilities with evaluate's predictions CSV.
Fails (exit 1) if any difference exceeds --tolerance (1e-4).

Head biases: ulmfit's classifier head has a Linear bias after each BatchNorm (fastai 1's
bn_drop_lin), fastai 2's LinBnDrop has none. An export with head_bias=fold (the default) has the
bias folded into the BatchNorm bias and loads into stock fastai 2; with head_bias=keep this
script gives fastai's head Linears a bias first (fastai 1's layout), then loads strictly.

Needs PyTorch, fastai 2 and safetensors (not CI dependencies). Example:

    ulmfit export --model runs/classifier --out /tmp/clas.safetensors --sample 4
    python benchmarks/fastai_export_check.py /tmp/clas.safetensors --ulmfit .build/release/ulmfit \
        --run runs/classifier --dataset runs/human/dataset.csv
"""

import argparse
import csv
import gzip
import json
import os
import subprocess
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore", category=FutureWarning)

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file
from fastai.text.all import AWD_LSTM, awd_lstm_clas_config, awd_lstm_lm_config, get_language_model, get_text_classifier


def build(path):
    """fastai's model for the export at `path`, weights loaded strictly; and its metadata."""
    with safe_open(path, "pt") as f:
        meta = f.metadata()
    state = load_file(path)
    vocab = json.load(open(path[: -len(".safetensors")] + ".vocab.json"))
    fastai_config = json.loads(meta["fastai_config"])
    assert len(vocab) == int(meta["vocab_size"]) and vocab[int(meta["pad_idx"])] == "xxpad"
    if meta["kind"] == "language-model":
        config = dict(awd_lstm_lm_config, **fastai_config)
        model = get_language_model(AWD_LSTM, len(vocab), config=config)
    else:
        config = dict(awd_lstm_clas_config, **fastai_config)
        ps = json.loads(meta["ps"])
        model = get_text_classifier(AWD_LSTM, len(vocab), int(meta["n_class"]), config=config,
                                    lin_ftrs=json.loads(meta["lin_ftrs"]), ps=ps[1:], pad_idx=int(meta["pad_idx"]),
                                    max_len=None)
        if meta["head_bias"] == "keep":
            for layer in model[1].layers:
                i = next(j for j, m in enumerate(layer) if isinstance(m, nn.Linear))
                old = layer[i]
                layer[i] = nn.Linear(old.in_features, old.out_features, bias=True)
    result = model.load_state_dict(state, strict=True)
    print(f"{os.path.basename(path)}: {meta['kind']}, {len(state)} tensors, vocabulary {len(vocab)}, "
          f"load_state_dict(strict=True): {result}" + (f", head_bias={meta['head_bias']}" if "head_bias" in meta else ""))
    model.eval()
    return model, meta


def run(model, meta, tokens):
    """LM: log-probabilities [T, V]; classifier: probabilities [C], for one sequence."""
    x = torch.tensor([tokens], dtype=torch.long)
    with torch.no_grad():
        model.reset()
        out = model(x)[0]
        if meta["kind"] == "language-model":
            return F.log_softmax(out[0].double(), dim=-1)
        return F.softmax(out[0].double(), dim=-1)


def check_sample(model, meta, path, tolerance):
    sample = json.load(open(path))
    key = "log_probs" if meta["kind"] == "language-model" else "probabilities"
    worst = 0.0
    for tokens, expected in zip(sample["sequences"], sample[key]):
        got = run(model, meta, tokens)
        worst = max(worst, (got - torch.tensor(expected, dtype=torch.float64)).abs().max().item())
    lengths = [len(s) for s in sample["sequences"]]
    what = "LM log-probabilities (every position, whole vocabulary)" if key == "log_probs" else "class probabilities"
    print(f"  sample: {len(lengths)} sequences of {min(lengths)}-{max(lengths)} tokens, {what}: "
          f"max |fastai - ulmfit| = {worst:.3g} (tolerance {tolerance:g})")
    return worst <= tolerance


def check_evaluate(model, meta, ulmfit, run_folder, dataset, rows, tolerance):
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([ulmfit, "evaluate", "--model", run_folder, "--dataset", dataset, "--split", "test",
                        "--workers", "1", "--out", out], check=True, stdout=subprocess.DEVNULL)
        predictions = list(csv.DictReader(open(os.path.join(out, "test-predictions.csv"))))
    opener = gzip.open if dataset.endswith(".gz") else open
    test = [r for r in csv.DictReader(opener(dataset, "rt")) if r["split"] == "test"][:rows]
    vocab_file = os.path.join(run_folder, "vocab.json")
    ids = subprocess.run([ulmfit, "tokenize", "--ids", "--vocab", vocab_file] + [r["sequence"] for r in test],
                         check=True, capture_output=True, text=True).stdout.split("\n")
    worst = 0.0
    n_class = int(meta["n_class"])
    for row, line, prediction in zip(test, ids, predictions):
        assert int(prediction["label"]) == int(row["label"])
        got = run(model, meta, [int(t) for t in line.split()])
        expected = torch.tensor([float(prediction[f"p{c}"]) for c in range(n_class)], dtype=torch.float64)
        worst = max(worst, (got - expected).abs().max().item())
    print(f"  ulmfit evaluate: first {len(test)} test sequences of {dataset}: max |fastai - evaluate| = {worst:.3g} "
          f"(evaluate prints 6 significant digits; tolerance {tolerance:g})")
    return worst <= tolerance


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("export", help="X.safetensors from `ulmfit export` (X.vocab.json beside it)")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--ulmfit", help="the ulmfit binary (for --run/--dataset)")
    parser.add_argument("--run", help="the classifier run folder that was exported")
    parser.add_argument("--dataset", help="a prepared dataset.csv: compare with `ulmfit evaluate` on its test split")
    parser.add_argument("--rows", type=int, default=8)
    args = parser.parse_args()
    torch.manual_seed(0)
    model, meta = build(args.export)
    ok = True
    sample = args.export[: -len(".safetensors")] + ".sample.json"
    if os.path.exists(sample):
        ok &= check_sample(model, meta, sample, args.tolerance)
    if args.dataset and args.run and args.ulmfit and meta["kind"] == "classifier":
        ok &= check_evaluate(model, meta, args.ulmfit, args.run, args.dataset, args.rows, args.tolerance)
    print("OK" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
