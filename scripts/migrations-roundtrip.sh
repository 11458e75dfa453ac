#!/usr/bin/env bash
# On a fresh PostgreSQL database: migrate up, unapply every project app to zero, migrate up again.
# Proves each migration is reversible on the production database engine.
set -euo pipefail
py=${1:-.venv/bin/python}
db=${MIGRATIONS_DB:-parecer_migrations}
export DJANGO_SETTINGS_MODULE=config.settings.test
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db"
psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
"$py" manage.py migrate --noinput -v0
# admin's log entries point at the user model: unapply admin before accounts.
"$py" manage.py migrate admin zero --noinput -v0
for app in analyses files prompts accounts audits; do
  if ls "$app"/migrations/0*.py >/dev/null 2>&1; then
    echo "unapplying $app"
    "$py" manage.py migrate "$app" zero --noinput -v0
  fi
done
"$py" manage.py migrate --noinput -v0
"$py" manage.py migrate --check --noinput
psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db"
echo "migrations: reversible on PostgreSQL"
