#!/usr/bin/env bash
# The GPU paths in one go on a CUDA machine (bf16 SmolLM2 with MFU, QLoRA memory, SD fp16, DDP/NCCL, exact
# resume), one table in gpu_check.md; --dry-run composes every config and prints the plan, on any machine.
#   bash scripts/gpu_check.sh [--dry-run]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=python
[ -x .venv/bin/python ] && PY=.venv/bin/python
exec "$PY" scripts/gpu_check.py "$@"
