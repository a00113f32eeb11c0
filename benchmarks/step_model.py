#!/usr/bin/env python3
"""Paper model of one data-parallel training step on N nodes (benchmarks/README.md, "Several nodes").

    step(N) = compute per node + exposed communication
    compute per node = tokens per node / (tokens/s per core x cores per node)
    ring all-reduce of S bytes over N nodes at bandwidth BW, latency a per message:
        T_ar(N) = 2 (N-1)/N x S / BW + 2 (N-1) a

Two schedules:
  - serial (what ulmfit does): the all-reduce starts when the backward has finished, so all of
    T_ar is exposed;
  - overlapped per layer (PyTorch DDP's buckets, the best a layer-wise scheme can do here): a
    layer's gradient is complete only when its whole BPTT backward is (weight gradients sum over
    all time steps), so buckets become ready in backward order (decoder, LSTM 3, LSTM 2, LSTM 1,
    embedding) and are sent one after the other on the link; the exposed time is what is left
    after the backward ends.

Inputs are measured numbers (this 2-core machine, paper model) or stated assumptions; see the
README for which is which. Usage: python3 benchmarks/step_model.py [--per-core 740 --cores 32 ...]
"""
import argparse

# Paper model, vocabulary 1025: parameters per tensor group in backward order, and the share of
# the backward's time each group takes (proportional to its FLOPs per token, 4H(I+H) for an LSTM
# layer, V x E for the tied decoder).
E, H, V = 400, 1150, 1025
LSTM = [(E, H), (H, H), (H, E)]          # (input, hidden) of layers 1..3


def lstm_params(i, h):
    return 4 * h * (i + h) + 2 * 4 * h


GROUPS = [("decoder", V), ("LSTM 3", lstm_params(*LSTM[2])), ("LSTM 2", lstm_params(*LSTM[1])),
          ("LSTM 1", lstm_params(*LSTM[0])), ("embedding", V * E)]
FLOPS = [V * E, 4 * LSTM[2][1] * sum(LSTM[2]), 4 * LSTM[1][1] * sum(LSTM[1]), 4 * LSTM[0][1] * sum(LSTM[0]), 0]
P = sum(p for _, p in GROUPS)


def ring(n, size_bytes, bandwidth, latency):
    if n == 1:
        return 0.0
    return 2 * (n - 1) / n * size_bytes / bandwidth + 2 * (n - 1) * latency


def exposed_overlapped(n, backward, bandwidth, latency):
    """Communication left after the backward when each group is all-reduced as soon as it is ready."""
    ready, link_free, t = [], 0.0, 0.0
    total_flops = sum(FLOPS)
    for (_, params), flops in zip(GROUPS, FLOPS):
        t += backward * flops / total_flops
        ready.append((t, params))
    for when, params in ready:
        link_free = max(link_free, when) + ring(n, 4 * params, bandwidth, latency)
    return max(0.0, link_free - backward)


def main():
    a = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("--per-core", type=float, default=740.0, help="tokens/s per core (measured: 1,480 tokens/s on 2 workers)")
    a.add_argument("--cores", type=int, default=32, help="cores (workers) per node")
    a.add_argument("--node-efficiency", type=float, default=0.95, help="parallel efficiency inside a node (measured 2 workers: 0.96)")
    a.add_argument("--backward", type=float, default=0.64, help="backward share of the compute (measured split)")
    a.add_argument("--tokens", type=int, default=64 * 70, help="tokens per step at one node (B x T)")
    a.add_argument("--latency", type=float, default=20e-6, help="seconds per message of the ring (TCP ~20 us, InfiniBand ~2 us)")
    a.add_argument("--nodes", default="1,2,3,4,8,16,32,64")
    args = a.parse_args()
    nodes = [int(x) for x in args.nodes.split(",")]
    node_rate = args.per_core * args.cores * args.node_efficiency
    size = 4 * P
    print(f"paper model: {P:,} parameters, gradient {size / 1e6:.1f} MB; node: {args.cores} cores x "
          f"{args.per_core:.0f} tokens/s x {args.node_efficiency:.2f} = {node_rate:,.0f} tokens/s; "
          f"{args.tokens} tokens per node-step at N = 1")
    for scaling in ("weak", "strong"):
        print(f"\n{scaling} scaling ({'B = 64 per node' if scaling == 'weak' else 'B = 64 for the whole job'})")
        print("   N | compute ms | " + " | ".join(f"{g} Gb/s: all-reduce ms, step serial ms (eff), overlapped ms (eff)"
                                                for g in (10, 100)))
        for n in nodes:
            tokens = args.tokens if scaling == "weak" else args.tokens / n
            compute = tokens / node_rate
            cells = []
            for gbps in (10, 100):
                bw = gbps * 1e9 / 8
                t_ar = ring(n, size, bw, args.latency)
                serial = compute + t_ar
                overlapped = compute + exposed_overlapped(n, compute * args.backward, bw, args.latency)
                cells.append(f"{t_ar * 1e3:7.1f}, {serial * 1e3:7.1f} ({compute / serial:4.0%}), "
                             f"{overlapped * 1e3:7.1f} ({compute / overlapped:4.0%})")
            print(f"{n:4d} | {compute * 1e3:10.1f} | " + " | ".join(cells))
        for gbps in (10, 100):
            bw = gbps * 1e9 / 8
            hidden = [n for n in range(2, 1025)
                      if ring(n, size, bw, args.latency)
                      > (args.tokens if scaling == "weak" else args.tokens / n) / node_rate * args.backward]
            first = hidden[0] if hidden else None
            print(f"  {gbps} Gb/s: the all-reduce outlasts the backward from N = {first}" if first
                  else f"  {gbps} Gb/s: the all-reduce stays shorter than the backward up to N = 1024")


if __name__ == "__main__":
    main()
