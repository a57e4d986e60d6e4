#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for development and tests.
#
#   pg-throwaway.sh start  <dir> <port>   initdb (first time) and start; prints the database URL
#   pg-throwaway.sh stop   <dir>          stop the server started in <dir> (by its PID), wait for it
#   pg-throwaway.sh status <dir>          exit 0 when running
#   pg-throwaway.sh url    <dir> <port>   print the database URL
#
# The cluster lives in <dir>/data, listens on 127.0.0.1:<port> and on a unix socket in <dir>/sock,
# trusts local connections (loopback only), and has a database "routeshift" owned by "postgres".
# Nothing is installed system-wide; `rm -rf <dir>` after stop removes every trace.
# Postgres refuses to run as root, so as root the server runs as the "postgres" system user and
# <dir> is chown'ed to it (every parent directory must be traversable by that user).
# Environment: PG_BIN (default /usr/lib/postgresql/15/bin), PG_DATABASE (default routeshift).
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DATABASE=${PG_DATABASE:-routeshift}
PG_RUN_AS=${PG_RUN_AS:-postgres}

usage() {
    sed -n '2,8p' "$0" >&2
    exit 2
}

as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u "$PG_RUN_AS" -- "$@"
    else
        "$@"
    fi
}

postmaster_pid() {  # prints the PID of a running server in $1, or fails
    local pidfile="$1/data/postmaster.pid" pid
    [ -f "$pidfile" ] || return 1
    pid=$(head -n 1 "$pidfile")
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    echo "$pid"
}

db_url() { echo "postgresql://postgres@127.0.0.1:$2/$PG_DATABASE"; }

cmd_start() {
    local dir="$1" port="$2"
    [[ "$port" =~ ^[0-9]+$ ]] || { echo "pg-throwaway: bad port '$port'" >&2; exit 2; }
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if postmaster_pid "$dir" >/dev/null; then
        db_url "$dir" "$port"
        return 0
    fi
    if [ "$(id -u)" -eq 0 ]; then
        chown "$PG_RUN_AS": "$dir"
        chmod 700 "$dir"
        if ! runuser -u "$PG_RUN_AS" -- test -x "$dir"; then
            echo "pg-throwaway: user $PG_RUN_AS cannot reach $dir (check the parent directories' permissions)" >&2
            exit 1
        fi
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 \
            --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
            || { echo "pg-throwaway: initdb failed, see $dir/initdb.log" >&2; cat "$dir/initdb.log" >&2; exit 1; }
    fi
    as_pg mkdir -p "$dir/sock"
    # fsync off: throwaway data, faster tests. listen only on loopback + our own socket dir.
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50 -c shared_buffers=32MB" \
        start >/dev/null \
        || { echo "pg-throwaway: server did not start, see $dir/postgres.log" >&2; tail -n 20 "$dir/postgres.log" >&2; exit 1; }
    if ! as_pg "$PG_BIN/psql" -h "$dir/sock" -p "$port" -U postgres -d postgres -XAtq \
            -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE'" | grep -q 1; then
        as_pg "$PG_BIN/createdb" -h "$dir/sock" -p "$port" -U postgres "$PG_DATABASE"
    fi
    db_url "$dir" "$port"
}

cmd_stop() {
    local dir="$1" pid i
    pid=$(postmaster_pid "$dir") || return 0
    kill -INT "$pid" 2>/dev/null || true          # "fast" shutdown
    for i in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    echo "pg-throwaway: server $pid did not stop within 30 s, sending SIGQUIT" >&2
    kill -QUIT "$pid" 2>/dev/null || true         # "immediate" shutdown
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    echo "pg-throwaway: server $pid still running" >&2
    exit 1
}

[ $# -ge 2 ] || usage
case "$1" in
    start) [ $# -eq 3 ] || usage; cmd_start "$2" "$3" ;;
    stop) cmd_stop "$2" ;;
    status) postmaster_pid "$2" >/dev/null ;;
    url) [ $# -eq 3 ] || usage; db_url "$2" "$3" ;;
    *) usage ;;
esac
