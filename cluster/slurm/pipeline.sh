#!/usr/bin/env bash
# Submits the four stages as one chain: each starts only if the previous one succeeded.
#   cluster/slurm/pipeline.sh [NODES]          (from the package root; default 2 nodes)
set -euo pipefail
cd "$(dirname "$0")/../.."
nodes=${1:-2}
submit() { sbatch --parsable "$@"; }
prepare=$(submit cluster/slurm/prepare.sbatch)
pretrain=$(submit --nodes="$nodes" cluster/slurm/pretrain.sbatch)   # independent of prepare
finetune=$(submit --nodes="$nodes" --dependency="afterok:$prepare:$pretrain" cluster/slurm/finetune.sbatch)
classifier=$(submit --nodes="$nodes" --dependency="afterok:$finetune" cluster/slurm/classifier.sbatch)
echo "submitted: prepare $prepare, pretrain $pretrain, finetune $finetune, classifier $classifier"
