#!/usr/bin/env python3
"""Paper model of one data-parallel training step of the paper-size AWD-LSTM on N nodes
(benchmarks/README.md, "Several nodes").

    step(N)   = compute(N) + exposed communication
    compute   = b x T / r(b): every worker of every node runs b streams of T tokens at r(b) tokens/s
                (r measured on one core at several per-worker batches b; linear in between)
    T_ar(N)   = 2 (N-1)/N x S / BW + 2 (N-1) x a: ring all-reduce of the S-byte gradient over N
                nodes, link bandwidth BW, a seconds per message

Two schedules:
  serial      the all-reduce starts after the backward (what ulmfit does): all of T_ar is exposed;
  overlapped  the best a per-layer scheme (PyTorch DDP's buckets) can do here: a layer's gradient
              is complete only when its whole BPTT backward is (weight gradients sum over all time
              steps), so the groups become ready in backward order (decoder, LSTM 3, LSTM 2,
              LSTM 1, embedding), go out one after the other, and what is left after the
              backward ends is exposed.

Weak scaling keeps b per worker (the global batch grows with N); strong scaling keeps the
global batch B, so b = B / (workers per node x N) shrinks, and with it r(b).
Usage: python3 benchmarks/step_model.py [--cores 16 --rates 4:...,8:...,16:...,32:... ...]
"""
import argparse

E, H, V = 400, 1150, 1025
LSTM = [(E, H), (H, H), (H, E)]          # (input, hidden) of layers 1..3


def lstm_params(i, h):
    return 4 * h * (i + h) + 2 * 4 * h


# Backward order: parameters per group and FLOPs per token (the share of the backward's time).
GROUPS = [("decoder", V, V * E), ("LSTM 3", lstm_params(*LSTM[2]), 4 * LSTM[2][1] * sum(LSTM[2])),
          ("LSTM 2", lstm_params(*LSTM[1]), 4 * LSTM[1][1] * sum(LSTM[1])),
          ("LSTM 1", lstm_params(*LSTM[0]), 4 * LSTM[0][1] * sum(LSTM[0])), ("embedding", V * E, 0)]
P = sum(p for _, p, _ in GROUPS)


def ring(n, size_bytes, bandwidth, latency):
    return 0.0 if n == 1 else 2 * (n - 1) / n * size_bytes / bandwidth + 2 * (n - 1) * latency


def exposed_overlapped(n, backward, bandwidth, latency):
    """Communication left after the backward when each group is all-reduced as soon as it is ready."""
    total_flops = sum(f for _, _, f in GROUPS)
    t, link_free = 0.0, 0.0
    for _, params, flops in GROUPS:
        t += backward * flops / total_flops
        link_free = max(link_free, t) + ring(n, 4 * params, bandwidth, latency)
    return max(0.0, link_free - backward)


def rate(rates, b):
    """Tokens/s of one worker at b streams, linear between measured points; None outside them."""
    points = sorted(rates.items())
    if b < points[0][0] or b > points[-1][0]:
        return None
    for (b0, r0), (b1, r1) in zip(points, points[1:]):
        if b0 <= b <= b1:
            return r0 + (r1 - r0) * (b - b0) / (b1 - b0)
    return points[0][1]


def main():
    a = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("--rates", default="1:180,2:258,4:481,8:540,16:735,32:735,64:774",
                   help="per-worker batch:tokens/s of one worker (bench step --workers 1 --batch b; the "
                        "defaults are the 2026-11-30 fractions of peak scaled to the quiet 774 tokens/s at b = 64)")
    a.add_argument("--cores", type=int, default=16, help="workers per node (one per core)")
    a.add_argument("--node-efficiency", type=float, default=0.95,
                   help="tokens/s of W workers / (W x one worker's), inside a node (measured at W = 2: 0.96)")
    a.add_argument("--backward", type=float, default=0.64, help="backward share of the compute (measured split)")
    a.add_argument("--bptt", type=int, default=70)
    a.add_argument("--weak-batch", type=int, default=32, help="streams per worker under weak scaling")
    a.add_argument("--strong-batch", type=int, default=64, help="global batch under strong scaling (the project's default)")
    a.add_argument("--latency", type=float, default=20e-6, help="seconds per message (TCP ~20 us, InfiniBand ~2 us)")
    a.add_argument("--nodes", default="1,2,4,8,16")
    a.add_argument("--gbps", default="1,10,100", help="link bandwidths in Gb/s")
    args = a.parse_args()
    rates = {int(k): float(v) for k, v in (x.split(":") for x in args.rates.split(","))}
    nodes = [int(x) for x in args.nodes.split(",")]
    links = [float(x) for x in args.gbps.split(",")]
    size = 4 * P
    print(f"paper model: {P:,} parameters, gradient {size / 1e6:.1f} MB; {args.cores} workers per node; "
          f"one worker's tokens/s at b streams: {rates}")
    for scaling in ("weak", "strong"):
        what = (f"{args.weak_batch} streams per worker, B = {args.weak_batch * args.cores} x N" if scaling == "weak"
                else f"B = {args.strong_batch} for the whole job")
        print(f"\n{scaling} scaling ({what})")
        print("   N |    b | compute ms | " + " | ".join(
            f"{g:g} Gb/s: all-reduce, serial step (comm %), overlapped step, ms" for g in links))
        crossing = {}
        for n in nodes:
            b = args.weak_batch if scaling == "weak" else args.strong_batch / (args.cores * n)
            r = rate(rates, b)
            if r is None:
                print(f"{n:4d} | {b:4.2g} | b outside the measured {min(rates)}-{max(rates)} streams per worker")
                continue
            compute = b * args.bptt / (r * args.node_efficiency)
            cells = []
            for gbps in links:
                bw = gbps * 1e9 / 8
                t_ar = ring(n, size, bw, args.latency)
                serial = compute + t_ar
                overlapped = compute + exposed_overlapped(n, compute * args.backward, bw, args.latency)
                cells.append(f"{t_ar * 1e3:7.1f}, {serial * 1e3:7.1f} ({t_ar / serial:4.0%}), {overlapped * 1e3:7.1f}")
                if t_ar > compute * args.backward and gbps not in crossing:
                    crossing[gbps] = n
            print(f"{n:4d} | {b:4.2g} | {compute * 1e3:10.1f} | " + " | ".join(cells))
        for gbps in links:
            print(f"  {gbps:g} Gb/s: " + (f"the all-reduce outlasts the backward from N = {crossing[gbps]}" if gbps in crossing
                                          else f"the all-reduce stays shorter than the backward for N <= {nodes[-1]}"))


if __name__ == "__main__":
    main()
