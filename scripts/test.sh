#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs system libraries (Open MPI included, for
# the multi-process tests), builds, tests. ULMFIT_MPI_TESTS=1 makes those tests fail, rather than
# skip, if mpirun is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --mpi
swift build --build-tests
ULMFIT_MPI_TESTS=1 swift test --skip-build "$@"
