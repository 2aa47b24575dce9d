#!/usr/bin/env bash
# schemathesis against a live server (issue 10): a fresh database seeded with
# the demo, gunicorn on a free port, then every API operation of the OpenAPI
# schema fuzzed with every demo role's token and every check schemathesis
# has. Any finding (a 5xx, a response that breaks the schema, a status or
# content type the schema does not document, ...) fails the run. Time is
# bounded per role (SCHEMATHESIS_MAX_EXAMPLES, SCHEMATHESIS_MAX_TIME) so CI
# stays within minutes. Called by .ci/run; runs alone too:
#   REDIS_URL=redis://127.0.0.1:6379/1 scripts/schemathesis_live.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PY:-.venv/bin/python}"
ST="$(dirname "$PY")/schemathesis"
PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-5432}"
DB="${SCHEMATHESIS_DB:-ceasefire_schemathesis}"
ROLES="${SCHEMATHESIS_ROLES:-monitor1 verifier1 chair member1 auditor1}"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-15}"
# Per role, a hard bound: a run that takes longer fails (schemathesis's own
# --max-time would instead keep fuzzing until the time is spent).
MAX_TIME="${SCHEMATHESIS_MAX_TIME:-300}"
SEED="${SCHEMATHESIS_SEED:-$RANDOM}"
: "${REDIS_URL:?set REDIS_URL: the server queues its notifications there}"

# As deployed: DEBUG off, so errors are the ones clients get (DEBUG's
# technical 404 and 500 pages are HTML for the developer at the console).
export DEBUG=0
. scripts/live_demo.sh
log="$(mktemp)"
work="$(mktemp -d)"

stop() {
    status=$?
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    if [ "$status" -ne 0 ]; then
        echo "--- gunicorn's log (errors only) ---" >&2
        grep -v -E '" [1234][0-9][0-9] |^(Bad Request|Unauthorized|Forbidden|Not Found|Method Not Allowed|Conflict|Unprocessable|Unsupported|Not Acceptable|Request Entity|Precondition|Content Too Large)' \
            "$log" | tail -200 >&2 || true
        echo "(schemathesis seed: $SEED)" >&2
    fi
    rm -rf "$log" "$work"
    exit "$status"
}
trap stop EXIT

demo_database
# schemathesis runs one request at a time (its parallel workers tripped a
# race inside Hypothesis); a few gunicorn workers keep the web side realistic.
# --limit-request-line 0: what is under test is the application's answer to a
# long query string, not gunicorn's own HTML 414 for request lines over 4 KB
# (in production the TLS proxy in front sets that limit).
demo_server "$log" --workers 3 --limit-request-line 0 --timeout 60

# Only the public endpoint: POST /api/v1/auth/token/ with the seed password.
token_for() {
    "$PY" - "$base" "$1" "$password" <<'EOF'
import json, sys, urllib.request
base, username, password = sys.argv[1:]
request = urllib.request.Request(
    base + "/api/v1/auth/token/",
    data=json.dumps({"username": username, "password": password}).encode(),
    headers={"Content-Type": "application/json", "Accept": "application/json"},
)
with urllib.request.urlopen(request, timeout=10) as response:
    print(json.load(response)["token"])
EOF
}

# Every token first: a role's run must not be able to spoil another's sign-in.
declare -A tokens
for role in $ROLES; do
    tokens[$role]="$(token_for "$role")"
done

# The schema as a client gets it (it may sit behind sign-in).
"$PY" - "$base" "${tokens[$(echo "$ROLES" | awk '{print $1}')]}" "$work/schema.json" <<'EOF'
import sys, urllib.request
base, token, out = sys.argv[1:]
request = urllib.request.Request(
    base + "/api/schema/?format=json",
    headers={"Authorization": "Token " + token, "Accept": "application/vnd.oai.openapi+json"},
)
with urllib.request.urlopen(request, timeout=30) as response, open(out, "wb") as f:
    f.write(response.read())
EOF

# Operations that end the session of the token under test would turn the rest
# of that role's run into 401s: signing out, and revoking one's own tokens.
exclude=(--exclude-path-regex '^/api/v1/auth/(logout|tokens/\{[^}]+\})/?$')

failed=()
for role in $ROLES; do
    echo "=== schemathesis as $role (at most $MAX_EXAMPLES examples per operation, $MAX_TIME s) ==="
    if ! timeout --kill-after 10 "$MAX_TIME" "$ST" --config-file scripts/schemathesis.toml run "$work/schema.json" \
        --url "$base" \
        -H "Authorization: Token ${tokens[$role]}" \
        --checks all \
        --phases examples,coverage,fuzzing \
        --max-examples "$MAX_EXAMPLES" \
        --seed "$SEED" \
        --workers 1 \
        --request-timeout 30 \
        --no-color \
        "${exclude[@]}" ${SCHEMATHESIS_ARGS:-}; then
        failed+=("$role")
    fi
done

if ((${#failed[@]})); then
    echo "schemathesis found problems as: ${failed[*]}" >&2
    exit 1
fi
echo "schemathesis: no findings for $ROLES"
