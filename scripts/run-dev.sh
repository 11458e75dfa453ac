#!/usr/bin/env bash
# Runs the development API server and one task worker together; Ctrl-C (or either exiting) stops both.
# Without OPENAI_API_KEY (environment or .env) it also starts a local OpenAI-compatible stand-in
# (tests/fakes/openai_server.py) and points Parecer at it, so the whole flow works offline.
set -u
py=${1:-.venv/bin/python}
host=${HOST:-127.0.0.1}
port=${PORT:-8000}
standin=""

key_set=$(DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.dev} "$py" -c \
  'import django; django.setup(); from django.conf import settings; print("yes" if settings.OPENAI_API_KEY else "")')
if [ -z "$key_set" ]; then
  # The preferred port, or any free one when something already holds it.
  llm_port=$("$py" -c '
import socket, sys
for port in (int(sys.argv[1]), 0):
    try:
        with socket.socket() as s:  # SO_REUSEADDR as the server sets it: TIME_WAIT is no conflict
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port)); print(s.getsockname()[1]); break
    except OSError:
        continue' "${LLM_STANDIN_PORT:-8765}")
  "$py" -m tests.fakes.openai_server --port "$llm_port" --latency "${LLM_STANDIN_LATENCY:-0.3}" &
  standin=$!
  for _ in $(seq 1 50); do
    "$py" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=0.2)' \
      "http://127.0.0.1:$llm_port/v1/models" 2>/dev/null && break
    sleep 0.1
  done
  export OPENAI_BASE_URL="http://127.0.0.1:$llm_port/v1" OPENAI_API_KEY=local-stand-in
  echo "Parecer: no OPENAI_API_KEY set - LLM replies come from a LOCAL STAND-IN at $OPENAI_BASE_URL,"
  echo "         not from a model (made-up text and schema-shaped JSON). Set OPENAI_API_KEY to use OpenAI."
fi

"$py" manage.py runserver "$host:$port" &
server=$!
"$py" manage.py task_worker --queue-name '*' --interval 1 --no-reload &
worker=$!
stop() {
  kill "$server" "$worker" ${standin:+"$standin"} 2>/dev/null
  wait "$server" "$worker" ${standin:+"$standin"} 2>/dev/null
}
trap 'stop; exit 0' INT TERM
echo "Parecer: API http://$host:$port/  docs http://$host:$port/api/v1/docs  admin http://$host:$port/admin/"
wait -n "$server" "$worker" ${standin:+"$standin"}
status=$?
stop
exit $status
