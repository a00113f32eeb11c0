#!/usr/bin/env bash
# Idempotent set-up: installs the system libraries GenomicULMFiT links against, only when missing.
#   hwloc (topology and thread binding), OpenBLAS (GEMM), zlib (.gz input), pkg-config.
set -euo pipefail
packages=(libhwloc-dev libopenblas-dev zlib1g-dev pkg-config)
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
