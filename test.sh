#!/usr/bin/env bash
# Quick start, command 2: set up a virtual environment with the test extras, run the checks (layers,
# declared dependencies, lint and format, types), then the tests. PostgreSQL and Redis tests run when
# YUQING_TEST_POSTGRES_URL / YUQING_TEST_REDIS_URL are set (.ci/run sets them) and are skipped with the
# reason otherwise. Extra arguments go to pytest; YUQING_SKIP_CHECKS=1 skips the checks (while iterating).
set -euo pipefail
cd "$(dirname "$0")"
YUQING_EXTRAS=test source ./setup-env.sh
if [ -z "${YUQING_SKIP_CHECKS:-}" ]; then
  echo "checks: import-linter, deptry, ruff, mypy" >&2
  out=$(.venv/bin/lint-imports --no-cache 2>&1) || { echo "$out" >&2; exit 1; }
  out=$(.venv/bin/deptry . 2>&1) || { echo "$out" >&2; exit 1; }
  .venv/bin/ruff check --quiet .
  .venv/bin/ruff format --check --quiet .
  .venv/bin/mypy --no-error-summary
fi
# Tests mostly wait on subprocesses, servers and databases: one worker per core, a file per worker.
exec .venv/bin/python -m pytest -n auto --dist loadfile "$@"
