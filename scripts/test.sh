#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh machine, then run it all.
# In CI (CI=true) a missing backend fails the run instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev
mkdir -p artifacts
start=$(date +%s)
.venv/bin/python -m mypy
.venv/bin/python -m pytest "$@"
echo "test suite took $(( $(date +%s) - start )) s"
