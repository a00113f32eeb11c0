#!/usr/bin/env python3
"""The transfer figures (issue 21), as SVG a person can open, from the runs' own CSV logs.

    python3 benchmarks/transfer/plots.py lm OUT.svg MARKOV.txt LABEL=RUN_FOLDER...
        each LM's validation loss against tokens seen (its valid.csv; tokens = step x batch x bptt
        from its config.yaml), with the Markov chains of MARKOV.txt (markov_baseline.py's output,
        the same held-out tokens) as horizontal lines.

    python3 benchmarks/transfer/plots.py probe OUT.svg OUT.csv LM_RUN PROBE_FOLDER
        the head-only probe (train-classifier --stages head): validation MCC of the head trained on
        each LM checkpoint's frozen encoder (PROBE_FOLDER/stepN/valid.csv, last epoch) against that
        checkpoint's validation loss (LM_RUN/valid.csv at step N); PROBE_FOLDER/random, the random
        encoder, at the loss of the untrained LM (step 0). Also writes the points to OUT.csv.

Only the standard library: the SVG is written by hand (no plotting package on these machines).
"""
import csv
import math
import os
import re
import sys

W, H, LEFT, RIGHT, TOP, BOTTOM = 760, 440, 70, 200, 30, 50
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def config_value(run, key):
    """`key: value` of a run's config.yaml (the first match; enough for batch and bptt)."""
    with open(os.path.join(run, "config.yaml")) as f:
        for line in f:
            m = re.match(rf"\s*{key}:\s*([0-9.e+-]+)", line)
            if m:
                return float(m.group(1))
    raise KeyError(f"{run}/config.yaml has no {key}")


def markov_lines(path):
    out = []
    with open(path) as f:
        for line in f:
            m = re.match(r"order (\d+): ([0-9.]+)", line)
            if m:
                out.append((int(m.group(1)), float(m.group(2))))
    return out


class Chart:
    def __init__(self, title, xlabel, ylabel, xs, ys, xlog=False):
        self.title, self.xlabel, self.ylabel, self.xlog = title, xlabel, ylabel, xlog
        tx = [math.log10(x) for x in xs] if xlog else xs
        self.x0, self.x1 = min(tx), max(tx)
        self.y0, self.y1 = min(ys), max(ys)
        pad = (self.y1 - self.y0) * 0.05 or 0.05
        self.y0, self.y1 = self.y0 - pad, self.y1 + pad
        if self.x1 == self.x0:
            self.x1 = self.x0 + 1
        self.parts = []

    def px(self, x):
        t = math.log10(x) if self.xlog else x
        return LEFT + (t - self.x0) / (self.x1 - self.x0) * (W - LEFT - RIGHT)

    def py(self, y):
        return TOP + (self.y1 - y) / (self.y1 - self.y0) * (H - TOP - BOTTOM)

    def line(self, points, color, label, row, dash=None, dots=False):
        path = " ".join(f"{'M' if i == 0 else 'L'}{self.px(x):.1f},{self.py(y):.1f}" for i, (x, y) in enumerate(points))
        style = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(f'<path d="{path}" fill="none" stroke="{color}" stroke-width="1.6"{style}/>')
        if dots:
            for x, y in points:
                self.parts.append(f'<circle cx="{self.px(x):.1f}" cy="{self.py(y):.1f}" r="3" fill="{color}"/>')
        ly = TOP + 14 + row * 16
        self.parts.append(f'<line x1="{W - RIGHT + 10}" y1="{ly - 4}" x2="{W - RIGHT + 30}" y2="{ly - 4}" '
                          f'stroke="{color}" stroke-width="1.6"{style}/>')
        self.parts.append(f'<text x="{W - RIGHT + 34}" y="{ly}" font-size="11">{label}</text>')

    def label_point(self, x, y, text):
        self.parts.append(f'<text x="{self.px(x) + 5:.1f}" y="{self.py(y) - 5:.1f}" font-size="10">{text}</text>')

    def svg(self):
        axes = [f'<rect x="{LEFT}" y="{TOP}" width="{W - LEFT - RIGHT}" height="{H - TOP - BOTTOM}" '
                f'fill="none" stroke="#888"/>',
                f'<text x="{LEFT}" y="{TOP - 10}" font-size="13">{self.title}</text>',
                f'<text x="{(LEFT + W - RIGHT) / 2}" y="{H - 10}" font-size="12" text-anchor="middle">{self.xlabel}</text>',
                f'<text x="15" y="{(TOP + H - BOTTOM) / 2}" font-size="12" text-anchor="middle" '
                f'transform="rotate(-90 15 {(TOP + H - BOTTOM) / 2})">{self.ylabel}</text>']
        for i in range(6):
            y = self.y0 + (self.y1 - self.y0) * i / 5
            axes.append(f'<text x="{LEFT - 6}" y="{self.py(y) + 4:.1f}" font-size="10" text-anchor="end">{y:.3f}</text>')
            axes.append(f'<line x1="{LEFT}" y1="{self.py(y):.1f}" x2="{W - RIGHT}" y2="{self.py(y):.1f}" stroke="#eee"/>')
        for i in range(6):
            t = self.x0 + (self.x1 - self.x0) * i / 5
            x = 10 ** t if self.xlog else t
            text = f"{x:.3g}"
            axes.append(f'<text x="{self.px(x):.1f}" y="{H - BOTTOM + 15}" font-size="10" text-anchor="middle">{text}</text>')
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif">'
                f'<rect width="{W}" height="{H}" fill="white"/>' + "".join(axes + self.parts) + "</svg>\n")


def lm_plot(out, markov_path, runs):
    curves = []
    for spec in runs:
        label, run = spec.split("=", 1)
        per_step = config_value(run, "batch") * config_value(run, "bptt")
        rows = [r for r in read_csv(os.path.join(run, "valid.csv")) if int(r["step"]) > 0]
        curves.append((label, [(int(r["step"]) * per_step, float(r["loss"])) for r in rows]))
    markov = markov_lines(markov_path)
    best = min(markov, key=lambda m: m[1])
    shown = [m for m in markov if m[0] in (0, 2, 4) or m == best]
    xs = [x for _, c in curves for x, _ in c]
    ys = [y for _, c in curves for _, y in c] + [v for _, v in shown]
    ys = [y for y in ys if y < 3.2] or ys   # the first validations (~6.9 nats) would flatten the rest
    chart = Chart("Language model: validation loss vs tokens seen", "tokens seen", "nats per token (held out)",
                  xs, ys, xlog=True)
    for i, (label, points) in enumerate(curves):
        chart.line([p for p in points if p[1] <= chart.y1], COLORS[i % len(COLORS)], label, i, dots=True)
    for j, (order, value) in enumerate(shown):
        chart.line([(min(xs), value), (max(xs), value)], "#777", f"Markov order {order}: {value:.3f}",
                   len(curves) + j, dash="4 3")
    with open(out, "w") as f:
        f.write(chart.svg())


def probe_plot(out, out_csv, lm_run, probe_folder):
    lm = {int(r["step"]): float(r["loss"]) for r in read_csv(os.path.join(lm_run, "valid.csv"))}
    points = []
    for name in sorted(os.listdir(probe_folder)):
        valid = os.path.join(probe_folder, name, "valid.csv")
        if not os.path.exists(valid):
            continue
        last = read_csv(valid)[-1]
        step = 0 if name == "random" else int(name.removeprefix("step"))
        if step not in lm:
            continue   # a checkpoint written by time, between two validations: no LM loss to plot
        points.append((step, lm[step], float(last["mcc"]), float(last["auc"])))
    points.sort()
    with open(out_csv, "w") as f:
        f.write("lm_step,lm_valid_loss,probe_valid_mcc,probe_valid_auc\n")
        for p in points:
            f.write(f"{p[0]},{p[1]:.4f},{p[2]:.4f},{p[3]:.4f}\n")
    chart = Chart("Head-only probe: validation MCC vs the LM's validation loss", "LM validation loss (nats per token)",
                  "probe validation MCC", [p[1] for p in points], [p[2] for p in points])
    chart.line([(p[1], p[2]) for p in sorted(points, key=lambda p: p[1])], COLORS[0], "probe (head only)", 0, dots=True)
    for p in points:
        chart.label_point(p[1], p[2], "random" if p[0] == 0 else f"step {p[0]}")
    with open(out, "w") as f:
        f.write(chart.svg())


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in ("lm", "probe"):
        sys.exit(__doc__)
    if sys.argv[1] == "lm":
        lm_plot(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        probe_plot(*sys.argv[2:6])
