#!/usr/bin/env bash
# `make run`: a complete local gateway — a throwaway Postgres, routeshift-sync, Debian's nginx
# with our module and a demo config, and a local demo provider (so it works with no provider
# account). Everything lives in ./run; `make stop` (or Ctrl-C) stops what this started.
#
# The banner is printed only once every part is ready: Postgres answers, the demo provider
# listens, the sync has pushed a snapshot and nginx's readiness probe says 200. A part that fails
# is named with the last lines of its log, everything this run started is stopped, exit 1.
#
#   RS_PORT (8080)  RS_ADMIN_PORT (8081)  RS_METRICS_PORT (8082)  RS_PG_PORT (55432)  RS_DEMO_PORT (8090)
#   OPENAI_API_KEY  if set, an "openai" provider with that key and model gpt-4o-mini is added too
#   RS_DETACH=1     start everything and return instead of waiting for Ctrl-C
#   RS_READY_TIMEOUT (30)  seconds each part may take to become ready
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUN=$ROOT/run
BUILD=$ROOT/build
PORT=${RS_PORT:-8080}
ADMIN_PORT=${RS_ADMIN_PORT:-8081}
METRICS_PORT=${RS_METRICS_PORT:-8082}
PG_PORT=${RS_PG_PORT:-55432}
DEMO_PORT=${RS_DEMO_PORT:-8090}
READY_TIMEOUT=${RS_READY_TIMEOUT:-30}
SYNC=$BUILD/routeshift-sync
PG=$ROOT/sync-service/pg-throwaway.sh

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_all() {
    if pid_alive "$RUN/sync.pid"; then kill "$(cat "$RUN/sync.pid")"; fi
    if pid_alive "$RUN/nginx.pid"; then kill -QUIT "$(cat "$RUN/nginx.pid")"; fi
    if pid_alive "$RUN/demo.pid"; then kill "$(cat "$RUN/demo.pid")"; fi
    if [ -d "$RUN/pg" ]; then "$PG" stop "$RUN/pg" >/dev/null 2>&1 || true; fi
    rm -f "$RUN/sync.pid" "$RUN/demo.pid"
}

# A part failed: say which, show its log, stop everything this run started, exit 1.
fail() {
    local part=$1 log=${2:-}
    echo "make run: $part failed" >&2
    if [ -n "$log" ] && [ -s "$log" ]; then
        echo "--- last lines of $log ---" >&2
        tail -n 5 "$log" >&2
    fi
    trap - EXIT
    stop_all
    echo "make run: stopped everything it had started" >&2
    exit 1
}

port_in_use() {  # bash's /dev/tcp: a connect that succeeds means someone listens
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_for WHAT LOG CHECK [PIDFILE]: polls CHECK until it succeeds; fails when the part's process
# died or READY_TIMEOUT passed.
wait_for() {
    local what=$1 log=$2 check=$3 pidfile=${4:-}
    local deadline=$((SECONDS + READY_TIMEOUT))
    until eval "$check"; do
        if [ -n "$pidfile" ] && ! pid_alive "$pidfile"; then fail "$what (the process exited)" "$log"; fi
        [ $SECONDS -lt $deadline ] || fail "$what (not ready within ${READY_TIMEOUT}s)" "$log"
        sleep 0.1
    done
}

if [ "${1:-}" = stop ]; then
    stop_all
    echo "stopped"
    exit 0
fi

mkdir -p "$RUN/tmp"
[ -x "$SYNC" ] && [ -f "$BUILD/ngx_http_routeshift_module.so" ] || { echo "run 'make' first" >&2; exit 1; }
stop_all  # a previous run's leftovers

# 0. Refuse before starting anything: a port another program holds, or a lost master secret.
for spec in "RS_PORT:$PORT" "RS_ADMIN_PORT:$ADMIN_PORT" "RS_METRICS_PORT:$METRICS_PORT" "RS_PG_PORT:$PG_PORT" "RS_DEMO_PORT:$DEMO_PORT"; do
    if port_in_use "${spec#*:}"; then
        echo "make run: port ${spec#*:} is already in use (set ${spec%%:*} to another port)" >&2
        exit 1
    fi
done
if [ -f "$RUN/seeded" ] && [ ! -s "$RUN/provider_key_secret" ]; then
    echo "make run: run/provider_key_secret is gone but run/seeded exists: the stored provider keys cannot be" >&2
    echo "          decrypted any more. Restore the file, or start afresh with: rm -rf run" >&2
    exit 1
fi
trap 'fail "make run (interrupted or a setup step failed)"' EXIT

# 1. Postgres (trust auth on loopback only) and the schema.
DB_URL=$("$PG" start "$RUN/pg" "$PG_PORT" | tail -n 1) || fail "Postgres" "$RUN/pg/log"
export ROUTESHIFT_DATABASE_URL=$DB_URL
# The unix socket (0600, see the demo config): only nginx and this user can reach the admin API.
export ROUTESHIFT_NGINX_ADMIN="unix:$RUN/admin.sock:/admin"
if [ ! -s "$RUN/provider_key_secret" ]; then
    (umask 077; openssl rand -hex 32 > "$RUN/provider_key_secret")
fi
export PROVIDER_KEY_SECRET_FILE=$RUN/provider_key_secret
"$SYNC" migrate > "$RUN/migrate.log" 2>&1 || fail "migrations" "$RUN/migrate.log"

# 2. Demo data, once: a team, the demo provider, an alias, a virtual key.
if [ ! -f "$RUN/seeded" ]; then
    "$SYNC" team add --name demo
    "$SYNC" provider add --name demo --kind openai_compat --base-url "http://127.0.0.1:$DEMO_PORT/v1"
    "$SYNC" model add --provider demo --model demo-model
    echo "demo-secret-not-a-real-key" | "$SYNC" provider-key add --provider demo --label local --weight 1
    "$SYNC" alias set --alias smart --target demo/demo-model
    "$SYNC" virtual-key create --team demo --name make-run | grep -o 'sk-proxy-[A-Za-z0-9]*' > "$RUN/virtual_key"
    chmod 600 "$RUN/virtual_key"
    if [ -n "${OPENAI_API_KEY:-}" ]; then
        "$SYNC" provider add --name openai --kind openai
        "$SYNC" model add --provider openai --model gpt-4o-mini
        printf '%s' "$OPENAI_API_KEY" | "$SYNC" provider-key add --provider openai --label env
    fi
    touch "$RUN/seeded"
fi

# 3. The demo provider: listening before anything can route to it (else the first request parks
#    the only key).
python3 "$ROOT/scripts/demo_provider.py" "$DEMO_PORT" > "$RUN/demo.log" 2>&1 &
echo $! > "$RUN/demo.pid"
wait_for "the demo provider (port $DEMO_PORT)" "$RUN/demo.log" "port_in_use $DEMO_PORT" "$RUN/demo.pid"

mkdir -p "$RUN/spool" && chmod 0777 "$RUN/spool"   # request-log spool: nginx workers write, the sync ships
# 4. nginx.
RESOLVER=$(awk '/^nameserver/ {print $2; exit}' /etc/resolv.conf 2>/dev/null || true)
RESOLVER=${RESOLVER:-127.0.0.53}
case $RESOLVER in *:*) RESOLVER="[$RESOLVER]";; esac
sed -e "s#@MODULE@#$BUILD/ngx_http_routeshift_module.so#" -e "s#@RUN@#$RUN#g" \
    -e "s#@PORT@#$PORT#" -e "s#@ADMIN_PORT@#$ADMIN_PORT#" -e "s#@METRICS_PORT@#$METRICS_PORT#" -e "s#@RESOLVER@#$RESOLVER#" \
    "$ROOT/scripts/demo-nginx.conf.tmpl" > "$RUN/nginx.conf"
: > "$RUN/error.log"
nginx -p "$RUN" -c "$RUN/nginx.conf" -e "$RUN/error.log" 2>> "$RUN/error.log" || fail "nginx" "$RUN/error.log"

# 5. The sync service (it also ships the request-log spool); its last good snapshot (sealed with
# the master key) lives in run/.
"$SYNC" serve --log-spool "$RUN/spool" --last-good-file "$RUN/last-good-snapshot" > "$RUN/sync.log" 2>&1 &
echo $! > "$RUN/sync.pid"
wait_for "routeshift-sync (pushing the config)" "$RUN/sync.log" "grep -q 'pushed generation' '$RUN/sync.log'" "$RUN/sync.pid"
wait_for "nginx readiness (/ready)" "$RUN/error.log" \
    "curl -fs -o /dev/null 'http://127.0.0.1:$PORT/ready'" "$RUN/nginx.pid"
trap - EXIT

cat <<BANNER

RouteShift is running.
  OpenAI-compatible endpoint  http://127.0.0.1:$PORT/v1     (model "smart" or "demo/demo-model")
  virtual key                 $(cat "$RUN/virtual_key")   (also in run/virtual_key)
  readiness                   curl http://127.0.0.1:$PORT/ready
  status page                 http://127.0.0.1:$ADMIN_PORT/admin/   (JSON: http://127.0.0.1:$ADMIN_PORT/admin/status)
  metrics (Prometheus)        http://127.0.0.1:$METRICS_PORT/metrics
  config                      psql $DB_URL   (or: build/routeshift-sync --help)
  logs                        run/access.log run/error.log run/sync.log
  request logs                psql $DB_URL -c 'TABLE request_logs'   (spooled in run/spool)

  curl http://127.0.0.1:$PORT/v1/chat/completions -H "Authorization: Bearer \$(cat run/virtual_key)" \\
       -d '{"model":"smart","messages":[{"role":"user","content":"hello"}]}'

BANNER

if [ "${RS_DETACH:-0}" = 1 ]; then
    echo "detached; 'make stop' stops it."
    exit 0
fi
trap 'stop_all; echo stopped' EXIT
echo "Ctrl-C stops everything."
wait "$(cat "$RUN/sync.pid")" || true
