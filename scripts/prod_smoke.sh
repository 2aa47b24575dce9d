#!/usr/bin/env bash
# A production install that starts: a virtualenv made from requirements.txt
# ALONE (the dev requirements bring packages, such as `packaging`, that
# production would lack), then web (gunicorn), a Celery worker and Celery beat
# with config.settings_production, as the README's "Production" section runs
# them. Passes when the web answers, the worker answers a ping, and the worker
# has run a task that beat sent. Everything it started is stopped however it
# ends. Called by .ci/run; runs alone too:
#   REDIS_URL=redis://127.0.0.1:6379/1 scripts/prod_smoke.sh
# It empties that Redis database first: give it one no `make run` is using.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${PROD_VENV:-.venv-prod}"
PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-5432}"
DB="${PROD_SMOKE_DB:-ceasefire_prod_smoke}"
: "${REDIS_URL:?set REDIS_URL to a Redis database this may empty}"

# --- The virtualenv: rebuilt from scratch when requirements.txt or the Python changes ---
# From scratch, not upgraded in place, so that nothing from an older list lingers in it.
stamp="$(cat requirements.txt; "$PYTHON" -VV)"
if [ ! -f "$VENV/.installed" ] || [ "$(cat "$VENV/.installed")" != "$stamp" ]; then
    echo "Building $VENV from requirements.txt alone"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -r requirements.txt
    printf '%s' "$stamp" >"$VENV/.installed"
fi
"$VENV/bin/python" -m pip check

# --- The production environment (README, "Production") ---
work="$(mktemp -d)"
export DJANGO_SETTINGS_MODULE=config.settings_production
export DATABASE_URL="postgres://postgres@$PG_HOST:$PG_PORT/$DB"
export ALLOWED_HOSTS=127.0.0.1
export STATIC_ROOT="$work/static"
export MEDIA_ROOT="$work/media"
# Beat's shortest schedule: a sealing tick every second, so the worker runs one soon.
export AUDIT_SEAL_INTERVAL=1s
SECRET_KEY="$("$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(64))')"
AUDIT_SIGNING_KEY="$("$VENV/bin/python" -c 'import secrets; print(secrets.token_hex(32))')"
BALLOT_SEALING_KEY="$("$VENV/bin/python" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
export SECRET_KEY AUDIT_SIGNING_KEY BALLOT_SEALING_KEY
port="$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# Celery names a node after socket.gethostname(); the ping below asks this one node only.
node="prodsmoke-$$@$("$VENV/bin/python" -c 'import socket; print(socket.gethostname())')"

pids=()
stop() {
    status=$?
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ "$status" -ne 0 ]; then
        for name in web worker beat; do
            [ -f "$work/$name.log" ] && { echo "--- $name's log ---" >&2; tail -n 60 "$work/$name.log" >&2; }
        done
    fi
    rm -rf "$work"
    exit "$status"
}
trap stop EXIT

# Waits up to $1 seconds for the command after it to succeed.
wait_for() {
    local seconds=$1
    shift
    for _ in $(seq $((seconds * 2))); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    return 1
}

dropdb -h "$PG_HOST" -p "$PG_PORT" -U postgres --if-exists --force "$DB"
createdb -h "$PG_HOST" -p "$PG_PORT" -U postgres "$DB"
redis-cli -u "$REDIS_URL" flushdb >/dev/null  # no stale tasks from another run reach this worker
"$VENV/bin/python" manage.py check --deploy --fail-level WARNING
"$VENV/bin/python" manage.py migrate --noinput -v 0
"$VENV/bin/python" manage.py collectstatic --noinput -v 0

"$VENV/bin/gunicorn" config.wsgi:application --bind "127.0.0.1:$port" --workers 2 >"$work/web.log" 2>&1 &
pids+=($!)
"$VENV/bin/celery" -A config worker --loglevel=INFO --concurrency=1 -n "$node" >"$work/worker.log" 2>&1 &
pids+=($!)
"$VENV/bin/celery" -A config beat --loglevel=INFO --schedule "$work/celerybeat-schedule" >"$work/beat.log" 2>&1 &
pids+=($!)

# The web: the sign-in page, and the API schema kept behind sign-in
# (API_DOCS_PUBLIC is off in production), as behind the TLS proxy
# (X-Forwarded-Proto: https; plain HTTP is redirected in production).
get() {  # get URL [expected status, default 200]
    "$VENV/bin/python" - "$1" "${2:-200}" <<'PY'
import sys
import urllib.error
import urllib.request

request = urllib.request.Request(sys.argv[1], headers={"X-Forwarded-Proto": "https"})
try:
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        status = response.status
except urllib.error.HTTPError as error:
    status = error.code
sys.exit(0 if status == int(sys.argv[2]) else 1)
PY
}
wait_for 30 get "http://127.0.0.1:$port/signin/" || { echo "web: /signin/ did not answer 200" >&2; exit 1; }
get "http://127.0.0.1:$port/api/schema/" 401 || { echo "web: /api/schema/ did not answer 401 (private)" >&2; exit 1; }
echo "web: gunicorn answers /signin/, and /api/schema/ only after sign-in"

wait_for 30 "$VENV/bin/celery" -A config inspect ping --timeout 2 -d "$node" ||
    { echo "worker: $node did not answer a ping" >&2; exit 1; }
echo "worker: $node answers a ping"

wait_for 30 grep -q "beat: Starting" "$work/beat.log" || { echo "beat: did not start" >&2; exit 1; }
# Beat sent the sealing task, the worker ran it against the database: the three are wired together.
wait_for 30 grep -qE "Task audit\.tasks\.seal_trail\[[^]]+\] succeeded" "$work/worker.log" ||
    { echo "worker: ran no task from beat" >&2; exit 1; }
echo "beat: started, and the worker ran the audit.tasks.seal_trail it sent"
for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "a process (pid $pid) has exited" >&2; exit 1; }
done
echo "Production install from requirements.txt alone: web, worker and beat started"
