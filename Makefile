# numrep — the two promises:
#   make demo   set up and run the platform on its embedded defaults, with demo data
#   make test   set up and pass the whole test suite
.PHONY: demo test setup setup-dev protos lint unit e2e clean bench-store bench bench-ingest bench-freshness bench-import bench-cards eval

DATA_DIR ?= $(CURDIR)/.numrep

demo: setup
	.venv/bin/numrep --data-dir $(DATA_DIR) up --demo

test:
	scripts/test.sh

setup:
	scripts/bootstrap.sh

setup-dev:
	scripts/bootstrap.sh dev

protos: setup-dev
	.venv/bin/python scripts/gen_protos.py

lint: setup-dev
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/python -m mypy

# the fast tests: no server needed (the contract suite on SQLite; its Cassandra half is marked integration)
unit: setup-dev
	.venv/bin/python -m pytest tests/unit -m "not integration"

e2e: setup-dev
	.venv/bin/python -m pytest tests/e2e

clean:
	rm -rf .numrep artifacts .pytest_cache .mypy_cache

bench-store: setup-dev
	.venv/bin/python -m scripts.bench_store

# the lookup benchmark of issue 5: ghz, redis-benchmark, the SDK, filter builds (prints figures and ratios)
bench: setup-dev
	.venv/bin/python -m scripts.bench --json

# call-record ingest of issue 10: records/s in-process and over gRPC, SQLite and Cassandra (prints figures and ratios)
bench-ingest: setup-dev
	.venv/bin/python -m scripts.bench_ingest

# freshness under load of issue 13: deciding report -> BLOCK on Lookup and on WatchRules, idle vs under ingest,
# embedded and on the 3-node ring; FRESHNESS_ARGS e.g. --backend embedded --samples 20 --report-rate 3700
bench-freshness: setup-dev
	.venv/bin/python -m scripts.bench_freshness $(FRESHNESS_ARGS)

# import rows/s and peak RSS of 10k / 100k / 1M-row CSV, JSON and JSON Lines files (issue 11, item 9)
bench-import: setup-dev
	.venv/bin/python -m scripts.bench_import

# real-name card registrations: rows/s and peak RSS at 100k and 1M rows (issue 15)
bench-cards: setup-dev
	.venv/bin/python -m scripts.bench_cards

# detection quality on a simulated world with ground truth (ARCHITECTURE §11); EVAL_ARGS e.g. --seed 7 --scale 0.2 --json artifacts/eval.json
eval: setup-dev
	.venv/bin/python -m evaluation $(EVAL_ARGS)
