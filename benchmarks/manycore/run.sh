#!/usr/bin/env bash
# The many-core measurements of issue 16 in one go, from the bundle that build-bundle.sh makes
# (no Swift needed here), or from a checkout (ULMFIT=.build/release/ulmfit benchmarks/manycore/run.sh).
#
#   run.sh [--workers N] [--presets "paper small"] [--python PY] [--out DIR] [--warmup W] [--steps S] [--stages]
#
# N defaults to the machine's physical cores. Runs, each writing its JSON into DIR:
#   1. the FMA peak of 1 and N threads (the yardstick of every fraction of peak);
#   2. per preset, `ulmfit bench scaling` over 1, 2, 4, ... N workers, with the compact and the
#      scatter placement (parallel efficiency, time split per worker count);
#   3. per preset at N workers: the classifier step and inference (`bench step --task
#      classifier`, `bench predict`);
#   4. the PyTorch peer at N threads and N DDP ranks (LM and classifier), inference at N threads
#      and N processes, when PY imports torch (skipped, and said so, otherwise);
#   5. with --stages: the classifier step in each frozen stage of gradual unfreezing
#      (--freeze-to -1, -2, -3), ulmfit and the peer (adds ~9 runs per preset);
# then summarize.py writes DIR/summary.md: efficiency at N, ratios to the faster PyTorch mode
# (and, with --stages, per stage and over the whole 1+1+1+2-epoch schedule).
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
if [ -x "$HERE/bin/ulmfit" ]; then
    ULMFIT="${ULMFIT:-$HERE/bin/ulmfit}"; PEER="$HERE/peer"
    export LD_LIBRARY_PATH="$HERE/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    # Only hwloc's built-in components: the target's own hwloc plugins (if any) may be of another version.
    export HWLOC_PLUGINS_PATH="$HERE/lib/hwloc-plugins"
else
    ULMFIT="${ULMFIT:-$HERE/../../.build/release/ulmfit}"; PEER="$HERE/.."
fi
WORKERS=""; PRESETS="paper small"; PYTHON="${PYTHON:-python3}"; OUT=""; WARMUP=1; STEPS=3; STAGES=
while [ $# -gt 0 ]; do
    case "$1" in
        --workers) WORKERS="$2"; shift 2 ;;
        --presets) PRESETS="$2"; shift 2 ;;
        --python) PYTHON="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        --warmup) WARMUP="$2"; shift 2 ;;
        --steps) STEPS="$2"; shift 2 ;;
        --stages) STAGES="-1 -2 -3"; shift ;;
        -h|--help) sed -n 2,19p "$0"; exit 0 ;;
        *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ -x "$ULMFIT" ] || { echo "run.sh: no ulmfit binary at $ULMFIT (build-bundle.sh, or set ULMFIT)" >&2; exit 1; }
"$ULMFIT" --help >/dev/null 2>&1 || { echo "run.sh: $ULMFIT does not start here:" >&2; "$ULMFIT" --help; exit 1; }
if [ -z "$WORKERS" ]; then
    WORKERS=$(lscpu -p=core,socket 2>/dev/null | grep -v '^#' | sort -u | wc -l)
    [ "$WORKERS" -ge 1 ] 2>/dev/null || WORKERS=$(nproc)
fi
COUNTS="1"; w=2
while [ "$w" -lt "$WORKERS" ]; do COUNTS="$COUNTS,$w"; w=$((w * 2)); done
[ "$WORKERS" -gt 1 ] && COUNTS="$COUNTS,$WORKERS"
OUT="${OUT:-manycore-$(hostname)-$(date +%Y%m%d-%H%M)}"
mkdir -p "$OUT"
LOG="$OUT/run.log"
say() { echo "[$(date +%T) load $(cut -d' ' -f1 /proc/loadavg)] $*" | tee -a "$LOG" >&2; }
run() {   # run NAME CMD...: stdout to OUT/NAME, failures logged, never fatal
    local name="$1"; shift
    say "$name: $*"
    if ! "$@" > "$OUT/$name" 2>> "$LOG"; then say "$name FAILED (see $LOG)"; fi
}

say "ulmfit many-core run: $WORKERS workers (counts $COUNTS), presets $PRESETS, into $OUT"
{ lscpu; echo; "$ULMFIT" topology; } > "$OUT/machine.txt" 2>&1
run peak-1.txt "$ULMFIT" bench peak --threads 1 --json "$OUT/peak-1.json"
run peak-$WORKERS.txt "$ULMFIT" bench peak --threads "$WORKERS" --json "$OUT/peak-$WORKERS.json"
for preset in $PRESETS; do
    for policy in compact scatter; do
        run scaling-$preset-$policy.txt "$ULMFIT" bench scaling --preset "$preset" --worker-counts "$COUNTS" \
            --policy "$policy" --warmup "$WARMUP" --steps "$STEPS" --out "$OUT/scaling-$preset-$policy"
    done
    run classifier-$preset-ulmfit.json "$ULMFIT" bench step --task classifier --preset "$preset" --workers "$WORKERS" \
        --warmup "$WARMUP" --steps "$STEPS" --json
    run predict-$preset-ulmfit.json "$ULMFIT" bench predict --preset "$preset" --workers "$WORKERS" --json
    for f in $STAGES; do
        run classifier-$preset-freeze$f-ulmfit.json "$ULMFIT" bench step --task classifier --preset "$preset" \
            --workers "$WORKERS" --freeze-to "$f" --warmup "$WARMUP" --steps "$STEPS" --json
    done
done
if "$PYTHON" -c "import torch" 2>/dev/null; then
    REF="$PEER/pytorch_reference.py"
    for preset in $PRESETS; do
        common=(--preset "$preset" --warmup "$WARMUP" --steps "$STEPS" --json)
        run lm-$preset-torch-threads.json "$PYTHON" "$REF" --mode threads --threads "$WORKERS" "${common[@]}"
        run lm-$preset-torch-ddp.json "$PYTHON" "$REF" --mode ddp --procs "$WORKERS" "${common[@]}"
        run classifier-$preset-torch-threads.json "$PYTHON" "$REF" --task classifier --threads "$WORKERS" "${common[@]}"
        run classifier-$preset-torch-ddp.json "$PYTHON" "$REF" --task classifier --mode ddp --procs "$WORKERS" "${common[@]}"
        run predict-$preset-torch-threads.json "$PYTHON" "$REF" --task predict --threads "$WORKERS" "${common[@]}"
        run predict-$preset-torch-procs.json "$PYTHON" "$REF" --task predict --mode procs --procs "$WORKERS" "${common[@]}"
        for f in $STAGES; do
            run classifier-$preset-freeze$f-torch-threads.json "$PYTHON" "$REF" --task classifier --threads "$WORKERS" \
                --freeze-to "$f" "${common[@]}"
            run classifier-$preset-freeze$f-torch-ddp.json "$PYTHON" "$REF" --task classifier --mode ddp --procs "$WORKERS" \
                --freeze-to "$f" "${common[@]}"
        done
    done
else
    say "peer skipped: $PYTHON cannot import torch (pass --python PATH to a python with torch)"
fi
if command -v python3 >/dev/null; then
    python3 "$HERE/summarize.py" "$OUT" --workers "$WORKERS" > "$OUT/summary.md" && cat "$OUT/summary.md"
fi
say "done: $OUT"
