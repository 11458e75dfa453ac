# Sourced (from the repository root) by scripts/bench.sh and scripts/bench/request_cost.sh: the
# production settings every benchmark runs under, with the throwaway secrets of .bench/env (or of
# $BENCH_STATE_DIR/env: tests/support/prod_server.py boots the same settings with its own).
set -a
. "${BENCH_STATE_DIR:-.bench}/env"
set +a
export DJANGO_SETTINGS_MODULE=config.settings.prod ALLOWED_HOSTS=127.0.0.1,localhost
export SECURE_SSL_REDIRECT=false LOG_LEVEL=WARNING ACCESS_TOKEN_TTL=86400
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/parecer_bench REDIS_URL=redis://127.0.0.1:6379/2
export THROTTLE_LOGIN=1000000/min THROTTLE_WRITES=1000000/min
unset METRICS_TOKEN
