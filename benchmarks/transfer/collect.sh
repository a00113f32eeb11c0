#!/usr/bin/env bash
# Copies the small result files of the transfer experiments (driver.sh) into the repository, and
# draws the figures:
#   benchmarks/results/transfer/table/VARIANT-small/seedN/  test.json config.yaml valid.csv summary.json command
#   benchmarks/results/transfer/tune/RUN/                   valid.csv config.yaml summary.json command
#   benchmarks/results/transfer/probe/ecoli/RUN/            valid.csv config.yaml command
#   benchmarks/results/transfer/lm/RUN/                     valid.csv config.yaml summary.json command
#   benchmarks/results/transfer/{lm-ecoli.svg, probe-ecoli.svg, probe-ecoli.csv}
# (checkpoints, per-step metrics and predictions stay in $EXP). Paths inside config.yaml are
# relative to the run's folder under $EXP.
set -euo pipefail
cd "$(dirname "$0")/../.."
EXP=${EXP:-/work/exp}
DEST=benchmarks/results/transfer
source benchmarks/copy_results.sh   # copy SRC_FOLDER DEST_FOLDER LOG_NAME
for run in "$EXP"/table/ecoli-*/seed*; do
  [ -e "$run/test.json" ] || continue
  variant=$(basename "$(dirname "$run")"); seed=$(basename "$run")
  copy "$run" "$DEST/table/$variant-small/$seed" "table-$variant-s${seed#seed}"
done
for run in "$EXP"/tune/ecoli-*; do
  [ -e "$run/valid.csv" ] || continue
  copy "$run" "$DEST/tune/$(basename "$run")" "tune-$(basename "$run")"
  rm -f "$DEST/tune/$(basename "$run")/test.json"   # tune.csv's "test" split is the valid split again
done
for run in "$EXP"/probe/ecoli/*; do
  [ -e "$run/valid.csv" ] || continue
  copy "$run" "$DEST/probe/ecoli/$(basename "$run")" "probe-ecoli-$(basename "$run")"
  rm -f "$DEST/probe/ecoli/$(basename "$run")/test.json" "$DEST/probe/ecoli/$(basename "$run")/summary.json"
done
for run in "$EXP"/lm/*ecoli*; do
  [ -e "$run/valid.csv" ] || continue
  name=$(basename "$run"); [[ $name == ft-* ]] || name=lm-$name
  copy "$run" "$DEST/lm/$(basename "$run")" "$name"
done
python3 benchmarks/transfer/plots.py lm "$DEST/lm-ecoli.svg" "$DEST/markov-ecoli-genome.txt" \
  "128/512, 3 epochs=$DEST/lm/ecoli-small"
if [ -d "$DEST/probe/ecoli" ]; then
  python3 benchmarks/transfer/plots.py probe "$DEST/probe-ecoli.svg" "$DEST/probe-ecoli.csv" "$DEST/lm/ecoli-small" \
    "$DEST/probe/ecoli"
fi
python3 benchmarks/reproduction/table.py "$DEST/table"
