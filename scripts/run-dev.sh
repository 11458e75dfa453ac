#!/usr/bin/env bash
# Runs the development API server and one task worker together; Ctrl-C (or either exiting) stops both.
set -u
py=${1:-.venv/bin/python}
host=${HOST:-127.0.0.1}
port=${PORT:-8000}
"$py" manage.py runserver "$host:$port" &
server=$!
"$py" manage.py db_worker --queue-name '*' --interval 1 --no-reload &
worker=$!
stop() { kill "$server" "$worker" 2>/dev/null; wait "$server" "$worker" 2>/dev/null; }
trap 'stop; exit 0' INT TERM
echo "Parecer: API http://$host:$port/  docs http://$host:$port/api/v1/docs  admin http://$host:$port/admin/"
wait -n "$server" "$worker"
status=$?
stop
exit $status
