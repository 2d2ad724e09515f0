#!/usr/bin/env bash
# Run PSIS Monitor as it runs at a council: gunicorn (static files by WhiteNoise), the database
# from DATABASE_URL, the background worker that builds meeting packs and contract-exit ZIPs,
# DEBUG off.
# Needs SECRET_KEY and DATABASE_URL in the environment or .env (see .env.example).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DEBUG=false
: "${WEB_CONCURRENCY:=3}"
: "${BIND:=127.0.0.1:8000}"
$PY manage.py check --deploy --fail-level WARNING
$PY manage.py collectstatic --no-input -v0
$PY manage.py migrate --no-input
# Jobs a previous worker left running when it stopped are marked failed (only those past their
# time limit, so a worker on another server is not disturbed); cron repeats this (README).
$PY manage.py reap_stuck_jobs
$PY manage.py db_worker &
worker=$!
trap 'kill $worker 2>/dev/null || true' EXIT INT TERM
exec_gunicorn() {
  .venv/bin/gunicorn psis.wsgi:application \
    --bind "$BIND" --workers "$WEB_CONCURRENCY" --timeout 60 \
    --access-logfile - --error-logfile - \
    --access-logformat '{"remote":"%(h)s","request":"%(r)s","status":%(s)s,"bytes":%(b)s,"ms":%(M)s,"pid":"%(p)s"}'
}
exec_gunicorn
