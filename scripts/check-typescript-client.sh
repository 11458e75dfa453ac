#!/usr/bin/env bash
# make client-check: the committed schema (docs/openapi.json, which the test suite proves is what
# /api/v1/openapi.json serves) must yield a TypeScript client that compiles. npm ci installs the
# locked openapi-typescript, openapi-fetch and typescript; openapi-typescript generates
# src/schema.d.ts (generated, never committed); tsc type-checks src/usage.ts against it.
set -euo pipefail
cd "$(dirname "$0")/../clients/typescript"
if ! command -v npm >/dev/null; then
  echo "installing nodejs and npm" >&2
  apt-get install -y -q nodejs npm >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q nodejs npm >/dev/null; }
fi
npm ci --no-audit --no-fund --loglevel=error
npm run --silent generate
npm run --silent typecheck
echo "TypeScript client: generated from docs/openapi.json, src/usage.ts type-checks"
