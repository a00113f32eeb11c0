# Settings shared by the cluster scripts (sourced, not run). Export any of these before sbatch or
# mpirun to override them; paths are resolved on the compute nodes, so they must be on a file
# system every node sees.
#   ULMFIT  the release binary (build once: swift build -c release --static-swift-stdlib)
#   DATA    the input data (../shared/data layout: genomes/, human_promoters/)
#   OUT     the run folder (as scripts/run.sh's OUT): every stage writes its own folder in it, named as
#           `ulmfit run` names them (prepare -> OUT/data, pretrain -> OUT/pretrain, OUT/finetune,
#           OUT/classifier); default runs/cluster
#   WORKERS worker threads per process (default: one per physical core the process may use)
#   ULMFIT_MPI_TIMEOUT  seconds a process waits for the others before the job is aborted, naming
#           the rank that did not answer (ulmfit's default 600; --mpi-timeout overrides it)
ULMFIT_ROOT=${ULMFIT_ROOT:-${SLURM_SUBMIT_DIR:-$PWD}}
ULMFIT=${ULMFIT:-$ULMFIT_ROOT/.build/release/ulmfit}
DATA=${DATA:-$ULMFIT_ROOT/../shared/data}
OUT=${OUT:-$ULMFIT_ROOT/runs/cluster}
export ULMFIT_MPI_TIMEOUT=${ULMFIT_MPI_TIMEOUT:-600}
# Worker count, when set: passed to every training command.
layout_args=()
if [ -n "${WORKERS:-}" ]; then layout_args+=(--workers "$WORKERS"); fi
if [ ! -x "$ULMFIT" ]; then
  echo "cluster/env.sh: no ulmfit binary at $ULMFIT (build: swift build -c release; or export ULMFIT=...)" >&2
  exit 1
fi
