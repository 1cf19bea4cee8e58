#!/usr/bin/env bash
# Unpacks Debian's OpenBLAS (OpenMP flavour) into benchmarks/peers/.openblas without installing it,
# so that the PyTorch peer can run on OpenBLAS through LD_LIBRARY_PATH while the machine's
# libblas.so.3 alternative (and with it numpy and everyone else's processes) stays untouched.
#
# Why: python3-torch 1.13 is built with BLAS_INFO=generic and calls sgemm from whatever
# libblas.so.3 the loader finds. Where libopenblas0 is not installed that is netlib's reference
# BLAS (libblas3), roughly 30x slower than OpenBLAS for the benchmark's GEMMs.
# The OpenMP flavour shares torch's libgomp thread pool, so torch.set_num_threads(N) also bounds it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="$here/.openblas"
pkg="${OPENBLAS_PACKAGE:-libopenblas0-openmp}"
libdir="$dest/usr/lib/x86_64-linux-gnu/openblas-openmp"
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
[[ -e "$libdir/libblas.so.3" ]] || { echo "fetch_openblas: $libdir/libblas.so.3 not found in the package" >&2; exit 1; }
echo "$libdir"
