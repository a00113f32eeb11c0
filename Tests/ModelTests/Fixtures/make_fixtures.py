#!/usr/bin/env python3
"""PyTorch reference fixtures for Tests/ModelTests/PyTorchParityTests.swift.

What it builds
--------------
The same tiny models as Sources/Model, written with stock PyTorch modules (nn.Embedding with
padding_idx=0, one single-layer nn.LSTM per AWD-LSTM layer, nn.BatchNorm1d, nn.Linear,
F.cross_entropy), with seeded random weights, and writes inputs, outputs, losses and the
gradient of every parameter to small JSON files next to this script:

  lm_fixture.json          AWD-LSTM language model, V=11 E=6 H=7, 3 layers, b=3 streams, T=5,
                           tied decoder, AR alpha=2 and TAR beta=1, every dropout off. Two
                           consecutive windows; window 2 starts from the state window 1 left
                           (detached, truncated BPTT). Expected: loss parts, last-layer raw
                           output, carried state and all gradients of window 2 alone.
  lm_dropout_fixture.json  The same language model with every AWD-LSTM dropout on, using
                           exactly the Swift masks: SeededRandom.CounterRandom and the keying of
                           Sources/Model/Dropout.swift are re-implemented below (`CounterRandom`,
                           `rnn_dropout_mask`, ...). The masks of window 2 are stored too.
  classifier_fixture.json  Pooling classifier, V=10 E=5 H=6, 2 layers, head hidden 4, C=3,
                           b=4 sequences of lengths 7/3/5/1 padded at the end to L=7, encoder
                           run in BPTT chunks of 3 steps with the state detached between chunks
                           (fastai's SentenceEncoder), masked concat pooling, BatchNorm1d in
                           training mode (non-trivial running statistics before the step),
                           dropout off, and fastai's AR (alpha 2) and TAR (beta 1) on the last
                           layer's raw output over each sequence's real steps (TAR across the
                           chunk boundaries). Expected: pooled features, logits, cross-entropy,
                           AR, TAR, running statistics after the step and all gradients of
                           cross-entropy + AR + TAR.
  classifier_fastai_fixture.json
                           The same classifier on 4 unpadded sequences of length 7, with AR and
                           TAR computed by fastai's own `RNNRegularizer.after_loss` (fastai
                           2.x, imported) on the encoder output laid out as fastai's
                           `SentenceEncoder` returns it ([b, L, E], chunks concatenated), which
                           `PoolingLinearClassifier.forward` passes on as both `raw_out` and
                           `out`. Without padding fastai's means and the real-step means of
                           Sources/Model/SequencePenalty.swift are the same quantity; the script
                           asserts they agree before writing.

Conventions (those of the Swift model): tensors by PyTorch-style name (`encoder.weight`,
`rnns.L.weight_ih`, `decoder.bias`, `head.bn0.weight`, ...) as {"shape": [...], "data": [...]},
data flattened row-major; token and activation sequences time-major (row t*b + j is stream j
at step t); LSTM gates in PyTorch order (i, f, g, o).

Precision: weights are float32 values; the stored results are float64, i.e. the exact answer
for the stored float32 inputs. Errors are relative to max(|x|, 1e-2 * max |tensor|). Before
writing, the script asserts (1) float32 PyTorch agrees with float64 to 2.5e-5, and (2) the
float64 results move by at most 1.5e-5 when every input moves by 2 float32 ulps, a stand-in for
any other float32 implementation's rounding. Both are well under the 1e-4 the Swift test
demands, so a problem float32 cannot solve stably stops the script here instead of becoming a
flaky Swift test. (BatchNorm over 4 sequences amplifies rounding; the classifier's seed and the
ReLU-unit assertions pick a well-conditioned instance.)

Regenerate (needs PyTorch, NumPy and fastai; CI does not run this, it only reads the JSON files):

    /path/to/python-with-torch Tests/ModelTests/Fixtures/make_fixtures.py

Output is deterministic (fixed torch.manual_seed); rerunning rewrites identical files.
"""

import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call

HERE = os.path.dirname(os.path.abspath(__file__))
FLOAT32_AGREEMENT = 2.5e-5  # float32 vs float64 PyTorch, relative with the floor below
CONDITIONING = 1.5e-5       # worst change of any result under 2-ulp input noise (float64)
FLOOR_FRACTION = 1e-2       # floor of the relative error: this fraction of the tensor's max |x|


# ---------------------------------------------------------------------------------------------
# SeededRandom.CounterRandom and the dropout keying of Sources/Model/Dropout.swift.

MASK64 = (1 << 64) - 1
PURPOSE = {"embeddingDropout": 10, "inputDropout": 11, "weightDropout": 12,
           "hiddenDropout": 13, "outputDropout": 14, "headDropout": 15}


def _mix(x):
    """SplitMix64's finalizer (CounterRandom.mix)."""
    z = x & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


class CounterRandom:
    """Port of Sources/SeededRandom/CounterRandom.swift."""

    def __init__(self, seed, keys):
        h = _mix((seed + 0x9E3779B97F4A7C15) & MASK64)
        for k in keys:
            h = _mix(h ^ _mix((k + 0xD1B54A32D192ED03) & MASK64))
        self.state = h

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        return _mix(self.state)

    def next_unit_float(self):
        return np.float32(self.next() >> 40) * np.float32(1.0 / 16777216.0)


def dropout_random(seed, step, purpose, *keys):
    """DropoutKey.random: keys [purpose, step, ...] as UInt64 bit patterns."""
    return CounterRandom(seed, [PURPOSE[purpose], step & MASK64] + [k & MASK64 for k in keys])


def fill_dropout_mask(count, p, r):
    """fillDropoutMask: 0 with probability p, else 1/(1-p), all in float32."""
    p = np.float32(p)
    if p <= 0:
        return np.ones(count, np.float32)
    keep = np.float32(1) / (np.float32(1) - p)
    return np.array([np.float32(0) if r.next_unit_float() < p else keep for _ in range(count)],
                    np.float32)


def rnn_dropout_mask(seed, step, purpose, p, streams, width, layer):
    """RNNDropout.fillMask for streams 0..<b: [b, width]."""
    return np.stack([fill_dropout_mask(width, p, dropout_random(seed, step, purpose, layer, j))
                     for j in range(streams)])


def weight_dropout_mask(seed, step, p, rows, columns, layer):
    """WeightDropout.fillMask: one keyed stream per row, [rows, columns]."""
    return np.stack([fill_dropout_mask(columns, p, dropout_random(seed, step, "weightDropout", layer, row))
                     for row in range(rows)])


def embedding_dropout_mask(seed, step, p, vocab):
    """EmbeddingDropout.fillMask: [V]."""
    return fill_dropout_mask(vocab, p, dropout_random(seed, step, "embeddingDropout"))


# ---------------------------------------------------------------------------------------------
# Weights, comparison and output.

def uniform(shape, bound):
    """float32 weights from the seeded torch generator."""
    return ((torch.rand(shape, dtype=torch.float32) * 2 - 1) * bound).numpy()


def worst_error(a, b):
    """Worst |a-b| / max(|b|, FLOOR_FRACTION * max|b|) over the tensor, and its index."""
    a = np.asarray(a, np.float64).ravel()
    b = np.asarray(b, np.float64).ravel()
    floor = max(FLOOR_FRACTION * np.abs(b).max(), 1e-30)
    err = np.abs(a - b) / np.maximum(np.abs(b), floor)
    i = int(err.argmax())
    return float(err[i]), i


def check_agreement(name, results32, results64):
    """Asserts float32 and float64 PyTorch results agree; prints the worst error per tensor."""
    worst = 0.0
    for key in results64:
        err, i = worst_error(results32[key], results64[key])
        worst = max(worst, err)
        if err > FLOAT32_AGREEMENT:
            sys.exit(f"{name}: float32 and float64 disagree on {key}[{i}] (relative {err:.2e})")
    print(f"{name}: float32 vs float64 worst relative error {worst:.2e}")


def perturbed(arrays, seed=0):
    """float64 copies with every element moved by up to 2 float32 ulps (relative 2^-23): a
    stand-in for the rounding of any other float32 implementation."""
    rng = np.random.RandomState(seed)
    return {k: v.astype(np.float64) * (1 + rng.uniform(-1, 1, v.shape) * 2.0 ** -23) for k, v in arrays.items()}


def check_conditioning(name, results64, results_perturbed):
    """Asserts the float64 results barely move when the inputs move by float32 rounding."""
    worst = 0.0
    for key in results64:
        err, i = worst_error(results_perturbed[key], results64[key])
        worst = max(worst, err)
        if err > CONDITIONING:
            sys.exit(f"{name}: ill-conditioned: {key}[{i}] moves by {err:.2e} under 2-ulp input noise")
    print(f"{name}: 2-ulp input noise moves results by at most {worst:.2e}")


def tensor(x):
    x = np.asarray(x)
    return {"shape": list(x.shape), "data": [float(f"{v:.9g}") for v in x.ravel().tolist()]}


def dump(value, indent=0):
    """JSON with one line per tensor (small diffs, readable), numbers to 9 significant digits."""
    pad = " " * indent
    if isinstance(value, dict) and not ("shape" in value and "data" in value):
        items = [f'{pad}  {json.dumps(k)}: {dump(v, indent + 2)}' for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and value and isinstance(value[0], dict):
        items = [f"{pad}  {dump(v, indent + 2)}" for v in value]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(value, separators=(", ", ": "))


def write(name, content):
    path = os.path.join(HERE, name)
    with open(path, "w") as f:
        f.write(dump(content) + "\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


# ---------------------------------------------------------------------------------------------
# Language model.

def lstm_names(l):
    return [(f"rnns.{l}.{n}", f"{n}_l0") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]


class AWDLSTMEncoder(nn.Module):
    """Embedding (padding_idx 0) and one single-layer nn.LSTM per AWD-LSTM layer."""

    def __init__(self, cfg, weights, dtype):
        super().__init__()
        V, E, H, n = cfg["vocabSize"], cfg["embeddingSize"], cfg["hiddenSize"], cfg["layerCount"]
        self.sizes = [(E if l == 0 else H, E if l == n - 1 else H) for l in range(n)]
        self.encoder = nn.Embedding(V, E, padding_idx=0)
        self.rnns = nn.ModuleList([nn.LSTM(i, h) for i, h in self.sizes])
        self.to(dtype)
        with torch.no_grad():
            self.encoder.weight.copy_(torch.from_numpy(weights["encoder.weight"]))
            for l, rnn in enumerate(self.rnns):
                for ours, theirs in lstm_names(l):
                    getattr(rnn, theirs).copy_(torch.from_numpy(weights[ours]))

    def zero_state(self, b):
        dtype = self.encoder.weight.dtype
        return [(torch.zeros(1, b, h, dtype=dtype), torch.zeros(1, b, h, dtype=dtype)) for _, h in self.sizes]

    def forward(self, tokens, state, masks=None):
        """tokens: [T, b]; state: per layer (h, c) [1, b, H], used detached. masks: None (no
        dropout) or the Swift masks (embedding [V], input [b, E], weight per layer, hidden per
        layer but the last). Returns the last layer's raw output [T, b, E] and the new state."""
        table = self.encoder.weight
        if masks is not None:
            table = table * masks["embedding"][:, None]
        x = F.embedding(tokens, table, padding_idx=0)
        if masks is not None:
            x = x * masks["input"]
        new_state = []
        for l, rnn in enumerate(self.rnns):
            h0, c0 = (s.detach() for s in state[l])
            if masks is not None:
                weight_hh = getattr(rnn, "weight_hh_l0") * masks["weight"][l]
                x, (h, c) = functional_call(rnn, {"weight_hh_l0": weight_hh}, (x, (h0, c0)))
            else:
                x, (h, c) = rnn(x, (h0, c0))
            new_state.append((h, c))
            if masks is not None and l < len(self.rnns) - 1:
                x = x * masks["hidden"][l]
        return x, new_state


def lm_masks(cfg, seed, step, dtype):
    """Every dropout mask of one LM step, drawn exactly as the Swift model draws them."""
    V, E, b = cfg["vocabSize"], cfg["embeddingSize"], cfg["streams"]
    n, H = cfg["layerCount"], cfg["hiddenSize"]
    out = lambda l: E if l == n - 1 else H
    m = {
        "embedding": embedding_dropout_mask(seed, step, cfg["embedP"], V),
        "input": rnn_dropout_mask(seed, step, "inputDropout", cfg["inputP"], b, E, 0),
        "weight": [weight_dropout_mask(seed, step, cfg["weightP"], 4 * out(l), out(l), l) for l in range(n)],
        "hidden": [rnn_dropout_mask(seed, step, "hiddenDropout", cfg["hiddenP"], b, out(l), l)
                   for l in range(n - 1)],
        "output": rnn_dropout_mask(seed, step, "outputDropout", cfg["outputP"], b, E, 0),
    }
    as_t = lambda a: torch.from_numpy(a).to(dtype)
    t = {k: ([as_t(a) for a in v] if isinstance(v, list) else as_t(v)) for k, v in m.items()}
    return m, t


def lm_run(cfg, weights, windows, dtype, dropout_seed=None):
    """Window 1 (forward only, to get the carried state), then window 2 with loss and backward.
    dropout_seed: None for no dropout; else window w uses the masks of step w."""
    T, b, alpha, beta = cfg["steps"], cfg["streams"], cfg["alpha"], cfg["beta"]
    model = AWDLSTMEncoder(cfg, weights, dtype)
    decoder_bias = nn.Parameter(torch.from_numpy(weights["decoder.bias"]).to(dtype).clone())
    tokens = [torch.tensor(w["tokens"]).view(T, b) for w in windows]
    targets = torch.tensor(windows[1]["targets"])
    masks = [None, None]
    if dropout_seed is not None:
        masks = [lm_masks(cfg, dropout_seed, step, dtype)[1] for step in (1, 2)]
    with torch.no_grad():
        _, state = model(tokens[0], model.zero_state(b), masks[0])
    raw, state = model(tokens[1], state, masks[1])
    dropped = raw if masks[1] is None else raw * masks[1]["output"]
    logits = dropped.reshape(T * b, -1) @ model.encoder.weight.t() + decoder_bias
    ce = F.cross_entropy(logits, targets)
    ar = alpha * dropped.pow(2).mean()
    tar = beta * (raw[1:] - raw[:-1]).pow(2).mean()
    (ce + ar + tar).backward()

    grads = {"encoder.weight": model.encoder.weight.grad, "decoder.bias": decoder_bias.grad}
    for l, rnn in enumerate(model.rnns):
        for ours, theirs in lstm_names(l):
            grads[ours] = getattr(rnn, theirs).grad
    results = {"crossEntropy": ce, "ar": ar, "tar": tar, "rawOutput": raw.reshape(T * b, -1)}
    for l, (h, c) in enumerate(state):
        results[f"state.{l}.h"] = h.reshape(b, -1)
        results[f"state.{l}.c"] = c.reshape(b, -1)
    for name, g in grads.items():
        results[f"grad.{name}"] = g
    return {k: v.detach().double().numpy() for k, v in results.items()}


def lm_fixture(with_dropout):
    torch.manual_seed(20240611 + (1 if with_dropout else 0))
    cfg = {"vocabSize": 11, "embeddingSize": 6, "hiddenSize": 7, "layerCount": 3,
           "streams": 3, "steps": 5, "alpha": 2.0, "beta": 1.0}
    if with_dropout:
        cfg.update({"embedP": 0.2, "inputP": 0.25, "weightP": 0.3, "hiddenP": 0.2, "outputP": 0.25})
    V, E, T, b = cfg["vocabSize"], cfg["embeddingSize"], cfg["steps"], cfg["streams"]
    n, H = cfg["layerCount"], cfg["hiddenSize"]
    # Weights larger than nn.LSTM's default init so every gate and path carries signal.
    weights = {"encoder.weight": uniform((V, E), 0.6)}
    for l in range(n):
        i, h = (E if l == 0 else H), (E if l == n - 1 else H)
        weights[f"rnns.{l}.weight_ih"] = uniform((4 * h, i), 0.6)
        weights[f"rnns.{l}.weight_hh"] = uniform((4 * h, h), 0.6)
        weights[f"rnns.{l}.bias_ih"] = uniform((4 * h,), 0.3)
        weights[f"rnns.{l}.bias_hh"] = uniform((4 * h,), 0.3)
    weights["decoder.bias"] = uniform((V,), 0.3)
    # Token 0 (padding) appears, so the "no embedding gradient for padding" rule is exercised.
    windows = []
    for _ in range(2):
        tokens = torch.randint(0, V, (T * b,))
        tokens[:2] = torch.tensor([0, 0])
        windows.append({"tokens": tokens.tolist(), "targets": torch.randint(0, V, (T * b,)).tolist()})

    dropout_seed = 77 if with_dropout else None
    name = "lm_dropout_fixture.json" if with_dropout else "lm_fixture.json"
    r64 = lm_run(cfg, weights, windows, torch.float64, dropout_seed)
    r32 = lm_run(cfg, weights, windows, torch.float32, dropout_seed)
    check_agreement(name, r32, r64)
    check_conditioning(name, r64, lm_run(cfg, perturbed(weights), windows, torch.float64, dropout_seed))

    expected = {"crossEntropy": float(r64["crossEntropy"]), "ar": float(r64["ar"]),
                "tar": float(r64["tar"]), "rawOutput": tensor(r64["rawOutput"]),
                "state": {k[len("state."):]: tensor(v) for k, v in r64.items() if k.startswith("state.")},
                "gradients": {k[len("grad."):]: tensor(v) for k, v in r64.items() if k.startswith("grad.")}}
    content = {"about": "Generated by make_fixtures.py (PyTorch " + torch.__version__.split("+")[0]
               + "); see its docstring. Window 2 starts from window 1's state; expected values "
               + "are window 2's. Gradients are of crossEntropy + ar + tar.",
               "config": cfg,
               "parameters": {k: tensor(v) for k, v in weights.items()},
               "windows": windows}
    if with_dropout:
        content["dropout"] = {"seed": dropout_seed, "steps": [1, 2]}
        m, _ = lm_masks(cfg, dropout_seed, 2, torch.float64)
        expected["masksOfWindow2"] = {
            "embedding": tensor(m["embedding"]), "input": tensor(m["input"]), "output": tensor(m["output"]),
            **{f"weight.{l}": tensor(a) for l, a in enumerate(m["weight"])},
            **{f"hidden.{l}": tensor(a) for l, a in enumerate(m["hidden"])}}
    content["expected"] = expected
    write(name, content)


# ---------------------------------------------------------------------------------------------
# Classifier.

def sequence_penalty(output, lengths, alpha, beta):
    """AR and TAR over each sequence's real steps (Sources/Model/SequencePenalty.swift):
    alpha * mean(h^2) over the real positions, beta * mean((h_t - h_{t-1})^2) over the pairs of
    consecutive real positions; output [L, b, E] time-major."""
    E = output.shape[2]
    squares = sum(output[:n, j].pow(2).sum() for j, n in enumerate(lengths))
    diffs = sum((output[1:n, j] - output[:n - 1, j]).pow(2).sum() for j, n in enumerate(lengths) if n > 1)
    positions, pairs = sum(lengths), sum(n - 1 for n in lengths)
    return alpha * squares / (positions * E), beta * diffs / (pairs * E)


def fastai_penalty(output, alpha, beta):
    """fastai's own RNNRegularizer.after_loss, run on a stand-in learner whose `rnn.raw_out` and
    `rnn.out` are `output` laid out as SentenceEncoder returns it, [b, L, E] (what
    PoolingLinearClassifier.forward passes on as its second and third outputs). Returns (AR, TAR)
    as fastai adds them to `loss_grad`, one coefficient at a time."""
    from fastai.callback.rnn import RNNRegularizer

    class Stub:
        pass

    def added(a, b):
        learn = Stub()
        learn.training, learn.rnn = True, Stub()
        learn.rnn.raw_out = learn.rnn.out = output.transpose(0, 1)
        learn.loss_grad = output.new_zeros(())
        regularizer = RNNRegularizer(alpha=a, beta=b)
        regularizer.learn = learn
        regularizer.after_loss()
        return float(learn.loss_grad)

    return added(alpha, 0.0), added(0.0, beta)


def classifier_run(cfg, weights, stats, tokens, lengths, labels, dtype):
    L, b, bptt = cfg["steps"], cfg["sequences"], cfg["bptt"]
    E, K, C = cfg["embeddingSize"], cfg["headHidden"], cfg["classCount"]
    model = AWDLSTMEncoder(cfg, weights, dtype)
    bn0, lin0 = nn.BatchNorm1d(3 * E), nn.Linear(3 * E, K)
    bn1, lin1 = nn.BatchNorm1d(K), nn.Linear(K, C)
    head = {"head.bn0": bn0, "head.linear0": lin0, "head.bn1": bn1, "head.linear1": lin1}
    for m in head.values():
        m.to(dtype).train()
    with torch.no_grad():
        for prefix, m in head.items():
            m.weight.copy_(torch.from_numpy(weights[prefix + ".weight"]))
            m.bias.copy_(torch.from_numpy(weights[prefix + ".bias"]))
            if isinstance(m, nn.BatchNorm1d):
                m.running_mean.copy_(torch.from_numpy(stats[prefix + ".running_mean"]))
                m.running_var.copy_(torch.from_numpy(stats[prefix + ".running_var"]))

    # Encoder from a zero state, in chunks of bptt steps with the state detached in between.
    tokens = torch.tensor(tokens).view(L, b)
    state, outputs = model.zero_state(b), []
    for t0 in range(0, L, bptt):
        out, state = model(tokens[t0:t0 + bptt], state)
        outputs.append(out)
    output = torch.cat(outputs)                     # [L, b, E]
    # Masked concat pooling: [last real step, max, mean] over each sequence's real steps.
    features = torch.stack([torch.cat([output[n - 1, j], output[:n, j].max(0).values, output[:n, j].mean(0)])
                            for j, n in enumerate(lengths)])
    z1 = lin0(bn0(features))                        # dropouts off (p = 0)
    logits = lin1(bn1(F.relu(z1)))
    loss = F.cross_entropy(logits, torch.tensor(labels))
    ar, tar = sequence_penalty(output, lengths, cfg["alpha"], cfg["beta"])
    (loss + ar + tar).backward()

    results = {"features": features, "logits": logits, "loss": loss, "ar": ar, "tar": tar, "preReLU": z1,
               "output": output}
    for prefix, m in head.items():
        results[f"grad.{prefix}.weight"] = m.weight.grad
        results[f"grad.{prefix}.bias"] = m.bias.grad
        if isinstance(m, nn.BatchNorm1d):
            results[f"stat.{prefix}.running_mean"] = m.running_mean
            results[f"stat.{prefix}.running_var"] = m.running_var
    results["grad.encoder.weight"] = model.encoder.weight.grad
    for l, rnn in enumerate(model.rnns):
        for ours, theirs in lstm_names(l):
            results[f"grad.{ours}"] = getattr(rnn, theirs).grad
    return {k: v.detach().double().numpy() for k, v in results.items()}


def classifier_fixture(name, seed, lengths, fastai_check):
    """One classifier training step. fastai_check: the batch is unpadded, and fastai's own
    RNNRegularizer must give the same AR and TAR as `sequence_penalty`."""
    # BatchNorm over 4 sequences divides by a small batch spread and its backward cancels most
    # of dy, so float32 rounding grows to 1e-5..1e-4 here depending on the draw. The seeds are
    # ones that pass check_agreement and check_conditioning with a margin.
    torch.manual_seed(seed)
    cfg = {"vocabSize": 10, "embeddingSize": 5, "hiddenSize": 6, "layerCount": 2,
           "classCount": 3, "headHidden": 4, "sequences": 4, "steps": 7, "bptt": 3,
           "alpha": 2.0, "beta": 1.0}
    V, E, n, H = cfg["vocabSize"], cfg["embeddingSize"], cfg["layerCount"], cfg["hiddenSize"]
    L, b, K, C = cfg["steps"], cfg["sequences"], cfg["headHidden"], cfg["classCount"]
    weights = {"encoder.weight": uniform((V, E), 1.0)}
    for l in range(n):
        i, h = (E if l == 0 else H), (E if l == n - 1 else H)
        weights[f"rnns.{l}.weight_ih"] = uniform((4 * h, i), 1.0)
        weights[f"rnns.{l}.weight_hh"] = uniform((4 * h, h), 1.0)
        weights[f"rnns.{l}.bias_ih"] = uniform((4 * h,), 0.3)
        weights[f"rnns.{l}.bias_hh"] = uniform((4 * h,), 0.3)
    weights["head.bn0.weight"] = 1 + uniform((3 * E,), 0.3)
    weights["head.bn0.bias"] = uniform((3 * E,), 0.2)
    weights["head.linear0.weight"] = uniform((K, 3 * E), 0.5)
    weights["head.linear0.bias"] = uniform((K,), 0.3) + np.float32(0.3)   # keep ReLU units alive
    weights["head.bn1.weight"] = 1 + uniform((K,), 0.3)
    weights["head.bn1.bias"] = uniform((K,), 0.2)
    weights["head.linear1.weight"] = uniform((C, K), 0.8)
    weights["head.linear1.bias"] = uniform((C,), 0.3)
    stats = {"head.bn0.running_mean": uniform((3 * E,), 0.5), "head.bn0.running_var": 1 + uniform((3 * E,), 0.5),
             "head.bn1.running_mean": uniform((K,), 0.5), "head.bn1.running_var": 1 + uniform((K,), 0.5)}
    tokens = torch.zeros(L, b, dtype=torch.long)
    for j, length in enumerate(lengths):
        tokens[:length, j] = torch.randint(1, V, (length,))
    tokens = tokens.view(-1).tolist()
    labels = [0, 2, 1, 2]

    r64 = classifier_run(cfg, weights, stats, tokens, lengths, labels, torch.float64)
    r32 = classifier_run(cfg, weights, stats, tokens, lengths, labels, torch.float32)
    check_agreement(name, r32, r64)
    check_conditioning(name, r64,
                       classifier_run(cfg, perturbed(weights), perturbed(stats, 1), tokens, lengths, labels,
                                      torch.float64))
    output = r64.pop("output")
    # AR and TAR must matter at the precision the Swift test compares (1e-4): without them the
    # last LSTM layer's gradient moves by far more.
    plain = classifier_run({**cfg, "alpha": 0.0, "beta": 0.0}, weights, stats, tokens, lengths, labels, torch.float64)
    last = f"grad.rnns.{n - 1}.weight_hh"
    moved, _ = worst_error(plain[last], r64[last])
    assert moved > 1e-2, f"AR/TAR move {last} by only {moved:.2e}"
    print(f"{name}: without AR/TAR {last} moves by {moved:.2e}")
    if fastai_check:
        assert all(length == L for length in lengths), "fastai's means equal ours only without padding"
        ours = (float(r64["ar"]), float(r64["tar"]))
        theirs = fastai_penalty(torch.from_numpy(output), cfg["alpha"], cfg["beta"])
        # fastai casts to float32 (`.float()`) before squaring: agreement to float32 rounding.
        for what, a, f in zip(("AR", "TAR"), ours, theirs):
            if abs(a - f) > 1e-6 * abs(f):
                sys.exit(f"{name}: fastai's RNNRegularizer gives {what} {f}, sequence_penalty {a}")
        print(f"{name}: fastai RNNRegularizer AR {theirs[0]:.9g} TAR {theirs[1]:.9g} (ours {ours[0]:.9g} {ours[1]:.9g})")
    # A pre-ReLU value near zero, or a ReLU unit dead over the whole batch (BatchNorm of a
    # constant), would make the fixture fragile; the weights above avoid both.
    z1 = r64.pop("preReLU")
    assert np.abs(z1).min() > 1e-2, f"pre-ReLU value too close to 0: {np.abs(z1).min()}"
    assert ((z1 > 0).sum(0) >= 2).all(), "a ReLU unit is active on fewer than 2 sequences"
    # A unit active on every sequence feeds BatchNorm an affine function of its bias, so the
    # bias gradient is exactly 0 and only rounding noise would be compared.
    assert ((z1 <= 0).sum(0) >= 1).all(), "a ReLU unit is active on every sequence"

    content = {"about": "Generated by make_fixtures.py (PyTorch " + torch.__version__.split("+")[0]
               + "); see its docstring. One training step (BatchNorm on batch statistics, "
               + "dropout off); gradients are of the mean cross-entropy + AR + TAR.",
               "config": cfg,
               "parameters": {k: tensor(v) for k, v in weights.items()},
               "statistics": {k: tensor(v) for k, v in stats.items()},
               "tokens": tokens, "lengths": lengths, "labels": labels,
               "expected": {
                   "features": tensor(r64["features"]), "logits": tensor(r64["logits"]),
                   "loss": float(r64["loss"]), "ar": float(r64["ar"]), "tar": float(r64["tar"]),
                   "statistics": {k[len("stat."):]: tensor(v) for k, v in r64.items() if k.startswith("stat.")},
                   "gradients": {k[len("grad."):]: tensor(v) for k, v in r64.items() if k.startswith("grad.")}}}
    write(name, content)


if __name__ == "__main__":
    torch.use_deterministic_algorithms(True)
    lm_fixture(with_dropout=False)
    # 7 crosses both chunk boundaries (steps 3 and 6); 1 is a lone token (no TAR pair)
    classifier_fixture("classifier_fixture.json", 1189, [7, 3, 5, 1], fastai_check=False)
    classifier_fixture("classifier_fastai_fixture.json", 2288, [7, 7, 7, 7], fastai_check=True)
    lm_fixture(with_dropout=True)
