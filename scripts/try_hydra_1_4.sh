#!/usr/bin/env bash
# The path to Hydra 1.4: runs the tests that touch Hydra (config composition, errors, sweeps, resume, W&B, the
# command line) with Hydra 1.4 / OmegaConf 2.4 release candidates laid over the set-up venv (nothing in .venv is
# changed). Results and what breaks: docs/hydra_1_4.md.
#   bash scripts/try_hydra_1_4.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
overlay="${TMPDIR:-/tmp}/genlab-hydra-1.4"
rm -rf "$overlay"
.venv/bin/pip install --quiet --no-deps --target "$overlay" \
  "hydra-core==1.4.0rc3" "omegaconf==2.4.1rc1" "hydra-submitit-launcher==1.4.0rc3"
PYTHONPATH="$overlay" .venv/bin/python -c "import hydra, omegaconf; print('hydra', hydra.__version__, 'omegaconf', omegaconf.__version__)"
PYTHONPATH="$overlay" .venv/bin/python -m pytest -q \
  tests/unit tests/integration/test_config_errors.py tests/integration/test_bad_input_catalogue.py \
  tests/e2e/test_sweeps.py tests/e2e/test_cli.py tests/e2e/test_resume.py tests/e2e/test_wandb.py "$@"
