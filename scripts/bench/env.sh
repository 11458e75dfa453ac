# Sourced (from the repository root) by scripts/bench.sh and scripts/bench/request_cost.sh: the
# production settings every benchmark runs under, with the throwaway secrets of .bench/env (or of
# $BENCH_STATE_DIR/env: tests/support/prod_server.py boots the same settings with its own).
set -a
. "${BENCH_STATE_DIR:-.bench}/env"
set +a
export DJANGO_SETTINGS_MODULE=config.settings.prod ALLOWED_HOSTS=127.0.0.1,localhost
export SECURE_SSL_REDIRECT=false LOG_LEVEL=WARNING ACCESS_TOKEN_TTL=86400
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/${BENCH_DATABASE:-parecer_bench}
export REDIS_URL=redis://127.0.0.1:6379/${BENCH_REDIS_DB:-2}
# Files: uploads land under .bench/media; the bench user may store far more than a real one, and
# the extraction tasks the upload rows enqueue (no worker runs here) must not fail /health.
export MEDIA_ROOT=$PWD/.bench/media STORAGE_QUOTA_BYTES=1099511627776 HEALTH_TASK_BACKLOG_MAX=100000000
export THROTTLE_LOGIN=1000000/min THROTTLE_WRITES=1000000/min
unset METRICS_TOKEN
