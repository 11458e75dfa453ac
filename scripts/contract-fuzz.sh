#!/usr/bin/env bash
# make fuzz: the contract, tried against the PRODUCTION server (gunicorn, config.settings.prod,
# PostgreSQL + Redis on this machine) the way a client and an attacker would:
#   1. the served /api/v1/openapi.json has no duplicate key, is valid OpenAPI, equals docs/openapi.json;
#   2. schemathesis with every check (set in scripts/contract/schemathesis.toml), phases examples, coverage, fuzzing and stateful, as three people
#      (an admin and two plain users who are peers for its object-level authorization check);
#   3. scripts/contract/peer_access.py: each peer gets 404 (or the answer an unknown id gets) for
#      every id-bearing call on the other's API keys and audit events, and lists never show them.
# Any failure fails the run. A fresh database every run, so results do not depend on the last one.
#
#   FUZZ_DATABASE=parecer_fuzz   PostgreSQL database (dropped and created)
#   FUZZ_REDIS_DB=14             Redis database number (flushed)
#   FUZZ_PORT=8150               port of the server on 127.0.0.1
#   FUZZ_MAX_TIME=150            schemathesis' time budget in seconds
#   FUZZ_MAX_EXAMPLES=40         test cases per operation and phase
#   FUZZ_SEED=                   reproduce a run (schemathesis prints its seed)
#   FUZZ_EXCLUDE_TAGS=           tags left out (local runs only; CI fuzzes every tag)
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
port=${FUZZ_PORT:-8150}
base="http://127.0.0.1:$port"
state=.fuzz
db=${FUZZ_DATABASE:-parecer_fuzz}
redis_db=${FUZZ_REDIS_DB:-14}

scripts/services-up.sh >/dev/null
export PROD_STATE_DIR=$state PROD_DATABASE=$db PROD_REDIS_DB=$redis_db
. scripts/bench/secrets.sh
prod_secrets || true
. scripts/bench/env.sh
# The fuzzer sends thousands of requests from one IP: throttles would turn them into 429s.
# (The lockout and the throttles are proven by the test suite.)
export THROTTLE_REGISTER=1000000/min THROTTLE_REFRESH=1000000/min THROTTLE_PASSWORD_RESET=1000000/min
export THROTTLE_EMAIL_VERIFICATION=1000000/min THROTTLE_EMAIL_VERIFICATION_ADDRESS=1000000/min
export LOGIN_LOCKOUT_ATTEMPTS=1000000
export BIND=127.0.0.1:$port WEB_CONCURRENCY=2 GUNICORN_THREADS=4
# The master's liveness listener (config/liveness.py) would take the fixed LIVENESS_PORT (8001),
# outside this run's port and shared with any other server on the machine; the fuzz needs none.
export LIVENESS_PORT=0
export GUNICORN_WORKER_CLASS=gthread GUNICORN_APP=config.wsgi:application

psql_admin() { psql -q -X -h 127.0.0.1 -U postgres -d postgres "$@"; }
psql_admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
psql_admin -c "CREATE DATABASE $db" >/dev/null
redis-cli -h 127.0.0.1 -n "$redis_db" flushdb >/dev/null
"$py" manage.py migrate --noinput -v0
fixtures=$(PYTHONPATH=. "$py" scripts/contract/setup.py) || { echo "fuzz setup failed" >&2; exit 1; }
eval "$fixtures"

: > "$state/server.log"
. scripts/bench/server.sh
trap stop_server EXIT
trap 'exit 130' INT TERM
start_server WARNING

echo "== the served schema, strictly"
PYTHONPATH=. "$py" -m tests.contract.strict_schema "$base/api/v1/openapi.json" docs/openapi.json

echo "== object-level authorization: peers"
FUZZ_BASE=$base FUZZ_PASSWORD=$FUZZ_PASSWORD PYTHONPATH=. "$py" scripts/contract/peer_access.py

echo "== schemathesis"
# Identities in the order schemathesis tries them per operation: Bob first (his objects are the
# ones Carol, his peer, is replayed against), then Carol, then Ann for what only an admin may do.
cat > "$state/auth.json" <<JSON
{"auth": [
  {"name": "bob", "fixedHeaders": [{"name": "Authorization", "value": "Bearer $FUZZ_BOB_TOKEN"}]},
  {"name": "carol", "fixedHeaders": [{"name": "Authorization", "value": "Bearer $FUZZ_CAROL_TOKEN"}]},
  {"name": "ann", "fixedHeaders": [{"name": "Authorization", "value": "Bearer $FUZZ_ADMIN_TOKEN"}]}
]}
JSON
curl -sf "$base/api/v1/openapi.json" -o "$state/openapi.json"
"$py" scripts/contract/schemathesis_config.py "$state/openapi.json" "$state/auth.json" "$state/schemathesis.toml"
seed=()
[ -z "${FUZZ_SEED:-}" ] || seed=(--seed "$FUZZ_SEED")
budget=${FUZZ_MAX_TIME:-150}
fuzz() {  # $1: time budget in seconds, then filters
  local seconds=$1
  shift
  .venv/bin/schemathesis --config-file "$state/schemathesis.toml" run "$base/api/v1/openapi.json" \
    --phases examples,coverage,fuzzing,stateful \
    --max-examples "${FUZZ_MAX_EXAMPLES:-40}" --max-time "$seconds" \
    --workers 2 --request-timeout 30 --no-color \
    --report junit --report-dir "$state/report" "${seed[@]}" "$@"
}
# Changing a user's role or deactivating them runs last, on its own: in the main run Ann (the
# admin) would reuse the ids she has seen and promote Carol to staff (who may then read Bob's
# events: a false object-level authorization failure) or deactivate Bob and Carol mid-run.
admin_only=(users_update users_deactivate)
# Logging out `everywhere` raises the caller's token version: every access token of theirs stops
# working. In the main run the first such call as Bob turned all of Bob's later calls into 401s
# (prompts, files and analyses were then only tried as 401s), so it runs after everything else.
session_enders=(auth_logout)
# Every tag is fuzzed; FUZZ_EXCLUDE_TAGS="a b" leaves tags out of a local run (never in CI).
excluded_tags=(${FUZZ_EXCLUDE_TAGS-})
fuzz $((budget * 3 / 4)) "${admin_only[@]/#/--exclude-operation-id=}" \
  "${session_enders[@]/#/--exclude-operation-id=}" "${excluded_tags[@]/#/--exclude-tag=}"
for id in "$FUZZ_BOB_ID" "$FUZZ_CAROL_ID"; do  # the peers were peers throughout the main run
  curl -sf -H "Authorization: Bearer $FUZZ_ADMIN_TOKEN" "$base/api/v1/users/$id" | "$py" -c \
    'import json, sys; user = json.load(sys.stdin); sys.exit(not (user["is_active"] and user["role"] == "user"))' \
    || { echo "a peer was deactivated or promoted during the run: its object-level checks are void" >&2; exit 1; }
done
echo "== schemathesis: user management (admins), last"
fuzz $((budget / 6)) "${admin_only[@]/#/--include-operation-id=}"
echo "== schemathesis: ending sessions, very last"
fuzz $((budget / 12)) "${session_enders[@]/#/--include-operation-id=}"
