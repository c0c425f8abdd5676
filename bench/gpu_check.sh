#!/usr/bin/env bash
# GPU-host check of `r1agent serve` planning and `r1agent doctor` (under 5 minutes, installs nothing big).
#
# On the GPU box, from the repo root:   bash bench/gpu_check.sh
# It uses the python3 that holds torch. r1agent's light dependencies that box may lack (pydantic,
# platformdirs, tomli-w, docker) are installed into a throwaway dir from wheels in
# bench/.cache/gpu-wheels when that dir exists (fill it here with: bash bench/gpu_check.sh --fetch-wheels).
# It prints: nvidia-smi's view, torch's view through r1agent's own probe, the plans r1agent makes from
# that discovery for every profile (dry runs), and the doctor table. Any step may fail; all are shown.
set -uo pipefail
cd "$(dirname "$0")/.."
WHEELS=bench/.cache/gpu-wheels
PY=${PYTHON:-python3}

if [[ "${1:-}" == "--fetch-wheels" ]]; then  # run on a machine with PyPI, for a Python 3.12 x86-64 GPU box
  mkdir -p "$WHEELS"
  exec "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d "$WHEELS" \
    'pydantic>=2.7,<3' 'pydantic-core' 'annotated-types' 'typing-inspection' 'platformdirs>=4,<5' \
    'tomli-w>=1,<2' 'docker>=7.1,<8'
fi

section() { printf '\n=== %s\n' "$*"; }
SITE=$(mktemp -d)
trap 'rm -rf "$SITE"' EXIT
if ls "$WHEELS"/*.whl >/dev/null 2>&1; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$SITE" "$WHEELS"/*.whl \
    || echo "(wheel install failed; using what $PY has)"
fi
export PYTHONPATH="$SITE:$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 COLUMNS=160
R1AGENT=("$PY" -m r1agent)

section "host"
"$PY" --version; uname -m
nvidia-smi --query-gpu=index,name,memory.total --format=csv 2>&1 || echo "(no nvidia-smi)"

section "torch discovery (python -m r1agent.serve.gpus)"
timeout 120 "$PY" -m r1agent.serve.gpus

section "plans from torch discovery (r1agent serve --dry-run), one per profile"
for model in r1 r1-0528 r1-awq distill-qwen-1.5b distill-qwen-7b distill-llama-8b distill-qwen-14b \
             distill-qwen-32b distill-llama-70b; do
  echo "--- $model"
  timeout 120 "${R1AGENT[@]}" serve --model "$model" --dry-run 2>&1
  echo "(exit $?)"
done

section "what --gpus 8 would give here (8 of this box's cards)"
mem=$(nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits 2>/dev/null | head -1)
if [[ -n "$mem" ]]; then
  timeout 60 "${R1AGENT[@]}" serve --model r1 --gpus 8 --gpu-memory "$((mem * 1048576 / 1000000000))" --dry-run 2>&1
fi

section "r1agent doctor (no server runs here, so the endpoint checks fail; GPUs must pass)"
timeout 120 "${R1AGENT[@]}" doctor --timeout 5 2>&1
echo "(exit $?)"
