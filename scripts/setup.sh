#!/usr/bin/env bash
# Idempotent set-up: installs the system libraries GenomicULMFiT links against, only when missing.
#   hwloc (topology and thread binding), OpenBLAS (GEMM), zlib (.gz input), OpenSSL's libcrypto
#   (SHA-256 of checkpoints), pkg-config.
# With --mpi also Open MPI (mpirun, mpicc, libmpi), which the multi-process tests use. The build
# never needs it: ulmfit loads libmpi at run time, only when mpirun or srun started it.
set -euo pipefail
packages=(libhwloc-dev libopenblas-dev zlib1g-dev libssl-dev pkg-config)
for arg in "$@"; do
  case "$arg" in
    --mpi) packages+=(openmpi-bin libopenmpi-dev) ;;
    *) echo "setup: unknown option $arg (known: --mpi)" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
