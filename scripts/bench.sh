#!/usr/bin/env bash
# make bench: the production server (gunicorn, 2 workers, PostgreSQL + Redis) under wrk.
# Prints per scenario: req/s, p50/p95/p99 latency (ms), errors (non-2xx + socket), server RSS.
#   BENCH_DURATION=15        seconds per scenario
#   BENCH_SCENARIOS=regex    only scenarios whose name matches
#   BENCH_WORKER_CLASS=gthread|sync|uvicorn
#   BENCH_AUDIT_EVENTS=1000000   seed the audit table up to this many rows (once)
#   BENCH_REPEAT=1           runs per scenario; the best is printed (this host's speed varies ~3x)
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
duration=${BENCH_DURATION:-15}
filter=${BENCH_SCENARIOS:-.}
port=${BENCH_PORT:-8100}
base="http://127.0.0.1:$port"

command -v wrk >/dev/null || { apt-get install -y -q wrk >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; }; }
scripts/services-up.sh >/dev/null
ulimit -n 65536 2>/dev/null || ulimit -n 8192 || true

mkdir -p .bench
if [ ! -f .bench/env ]; then  # strong throwaway secrets, kept so tokens stay valid across runs
  gen() { "$py" -c 'import secrets; print(secrets.token_urlsafe(64))'; }
  printf "SECRET_KEY=%s\nJWT_SIGNING_KEY=%s\nAUDIT_HMAC_KEY=%s\n" "$(gen)" "$(gen)" "$(gen)" > .bench/env
fi
set -a; . .bench/env; set +a
export DJANGO_SETTINGS_MODULE=config.settings.prod ALLOWED_HOSTS=127.0.0.1,localhost
export SECURE_SSL_REDIRECT=false LOG_LEVEL=${LOG_LEVEL:-WARNING} ACCESS_TOKEN_TTL=86400
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/parecer_bench REDIS_URL=redis://127.0.0.1:6379/2
export THROTTLE_LOGIN=1000000/min LOGIN_LOCKOUT_ATTEMPTS=1000000 DB_POOL_MAX_SIZE=${DB_POOL_MAX_SIZE:-10}
export BIND=127.0.0.1:$port WEB_CONCURRENCY=2

psql -q -h 127.0.0.1 -U postgres -d postgres -tc "SELECT 1 FROM pg_database WHERE datname='parecer_bench'" \
  | grep -q 1 || psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE parecer_bench"
"$py" manage.py migrate --noinput -v0
fixtures=$(PYTHONPATH=. "$py" scripts/bench/setup.py) || { echo "bench setup failed" >&2; exit 1; }
eval "$fixtures"

case ${BENCH_WORKER_CLASS:-gthread} in
  uvicorn) export GUNICORN_WORKER_CLASS=uvicorn_worker.UvicornWorker GUNICORN_APP=config.asgi:application ;;
  *) export GUNICORN_WORKER_CLASS=${BENCH_WORKER_CLASS:-gthread} ;;
esac
.venv/bin/gunicorn -c config/gunicorn.py > .bench/server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
for _ in $(seq 1 50); do curl -sf "$base/health/live" >/dev/null && break; sleep 0.2; done

rss_mib() {  # gunicorn master + its workers
  local pids; pids=$(echo "$server" $(pgrep -P "$server") | tr ' ' ',')
  ps -o rss= -p "$pids" | awk '{s+=$1} END {printf "%.0f", s/1024}'
}

login_body="{\"email\": \"$BENCH_EMAIL\", \"password\": \"$BENCH_PASSWORD\"}"
event_body='{"action": "bench.event", "entity_type": "bench", "entity_id": "1", "details": {"n": 1}}'
# name | method | path | header | body | connections | seconds
scenarios=(
  "health_live|GET|/health/live|||64|$duration"
  "health|GET|/health|||64|$duration"
  "me_jwt|GET|/api/v1/auth/me|Authorization: Bearer $BENCH_JWT||64|$duration"
  "me_api_key|GET|/api/v1/auth/me|X-API-Key: $BENCH_API_KEY||64|$duration"
  "login|POST|/api/v1/auth/login||$login_body|8|$duration"
  "audits_list_p1|GET|/api/v1/audits?action=invoice.paid|Authorization: Bearer $BENCH_JWT||64|$duration"
  "audits_list_p1000|GET|/api/v1/audits?action=invoice.paid&page=1000|Authorization: Bearer $BENCH_JWT||64|$duration"
  "audits_create|POST|/api/v1/audits|X-API-Key: $BENCH_API_KEY|$event_body|64|$duration"
  "stress_1000_conns|GET|/health/live|||1000|30"
)

echo "server: gunicorn ${GUNICORN_WORKER_CLASS} x2, PostgreSQL + Redis; audit rows: $BENCH_AUDIT_ROWS; LOG_LEVEL=$LOG_LEVEL"
printf "%-20s %10s %9s %9s %9s %8s %9s\n" scenario "req/s" "p50 ms" "p95 ms" "p99 ms" errors "RSS MiB"
for row in "${scenarios[@]}"; do
  IFS='|' read -r name method path header body conns secs <<< "$row"
  [[ $name =~ $filter ]] || continue
  threads=2; [ "$conns" -lt 2 ] && threads=1
  BENCH_METHOD=$method BENCH_BODY=$body BENCH_HEADER_1=$header \
    wrk -t2 -c"$conns" -d1s --timeout 10s -s scripts/bench/report.lua "$base$path" >/dev/null 2>&1 || true
  best=""
  for _ in $(seq 1 "${BENCH_REPEAT:-1}"); do
    out=$(BENCH_METHOD=$method BENCH_BODY=$body BENCH_HEADER_1=$header \
      wrk -t$threads -c"$conns" -d"${secs}s" --timeout 10s --latency -s scripts/bench/report.lua "$base$path" 2>&1)
    result=$(grep '^RESULT' <<< "$out")
    if [ -z "$best" ] || awk -v a="$(cut -d' ' -f3 <<< "$result")" -v b="$(cut -d' ' -f3 <<< "$best")" 'BEGIN{exit !(a>b)}'; then
      best=$result
    fi
  done
  read -r _ _ rps p50 p95 p99 bad sock <<< "$best"
  printf "%-20s %10s %9s %9s %9s %8s %9s\n" "$name" "$rps" "$p50" "$p95" "$p99" "$((bad + sock))" "$(rss_mib)"
done

if [[ audits_create =~ $filter ]]; then
  "$py" manage.py audit_verify | tail -n 1
fi
