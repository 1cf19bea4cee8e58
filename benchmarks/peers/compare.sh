#!/usr/bin/env bash
# Kiln vs PyTorch on the benchmark MLP (--model cnn: the CNN) in one run: builds and runs Kiln.Benchmarks --quick-json and
# torch_mlp.py with the same thread count, then prints the comparison table and machine info.
#   benchmarks/peers/compare.sh                       # all CPUs, environment as is
#   benchmarks/peers/compare.sh --threads 2 --peer-blas all --repeat 3
#   benchmarks/peers/compare.sh --threads 2 --model cnn # the CNN (torch_cnn.py on the peer side)
#   benchmarks/peers/compare.sh --help                # every option
set -euo pipefail
exec /usr/bin/python3 "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/compare.py" "$@"
