#!/usr/bin/env bash
# int8 inference side by side (bench/results/int8.md): for each model and round, alternating,
#   senet bench --int8 (onednn, then qnnpack), PyTorch eager float32 (shipped env and best-case malloc env),
#   PyTorch FX int8 (bench/pytorch_int8.py, onednn), one JSON line each, to stdout.
# Usage: bash bench/int8-bench.sh [ROUNDS] [MODELS...]   (default 3 rounds, se-resnet20 se-resnet56)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}; shift || true
models=${*:-se-resnet20 se-resnet56}
ref=../shared/reference
[ -d "$ref" ] || ref=/work/shared/reference
best=(env MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824)
for round in $(seq "$rounds"); do
  for m in $models; do
    node bin/senet.js bench --model "$m" --int8 --json
    node bin/senet.js bench --model "$m" --int8 --engine qnnpack --json
    /usr/bin/python3 "$ref/pytorch_bench.py" "$m"
    "${best[@]}" /usr/bin/python3 "$ref/pytorch_bench.py" "$m" | sed 's/"pytorch-eager"/"pytorch-eager-best-env"/'
    /usr/bin/python3 bench/pytorch_int8.py "$m" --calibration 256 2>/dev/null
    "${best[@]}" /usr/bin/python3 bench/pytorch_int8.py "$m" --calibration 256 2>/dev/null | sed 's/"pytorch-fx-int8"/"pytorch-fx-int8-best-env"/'
  done
done
