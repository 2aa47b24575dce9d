# Sourced by scripts/walkthrough_live.sh and scripts/schemathesis_live.sh: a
# fresh database migrated and seeded with the demo under a random password,
# and gunicorn on a free port, waited for. The caller sets PY, PG_HOST,
# PG_PORT and DB, and stops $server in its own EXIT trap.

export DJANGO_SETTINGS_MODULE=config.settings
export DATABASE_URL="postgres://postgres@$PG_HOST:$PG_PORT/$DB"
AUDIT_SIGNING_KEY="$("$PY" -c 'import secrets; print(secrets.token_hex(32))')"
export AUDIT_SIGNING_KEY
# Not the published demo password: nothing run against the server may rely on it.
# It may begin with "-" (1 run in 64): always pass it as --password="$password",
# or argparse takes it for an option.
password="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(16))')"
port="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
server=""

demo_database() {
    # Fresh: a database left by an earlier run (kept for a look after a failure) goes first.
    dropdb -h "$PG_HOST" -p "$PG_PORT" -U postgres --if-exists --force "$DB"
    createdb -h "$PG_HOST" -p "$PG_PORT" -U postgres "$DB"
    "$PY" manage.py migrate --noinput -v 0
    "$PY" manage.py seed_demo --password="$password" >/dev/null
}

demo_server() {  # demo_server LOG [gunicorn options...]: start, then wait for /signin/
    local log="$1"
    shift
    "$(dirname "$PY")/gunicorn" config.wsgi:application --bind "127.0.0.1:$port" "$@" \
        --access-logfile - >"$log" 2>&1 &
    server=$!
    for _ in $(seq 60); do
        if "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$base/signin/" \
            2>/dev/null; then
            return 0
        fi
        kill -0 "$server" 2>/dev/null || { echo "gunicorn exited before answering" >&2; return 1; }
        sleep 0.5
    done
    echo "gunicorn did not answer $base/signin/ within 30 s" >&2
    return 1
}
