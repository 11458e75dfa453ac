#!/usr/bin/env bash
# make bench: the PRODUCTION server (gunicorn -c config/gunicorn.py, 2 workers, config.settings.prod,
# PostgreSQL + Redis on this machine) driven by wrk over 127.0.0.1. One row per scenario:
# req/s, p50/p95/p99 latency (ms), errors (non-2xx + socket errors), server RSS (gunicorn master +
# workers, MiB, sampled at the end of the scenario) and the host's 1-minute load average.
#
#   BENCH_DURATION=15           seconds per scenario (the 1000-connection stress row always runs 30 s)
#   BENCH_SCENARIOS=regex       only scenarios whose name matches (e.g. 'health|me_')
#   BENCH_WORKER_CLASS=gthread  gthread | sync | uvicorn (gunicorn + uvicorn_worker, config.asgi)
#                               | granian (Granian's WSGI interface, 2 workers, BENCH_THREADS
#                               blocking threads each; scripts/bench/granian.sh)
#   BENCH_THREADS=4             GUNICORN_THREADS for gthread
#   BENCH_AUDIT_EVENTS=1000000  seed the audit table up to this many rows (only when it has fewer)
#   BENCH_REPEAT=2              runs per scenario, the best (highest req/s) is printed: other jobs
#                               on this host steal CPU, so a single run can be far off
#   BENCH_PORT=8100
#   BENCH_DATABASE=parecer_bench, BENCH_REDIS_DB=2   (another database when several people bench)
#   BENCH_UPLOAD_RSS=1          after the rows, 20 clients upload 25 MiB each at once while each
#                               worker's RSS is sampled (scripts/bench/upload_rss.py)
# Numbers are with the app's access log at LOG_LEVEL=WARNING (no line per request); the
# me_jwt_log_info row restarts the server at LOG_LEVEL=INFO to show what the access line costs.
# See docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
duration=${BENCH_DURATION:-15}
filter=${BENCH_SCENARIOS:-.}
repeat=${BENCH_REPEAT:-2}
port=${BENCH_PORT:-8100}
base="http://127.0.0.1:$port"
state=.bench
export BENCH_STATE_DIR=$state BENCH_AUDIT_EVENTS=${BENCH_AUDIT_EVENTS:-1000000}

if ! command -v wrk >/dev/null; then
  echo "installing wrk" >&2
  apt-get install -y -q wrk >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; }
fi
scripts/services-up.sh >/dev/null
ulimit -n 65536 2>/dev/null || ulimit -n 16384 2>/dev/null || true
[ "$(ulimit -n)" -ge 4096 ] || { echo "ulimit -n is $(ulimit -n): too low for 1000 connections" >&2; exit 1; }

# Strong throwaway secrets, generated once and kept: the seeded audit chain is sealed with
# AUDIT_HMAC_KEY, so a new key means a new database.
db=${BENCH_DATABASE:-parecer_bench}
psql_admin() { psql -q -X -h 127.0.0.1 -U postgres -d postgres "$@"; }
export PROD_STATE_DIR=$state
. scripts/bench/secrets.sh
if ! prod_secrets; then
  rm -f "$state/api_key"
  psql_admin -c "DROP DATABASE IF EXISTS $db" >/dev/null
fi
. scripts/bench/env.sh  # the database is $db
# The master's liveness listener next to the bench port, not on 8001 where another bench may be.
export LIVENESS_PORT=${LIVENESS_PORT:-$((port + 1))}
export BIND=127.0.0.1:$port WEB_CONCURRENCY=2 GUNICORN_THREADS=${BENCH_THREADS:-4}
worker_class=${BENCH_WORKER_CLASS:-gthread}
case $worker_class in
  uvicorn | uvicorn_worker.UvicornWorker)
    export GUNICORN_WORKER_CLASS=uvicorn_worker.UvicornWorker GUNICORN_APP=config.asgi:application ;;
  gthread | sync) export GUNICORN_WORKER_CLASS=$worker_class GUNICORN_APP=config.wsgi:application ;;
  granian) export GUNICORN_WORKER_CLASS=granian GUNICORN_APP=config.wsgi:application ;;
  *) echo "BENCH_WORKER_CLASS must be gthread, sync, uvicorn or granian" >&2; exit 2 ;;
esac

psql_admin -tc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 \
  || psql_admin -c "CREATE DATABASE $db" >/dev/null
"$py" manage.py migrate --noinput -v0
fixtures=$(PYTHONPATH=. "$py" scripts/bench/setup.py) || { echo "bench setup failed" >&2; exit 1; }
eval "$fixtures"
login_body=$state/login.json
printf '{"email": "%s", "password": "%s"}\n' "$BENCH_EMAIL" "$BENCH_PASSWORD" > "$login_body"
event_body=scripts/bench/audit_event.json
render_body=scripts/bench/prompt_render.json  # 5 variables for the 3-message bench prompt
analysis_body=scripts/bench/analysis_create.json  # the bench prompt's variables, no files

. scripts/bench/server.sh
trap stop_server EXIT
trap 'exit 130' INT TERM

rss_mib() {  # gunicorn master + its workers
  local pids
  pids=$(echo "$server" $(pgrep -P "$server") | tr ' ' ',')
  ps -o rss= -p "$pids" | awk '{s += $1} END {printf "%.0f", s / 1024}'
}

run_wrk() {  # method path header body conns seconds [--latency]
  local threads=2 upload=""
  [ "$5" -lt 2 ] && threads=1
  # A body "upload:<bytes>" is a multipart file upload, made unique per request (no dedup).
  if [[ $4 == upload:* ]]; then upload=${4#upload:}; set -- "$1" "$2" "$3" "" "$5" "$6"; fi
  BENCH_METHOD=$1 BENCH_HEADER_1=$3 BENCH_BODY_FILE=$4 BENCH_UPLOAD_BYTES=$upload \
    timeout $(($6 + 60)) wrk -t"$threads" -c"$5" -d"$6s" --timeout 10s -s scripts/bench/report.lua "$base$2" 2>&1 || true
}

# name | method | path | header | body file | connections | seconds | server LOG_LEVEL (default WARNING)
scenarios=(
  "health_live|GET|/health/live|||64|$duration"
  "health|GET|/health|||64|$duration"
  "stress_1000_conns|GET|/health/live|||1000|30"
  "me_jwt|GET|/api/v1/auth/me|Authorization: Bearer $BENCH_JWT||64|$duration"
  "me_api_key|GET|/api/v1/auth/me|X-API-Key: $BENCH_API_KEY||64|$duration"
  "login|POST|/api/v1/auth/login||$login_body|8|$duration"
  "audits_list_p1|GET|/api/v1/audits?action=invoice.paid|Authorization: Bearer $BENCH_JWT||64|$duration"
  "audits_list_p1000|GET|/api/v1/audits?action=invoice.paid&page=1000|Authorization: Bearer $BENCH_JWT||64|$duration"
  "audits_create|POST|/api/v1/audits|X-API-Key: $BENCH_API_KEY|$event_body|64|$duration"
  "prompt_resolve|GET|/api/v1/prompts/$BENCH_PROMPT|Authorization: Bearer $BENCH_JWT||64|$duration"
  "prompt_render|POST|/api/v1/prompts/$BENCH_PROMPT/render|Authorization: Bearer $BENCH_JWT|$render_body|64|$duration"
  "files_upload_1mib|POST|/api/v1/files|Authorization: Bearer $BENCH_JWT|upload:1048576|16|$duration"
  "files_download_1mib|GET|/api/v1/files/$BENCH_FILE_ID/content|Authorization: Bearer $BENCH_JWT||16|$duration"
  "analyses_create|POST|/api/v1/analyses|Authorization: Bearer $BENCH_JWT|$analysis_body|64|$duration"
  "analyses_get|GET|/api/v1/analyses/$BENCH_ANALYSIS_ID|Authorization: Bearer $BENCH_JWT||64|$duration"
  "me_jwt_log_info|GET|/api/v1/auth/me|Authorization: Bearer $BENCH_JWT||64|$duration|INFO"
)

report=$state/last-run.txt
: > "$state/server.log"
{
  echo "parecer bench $(date -u +%FT%TZ): server $GUNICORN_WORKER_CLASS ($GUNICORN_APP), workers=$WEB_CONCURRENCY threads=$GUNICORN_THREADS"
  echo "host: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB; audit rows: $BENCH_AUDIT_ROWS ($BENCH_AUDIT_INVOICE_PAID invoice.paid); best of $repeat x ${duration}s; LOG_LEVEL=WARNING unless noted"
  printf "%-22s %9s %8s %8s %8s %7s %8s %6s\n" scenario "req/s" "p50 ms" "p95 ms" "p99 ms" errors "RSS MiB" load1
} | tee "$report"
failed=0
for row in "${scenarios[@]}"; do
  IFS='|' read -r name method path header body conns secs level <<< "$row"
  [[ $name =~ $filter ]] || continue
  level=${level:-WARNING}
  [ "$level" = "$server_log_level" ] || start_server "$level"
  run_wrk "$method" "$path" "$header" "$body" "$conns" 2 >/dev/null  # warm-up, not counted
  best="" sample=""
  for _ in $(seq 1 "$repeat"); do
    out=$(run_wrk "$method" "$path" "$header" "$body" "$conns" "$secs")
    result=$(grep '^RESULT' <<< "$out" || echo "RESULT 0 0 0 0 0 0 0")
    sample=${sample:-$(grep '^FIRST_NON2XX' <<< "$out" || true)}
    if [ -z "$best" ] || awk -v a="$(cut -d' ' -f3 <<< "$result")" -v b="$(cut -d' ' -f3 <<< "$best")" 'BEGIN {exit !(a > b)}'; then
      best=$result
    fi
  done
  read -r _ _ rps p50 p95 p99 non2xx sock <<< "$best"
  printf "%-22s %9s %8s %8s %8s %7s %8s %6s\n" "$name" "$rps" "$p50" "$p95" "$p99" "$((non2xx + sock))" \
    "$(rss_mib)" "$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$report"
  [ -z "$sample" ] || echo "    first non-2xx: ${sample#FIRST_NON2XX }" | tee -a "$report"
done
if [ "${BENCH_UPLOAD_RSS:-1}" = 1 ] && [[ files_upload_rss =~ $filter ]]; then
  [ -n "$server" ] || start_server WARNING
  "$py" scripts/bench/upload_rss.py --base "$base" --token "$BENCH_JWT" --server-pid "$server" \
    --clients 20 --megabytes 25 | tee -a "$report"
fi
stop_server
PYTHONPATH=. "$py" scripts/bench/setup.py --files-cleanup >/dev/null

if [[ audits_create =~ $filter ]]; then
  if verify=$("$py" manage.py audit_verify 2>&1); then
    echo "audit_verify: $(tail -n 1 <<< "$verify")" | tee -a "$report"
  else
    echo "audit_verify FAILED: $(tail -n 3 <<< "$verify")" | tee -a "$report"
    failed=1
  fi
fi
echo "(saved in $report; server log in $state/server.log)"
exit $failed
