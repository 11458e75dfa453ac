#!/usr/bin/env bash
# In-process cost of one request per bench path, on the bench database (run `make bench` once first).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f .bench/env ] || { echo "run make bench first (it creates .bench/env and the bench database)" >&2; exit 1; }
. scripts/bench/env.sh
export PYTHONPATH=.
eval "$(BENCH_STATE_DIR=.bench BENCH_AUDIT_EVENTS=0 .venv/bin/python scripts/bench/setup.py)"
.venv/bin/python scripts/bench/request_cost.py
