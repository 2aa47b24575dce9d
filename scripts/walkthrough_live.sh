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

. scripts/live_demo.sh
log="$(mktemp)"

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

demo_database
demo_server "$log" --workers 2

# Any python3: the script needs nothing but the standard library.
python3 docs/api_walkthrough.py --base "$base" --password="$password"
