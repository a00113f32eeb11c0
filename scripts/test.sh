#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs system libraries, builds, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --build-tests
swift test --skip-build "$@"
