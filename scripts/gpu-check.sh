#!/usr/bin/env bash
# GPU check for a lent CUDA machine (at most ~8 minutes on one H200): the CUDA-marked tests and
# bench/limits.py with CUDA + channels_last + fp32/bf16 (+ torch.compile), JSON under
# bench/results/gpu/. Run from the repository root after `bash scripts/dev.sh test --co -q`
# (or on a machine whose .venv is ready):  bash scripts/gpu-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/results/gpu}
mkdir -p "$OUT"
PY=${PYTHON:-.venv/bin/python}
"$PY" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.cuda.get_device_name(0))" | tee "$OUT/device.txt"
timeout 240 "$PY" -m pytest -q -m cuda -p no:cacheprovider tests/test_execution_policy.py \
  --junitxml="$OUT/cuda-tests.xml" | tail -n 5 | tee "$OUT/cuda-tests.txt"
timeout 240 "$PY" bench/limits.py --device cuda --batch 64 --reps 5 --compile --out "$OUT/limits.json" \
  | tee "$OUT/limits.txt"
