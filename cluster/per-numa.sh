#!/usr/bin/env bash
# Runs ulmfit as one of several processes on a node, its workers confined to one NUMA domain:
# the process with local rank L (Slurm's SLURM_LOCALID, Open MPI's OMPI_COMM_WORLD_LOCAL_RANK)
# takes NUMA node L. Use it in place of the ulmfit binary, e.g. with two sockets per node:
#   srun --ntasks-per-node=2 --cpu-bind=none cluster/per-numa.sh train-lm ...
#   mpirun --map-by ppr:2:node --bind-to none cluster/per-numa.sh train-lm ...
set -euo pipefail
local_rank=${SLURM_LOCALID:-${OMPI_COMM_WORLD_LOCAL_RANK:-}}
if [ -z "$local_rank" ]; then
  echo "per-numa.sh: no local rank (SLURM_LOCALID or OMPI_COMM_WORLD_LOCAL_RANK): start it with srun or mpirun" >&2
  exit 2
fi
exec "${ULMFIT:-${ULMFIT_ROOT:-$PWD}/.build/release/ulmfit}" "$@" --cpus "numa:$local_rank"
