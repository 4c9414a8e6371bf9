#!/usr/bin/env bash
# `make run`: migrate, load demo data, and run the web server, a Celery worker and beat.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBUG="${DEBUG:-true}"
export DJANGO_SETTINGS_MODULE=config.settings
PY=.venv/bin/python
# Exported: the settings build the links in e-mail (SITE_URL) from them when SITE_URL is not set.
export HOST="${HOST:-127.0.0.1}"
export PORT="${PORT:-8000}"
mkdir -p var

BROKER="${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0}"
if [[ "$BROKER" == redis://* ]] && ! "$PY" - "$BROKER" <<'PYEOF' 2>/dev/null
import sys, redis
redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1).ping()
PYEOF
then
  echo "No Redis answers at $BROKER: Celery uses kombu's filesystem transport under var/celery-broker/ instead."
  BROKER="filesystem://"
  mkdir -p var/celery-broker/queue var/celery-broker/processed
fi
export CELERY_BROKER_URL="$BROKER"

"$PY" manage.py migrate --no-input
"$PY" manage.py load_demo

pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

.venv/bin/celery -A config worker --loglevel INFO --concurrency 2 > var/celery-worker.log 2>&1 &
pids+=($!)
.venv/bin/celery -A config beat --loglevel INFO --schedule var/celerybeat-schedule > var/celery-beat.log 2>&1 &
pids+=($!)
echo "Celery worker and beat run on $CELERY_BROKER_URL (logs: var/celery-worker.log, var/celery-beat.log)."
echo "Service desk: http://$HOST:$PORT/  (admin: /admin/, API docs: /api/docs/)"
"$PY" manage.py runserver "$HOST:$PORT" &
pids+=($!)
wait -n "${pids[@]}"
