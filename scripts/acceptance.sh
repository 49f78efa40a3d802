#!/usr/bin/env bash
# The slow, real-learning checks (minutes each), kept out of default CI: pytest -m slow.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pytest -q -m slow -p no:logging "$@"
