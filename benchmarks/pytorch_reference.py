#!/usr/bin/env python3
"""PyTorch CPU peer for `ulmfit bench`: the AWD-LSTM language model and the
pooling classifier a PyTorch or fastai user would train, and the classifier's
inference, run the ways such a user would run them.

Tasks (--task):
  lm          the language-model training step (B = 64 streams x T = 70), default;
  classifier  the classifier training step: B = 64 sequences of --length tokens
              (124 = a 251-nt promoter at k = 5, stride 2, every sequence of the
              human set), run in BPTT chunks of 70 with the state detached between
              them (fastai's SentenceEncoder), masked concat pooling, the head
              BN -> Dropout -> Linear(3E, 50) -> ReLU -> BN -> Dropout -> Linear(50, C),
              cross-entropy, AdamW;
  predict     the classifier's forward pass only, torch.inference_mode(), eval
              mode (no dropout, BatchNorm running statistics), batches of --batch
              sequences: sequences/s.
  --model plain (the model written out below) or fastai (fastai 2.8's own
  get_text_classifier(AWD_LSTM, ...), its SentenceEncoder and PoolingLinearClassifier)
  for the classifier tasks.

  threads: one process, torch.set_num_threads(N), PyTorch's intra-op threads;
  ddp:     DistributedDataParallel over gloo, N single-threaded processes,
           each pinned to one CPU, each on B/N of the streams.

The model is written out plainly (no fastai import) to match fastai 2.8's
AWD_LSTM + LinearDecoder and RNNRegularizer, and the Swift trainer:

  embedding (rows of the weight dropped per batch, `embed_p`)
  -> locked input dropout (`input_p`, one mask per sequence, shared over time)
  -> 3 separate single-layer LSTMs E->H, H->H, H->E, each with DropConnect on
     weight_hh (`weight_p`, one mask per forward), locked dropout (`hidden_p`)
     between layers
  -> locked output dropout (`output_p`) -> decoder tied to the embedding, with bias
  loss = CE over all positions + alpha * mean(dropped_out^2)
         + beta * mean((raw_out[t+1] - raw_out[t])^2)
  AdamW(betas=(0.9, 0.99), eps=1e-5, weight_decay=0.01), truncated BPTT with the
  hidden state detached and carried across steps.

The DropConnect weight is passed to `torch.lstm`, the same ATen op nn.LSTM
calls, so PyTorch keeps its fused oneDNN (mkldnn) LSTM on CPU, as fastai's
WeightDropout does by swapping the tensor into nn.LSTM. The backend actually
used is read from the profiler and reported as `lstm_backend`.

Not a CI dependency: nothing CI runs may import this file (it needs torch).

Modes for predict: threads (one process, N intra-op threads on each batch) and
procs (N pinned single-threaded processes, each on its own batches: a scan's way).

Examples:
  python benchmarks/pytorch_reference.py --preset small --mode threads --threads 2 --json
  python benchmarks/pytorch_reference.py --task classifier --preset small --mode ddp --procs 2 --json
  python benchmarks/pytorch_reference.py --task classifier --model fastai --preset small --threads 2 --json
  python benchmarks/pytorch_reference.py --task predict --preset paper --mode procs --procs 2 --json
  python benchmarks/pytorch_reference.py --preset small --mode ddp --procs 2 --json
  python benchmarks/pytorch_reference.py --check      # loss must fall on a repeating pattern
"""

import argparse
import json
import math
import os
import resource
import socket
import statistics
import sys
import time

os.environ.setdefault("KINETO_LOG_LEVEL", "5")  # keep the profiler quiet on stderr

import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {
    "paper": dict(emb=400, hidden=1150, layers=3),
    "small": dict(emb=128, hidden=512, layers=3),
    "tiny": dict(emb=64, hidden=128, layers=3),
}

# fastai awd_lstm_lm_config dropouts.
DROPOUT_DEFAULTS = dict(embed_p=0.02, input_p=0.25, weight_p=0.2, hidden_p=0.15, output_p=0.1)

PAD_TOKEN = 1  # fastai's pad index; the embedding gives it no gradient, as in fastai.


# ----------------------------------------------------------------------------
# Model
# ----------------------------------------------------------------------------

def locked_dropout(x, p, training):
    """Variational dropout on (B, T, F): one mask per sequence, shared over time."""
    if not training or p == 0.0:
        return x
    mask = x.new_empty(x.size(0), 1, x.size(2)).bernoulli_(1 - p).div_(1 - p)
    return x * mask


class WeightDropLSTM(nn.Module):
    """One single-layer nn.LSTM whose weight_hh gets a fresh DropConnect mask
    every forward. The nn.LSTM holds the raw weights (and their default init);
    the forward calls torch.lstm, the op nn.LSTM.forward itself dispatches to,
    with the dropped weight in place of weight_hh, so the fused CPU kernel
    (mkldnn_rnn_layer when oneDNN is on) is kept."""

    def __init__(self, input_size, hidden_size, weight_p):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers=1, batch_first=True)
        self.weight_p = weight_p

    def forward(self, x, state):
        l = self.lstm
        w_hh = F.dropout(l.weight_hh_l0, self.weight_p, self.training)
        params = [l.weight_ih_l0, w_hh, l.bias_ih_l0, l.bias_hh_l0]
        out, h, c = torch.lstm(x, state, params, True, 1, 0.0, self.training, False, True)
        return out, (h, c)


class AWDLSTMLanguageModel(nn.Module):
    def __init__(self, vocab, emb, hidden, layers, embed_p, input_p, weight_p, hidden_p, output_p):
        super().__init__()
        self.encoder = nn.Embedding(vocab, emb, padding_idx=PAD_TOKEN)
        self.encoder.weight.data.uniform_(-0.1, 0.1)  # fastai's initrange
        sizes = [emb] + [hidden] * (layers - 1) + [emb]
        self.rnns = nn.ModuleList(
            WeightDropLSTM(sizes[l], sizes[l + 1], weight_p) for l in range(layers))
        self.decoder = nn.Linear(emb, vocab)
        self.decoder.weight = self.encoder.weight  # tied
        self.decoder.bias.data.zero_()
        self.embed_p, self.input_p, self.hidden_p, self.output_p = embed_p, input_p, hidden_p, output_p
        self.hidden_sizes = sizes[1:]

    def initial_state(self, batch):
        return [(torch.zeros(1, batch, h), torch.zeros(1, batch, h)) for h in self.hidden_sizes]

    def embed(self, tokens):
        w = self.encoder.weight
        if self.training and self.embed_p > 0:
            # One keep/drop decision per vocabulary row, per batch (fastai EmbeddingDropout).
            mask = w.new_empty(w.size(0), 1).bernoulli_(1 - self.embed_p).div_(1 - self.embed_p)
            w = w * mask
        return F.embedding(tokens, w, padding_idx=PAD_TOKEN)

    def forward(self, tokens, state):
        """tokens (B, T) -> logits (B, T, V), raw last-layer output, dropped
        last-layer output, new state (not detached)."""
        x = locked_dropout(self.embed(tokens), self.input_p, self.training)
        new_state = []
        for l, rnn in enumerate(self.rnns):
            x, s = rnn(x, state[l])
            new_state.append(s)
            if l != len(self.rnns) - 1:
                x = locked_dropout(x, self.hidden_p, self.training)
        raw = x
        dropped = locked_dropout(raw, self.output_p, self.training)
        return self.decoder(dropped), raw, dropped, new_state


def lm_loss(logits, targets, raw, dropped, alpha, beta):
    """CE over all positions + AR (on dropped output) + TAR (on raw output)."""
    ce = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))
    loss = ce
    if alpha != 0:
        loss = loss + alpha * dropped.pow(2).mean()
    if beta != 0 and raw.size(1) > 1:
        loss = loss + beta * (raw[:, 1:] - raw[:, :-1]).pow(2).mean()
    return loss, ce


def flops_per_token(args):
    """Training FLOPs per token: 3 x forward; forward = 8H(I+H) per LSTM layer + 2EV."""
    sizes = [args.emb] + [args.hidden] * (args.layers - 1) + [args.emb]
    lstm = sum(4 * sizes[l + 1] * (sizes[l] + sizes[l + 1]) for l in range(args.layers))
    return 3 * 2 * (lstm + args.emb * args.vocab)


# ----------------------------------------------------------------------------
# Data: the global batch for a step is the same whatever the worker count
# ----------------------------------------------------------------------------

def global_batch(args, step):
    """(B, T+1) token ids for `step`; inputs are [:, :T], targets [:, 1:]."""
    B, T = args.batch, args.bptt
    if args.data == "pattern":
        # Each stream cycles through a fixed sequence of `period` tokens, with its
        # own phase, continuing across steps: learnable, so the loss must fall.
        period = 16
        pos = torch.arange(step * T, step * T + T + 1).unsqueeze(0) + 5 * torch.arange(B).unsqueeze(1)
        return 2 + (pos % period) * ((args.vocab - 2) // period)
    g = torch.Generator().manual_seed(args.seed * 1_000_003 + step)
    return torch.randint(0, args.vocab, (B, T + 1), generator=g)


# ----------------------------------------------------------------------------
# Training loop (shared by both modes)
# ----------------------------------------------------------------------------

def build(args):
    torch.manual_seed(args.seed)
    model = AWDLSTMLanguageModel(args.vocab, args.emb, args.hidden, args.layers,
                                 args.embed_p, args.input_p, args.weight_p,
                                 args.hidden_p, args.output_p)
    model.train()
    return model


def make_optimizer(params, args):
    return torch.optim.AdamW(params, lr=args.lr, betas=(0.9, 0.99), eps=1e-5, weight_decay=0.01)


def lstm_backend(step_fn):
    """Runs one step under the profiler and names the LSTM kernels it used."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step_fn()
    names = {e.key for e in prof.key_averages()}
    fused = sorted(n for n in names if n.startswith("aten::mkldnn_rnn_layer"))
    if fused:
        return "oneDNN fused LSTM (" + ", ".join(fused) + ")"
    cells = sorted(n for n in names if "lstm" in n.lower() or "cell" in n.lower())
    return "native ATen LSTM (" + ", ".join(cells) + ")"


def backends_agree(args):
    """One forward/backward of the same model, same dropout masks, with oneDNN's
    fused LSTM and with the native ATen LSTM: returns the largest gradient
    difference relative to the largest gradient, over all parameters."""
    grads = []
    for use_mkldnn in (True, False):
        torch.backends.mkldnn.enabled = use_mkldnn
        model = build(args)
        batch = global_batch(args, 0)
        torch.manual_seed(args.seed + 1)  # the same masks for both runs
        logits, raw, dropped, _ = model(batch[:, :-1], model.initial_state(args.batch))
        loss, _ = lm_loss(logits, batch[:, 1:], raw, dropped, args.alpha, args.beta)
        loss.backward()
        grads.append([p.grad.clone() for p in model.parameters()])
    torch.backends.mkldnn.enabled = True
    scale = max(g.abs().max().item() for g in grads[1])
    return max((a - b).abs().max().item() for a, b in zip(*grads)) / scale


def train(args, model, module, rows, barrier=None, report_loss=False):
    """Runs warm-up + timed steps on the given stream rows of each global batch.
    `model` is what is called (maybe DDP-wrapped), `module` the bare model.
    Returns (step times of the timed steps, losses of all steps, backend)."""
    opt = make_optimizer(model.parameters(), args)
    lo, hi = rows
    state = module.initial_state(hi - lo)
    counter = {"step": 0}

    def one_step():
        nonlocal state
        batch = global_batch(args, counter["step"])[lo:hi]
        counter["step"] += 1
        logits, raw, dropped, new_state = model(batch[:, :-1], state)
        loss, ce = lm_loss(logits, batch[:, 1:], raw, dropped, args.alpha, args.beta)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        state = [(h.detach(), c.detach()) for h, c in new_state]
        return ce.item()

    return timed_steps(one_step, args, barrier, report_loss, "ce")


def timed_steps(one_step, args, barrier, verbose, name):
    """Runs one untimed step (which also names the LSTM backend), then args.warmup + args.steps
    steps between barriers (a step ends when the slowest worker has stepped); returns the timed
    steps' seconds, every step's loss (called `name` in the verbose lines) and the backend."""
    backend = lstm_backend(one_step)
    times, losses = [], []
    for i in range(args.warmup + args.steps):
        if barrier:
            barrier()
        t0 = time.perf_counter()
        loss = one_step()
        if barrier:
            barrier()
        dt = time.perf_counter() - t0
        losses.append(loss)
        if i >= args.warmup:
            times.append(dt)
        if verbose:
            print(f"step {i:3d}  {name} {loss:.4f}  {dt * 1000:8.1f} ms", file=sys.stderr)
    return times, losses, backend


def max_rss_mb():
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(self_kb, child_kb) / 1024.0


# ----------------------------------------------------------------------------
# Modes
# ----------------------------------------------------------------------------

def run_threads(args):
    torch.set_num_threads(args.threads)
    model = build(args)
    times, losses, backend = train(args, model, model, (0, args.batch), report_loss=args.verbose)
    return dict(workers=args.threads, times=times, losses=losses, backend=backend,
                peak_rss_mb=max_rss_mb(), peak_rss_mb_total=max_rss_mb())


def ddp_worker(rank, args, port, queue):
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel as DDP

    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[rank % len(cpus)]})
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}",
                            rank=rank, world_size=args.procs)
    model = build(args)  # same seed: identical replicas (DDP also broadcasts rank 0's)
    ddp = DDP(model)
    share = args.batch // args.procs
    times, losses, backend = train(args, ddp, model, (rank * share, (rank + 1) * share),
                                   barrier=dist.barrier, report_loss=args.verbose and rank == 0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    queue.put(dict(rank=rank, times=times, losses=losses, backend=backend, rss=rss))
    dist.barrier()
    dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn_workers(target, args):
    """Runs target(rank, args, port, queue) in args.procs spawned processes; returns each rank's
    result (what it put on the queue) by rank, and exits naming a worker that failed."""
    import torch.multiprocessing as mp
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    port = free_port()
    procs = [ctx.Process(target=target, args=(r, args, port, queue)) for r in range(args.procs)]
    for p in procs:
        p.start()
    results = {}
    for _ in procs:
        r = queue.get()
        results[r["rank"]] = r
    for rank, p in enumerate(procs):
        p.join()
        if p.exitcode != 0:
            sys.exit(f"worker process {rank} exited with {p.exitcode}")
    return results


def run_ddp(args):
    if args.batch % args.procs != 0:
        sys.exit(f"--batch {args.batch} is not divisible by --procs {args.procs}")
    results = spawn_workers(ddp_worker, args)
    r0 = results[0]
    return dict(workers=args.procs, times=r0["times"], losses=r0["losses"], backend=r0["backend"],
                peak_rss_mb=max_rss_mb(),
                peak_rss_mb_total=sum(r["rss"] for r in results.values()))


# ----------------------------------------------------------------------------
# Classifier (--task classifier | predict)
# ----------------------------------------------------------------------------

# fastai's awd_lstm_clas_config dropouts; `ulmfit train-classifier` scales them by
# --drop-mult 0.5, and so does this peer (--drop-mult).
CLAS_DROPOUTS = dict(embed_p=0.05, input_p=0.4, weight_p=0.5, hidden_p=0.3, output_p=0.4)


class AWDLSTMClassifier(nn.Module):
    """The pooling classifier written out plainly, as ulmfit's ClassifierTrainer runs it:
    the AWD-LSTM encoder over BPTT chunks from a zero state (each chunk a fresh call with
    fresh dropout masks and the state detached after it, as fastai's SentenceEncoder calls
    AWD_LSTM), masked concat pooling [last real step, max, mean] over the real steps, and
    the head BN(3E) -> Dropout(output_p) -> Linear(3E, 50) -> ReLU -> BN(50) -> Dropout(0.1)
    -> Linear(50, C) (with biases, as fastai 1's bn_drop_lin and ulmfit's head)."""

    def __init__(self, vocab, emb, hidden, layers, classes, bptt, embed_p, input_p, weight_p,
                 hidden_p, output_p, head_hidden=50, head_p=0.1):
        super().__init__()
        # Reuse the LM's embedding and LSTM stack (same init, same dropouts); no decoder.
        lm = AWDLSTMLanguageModel(vocab, emb, hidden, layers, embed_p, input_p, weight_p, hidden_p, 0.0)
        self.encoder, self.rnns = lm.encoder, lm.rnns
        self.lm = [lm]  # not a submodule: its decoder is unused
        self.bptt = bptt
        self.head = nn.Sequential(
            nn.BatchNorm1d(3 * emb), nn.Dropout(output_p), nn.Linear(3 * emb, head_hidden), nn.ReLU(inplace=True),
            nn.BatchNorm1d(head_hidden), nn.Dropout(head_p), nn.Linear(head_hidden, classes))

    def forward(self, tokens, lengths):
        """tokens (B, L) padded after each row's length; lengths (B,) -> logits (B, C)."""
        lm = self.lm[0]
        lm.train(self.training)
        B, L = tokens.shape
        state = lm.initial_state(B)
        outs = []
        for i in range(0, L, self.bptt):
            x = locked_dropout(lm.embed(tokens[:, i:i + self.bptt]), lm.input_p, self.training)
            new_state = []
            for l, rnn in enumerate(self.rnns):
                x, s = rnn(x, state[l])
                new_state.append(s)
                if l != len(self.rnns) - 1:
                    x = locked_dropout(x, lm.hidden_p, self.training)
            state = [(h.detach(), c.detach()) for h, c in new_state]
            outs.append(x)
        out = torch.cat(outs, dim=1)                                  # (B, L, E)
        steps = torch.arange(L).unsqueeze(0)
        pad = (steps >= lengths.unsqueeze(1)).unsqueeze(2)            # (B, L, 1)
        last = out[torch.arange(B), lengths - 1]
        maxed = out.masked_fill(pad, -float("inf")).max(dim=1)[0]
        mean = out.masked_fill(pad, 0).sum(dim=1) / lengths.unsqueeze(1).to(out.dtype)
        return self.head(torch.cat([last, maxed, mean], dim=1))


class FastaiClassifier(nn.Module):
    """fastai 2.8's own get_text_classifier(AWD_LSTM, ...): its SentenceEncoder (chunks of
    `bptt`, padding first as fastai's classification batches have it) and its
    PoolingLinearClassifier (masked_concat_pool, LinBnDrop layers)."""

    def __init__(self, vocab, emb, hidden, layers, classes, bptt, drop_mult):
        super().__init__()
        from fastai.text.all import AWD_LSTM, get_text_classifier
        config = dict(emb_sz=emb, n_hid=hidden, n_layers=layers)
        self.model = get_text_classifier(AWD_LSTM, vocab, classes, seq_len=bptt, config=config,
                                         drop_mult=drop_mult, pad_idx=PAD_TOKEN)

    def forward(self, tokens, lengths):
        B, L = tokens.shape
        if bool((lengths < L).any()):
            # fastai pads classification batches at the front: move each row's padding there.
            shifted = torch.full_like(tokens, PAD_TOKEN)
            for r in range(B):
                n = int(lengths[r])
                shifted[r, L - n:] = tokens[r, :n]
            tokens = shifted
        return self.model(tokens)[0]


def build_classifier(args):
    torch.manual_seed(args.seed)
    if args.model == "fastai":
        model = FastaiClassifier(args.vocab, args.emb, args.hidden, args.layers, args.classes, args.bptt,
                                 args.drop_mult)
    else:
        p = {k: v * args.drop_mult for k, v in CLAS_DROPOUTS.items()}
        model = AWDLSTMClassifier(args.vocab, args.emb, args.hidden, args.layers, args.classes, args.bptt, **p)
    if args.freeze_to:
        freeze_to(model, args.freeze_to)
    return model


def layer_groups(model):
    """fastai's classifier layer groups: embedding, each LSTM layer, head (fastai's own
    awd_lstm_clas_split for its model)."""
    if isinstance(model, FastaiClassifier):
        from fastai.text.all import awd_lstm_clas_split
        return [list(g) for g in awd_lstm_clas_split(model.model)]
    return ([list(model.encoder.parameters())] + [list(r.parameters()) for r in model.rnns]
            + [list(model.head.parameters())])


def frozen_count(n, groups):
    """How many of `groups` layer groups, from the first, fastai's freeze_to(n) freezes
    (negative n counts from the end; 0 freezes none)."""
    return n if n >= 0 else groups + n


def freeze_to(model, n):
    """fastai's freeze_to(n): the groups before index n stop requiring gradients, so autograd
    skips their weight gradients and everything below the lowest trainable group."""
    groups = layer_groups(model)
    for g in groups[:frozen_count(n, len(groups))]:
        for param in g:
            param.requires_grad_(False)


def classifier_batch(args, step):
    """(tokens (B, L), lengths (B,), labels (B,)) for `step`: random k-mer ids (never the
    padding id), rows padded after their length. With every length equal to --length (the
    human set: all 251 nt), nothing is padded."""
    g = torch.Generator().manual_seed(args.seed * 1_000_003 + step)
    B, L = args.batch, args.length
    tokens = torch.randint(2, args.vocab, (B, L), generator=g)
    if args.min_length < L:
        lengths = torch.randint(args.min_length, L + 1, (B,), generator=g)
        lengths[0] = L
        tokens = tokens.masked_fill(torch.arange(L).unsqueeze(0) >= lengths.unsqueeze(1), PAD_TOKEN)
    else:
        lengths = torch.full((B,), L, dtype=torch.long)
    labels = torch.randint(0, args.classes, (B,), generator=g)
    return tokens, lengths, labels


def classifier_flops_per_token(args):
    """Training FLOPs per token of the encoder (the head is < 0.1%): 3 x forward with every
    group trainable; under --freeze-to N the forward plus, per layer that runs a backward, the
    recurrent gradient, its weight gradients if it trains and its input gradient if something
    below it trains (ulmfit's AWDLSTMConfig.classifierTrainingFLOPsPerToken)."""
    sizes = [args.emb] + [args.hidden] * (args.layers - 1) + [args.emb]
    groups = args.layers + 2                               # embedding, rnn 0..L-1, head
    trains = [g >= frozen_count(args.freeze_to, groups) for g in range(groups)]
    macs = sum(4 * sizes[l + 1] * (sizes[l] + sizes[l + 1]) for l in range(args.layers))
    for l in range(args.layers):
        i, h = sizes[l], sizes[l + 1]
        below = any(trains[:l + 1])                        # the embedding and layers 0..l-1
        if trains[l + 1] or below:
            macs += 4 * h * h
            macs += 4 * h * (i + h) if trains[l + 1] else 0
            macs += 4 * h * i if below else 0
    return 2 * macs


def train_classifier(args, model, module, rows, barrier=None):
    """Warm-up + timed classifier steps on `rows` of each global batch; returns
    (step times, losses, backend)."""
    opt = make_optimizer(model.parameters(), args)
    lo, hi = rows
    counter = {"step": 0}

    def one_step():
        tokens, lengths, labels = classifier_batch(args, counter["step"])
        counter["step"] += 1
        logits = model(tokens[lo:hi], lengths[lo:hi])
        loss = F.cross_entropy(logits, labels[lo:hi])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    module.train()
    return timed_steps(one_step, args, barrier, args.verbose, "loss")


def predict_batches(args, model, count, first):
    """Forward passes over `count` batches (ids first, first + 1, ...) in inference mode;
    returns the seconds of each."""
    times = []
    # --bf16: CPU autocast to bfloat16 (oneDNN's BF16 LSTM and GEMMs where the CPU has them).
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
        for i in range(count):
            tokens, lengths, _ = classifier_batch(args, first + i)
            t0 = time.perf_counter()
            torch.softmax(model(tokens, lengths).float(), dim=1)
            times.append(time.perf_counter() - t0)
    return times


def run_classifier_threads(args):
    torch.set_num_threads(args.threads)
    model = build_classifier(args)
    if args.task == "predict":
        model.eval()
        predict_batches(args, model, args.warmup, 0)
        t0 = time.perf_counter()
        times = predict_batches(args, model, args.steps, args.warmup)
        wall = time.perf_counter() - t0
        return dict(workers=args.threads, times=times, losses=[0.0], backend=predict_backend(args, model),
                    wall=wall, batches=args.steps, peak_rss_mb=max_rss_mb(), peak_rss_mb_total=max_rss_mb())
    times, losses, backend = train_classifier(args, model, model, (0, args.batch))
    return dict(workers=args.threads, times=times, losses=losses, backend=backend,
                peak_rss_mb=max_rss_mb(), peak_rss_mb_total=max_rss_mb())


def predict_backend(args, model):
    def once():
        predict_batches(args, model, 1, 0)
    return lstm_backend(once)


def classifier_worker(rank, args, port, queue):
    """A DDP rank (classifier training) or an independent inference process (predict)."""
    import torch.distributed as dist
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[rank % len(cpus)]})
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=args.procs)
    model = build_classifier(args)
    if args.task == "predict":
        # Independent batches per process (batch ids interleaved by rank), as a scan splits
        # its windows; throughput = all processes' sequences / wall time between barriers.
        model.eval()
        predict_batches(args, model, args.warmup, rank * 1000)
        dist.barrier()
        t0 = time.perf_counter()
        times = predict_batches(args, model, args.steps, rank * 1000 + args.warmup)
        dist.barrier()
        wall = time.perf_counter() - t0
        backend = predict_backend(args, model) if rank == 0 else ""
        queue.put(dict(rank=rank, times=times, losses=[0.0], backend=backend, wall=wall,
                       rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0))
    else:
        from torch.nn.parallel import DistributedDataParallel as DDP
        share = args.batch // args.procs
        times, losses, backend = train_classifier(args, DDP(model), model, (rank * share, (rank + 1) * share),
                                                  barrier=dist.barrier)
        queue.put(dict(rank=rank, times=times, losses=losses, backend=backend,
                       rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0))
    dist.barrier()
    dist.destroy_process_group()


def run_classifier_procs(args):
    if args.task != "predict" and args.batch % args.procs != 0:
        sys.exit(f"--batch {args.batch} is not divisible by --procs {args.procs}")
    results = spawn_workers(classifier_worker, args)
    r0 = results[0]
    out = dict(workers=args.procs, times=r0["times"], losses=r0["losses"], backend=r0["backend"],
               peak_rss_mb=max_rss_mb(), peak_rss_mb_total=sum(r["rss"] for r in results.values()))
    if args.task == "predict":
        out["wall"] = max(r["wall"] for r in results.values())
        out["batches"] = args.steps * args.procs
    return out


# ----------------------------------------------------------------------------
# CLI
# ----------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", choices=["lm", "classifier", "predict"], default="lm")
    p.add_argument("--model", choices=["plain", "fastai"], default="plain",
                   help="classifier tasks: the model written out here, or fastai's get_text_classifier")
    p.add_argument("--mode", choices=["threads", "ddp", "procs"], default="threads",
                   help="ddp: training over N pinned processes; procs: predict on N pinned processes")
    p.add_argument("--threads", type=int, default=1, help="threads mode: torch.set_num_threads(N)")
    p.add_argument("--procs", type=int, default=2, help="ddp mode: single-threaded pinned processes")
    p.add_argument("--preset", choices=sorted(PRESETS), help="sets --emb/--hidden/--layers")
    p.add_argument("--vocab", type=int, default=1025)
    p.add_argument("--emb", type=int, default=400)
    p.add_argument("--hidden", type=int, default=1150)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--batch", type=int, default=64, help="streams (lm) or sequences per batch")
    p.add_argument("--length", type=int, default=124,
                   help="classifier tasks: tokens per sequence (251 nt at k = 5, stride 2)")
    p.add_argument("--min-length", type=int,
                   help="classifier tasks: draw lengths in [min, --length], padded (default: all --length)")
    p.add_argument("--classes", type=int, default=2)
    p.add_argument("--bf16", action="store_true",
                   help="predict: torch.autocast('cpu', dtype=torch.bfloat16) around the forward (not FP32)")
    p.add_argument("--freeze-to", type=int, default=0,
                   help="classifier: fastai's freeze_to(N) before the timed steps (-1: head only; 0: all train)")
    p.add_argument("--drop-mult", type=float, default=0.5, help="classifier dropouts x this (ulmfit's default)")
    p.add_argument("--bptt", type=int, default=70)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--alpha", type=float, default=2.0, help="AR weight")
    p.add_argument("--beta", type=float, default=1.0, help="TAR weight")
    for name, value in DROPOUT_DEFAULTS.items():
        p.add_argument("--" + name.replace("_", "-"), dest=name, type=float, default=value)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", choices=["random", "pattern"], default="random")
    p.add_argument("--no-mkldnn", action="store_true", help="disable oneDNN (native ATen LSTM)")
    p.add_argument("--peak-gflops", type=float, help="FMA peak of the workers used, for a %% of peak")
    p.add_argument("--check", action="store_true",
                   help="correctness check: tiny preset, repeating pattern, 30 steps; fails unless CE falls")
    p.add_argument("--json", action="store_true", help="print one JSON line to stdout")
    p.add_argument("--verbose", action="store_true", help="per-step CE and time on stderr")
    args = p.parse_args(argv)
    if args.check:
        args.preset, args.data, args.warmup, args.steps, args.verbose = "tiny", "pattern", 0, 30, True
        args.lr = 1e-2
    if args.preset:
        for k, v in PRESETS[args.preset].items():
            setattr(args, k, v)
    if args.min_length is None:
        args.min_length = args.length
    if not 1 <= args.min_length <= args.length:
        p.error(f"--min-length must be in 1..--length ({args.length}), got {args.min_length}")
    if args.task == "lm" and (args.model != "plain" or args.mode == "procs"):
        p.error("--task lm runs the plain model in threads or ddp mode")
    if args.bf16 and args.task != "predict":
        p.error("--bf16 applies to --task predict")
    if args.freeze_to and args.task != "classifier":
        p.error("--freeze-to applies to --task classifier")
    if not -(args.layers + 2) <= args.freeze_to <= args.layers + 2:
        p.error(f"--freeze-to must be in {-(args.layers + 2)}..{args.layers + 2} ({args.layers + 2} layer groups)")
    if args.task == "classifier" and args.mode == "procs":
        p.error("--task classifier: use --mode ddp for several processes")
    if args.task == "predict" and args.mode == "ddp":
        args.mode = "procs"   # inference has no gradients to all-reduce: independent processes
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.no_mkldnn:
        torch.backends.mkldnn.enabled = False
    if args.task != "lm":
        return classifier_main(args)
    result = run_ddp(args) if args.mode == "ddp" else run_threads(args)

    times = result["times"]
    median = statistics.median(times)
    tokens_per_s = args.batch * args.bptt / median
    fpt = flops_per_token(args)
    record = {
        "impl": "pytorch", "mode": args.mode, "workers": result["workers"],
        "emb": args.emb, "hidden": args.hidden, "layers": args.layers, "vocab": args.vocab,
        "batch": args.batch, "bptt": args.bptt, "warmup": args.warmup, "steps": args.steps,
        "tokens_per_s": tokens_per_s,
        "step_s_median": median, "step_s_min": min(times), "step_s_max": max(times),
        "flops_per_token": fpt, "gflops": fpt * tokens_per_s / 1e9,
        "peak_rss_mb": result["peak_rss_mb"], "peak_rss_mb_total": result["peak_rss_mb_total"],
        "torch": torch.__version__, "mkldnn": torch.backends.mkldnn.is_available(),
        "mkldnn_enabled": torch.backends.mkldnn.enabled,
        "lstm_backend": result["backend"],
        "ce_first": result["losses"][0], "ce_last": result["losses"][-1],
    }
    if args.peak_gflops:
        record["fraction_of_peak"] = record["gflops"] / args.peak_gflops

    if args.check:
        losses = result["losses"]
        first, last = statistics.mean(losses[:3]), statistics.mean(losses[-3:])
        falls = math.isfinite(last) and last < 0.5 * first
        diff = backends_agree(args)
        agree = diff < 1e-4
        print(f"LSTM backend: {result['backend']}", file=sys.stderr)
        print(f"check: CE {first:.3f} (first 3 steps) -> {last:.3f} (last 3): "
              f"{'PASS' if falls else 'FAIL'}", file=sys.stderr)
        print(f"check: gradients oneDNN vs native ATen LSTM, max |diff| / max |grad| = {diff:.2e}: "
              f"{'PASS' if agree else 'FAIL'}", file=sys.stderr)
        if not (falls and agree):
            sys.exit(1)

    if args.json:
        print(json.dumps(record))
    else:
        print(f"{args.mode} x{result['workers']}  E={args.emb} H={args.hidden}x{args.layers}  "
              f"{tokens_per_s:,.0f} tokens/s  median step {median * 1000:.1f} ms "
              f"[{min(times) * 1000:.1f}-{max(times) * 1000:.1f}]  {record['gflops']:.1f} GFLOP/s  "
              f"peak RSS {record['peak_rss_mb']:.0f} MB  backend: {result['backend']}")


def classifier_main(args):
    """--task classifier | predict: runs the mode, prints the record (keys of `ulmfit bench
    step --task classifier --json` / `bench predict --json`)."""
    if args.mode == "threads":
        result = run_classifier_threads(args)
    else:
        result = run_classifier_procs(args)
    fpt = classifier_flops_per_token(args)
    tokens_per_sequence = (args.length + args.min_length) / 2 if args.min_length < args.length else args.length
    times = result["times"]
    median = statistics.median(times)
    if args.task == "predict":
        fpt /= 3   # forward only
        sequences_per_s = result["batches"] * args.batch / result["wall"]
    else:
        sequences_per_s = args.batch / median
    tokens_per_s = sequences_per_s * tokens_per_sequence
    record = {
        "impl": "pytorch" if args.model == "plain" else "fastai", "task": args.task, "model": args.model,
        "mode": args.mode, "workers": result["workers"],
        "emb": args.emb, "hidden": args.hidden, "layers": args.layers, "vocab": args.vocab,
        "batch": args.batch, "length": args.length, "min_length": args.min_length, "bptt": args.bptt,
        "freeze_to": args.freeze_to, "precision": "bf16-autocast" if args.bf16 else "fp32", "warmup": args.warmup, "steps": args.steps,
        "sequences_per_s": sequences_per_s, "tokens_per_s": tokens_per_s,
        "step_s_median": median, "step_s_min": min(times), "step_s_max": max(times),
        "flops_per_token": fpt, "gflops": fpt * tokens_per_s / 1e9,
        "peak_rss_mb": result["peak_rss_mb"], "peak_rss_mb_total": result["peak_rss_mb_total"],
        "torch": torch.__version__, "mkldnn_enabled": torch.backends.mkldnn.enabled,
        "lstm_backend": result["backend"], "loss_first": result["losses"][0], "loss_last": result["losses"][-1],
    }
    if args.peak_gflops:
        record["fraction_of_peak"] = record["gflops"] / args.peak_gflops
    if args.json:
        print(json.dumps(record))
    else:
        print(f"{record['impl']} {args.task} {args.mode} x{result['workers']}  E={args.emb} H={args.hidden}x{args.layers}  "
              f"{sequences_per_s:,.1f} sequences/s  {tokens_per_s:,.0f} tokens/s  median batch {median * 1000:.1f} ms "
              f"[{min(times) * 1000:.1f}-{max(times) * 1000:.1f}]  {record['gflops']:.1f} GFLOP/s  "
              f"peak RSS {record['peak_rss_mb']:.0f} MB  backend: {result['backend']}")


if __name__ == "__main__":
    main()
