#!/usr/bin/env bash
# Runs the BenchmarkDotNet suite (benchmarks/Kiln.Benchmarks) on two versions of Kiln, interleaved, and prints
# each benchmark's median time on both and the ratio. Usage:
#
#   benchmarks/compare/compare-refs.sh BASE [HEAD] [--rounds N] [--iterations N] [--filter GLOB] [--out DIR]
#
# BASE and HEAD are git revisions (HEAD defaults to the working tree this script is in, uncommitted changes
# included). Each version is built once in its own detached worktree (the working tree is used as it is);
# then the suite runs BASE, HEAD, BASE, HEAD, ... for N rounds (default 3; each benchmark 3 warm-up and
# --iterations measured iterations of 250 ms, default 10, as the suite's own short job), so that a machine that slows
# down or speeds up part-way affects both sides alike. The table (summarize.py) gives, per benchmark, the
# median over rounds of BenchmarkDotNet's median, for both sides, and HEAD/BASE; a ratio above 1 + the
# spread of the rounds is flagged "slower". Run it on a quiet machine: every core the suite does not use
# should be idle. Example, the lead's check of a branch against main:
#
#   benchmarks/compare/compare-refs.sh 427b16b kernels --rounds 3
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(git -C "$here" rev-parse --show-toplevel)"
base="" head="" rounds=3 iterations=10 filter='*' out=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --filter) filter="$2"; shift 2 ;;
        --iterations) iterations="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        -h|--help) sed -n '2,16p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) if [[ -z "$base" ]]; then base="$1"; elif [[ -z "$head" ]]; then head="$1"; else echo "unexpected argument: $1" >&2; exit 2; fi; shift ;;
    esac
done
[[ -n "$base" ]] || { echo "usage: $0 BASE [HEAD] [--rounds N] [--filter GLOB] [--out DIR]" >&2; exit 2; }
out="${out:-$(mktemp -d /tmp/kiln-compare.XXXXXX)}"
mkdir -p "$out"

# A version's tree: the working tree for an empty HEAD, else a detached worktree of the revision.
trees=()
cleanup() { for t in "${trees[@]}"; do git -C "$repo" worktree remove --force "$t" >/dev/null 2>&1 || true; done; }
trap cleanup EXIT
tree_of() {
    local rev="$1" name="$2"
    if [[ -z "$rev" ]]; then echo "$repo"; return; fi
    local t="$out/tree-$name"
    git -C "$repo" worktree add --quiet --detach --force "$t" "$rev" >/dev/null
    trees+=("$t")
    echo "$t"
}
base_tree="$(tree_of "$base" base)"
head_tree="$(tree_of "$head" head)"

for side in base head; do
    tree="${side}_tree"; tree="${!tree}"
    echo "building $side ($tree)" >&2
    dotnet build "$tree/benchmarks/Kiln.Benchmarks" -c Release -v q -nologo -o "$out/bin-$side" >"$out/build-$side.log" 2>&1 \
        || { tail -20 "$out/build-$side.log" >&2; exit 1; }
done

for ((r = 1; r <= rounds; r++)); do
    for side in base head; do
        echo "round $r/$rounds: $side" >&2
        # In process: the two sides differ only in the Kiln assemblies next to the benchmark, which an out-of-process
        # BenchmarkDotNet run would rebuild from the project instead of using. The in-process job gets the suite's
        # short job's counts (BenchConfig) from the command line.
        (cd "$out/bin-$side" && dotnet Kiln.Benchmarks.dll --filter "$filter" --inProcess --exporters json \
            --launchCount 1 --warmupCount 3 --iterationCount "$iterations" --iterationTime 250 \
            --artifacts "$out/results-$side-$r") >"$out/run-$side-$r.log" 2>&1 \
            || { tail -30 "$out/run-$side-$r.log" >&2; exit 1; }
    done
done

python3 "$here/summarize.py" "$out" | tee "$out/summary.txt"
echo "results and logs: $out" >&2
