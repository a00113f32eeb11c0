#!/usr/bin/env bash
# Runs one training command on the nodes of a hostfile, one ulmfit process per node, without Slurm.
#   cluster/mpirun/run.sh HOSTFILE train-lm --config configs/pretrain-human.yaml --fasta ... --out runs/pretrain
# --map-by ppr:1:node   one process per node, whatever the slots say;
# --bind-to none        Open MPI does not bind the process: ulmfit pins its worker threads itself
#                       (hwloc); Open MPI's default binding (to a core or socket) would squeeze
#                       every worker onto the cores of that one binding;
# -x VAR                exported to every process (the timeout; LD_LIBRARY_PATH so each node finds
#                       the same libmpi.so.40 the launcher belongs to).
# One process per NUMA domain instead: --map-by ppr:2:node (two sockets) and cluster/per-numa.sh
# in place of the binary.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 HOSTFILE COMMAND [ARGS...]   (e.g. $0 cluster/mpirun/hostfile train-lm --config ...)" >&2
  exit 2
fi
hostfile=$1; shift
ULMFIT=${ULMFIT:-$PWD/.build/release/ulmfit}
nodes=$(grep -cEv '^[[:space:]]*(#|$)' "$hostfile")
export ULMFIT_MPI_TIMEOUT=${ULMFIT_MPI_TIMEOUT:-600}
exports=(-x ULMFIT_MPI_TIMEOUT)
if [ -n "${LD_LIBRARY_PATH:-}" ]; then exports+=(-x LD_LIBRARY_PATH); fi
exec mpirun --hostfile "$hostfile" -np "$nodes" --map-by ppr:1:node --bind-to none "${exports[@]}" "$ULMFIT" "$@"
