# Sourced by scripts/bench.sh and scripts/contract-fuzz.sh: strong throwaway secrets in
# $PROD_STATE_DIR/env, generated once and kept (a seeded audit chain is sealed with
# AUDIT_HMAC_KEY, so a new key means a new database: prod_secrets returns 1 when it made new ones).
prod_secrets() {
  local dir=${PROD_STATE_DIR:-.bench}
  mkdir -p "$dir"
  [ -f "$dir/env" ] && return 0
  gen() { .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(64))'; }
  (umask 077; printf "SECRET_KEY=%s\nJWT_SIGNING_KEY=%s\nAUDIT_HMAC_KEY=%s\n" "$(gen)" "$(gen)" "$(gen)" > "$dir/env")
  return 1
}
