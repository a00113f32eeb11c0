#!/usr/bin/env bash
# Copies the small result files of the experiments (driver.sh) into the repository:
#   benchmarks/results/reproduction/MODEL/VARIANT/seedN/  test.json config.yaml valid.csv summary.json
#   benchmarks/results/reproduction/tune/RUN/              valid.csv config.yaml summary.json command
#   benchmarks/results/reproduction/lm/RUN/                valid.csv config.yaml summary.json command
# (checkpoints, per-step metrics and predictions stay in $EXP). Paths inside config.yaml are
# relative to the run's folder under $EXP.
set -euo pipefail
cd "$(dirname "$0")/../.."
EXP=${EXP:-/work/exp}
DEST=benchmarks/results/reproduction
source benchmarks/copy_results.sh   # copy SRC_FOLDER DEST_FOLDER LOG_NAME
for run in "$EXP"/table/*/*/seed*; do
  [ -e "$run/test.json" ] || continue
  model=$(basename "$(dirname "$(dirname "$run")")"); variant=$(basename "$(dirname "$run")"); seed=$(basename "$run")
  copy "$run" "$DEST/$model/$variant/$seed" "table-$variant-$model-s${seed#seed}"
done
for run in "$EXP"/tune/*; do
  [ -e "$run/valid.csv" ] || continue
  copy "$run" "$DEST/tune/$(basename "$run")" "tune-$(basename "$run")"
  rm -f "$DEST/tune/$(basename "$run")/test.json"   # tune.csv's "test" split is the valid split again
done
for run in "$EXP"/lm/*; do
  [ -e "$run/valid.csv" ] || continue
  name=$(basename "$run")
  # driver.sh names: human-tiny -> lm-human-tiny, ft-human-tiny -> ft-human-tiny.
  log=lm-$name; [ "${name#ft-}" != "$name" ] && log=$name
  copy "$run" "$DEST/lm/$name" "$log"
done
echo "copied into $DEST"
