# Sourced (from the repository root) by scripts/bench.sh, scripts/bench/request_cost.sh,
# scripts/contract-fuzz.sh and tests/support/prod_server.py: the production settings every
# real-server run uses, with the throwaway secrets of $PROD_STATE_DIR/env. The caller may set
# PROD_STATE_DIR (default BENCH_STATE_DIR or .bench), PROD_DATABASE and PROD_REDIS_DB (default:
# BENCH_DATABASE or parecer_bench, BENCH_REDIS_DB or 2).
PROD_STATE_DIR=${PROD_STATE_DIR:-${BENCH_STATE_DIR:-.bench}}
set -a
. "$PROD_STATE_DIR/env"
set +a
export DJANGO_SETTINGS_MODULE=config.settings.prod ALLOWED_HOSTS=127.0.0.1,localhost
export SECURE_SSL_REDIRECT=false LOG_LEVEL=WARNING ACCESS_TOKEN_TTL=86400
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/${PROD_DATABASE:-${BENCH_DATABASE:-parecer_bench}}
export REDIS_URL=redis://127.0.0.1:6379/${PROD_REDIS_DB:-${BENCH_REDIS_DB:-2}}
# Files: uploads land under $PROD_STATE_DIR/media; the bench user may store far more than a real
# one, and the extraction tasks the upload rows enqueue (no worker runs here) must not fail /health.
case $PROD_STATE_DIR in /*) media_root=$PROD_STATE_DIR/media ;; *) media_root=$PWD/$PROD_STATE_DIR/media ;; esac
export MEDIA_ROOT=$media_root STORAGE_QUOTA_BYTES=1099511627776 HEALTH_TASK_BACKLOG_MAX=100000000
export THROTTLE_LOGIN=1000000/min THROTTLE_WRITES=1000000/min
unset METRICS_TOKEN
