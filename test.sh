#!/usr/bin/env bash
# Quick start, command 2: set up a virtual environment with the test extras and run the tests.
# PostgreSQL and Redis tests run when YUQING_TEST_POSTGRES_URL / YUQING_TEST_REDIS_URL are set
# (.ci/run sets them) and are skipped with the reason otherwise. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
YUQING_EXTRAS=test source ./setup-env.sh
# Tests mostly wait on subprocesses, servers and databases: one worker per core, a file per worker.
exec .venv/bin/python -m pytest -n auto --dist loadfile "$@"
