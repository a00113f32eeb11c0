#!/usr/bin/env bash
# The main job on a fresh machine: installs system libraries, builds the release binary, then
# runs the pipeline on the default data (../shared/data) with the default configs (configs/*.yaml):
#   1. prepare the human promoter set (ACGT filter, de-duplication, seeded 85/15 and 90/10 split);
#   2. pretrain the AWD-LSTM language model on the human genome chunk (k=5, stride 2);
#   3. fine-tune it on the promoter corpus (train split);
#   4. train the promoter classifier from the fine-tuned encoder (ULMFiT gradual unfreezing),
#      then report its test accuracy and MCC.
# Results (metrics JSONL/CSV, loss.svg, checkpoints) go to runs/. Options after the script name
# are passed to every training command (e.g. --workers 2 --max-steps 50).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product ulmfit
ulmfit=.build/release/ulmfit
data=${DATA:-../shared/data}
out=${OUT:-runs}
mkdir -p "$out"

$ulmfit prepare --csv "$data/human_promoters/cnnprom_human_nontata_9034.csv.gz" --seed 42 --out "$out/human"
$ulmfit train-lm --config configs/pretrain-human.yaml \
  --fasta "$data/genomes/human_chr22_20-21M.fa.gz" --out "$out/pretrain" "$@"
$ulmfit train-lm --config configs/finetune-human.yaml \
  --dataset "$out/human/dataset.csv" --init-from "$out/pretrain" --out "$out/finetune" "$@"
$ulmfit train-classifier --dataset "$out/human/dataset.csv" --encoder "$out/finetune" \
  --lr 2e-2 --epochs 2 --out "$out/classifier" "$@"
metric() { sed -n "s/^ *\"$1\" : \([-0-9.eE+]*\),*\$/\1/p" "$out/classifier/test.json" | head -1; }
echo "done: see $out/pretrain, $out/finetune and $out/classifier (metrics.csv, loss.svg, checkpoints/)"
echo "classifier on the test split: accuracy $(metric accuracy), MCC $(metric mcc)"
