#!/usr/bin/env bash
# Interleaved A/B of Predict latency (batch 1 and 256, MLP and CNN, 1 and 2 threads) between two built
# Kiln.Benchmarks output folders, e.g. main's and a branch's:
#   dotnet build benchmarks/Kiln.Benchmarks -c Release            # in each worktree
#   bash benchmarks/PredictLatency/ab.sh /path/to/A/benchmarks/Kiln.Benchmarks/bin/Release/net10.0 \
#                                        /path/to/B/benchmarks/Kiln.Benchmarks/bin/Release/net10.0 [rounds]
# Each side gets its own copy of this probe compiled against its folder; the runs alternate A, B, A, B, ...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
a=$(cd "$1" && pwd); b=$(cd "$2" && pwd); rounds=${3:-3}
out=$(mktemp -d)
for side in a b; do
  bin=$a; [ $side = b ] && bin=$b
  mkdir -p "$out/src-$side" && cp "$here/PredictLatency.csproj" "$here/Program.cs" "$here/Kernels.cs" "$out/src-$side/"
  dotnet build "$out/src-$side/PredictLatency.csproj" -c Release -nologo -v q -p:KilnBin="$bin" -o "$out/$side" >/dev/null
  cp "$bin"/Kiln.Runtime.dll "$bin"/Kiln.Benchmarks.dll "$out/$side/"
done
for t in 1 2; do
  for r in $(seq "$rounds"); do
    KILN_THREADS=$t dotnet "$out/a/PredictLatency.dll" A
    KILN_THREADS=$t dotnet "$out/b/PredictLatency.dll" B
  done
done
rm -rf "$out"
