#!/usr/bin/env bash
# The main job on a fresh machine: installs system libraries, builds the release binary, then
# runs every stage of configs/pipeline.yaml into one folder (runs/main; OUT=... to change it):
#   1. prepare the human promoter set (ACGT filter, de-duplication, seeded 85/15 and 90/10 split);
#   2. pretrain the AWD-LSTM language model on the human genome chunk (k=5, stride 2);
#   3. fine-tune it on the promoter corpus (the train and valid sequences, 10% of them held out);
#   4. train the promoter classifier from the fine-tuned encoder (ULMFiT gradual unfreezing);
#   5. evaluate it on the test split (accuracy, FP/FN, recall, precision, specificity, MCC, AUC).
# Stages already complete in that folder are skipped, so a stopped job resumes where it was.
# Options after the script name go to `ulmfit run` (e.g. --workers 2 --max-steps 20, or
# --set classifier.lr=1e-2); DATA=... reads the data from another folder than ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product ulmfit
args=()
if [ -n "${DATA:-}" ]; then
  args+=(--set "data.csv=$DATA/human_promoters/cnnprom_human_nontata_9034.csv.gz"
         --set "data.fasta=$DATA/genomes/human_chr22_20-21M.fa.gz")
fi
if [ -n "${OUT:-}" ]; then args+=(--out "$OUT"); fi
.build/release/ulmfit run --config configs/pipeline.yaml ${args[@]+"${args[@]}"} "$@"
