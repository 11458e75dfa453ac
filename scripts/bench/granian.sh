#!/usr/bin/env bash
# The bench's Granian server (BENCH_WORKER_CLASS=granian): the same WSGI application, workers and
# threads as the gunicorn rows (BIND, WEB_CONCURRENCY, GUNICORN_THREADS), the same web-process
# database limits and multi-process metrics. exec: the bench stops it by this shell's pid.
set -euo pipefail
export PROCESS_ROLE=web
export PROMETHEUS_MULTIPROC_DIR=${PROMETHEUS_MULTIPROC_DIR:-$(mktemp -d -t parecer-metrics-XXXX)}
exec .venv/bin/granian --interface wsgi --no-ws --no-access-log --log-level warning \
  --host "${BIND%:*}" --port "${BIND##*:}" --workers "${WEB_CONCURRENCY:-2}" \
  --blocking-threads "${GUNICORN_THREADS:-4}" --backlog 2048 config.wsgi:application
