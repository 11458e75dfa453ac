#!/usr/bin/env bash
# make bench-analyses: the production server (gunicorn) and analysis_worker processes on
# PostgreSQL + Redis, against the fake OpenAI server answering in BENCH_LLM_LATENCY (2) seconds.
#   BENCH_ANALYSES=500  BENCH_WORKERS=1,2,4  BENCH_WORKER_THREADS=32
#   BENCH_PORT=8200 (API)  BENCH_LLM_PORT=8201   BENCH_DB=parecer_bench_analyses  BENCH_REDIS_DB=3
# See docs/performance.md ("Analyses").
set -euo pipefail
cd "$(dirname "$0")/../.."
py=.venv/bin/python
port=${BENCH_PORT:-8200}
llm_port=${BENCH_LLM_PORT:-8201}
db=${BENCH_DB:-parecer_bench_analyses}
state=.bench
mkdir -p "$state"
if [ ! -f "$state/analyses.env" ]; then
  gen() { "$py" -c 'import secrets; print(secrets.token_urlsafe(64))'; }
  (umask 077; printf "SECRET_KEY=%s\nJWT_SIGNING_KEY=%s\nAUDIT_HMAC_KEY=%s\n" "$(gen)" "$(gen)" "$(gen)" > "$state/analyses.env")
fi
set -a; . "$state/analyses.env"; set +a
export DJANGO_SETTINGS_MODULE=config.settings.prod ALLOWED_HOSTS=127.0.0.1,localhost
export SECURE_SSL_REDIRECT=false LOG_LEVEL=WARNING
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$db REDIS_URL=redis://127.0.0.1:6379/${BENCH_REDIS_DB:-3}
export OPENAI_API_KEY=bench-not-a-key OPENAI_BASE_URL=http://127.0.0.1:$llm_port/v1
export BIND=127.0.0.1:$port WEB_CONCURRENCY=${BENCH_WEB_CONCURRENCY:-2} GUNICORN_THREADS=${BENCH_THREADS:-8}
export BENCH_PORT=$port PYTHONPATH=. THROTTLE_WRITES=1000000/min
unset METRICS_TOKEN
psql -q -X -h 127.0.0.1 -U postgres -d postgres -tc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 \
  || psql -q -X -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $db" >/dev/null
"$py" manage.py migrate --noinput -v0

"$py" -m tests.fakes.openai_server --port "$llm_port" --latency "${BENCH_LLM_LATENCY:-2}" --quiet &
fake=$!
.venv/bin/gunicorn -c config/gunicorn.py >"$state/analyses-gunicorn.log" 2>&1 &
server=$!
trap 'kill $server $fake 2>/dev/null; wait $server $fake 2>/dev/null' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/health/live" >/dev/null 2>&1 && break
  sleep 0.2
done
"$py" scripts/bench/analyses_load.py
