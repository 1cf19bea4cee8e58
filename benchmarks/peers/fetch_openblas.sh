#!/usr/bin/env bash
# Unpacks one of Debian's OpenBLAS builds into benchmarks/peers/.openblas without installing it and
# prints the directory holding its libblas.so.3, so that the PyTorch peer can run on OpenBLAS through
# LD_LIBRARY_PATH while the machine's libblas.so.3 alternative (and with it numpy and everyone
# else's processes) stays untouched.
#   fetch_openblas.sh [openmp|pthread]     (default openmp)
#
# Why: python3-torch 1.13 is built with BLAS_INFO=generic and calls sgemm from whatever
# libblas.so.3 the loader finds. Where libopenblas0 is not installed that is netlib's reference
# BLAS (libblas3), roughly 30x slower than OpenBLAS for the benchmark's GEMMs.
# The two flavours differ in how OpenBLAS runs its threads:
#   openmp   libopenblas0-openmp: OpenBLAS parallelises with OpenMP (libgomp, the pool torch uses too)
#   pthread  libopenblas0-pthread: OpenBLAS keeps its own pthread pool (OPENBLAS_NUM_THREADS threads)
# Both are OpenBLAS 0.3.21 with every kernel built in (DYNAMIC_ARCH); benchmarks/README.md says how
# compare.sh combines each with torch's own threads.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
flavour="${1:-openmp}"
case "$flavour" in
  openmp | pthread) ;;
  *) echo "fetch_openblas: unknown flavour '$flavour' (openmp or pthread)" >&2; exit 2 ;;
esac
pkg="libopenblas0-$flavour"
dest="$here/.openblas"
libdir="$dest/usr/lib/x86_64-linux-gnu/openblas-$flavour"
if [[ -e "$libdir/libblas.so.3" ]]; then
  echo "$libdir"
  exit 0
fi
tmp="$(mktemp -d)"
chmod 755 "$tmp"  # apt-get download runs as _apt and must be able to write here
trap 'rm -rf "$tmp"' EXIT
( cd "$tmp" && apt-get download "$pkg" >&2 ) || {
  echo "fetch_openblas: 'apt-get download $pkg' failed (run 'apt-get update' first?)" >&2
  exit 1
}
mkdir -p "$dest"
dpkg-deb -x "$tmp"/"$pkg"_*.deb "$dest"
[[ -e "$libdir/libblas.so.3" ]] || { echo "fetch_openblas: $libdir/libblas.so.3 not found in $pkg" >&2; exit 1; }
echo "$libdir"
