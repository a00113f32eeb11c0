#!/usr/bin/env bash
# Builds the many-core benchmark bundle on a machine WITH Swift, for a machine WITHOUT it:
#   benchmarks/manycore/build-bundle.sh [OUT]        (default OUT: dist/ulmfit-manycore)
# OUT/ then holds: bin/ulmfit (Swift standard library linked statically), lib/ (the shared
# libraries it still needs that a bare Linux may lack: hwloc, OpenBLAS and its Fortran
# runtime, zlib, libudev, libstdc++/libgcc_s; glibc is the target's own), the PyTorch peer
# (pytorch_reference.py, fma_peak.c) and run.sh. Copy OUT to the target and run OUT/run.sh.
# The target needs glibc >= the build machine's (Debian bookworm: 2.36) and x86-64 with
# AVX2 + FMA; for the peer, a python with torch (and fastai for its classifier).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="${1:-$ROOT/dist/ulmfit-manycore}"
cd "$ROOT"
swift build -c release --static-swift-stdlib --product ulmfit --scratch-path .build-static
BIN=".build-static/release/ulmfit"
rm -rf "$OUT"
mkdir -p "$OUT/bin" "$OUT/lib/hwloc-plugins" "$OUT/peer"
cp "$BIN" "$OUT/bin/ulmfit"
# Every shared library the binary loads, except glibc's own (those must match the target's kernel
# and loader, and every Linux has them).
ldd "$BIN" | awk '/=> \//{print $3}' | while read -r lib; do
    case "$(basename "$lib")" in
        libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*|libresolv.so.*) ;;
        *) cp -L "$lib" "$OUT/lib/" ;;
    esac
done
cp "$HERE/run.sh" "$HERE/summarize.py" "$HERE/README.md" "$ROOT/benchmarks/schedule_ratio.py" "$OUT/"
cp "$ROOT/benchmarks/pytorch_reference.py" "$ROOT/benchmarks/peer/fma_peak.c" "$OUT/peer/"
chmod +x "$OUT/run.sh" "$OUT/bin/ulmfit"
# The bundle must run with nothing but its own lib/ and glibc: check here without Swift's
# libraries in reach (a clean environment; no rpath to /opt/swift in a static-stdlib build).
env -i LD_LIBRARY_PATH="$OUT/lib" HWLOC_PLUGINS_PATH="$OUT/lib/hwloc-plugins" "$OUT/bin/ulmfit" topology >/dev/null
if ldd "$OUT/bin/ulmfit" | grep -q swift; then echo "build-bundle: the binary still loads Swift libraries" >&2; exit 1; fi
echo "bundle: $OUT ($(du -sh "$OUT" | cut -f1)); libraries carried:"
ls "$OUT/lib"
