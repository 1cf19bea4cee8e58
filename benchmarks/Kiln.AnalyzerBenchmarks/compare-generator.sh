#!/usr/bin/env bash
# A/B of the source generator's cost (GeneratorCost.cs): builds Kiln.Generator at BASE (a git revision) into a
# temporary folder and runs the GeneratorCost benchmark of this working tree once, with Version = head (this tree's
# generator), base (BASE's, loaded in its own AssemblyLoadContext) and floor (a generator that only binds the
# attributes), in one process, so that both versions see the same machine. Usage:
#
#   benchmarks/Kiln.AnalyzerBenchmarks/compare-generator.sh BASE [--cpu-clock] [BenchmarkDotNet arguments...]
#
# --cpu-clock times by the benchmark thread's CPU time instead of the wall clock (on a machine shared with other
# builds the wall clock mostly measures the wait for a core). Example: compare-generator.sh 2d317d2 --cpu-clock
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(git -C "$here" rev-parse --show-toplevel)"
[[ $# -ge 1 ]] || { sed -n '2,11p' "${BASH_SOURCE[0]}"; exit 2; }
base="$1"; shift
out="$(mktemp -d /tmp/kiln-generator-ab.XXXXXX)"
git -C "$repo" worktree add --quiet --detach "$out/tree" "$base"
trap 'git -C "$repo" worktree remove --force "$out/tree" >/dev/null 2>&1 || true' EXIT

echo "building the generator at $base" >&2
dotnet build "$out/tree/Generator" -c Release -v q -nologo -o "$out/base" >"$out/build-base.log" 2>&1 || { tail -20 "$out/build-base.log" >&2; exit 1; }
echo "building the benchmark (this tree)" >&2
dotnet build "$here" -c Release -v q -nologo >"$out/build-head.log" 2>&1 || { tail -20 "$out/build-head.log" >&2; exit 1; }

KILN_BASE_GENERATOR="$out/base/Kiln.Generator.dll" dotnet run -c Release --no-build --project "$here" -- generator "$@" --artifacts "$out/results"
echo "results: $out/results" >&2
