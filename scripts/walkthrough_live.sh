#!/usr/bin/env bash
# The README's API walk-through (docs/api_walkthrough.py) against a live
# server, as a user would run it: a fresh database, migrated and seeded with
# the demo, gunicorn on a free port, then the script. The server is stopped
# however this ends. Called by .ci/run; runs alone too:
#   REDIS_URL=redis://127.0.0.1:6379/1 scripts/walkthrough_live.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PY:-.venv/bin/python}"
PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-5432}"
DB="${WALKTHROUGH_DB:-ceasefire_walkthrough}"
: "${REDIS_URL:?set REDIS_URL: the server queues its notifications there}"

export DJANGO_SETTINGS_MODULE=config.settings
export DATABASE_URL="postgres://postgres@$PG_HOST:$PG_PORT/$DB"
AUDIT_SIGNING_KEY="$("$PY" -c 'import secrets; print(secrets.token_hex(32))')"
export AUDIT_SIGNING_KEY
# Not the published demo password: the script must work with whatever seed_demo was given.
password="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(16))')"
port="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
log="$(mktemp)"

server=""
stop() {
    status=$?
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    if [ "$status" -ne 0 ]; then
        echo "--- gunicorn's log ---" >&2
        cat "$log" >&2
    fi
    rm -f "$log"
    exit "$status"
}
trap stop EXIT

# Fresh: a database left by an earlier run (kept for a look after a failure) goes first.
dropdb -h "$PG_HOST" -p "$PG_PORT" -U postgres --if-exists --force "$DB"
createdb -h "$PG_HOST" -p "$PG_PORT" -U postgres "$DB"
"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py seed_demo --password "$password" >/dev/null

"$(dirname "$PY")/gunicorn" config.wsgi:application --bind "127.0.0.1:$port" --workers 2 \
    --access-logfile - >"$log" 2>&1 &
server=$!
base="http://127.0.0.1:$port"
ready=""
for _ in $(seq 60); do
    if "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$base/signin/" \
        2>/dev/null; then
        ready=1
        break
    fi
    kill -0 "$server" 2>/dev/null || { echo "gunicorn exited before answering" >&2; exit 1; }
    sleep 0.5
done
[ -n "$ready" ] || { echo "gunicorn did not answer $base/signin/ within 30 s" >&2; exit 1; }

# Any python3: the script needs nothing but the standard library.
python3 docs/api_walkthrough.py --base "$base" --password "$password"
