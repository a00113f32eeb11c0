#!/usr/bin/env bash
# The experiments behind the README's reproduction table (issue 14): every run, in order, from one
# release binary copy, under `nice -n 19` (the machine is shared), outputs under $EXP (not in the
# repository). A run whose output is complete is skipped, so the script can be rerun after a stop.
#
#   benchmarks/reproduction/driver.sh PHASE...     e.g.  driver.sh corpus
#
# Environment: EXP (default /work/exp), ULMFIT (default $EXP/bin/ulmfit: copy a release build
# there, so rebuilding does not disturb running experiments), DATA (default ../shared/data),
# WORKERS (default 2).
set -euo pipefail
# REPO: the repository root (default: this script's, two folders up; set it when running a copy).
cd "${REPO:-$(dirname "$0")/../..}"
EXP=${EXP:-/work/exp}
U=${ULMFIT:-$EXP/bin/ulmfit}
DATA=${DATA:-../shared/data}
WORKERS=${WORKERS:-2}
mkdir -p "$EXP/logs"

# run NAME COMMAND...: runs the command unless it already completed (marker $EXP/done/NAME,
# written when it exits 0); its output goes to $EXP/logs/NAME.log, the command to NAME.cmd.
run() {
  local name=$1; shift
  if [ -e "$EXP/done/$name" ]; then echo "skip $name (done)"; return; fi
  echo "$(date +%H:%M:%S) start $name"
  mkdir -p "$EXP/done"
  echo "$*" > "$EXP/logs/$name.cmd"
  nice -n 19 "$@" > "$EXP/logs/$name.log" 2>&1
  date +%s > "$EXP/done/$name"
  echo "$(date +%H:%M:%S) done $name"
}

# The human non-TATA subset, seed 42 (train 6,910 / valid 767 / test 1,356), and tune.csv: the
# same train and valid rows, with the valid rows again in place of the test rows, so that runs
# choosing settings never read the test split (their test.json is a second valid evaluation).
human() {
  run prepare-human \
    "$U" prepare --csv "$DATA/human_promoters/cnnprom_human_nontata_9034.csv.gz" --seed 42 --out "$EXP/data/human"
  if [ ! -e "$EXP/data/human/tune.csv" ]; then
    awk -F, 'NR==1{print; next} $3=="train"||$3=="valid"{print} $3=="valid"{v[++n]=$1","$2",test"}
             END{for(i=1;i<=n;i++) print v[i]}' "$EXP/data/human/dataset.csv" > "$EXP/data/human/tune.csv.tmp"
    mv "$EXP/data/human/tune.csv.tmp" "$EXP/data/human/tune.csv"
  fi
}

TINY=(--emb 64 --hidden 128 --layers 3)
GENOMES="$DATA/genomes"

# Which pretraining corpus helps the classifier most, at one pretraining budget (840 steps of
# 64 x 70 tokens = 10 epochs of the human chunk): the human chunk alone, or mixed with the fly
# upstream regions and the worm chromosome X (documents shuffled, so 840 steps see a sample of
# all three). Each LM is fine-tuned on the promoters' train + valid sequences and feeds a
# classifier trained on tune.csv (validation only).
corpus() {
  human
  run tune-scratch-tiny \
    "$U" train-classifier --dataset "$EXP/data/human/tune.csv" --k 5 --stride 2 "${TINY[@]}" \
      --stages all --lr 1e-2 --epochs 5 --seed 1 --workers "$WORKERS" --out "$EXP/tune/scratch-tiny"
  run lm-human-tiny \
    "$U" train-lm --fasta "$GENOMES/human_chr22_20-21M.fa.gz" --k 5 --stride 2 "${TINY[@]}" \
      --epochs 10 --lr 1e-2 --seed 42 --workers "$WORKERS" --out "$EXP/lm/human-tiny"
  run lm-mix-tiny \
    "$U" train-lm --fasta "$GENOMES/human_chr22_20-21M.fa.gz" --fasta "$GENOMES/drosophila_upstream2000.fa.gz" \
      --fasta "$GENOMES/celegans_chrX.fa.gz" --k 5 --stride 2 --valid-fraction 0.02 "${TINY[@]}" \
      --epochs 1 --max-steps 840 --lr 1e-2 --seed 42 --workers "$WORKERS" --out "$EXP/lm/mix-tiny"
  for c in human mix; do
    run ft-$c-tiny \
      "$U" train-lm --dataset "$EXP/data/human/dataset.csv" --lm-splits train+valid \
        --init-from "$EXP/lm/$c-tiny" --epochs 5 --lr 5e-3 --seed 42 --workers "$WORKERS" --out "$EXP/lm/ft-$c-tiny"
    run tune-ft-$c-tiny \
      "$U" train-classifier --dataset "$EXP/data/human/tune.csv" --encoder "$EXP/lm/ft-$c-tiny" \
        --lr 2e-2 --epochs 2 --seed 1 --workers "$WORKERS" --out "$EXP/tune/ft-$c-tiny"
  done
}

# The same question at the budget a quiet machine allows: the tiny LM trains at ~58,000 tokens/s
# on 2 quiet cores (the 840-step runs above took 14 min only because the machine was shared), so
# one epoch of the mix (7,808 steps, 35 M tokens, ~10 min) or 40 epochs of the human chunk
# (3,360 steps, ~4 min) fit the one-hour job. Each is fine-tuned and feeds a classifier on
# tune.csv, as in `corpus`.
long() {
  human
  run lm-mix-tiny-long \
    "$U" train-lm --fasta "$GENOMES/human_chr22_20-21M.fa.gz" --fasta "$GENOMES/drosophila_upstream2000.fa.gz" \
      --fasta "$GENOMES/celegans_chrX.fa.gz" --k 5 --stride 2 --valid-fraction 0.02 "${TINY[@]}" \
      --epochs 1 --lr 1e-2 --seed 42 --workers "$WORKERS" --out "$EXP/lm/mix-tiny-long"
  run lm-human-tiny-long \
    "$U" train-lm --fasta "$GENOMES/human_chr22_20-21M.fa.gz" --k 5 --stride 2 "${TINY[@]}" \
      --epochs 40 --lr 1e-2 --seed 42 --workers "$WORKERS" --out "$EXP/lm/human-tiny-long"
  for c in mix human; do
    run ft-$c-tiny-long \
      "$U" train-lm --dataset "$EXP/data/human/dataset.csv" --lm-splits train+valid \
        --init-from "$EXP/lm/$c-tiny-long" --epochs 5 --lr 5e-3 --seed 42 --workers "$WORKERS" --out "$EXP/lm/ft-$c-tiny-long"
    run tune-ft-$c-tiny-long \
      "$U" train-classifier --dataset "$EXP/data/human/tune.csv" --encoder "$EXP/lm/ft-$c-tiny-long" \
        --lr 2e-2 --epochs 2 --seed 1 --workers "$WORKERS" --out "$EXP/tune/ft-$c-tiny-long"
  done
}

SMALL=(--emb 128 --hidden 512 --layers 3)

# Model size for the default run (issue 14: the best validation MCC within about an hour on 2
# cores): the chain of `corpus` with the human chunk, at 128/512 x 3 (11x the tiny model's
# parameters) and the same budgets in steps and epochs.
size() {
  human
  run lm-human-small \
    "$U" train-lm --fasta "$GENOMES/human_chr22_20-21M.fa.gz" --k 5 --stride 2 "${SMALL[@]}" \
      --epochs 10 --lr 5e-3 --seed 42 --workers "$WORKERS" --out "$EXP/lm/human-small"
  run ft-human-small \
    "$U" train-lm --dataset "$EXP/data/human/dataset.csv" --lm-splits train+valid \
      --init-from "$EXP/lm/human-small" --epochs 5 --lr 2.5e-3 --seed 42 --workers "$WORKERS" --out "$EXP/lm/ft-human-small"
  run tune-ft-human-small \
    "$U" train-classifier --dataset "$EXP/data/human/tune.csv" --encoder "$EXP/lm/ft-human-small" \
      --lr 2e-2 --epochs 2 --seed 1 --workers "$WORKERS" --out "$EXP/tune/ft-human-small"
  run tune-scratch-small \
    "$U" train-classifier --dataset "$EXP/data/human/tune.csv" --k 5 --stride 2 "${SMALL[@]}" \
      --stages all --lr 1e-2 --epochs 5 --seed 1 --workers "$WORKERS" --out "$EXP/tune/scratch-small"
}

# The model of the table and of the default run, chosen by `size` on validation MCC.
MODEL=${MODEL:-small}
case $MODEL in tiny) MODEL_FLAGS=("${TINY[@]}") ;; small) MODEL_FLAGS=("${SMALL[@]}") ;; *) echo "MODEL: tiny or small" >&2; exit 2 ;; esac

# Learning rates on the validation split (tune.csv), seed 1, at the table's budget of 5 epochs:
# from scratch every group at once (--stages all) at 1e-2 (run by `size`/`corpus`) or 3e-3;
# from an LM ULMFiT's gradual unfreezing at 2e-2 (run by `size`/`corpus`) or 1e-2.
tune() {
  human
  run tune-scratch-$MODEL-lr3e-3 \
    "$U" train-classifier --dataset "$EXP/data/human/tune.csv" --k 5 --stride 2 "${MODEL_FLAGS[@]}" \
      --stages all --lr 3e-3 --epochs 5 --seed 1 --workers "$WORKERS" --out "$EXP/tune/scratch-$MODEL-lr3e-3"
  run tune-ft-human-$MODEL-lr1e-2 \
    "$U" train-classifier --dataset "$EXP/data/human/tune.csv" --encoder "$EXP/lm/ft-human-$MODEL" \
      --lr 1e-2 --epochs 2 --seed 1 --workers "$WORKERS" --out "$EXP/tune/ft-human-$MODEL-lr1e-2"
}

# The table: three variants x SEEDS on dataset.csv, each run reading the test split once, at its
# end. SCRATCH_LR and ULMFIT_LR: the learning rates `tune` chose.
SEEDS=${SEEDS:-1 2 3}
SCRATCH_LR=${SCRATCH_LR:-1e-2}
ULMFIT_LR=${ULMFIT_LR:-2e-2}
table() {
  human
  for seed in $SEEDS; do
    run table-human-scratch-$MODEL-s$seed \
      "$U" train-classifier --dataset "$EXP/data/human/dataset.csv" --k 5 --stride 2 "${MODEL_FLAGS[@]}" \
        --stages all --lr "$SCRATCH_LR" --epochs 5 --seed "$seed" --workers "$WORKERS" \
        --out "$EXP/table/$MODEL/human-scratch/seed$seed"
    run table-human-pretrained-$MODEL-s$seed \
      "$U" train-classifier --dataset "$EXP/data/human/dataset.csv" --encoder "$EXP/lm/human-$MODEL" \
        --lr "$ULMFIT_LR" --epochs 2 --seed "$seed" --workers "$WORKERS" --out "$EXP/table/$MODEL/human-pretrained/seed$seed"
    run table-human-finetuned-$MODEL-s$seed \
      "$U" train-classifier --dataset "$EXP/data/human/dataset.csv" --encoder "$EXP/lm/ft-human-$MODEL" \
        --lr "$ULMFIT_LR" --epochs 2 --seed "$seed" --workers "$WORKERS" --out "$EXP/table/$MODEL/human-finetuned/seed$seed"
  done
}

# E. coli sigma70 promoters (839) vs non-promoters (3,000), 81 nt, seed 42; the LM pretrained on
# the two E. coli genomes (one epoch: 960 steps, about the human LM's 840) and fine-tuned on the
# set's train + valid sequences; the classifier with the human table's settings; and from scratch.
# ECOLI_LR: the LM's learning rate. The first run took 5e-3 and ended at 3.32 nats on its held-out
# genome tokens, worse than a uniform guess of the 2 new bases (log 16 = 2.77): kept as
# lm/ecoli-tiny and table/tiny/ecoli-finetuned-lm5e-3; 1e-2 (the human LM's) is the default.
ECOLI_LR=${ECOLI_LR:-1e-2}
ecoli() {
  run prepare-ecoli \
    "$U" prepare --positive "$DATA/bacteria/Ecoli_prom.fa.gz" --negative "$DATA/bacteria/Ecoli_non_prom.fa.gz" \
      --seed 42 --out "$EXP/data/ecoli"
  local lm=ecoli-$MODEL-lr$ECOLI_LR
  run lm-$lm \
    "$U" train-lm --fasta "$GENOMES/ecoli_K12_MG1655.fa.gz" --fasta "$GENOMES/ecoli_536.fa.gz" --k 5 --stride 2 \
      "${MODEL_FLAGS[@]}" --epochs 1 --lr "$ECOLI_LR" --seed 42 --workers "$WORKERS" --out "$EXP/lm/$lm"
  run ft-$lm \
    "$U" train-lm --dataset "$EXP/data/ecoli/dataset.csv" --lm-splits train+valid \
      --init-from "$EXP/lm/$lm" --epochs 5 --lr 2.5e-3 --seed 42 --workers "$WORKERS" --out "$EXP/lm/ft-$lm"
  for seed in $SEEDS; do
    run table-ecoli-finetuned-$MODEL-s$seed \
      "$U" train-classifier --dataset "$EXP/data/ecoli/dataset.csv" --encoder "$EXP/lm/ft-$lm" \
        --lr "$ULMFIT_LR" --epochs 2 --seed "$seed" --workers "$WORKERS" --out "$EXP/table/$MODEL/ecoli-finetuned/seed$seed"
    run table-ecoli-scratch-$MODEL-s$seed \
      "$U" train-classifier --dataset "$EXP/data/ecoli/dataset.csv" --k 5 --stride 2 "${MODEL_FLAGS[@]}" \
        --stages all --lr "$SCRATCH_LR" --epochs 5 --seed "$seed" --workers "$WORKERS" \
        --out "$EXP/table/$MODEL/ecoli-scratch/seed$seed"
  done
}

for phase in "$@"; do "$phase"; done
