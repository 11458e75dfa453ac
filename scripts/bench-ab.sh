#!/usr/bin/env bash
# make bench-ab BASE=<git ref>: the same scenarios against BASE (built in a temporary worktree)
# and against this working tree, alternately in one run (A, B, A, B), so both see the same host.
# Prints, per scenario, req/s and p99 of each side (the best of its runs) and the ratios B/A.
#
#   BASE=<ref>            required: the build to compare with (a commit, a tag, HEAD)
#   BENCH_AB_ROUNDS=2     rounds; each round runs A then B once (BENCH_REPEAT=1 inside)
#   BENCH_SCENARIOS, BENCH_DURATION, BENCH_PORT, ... as for make bench (scripts/bench.sh)
#
# Both sides share .bench (its secrets and the parecer_bench database, migrated by each side's
# own `migrate` before it runs): compare builds whose migrations are compatible, as consecutive
# commits of one branch are. Each side runs its OWN scripts/bench.sh, so a scenario that only
# the working tree has shows for B alone.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BASE:?set BASE=<git ref> (e.g. make bench-ab BASE=HEAD~3)}"
rounds=${BENCH_AB_ROUNDS:-2}
# Both sides' gunicorn masters put their liveness listener here (not on 8001, which a build
# older than this script's bench.sh would otherwise use and another bench may hold).
export LIVENESS_PORT=${LIVENESS_PORT:-$((${BENCH_PORT:-8100} + 1))}
here=$(pwd)
ab=.bench/ab
base_dir=$here/$ab/base
mkdir -p "$ab"
rm -f "$ab"/side-*.txt

git worktree remove --force "$base_dir" 2>/dev/null || rm -rf "$base_dir"
git worktree prune
git worktree add --detach --quiet "$base_dir" "$BASE"
cleanup() { git worktree remove --force "$base_dir" 2>/dev/null || true; }
trap cleanup EXIT
echo "A = $BASE ($(git rev-parse --short "$BASE")), B = working tree ($(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes'))"

if cmp -s requirements.lock "$base_dir/requirements.lock"; then
  ln -s "$here/.venv" "$base_dir/.venv"  # same locked dependencies: one virtual environment
else
  # Other locked dependencies: a virtual environment per lock file, kept for the next run.
  venv=$here/$ab/venv-$(sha256sum "$base_dir/requirements.lock" | cut -c1-12)
  make -C "$base_dir" install VENV="$venv" >/dev/null
  ln -s "$venv" "$base_dir/.venv"
fi
rm -rf "$base_dir/.bench"
ln -s "$here/.bench" "$base_dir/.bench"

run_side() {  # $1: A|B  $2: directory  $3: round
  echo "== round $3, side $1" >&2
  (cd "$2" && BENCH_REPEAT=1 scripts/bench.sh >&2) || true
  cp .bench/last-run.txt "$ab/side-$1-$3.txt"
}
for round in $(seq 1 "$rounds"); do
  run_side A "$base_dir" "$round"
  run_side B "$here" "$round"
done

.venv/bin/python scripts/bench/ab_report.py "$ab"/side-A-*.txt -- "$ab"/side-B-*.txt | tee "$ab/report.txt"
