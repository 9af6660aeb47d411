#!/usr/bin/env bash
# `make test`: the whole suite on both installs, one after the other, and a line for each.
#   1. production: PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379), started or installed
#      by scripts/ensure-services.sh when absent;
#   2. embedded default, as `make run` uses it: SQLite and Celery's filesystem broker.
# Tests marked `once` (slow real-service walks: SIGKILL redelivery, browser journeys) run in the
# first only; the second covers every page and endpoint by tests/ops/test_every_page.py.
# Either run failing fails the whole. Arguments go to both pytest runs.
set -uo pipefail
cd "$(dirname "$0")/.."
PY="${SIGILLO_PYTHON:-.venv/bin/python}"

bash scripts/ensure-services.sh || { echo "make test: PostgreSQL and Redis could not be started" >&2; exit 1; }

outcome() { case "$1" in 0) echo "passed" ;; 5) echo "no test selected" ;; *) echo "FAILED (pytest exit $1)" ;; esac; }

echo
echo "=== make test, run 1 of 2: production install — PostgreSQL and Redis ==="
SIGILLO_TEST_INSTALL=production \
  DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/sigillo}" \
  CELERY_BROKER_URL="${CELERY_BROKER_URL:-redis://127.0.0.1:6379/15}" \
  "$PY" -m pytest "$@"
first=$?

echo
echo "=== make test, run 2 of 2: embedded default — SQLite and Celery's filesystem broker ==="
mkdir -p var
env -u CELERY_RESULT_BACKEND SIGILLO_TEST_INSTALL=embedded \
  DATABASE_URL="sqlite:///$PWD/var/test-embedded.sqlite3" \
  CELERY_BROKER_URL="filesystem://" \
  "$PY" -m pytest -m "not once" "$@"
second=$?

echo
echo "make test: production install (PostgreSQL + Redis): $(outcome $first)"
echo "make test: embedded default (SQLite + filesystem broker): $(outcome $second)"
ok() { [ "$1" = 0 ] || [ "$1" = 5 ]; }
if ok "$first" && ok "$second" && ! { [ "$first" = 5 ] && [ "$second" = 5 ]; }; then exit 0; fi
exit 1
