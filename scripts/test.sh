#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh machine, then run it all:
# Python packages (.venv), Redis, Java and Maven from Debian's packages, and the
# Cassandra 5.0 server from Maven Central (cached). The tests start the servers
# on 127.0.0.1 themselves. In CI (CI=true) a missing backend fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/system-deps.sh
scripts/bootstrap.sh dev
.venv/bin/python -m scripts.cassandra fetch
scripts/kustomize.sh >/dev/null
mkdir -p artifacts
echo "setup took $(( $(date +%s) - start )) s"
start=$(date +%s)
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m mypy
.venv/bin/python -m pytest "$@"
echo "test suite took $(( $(date +%s) - start )) s"
