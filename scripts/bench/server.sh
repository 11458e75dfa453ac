# Sourced by scripts/bench.sh and scripts/contract-fuzz.sh: start and stop the production server
# (gunicorn -c config/gunicorn.py) on $port, logging to $state/server.log, and wait until /health
# answers. The caller sets port, base (http://127.0.0.1:$port) and state, and exports the
# environment (scripts/bench/env.sh) and BIND / WEB_CONCURRENCY / GUNICORN_* first.
server=""
server_log_level=""
stop_server() {
  [ -n "$server" ] || return 0
  kill -TERM "$server" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=""
}
start_server() {  # $1: LOG_LEVEL
  stop_server
  if curl -s -o /dev/null "$base/health/live"; then
    echo "port $port is already in use" >&2; exit 1
  fi
  if [ "${worker_class:-}" = granian ]; then  # BENCH_WORKER_CLASS=granian
    LOG_LEVEL=$1 scripts/bench/granian.sh >> "$state/server.log" 2>&1 &
  else
    LOG_LEVEL=$1 .venv/bin/gunicorn -c config/gunicorn.py >> "$state/server.log" 2>&1 &
  fi
  server=$!
  server_log_level=$1
  for _ in $(seq 1 100); do
    curl -sf -o /dev/null "$base/health" && return 0
    kill -0 "$server" 2>/dev/null || break
    sleep 0.2
  done
  echo "the server did not become healthy; tail of $state/server.log:" >&2
  tail -n 30 "$state/server.log" >&2
  exit 1
}
