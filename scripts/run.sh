#!/usr/bin/env bash
# `make run`: migrate, seed the demo, then the web server, a Celery worker and Celery beat (the
# periodic jobs) side by side. Ctrl-C (or the web server or worker dying) stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.local}"
PY="${SIGILLO_PYTHON:-.venv/bin/python}"
HOST="${SIGILLO_HOST:-127.0.0.1}"
PORT="${SIGILLO_PORT:-8000}"

# On PostgreSQL with separate roles, DATABASE_URL is the application's role, which may only append
# to and read the audit trail; the owner of the tables (SIGILLO_MIGRATE_DATABASE_URL) migrates, then
# grants the application its rights (README, "Scaling past one machine").
as_owner() {
  if [ -n "${SIGILLO_MIGRATE_DATABASE_URL:-}" ]; then DATABASE_URL="$SIGILLO_MIGRATE_DATABASE_URL" "$@"; else "$@"; fi
}
as_owner "$PY" manage.py migrate --noinput -v0
as_owner "$PY" manage.py createcachetable
if [ -n "${SIGILLO_MIGRATE_DATABASE_URL:-}" ]; then
  app_role=$("$PY" -c 'import sys, environ; print(environ.Env.db_url_config(sys.argv[1])["USER"])' \
    "${DATABASE_URL:?DATABASE_URL must name the application role when SIGILLO_MIGRATE_DATABASE_URL is set}")
  as_owner "$PY" manage.py audit_grants --app-role "$app_role"
fi
"$PY" manage.py collectstatic --noinput -v0
"$PY" manage.py seed_demo

worker_pid=""; web_pid=""; beat_pid=""
stop() {
  trap - INT TERM EXIT
  echo; echo "Stopping web server, worker and beat..."
  [ -n "$web_pid" ] && kill -TERM "$web_pid" 2>/dev/null || true
  [ -n "$beat_pid" ] && kill -TERM "$beat_pid" 2>/dev/null || true
  [ -n "$worker_pid" ] && kill -TERM "$worker_pid" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

"$PY" -m celery -A config worker -Q default,generation,scanning --concurrency "${SIGILLO_WORKER_CONCURRENCY:-2}" \
  --loglevel INFO --hostname "sigillo@%h" &
worker_pid=$!
"$PY" -m celery -A config beat --schedule "${SIGILLO_VAR_DIR:-var}/celerybeat-schedule" --loglevel INFO &
beat_pid=$!
"$PY" manage.py runserver "$HOST:$PORT" --noreload &
web_pid=$!

echo
echo "Sigillo is starting on http://$HOST:$PORT/  (API docs: /api/docs/, health: /healthz)"
echo "Sign in with a demo account above. Ctrl-C stops everything."
wait -n "$worker_pid" "$web_pid" || true
