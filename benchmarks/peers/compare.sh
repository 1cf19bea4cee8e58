#!/usr/bin/env bash
# Kiln (1 and N threads) against PyTorch (expert configuration), TorchSharp and ONNX Runtime on the benchmark MLP and
# CNN in one run: builds Kiln.Benchmarks (and benchmarks/Kiln.Peers when present), runs every column, prints the
# tables, the issue-18 targets as met / not met and the efficiency against the FMA peak. See benchmarks/README.md.
#   benchmarks/peers/compare.sh --threads 2 --repeat 3     # figures to quote (quiet machine, ~10 min a repeat)
#   benchmarks/peers/compare.sh --threads 2 --quick        # smoke test of every column
#   benchmarks/peers/compare.sh --from benchmarks/results/<time>   # the tables again, from an earlier run
#   benchmarks/peers/compare.sh --help                     # every option
set -euo pipefail
exec /usr/bin/python3 "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/compare.py" "$@"
