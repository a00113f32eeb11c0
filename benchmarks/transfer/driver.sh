#!/usr/bin/env bash
# The transfer experiments (issue 21): language models trained longer, the head-only probe along
# pretraining, and scratch vs pretrained vs pretrained + fine-tuned with several seeds. Every run
# from one release binary copy, outputs under $EXP (not in the repository). A run whose output is
# complete is skipped and a stopped language model resumes (`train-lm --resume`), so the script is
# simply rerun after a stop (a session's time limit, Ctrl-C).
#
#   benchmarks/transfer/driver.sh PHASE...     e.g.  driver.sh ecoli_lm ecoli_probe ecoli_table
#
# Environment: EXP (default /work/exp), ULMFIT (default $EXP/bin/ulmfit: copy a release build
# there, so rebuilding does not disturb running experiments), DATA (default ../shared/data),
# WORKERS (default 2), SEEDS (default "1 2 3"), NICE (default 0).
set -euo pipefail
cd "${REPO:-$(dirname "$0")/../..}"
EXP=${EXP:-/work/exp}
U=${ULMFIT:-$EXP/bin/ulmfit}
DATA=${DATA:-../shared/data}
WORKERS=${WORKERS:-2}
SEEDS=${SEEDS:-1 2 3}
NICE=${NICE:-0}
GENOMES="$DATA/genomes"
mkdir -p "$EXP/logs" "$EXP/done"

# run NAME COMMAND...: runs the command unless it already completed (marker $EXP/done/NAME,
# written when it exits 0); its output goes to $EXP/logs/NAME.log, the command to NAME.cmd.
run() {
  local name=$1; shift
  if [ -e "$EXP/done/$name" ]; then echo "skip $name (done)"; return; fi
  echo "$(date +%H:%M:%S) start $name"
  echo "$*" > "$EXP/logs/$name.cmd"
  nice -n "$NICE" "$@" >> "$EXP/logs/$name.log" 2>&1
  date +%s > "$EXP/done/$name"
  echo "$(date +%H:%M:%S) done $name"
}

# lm NAME OUT ARGS...: a language model, resumed where it stopped when OUT holds an unfinished run.
lm() {
  local name=$1 out=$2; shift 2
  if [ ! -e "$EXP/done/$name" ] && [ -e "$out/config.yaml" ] && [ ! -e "$out/summary.json" ]; then
    run "$name" "$U" train-lm --resume "$out"
  else
    run "$name" "$U" train-lm "$@" --out "$out"
  fi
}

# tune_csv DIR: DIR/tune.csv, the dataset's train and valid rows with the valid rows again in
# place of the test rows, so that runs choosing settings never read the test split.
tune_csv() {
  local dir=$1
  [ -e "$dir/tune.csv" ] && return
  awk -F, 'NR==1{print; next} $3=="train"||$3=="valid"{print} $3=="valid"{v[++n]=$1","$2",test"}
           END{for(i=1;i<=n;i++) print v[i]}' "$dir/dataset.csv" > "$dir/tune.csv.tmp"
  mv "$dir/tune.csv.tmp" "$dir/tune.csv"
}

SMALL=(--emb 128 --hidden 512 --layers 3)
ECOLI_GENOMES=(--fasta "$GENOMES/ecoli_K12_MG1655.fa.gz" --fasta "$GENOMES/ecoli_536.fa.gz")
# The E. coli LM: both genomes, 5-mers of stride 2, the 128/512 AWD-LSTM at the reference's
# drop_mult 0.3, one one-cycle schedule of ECOLI_EPOCHS epochs at 1e-2; validated (and
# checkpointed) 4 times an epoch, every checkpoint kept: the probe starts from each of them.
ECOLI_EPOCHS=${ECOLI_EPOCHS:-3}
ECOLI_LM=$EXP/lm/ecoli-small
CLASSIFIER_LR=${CLASSIFIER_LR:-2e-2}
SCRATCH_LR=${SCRATCH_LR:-3e-3}

ecoli_data() {
  run prepare-ecoli \
    "$U" prepare --positive "$DATA/bacteria/Ecoli_prom.fa.gz" --negative "$DATA/bacteria/Ecoli_non_prom.fa.gz" \
      --seed 42 --out "$EXP/data/ecoli"
  tune_csv "$EXP/data/ecoli"
}

ecoli_lm() {
  lm lm-ecoli-small "$ECOLI_LM" "${ECOLI_GENOMES[@]}" --k 5 --stride 2 "${SMALL[@]}" --drop-mult 0.3 \
    --epochs "$ECOLI_EPOCHS" --eval-every 240 --keep 0 --lr 1e-2 --seed 42 --workers "$WORKERS"
}

# The same LM trained further: a second one-cycle schedule of ECOLI_MORE_EPOCHS epochs at 5e-3
# from ecoli_lm's final weights (a new run: fresh optimizer state), validated every 480 steps. A
# multi-session run: rerun the phase to resume it. Seed 42 as ecoli_lm: the seed also draws the
# genome's train/valid split, and another seed would train on the chunks held out before.
ECOLI_MORE_EPOCHS=${ECOLI_MORE_EPOCHS:-6}
ecoli_lm_more() {
  lm lm-ecoli-small-more "$EXP/lm/ecoli-small-more" "${ECOLI_GENOMES[@]}" --init-from "$ECOLI_LM" --drop-mult 0.3 \
    --epochs "$ECOLI_MORE_EPOCHS" --eval-every 480 --keep 0 --lr 5e-3 --seed 42 --workers "$WORKERS"
}

# Fine-tuning on the promoters' train + valid sequences (10% of them held out for its validation).
ecoli_ft() {
  ecoli_data
  lm ft-ecoli-small "$EXP/lm/ft-ecoli-small" --dataset "$EXP/data/ecoli/dataset.csv" --lm-splits train+valid \
    --init-from "$ECOLI_LM" --drop-mult 0.3 --epochs 10 --lr 5e-3 --seed 42 --workers "$WORKERS"
}

# The probe (issue 21, section 2): the head alone on the frozen encoder in eval mode, 5 epochs at
# 2e-2, from each of the LM's checkpoints (every validation) and from a random encoder, validated on
# the valid split (tune.csv: never the test split). benchmarks/transfer/probe.py plots validation
# MCC against the LM's validation loss.
ecoli_probe() {
  ecoli_data
  for ckpt in "$ECOLI_LM"/checkpoints/step-*; do
    local step=${ckpt##*step-}
    step=$((10#$step))
    # PROBE_STEPS="240 960 ...": only these checkpoints (default: every one).
    if [ -n "${PROBE_STEPS:-}" ] && [[ " $PROBE_STEPS " != *" $step "* ]]; then continue; fi
    run probe-ecoli-step$step \
      "$U" train-classifier --dataset "$EXP/data/ecoli/tune.csv" --encoder "$ckpt" --stages head \
        --lr 2e-2 --epochs 5 --seed 1 --workers "$WORKERS" --out "$EXP/probe/ecoli/step$step"
  done
  run probe-ecoli-random \
    "$U" train-classifier --dataset "$EXP/data/ecoli/tune.csv" --k 5 --stride 2 "${SMALL[@]}" --stages head \
      --lr 2e-2 --epochs 5 --seed 1 --workers "$WORKERS" --out "$EXP/probe/ecoli/random"
}

# The table: 3 seeds x (scratch, pretrained, pretrained + fine-tuned), the same classifier budget
# per variant (5 epochs: ULMFiT's 1 + 1 + 1 + 2, or 5 epochs of every group from scratch).
ecoli_table() {
  ecoli_data
  for seed in $SEEDS; do
    run table-ecoli-scratch-s$seed \
      "$U" train-classifier --dataset "$EXP/data/ecoli/dataset.csv" --k 5 --stride 2 "${SMALL[@]}" \
        --stages all --lr "$SCRATCH_LR" --epochs 5 --seed "$seed" --workers "$WORKERS" \
        --out "$EXP/table/ecoli-scratch/seed$seed"
    run table-ecoli-pretrained-s$seed \
      "$U" train-classifier --dataset "$EXP/data/ecoli/dataset.csv" --encoder "$ECOLI_LM" \
        --lr "$CLASSIFIER_LR" --epochs 2 --seed "$seed" --workers "$WORKERS" \
        --out "$EXP/table/ecoli-pretrained/seed$seed"
    run table-ecoli-finetuned-s$seed \
      "$U" train-classifier --dataset "$EXP/data/ecoli/dataset.csv" --encoder "$EXP/lm/ft-ecoli-small" \
        --lr "$CLASSIFIER_LR" --epochs 2 --seed "$seed" --workers "$WORKERS" \
        --out "$EXP/table/ecoli-finetuned/seed$seed"
  done
}

# Settings chosen on the validation split only (tune.csv): the classifier's learning rates.
ecoli_tune() {
  ecoli_data
  for lr in 1e-2 3e-3; do
    run tune-ecoli-scratch-lr$lr \
      "$U" train-classifier --dataset "$EXP/data/ecoli/tune.csv" --k 5 --stride 2 "${SMALL[@]}" \
        --stages all --lr "$lr" --epochs 5 --seed 1 --workers "$WORKERS" --out "$EXP/tune/ecoli-scratch-lr$lr"
  done
  for lr in 2e-2 1e-2; do
    run tune-ecoli-finetuned-lr$lr \
      "$U" train-classifier --dataset "$EXP/data/ecoli/tune.csv" --encoder "$EXP/lm/ft-ecoli-small" \
        --lr "$lr" --epochs 2 --seed 1 --workers "$WORKERS" --out "$EXP/tune/ecoli-finetuned-lr$lr"
  done
}

for phase in "$@"; do "$phase"; done
