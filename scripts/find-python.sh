#!/usr/bin/env bash
# Prints the path of a Python >= 3.12 (3.13 preferred), or explains what is missing and fails.
set -u
candidates=(python3.13 python3.12 python3 python)
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root)
  for v in "$root"/versions/3.13* "$root"/versions/3.12*; do
    [ -x "$v/bin/python" ] && candidates+=("$v/bin/python")
  done
fi
for py in "${candidates[@]}"; do
  path=$(command -v "$py" 2>/dev/null) || continue
  if "$path" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
    echo "$path"
    exit 0
  fi
done
echo "Parecer needs Python 3.12 or newer (with venv), and none was found on PATH or in pyenv." >&2
echo "Install one (e.g. 'apt-get install python3.12-venv' or 'pyenv install 3.12') or set PYTHON=/path/to/python3.12." >&2
exit 1
